"""Figures of a segmentation for any task: the signal's channels stacked, with each event
drawn in its class's colour (spans for intervals, marks for points) and a legend of the
task's classes. Plotting only: nothing here computes a result."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sigseg.atomic import atomic_path
from sigseg.tasks import Task


def class_colors(task: Task) -> dict[str, tuple[float, float, float, float]]:
    """One distinct colour per foreground class, stable for a task (tab10, else tab20, else
    a sampled rainbow for very large label sets)."""
    from matplotlib import colormaps

    names = task.foreground
    cmap = colormaps["tab10" if len(names) <= 10 else "tab20" if len(names) <= 20 else "turbo"]
    if len(names) > 20:
        return {c: cmap(i / max(len(names) - 1, 1)) for i, c in enumerate(names)}
    return {c: cmap(i) for i, c in enumerate(names)}


def plot_segmentation(
    signal: np.ndarray,
    fs: float,
    events: pd.DataFrame,
    task: Task,
    path: str | os.PathLike[str],
    *,
    channels: Sequence[str] | None = None,
    title: str = "",
) -> None:
    """Write a PNG of ``signal`` ``(C, n)`` (the first ``n`` samples of a recording) with the
    ``events`` (a table with ``onset``, ``duration``, ``label`` in seconds) that fall in it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    signal = np.atleast_2d(np.asarray(signal, dtype=np.float32))
    n_channels, n = signal.shape
    names = list(channels) if channels is not None else [f"ch{i}" for i in range(n_channels)]
    t = np.arange(n) / fs
    colors = class_colors(task)
    fig, axes = plt.subplots(
        n_channels,
        1,
        sharex=True,
        squeeze=False,
        figsize=(12, 1.0 + 1.3 * n_channels),
        layout="constrained",
    )
    shown = events[events["onset"] < n / fs] if len(events) else events
    for row, ax in enumerate(axes[:, 0]):
        ax.plot(t, signal[row], color="black", linewidth=0.7)
        ax.set_ylabel(names[row], rotation=0, ha="right")
        for event in shown.itertuples(index=False):
            if getattr(event, "channel", "all") not in ("all", names[row]):
                continue  # found on another channel (a single-channel model run on each)
            color = colors.get(str(event.label), (0.5, 0.5, 0.5, 1.0))
            if float(event.duration) > 0:
                ax.axvspan(event.onset, event.onset + event.duration, color=color, alpha=0.3, lw=0)
            else:
                ax.axvline(event.onset, color=color, linewidth=1.2)
    axes[-1, 0].set_xlabel("time (s)")
    handles = [Patch(color=colors[c], label=c, alpha=0.6) for c in task.foreground]
    fig.legend(handles=handles, loc="outside upper right", ncol=min(len(handles), 8))
    if title:
        fig.suptitle(title, x=0.01, ha="left")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
