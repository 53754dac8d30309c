"""Turning a :class:`~sigseg.compare.config.Budget` into each model's training length.

With an equal-epochs budget every model gets the same epochs. With an equal-time budget,
simply capping wall time would stop slow models in the middle of their one-cycle schedule
(the learning rate still high), which penalizes them twice. Instead each model's training
step and validation pass are timed on a real-size batch (:func:`measure_costs`), and
:func:`plan_budget` picks the number of epochs, or below one epoch the number of batches, that
fits the budget; the budget is also the hard wall-time cap, so a model can never use more.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

from sigseg.compare.config import Budget

PLAN_FRACTION = 0.9
"""Share of an equal-time budget the plan fills; the rest absorbs timing noise and start-up."""


@dataclass(frozen=True)
class Costs:
    """Measured seconds of one training step (forward, backward, AdamW) and of one validation
    pass over the whole validation split (forward only)."""

    step_s: float
    val_s: float
    steps_per_epoch: int


@dataclass(frozen=True)
class BudgetPlan:
    """What one run is told: ``epochs`` (the schedule's length), ``limit_train_batches``
    (``1.0``: whole epochs; an int: that many batches in the single epoch) and
    ``max_minutes`` (the hard cap, 0 for none)."""

    epochs: int
    limit_train_batches: float | int
    max_minutes: float
    planned_seconds: float | None = None
    costs: Costs | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_budget(budget: Budget, costs: Costs | None = None) -> BudgetPlan:
    """Epochs (or batches) for one model under ``budget``, from its measured ``costs``.

    >>> plan_budget(Budget(epochs=5))
    BudgetPlan(epochs=5, limit_train_batches=1.0, max_minutes=0.0, planned_seconds=None, costs=None)
    >>> c = Costs(step_s=1.0, val_s=10.0, steps_per_epoch=100)  # 110 s per epoch
    >>> p = plan_budget(Budget(minutes=10), c)
    >>> p.epochs, p.limit_train_batches, p.max_minutes
    (4, 1.0, 10.0)
    >>> p = plan_budget(Budget(minutes=1), c)  # 54 s to fill: 44 batches, then validation
    >>> p.epochs, p.limit_train_batches
    (1, 44)
    """
    if budget.kind == "epochs":
        return BudgetPlan(budget.epochs, 1.0, 0.0)
    if costs is None:
        raise ValueError("an equal-time budget needs measured costs")
    total = budget.minutes * 60.0 * PLAN_FRACTION
    epoch_s = costs.steps_per_epoch * costs.step_s + costs.val_s
    if total >= epoch_s:
        epochs = max(1, math.floor(total / epoch_s))
        return BudgetPlan(epochs, 1.0, budget.minutes, epochs * epoch_s, costs)
    steps = math.floor((total - costs.val_s) / costs.step_s)
    steps = min(max(steps, 1), costs.steps_per_epoch)
    return BudgetPlan(1, steps, budget.minutes, steps * costs.step_s + costs.val_s, costs)


def steps_per_epoch(train_examples: int, batch_size: int, limit: float | int = 1.0) -> int:
    """Batches in one epoch (Lightning's count, with ``drop_last=False``).

    >>> steps_per_epoch(1680, 16), steps_per_epoch(1680, 16, 0.5), steps_per_epoch(10, 4, 2)
    (105, 52, 2)
    """
    full = math.ceil(train_examples / batch_size)
    if isinstance(limit, int) and not isinstance(limit, bool):
        return max(1, min(full, limit))
    return max(1, min(full, int(full * float(limit))))


def measure_costs(
    model: str,
    model_options: dict[str, Any],
    *,
    sampling_rate: float,
    batch_size: int,
    crop_length: int,
    train_steps: int,
    val_examples: int,
    val_length: int,
    repeats: int = 5,
) -> Costs:
    """Time ``repeats`` training steps (after one warm-up) on a random batch of the training
    shape, and one validation forward on a batch of the validation shape; median step time.
    The validation pass is extrapolated to ``val_examples`` leads. Data loading (a few ms per
    batch on LUDB) and decoding are left out: the model dominates."""
    import torch

    from sigseg.models import create_model

    net = create_model(model, sampling_rate=sampling_rate, **model_options)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch_size, net.in_channels, crop_length, generator=gen)
    y = torch.randint(0, max(net.num_classes, 2), (batch_size, crop_length), generator=gen)

    def step() -> None:
        logits = net(x)
        if logits.shape[1] == 1:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], y.float())
        else:
            loss = torch.nn.functional.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    net.train()
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        step()
        if i:  # the first step pays for lazy initialization
            times.append(time.perf_counter() - start)
    step_s = float(statistics.median(times))

    net.eval()
    val_batch = min(batch_size, max(val_examples, 1))
    xv = torch.randn(val_batch, net.in_channels, val_length, generator=gen)
    with torch.no_grad():
        net(xv[:1])
        start = time.perf_counter()
        net(xv)
        forward_s = time.perf_counter() - start
    val_s = forward_s * math.ceil(val_examples / val_batch)
    return Costs(step_s=step_s, val_s=val_s, steps_per_epoch=train_steps)
