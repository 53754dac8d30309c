"""Batch runs: a whole database of recordings through ``sigseg segment`` (any task) or ECG
``sigseg delineate``, into one run folder of columnar tables, resumable, on one machine or
on a Ray cluster.

A run's inputs are folders, glob patterns, YAML manifests, ``@list`` files or plain files
(:mod:`sigseg.batch.inputs`). Its folder (``--out``) holds, when it completes:

``events.parquet``
    one row per event: ``recording``, ``channel``, ``label``, ``onset``, ``offset``,
    ``peak``, ``score`` (times in seconds from the recording's start; ``offset`` is the end
    of the event's last sample, ``onset + duration``; see :data:`~sigseg.batch.tables.EVENTS`)
``intervals.parquet``
    ECG ``delineate`` only: one row per beat and lead, ``recording`` and the interval
    columns of ``sigseg delineate``'s tables (``lead``, ``qrs_onset``, ``qrs_peak``,
    ``qrs_offset``, ``rr_ms``, ``pr_ms``, ``qrs_ms``, ``qt_ms``, ``qtc_bazett_ms``,
    ``qtc_fridericia_ms``)
``recordings.parquet``
    one row per recording done: ``recording``, ``path``, ``sampling_rate``, ``duration_s``,
    ``n_channels``, ``n_events``, ``gap_s`` (channel-seconds without signal), ``seconds``
    (time spent on it), ``warnings``
``errors.parquet``
    one row per recording that failed (missing, unreadable, too short, too long for
    memory...): ``recording``, ``path``, ``error`` (one line); the run goes on past it
``run.json``
    ``status`` (``running``, then ``complete``), the model, its file's SHA-256, the task,
    backend and options, the sigseg version, the number of recordings, the row ``counts``
    of each table, and the run's fingerprint

Rows are in the run's recording order (the order the inputs name them). While the run goes
on, committed shards sit in ``shards/``; they are joined into the tables at the end and
deleted (:mod:`sigseg.batch.shards`).

**Re-running** the same command on the same folder resumes: the recordings already in a
committed shard are skipped, and the tables equal an uninterrupted run's. A folder holding a
run of other inputs, model or options is refused with a one-line error, unless
``--overwrite`` is given (which deletes that run's files only); a non-empty folder that holds
no run is always refused. A complete run re-run with the same command does nothing.

Modules: :mod:`~sigseg.batch.inputs` (what to run), :mod:`~sigseg.batch.jobs` (one
recording, per task), :mod:`~sigseg.batch.runner` (one process: read-ahead thread,
batched model calls), :mod:`~sigseg.batch.workers` (one machine: worker processes, one per
core by default), :mod:`~sigseg.batch.cluster` (Ray), :mod:`~sigseg.batch.shards`
(the run folder), :mod:`~sigseg.batch.tables` (schemas), :mod:`~sigseg.batch.progress`.
"""

from sigseg.batch.inputs import Item, collect_inputs, is_collection
from sigseg.batch.jobs import DelineateJob, SegmentJob
from sigseg.batch.runner import RunSummary, run_batch

__all__ = [
    "DelineateJob",
    "Item",
    "RunSummary",
    "SegmentJob",
    "collect_inputs",
    "is_collection",
    "run_batch",
]
