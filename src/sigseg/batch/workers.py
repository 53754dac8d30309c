"""A batch run spread over local worker processes, one per CPU core by default.

One process cannot keep two cores busy on this work: the model call releases the GIL, but
reading WFDB headers, decoding probabilities into waves and building table rows are Python
that holds it, so a read-ahead thread and the model thread mostly take turns. Worker
processes side-step that: each builds the job once from its :class:`~sigseg.batch.jobs.
JobSpec` (its own model, one inference thread), takes chunks of recordings in turn, runs them
as the single-process runner does (:func:`~sigseg.batch.runner.process`: read-ahead, shared
model calls) and sends back their rows; the parent commits the shards in order, so the tables
equal a single-process run's.

Workers are forked from a fork server (``forkserver``), which imports the libraries once:
the parent may hold threads (a progress bar, ONNX Runtime's pool), which plain ``fork`` would
copy half-way. A worker that dies (out of memory, killed) stops the run with a one-line error;
the shards committed before it are kept, and the same command resumes. Workers ignore Ctrl-C
(the parent stops them after their current chunk) and end by themselves when the parent is
killed outright.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from sigseg.batch.inputs import Item
from sigseg.batch.jobs import Job, JobSpec
from sigseg.batch.runner import process
from sigseg.batch.tables import Rows

MAX_DEFAULT_WORKERS = 8
"""Default workers at most (each holds its own model and libraries: about 220 MB resident)."""
CHUNKS_PER_WORKER = 4
"""Chunks of recordings per worker: enough for the workers to finish close together."""
PARENT_POLL_SECONDS = 0.5
"""How often a worker checks that the run's process is still there."""
MAX_CHUNK = 64
"""Recordings per chunk at most (what a worker holds before sending its rows back)."""

PRELOAD = (
    "sigseg.batch.runner",
    "sigseg.batch.jobs",
    "sigseg.inference.segment",
    "sigseg.tasks.ecg.delineate",
    "sigseg.data.readers",
    "onnxruntime",
    "wfdb",
)
"""Imported once by the fork server, so no worker imports them again (a missing optional one
is skipped)."""

_job: Job | None = None  # the worker's job, built once by _start


def default_workers(device: str = "cpu") -> int:
    """One worker per CPU core this process may use (at most :data:`MAX_DEFAULT_WORKERS`);
    one on a GPU, which a single process keeps busy."""
    if device != "cpu":
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def start_fork_server() -> multiprocessing.context.BaseContext:
    """The ``forkserver`` context, its server started (it imports :data:`PRELOAD`) if it is
    not running yet (``spawn`` where there is no fork server). Called early, the server's
    imports overlap the caller's own start-up."""
    if "forkserver" not in multiprocessing.get_all_start_methods():  # Windows
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    forkserver.ensure_running()
    return context


def chunks(items: Sequence[Item], workers: int) -> list[list[Item]]:
    """``items`` cut into consecutive chunks, about :data:`CHUNKS_PER_WORKER` per worker."""
    size = max(1, min(MAX_CHUNK, math.ceil(len(items) / (workers * CHUNKS_PER_WORKER))))
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _start(spec: JobSpec, parent: int) -> None:
    global _job
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    _job = dataclasses.replace(spec, threads=spec.threads or 1).build()


def _exit_with(parent: int) -> None:
    """End this worker once the run's process is gone (killed with ``kill -9``, say): a
    worker holds its own task queue open, so it would otherwise wait for work forever."""
    while True:
        time.sleep(PARENT_POLL_SECONDS)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)


def _work(chunk: list[Item]) -> list[tuple[Item, Rows]]:
    assert _job is not None, "worker not started"
    return list(process(_job, chunk))


def process_in_workers(
    spec: JobSpec, items: Sequence[Item], workers: int
) -> Iterator[tuple[Item, Rows]]:
    """Each recording's rows, in order, as :func:`~sigseg.batch.runner.process` gives them,
    computed by ``workers`` processes."""
    context = start_fork_server()
    work = chunks(items, workers)
    with ProcessPoolExecutor(
        min(workers, len(work)),
        mp_context=context,
        initializer=_start,
        initargs=(spec, os.getpid()),
    ) as pool:
        try:
            for done in pool.map(_work, work):
                yield from done
        except BrokenProcessPool:
            raise ChildProcessError(  # an OSError: the command line prints it in one line
                "a batch worker process died (out of memory or killed); the committed shards "
                "are kept: run the same command again to resume"
            ) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
