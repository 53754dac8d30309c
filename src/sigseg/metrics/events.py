"""Evaluation of any :class:`~sigseg.tasks.base.Task`: samples, intervals, boundaries, points.

A task may add a protocol of its own (ECG delineation does, with its six boundaries and two
tolerance sets); this module scores any label set with the families that fit its label kind:

* ``samples`` (every kind): per-class precision, recall and F1 over labelled samples, the
  macro F1 over the event classes, Cohen's kappa and accuracy;
* ``events_iou50`` (``segments``, ``states``): a predicted and a reference interval of the
  same class match one-to-one when their IoU is at least 0.5 (:func:`~sigseg.metrics.segments.
  match_segments`);
* ``episodes`` (``segments``, ``states``): the episode F1 of eye-movement research, as the
  GazeCom anchor's evaluation code (sp_tool) defines it (:mod:`sigseg.metrics.episodes`:
  per class, each reference episode hit by the first overlapping predicted one);
* ``boundaries`` (``segments``, ``states``): onsets and offsets matched one-to-one within
  ``task.tolerance_s``, closest first (:func:`~sigseg.metrics.matching.match_positions`);
* ``points`` (``events``): point events matched the same way.

Intervals and episodes are the runs of the label arrays (labels and events agree when the
labels are :func:`~sigseg.inference.decode.events_to_labels` of the events); boundaries and
points come from the event lists. The event classes are ``task.foreground``: every class but
the background (all classes for ``states``).

Two stages, as in :mod:`sigseg.metrics.samples`: :func:`evaluate_recording` gives a
:class:`TaskEvaluation` of counts per recording, which add up with ``+`` and ``sum``;
:meth:`TaskEvaluation.result` turns the total into scores with stable keys. A score whose
denominator is zero is NaN. Macro scores average the classes whose score is defined (a class
absent from both reference and prediction says nothing about the model), NaN when none is.

Example: a two-class task at 100 Hz, one reference event at 10..19 and a prediction at
12..21 (IoU 8/12), both boundaries 20 ms late, inside the 50 ms tolerance::

    >>> from sigseg.tasks.base import Task
    >>> task = Task("spindles", ("background", "spindle"))
    >>> ref = np.zeros(40, dtype=np.int64); ref[10:20] = 1
    >>> pred = np.zeros(40, dtype=np.int64); pred[12:22] = 1
    >>> one = evaluate_recording(ref, pred, [Wave("spindle", 10, 15, 19)],
    ...                          [Wave("spindle", 12, 17, 21)], fs=100, task=task)
    >>> result = (one + one).result()
    >>> result["recordings"], result["events_iou50"]["macro_f1"], result["samples"]["macro_f1"]
    (2, 1.0, 0.8)
    >>> result["boundaries"]["classes"]["spindle"]["onset"]["error_mean_ms"]
    20.0
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from sigseg.data.record import Wave
from sigseg.metrics.episodes import episode_counts
from sigseg.metrics.matching import EPS, BoundaryTally, Span, annotated_span, match_positions
from sigseg.metrics.samples import confusion_matrix, sample_scores
from sigseg.metrics.segments import Segment, label_segments, match_segments
from sigseg.metrics.tables import format_score, text_table
from sigseg.tasks.base import IGNORE_INDEX, Task

__all__ = [
    "TALLY_FAMILIES",
    "TaskEvaluation",
    "cohen_kappa",
    "evaluate_recording",
    "format_task_tables",
    "headline",
]

TALLY_FAMILIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "segments": ("events_iou50", "episodes", "onsets", "offsets"),
        "states": ("events_iou50", "episodes", "onsets", "offsets"),
        "events": ("points",),
    }
)
"""The detection counts a :class:`TaskEvaluation` keeps for each label kind."""


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def _macro(values: Sequence[float]) -> float:
    """Mean of the defined (non-NaN) values, NaN when none is."""
    defined = [v for v in values if not math.isnan(v)]
    return float(np.mean(defined)) if defined else math.nan


def _event_indices(task: Task) -> list[int]:
    return [task.index(c) for c in task.foreground]


@dataclass(frozen=True)
class TaskEvaluation:
    """Summable counts of any number of recordings of one task.

    * ``confusion``: the sample confusion matrix (reference rows, predicted columns);
    * ``tallies``: per family of :data:`TALLY_FAMILIES` for ``task.kind``, one
      :class:`~sigseg.metrics.matching.BoundaryTally` (TP, FP, FN, signed errors in ms) per
      event class, in ``task.foreground`` order;
    * ``recordings``: how many recordings went in.

    Start from :meth:`empty` (or a first :func:`evaluate_recording`) and add; adding the
    evaluations of two different tasks is an error.
    """

    task: Task
    confusion: tuple[tuple[int, ...], ...]
    tallies: Mapping[str, tuple[BoundaryTally, ...]]
    recordings: int = 0

    def __post_init__(self) -> None:
        k = self.task.num_classes
        if len(self.confusion) != k or any(len(row) != k for row in self.confusion):
            raise ValueError(f"confusion must be {k} x {k} for task {self.task.name!r}")
        families = TALLY_FAMILIES[self.task.kind]
        if set(self.tallies) != set(families):
            raise ValueError(f"a {self.task.kind} task's tallies are {', '.join(families)}")
        n = len(self.task.foreground)
        if any(len(t) != n for t in self.tallies.values()):
            raise ValueError(f"each family needs one tally per event class ({n})")
        object.__setattr__(self, "tallies", MappingProxyType(dict(self.tallies)))

    @classmethod
    def empty(cls, task: Task) -> TaskEvaluation:
        """Zero counts: the start of an accumulation."""
        k, n = task.num_classes, len(task.foreground)
        return cls(
            task,
            ((0,) * k,) * k,
            {f: (BoundaryTally(),) * n for f in TALLY_FAMILIES[task.kind]},
            0,
        )

    def __add__(self, other: TaskEvaluation) -> TaskEvaluation:
        if not isinstance(other, TaskEvaluation):
            return NotImplemented
        if other.task != self.task:
            raise ValueError(
                f"cannot add evaluations of tasks {self.task.name!r} and {other.task.name!r} "
                "(their classes or rules differ)"
            )
        return TaskEvaluation(
            self.task,
            tuple(
                tuple(a + b for a, b in zip(r, s, strict=True))
                for r, s in zip(self.confusion, other.confusion, strict=True)
            ),
            {
                f: tuple(a + b for a, b in zip(t, other.tallies[f], strict=True))
                for f, t in self.tallies.items()
            },
            self.recordings + other.recordings,
        )

    def __radd__(self, other: object) -> TaskEvaluation:
        if other == 0:  # the start value of sum()
            return self
        return NotImplemented

    def result(self) -> dict[str, Any]:
        """Scores, a JSON-friendly dict (floats are NaN where undefined)::

        {"recordings": int,
         "tolerance_ms": float,
         "samples": {"classes": {name: {"precision", "recall", "f1", "iou", "support"}},
                     "macro_f1", "kappa", "accuracy"},
         # segments and states:
         "events_iou50": {"classes": {name: DETECTION}, "macro_f1"},
         "episodes": {"classes": {name: DETECTION}, "macro_f1"},
         "boundaries": {"classes": {name: {"onset": TIMED, "offset": TIMED}}, "macro_f1"},
         # events:
         "points": {"classes": {name: TIMED}, "macro_f1"}}

        where DETECTION is ``{"precision", "recall", "f1", "tp", "fp", "fn"}`` and TIMED adds
        ``"error_mean_ms"``, ``"error_sd_ms"`` (signed error predicted - reference of the
        matched pairs, population SD) and ``"abs_error_mean_ms"``. ``samples`` lists every
        class; its ``macro_f1`` and every other family's cover the event classes only
        (``boundaries``: the onset and offset F1 of each).
        """
        task = self.task
        cm = np.array(self.confusion, dtype=np.int64)
        samples = sample_scores(cm, task.classes)
        total = int(cm.sum())
        out: dict[str, Any] = {
            "recordings": self.recordings,
            "tolerance_ms": task.tolerance_s * 1000.0,
            "samples": {
                "classes": samples,
                "macro_f1": _macro([samples[c]["f1"] for c in task.foreground]),
                "kappa": cohen_kappa(cm),
                "accuracy": _ratio(int(np.trace(cm)), total),
            },
        }
        names = task.foreground
        if task.kind == "events":
            points = {c: _timed(t) for c, t in zip(names, self.tallies["points"], strict=True)}
            out["points"] = {
                "classes": points,
                "macro_f1": _macro([s["f1"] for s in points.values()]),
            }
            return out
        for family in ("events_iou50", "episodes"):
            scores = {c: _detection(t) for c, t in zip(names, self.tallies[family], strict=True)}
            out[family] = {
                "classes": scores,
                "macro_f1": _macro([s["f1"] for s in scores.values()]),
            }
        sides = zip(names, self.tallies["onsets"], self.tallies["offsets"], strict=True)
        bounds = {c: {"onset": _timed(on), "offset": _timed(off)} for c, on, off in sides}
        out["boundaries"] = {
            "classes": bounds,
            "macro_f1": _macro([s[side]["f1"] for s in bounds.values() for side in s]),
        }
        return out


def _detection(t: BoundaryTally) -> dict[str, float]:
    return {
        "precision": _ratio(t.tp, t.tp + t.fp),
        "recall": _ratio(t.tp, t.tp + t.fn),
        "f1": _ratio(2 * t.tp, 2 * t.tp + t.fp + t.fn),
        "tp": float(t.tp),
        "fp": float(t.fp),
        "fn": float(t.fn),
    }


def _timed(t: BoundaryTally) -> dict[str, float]:
    errors = np.asarray(t.errors_ms, dtype=np.float64)
    defined = errors.size > 0
    return {
        **_detection(t),
        "error_mean_ms": float(errors.mean()) if defined else math.nan,
        "error_sd_ms": float(errors.std()) if defined else math.nan,
        "abs_error_mean_ms": float(np.abs(errors).mean()) if defined else math.nan,
    }


def cohen_kappa(cm: np.ndarray) -> float:
    """Cohen's kappa of a confusion matrix: ``(po - pe) / (1 - pe)`` with ``po`` the observed
    agreement (trace / n) and ``pe`` the agreement expected by chance (sum over classes of
    row total x column total / n²); NaN with no sample or when ``pe`` is 1.

        >>> round(cohen_kappa(np.array([[4, 1], [1, 4]])), 6)  # po 0.8, pe 0.5
        0.6
    """
    cm = np.asarray(cm, dtype=np.float64)
    n = cm.sum()
    if n == 0:
        return math.nan
    po = float(np.trace(cm) / n)
    pe = float((cm.sum(axis=1) * cm.sum(axis=0)).sum() / (n * n))
    return _ratio(po - pe, 1.0 - pe)


def _episode_tally(pred: np.ndarray, ref: np.ndarray, cls: int) -> BoundaryTally:
    counts = episode_counts(pred, ref, cls)
    return BoundaryTally(counts.tp, counts.fp, counts.fn)


def _interval_tallies(
    pairs: Sequence[tuple[int, int]],
    pred: Sequence[Segment],
    ref: Sequence[Segment],
    classes: Sequence[int],
) -> tuple[BoundaryTally, ...]:
    tp = Counter(ref[j].label for _, j in pairs)
    n_pred = Counter(s.label for s in pred)
    n_ref = Counter(s.label for s in ref)
    return tuple(BoundaryTally(tp[k], n_pred[k] - tp[k], n_ref[k] - tp[k]) for k in classes)


def _positions(waves: Sequence[Wave], kind: str, side: str) -> np.ndarray:
    """Sample positions of one class's ``onset``, ``offset`` or ``point`` (the peak, else the
    onset) over ``waves``; ``None`` positions are left out."""
    if side == "point":
        values = [w.peak if w.peak is not None else w.onset for w in waves if w.kind == kind]
    else:
        values = [getattr(w, side) for w in waves if w.kind == kind]
    return np.array([v for v in values if v is not None], dtype=np.int64)


def _position_tally(
    pred: np.ndarray, ref: np.ndarray, span: Span | None, tolerance: float, fs: float
) -> BoundaryTally:
    """One-to-one matching within ``tolerance`` samples; reference positions outside
    ``span`` and predicted ones farther than ``tolerance`` from it do not count."""
    if span is None:
        return BoundaryTally()
    first, last = span
    ref = ref[(ref >= first) & (ref <= last)]
    pred = pred[(pred >= first - tolerance - EPS) & (pred <= last + tolerance + EPS)]
    pairs, pred_used, ref_used = match_positions(pred, ref, tolerance)
    return BoundaryTally(
        tp=len(pairs),
        fp=int((~pred_used).sum()),
        fn=int((~ref_used).sum()),
        errors_ms=tuple(float((pred[p] - ref[r]) * 1000.0 / fs) for p, r in pairs),
    )


def evaluate_recording(
    ref_labels: np.ndarray,
    pred_labels: np.ndarray,
    ref_events: Sequence[Wave],
    pred_events: Sequence[Wave],
    fs: float,
    task: Task,
) -> TaskEvaluation:
    """Stage 1 for one recording: the counts of every family of ``task.kind``.

    * ``ref_labels``, ``pred_labels``: ``(L,)`` class indices; samples whose reference is
      :data:`~sigseg.tasks.base.IGNORE_INDEX` are left out everywhere (they also end runs).
    * ``ref_events``, ``pred_events``: the events (``Wave.kind`` a class name; other kinds are
      ignored) for the boundary and point families.
    * ``fs``: the sampling rate of all of them, for tolerances and errors.

    Boundaries and points count only where something was labelled: reference positions inside
    the labelled span (first..last labelled sample) and predicted positions within
    ``task.tolerance_s`` of it, as in the ECG protocol.
    """
    if not fs > 0:
        raise ValueError(f"sampling rate must be > 0, got {fs}")
    ref = np.asarray(ref_labels)
    pred = np.asarray(pred_labels)
    if ref.ndim != 1 or pred.shape != ref.shape:
        raise ValueError(
            f"labels must be two 1-D arrays of one shape, got {ref.shape} and {pred.shape}"
        )
    confusion = confusion_matrix(pred, ref, task.num_classes, IGNORE_INDEX)
    events = _event_indices(task)
    span = annotated_span(ref, IGNORE_INDEX)
    tolerance = task.tolerance_s * fs
    tallies: dict[str, tuple[BoundaryTally, ...]] = {}
    if task.kind == "events":
        tallies["points"] = tuple(
            _position_tally(
                _positions(pred_events, c, "point"),
                _positions(ref_events, c, "point"),
                span,
                tolerance,
                fs,
            )
            for c in task.foreground
        )
    else:
        pred = np.where(ref == IGNORE_INDEX, IGNORE_INDEX, pred)
        pred_runs = label_segments(pred, IGNORE_INDEX, background=None)
        ref_runs = label_segments(ref, IGNORE_INDEX, background=None)
        tallies["episodes"] = tuple(_episode_tally(pred, ref, k) for k in events)
        pred_fg = [s for s in pred_runs if s.label in events]
        ref_fg = [s for s in ref_runs if s.label in events]
        tallies["events_iou50"] = _interval_tallies(
            match_segments(pred_fg, ref_fg, 0.5), pred_fg, ref_fg, events
        )
        for family, side in (("onsets", "onset"), ("offsets", "offset")):
            tallies[family] = tuple(
                _position_tally(
                    _positions(pred_events, c, side),
                    _positions(ref_events, c, side),
                    span,
                    tolerance,
                    fs,
                )
                for c in task.foreground
            )
    return TaskEvaluation(task, tuple(map(tuple, confusion.tolist())), tallies, 1)


def headline(result: Mapping[str, Any], task: Task) -> float:
    """The one number ``task.monitor`` follows, from a :meth:`TaskEvaluation.result` dict:
    ``val_macro_f1``: the samples' macro F1; ``val_event_f1``: the points' macro F1 for an
    ``events`` task, the boundaries' otherwise. Other monitors are not scores of this module.

        >>> task = Task("t", ("background", "a"), monitor="val_event_f1")
        >>> headline({"samples": {"macro_f1": 0.5}, "boundaries": {"macro_f1": 0.75}}, task)
        0.75
    """
    if task.monitor == "val_macro_f1":
        return float(result["samples"]["macro_f1"])
    if task.monitor == "val_event_f1":
        family = "points" if task.kind == "events" else "boundaries"
        return float(result[family]["macro_f1"])
    raise ValueError(
        f"monitor {task.monitor!r} is not a score of sigseg.metrics.events "
        "(val_macro_f1 or val_event_f1)"
    )


_DETECTION_HEADER = ["class", "precision", "recall", "F1", "TP", "FP", "FN"]
_TIMED_HEADER = [*_DETECTION_HEADER, "error ms (mean ± SD)", "|error| ms"]


def _detection_row(name: str, s: Mapping[str, float]) -> list[str]:
    counts = [f"{int(s[k])}" for k in ("tp", "fp", "fn")]
    return [
        name,
        format_score(s["precision"]),
        format_score(s["recall"]),
        format_score(s["f1"]),
        *counts,
    ]


def _timed_row(name: str, s: Mapping[str, float]) -> list[str]:
    error = "-"
    if not math.isnan(s["error_mean_ms"]):
        error = f"{format_score(s['error_mean_ms'], 1)} ± {format_score(s['error_sd_ms'], 1)}"
    return [*_detection_row(name, s), error, format_score(s["abs_error_mean_ms"], 1)]


def _macro_row(macro: float, width: int) -> list[str]:
    return ["macro", "", "", format_score(macro), *[""] * (width - 4)]


def format_task_tables(result: Mapping[str, Any], task: Task) -> str:
    """Plain-text tables of a :meth:`TaskEvaluation.result` dict, for a CLI to print: the
    headline (for the monitors of this module), samples, then each detection family with a
    macro row. Undefined values show as ``-``.

        >>> task = Task("spindles", ("background", "spindle"))
        >>> text = format_task_tables(TaskEvaluation.empty(task).result(), task)
        >>> print(text.splitlines()[0])
        Recordings evaluated: 0
    """
    out = [f"Recordings evaluated: {result['recordings']}"]
    if task.monitor in ("val_macro_f1", "val_event_f1"):
        out.append(f"Headline ({task.monitor}): {format_score(headline(result, task))}")
    samples = result["samples"]
    out += ["", "Samples (labelled samples only)"]
    rows = [
        [
            c,
            *(format_score(s[k]) for k in ("precision", "recall", "f1", "iou")),
            f"{int(s['support'])}",
        ]
        for c, s in samples["classes"].items()
    ]
    out += text_table(["class", "precision", "recall", "F1", "IoU", "support"], rows)
    out.append(
        f"macro F1 (event classes) {format_score(samples['macro_f1'])}, "
        f"kappa {format_score(samples['kappa'])}, accuracy {format_score(samples['accuracy'])}"
    )
    tolerance = f"{result['tolerance_ms']:g} ms"
    if "points" in result:
        points = result["points"]
        rows = [_timed_row(c, s) for c, s in points["classes"].items()]
        rows.append(_macro_row(points["macro_f1"], len(_TIMED_HEADER)))
        out += ["", f"Points (tolerance {tolerance})", *text_table(_TIMED_HEADER, rows)]
        return "\n".join(out)
    titles = {"events_iou50": "Intervals (IoU >= 0.5)", "episodes": "Episodes (sp_tool)"}
    for family, title in titles.items():
        scores = result[family]
        rows = [_detection_row(c, s) for c, s in scores["classes"].items()]
        rows.append(_macro_row(scores["macro_f1"], len(_DETECTION_HEADER)))
        out += ["", title, *text_table(_DETECTION_HEADER, rows)]
    bounds = result["boundaries"]
    rows = [
        _timed_row(f"{c} {side}", s[side])
        for c, s in bounds["classes"].items()
        for side in ("onset", "offset")
    ]
    rows.append(_macro_row(bounds["macro_f1"], len(_TIMED_HEADER)))
    out += ["", f"Boundaries (tolerance {tolerance})", *text_table(_TIMED_HEADER, rows)]
    return "\n".join(out)
