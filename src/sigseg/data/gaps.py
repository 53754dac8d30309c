"""Stretches of a recording with no signal in them, found block by block.

A sample is in a *gap* when it is not a finite number (kind ``missing``: a dropout the file
marks as missing, WFDB's "no value", NaN or Inf), or, when a ``flat_s`` is given, when its
lead holds exactly one value for at least ``flat_s`` seconds around it (kind ``flat``: a
lead-off that the amplifier reports as a flat line). Inference fills the gaps so the model
never sees NaN (:func:`fill_gaps`); the tasks mask their outputs there, drop the events a gap
cuts (:func:`clear_of_gaps`) and report the gaps (:class:`Gap`).

Gaps are found on blocks read with ``flat_s`` of context on each side (:class:`GapScanner`),
so the result is the same for any block sizes, and :class:`GapRuns` joins the blocks' gaps
into runs: a 24-hour recording is scanned in memory bounded by the block.

    >>> x = np.array([[0.1, 0.2, np.nan, np.nan, 0.3, 5.0, 5.0, 5.0, 5.0, 0.2]])
    >>> runs = GapRuns(1)
    >>> runs.push(gap_codes(x, flat_samples=4)) + runs.finish()
    [Gap(lead=0, kind='missing', onset=2, offset=3), Gap(lead=0, kind='flat', onset=5, offset=8)]
    >>> fill_gaps(x)[0, :5].round(3).tolist()
    [0.1, 0.2, 0.233, 0.267, 0.3]
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sigseg.data.record import Wave

USABLE, NAN, FLAT = 0, 1, 2
"""Gap codes of :func:`gap_codes`."""
GAP_KINDS: dict[int, str] = {NAN: "missing", FLAT: "flat"}
FILL_REACH_S = 2.0
"""Inference fills a NaN/Inf run of up to this many seconds by a straight line, and ramps a
longer one to 0 over half of it (:func:`fill_gaps`)."""


@dataclass(frozen=True)
class Gap:
    """Samples ``onset..offset`` (inclusive) of lead ``lead`` hold no signal: ``kind`` is
    ``missing`` (NaN/Inf samples) or ``flat`` (the lead stuck at one value)."""

    lead: int
    kind: str
    onset: int
    offset: int

    @property
    def num_samples(self) -> int:
        return self.offset - self.onset + 1


def flat_samples(flat_s: float | None, fs: float) -> int | None:
    """The shortest run of one value, in samples, that is a flat gap at ``fs`` Hz (``None``:
    flat stretches are signal). A run of ``n`` samples lasts ``n / fs`` s, as a wave does."""
    if flat_s is None:
        return None
    return max(2, math.ceil(flat_s * fs - 1e-9))


def gap_codes(x: np.ndarray, flat_samples: int | None = None) -> np.ndarray:
    """``(C, n)`` codes of a ``(C, n)`` block: :data:`USABLE`, :data:`NAN` for a non-finite
    sample, :data:`FLAT` for a sample in a run of at least ``flat_samples`` equal values
    (``None``: none is flat). Runs are seen within the block only: read it with context
    (:class:`GapScanner`) to judge the samples near its ends as the whole recording would."""
    x = np.asarray(x)
    finite = np.isfinite(x)
    codes = np.where(finite, USABLE, NAN).astype(np.uint8)
    if flat_samples is None or x.shape[-1] < flat_samples:
        return codes
    same = (x[:, 1:] == x[:, :-1]) & finite[:, 1:]  # a run of Inf is missing, not flat
    for lead, row in enumerate(same):
        padded = np.concatenate(([False], row, [False])).astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        starts, stops = edges[0::2], edges[1::2]  # pairs [start, stop): samples start..stop
        long = stops - starts + 1 >= flat_samples
        for a, b in zip(starts[long].tolist(), stops[long].tolist(), strict=True):
            codes[lead, a : b + 1] = FLAT
    return codes


def fill_gaps(x: np.ndarray, reach: int | None = None) -> np.ndarray:
    """``x`` ``(C, n)`` with every non-finite sample replaced, so that a model reads a gap as
    a calm stretch: a run of at most ``reach`` samples by the straight line between the finite
    samples around it; a longer run (or one at an end of ``x``) by a ramp from each neighbour's
    value down to 0 over ``reach // 2`` samples, and 0 between. ``x`` itself is returned when
    all is finite. ``reach=None``: every run between two finite samples is interpolated, and
    a run at an end of ``x`` holds its neighbour's value.

    Each filled value depends on the samples within ``reach`` of it only, so a block read
    with ``reach`` samples of context on each side is filled exactly as the whole recording
    would be: chunked inference sees the same signal whatever the chunks.

        >>> fill_gaps(np.array([[1.0, np.nan, np.nan, 4.0, np.nan]])).tolist()
        [[1.0, 2.0, 3.0, 4.0, 4.0]]
        >>> fill_gaps(np.array([[8.0] + [np.nan] * 6 + [4.0]]), reach=4).tolist()
        [[8.0, 4.0, 0.0, 0.0, 0.0, 0.0, 2.0, 4.0]]
    """
    x = np.asarray(x)
    bad = ~np.isfinite(x)
    if not bad.any():
        return x
    out = np.array(x, dtype=np.result_type(x.dtype, np.float32))
    n = x.shape[-1]
    index = np.arange(n)
    limit = n if reach is None else int(reach)
    ramp = math.inf if reach is None else max(1, limit // 2)
    for lead in np.flatnonzero(bad.any(axis=-1)).tolist():
        good = ~bad[lead]
        prev = np.maximum.accumulate(np.where(good, index, -1))  # last finite at or before
        after = np.minimum.accumulate(np.where(good, index, n)[::-1])[::-1]  # first at/after
        holes = np.flatnonzero(bad[lead])
        left, right = prev[holes], after[holes]
        has_left, has_right = left >= 0, right < n
        row = out[lead]
        left_value = np.where(has_left, row[np.clip(left, 0, n - 1)], 0.0)
        right_value = np.where(has_right, row[np.clip(right, 0, n - 1)], 0.0)
        short = has_left & has_right & (right - left - 1 <= limit)
        span = np.maximum(right - left, 1)
        line = left_value + (right_value - left_value) * (holes - left) / span
        fade = left_value * np.clip(1 - (holes - left) / ramp, 0, 1) * has_left
        fade += right_value * np.clip(1 - (right - holes) / ramp, 0, 1) * has_right
        row[holes] = np.where(short, line, fade)
    return out


class GapScanner:
    """Reads blocks of a source (a reader or :class:`~sigseg.inference.sources.SignalSource`:
    ``fs``, ``num_samples`` and ``read(start, stop)``) with their gap codes; :meth:`read` reads
    ``flat_s`` of context on each side, so a block's codes are the whole recording's."""

    def __init__(self, source: Any, flat_s: float | None = None) -> None:
        self.source = source
        self.flat = flat_samples(flat_s, float(source.fs))
        self.context = 0 if self.flat is None else self.flat - 1

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Samples ``[start, stop)`` ``(C, n)`` as read (NaN included) and their codes."""
        a = max(0, start - self.context)
        b = min(int(self.source.num_samples), stop + self.context)
        x = np.asarray(self.source.read(a, b), dtype=np.float32)
        return x[:, start - a : stop - a], gap_codes(x, self.flat)[:, start - a : stop - a]


class GapRuns:
    """:class:`Gap` s from code blocks ``(C, n)`` that arrive in order: :meth:`push` returns
    the gaps that ended, :meth:`finish` those still open; together, every maximal run of one
    gap code, per lead in time order. ``usable`` counts each lead's usable samples."""

    def __init__(self, channels: int, start: int = 0) -> None:
        self.position = int(start)
        self.usable = np.zeros(channels, dtype=np.int64)
        self._open: list[tuple[int, int] | None] = [None] * channels  # (code, onset)

    def push(self, codes: np.ndarray) -> list[Gap]:
        codes = np.asarray(codes)
        n = codes.shape[-1]
        if n == 0:
            return []
        self.usable += (codes == USABLE).sum(axis=-1)
        out: list[Gap] = []
        for lead, row in enumerate(codes):
            edges = np.flatnonzero(np.diff(row)) + 1
            starts = np.concatenate(([0], edges))
            ends = np.concatenate((edges, [n])) - 1
            kinds = row[starts]
            gap = kinds != USABLE
            runs = list(
                zip(starts[gap].tolist(), ends[gap].tolist(), kinds[gap].tolist(), strict=True)
            )
            opened = self._open[lead]
            if opened is not None:
                if runs and runs[0][0] == 0 and runs[0][2] == opened[0]:
                    runs[0] = (opened[1] - self.position, runs[0][1], runs[0][2])
                else:
                    out.append(Gap(lead, GAP_KINDS[opened[0]], opened[1], self.position - 1))
            self._open[lead] = None
            if runs and runs[-1][1] == n - 1:  # may go on in the next block
                a, _, kind = runs.pop()
                self._open[lead] = (kind, self.position + a)
            out += [
                Gap(lead, GAP_KINDS[k], self.position + a, self.position + b) for a, b, k in runs
            ]
        self.position += n
        return out

    def finish(self) -> list[Gap]:
        out = [
            Gap(lead, GAP_KINDS[opened[0]], opened[1], self.position - 1)
            for lead, opened in enumerate(self._open)
            if opened is not None
        ]
        self._open = [None] * len(self._open)
        return out


def check_usable(usable: np.ndarray, channels: Sequence[str] | None = None) -> None:
    """Refuse (one line) a recording in which no channel has a usable sample, and warn about
    each channel without one (it gets no events); ``usable`` counts them per channel."""
    names = list(channels) if channels else [f"ch{i}" for i in range(len(usable))]
    dead = [names[i] for i in np.flatnonzero(np.asarray(usable) == 0).tolist()]
    if len(dead) == len(usable):
        raise ValueError("no usable signal: every channel is NaN/Inf or one value throughout")
    if dead:
        warnings.warn(
            f"channel(s) {', '.join(dead)} hold no usable signal (NaN/Inf or one value "
            "throughout): nothing is found there",
            UserWarning,
            stacklevel=3,
        )


def clear_of_gaps(
    waves: Sequence[Wave], gaps: np.ndarray, offset: int = 0, gap_before: bool = False
) -> list[Wave]:
    """The ``waves`` that neither cover nor touch a gap sample. ``gaps`` ``(n,)`` marks
    samples ``offset..offset + n - 1``; ``gap_before`` says whether sample ``offset - 1`` is
    one. A wave next to a gap may be cut by it (its true boundary can lie in the gap), so it
    is dropped too: what is left has both boundaries in the signal.

        >>> gaps = np.array([0, 0, 0, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
        >>> waves = [Wave("P", 0, 1, 1), Wave("T", 1, 1, 2), Wave("QRS", 6, 7, 8)]
        >>> [w.kind for w in clear_of_gaps(waves, gaps)]
        ['P', 'QRS']
    """
    gaps = np.asarray(gaps, dtype=bool)
    if not gaps.any() and not gap_before:
        return list(waves)
    count = np.concatenate(([0], np.cumsum(gaps)))
    kept = []
    for w in waves:
        first = w.onset if w.onset is not None else w.peak
        last = w.offset if w.offset is not None else w.peak
        if first is None or last is None:
            kept.append(w)
            continue
        lo, hi = first - offset - 1, last - offset + 1  # the wave and one sample either side
        if lo < 0 and gap_before:
            continue
        lo, hi = max(lo, 0), min(hi, gaps.size - 1)
        if hi < lo or count[hi + 1] == count[lo]:
            kept.append(w)
    return kept


def cut_at_gaps(
    waves: Sequence[Wave], gaps: np.ndarray, probs: np.ndarray, classes: Sequence[str]
) -> list[Wave]:
    """Intervals that tile a signal (``states``) with the gap samples taken out: each part of
    a wave between gaps stays, with its peak and score (mean probability) taken again from
    ``probs`` ``(K, n)`` over the part; ``classes`` names the rows of ``probs``.

        >>> probs = np.array([[0.9, 0.8, 0.7, 0.6, 0.2], [0.1, 0.2, 0.3, 0.4, 0.8]])
        >>> gaps = np.array([0, 0, 1, 0, 0], dtype=bool)
        >>> waves = [Wave("a", 0, 0, 3, score=0.75), Wave("b", 4, 4, 4, score=0.8)]
        >>> [(w.kind, w.onset, w.offset) for w in cut_at_gaps(waves, gaps, probs, "ab")]
        [('a', 0, 1), ('a', 3, 3), ('b', 4, 4)]
    """
    gaps = np.asarray(gaps, dtype=bool)
    if not gaps.any():
        return list(waves)
    out = []
    for w in waves:
        if w.onset is None or w.offset is None:
            continue
        inside = ~gaps[w.onset : w.offset + 1]
        padded = np.concatenate(([False], inside, [False])).astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        row = probs[list(classes).index(w.kind)]
        for a, b in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
            onset, offset = w.onset + a, w.onset + b - 1
            part = row[onset : offset + 1]
            peak = onset + int(np.argmax(part))
            out.append(replace(w, onset=onset, peak=peak, offset=offset, score=float(part.mean())))
    return out
