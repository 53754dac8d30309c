"""Level of detail: what of a recording to draw for a time window, in a fixed number of points
whatever the recording's length.

A window short enough (:data:`RAW_LIMIT` samples) is read from the file as it is and thinned
by tsdownsample's MinMaxLTTB to about two points per pixel (every sample when there are fewer).
A longer one is drawn from an :class:`Overview`: each channel's minimum and maximum over
:data:`OVERVIEW_BINS` equal bins of the whole recording, built once in one pass, block by block
(a 24-hour recording at 250 Hz: about a second), and held in memory of a fixed size (2 x 4
bytes x bins per channel), so the server's memory does not grow with the recording. The
overview is built in the background: :meth:`Overview.build` reports its progress, and a window
drawn from it shows what is built so far.
"""

from __future__ import annotations

import math
import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sigseg.data.readers import SignalReader

RAW_LIMIT = 1 << 19
"""Windows of at most this many samples are read from the file (about 20 ms for 2 channels)."""
OVERVIEW_BINS = 1 << 16
"""Bins of the min/max overview per channel."""
BLOCK = 1 << 21
"""Samples read at a time while the overview is built."""


@dataclass(frozen=True)
class Trace:
    """Points to draw for one window: ``x`` (seconds, shared by every channel) and ``y``
    ``(C, n)``; ``raw`` says whether they are samples (dots can be drawn) or an envelope."""

    x: np.ndarray
    y: np.ndarray
    raw: bool


class Overview:
    """Per-channel min/max over equal bins of a recording (see the module docstring). Reads go
    through ``lock``, shared with every other reader of the same file."""

    def __init__(self, reader: SignalReader, lock: threading.Lock) -> None:
        self.reader = reader
        self.lock = lock
        n = int(reader.num_samples)
        channels = len(reader.channels)
        self.bin = max(1, math.ceil(n / OVERVIEW_BINS))
        self.bins = math.ceil(n / self.bin)
        self.low = np.full((channels, self.bins), np.nan, dtype=np.float32)
        self.high = np.full((channels, self.bins), np.nan, dtype=np.float32)
        self.built = 0  # bins filled so far, from the start
        self.error: str | None = None

    @property
    def done(self) -> bool:
        return self.built >= self.bins or self.error is not None

    @property
    def progress(self) -> float:
        return self.built / self.bins

    def build(self) -> None:
        """Fill the bins in one pass over the file (call it in a background thread)."""
        n = int(self.reader.num_samples)
        step = max(self.bin, BLOCK // self.bin * self.bin)
        try:
            for start in range(0, n, step):
                stop = min(n, start + step)
                with self.lock:
                    x = self.reader.read(start, stop)
                first = start // self.bin
                count = math.ceil((stop - start) / self.bin)
                pad = count * self.bin - x.shape[1]
                if pad:  # the last bin is short: pad with its own last value
                    x = np.concatenate([x, np.repeat(x[:, -1:], pad, axis=1)], axis=1)
                blocks = x.reshape(x.shape[0], count, self.bin)
                with warnings.catch_warnings():  # an all-NaN bin (a gap) stays NaN
                    warnings.simplefilter("ignore", RuntimeWarning)
                    self.low[:, first : first + count] = np.nanmin(blocks, axis=2)
                    self.high[:, first : first + count] = np.nanmax(blocks, axis=2)
                self.built = first + count
        except (ValueError, OSError) as exc:
            self.error = str(exc)

    def envelope(self, start: int, stop: int, points: int) -> Trace:
        """Min/max of samples ``start:stop`` in about ``points`` x positions (two values
        each), from the bins built so far (NaN where not yet built)."""
        first, last = start // self.bin, min(self.bins, math.ceil(stop / self.bin))
        low, high = self.low[:, first:last], self.high[:, first:last]
        group = max(1, math.ceil((last - first) / max(1, points)))
        count = math.ceil((last - first) / group)
        pad = count * group - (last - first)
        if pad:
            fill = np.full((low.shape[0], pad), np.nan, dtype=np.float32)
            low, high = np.concatenate([low, fill], 1), np.concatenate([high, fill], 1)
        with warnings.catch_warnings():  # an all-NaN group (not built yet) stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            low = np.nanmin(low.reshape(low.shape[0], count, group), axis=2)
            high = np.nanmax(high.reshape(high.shape[0], count, group), axis=2)
        fs = float(self.reader.fs)
        centre = (first + (np.arange(count) + 0.5) * group) * self.bin / fs
        x = np.repeat(centre, 2)
        y = np.stack([low, high], axis=2).reshape(low.shape[0], 2 * count)
        return Trace(x, y, raw=False)


def window_trace(
    reader: SignalReader,
    lock: threading.Lock,
    overview: Overview,
    t0: float,
    t1: float,
    points: int,
) -> Trace:
    """The points to draw for the window ``t0..t1`` seconds in about ``points`` pixels."""
    fs = float(reader.fs)
    n = int(reader.num_samples)
    start = max(0, math.floor(t0 * fs) - 1)
    stop = min(n, math.ceil(t1 * fs) + 2)
    if stop <= start:
        return Trace(np.zeros(0), np.zeros((len(reader.channels), 0)), raw=True)
    if stop - start > RAW_LIMIT:
        return overview.envelope(start, stop, points)
    with lock:
        y = reader.read(start, stop)
    x = (start + np.arange(stop - start)) / fs
    keep = 2 * points
    if y.shape[1] <= keep:
        return Trace(x, y, raw=True)
    return Trace(*_thinned(x, y, keep), raw=False)


def _thinned(x: np.ndarray, y: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """``points`` of each channel chosen by MinMaxLTTB, on one shared x axis (the union of
    each channel's picks, so peaks of every channel survive)."""
    from tsdownsample import MinMaxLTTBDownsampler

    picker = MinMaxLTTBDownsampler()
    picks = [picker.downsample(np.nan_to_num(row), n_out=points) for row in y]
    index = np.unique(np.concatenate(picks))
    return x[index], y[:, index]
