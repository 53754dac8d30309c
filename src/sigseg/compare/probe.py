"""CPU inference cost of a trained model: throughput and peak memory, in a fresh process.

What is measured, on one 12-lead, 10-s record (random values; cost does not depend on them):

* ``forward``: the model's forward pass on the batch inference runs for that record at the
  model's rate (12 leads x one window), median wall time over ``repeats`` after one warm-up;
  throughput in model-rate samples per second.
* ``record``: end to end, :func:`~sigseg.inference.predict.predict_long` on the 500-Hz record
  (resampling, windowing, normalization, forward, softmax, stitching), median over
  ``repeats``; throughput in input (500-Hz) samples per second, and as a multiple of real time
  per lead.
* ``peak_rss_delta_mib``: how much the process's resident memory rises above its level just
  before the first full-size forward pass (weights loaded, libraries warmed up on a short
  input): the larger of the rise sampled every 0.5 ms with psutil and the rise of the kernel's
  high-water mark (``ru_maxrss``). Activations dominate it; weights are not included.

:func:`probe_in_subprocess` runs the probe with ``python -m sigseg.compare.probe`` so that
memory and threads are not disturbed by the training that ran before in the same process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

PROBE_LEADS = 12
PROBE_SECONDS = 10.0
PROBE_FS = 500.0


@dataclass(frozen=True)
class ProbeResult:
    threads: int
    repeats: int
    leads: int
    seconds: float
    forward_batch: list[int]
    forward_median_s: float
    forward_samples_per_s: float
    record_median_s: float
    record_samples_per_s: float
    realtime_factor: float
    peak_rss_delta_mib: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _max_rss() -> int:
    import resource

    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * scale


class _RssSampler:
    """Polls the resident set size in a thread (PyTorch ops release the GIL)."""

    def __init__(self, period_s: float = 0.0005) -> None:
        self.period_s, self.peak = period_s, _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(self.period_s)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _median_seconds(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(statistics.median(times))


def probe_checkpoint(
    path: str | Path,
    *,
    repeats: int = 5,
    threads: int | None = None,
    leads: int = PROBE_LEADS,
    seconds: float = PROBE_SECONDS,
) -> ProbeResult:
    """Measure a checkpoint in this process (see the module docstring for the definitions)."""
    import torch

    from sigseg.inference.backends import load_backend
    from sigseg.inference.predict import predict_long
    from sigseg.inference.windows import WindowOptions, plan_windows, window_width

    if threads is not None:
        torch.set_num_threads(threads)
    backend = load_backend(path, "torch")
    rng = np.random.default_rng(0)
    record = rng.standard_normal((leads, round(seconds * PROBE_FS))).astype(np.float32)
    length = round(seconds * backend.sampling_rate)
    options = WindowOptions()
    width = window_width(length, options)
    windows = len(plan_windows(length, options))
    batch = rng.standard_normal((leads * windows, 1, width)).astype(np.float32)

    backend(batch[:1, :, :64])  # load kernels and libraries on a small input
    before_rss, before_max = _rss(), _max_rss()
    with _RssSampler() as sampler:
        backend(batch)
    peak = max(sampler.peak - before_rss, _max_rss() - before_max, 0)

    forward = _median_seconds(lambda: backend(batch), repeats)
    predict_long(backend, record, fs=PROBE_FS)  # warm-up
    whole = _median_seconds(lambda: predict_long(backend, record, fs=PROBE_FS), repeats)
    return ProbeResult(
        threads=torch.get_num_threads(),
        repeats=repeats,
        leads=leads,
        seconds=seconds,
        forward_batch=list(batch.shape),
        forward_median_s=forward,
        forward_samples_per_s=batch.shape[0] * width / forward,
        record_median_s=whole,
        record_samples_per_s=record.size / whole,
        realtime_factor=seconds * leads / whole,
        peak_rss_delta_mib=peak / 2**20,
    )


def probe_in_subprocess(
    path: str | Path, *, repeats: int = 5, threads: int | None = None, timeout: float = 900.0
) -> ProbeResult:
    """:func:`probe_checkpoint` in a fresh Python process (clean memory and thread state)."""
    cmd = [sys.executable, "-m", "sigseg.compare.probe", str(path), "--repeats", str(repeats)]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"inference probe of {path} failed: {' | '.join(tail)}")
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"inference probe of {path} printed nothing")
    return ProbeResult(**json.loads(lines[-1]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Measure a checkpoint's CPU inference cost.")
    parser.add_argument("checkpoint")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    result = probe_checkpoint(args.checkpoint, repeats=args.repeats, threads=args.threads)
    print(json.dumps(result.to_dict()))


if __name__ == "__main__":
    main()
