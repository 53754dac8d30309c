"""``python -m sigseg.pretrained.build --rescore``: a shipped ECG card scored again with
today's decoding, the weights untouched."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sigseg.inference.backends import load_backend
from sigseg.pretrained import DEFAULT_MODEL, _folder
from sigseg.pretrained.build import rescore
from sigseg.tasks.ecg.evaluation import evaluate_model
from sigseg.tasks.ecg.ludb import load_ludb


def _ship(name: str, out: Path) -> None:
    for suffix in (".safetensors", ".json", ".md"):
        shutil.copy(_folder() / f"{name}{suffix}", out)


def test_rescore_rewrites_the_card_and_keeps_the_weights(ludb_root: Path, tmp_path: Path) -> None:
    ludb = tmp_path / "ludb"  # two records of the test split (id % 5 == 0)
    ludb.mkdir()
    (ludb / "ludb.csv").symlink_to(ludb_root / "ludb.csv")
    for record in (5, 10):
        for path in ludb_root.glob(f"{record}.*"):
            (ludb / path.name).symlink_to(path)
    out = tmp_path / "pretrained"
    out.mkdir()
    _ship(DEFAULT_MODEL, out)
    weights = (out / f"{DEFAULT_MODEL}.safetensors").read_bytes()
    before = json.loads((out / f"{DEFAULT_MODEL}.json").read_text())

    card = rescore(DEFAULT_MODEL, str(ludb), out)

    records = load_ludb(ludb, split="test", mode="multi")
    assert [r.metadata["id"] for r in records] == [5, 10]
    expected = evaluate_model(load_backend(out / f"{DEFAULT_MODEL}.safetensors"), records)
    strict = expected.result()["strict_macro_f1"]
    assert card["test"]["strict_macro_f1"] == pytest.approx(strict)
    assert card["test"]["strict_macro_f1"] != before["test"]["strict_macro_f1"]
    saved = json.loads((out / f"{DEFAULT_MODEL}.json").read_text())
    assert saved["test"]["strict_macro_f1"] == card["test"]["strict_macro_f1"]
    assert saved["training"] == before["training"] and saved["profile"] == before["profile"]
    assert f"Strict macro-F1 **{strict:.3f}**" in (out / f"{DEFAULT_MODEL}.md").read_text()
    assert (out / f"{DEFAULT_MODEL}.safetensors").read_bytes() == weights


def test_rescore_refuses_a_card_that_is_not_ecg_or_absent(tmp_path: Path) -> None:
    _ship("hapt-hybrid", tmp_path)
    with pytest.raises(ValueError, match=r"hapt-hybrid\.json: not an ECG delineation card"):
        rescore("hapt-hybrid", None, tmp_path)
    with pytest.raises(ValueError, match=r"nothing\.json: no card of a shipped model"):
        rescore("nothing", None, tmp_path)


def test_the_command_line_fails_in_one_line() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "sigseg.pretrained.build", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    missing = run("--rescore", "--name", "nothing")
    assert missing.returncode == 2
    assert missing.stderr.strip().endswith("nothing.json: no card of a shipped model 'nothing'")
    assert "Traceback" not in missing.stderr
    both = run("runs/x", "--rescore")
    assert both.returncode == 2 and "give a run_dir to build, or --rescore" in both.stderr
