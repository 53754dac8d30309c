"""The seed presets reproduce the article's three Keras examples exactly.

Keras counts a BatchNormalization layer as 4 values per channel (gamma, beta and the two
moving statistics); only gamma and beta are trainable, and PyTorch keeps the moving statistics
as buffers. The counts below are Keras' *trainable* parameter counts.
"""

from __future__ import annotations

import pytest
import torch

from sigseg.models import create_model


def conv(cin: int, cout: int, k: int) -> int:
    """Keras Conv1D(cout, k) on cin channels: weights + biases."""
    return cin * cout * k + cout


def dense(cin: int, cout: int) -> int:
    return cin * cout + cout


# Example 1: Conv1D(32,3,d=1)+BN, Conv1D(64,3,d=2)+BN, Conv1D(128,3,d=4)+BN, Conv1D(1,1).
EXAMPLE_1 = (
    conv(1, 32, 3)
    + 2 * 32
    + conv(32, 64, 3)
    + 2 * 64
    + conv(64, 128, 3)
    + 2 * 128
    + conv(128, 1, 1)
)
# Example 2: Conv1D(64,3); MultiHeadAttention(num_heads=8, key_dim=64) on 64 features:
# query/key/value project 64 -> 8x64 with biases, output projects 8x64 -> 64 with bias;
# LayerNorm(64) has gamma and beta; Conv1D(1,1).
EXAMPLE_2 = conv(1, 64, 3) + 3 * dense(64, 8 * 64) + dense(8 * 64, 64) + 2 * 64 + conv(64, 1, 1)
# Example 3: e1 Conv1D(32,3) on 1 ch, e2 Conv1D(64,3) on 32, e3 Conv1D(128,3) on 64;
# u1 = concat(up(e3) 128, e2 64) -> Conv1D(64,3); u2 = concat(up(u1) 64, e1 32) -> Conv1D(32,3);
# output Conv1D(1,1) on 32.
EXAMPLE_3 = (
    conv(1, 32, 3)
    + conv(32, 64, 3)
    + conv(64, 128, 3)
    + conv(128 + 64, 64, 3)
    + conv(64 + 32, 32, 3)
    + conv(32, 1, 1)
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("dilated-seed", EXAMPLE_1), ("attention-seed", EXAMPLE_2), ("unet-seed", EXAMPLE_3)],
)
def test_seed_parameter_count_matches_the_article(name: str, expected: int) -> None:
    assert create_model(name).num_parameters() == expected


def test_hand_derived_counts() -> None:
    """The derivations above, evaluated: a guard against editing both sides of the test."""
    assert (EXAMPLE_1, EXAMPLE_2, EXAMPLE_3) == (31_617, 133_121, 77_249)


@pytest.mark.parametrize("name", ["dilated-seed", "attention-seed", "unet-seed"])
def test_seed_is_binary_single_channel_and_takes_real_input(name: str) -> None:
    model = create_model(name).eval()
    assert (model.in_channels, model.num_classes) == (1, 1)
    x = torch.randn(1, 1, 1000)
    with torch.no_grad():
        a, b = model(x), model(x * 2 + 1)
    assert a.shape == (1, 1, 1000)
    # Example 2's bug made the output independent of the input; here it is not.
    assert not torch.allclose(a, b)


def test_seed_fields() -> None:
    # Example 1: kernel 3 with dilations 1, 2, 4 -> 1 + 2 * (1 + 2 + 4) = 15 samples.
    assert create_model("dilated-seed").receptive_field.size == 15
    assert create_model("attention-seed").receptive_field.is_global
