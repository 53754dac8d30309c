"""Episode-level F1 as the eye-movement field scores it: the GazeCom protocol of Startsev,
Agtzidis & Dorr (2019), whose evaluation code is ``evaluate.py`` of MikhailStartsev/sp_tool
(read at commit 0f8e9cef5c7a01d260858b71c345b132135b1185; the function
``evaluate_episodes_as_Hooge_et_al``, the "episode F1" that ``evaluate()`` reports for each of
FIX, SACCADE and SP, after Hooge et al. 2018). The definition, in our words:

1. **Episodes.** In each recording, an episode of class ``c`` is a maximal run of samples
   labelled ``c``, in the reference and in the prediction separately. Only episodes of the
   class being scored take part (one class at a time, the others are "not ``c``").
2. **Matching.** The reference episodes are visited in time order with one cursor over the
   predicted ones. Predicted episodes that end before the reference episode starts are false
   positives and are passed. Then the predicted episodes that start before it ends are tried in
   order: the first that overlaps it (by at least one sample, and with intersection over union
   at least ``iou_threshold``; the anchor's number uses 0, i.e. any overlap) is a hit and is
   consumed; any tried before it that did not qualify are false positives. A reference episode
   without a hit is a false negative. Predicted episodes left after the last reference episode
   are false positives. So each episode is used once: a predicted episode spanning two
   reference episodes hits only the first, and a reference episode split into two predicted
   ones gets one hit and one false positive.
3. **Score.** TP, FP and FN are summed over all recordings (pooled, not averaged per file) and
   F1 = 2 TP / (2 TP + FP + FN). ``sp_tool`` also reports the mean IoU of the hits over the
   reference episodes (misses count 0), which :attr:`EpisodeCounts.mean_iou` gives.

Where we differ, on purpose: a score with a zero denominator is NaN here (``sp_tool`` gives 0.0),
as everywhere in :mod:`sigseg.metrics`; and reference samples marked ``ignore_index`` belong to
no episode (GazeCom has none). This is the ``episodes`` family of
:class:`sigseg.metrics.events.TaskEvaluation`, which ``sigseg evaluate`` reports for every
segments and states task. (``sp_tool``'s event-level kappa pairs episodes differently, by the
largest overlap over every class; that is not the F1 the anchor published.)

**Sample-level F1** of the same protocol (``evaluate_samples``): for class ``c``, TP/FP/FN over
every sample of every file, pooled, with all other classes (noise included) as negatives. That
is :func:`sigseg.metrics.samples.sample_scores` of the summed 4-class confusion matrix, with no
difference as long as no reference sample is ignored; it must be computed at the files' own
samples (the anchor does not resample).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sigseg.data.record import IGNORE_INDEX

__all__ = ["EpisodeCounts", "episode_counts", "label_runs"]


@dataclass(frozen=True)
class EpisodeCounts:
    """Summable episode counts of one class: hits (``tp``), unmatched predicted (``fp``) and
    reference (``fn``) episodes, and the IoU of the hits summed (``iou_sum``)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    iou_sum: float = 0.0

    def __add__(self, other: EpisodeCounts) -> EpisodeCounts:
        return EpisodeCounts(
            self.tp + other.tp,
            self.fp + other.fp,
            self.fn + other.fn,
            self.iou_sum + other.iou_sum,
        )

    @property
    def f1(self) -> float:
        """2 TP / (2 TP + FP + FN); NaN when there are no episodes at all."""
        den = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / den if den else math.nan

    @property
    def mean_iou(self) -> float:
        """Mean IoU of each reference episode with its hit (0 for a miss); NaN without any."""
        ref = self.tp + self.fn
        return self.iou_sum / ref if ref else math.nan


def label_runs(labels: np.ndarray, cls: int) -> tuple[np.ndarray, np.ndarray]:
    """Starts and (exclusive) ends of the maximal runs of ``cls`` in a 1-D label array.

    >>> label_runs(np.array([1, 1, 0, 1, 2, 1]), 1)
    (array([0, 3, 5]), array([2, 4, 6]))
    """
    inside = np.concatenate(([False], np.asarray(labels).ravel() == cls, [False]))
    edges = np.flatnonzero(inside[1:] != inside[:-1])
    return edges[0::2], edges[1::2]


def episode_counts(
    pred: np.ndarray,
    ref: np.ndarray,
    cls: int,
    iou_threshold: float = 0.0,
    ignore_index: int = IGNORE_INDEX,
) -> EpisodeCounts:
    """The episode counts of class ``cls`` in one recording (1-D label arrays of equal length),
    matched as the module docstring describes; add the counts of all recordings, then read
    :attr:`EpisodeCounts.f1`.

    Reference episodes 0..3 and 6..9; the prediction splits the first (0..1 and 3..4) and hits
    the second late (8..9). The first predicted piece is a hit, the second a false positive,
    the last a hit::

        >>> ref = np.array([1, 1, 1, 1, 0, 0, 1, 1, 1, 1])
        >>> pred = np.array([1, 1, 0, 1, 1, 0, 0, 0, 1, 1])
        >>> counts = episode_counts(pred, ref, cls=1)
        >>> counts.tp, counts.fp, counts.fn, counts.f1, counts.mean_iou
        (2, 1, 0, 0.8, 0.5)

    With ``iou_threshold=0.6`` neither overlap (IoU 0.5) qualifies: both reference episodes
    are missed and all three predicted ones are false positives::

        >>> episode_counts(pred, ref, cls=1, iou_threshold=0.6)
        EpisodeCounts(tp=0, fp=3, fn=2, iou_sum=0.0)
    """
    pred = np.asarray(pred).ravel()
    ref = np.asarray(ref).ravel()
    if pred.shape != ref.shape:
        raise ValueError(f"pred length {pred.size} != ref length {ref.size}")
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must lie in [0, 1], got {iou_threshold}")
    if cls == ignore_index:
        raise ValueError(f"class {cls} is the ignore index")
    ref_starts, ref_ends = label_runs(ref, cls)
    pred_starts, pred_ends = label_runs(pred, cls)
    tp = fp = fn = 0
    iou_sum = 0.0
    i = 0
    for start, end in zip(ref_starts.tolist(), ref_ends.tolist(), strict=True):
        while i < len(pred_starts) and pred_ends[i] <= start:
            fp += 1  # a predicted episode wholly before this reference one: a false alarm
            i += 1
        hit = False
        while i < len(pred_starts) and pred_starts[i] < end:
            overlap = min(end, int(pred_ends[i])) - max(start, int(pred_starts[i]))
            union = max(end, int(pred_ends[i])) - min(start, int(pred_starts[i]))
            iou = overlap / union
            i += 1
            if overlap > 0 and iou >= iou_threshold:
                tp += 1
                iou_sum += iou
                hit = True
                break
            fp += 1  # tried and not good enough
        if not hit:
            fn += 1
    fp += len(pred_starts) - i
    return EpisodeCounts(tp, fp, fn, iou_sum)
