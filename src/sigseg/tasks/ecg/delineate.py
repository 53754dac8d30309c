"""Delineation of a record: per-lead probabilities -> per-lead waves, and optionally the
fused record-level delineation (multi-lead fusion).

:func:`delineate_signal` keeps the probabilities (``(C, K, L)``: 690 MB per lead for 24 h at
500 Hz); :func:`iter_delineate` streams the waves instead, in memory bounded by the chunk size,
with exactly the same waves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from sigseg.data.record import Wave
from sigseg.inference.predict import DEFAULT_CHUNK, iter_predict_long, predict_long
from sigseg.inference.sources import SignalSource, as_source
from sigseg.inference.windows import WindowOptions
from sigseg.tasks.ecg import ECG_DELINEATION
from sigseg.tasks.ecg.streaming import WaveStream
from sigseg.tasks.ecg.waves import WaveOptions, fuse_leads, probs_to_waves


@dataclass
class Delineation:
    """Result for one record at the input's own rate.

    ``probs`` is ``(C, K, L)``: one probability map per lead. ``waves`` holds every lead's
    waves (``Wave.lead`` is the lead index); ``fused`` holds the record-level waves (``lead``
    ``None``) when leads were combined."""

    fs: float
    channels: list[str]
    probs: np.ndarray
    waves: list[Wave]
    fused: list[Wave] | None = None

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
) -> Delineation:
    """Delineate every lead of a ``(C, L)`` signal (or a chunked source) with a single-lead
    model; with ``combine_leads`` also fuse the leads' probabilities into one delineation."""
    src = as_source(source, fs)
    ECG_DELINEATION.check_input(src.num_samples, src.fs)
    probs = predict_long(backend, src, options=window_options)
    if probs.ndim == 2:  # a multi-channel model gives one map for the record
        probs = probs[None]
    full = src.read(0, src.num_samples) if src.num_samples * probs.shape[0] < 50_000_000 else None
    waves: list[Wave] = []
    for lead in range(probs.shape[0]):
        signal = full[lead] if full is not None and probs.shape[0] == full.shape[0] else None
        waves += probs_to_waves(probs[lead], src.fs, wave_options, signal=signal, lead=lead)
    fused = None
    if combine_leads:
        fused = probs_to_waves(fuse_leads(probs), src.fs, wave_options)
    names = channels or [f"ch{i}" for i in range(probs.shape[0])]
    return Delineation(src.fs, list(names), probs, waves, fused)


def iter_delineate(
    backend: Any,
    source: np.ndarray | SignalSource,
    fs: float | None = None,
    *,
    combine_leads: bool = False,
    wave_options: WaveOptions | None = None,
    window_options: WindowOptions | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> Iterator[list[Wave]]:
    """Stream the waves of every lead of a recording of any length, chunk by chunk.

    Yields lists of finished waves; each lead's waves (``Wave.lead``, or ``None`` for the
    fused delineation with ``combine_leads``) come in time order, and all lists together hold
    exactly the waves :func:`delineate_signal` gives for a recording it can hold (peaks come
    from the signal, read again chunk by chunk). Memory is bounded by ``chunk_size`` (model-
    rate samples), the window and the batch, not by the recording's length.

    Example::

        with open_signal("holter.hea") as reader:
            for waves in iter_delineate(backend, reader):
                write(waves)
    """
    src = as_source(source, fs)
    ECG_DELINEATION.check_input(src.num_samples, src.fs)
    streams: list[WaveStream] = []
    fused: WaveStream | None = None
    for start, block in iter_predict_long(
        backend, src, options=window_options, chunk_size=chunk_size
    ):
        probs = block if block.ndim == 3 else block[None]  # a multi-channel model: one map
        if not streams:
            streams = [
                WaveStream(src.fs, wave_options, length=src.num_samples, lead=lead)
                for lead in range(probs.shape[0])
            ]
            if combine_leads:
                fused = WaveStream(src.fs, wave_options, length=src.num_samples)
        signal = src.read(start, start + probs.shape[-1])
        peaks_from_signal = signal.shape[0] == probs.shape[0]
        waves: list[Wave] = []
        for lead, stream in enumerate(streams):
            waves += stream.push(probs[lead], signal[lead] if peaks_from_signal else None)
        if fused is not None:
            waves += fused.push(fuse_leads(probs))
        if waves:
            yield waves
    waves = [w for stream in streams for w in stream.finish()]
    if fused is not None:
        waves += fused.finish()
    if waves:
        yield waves
