"""Signal preprocessing shared by training and inference.

:class:`Preprocessing` is what a checkpoint records and what inference re-applies, so a user
never needs to know the rate or scaling a model runs at.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy import signal as sps

NORMALIZATIONS = ("robust", "zscore", "none")


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
    return sps.resample_poly(x, up, down, axis=-1, padtype="line").astype(np.float32)


def resample_index(index: np.ndarray | int, fs_in: float, fs_out: float) -> np.ndarray:
    """Map sample indices at ``fs_in`` to the nearest sample at ``fs_out`` (same time)."""
    return np.rint(np.asarray(index, dtype=np.float64) * (fs_out / fs_in)).astype(np.int64)


def resample_labels(labels: np.ndarray, fs_in: float, fs_out: float,
                    length: int | None = None) -> np.ndarray:
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
    ``zscore``: mean and standard deviation. Flat channels are centred but not scaled."""
    x = np.asarray(x, dtype=np.float32)
    if method == "none":
        return x
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
    sos = sps.butter(order, [low, high], btype="band", fs=fs, output="sos")
    padlen = min(x.shape[-1] - 1, 3 * (2 * len(sos) + 1))
    return sps.sosfiltfilt(sos, x, axis=-1, padlen=max(padlen, 0)).astype(np.float32)


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
