"""Long-signal inference: run a model's windows in batches and stack the probabilities.

:func:`predict_array` runs a signal already at the model's rate; :func:`iter_predict_long` and
:func:`predict_long` take any signal at any rate, read in chunks
(:mod:`sigseg.inference.sources`), so memory is bounded by the chunk, window and batch sizes
rather than by the recording's length. Windows are planned and stitched by
:mod:`sigseg.inference.windows`.

Example::

    model = sigseg.create_model("dilated", num_classes=4)
    probs = predict_long(model, ecg, fs=360.0)  # ecg: (C, L) at 360 Hz -> (K, L) at 360 Hz
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special

from sigseg.data.transforms import Preprocessing, normalize_signal
from sigseg.inference.sources import (
    SignalSource,
    _as_2d,
    _ModelRateReader,
    _RateMapper,
    as_source,
    resolve_preprocessing,
)
from sigseg.inference.windows import (
    WindowOptions,
    _is_int,
    _Stitcher,
    keep_spans,
    plan_windows,
    window_width,
)

if TYPE_CHECKING:
    from sigseg.inference.backends import Backend

DEFAULT_CHUNK = 1 << 16  # model-rate samples per chunk: ~4.4 min at 250 Hz


def logits_to_probs(logits: np.ndarray, axis: int = 1) -> np.ndarray:
    """Probabilities from logits along the class ``axis``: softmax for ``K >= 2`` classes,
    sigmoid for ``K = 1`` (binary), as the model contract prescribes."""
    logits = np.asarray(logits, dtype=np.float32)
    if logits.shape[axis] == 1:
        return special.expit(logits)
    return special.softmax(logits, axis=axis)


# --------------------------------------------------------------------------------------------
# running windows


def _as_backend(backend_or_model: Any) -> Backend:
    """A :class:`~sigseg.inference.backends.Backend`; a torch model is wrapped on the CPU.
    (A torch model exists only once torch is imported, so a backend needs no torch import.)"""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(backend_or_model, torch.nn.Module):
        from sigseg.inference.backends import TorchBackend

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


def iter_predict_long(
    backend_or_model: Backend | Any,
    source: np.ndarray | SignalSource,
    fs: float | None = None,
    *,
    preprocessing: Preprocessing | dict[str, Any] | None = None,
    options: WindowOptions | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    fill_gaps: bool = False,
) -> Iterator[tuple[int, np.ndarray]]:
    """Stream probabilities for a signal of any length at any rate as ``(start, block)``.

    ``block`` is ``(K, n)`` (or ``(C, K, n)`` for a single-lead model on ``C`` leads) for input
    samples ``[start, start + n)``; consecutive blocks tile the input. Steps, per chunk of about
    ``chunk_size`` model-rate samples: read the input slice with a margin, resample it to the
    model's rate (:meth:`Preprocessing.to_model_rate`), normalize each window
    (:meth:`Preprocessing.normalize_window`), run the windows in batches, stack, and map the
    probabilities back to the input's samples by linear interpolation. Memory is bounded by
    the chunk, window and batch sizes, not by the recording's length.

    NaN/Inf samples are refused, or with ``fill_gaps`` filled before resampling (a short run
    by the straight line across it, a long one by ramps to 0: :func:`~sigseg.data.gaps.
    fill_gaps`, the same for any chunks): the model never sees them, and the caller masks its
    outputs there (they say what the model made of the fill, not of the signal).
    """
    if not _is_int(chunk_size) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    backend = _as_backend(backend_or_model)
    options = options or WindowOptions()
    prep = resolve_preprocessing(backend, preprocessing)
    reader = _ModelRateReader(as_source(source, fs), prep, fill=fill_gaps)
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
    fill_gaps: bool = False,
) -> np.ndarray:
    """Probabilities ``(K, L_input)`` (or ``(C, K, L_input)`` for a single-lead model on ``C``
    leads) for a whole signal at its own rate: :func:`iter_predict_long`, concatenated.

    The output is held in memory; for recordings too long for that, iterate
    :func:`iter_predict_long` and write the blocks out as they come. ``fill_gaps``: as there.
    """
    src = as_source(source, fs)
    out: np.ndarray | None = None
    for start, block in iter_predict_long(
        backend_or_model,
        src,
        preprocessing=preprocessing,
        options=options,
        chunk_size=chunk_size,
        fill_gaps=fill_gaps,
    ):
        if out is None:
            out = np.empty((*block.shape[:-1], src.num_samples), dtype=np.float32)
        out[..., start : start + block.shape[-1]] = block
    assert out is not None
    return out
