"""Decoding probabilities that arrive block by block, with the waves of a single pass.

A day-long recording gives probabilities ``(K, L)`` too large to keep (24 h at 500 Hz: 690 MB
per lead in float32), but its waves are few. The decoders here take the blocks that
:func:`~sigseg.inference.predict.iter_predict_long` streams and give back finished waves as
soon as nothing later can change them, so memory is bounded by the block size:

* :class:`WaveStream` is :func:`~sigseg.tasks.ecg.waves.labels_to_waves` over blocks. It
  decodes the labels up to the end of the last stretch of background long enough that no gap
  merge can bridge it (``merge_gap_ms``), and holds back the rest until the next block: a
  wave, or two runs that merge, spanning a block boundary are decoded exactly as in one pass.
  The order check (``WaveOptions.check_order``) runs as a stream too (:class:`_OrderStream`).
* :class:`BeatStream` is :func:`~sigseg.tasks.ecg.waves.beat_intervals` over a stream of waves:
  a beat is final once the next QRS complex has arrived.

Both give exactly the one-pass result, for any block sizes (tested on random blocks).

    >>> import numpy as np
    >>> labels = np.array([0] * 10 + [2] * 20 + [0] * 20)
    >>> probs = np.eye(4, dtype=np.float32)[labels].T  # (K, L)
    >>> stream = WaveStream(fs=500.0)
    >>> stream.push(probs[:, :15]), stream.push(probs[:, 15:]), stream.finish()
    ([], [Wave(kind='QRS', onset=10, peak=10, offset=29, lead=None)], [])
"""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from sigseg.data.gaps import clear_of_gaps, fill_gaps
from sigseg.data.record import Wave
from sigseg.tasks.ecg import CLASSES
from sigseg.tasks.ecg.waves import (
    WaveOptions,
    _background_in,
    beat_intervals,
    decode_labels,
    probs_to_labels,
)

_QRS = CLASSES.index("QRS")


class WaveStream:
    """:func:`~sigseg.tasks.ecg.waves.probs_to_waves` for one lead whose probabilities arrive
    in consecutive blocks ``(K, n)``.

    :meth:`push` returns the waves that are final, :meth:`finish` the rest; together they
    equal ``probs_to_waves`` on the concatenated blocks (with the concatenated ``signal``
    blocks for peaks, if given). Indices are global: the first block starts at ``start``.

    ``length`` (the whole recording's, in samples) is needed only for
    ``options.check_order``, whose rules look at the recording's ends. Labels are held back
    until a stretch of background that no gap merge can bridge; should none come for
    ``max_hold`` samples (a recording with no background at all), the held labels are decoded
    anyway, and a merge across that cut could then differ from one pass.
    """

    def __init__(
        self,
        fs: float,
        options: WaveOptions | None = None,
        *,
        length: int | None = None,
        lead: int | None = None,
        start: int = 0,
        max_hold: int = 1 << 22,
    ) -> None:
        if not fs > 0:
            raise ValueError(f"sampling rate must be > 0, got {fs}")
        self.fs, self.lead = float(fs), lead
        self.options = options if options is not None else WaveOptions()
        self._decode = dataclasses.replace(self.options, check_order=False)
        gap = self.options.merge_gap_ms * self.fs / 1000.0
        # a background stretch of `_bridge` samples is a gap that never merges
        self._bridge = max(1, math.ceil(gap - 1e-9)) if self.options.merge_gap_ms > 0 else 1
        self.max_hold = int(max_hold)
        self._start = int(start)
        self._labels = np.zeros(0, dtype=np.int64)
        self._gaps = np.zeros(0, dtype=bool)
        self._gap_before = False  # whether the sample before the held labels is in a gap
        self._probs: np.ndarray | None = None
        self._signal: np.ndarray | None = None
        self._order: _OrderStream | None = None
        if self.options.check_order:
            if length is None:
                raise ValueError("check_order needs the recording's length (length=...)")
            self._order = _OrderStream(self.fs, int(length), self.options)

    @property
    def position(self) -> int:
        """Global index of the next sample to push."""
        return self._start + self._labels.size

    @property
    def settled(self) -> int:
        """Every wave given later (by :meth:`push` or :meth:`finish`) has its onset at or
        after this sample: the labels held back start here, and so do the waves the order
        check still holds."""
        if self._order is not None and self._order.pending:
            return min(self._start, self._order.pending[0][0].onset)
        return self._start

    def push(
        self, probs: np.ndarray, signal: np.ndarray | None = None, gaps: np.ndarray | None = None
    ) -> list[Wave]:
        """Add the next block: ``probs`` ``(K, n)`` and optionally the lead's ``signal``
        ``(n,)`` (then peaks come from the signal, as in ``probs_to_waves``). Give the signal
        with every block or with none. ``gaps`` ``(n,)`` marks the samples with no signal, as
        in ``probs_to_waves`` (``None``: none)."""
        probs = np.asarray(probs)
        if probs.ndim != 2 or probs.shape[0] < len(CLASSES):
            raise ValueError(f"probs must be (K >= {len(CLASSES)}, n), got {probs.shape}")
        if signal is not None:
            signal = np.asarray(signal)
            if signal.shape != (probs.shape[1],):
                raise ValueError(f"signal must be ({probs.shape[1]},), got {signal.shape}")
        if (signal is None) != (self._signal is None) and self._probs is not None:
            raise ValueError("give the signal with every block or with none")
        gaps = np.zeros(probs.shape[1], dtype=bool) if gaps is None else np.asarray(gaps, bool)
        if gaps.shape != (probs.shape[1],):
            raise ValueError(f"gaps must be ({probs.shape[1]},), got {gaps.shape}")
        if gaps.any():
            probs = _background_in(probs, gaps)
            if signal is not None:
                signal = fill_gaps(signal[None])[0]
        self._gaps = np.concatenate([self._gaps, gaps])
        self._labels = np.concatenate([self._labels, probs_to_labels(probs)])
        self._probs = probs if self._probs is None else np.concatenate([self._probs, probs], 1)
        if signal is not None:
            held = self._signal if self._signal is not None else signal[:0]
            self._signal = np.concatenate([held, signal])
        cut = self._safe_cut()
        if cut is None and self._labels.size > self.max_hold:
            cut = self._labels.size
        return [] if not cut else self._emit(cut, final=False)

    def finish(self) -> list[Wave]:
        """Decode what is held back; the stream is then empty (it may go on with new blocks
        as a new recording starting at :attr:`position`)."""
        waves = self._emit(self._labels.size, final=True)
        self._gap_before = False
        return waves

    def _safe_cut(self) -> int | None:
        """End of the last stretch of at least ``_bridge`` background samples: a merge gap
        never bridges it, so labels before it decode as they would in one pass."""
        background = self._labels == 0
        padded = np.concatenate(([False], background, [False])).astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        starts, ends = edges[0::2], edges[1::2]  # runs [start, end)
        long = np.flatnonzero(ends - starts >= self._bridge)
        return int(ends[long[-1]]) if long.size else None

    def _emit(self, cut: int, final: bool) -> list[Wave]:
        labels, probs = self._labels[:cut], self._probs
        signal = self._signal
        if probs is not None:
            probs, self._probs = probs[:, :cut], probs[:, cut:]
        if signal is not None:
            signal, self._signal = signal[:cut], signal[cut:]
        waves = decode_labels(
            labels,
            self.fs,
            self._decode,
            probs=probs,
            signal=signal,
            lead=self.lead,
            offset=self._start,
        )
        gaps, self._gaps = self._gaps[:cut], self._gaps[cut:]
        waves = clear_of_gaps(waves, gaps, self._start, self._gap_before)
        if cut:
            self._gap_before = bool(gaps[-1])
        self._labels = self._labels[cut:]
        start, self._start = self._start, self._start + cut
        if self._order is None:
            return waves
        strengths = [_strength(w, probs, start) for w in waves]
        return self._order.push(waves, strengths, self._start, final)


def _strength(w: Wave, probs: np.ndarray | None, start: int) -> float:
    """What the order check compares two close QRS complexes by (as ``waves._strength``)."""
    assert w.onset is not None and w.offset is not None
    if w.kind != "QRS":
        return 0.0
    if probs is not None:
        return float(probs[_QRS, w.onset - start : w.offset - start + 1].mean())
    return float(w.offset - w.onset + 1)


class _OrderStream:
    """``WaveOptions.check_order`` over waves that arrive in time order: each wave is kept or
    dropped as soon as the QRS complexes its rule looks at are final, and waves leave in
    their arrival order, as the one-pass check (``waves._check_order``) keeps them."""

    def __init__(self, fs: float, length: int, options: WaveOptions) -> None:
        self.ms, self.length, self.options = fs / 1000.0, length, options
        self.pending: deque[list[Any]] = deque()  # [wave, kept?] with None while undecided
        self.candidate: tuple[list[Any], float] | None = None  # last QRS kept so far
        self.onsets: list[int] = []  # kept QRS complexes, final, in time order
        self.offsets: list[int] = []

    def push(
        self, waves: Sequence[Wave], strengths: Sequence[float], known: int, final: bool
    ) -> list[Wave]:
        """Add waves (every later wave has its onset at or after ``known``); return those now
        decided and kept, in order."""
        for wave, strength in zip(waves, strengths, strict=True):
            entry = [wave, None]
            self.pending.append(entry)
            if wave.kind == "QRS":
                self._add_qrs(entry, strength)
        min_rr = self.options.min_rr_ms * self.ms
        if self.candidate is not None and (final or known - self.candidate[0][0].onset >= min_rr):
            self._keep(self.candidate[0])  # no later QRS is close enough to replace it
            self.candidate = None
        if final:
            horizon = math.inf
        else:
            horizon = known if self.candidate is None else self.candidate[0][0].onset
        return self._decide(horizon, known)

    def _add_qrs(self, entry: list[Any], strength: float) -> None:
        # the one-pass rule: a QRS closer than min_rr to the last kept one replaces it when
        # stronger, else it is dropped
        wave = entry[0]
        if self.candidate is not None:
            last, last_strength = self.candidate
            if wave.onset - last[0].onset < self.options.min_rr_ms * self.ms:
                if strength > last_strength:
                    last[1] = False
                    self.candidate = (entry, strength)
                else:
                    entry[1] = False
                return
            self._keep(last)
        self.candidate = (entry, strength)

    def _keep(self, entry: list[Any]) -> None:
        entry[1] = True
        self.onsets.append(entry[0].onset)
        self.offsets.append(entry[0].offset)

    def _decide(self, horizon: float, known: int) -> list[Wave]:
        """Decide P and T waves whose QRS partners are final (every QRS with an onset below
        ``horizon`` is), then release the decided waves at the front."""
        options, ms = self.options, self.ms
        for entry in self.pending:
            wave = entry[0]
            if entry[1] is not None or wave.kind == "QRS":
                continue
            if wave.kind == "P":
                limit = wave.offset + options.max_p_to_qrs_ms * ms
                if limit > self.length - 1:
                    entry[1] = True
                elif limit < horizon:
                    i = bisect_left(self.onsets, wave.offset)
                    entry[1] = i < len(self.onsets) and self.onsets[i] <= limit
            elif wave.kind == "T":
                limit = wave.onset - options.max_qrs_to_t_ms * ms
                if limit < 0:
                    entry[1] = True
                elif wave.onset < horizon:
                    j = bisect_right(self.offsets, wave.onset) - 1
                    entry[1] = j >= 0 and self.offsets[j] >= limit
            else:
                entry[1] = True
        out: list[Wave] = []
        while self.pending and self.pending[0][1] is not None:
            wave, kept = self.pending.popleft()
            if kept:
                out.append(wave)
        # drop the kept QRS complexes that no rule of a pending or later wave looks at
        first = self.pending[0][0].onset if self.pending else known
        drop = bisect_left(self.offsets, first - options.max_qrs_to_t_ms * ms)
        del self.onsets[:drop], self.offsets[:drop]
        return out


class BeatStream:
    """:func:`~sigseg.tasks.ecg.waves.beat_intervals` over waves that arrive in time order
    (as :class:`WaveStream` gives them): :meth:`push` returns the beats that are final (the
    next QRS complex has arrived), :meth:`finish` the rest. Together they equal
    ``beat_intervals`` on all the waves."""

    def __init__(self, fs: float) -> None:
        self.fs = float(fs)
        self._held: list[Wave] = []  # from the last QRS already reported (the anchor) on
        self._anchored = False

    def push(self, waves: Iterable[Wave]) -> list[dict[str, float | int | None]]:
        self._held.extend(waves)
        positions = [i for i, w in enumerate(self._held) if w.kind == "QRS"]
        if len(positions) < 2 + self._anchored:
            return []
        beats = self._beats()[:-1]  # the last QRS waits for its T wave and the next QRS
        self._held = self._held[positions[-2] :]  # the last beat reported is the new anchor
        self._anchored = True
        return beats

    def finish(self) -> list[dict[str, float | int | None]]:
        beats = self._beats()
        self._held, self._anchored = [], False
        return beats

    def _beats(self) -> list[dict[str, float | int | None]]:
        beats = beat_intervals(self._held, self.fs)
        return beats[1:] if self._anchored else beats
