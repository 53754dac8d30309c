"""Batch runs in local worker processes (the default on a multi-core CPU): the tables equal a
single-process run's, and a worker that dies stops the run with one line, keeping the
committed shards, so that the same command resumes to the same tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psutil
from batch_tables import assert_same_tables
from mid_run import kill_a_worker_mid_run

from sigseg.batch import collect_inputs, run_batch
from sigseg.batch.jobs import JobSpec
from sigseg.batch.shards import SHARDS
from sigseg.batch.workers import chunks, default_workers
from sigseg.pretrained import resolve_model

ECG_TABLES = ("events", "intervals", "recordings", "errors")


def ecg_spec() -> JobSpec:
    return JobSpec("delineate", str(resolve_model(None)), "onnx")


def test_workers_give_the_single_process_tables(
    ludb_list: Callable[[int], Path], tmp_path: Path
) -> None:
    items = collect_inputs([f"@{ludb_list(14)}"])
    run_batch(ecg_spec(), items, tmp_path / "one", {"k": 1}, shard_size=4, workers=1)
    run_batch(ecg_spec(), items, tmp_path / "two", {"k": 1}, shard_size=4, workers=2)
    assert_same_tables(tmp_path / "one", tmp_path / "two", ECG_TABLES)


def test_chunks_cover_the_items_in_order_and_workers_follow_the_cores() -> None:
    items = list(range(103))
    parts = chunks(items, 2)  # type: ignore[arg-type]
    assert [x for part in parts for x in part] == items and len(parts) == 8
    assert default_workers("cuda") == 1 and 1 <= default_workers() <= 8


def test_a_dead_worker_stops_the_run_and_the_same_command_resumes(
    ludb_list: Callable[[int], Path], tmp_path: Path
) -> None:
    items = collect_inputs([f"@{ludb_list(60)}"])
    run = tmp_path / "run"
    me = psutil.Process()

    def workers() -> list[psutil.Process]:  # the fork server's children, not this process's
        return [p for p in me.children(recursive=True) if p.ppid() != me.pid]

    killed, outcome = kill_a_worker_mid_run(
        lambda: run_batch(ecg_spec(), items, run, {"k": 1}, shard_size=2, workers=2), run, workers
    )
    assert killed is not None, "no worker was busy to kill"
    error = outcome.get("error")
    assert isinstance(error, ChildProcessError) and "run the same command again" in str(error)
    kept = list((run / SHARDS).glob("0*"))
    assert kept and not (run / "events.parquet").exists()

    run_batch(ecg_spec(), items, run, {"k": 1}, shard_size=2, workers=2)  # resumes
    run_batch(ecg_spec(), items, tmp_path / "one", {"k": 1}, shard_size=2, workers=1)
    assert_same_tables(tmp_path / "one", run, ECG_TABLES)
