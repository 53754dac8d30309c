"""The shipped manifests of two fields read their real data through the general layer, with the
per-class sample counts their SOURCE.md states: GazeCom eye movements (ARFF, per-sample labels)
and HAPT activities (two files per recording, a header-less interval table in samples). The
data lives in ``../shared/data`` beside the repository; missing data fails, it does not skip."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from sigseg.cli import main
from sigseg.data.dataset import SegDataset, open_dataset
from sigseg.data.readers import open_signal

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs" / "datasets"
SHARED = REPO.parent / "shared" / "data"
GAZECOM_CLASSES = ["fixation", "saccade", "pursuit", "noise"]
HAPT_COUNTS = {  # SOURCE.md: labelled samples per class (1-based inclusive reading)
    "WALKING": 122_091,
    "WALKING_UPSTAIRS": 116_707,
    "WALKING_DOWNSTAIRS": 107_961,
    "SITTING": 126_677,
    "STANDING": 138_105,
    "LAYING": 136_865,
    "STAND_TO_SIT": 10_316,
    "SIT_TO_STAND": 8_029,
    "SIT_TO_LIE": 12_428,
    "LIE_TO_SIT": 11_150,
    "STAND_TO_LIE": 14_418,
    "LIE_TO_STAND": 10_867,
}
HAPT_TEST = {2, 4, 9, 10, 12, 13, 18, 20, 24}


def _data(name: str) -> Path:
    folder = SHARED / name
    if not (folder / "SOURCE.md").is_file():
        pytest.fail(f"{name} not found at {folder} (the shared data folder beside the repository)")
    return folder


def _class_counts(dataset: SegDataset, split: str = "all") -> tuple[dict[str, int], int]:
    """Labelled samples per class and unlabelled samples over a split, at the files' rates."""
    counts = np.zeros(dataset.task.num_classes, dtype=np.int64)
    unlabelled = 0
    for record in dataset.records(split):
        assert record.labels is not None
        labels = record.labels[0]
        counts += np.bincount(labels[labels >= 0], minlength=dataset.task.num_classes)
        unlabelled += int((labels < 0).sum())
    return dict(zip(dataset.task.classes, counts.tolist(), strict=True)), unlabelled


def _gazecom_rows() -> list[dict[str, str]]:
    """The data folder's own per-file table (samples and per-class counts of each file)."""
    with (_data("gazecom") / "manifest.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def _expected(rows: list[dict[str, str]]) -> dict[str, int]:
    columns = {"fixation": "fix", "saccade": "saccade", "pursuit": "pursuit", "noise": "noise"}
    return {name: sum(int(r[column]) for r in rows) for name, column in columns.items()}


def test_hapt_manifest_reads_every_labelled_sample(capsys: pytest.CaptureFixture[str]) -> None:
    _data("hapt")
    with pytest.raises(SystemExit) as exit_:
        main(["data", "check", str(CONFIGS / "hapt.yaml"), "--json"])
    out, err = capsys.readouterr()
    assert not exit_.value.code, err
    summary = json.loads(out)
    assert summary["task"]["kind"] == "states"
    assert summary["task"]["channels"] == [
        *(f"acc_{a}" for a in "xyz"),
        *(f"gyro_{a}" for a in "xyz"),
    ]
    assert [summary["splits"][s]["recordings"] for s in ("train", "val", "test", "all")] == [
        36,
        6,
        19,
        61,
    ]
    assert summary["splits"]["all"]["events"] == 1214  # label rows: no interval lost or merged

    dataset = open_dataset(CONFIGS / "hapt.yaml")
    counts, unlabelled = _class_counts(dataset)
    assert counts == HAPT_COUNTS
    assert unlabelled == 307_158
    assert sum(r.num_samples for r in dataset.records()) == 1_122_772
    test_users = {int(name.split("user")[1]) for name in dataset.names("test")}
    assert test_users == HAPT_TEST
    assert sum(r.num_samples for r in dataset.records("test")) == 325_288
    train_users = {int(n.split("user")[1]) for n in dataset.names("train") + dataset.names("val")}
    assert train_users == set(range(1, 31)) - HAPT_TEST

    record = next(r for r in dataset.records() if r.name == "exp01_user01")
    raw = np.loadtxt(SHARED / "hapt" / "RawData" / "gyro_exp01_user01.txt.gz", dtype=np.float32)
    np.testing.assert_array_equal(record.signal[3:], raw.T)  # gyro after acc, row-aligned
    assert record.labels is not None
    first = 250 - 1  # labels.txt row 1: exp 1, user 1, WALKING (5 = STANDING), samples 250-1232
    assert record.labels[0, first - 1] < 0
    assert dataset.task.classes[record.labels[0, first]] == "STANDING"
    assert dataset.task.classes[record.labels[0, 1231]] == "STANDING"
    assert dataset.task.classes[record.labels[0, 1232]] == "STAND_TO_SIT"


def test_gazecom_clips_read_with_the_source_counts(tmp_path: Path) -> None:
    """Two whole clips (100 files) through the shipped manifest: per-class counts equal the data
    folder's per-file table, SSK stays at 500 Hz, GGM_street is left out, and a two-line
    manifest on top of it makes a leave-one-clip-out split."""
    _data("gazecom")
    small = tmp_path / "two-clips.yaml"
    small.write_text(
        yaml.safe_dump(
            {
                "base": str(CONFIGS / "gazecom.yaml"),
                "recordings": ["street/*.arff.gz", "bridge_1/*.arff.gz"],
                "splits": {"leave_out": {"by": "subject", "group": "street"}},
            }
        )
    )
    with pytest.warns(UserWarning, match="only one recording group"):  # bridge_1 trains, validates
        dataset = open_dataset(small)
    assert list(dataset.task.classes) == GAZECOM_CLASSES
    assert dataset.task.channels == ("x", "y", "confidence")
    rows = [
        r
        for r in _gazecom_rows()
        if r["clip"] in ("street", "bridge_1")
        and r["file"] != "ground_truth/street/GGM_street.arff.gz"
    ]
    assert len(dataset.names()) == len(rows) == 99
    counts, unlabelled = _class_counts(dataset)
    assert counts == _expected(rows)
    assert unlabelled == 0
    for row in rows[:: len(rows) // 7]:  # a few files one by one, samples and rate
        name = row["file"].removeprefix("ground_truth/").removesuffix(".arff.gz")
        record = next(r for r in dataset.records() if r.name == name)
        assert record.num_samples == int(row["samples"])
        assert record.fs == float(row["rate_hz"])
    ssk = next(r for r in dataset.records() if r.name == "street/SSK_street")
    assert ssk.fs == 500.0
    assert dataset.names("test") == sorted(n for n in dataset.names() if n.startswith("street/"))
    assert not any(n.startswith("street/") for n in dataset.names("train") + dataset.names("val"))


def test_gazecom_development_split_is_by_clip() -> None:
    """The shipped split puts every clip in exactly one of train/val/test (read from the files'
    folders; the whole-data read is the slow test below)."""
    import fnmatch

    from sigseg.data.manifest import ExplicitSplits, read_spec

    spec = read_spec(CONFIGS / "gazecom.yaml")
    assert isinstance(spec.splits, ExplicitSplits)
    clips = sorted(p.name for p in (_data("gazecom") / "ground_truth").iterdir() if p.is_dir())
    assert len(clips) == 18
    placed = {
        clip: [
            s
            for s, pats in spec.splits.patterns.items()
            for p in pats
            if fnmatch.fnmatch(f"{clip}/X", p)
        ]
        for clip in clips
    }
    assert all(len(splits) == 1 for splits in placed.values()), placed
    assert sum(splits == ["test"] for splits in placed.values()) == 3


@pytest.mark.slow
def test_gazecom_manifest_reads_every_file() -> None:
    """All 843 used files (about 30 s): counts equal SOURCE.md's totals less GGM_street's."""
    rows = [r for r in _gazecom_rows() if "GGM_street" not in r["file"]]
    dataset = open_dataset(CONFIGS / "gazecom.yaml")
    counts, _ = _class_counts(dataset)
    assert counts == _expected(rows)
    # SOURCE.md: 3,132,536 / 454,787 / 475,817 / 254,916, GGM_street: 4,919 / 701 / 805 / 839
    assert counts == {
        "fixation": 3_127_617,
        "saccade": 454_086,
        "pursuit": 475_012,
        "noise": 254_077,
    }
    assert sorted({r.fs for r in dataset.records()}) == [250.0, 500.0]
    with open_signal(
        SHARED / "gazecom/ground_truth/street/GGM_street.arff.gz", time_unit="us"
    ) as r:
        assert r.num_samples == 7264
