"""Event tables: BIDS-style TSV in and out, WFDB and EDF+ annotations, and painting events onto
per-sample labels with exact boundaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyedflib
import pytest
import wfdb

from sigseg.data.events import (
    events_frame,
    events_to_labels,
    read_edf_events,
    read_events_tsv,
    read_wfdb_events,
    write_events_tsv,
)
from sigseg.data.record import IGNORE_INDEX, Wave
from sigseg.tasks.base import segmentation_task

X = IGNORE_INDEX


def tsv(path: Path, *rows: str) -> Path:
    path.write_text("".join(f"{row}\n" for row in rows))
    return path


def test_read_events_tsv(tmp_path: Path) -> None:
    path = tsv(
        tmp_path / "rec_events.tsv",
        "onset\tduration\ttrial_type\tlabel\tpeak\tnote",
        "0.5\t0.25\tstim\tS1\t0.6\tloud",
        "1.0\tn/a\tstim\tR\tn/a\t",
        "2\t0\tstim\tS2\tn/a\tn/a",
    )
    frame = read_events_tsv(path)
    assert frame.index.tolist() == [1, 2, 3]
    assert frame["onset"].tolist() == [0.5, 1.0, 2.0]
    assert frame["duration"].tolist() == [0.25, 0.0, 0.0]
    assert frame["label"].tolist() == ["S1", "R", "S2"]  # label wins over trial_type
    assert np.isnan(frame["peak"].iloc[1]) and frame["peak"].iloc[0] == 0.6
    assert frame["trial_type"].tolist() == ["stim"] * 3 and frame["note"].iloc[0] == "loud"
    bids = tsv(tmp_path / "b.tsv", "onset\tduration\ttrial_type", "3.5\t1\tspindle")
    assert read_events_tsv(bids)["label"].tolist() == ["spindle"]
    empty = tsv(tmp_path / "e.tsv", "onset\tduration\tlabel")
    assert len(read_events_tsv(empty)) == 0 and read_events_tsv(empty)["label"].dtype == "str"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["onset\tlabel", "1\tS1"], r"bad\.tsv: no column\(s\) duration \(columns: onset, label\)"),
        (["onset,duration,label", "1,0,S1"], r"bad\.tsv: no column\(s\) onset, duration, label"),
        (["onset\tduration", "1\t0"], r"bad\.tsv: no column\(s\) label \(or trial_type\)"),
        (["onset\tduration\tlabel", "1\t0\tS1", "x\t0\tS2"], r"bad\.tsv: row 2: onset 'x' is not"),
        (["onset\tduration\tlabel", "1\t-0.5\tS1"], r"bad\.tsv: row 1: negative duration '-0\.5'"),
        (["onset\tduration\tlabel", "1\tinf\tS1"], r"bad\.tsv: row 1: duration 'inf' is not"),
        (["onset\tduration\tlabel", "1\t0\tS1", "2\t0\tn/a"], r"bad\.tsv: row 2: the event has no"),
        (["onset\tduration\tlabel", "1\t0"], r"bad\.tsv: row 1 has 2 cells, the header 3"),
        (["onset\tduration\tlabel", "1\t0\tS1\tx"], r"bad\.tsv: row 1 has 4 cells, the header 3"),
    ],
)
def test_read_events_tsv_errors(rows: list[str], message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        read_events_tsv(tsv(tmp_path / "bad.tsv", *rows))


def test_write_events_tsv_round_trip(tmp_path: Path) -> None:
    frame = events_frame([0.1234567, 2.0], [0.5, 0.0], ["S1", "R"], peak=[0.3, np.nan])
    frame["probability"] = [0.91, 0.5]
    frame = frame[["probability", "label", "peak", "duration", "onset"]]  # any column order
    path = tmp_path / "out_events.tsv"
    write_events_tsv(frame, path)
    assert path.read_text().splitlines() == [
        "onset\tduration\tlabel\tprobability\tpeak",
        "0.123457\t0.500000\tS1\t0.910000\t0.300000",
        "2.000000\t0.000000\tR\t0.500000\tn/a",
    ]
    back = read_events_tsv(path)
    assert back["label"].tolist() == ["S1", "R"] and back["onset"].iloc[0] == 0.123457
    with pytest.raises(ValueError, match=r"x\.tsv: cannot write events without column\(s\) label"):
        write_events_tsv(frame.drop(columns="label"), tmp_path / "x.tsv")
    assert not (tmp_path / "x.tsv").exists()


def test_interval_boundaries_round_half_up() -> None:
    task = segmentation_task(["S1", "S2"], gaps_are_background=True)
    # at 10 Hz: 0.25 s -> 2.5 -> sample 3; 0.75 s -> 7.5 -> 8 (exclusive); 0.31 s -> 3.1 -> 3
    frame = events_frame([0.25, 1.0, 1.31], [0.5, 0.2, 0.0], ["S1", "S2", "S1"])
    labels, waves = events_to_labels(frame, 10, 16, task, "rec")
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 2, 2, 0, 1, 0, 0]
    assert waves == [Wave("S1", 3, None, 7), Wave("S2", 10, None, 11), Wave("S1", 13, 13, 13)]


def test_gaps_by_kind() -> None:
    frame = events_frame([0.2, 0.5], [0.2, 0.2], ["S1", "S2"])
    ignored = segmentation_task(["S1", "S2"])
    assert events_to_labels(frame, 10, 8, ignored, "r")[0].tolist() == [X, X, 1, 1, X, 2, 2, X]
    states = segmentation_task(["S1", "S2"], kind="states", gaps_are_background=True)
    assert events_to_labels(frame, 10, 8, states, "r")[0].tolist() == [X, X, 0, 0, X, 1, 1, X]
    points = events_frame([0.1, 0.4], [0, 0], ["R", "R"])
    events = segmentation_task(["R"], kind="events")
    labels, waves = events_to_labels(points, 10, 6, events, "r")
    assert labels.tolist() == [0, 1, 0, 0, 1, 0]
    assert waves == [Wave("R", 1, 1, 1), Wave("R", 4, 4, 4)]


def test_end_slack_and_outside_the_signal() -> None:
    task = segmentation_task(["S1"], gaps_are_background=True)
    # 0.6-1.05 s at 10 Hz ends at sample 10.5 -> 11, one past the 10-sample signal: clipped
    labels, waves = events_to_labels(events_frame([0.6], [0.45], ["S1"]), 10, 10, task, "r")
    assert labels.tolist() == [0] * 6 + [1] * 4 and waves == [Wave("S1", 6, None, 9)]
    point_at_end = events_to_labels(events_frame([1.0], [0], ["S1"]), 10, 10, task, "r")
    assert point_at_end[1] == [Wave("S1", 9, 9, 9)]
    with pytest.raises(
        ValueError, match=r"rec_events\.tsv: row 1: event 'S1' at 0\.6-1\.2 s lies outside the"
    ):
        events_to_labels(events_frame([0.6], [0.6], ["S1"]), 10, 10, task, "rec_events.tsv")
    with pytest.raises(ValueError, match=r"r: row 1: event 'S1' at -0\.5--0\.3 s lies outside"):
        events_to_labels(events_frame([-0.5], [0.2], ["S1"]), 10, 10, task, "r")


def test_overlaps() -> None:
    task = segmentation_task(["S1", "S2"], gaps_are_background=True)
    same = events_frame(
        [0.1, 0.3, 0.6], [0.4, 0.1, 0.2], ["S1", "S1", "S1"], peak=[np.nan, 0.3, np.nan]
    )
    labels, waves = events_to_labels(same, 10, 10, task, "r")
    assert labels.tolist() == [0, 1, 1, 1, 1, 0, 1, 1, 0, 0]
    assert waves == [Wave("S1", 1, 3, 4), Wave("S1", 6, None, 7)]
    clash = events_frame([0.1, 0.4], [0.4, 0.2], ["S1", "S2"])
    with pytest.raises(
        ValueError,
        match=r"a_events\.tsv: row 2 \('S2' at 0\.4 s\) overlaps row 1 \('S1' at 0\.1 s\) of "
        "another class",
    ):
        events_to_labels(clash, 10, 10, task, "a_events.tsv")
    touching = events_frame([0.1, 0.3], [0.2, 0.2], ["S1", "S2"])
    assert events_to_labels(touching, 10, 6, task, "r")[0].tolist() == [0, 1, 1, 2, 2, 0]


def test_rounding_overlaps_meet_at_the_later_onset() -> None:
    task = segmentation_task(["W", "N1"], kind="states")
    # at 100 Hz the W epoch ends at 0.345 s -> sample 35 (exclusive), the N1 one starts at
    # 0.344 s -> 34: a tenth of a sample of overlap as written, from 3-decimal rounding
    rounded = events_frame([0.344, 0.0], [0.256, 0.345], ["N1", "W"])
    labels, waves = events_to_labels(rounded, 100, 60, task, "r")
    assert labels.tolist() == [0] * 34 + [1] * 26
    assert waves == [Wave("W", 0, None, 33), Wave("N1", 34, None, 59)]
    overlapping = events_frame([0.0, 0.339], [0.345, 0.261], ["W", "N1"])
    with pytest.raises(ValueError, match=r"r: row 2 \('N1' at 0\.339 s\) overlaps row 1 \('W'"):
        events_to_labels(overlapping, 100, 60, task, "r")
    inside = events_frame([0.0, 0.2], [0.5, 0.0], ["W", "N1"])  # a point within an interval
    with pytest.raises(ValueError, match=r"r: row 2 \('N1' at 0\.2 s\) overlaps row 1"):
        events_to_labels(inside, 100, 60, task, "r")


def test_unknown_label_and_bad_peak() -> None:
    task = segmentation_task(["S1", "S2"])
    with pytest.raises(
        ValueError, match=r"r\.tsv: row 1: label 'S3' is not one of the classes background, S1, S2"
    ):
        events_to_labels(events_frame([0.1], [0.1], ["S3"]), 10, 10, task, "r.tsv")
    with pytest.raises(ValueError, match=r"r: row 1: peak 0\.5 s lies outside its event"):
        events_to_labels(events_frame([0.1], [0.1], ["S1"], peak=[0.5]), 10, 10, task, "r")


def test_wfdb_annotations(tmp_path: Path) -> None:
    fs = 250
    wfdb.wrsamp(
        "ecg",
        fs=fs,
        units=["mV"],
        sig_name=["ii"],
        p_signal=np.zeros((1000, 1)),
        fmt=["16"],
        write_dir=str(tmp_path),
    )
    samples = np.array([100, 110, 125, 200, 230, 260, 300, 500, 510])
    symbols = ["(", "p", ")", "(", "N", ")", "N", "(", "t"]
    wfdb.wrann("ecg", "pu", samples, symbols, fs=fs, write_dir=str(tmp_path))
    frame = read_wfdb_events(tmp_path / "ecg.hea", "pu")
    assert frame["label"].tolist() == ["p", "N", "N", "t"]
    np.testing.assert_allclose(frame["onset"] * fs, [100, 200, 300, 510])
    np.testing.assert_allclose(frame["duration"] * fs, [26, 61, 0, 0])
    task = segmentation_task(["N", "p", "t"], gaps_are_background=True)
    labels, waves = events_to_labels(frame, fs, 1000, task, "ecg.pu")
    assert waves == [
        Wave("p", 100, 110, 125),
        Wave("N", 200, 230, 260),
        Wave("N", 300, 300, 300),
        Wave("t", 510, 510, 510),
    ]
    assert (labels[100:126] == 2).all() and labels[99] == 0 and labels[126] == 0
    with pytest.raises(FileNotFoundError, match=r"ecg\.atr: no such file \(annotator 'atr'\)"):
        read_wfdb_events(tmp_path / "ecg", "atr")


def test_edf_annotations(tmp_path: Path) -> None:
    path = tmp_path / "hypnogram.edf"
    writer = pyedflib.EdfWriter(str(path), 1, file_type=pyedflib.FILETYPE_EDFPLUS)
    writer.setSignalHeaders(
        [
            {
                "label": "EEG",
                "dimension": "uV",
                "sample_frequency": 100,
                "physical_min": -100.0,
                "physical_max": 100.0,
                "digital_min": -32768,
                "digital_max": 32767,
                "transducer": "",
                "prefilter": "",
            }
        ]
    )
    writer.writeSamples([np.zeros(9000)])
    writer.writeAnnotation(0, 30, "Sleep stage W")
    writer.writeAnnotation(30, 60, "Sleep stage 1")
    writer.writeAnnotation(45.5, -1, "Arousal")
    writer.close()
    frame = read_edf_events(path)
    assert frame["label"].tolist() == ["Sleep stage W", "Sleep stage 1", "Arousal"]
    assert frame["onset"].tolist() == [0, 30, 45.5] and frame["duration"].tolist() == [30, 60, 0]
