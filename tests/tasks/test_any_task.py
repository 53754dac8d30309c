"""Any signal, any labels, through the CLI with no code: a folder of WAV files with
``_events.tsv`` sidecars is trained on, segmented and evaluated, for each label kind and for
2 to 13 classes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import CliResult
from labelled_data import TINY_MODEL, class_names

from sigseg.checkpoint import read_info

QUICK = ["--set", "progress=false", "--set", "crop_seconds=4"]


def train(cli: Callable[..., CliResult], folder: Path, run: Path, *extra: str) -> CliResult:
    result = cli("train", "--data", folder, *TINY_MODEL, "--out", run, *QUICK, *extra)
    assert result.code == 0, result.err[-3000:]
    return result


def validation_files(folder: Path) -> list[Path]:
    """The recordings of the default validation split (every 5th subject from the 2nd)."""
    return sorted(p for p in folder.glob("*.wav") if p.stem.startswith(("sub-01", "sub-06")))


def evaluate(cli: Callable[..., CliResult], folder: Path, predictions: Path, *extra: str) -> dict:
    result = cli(
        "evaluate",
        "--data",
        folder,
        "--predictions",
        predictions,
        "--split",
        "val",
        "--json",
        *extra,
    )
    assert result.code == 0, result.err[-3000:]
    return json.loads(result.out)


@pytest.mark.parametrize(
    ("kind", "gaps", "epochs", "metric", "floor"),
    [
        ("segments", "background", 25, ("samples", "macro_f1"), 0.9),
        ("states", None, 25, ("samples", "macro_f1"), 0.9),
        ("events", None, 25, ("points", "macro_f1"), 0.8),
    ],
)
def test_each_label_kind_is_learned(
    cli: Callable[..., CliResult],
    labelled_folder: Callable[..., Path],
    tmp_path: Path,
    kind: str,
    gaps: str | None,
    epochs: int,
    metric: tuple[str, str],
    floor: float,
) -> None:
    folder = labelled_folder(kind, 2)
    extra = ["--gaps", gaps] if gaps else []
    train(
        cli,
        folder,
        tmp_path / "run",
        "--epochs",
        str(epochs),
        "--batch-size",
        "4",
        "--lr",
        "0.01",
        *extra,
    )
    info = read_info(tmp_path / "run" / "best.safetensors")
    expected = class_names(2) if kind == "states" else ["background", *class_names(2)]
    assert (info.task.kind, list(info.task.classes)) == (kind, expected)
    out = tmp_path / "segmented"
    assert (
        cli(
            "segment",
            tmp_path / "run" / "best.safetensors",
            *validation_files(folder),
            "--out",
            out,
        ).code
        == 0
    )
    scores = evaluate(cli, folder, out, *extra)
    assert scores[metric[0]][metric[1]] >= floor, scores[metric[0]]


@pytest.mark.parametrize("n_classes", [2, 3, 5, 13])
def test_any_number_of_classes_goes_through_train_segment_evaluate(
    cli: Callable[..., CliResult],
    labelled_folder: Callable[..., Path],
    tmp_path: Path,
    n_classes: int,
) -> None:
    folder = labelled_folder("segments", n_classes, recordings=10)
    run = tmp_path / "run"
    result = train(cli, folder, run, "--epochs", "1", "--batch-size", "8", "--gaps", "background")
    assert "best " in result.out
    info = read_info(run / "best.safetensors")
    assert info.task.classes == ("background", *class_names(n_classes))
    assert info.task.channels == ("ch0", "ch1") and info.config["in_channels"] == 2
    assert info.config["num_classes"] == n_classes + 1
    monitor = pd.read_csv(run / "metrics.csv")["val_macro_f1"].dropna()
    assert len(monitor) == 1 and np.isfinite(monitor).all()
    out = tmp_path / "segmented"
    files = validation_files(folder)
    assert cli("segment", run / "best.safetensors", *files, "--out", out, "--samples").code == 0
    for path in files:
        table = pd.read_csv(out / f"{path.stem}_events.tsv", sep="\t")
        assert list(table.columns[:3]) == ["onset", "duration", "label"]
        assert set(table["label"]) <= set(class_names(n_classes))
        with np.load(out / f"{path.stem}_samples.npz", allow_pickle=False) as saved:
            assert saved["probabilities"].shape[1:] == (n_classes + 1, 1200)
            assert list(saved["classes"]) == ["background", *class_names(n_classes)]
        assert (out / f"{path.stem}.png").stat().st_size > 10_000
    scores = evaluate(cli, folder, out, "--gaps", "background")
    assert set(scores["samples"]["classes"]) >= set(class_names(n_classes))


def test_a_runs_config_reproduces_its_data_reading(
    cli: Callable[..., CliResult], labelled_folder: Callable[..., Path], tmp_path: Path
) -> None:
    """config.yaml records what the data decided (rate, classes, channels, gaps), so passing it
    back builds the same task."""
    folder = labelled_folder("segments", 3, recordings=6)
    first = tmp_path / "first"
    train(cli, folder, first, "--epochs", "1", "--gaps", "background", "--channels", "ch0")
    again = tmp_path / "again"
    result = cli("train", "--config", first / "config.yaml", "--out", again)
    assert result.code == 0, result.err[-2000:]
    a, b = (read_info(run / "best.safetensors") for run in (first, again))
    assert a.task == b.task and a.task.channels == ("ch0",) and a.config == b.config
