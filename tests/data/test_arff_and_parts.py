"""The general data-layer features two new fields needed, on small synthetic files: the ARFF
reader (numeric channels, a numeric or nominal label attribute, a time column in any unit,
gzip), gzip CSV with named header-less columns, recordings joined from several files, an
interval table in samples, manifests that extend another one, and excluded recordings."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import yaml

from sigseg.data.dataset import open_dataset
from sigseg.data.events import read_sample_intervals
from sigseg.data.readers import open_signal, read_label_column, signal_format

X = -100  # IGNORE_INDEX


def arff_text(labels: list[str], step_us: int = 4000, nominal: bool = False) -> str:
    """A gaze-like ARFF file: time in microseconds, x, y and a per-sample label attribute."""
    kind = "{fix,sacc}" if nominal else "INTEGER"
    header = [
        "% comment",
        "@RELATION gaze",
        "@ATTRIBUTE time INTEGER",
        "@ATTRIBUTE x NUMERIC",
        "@ATTRIBUTE y NUMERIC",
        f"@ATTRIBUTE label {kind}",
        "@DATA",
    ]
    rows = [f"{1000 + i * step_us},{i}.5,{-i},{v}" for i, v in enumerate(labels)]
    return "\n".join([*header, *rows, "% trailing comment", ""])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as file:
            file.write(text)
    else:
        path.write_text(text)
    return path


def manifest(path: Path, **keys: object) -> Path:
    path.write_text(yaml.safe_dump(keys, sort_keys=False))
    return path


def test_arff_numeric_attributes_are_channels_and_time_gives_the_rate(tmp_path: Path) -> None:
    path = write(tmp_path / "AAF_beach.arff.gz", arff_text(["1", "1", "2", "?", "3"]))
    assert signal_format(path) == "arff"
    with open_signal(path, time_unit="us") as reader:
        assert reader.name == "AAF_beach"
        assert reader.fs == 250.0
        assert reader.channels == ["x", "y"]
        np.testing.assert_allclose(reader.read(), [[0.5, 1.5, 2.5, 3.5, 4.5], [0, -1, -2, -3, -4]])
        assert reader.sample_labels is not None
        assert reader.sample_labels.tolist() == ["1", "1", "2", "", "3"]
    assert read_label_column(path).tolist() == ["1", "1", "2", "", "3"]
    with open_signal(path, fs=250) as reader:  # ARFF stamps microseconds unless told otherwise
        assert reader.fs == 250.0
    with pytest.raises(ValueError, match=r"fs=250 given but the time column says 0\.25 Hz"):
        open_signal(path, fs=250, time_unit="ms")
    with open_signal(path, time_unit="us", label_column="none") as reader:
        assert reader.channels == ["x", "y", "label"]  # a numeric attribute, when not the labels
        assert reader.sample_labels is None
    with pytest.raises(ValueError, match=r"fs=500 given but the time column says 250 Hz"):
        open_signal(path, fs=500, time_unit="us")
    with pytest.raises(ValueError, match=r"time unit 'min'; use one of s, ms, us, ns"):
        open_signal(path, time_unit="min")


def test_arff_nominal_labels_and_bad_files(tmp_path: Path) -> None:
    path = write(tmp_path / "n.arff", arff_text(["fix", "sacc", "?"], step_us=2000, nominal=True))
    with open_signal(path, time_unit="us") as reader:
        assert reader.fs == 500.0
        assert reader.sample_labels is not None
        assert reader.sample_labels.tolist() == ["fix", "sacc", ""]
    bad = write(tmp_path / "bad.arff", "@RELATION r\n@ATTRIBUTE x NUMERIC\n@DATA\nabc\n")
    with pytest.raises(ValueError, match=r"bad\.arff: not a readable ARFF file"):
        open_signal(bad, fs=10)
    text = "@RELATION r\n@ATTRIBUTE c {a,b}\n@DATA\na\n"
    words = write(tmp_path / "words.arff", text)
    with pytest.raises(ValueError, match=r"words\.arff: no numeric attributes"):
        open_signal(words, fs=10)
    broken = tmp_path / "broken.arff.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match=r"broken\.arff\.gz: not a readable gzip file"):
        open_signal(broken, fs=10)


def test_gzip_csv_with_column_names_and_compressed_binary_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "acc_exp01.txt.gz", "0.1 0.2 0.3\n0.4 0.5 0.6\n" * 2)
    with open_signal(path, fs=50, column_names=["x", "y", "z"]) as reader:
        assert reader.name == "acc_exp01"
        assert reader.channels == ["x", "y", "z"]
        np.testing.assert_allclose(reader.read()[:, :2], [[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]])
    with pytest.raises(ValueError, match=r"acc_exp01\.txt\.gz: 2 column names given for 3"):
        open_signal(path, fs=50, column_names=["x", "y"])
    headed = write(tmp_path / "h.csv", "a,b\n1,2\n3,4\n")
    with open_signal(headed, fs=1, column_names=["p", "q"]) as reader:
        assert reader.channels == ["a", "b"]  # the file's own header wins
    (tmp_path / "r.edf.gz").write_bytes(b"")
    with pytest.raises(ValueError, match=r"r\.edf\.gz: a gzip-compressed edf file is not read"):
        signal_format(tmp_path / "r.edf.gz")


def test_a_folder_of_arff_files_labelled_by_their_label_attribute(tmp_path: Path) -> None:
    for clip in ("beach", "sea", "golf"):
        for obs in ("AAF", "BBB"):
            labels = ["1"] * 6 + ["2"] * 3 + ["1"] * 3
            write(tmp_path / "gt" / clip / f"{obs}_{clip}.arff.gz", arff_text(labels))
    path = manifest(
        tmp_path / "gaze.yaml",
        root="gt",
        time_unit="us",
        label_map={"1": "fixation", "2": "saccade"},
        subject="^([^/]+)/",
        kind="states",
    )
    dataset = open_dataset(path)
    assert dataset.names() == [
        f"{c}/{o}_{c}" for c in ("beach", "golf", "sea") for o in ("AAF", "BBB")
    ]
    assert dataset.task.classes == ("fixation", "saccade")
    record = dataset.records()[0]
    assert record.fs == 250.0
    assert record.labels is not None
    assert record.labels[0].tolist() == [0] * 6 + [1] * 3 + [0] * 3
    assert record.metadata["labels_from"].endswith("(column label)")
    assert dataset.names("val") == ["golf/AAF_golf", "golf/BBB_golf"]  # grouped by clip


def _hapt_like(root: Path) -> None:
    """Two experiments of two users, acc and gyro files each, and a 1-based inclusive table."""
    rng = np.random.default_rng(0)
    for exp, user, n in ((1, 1, 40), (2, 7, 30)):
        for part in ("acc", "gyro"):
            rows = rng.normal(size=(n, 3)).round(4)
            text = "".join(" ".join(str(v) for v in row) + "\n" for row in rows)
            write(root / "Raw" / f"{part}_exp{exp:02d}_user{user:02d}.txt.gz", text)
    (root / "Raw" / "labels.txt").write_text("1 1 5 3 10\n1 1 7 11 12\n2 7 5 1 30\n")


def hapt_manifest(root: Path, **keys: object) -> Path:
    values: dict[str, object] = {
        "parts": {"acc": "Raw/acc_{name}.txt.gz", "gyro": "Raw/gyro_{name}.txt.gz"},
        "column_names": ["x", "y", "z"],
        "fs": 50,
        "events": {
            "file": "Raw/labels.txt",
            "columns": ["experiment", "user", "label", "start", "end"],
            "recording": "exp{experiment:0>2}_user{user:0>2}",
            "samples": {"start": "start", "end": "end", "first": 1},
        },
        "label_map": {"5": "STANDING", "7": "STAND_TO_SIT"},
        "kind": "states",
        "subject": r"user(\d+)$",
        **keys,
    }
    return manifest(root / "hapt.yaml", **values)


def test_parts_join_files_and_a_sample_interval_table_labels_them(tmp_path: Path) -> None:
    _hapt_like(tmp_path)
    dataset = open_dataset(hapt_manifest(tmp_path))
    assert dataset.names() == ["exp01_user01", "exp02_user07"]
    assert dataset.task.channels == tuple(f"{p}_{a}" for p in ("acc", "gyro") for a in "xyz")
    first = dataset.records()[0]
    gyro = np.loadtxt(tmp_path / "Raw" / "gyro_exp01_user01.txt.gz", dtype=np.float32)
    np.testing.assert_array_equal(first.signal[3:], gyro.T)
    assert first.labels is not None  # rows 3-10 STANDING, 11-12 STAND_TO_SIT (1-based)
    assert first.labels[0, :14].tolist() == [X, X, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, X, X]
    last = dataset.records()[1]
    assert last.labels is not None and (last.labels[0] == 0).all()  # 1..30 of 30 samples

    picked = open_dataset(hapt_manifest(tmp_path, channels=["gyro_z", "acc_x"]))
    np.testing.assert_array_equal(picked.records()[0].signal, first.signal[[5, 0]])


def test_parts_and_interval_table_errors(tmp_path: Path) -> None:
    _hapt_like(tmp_path)
    (tmp_path / "Raw" / "gyro_exp02_user07.txt.gz").unlink()
    with pytest.raises(ValueError, match=r"gyro_exp02_user07\.txt\.gz: no such file \(part gyro"):
        open_dataset(hapt_manifest(tmp_path))
    write(tmp_path / "Raw" / "gyro_exp02_user07.txt.gz", "1 2 3\n" * 5)
    with pytest.raises(ValueError, match=r"5 samples but acc_exp02_user07\.txt\.gz has 30"):
        open_dataset(hapt_manifest(tmp_path))
    with pytest.raises(ValueError, match=r"parts\.acc: needs \{name\} exactly once"):
        open_dataset(hapt_manifest(tmp_path, parts={"acc": "Raw/acc.txt.gz"}))
    headerless = {"file": "Raw/labels.txt", "columns": ["e", "u", "label", "start", "end"]}
    with pytest.raises(ValueError, match=r"events: columns \(a table without a header row\) needs"):
        open_dataset(hapt_manifest(tmp_path, events=headerless))
    table = tmp_path / "t.txt"
    table.write_text("1 1 5 0 3\n")
    with pytest.raises(ValueError, match=r"t\.txt: row 1: start 0 is before the first sample 1"):
        read_sample_intervals(table, ["e", "u", "label", "start", "end"], "start", "end", first=1)
    table.write_text("1 1 5 4 x\n")
    with pytest.raises(ValueError, match=r"t\.txt: row 1: end 'x' is not a whole number"):
        read_sample_intervals(table, ["e", "u", "label", "start", "end"], "start", "end")
    headed = tmp_path / "u.tsv"
    headed.write_text("a\tb\tlabel\n2\t5\tS\n")
    exclusive = read_sample_intervals(headed, None, "a", "b", inclusive=False)
    assert exclusive[["onset", "duration"]].values.tolist() == [[2.0, 3.0]]


@pytest.mark.filterwarnings("ignore:.*only one recording group")
def test_a_manifest_extends_another_and_excludes_recordings(tmp_path: Path) -> None:
    _hapt_like(tmp_path)
    base = hapt_manifest(tmp_path)
    folder = tmp_path / "folds"
    folder.mkdir()
    fold = manifest(
        folder / "fold.yaml",
        base="../hapt.yaml",
        splits={"leave_out": {"by": "subject", "group": "07"}},
    )
    dataset = open_dataset(fold)
    assert dataset.names("test") == ["exp02_user07"]
    assert dataset.source == fold
    assert dataset.task.channels[0] == "acc_x"  # the base's relative paths stay the base's
    fewer = open_dataset(manifest(folder / "fewer.yaml", base=str(base), exclude=["*_user07"]))
    assert fewer.names() == ["exp01_user01"]  # the table's rows for it are dropped with it
    again = manifest(folder / "again.yaml", base="fewer.yaml", exclude=[])
    assert open_dataset(again).names() == ["exp01_user01", "exp02_user07"]
    with pytest.raises(ValueError, match=r"exclude: '\*_user99' matches no recording"):
        open_dataset(manifest(folder / "typo.yaml", base=str(base), exclude=["*_user99"]))
    loop = manifest(folder / "loop.yaml", base="loop.yaml")
    with pytest.raises(ValueError, match=r"loop\.yaml: base: .*loop\.yaml extends itself"):
        open_dataset(loop)
    with pytest.raises(ValueError, match=r"use recordings or parts, not both"):
        open_dataset(manifest(folder / "both.yaml", base=str(base), recordings=["Raw/*"]))
