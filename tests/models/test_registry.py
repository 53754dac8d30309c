from __future__ import annotations

import pytest

from sigseg.models import create_model, list_architectures, list_models


def test_registry_lists_architectures_and_presets() -> None:
    assert list_architectures() == ["unet", "dilated", "attention", "hybrid"]
    assert set(list_models()) >= {"unet-seed", "dilated-seed", "attention-seed"}


def test_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown model 'resnet'.*unet.*hybrid"):
        create_model("resnet")


def test_none_overrides_are_ignored_and_unknown_options_refused() -> None:
    model = create_model("unet", depth=None, base_width=8)
    assert model.config.depth == 4 and model.config.base_width == 8
    with pytest.raises(ValueError, match="no option.*depht"):
        create_model("unet", depht=3)


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValueError, match="upsample"):
        create_model("unet", upsample="cubic")
    with pytest.raises(ValueError, match="activation"):
        create_model("dilated", activation="swishy")
    with pytest.raises(ValueError, match="attention_after"):
        create_model("hybrid", attention_after=(42,))


def test_hybrid_is_cheaper_than_unet() -> None:
    from sigseg.models.profile import count_macs

    unet, hybrid = create_model("unet"), create_model("hybrid")
    assert count_macs(hybrid, 2500) <= 0.5 * count_macs(unet, 2500)
