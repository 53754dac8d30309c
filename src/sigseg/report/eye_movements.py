"""The eye-movement report's figures: counts and durations per class (fixation, saccade,
smooth pursuit...) and the saccade main sequence, each saccade's amplitude against its peak
velocity, measured on the gaze signal (its ``x`` and ``y`` channels, else its first two).

There is no eye-movement task module yet, so these declarations live here; they apply to
any results with a class whose name contains ``sacc``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sigseg.report.declare import ReportContext, ReportFigure, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sigseg.results import RecordingResult


def applies(labels: set[str]) -> bool:
    return any(_is_saccade(label) for label in labels)


def _is_saccade(label: str) -> bool:
    return "sacc" in label.lower()


def _per_class(result: RecordingResult, context: ReportContext) -> Figure | None:
    events = result.events
    if events.empty:
        return None
    labels = result.labels
    fig, axes = new_figure(1, 2, height=3.0)
    counts = [int((events["label"] == c).sum()) for c in labels]
    axes[0, 0].bar(labels, counts, color="#1f77b4")
    axes[0, 0].set_ylabel("events")
    minutes = context.duration_s / 60.0
    axes[0, 0].set_title(f"{sum(counts) / max(minutes, 1e-9):.0f} events per minute", fontsize=8)
    durations = [
        1000.0
        * (
            events.loc[events["label"] == c, "offset"] - events.loc[events["label"] == c, "onset"]
        ).to_numpy()
        for c in labels
    ]
    axes[0, 1].boxplot(durations, showfliers=False)
    axes[0, 1].set_xticks(range(1, len(labels) + 1), labels)
    axes[0, 1].set_ylabel("duration (ms)")
    for ax in axes[0]:
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    return fig


def main_sequence(
    x: np.ndarray, y: np.ndarray, fs: float, spans: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude (distance from a saccade's first to its last sample) and peak velocity
    (the largest sample-to-sample speed inside it, units per second) of each of ``spans``
    (sample ``start:stop``) of the gaze ``x``, ``y``.

    >>> t = np.arange(10.0)
    >>> amplitude, velocity = main_sequence(t, 0 * t, 10.0, [(2, 6)])
    >>> amplitude.tolist(), velocity.tolist()
    [[3.0], [10.0]]
    """
    amplitude, velocity = [], []
    for start, stop in spans:
        if stop - start < 2:
            continue
        gx, gy = x[start:stop], y[start:stop]
        amplitude.append(float(np.hypot(gx[-1] - gx[0], gy[-1] - gy[0])))
        velocity.append(float(np.nanmax(np.hypot(np.diff(gx), np.diff(gy))) * fs))
    return np.asarray(amplitude), np.asarray(velocity)


def _main_sequence(result: RecordingResult, context: ReportContext) -> Figure | None:
    if context.signal_path is None:
        return None
    from sigseg.data.readers import open_signal

    saccades = result.events[result.events["label"].map(_is_saccade)]
    if saccades.empty:
        return None
    with open_signal(context.signal_path, fs=context.fs, allow_gaps=True) as reader:
        names = [c.lower() for c in reader.channels]
        if len(names) < 2:
            return None
        ix = names.index("x") if "x" in names else 0
        iy = names.index("y") if "y" in names else 1
        signal = reader.read()
        fs = reader.fs
    spans = [
        (round(on * fs), round(off * fs))
        for on, off in zip(saccades["onset"], saccades["offset"], strict=True)
    ]
    amplitude, velocity = main_sequence(signal[ix], signal[iy], fs, spans)
    keep = (amplitude > 0) & (velocity > 0)
    if not keep.any():
        return None
    fig, axes = new_figure(height=3.6)
    ax = axes[0, 0]
    ax.loglog(amplitude[keep], velocity[keep], ".", markersize=3, alpha=0.6)
    ax.set_xlabel("amplitude (signal units)")
    ax.set_ylabel("peak velocity (units/s)")
    ax.set_title(
        f"{int(keep.sum())} saccades on channels {reader.channels[ix]}, {reader.channels[iy]}",
        fontsize=8,
    )
    return fig


FIGURES = (
    ReportFigure("eye_per_class", "Eye-movement counts and durations per class", _per_class),
    ReportFigure(
        "saccade_main_sequence", "Saccade main sequence: amplitude vs peak velocity", _main_sequence
    ),
)
