"""Delineation of a record: per-lead probabilities -> per-lead waves, and optionally the
fused record-level delineation (multi-lead fusion).

:func:`delineate_signal` keeps the probabilities (``(C, K, L)``: 690 MB per lead for 24 h at
500 Hz); :func:`iter_delineate` streams the waves instead, in memory bounded by the chunk size,
with exactly the same waves.

Both delineate around the stretches of a lead that hold no signal (:mod:`sigseg.data.gaps`):
NaN/Inf samples, and a lead stuck at one value for :data:`FLAT_S` seconds or more (a lead-off).
The model reads a gap as the straight line across it; no wave is reported inside a gap nor
next to one (a gap may have cut it), the other leads are delineated as if it were not there,
and the gaps are reported. Only a record in which no lead has a usable sample is refused; a
lead without one gets a warning and no waves.

Both drop the P waves that the rhythm around them does not share (atrial fibrillation and
flutter have none; :mod:`sigseg.tasks.ecg.atrial`), judging each lead's P waves by the beats
of all the leads, and the fused delineation's by its own; ``min_p_share=None`` keeps every
P wave."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sigseg.data.gaps import Gap, GapRuns, GapScanner, check_usable
from sigseg.data.record import Wave
from sigseg.inference.ahead import ahead
from sigseg.inference.predict import DEFAULT_CHUNK, iter_predict_long, predict_long
from sigseg.inference.sources import SignalSource, as_source
from sigseg.inference.windows import WindowOptions
from sigseg.tasks.ecg import ECG_DELINEATION
from sigseg.tasks.ecg.atrial import MIN_P_SHARE, PGate, gate_p_waves
from sigseg.tasks.ecg.streaming import WaveStream
from sigseg.tasks.ecg.waves import WaveOptions, fuse_leads, probs_to_waves

FLAT_S = 1.0
"""A lead that holds exactly one value for this many seconds is off there (a ``flat`` gap).
Real ECG moves: LUDB's quietest baselines hold one value for at most 0.58 s (record 128 at
500 Hz, a coarse quantization), so 1 s leaves them alone, while a lead-off lasts far longer.
On a low-resolution recording with long pauses, pass ``flat_s=None`` (only NaN/Inf are gaps)
or a longer time."""

_SCAN_BLOCK = 1 << 20  # samples per block when delineate_signal scans for gaps


@dataclass
class Delineation:
    """Result for one record at the input's own rate.

    ``probs`` is ``(C, K, L)``: one probability map per lead, NaN in the lead's gaps.
    ``waves`` holds every lead's waves (``Wave.lead`` is the lead index); ``fused`` holds the
    record-level waves (``lead`` ``None``) when leads were combined. ``gaps`` lists the
    stretches with no signal (:class:`~sigseg.data.gaps.Gap`), by lead and time."""

    fs: float
    channels: list[str]
    probs: np.ndarray
    waves: list[Wave]
    fused: list[Wave] | None = None
    gaps: list[Gap] = field(default_factory=list)

    def lead_waves(self, lead: int) -> list[Wave]:
        return [w for w in self.waves if w.lead == lead]


def delineate_signal(
    backend: Any,
    source: np.ndarray | SignalSource,
    fs: float | None = None,
    *,
    channels: list[str] | None = None,
    combine_leads: bool = False,
    wave_options: WaveOptions | None = None,
    window_options: WindowOptions | None = None,
    flat_s: float | None = FLAT_S,
    min_p_share: float | None = MIN_P_SHARE,
    probabilities: np.ndarray | None = None,
) -> Delineation:
    """Delineate every lead of a ``(C, L)`` signal (or a chunked source) with a single-lead
    model; with ``combine_leads`` also fuse the leads' probabilities into one delineation.
    Gaps (NaN/Inf, or one value for ``flat_s`` seconds) are delineated around, as the module
    says, and so are P waves too few beats around them share (``min_p_share``, as the module
    says). ``probabilities``: what the model already gave for this source (a batched run,
    :mod:`sigseg.inference.batching`), as :func:`~sigseg.inference.predict.predict_long`
    gives them (the array is then masked in place); ``None``: run the model here."""
    src = as_source(source, fs)
    ECG_DELINEATION.check_input(src.num_samples, src.fs)
    codes, gaps, usable = _scan(src, flat_s)
    check_usable(usable, channels)
    probs = probabilities
    if probs is None:
        probs = predict_long(backend, src, options=window_options, fill_gaps=True)
    if probs.ndim == 2:  # a multi-channel model gives one map for the record
        probs = probs[None]
    item_gaps = _item_gaps(codes != 0, probs.shape[0])
    full = src.read(0, src.num_samples) if src.num_samples * probs.shape[0] < 50_000_000 else None
    waves: list[Wave] = []
    for lead in range(probs.shape[0]):
        signal = full[lead] if full is not None and probs.shape[0] == full.shape[0] else None
        waves += probs_to_waves(
            probs[lead], src.fs, wave_options, signal=signal, lead=lead, gaps=item_gaps[lead]
        )
    fused = None
    if combine_leads:
        fused_probs = _fuse(probs, item_gaps)
        fused = probs_to_waves(fused_probs, src.fs, wave_options, gaps=item_gaps.all(axis=0))
    if min_p_share is not None:
        waves = gate_p_waves(waves, src.fs, min_p_share)
        fused = None if fused is None else gate_p_waves(fused, src.fs, min_p_share)
    probs[np.broadcast_to(item_gaps[:, None, :], probs.shape)] = np.nan
    names = channels or [f"ch{i}" for i in range(probs.shape[0])]
    return Delineation(src.fs, list(names), probs, waves, fused, gaps)


def iter_delineate(
    backend: Any,
    source: np.ndarray | SignalSource,
    fs: float | None = None,
    *,
    combine_leads: bool = False,
    wave_options: WaveOptions | None = None,
    window_options: WindowOptions | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    flat_s: float | None = FLAT_S,
    min_p_share: float | None = MIN_P_SHARE,
    on_gaps: Callable[[list[Gap]], None] | None = None,
) -> Iterator[list[Wave]]:
    """Stream the waves of every lead of a recording of any length, chunk by chunk.

    Yields lists of finished waves; each lead's waves (``Wave.lead``, or ``None`` for the
    fused delineation with ``combine_leads``) come in time order, and all lists together hold
    exactly the waves :func:`delineate_signal` gives for a recording it can hold (peaks come
    from the signal, read again chunk by chunk). Memory is bounded by ``chunk_size`` (model-
    rate samples), the window and the batch, not by the recording's length.

    Gaps are found chunk by chunk too (``flat_s`` as in :func:`delineate_signal`): each is
    passed to ``on_gaps`` once it has ended, each lead's in time order. With ``min_p_share``,
    waves are held back until the P waves among them are judged
    (:data:`~sigseg.tasks.ecg.atrial.P_WINDOW_S` of beats after them have arrived).

    Example::

        with open_signal("holter.hea", allow_gaps=True) as reader:
            for waves in iter_delineate(backend, reader, on_gaps=report):
                write(waves)
    """
    src = as_source(source, fs)
    ECG_DELINEATION.check_input(src.num_samples, src.fs)
    scanner = GapScanner(src, flat_s)
    runs: GapRuns | None = None
    streams: list[WaveStream] = []
    fused: WaveStream | None = None
    # the P-wave rule: the leads' waves through one gate, the fused ones through another
    gates = [PGate(src.fs, min_p_share) for _ in range(2)] if min_p_share is not None else None
    # the next block's probabilities are computed while this one is decoded
    for start, block in ahead(
        iter_predict_long(
            backend, src, options=window_options, chunk_size=chunk_size, fill_gaps=True
        )
    ):
        probs = block if block.ndim == 3 else block[None]  # a multi-channel model: one map
        signal, codes = scanner.read(start, start + probs.shape[-1])
        if runs is None:
            runs = GapRuns(signal.shape[0], start)
            streams = [
                WaveStream(src.fs, wave_options, length=src.num_samples, lead=lead)
                for lead in range(probs.shape[0])
            ]
            if combine_leads:
                fused = WaveStream(src.fs, wave_options, length=src.num_samples)
        ended = runs.push(codes)
        if ended and on_gaps is not None:
            on_gaps(ended)
        item_gaps = _item_gaps(codes != 0, probs.shape[0])
        peaks_from_signal = signal.shape[0] == probs.shape[0]
        waves: list[Wave] = []
        for lead, stream in enumerate(streams):
            lead_signal = signal[lead] if peaks_from_signal else None
            waves += stream.push(probs[lead], lead_signal, gaps=item_gaps[lead])
        waves = _gated(gates, 0, waves, min(s.settled for s in streams))
        if fused is not None:
            fused_waves = fused.push(_fuse(probs, item_gaps), gaps=item_gaps.all(axis=0))
            waves += _gated(gates, 1, fused_waves, fused.settled)
        if waves:
            yield waves
    assert runs is not None  # a source has at least one sample
    ended = runs.finish()
    if ended and on_gaps is not None:
        on_gaps(ended)
    check_usable(runs.usable, getattr(src, "channels", None))
    waves = _gated(gates, 0, [w for stream in streams for w in stream.finish()], math.inf)
    if fused is not None:
        waves += _gated(gates, 1, fused.finish(), math.inf)
    if waves:
        yield waves


def _gated(gates: list[PGate] | None, i: int, waves: list[Wave], settled: float) -> list[Wave]:
    """``waves`` through ``gates[i]`` (``settled``: as :meth:`PGate.push` says), or as they
    are without the P-wave rule."""
    return waves if gates is None else gates[i].push(waves, settled)


def _scan(src: SignalSource, flat_s: float | None) -> tuple[np.ndarray, list[Gap], np.ndarray]:
    """The gap codes ``(C, L)`` of a whole source, its gaps (by lead, then time) and each
    lead's count of usable samples."""
    scanner = GapScanner(src, flat_s)
    blocks, gaps = [], []
    runs: GapRuns | None = None
    for start in range(0, src.num_samples, _SCAN_BLOCK):
        _, codes = scanner.read(start, min(src.num_samples, start + _SCAN_BLOCK))
        runs = runs or GapRuns(codes.shape[0])
        gaps += runs.push(codes)
        blocks.append(codes)
    assert runs is not None
    gaps += runs.finish()
    gaps.sort(key=lambda g: (g.lead, g.onset))
    return np.concatenate(blocks, axis=-1), gaps, runs.usable


def _item_gaps(gaps: np.ndarray, items: int) -> np.ndarray:
    """Per model item ``(items, n)``: each lead's gaps for a single-lead model run on every
    lead, else (one item reads all leads) the samples where any lead is in a gap."""
    return gaps if gaps.shape[0] == items else gaps.any(axis=0, keepdims=True)


def _fuse(probs: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """:func:`~sigseg.tasks.ecg.waves.fuse_leads` (mean) over the leads that have signal at
    each sample: a lead in a gap does not pull the record towards background."""
    fused = fuse_leads(probs)
    partial = gaps.any(axis=0)
    if partial.any():
        weights = (~gaps[:, None, :]).astype(np.float64)
        usable = np.maximum(weights.sum(axis=0), 1.0)
        masked = (probs * weights).sum(axis=0) / usable  # 0 where every lead is in a gap
        fused[:, partial] = masked[:, partial]
    return fused
