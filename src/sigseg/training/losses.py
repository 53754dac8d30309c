"""Segmentation losses on logits ``(N, K, L)`` and labels ``(N, L)``, all honouring
:data:`~sigseg.data.record.IGNORE_INDEX` (unannotated samples add nothing to the loss).

``K = 1`` is binary (labels 0/1, sigmoid); ``K >= 2`` is multi-class (softmax).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from sigseg.data.record import IGNORE_INDEX

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _probs_and_onehot(
    logits: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Class probabilities, one-hot targets and the float mask of annotated samples."""
    valid = labels != IGNORE_INDEX
    safe = torch.where(valid, labels, torch.zeros_like(labels))
    if logits.shape[1] == 1:
        p = torch.sigmoid(logits)
        probs = torch.cat([1 - p, p], dim=1)
        onehot = F.one_hot(safe.clamp(0, 1), 2)
    else:
        probs = logits.softmax(dim=1)
        onehot = F.one_hot(safe, logits.shape[1])
    return probs, onehot.permute(0, 2, 1).to(probs.dtype), valid.unsqueeze(1).to(probs.dtype)


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over annotated samples (binary cross-entropy when ``K = 1``)."""
    if logits.shape[1] == 1:
        valid = labels != IGNORE_INDEX
        if not valid.any():
            return logits.sum() * 0.0
        return F.binary_cross_entropy_with_logits(logits[:, 0][valid], labels[valid].float())
    if not (labels != IGNORE_INDEX).any():
        return logits.sum() * 0.0
    return F.cross_entropy(logits, labels, ignore_index=IGNORE_INDEX)


def dice(logits: torch.Tensor, labels: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """1 - mean soft Dice over classes, computed over annotated samples of the batch."""
    probs, onehot, valid = _probs_and_onehot(logits, labels)
    inter = (probs * onehot * valid).sum(dim=(0, 2))
    total = ((probs + onehot) * valid).sum(dim=(0, 2))
    return 1.0 - ((2 * inter + smooth) / (total + smooth)).mean()


def focal(logits: torch.Tensor, labels: torch.Tensor, gamma: float = 2.0) -> torch.Tensor:
    """Focal loss (Lin et al. 2017): cross-entropy down-weighted on easy samples."""
    probs, onehot, valid = _probs_and_onehot(logits, labels)
    p_true = (probs * onehot).sum(dim=1, keepdim=True).clamp_min(1e-7)
    loss = -((1 - p_true) ** gamma) * p_true.log() * valid
    return loss.sum() / valid.sum().clamp_min(1.0)


LOSSES: dict[str, LossFn] = {
    "ce": cross_entropy,
    "bce": cross_entropy,
    "dice": dice,
    "focal": focal,
}


class WeightedLoss(nn.Module):
    """Weighted sum of named losses, e.g. ``{"ce": 1.0, "dice": 0.5}``."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        super().__init__()
        unknown = sorted(set(weights) - set(LOSSES))
        if unknown or not weights:
            raise ValueError(
                f"unknown loss {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(LOSSES)}"
            )
        self.weights = dict(weights)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return sum(
            (w * LOSSES[name](logits, labels) for name, w in self.weights.items()),
            start=logits.new_zeros(()),
        )


def point_targets(labels: torch.Tensor, num_classes: int, sigma: float) -> torch.Tensor:
    """Soft targets ``(N, K, L)`` for point events from labels ``(N, L)`` that mark each event
    with its class on one sample (background, class 0, elsewhere).

    Each event becomes a Gaussian bump of standard deviation ``sigma`` samples (peak 1) in its
    class's row, as seismic phase pickers train; the background row takes what is left, so
    every sample's target sums to one. Why not hard one-sample labels: a single positive
    sample among thousands is nearly invisible to cross-entropy, and an output one sample off
    would count as wholly wrong; the bump rewards near misses in proportion and the trained
    probability peaks where the event most likely is, which is how they are decoded."""
    half = max(1, math.ceil(4 * sigma))
    t = torch.arange(-half, half + 1, dtype=torch.float32, device=labels.device)
    kernel = torch.exp(-0.5 * (t / max(sigma, 1e-6)) ** 2)
    marks = F.one_hot(labels.clamp_min(0), num_classes).permute(0, 2, 1).float()
    marks[:, 0] = 0.0
    weight = kernel.view(1, 1, -1).repeat(num_classes, 1, 1)
    bumps = F.conv1d(marks, weight, padding=half, groups=num_classes).clamp_max(1.0)
    total = bumps[:, 1:].sum(dim=1)
    bumps[:, 1:] /= total.clamp_min(1.0).unsqueeze(1)
    bumps[:, 0] = (1.0 - bumps[:, 1:].sum(dim=1)).clamp_min(0.0)
    return bumps


def soft_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Mean cross-entropy against soft ``targets`` ``(N, K, L)`` over samples whose ``labels``
    are not :data:`IGNORE_INDEX`."""
    valid = (labels != IGNORE_INDEX).to(logits.dtype)
    per_sample = -(targets * logits.log_softmax(dim=1)).sum(dim=1)
    return (per_sample * valid).sum() / valid.sum().clamp_min(1.0)
