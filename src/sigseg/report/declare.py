"""How a task declares the figures of its report: a :class:`ReportFigure` is a name, a title
and a function that draws it for one recording (or says it does not apply).

Every recording gets the generic figures (:mod:`sigseg.report.generic`); a task adds its own
(ECG: :mod:`sigseg.tasks.ecg.report_figures`; eye movements:
:mod:`sigseg.report.eye_movements`), chosen by :func:`figures_for` from what the results hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sigseg.results import RecordingResult


@dataclass(frozen=True)
class ReportContext:
    """What a figure may need beyond the results: the recording's length (seconds) and its
    signal file, when known (``None``: figures that need the signal are left out)."""

    duration_s: float
    signal_path: Path | None = None
    fs: float | None = None


Draw = Callable[["RecordingResult", ReportContext], "Figure | None"]


@dataclass(frozen=True)
class ReportFigure:
    """One figure of a report: ``name`` (its PNG's file stem), ``title`` (its caption) and
    ``draw`` (a matplotlib figure for a recording, or ``None`` when it does not apply: no
    intervals, no saccades, no signal...)."""

    name: str
    title: str
    draw: Draw


def figures_for(result: RecordingResult) -> list[ReportFigure]:
    """The generic figures, then those of each task whose classes the results hold."""
    from sigseg.report import eye_movements, generic
    from sigseg.tasks.ecg import report_figures as ecg

    figures = list(generic.FIGURES)
    labels = set(result.labels)
    if result.task == "ecg" or ecg.applies(labels, result.task):
        figures += ecg.FIGURES
    if eye_movements.applies(labels):
        figures += eye_movements.FIGURES
    return figures


def new_figure(rows: int = 1, cols: int = 1, height: float = 3.0, **kwargs: Any) -> Any:
    """A matplotlib figure and its axes (Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(rows, cols, figsize=(10, height * rows), squeeze=False, **kwargs)
