"""Many short recordings through few model calls: the windows of several recordings share a
batch, and each recording's probabilities come back as :func:`~sigseg.inference.predict.
predict_long` gives them.

A 10-s ECG is one window: run alone, every model call carries one recording's leads and the
per-call overhead dominates. Here each recording is *prepared* (read at the model's rate, gaps
filled, cut into normalized windows; a step that can run in a read-ahead thread), then the
windows of consecutive recordings are packed into batches of about ``batch_items`` rows, run,
and stitched back per recording.

A recording shorter than one window runs at its own length (the default); with ``pad_short``
it is padded (after normalization) only to its length plus the model's right receptive
field, rounded up to the model's ``span_period``, rather than to the whole window: every kept
sample then sees exactly the input it sees in the full padded window (zeros past the end), so
the probabilities are the same, for a fraction of the work.

    >>> prepared = [prepare(backend, source, options) for source in sources]  # doctest: +SKIP
    >>> for item, probs in run_prepared(backend, prepared):  # doctest: +SKIP
    ...     ...  # probs: (K, L) or (C, K, L) at the source's own rate
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from sigseg.inference.predict import _as_backend, _per_lead, logits_to_probs
from sigseg.inference.sources import (
    SignalSource,
    _ModelRateReader,
    _RateMapper,
    as_source,
    resolve_preprocessing,
)
from sigseg.inference.windows import (
    WindowOptions,
    _Stitcher,
    keep_spans,
    plan_windows,
    window_width,
)

DEFAULT_BATCH_ITEMS = 12
"""Rows (windows x leads) per model call: a 12-lead ECG, or twelve single-lead ones. More
rows are slower per row on a CPU (ONNX Runtime, the default model, rows of 1664 samples on
2 cores: 12 rows 40-44 ms of CPU per 12 rows, 24 rows 46-49, 48 rows 52-58)."""


@dataclass
class Prepared:
    """One recording cut into normalized windows at the model's rate, ready to run.

    ``windows`` is ``(rows, C', width)``: each window, times each lead for a single-lead model
    on several leads (``per_lead``). ``key`` is the caller's (a recording's name)."""

    key: Any
    windows: np.ndarray
    starts: np.ndarray
    keeps: np.ndarray
    items: int
    per_lead: bool
    n_model: int
    n_in: int
    up: int
    down: int
    stacking: str


def tight_width(backend: Any, n_model: int, options: WindowOptions) -> int:
    """Samples a lone window over ``n_model`` samples needs: the padded window of
    :func:`~sigseg.inference.windows.window_width`, cut to ``n_model`` plus the right
    receptive field, rounded up to the ``span_period`` (same probabilities, less work); the
    whole window for a model whose receptive field is unknown or global."""
    width = window_width(n_model, options)
    field_ = getattr(backend, "receptive_field", None)
    if n_model >= width or field_ is None or field_.is_global:
        return width
    period = max(1, int(getattr(backend, "span_period", 1)))
    needed = -(-(n_model + int(field_.right)) // period) * period
    return min(width, needed)


def prepare(
    backend: Any,
    source: np.ndarray | SignalSource,
    options: WindowOptions,
    *,
    fs: float | None = None,
    key: Any = None,
    fill_gaps: bool = True,
) -> Prepared:
    """Read a whole recording at the model's rate (``fill_gaps``: NaN/Inf filled as
    :func:`~sigseg.inference.predict.iter_predict_long` fills them) and cut it into
    normalized windows."""
    backend = _as_backend(backend)
    prep = resolve_preprocessing(backend)
    reader = _ModelRateReader(as_source(source, fs), prep, fill=fill_gaps)
    n_model = reader.num_samples
    x = reader.read(0, n_model)
    per_lead = _per_lead(backend, x.shape[0])
    starts = plan_windows(n_model, options)
    keeps = keep_spans(starts, n_model, options)
    width = tight_width(backend, n_model, options)
    leads = x[:, None, :] if per_lead else x[None]
    rows = np.zeros((len(starts) * leads.shape[0], leads.shape[1], width), dtype=np.float32)
    for w, start in enumerate(starts.tolist()):
        for i in range(leads.shape[0]):
            window = leads[i, :, start : start + width]
            rows[w * leads.shape[0] + i, :, : window.shape[-1]] = prep.normalize_window(window)
    return Prepared(
        key=key,
        windows=rows,
        starts=starts,
        keeps=keeps,
        items=leads.shape[0],
        per_lead=per_lead,
        n_model=n_model,
        n_in=reader.n_in,
        up=reader.up,
        down=reader.down,
        stacking=options.stacking,
    )


def run_prepared(
    backend: Any, prepared: Iterable[Prepared], batch_items: int = DEFAULT_BATCH_ITEMS
) -> Iterator[tuple[Prepared, np.ndarray]]:
    """Run prepared recordings in shared batches and yield each with its probabilities, in
    order, as soon as its last window has run: ``(K, L)`` (``(C, K, L)`` per lead) at the
    recording's own rate, as :func:`~sigseg.inference.predict.predict_long` gives them.
    Recordings with windows of different widths never share a batch."""
    backend = _as_backend(backend)
    pending: list[Prepared] = []
    rows = 0
    for item in prepared:
        if pending and (
            rows + len(item.windows) > batch_items
            or item.windows.shape[-1] != pending[0].windows.shape[-1]
        ):
            yield from _run_group(backend, pending)
            pending, rows = [], 0
        pending.append(item)
        rows += len(item.windows)
    if pending:
        yield from _run_group(backend, pending)


def _run_group(backend: Any, group: list[Prepared]) -> Iterator[tuple[Prepared, np.ndarray]]:
    """One model call for every window of ``group`` (several when they are many more)."""
    batch = np.concatenate([item.windows for item in group])
    probs = logits_to_probs(backend(batch), axis=1)
    if probs.shape[0] != batch.shape[0] or probs.shape[-1] != batch.shape[-1]:
        raise RuntimeError(
            f"backend returned shape {probs.shape} for a batch of {batch.shape}; "
            "expected (N, K, L) with the same N and L"
        )
    row = 0
    for item in group:
        yield item, _stitch(item, probs[row : row + len(item.windows)], backend.num_classes)
        row += len(item.windows)


def _stitch(item: Prepared, probs: np.ndarray, classes: int) -> np.ndarray:
    """A recording's window probabilities, stacked and mapped back to its own rate."""
    stitcher = _Stitcher(item.items, classes, item.stacking)
    stitcher.extend(item.n_model)
    for w, start in enumerate(item.starts.tolist()):
        for i in range(item.items):
            stitcher.add(probs[w * item.items + i], start, item.keeps[w], i)
    model_rate = stitcher.pop(item.n_model)[1]
    mapped = _RateMapper(item.up, item.down, item.n_in, item.n_model).push(0, model_rate)
    assert mapped is not None and mapped[1].shape[-1] == item.n_in
    return mapped[1] if item.per_lead else mapped[1][0]
