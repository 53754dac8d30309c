"""Data sets from folders and manifests: labels from every source, task inference, splits, and a
one-line error naming the file or key for each kind of bad data set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyedflib
import pytest
import soundfile
import wfdb
import yaml

from sigseg.data.dataset import open_dataset
from sigseg.data.record import IGNORE_INDEX

FS = 100
X = IGNORE_INDEX


def wav(path: Path, seconds: float = 2.0, channels: int = 2, fs: int = FS) -> Path:
    """A heart-sound-like recording: bursts on noise, ``channels`` microphones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * fs)) / fs
    burst = np.sin(2 * np.pi * 30 * t) * (np.sin(2 * np.pi * 1.1 * t) > 0.7)
    noise = np.random.default_rng(len(path.name)).normal(0, 0.02, (channels, t.size))
    soundfile.write(path, (0.4 * burst + noise).T, fs)
    return path


def events(path: Path, *rows: str, header: str = "onset\tduration\tlabel") -> Path:
    path.write_text("".join(f"{line}\n" for line in (header, *rows)))
    return path


def manifest(folder: Path, **keys: object) -> Path:
    path = folder / "data.yaml"
    path.write_text(yaml.safe_dump(keys))
    return path


def heart_sounds(root: Path, subjects: int) -> None:
    """``sub-XX/pcg.wav`` with S1/S2 sidecars, plus BIDS files that are not recordings."""
    for s in range(1, subjects + 1):
        folder = root / f"sub-{s:02d}"
        wav(folder / "pcg.wav")
        events(folder / "pcg_events.tsv", "0.105\t0.1\tS1", "0.5\t0.08\tS2", "1.4\t0.1\tS1")
    (root / "participants.tsv").write_text("participant_id\nsub-01\n")
    wav(root / ".cache" / "stale.wav")


def test_folder_of_wavs_with_sidecars(tmp_path: Path) -> None:
    heart_sounds(tmp_path, subjects=7)
    data = open_dataset(tmp_path, gaps="background")
    task = data.task
    assert task.classes == ("background", "S1", "S2") and task.kind == "segments"
    assert task.gaps_are_background and task.channels == ("ch0", "ch1")
    assert data.names() == [f"sub-{s:02d}/pcg" for s in range(1, 8)]
    assert data.names("val") == ["sub-02/pcg", "sub-07/pcg"]  # every 5th from the 2nd
    assert data.names("train") == [
        "sub-01/pcg",
        "sub-03/pcg",
        "sub-04/pcg",
        "sub-05/pcg",
        "sub-06/pcg",
    ]
    assert data.names("test") == [] and data.paths["sub-03/pcg"] == tmp_path / "sub-03/pcg.wav"
    record = data.records("val")[0]
    assert record.name == "sub-02/pcg" and record.labels.shape == (1, 200)
    assert record.metadata["path"] == str(tmp_path / "sub-02/pcg.wav")
    # 0.105 s -> 10.5 -> 11; 0.205 s -> 20.5 -> 21 (exclusive); 0.5-0.58 s -> 50..57
    assert record.labels[0, 9:23].tolist() == [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]
    assert record.labels[0, 49:59].tolist() == [0, 2, 2, 2, 2, 2, 2, 2, 2, 0]
    assert [(w.kind, w.onset, w.offset) for w in record.waves] == [
        ("S1", 11, 20),
        ("S2", 50, 57),
        ("S1", 140, 149),
    ]
    with pytest.raises(ValueError, match=r"no split .dev.; use one of train, val, test, all"):
        data.records("dev")


def test_kind_inference(tmp_path: Path) -> None:
    beats = tmp_path / "beats"
    for name in ("a", "b"):
        wav(beats / f"{name}.wav", channels=1)
        events(beats / f"{name}_events.tsv", "0.3\t0\tR", "1.1\tn/a\tR", "1.5\t0\tV")
    data = open_dataset(beats)
    assert data.task.kind == "events" and data.task.classes == ("background", "R", "V")
    assert np.flatnonzero(data.records()[0].labels[0]).tolist() == [30, 110, 150]

    gaze = tmp_path / "gaze"
    wav(gaze / "g.wav", channels=1)
    events(gaze / "g_events.tsv", "0\t0.5\tsaccade", "0.5\t1.0\tfixation")
    with pytest.warns(UserWarning, match=r"gaze: only one recording group \(g\)"):
        states = open_dataset(gaze)
    assert states.task.kind == "states" and states.task.classes == ("fixation", "saccade")
    assert states.records()[0].labels[0, [0, 49, 50, 149, 150]].tolist() == [1, 1, 0, 0, X]
    with pytest.warns(UserWarning, match="only one recording group"):
        overridden = open_dataset(manifest(gaze, kind="segments"))
    assert overridden.task.classes == ("background", "fixation", "saccade")
    assert overridden.records()[0].labels[0, [0, 50, 150]].tolist() == [2, 1, X]

    explicit = tmp_path / "explicit"
    wav(explicit / "e.wav", channels=1)
    events(explicit / "e_events.tsv", "0\t0.5\tbackground", "0.5\t0.2\tspindle")
    with pytest.warns(UserWarning, match="only one recording group"):
        segments = open_dataset(explicit)
    assert segments.task.kind == "segments" and not segments.task.gaps_are_background
    assert segments.records()[0].labels[0, [49, 50, 69, 70]].tolist() == [0, 1, 1, X]


def write_psg(path: Path, stages: list[str]) -> Path:
    """A PSG EDF+: EEG at 100 Hz, respiration at 1 Hz, and one 30 s hypnogram epoch per stage."""
    seconds = 30 * len(stages)
    rates = {"EEG Fpz-Cz": 100, "Resp": 1}
    writer = pyedflib.EdfWriter(str(path), 2, file_type=pyedflib.FILETYPE_EDFPLUS)
    writer.setSignalHeaders(
        [
            {
                "label": label,
                "dimension": "uV",
                "sample_frequency": fs,
                "physical_min": -200.0,
                "physical_max": 200.0,
                "digital_min": -32768,
                "digital_max": 32767,
                "transducer": "",
                "prefilter": "",
            }
            for label, fs in rates.items()
        ]
    )
    rng = np.random.default_rng(0)
    writer.writeSamples([rng.normal(0, 20, seconds * 100), rng.normal(0, 5, seconds)])
    for epoch, stage in enumerate(stages):
        writer.writeAnnotation(30 * epoch, 30, f"Sleep stage {stage}")
    writer.close()
    return path


def test_mixed_rate_edf_with_hypnograms(tmp_path: Path) -> None:
    write_psg(tmp_path / "SC4001.edf", ["W", "1", "?"])
    write_psg(tmp_path / "SC4002.edf", ["W", "4", "3"])
    with pytest.raises(ValueError, match=r"SC4001\.edf: channels have different sampling rates"):
        open_dataset(tmp_path)
    path = manifest(
        tmp_path,
        channels=["EEG Fpz-Cz"],
        classes=["W", "N1", "N3"],
        label_map={
            "Sleep stage W": "W",
            "Sleep stage 1": "N1",
            "Sleep stage 3": "N3",
            "Sleep stage 4": "N3",
            "Sleep stage ?": None,
        },
        task={"name": "sleep", "tolerance_s": 30, "min_duration_s": {"N1": 30}},
        splits={"train": ["SC4001"], "val": ["SC4002"]},
    )
    data = open_dataset(path)
    task = data.task
    assert task.name == "sleep" and task.kind == "states" and task.classes == ("W", "N1", "N3")
    assert task.channels == ("EEG Fpz-Cz",) and task.tolerance_s == 30
    first, second = data.records()
    assert first.fs == 100 and first.signal.shape == (1, 9000)
    assert first.labels[0, [0, 2999, 3000, 5999, 6000, 8999]].tolist() == [0, 0, 1, 1, X, X]
    assert second.labels[0, [2999, 3000, 6000]].tolist() == [0, 2, 2]
    assert data.names("train") == ["SC4001"] and data.names("val") == ["SC4002"]


def test_csv_label_column_and_label_map(tmp_path: Path) -> None:
    rows = ["t,acc_x,acc_y,activity"]
    codes = ["0"] * 5 + ["1.0"] * 3 + ["n/a"] * 2 + ["2"] * 2
    rows += [f"{i / 50:.2f},{np.sin(i):.3f},{np.cos(i):.3f},{c}" for i, c in enumerate(codes)]
    for name in ("walk1", "walk2"):
        (tmp_path / f"{name}.csv").write_text("\n".join(rows) + "\n")
    path = manifest(
        tmp_path,
        label_column="activity",
        label_map={0: "rest", 1: "move", 2: "move"},
        splits={"leave_out": {"by": "recording", "group": "walk2"}},
    )
    with pytest.warns(UserWarning, match=r"data\.yaml: only one recording group \(walk1\)"):
        data = open_dataset(path)
    assert data.task.classes == ("move", "rest") and data.task.kind == "states"
    record = data.records()[0]
    assert record.channels == ["acc_x", "acc_y"] and record.fs == pytest.approx(50)
    assert record.labels[0].tolist() == [1] * 5 + [0] * 3 + [X] * 2 + [0] * 2
    assert [(w.kind, w.onset, w.offset) for w in record.waves] == [
        ("rest", 0, 4),
        ("move", 5, 7),
        ("move", 10, 11),
    ]
    assert data.names("test") == ["walk2"]
    assert data.names("train") == ["walk1"] and data.names("val") == ["walk1"]


def subjects_with_nights(root: Path, subjects: int) -> None:
    for s in range(1, subjects + 1):
        for night in (1, 2):
            wav(root / f"s{s:02d}_night{night}.wav", channels=1, seconds=1)
            events(root / f"s{s:02d}_night{night}_events.tsv", "0.2\t0.3\tspindle")


def test_kfold_keeps_each_subject_in_one_fold(tmp_path: Path) -> None:
    subjects_with_nights(tmp_path, 10)
    tests = []
    for fold in range(5):
        path = manifest(
            tmp_path,
            subject=r"^(s\d+)_",
            gaps="background",
            splits={"kfold": {"k": 5, "fold": fold, "seed": 3}},
        )
        data = open_dataset(path)
        parts = {split: set(data.names(split)) for split in ("train", "val", "test")}
        assert parts["train"] | parts["val"] | parts["test"] == set(data.names())
        assert not (parts["train"] & parts["val"] or parts["train"] & parts["test"])
        for split, names in parts.items():
            subjects = {name[:3] for name in names}
            assert all(f"{s}_night1" in names and f"{s}_night2" in names for s in subjects), split
        assert len(parts["test"]) == len(parts["val"]) == 4
        tests.append(parts)
    assert set().union(*(p["test"] for p in tests)) == set(data.names())
    assert all(tests[f]["val"] == tests[(f + 1) % 5]["test"] for f in range(5))


def test_explicit_splits_and_leave_out(tmp_path: Path) -> None:
    subjects_with_nights(tmp_path, 4)
    path = manifest(
        tmp_path,
        gaps="background",
        splits={"train": ["s01_*", "s02_*"], "val": "s03_*", "test": ["s04_night1"]},
    )
    data = open_dataset(path)
    assert data.names("train") == ["s01_night1", "s01_night2", "s02_night1", "s02_night2"]
    assert data.names("val") == ["s03_night1", "s03_night2"]
    assert data.names("test") == ["s04_night1"] and "s04_night2" in data.names()
    path = manifest(
        tmp_path,
        subject=r"^(s\d+)_",
        gaps="background",
        splits={"leave_out": {"group": "s02"}},
    )
    data = open_dataset(path)
    assert data.names("test") == ["s02_night1", "s02_night2"]
    assert data.names("val") == ["s03_night1", "s03_night2"]  # 2nd of s01, s03, s04


def test_events_table_and_wfdb_annotator(tmp_path: Path) -> None:
    for name in ("r1", "r2"):
        wav(tmp_path / "audio" / f"{name}.wav", channels=1)
    table = events(
        tmp_path / "all_events.tsv",
        "r1\t0.1\t0.2\twheeze",
        "r2\t1.0\t0.5\tcrackle",
        header="recording\tonset\tduration\tlabel",
    )
    path = manifest(tmp_path, root="audio", events=table.name, gaps="background")
    data = open_dataset(path)
    assert data.task.classes == ("background", "crackle", "wheeze")
    r1, r2 = data.records()
    assert np.flatnonzero(r1.labels[0]).tolist() == list(range(10, 30))
    assert r2.labels[0, 100] == 1 and r2.metadata["labels_from"].endswith("(recording r2)")

    ecg = tmp_path / "ecg"
    ecg.mkdir()
    for name in ("100", "101"):
        wfdb.wrsamp(
            name,
            fs=250,
            units=["mV"],
            sig_name=["MLII"],
            p_signal=np.random.default_rng(0).normal(0, 0.1, (500, 1)),
            fmt=["16"],
            write_dir=str(ecg),
        )
        wfdb.wrann(name, "atr", np.array([50, 300]), ["N", "V"], fs=250, write_dir=str(ecg))
    data = open_dataset(manifest(ecg, annotator="atr"))
    assert data.task.kind == "events" and data.names() == ["100", "101"]
    assert np.flatnonzero(data.records()[0].labels[0]).tolist() == [50, 300]
    assert data.paths["100"] == ecg / "100.hea"


def test_unlabelled_allowed_and_single_recording(tmp_path: Path) -> None:
    wav(tmp_path / "a.wav")
    events(tmp_path / "a_events.tsv", "0.1\t0.2\tS1")
    wav(tmp_path / "b.wav")
    with pytest.warns(UserWarning, match=r"only one recording group \(a\): it is used for both"):
        data = open_dataset(manifest(tmp_path, unlabelled="allow", gaps="background"))
    assert data.names() == ["a", "b"] and data.names("train") == data.names("val") == ["a"]
    assert data.records()[1].labels is None


# --- bad data sets ---------------------------------------------------------------------------


def two_recordings(root: Path, second_events: str = "0.5\t0.2\tS2") -> None:
    wav(root / "a.wav")
    events(root / "a_events.tsv", "0.1\t0.2\tS1")
    wav(root / "b.wav")
    events(root / "b_events.tsv", second_events)


@pytest.mark.parametrize(
    ("second_events", "message"),
    [
        (
            "1.9\t0.3\tS2",
            r"b_events\.tsv: row 1: event 'S2' at 1\.9-2\.2 s lies outside the signal",
        ),
        ("0.1\t0.5\tS1\n0.3\t0.1\tS2", r"b_events\.tsv: row 2 \('S2' at 0\.3 s\) overlaps row 1"),
        ("0.5\t0.2\tS3", r"b_events\.tsv: row 1: label 'S3' is not one of the classes"),
        ("abc\t0.2\tS2", r"b_events\.tsv: row 1: onset 'abc' is not a number"),
    ],
)
def test_bad_events(second_events: str, message: str, tmp_path: Path) -> None:
    two_recordings(tmp_path, second_events)
    with pytest.raises(ValueError, match=message):
        open_dataset(tmp_path, classes=["S1", "S2"])


def test_missing_sidecar(tmp_path: Path) -> None:
    two_recordings(tmp_path)
    (tmp_path / "b_events.tsv").unlink()
    with pytest.raises(
        ValueError, match=r"b\.wav: recording 'b' has no labels \(no b_events\.tsv beside it\)"
    ):
        open_dataset(tmp_path)


def test_channel_missing_in_one_recording(tmp_path: Path) -> None:
    two_recordings(tmp_path)
    wav(tmp_path / "b.wav", channels=1)
    with pytest.raises(ValueError, match=r"b\.wav: no channel\(s\) \['ch1'\] that a\.wav has"):
        open_dataset(tmp_path)
    with pytest.raises(ValueError, match=r"b\.wav: no channel\(s\) \['ch1'\]; it has \['ch0'\]"):
        open_dataset(tmp_path, channels=["ch1"])
    assert open_dataset(tmp_path, channels=[0]).task.channels == ("ch0",)


def test_rate_mismatch(tmp_path: Path) -> None:
    two_recordings(tmp_path)
    wav(tmp_path / "b.wav", fs=200)
    assert open_dataset(tmp_path).records()[1].fs == 200  # one rate per recording is fine
    with pytest.raises(ValueError, match=r"b\.wav: fs=100 given but the file says 200 Hz"):
        open_dataset(tmp_path, fs=100)


def test_empty_data_set(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no signals here\n")
    with pytest.raises(ValueError, match=rf"{tmp_path}: no signal files found under"):
        open_dataset(tmp_path)
    with pytest.raises(FileNotFoundError, match="nowhere: no such folder or manifest"):
        open_dataset(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            {"sampling_rate": 100},
            r"data\.yaml: unknown key sampling_rate \(known: root, recordings",
        ),
        ({"splits": {"kfold": {"folds": 5}}}, r"data\.yaml: unknown key splits\.kfold\.folds"),
        ({"task": {"tolerance": 0.1}}, r"data\.yaml: unknown key task\.tolerance"),
        ({"task": {"monitor": "accuracy"}}, r"data\.yaml: .*monitor must be one of val_macro_f1"),
        ({"splits": {"train": ["z*"]}}, r"data\.yaml: splits\.train: 'z\*' matches no labelled"),
        (
            {"splits": {"train": ["*"], "val": ["b"]}},
            r"data\.yaml: splits: recording 'b' is in both train and val",
        ),
        ({"recordings": ["*.flac"]}, r"data\.yaml: recordings: '\*\.flac' matches no signal file"),
        ({"label_map": {"S9": "S1"}}, r"data\.yaml: label_map: 'S9' is no label in the data"),
        ({"kind": "intervals"}, r"data\.yaml: kind: expected one of segments, events, states"),
        ({"fs": -1}, r"data\.yaml: fs: expected a sampling rate > 0 Hz, got -1"),
        ({"subject": "sub-.*"}, r"data\.yaml: subject: the pattern needs exactly one group"),
        ({"splits": {"kfold": {"k": 2}}}, r"data\.yaml: splits\.kfold: k must be at least 3"),
        ({"splits": {"kfold": {"k": 3}}}, r"data\.yaml: splits\.kfold: k=3 folds but only 2"),
        (
            {"splits": {"leave_out": {"group": "c"}}},
            r"data\.yaml: splits\.leave_out: no subject 'c'",
        ),
        ({"events": "nope.tsv"}, r"data\.yaml: events: .*nope\.tsv: no such file"),
        ({"kind": "states", "gaps": "background"}, r"data\.yaml: gaps: background needs kind seg"),
        ({"task": {"tolerance_s": -1}}, r"data\.yaml: task 'segmentation': tolerance_s must be"),
    ],
)
def test_bad_manifest(keys: dict[str, object], message: str, tmp_path: Path) -> None:
    two_recordings(tmp_path)
    with pytest.raises(ValueError, match=message):
        open_dataset(manifest(tmp_path, **keys))


def test_events_table_naming_an_unknown_recording(tmp_path: Path) -> None:
    two_recordings(tmp_path)
    events(
        tmp_path / "table.tsv",
        "a\t0\t0.1\tS1",
        "c\t0\t0.1\tS1",
        header="recording\tonset\tduration\tlabel",
    )
    with pytest.raises(ValueError, match=r"table\.tsv: row 2: recording 'c' is not in the data"):
        open_dataset(manifest(tmp_path, events="table.tsv"))
