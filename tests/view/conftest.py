"""A 24-hour synthetic ECG (one lead at 50 Hz, with its exact waves as WFDB annotations), its
predictions as a batch run folder (the reference with known changes), the viewer serving
them on 127.0.0.1, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigseg.results import load_results
from sigseg.tasks.ecg.synthetic import write_synthetic_wfdb

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


@pytest.fixture(scope="session")
def day(tmp_path_factory: pytest.TempPathFactory) -> Day:
    folder = tmp_path_factory.mktemp("day")
    base = write_synthetic_wfdb(folder / "day", hours=24, fs=50.0, leads=1, seed=3)
    reference = base.with_name("day.syna")
    events = load_results(reference)[0].events
    missed = (events["label"] == "QRS") & events["onset"].between(*MISSED, inclusive="left")
    extra = pd.DataFrame(
        {
            "onset": EXTRA,
            "offset": [t + 0.04 for t in EXTRA],
            "label": "P",
            "channel": "syna",
            "peak": [t + 0.02 for t in EXTRA],
        }
    )
    predicted = pd.concat([events[~missed], extra], ignore_index=True)
    run = folder / "run"
    run.mkdir()
    table = predicted.assign(recording="day", score=0.9)
    table[["recording", "channel", "label", "onset", "offset", "peak", "score"]].to_parquet(
        run / "events.parquet"
    )
    recordings = {
        "recording": ["day"],
        "path": [str(base) + ".hea"],
        "sampling_rate": [50.0],
        "duration_s": [86_400.0],
    }
    pd.DataFrame(recordings).to_parquet(run / "recordings.parquet")
    (run / "run.json").write_text(json.dumps({"status": "complete", "task": "ecg-delineation"}))
    return Day(Path(str(base) + ".hea"), reference, run, events, predicted)


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


@pytest.fixture(scope="module")
def viewer(day: Day) -> Iterator[Viewer]:
    served = start_viewer(day.record, "--predictions", day.run, "--reference", day.reference)
    yield served
    served.process.terminate()
    served.process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium (``make test`` installs it), headless, with a fresh profile."""
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: apt-get install chromium (make test does)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1100},
        )
        yield context
        context.close()


def pixel_colours(png: bytes) -> np.ndarray:
    """A screenshot as an ``(H, W, 3)`` uint8 array."""
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
