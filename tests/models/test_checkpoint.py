from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from sigseg import CheckpointError, create_model, load_checkpoint, save_checkpoint
from sigseg.models import list_models


@pytest.mark.parametrize("name", list_models())
def test_save_and_load_give_identical_outputs(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model(name, in_channels=2).eval()
    path = save_checkpoint(
        model, tmp_path / "m.safetensors", name=name, preprocessing={"sampling_rate": 250.0}
    )
    loaded, info = load_checkpoint(path)
    assert info.arch == model.arch and info.name == name
    assert info.preprocessing == {"sampling_rate": 250.0}
    x = torch.randn(2, 2, 777)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))


def _write(path: Path, meta: dict, tensors: dict | None = None) -> Path:
    save_file(tensors or {"w": torch.zeros(1)}, str(path), metadata={"sigseg": json.dumps(meta)})
    return path


def test_unknown_architecture_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "evil.safetensors", {"arch": "os.system", "config": {}})
    with pytest.raises(CheckpointError, match="evil.safetensors: unknown architecture"):
        load_checkpoint(path)


def test_mismatched_weights_are_refused(tmp_path: Path) -> None:
    model = create_model("dilated")
    path = save_checkpoint(model, tmp_path / "m.safetensors")
    meta = {"arch": "dilated", "config": {**model.config.to_dict(), "widths": [16] * 8}}
    meta["config"]["dilations"] = list(meta["config"]["dilations"])
    bad = _write(
        tmp_path / "bad.safetensors",
        meta,
        {k: v.contiguous() for k, v in model.state_dict().items()},
    )
    assert load_checkpoint(path)[0] is not None
    with pytest.raises(CheckpointError, match="bad.safetensors: weights do not match"):
        load_checkpoint(bad)


def test_non_checkpoints_are_refused(tmp_path: Path) -> None:
    pickle_file = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(1)}, pickle_file)
    with pytest.raises(CheckpointError, match="model.pt: not a safetensors checkpoint"):
        load_checkpoint(pickle_file)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.safetensors")
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(1)}, str(plain))
    with pytest.raises(CheckpointError, match="no sigseg description"):
        load_checkpoint(plain)
