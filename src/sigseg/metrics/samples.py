"""Sample-level metrics: how many samples got the right class.

Two stages, as in segmentation_models.pytorch: :func:`confusion_matrix` turns one pair of label
arrays into counts that can be summed over leads and records, and :func:`sample_scores` turns
the summed counts into scores. Summing counts first (micro-averaging over samples) means a long
record weighs more than a short one, and a lead with no P wave does not produce an undefined
per-lead score that then has to be averaged.

Unannotated samples (reference label :data:`~sigseg.data.record.IGNORE_INDEX`) are excluded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sigseg.data.record import IGNORE_INDEX


def confusion_matrix(
    pred: np.ndarray,
    ref: np.ndarray,
    num_classes: int,
    ignore_index: int = IGNORE_INDEX,
) -> np.ndarray:
    """Counts ``cm[r, p]`` of samples with reference class ``r`` predicted as ``p``.

    ``pred`` and ``ref`` are integer label arrays of the same shape (any shape: one lead, a
    batch...). Samples whose *reference* is ``ignore_index`` are left out. Returns an int64
    ``(num_classes, num_classes)`` matrix; matrices of different leads add up.

    Example: 6 samples, the last one unannotated::

        >>> cm = confusion_matrix(np.array([0, 1, 1, 2, 0, 3]),
        ...                       np.array([0, 1, 0, 2, 2, -100]), num_classes=4)
        >>> cm.tolist()
        [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    """
    pred = np.asarray(pred)
    ref = np.asarray(ref)
    if pred.shape != ref.shape:
        raise ValueError(f"pred shape {pred.shape} != ref shape {ref.shape}")
    keep = ref != ignore_index
    p = pred[keep].astype(np.int64, copy=False)
    r = ref[keep].astype(np.int64, copy=False)
    for name, x in (("pred", p), ("ref", r)):
        if x.size and (x.min() < 0 or x.max() >= num_classes):
            raise ValueError(
                f"{name} labels must lie in [0, {num_classes}) on annotated samples, "
                f"got values in [{x.min()}, {x.max()}]"
            )
    flat = np.bincount(r * num_classes + p, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).astype(np.int64)


def _ratio(num: float, den: float) -> float:
    """``num / den``, NaN when ``den`` is 0 (the score is undefined, not zero)."""
    return num / den if den > 0 else math.nan


def sample_scores(cm: np.ndarray, class_names: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per-class precision, recall, F1 and IoU from a (summed) confusion matrix.

    Returns ``{class_name: {"precision", "recall", "f1", "iou", "support"}}`` where
    ``support`` is the number of reference samples of the class. A score whose denominator is
    zero (a class absent from both reference and prediction) is NaN, so it cannot silently
    inflate or deflate an average.

    * precision = TP / (TP + FP), recall = TP / (TP + FN)
    * F1 = 2 TP / (2 TP + FP + FN), IoU = TP / (TP + FP + FN)

    Example, continuing :func:`confusion_matrix` with ECG classes: class ``P`` (index 1) has
    TP 1, FP 1 (a background sample called P), FN 0::

        >>> cm = np.array([[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])
        >>> s = sample_scores(cm, ["background", "P", "QRS", "T"])
        >>> s["P"]["precision"], s["P"]["recall"], round(s["P"]["f1"], 4), s["P"]["iou"]
        (0.5, 1.0, 0.6667, 0.5)
        >>> math.isnan(s["T"]["f1"])
        True
    """
    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion matrix must be square, got shape {cm.shape}")
    if len(class_names) != cm.shape[0]:
        raise ValueError(f"{len(class_names)} class names for a {cm.shape[0]}-class matrix")
    out: dict[str, dict[str, float]] = {}
    for k, name in enumerate(class_names):
        tp = int(cm[k, k])
        fp = int(cm[:, k].sum()) - tp
        fn = int(cm[k, :].sum()) - tp
        out[name] = {
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
            "iou": _ratio(tp, tp + fp + fn),
            "support": float(tp + fn),
        }
    return out
