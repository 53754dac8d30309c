"""Speed and memory of ECG delineation on a CPU: the default model (PyTorch and ONNX Runtime),
the unaccelerated reference model it replaced, the U-Net baseline and NeuroKit2's wavelet
delineator, on the 40 LUDB test records and on a 24-hour single-lead Holter-like recording at
500 Hz, measured in one run on one machine.

Every measurement runs in its own child process; its peak memory is that process's own
high-water mark (``ru_maxrss`` from ``wait4``), its time the median over repeats. Each speed
technique is also measured on its own (on a 1-hour excerpt, in process) with its effect on the
LUDB test strict macro-F1. Usage (about 25 minutes on 2 cores)::

    python benchmarks/speed.py

measures the shipped default model against the shipped 250-Hz ``ecg-hybrid-ludb`` (the
unaccelerated reference; ``--model`` and ``--reference`` name others) and writes
``benchmarks/speed/results.json`` and ``benchmarks/speed/README.md``. ``--quick``
checks the script end to end in a few minutes (10-minute recordings, one repeat).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LUDB_DEFAULT = REPO.parent / "shared" / "data" / "ludb"
THREADS = 2
HOLTER_FS = 500.0


# ------------------------------------------------------------------------------ child tasks
# Each task runs in a fresh process (``speed.py --task NAME --spec JSON``) and returns a dict.


def task_matmul(spec: dict[str, Any]) -> dict[str, Any]:
    """Matrix-multiply peak: float32 2048 x 2048 ``torch.matmul``, best of 20."""
    import torch

    out = {}
    for threads in (1, spec["threads"]):
        torch.set_num_threads(threads)
        a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)

        def product(a: Any = a, b: Any = b) -> Any:
            return a @ b

        for _ in range(3):
            product()
        best = min(_timed(product) for _ in range(20))
        out[f"gflops_{threads}_threads"] = 2 * 2048**3 / best / 1e9
    return out


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _backend(spec: dict[str, Any]) -> Any:
    from sigseg.inference.backends import load_backend

    backend = load_backend(spec["model"], spec["backend"], threads=spec["threads"])
    if spec["backend"] == "torch":
        import torch

        torch.set_num_threads(spec["threads"])
    return backend


def _macs_per_sample(model: Any) -> float:
    """Multiply-accumulates per model-rate sample of a model or checkpoint path."""
    import sigseg
    from sigseg.models.profile import count_macs

    if isinstance(model, str):
        model, _ = sigseg.load_checkpoint(model)
    return count_macs(model, 8192) / 8192


def task_model(spec: dict[str, Any]) -> dict[str, Any]:
    """The model alone: batches of windows through the backend (no reading, no decoding)."""
    backend = _backend(spec)
    x = np.random.default_rng(0).standard_normal(spec["shape"]).astype(np.float32)
    backend(x)
    times = [_timed(lambda: backend(x)) for _ in range(spec["repeats"])]
    samples = int(np.prod(spec["shape"]))
    seconds = statistics.median(times)
    macs = _macs_per_sample(spec["model"])
    return {
        "seconds_per_batch": seconds,
        "samples_per_second": samples / seconds,
        "gflops": 2 * macs * samples / seconds / 1e9,
        "times": times,
    }


def task_ludb(spec: dict[str, Any]) -> dict[str, Any]:
    """Delineate every lead of the 40 LUDB test records (time: delineation only), then score."""
    from sigseg.inference.windows import LONG_WINDOW, WindowOptions, long_window_options
    from sigseg.tasks.ecg.delineate import delineate_signal
    from sigseg.tasks.ecg.evaluation import result_summary, score_record
    from sigseg.tasks.ecg.ludb import load_ludb

    if spec.get("attention") == "5d":
        _use_5d_attention()
    records = load_ludb(spec["ludb"], split="test", mode="multi")
    if spec.get("records"):
        records = records[: spec["records"]]
    leads = sum(r.signal.shape[0] for r in records)
    seconds = sum(r.num_samples / r.fs for r in records)
    if spec["method"] == "neurokit2":
        from sigseg.compare.baseline import NeuroKitDelineator

        def run() -> list[Any]:
            nk = NeuroKitDelineator()
            return [{lead: nk(r)(lead) for lead in range(r.signal.shape[0])} for r in records]

    else:
        backend = _backend(spec)
        options = None
        if spec.get("windows") == "long":  # LUDB is shorter than a long window: padded to it
            options = long_window_options(backend)
            assert options.window == LONG_WINDOW
        elif spec.get("windows") == "default":
            options = WindowOptions()

        def run() -> list[Any]:
            out = []
            for r in records:
                result = delineate_signal(backend, r.signal, r.fs, window_options=options)
                out.append({lead: result.lead_waves(lead) for lead in range(r.signal.shape[0])})
            return out

        run_one = records[:1]
        delineate_signal(backend, run_one[0].signal, run_one[0].fs, window_options=options)
    times, predictions = [], None
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        predictions = run()
        times.append(time.perf_counter() - start)
    assert predictions is not None
    total = None
    for record, waves in zip(records, predictions, strict=True):
        scored = score_record(record, lambda lead, w=waves: w[lead])
        total = scored if total is None else total + scored
    assert total is not None
    summary = result_summary(total.result())
    return {
        "records": len(records),
        "leads": leads,
        "record_seconds": seconds,
        "lead_seconds": seconds * leads / len(records),
        "seconds": statistics.median(times),
        "times": times,
        **summary,
    }


def task_stream(spec: dict[str, Any]) -> dict[str, Any]:
    """Delineate a recording in process with the streaming API (every wave collected), with
    the given backend and window options: the speed techniques one at a time."""
    from sigseg.data.readers import open_signal
    from sigseg.inference.windows import LONG_WINDOW, WindowOptions, long_window_options
    from sigseg.tasks.ecg.delineate import iter_delineate

    if spec.get("attention") == "5d":
        _use_5d_attention()
    if spec["backend"] == "onnx-file":
        backend = _onnx_file(spec)
    elif spec["backend"] == "onnx-parallel":
        backend = _ParallelBackend(_backend({**spec, "backend": "onnx", "threads": 1}), 2)
    else:
        backend = _backend(spec)
    if spec["windows"] == "long":
        options = long_window_options(
            backend, window=spec.get("window", LONG_WINDOW), batch_size=spec.get("batch", 2)
        )
    else:
        options = WindowOptions(batch_size=spec.get("batch", 32))
    calls = _CountingBackend(backend)
    times, waves = [], 0
    with open_signal(spec["record"]) as reader:
        hours = reader.num_samples / reader.fs / 3600
        for _ in range(spec["repeats"]):
            calls.seconds = calls.samples = 0
            start = time.perf_counter()
            waves = sum(len(w) for w in iter_delineate(calls, reader, window_options=options))
            times.append(time.perf_counter() - start)
    macs = _macs_per_sample(spec["model"])
    seconds = statistics.median(times)
    return {
        "hours": hours,
        "seconds": seconds,
        "times": times,
        "waves": waves,
        "model_seconds": calls.seconds,
        "model_samples": calls.samples,
        "window": options.window,
        "overlap": options.overlap_samples,
        "batch": options.batch_size,
        "computed_per_sample": calls.samples / (hours * 3600 * backend.sampling_rate),
        "model_gflops": 2 * macs * calls.samples / calls.seconds / 1e9,
    }


class _CountingBackend:
    """A backend wrapper that adds up the time spent in the model and the samples it saw."""

    def __init__(self, backend: Any) -> None:
        self.backend, self.seconds, self.samples = backend, 0.0, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        out = self.backend(batch)
        self.seconds += time.perf_counter() - start
        self.samples += batch.shape[0] * batch.shape[-1]
        return out


class _ParallelBackend:
    """Splits each batch across ``workers`` threads, each running its part on a one-thread
    ONNX Runtime session (parallel batches instead of parallel operators)."""

    def __init__(self, backend: Any, workers: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.backend, self.workers = backend, workers
        self.pool = ThreadPoolExecutor(workers)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        parts = np.array_split(batch, min(self.workers, len(batch)))
        return np.concatenate(list(self.pool.map(self.backend, parts)))


def _use_5d_attention() -> None:
    """The windowed attention as it was before this benchmark's work (5-D inputs to
    ``scaled_dot_product_attention``, which PyTorch runs unfused on a CPU): the ablation."""
    import torch
    import torch.nn.functional as F

    from sigseg.layers.attention import MultiHeadSelfAttention

    def windowed(self: Any, q: Any, k: Any, v: Any, p: float) -> Any:
        n, h, length, d = q.shape
        w = self.window
        chunks = (length + w - 1) // w
        pad = chunks * w - length
        q, k, v = (F.pad(t, (0, 0, 0, pad)) for t in (q, k, v))
        valid = (torch.arange(chunks * w) < length).reshape(chunks, w)
        q, k, v = (t.reshape(n, h, chunks, w, d) for t in (q, k, v))

        def neighbours(t: Any, dim: int) -> Any:
            padded = F.pad(t, (0, 0) * (t.dim() - dim - 1) + (1, 1))
            return torch.cat([padded.narrow(dim, i, chunks) for i in range(3)], dim=dim + 1)

        mask = neighbours(valid.unsqueeze(-1), 0).squeeze(-1)
        y = F.scaled_dot_product_attention(
            q, neighbours(k, 2), neighbours(v, 2), attn_mask=mask[:, None, :], dropout_p=p
        )
        return y.reshape(n, h, chunks * w, d)[:, :, :length]

    MultiHeadSelfAttention._windowed = windowed  # type: ignore[method-assign]


def _onnx_file(spec: dict[str, Any]) -> Any:
    from sigseg.inference.backends import OnnxBackend

    return OnnxBackend(spec["onnx"], threads=spec["threads"])


def task_export_variants(spec: dict[str, Any]) -> dict[str, Any]:
    """ONNX files for the ablations: the graph as exported, without the rewrite for CPU
    kernels (:mod:`sigseg.onnx_layout`); the plain attention decomposition (a ``Where`` over
    the scores); dynamic (MatMul) / static (Conv) int8 quantizations of the final export."""
    import onnx
    import torch
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    import sigseg
    from sigseg import export
    from sigseg.data.transforms import Preprocessing, normalize_signal
    from sigseg.tasks.ecg.ludb import load_ludb

    out = Path(spec["dir"])
    model, info = sigseg.load_checkpoint(spec["model"])
    final = out / "final.onnx"
    export.export_onnx(model, final, preprocessing=info.preprocessing)
    rewrite = export.optimize_for_cpu
    export.optimize_for_cpu = lambda proto: proto  # type: ignore[assignment]
    export.export_onnx(model, out / "no_cpu_rewrite.onnx", preprocessing=info.preprocessing)
    export.optimize_for_cpu = rewrite  # type: ignore[assignment]

    def plain_sdpa(q: Any, k: Any, v: Any, attn_mask: Any = None, *args: Any, **kw: Any) -> Any:
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        scores = scores.masked_fill(~attn_mask, float("-inf"))
        return torch.matmul(torch.softmax(scores, dim=-1), v)

    export._sdpa_math = plain_sdpa  # type: ignore[assignment]
    export.export_onnx(model, out / "plain_mask.onnx", preprocessing=info.preprocessing)
    # int8: calibration on LUDB *train* windows (the test split is never tuned on)
    prep = Preprocessing.from_dict({"sampling_rate": model.sampling_rate, **info.preprocessing})
    windows = []
    for record in load_ludb(spec["ludb"], split="train", mode="multi")[:32]:
        x = prep.to_model_rate(record.signal, record.fs)
        for lead in (1, 7):
            w = np.zeros((1, 1, 2560), dtype=np.float32)
            w[0, 0, : x.shape[1]] = normalize_signal(x[lead : lead + 1], prep.normalize)[0]
            windows.append(w)

    class Calibration(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(windows)

        def get_next(self) -> dict[str, np.ndarray] | None:
            w = next(self.items, None)
            return None if w is None else {"signal": w}

    quantize_dynamic(final, out / "int8_matmul.onnx", op_types_to_quantize=["MatMul"])
    quantize_static(
        final,
        out / "int8_conv.onnx",
        Calibration(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["Conv"],
    )
    metadata = onnx.load(final).metadata_props  # the quantizers drop the description
    for name in ("int8_matmul.onnx", "int8_conv.onnx"):
        proto = onnx.load(out / name)
        del proto.metadata_props[:]
        proto.metadata_props.extend(metadata)
        onnx.save(proto, out / name)
    return {"files": sorted(p.name for p in out.glob("*.onnx"))}


def task_neurokit_stream(spec: dict[str, Any]) -> dict[str, Any]:
    """NeuroKit2's DWT delineation of one lead of a long recording, read whole."""
    from sigseg.compare.baseline import neurokit_delineate
    from sigseg.data.readers import open_signal

    with open_signal(spec["record"]) as reader:
        x, fs, hours = reader.read()[0], reader.fs, reader.num_samples / reader.fs / 3600
    times, waves = [], []
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        waves = neurokit_delineate(x, fs, 0)
        times.append(time.perf_counter() - start)
    return {
        "hours": hours,
        "seconds": statistics.median(times),
        "times": times,
        "waves": len(waves),
    }


def task_breakdown(spec: dict[str, Any]) -> dict[str, Any]:
    """``sigseg delineate``'s own function in process, with the model's time counted apart:
    the split between the model and the rest of the pipeline."""
    start = time.perf_counter()
    from sigseg.tasks.ecg.pipeline import delineate_file

    backend = _CountingBackend(_backend(spec))
    ready = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        summary = delineate_file(
            backend,
            Path(spec["record"]),
            Path(out),
            fs=None,
            combine_leads=False,
            plot=False,
            tables=False,
        )
    end = time.perf_counter()
    return {
        "import_and_load_seconds": ready - start,
        "delineate_seconds": end - ready,
        "model_seconds": backend.seconds,
        "model_samples": backend.samples,
        "summary": summary,
    }


def task_reading(spec: dict[str, Any]) -> dict[str, Any]:
    """Reading the recording chunk by chunk: the reader (``wfdb.rdrecord``, physical units,
    float64 then float32) against digital samples converted to float32 here, and the
    resampling to the model's rate."""
    import wfdb

    from sigseg.data.readers import open_signal
    from sigseg.data.transforms import resample_signal

    step = 1 << 17
    out: dict[str, Any] = {}
    with open_signal(spec["record"]) as reader:
        n, fs = reader.num_samples, reader.fs
        start = time.perf_counter()
        for a in range(0, n, step):
            x = reader.read(a, a + step)
        out["reader_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        for a in range(0, n, step):
            rec = wfdb.rdrecord(
                str(reader.path), sampfrom=a, sampto=min(n, a + step), physical=False
            )
            gain, base = rec.adc_gain[0], rec.baseline[0]
            x = ((rec.d_signal.T.astype(np.float32) - base) / np.float32(gain)).astype(np.float32)
        out["digital_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        for a in range(0, n, step):
            resample_signal(reader.read(a, a + step), fs, spec["rate"])
        out["read_and_resample_seconds"] = time.perf_counter() - start
    del x
    out["hours"] = n / fs / 3600
    return out


# ------------------------------------------------------------------------------ the parent


def cpu_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all processes), from ``/proc/stat``."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


OTHERS: list[float] = []
"""CPU cores other processes kept busy during each measurement (the machine is shared)."""


def wait_quiet(limit: float, cores: float = 0.2) -> None:
    """Wait (up to ``limit`` seconds) until other processes use less than ``cores``."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = cpu_busy_seconds()
        time.sleep(2.0)
        if (cpu_busy_seconds() - before) / 2.0 < cores:
            return


def run_child(argv: list[str], log: Path, env: dict[str, str]) -> tuple[float, int, int]:
    """Run ``argv``; return (wall seconds, peak RSS in bytes of that process, exit code), and
    note in :data:`OTHERS` how many cores other processes used meanwhile."""
    wait_quiet(float(env.get("SPEED_WAIT_QUIET", "0")))
    with log.open("ab") as sink:
        busy = cpu_busy_seconds()
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=sink, stderr=sink, env=env, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        others = cpu_busy_seconds() - busy - usage.ru_utime - usage.ru_stime
        OTHERS.append(max(0.0, others) / wall)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss * 1024, proc.returncode


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.log = self.work / "children.log"
        self.env = {
            **os.environ,
            "SIGSEG_CACHE_DIR": str(self.work / "cache"),
            "PYTHONWARNINGS": "ignore",
            "SPEED_WAIT_QUIET": str(args.wait_quiet),
        }
        self.results: dict[str, Any] = {}

    def task(self, name: str, **spec: Any) -> dict[str, Any]:
        """Run a task in a child process; add its peak memory and wall time."""
        with tempfile.NamedTemporaryFile("r", suffix=".json", dir=self.work) as f:
            argv = [sys.executable, __file__, "--task", name, "--spec", json.dumps(spec)]
            wall, peak, code = run_child([*argv, "--result", f.name], self.log, self.env)
            if code != 0:
                raise RuntimeError(f"task {name} {spec} failed (exit {code}); see {self.log}")
            out = json.loads(Path(f.name).read_text())
        return {**out, "peak_rss_mb": peak / 2**20, "process_seconds": wall}

    def cli(
        self, record: Path, backend: str, model: str, repeats: int, tables: bool = False
    ) -> dict[str, Any]:
        """``sigseg delineate`` end to end in a fresh process: wall time and peak memory."""
        out = self.work / "cli-out"
        options = ["--backend", backend, "--threads", str(THREADS), "--no-plot"]
        options += [] if tables else ["--no-tables"]
        argv = [sys.executable, "-m", "sigseg", "delineate", str(record), "--model", model]
        argv += [*options, "--out", str(out)]
        walls, peaks = [], []
        for _ in range(repeats):
            wall, peak, code = run_child(argv, self.log, self.env)
            if code != 0:
                raise RuntimeError(f"{' '.join(argv)} failed (exit {code}); see {self.log}")
            walls.append(wall)
            peaks.append(peak / 2**20)
        return {
            "command": f"sigseg delineate RECORD --model MODEL {' '.join(options)} --out OUT",
            "seconds": statistics.median(walls),
            "times": walls,
            "peak_rss_mb": max(peaks),
            "peaks_mb": peaks,
        }


def say(*parts: Any) -> None:
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


@contextmanager
def section(results: dict[str, Any], name: str) -> Iterator[dict[str, Any]]:
    say(f"-- {name}")
    out: dict[str, Any] = {}
    start = time.perf_counter()
    yield out
    out["_section_seconds"] = time.perf_counter() - start
    results[name] = out


def synth(path: Path, hours: float, log: Callable[..., None]) -> Path:
    """The project's synthetic generator, written as WFDB (one lead, 500 Hz, seed 0)."""
    from sigseg.tasks.ecg.synthetic import write_synthetic_wfdb

    if not path.with_suffix(".hea").is_file():
        log(f"synthesizing {hours:g} h -> {path}")
        write_synthetic_wfdb(path, hours, fs=HOLTER_FS, leads=1, seed=0)
    return path


def task_setup(spec: dict[str, Any]) -> dict[str, Any]:
    """What the parent must not do itself (its memory would count in every child's peak):
    describe the machine, write the random U-Net checkpoint, synthesize the recordings and
    count the models' multiply-accumulates per second of signal at their own rates."""
    import torch

    import sigseg
    from sigseg.compare.system import library_versions, machine_description

    unet = Path(spec["unet"])
    if not unet.is_file():
        torch.manual_seed(0)
        model = sigseg.create_model("unet")
        sigseg.save_checkpoint(model, unet, preprocessing={"sampling_rate": 250.0})
    for path, hours in spec["recordings"]:
        synth(Path(path), hours, say)
    models = {name: sigseg.load_checkpoint(path)[0] for name, path in spec["models"].items()}
    return {
        "machine": machine_description(),
        "libraries": library_versions(
            ("torch", "onnxruntime", "onnx", "numpy", "scipy", "wfdb", "neurokit2", "sigseg")
        ),
        "sampling_rates": {name: float(m.sampling_rate) for name, m in models.items()},
        "macs_per_second": {
            name: _macs_per_sample(m) * float(m.sampling_rate) for name, m in models.items()
        },
    }


def task_floor(spec: dict[str, Any]) -> dict[str, Any]:
    """Nothing: the peak memory of a bare Python child, the floor of every figure."""
    return {}


def main_parent(args: argparse.Namespace) -> None:
    bench = Bench(args)
    results = bench.results
    quick = args.quick
    repeats = 1 if quick else args.repeats
    hours = 10 / 60 if quick else args.hours
    excerpt = 10 / 60 if quick else 1.0
    data = bench.work / "data"
    data.mkdir(exist_ok=True)
    model = str(Path(args.model).resolve())
    reference = str(Path(args.reference).resolve())
    unet = bench.work / "unet-random.safetensors"
    lengths = (hours, hours / 2, excerpt, 2 * excerpt)
    holter, half, one, two = (data / f"holter_{round(h * 60)}min" for h in lengths)
    recordings = [(str(data / f"holter_{round(h * 60)}min"), h) for h in lengths]
    models = {"hybrid": model, "reference": reference, "unet": str(unet)}
    setup = bench.task("setup", models=models, unet=str(unet), recordings=recordings)
    rates = setup["sampling_rates"]
    results["setup"] = {
        **setup,
        "python": platform.python_version(),
        "threads": THREADS,
        "model": args.model,
        "reference": args.reference,
        "hours": hours,
        "quick": quick,
        "load_average_start": os.getloadavg(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "child_floor_mb": bench.task("floor")["peak_rss_mb"],
    }
    say(f"a bare child process peaks at {results['setup']['child_floor_mb']:.0f} MB")

    with section(results, "matmul") as out:
        out.update(bench.task("matmul", threads=THREADS))
        say(f"matmul peak {out['gflops_2_threads']:.0f} GFLOP/s on {THREADS} threads")

    # prepare the ONNX exports (cached) once, so no measurement below pays for an export
    for path in models.values():
        bench.task(
            "model", model=path, backend="onnx", threads=THREADS, shape=[1, 1, 512], repeats=1
        )

    with section(results, "model_only") as out:
        for name, path in models.items():
            for backend in ("torch", "onnx"):
                for shape in ([4, 1, 8192], [32, 1, 2560]):
                    if name == "reference" and shape[0] != 4:
                        continue
                    key = f"{name}/{backend}/{shape[0]}x{shape[2]}"
                    out[key] = bench.task(
                        "model",
                        model=path,
                        backend=backend,
                        threads=THREADS,
                        shape=shape,
                        repeats=max(3, repeats),
                    )
                    say(
                        key,
                        f"{out[key]['samples_per_second'] / rates[name]:.0f}x real time",
                        f"{out[key]['gflops']:.1f} GFLOP/s",
                    )

    with section(results, "ludb") as out:
        ludb = dict(ludb=args.ludb, repeats=repeats, records=4 if quick else None)
        for name, path, backend in (
            ("hybrid/torch", model, "torch"),
            ("hybrid/onnx", model, "onnx"),
            ("reference/torch", reference, "torch"),
            ("reference/onnx", reference, "onnx"),
            ("unet/torch", str(unet), "torch"),
            ("unet/onnx", str(unet), "onnx"),
        ):
            out[name] = bench.task(
                "ludb", method="model", model=path, backend=backend, threads=THREADS, **ludb
            )
            say(name, f"{out[name]['seconds']:.1f} s, strict F1 {out[name]['strict_macro_f1']:.4f}")
        out["neurokit2"] = bench.task("ludb", method="neurokit2", **{**ludb, "repeats": 1})
        say("neurokit2", f"{out['neurokit2']['seconds']:.1f} s")

    with section(results, "holter") as out:
        out["hybrid/onnx"] = bench.cli(holter, "onnx", model, max(1, min(repeats, 2)))
        say(
            f"{hours:g} h hybrid/onnx",
            out["hybrid/onnx"]["seconds"],
            "s",
            f"{out['hybrid/onnx']['peak_rss_mb']:.0f} MB",
        )
        out["hybrid/onnx/tables"] = bench.cli(holter, "onnx", model, 1, tables=True)
        say(f"{hours:g} h hybrid/onnx with tables", out["hybrid/onnx/tables"]["seconds"], "s")
        out["hybrid/onnx/half"] = bench.cli(half, "onnx", model, 1)
        say(
            f"{hours / 2:g} h hybrid/onnx",
            out["hybrid/onnx/half"]["seconds"],
            "s",
            f"{out['hybrid/onnx/half']['peak_rss_mb']:.0f} MB",
        )
        out["hybrid/onnx/breakdown"] = bench.task(
            "breakdown", model=model, backend="onnx", threads=THREADS, record=str(holter)
        )
        out["hybrid/torch"] = bench.cli(holter, "torch", model, 1)
        say(f"{hours:g} h hybrid/torch", out["hybrid/torch"]["seconds"], "s")
        out["reference/onnx"] = bench.cli(holter, "onnx", reference, 1)
        say(f"{hours:g} h reference/onnx", out["reference/onnx"]["seconds"], "s")
        # the baselines on 1 h and 2 h excerpts, extrapolated linearly to the full length
        for name, backend in (("unet/torch", "torch"), ("unet/onnx", "onnx")):
            runs = [bench.cli(rec, backend, str(unet), 1) for rec in (one, two)]
            out[name] = _extrapolated(runs, excerpt, hours)
            say(f"{name} ~{out[name]['seconds']:.0f} s (extrapolated)")
        runs = [bench.task("neurokit_stream", record=str(rec), repeats=1) for rec in (one, two)]
        out["neurokit2"] = _extrapolated(runs, excerpt, hours)
        say(f"neurokit2 ~{out['neurokit2']['seconds']:.0f} s (extrapolated)")

    with section(results, "reading") as out:
        out.update(bench.task("reading", record=str(holter), rate=rates["hybrid"]))
        say(f"reading {out['reader_seconds']:.1f} s, digital {out['digital_seconds']:.1f} s")

    with section(results, "techniques") as out:
        _techniques(bench, out, model, one, repeats, args.ludb, quick)

    results["setup"]["other_processes_cores"] = {
        "mean": statistics.mean(OTHERS),
        "max": max(OTHERS),
        "per_measurement": OTHERS,
    }
    results["setup"]["load_average_end"] = os.getloadavg()
    results["setup"]["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    write_outputs(results, Path(args.out), args)


def _extrapolated(runs: list[dict[str, Any]], excerpt: float, hours: float) -> dict[str, Any]:
    """Time for ``hours`` from runs on ``excerpt`` and ``2 * excerpt`` hours: the line through
    the two (its intercept is the start-up cost, its slope the cost per hour)."""
    t1, t2 = runs[0]["seconds"], runs[1]["seconds"]
    per_hour = (t2 - t1) / excerpt
    return {
        "seconds": t1 + per_hour * (hours - excerpt),
        "extrapolated_from_hours": [excerpt, 2 * excerpt],
        "excerpt_seconds": [t1, t2],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "command": runs[0].get("command", "neurokit2 ecg_clean + ecg_peaks + ecg_delineate(dwt)"),
    }


def _techniques(
    bench: Bench,
    out: dict[str, Any],
    model: str,
    record: Path,
    repeats: int,
    ludb: str,
    quick: bool,
) -> None:
    """One technique at a time, on the 1-hour excerpt (speed) and LUDB test (accuracy)."""
    variants = bench.work / "variants"
    variants.mkdir(exist_ok=True)
    bench.task("export_variants", model=model, dir=str(variants), ludb=ludb)
    base = dict(model=model, record=str(record), repeats=repeats, threads=THREADS)
    steps: list[tuple[str, dict[str, Any]]] = [
        (
            "torch, 5-D attention, default windows (before)",
            dict(backend="torch", windows="default", attention="5d"),
        ),
        ("torch, default windows", dict(backend="torch", windows="default")),
        ("torch, long windows", dict(backend="torch", windows="long")),
        ("torch, long windows, 1 thread", dict(backend="torch", windows="long", threads=1)),
        (
            "onnx, plain attention mask, default windows",
            dict(backend="onnx-file", onnx=str(variants / "plain_mask.onnx"), windows="default"),
        ),
        ("onnx, default windows", dict(backend="onnx", windows="default")),
        (
            "onnx, graph not rewritten for CPU kernels, long windows (before)",
            dict(backend="onnx-file", onnx=str(variants / "no_cpu_rewrite.onnx"), windows="long"),
        ),
        (
            "onnx, long windows of 8192, batch 4 (before)",
            dict(backend="onnx", windows="long", window=8192, batch=4),
        ),
        ("onnx, long windows (final)", dict(backend="onnx", windows="long")),
        ("onnx, long windows, 1 thread", dict(backend="onnx", windows="long", threads=1)),
        (
            "onnx, long windows, 2 windows in parallel (1 thread each)",
            dict(backend="onnx-parallel", windows="long", batch=2),
        ),
        ("onnx, long windows, batch 1", dict(backend="onnx", windows="long", batch=1)),
        ("onnx, long windows, batch 4", dict(backend="onnx", windows="long", batch=4)),
        ("onnx, long windows, batch 8", dict(backend="onnx", windows="long", batch=8)),
        (
            "onnx int8 MatMul (dynamic), long windows",
            dict(backend="onnx-file", onnx=str(variants / "int8_matmul.onnx"), windows="long"),
        ),
        (
            "onnx int8 Conv (static, QDQ), long windows",
            dict(backend="onnx-file", onnx=str(variants / "int8_conv.onnx"), windows="long"),
        ),
    ]
    for name, spec in steps:
        out[name] = bench.task("stream", **{**base, **spec})
        say(name, f"{out[name]['seconds']:.1f} s", f"{out[name]['model_gflops']:.1f} GFLOP/s")
    accuracy = dict(ludb=ludb, repeats=1, records=4 if quick else None, threads=THREADS)
    checks = [
        ("torch (reference)", dict(model=model, backend="torch")),
        ("torch, 5-D attention (before)", dict(model=model, backend="torch", attention="5d")),
        ("onnx", dict(model=model, backend="onnx")),
        (
            "onnx, long windows (LUDB padded to one window)",
            dict(model=model, backend="onnx", windows="long"),
        ),
        (
            "onnx, graph not rewritten for CPU kernels",
            dict(model=str(variants / "no_cpu_rewrite.onnx"), backend="onnx"),
        ),
        (
            "onnx, plain attention mask",
            dict(model=str(variants / "plain_mask.onnx"), backend="onnx"),
        ),
        ("onnx int8 MatMul", dict(model=str(variants / "int8_matmul.onnx"), backend="onnx")),
        ("onnx int8 Conv", dict(model=str(variants / "int8_conv.onnx"), backend="onnx")),
    ]
    out["ludb_accuracy"] = {}
    for name, spec in checks:
        result = bench.task("ludb", method="model", **accuracy, **spec)
        out["ludb_accuracy"][name] = result
        say("LUDB", name, f"strict F1 {result['strict_macro_f1']:.4f}")


def write_outputs(results: dict[str, Any], out: Path, args: argparse.Namespace) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    (out / "README.md").write_text(render_readme(results, args))
    say(f"wrote {out / 'results.json'} and {out / 'README.md'}")


# ------------------------------------------------------------------------------ report


def render_readme(r: dict[str, Any], args: argparse.Namespace) -> str:
    setup, holter, ludb, tech = r["setup"], r["holter"], r["ludb"], r["techniques"]
    hours = setup["hours"]
    seconds = hours * 3600
    peak = r["matmul"]["gflops_2_threads"]
    rates = setup["sampling_rates"]
    fs = rates["hybrid"]
    hybrid_macs = setup["macs_per_second"]["hybrid"]
    useful = 2 * hybrid_macs * seconds / 1e9  # GFLOP of the model over the recording once
    best = holter["hybrid/onnx"]
    nk, unet, slow = holter["neurokit2"], holter["unet/onnx"], holter["reference/onnx"]
    breakdown = holter["hybrid/onnx/breakdown"]
    acc = tech["ludb_accuracy"]
    ref_f1 = acc["torch (reference)"]["strict_macro_f1"]
    slow_f1 = ludb["reference/torch"]["strict_macro_f1"]
    executed = 2 * hybrid_macs * breakdown["model_samples"] / fs / 1e9
    model_rate = executed / breakdown["model_seconds"]
    unet_rate = r["model_only"]["unet/onnx/4x8192"]["gflops"]
    lines: list[str] = []
    add = lines.append
    add("# Speed and memory: a day of ECG on two CPU cores\n")
    add("## Summary for the README\n")
    target = 30.0 * hours / 24  # the goal: 24 h in 30 s
    reached = "reaches" if best["seconds"] <= target else "does not reach"
    f1 = ludb["hybrid/onnx"]["strict_macro_f1"]
    add(
        f"On a 2-core {setup['machine']['cpu']} CPU, `sigseg delineate --backend onnx "
        f"--no-tables` with the default model (`{Path(setup['model']).stem}`, {fs:g} Hz) "
        f"delineates a {hours:g}-hour single-lead ECG recorded at 500 Hz end to end (read, "
        f"resample, infer, decode, write WFDB annotations) in {best['seconds']:.1f} s "
        f"({holter['hybrid/onnx/tables']['seconds']:.0f} s with the CSV tables), "
        f"{seconds / best['seconds']:,.0f}x real time, with a peak memory of "
        f"{best['peak_rss_mb']:.0f} MB ({holter['hybrid/onnx/half']['peak_rss_mb']:.0f} MB "
        f"for {hours / 2:g} h); the PyTorch backend takes "
        f"{holter['hybrid/torch']['seconds']:.0f} s. It {reached} the goal of 30 s per 24 h. "
        f"The unaccelerated reference (`{Path(setup['reference']).stem}`, "
        f"{rates['reference']:g} Hz) takes {slow['seconds']:.0f} s on the same path, "
        f"{slow['seconds'] / best['seconds']:.1f}x longer, and scores a LUDB test strict "
        f"macro-F1 of {slow_f1:.4f} against the default's {f1:.4f} ({f1 - slow_f1:+.4f}; the "
        f"budget is -0.005). The default model is "
        f"{nk['seconds'] / best['seconds']:.1f}x the speed of NeuroKit2's wavelet delineator "
        f"and {unet['seconds'] / best['seconds']:.1f}x that of the U-Net baseline (both "
        "extrapolated from 1- and 2-hour excerpts). Its arithmetic for "
        f"{hours:g} h is {useful:,.0f} GFLOP; these two cores multiply large matrices at "
        f"{peak:.0f} GFLOP/s and run the model's small convolutions and windowed attention "
        f"at {model_rate:.0f} GFLOP/s, the U-Net's wide convolutions at {unet_rate:.0f}.\n"
    )
    add("## How it was measured\n")
    add("```")
    add(
        "python benchmarks/speed.py"
        + (" --quick" if args.quick else "")
        + (f" --wait-quiet {args.wait_quiet:g}" if args.wait_quiet else "")
    )
    add("```\n")
    add(
        f"- Machine: {setup['machine']['cpu']}, {setup['machine']['logical_cores']} logical "
        f"cores, {setup['machine']['ram_gib']} GiB RAM, {setup['machine']['os']}, Python "
        f"{setup['python']}; {setup['threads']} threads for every method. Load average "
        f"{setup['load_average_start'][0]:.1f} at the start, {setup['load_average_end'][0]:.1f}"
        f" at the end ({setup['started']} to {setup['finished']}); other processes kept "
        f"{setup['other_processes_cores']['mean']:.2f} cores busy on average during the "
        f"measurements (at most {setup['other_processes_cores']['max']:.2f})."
    )
    libs = ", ".join(f"{k} {v}" for k, v in setup["libraries"].items() if v)
    add(f"- Libraries: {libs}.")
    add(
        f"- Recording: `write_synthetic_wfdb(path, {hours:g}, fs=500, leads=1, seed=0)` "
        f"({seconds * 500 / 1e6:.1f} M samples, WFDB format 16). Multiply-accumulates per "
        f"second of signal: the default model {hybrid_macs / 1e6:.1f} M at {fs:g} Hz, the "
        f"reference {setup['macs_per_second']['reference'] / 1e6:.1f} M at "
        f"{rates['reference']:g} Hz, the U-Net {setup['macs_per_second']['unet'] / 1e6:.1f} M "
        f"at {rates['unet']:g} Hz."
    )
    add(
        "- Every measurement is a child process; time is the median over repeats, peak "
        "memory that process's own RSS high-water mark (`wait4`). End-to-end times are whole "
        "processes (start-up, imports and model loading included; the ONNX export is cached "
        "beforehand). U-Net (random weights) and NeuroKit2 on the full length are "
        "extrapolated linearly from 1- and 2-hour excerpts (start-up + per-hour cost); their "
        "peak memory is the excerpts'. NeuroKit2 reads the whole lead at once.\n"
    )
    add(f"## {hours:g}-hour recording, end to end\n")
    add(
        "`sigseg delineate` in a fresh process: read the WFDB file, resample to the model's "
        "rate, infer, decode and write one WFDB annotation file per lead (`--no-tables`; the row "
        "with tables also writes the wave, interval and gap tables as CSV). All rows "
        "but the tables row skip the tables.\n"
    )
    add("| method | time (s) | x real time | vs NeuroKit2 | vs U-Net (ONNX) | peak memory (MB) |")
    add("|---|---:|---:|---:|---:|---:|")
    rows = [
        ("hybrid, ONNX Runtime (`--backend onnx --no-tables`)", best, ""),
        ("hybrid, ONNX Runtime, with the CSV tables", holter["hybrid/onnx/tables"], ""),
        ("hybrid, PyTorch (`--backend torch --no-tables`)", holter["hybrid/torch"], ""),
        ("reference (250-Hz ecg-hybrid-ludb), ONNX Runtime", slow, ""),
        ("U-Net, ONNX Runtime", holter["unet/onnx"], " (extrapolated)"),
        ("U-Net, PyTorch", holter["unet/torch"], " (extrapolated)"),
        ("NeuroKit2 DWT", nk, " (extrapolated)"),
    ]
    for name, m, note in rows:
        add(
            f"| {name}{note} | {m['seconds']:.1f} | {seconds / m['seconds']:,.0f}x | "
            f"{nk['seconds'] / m['seconds']:.2f}x | {unet['seconds'] / m['seconds']:.2f}x | "
            f"{m['peak_rss_mb']:.0f} |"
        )
    half = holter["hybrid/onnx/half"]
    add(
        f"\nPeak memory against length (hybrid, ONNX Runtime): {half['peak_rss_mb']:.0f} MB "
        f"for {hours / 2:g} h ({half['seconds']:.1f} s), {best['peak_rss_mb']:.0f} MB for "
        f"{hours:g} h ({best['peak_rss_mb'] - half['peak_rss_mb']:+.0f} MB). A bare Python "
        f"child of this script peaks at {setup['child_floor_mb']:.0f} MB.\n"
    )
    model_s, total_s = breakdown["model_seconds"], breakdown["delineate_seconds"]
    add(
        f"Where the time goes (hybrid, ONNX Runtime, in process): imports and model loading "
        f"{breakdown['import_and_load_seconds']:.1f} s; delineation {total_s:.1f} s, of which the "
        f"model {model_s:.1f} s ({executed:,.0f} GFLOP executed, "
        f"{breakdown['model_samples'] / (seconds * fs):.3f} model passes per sample with the "
        f"long-window overlap: {executed / model_s:.0f} GFLOP/s, "
        f"{100 * executed / model_s / peak:.0f}% of the {peak:.0f} GFLOP/s matmul peak) and "
        f"reading, resampling, normalization, softmax, decoding and writing "
        f"{total_s - model_s:.1f} s. End to end the model's useful work is "
        f"{useful / best['seconds']:.0f} GFLOP/s.\n"
    )
    add("## LUDB test split (40 records x 12 leads, 10 s each)\n")
    add("| method | time (s) | lead-seconds per second | vs NeuroKit2 | strict macro-F1 |")
    add("|---|---:|---:|---:|---:|")
    names = ("hybrid/onnx", "hybrid/torch", "reference/onnx", "reference/torch")
    for name in (*names, "unet/onnx", "unet/torch", "neurokit2"):
        m = ludb[name]
        f1 = f"{m['strict_macro_f1']:.4f}" if not name.startswith("unet") else "(random weights)"
        add(
            f"| {name} | {m['seconds']:.1f} | {m['lead_seconds'] / m['seconds']:,.0f} | "
            f"{ludb['neurokit2']['seconds'] / m['seconds']:.1f}x | {f1} |"
        )
    add(
        "\nTime is delineation only (in process, model loaded); scoring excluded. "
        "Lead-seconds per second: seconds of single-lead signal delineated per second.\n"
    )
    add("## The model alone\n")
    add("| model / backend / batch | x real time | GFLOP/s | % of matmul peak |")
    add("|---|---:|---:|---:|")
    for key, m in r["model_only"].items():
        if key.startswith("_"):
            continue
        add(
            f"| {key} | {m['samples_per_second'] / rates[key.split('/')[0]]:,.0f} | "
            f"{m['gflops']:.1f} | "
            f"{100 * m['gflops'] / peak:.0f}% |"
        )
    add(
        f"\nMatrix-multiply peak (torch.matmul, 2048x2048 float32): {peak:.0f} GFLOP/s on "
        f"{setup['threads']} threads, {r['matmul']['gflops_1_threads']:.0f} on 1. It is a "
        "yardstick measured on the same cores, not the hardware's ceiling: ONNX Runtime's "
        "blocked (NCHWc) convolutions can run faster than this product.\n"
    )
    add(f"## Speed techniques, one at a time ({tech[next(iter(tech))]['hours']:g} h excerpt)\n")
    add(
        "In process, the streaming API (`iter_delineate`) on the excerpt; model passes per "
        "sample count the window overlap. Accuracy: LUDB test strict macro-F1, against the "
        f"PyTorch reference {ref_f1:.4f}.\n"
    )
    add("| technique | time (s) | x real time | model GFLOP/s | passes per sample | batch |")
    add("|---|---:|---:|---:|---:|---:|")
    for name, m in tech.items():
        if name.startswith("_") or name == "ludb_accuracy":
            continue
        add(
            f"| {name} | {m['seconds']:.1f} | {m['hours'] * 3600 / m['seconds']:,.0f} | "
            f"{m['model_gflops']:.1f} | {m['computed_per_sample']:.2f} | "
            f"{m['batch']} x {m['window']} |"
        )
    reading = r["reading"]
    add(
        f"\nReading the {hours:g}-hour recording in 131,072-sample chunks: "
        f"{reading['reader_seconds']:.1f} s with the reader (`wfdb.rdrecord`, physical units), "
        f"{reading['digital_seconds']:.1f} s with digital samples converted to float32 here; "
        f"reading and resampling to {fs:g} Hz {reading['read_and_resample_seconds']:.1f} s."
    )
    add("\n| accuracy check (LUDB test) | strict macro-F1 | delta vs reference |")
    add("|---|---:|---:|")
    for name, m in acc.items():
        add(f"| {name} | {m['strict_macro_f1']:.4f} | {m['strict_macro_f1'] - ref_f1:+.4f} |")
    add("")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ entry point


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "setup": task_setup,
    "floor": task_floor,
    "reading": task_reading,
    "matmul": task_matmul,
    "model": task_model,
    "ludb": task_ludb,
    "stream": task_stream,
    "export_variants": task_export_variants,
    "neurokit_stream": task_neurokit_stream,
    "breakdown": task_breakdown,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="checkpoint of the model to measure (default: the default)")
    parser.add_argument(
        "--reference",
        help="checkpoint of the unaccelerated model to compare with (default: ecg-hybrid-ludb)",
    )
    parser.add_argument("--ludb", default=os.environ.get("SIGSEG_DATA", str(LUDB_DEFAULT)))
    parser.add_argument("--out", default=str(HERE / "speed"))
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "sigseg-speed"))
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each measurement, wait up to this many seconds for other processes to "
        "leave the CPU (a shared machine)",
    )
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.task:
        result = TASKS[args.task](json.loads(args.spec))
        Path(args.result).write_text(json.dumps(result, default=float))
        return
    from sigseg.pretrained import resolve_model

    args.model = str(resolve_model(args.model))
    args.reference = str(resolve_model(args.reference or "ecg-hybrid-ludb"))
    main_parent(args)


if __name__ == "__main__":
    main()
