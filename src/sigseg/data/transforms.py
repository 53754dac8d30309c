"""Signal preprocessing shared by training and inference, and transforms of whole records.

:class:`Preprocessing` is what a checkpoint records and what inference re-applies, so a user
never needs to know the rate or scaling a model runs at. The record transforms
(:class:`Resample`, :class:`Bandpass`, :class:`Normalize`, :class:`RandomCrop`,
:class:`Compose`) are small callables ``Record -> Record``; a crop or a resample moves the
labels and waves with the signal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from sigseg.data.record import Record, Wave

NORMALIZATIONS = ("robust", "zscore", "center", "difference", "none")


def resample_ratio(fs_in: float, fs_out: float) -> tuple[int, int]:
    """Smallest integers ``(up, down)`` with ``fs_in * up / down == fs_out`` (to 1e-6)."""
    frac = Fraction(fs_out / fs_in).limit_denominator(10_000)
    if abs(float(frac) * fs_in - fs_out) > 1e-6 * fs_out:
        raise ValueError(f"cannot resample {fs_in} Hz to {fs_out} Hz with a rational ratio")
    return frac.numerator, frac.denominator


def resample_signal(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """Polyphase resampling of ``(C, L)`` along time (scipy's ``resample_poly``), float32.

    The output has ``ceil(L * up / down)`` samples; sample ``i`` of the output lies at time
    ``i / fs_out``, as sample ``j`` of the input lies at ``j / fs_in``."""
    x = np.asarray(x, dtype=np.float32)
    if fs_in == fs_out:
        return x
    up, down = resample_ratio(fs_in, fs_out)
    from scipy.signal import resample_poly  # scipy.signal takes 0.4 s to import

    return resample_poly(x, up, down, axis=-1, padtype="line").astype(np.float32)


def resample_index(index: np.ndarray | int, fs_in: float, fs_out: float) -> np.ndarray:
    """Map sample indices at ``fs_in`` to the nearest sample at ``fs_out`` (same time)."""
    return np.rint(np.asarray(index, dtype=np.float64) * (fs_out / fs_in)).astype(np.int64)


def resample_labels(
    labels: np.ndarray, fs_in: float, fs_out: float, length: int | None = None
) -> np.ndarray:
    """Per-sample labels ``(..., L)`` at ``fs_out``: each output sample takes the label of the
    input sample nearest in time. ``length`` defaults to ``ceil(L * fs_out / fs_in)``, the
    length :func:`resample_signal` gives."""
    labels = np.asarray(labels)
    n_in = labels.shape[-1]
    if length is None:
        up, down = resample_ratio(fs_in, fs_out)
        length = -(-n_in * up // down)
    source = np.clip(resample_index(np.arange(length), fs_out, fs_in), 0, n_in - 1)
    return labels[..., source]


def normalize_signal(x: np.ndarray, method: str = "robust") -> np.ndarray:
    """Per-channel normalization of ``(C, L)``.

    ``robust``: subtract the median, divide by the interquartile range / 1.349 (the standard
    deviation of a Gaussian with that IQR), so R peaks and artefacts do not set the scale.
    ``zscore``: mean and standard deviation. Flat channels are centred but not scaled.
    ``center``: subtract the median only, for signals whose scale means something (a gaze
    position in pixels, whose speed tells a saccade from a pursuit) but whose level does not.
    ``difference``: each sample minus the one before (the first sample's is 0), in the
    signal's units per sample: for positions whose movement, not place, carries the labels (a
    gaze's speed tells fixation from pursuit from saccade, and a network given positions
    hundreds of pixels large must learn a difference filter exact enough to see a pursuit of
    one pixel per sample).
    ``none``: as read (an accelerometer's level is gravity, which tells postures apart)."""
    x = np.asarray(x, dtype=np.float32)
    if method == "none":
        return x
    if method == "difference":
        return np.diff(x, axis=-1, prepend=x[..., :1]).astype(np.float32)
    if method == "center":
        return (x - np.median(x, axis=-1, keepdims=True)).astype(np.float32)
    if method == "robust":
        q1, centre, q3 = np.percentile(x, [25, 50, 75], axis=-1, keepdims=True)
        scale = (q3 - q1) / 1.349
    elif method == "zscore":
        centre, scale = x.mean(axis=-1, keepdims=True), x.std(axis=-1, keepdims=True)
    else:
        raise ValueError(f"unknown normalization {method!r}; choose one of {NORMALIZATIONS}")
    scale = np.where(scale > 1e-6 * (np.abs(centre) + 1.0), scale, 1.0)
    return ((x - centre) / scale).astype(np.float32)


def bandpass_signal(
    x: np.ndarray, fs: float, low: float, high: float, order: int = 2
) -> np.ndarray:
    """Zero-phase Butterworth band-pass of ``(C, L)`` (second-order sections)."""
    nyquist = fs / 2
    if not 0 < low < high < nyquist:
        raise ValueError(f"band-pass needs 0 < low < high < {nyquist:g} Hz, got {low}-{high}")
    from scipy.signal import butter, sosfiltfilt

    sos = butter(order, [low, high], btype="band", fs=fs, output="sos")
    padlen = min(x.shape[-1] - 1, 3 * (2 * len(sos) + 1))
    return sosfiltfilt(sos, x, axis=-1, padlen=max(padlen, 0)).astype(np.float32)


@dataclass(frozen=True)
class Preprocessing:
    """What a model expects: its sampling rate, an optional band-pass (Hz), and the
    per-window normalization. Stored in checkpoints and applied by inference."""

    sampling_rate: float = 250.0
    bandpass: tuple[float, float] | None = None
    normalize: str = "robust"

    def __post_init__(self) -> None:
        if not self.sampling_rate > 0:
            raise ValueError(f"sampling_rate must be > 0, got {self.sampling_rate}")
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(f"unknown normalization {self.normalize!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocessing:
        band = d.get("bandpass")
        return cls(
            sampling_rate=float(d.get("sampling_rate", 250.0)),
            bandpass=tuple(band) if band else None,  # type: ignore[arg-type]
            normalize=str(d.get("normalize", "robust")),
        )

    def to_model_rate(self, x: np.ndarray, fs: float) -> np.ndarray:
        """Resample (and band-pass) a ``(C, L)`` signal at ``fs`` to the model's rate.
        Normalization is per window, so it is left to :meth:`normalize_window`."""
        x = resample_signal(x, fs, self.sampling_rate)
        if self.bandpass is not None:
            x = bandpass_signal(x, self.sampling_rate, *self.bandpass)
        return x

    def normalize_window(self, x: np.ndarray) -> np.ndarray:
        return normalize_signal(x, self.normalize)


# --- Record-level transforms: annotations move with the signal --------------------------------


def _map_index(i: int | None, fs_in: float, fs_out: float, length: int) -> int | None:
    return None if i is None else min(max(int(resample_index(i, fs_in, fs_out)), 0), length - 1)


def resample_record(record: Record, fs: float) -> Record:
    """Resample a record to ``fs``: the signal with :func:`resample_signal`, labels with
    :func:`resample_labels` (nearest input sample in time), wave marks with
    :func:`resample_index`. Both land within one output sample of where they were in time."""
    if fs == record.fs:
        return dataclasses.replace(record, metadata=dict(record.metadata))
    signal = resample_signal(record.signal, record.fs, fs)
    length = signal.shape[1]
    labels = None
    if record.labels is not None:
        labels = resample_labels(record.labels, record.fs, fs, length)
    waves = [
        Wave(
            w.kind,
            *(_map_index(i, record.fs, fs, length) for i in (w.onset, w.peak, w.offset)),
            w.lead,
        )
        for w in record.waves
    ]
    return dataclasses.replace(
        record,
        signal=signal,
        fs=float(fs),
        labels=labels,
        waves=waves,
        metadata=dict(record.metadata),
    )


def crop_record(record: Record, start: int, stop: int) -> Record:
    """Samples ``start:stop`` of a record (``0 <= start < stop <= num_samples``). Waves are
    shifted; a wave entirely outside is dropped, and a boundary or peak outside the crop
    becomes ``None`` (the crop's edge is not the wave's onset)."""
    if not 0 <= start < stop <= record.num_samples:
        raise ValueError(
            f"{record.name or 'record'}: crop {start}:{stop} outside 0:{record.num_samples}"
        )
    length = stop - start
    waves = []
    for w in record.waves:
        marks = [i - start if i is not None else None for i in (w.onset, w.peak, w.offset)]
        known = [i for i in marks if i is not None]
        first = marks[0] if marks[0] is not None else min(known)
        last = marks[2] if marks[2] is not None else max(known)
        if last < 0 or first >= length:
            continue
        onset, peak, offset = (i if i is not None and 0 <= i < length else None for i in marks)
        waves.append(Wave(w.kind, onset, peak, offset, w.lead))
    labels = None if record.labels is None else record.labels[:, start:stop].copy()
    return dataclasses.replace(
        record,
        signal=record.signal[:, start:stop].copy(),
        labels=labels,
        waves=waves,
        metadata=dict(record.metadata),
    )


RecordTransform = Callable[[Record], Record]
"""A transform: a callable from a :class:`Record` to a new :class:`Record` (inputs are never
modified in place)."""


def _generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


@dataclass(frozen=True)
class Resample:
    """Resample to ``fs`` Hz (see :func:`resample_record`)."""

    fs: float

    def __post_init__(self) -> None:
        if not self.fs > 0:
            raise ValueError(f"Resample: fs must be > 0, got {self.fs}")

    def __call__(self, record: Record) -> Record:
        return resample_record(record, self.fs)


@dataclass(frozen=True)
class Bandpass:
    """Zero-phase Butterworth band-pass ``low..high`` Hz (see :func:`bandpass_signal`)."""

    low: float
    high: float
    order: int = 2

    def __call__(self, record: Record) -> Record:
        x = bandpass_signal(record.signal, record.fs, self.low, self.high, self.order)
        return dataclasses.replace(record, signal=x, metadata=dict(record.metadata))


@dataclass(frozen=True)
class Normalize:
    """Per-channel normalization of the whole record (see :func:`normalize_signal`)."""

    method: str = "robust"

    def __post_init__(self) -> None:
        if self.method not in NORMALIZATIONS:
            raise ValueError(
                f"unknown normalization {self.method!r}; choose one of {NORMALIZATIONS}"
            )

    def __call__(self, record: Record) -> Record:
        x = normalize_signal(record.signal, self.method)
        return dataclasses.replace(record, signal=x, metadata=dict(record.metadata))


class RandomCrop:
    """A random window of ``length`` samples (see :func:`crop_record`); a record shorter than
    that is an error. ``rng``: a generator or seed (give each data-loader worker its own)."""

    def __init__(self, length: int, rng: np.random.Generator | int | None = None) -> None:
        if length < 1:
            raise ValueError(f"RandomCrop: length must be >= 1, got {length}")
        self.length = int(length)
        self.rng = _generator(rng)

    def __call__(self, record: Record) -> Record:
        if record.num_samples < self.length:
            raise ValueError(
                f"{record.name or 'record'}: {record.num_samples} samples, "
                f"shorter than the crop ({self.length})"
            )
        start = int(self.rng.integers(0, record.num_samples - self.length + 1))
        return crop_record(record, start, start + self.length)

    def __repr__(self) -> str:
        return f"RandomCrop(length={self.length})"


class Compose:
    """Apply transforms in order."""

    def __init__(self, transforms: Sequence[RecordTransform]) -> None:
        self.transforms = list(transforms)

    def __call__(self, record: Record) -> Record:
        for t in self.transforms:
            record = t(record)
        return record

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"
