"""Batch runs on a local Ray cluster (127.0.0.1, 2 CPUs, shared by the module's tests): the
tables equal a single-process run's (any task from the command line; ECG through the API),
and a worker killed mid-job loses no recording and duplicates none."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import psutil
import pytest
import ray
from batch_tables import assert_same_tables
from cli_helpers import CliResult
from labelled_data import write_folder
from mid_run import kill_a_worker_mid_run

from sigseg.batch import collect_inputs, run_batch
from sigseg.batch.cluster import run_on_ray
from sigseg.batch.jobs import JobSpec
from sigseg.pretrained import resolve_model

ECG_TABLES = ("events", "intervals", "recordings", "errors")


@pytest.fixture(scope="module", autouse=True)
def cluster() -> Iterator[None]:
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
    )
    yield
    ray.shutdown()


def ecg_spec() -> JobSpec:
    return JobSpec("delineate", str(resolve_model(None)), "onnx", threads=1)


def test_segment_on_the_cluster_from_the_command_line(
    cli: Callable[..., CliResult], generic_model: Path, tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "data", "states", 2, recordings=6)
    one = cli("segment", generic_model, folder, "--out", tmp_path / "one")
    assert one.code == 0, one.err
    on_ray = cli(
        "segment",
        generic_model,
        folder,
        "--out",
        tmp_path / "ray",
        "--ray",
        "local",
        "--shard-size",
        "2",
    )
    assert on_ray.code == 0, on_ray.err
    assert "segmented 6 recordings" in on_ray.out
    assert_same_tables(tmp_path / "one", tmp_path / "ray", ("events", "recordings", "errors"))


def _workers() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if cmdline and cmdline[0].startswith("ray::ShardWorker"):
            found.append(process)
    return found


def test_a_worker_killed_mid_job_loses_and_duplicates_nothing(
    ludb_list: Callable[[int], Path], tmp_path: Path
) -> None:
    items = collect_inputs([f"@{ludb_list(12)}"])
    run = tmp_path / "ray"

    def running() -> list[psutil.Process]:
        return [p for p in _workers() if "run_range" in " ".join(p.cmdline())]

    killed, outcome = kill_a_worker_mid_run(
        lambda: run_on_ray(ecg_spec(), items, run, {"k": 1}, shard_size=1), run, running
    )
    assert killed is not None, "no worker was busy to kill"
    assert "error" not in outcome, outcome.get("error")
    recordings = pd.read_parquet(run / "recordings.parquet")
    assert recordings.recording.tolist() == [item.name for item in items]
    run_batch(ecg_spec().build(), items, tmp_path / "one", {"k": 1}, shard_size=5)
    assert_same_tables(tmp_path / "one", run, ECG_TABLES)
