"""Random augmentations of records for training: ``Record -> Record`` callables that draw from
their own :class:`numpy.random.Generator` (pass a generator or a seed; give each data-loader
worker its own).

Amplitudes are relative to each channel's spread (robust standard deviation), so the same
augmentation suits signals in mV, µV or standardized units. Only :class:`TimeStretch` moves
labels and waves; the others change the signal alone.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np

from sigseg.data.record import Record
from sigseg.data.transforms import RecordTransform, resample_record

Rng = np.random.Generator | int | None


def _generator(rng: Rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check_range(name: str, low: float, high: float, minimum: float = 0.0) -> None:
    if not minimum <= low <= high:
        raise ValueError(f"{name}: need {minimum:g} <= low <= high, got {low:g}..{high:g}")


def _spread(x: np.ndarray) -> np.ndarray:
    """Per-channel robust standard deviation ``(C, 1)`` (1 for flat channels)."""
    q1, q3 = np.percentile(x, [25, 75], axis=-1, keepdims=True)
    scale = (q3 - q1) / 1.349
    return np.where(scale > 0, scale, 1.0)


def _with_signal(record: Record, signal: np.ndarray) -> Record:
    return dataclasses.replace(
        record, signal=signal.astype(np.float32), metadata=dict(record.metadata)
    )


class AmplitudeScale:
    """Multiply each channel (or, with ``per_lead=False``, the whole record) by a factor drawn
    log-uniformly from ``low..high``."""

    def __init__(
        self, low: float = 0.8, high: float = 1.25, per_lead: bool = True, rng: Rng = None
    ) -> None:
        _check_range("AmplitudeScale", low, high, minimum=1e-6)
        self.low, self.high, self.per_lead = low, high, per_lead
        self.rng = _generator(rng)

    def __call__(self, record: Record) -> Record:
        n = record.signal.shape[0] if self.per_lead else 1
        factor = np.exp(self.rng.uniform(np.log(self.low), np.log(self.high), (n, 1)))
        return _with_signal(record, record.signal * factor)


class GaussianNoise:
    """Add white Gaussian noise at a signal-to-noise ratio drawn from ``snr_db`` (relative to
    each channel's spread)."""

    def __init__(self, snr_db: tuple[float, float] = (15.0, 40.0), rng: Rng = None) -> None:
        _check_range("GaussianNoise", *snr_db, minimum=-np.inf)
        self.snr_db = snr_db
        self.rng = _generator(rng)

    def __call__(self, record: Record) -> Record:
        x = record.signal
        snr = self.rng.uniform(*self.snr_db, (x.shape[0], 1))
        sd = _spread(x) * 10 ** (-snr / 20)
        return _with_signal(record, x + sd * self.rng.standard_normal(x.shape))


class BaselineWander:
    """Add a slow drift: a sum of ``components`` sinusoids with frequencies in ``freq_hz`` and
    a root-mean-square amplitude (in channel spreads) drawn from ``amplitude``."""

    def __init__(
        self,
        amplitude: tuple[float, float] = (0.0, 0.5),
        freq_hz: tuple[float, float] = (0.05, 0.6),
        components: int = 3,
        rng: Rng = None,
    ) -> None:
        _check_range("BaselineWander amplitude", *amplitude)
        _check_range("BaselineWander freq_hz", *freq_hz)
        if components < 1:
            raise ValueError(f"BaselineWander: components must be >= 1, got {components}")
        self.amplitude, self.freq_hz, self.components = amplitude, freq_hz, components
        self.rng = _generator(rng)

    def __call__(self, record: Record) -> Record:
        x = record.signal
        c, k = x.shape[0], self.components
        t = np.arange(x.shape[1]) / record.fs
        f = self.rng.uniform(*self.freq_hz, (c, k, 1))
        phase = self.rng.uniform(0, 2 * np.pi, (c, k, 1))
        weights = self.rng.uniform(0.2, 1.0, (c, k, 1))
        weights /= np.sqrt((weights**2).sum(axis=1, keepdims=True) / 2)  # unit RMS in total
        amp = self.rng.uniform(*self.amplitude, (c, 1)) * _spread(x)
        drift = (weights * np.sin(2 * np.pi * f * t + phase)).sum(axis=1)
        return _with_signal(record, x + amp * drift)


class TimeStretch:
    """Stretch time by a factor drawn from ``low..high`` (> 1: slower heart, longer record),
    keeping the sampling rate; labels and waves follow. The factor is rounded to a fraction
    with denominator ``<= 50`` so polyphase resampling stays cheap."""

    def __init__(self, low: float = 0.9, high: float = 1.1, rng: Rng = None) -> None:
        _check_range("TimeStretch", low, high, minimum=0.1)
        self.low, self.high = low, high
        self.rng = _generator(rng)

    def __call__(self, record: Record) -> Record:
        factor = Fraction(float(self.rng.uniform(self.low, self.high))).limit_denominator(50)
        if factor == 1:
            return _with_signal(record, record.signal)
        stretched = resample_record(record, record.fs * float(factor))
        return dataclasses.replace(stretched, fs=record.fs)


class LeadInversion:
    """Flip the sign of each channel with probability ``p`` (electrode reversal, or leads
    whose waves point the other way)."""

    def __init__(self, p: float = 0.5, rng: Rng = None) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"LeadInversion: p must be in [0, 1], got {p}")
        self.p = p
        self.rng = _generator(rng)

    def __call__(self, record: Record) -> Record:
        sign = np.where(self.rng.random((record.signal.shape[0], 1)) < self.p, -1.0, 1.0)
        return _with_signal(record, record.signal * sign)


class RandomApply:
    """Apply ``transform`` with probability ``p``, else return the record unchanged."""

    def __init__(self, transform: RecordTransform, p: float = 0.5, rng: Rng = None) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"RandomApply: p must be in [0, 1], got {p}")
        self.transform, self.p = transform, p
        self.rng = _generator(rng)

    def __call__(self, record: Record) -> Record:
        return self.transform(record) if self.rng.random() < self.p else record
