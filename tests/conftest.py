"""Shared fixtures."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import CliResult

from sigseg.data import Record
from sigseg.tasks.ecg import CLASSES

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def ludb_root() -> Path:
    """The LUDB folder: ``$SIGSEG_DATA`` or ``../shared/data/ludb`` beside the repository.
    LUDB tests must run in CI, so a missing folder fails instead of skipping."""
    env = os.environ.get("SIGSEG_DATA")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "data" / "ludb"
    if not (path / "ludb.csv").is_file() and (path / "ludb" / "ludb.csv").is_file():
        path = path / "ludb"
    if not (path / "ludb.csv").is_file():
        pytest.fail(f"LUDB not found at {path}: set SIGSEG_DATA to the LUDB folder")
    return path


@pytest.fixture(scope="session", autouse=True)
def _onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """ONNX exports that load_backend caches go to a temporary folder, not the user's cache
    (subprocesses inherit it)."""
    os.environ.setdefault("SIGSEG_CACHE_DIR", str(tmp_path_factory.mktemp("sigseg-cache")))


@pytest.fixture
def tiny_train_args() -> Callable[[int, int], list[str]]:
    """``sigseg train`` options for a run of seconds: a 2-block dilated net on ``train`` and
    ``val`` short synthetic records (the rest of each command is the test's)."""

    def args(train: int = 16, val: int = 4) -> list[str]:
        return [
            "--model",
            "dilated",
            "-m",
            "widths=[8, 8]",
            "-m",
            "dilations=[1, 2]",
            "--data",
            "synthetic",
            *("--set", f"synthetic_train={train}", "--set", f"synthetic_val={val}"),
            *("--set", "synthetic_seconds=4", "--set", "crop_seconds=2"),
            *("--set", "progress=false"),
        ]

    return args


Span = tuple[int, str, int, int]  # lead, kind, first sample, last sample


def _label_runs(record: Record) -> set[Span]:
    """Every run of one wave class in the labels."""
    out = set()
    for lead, row in enumerate(record.labels):
        edges = np.flatnonzero(np.diff(row)) + 1
        for start, stop in zip(np.r_[0, edges], np.r_[edges, len(row)], strict=True):
            if row[start] > 0:
                out.add((lead, CLASSES[row[start]], int(start), int(stop - 1)))
    return out


def _wave_spans(record: Record) -> set[Span]:
    """Every wave's span, a boundary outside the record read as the record's edge."""
    last = record.num_samples - 1
    return {
        (w.lead, w.kind, 0 if w.onset is None else w.onset, last if w.offset is None else w.offset)
        for w in record.waves
    }


@pytest.fixture
def label_runs() -> Callable[[Record], set[Span]]:
    """A record's runs of one wave class in its labels (the data and ECG synthetic tests)."""
    return _label_runs


@pytest.fixture
def wave_spans() -> Callable[[Record], set[Span]]:
    """A record's wave spans, comparable with ``label_runs``."""
    return _wave_spans


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
