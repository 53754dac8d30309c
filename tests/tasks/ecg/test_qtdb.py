"""QTDB reader on small records written in QTDB's layout (250 Hz, two leads, .q1c/.q2c)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import wfdb

from sigseg.data import IGNORE_INDEX, Wave
from sigseg.data.transforms import Resample
from sigseg.tasks.ecg import CLASSES
from sigseg.tasks.ecg.qtdb import load_qtdb, qtdb_annotated_regions, read_qtdb_record

FS = 250
N = 15_000  # 60 s
# Two neighbouring beats (T onset missing in the first, a U wave after the second) and one
# lone beat much later; marks in samples.
Q1C = [
    (500, "("), (512, "p"), (525, ")"), (540, "("), (550, "N"), (562, ")"),
    (620, "t"), (660, ")"),
    (705, "("), (717, "p"), (730, ")"), (745, "("), (755, "N"), (767, ")"),
    (800, "("), (825, "t"), (865, ")"), (880, "u"), (900, ")"),
    (10_000, "("), (10_012, "p"), (10_025, ")"), (10_040, "("), (10_050, "N"),
    (10_062, ")"), (10_100, "("), (10_120, "t"), (10_160, ")"),
]  # fmt: skip
Q2C = [(502, "("), (513, "p"), (524, ")"), (541, "("), (551, "N"), (563, ")")]


def write_ann(base: Path, ext: str, marks: list[tuple[int, str]]) -> None:
    """wfdb writes only alphabetic extensions; QTDB's have digits, so write and rename."""
    wfdb.wrann(base.name, "tmp", np.array([m[0] for m in marks]), [m[1] for m in marks],
               fs=FS, write_dir=str(base.parent))  # fmt: skip
    os.replace(base.with_name(f"{base.name}.tmp"), base.with_name(f"{base.name}.{ext}"))


@pytest.fixture
def qtdb(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for name, second in (("sel100", True), ("sel102", False)):
        x = 0.1 * rng.standard_normal((N, 2))
        wfdb.wrsamp(name, fs=FS, units=["mV", "mV"], sig_name=["MLII", "V5"], p_signal=x,
                    fmt=["16", "16"], adc_gain=[200, 200], baseline=[0, 0],
                    write_dir=str(tmp_path))  # fmt: skip
        write_ann(tmp_path / name, "q1c", Q1C)
        if second:
            write_ann(tmp_path / name, "q2c", Q2C)
    return tmp_path


def test_record_level_waves_with_missing_marks(qtdb: Path) -> None:
    rec = read_qtdb_record(qtdb / "sel100")
    assert rec.name == "qtdb/sel100" and rec.fs == FS and rec.channels == ["MLII", "V5"]
    assert rec.metadata["annotator"] == "q1c" and rec.metadata["annotators"] == ["q1c", "q2c"]
    assert rec.waves[:3] == [
        Wave("P", 500, 512, 525, None),
        Wave("QRS", 540, 550, 562, None),
        Wave("T", None, 620, 660, None),  # T onset not annotated: kept as None
    ]
    assert Wave("U", None, 880, 900, None) in rec.waves
    assert len(rec.waves) == 10 and all(w.lead is None for w in rec.waves)


def test_labels_only_near_annotated_beats(qtdb: Path) -> None:
    rec = read_qtdb_record(qtdb / "sel100")
    margin = round(0.15 * FS)
    assert qtdb_annotated_regions(rec) == [
        (500 - margin, 900 + margin),  # the two neighbouring beats merge
        (10_000 - margin, 10_160 + margin),
    ]
    row = rec.labels[0]
    np.testing.assert_array_equal(rec.labels[1], row)  # record-wide marks: same on each lead
    assert (row[: 500 - margin] == IGNORE_INDEX).all()
    assert (row[900 + margin + 1 : 10_000 - margin] == IGNORE_INDEX).all()
    assert (row[500 - margin : 500] == 0).all()
    assert (row[500:526] == CLASSES.index("P")).all()
    assert (row[540:563] == CLASSES.index("QRS")).all()
    assert (row[563:620] == IGNORE_INDEX).all()  # where the T starts is unknown
    assert (row[620:661] == CLASSES.index("T")).all()
    assert (row[866:901] == 0).all()  # U waves are not a class: background
    # Regions follow the waves through a resample.
    assert qtdb_annotated_regions(Resample(500)(rec))[1] == (20_000 - 75, 20_320 + 75)


def test_second_annotator_and_loader(qtdb: Path) -> None:
    second = read_qtdb_record(qtdb / "sel100.hea", annotator="q2c")
    assert second.waves[0] == Wave("P", 502, 513, 524, None)
    records = load_qtdb(qtdb)
    assert [r.name for r in records] == ["qtdb/sel100", "qtdb/sel102"]
    assert records[1].metadata["annotators"] == ["q1c"]
    assert [r.name for r in load_qtdb(qtdb, annotator="q2c")] == ["qtdb/sel100"]


def test_errors(qtdb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FileNotFoundError, match="sel102.q2c: no q2c annotation file"):
        read_qtdb_record(qtdb / "sel102", annotator="q2c")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no QTDB records"):
        load_qtdb(empty)
    monkeypatch.delenv("SIGSEG_DATA", raising=False)
    with pytest.raises(ValueError, match="SIGSEG_DATA"):
        load_qtdb()
    (qtdb / "sel100.q1c").write_bytes(b"\xff" * 7)
    with pytest.raises(ValueError, match="sel100.q1c: cannot read annotations"):
        read_qtdb_record(qtdb / "sel100")
