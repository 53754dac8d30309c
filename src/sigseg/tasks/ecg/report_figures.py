"""The ECG report's figures (see :mod:`sigseg.report.declare`): heart rate, PR, QRS, QT and
QTc over time with the stretches that could not be delineated marked, their distributions,
and the wave counts per lead.

Beat intervals come from the results' interval table (``sigseg delineate``, a batch run), or
are measured from the events (``sigseg segment`` with an ECG model) by
:func:`~sigseg.tasks.ecg.waves.beat_intervals`. Undelineated stretches are the gaps the
results list (no signal) and the stretches with no QRS complex for :data:`NO_BEAT_S` or
more (noise the model could not read, or no beat).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sigseg.data.record import Wave
from sigseg.report.declare import ReportContext, ReportFigure, new_figure
from sigseg.report.generic import time_axis
from sigseg.tasks.ecg import WAVE_KINDS
from sigseg.tasks.ecg.outputs import WAVE_COLORS
from sigseg.tasks.ecg.waves import beat_intervals

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sigseg.results import RecordingResult

NO_BEAT_S = 3.0
"""A stretch this long without a QRS complex is marked as not delineated."""
MEASURES = (
    ("heart_rate", "heart rate (bpm)"),
    ("pr_ms", "PR (ms)"),
    ("qrs_ms", "QRS (ms)"),
    ("qt_ms", "QT (ms)"),
    ("qtc_bazett_ms", "QTc Bazett (ms)"),
)
MS_PER_SAMPLE = 1000.0
"""Intervals measured from events use a 1-kHz time grid (1-ms resolution)."""


def applies(labels: set[str], task: str | None) -> bool:
    """Whether results are ECG delineation's: its task, or QRS among ECG wave labels."""
    return task == "ecg-delineation" or ("QRS" in labels and labels <= set(WAVE_KINDS))


def beats(result: RecordingResult) -> tuple[pd.DataFrame, str]:
    """One row per beat (``time`` in seconds and the interval columns, ``heart_rate`` in
    bpm) of one lead, and its name: the fused delineation (``all``) when there is one, else
    the lead with the most QRS complexes."""
    table = result.intervals
    if table is None or table.empty:
        table = _measured(result.events)
    if table.empty:
        return table, ""
    counts = table["channel"].value_counts()
    lead = "all" if "all" in counts else str(counts.index[0])
    table = table[table["channel"] == lead].sort_values("time").reset_index(drop=True)
    table["heart_rate"] = 60_000.0 / table["rr_ms"]
    return table, lead


def _measured(events: pd.DataFrame) -> pd.DataFrame:
    """Beat intervals measured from ECG wave events, per channel."""
    frames = []
    for channel, rows in events.groupby("channel"):
        waves = [
            Wave(str(label), round(on * MS_PER_SAMPLE), None, round(off * MS_PER_SAMPLE) - 1)
            for label, on, off in zip(rows["label"], rows["onset"], rows["offset"], strict=True)
            if label in WAVE_KINDS
        ]
        found = pd.DataFrame(beat_intervals(waves, MS_PER_SAMPLE))
        if found.empty:
            continue
        found["time"] = found["qrs_onset"] / MS_PER_SAMPLE
        found["channel"] = str(channel)
        frames.append(found)
    if not frames:
        return pd.DataFrame(columns=["time", "channel", *(m for m, _ in MEASURES)])
    return pd.concat(frames, ignore_index=True)


def undelineated(
    result: RecordingResult, table: pd.DataFrame, lead: str
) -> list[tuple[float, float, str]]:
    """``(start, end, kind)`` in seconds of the stretches without delineation: the results'
    gaps (of ``lead``, or any lead for the fused delineation) and runs of :data:`NO_BEAT_S`
    or more without a QRS complex."""
    gaps = result.gaps
    if lead != "all":
        gaps = gaps[gaps["channel"].astype(str) == lead]
    stretches = [
        (float(a), float(b), "no signal")
        for a, b in zip(gaps["onset"], gaps["offset"], strict=True)
    ]
    times = table["time"].to_numpy(dtype=float)
    if times.size > 1:
        long = np.flatnonzero(np.diff(times) >= NO_BEAT_S)
        stretches += [(float(times[i]), float(times[i + 1]), "no beats") for i in long]
    return stretches


def _over_time(result: RecordingResult, context: ReportContext) -> Figure | None:
    table, lead = beats(result)
    if table.empty:
        return None
    unit, name = time_axis(context.duration_s)
    fig, axes = new_figure(len(MEASURES), 1, height=1.7, sharex=True)
    marks = undelineated(result, table, lead)
    for (column, label), ax in zip(MEASURES, axes[:, 0], strict=True):
        values = pd.to_numeric(table[column], errors="coerce")
        t = table["time"] / unit
        ax.plot(t, values, ".", markersize=1.5, color="#555555", alpha=0.5)
        window = max(5, len(values) // 200)
        ax.plot(
            t,
            values.rolling(window, center=True, min_periods=1).median(),
            color="#d62728",
            linewidth=1,
        )
        for start, end, kind in marks:
            ax.axvspan(
                start / unit,
                end / unit,
                color="#999999" if kind == "no signal" else "#ff7f0e",
                alpha=0.3,
                linewidth=0,
            )
        ax.set_ylabel(label, fontsize=8)
        finite = values[np.isfinite(values)]
        if len(finite):
            low, high = np.percentile(finite, [1, 99])
            pad = 0.1 * (high - low) + 1.0
            ax.set_ylim(low - pad, high + pad)
    axes[-1, 0].set_xlabel(
        f"time ({name}); grey: no signal, orange: no beat for {NO_BEAT_S:g} s or more"
    )
    axes[-1, 0].set_xlim(0, context.duration_s / unit)
    fig.suptitle(
        f"lead {lead}: beats (dots) and running median (line)", fontsize=9, x=0.01, ha="left"
    )
    return fig


def _distributions(result: RecordingResult, context: ReportContext) -> Figure | None:
    table, _ = beats(result)
    if table.empty:
        return None
    fig, axes = new_figure(1, len(MEASURES), height=2.6)
    for (column, label), ax in zip(MEASURES, axes[0], strict=True):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size:
            low, high = np.percentile(values, [0.5, 99.5])
            ax.hist(np.clip(values, low, high), bins=40, color="#1f77b4")
            ax.set_title(f"median {np.median(values):.0f}", fontsize=8)
        ax.set_xlabel(label, fontsize=8)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def _wave_counts(result: RecordingResult, context: ReportContext) -> Figure | None:
    events = result.events[result.events["label"].isin(WAVE_KINDS)]
    if events.empty:
        return None
    table = events.groupby(["channel", "label"]).size().unstack(fill_value=0)
    table = table.reindex(columns=[k for k in WAVE_KINDS if k in table.columns])
    fig, axes = new_figure(height=3.0)
    ax = axes[0, 0]
    x = np.arange(len(table.index))
    width = 0.8 / len(table.columns)
    for k, kind in enumerate(table.columns):
        ax.bar(x + k * width, table[kind], width=width, label=kind, color=WAVE_COLORS.get(kind))
    ax.set_xticks(x + 0.4 - width / 2, [str(c) for c in table.index])
    ax.set_xlabel("lead")
    ax.set_ylabel("waves")
    ax.legend(fontsize=8, ncol=3)
    return fig


FIGURES = (
    ReportFigure(
        "ecg_intervals_over_time", "Heart rate, PR, QRS, QT and QTc over time", _over_time
    ),
    ReportFigure("ecg_interval_distributions", "Distributions of the intervals", _distributions),
    ReportFigure("ecg_wave_counts", "P, QRS and T waves per lead", _wave_counts),
)
"""ECG delineation's report figures."""
