"""Long-signal inference: plan overlapping windows, run them in batches, stack the results.

A model is trained on windows of a few seconds; a recording can last a day. Inference cuts the
signal (at the model's rate) into overlapping windows, runs them in batches, discards the
unreliable samples near each window's inner edges (*blinding*: the model sees only one side of
their context there) and stacks what is left, averaging (or taking the maximum) where kept parts
overlap. The signal's true first and last samples are never blinded: no window sees more of
their context than the first and last windows do.

When the blinding is at least the model's receptive field, every kept sample is exactly what a
single pass over the whole signal gives (for models whose output does not depend on the position
within the window, such as the dilated network), so stitching is invisible.

The pieces are small pure functions (:func:`plan_windows`, :func:`keep_spans`,
:func:`stack_windows`, :func:`logits_to_probs`) composed by :func:`predict_array` (a signal
already at the model's rate) and :func:`iter_predict_long` / :func:`predict_long` (any signal
at any rate, read in chunks so memory is bounded by the chunk, window and batch sizes rather
than by the recording's length).

Example::

    model = sigseg.create_model("dilated", num_classes=4)
    probs = predict_long(model, ecg, fs=360.0)  # ecg: (C, L) at 360 Hz -> (K, L) at 360 Hz
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from scipy import special

from sigseg.data.transforms import Preprocessing, normalize_signal, resample_ratio

if TYPE_CHECKING:
    from sigseg.inference.backends import Backend

STACKINGS = ("mean", "max")
MAX_RATE_RATIO = 1000.0
"""Signals more than this factor above or below the model's rate are refused (a wrong rate,
and resampling them would take unbounded time or memory)."""
DEFAULT_CHUNK = 1 << 16  # model-rate samples per chunk: ~4.4 min at 250 Hz


# --------------------------------------------------------------------------------------------
# options


@dataclass(frozen=True)
class WindowOptions:
    """How a long signal is cut into windows and stitched back.

    * ``window``: window length in model-rate samples.
    * ``overlap``: overlap of consecutive windows, a fraction of the window (``float`` in
      ``[0, 1)``) or a number of samples (``int`` in ``[0, window)``); ``0.25`` and ``500`` are
      the same for a 2000-sample window and give the same result.
    * ``blinding``: samples discarded at each inner window edge; ``None`` means half the
      overlap, so kept parts tile the signal and every kept sample is at least that far from
      an inner edge. Must not exceed half the overlap, else samples would be left uncovered.
    * ``stacking``: ``"mean"`` or ``"max"`` over the kept parts that overlap.
    * ``batch_size``: windows (times leads, for a single-lead model) per forward pass.
    * ``pad_short``: a signal shorter than one window runs as one window padded with zeros
      after normalization (the window's baseline), so the model sees the length it was
      trained at; ``False`` runs it at its own length (then it equals the one-pass output).
    """

    window: int = 2560
    overlap: float | int = 0.5
    blinding: int | None = None
    stacking: str = "mean"
    batch_size: int = 32
    pad_short: bool = True

    def __post_init__(self) -> None:
        if not _is_int(self.window) or self.window < 1:
            raise ValueError(f"window must be an int >= 1, got {self.window!r}")
        if isinstance(self.overlap, bool) or not isinstance(self.overlap, numbers.Real):
            raise ValueError(
                f"overlap must be a fraction or a number of samples, got {self.overlap!r}"
            )
        if _is_int(self.overlap):
            if not 0 <= self.overlap < self.window:
                raise ValueError(
                    f"overlap in samples must be in [0, window={self.window}), got {self.overlap}"
                )
        elif not 0.0 <= float(self.overlap) < 1.0:
            raise ValueError(
                f"overlap as a fraction must be in [0, 1), got {self.overlap} "
                "(give samples as an int)"
            )
        if self.overlap_samples >= self.window:
            raise ValueError(f"overlap {self.overlap} leaves no step for window {self.window}")
        if self.blinding is not None:
            if not _is_int(self.blinding) or self.blinding < 0:
                raise ValueError(f"blinding must be an int >= 0, got {self.blinding!r}")
            if 2 * self.blinding > self.overlap_samples:
                raise ValueError(
                    f"blinding {self.blinding} must be at most half the overlap "
                    f"({self.overlap_samples} samples), else samples are left uncovered"
                )
        if self.stacking not in STACKINGS:
            raise ValueError(f"stacking must be one of {STACKINGS}, got {self.stacking!r}")
        if not _is_int(self.batch_size) or self.batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {self.batch_size!r}")

    @property
    def overlap_samples(self) -> int:
        """The overlap in samples, whichever way it was given."""
        if _is_int(self.overlap):
            return int(self.overlap)
        return round(float(self.overlap) * self.window)

    @property
    def step(self) -> int:
        """Distance between consecutive window starts."""
        return self.window - self.overlap_samples

    @property
    def blinding_samples(self) -> int:
        return self.overlap_samples // 2 if self.blinding is None else int(self.blinding)


LONG_WINDOW = 16384
"""Window of :func:`long_window_options`, in model-rate samples (131 s at 125 Hz)."""


def long_window_options(
    backend: Any, window: int = LONG_WINDOW, batch_size: int = 2
) -> WindowOptions:
    """Windows for recordings much longer than one window: ``window`` samples overlapping by
    just enough that the blinding covers the model's receptive field (so every kept sample
    sees full context), with steps a multiple of the model's ``span_period`` (so windowed
    attention sees the same chunks in every window).

    The default :class:`WindowOptions` (2560-sample windows overlapping by half) computes
    every sample twice; these compute it 1.05 times for the default model, and the batch
    (``batch_size`` x ``window``) is sized to keep the model's activations near 200 MB. A
    model without a finite receptive field (global attention) gets the default options.

    Per-window normalization then sees ``window`` samples instead of 2560: the statistics of
    a longer stretch of the same recording.
    """
    field = getattr(backend, "receptive_field", None)
    if field is None or field.is_global:
        return WindowOptions()
    period = max(1, int(getattr(backend, "span_period", 1)))
    blinding = max(int(field.left), int(field.right))
    step = (window - 2 * blinding) // period * period
    if step < 1:
        raise ValueError(f"window {window} is too short for a receptive field of {field}")
    return WindowOptions(window=window, overlap=window - step, batch_size=batch_size)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# --------------------------------------------------------------------------------------------
# pure pieces


def window_width(length: int, options: WindowOptions) -> int:
    """Samples per window for a signal of ``length``: the window, or the signal's own length
    when it is shorter and ``pad_short`` is off."""
    if length < options.window and not options.pad_short:
        return max(length, 1)
    return options.window


def plan_windows(length: int, options: WindowOptions) -> np.ndarray:
    """Start indices of overlapping windows over ``length`` samples.

    Windows advance by ``options.step``; the last one is flush with the end, so it may overlap
    its predecessor by more than the others do. A signal no longer than one window gets one
    window at 0 (padded, see :class:`WindowOptions`).

    >>> plan_windows(10, WindowOptions(window=4, overlap=2)).tolist()
    [0, 2, 4, 6]
    >>> plan_windows(11, WindowOptions(window=4, overlap=2)).tolist()
    [0, 2, 4, 6, 7]
    """
    if length < 1:
        raise ValueError(f"cannot plan windows over {length} samples")
    w = options.window
    if length <= w:
        return np.zeros(1, dtype=np.int64)
    regular = np.arange(0, length - w, options.step, dtype=np.int64)  # all with s + w < length
    return np.append(regular, length - w)


def keep_spans(starts: np.ndarray, length: int, options: WindowOptions) -> np.ndarray:
    """``(n, 2)`` global ``[lo, hi)`` each window contributes after blinding.

    Inner edges lose ``blinding_samples``; the signal's own edges (a window starting at 0, or
    reaching the end) keep everything, since no window sees more context there.

    >>> keep_spans(np.array([0, 2, 4, 6]), 10, WindowOptions(window=4, overlap=2)).tolist()
    [[0, 3], [3, 5], [5, 7], [7, 10]]
    """
    starts = np.asarray(starts, dtype=np.int64)
    b = options.blinding_samples
    ends = starts + window_width(length, options)
    lo = np.where(starts == 0, 0, starts + b)
    hi = np.where(ends >= length, length, ends - b)
    return np.stack([lo, hi], axis=1)


def logits_to_probs(logits: np.ndarray, axis: int = 1) -> np.ndarray:
    """Probabilities from logits along the class ``axis``: softmax for ``K >= 2`` classes,
    sigmoid for ``K = 1`` (binary), as the model contract prescribes."""
    logits = np.asarray(logits, dtype=np.float32)
    if logits.shape[axis] == 1:
        return special.expit(logits)
    return special.softmax(logits, axis=axis)


class _Stitcher:
    """Accumulates windows' kept parts over a sliding buffer and hands back finished samples.

    The buffer is ``(items, K, n)``: one item per lead when a single-lead model runs on several
    leads, else one. ``pop(hi)`` returns the stacked samples up to ``hi`` once no later window
    can touch them, so the buffer spans at most one chunk plus one window however long the
    signal is.
    """

    def __init__(self, items: int, classes: int, stacking: str) -> None:
        self.stacking = stacking
        self.lo = 0
        self.acc = np.zeros((items, classes, 0), dtype=np.float32)
        self.count = np.zeros((items, 0), dtype=np.int32)

    def extend(self, hi: int) -> None:
        """Make room for samples up to global index ``hi``."""
        grow = hi - self.lo - self.count.shape[-1]
        if grow > 0:
            self.acc = np.concatenate(
                [self.acc, np.zeros((*self.acc.shape[:-1], grow), dtype=np.float32)], axis=-1
            )
            self.count = np.concatenate(
                [self.count, np.zeros((self.count.shape[0], grow), dtype=np.int32)], axis=-1
            )

    def add(self, probs: np.ndarray, start: int, keep: tuple[int, int], item: int = 0) -> None:
        """Add one window's ``(K, width)`` probabilities that begin at global ``start``."""
        lo, hi = int(keep[0]), int(keep[1])
        self.extend(hi)
        part = probs[:, lo - start : hi - start]
        target = self.acc[item, :, lo - self.lo : hi - self.lo]
        if self.stacking == "max":
            np.maximum(target, part, out=target)
        else:
            target += part
        self.count[item, lo - self.lo : hi - self.lo] += 1

    def pop(self, hi: int) -> tuple[int, np.ndarray]:
        """Stacked samples ``[self.lo, hi)`` as ``(items, K, n)``; they leave the buffer."""
        n = hi - self.lo
        if n > self.count.shape[-1] or (n > 0 and self.count[:, :n].min() == 0):
            raise RuntimeError("stitching left samples uncovered (blinding > overlap / 2?)")
        out = self.acc[..., :n]
        if self.stacking == "mean":
            out = out / self.count[:, None, :n]
        start = self.lo
        self.acc, self.count = self.acc[..., n:].copy(), self.count[:, n:].copy()
        self.lo = hi
        return start, out.astype(np.float32, copy=False)


def stack_windows(
    probs: np.ndarray, starts: np.ndarray, length: int, options: WindowOptions
) -> np.ndarray:
    """Stitch per-window probabilities ``(n, ..., K, width)`` into ``(..., K, length)``.

    Each window contributes its :func:`keep_spans` part; overlapping parts are averaged
    (``stacking="mean"``) or maximized (``"max"``). Padding beyond ``length`` is dropped.
    """
    probs = np.asarray(probs, dtype=np.float32)
    lead_shape = probs.shape[1:-2]
    flat = probs.reshape(len(probs), -1, *probs.shape[-2:])
    stitcher = _Stitcher(flat.shape[1], flat.shape[2], options.stacking)
    stitcher.extend(length)
    for window, start, keep in zip(flat, starts, keep_spans(starts, length, options), strict=True):
        for item, item_probs in enumerate(window):
            stitcher.add(item_probs, int(start), keep, item)
    out = stitcher.pop(length)[1]
    return out.reshape(*lead_shape, *out.shape[1:])


# --------------------------------------------------------------------------------------------
# running windows


def _as_backend(backend_or_model: Any) -> Backend:
    """A :class:`~sigseg.inference.backends.Backend`; a torch model is wrapped on the CPU."""
    from torch import nn

    from sigseg.inference.backends import TorchBackend

    if isinstance(backend_or_model, nn.Module):
        return TorchBackend(backend_or_model)
    for attr in ("num_classes", "in_channels", "sampling_rate"):
        if not hasattr(backend_or_model, attr):
            raise TypeError(
                f"expected a model or a Backend, got {type(backend_or_model).__name__}"
                f" (no {attr!r})"
            )
    return backend_or_model


def _per_lead(backend: Backend, channels: int) -> bool:
    """Whether each lead runs as its own batch item (a single-lead model on multi-lead input)."""
    if channels == backend.in_channels:
        return False
    if backend.in_channels == 1:
        return True
    raise ValueError(f"the model takes {backend.in_channels} channels; the signal has {channels}")


def _run_region(
    backend: Backend,
    x: np.ndarray,
    offset: int,
    starts: np.ndarray,
    keeps: np.ndarray,
    width: int,
    normalize: Callable[[np.ndarray], np.ndarray],
    per_lead: bool,
    batch_size: int,
    stitcher: _Stitcher,
) -> None:
    """Run the windows at global ``starts`` over ``x`` (a ``(C, n)`` region beginning at global
    ``offset``) in batches, and add their probabilities to ``stitcher``.

    Windows are normalized one by one (as at training time; a batch of full windows at once,
    which gives the same numbers), then padded with zeros to ``width`` if the signal is
    shorter. With ``per_lead`` each lead is its own batch item.
    """
    items = x[:, None, :] if per_lead else x[None]
    n_items = items.shape[0]
    jobs = [(w, i) for w in range(len(starts)) for i in range(n_items)]
    if len(keeps):
        stitcher.extend(int(np.max(keeps[:, 1])))  # grow the buffer once, not per window
    for b in range(0, len(jobs), batch_size):
        chunk = jobs[b : b + batch_size]
        windows = []
        for w, i in chunk:
            s = int(starts[w]) - offset
            windows.append(items[i, :, s : s + width])
        if all(window.shape[-1] == width for window in windows):
            batch = np.ascontiguousarray(normalize(np.stack(windows)), dtype=np.float32)
        else:
            batch = np.zeros((len(chunk), items.shape[1], width), dtype=np.float32)
            for row, window in enumerate(windows):
                batch[row, :, : window.shape[-1]] = normalize(window)
        probs = logits_to_probs(backend(batch), axis=1)
        if probs.shape[0] != len(chunk) or probs.shape[-1] != width:
            raise RuntimeError(
                f"backend returned shape {probs.shape} for a batch of "
                f"{batch.shape}; expected (N, K, L) with the same N and L"
            )
        for row, (w, i) in enumerate(chunk):
            stitcher.add(probs[row], int(starts[w]), keeps[w], i)


def predict_array(
    backend: Backend | Any,
    x: np.ndarray,
    options: WindowOptions | None = None,
    *,
    normalize: str = "none",
) -> np.ndarray:
    """Probabilities for a ``(C, L)`` signal already at the model's rate.

    Runs overlapping windows in batches, applies softmax (``K >= 2``) or sigmoid (``K = 1``),
    and stacks. ``normalize`` is applied to each window (as :func:`predict_long` does with the
    model's preprocessing). Returns ``(K, L)``, or ``(C, K, L)`` when a single-lead model runs
    on ``C > 1`` leads (each lead is its own batch item).
    """
    backend = _as_backend(backend)
    options = options or WindowOptions()
    x = _as_2d(x)
    length = x.shape[-1]
    per_lead = _per_lead(backend, x.shape[0])
    starts = plan_windows(length, options)
    keeps = keep_spans(starts, length, options)
    stitcher = _Stitcher(x.shape[0] if per_lead else 1, backend.num_classes, options.stacking)
    stitcher.extend(length)
    _run_region(
        backend,
        x,
        0,
        starts,
        keeps,
        window_width(length, options),
        lambda w: normalize_signal(w, normalize),
        per_lead,
        options.batch_size,
        stitcher,
    )
    probs = stitcher.pop(length)[1]
    return probs if per_lead else probs[0]


# --------------------------------------------------------------------------------------------
# long signals at any rate


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

    def __init__(self, source: SignalSource, prep: Preprocessing) -> None:
        self.source, self.prep = source, prep
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

    def read(self, ms: int, me: int) -> np.ndarray:
        if self.margin == 0 and self.up == self.down:
            return _checked(self.source.read(ms, me), ms, me)
        up, down = self.up, self.down
        ja = max(0, ms * down // up - self.margin)
        ja -= ja % down  # the chunk's first output sample lies on the global grid
        jb = min(self.n_in, -(-me * down // up) + self.margin)
        x = _checked(self.source.read(ja, jb), ja, jb)
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


def _checked(x: np.ndarray, start: int, stop: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[-1] != stop - start:
        raise ValueError(
            f"source.read({start}, {stop}) returned shape {x.shape}, expected (C, {stop - start})"
        )
    bad = ~np.isfinite(x)
    if bad.any():  # NaN would spread through normalization and the model into every wave
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


def iter_predict_long(
    backend_or_model: Backend | Any,
    source: np.ndarray | SignalSource,
    fs: float | None = None,
    *,
    preprocessing: Preprocessing | dict[str, Any] | None = None,
    options: WindowOptions | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> Iterator[tuple[int, np.ndarray]]:
    """Stream probabilities for a signal of any length at any rate as ``(start, block)``.

    ``block`` is ``(K, n)`` (or ``(C, K, n)`` for a single-lead model on ``C`` leads) for input
    samples ``[start, start + n)``; consecutive blocks tile the input. Steps, per chunk of about
    ``chunk_size`` model-rate samples: read the input slice with a margin, resample it to the
    model's rate (:meth:`Preprocessing.to_model_rate`), normalize each window
    (:meth:`Preprocessing.normalize_window`), run the windows in batches, stack, and map the
    probabilities back to the input's samples by linear interpolation. Memory is bounded by
    the chunk, window and batch sizes, not by the recording's length.
    """
    if not _is_int(chunk_size) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    backend = _as_backend(backend_or_model)
    options = options or WindowOptions()
    prep = resolve_preprocessing(backend, preprocessing)
    reader = _ModelRateReader(as_source(source, fs), prep)
    n_model = reader.num_samples
    starts = plan_windows(n_model, options)
    keeps = keep_spans(starts, n_model, options)
    width = window_width(n_model, options)
    per_group = max(1, -(-chunk_size // options.step))
    mapper = _RateMapper(reader.up, reader.down, reader.n_in, n_model)
    stitcher: _Stitcher | None = None
    per_lead = False
    for g0 in range(0, len(starts), per_group):
        g1 = min(g0 + per_group, len(starts))
        ms, me = int(starts[g0]), min(int(starts[g1 - 1]) + width, n_model)
        x = reader.read(ms, me)
        if stitcher is None:
            per_lead = _per_lead(backend, x.shape[0])
            stitcher = _Stitcher(
                x.shape[0] if per_lead else 1, backend.num_classes, options.stacking
            )
        _run_region(
            backend,
            x,
            ms,
            starts[g0:g1],
            keeps[g0:g1],
            width,
            prep.normalize_window,
            per_lead,
            options.batch_size,
            stitcher,
        )
        done = int(keeps[g1][0]) if g1 < len(starts) else n_model
        mapped = mapper.push(*stitcher.pop(done))
        if mapped is not None:
            yield mapped[0], mapped[1] if per_lead else mapped[1][0]


def predict_long(
    backend_or_model: Backend | Any,
    source: np.ndarray | SignalSource,
    fs: float | None = None,
    *,
    preprocessing: Preprocessing | dict[str, Any] | None = None,
    options: WindowOptions | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> np.ndarray:
    """Probabilities ``(K, L_input)`` (or ``(C, K, L_input)`` for a single-lead model on ``C``
    leads) for a whole signal at its own rate: :func:`iter_predict_long`, concatenated.

    The output is held in memory; for recordings too long for that, iterate
    :func:`iter_predict_long` and write the blocks out as they come.
    """
    src = as_source(source, fs)
    out: np.ndarray | None = None
    for start, block in iter_predict_long(
        backend_or_model, src, preprocessing=preprocessing, options=options, chunk_size=chunk_size
    ):
        if out is None:
            out = np.empty((*block.shape[:-1], src.num_samples), dtype=np.float32)
        out[..., start : start + block.shape[-1]] = block
    assert out is not None
    return out
