"""Batch runs on one machine: the tables hold what the single-file commands find, bad
recordings are recorded and the run goes on, a run resumes after a crash to the same
tables, and existing output is never overwritten silently."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow.parquet as pq
import pytest
from batch_tables import assert_same_tables, read_tables
from cli_helpers import CliResult
from labelled_data import write_folder

import sigseg
from sigseg.batch import SegmentJob, collect_inputs, run_batch
from sigseg.batch.shards import SHARDS
from sigseg.inference.segment import load_segmenter, segment_source

ECG_TABLES = ("events", "intervals", "recordings", "errors")
SEGMENT_TABLES = ("events", "recordings", "errors")


def test_ecg_tables_hold_what_delineate_finds(
    cli: Callable[..., CliResult], ludb_list: Callable[[int], Path], tmp_path: Path
) -> None:
    listing = ludb_list(6)
    result = cli("delineate", f"@{listing}", "--out", tmp_path / "run", "--combine-leads")
    assert result.code == 0, result.err
    assert "delineated 6 recordings" in result.out
    tables = read_tables(tmp_path / "run", ECG_TABLES)
    state = json.loads((tmp_path / "run" / "run.json").read_text())
    assert state["status"] == "complete" and state["backend"] == "onnx"
    assert state["counts"]["events"] == len(tables["events"])
    assert not (tmp_path / "run" / SHARDS).exists()
    assert tables["errors"].empty and len(tables["recordings"]) == 6
    first = tables["recordings"].iloc[0]
    assert (first.sampling_rate, first.duration_s, first.n_channels) == (500.0, 10.0, 12)
    # record 1 as the API delineates it, with the same (ONNX) backend
    path = Path(listing.read_text().splitlines()[0])
    import wfdb

    record = wfdb.rdrecord(str(path))
    api = sigseg.delineate(
        record.p_signal.T, 500.0, channels=record.sig_name, combine_leads=True, backend="onnx"
    )
    events = tables["events"][tables["events"].recording == str(path)]
    waves = api.waves
    assert len(events) == len(waves) > 100
    np.testing.assert_allclose(events.onset, waves.onset_s, atol=1e-9)
    np.testing.assert_allclose(events.offset, (waves.offset + 1) / 500.0, atol=1e-9)
    assert events.channel.tolist() == waves.lead.tolist()
    assert events.label.tolist() == waves.kind.tolist()
    assert events.score.between(0.25, 1.0).all()  # the mean probability of the wave's class
    intervals = tables["intervals"][tables["intervals"].recording == str(path)]
    np.testing.assert_allclose(
        intervals.qrs_ms.to_numpy(float), api.intervals.qrs_ms.to_numpy(float), equal_nan=True
    )


def test_bad_recordings_are_recorded_and_the_run_goes_on(
    cli: Callable[..., CliResult], ludb_root: Path, tmp_path: Path
) -> None:
    (tmp_path / "garbage.edf").write_bytes(b"not an EDF file at all" * 10)
    np.save(tmp_path / "short.npy", np.zeros((1, 100), np.float32))
    manifest = tmp_path / "set.yaml"
    manifest.write_text(f"root: {tmp_path}\nrecordings: [missing.edf, garbage.edf, short.npy]\n")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{ludb_root / '1'}\n")
    result = cli("delineate", manifest, f"@{listing}", "--out", tmp_path / "run", "--fs", "500")
    assert result.code == 1
    assert "3 recording(s) failed" in result.err
    tables = read_tables(tmp_path / "run", ECG_TABLES)
    errors = tables["errors"]
    assert errors.recording.tolist() == ["missing", "garbage", "short"]
    assert all("\n" not in e and str(tmp_path) in e for e in errors.error)
    assert "0.6 s" in errors.error.iloc[2]  # too short for a P-QRS-T complex
    assert tables["recordings"].recording.tolist() == [str(ludb_root / "1")]


def test_a_recording_too_long_for_memory_is_recorded(generic_model: Path, tmp_path: Path) -> None:
    """A ``states`` task holds a long recording's probabilities: one that would not fit is
    recorded (the other kinds stream their events)."""
    from sigseg.checkpoint import load_checkpoint, save_checkpoint
    from sigseg.tasks import Task

    model, _ = load_checkpoint(generic_model)
    states = Task("stages", ("w", "n1", "n2"), kind="states")
    model_path = save_checkpoint(model, tmp_path / "states.safetensors", task=states)
    folder = write_folder(tmp_path / "data", "states", 2, recordings=2)
    long = np.random.default_rng(0).standard_normal((2, 400_000)).astype(np.float32)
    np.save(folder / "long.npy", long)
    job = SegmentJob(load_segmenter(model_path, "torch"), fs=100.0, memory_limit=10_000_000)
    items = collect_inputs([str(folder)])
    summary = run_batch(job, items, tmp_path / "run", {"test": 1})
    errors = read_tables(tmp_path / "run", SEGMENT_TABLES)["errors"]
    assert errors.recording.tolist() == ["long"]
    assert "too long to segment in memory" in errors.error.iloc[0]
    assert summary.state["counts"]["recordings"] == 2


def test_segment_tables_hold_what_segment_finds(
    cli: Callable[..., CliResult], generic_model: Path, tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "data", "segments", 2, recordings=5)
    result = cli("segment", generic_model, folder, "--out", tmp_path / "run", "--plot")
    assert result.code == 0, result.err
    tables = read_tables(tmp_path / "run", SEGMENT_TABLES)
    assert len(tables["recordings"]) == 5 and tables["errors"].empty
    assert sorted(p.name for p in (tmp_path / "run" / "plots").iterdir())[0] == "sub-00_run-0.png"
    segmenter = load_segmenter(generic_model, "torch")
    import soundfile

    for name in ("sub-00_run-0", "sub-04_run-0"):
        x, fs = soundfile.read(folder / f"{name}.wav", dtype="float32")
        alone = segment_source(segmenter, x.T, float(fs)).events
        events = tables["events"][tables["events"].recording == name]
        assert len(events) == len(alone) > 0
        np.testing.assert_allclose(events.onset, alone.onset, atol=1e-9)
        np.testing.assert_allclose(events.offset, alone.onset + alone.duration, atol=1e-9)
        assert events.label.tolist() == alone.label.tolist()


def test_existing_output_is_never_overwritten_silently(
    cli: Callable[..., CliResult], ludb_list: Callable[[int], Path], tmp_path: Path
) -> None:
    run = tmp_path / "run"
    assert cli("delineate", f"@{ludb_list(2)}", "--out", run).code == 0
    before = (run / "events.parquet").read_bytes()
    again = cli("delineate", f"@{ludb_list(2)}", "--out", run)
    assert again.code == 0 and "already complete" in again.out
    other = cli("delineate", f"@{ludb_list(3)}", "--out", run)
    assert other.code == 2 and "--overwrite" in other.err and len(other.err.splitlines()) == 1
    assert (run / "events.parquet").read_bytes() == before
    replaced = cli("delineate", f"@{ludb_list(3)}", "--out", run, "--overwrite")
    assert replaced.code == 0
    assert len(pq.read_table(run / "recordings.parquet")) == 3
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep")
    refused = cli("delineate", f"@{ludb_list(2)}", "--out", tmp_path / "notes", "--overwrite")
    assert refused.code == 2 and "holds no batch run" in refused.err
    assert (tmp_path / "notes" / "mine.txt").read_text() == "keep"


def test_an_interrupted_run_resumes_to_the_same_tables(
    ludb_list: Callable[[int], Path], tmp_path: Path
) -> None:
    from sigseg.batch import DelineateJob
    from sigseg.batch.progress import Progress
    from sigseg.inference.backends import load_backend
    from sigseg.pretrained import resolve_model

    job = DelineateJob(load_backend(resolve_model(None), "onnx"))
    items = collect_inputs([f"@{ludb_list(9)}"])
    run_batch(job, items, tmp_path / "whole", {"k": 1}, shard_size=2)

    class Interrupt(Progress):
        def advance(self, failed: bool = False) -> None:
            super().advance(failed)
            if self.done == 5:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(
            job,
            items,
            tmp_path / "cut",
            {"k": 1},
            shard_size=2,
            progress=lambda total, done: Interrupt(total, done, "x", tty=False),
        )
    assert len(list((tmp_path / "cut" / SHARDS).glob("0*"))) == 2  # recordings 0-3 kept
    summary = run_batch(job, items, tmp_path / "cut", {"k": 1}, shard_size=3)
    assert (summary.ran, summary.skipped) == (5, 4)
    assert_same_tables(tmp_path / "whole", tmp_path / "cut", ECG_TABLES)


def test_a_killed_process_resumes_to_the_same_tables(
    ludb_list: Callable[[int], Path], tmp_path: Path
) -> None:
    listing = ludb_list(16)
    command = [sys.executable, "-m", "sigseg", "delineate", f"@{listing}", "--shard-size", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    whole = subprocess.run([*command, "--out", str(tmp_path / "whole")], env=env, check=False)
    assert whole.returncode == 0
    cut = tmp_path / "cut"
    process = subprocess.Popen([*command, "--out", str(cut)], env=env)
    deadline = time.monotonic() + 120
    while not list((cut / SHARDS).glob("0*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    workers = psutil.Process(process.pid).children(recursive=True)  # fork server, workers
    assert len(workers) >= 2
    process.send_signal(signal.SIGKILL)
    process.wait()
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, f"worker processes outlived their killed run: {alive}"
    state = json.loads((cut / "run.json").read_text())
    assert state["status"] == "running", "the run ended before it could be killed"
    done = len(list((cut / SHARDS).glob("0*")))
    assert 1 <= done < 8
    rerun = subprocess.run([*command, "--out", str(cut)], env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "done before" in rerun.stdout
    assert_same_tables(tmp_path / "whole", cut, ECG_TABLES)
    recordings = pd.read_parquet(cut / "recordings.parquet")
    assert recordings.recording.is_unique and len(recordings) == 16


def test_ctrl_c_says_how_to_resume(ludb_list: Callable[[int], Path], tmp_path: Path) -> None:
    command = [sys.executable, "-m", "sigseg", "delineate", f"@{ludb_list(12)}"]
    command += ["--shard-size", "2", "--out", str(tmp_path / "run")]
    # a shell's background job ignores SIGINT, and its children inherit that: restore it
    process = subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not list((tmp_path / "run" / SHARDS).glob("0*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("interrupted: the shards committed in")
    rerun = subprocess.run(command, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    recordings = pd.read_parquet(tmp_path / "run" / "recordings.parquet")
    assert recordings.recording.is_unique and len(recordings) == 12


def test_a_long_recording_streams_to_the_rows_delineate_writes(
    cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recording longer than one window (here 4 minutes) is streamed, its rows packed into
    Arrow as they come; the events are the waves ``sigseg delineate`` writes for it."""
    import sigseg.batch.tables
    from sigseg.tasks.ecg.synthetic import write_synthetic_wfdb

    monkeypatch.setattr(sigseg.batch.tables, "PACK_ROWS", 100)
    record = write_synthetic_wfdb(tmp_path / "long", 4 / 60, fs=500.0, leads=2, seed=1)
    single = cli("delineate", record, "--out", tmp_path / "single", "--no-plot")
    assert single.code == 0, single.err
    batch = cli("delineate", record, "--batch", "--out", tmp_path / "run")
    assert batch.code == 0, batch.err
    waves = pd.read_csv(tmp_path / "single" / "long_waves.csv")
    tables = read_tables(tmp_path / "run", ECG_TABLES)
    events = tables["events"]
    assert len(events) == len(waves) > 500
    order = waves.sort_values(["lead", "onset"], kind="stable")
    mine = events.sort_values(["channel", "onset"], kind="stable")
    np.testing.assert_allclose(mine.onset, order.onset_s, atol=1e-6)
    assert mine.label.tolist() == order.kind.tolist()
    assert tables["recordings"].n_events.tolist() == [len(waves)]
    intervals = pd.read_csv(tmp_path / "single" / "long_intervals.csv")
    assert len(tables["intervals"]) == len(intervals)
