"""Benchmark of ``sigseg view`` (issue 15's targets): the first screen of a 24-hour recording
in at most 3 s, any zoom or pan redrawn in at most 300 ms, and the server's memory bounded
whatever the recording's length.

Recordings: synthetic ECG (``sigseg data synth``: 2 leads at 250 Hz, exact waves as WFDB
annotations), 1 h and 24 h. The viewer runs as ``sigseg view`` in its own process (port 0),
driven by Debian's headless Chromium through Playwright, as a person would use it:

* first screen: from starting ``sigseg view`` to the page showing the whole recording drawn
  (the process's start-up, Bokeh's import and the page's load included); also from the
  server's "viewer:" line to the drawn page, and the time the min/max overview takes;
* redraw: 28 range changes (zooms from the whole day to 1 s and back, and pans at each level),
  each timed from the change to the redrawn window shown and painted (two animation frames);
* memory: the server process's resident set after the overview and the zooms, at 1 h and
  24 h: the signal alone, with predictions (a batch run folder's ``events.parquet``: the
  synthetic waves), and with the WFDB annotations as the reference too (events grow with
  the length; the signal's share must not).

    .venv/bin/python benchmarks/view/run.py            # writes benchmarks/view/results.json
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from sigseg.tasks.ecg.synthetic import write_synthetic_wfdb

HERE = Path(__file__).resolve().parent
FS = 250.0
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATUS = "Bokeh.documents[0].get_model_by_name('status').text"
READY = f"() => window.Bokeh && Bokeh.documents.length > 0 && /data-t0/.test({STATUS})"
SHOWN = f"""([a, b]) => {{
  const m = /data-t0='([^']*)' data-t1='([^']*)'/.exec({STATUS});
  return m && Math.abs(parseFloat(m[1]) - a) < 1e-3 && Math.abs(parseFloat(m[2]) - b) < 1e-3;
}}"""
PAINTED = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


def windows(duration: float) -> list[tuple[float, float]]:
    """Zoom in from the whole recording to 1 s around 5 h (or the middle), panning 3 times
    at each level, then zoom out again."""
    centre = min(5 * 3600.0, duration / 2)
    steps = []
    for width in (duration, 3600.0, 600.0, 60.0, 10.0, 1.0):
        width = min(width, duration)
        for k in range(4):
            start = max(0.0, min(duration - width, centre - width / 2 + k * width / 3))
            steps.append((round(start, 3), round(start + width, 3)))
    for width in (10.0, 600.0, 3600.0, duration):
        start = max(0.0, min(duration - width, centre - width / 2))
        steps.append((round(start, 3), round(start + width, 3)))
    return steps


def serve(record: Path, events: list[str]) -> tuple[subprocess.Popen[str], str, float, float]:
    command = [
        sys.executable,
        "-m",
        "sigseg",
        "view",
        str(record),
        *events,
        "--port",
        "0",
        "--no-open",
    ]
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        if line.startswith("viewer: "):
            return process, line.split()[1], began, time.perf_counter()
        if not line and process.poll() is not None:
            raise SystemExit(f"sigseg view failed: {process.stderr.read()}")  # type: ignore[union-attr]


def measure(context: object, record: Path, events: list[str], duration: float) -> dict[str, object]:
    process, url, began, announced = serve(record, events)
    try:
        page = context.new_page()  # type: ignore[attr-defined]
        page.goto(url)
        page.wait_for_function(READY, timeout=60_000)
        page.evaluate(PAINTED)
        shown = time.perf_counter()
        overview_began = time.perf_counter()
        page.wait_for_function(f"() => !/overview [0-9]/.test({STATUS})", timeout=120_000)
        overview_s = time.perf_counter() - overview_began
        redraws = []
        for t0, t1 in windows(duration):
            start = time.perf_counter()
            page.evaluate(
                "([a, b]) => Bokeh.documents[0].get_model_by_name('time').setv({start: a, end: b})",
                [t0, t1],
            )
            page.wait_for_function(SHOWN, arg=[t0, t1], timeout=30_000)
            page.evaluate(PAINTED)
            redraws.append(time.perf_counter() - start)
        rss = psutil.Process(process.pid).memory_info().rss / 2**20
        page.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    ordered = sorted(redraws)
    return {
        "first_screen_from_start_s": round(shown - began, 3),
        "first_screen_from_server_s": round(shown - announced, 3),
        "overview_after_first_screen_s": round(overview_s, 3),
        "redraw_median_ms": round(1000 * statistics.median(redraws), 1),
        "redraw_p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
        "redraw_max_ms": round(1000 * ordered[-1], 1),
        "redraws": len(redraws),
        "server_rss_mib": round(rss, 1),
    }


def batch_run(reference: Path, folder: Path, duration: float) -> Path:
    """The reference waves as a batch run folder's predictions (``events.parquet``)."""
    import pandas as pd

    from sigseg.results import load_results

    events = load_results(reference)[0].events.assign(recording=reference.stem, score=1.0)
    folder.mkdir()
    events.to_parquet(folder / "events.parquet")
    recordings = {"recording": [reference.stem], "sampling_rate": [FS], "duration_s": [duration]}
    pd.DataFrame(recordings).to_parquet(folder / "recordings.parquet")
    (folder / "run.json").write_text(json.dumps({"status": "complete"}))
    return folder


def main() -> None:
    from playwright.sync_api import sync_playwright

    memory = psutil.virtual_memory().total / 2**30
    runs: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(Path(tmp) / "profile"),
            executable_path="/usr/bin/chromium",
            headless=True,
            args=ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        for hours in (1, 24):
            record = write_synthetic_wfdb(Path(tmp) / f"h{hours}", hours=hours, fs=FS, leads=2)
            header = Path(f"{record}.hea")
            reference = record.with_name(f"h{hours}.syna")
            run = batch_run(reference, Path(tmp) / f"run{hours}", hours * 3600.0)
            cases = {
                "signal": [],
                "predictions": ["--predictions", str(run)],
                "events": ["--predictions", str(run), "--reference", str(reference)],
            }
            for label, events in cases.items():
                key = f"{hours}h_{label}"
                runs[key] = measure(context, header, events, hours * 3600.0)
                print(key, runs[key], flush=True)
        context.close()

    def worst(name: str, which: str = "") -> float:
        return max(float(r[name]) for k, r in runs.items() if k.startswith(which))  # type: ignore[arg-type]

    def grew(label: str) -> float:
        return round(
            float(runs[f"24h_{label}"]["server_rss_mib"])
            - float(runs[f"1h_{label}"]["server_rss_mib"]),
            1,
        )  # type: ignore[arg-type]

    reached = {
        "first_screen_24h_from_start_s": worst("first_screen_from_start_s", "24h"),
        "first_screen_24h_from_server_s": worst("first_screen_from_server_s", "24h"),
        "first_screen_<=3s_from_start": worst("first_screen_from_start_s", "24h") <= 3.0,
        "first_screen_<=3s_from_server": worst("first_screen_from_server_s", "24h") <= 3.0,
        "redraw_p95_ms": worst("redraw_p95_ms"),
        "redraw_p95_<=300ms": worst("redraw_p95_ms") <= 300.0,
        "rss_growth_1h_to_24h_signal_mib": grew("signal"),
        "rss_growth_1h_to_24h_with_predictions_mib": grew("predictions"),
        "rss_growth_1h_to_24h_with_predictions_and_reference_mib": grew("events"),
    }
    results = {
        "command": ".venv/bin/python benchmarks/view/run.py",
        "machine": f"{platform.machine()}, {psutil.cpu_count()} CPUs, {memory:.0f} GiB",
        "recording": f"synthetic ECG, 2 leads at {FS:g} Hz (sigseg data synth)",
        "targets": {"first_screen_s": 3.0, "redraw_ms": 300.0, "memory": "bounded"},
        "runs": runs,
        "reached": reached,
    }
    (HERE / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(reached, indent=1))


if __name__ == "__main__":
    main()
