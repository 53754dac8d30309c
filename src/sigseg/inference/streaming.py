"""Decoding any task's probabilities block by block, with the events of a single pass.

A day at 500 Hz is 43 million samples: its probabilities (``K`` float32 rows) take hundreds of
MB, its events a few MB. :class:`EventStream` takes the blocks that
:func:`~sigseg.inference.predict.iter_predict_long` streams and decodes
(:func:`~sigseg.inference.decode.decode`) each stretch as soon as nothing later can change
its events, holding back only the samples after the last *safe cut*:

* ``segments``: the end of a background stretch (argmax, gaps counted as background) of at
  least the task's merge gap: no merge bridges it, and no run's length depends on what
  follows;
* ``events``: the end of a stretch of at least the peak distance where no foreground class
  is above the threshold: no peak lies there, and no later peak is close enough to compete
  with an earlier one;
* ``states`` tile the signal (no background), so nothing is safe: the stream holds every
  block and decodes at :meth:`EventStream.finish` (memory as one pass).

Should no safe cut come for ``max_hold`` samples (a recording that never rests), the held
samples are decoded anyway, and an event across that cut may differ from one pass.
Together, :meth:`EventStream.push` and :meth:`EventStream.finish` give exactly the events
of one pass otherwise (tested on random blocks).
"""

from __future__ import annotations

import math

import numpy as np

from sigseg.data.gaps import clear_of_gaps, cut_at_gaps
from sigseg.data.record import Wave
from sigseg.inference.decode import class_probabilities, decode
from sigseg.tasks import Task

_EPS = 1e-9


class EventStream:
    """:func:`~sigseg.inference.decode.decode` with gaps masked (as
    :func:`~sigseg.inference.segment.segment_source` decodes one item) over consecutive
    blocks ``(K, n)`` of one item's probabilities at ``fs`` Hz; waves in global samples."""

    def __init__(
        self, task: Task, fs: float, *, threshold: float = 0.5, max_hold: int = 1 << 22
    ) -> None:
        self.task, self.fs, self.threshold = task, float(fs), threshold
        self.max_hold = int(max_hold)
        if task.kind == "events":
            self._bridge = int(max(1.0, math.ceil(task.event_sigma_s * fs - _EPS)))
        else:
            self._bridge = max(1, math.ceil(task.merge_gap_s * fs - _EPS))
        self._probs: list[np.ndarray] = []
        self._gaps: list[np.ndarray] = []
        self._held = 0
        self._start = 0
        self._gap_before = False

    def push(self, probs: np.ndarray, gaps: np.ndarray | None = None) -> list[Wave]:
        """Add the next block (``gaps`` ``(n,)``: samples with no signal); return the
        events that are final."""
        p = class_probabilities(probs, self.task)
        mask = np.zeros(p.shape[-1], dtype=bool) if gaps is None else np.asarray(gaps, bool)
        self._probs.append(p)
        self._gaps.append(mask)
        self._held += p.shape[-1]
        if self.task.kind == "states":
            return []
        cut = self._safe_cut()
        if cut is None and self._held > self.max_hold:
            cut = self._held
        return self._emit(cut) if cut else []

    def finish(self) -> list[Wave]:
        """Decode what is held back."""
        return self._emit(self._held) if self._held else []

    def _joined(self) -> tuple[np.ndarray, np.ndarray]:
        if len(self._probs) > 1:
            self._probs = [np.concatenate(self._probs, axis=-1)]
            self._gaps = [np.concatenate(self._gaps)]
        return self._probs[0], self._gaps[0]

    def _safe_cut(self) -> int | None:
        """End of the last quiet stretch of at least ``_bridge`` samples (see the module)."""
        probs, gaps = self._joined()
        if self.task.kind == "events":
            quiet = (probs[1:] <= self.threshold).all(axis=0) | gaps
        else:
            quiet = (probs.argmax(axis=0) == 0) | gaps
        padded = np.concatenate(([False], quiet, [False])).astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        starts, ends = edges[0::2], edges[1::2]
        long = np.flatnonzero(ends - starts >= self._bridge)
        return int(ends[long[-1]]) if long.size else None

    def _emit(self, cut: int) -> list[Wave]:
        probs, gaps = self._joined()
        part, part_gaps = probs[:, :cut], gaps[:cut]
        self._probs, self._gaps = [probs[:, cut:]], [gaps[cut:]]
        self._held -= cut
        waves = self._decode(part, part_gaps)
        start, self._start = self._start, self._start + cut
        self._gap_before = bool(part_gaps[-1])
        return [
            Wave(
                w.kind,
                _shift(w.onset, start),
                _shift(w.peak, start),
                _shift(w.offset, start),
                score=w.score,
            )
            for w in waves
        ]

    def _decode(self, probs: np.ndarray, gaps: np.ndarray) -> list[Wave]:
        """As ``segment._decode_around``, with the gap before the part taken into account."""
        if not gaps.any() and not self._gap_before:
            return decode(probs, self.fs, self.task, threshold=self.threshold)
        if self.task.kind == "states":
            return cut_at_gaps(decode(probs, self.fs, self.task), gaps, probs, self.task.classes)
        masked = probs.copy()
        masked[:, gaps] = 0.0
        masked[0, gaps] = 1.0
        found = decode(masked, self.fs, self.task, threshold=self.threshold)
        return clear_of_gaps(found, gaps, 0, self._gap_before)


def _shift(x: int | None, by: int) -> int | None:
    return None if x is None else x + by
