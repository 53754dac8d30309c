"""Boundary metrics, the headline of the evaluation protocol (``BENCHMARK.md``).

For each of the six boundaries (P, QRS and T onsets and offsets), predicted boundary positions
are matched one-to-one to reference positions of the same boundary, closest pairs first, when
they lie within a tolerance. Matched pairs are true positives and give a signed error
(predicted - reference, in ms); unmatched reference boundaries are false negatives and
unmatched predicted ones false positives. Only predicted boundaries inside the lead's annotated
span (first annotation - tolerance .. last annotation + tolerance) count, because nothing was
annotated outside it.

Two stages: :func:`match_boundaries` gives a :class:`BoundaryCounts` per lead (counts plus the
list of errors), which add up with ``+`` over leads and records; :func:`boundary_scores` turns
the total into Se, PPV, F1, error mean and SD per boundary, and the macro-F1 over the six.

Example: one reference QRS at 1000..1040 (500 Hz); the prediction starts 10 ms late and ends
on time::

    >>> from sigseg.data.record import Wave
    >>> ref = [Wave("QRS", 1000, 1020, 1040)]
    >>> pred = [Wave("QRS", 1005, 1020, 1040)]
    >>> counts = match_boundaries(pred, ref, fs=500, tolerances=TOLERANCES_STRICT)
    >>> scores = boundary_scores(counts)
    >>> scores["QRS_on"]["f1"], scores["QRS_on"]["error_mean_ms"], scores["QRS_off"]["f1"]
    (1.0, 10.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from sigseg.data.record import Wave
from sigseg.metrics.matching import EPS, BoundaryTally, Span, match_positions
from sigseg.tasks.ecg import WAVE_KINDS

BOUNDARIES: tuple[str, ...] = ("P_on", "P_off", "QRS_on", "QRS_off", "T_on", "T_off")
"""The six scored boundaries: ``<kind>_on`` is a wave's onset, ``<kind>_off`` its offset."""

TOLERANCES_150MS: Mapping[str, float] = MappingProxyType({b: 150.0 for b in BOUNDARIES})
"""The lenient protocol of most LUDB papers: 150 ms for every boundary."""

TOLERANCES_STRICT: Mapping[str, float] = MappingProxyType(
    {"P_on": 50.0, "P_off": 50.0, "QRS_on": 40.0, "QRS_off": 40.0, "T_on": 50.0, "T_off": 100.0}
)
"""CSE-style tolerances in ms; the headline strict macro-F1 uses these."""

TOLERANCE_SETS: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {"150ms": TOLERANCES_150MS, "strict": TOLERANCES_STRICT}
)
"""Both tolerance sets the protocol always reports, by the name used in results."""


def boundary_positions(waves: Iterable[Wave], boundary: str) -> np.ndarray:
    """Sorted sample positions of one boundary (e.g. ``"T_off"``) over ``waves``.

    Waves of other kinds, and waves whose onset (or offset) is ``None``, contribute nothing.

        >>> boundary_positions([Wave("P", 10, 15, 20), Wave("P", None, 45, 50)], "P_on")
        array([10])
    """
    kind, side = _split(boundary)
    values = [w.onset if side == "on" else w.offset for w in waves if w.kind == kind]
    return np.sort(np.array([v for v in values if v is not None], dtype=np.int64))


def _split(boundary: str) -> tuple[str, str]:
    kind, _, side = boundary.rpartition("_")
    if kind not in WAVE_KINDS or side not in ("on", "off"):
        raise ValueError(f"unknown boundary {boundary!r}; choose one of {BOUNDARIES}")
    return kind, side


def _empty_tallies() -> Mapping[str, BoundaryTally]:
    return MappingProxyType({b: BoundaryTally() for b in BOUNDARIES})


@dataclass(frozen=True)
class BoundaryCounts:
    """:class:`BoundaryTally` per boundary (all six keys always present). Add with ``+``;
    ``sum(list_of_counts)`` works too (it starts from ``0``)."""

    tallies: Mapping[str, BoundaryTally] = field(default_factory=_empty_tallies)

    def __post_init__(self) -> None:
        missing = set(BOUNDARIES) - set(self.tallies)
        extra = set(self.tallies) - set(BOUNDARIES)
        if missing or extra:
            raise ValueError(f"tallies must have exactly the keys {BOUNDARIES}")
        object.__setattr__(self, "tallies", MappingProxyType(dict(self.tallies)))

    def __getitem__(self, boundary: str) -> BoundaryTally:
        return self.tallies[boundary]

    def __add__(self, other: BoundaryCounts) -> BoundaryCounts:
        if not isinstance(other, BoundaryCounts):
            return NotImplemented
        return BoundaryCounts({b: self.tallies[b] + other.tallies[b] for b in BOUNDARIES})

    def __radd__(self, other: object) -> BoundaryCounts:
        if other == 0:  # the start value of sum()
            return self
        return NotImplemented


def reference_span(ref_waves: Iterable[Wave]) -> Span | None:
    """First and last annotation (onset, peak or offset) among the reference waves.

    >>> reference_span([Wave("P", None, 120, 140), Wave("T", 600, 650, 700)])
    (120, 700)
    """
    marks = [m for w in ref_waves for m in (w.onset, w.peak, w.offset) if m is not None]
    return (min(marks), max(marks)) if marks else None


def _as_spans(span: Span | Sequence[Span] | None, ref_waves: Sequence[Wave]) -> list[Span]:
    if span is None:
        derived = reference_span(ref_waves)
        return [] if derived is None else [derived]
    if len(span) == 2 and all(isinstance(v, (int, np.integer)) for v in span):
        return [(int(span[0]), int(span[1]))]  # type: ignore[arg-type]
    return [(int(a), int(b)) for a, b in span]  # type: ignore[misc]


def match_boundaries(
    pred_waves: Sequence[Wave],
    ref_waves: Sequence[Wave],
    fs: float,
    tolerances: Mapping[str, float] = TOLERANCES_STRICT,
    span: Span | Sequence[Span] | None = None,
) -> BoundaryCounts:
    """Stage 1 for one lead: match predicted to reference boundaries, count and keep errors.

    * ``pred_waves``, ``ref_waves``: the waves of *one* lead (``Wave.lead`` is not looked at);
      kinds other than P, QRS and T are ignored, and a ``None`` onset or offset contributes no
      boundary on that side.
    * ``fs``: sampling rate in Hz of both, to turn tolerances and errors into ms.
    * ``tolerances``: ms per boundary name in :data:`BOUNDARIES` (a match needs
      ``|pred - ref| <= tolerance``; exactly at the tolerance counts).
    * ``span``: the annotated stretch ``(first, last)`` (inclusive sample indices), e.g. from
      :func:`annotated_span` on the lead's reference labels, or a list of such stretches (QTDB:
      the neighbourhoods of annotated beats). A predicted boundary counts only when it lies
      within ``first - tolerance .. last + tolerance`` of some stretch. ``None``: derived from
      the reference waves with :func:`reference_span`; with no reference waves either, nothing
      is annotated and no prediction counts.

    Example: three reference P waves at 500 Hz and predictions 4 samples (8 ms) early, plus a
    spurious P whose onset (1846) is beyond the 25-sample tolerance of every reference onset
    but inside the span (last annotation 1840 + 25), so a false positive, and one far beyond
    the span, which is not counted::

        >>> ref = [Wave("P", s, s + 20, s + 40) for s in (1000, 1400, 1800)]
        >>> pred = [Wave("P", s - 4, s + 20, s + 40) for s in (1000, 1400, 1800, 1850, 4000)]
        >>> c = match_boundaries(pred, ref, fs=500, tolerances=TOLERANCES_STRICT)
        >>> c["P_on"].tp, c["P_on"].fp, c["P_on"].fn, c["P_on"].errors_ms
        (3, 1, 0, (-8.0, -8.0, -8.0))
    """
    if not fs > 0:
        raise ValueError(f"sampling rate must be > 0, got {fs}")
    spans = _as_spans(span, ref_waves)
    tallies: dict[str, BoundaryTally] = {}
    for boundary in BOUNDARIES:
        tol = float(tolerances[boundary]) * fs / 1000.0
        ref = boundary_positions(ref_waves, boundary)
        pred = boundary_positions(pred_waves, boundary)
        inside = np.zeros(pred.size, dtype=bool)
        for first, last in spans:
            inside |= (pred >= first - tol - EPS) & (pred <= last + tol + EPS)
        pred = pred[inside]
        pairs, pred_used, ref_used = match_positions(pred, ref, tol)
        errors = tuple(float((pred[p] - ref[r]) * 1000.0 / fs) for p, r in pairs)
        tallies[boundary] = BoundaryTally(
            tp=len(pairs),
            fp=int((~pred_used).sum()),
            fn=int((~ref_used).sum()),
            errors_ms=errors,
        )
    return BoundaryCounts(tallies)


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def tally_scores(tally: BoundaryTally) -> dict[str, float]:
    """Se, PPV, F1, error mean and SD (ms) and the raw counts of one boundary.

    Se = TP / (TP + FN), PPV = TP / (TP + FP), F1 = 2 TP / (2 TP + FP + FN); NaN where the
    denominator is 0. ``error_sd_ms`` is the population SD (``ddof=0``) over matched pairs,
    defined for a single pair and negligibly different from ``ddof=1`` at benchmark sizes.

        >>> s = tally_scores(BoundaryTally(tp=3, fp=1, fn=0, errors_ms=(-8.0, -4.0, 0.0)))
        >>> s["se"], s["ppv"], round(s["f1"], 4), s["error_mean_ms"], round(s["error_sd_ms"], 3)
        (1.0, 0.75, 0.8571, -4.0, 3.266)
    """
    tp, fp, fn = tally.tp, tally.fp, tally.fn
    errors = np.asarray(tally.errors_ms, dtype=np.float64)
    return {
        "se": _ratio(tp, tp + fn),
        "ppv": _ratio(tp, tp + fp),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "error_mean_ms": float(errors.mean()) if errors.size else math.nan,
        "error_sd_ms": float(errors.std()) if errors.size else math.nan,
        "tp": float(tp),
        "fp": float(fp),
        "fn": float(fn),
    }


def boundary_scores(counts: BoundaryCounts) -> dict[str, dict[str, float] | float]:
    """Stage 2: scores per boundary plus ``macro_f1``, the mean of the six F1s.

    Returns ``{"P_on": {...}, ..., "T_off": {...}, "macro_f1": float}`` with the keys of
    :func:`tally_scores` per boundary. ``macro_f1`` is NaN when any of the six F1s is undefined
    (a boundary absent from both reference and prediction), rather than a mean over fewer.
    With :data:`TOLERANCES_STRICT` counts it is the protocol's headline "strict macro-F1".
    """
    out: dict[str, dict[str, float] | float] = {b: tally_scores(counts[b]) for b in BOUNDARIES}
    f1s = [out[b]["f1"] for b in BOUNDARIES]  # type: ignore[index]
    out["macro_f1"] = float(np.mean(f1s))
    return out
