"""One-to-one matching of predicted to reference positions within a tolerance, and its counts.

Every family of timed metrics (the ECG protocol's six boundaries, any task's onsets, offsets
and point events) is built from the same two pieces: :func:`match_positions` pairs predicted
and reference positions, closest first, and a :class:`BoundaryTally` keeps the counts (TP, FP,
FN) and the signed errors of the pairs, adding up over leads and recordings.
:func:`annotated_span` gives the stretch of a label array that was annotated at all, outside
of which predictions are not counted.

    >>> pairs, pred_used, ref_used = match_positions(np.array([3, 40]), np.array([0, 20]), 5)
    >>> pairs, pred_used.tolist(), ref_used.tolist()
    ([(0, 0)], [True, False], [True, False])
    >>> BoundaryTally(tp=1, fp=1, fn=1, errors_ms=(6.0,)) + BoundaryTally(tp=2)
    BoundaryTally(tp=3, fp=1, fn=1, errors_ms=(6.0,))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Span = tuple[int, int]
"""An annotated stretch of samples, ``(first, last)`` inclusive."""

EPS = 1e-9
"""Slack added to tolerances and spans, so that "exactly at the tolerance" stays inside
despite ms or seconds -> samples rounding."""


@dataclass(frozen=True)
class BoundaryTally:
    """Counts for one boundary: true positives, false positives, false negatives, and the
    signed errors (predicted - reference, ms) of the matched pairs in matching order."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors_ms: tuple[float, ...] = ()

    def __add__(self, other: BoundaryTally) -> BoundaryTally:
        if not isinstance(other, BoundaryTally):
            return NotImplemented
        return BoundaryTally(
            self.tp + other.tp,
            self.fp + other.fp,
            self.fn + other.fn,
            self.errors_ms + other.errors_ms,
        )


def annotated_span(labels: np.ndarray, ignore_index: int) -> Span | None:
    """First and last annotated sample of a lead's label array, ``None`` if none is.

    >>> annotated_span(np.array([-100, -100, 0, 1, 0, -100]), ignore_index=-100)
    (2, 4)
    """
    idx = np.flatnonzero(np.asarray(labels) != ignore_index)
    if idx.size == 0:
        return None
    return int(idx[0]), int(idx[-1])


def match_positions(
    pred: np.ndarray, ref: np.ndarray, tolerance: float
) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray]:
    """One-to-one matching of two sets of positions, closest pairs first.

    Every pair with ``|pred - ref| <= tolerance`` is a candidate; candidates are taken in
    order of increasing distance (ties: earlier reference first, then earlier prediction) and
    kept when neither end is already used. Returns the matched ``(pred_index, ref_index)``
    pairs and boolean "matched" masks over ``pred`` and ``ref``.

    Closest-first is not always the largest possible matching: with predictions at 0 and 5,
    references at 4 and 9 and tolerance 5, the pair (5, 4) at distance 1 goes first and leaves
    prediction 0 and reference 9 unmatched, where (0, 4) and (5, 9) would have made two pairs.
    This greedy rule is the protocol's (and, with tolerances shorter than the gap between
    consecutive waves of a kind, such conflicts do not arise).

        >>> pairs, _, _ = match_positions(np.array([0, 10]), np.array([5, 14]), 5)
        >>> sorted(pairs)
        [(0, 0), (1, 1)]
    """
    pred = np.asarray(pred, dtype=np.int64)
    ref = np.asarray(ref, dtype=np.int64)
    pred_used = np.zeros(pred.size, dtype=bool)
    ref_used = np.zeros(ref.size, dtype=bool)
    if pred.size == 0 or ref.size == 0:
        return [], pred_used, ref_used
    # Candidate pairs via a sorted search: each reference only looks at predictions within
    # reach, so long records (QTDB: 15 min) stay linear rather than quadratic.
    order = np.argsort(pred, kind="stable")
    sorted_pred = pred[order]
    lo = np.searchsorted(sorted_pred, ref - tolerance - EPS, side="left")
    hi = np.searchsorted(sorted_pred, ref + tolerance + EPS, side="right")
    cand_ref = np.repeat(np.arange(ref.size), hi - lo)
    if cand_ref.size == 0:
        return [], pred_used, ref_used
    starts = np.repeat(lo, hi - lo)
    offsets = np.arange(cand_ref.size) - np.repeat(np.cumsum(hi - lo) - (hi - lo), hi - lo)
    cand_pred = order[starts + offsets]
    dist = np.abs(pred[cand_pred] - ref[cand_ref])
    ranked = np.lexsort((pred[cand_pred], ref[cand_ref], dist))
    pairs: list[tuple[int, int]] = []
    for k in ranked:
        p, r = int(cand_pred[k]), int(cand_ref[k])
        if not pred_used[p] and not ref_used[r]:
            pred_used[p] = ref_used[r] = True
            pairs.append((p, r))
    return pairs, pred_used, ref_used
