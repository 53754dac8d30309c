"""``sigseg report``: pages and figures per recording from delineate, segment and batch
results, for ECG, eye movements and any task."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import CliResult, assert_user_error

from sigseg.data.events import events_frame, write_events_tsv
from sigseg.report.eye_movements import main_sequence
from sigseg.report.generic import covered_time
from sigseg.results import RecordingResult, load_results
from sigseg.tasks.ecg.report_figures import NO_BEAT_S, beats, undelineated
from sigseg.tasks.ecg.synthetic import write_synthetic_wfdb

Cli = Callable[..., CliResult]


def _pngs(folder: Path) -> set[str]:
    return {p.stem for p in folder.glob("*.png")}


def test_an_ecg_delineation_gets_its_figures(cli: Cli, tmp_path: Path) -> None:
    record = write_synthetic_wfdb(tmp_path / "ecg", hours=30 / 3600, fs=250.0, leads=2)
    done = cli("delineate", record, "--out", tmp_path / "delineation", "--no-plot")
    assert done.code == 0, done.err
    result = cli("report", tmp_path / "delineation", "--out", tmp_path / "report")
    assert result.code == 0, result.err
    page = tmp_path / "report" / "ecg" / "report.html"
    assert page.is_file() and (tmp_path / "report" / "index.html").is_file()
    assert _pngs(page.parent) == {
        "time_in_class",
        "event_counts",
        "event_durations",
        "ecg_intervals_over_time",
        "ecg_interval_distributions",
        "ecg_wave_counts",
    }
    text = page.read_text(encoding="utf-8")
    for png in _pngs(page.parent):
        assert f"src='{png}.png'" in text
    # the beats the figures plot are the delineation's: about 72 bpm over 30 s, on one lead
    table, lead = beats(load_results(tmp_path / "delineation")[0])
    assert lead in ("syna", "synb") and 25 <= len(table) <= 45
    assert 50 < table["heart_rate"].median() < 100
    again = cli("report", tmp_path / "delineation", "--out", tmp_path / "report")
    assert_user_error(again, str(tmp_path / "report"), "--overwrite")


def test_undelineated_stretches_are_gaps_and_beatless_runs() -> None:
    events = events_frame([1.0, 1.8, 2.6, 9.0, 9.8], [0.1] * 5, ["QRS"] * 5)
    frame = pd.DataFrame(
        {
            "onset": events["onset"],
            "offset": events["onset"] + 0.1,
            "label": "QRS",
            "channel": "ii",
            "peak": np.nan,
        }
    )
    gaps = pd.DataFrame({"onset": [4.0], "offset": [6.0], "kind": ["missing"], "channel": ["ii"]})
    result = RecordingResult("r", Path("r_events.tsv"), frame, gaps)
    table, lead = beats(result)
    assert lead == "ii" and table["rr_ms"].dropna().tolist() == [800.0, 800.0, 6400.0, 800.0]
    assert undelineated(result, table, lead) == [(4.0, 6.0, "no signal"), (2.6, 9.0, "no beats")]
    assert NO_BEAT_S < 6.4


def test_eye_movements_get_the_main_sequence(cli: Cli, tmp_path: Path) -> None:
    fs = 250.0
    t = np.arange(int(4 * fs)) / fs
    x, y = np.zeros_like(t), np.zeros_like(t)
    spans = [(0.5, 0.54, 3.0), (1.5, 1.56, 6.0), (2.5, 2.58, 12.0)]  # onset, offset, amplitude
    for onset, offset, amplitude in spans:  # a ramp of the amplitude along x, held after
        inside = (t >= onset) & (t < offset)
        x[inside] += amplitude * (t[inside] - onset) / (offset - onset)
        x[t >= offset] += amplitude
    pd.DataFrame({"time": t, "x": x, "y": y}).to_csv(tmp_path / "gaze.csv", index=False)
    onsets = [s[0] for s in spans] + [0.0, 0.6, 1.6, 2.6]
    ends = [s[1] for s in spans] + [0.5, 1.5, 2.5, 4.0]
    labels = ["saccade"] * 3 + ["fixation"] * 4
    write_events_tsv(
        events_frame(onsets, np.subtract(ends, onsets), labels), tmp_path / "gaze_events.tsv"
    )
    result = cli(
        "report",
        tmp_path / "gaze_events.tsv",
        "--out",
        tmp_path / "r",
        "--recording",
        tmp_path / "gaze.csv",
    )
    assert result.code == 0, result.err
    assert {"eye_per_class", "saccade_main_sequence"} <= _pngs(tmp_path / "r" / "gaze")
    amplitude, velocity = main_sequence(
        x, y, fs, [(round(a * fs), round(b * fs) + 1) for a, b, _ in spans]
    )
    assert amplitude == pytest.approx([3.0, 6.0, 12.0], rel=0.05)
    assert velocity == pytest.approx([a / (b - o) for o, b, a in spans], rel=0.05)


def test_a_batch_run_gets_a_page_per_recording_and_an_index(cli: Cli, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    events = pd.DataFrame(
        {
            "recording": ["a", "a", "a", "b"],
            "channel": "all",
            "label": ["walking", "sitting", "walking", "lying"],
            "onset": [0.0, 30.0, 60.0, 0.0],
            "offset": [30.0, 60.0, 90.0, 45.0],
            "peak": np.nan,
            "score": 0.8,
        }
    )
    events.to_parquet(run / "events.parquet")
    recordings = {
        "recording": ["a", "b"],
        "sampling_rate": [50.0, 50.0],
        "duration_s": [90.0, 45.0],
    }
    pd.DataFrame(recordings).to_parquet(run / "recordings.parquet")
    (run / "run.json").write_text(json.dumps({"status": "complete"}))
    result = cli("report", run, "--out", tmp_path / "r")
    assert result.code == 0, result.err
    index = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "a/report.html" in index and "b/report.html" in index
    assert _pngs(tmp_path / "r" / "a") == {"time_in_class", "event_counts", "event_durations"}
    page = (tmp_path / "r" / "a" / "report.html").read_text(encoding="utf-8")
    assert "<td>walking</td><td>2</td><td>30000 ms</td>" in page


def test_time_in_class_counts_covered_seconds() -> None:
    edges = np.array([0.0, 10.0, 20.0, 30.0])
    covered = covered_time(np.array([5.0, 12.0]), np.array([15.0, 14.0]), edges)
    assert covered.tolist() == [5.0, 7.0, 0.0]


def test_a_missing_or_foreign_input_is_one_line(cli: Cli, tmp_path: Path) -> None:
    assert_user_error(cli("report", tmp_path / "nope", "--out", tmp_path / "r"), "nope")
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    assert_user_error(
        cli("report", tmp_path / "notes.csv", "--out", tmp_path / "r"), "not a results file"
    )
