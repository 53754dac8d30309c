"""The whole evaluation protocol for one lead, summed over leads and records, and printed.

:func:`evaluate_lead` computes every stage-1 quantity of ``BENCHMARK.md`` for one lead (boundary
counts under both tolerance sets, the sample confusion matrix, segment counts) into an
:class:`Evaluation`. Evaluations add up with ``+`` (or ``sum``), and
:meth:`Evaluation.result` gives the final scores as a plain dict with stable keys, which
:func:`format_tables` renders as text for a CLI. Nothing here prints or reads files.

    >>> import numpy as np
    >>> from sigseg.data.record import Wave
    >>> labels = np.full(1000, -100)
    >>> labels[100:900] = 0
    >>> labels[200:221] = 1; labels[300:341] = 2; labels[500:601] = 3
    >>> waves = [Wave("P", 200, 210, 220), Wave("QRS", 300, 320, 340), Wave("T", 500, 550, 600)]
    >>> total = Evaluation.empty()
    >>> for _ in range(2):  # two identical, perfectly predicted leads
    ...     total += evaluate_lead(waves, labels, waves, labels, fs=500)
    >>> result = total.result()
    >>> result["leads"], result["strict_macro_f1"], result["segments"]["f1@50"]
    (2, 1.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from sigseg.data.record import IGNORE_INDEX, Wave
from sigseg.metrics.matching import Span, annotated_span
from sigseg.metrics.samples import confusion_matrix, sample_scores
from sigseg.metrics.segments import (
    SEGMENT_THRESHOLDS,
    SegmentCounts,
    segment_counts,
    segment_scores,
)
from sigseg.metrics.tables import format_score, text_table
from sigseg.tasks.ecg import CLASSES
from sigseg.tasks.ecg.boundaries import (
    BOUNDARIES,
    TOLERANCE_SETS,
    BoundaryCounts,
    boundary_scores,
    match_boundaries,
)


def _frozen_sets(sets: Mapping[str, Mapping[str, float]]) -> Mapping[str, Mapping[str, float]]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in sets.items()})


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Summable stage-1 results over any number of leads.

    * ``boundaries``: :class:`~sigseg.tasks.ecg.boundaries.BoundaryCounts` per tolerance set
      name (``"150ms"``, ``"strict"`` by default), with the tolerances in ``tolerance_sets``.
    * ``confusion``: summed sample confusion matrix (reference rows, predicted columns).
    * ``segments``: summed :class:`~sigseg.metrics.segments.SegmentCounts`.
    * ``leads``: how many leads went in.

    Start from :meth:`empty` and add :func:`evaluate_lead` results; adding evaluations made
    with different tolerance sets, classes or thresholds is an error.
    """

    boundaries: Mapping[str, BoundaryCounts]
    confusion: np.ndarray
    segments: SegmentCounts
    tolerance_sets: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: _frozen_sets(TOLERANCE_SETS)
    )
    leads: int = 0

    def __post_init__(self) -> None:
        if set(self.boundaries) != set(self.tolerance_sets):
            raise ValueError("boundaries and tolerance_sets must have the same names")
        object.__setattr__(self, "boundaries", MappingProxyType(dict(self.boundaries)))
        object.__setattr__(self, "tolerance_sets", _frozen_sets(self.tolerance_sets))
        cm = np.array(self.confusion, dtype=np.int64)  # a private copy
        cm.flags.writeable = False
        object.__setattr__(self, "confusion", cm)

    @classmethod
    def empty(
        cls,
        tolerance_sets: Mapping[str, Mapping[str, float]] = TOLERANCE_SETS,
        num_classes: int = len(CLASSES),
        thresholds: Sequence[float] = SEGMENT_THRESHOLDS,
    ) -> Evaluation:
        """Zero counts: the start of an accumulation."""
        return cls(
            boundaries={name: BoundaryCounts() for name in tolerance_sets},
            confusion=np.zeros((num_classes, num_classes), dtype=np.int64),
            segments=SegmentCounts.empty(thresholds),
            tolerance_sets=tolerance_sets,
            leads=0,
        )

    def __add__(self, other: Evaluation) -> Evaluation:
        if not isinstance(other, Evaluation):
            return NotImplemented
        if dict(map(_plain, self.tolerance_sets.items())) != dict(
            map(_plain, other.tolerance_sets.items())
        ):
            raise ValueError("cannot add evaluations made with different tolerance sets")
        if self.confusion.shape != other.confusion.shape:
            raise ValueError("cannot add evaluations with different numbers of classes")
        return Evaluation(
            boundaries={k: self.boundaries[k] + other.boundaries[k] for k in self.boundaries},
            confusion=self.confusion + other.confusion,
            segments=self.segments + other.segments,
            tolerance_sets=self.tolerance_sets,
            leads=self.leads + other.leads,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Evaluation):
            return NotImplemented
        return (
            self.leads == other.leads
            and np.array_equal(self.confusion, other.confusion)
            and dict(self.boundaries) == dict(other.boundaries)
            and self.segments == other.segments
            and dict(map(_plain, self.tolerance_sets.items()))
            == dict(map(_plain, other.tolerance_sets.items()))
        )

    __hash__ = None  # type: ignore[assignment]

    def __radd__(self, other: object) -> Evaluation:
        if other == 0:  # the start value of sum()
            return self
        return NotImplemented

    def result(self, class_names: Sequence[str] = CLASSES) -> dict[str, Any]:
        """Final scores, a JSON-friendly dict (floats may be NaN where undefined)::

        {"leads": int,
         "strict_macro_f1": float,          # the headline (NaN without a "strict" set)
         "boundaries": {set_name: {"P_on": {"se", "ppv", "f1", "error_mean_ms",
                                            "error_sd_ms", "tp", "fp", "fn"},
                                   ..., "macro_f1": float}},
         "tolerances_ms": {set_name: {boundary: ms}},
         "samples": {class_name: {"precision", "recall", "f1", "iou", "support"}},
         "segments": {"f1@10", "f1@25", "f1@50", "edit"}}
        """
        boundaries = {k: boundary_scores(c) for k, c in self.boundaries.items()}
        strict = boundaries.get("strict")
        return {
            "leads": self.leads,
            "strict_macro_f1": strict["macro_f1"] if strict is not None else math.nan,
            "boundaries": boundaries,
            "tolerances_ms": {k: dict(v) for k, v in self.tolerance_sets.items()},
            "samples": sample_scores(self.confusion, class_names),
            "segments": segment_scores(self.segments),
        }


def _plain(item: tuple[str, Mapping[str, float]]) -> tuple[str, tuple[tuple[str, float], ...]]:
    name, tolerances = item
    return name, tuple(sorted(tolerances.items()))


def evaluate_lead(
    pred_waves: Sequence[Wave],
    pred_labels: np.ndarray,
    ref_waves: Sequence[Wave],
    ref_labels: np.ndarray,
    fs: float,
    *,
    span: Span | Sequence[Span] | None = None,
    tolerance_sets: Mapping[str, Mapping[str, float]] = TOLERANCE_SETS,
    thresholds: Sequence[float] = SEGMENT_THRESHOLDS,
    num_classes: int = len(CLASSES),
    ignore_index: int = IGNORE_INDEX,
) -> Evaluation:
    """Every stage-1 metric of one lead, as an :class:`Evaluation` of one lead.

    ``pred_waves``/``pred_labels`` are the delineation of the lead (e.g. from
    :func:`sigseg.tasks.ecg.waves.labels_to_waves` and its labels), ``ref_waves``/``ref_labels``
    the annotation, all at sampling rate ``fs``. The annotated span for the boundary metrics is
    ``span`` when given, else the first..last annotated sample of ``ref_labels``, else (nothing
    annotated in the labels) the span of ``ref_waves``.
    """
    ref_labels = np.asarray(ref_labels)
    if span is None:
        span = annotated_span(ref_labels, ignore_index)
    return Evaluation(
        boundaries={
            name: match_boundaries(pred_waves, ref_waves, fs, tolerances, span)
            for name, tolerances in tolerance_sets.items()
        },
        confusion=confusion_matrix(pred_labels, ref_labels, num_classes, ignore_index),
        segments=segment_counts(pred_labels, ref_labels, thresholds, ignore_index),
        tolerance_sets=tolerance_sets,
        leads=1,
    )


def format_tables(result: Mapping[str, Any]) -> str:
    """Plain-text tables of an :meth:`Evaluation.result` dict, for a CLI to print.

    One boundary table per tolerance set (Se, PPV, F1, error mean ± SD, counts, macro-F1),
    then sample scores per class and segment scores. Undefined values show as ``-``.
    """
    out = [f"Leads evaluated: {result['leads']}"]
    if not math.isnan(result.get("strict_macro_f1", math.nan)):
        out.append(f"Strict macro-F1 (headline): {format_score(result['strict_macro_f1'])}")
    for name, scores in result["boundaries"].items():
        tolerances = result.get("tolerances_ms", {}).get(name, {})
        tol_text = ", ".join(f"{b} {tolerances[b]:g}" for b in BOUNDARIES if b in tolerances)
        out += ["", f"Boundaries, tolerance set '{name}' (ms: {tol_text})"]
        rows = []
        for b in BOUNDARIES:
            s = scores[b]
            err = "-"
            if not math.isnan(s["error_mean_ms"]):
                err = f"{format_score(s['error_mean_ms'], 1)} ± {format_score(s['error_sd_ms'], 1)}"
            counts = [f"{int(s[k])}" for k in ("tp", "fp", "fn")]
            rows.append(
                [
                    b,
                    format_score(s["se"]),
                    format_score(s["ppv"]),
                    format_score(s["f1"]),
                    err,
                    *counts,
                ]
            )
        rows.append(["macro", "", "", format_score(scores["macro_f1"]), "", "", "", ""])
        header = ["boundary", "Se", "PPV", "F1", "error ms (mean ± SD)", "TP", "FP", "FN"]
        out += text_table(header, rows)
    out += ["", "Samples (annotated samples only)"]
    rows = [
        [
            c,
            *(format_score(s[k]) for k in ("precision", "recall", "f1", "iou")),
            f"{int(s['support'])}",
        ]
        for c, s in result["samples"].items()
    ]
    out += text_table(["class", "precision", "recall", "F1", "IoU", "support"], rows)
    seg = result["segments"]
    out += ["", "Segments (P, QRS, T runs)"]
    out += text_table(list(seg), [[format_score(v) for v in seg.values()]])
    return "\n".join(out)


def group_summary(result: Mapping[str, Any]) -> dict[str, float]:
    """The figures a group of records (one rhythm, say) is judged by, from its
    :meth:`Evaluation.result`: strict macro-F1; ``p_fp_per_beat``, P onsets predicted where
    the reference has none within 150 ms, per reference beat (QRS onsets) — on atrial
    fibrillation or flutter, where no P wave is annotated, every predicted P is one; and
    ``t_f1``, the mean strict F1 of T onset and offset (inverted T waves, high rates).

        >>> r = Evaluation.empty().result()
        >>> summary = group_summary(r)
        >>> sorted(summary), summary["leads"]
        (['leads', 'p_fp_per_beat', 'strict_macro_f1', 't_f1'], 0)
    """
    wide, strict = result["boundaries"]["150ms"], result["boundaries"]["strict"]
    beats = wide["QRS_on"]["tp"] + wide["QRS_on"]["fn"]
    return {
        "leads": result["leads"],
        "strict_macro_f1": result["strict_macro_f1"],
        "p_fp_per_beat": wide["P_on"]["fp"] / beats if beats else math.nan,
        "t_f1": (strict["T_on"]["f1"] + strict["T_off"]["f1"]) / 2,
    }
