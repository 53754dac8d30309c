"""No P wave where the rhythm has none: a P wave is kept only where the beats around it have
P waves too.

In atrial fibrillation and flutter the atria give no P waves (LUDB annotates none), but a
fibrillatory or flutter wave before a QRS complex now and then looks like one to a model. On
LUDB's train and validation records the default model reports 0.061 P waves per QRS complex
in AF or flutter and 0.966 in sinus rhythm, the AF ones mostly single waves scattered over a
few beats (3 of 2,448 RR intervals hold two). One beat cannot tell them apart; its neighbours
can.

The rule, for each P wave: take every beat (a QRS complex of any lead of the record) whose
onset lies within :data:`P_WINDOW_S` seconds of the P wave's onset, and the share of them
that have a P wave (one with its onset after the lead's previous QRS onset and before the
beat's). The P wave is dropped when that share is below :data:`MIN_P_SHARE`.
A P wave with no beat in reach is kept: nothing says the rhythm lacks P waves there.

:func:`gate_p_waves` applies the rule to a record's waves at once; :class:`PGate` to waves
that arrive in time order (:func:`~sigseg.tasks.ecg.delineate.iter_delineate`), with the
same result for any arrival blocks.

    >>> qrs = [Wave("QRS", s, s + 10, s + 40, 0) for s in range(100, 5000, 400)]
    >>> stray = Wave("P", 1630, 1650, 1670, 0)  # before one beat of the nine within 4 s
    >>> [w for w in gate_p_waves([*qrs, stray], fs=500.0) if w.kind == "P"]
    []
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from itertools import compress

import numpy as np

from sigseg.data.record import Wave

MIN_P_SHARE = 0.4
"""A P wave is dropped when fewer than this share of the beats around it (all leads pooled)
have a P wave. Measured with the default model on LUDB's train and validation records
(:data:`P_WINDOW_S` = 4 s): every P wave of a record with annotated P waves has a share of
0.71 or more (1 % below 0.78), while 80 % of the P waves in atrial fibrillation or flutter
have less than 0.5, and all those above 0.4 are in one record (101, whose model P waves
come before half the beats). Any threshold from 0.1 to 0.7 gives the records with P waves
the same P scores. 0.4 is the highest that keeps ventricular bigeminy's P waves with a
margin: there one beat in two has one, a share of 0.5 less the P waves the model misses."""

P_WINDOW_S = 4.0
"""Seconds either side of a P wave whose beats judge it: about five beats each way at
75 bpm, enough to average over a few stray P-like waves, short enough to follow a rhythm
that changes (paroxysmal AF). A streamed recording holds its waves back this long."""


def gate_p_waves(
    waves: Sequence[Wave],
    fs: float,
    min_share: float = MIN_P_SHARE,
    window_s: float = P_WINDOW_S,
) -> list[Wave]:
    """``waves`` without the P waves that too few of the beats around them share (module
    docstring). ``waves`` holds a record's waves of any leads (``Wave.lead``), each lead's in
    time order; the kept ones stay in their order."""
    half = _half_window(fs, min_share, window_s)
    beats, has_p = _beats(waves, {})
    order = np.argsort(beats, kind="stable")
    counts = _Counts(np.asarray(beats, float)[order], np.asarray(has_p, bool)[order])
    p_onsets = [_onset(w) for w in waves if w.kind == "P"]
    keep = iter(counts.keep(np.asarray(p_onsets, float), half, min_share).tolist())
    return [w for w in waves if w.kind != "P" or next(keep)]


class PGate:
    """:func:`gate_p_waves` over waves that arrive in blocks.

    :meth:`push` takes the next waves (each lead's in time order) and ``settled``: every wave
    pushed later has its onset at or after that sample. It returns the waves that are
    decided, each lead's in time order: a P wave is decided once every beat within
    ``window_s`` of it has arrived. :meth:`finish` returns the rest. Together they equal
    ``gate_p_waves`` on all the waves; memory holds the waves and beats of about two windows.
    """

    def __init__(
        self, fs: float, min_share: float = MIN_P_SHARE, window_s: float = P_WINDOW_S
    ) -> None:
        self.min_share = float(min_share)
        self._half = _half_window(fs, min_share, window_s)
        self._held: deque[list[Wave | bool | None]] = deque()  # [wave, keep or None]
        self._p_since: dict[int | None, bool] = {}  # per lead: a P since its last QRS
        self._beat_onsets: list[int] = []
        self._beat_has_p: list[bool] = []

    def push(self, waves: Iterable[Wave], settled: float) -> list[Wave]:
        waves = list(waves)
        onsets, has_p = _beats(waves, self._p_since)
        self._beat_onsets += onsets
        self._beat_has_p += has_p
        self._held.extend([w, None if w.kind == "P" else True] for w in waves)
        return self._release(settled)

    def finish(self) -> list[Wave]:
        """The held waves, all decided; the gate is then empty."""
        out = self._release(math.inf)
        self._p_since.clear()
        self._beat_onsets, self._beat_has_p = [], []
        return out

    def _release(self, settled: float) -> list[Wave]:
        pending = [e for e in self._held if e[1] is None]
        onsets = np.array([_onset(e[0]) for e in pending], float)  # type: ignore[arg-type]
        ready = onsets + self._half < settled  # every beat in reach has arrived
        if ready.any():
            beats = np.asarray(self._beat_onsets, float)
            order = np.argsort(beats, kind="stable")
            counts = _Counts(beats[order], np.asarray(self._beat_has_p, bool)[order])
            keep = counts.keep(onsets[ready], self._half, self.min_share).tolist()
            for entry, kept in zip(compress(pending, ready), keep, strict=True):
                entry[1] = kept
        out: list[Wave] = []
        while self._held and self._held[0][1] is not None:
            wave, kept = self._held.popleft()
            if kept:
                out.append(wave)  # type: ignore[arg-type]
        # beats that no held or later P wave reaches are let go
        waiting = onsets[~ready].min() if (~ready).any() else settled
        low = min(waiting, settled) - self._half
        if self._beat_onsets and low > -math.inf:
            kept_beats = [i for i, b in enumerate(self._beat_onsets) if b >= low]
            self._beat_onsets = [self._beat_onsets[i] for i in kept_beats]
            self._beat_has_p = [self._beat_has_p[i] for i in kept_beats]
        return out


class _Counts:
    """Beats sorted by onset with a running count of those with a P wave."""

    def __init__(self, onsets: np.ndarray, has_p: np.ndarray) -> None:
        self.onsets = onsets
        self.with_p = np.concatenate(([0], np.cumsum(has_p)))

    def keep(self, p_onsets: np.ndarray, half: float, min_share: float) -> np.ndarray:
        """Whether each P wave (by onset) is kept: the beats within ``half`` samples of it
        have P waves at ``min_share`` or more, or there are no such beats."""
        lo = np.searchsorted(self.onsets, p_onsets - half, side="left")
        hi = np.searchsorted(self.onsets, p_onsets + half, side="right")
        beats = hi - lo
        with_p = self.with_p[hi] - self.with_p[lo]
        return (beats == 0) | (with_p >= min_share * beats)


def _beats(waves: Iterable[Wave], p_since: dict[int | None, bool]) -> tuple[list[int], list[bool]]:
    """The onset of each QRS complex in ``waves`` and whether a P wave of its lead came since
    that lead's previous QRS complex; ``p_since`` carries that per lead from earlier waves
    and is updated."""
    onsets, has_p = [], []
    for w in waves:
        if w.kind == "P":
            p_since[w.lead] = True
        elif w.kind == "QRS":
            onsets.append(_onset(w))
            has_p.append(p_since.get(w.lead, False))
            p_since[w.lead] = False
    return onsets, has_p


def _onset(w: Wave) -> int:
    assert w.onset is not None, "decoded waves have an onset"
    return w.onset


def _half_window(fs: float, min_share: float, window_s: float) -> float:
    """The window's half width in samples, once the arguments are checked."""
    if not fs > 0:
        raise ValueError(f"sampling rate must be > 0, got {fs}")
    if not 0 <= min_share <= 1:
        raise ValueError(f"min_p_share must be in [0, 1], got {min_share}")
    if not window_s >= 0:
        raise ValueError(f"window_s must be >= 0, got {window_s}")
    return window_s * fs
