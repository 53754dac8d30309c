"""``sigseg train`` as a user runs it: config round trip, overrides, DDP on CPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml


def sigseg(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sigseg", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_ddp_on_cpu_trains_with_two_processes(tmp_path: Path, tiny_train_args) -> None:
    out = tmp_path / "ddp"
    result = sigseg(
        "train",
        *tiny_train_args(),
        "--epochs",
        "1",
        "--devices",
        "2",
        "--strategy",
        "ddp",
        "--accelerator",
        "cpu",
        "--out",
        out,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "world_size: 2" in result.stderr + result.stdout or "MEMBER: 2/2" in result.stderr
    assert (out / "best.safetensors").is_file() and (out / "checkpoints" / "last.ckpt").is_file()
    assert result.stdout.count("best ") == 1  # only the main process reports


def test_saved_config_reproduces_the_run(tmp_path: Path, tiny_train_args) -> None:
    first = sigseg("train", *tiny_train_args(), "--epochs", "1", "--out", tmp_path / "a")
    assert first.returncode == 0, first.stderr[-2000:]
    saved = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())
    assert saved["model_options"] == {"widths": [8, 8], "dilations": [1, 2]}
    assert saved["synthetic_train"] == 16 and saved["epochs"] == 1
    second = sigseg("train", "--config", tmp_path / "a" / "config.yaml", "--out", tmp_path / "b")
    assert second.returncode == 0, second.stderr[-2000:]
    a = (tmp_path / "a" / "last.safetensors").read_bytes()
    b = (tmp_path / "b" / "last.safetensors").read_bytes()
    # identical weights; the embedded description differs only in out_dir
    from safetensors.torch import load

    wa, wb = load(a), load(b)
    assert wa.keys() == wb.keys() and all(bool((wa[k] == wb[k]).all()) for k in wa)


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    bad = sigseg("train", "--model", "resnet", "--out", tmp_path)
    assert bad.returncode == 2
    assert (
        bad.stderr.strip().splitlines() == [bad.stderr.strip().splitlines()[-1]]
        and "unknown model 'resnet'" in bad.stderr
    )
    missing = sigseg("train", "--config", tmp_path / "nope.yaml")
    assert missing.returncode == 2 and "nope.yaml: config file not found" in missing.stderr
    typo = tmp_path / "typo"  # synthetic records carry no rhythm: refused before any output
    unknown = sigseg(
        "train", "--data", "synthetic", "--set", "oversample={rhythms: {AF: 4}}", "--out", typo
    )
    assert unknown.returncode == 2 and unknown.stderr.strip().splitlines() == [
        "error: oversample: no training record has rhythms='AF'"
    ]
    assert not typo.exists()


def test_readme_training_command_on_ludb(ludb_root: Path, tmp_path: Path) -> None:
    """The README's `sigseg train --model unet --data ludb`, shrunk (a small U-Net, 3 batches):
    it trains on the LUDB train split, validates with boundary metrics and writes checkpoints."""
    out = tmp_path / "unet"
    result = sigseg(
        "train",
        "--model",
        "unet",
        "--data",
        "ludb",
        "--data-root",
        ludb_root,
        "--out",
        out,
        "--epochs",
        "1",
        "-m",
        "depth=2",
        "-m",
        "base_width=4",
        "--set",
        "limit_train_batches=3",
        "--set",
        "progress=false",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"val_strict_f1", "val_f1_150", "val_acc", "val_loss"} <= set(header)
    from sigseg.checkpoint import load_checkpoint

    model, info = load_checkpoint(out / "best.safetensors")
    assert info.arch == "unet" and model.config.depth == 2
    assert info.extra["train_config"]["data"] == "ludb"
    assert 0.0 <= info.extra["validation"]["val_strict_f1"] <= 1.0
