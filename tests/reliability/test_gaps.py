"""Gaps and impossible inputs: the four faults an independent battery found, reproduced.

* An input shorter than the task's minimum (a 20-ms ECG used to give two QRS complexes) or
  sampled too slowly to resolve its events (a 200-s "ECG" at 1 Hz gave seven) is a one-line
  error, in the API, in ``sigseg delineate`` and in ``sigseg segment``: never invented waves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import CliResult, assert_user_error
from reliability_helpers import FS, ecg, write_npy

import sigseg
from sigseg.tasks import Task
from sigseg.tasks.ecg import ECG_DELINEATION

Cli = Callable[..., CliResult]

TOO_SHORT = "is 0.02 s long (10 samples at 500 Hz); task 'ecg-delineation' needs at least 0.6 s"
TOO_SLOW = "sampled at 1 Hz; task 'ecg-delineation' needs at least 50 Hz"

# --- impossible inputs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signal", "fs", "message"),
    [(ecg(leads=1)[:, :10], FS, TOO_SHORT), (np.sin(np.arange(200.0))[None], 1.0, TOO_SLOW)],
    ids=["20ms", "1Hz"],
)
def test_impossible_input_through_the_api(signal: np.ndarray, fs: float, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sigseg.delineate(signal, fs)


@pytest.mark.parametrize(
    ("seconds", "fs", "message"),
    [(0.02, FS, TOO_SHORT), (200.0, 1.0, TOO_SLOW)],
    ids=["20ms", "1Hz"],
)
@pytest.mark.parametrize("command", ["delineate", "segment"])
def test_impossible_input_through_the_cli(
    cli: Cli, tmp_path: Path, seconds: float, fs: float, message: str, command: str
) -> None:
    path = write_npy(tmp_path / "odd.npy", np.sin(np.arange(round(seconds * fs)) / 3.0))
    out = tmp_path / "out"
    model = [] if command == "delineate" else ["ecg-hybrid-fast-ludb"]  # the shipped model
    result = cli(command, *model, path, "--fs", fs, "--out", out)
    assert_user_error(result, "odd.npy", message, code=1)
    assert not [p for p in out.iterdir() if p.name.startswith("odd")]


def test_the_limits_are_the_tasks_and_travel_with_it() -> None:
    assert Task.from_dict(ECG_DELINEATION.to_dict()) == ECG_DELINEATION
    ECG_DELINEATION.check_input(300, 500.0)  # 0.6 s at 500 Hz: enough
    ECG_DELINEATION.check_input(30, 50.0)
    Task("any", ("background", "x")).check_input(1, 1e-3)  # no limits by default
    for key in ("min_input_s", "min_sampling_rate"):
        with pytest.raises(ValueError, match=f"{key} must be a number > 0"):
            Task("t", ("background", "x"), **{key: 0.0})
