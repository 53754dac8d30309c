"""Labelled recordings of any task, generated as a user would bring them: WAV files with
BIDS-style ``_events.tsv`` sidecars.

Each class has a signature a small network can learn in a few epochs: a level and a tone
(5, 15, 25 or 35 Hz) on the first channel (segments and states), or a pulse of one sign
(point events); the second channel carries noise only, so a model must read the right
channel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import soundfile

FS = 100.0
SECONDS = 12.0


def class_names(n: int) -> list[str]:
    """``n`` distinct class names, as a user's label file might have them."""
    return [f"class_{chr(ord('a') + i)}" for i in range(n)]


def _segments(rng: np.random.Generator, classes: list[str], tile: bool) -> pd.DataFrame:
    """Intervals of random classes: tiling the recording (states) or with gaps between."""
    rows, t = [], 0.0 if tile else float(rng.uniform(0.3, 1.0))
    while t < SECONDS - 0.5:
        duration = float(rng.uniform(0.6, 1.6))
        duration = min(duration, SECONDS - t)
        rows.append({"onset": t, "duration": duration, "trial_type": str(rng.choice(classes))})
        t += duration + (0.0 if tile else float(rng.uniform(0.4, 1.2)))
    return pd.DataFrame(rows)


def _points(rng: np.random.Generator, classes: list[str]) -> pd.DataFrame:
    times = np.arange(0.5, SECONDS - 0.5, 0.9) + rng.uniform(-0.2, 0.2, 1)
    labels = rng.choice(classes, size=len(times))
    return pd.DataFrame({"onset": times, "duration": 0.0, "trial_type": labels})


def _render(events: pd.DataFrame, classes: list[str], rng: np.random.Generator) -> np.ndarray:
    """Two channels: class signatures on the first, noise on both."""
    n = round(SECONDS * FS)
    t = np.arange(n) / FS
    x = rng.normal(0.0, 0.15, (2, n))
    for row in events.itertuples(index=False):
        k = classes.index(row.trial_type) + 1
        a = round(row.onset * FS)
        if row.duration == 0:
            sign = 1.0 if k % 2 else -1.0
            x[0] += sign * (1.0 + 0.5 * (k // 2)) * np.exp(-0.5 * ((np.arange(n) - a) / 2.0) ** 2)
            continue
        b = min(n, round((row.onset + row.duration) * FS))
        x[0, a:b] += 0.8 * k + np.sin(2 * np.pi * (5.0 + 10.0 * ((k - 1) % 4)) * t[a:b])
    return x.astype(np.float32)


def write_folder(
    root: Path,
    kind: str,
    n_classes: int,
    recordings: int = 16,
    seed: int = 0,
) -> Path:
    """A folder of ``recordings`` two-channel WAV files at 100 Hz with ``_events.tsv``
    sidecars: intervals with gaps (``segments``), tiling intervals (``states``) or points
    (``events``) of ``n_classes`` classes."""
    root.mkdir(parents=True, exist_ok=True)
    classes = class_names(n_classes)
    for i in range(recordings):
        rng = np.random.default_rng([seed, i])
        if kind == "events":
            events = _points(rng, classes)
        else:
            events = _segments(rng, classes, tile=kind == "states")
        signal = _render(events, classes, rng)
        stem = f"sub-{i % 8:02d}_run-{i // 8}"
        soundfile.write(root / f"{stem}.wav", signal.T, int(FS), subtype="FLOAT")
        events.to_csv(root / f"{stem}_events.tsv", sep="\t", index=False, float_format="%.3f")
    return root


TINY_MODEL = [
    *("--model", "dilated", "-m", "widths=[16, 16, 16, 16]", "-m", "dilations=[1, 2, 4, 8]")
]
"""A dilated network of a few thousand weights: trains in seconds."""
