"""Fixtures of the reliability tests: a tiny checkpoint and the CLI run in this process."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_helpers import CliResult

import sigseg


@pytest.fixture()
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``sigseg ARGS`` in this process through :func:`sigseg.cli.main` (the same error
    handling as the console script, without the start-up cost of a new interpreter)."""
    from sigseg.cli import main

    def run(*args: object) -> CliResult:
        capsys.readouterr()
        for name in list(logging.root.manager.loggerDict):  # handlers made under an old capture
            for handler in logging.getLogger(name).handlers:
                if isinstance(handler, logging.StreamHandler) and name.startswith("lightning"):
                    handler.stream = sys.stderr  # setStream would flush the closed one
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny single-lead checkpoint (random weights: the tests check behaviour, not skill)."""
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    model = sigseg.create_model("dilated", widths=(8, 8), dilations=(1, 2))
    sigseg.save_checkpoint(
        model, path, preprocessing={"sampling_rate": 250.0, "normalize": "robust"}
    )
    return path


@pytest.fixture(scope="session")
def backend(model_path: Path):
    from sigseg.inference.backends import load_backend

    return load_backend(model_path)
