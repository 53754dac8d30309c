"""Segment-level metrics from temporal action segmentation: segmental F1@k and edit score.

Sample metrics reward a prediction that is right almost everywhere even when it breaks a QRS
into three pieces; segment metrics punish that. A *segment* is a maximal run of one class
among annotated samples (an unannotated sample ends a run and belongs to no segment);
background runs are not segments by default.

* Segmental F1@τ: a predicted segment is a true positive when it overlaps a not yet matched
  reference segment of the same class with IoU >= τ; pairs are taken highest IoU first,
  one-to-one. F1@{10,25,50} use τ = 0.10, 0.25, 0.50. (The usual implementation walks the
  predictions in time order and lets each try only its best reference; both agree for τ >= 0.5,
  where a segment can overlap at most one other with such IoU.)
* Edit score: 1 - Levenshtein distance between the predicted and reference sequences of segment
  classes / the longer length; it sees over-segmentation and order errors, not timing.

Two stages again: :func:`segment_counts` per lead gives a :class:`SegmentCounts` (additive),
:func:`segment_scores` turns the total into scores. F1 is micro-averaged over all segments;
the edit score is the mean over leads (a per-sequence quantity, as in the literature).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sigseg.data.record import IGNORE_INDEX

SEGMENT_THRESHOLDS: tuple[float, ...] = (0.10, 0.25, 0.50)
"""IoU thresholds of the reported segmental F1@10, F1@25 and F1@50."""


@dataclass(frozen=True)
class Segment:
    """A run of class ``label`` over samples ``start..end`` inclusive."""

    label: int
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def label_segments(
    labels: np.ndarray,
    ignore_index: int = IGNORE_INDEX,
    background: int | None = 0,
) -> list[Segment]:
    """Maximal runs of equal labels, in time order, leaving out ``ignore_index`` samples and
    (unless ``background`` is ``None``) background runs.

        >>> label_segments(np.array([-100, 0, 1, 1, 0, 2, 2, -100, 2, 3]))
        [Segment(label=1, start=2, end=3), Segment(label=2, start=5, end=6), \
Segment(label=2, start=8, end=8), Segment(label=3, start=9, end=9)]
    """
    labels = np.asarray(labels).ravel()
    if labels.size == 0:
        return []
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change - 1, [labels.size - 1]))
    return [
        Segment(int(labels[s]), int(s), int(e))
        for s, e in zip(starts, ends, strict=True)
        if labels[s] != ignore_index and (background is None or labels[s] != background)
    ]


def segment_iou(a: Segment, b: Segment) -> float:
    """Intersection over union of two sample ranges (labels not compared).

    >>> segment_iou(Segment(1, 0, 9), Segment(1, 5, 14))
    0.3333333333333333
    """
    inter = min(a.end, b.end) - max(a.start, b.start) + 1
    if inter <= 0:
        return 0.0
    return inter / (a.length + b.length - inter)


def edit_distance(a: Sequence[int], b: Sequence[int]) -> int:
    """Levenshtein distance (insertions, deletions, substitutions of cost 1).

    >>> edit_distance([1, 2, 3, 1, 2, 3], [1, 2, 1, 2, 3])
    1
    """
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


def edit_score(pred: Sequence[int], ref: Sequence[int]) -> float:
    """``1 - edit_distance / max(len)``, in [0, 1]; two empty sequences score 1.

    >>> edit_score([1, 2, 3, 1, 2, 3], [1, 2, 1, 2, 3])
    0.8333333333333334
    """
    longest = max(len(pred), len(ref))
    if longest == 0:
        return 1.0
    return 1.0 - edit_distance(pred, ref) / longest


def match_segments(
    pred: Sequence[Segment], ref: Sequence[Segment], threshold: float
) -> list[tuple[int, int]]:
    """One-to-one ``(pred_index, ref_index)`` pairs of the same class with IoU >= threshold,
    highest IoU first (ties: earlier reference, then earlier prediction).

    Each list must be time-ordered and disjoint, as :func:`label_segments` makes it."""
    # Segments of one lead are disjoint and in time order, so each prediction overlaps a
    # contiguous range of references: found by binary search, linear on long records.
    ref_starts = np.array([r.start for r in ref], dtype=np.int64)
    ref_ends = np.array([r.end for r in ref], dtype=np.int64)
    candidates = []
    for i, p in enumerate(pred):
        first = int(np.searchsorted(ref_ends, p.start, side="left"))
        stop = int(np.searchsorted(ref_starts, p.end, side="right"))
        for j in range(first, stop):
            r = ref[j]
            if p.label == r.label:
                iou = segment_iou(p, r)
                if iou >= threshold:
                    candidates.append((-iou, j, i))
    candidates.sort()
    used_p, used_r = set(), set()
    pairs = []
    for _, j, i in candidates:
        if i not in used_p and j not in used_r:
            used_p.add(i)
            used_r.add(j)
            pairs.append((i, j))
    return pairs


@dataclass(frozen=True)
class SegmentCounts:
    """Additive stage-1 counts: per threshold in ``thresholds``, TP/FP/FN; the sum of per-lead
    edit scores and the number of leads."""

    thresholds: tuple[float, ...] = SEGMENT_THRESHOLDS
    tp: tuple[int, ...] = (0, 0, 0)
    fp: tuple[int, ...] = (0, 0, 0)
    fn: tuple[int, ...] = (0, 0, 0)
    edit_sum: float = 0.0
    sequences: int = 0

    def __post_init__(self) -> None:
        n = len(self.thresholds)
        if not len(self.tp) == len(self.fp) == len(self.fn) == n:
            raise ValueError(f"tp, fp and fn need one count per threshold ({n})")

    @classmethod
    def empty(cls, thresholds: Sequence[float] = SEGMENT_THRESHOLDS) -> SegmentCounts:
        """Zero counts at ``thresholds`` (the start of an accumulation)."""
        zeros = (0,) * len(thresholds)
        return cls(tuple(float(t) for t in thresholds), zeros, zeros, zeros, 0.0, 0)

    def __add__(self, other: SegmentCounts) -> SegmentCounts:
        if not isinstance(other, SegmentCounts):
            return NotImplemented
        if other.thresholds != self.thresholds:
            raise ValueError(
                f"cannot add counts at thresholds {self.thresholds} and {other.thresholds}"
            )
        return SegmentCounts(
            self.thresholds,
            tuple(a + b for a, b in zip(self.tp, other.tp, strict=True)),
            tuple(a + b for a, b in zip(self.fp, other.fp, strict=True)),
            tuple(a + b for a, b in zip(self.fn, other.fn, strict=True)),
            self.edit_sum + other.edit_sum,
            self.sequences + other.sequences,
        )

    def __radd__(self, other: object) -> SegmentCounts:
        if other == 0:  # the start value of sum()
            return self
        return NotImplemented


def segment_counts(
    pred: np.ndarray,
    ref: np.ndarray,
    thresholds: Sequence[float] = SEGMENT_THRESHOLDS,
    ignore_index: int = IGNORE_INDEX,
    background: int | None = 0,
) -> SegmentCounts:
    """Stage 1 for one lead: segment matches at each threshold and the edit score.

    ``pred`` and ``ref`` are label arrays of one lead; samples where ``ref`` is
    ``ignore_index`` are removed from ``pred`` too (they split runs, in both).

    Example: the reference has P, QRS, T; the prediction finds P, splits the QRS in two and
    misses T. At τ = 0.5 the longer QRS piece (6 of 10 samples: IoU 0.6) matches, the shorter
    does not: TP 2 (P, QRS), FP 1, FN 1 (T). Edit score: ``[1, 2, 2]`` vs ``[1, 2, 3]``, one
    substitution in three, 2/3::

        >>> ref = np.array([0, 1, 1, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 3, 3, 3, 0])
        >>> pred = np.array([0, 1, 1, 1, 0, 2, 2, 2, 2, 2, 2, 0, 2, 2, 0, 0, 0, 0, 0, 0])
        >>> c = segment_counts(pred, ref, thresholds=(0.5,))
        >>> c.tp, c.fp, c.fn, round(c.edit_sum, 4)
        ((2,), (1,), (1,), 0.6667)
    """
    pred = np.asarray(pred).ravel()
    ref = np.asarray(ref).ravel()
    if pred.shape != ref.shape:
        raise ValueError(f"pred shape {pred.shape} != ref shape {ref.shape}")
    pred = np.where(ref == ignore_index, ignore_index, pred)
    pred_segs = label_segments(pred, ignore_index, background)
    ref_segs = label_segments(ref, ignore_index, background)
    tp, fp, fn = [], [], []
    for t in thresholds:
        n = len(match_segments(pred_segs, ref_segs, t))
        tp.append(n)
        fp.append(len(pred_segs) - n)
        fn.append(len(ref_segs) - n)
    edit = edit_score([s.label for s in pred_segs], [s.label for s in ref_segs])
    return SegmentCounts(
        tuple(float(t) for t in thresholds), tuple(tp), tuple(fp), tuple(fn), edit, 1
    )


def segment_scores(counts: SegmentCounts) -> dict[str, float]:
    """Stage 2: ``{"f1@10": ..., "f1@25": ..., "f1@50": ..., "edit": ...}``.

    Keys are ``f1@<round(100 τ)>``; F1 = 2 TP / (2 TP + FP + FN) over all summed segments, NaN
    with no segment at all; ``edit`` is the mean per-lead edit score (NaN with no lead).

        >>> segment_scores(SegmentCounts((0.5,), (2,), (1,), (1,), 1.5, 2))
        {'f1@50': 0.6666666666666666, 'edit': 0.75}
    """
    out: dict[str, float] = {}
    for t, tp, fp, fn in zip(counts.thresholds, counts.tp, counts.fp, counts.fn, strict=True):
        den = 2 * tp + fp + fn
        out[f"f1@{round(100 * t)}"] = 2 * tp / den if den else math.nan
    out["edit"] = counts.edit_sum / counts.sequences if counts.sequences else math.nan
    return out
