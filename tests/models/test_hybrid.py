"""The hybrid's attention over tokens (``attention_stride``) and the ``hybrid-fast`` preset."""

from __future__ import annotations

import pytest
import torch

from sigseg.layers.attention import TransformerBlock
from sigseg.models import create_model
from sigseg.models.profile import count_macs


def _block(stride: int) -> TransformerBlock:
    torch.manual_seed(0)
    return TransformerBlock(8, 2, 4, window=4, stride=stride).double().eval()


def test_every_sample_of_a_token_gets_the_same_update() -> None:
    x = torch.randn(2, 8, 103, dtype=torch.float64)  # 103: the last token is partial
    with torch.no_grad():
        update = _block(4)(x) - x
    tokens = update[..., :100].reshape(2, 8, 25, 4)
    assert torch.allclose(tokens, tokens[..., :1].expand(-1, -1, -1, 4))
    last = update[..., 100:]  # 3 samples
    assert torch.allclose(last, last[..., :1].expand(-1, -1, 3))
    assert update.abs().amax() > 1e-3  # the block does update


def test_the_update_depends_on_token_means_only() -> None:
    """Shuffling samples inside each token keeps the tokens' means, so the update."""
    block = _block(4)
    x = torch.randn(1, 8, 64, dtype=torch.float64)
    shuffled = x.reshape(1, 8, 16, 4)[..., torch.tensor([2, 0, 3, 1])].reshape(1, 8, 64)
    with torch.no_grad():
        a, b = block(x) - x, block(shuffled) - shuffled
    assert torch.allclose(a, b)
    # while a stride-1 block sees every sample
    plain = _block(1)
    with torch.no_grad():
        assert not torch.allclose(plain(x) - x, plain(shuffled) - shuffled)


def test_stride_must_be_positive() -> None:
    with pytest.raises(ValueError, match="attention_stride"):
        create_model("hybrid", attention_stride=0)


def test_hybrid_fast_costs_less_than_half_the_hybrid_per_second_of_signal() -> None:
    """Half the rate and a quarter of the attention positions: the preset's MACs per second
    of signal (at its own rate) against the 250-Hz hybrid's."""
    fast, hybrid = create_model("hybrid-fast"), create_model("hybrid")
    assert fast.sampling_rate == 125.0 and hybrid.sampling_rate == 250.0
    per_second_fast = count_macs(fast, 1250) / 10
    per_second_hybrid = count_macs(hybrid, 2500) / 10
    assert per_second_fast < 0.5 * per_second_hybrid
    # its field still spans several beats, in seconds
    assert fast.receptive_field.size / fast.sampling_rate > 3.0
