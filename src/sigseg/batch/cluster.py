"""A batch run on a Ray cluster: the same run folder and tables as one machine, with the
recordings spread over workers.

Each worker is a Ray actor that builds the job once (:class:`~sigseg.batch.jobs.JobSpec`:
its own model, one inference thread per CPU it holds), reads its recordings itself, runs
them as the single-machine runner does (read-ahead, shared model calls) and commits each
range it is given as a shard of the run folder (:mod:`sigseg.batch.shards`). The driver
only plans the ranges, hands them out through an actor pool, and joins the shards into the
tables at the end, so the tables equal a single-process run's.

A worker that dies mid-range is restarted and the range retried (``max_restarts``,
``max_task_retries``); a range whose shard was committed before the worker died is not
written twice (the commit is a rename, and the second one finds the shard there). The run
folder must be on storage that every node sees (one machine's disk, NFS, a mounted
bucket); so must the recordings.

Where it stops scaling: the driver does little (one small task per range, and the final
join, which reads every shard once and writes the tables sequentially: about a second per
million event rows on this machine), so with shards of hundreds of recordings the limits are
the workers' reads from shared storage and, at the end, the join.

    run_on_ray(spec, items, out, settings, address="local", workers=2)
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sigseg.batch.inputs import Item
from sigseg.batch.jobs import JobSpec
from sigseg.batch.progress import Progress
from sigseg.batch.runner import SHARD_SIZE, RunSummary
from sigseg.batch.shards import RunFolder, plan_ranges
from sigseg.batch.workers import CHUNKS_PER_WORKER

LOCAL = "local"
"""``--ray local``: start a Ray cluster on this machine (127.0.0.1) for the run."""


def _ray() -> Any:
    from sigseg.optional import require

    return require("ray", "batch runs on a cluster (--ray)")


class ShardWorker:
    """One worker: a job built once, and the run folder it commits shards to."""

    def __init__(self, spec: JobSpec, out: str, count: int, tables: Sequence[str]) -> None:
        # one inference thread per worker (it holds one CPU) unless asked otherwise
        self.job = dataclasses.replace(spec, threads=spec.threads or 1).build()
        self.run = RunFolder(Path(out), count, tables, {})

    def pid(self) -> int:
        return os.getpid()

    def run_range(self, first: int, items: list[Item]) -> tuple[int, int, list[str]]:
        """Run recordings ``items`` (the range starting at ``first``) and commit their
        shard; returns the range and its errors."""
        from sigseg.batch.runner import process
        from sigseg.batch.tables import Rows, to_tables

        last = first + len(items) - 1
        rows, errors = Rows(), []
        for _, found in process(self.job, items):
            errors += [e["error"] for e in found.errors]
            rows.extend(found)
        self.run.commit(first, last, to_tables(rows, self.job.tables))
        return first, last, errors


def connect(address: str, workers: int | None) -> bool:
    """Join the cluster at ``address``, or start a local one (``local``); ``False`` when
    Ray was already initialized in this process (it is then left running)."""
    ray = _ray()
    if ray.is_initialized():
        return False
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address == LOCAL:
        ray.init(
            num_cpus=workers or os.cpu_count(),
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            **quiet,
        )
    else:
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise ValueError(f"--ray {address}: cannot join the cluster ({err})") from None
    return True


def run_on_ray(
    spec: JobSpec,
    items: Sequence[Item],
    out: Path,
    settings: dict[str, Any],
    *,
    address: str = LOCAL,
    workers: int | None = None,
    overwrite: bool = False,
    shard_size: int = SHARD_SIZE,
    progress: Callable[[int, int], Progress] | None = None,
    retries: int = 3,
) -> RunSummary:
    """:func:`~sigseg.batch.runner.run_batch` on a Ray cluster (see the module docstring):
    ``workers`` actors (default: one per CPU of the cluster), each building its job from
    ``spec``."""
    if shard_size < 1:
        raise ValueError(f"--shard-size must be >= 1, got {shard_size}")
    started = time.perf_counter()
    run = RunFolder.open(out, items, settings, spec.tables, overwrite=overwrite)
    if run.complete:
        return RunSummary(run.state, 0, len(items), [], 0.0)
    todo = run.todo()
    ray = _ray()
    from ray.util import ActorPool

    started_here = connect(address, workers)
    try:
        count = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        # ranges small enough that every worker gets several (they then end close together)
        share = math.ceil(len(todo) / (count * CHUNKS_PER_WORKER))
        ranges = plan_ranges(todo, max(1, min(shard_size, share)))
        count = max(1, min(count, len(ranges)))
        actor = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=retries)(ShardWorker)
        pool = ActorPool(
            [actor.remote(spec, str(out.resolve()), len(items), spec.tables) for _ in range(count)]
        )
        errors: list[str] = []
        bar = progress(len(items), len(items) - len(todo)) if progress else None
        with bar or contextlib.nullcontext():
            work = [(first, list(items[first : last + 1])) for first, last in ranges]
            for first, last, found in pool.map_unordered(lambda a, w: a.run_range.remote(*w), work):
                errors += found[: max(0, 5 - len(errors))]
                if bar is not None:
                    for i in range(first, last + 1):
                        bar.advance(failed=i - first < len(found))
    finally:
        if started_here:
            ray.shutdown()
    seconds = time.perf_counter() - started
    state = run.assemble({"seconds": round(seconds, 3)})
    return RunSummary(state, len(todo), len(items) - len(todo), errors, seconds)
