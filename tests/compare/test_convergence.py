"""The comparison to convergence on any field: runs train with early stopping, are scored on
the test split, write learning curves, and are never redone once finished."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from labelled_data import write_folder

from sigseg.compare.convergence import read_field_config, run_field, run_lock

FIELD = {
    "name": "toy",
    "data": "data.yaml",
    "seeds": [0],
    "recipe": {
        "epochs": 8,
        "patience": 3,
        "schedule": "plateau",
        "crop_seconds": 4.0,
        "batch_size": 4,
    },
    "models": {
        "tiny": {"model": "dilated", "options": {"widths": [16, 16, 16], "dilations": [1, 2, 4]}}
    },
}


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("field")
    write_folder(root / "data", "states", 3)
    splits = {"train": ["sub-0[0-4]*"], "val": ["sub-05*"], "test": ["sub-0[67]*"]}
    (root / "data.yaml").write_text(yaml.safe_dump({"root": "data", "splits": splits}))
    path = root / "toy.yaml"
    path.write_text(yaml.safe_dump(FIELD))
    return path


def test_a_field_trains_scores_and_resumes(field: Path, tmp_path: Path) -> None:
    config = read_field_config(field)
    lines: list[str] = []
    results = json.loads(run_field(config, tmp_path, log=lines.append).read_text())
    assert results["failed"] == []
    tiny = results["models"]["tiny"]
    assert tiny["seeds"] == [0] and tiny["profile"]["parameters"] > 0
    assert 0.5 < tiny["metrics"]["score"]["mean"] <= 1.0  # three separable states
    assert tiny["metrics"]["test.samples.classes.class_a.f1"]["n"] == 1
    run = tmp_path / "runs" / "tiny-seed0"
    curve = json.loads((run / "curve.json").read_text())
    assert [p["epoch"] for p in curve] == list(range(1, len(curve) + 1))
    assert curve and all(b["seconds"] > a["seconds"] for a, b in itertools.pairwise(curve))
    finished = (run / "run.json").stat().st_mtime_ns
    report = (tmp_path / "report.md").read_text()
    assert "tiny " in report and "Runs finished: 1 of 1." in report
    assert (tmp_path / "curves.png").stat().st_size > 10_000

    # the README's script: --report redraws the report from results.json alone
    (tmp_path / "report.md").unlink()
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "fields.py"
    cmd = [sys.executable, str(script), str(field), "--out", str(tmp_path), "--report"]
    subprocess.run(cmd, check=True, capture_output=True)
    assert (tmp_path / "report.md").read_text() == report

    run_field(config, tmp_path, log=lines.append)  # a finished run is reused, not redone
    assert (run / "run.json").stat().st_mtime_ns == finished and "reused" in lines[-1]

    # a run another process is training (it holds the run's lock) is skipped, not trained twice
    with run_lock(run) as mine, run_lock(run) as theirs:
        assert mine and not theirs
    (run / "run.json").rename(run / "run.kept")
    with run_lock(run):
        results = json.loads(run_field(config, tmp_path, log=lines.append).read_text())
    assert "another process" in lines[-1] and results["models"] == {}
    (run / "run.kept").rename(run / "run.json")
    # ... and once the other process has finished it, it is in this one's summary all the same
    with run_lock(run):
        results = json.loads(run_field(config, tmp_path, log=lines.append).read_text())
    assert "another process" in lines[-1] and results["models"]["tiny"]["seeds"] == [0]

    # a partial invocation (another seed only) keeps the finished run in the summary
    seen = len(lines)
    partial = run_field(config, tmp_path, select=lambda model, seed: seed == 1, log=lines.append)
    assert json.loads(partial.read_text())["models"]["tiny"]["seeds"] == [0]
    assert lines[seen:] == [] and (run / "run.json").stat().st_mtime_ns == finished

    # scoring lost (a crash after training): the training is reused and only scoring reruns
    (run / "run.json").unlink()
    run_field(config, tmp_path, log=lines.append)
    assert json.loads((run / "curve.json").read_text()) == curve

    # a training folder of another recipe is set aside, never resumed or deleted
    (run / "fingerprint.txt").write_text("another\n")
    (run / "run.json").unlink()
    (run / "train.json").unlink()
    run_field(config, tmp_path, log=lines.append)
    assert (run / "train-another" / "best.safetensors").is_file()
    assert (run / "train" / "best.safetensors").is_file() and (run / "run.json").is_file()

    # an unmarked folder (runs from before the mark) is the one its train.json names
    (run / "fingerprint.txt").unlink()
    (run / "run.json").unlink()
    trained = json.loads((run / "train.json").read_text())
    (run / "train.json").write_text(json.dumps({**trained, "fingerprint": "older"}))
    run_field(config, tmp_path, log=lines.append)
    assert (run / "train-older" / "best.safetensors").is_file()
    assert (run / "run.json").is_file()


def test_a_field_config_names_its_errors(field: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**FIELD, "epoch": 3}))
    with pytest.raises(ValueError, match=r"bad\.yaml: unknown key\(s\) epoch"):
        read_field_config(bad)
    bad.write_text(yaml.safe_dump({**FIELD, "recipe": {"epochs": 3}}))
    with pytest.raises(ValueError, match="patience"):
        read_field_config(bad)
    bad.write_text(yaml.safe_dump({**FIELD, "data": str(field.parent / "data")}))
    results = json.loads(run_field(read_field_config(bad), tmp_path, log=print).read_text())
    assert results["models"] == {}  # the folder's default split has no test part
    assert "split of" in results["failed"][0]["error"]
