"""A missing optional dependency is a one-line answer that says what to install, in every
command that needs one: ONNX Runtime for ``--backend onnx`` and ``sigseg export --check``,
onnx and onnxscript for ``sigseg export``, NeuroKit2 for the comparison's baseline.

The package is made missing in this process (``sys.modules[name] = None`` makes ``import name``
raise ``ImportError``), and the command is run through :func:`sigseg.cli.main`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import CliResult, assert_user_error
from reliability_helpers import FS, ecg, write_npy

from sigseg.optional import MissingDependency, require

Cli = Callable[..., CliResult]
INSTALL_ONNX = "pip install 'sigseg[onnx]'"


def missing(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.parametrize("command", ["delineate", "segment"])
def test_backend_onnx_without_onnxruntime(
    cli: Cli, model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    path = write_npy(tmp_path / "x.npy", ecg())
    missing(monkeypatch, "onnxruntime")
    model = ["--model", model_path] if command == "delineate" else [model_path]
    result = cli(command, *model, path, "--fs", FS, "--backend", "onnx", "--out", tmp_path)
    assert_user_error(result, "--backend onnx", "onnxruntime", INSTALL_ONNX)


@pytest.mark.parametrize(
    ("module", "args"),
    [("onnx", ["--no-check"]), ("onnxscript", ["--no-check"]), ("onnxruntime", ["--check"])],
)
def test_export_without_an_onnx_package(
    cli: Cli,
    model_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    args: list[str],
) -> None:
    missing(monkeypatch, module)
    out = tmp_path / "m.onnx"
    result = cli("export", model_path, "--onnx", out, *args)
    assert_user_error(result, module, INSTALL_ONNX)
    assert not out.exists()


def test_neurokit_baseline_without_neurokit(monkeypatch: pytest.MonkeyPatch) -> None:
    from sigseg.compare.baseline import NeuroKitDelineator, neurokit_delineate
    from sigseg.compare.harness import _has_neurokit
    from sigseg.data.record import Record

    missing(monkeypatch, "neurokit2")
    assert not _has_neurokit()  # `sigseg compare` then says so in one line and goes on
    with pytest.raises(ValueError, match=r"neurokit2.*pip install 'sigseg\[baselines\]'"):
        neurokit_delineate(ecg(leads=1)[0], FS)
    record = Record(signal=ecg(leads=1), fs=FS, channels=["ii"], name="r")
    with pytest.raises(MissingDependency):  # not tallied as a failure of every lead
        NeuroKitDelineator()(record)(0)


def test_require_is_an_import_error_and_a_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    missing(monkeypatch, "onnx")
    with pytest.raises(ImportError) as caught:
        require("onnx", "ONNX export")
    assert isinstance(caught.value, ValueError)
    assert "\n" not in str(caught.value)
    assert require("numpy", "arrays") is np
