"""The whole comparison on tiny settings: synthetic data, one small model trained for one
batch, one ablation point, two test records; then a rerun that reuses every finished step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sigseg.compare import Budget, CompareConfig, run_compare
from sigseg.compare.config import plan_runs

TINY_TRAIN = {
    "synthetic_train": 4,
    "synthetic_val": 1,
    "batch_size": 4,
    "limit_train_batches": 1,
}
CLI_ARGS = [
    "compare", "--data", "synthetic", "--models", "dilated-seed", "--seeds", "0",
    "--epochs", "1", "--ablation-levels", "2", "--test-records", "2", "--threads", "2",
    *(f"--set={k}={v}" for k, v in TINY_TRAIN.items()),
]  # fmt: skip


def _tiny_config(out: Path) -> CompareConfig:
    """What CLI_ARGS ask for, built through the library."""
    return CompareConfig(
        models=("dilated-seed",),
        seeds=(0,),
        budget=Budget(epochs=1),
        data="synthetic",
        out_dir=str(out),
        test_records=2,
        ablation_levels=(2,),
        threads=2,
        train_options=dict(TINY_TRAIN),
    )


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from typer.testing import CliRunner

    from sigseg.cli import app

    out = tmp_path_factory.mktemp("compare")
    result = CliRunner().invoke(app, [*CLI_ARGS, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "report " in result.output
    return out


def test_outputs_and_keys(compared: Path) -> None:
    for name in ("report.md", "results.json", "f1_vs_compute.png",
                 "f1_vs_receptive_field.png", "delineation.png"):  # fmt: skip
        assert (compared / name).is_file(), name
        assert (compared / name).stat().st_size > 0
    results = json.loads((compared / "results.json").read_text())
    for key in ("command", "config", "machine", "versions", "data", "models", "ablation",
                "baseline", "runs", "plots", "budget", "recipe"):  # fmt: skip
        assert key in results, key
    command = results["command"]
    assert command.startswith("sigseg compare ") and "--models dilated-seed" in command
    assert "--set synthetic_train=4" in command and f"--out {compared}" in command
    assert results["data"]["source"] == "synthetic"
    assert results["recipe"]["data"] == "synthetic"  # training reads what the test scores
    train_config = (compared / "runs" / "dilated-seed-seed0" / "train" / "config.yaml").read_text()
    assert "data: synthetic" in train_config and "limit_train_batches: 1" in train_config
    assert results["data"]["test_leads"] == 4  # 2 records x 2 synthetic leads
    assert {"cpu", "logical_cores", "ram_gib"} <= set(results["machine"])
    assert {"torch", "lightning", "numpy", "neurokit2", "sigseg"} <= set(results["versions"])
    model = results["models"]["dilated-seed"]
    assert model["seeds"] == [0]
    assert model["profile"]["parameters"] > 0
    assert model["profile"]["receptive_field_ms"] == pytest.approx(60.0)
    metrics = model["metrics"]
    for key in ("boundaries.strict.macro_f1", "boundaries.150ms.macro_f1",
                "boundaries.strict.QRS_on.f1", "boundaries.150ms.T_off.error_mean_ms",
                "samples.P.f1", "segments.f1@50", "train.seconds",
                "inference.forward_samples_per_s", "inference.peak_rss_delta_mib"):  # fmt: skip
        assert key in metrics, key
        assert set(metrics[key]) == {"mean", "sd", "n"}
    assert metrics["train.steps"]["mean"] == 1
    assert metrics["inference.forward_samples_per_s"]["mean"] > 0
    assert [p["levels"] for p in results["ablation"]] == [2]
    assert results["ablation"][0]["profile"]["receptive_field_ms"] == pytest.approx(28.0)
    baseline = results["baseline"]
    assert baseline["all_leads"]["leads"] == 4 and baseline["lead_ii"] is None
    assert baseline["reference_lead_ii"] == {"strict": 0.728, "150ms": 0.881}
    report = (compared / "report.md").read_text()
    for text in ("strict macro-F1", "NeuroKit2 DWT (all leads)", "dilated-seed", "Ablation",
                 "f1_vs_compute.png", "torch", "AMD" if "AMD" in results["machine"]["cpu"]
                 else results["machine"]["cpu"][:5]):  # fmt: skip
        assert text in report, text


def test_runs_are_saved_and_reused(compared: Path) -> None:
    config = _tiny_config(compared)
    runs = {r.run_id for r in plan_runs(config)}
    assert runs == {"dilated-seed-seed0", "dilated-L2-seed0"}
    for run_id in runs:
        saved = json.loads((compared / "runs" / run_id / "run.json").read_text())
        assert saved["status"] == "ok"
    stamp = {r: (compared / "runs" / r / "run.json").stat().st_mtime_ns for r in runs}
    messages: list[str] = []
    out = run_compare(config, log=messages.append)  # same settings through the library
    assert not out.failed
    assert sum("reused" in m for m in messages) == 3  # two runs and the baseline
    assert stamp == {r: (compared / "runs" / r / "run.json").stat().st_mtime_ns for r in runs}
