"""The one model contract, checked for every registered model and preset."""

from __future__ import annotations

import pytest
import torch

from sigseg.models import create_model, list_models

ALL = list_models()


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("channels", [1, 12])
def test_output_shape_for_any_length(name: str, channels: int) -> None:
    model = create_model(name, in_channels=channels).eval()
    with torch.no_grad():
        for length in (1, 7, 1000, 4999):
            y = model(torch.randn(2, channels, length))
            assert y.shape == (2, model.num_classes, length)
            assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", ALL)
def test_every_parameter_receives_a_gradient(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, num_classes=4).train()
    x = torch.randn(3, 1, 600)
    target = torch.randint(0, 4, (3, 600))
    loss = torch.nn.functional.cross_entropy(model(x), target)
    loss.backward()
    assert torch.isfinite(loss)
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{name}: {pname} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{name}: {pname} has a non-finite gradient"
        if p.ndim > 1:  # weights (biases right before a norm have a zero gradient by design)
            assert p.grad.abs().sum() > 0, f"{name}: {pname} has an all-zero gradient"


def _reach(model: torch.nn.Module, length: int, positions: list[int]) -> tuple[int, int]:
    """Largest left and right extent of the outputs changed by perturbing one input sample."""
    torch.manual_seed(1)
    base = torch.randn(1, model.in_channels, length, dtype=torch.float64)
    batch = base.repeat(2 * len(positions) + 1, 1, 1)
    for i, p in enumerate(positions):
        batch[1 + 2 * i, :, p] += 1e6
        batch[2 + 2 * i, :, p] -= 1e6
    with torch.no_grad():
        y = model(batch)
    changed = (y[1:] - y[:1]).abs().amax(dim=1) > 1e-9  # (2P, L)
    left = right = 0
    for i, p in enumerate(positions):
        idx = torch.nonzero(changed[2 * i] | changed[2 * i + 1]).flatten()
        assert len(idx) > 0
        # output t reads inputs t-left..t+right, so input p reaches outputs p-right..p+left
        right = max(right, p - int(idx.min()))
        left = max(left, int(idx.max()) - p)
    return left, right


ACTIVATIONS = (
    torch.nn.ReLU,
    torch.nn.GELU,
    torch.nn.SiLU,
    torch.nn.ELU,
    torch.nn.LeakyReLU,
    torch.nn.Tanh,
)


def _linearized(model: torch.nn.Module) -> torch.nn.Module:
    """The same wiring with every activation replaced by the identity.

    At random initialization a ReLU can be off along the one path that reaches the edge of
    the field, hiding a dependency the architecture has; without activations every path of
    the wiring carries the perturbation, so the measured reach is the structural one."""
    for parent in list(model.modules()):
        for child_name, child in parent.named_children():
            if isinstance(child, ACTIVATIONS):
                setattr(parent, child_name, torch.nn.Identity())
    return model


@pytest.mark.parametrize("name", ALL)
def test_receptive_field_is_exact(name: str) -> None:
    model = create_model(name).double().eval()
    field = model.receptive_field
    if field.is_global:
        left, right = _reach(model, 3000, [1500])
        assert left > 1000 and right > 1000, "a global field must reach far in both directions"
        return
    period = model.span_period
    length = 2 * (field.left + field.right + period) + 64
    start = (length // 2) // period * period
    # Every alignment for short periods (pooling). For windowed attention (period = window)
    # a query's reach grows linearly with its offset in its chunk, so the extremes are at the
    # first and last offsets; the two around each suffice and keep the test fast.
    phases = range(period) if period <= 16 else [0, 1, period - 2, period - 1]
    positions = [start + p for p in phases]
    left, right = _reach(model, length, positions)
    assert left <= field.left and right <= field.right  # never outside the field
    assert _reach(_linearized(model), length, positions) == (field.left, field.right)


def test_the_dilated_stem_keeps_the_contract_and_normalizes_the_stream() -> None:
    model = create_model("dilated", in_channels=3, stem_kernel=3).double().eval()
    field = model.receptive_field
    assert (field.left, field.right) == (256, 256)  # the stem's kernel 3 adds one each side
    length = 2 * (field.left + field.right) + 64
    positions = [length // 2, length // 2 + 1]
    assert _reach(_linearized(model), length, positions) == (field.left, field.right)
    # the input's raw level no longer reaches the head through the skips: with a stem, a huge
    # constant offset (gaze in pixels) changes the first block's input only through the norm
    torch.manual_seed(0)
    model = create_model("dilated", in_channels=3, stem_kernel=1).train()
    x = torch.randn(4, 3, 500)
    shifted = model(x + 500.0)
    assert shifted.shape == (4, 4, 500) and shifted.abs().max() < 20  # 119 without the stem
