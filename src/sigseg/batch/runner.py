"""A batch run on one machine: recordings read ahead in a thread while the model runs,
short ones batched into shared model calls, rows committed shard by shard.

The read-ahead thread opens each recording, reads a short one whole and cuts it into
normalized windows (:meth:`~sigseg.batch.jobs.Job.load`): file reading, resampling and
normalization overlap the model call, which releases the GIL (ONNX Runtime and PyTorch
both do). At most a few recordings wait, so memory is bounded whatever the number
of recordings; a long recording is streamed in bounded memory by the main thread.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigseg.batch.inputs import Item
from sigseg.batch.jobs import Job, JobSpec, Loaded, error_rows
from sigseg.batch.progress import Progress
from sigseg.batch.shards import RunFolder, plan_ranges
from sigseg.batch.tables import Rows, to_tables
from sigseg.inference.ahead import ahead
from sigseg.inference.batching import DEFAULT_BATCH_ITEMS, run_prepared

SHARD_SIZE = 256
"""Recordings per shard: what a crash can lose, at most (plus the shard's flush time)."""
SHARD_SECONDS = 60.0
"""A shard is committed early once it has taken this long (long recordings)."""


@dataclass(frozen=True)
class RunSummary:
    """What a run did: the final ``state`` (``run.json``), the recordings done now and the
    ones done before (a resumed run), and the first few errors."""

    state: dict[str, Any]
    ran: int
    skipped: int
    errors: list[str]
    seconds: float


def process(
    job: Job, items: Iterable[Item], batch_items: int = DEFAULT_BATCH_ITEMS
) -> Iterator[tuple[Item, Rows]]:
    """Each recording's rows, in order: short recordings read ahead and batched, long ones
    streamed, failures as error rows."""
    pending: list[Loaded] = []
    rows = 0
    depth = max(4, 2 * batch_items)
    for loaded in ahead(map(job.load, items), depth):
        if loaded.prepared is None:
            yield from _run(job, pending, batch_items)
            pending, rows = [], 0
            if loaded.error is not None:
                yield loaded.item, Rows(errors=[_error(loaded.item, loaded.error)])
            else:
                yield loaded.item, _guarded(job.stream, loaded.item)
            continue
        pending.append(loaded)
        rows += len(loaded.prepared.windows)
        if rows >= batch_items:
            yield from _run(job, pending, batch_items)
            pending, rows = [], 0
    yield from _run(job, pending, batch_items)


def _run(job: Job, loaded: Sequence[Loaded], batch_items: int) -> Iterator[tuple[Item, Rows]]:
    if not loaded:
        return
    started = time.perf_counter()
    by_key = {item.item.index: item for item in loaded}
    ran = list(run_prepared(job.backend, [item.prepared for item in loaded], batch_items))
    share = (time.perf_counter() - started) / len(loaded)
    for prepared, probs in ran:
        item = by_key[prepared.key]
        t0 = time.perf_counter()
        try:
            rows = job.finish(item, probs)
        except Exception as err:  # a recording that cannot be decoded is recorded
            yield item.item, error_rows(item.item, err)
            continue
        rows.recordings[0]["seconds"] = item.seconds + share + time.perf_counter() - t0
        yield item.item, rows


def _guarded(fn: Callable[[Item], Rows], item: Item) -> Rows:
    try:
        return fn(item)
    except Exception as err:  # a recording that cannot be read or run is recorded
        return error_rows(item, err)


def _error(item: Item, message: str) -> dict[str, Any]:
    return {"recording": item.name, "path": str(item.path), "error": message}


def run_batch(
    job: Job | JobSpec,
    items: Sequence[Item],
    out: Path,
    settings: dict[str, Any],
    *,
    overwrite: bool = False,
    shard_size: int = SHARD_SIZE,
    batch_items: int = DEFAULT_BATCH_ITEMS,
    progress: Callable[[int, int], Progress] | None = None,
    workers: int = 1,
) -> RunSummary:
    """Run ``job`` over ``items`` into the run folder ``out`` (see :mod:`sigseg.batch`):
    resume the run there with the same settings and recordings, refuse another unless
    ``overwrite``; commit a shard every ``shard_size`` recordings (or
    :data:`SHARD_SECONDS`), then assemble the tables. A :class:`~sigseg.batch.jobs.JobSpec`
    with ``workers > 1`` runs in that many local processes
    (:mod:`~sigseg.batch.workers`), with the same tables."""
    if shard_size < 1:
        raise ValueError(f"--shard-size must be >= 1, got {shard_size}")
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    started = time.perf_counter()
    run = RunFolder.open(out, items, settings, job.tables, overwrite=overwrite)
    if run.complete:
        return RunSummary(run.state, 0, len(items), [], 0.0)
    todo = run.todo()
    ends = {last for _, last in plan_ranges(todo, shard_size)}
    errors: list[str] = []
    bar = progress(len(items), len(items) - len(todo)) if progress else None
    with bar or contextlib.nullcontext():
        shard, shard_first, shard_start = Rows(), None, time.perf_counter()
        for item, rows in _results(job, [items[i] for i in todo], batch_items, workers):
            if shard_first is None:
                shard_first, shard_start = item.index, time.perf_counter()
            shard.extend(rows)
            errors += [e["error"] for e in rows.errors][: max(0, 5 - len(errors))]
            if bar is not None:
                bar.advance(failed=bool(rows.errors))
            if item.index in ends or time.perf_counter() - shard_start >= SHARD_SECONDS:
                run.commit(shard_first, item.index, to_tables(shard, job.tables))
                shard, shard_first = Rows(), None
    seconds = time.perf_counter() - started
    state = run.assemble({"seconds": round(seconds, 3)})
    return RunSummary(state, len(todo), len(items) - len(todo), errors, seconds)


def _results(
    job: Job | JobSpec, items: Sequence[Item], batch_items: int, workers: int
) -> Iterator[tuple[Item, Rows]]:
    """:func:`process` here, or in worker processes when a spec asks for several."""
    if isinstance(job, JobSpec) and workers > 1 and len(items) > 1:
        from sigseg.batch.workers import process_in_workers

        return process_in_workers(job, items, workers)
    return process(job.build() if isinstance(job, JobSpec) else job, items, batch_items)
