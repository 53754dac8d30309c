"""Helpers of the reliability tests: CLI results and checks, signal files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from cli_helpers import CliResult

FS = 500.0


def sigseg_process(*args: object, timeout: float = 300) -> CliResult:
    """Run ``python -m sigseg ARGS`` as a user would."""
    env = {k: v for k, v in os.environ.items() if k != "SIGSEG_DEBUG"}
    done = subprocess.run(
        [sys.executable, "-m", "sigseg", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


def ecg(seconds: float = 4.0, leads: int = 2, fs: float = FS, seed: int = 0) -> np.ndarray:
    """A synthetic ECG ``(leads, samples)``, float32."""
    from sigseg.tasks.ecg.synthetic import synthesize_ecg

    return synthesize_ecg(seconds, fs, leads, seed).signal


def write_npy(path: Path, signal: np.ndarray) -> Path:
    np.save(path, signal)
    return path


def write_edf(path: Path, labels: Sequence[str] = ("I", "II"), seconds: float = 2.0) -> Path:
    """An EDF+ file of ``ecg(seconds)`` with one signal per label (mV, +-10 mV range)."""
    import pyedflib

    x = ecg(seconds, len(labels)).astype(np.float64)
    writer = pyedflib.EdfWriter(str(path), len(labels), file_type=pyedflib.FILETYPE_EDFPLUS)
    writer.setSignalHeaders(
        [
            {
                "label": label,
                "dimension": "mV",
                "sample_frequency": FS,
                "physical_max": 10.0,
                "physical_min": -10.0,
                "digital_max": 32767,
                "digital_min": -32768,
            }
            for label in labels
        ]
    )
    writer.writeSamples([row.copy() for row in x])
    writer.close()
    return path
