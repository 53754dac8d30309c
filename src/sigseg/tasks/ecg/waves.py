"""From per-sample class probabilities to waves, and from waves to clinical intervals.

A model gives probabilities ``(K, L)`` over :data:`~sigseg.tasks.ecg.CLASSES`; a clinician
(and the boundary metrics) want waves with an onset, a peak and an offset. The steps, each a
small pure function:

1. :func:`fuse_leads` (optional): one ``(K, L)`` from the ``(C, K, L)`` of a record's leads.
2. :func:`probs_to_labels`: argmax per sample.
3. :func:`labels_to_waves`: runs of P, QRS, T labels become :class:`~sigseg.data.record.Wave`
   objects, cleaned up as :class:`WaveOptions` says (merge split waves, drop blips, optionally
   check physiological order) and given a peak.
4. :func:`beat_intervals`: PR, QRS, QT, RR, QTc per beat.

:func:`waves_to_labels` is the inverse of step 3, for metrics and for painting annotations.

    >>> import numpy as np
    >>> labels = np.array([0] * 10 + [2] * 20 + [0] * 10)
    >>> labels_to_waves(labels, fs=500)
    [Wave(kind='QRS', onset=10, peak=19, offset=29, lead=None)]
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np

from sigseg.data.gaps import clear_of_gaps, fill_gaps
from sigseg.data.record import IGNORE_INDEX, Wave
from sigseg.tasks.ecg import CLASSES, WAVE_KINDS

FUSION_METHODS: tuple[str, ...] = ("mean", "median")

_LABEL = {kind: CLASSES.index(kind) for kind in WAVE_KINDS}
_MERGE_ORDER = ("QRS", "P", "T")  # QRS is the most reliable wave: its gaps are filled first


@dataclass(frozen=True)
class WaveOptions:
    """How :func:`labels_to_waves` cleans up label runs. Durations are in ms, so one set of
    options works at any sampling rate.

    * ``min_p_ms``, ``min_qrs_ms``, ``min_t_ms``: a run shorter than this is dropped (its
      samples belong to no wave). A run of ``n`` samples lasts ``n * 1000 / fs`` ms. The
      defaults are far below physiological durations (P >= 60, QRS >= 50, T >= 100 ms in
      practice) so they only remove argmax flicker.
    * ``merge_gap_ms``: two runs of the same kind separated by a gap shorter than this become
      one wave (the gap is relabelled), e.g. a QRS split by one sample of background. Two real
      waves of one kind are never that close. ``0`` disables merging. Gaps containing
      ``IGNORE_INDEX`` samples are never filled. Merging happens before dropping, so the pieces
      of a split wave count together.
    * ``check_order``: drop waves that cannot be physiological, with three simple rules
      applied in this order: (1) two QRS whose onsets are closer than ``min_rr_ms`` (a
      refractory period) keep only the stronger one (higher mean probability when probabilities
      are given, else longer; ties keep the earlier); (2) a P whose offset is not followed by a
      QRS onset within ``max_p_to_qrs_ms`` is dropped; (3) a T whose onset is not preceded by
      a QRS offset within ``max_qrs_to_t_ms`` is dropped. Rules (2) and (3) keep waves whose
      search window runs past the end (start) of the signal, since the partner may lie
      outside it. Off by default: rule (2) also drops the non-conducted P waves of AV block.
    """

    min_p_ms: float = 20.0
    min_qrs_ms: float = 20.0
    min_t_ms: float = 40.0
    merge_gap_ms: float = 20.0
    check_order: bool = False
    min_rr_ms: float = 200.0
    max_p_to_qrs_ms: float = 400.0
    max_qrs_to_t_ms: float = 400.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, bool) and not value >= 0:
                raise ValueError(f"WaveOptions.{f.name} must be >= 0, got {value}")

    @classmethod
    def plain(cls, min_ms: float = 0.0) -> WaveOptions:
        """Plain argmax decoding: no merging, no order check, one minimum duration for all
        kinds. ``WaveOptions.plain(16)`` at 250 Hz drops runs shorter than 4 samples, the
        decoding of the learned-model floor in ``BENCHMARK.md``."""
        return cls(min_p_ms=min_ms, min_qrs_ms=min_ms, min_t_ms=min_ms, merge_gap_ms=0.0)

    def min_duration_ms(self, kind: str) -> float:
        """Minimum duration of a wave of ``kind`` (``"P"``, ``"QRS"`` or ``"T"``)."""
        return {"P": self.min_p_ms, "QRS": self.min_qrs_ms, "T": self.min_t_ms}[kind]


def probs_to_labels(probs: np.ndarray) -> np.ndarray:
    """Class index of the highest probability (or logit) per sample: ``(..., K, L) -> (..., L)``.

    >>> probs_to_labels(np.array([[0.9, 0.2, 0.1], [0.1, 0.8, 0.2], [0.0, 0.0, 0.7]]))
    array([0, 1, 2])
    """
    probs = np.asarray(probs)
    if probs.ndim < 2:
        raise ValueError(f"probabilities must be (..., K, L), got shape {probs.shape}")
    return probs.argmax(axis=-2).astype(np.int64)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (inclusive) indices of the runs of True in a 1-D boolean mask."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return edges[0::2], edges[1::2] - 1


def _merge_gaps(labels: np.ndarray, fs: float, gap_ms: float) -> np.ndarray:
    """Fill the gaps shorter than ``gap_ms`` between runs of one kind (QRS first, then P, then
    T, each on the result of the previous); gaps holding ``IGNORE_INDEX`` stay. Vectorized:
    the gaps of one kind are disjoint, so they are filled at once."""
    labels = labels.copy()
    max_gap = gap_ms * fs / 1000.0  # gaps of fewer samples than this are filled
    # fills never write IGNORE_INDEX nor cover it, so one prefix count serves every kind
    ignored = np.concatenate(([0], np.cumsum(labels == IGNORE_INDEX)))
    for kind in _MERGE_ORDER:
        k = _LABEL[kind]
        starts, ends = _runs(labels == k)
        lo, hi = ends[:-1] + 1, starts[1:]  # gap i is [lo[i], hi[i])
        fill = (hi - lo < max_gap - 1e-9) & (ignored[hi] == ignored[lo])
        if fill.any():
            edges = np.zeros(labels.size + 1, dtype=np.int32)
            edges[lo[fill]] = 1
            edges[hi[fill]] = -1
            labels[np.cumsum(edges[:-1]) > 0] = k
    return labels


def _segment_argmax(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Index (within its segment) of the first maximum of each consecutive segment of
    ``values``; segment ``i`` holds ``lengths[i] >= 1`` values. ``np.argmax`` per segment."""
    bounds = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    local = np.arange(values.size) - np.repeat(bounds, lengths)
    top = np.repeat(np.maximum.reduceat(values, bounds), lengths)
    first = np.minimum.reduceat(np.where(values == top, local, values.size), bounds)
    bad = first >= lengths  # NaN in a segment: no value equals its maximum
    for i in np.flatnonzero(bad):
        first[i] = np.argmax(values[bounds[i] : bounds[i] + lengths[i]])
    return first


def _peaks(
    kind: str,
    onsets: np.ndarray,
    offsets: np.ndarray,
    probs: np.ndarray | None,
    signal: np.ndarray | None,
) -> np.ndarray:
    """Peak of each wave ``onsets[i]..offsets[i]`` (see :func:`labels_to_waves`), for all the
    waves of one kind at once.

    With ``signal``: the sample of largest deviation from the straight line joining the
    wave's end values, so that baseline wander does not pull the peak towards one end. The
    line is computed as ``np.linspace`` computes it, so the result equals a per-wave
    ``argmax(abs(x - linspace(x[0], x[-1], n)))`` exactly, ties included."""
    if onsets.size == 0:
        return onsets.copy()
    lengths = offsets - onsets + 1
    if signal is None and probs is None:
        return (onsets + offsets) // 2
    bounds = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    index = np.arange(int(lengths.sum())) + np.repeat(onsets - bounds, lengths)
    if signal is None:
        assert probs is not None
        return onsets + _segment_argmax(probs[_LABEL[kind]][index], lengths)
    x = signal[index].astype(np.float64)
    start, stop = x[bounds], x[bounds + lengths - 1]
    delta = stop - start
    div = (lengths - 1).astype(np.float64)
    i = np.arange(x.size, dtype=np.float64) - np.repeat(bounds, lengths)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = delta / div
        flat = np.repeat(step == 0, lengths)  # linspace's path for a zero step
        line = np.where(
            flat,
            (i / np.repeat(div, lengths)) * np.repeat(delta, lengths),
            i * np.repeat(step, lengths),
        )
    line[np.repeat(lengths == 1, lengths)] = 0.0  # one sample: the line is its value
    line += np.repeat(start, lengths)
    line[bounds + lengths - 1] = stop  # linspace ends exactly on the end value
    return onsets + _segment_argmax(np.abs(x - line), lengths)


def _strength(w: Wave, probs: np.ndarray | None) -> float:
    assert w.onset is not None and w.offset is not None
    if probs is not None:
        return float(probs[_LABEL[w.kind], w.onset : w.offset + 1].mean())
    return float(w.offset - w.onset + 1)


def _check_order(
    waves: list[Wave], fs: float, length: int, options: WaveOptions, probs: np.ndarray | None
) -> list[Wave]:
    ms = fs / 1000.0
    qrs: list[Wave] = []
    for w in (w for w in waves if w.kind == "QRS"):
        if qrs and w.onset - qrs[-1].onset < options.min_rr_ms * ms:  # type: ignore[operator]
            if _strength(w, probs) > _strength(qrs[-1], probs):
                qrs[-1] = w
            continue
        qrs.append(w)
    onsets = np.array([w.onset for w in qrs], dtype=np.int64)
    offsets = np.array([w.offset for w in qrs], dtype=np.int64)
    kept_qrs = {id(w) for w in qrs}
    kept: list[Wave] = []
    for w in waves:
        assert w.onset is not None and w.offset is not None
        if w.kind == "P":
            limit = w.offset + options.max_p_to_qrs_ms * ms
            ok = limit > length - 1 or bool(((onsets >= w.offset) & (onsets <= limit)).any())
        elif w.kind == "T":
            limit = w.onset - options.max_qrs_to_t_ms * ms
            ok = limit < 0 or bool(((offsets <= w.onset) & (offsets >= limit)).any())
        else:
            ok = id(w) in kept_qrs
        if ok:
            kept.append(w)
    return kept


def decode_labels(
    labels: np.ndarray,
    fs: float,
    options: WaveOptions,
    *,
    probs: np.ndarray | None = None,
    signal: np.ndarray | None = None,
    lead: int | None = None,
    offset: int = 0,
) -> list[Wave]:
    """:func:`labels_to_waves` without the order check and without checking its arguments,
    with ``offset`` added to every index (``labels`` is a piece of a longer recording that
    starts at sample ``offset``). The building block of streaming decoding. With ``probs``,
    each wave's ``score`` is the mean probability of its class over its span."""
    if options.merge_gap_ms > 0:
        labels = _merge_gaps(labels, fs, options.merge_gap_ms)
    found: list[tuple[np.ndarray, ...]] = []
    for code, kind in enumerate(WAVE_KINDS):
        min_samples = options.min_duration_ms(kind) * fs / 1000.0
        starts, ends = _runs(labels == _LABEL[kind])
        keep = ends - starts + 1 >= min_samples - 1e-9
        starts, ends = starts[keep], ends[keep]
        peaks = _peaks(kind, starts, ends, probs, signal)
        scores = np.full(starts.size, np.nan)
        if probs is not None and starts.size:
            total = np.concatenate(([0.0], np.cumsum(probs[_LABEL[kind]], dtype=np.float64)))
            scores = (total[ends + 1] - total[starts]) / (ends - starts + 1)
        found.append((starts, peaks, ends, np.full(starts.size, code), scores))
    onsets, peaks, offsets, codes, scores = (
        np.concatenate(parts) for parts in zip(*found, strict=True)
    )
    order = np.lexsort((offsets, onsets))
    return [
        Wave(WAVE_KINDS[c], s, p, e, lead, score=None if q != q else q)
        for c, s, p, e, q in zip(
            codes[order].tolist(),
            (onsets[order] + offset).tolist(),
            (peaks[order] + offset).tolist(),
            (offsets[order] + offset).tolist(),
            scores[order].tolist(),
            strict=True,
        )
    ]


def labels_to_waves(
    labels: np.ndarray,
    fs: float,
    options: WaveOptions | None = None,
    *,
    probs: np.ndarray | None = None,
    signal: np.ndarray | None = None,
    lead: int | None = None,
    gaps: np.ndarray | None = None,
) -> list[Wave]:
    """Waves from a 1-D label array of one lead, in time order.

    Each maximal run of a P, QRS or T label (after ``options``' merging) becomes a wave spanning
    the run, inclusive; runs shorter than the kind's minimum duration are dropped, and with
    ``options.check_order`` implausible waves too (see :class:`WaveOptions`). Other labels
    (background, ``IGNORE_INDEX``) are not waves.

    The peak is the sample of largest deviation of ``signal`` (the lead, shape ``(L,)``) from
    the line joining the wave's end values when ``signal`` is given (the wave's extremum, robust
    to baseline wander); else the sample of highest probability of the wave's class in
    ``probs`` ``(K, L)``; else the middle sample. ``lead`` is copied into every wave.

    ``gaps`` ``(L,)`` marks the samples with no signal (:mod:`sigseg.data.gaps`): they are
    background, and a wave that covers or touches one is dropped (a gap may have cut it, so its
    boundaries are unknown), before the order check.

    Example at 500 Hz (defaults: QRS >= 20 ms = 10 samples, gaps < 20 ms merge): a QRS broken by
    2 samples of background is merged; a 4-sample P blip is dropped::

        >>> labels = np.array([0] * 5 + [1] * 4 + [0] * 5 + [2] * 8 + [0] * 2 + [2] * 8 + [0] * 5)
        >>> labels_to_waves(labels, fs=500)
        [Wave(kind='QRS', onset=14, peak=22, offset=31, lead=None)]
    """
    options = options if options is not None else WaveOptions()
    if not fs > 0:
        raise ValueError(f"sampling rate must be > 0, got {fs}")
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (one lead), got shape {labels.shape}")
    length = labels.size
    if probs is not None:
        probs = np.asarray(probs)
        if probs.ndim != 2 or probs.shape[1] != length or probs.shape[0] < len(CLASSES):
            raise ValueError(f"probs must be (K >= {len(CLASSES)}, {length}), got {probs.shape}")
    if signal is not None:
        signal = np.asarray(signal)
        if signal.shape != (length,):
            raise ValueError(f"signal must be ({length},) like the labels, got {signal.shape}")
    if gaps is not None:
        gaps = np.asarray(gaps, dtype=bool)
        if gaps.shape != (length,):
            raise ValueError(f"gaps must be ({length},) like the labels, got {gaps.shape}")
        labels = np.where(gaps, 0, labels)
        if probs is not None:
            probs = _background_in(probs, gaps)
        if signal is not None:
            signal = fill_gaps(signal[None])[0]
    waves = decode_labels(labels, fs, options, probs=probs, signal=signal, lead=lead)
    if gaps is not None:
        waves = clear_of_gaps(waves, gaps)
    if options.check_order:
        waves = _check_order(waves, fs, length, options, probs)
    return waves


def probs_to_waves(
    probs: np.ndarray,
    fs: float,
    options: WaveOptions | None = None,
    *,
    signal: np.ndarray | None = None,
    lead: int | None = None,
    gaps: np.ndarray | None = None,
) -> list[Wave]:
    """:func:`probs_to_labels` then :func:`labels_to_waves` with the probabilities for peaks,
    for one lead ``(K, L)`` (or a fused record, see :func:`fuse_leads`); ``gaps`` as there
    (the probabilities there are not read)."""
    probs = np.asarray(probs)
    if gaps is not None:
        probs = _background_in(probs, np.asarray(gaps, dtype=bool))
    return labels_to_waves(
        probs_to_labels(probs), fs, options, probs=probs, signal=signal, lead=lead, gaps=gaps
    )


def _background_in(probs: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """``probs`` ``(K, L)`` reading background with certainty on the ``gaps`` samples (what a
    model made of a filled gap, or NaN, is never decoded)."""
    if not gaps.any():
        return probs
    out = np.array(probs, copy=True)
    out[:, gaps] = 0.0
    out[0, gaps] = 1.0
    return out


def waves_to_labels(waves: Sequence[Wave], length: int) -> np.ndarray:
    """Label array of ``length`` samples: background, with each wave's span set to its class.

    Spans are clipped to the array; later waves overwrite earlier ones where they overlap.
    Waves of other kinds (e.g. ``U``) and waves without an onset or offset are skipped, since
    their extent is unknown. The inverse of :func:`labels_to_waves` on clean labels.

        >>> waves_to_labels([Wave("P", 1, 2, 2), Wave("T", 4, 5, 9)], 7)
        array([0, 1, 1, 0, 3, 3, 3])
    """
    labels = np.zeros(length, dtype=np.int64)
    for w in waves:
        if w.kind not in _LABEL or w.onset is None or w.offset is None:
            continue
        labels[max(w.onset, 0) : max(w.offset + 1, 0)] = _LABEL[w.kind]
    return labels


def fuse_leads(probs: np.ndarray, method: Literal["mean", "median"] = "mean") -> np.ndarray:
    """One ``(K, L)`` delineation from the per-lead probabilities ``(C, K, L)`` of a record.

    Each lead sees the heart from another angle, so a wave that is flat in one lead is clear in
    another; combining probabilities before decoding gives one record-wide set of waves (what
    QTDB annotates, and what intervals are measured on). ``"mean"`` averages; ``"median"`` is
    robust to a few noisy or disconnected leads and is renormalised to sum to 1 per sample.
    Both are identities on identical leads.

        >>> p = np.array([[[0.8, 0.2], [0.2, 0.8]], [[0.6, 0.4], [0.4, 0.6]]])  # (C, K, L)
        >>> fuse_leads(p).round(3).tolist()
        [[0.7, 0.3], [0.3, 0.7]]
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 3 or probs.shape[0] < 1:
        raise ValueError(f"probabilities must be (C >= 1, K, L), got shape {probs.shape}")
    if method == "mean":
        return probs.mean(axis=0)
    if method == "median":
        fused = np.median(probs, axis=0)
        total = fused.sum(axis=0, keepdims=True)
        return np.divide(fused, total, out=fused.copy(), where=total > 0)
    raise ValueError(f"unknown fusion method {method!r}; choose one of {FUSION_METHODS}")


def _position(w: Wave) -> int | None:
    for v in (w.onset, w.peak, w.offset):
        if v is not None:
            return v
    return None


def beat_intervals(waves: Sequence[Wave], fs: float) -> list[dict[str, float | int | None]]:
    """Clinical intervals per beat, one dict per QRS complex in time order.

    Beats are anchored on QRS complexes; a beat's P wave is the last P between the previous QRS
    and this one, its T wave the first T between this QRS and the next (positions: onset, else
    peak, else offset). Keys (``None`` where a needed boundary is missing):

    * ``qrs_onset``, ``qrs_peak``, ``qrs_offset``: sample indices;
    * ``pr_ms``: P onset to QRS onset; ``qrs_ms``: QRS onset to offset;
    * ``qt_ms``: QRS onset to T offset;
    * ``rr_ms``: from the previous QRS (peak to peak, else onset to onset); ``None`` for the
      first beat;
    * ``qtc_bazett_ms`` = QT / sqrt(RR in s), ``qtc_fridericia_ms`` = QT / cbrt(RR in s),
      using the preceding RR.

    Intervals are differences of sample indices (onset at 100, offset at 145 at 500 Hz is
    90 ms).

        >>> beats = beat_intervals([Wave("P", 0, 40, 50), Wave("QRS", 80, 100, 125),
        ...                         Wave("T", 200, 250, 280), Wave("QRS", 480, 500, 525)], 500)
        >>> beats[0]["pr_ms"], beats[0]["qrs_ms"], beats[0]["qt_ms"], beats[1]["rr_ms"]
        (160.0, 90.0, 400.0, 800.0)
    """
    ms = 1000.0 / fs

    def by_kind(kind: str) -> tuple[list[int], list[Wave]]:
        placed = sorted(
            ((p, w) for w in waves if w.kind == kind and (p := _position(w)) is not None),
            key=lambda pw: pw[0],
        )
        return [p for p, _ in placed], [w for _, w in placed]

    qrs_pos, qrs = by_kind("QRS")
    p_pos, p_waves = by_kind("P")
    t_pos, t_waves = by_kind("T")
    beats: list[dict[str, float | int | None]] = []
    for i, (pos, q) in enumerate(zip(qrs_pos, qrs, strict=True)):
        prev = qrs[i - 1] if i > 0 else None
        prev_pos = qrs_pos[i - 1] if i > 0 else None
        next_pos = qrs_pos[i + 1] if i + 1 < len(qrs) else None
        k = bisect_left(p_pos, pos) - 1  # last P strictly before this QRS
        p_wave = p_waves[k] if k >= 0 and (prev_pos is None or p_pos[k] > prev_pos) else None
        k = bisect_right(t_pos, pos)  # first T strictly after this QRS
        ok = k < len(t_pos) and (next_pos is None or t_pos[k] < next_pos)
        t_wave = t_waves[k] if ok else None
        pr = qrs_ms = qt = rr = None
        if p_wave is not None and p_wave.onset is not None and q.onset is not None:
            pr = (q.onset - p_wave.onset) * ms
        if q.onset is not None and q.offset is not None:
            qrs_ms = (q.offset - q.onset) * ms
        if t_wave is not None and t_wave.offset is not None and q.onset is not None:
            qt = (t_wave.offset - q.onset) * ms
        if prev is not None:
            if q.peak is not None and prev.peak is not None:
                rr = (q.peak - prev.peak) * ms
            elif q.onset is not None and prev.onset is not None:
                rr = (q.onset - prev.onset) * ms
        valid = qt is not None and rr is not None and rr > 0
        beats.append(
            {
                "qrs_onset": q.onset,
                "qrs_peak": q.peak,
                "qrs_offset": q.offset,
                "pr_ms": pr,
                "qrs_ms": qrs_ms,
                "qt_ms": qt,
                "rr_ms": rr,
                "qtc_bazett_ms": qt / math.sqrt(rr / 1000.0) if valid else None,
                "qtc_fridericia_ms": qt / (rr / 1000.0) ** (1 / 3) if valid else None,
            }
        )
    return beats
