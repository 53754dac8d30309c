"""``sigseg delineate`` and ``sigseg evaluate`` end to end on LUDB records."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import wfdb

import sigseg
from sigseg.tasks.ecg.ludb import LEADS, load_ludb
from sigseg.tasks.ecg.outputs import write_wfdb_annotations


def sigseg_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sigseg", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained small model: enough to exercise every output path."""
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    model = sigseg.create_model("dilated", widths=(8, 8), dilations=(1, 2))
    return sigseg.save_checkpoint(model, path, preprocessing={"sampling_rate": 250.0})


def test_delineate_ludb_record_writes_readable_annotations(
    ludb_root: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    csv_input = tmp_path / "strip.csv"
    np.savetxt(csv_input, np.sin(np.linspace(0, 60, 3000))[:, None], delimiter=",")
    result = sigseg_cli(
        "delineate",
        ludb_root / "10",
        csv_input,
        "--model",
        tiny_checkpoint,
        "--fs",
        "360",
        "--out",
        out,
        "--combine-leads",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    for lead in LEADS:
        ann = wfdb.rdann(str(out / "10"), lead)
        assert set(ann.symbol) <= {"(", ")", "p", "N", "t"}
        assert np.all(np.diff(ann.sample) >= 0) and ann.sample.max(initial=0) < 5000
    fused = wfdb.rdann(str(out / "10"), "all")
    assert fused.fs == 500
    with open(out / "10_waves.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    peaks = sum(
        len([s for s in wfdb.rdann(str(out / "10"), lead).symbol if s in "pNt"])
        for lead in [*LEADS, "all"]
    )
    assert len(rows) == peaks
    assert json.loads((out / "10_waves.json").read_text()) == [
        {k: _typed(v) for k, v in row.items()} for row in rows
    ]
    assert (out / "10.png").stat().st_size > 10_000
    assert (out / "strip.png").is_file() and (out / "strip_waves.csv").is_file()


def _typed(value: str) -> object:
    if value == "":
        return None
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def test_evaluate_predictions_equal_to_the_reference_score_one(
    ludb_root: Path, tmp_path: Path
) -> None:
    for record in load_ludb(ludb_root, split="val", mode="multi"):
        for lead, name in enumerate(record.channels):
            write_wfdb_annotations(
                tmp_path, str(record.metadata["id"]), name, record.lead_waves(lead), record.fs
            )
    result = sigseg_cli(
        "evaluate",
        "--predictions",
        tmp_path,
        "--data",
        ludb_root,
        "--split",
        "val",
        "--json",
        "--by",
        "rhythms",
    )
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["records"] == 20 and scores["leads"] == 240
    assert scores["strict_macro_f1"] == 1.0
    assert scores["boundaries"]["150ms"]["macro_f1"] == 1.0
    assert scores["by"]["rhythms"]["Sinus rhythm"]["strict_macro_f1"] == 1.0
    for row in scores["by"]["rhythms"].values():
        assert row["p_fp_per_beat"] == 0.0 and row["t_f1"] == 1.0


def test_evaluate_a_checkpoint_and_bad_arguments(
    ludb_root: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    result = sigseg_cli(
        "evaluate", "--model", tiny_checkpoint, "--data", ludb_root, "--split", "val"
    )
    assert result.returncode == 0, result.stderr
    assert "Strict macro-F1 (headline)" in result.stdout and "20 records" in result.stdout
    bad = sigseg_cli("evaluate", "--model", tmp_path / "none.safetensors", "--data", ludb_root)
    assert bad.returncode == 2 and "none.safetensors: model file not found" in bad.stderr
    split = sigseg_cli("evaluate", "--predictions", tmp_path, "--data", ludb_root, "--split", "dev")
    assert split.returncode == 2 and "unknown LUDB split 'dev'" in split.stderr


def test_shipped_model_is_the_default_and_delineates_ludb(ludb_root: Path, tmp_path: Path) -> None:
    """The shipped weights load (no pickle), are used when --model is omitted, and delineate
    held-out LUDB test records well (the card's full-split numbers come from the same code)."""
    from sigseg.inference.backends import load_backend
    from sigseg.pretrained import DEFAULT_MODEL, list_pretrained, resolve_model
    from sigseg.tasks.ecg.evaluation import evaluate_model

    assert DEFAULT_MODEL in list_pretrained()
    records = [
        r
        for r in load_ludb(ludb_root, split="test", mode="multi")
        if r.metadata["id"] in (5, 40, 100)
    ]
    result = evaluate_model(load_backend(resolve_model(None)), records).result()
    assert result["strict_macro_f1"] > 0.9
    card = json.loads(resolve_model(None).with_suffix(".json").read_text())
    assert card["test"]["strict_macro_f1"] > 0.95 and card["arch"] == "hybrid"

    out = tmp_path / "default"
    run = sigseg_cli("delineate", ludb_root / "100", "--out", out)
    assert run.returncode == 0, run.stderr
    ann = wfdb.rdann(str(out / "100"), "ii")
    assert ann.symbol.count("N") >= 5  # a 10-s strip has several beats
