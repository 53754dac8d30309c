"""Shared by the viewer's tests: the browser's settings, the recording's known changes, and
starting ``sigseg view`` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSED = (3600.0, 3630.0)
"""The predictions lack every QRS complex whose onset lies in this stretch (seconds)."""
EXTRA = (50_000.5, 50_010.5, 50_020.5)
"""...and hold a P wave (40 ms) at each of these times that the reference does not."""


@dataclass(frozen=True)
class Day:
    record: Path  # the .hea file
    reference: Path  # WFDB annotations <record>.syna
    run: Path  # the batch run folder of predictions
    events: pd.DataFrame  # the reference events
    predicted: pd.DataFrame


@dataclass(frozen=True)
class Viewer:
    url: str
    process: subprocess.Popen[str]


def start_viewer(*args: object, timeout: float = 90.0) -> Viewer:
    """``sigseg view ARGS --port 0 --no-open`` in a subprocess, once it prints its URL."""
    command = [sys.executable, "-m", "sigseg", "view", *map(str, args), "--port", "0", "--no-open"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("viewer: "):
            return Viewer(line.split()[1], process)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"the viewer did not start: {process.stderr.read()[-2000:]}")  # type: ignore[union-attr]


def pixel_colours(png: bytes) -> np.ndarray:
    """A screenshot as an ``(H, W, 3)`` uint8 array."""
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
