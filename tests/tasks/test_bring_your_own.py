"""Bringing one's own data: CSV files with a label column, a mixed-rate PSG file with one
channel picked, a manifest; models that refuse what they cannot read; bad data sets that fail
in one line naming the file, with nothing written; the Python API and an ONNX export."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyedflib
import pytest
import soundfile
from cli_helpers import CliResult, assert_user_error
from labelled_data import FS, TINY_MODEL, class_names, write_folder

import sigseg
from sigseg.checkpoint import read_info
from sigseg.inference.segment import EVENT_COLUMNS

QUICK = ["--set", "progress=false", "--set", "crop_seconds=4", "--batch-size", "8"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A folder of two-class segments and a model trained on it for two epochs."""
    from sigseg.cli import main

    root = tmp_path_factory.mktemp("byo")
    folder = write_folder(root / "data", "segments", 2, recordings=10)
    run = root / "run"
    with pytest.raises(SystemExit) as done:
        main(
            [
                "train",
                "--data",
                str(folder),
                *TINY_MODEL,
                "--gaps",
                "background",
                "--epochs",
                "2",
                "--out",
                str(run),
                *QUICK,
            ]
        )
    assert done.value.code in (0, None)
    return folder, run / "best.safetensors"


def test_csv_files_with_a_label_column(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    data = tmp_path / "csv"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):
        n = 1500
        state = np.repeat(rng.choice(["rest", "walk", "run"], 15), n // 15)
        level = pd.Series(state).map({"rest": 0.0, "walk": 1.0, "run": 2.0}).to_numpy()
        frame = pd.DataFrame(
            {
                "time": np.arange(n) / 50.0,
                "acc_x": level + rng.normal(0, 0.1, n),
                "acc_y": rng.normal(0, 0.1, n),
                "label": state,
            }
        )
        frame.loc[:99, "label"] = "n/a"  # unlabelled start: ignored, never a class
        frame.to_csv(data / f"sub-{i:02d}.csv", index=False)
    run = tmp_path / "run"
    result = cli("train", "--data", data, *TINY_MODEL, "--epochs", "1", "--out", run, *QUICK)
    assert result.code == 0, result.err[-2000:]
    info = read_info(run / "best.safetensors")
    assert info.task.kind == "states" and info.task.classes == ("rest", "run", "walk")
    assert info.task.channels == ("acc_x", "acc_y") and info.sampling_rate == 50.0
    out = tmp_path / "out"
    assert cli("segment", run / "best.safetensors", data / "sub-01.csv", "--out", out).code == 0
    table = pd.read_csv(out / "sub-01_events.tsv", sep="\t")
    assert set(table["label"]) <= {"rest", "walk", "run"}
    assert table["onset"].iloc[0] == 0 and table["duration"].sum() == pytest.approx(30.0)
    scores = cli("evaluate", "--data", data, "--predictions", out, "--split", "val", "--json")
    assert scores.code == 0 and '"kappa"' in scores.out, scores.err


def write_psg(path: Path, seconds: int = 20) -> None:
    """An EDF+ file with EEG at 100 Hz (bursts where the sidecar says ``spindle``) and
    respiration at 1 Hz, plus its ``_events.tsv``."""
    rng = np.random.default_rng(len(path.name))
    eeg = rng.normal(0, 5.0, seconds * 100)
    onsets = np.sort(rng.choice(np.arange(1, seconds - 2), 4, replace=False)).astype(float)
    t = np.arange(100) / 100.0
    for onset in onsets:
        i = int(onset * 100)
        eeg[i : i + 100] += 30.0 * np.sin(2 * np.pi * 13 * t)
    headers = [
        {
            "label": "EEG",
            "dimension": "uV",
            "sample_frequency": 100,
            "physical_max": 200,
            "physical_min": -200,
            "digital_max": 32767,
            "digital_min": -32768,
        },
        {
            "label": "Resp",
            "dimension": "au",
            "sample_frequency": 1,
            "physical_max": 10,
            "physical_min": -10,
            "digital_max": 32767,
            "digital_min": -32768,
        },
    ]
    writer = pyedflib.EdfWriter(str(path), 2, file_type=pyedflib.FILETYPE_EDFPLUS)
    writer.setSignalHeaders(headers)
    writer.writeSamples([eeg, np.sin(np.arange(seconds) / 3.0)])
    writer.close()
    events = pd.DataFrame({"onset": onsets, "duration": 1.0, "label": "spindle"})
    events.to_csv(path.with_name(path.stem + "_events.tsv"), sep="\t", index=False)


def test_mixed_rate_edf_with_one_channel_picked(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    data = tmp_path / "psg"
    data.mkdir()
    for i in range(3):
        write_psg(data / f"night{i}.edf")
    run = tmp_path / "run"
    unpicked = cli("train", "--data", data, *TINY_MODEL, "--epochs", "1", "--out", run, *QUICK)
    assert_user_error(unpicked, "night0.edf", "different sampling rates")
    assert not run.exists()
    picked = ["--channels", "EEG", "--gaps", "background", "--epochs", "1", "--out", run]
    result = cli("train", "--data", data, *TINY_MODEL, *picked, *QUICK)
    assert result.code == 0, result.err[-2000:]
    info = read_info(run / "best.safetensors")
    assert info.task.channels == ("EEG",) and info.task.classes == ("background", "spindle")
    assert info.sampling_rate == 100.0
    out = tmp_path / "out"  # the model picks its own channel by name: no flag needed
    segmented = cli("segment", run / "best.safetensors", data / "night1.edf", "--out", out)
    assert segmented.code == 0, segmented.err
    assert list(pd.read_csv(out / "night1_events.tsv", sep="\t").columns[:3]) == [
        "onset",
        "duration",
        "label",
    ]


def test_a_manifest_maps_labels_and_splits(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    data = write_folder(tmp_path / "data", "states", 3, recordings=6)
    manifest = tmp_path / "data.yaml"
    manifest.write_text(
        "root: data\n"
        "label_map: {class_a: calm, class_b: busy, class_c: busy}\n"
        "splits: {train: ['sub-0[0-3]*'], val: ['sub-04*'], test: ['sub-05*']}\n"
    )
    run = tmp_path / "run"
    result = cli("train", "--data", manifest, *TINY_MODEL, "--epochs", "1", "--out", run, *QUICK)
    assert result.code == 0, result.err[-2000:]
    assert read_info(run / "best.safetensors").task.classes == ("busy", "calm")
    out = tmp_path / "out"
    test_file = next(data.glob("sub-05*.wav"))
    assert cli("segment", run / "best.safetensors", test_file, "--out", out).code == 0
    scores = cli("evaluate", "--data", manifest, "--predictions", out, "--split", "test")
    assert scores.code == 0 and "busy" in scores.out and "calm" in scores.out, scores.err
    typo = tmp_path / "typo.yaml"
    typo.write_text("root: data\nsplitz: {}\n")
    result = cli("train", "--data", typo, "--out", tmp_path / "typo-run", "--epochs", "1")
    assert_user_error(result, "typo.yaml", "splitz")
    assert not (tmp_path / "typo-run").exists()


def _bad_event_outside(folder: Path) -> str:
    pd.DataFrame({"onset": [30.0], "duration": [1.0], "label": ["class_a"]}).to_csv(
        folder / "sub-03_run-0_events.tsv", sep="\t", index=False
    )
    return "sub-03_run-0_events.tsv"


def _bad_overlap(folder: Path) -> str:
    pd.DataFrame(
        {"onset": [1.0, 1.5], "duration": [1.0, 1.0], "label": ["class_a", "class_b"]}
    ).to_csv(folder / "sub-02_run-0_events.tsv", sep="\t", index=False)
    return "sub-02_run-0_events.tsv"


def _bad_missing_sidecar(folder: Path) -> str:
    (folder / "sub-04_run-0_events.tsv").unlink()
    return "sub-04_run-0"


def _bad_missing_channel(folder: Path) -> str:
    x, fs = soundfile.read(folder / "sub-05_run-0.wav")
    soundfile.write(folder / "sub-05_run-0.wav", x[:, :1], fs, subtype="FLOAT")
    return "sub-05_run-0.wav"


def _bad_rate(folder: Path) -> str:
    x, fs = soundfile.read(folder / "sub-06_run-0.wav")
    soundfile.write(folder / "sub-06_run-0.wav", x, 2 * fs, subtype="FLOAT")
    return "sub-06_run-0.wav"


def _bad_unknown_class(folder: Path) -> str:
    pd.DataFrame({"onset": [1.0], "duration": [1.0], "label": ["class_z"]}).to_csv(
        folder / "sub-01_run-0_events.tsv", sep="\t", index=False
    )
    return "class_z"


@pytest.mark.parametrize(
    ("spoil", "options", "needle"),
    [
        (_bad_event_outside, [], "outside"),
        (_bad_overlap, [], "overlap"),
        (_bad_missing_sidecar, [], "no labels"),
        (_bad_missing_channel, ["--channels", "ch0,ch1"], "ch1"),
        (_bad_rate, ["--fs", "100"], "200"),
        (_bad_unknown_class, ["--classes", "class_a,class_b"], "class_z"),
    ],
    ids=["event-outside", "overlap", "missing-sidecar", "missing-channel", "rate", "class"],
)
def test_a_bad_data_set_fails_in_one_line_and_writes_nothing(
    cli: Callable[..., CliResult],
    tmp_path: Path,
    spoil: Callable[[Path], str],
    options: list[str],
    needle: str,
) -> None:
    folder = write_folder(tmp_path / "data", "segments", 2, recordings=8)
    where = spoil(folder)
    run = tmp_path / "run"
    result = cli("train", "--data", folder, "--epochs", "1", "--out", run, *options)
    assert_user_error(result, where, needle)
    assert not run.exists()


def test_an_empty_data_set(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes_events.tsv").write_text("onset\tduration\tlabel\n")
    result = cli("train", "--data", tmp_path / "data", "--out", tmp_path / "run")
    assert_user_error(result, "data", "no signal files")
    assert not (tmp_path / "run").exists()


def test_the_model_refuses_what_it_cannot_read_and_warns_on_other_names(
    cli: Callable[..., CliResult], trained: tuple[Path, Path], tmp_path: Path
) -> None:
    _, model = trained
    mono = tmp_path / "mono.wav"
    soundfile.write(mono, np.zeros(500, dtype=np.float32), int(FS), subtype="FLOAT")
    result = cli("segment", model, mono, "--out", tmp_path / "out")
    assert_user_error(result, "mono.wav", "takes 2 channel(s) (ch0, ch1); the input has 1", code=1)
    other = tmp_path / "other.csv"
    pd.DataFrame({"x": np.zeros(500), "y": np.ones(500)}).to_csv(other, index=False)
    result = cli("segment", model, other, "--fs", "100", "--out", tmp_path / "out")
    assert result.code == 0, result.err
    assert "warning:" in result.err and "x, y differ" in result.err
    unknown = cli(
        "evaluate", "--data", write_folder(tmp_path / "d5", "states", 5, 4), "--model", model
    )
    assert_user_error(unknown, str(model), "class_e")


def test_python_api_and_onnx_give_the_same_events(
    cli: Callable[..., CliResult], trained: tuple[Path, Path], tmp_path: Path
) -> None:
    folder, model = trained
    x, fs = soundfile.read(folder / "sub-01_run-0.wav", dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unnamed array takes the trained names: no warning
        events, probs = sigseg.segment(x.T, fs, model=model, probabilities=True)
    assert list(events.columns) == list(EVENT_COLUMNS)
    assert probs.shape == (1, 3, x.shape[0])
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert set(events["label"]) <= set(class_names(2))
    onnx = tmp_path / "model.onnx"
    assert cli("export", model, "--onnx", onnx).code == 0
    via_onnx = sigseg.segment(x.T, fs, model=onnx, backend="onnx")
    pd.testing.assert_frame_equal(
        events[["onset", "duration", "label"]], via_onnx[["onset", "duration", "label"]]
    )


def test_data_check_shows_what_training_would_read(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "data", "segments", 3, recordings=10)
    result = cli("data", "check", folder, "--gaps", "background", "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["task"]["kind"] == "segments"
    assert summary["task"]["classes"] == ["background", *class_names(3)]
    splits = summary["splits"]
    assert [splits[s]["recordings"] for s in ("train", "val", "test", "all")] == [7, 3, 0, 10]
    labelled = sum(splits["all"]["seconds"].values()) + splits["all"]["unlabelled_seconds"]
    assert labelled == pytest.approx(10 * 12.0) and splits["all"]["unlabelled_seconds"] == 0
    events = sum(len(pd.read_csv(f, sep="\t")) for f in folder.glob("*_events.tsv"))
    assert splits["all"]["events"] == events
    spoiled = cli("data", "check", folder)  # without --gaps the gaps are unlabelled: states
    assert spoiled.code == 0 and "states" in spoiled.out
