"""`sigseg data synth` and `sigseg data info`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sigseg.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def test_synth_then_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "holter"
    code, out, err = run_cli(
        capsys, "data", "synth", str(out_path), "--hours", "0.01", "--fs", "250", "--leads", "3"
    )
    assert code == 0, err
    assert "holter.hea" in out and (tmp_path / "holter.sync").is_file()
    code, out, err = run_cli(capsys, "data", "info", str(out_path), "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["format"] == "wfdb" and info["fs"] == 250 and info["samples"] == 9000
    assert info["channels"] == ["syna", "synb", "sync"] and info["duration_s"] == 36


def test_info_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "data", "info", str(tmp_path / "missing.edf"))
    assert code == 2 and err.strip() == f"error: {tmp_path / 'missing.edf'}: no such file"
