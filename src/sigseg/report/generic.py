"""Figures for any task: time in each class over time, event counts and event durations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sigseg.report.declare import ReportContext, ReportFigure, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sigseg.results import RecordingResult

TIME_BINS = 120
"""Bins of the time-in-class figure across the recording."""


def time_axis(duration_s: float) -> tuple[float, str]:
    """Seconds per unit and the unit's name for an axis spanning ``duration_s``."""
    if duration_s >= 3 * 3600:
        return 3600.0, "h"
    if duration_s >= 3 * 60:
        return 60.0, "min"
    return 1.0, "s"


def covered_time(onset: np.ndarray, offset: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Seconds of ``edges``' bins that the intervals ``onset..offset`` cover (overlapping
    intervals counted twice).

    >>> covered_time(np.array([0.5]), np.array([2.5]), np.array([0.0, 1.0, 2.0, 3.0])).tolist()
    [0.5, 1.0, 0.5]
    """
    covered = np.zeros(edges.size)
    for chunk in range(0, onset.size, 50_000):  # bounded memory for a day of events
        on, off = onset[chunk : chunk + 50_000], offset[chunk : chunk + 50_000]
        covered += np.clip(edges[:, None] - on[None, :], 0.0, (off - on)[None, :]).sum(axis=1)
    return np.diff(covered)


def _time_in_class(result: RecordingResult, context: ReportContext) -> Figure | None:
    events = result.events
    intervals = events[events["offset"] > events["onset"]]
    if intervals.empty:
        return None
    channels = max(1, events["channel"].nunique())
    edges = np.linspace(0.0, context.duration_s, TIME_BINS + 1)
    width = np.diff(edges)
    unit, name = time_axis(context.duration_s)
    fig, axes = new_figure(height=3.2)
    ax = axes[0, 0]
    bottom = np.zeros(TIME_BINS)
    for label in result.labels:
        mine = intervals[intervals["label"] == label]
        if mine.empty:
            continue
        share = covered_time(mine["onset"].to_numpy(), mine["offset"].to_numpy(), edges)
        share = 100.0 * share / (width * channels)
        ax.bar(
            edges[:-1] / unit, share, width=width / unit, bottom=bottom, align="edge", label=label
        )
        bottom += share
    ax.set_xlabel(f"time ({name})")
    ax.set_ylabel("% of time")
    ax.set_xlim(0, context.duration_s / unit)
    ax.legend(loc="upper right", fontsize=8, ncol=min(6, len(result.labels)))
    return fig


def _counts(result: RecordingResult, context: ReportContext) -> Figure | None:
    events = result.events
    if events.empty:
        return None
    table = events.groupby(["label", "channel"]).size().unstack(fill_value=0)
    table = table.reindex([c for c in result.labels if c in table.index])
    fig, axes = new_figure(height=3.0)
    ax = axes[0, 0]
    x = np.arange(len(table.index))
    width = 0.8 / max(1, len(table.columns))
    for k, channel in enumerate(table.columns):
        counts = table[channel].to_numpy()
        ax.bar(x + k * width, counts, width=width, label=str(channel))
    ax.set_xticks(x + 0.4 - width / 2, table.index)
    ax.set_ylabel("events")
    if len(table.columns) > 1:
        ax.legend(fontsize=8, ncol=min(6, len(table.columns)), title="channel")
    return fig


def _durations(result: RecordingResult, context: ReportContext) -> Figure | None:
    events = result.events
    durations = events["offset"] - events["onset"]
    labels = [c for c in result.labels if (durations[events["label"] == c] > 0).any()]
    if not labels:
        return None
    fig, axes = new_figure(height=3.0)
    ax = axes[0, 0]
    data = [1000.0 * durations[(events["label"] == c) & (durations > 0)].to_numpy() for c in labels]
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(labels) + 1), labels)
    ax.set_ylabel("duration (ms)")
    ax.set_yscale(
        "log"
        if max(np.median(d) for d in data) > 50 * min(np.median(d) for d in data)
        else "linear"
    )
    return fig


FIGURES = (
    ReportFigure("time_in_class", "Time in each class over time", _time_in_class),
    ReportFigure("event_counts", "Events per class and channel", _counts),
    ReportFigure("event_durations", "Event durations per class (box: quartiles)", _durations),
)
"""The figures every report has."""
