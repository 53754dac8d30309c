from __future__ import annotations

import json
import subprocess
import sys

from sigseg.models import list_models


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sigseg", *args], capture_output=True, text=True, timeout=300
    )


def test_models_json_lists_every_model_with_figures() -> None:
    result = run_cli("models", "--json", "--fs", "250")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == set(list_models())
    assert rows["dilated-seed"]["parameters"] == 31_617
    assert rows["dilated-seed"]["receptive_field_samples"] == 15
    assert rows["dilated-seed"]["receptive_field_ms"] == 60.0
    assert rows["attention"]["receptive_field_samples"] is None  # global
    assert rows["hybrid"]["macs_per_second"] <= 0.5 * rows["unet"]["macs_per_second"]
    # a preset with its own rate keeps it: its field in ms and MACs are at 125 Hz
    assert rows["hybrid-fast"]["sampling_rate"] == 125.0 and rows["hybrid"]["sampling_rate"] == 250
    assert rows["hybrid-fast"]["receptive_field_ms"] == 1000 * 771 / 125


def test_models_table_and_bad_fs() -> None:
    result = run_cli("models")
    assert result.returncode == 0 and "unet-seed" in result.stdout and "global" in result.stdout
    bad = run_cli("models", "--fs", "0")
    assert bad.returncode == 2 and "--fs must be > 0" in bad.stdout + bad.stderr
