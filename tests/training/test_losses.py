from __future__ import annotations

import pytest
import torch

from sigseg.data.record import IGNORE_INDEX
from sigseg.training.losses import LOSSES, WeightedLoss


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("classes", [1, 4])
def test_ignored_samples_do_not_affect_the_loss(name: str, classes: int) -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, classes, 50, requires_grad=True)
    labels = torch.randint(0, max(classes, 2), (2, 50))
    labels[:, :10] = IGNORE_INDEX
    loss = LOSSES[name](logits, labels)
    changed = logits.detach().clone()
    changed[:, :, :10] += 100.0  # only ignored samples change
    assert torch.allclose(loss, LOSSES[name](changed, labels))
    loss.backward()
    assert logits.grad is not None
    assert torch.all(logits.grad[:, :, :10] == 0)
    assert logits.grad[:, :, 10:].abs().sum() > 0


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_perfect_prediction_scores_lower_than_wrong(name: str) -> None:
    labels = torch.tensor([[0, 1, 2, 3, 3, 2, 1, 0]])
    good = torch.nn.functional.one_hot(labels, 4).permute(0, 2, 1).float() * 20
    bad = torch.roll(good, 1, dims=1)
    assert LOSSES[name](good, labels) < LOSSES[name](bad, labels)


def test_all_ignored_gives_zero_and_weighted_sum() -> None:
    logits = torch.randn(1, 4, 5)
    labels = torch.full((1, 5), IGNORE_INDEX)
    assert LOSSES["ce"](logits, labels) == 0
    labels = torch.tensor([[0, 1, 2, 3, 0]])
    combined = WeightedLoss({"ce": 1.0, "dice": 0.5})(logits, labels)
    expected = LOSSES["ce"](logits, labels) + 0.5 * LOSSES["dice"](logits, labels)
    assert torch.allclose(combined, expected)
    with pytest.raises(ValueError, match="unknown loss hinge"):
        WeightedLoss({"hinge": 1.0})
