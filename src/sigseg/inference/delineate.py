"""Delineation of a record: per-lead probabilities -> per-lead waves, and optionally the
fused record-level delineation (multi-lead fusion)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sigseg.data.record import Wave
from sigseg.inference.waves import WaveOptions, fuse_leads, probs_to_waves
from sigseg.inference.windows import SignalSource, WindowOptions, as_source, predict_long


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
