"""What ``sigseg view`` refuses (one line naming the file), ``--export``, and the clock-time
axis; no browser needed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb
from cli_helpers import CliResult, assert_user_error

from sigseg.data.events import events_frame, write_events_tsv
from sigseg.tasks.ecg.synthetic import write_synthetic_wfdb
from sigseg.view.document import TimeAxis
from sigseg.view.recording import open_view

Cli = Callable[..., CliResult]


@pytest.fixture(scope="module")
def minute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 60-s synthetic ECG, 2 leads at 50 Hz, with its waves as WFDB annotations."""
    folder = tmp_path_factory.mktemp("minute")
    return Path(str(write_synthetic_wfdb(folder / "rec", hours=60 / 3600, fs=50.0)) + ".hea")


def _events_tsv(path: Path, onsets: list[float]) -> Path:
    frame = events_frame(onsets, [0.1] * len(onsets), ["QRS"] * len(onsets))
    write_events_tsv(frame, path)
    return path


def _run(folder: Path, fs: float, duration: float) -> Path:
    folder.mkdir()
    events = pd.DataFrame(
        {"recording": ["rec"], "channel": ["syna"], "label": ["QRS"], "onset": [1.0]}
    ).assign(offset=1.1, peak=1.05, score=0.9)
    events.to_parquet(folder / "events.parquet")
    recordings = {"recording": ["rec"], "sampling_rate": [fs], "duration_s": [duration]}
    pd.DataFrame(recordings).to_parquet(folder / "recordings.parquet")
    (folder / "run.json").write_text(json.dumps({"status": "complete"}))
    return folder


def test_a_missing_file_is_one_line(cli: Cli, minute: Path, tmp_path: Path) -> None:
    assert_user_error(cli("view", tmp_path / "nope.hea", "--no-open"), "nope")
    missing = tmp_path / "gone_events.tsv"
    assert_user_error(
        cli("view", minute, "--predictions", missing, "--no-open"), str(missing), "no such file"
    )
    assert_user_error(
        cli("view", minute, "--reference", tmp_path, "--no-open"), str(tmp_path), "no results"
    )


def test_predictions_of_another_recording_are_refused(
    cli: Cli, minute: Path, tmp_path: Path
) -> None:
    longer = _events_tsv(tmp_path / "rec_events.tsv", [1.0, 30.0, 95.0])  # a longer recording's
    assert_user_error(
        cli("view", minute, "--predictions", longer, "--no-open"),
        str(longer),
        "past the end of the recording (60.000 s)",
    )
    other_rate = _run(tmp_path / "run250", fs=250.0, duration=60.0)
    assert_user_error(
        cli("view", minute, "--predictions", other_rate, "--no-open"),
        "at 250 Hz; the recording is at 50 Hz",
    )
    other_length = _run(tmp_path / "run90", fs=50.0, duration=90.0)
    assert_user_error(
        cli("view", minute, "--predictions", other_length, "--no-open"),
        "cover 4500 samples; the recording has 3000",
    )
    waves = tmp_path / "rec_waves.csv"  # sigseg delineate's table, at 500 Hz
    waves.write_text(
        "lead,kind,onset,peak,offset,onset_s,peak_s,offset_s\n"
        "syna,QRS,500,510,540,1.0,1.02,1.08\nsyna,QRS,1000,1010,1040,2.0,2.02,2.08\n"
    )
    assert_user_error(
        cli("view", minute, "--reference", waves, "--no-open"), "at 500 Hz; the recording is"
    )


def test_export_writes_a_self_contained_page(cli: Cli, minute: Path, tmp_path: Path) -> None:
    page = tmp_path / "stretch.html"
    reference = minute.with_suffix(".syna")
    result = cli(
        "view", minute, "--reference", reference, "--export", page, "--start", 10, "--end", 20
    )
    assert result.code == 0, result.err
    text = page.read_text(encoding="utf-8")
    assert "<script src=" not in text and "Bokeh" in text  # Bokeh inlined, nothing fetched
    assert "data-t0='10.000000' data-t1='20.000000'" in text
    assert_user_error(
        cli("view", minute, "--export", page, "--start", 0, "--end", 5), str(page), "--overwrite"
    )
    assert_user_error(
        cli("view", minute, "--export", tmp_path / "b.html", "--start", 50, "--end", 70),
        "--end 70",
    )


def test_clock_time_comes_from_the_file(tmp_path: Path) -> None:
    signal = np.sin(np.linspace(0, 60, 3000))[:, None].astype(np.float64)
    wfdb.wrsamp(
        "clock",
        fs=50,
        units=["mV"],
        sig_name=["ii"],
        p_signal=signal,
        fmt=["16"],
        base_time=dt.time(10, 30, 0),
        base_date=dt.date(2026, 3, 1),
        write_dir=str(tmp_path),
    )
    source = open_view(tmp_path / "clock.hea")
    try:
        assert source.start_time == dt.datetime(2026, 3, 1, 10, 30)
        axis = TimeAxis(source.start_time)
        assert axis.label(90.5) == "10:31:30.500"
        assert axis.to_seconds(axis.to_plot(12.25)) == pytest.approx(12.25)
    finally:
        source.close()
    assert TimeAxis(None).label(3.5) == "3.500 s"  # no start time: seconds
