"""Where long-signal inference reads from, and the trip to the model's rate and back.

A :class:`SignalSource` is a recording that can be read slice by slice (a reader from
:func:`sigseg.data.readers.open_signal`, or an in-memory :class:`ArraySource`). Inference reads
it in chunks resampled to the model's rate (with margins, so chunks stitch like one
whole-signal resampling) and maps the model-rate probabilities back to the input's samples.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from sigseg.data.gaps import FILL_REACH_S, fill_gaps
from sigseg.data.transforms import Preprocessing, resample_ratio

if TYPE_CHECKING:
    from sigseg.inference.backends import Backend

MAX_RATE_RATIO = 1000.0
"""Signals more than this factor above or below the model's rate are refused (a wrong rate,
and resampling them would take unbounded time or memory)."""


@runtime_checkable
class SignalSource(Protocol):
    """What streaming inference needs from a recording: its rate, its length and a way to read
    a slice ``(C, stop - start)`` of it. :func:`sigseg.data.readers.open_signal` returns one;
    :class:`ArraySource` wraps an in-memory array."""

    @property
    def fs(self) -> float: ...

    @property
    def num_samples(self) -> int: ...

    def read(self, start: int, stop: int) -> np.ndarray: ...


class ArraySource:
    """An in-memory ``(C, L)`` (or ``(L,)``) signal at ``fs`` Hz as a :class:`SignalSource`."""

    def __init__(self, x: np.ndarray, fs: float) -> None:
        if not fs > 0:
            raise ValueError(f"fs must be > 0, got {fs}")
        self.data = _as_2d(x)
        self.fs = float(fs)

    @property
    def num_samples(self) -> int:
        return self.data.shape[-1]

    @property
    def num_channels(self) -> int:
        return self.data.shape[0]

    def read(self, start: int, stop: int) -> np.ndarray:
        if not 0 <= start <= stop <= self.num_samples:
            raise ValueError(f"cannot read [{start}, {stop}) of {self.num_samples} samples")
        return self.data[:, start:stop]


def _as_2d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":  # complex would lose its imaginary part, strings parse
        raise ValueError(f"signal must be real numbers, got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2:
        raise ValueError(f"expected a (C, L) or (L,) signal, got shape {x.shape}")
    if x.shape[-1] < 1 or x.shape[0] < 1:
        raise ValueError(f"empty signal (shape {x.shape})")
    return x


def as_source(source: np.ndarray | SignalSource, fs: float | None = None) -> SignalSource:
    """A :class:`SignalSource` for an array (``fs`` required) or a reader (``fs`` optional,
    and must match the reader's rate if given)."""
    if isinstance(source, SignalSource) and not isinstance(source, np.ndarray):
        if fs is not None and not math.isclose(fs, source.fs, rel_tol=1e-9):
            raise ValueError(f"fs={fs} contradicts the source's own rate {source.fs}")
        if source.num_samples < 1:
            raise ValueError("empty signal (0 samples)")
        return source
    if fs is None:
        raise ValueError("fs (the signal's sampling rate in Hz) is required for an array")
    return ArraySource(source, fs)


def resolve_preprocessing(
    backend: Backend, preprocessing: Preprocessing | dict[str, Any] | None = None
) -> Preprocessing:
    """The preprocessing inference applies: the one given, else the backend's (recorded in its
    checkpoint or ONNX file), else the model's rate with the library's default normalization.
    A dict without a rate takes the model's; a rate that is not the model's is an error."""
    prep = preprocessing if preprocessing is not None else getattr(backend, "preprocessing", None)
    if prep is None:
        return Preprocessing(sampling_rate=float(backend.sampling_rate))
    if isinstance(prep, dict):
        prep = Preprocessing.from_dict({"sampling_rate": float(backend.sampling_rate), **prep})
    if not math.isclose(prep.sampling_rate, float(backend.sampling_rate), rel_tol=1e-9):
        raise ValueError(
            f"preprocessing is at {prep.sampling_rate} Hz but the model runs at "
            f"{backend.sampling_rate} Hz"
        )
    return prep


class _ModelRateReader:
    """Reads model-rate slices ``[ms, me)`` of a source at another rate, chunk by chunk.

    Each slice is resampled (and band-passed) from an input slice with a margin on both sides,
    aligned so its samples fall on the whole signal's model-rate grid; the margin covers the
    resampling filter's half-length and the band-pass transient, so the stitched chunks match a
    whole-signal :meth:`Preprocessing.to_model_rate` closely (the true edges are the signal's).
    """

    def __init__(self, source: SignalSource, prep: Preprocessing, fill: bool = False) -> None:
        self.source, self.prep, self.fill = source, prep, fill
        self.fs = float(source.fs)
        self.n_in = int(source.num_samples)
        ratio = self.fs / prep.sampling_rate
        if not 1 / MAX_RATE_RATIO <= ratio <= MAX_RATE_RATIO:
            raise ValueError(
                f"sampling rate {self.fs:g} Hz is more than {MAX_RATE_RATIO:g} times away from "
                f"the model's {prep.sampling_rate:g} Hz; check the rate"
            )
        same = math.isclose(self.fs, prep.sampling_rate, rel_tol=1e-12)
        self.up, self.down = (1, 1) if same else resample_ratio(self.fs, prep.sampling_rate)
        self.num_samples = -(-self.n_in * self.up // self.down)
        margin = 0 if same else math.ceil(10 * max(self.up, self.down) / self.up) + 2
        if prep.bandpass is not None:
            margin += math.ceil(_BANDPASS_SETTLE / prep.bandpass[0] * self.fs)
        self.margin = margin
        self.reach = max(1, round(FILL_REACH_S * self.fs))  # context of a gap fill

    def _input(self, start: int, stop: int) -> np.ndarray:
        """Input samples ``[start, stop)``; with ``fill``, NaN/Inf filled from ``reach`` of
        context each side (:func:`~sigseg.data.gaps.fill_gaps`), so as the whole signal."""
        if not self.fill:
            return _checked(self.source.read(start, stop), start, stop)
        a, b = max(0, start - self.reach), min(self.n_in, stop + self.reach)
        x = _checked(self.source.read(a, b), a, b, allow_gaps=True)
        return fill_gaps(x, self.reach)[:, start - a : stop - a]

    def read(self, ms: int, me: int) -> np.ndarray:
        if self.margin == 0 and self.up == self.down:
            return self._input(ms, me)
        up, down = self.up, self.down
        ja = max(0, ms * down // up - self.margin)
        ja -= ja % down  # the chunk's first output sample lies on the global grid
        jb = min(self.n_in, -(-me * down // up) + self.margin)
        x = self._input(ja, jb)
        if x.shape[-1] == 1:  # a one-sample signal is constant (polyphase filtering gives NaN)
            y = np.repeat(x, self.num_samples, axis=-1)
        else:
            y = self.prep.to_model_rate(x, self.fs)
        offset = ja * up // down
        out = y[:, ms - offset : me - offset]
        if out.shape[-1] != me - ms:
            raise RuntimeError(f"resampled chunk too short: {out.shape[-1]} < {me - ms}")
        return out


_BANDPASS_SETTLE = 10.0  # band-pass margin in periods of the low cut-off


def _checked(x: np.ndarray, start: int, stop: int, allow_gaps: bool = False) -> np.ndarray:
    """The slice read, checked: its shape, and no NaN/Inf unless ``allow_gaps``."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[-1] != stop - start:
        raise ValueError(
            f"source.read({start}, {stop}) returned shape {x.shape}, expected (C, {stop - start})"
        )
    bad = ~np.isfinite(x)
    # NaN would spread through normalization and the model into every wave
    if bad.any() and not allow_gaps:
        channel, sample = np.argwhere(bad)[np.argmin(np.argwhere(bad)[:, 1])]
        raise ValueError(
            f"NaN/Inf samples (first at sample {start + int(sample)}, channel {int(channel)}); "
            "fill or cut the gaps before segmenting"
        )
    return x


class _RateMapper:
    """Maps model-rate probabilities back to the input's samples, block by block.

    Input sample ``j`` lies at model position ``j * up / down``; its probabilities are the
    linear interpolation of the two model samples around it. Interpolation (not polyphase
    resampling) keeps probabilities in ``[0, 1]`` and summing to one, needs one neighbour
    only (so blocks map exactly, independent of chunking), and gives ``L_input`` samples.
    """

    def __init__(self, up: int, down: int, n_in: int, n_model: int) -> None:
        self.up, self.down, self.n_in, self.n_model = up, down, n_in, n_model
        self.buf: np.ndarray | None = None
        self.buf_lo = 0
        self.next_j = 0

    def push(self, start: int, block: np.ndarray) -> tuple[int, np.ndarray] | None:
        """Add model samples ``[start, start + n)``; return the input samples now computable."""
        if self.up == self.down:
            return (start, block) if block.shape[-1] else None
        buf = block if self.buf is None else np.concatenate([self.buf, block], axis=-1)
        if start != self.buf_lo + (0 if self.buf is None else self.buf.shape[-1]):
            raise RuntimeError("model-rate blocks must arrive in order")
        avail = self.buf_lo + buf.shape[-1]
        if avail >= self.n_model:
            j_hi = self.n_in
        else:
            j_hi = max(self.next_j, -(-(avail - 1) * self.down // self.up))
        j0 = self.next_j
        out = None
        if j_hi > j0:
            out = self._interpolate(buf, j0, j_hi)
            self.next_j = j_hi
        keep_from = min(self.next_j * self.up // self.down, avail)
        self.buf = buf[..., keep_from - self.buf_lo :].copy()
        self.buf_lo = keep_from
        return None if out is None else (j0, out)

    def _interpolate(self, buf: np.ndarray, j0: int, j_hi: int) -> np.ndarray:
        """Input samples ``[j0, j_hi)`` from ``buf`` (model samples from ``buf_lo``).

        Sample ``j`` is ``b[i] * (1 - f) + b[i + 1] * f`` with ``i = j * up // down`` and
        ``f = (j * up % down) / down``. Both repeat with period ``down`` in ``j`` (``i``
        advancing by ``up``), so each of the ``down`` phases is a strided slice of ``buf``
        with one weight: no index arrays (several times faster on a day of samples)."""
        up, down, last = self.up, self.down, self.n_model - 1
        n = j_hi - j0
        out = np.empty((*buf.shape[:-1], n), dtype=np.float32)
        padded = np.concatenate([buf, buf[..., -1:]], axis=-1)  # i + 1 past the end: clamped
        for r in range(min(down, n)):
            count = len(range(r, n, down))
            num = (j0 + r) * up
            i0 = num // down - self.buf_lo
            frac = np.float32((num % down) / down)
            a = padded[..., i0 : i0 + up * (count - 1) + 1 : up]
            b = padded[..., i0 + 1 : i0 + up * (count - 1) + 2 : up]
            out[..., r::down] = a * (1 - frac) + b * frac
        if self.buf_lo + buf.shape[-1] - 1 > last:
            raise RuntimeError("model-rate blocks beyond the signal's length")
        return out
