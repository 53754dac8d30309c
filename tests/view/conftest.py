"""A 24-hour synthetic ECG (one lead at 50 Hz, with its exact waves as WFDB annotations), its
predictions as a batch run folder (the reference with known changes), the viewer serving
them on 127.0.0.1, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from view_helpers import CHROMIUM, CHROMIUM_ARGS, EXTRA, MISSED, Day, Viewer, start_viewer

from sigseg.results import load_results
from sigseg.tasks.ecg.synthetic import write_synthetic_wfdb


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
