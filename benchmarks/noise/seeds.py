"""Three seeds of the default ECG recipe and of its noise-augmented variant, side by side: does
real-noise augmentation cost anything on clean records, and what does it buy under noise?

    python benchmarks/noise/seeds.py \\
        --run default:0=src/sigseg/pretrained/ecg-hybrid-fast-ludb.safetensors \\
        --run noise:0=src/sigseg/pretrained/ecg-hybrid-fast-ludb-noise.safetensors \\
        --run default:1=runs/seeds/ecg-hybrid-fast-ludb-seed1/best.safetensors ...

Each checkpoint is scored with today's default decoding (PyTorch backend) on LUDB's
validation split (20 records, 12 leads: where a choice between the recipes is made) and, by
``benchmarks/noise.py``, on the test split clean and at ``--snr`` dB of each NSTDB noise (nst's
SNR, the benchmark's own excerpts). A checkpoint's noise cells are cached under
``--cache/<recipe>-seed<k>`` (``noise.py`` reuses a cell while the model file and decoding are
unchanged). Writes ``--out/results.json``: every run's figures and each recipe's mean and SD.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from sigseg.compare.runs import write_json

HERE = Path(__file__).resolve().parent
NOISE_SCRIPT = HERE.parent / "noise.py"
NOISES = ("bw", "ma", "em")


def parse_run(text: str) -> tuple[str, int, Path]:
    """``RECIPE:SEED=CHECKPOINT`` as its three parts, the checkpoint checked."""
    try:
        label, path = text.split("=", 1)
        recipe, seed = label.split(":")
        run = (recipe, int(seed), Path(path))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--run {text!r}: expected RECIPE:SEED=CHECKPOINT"
        ) from None
    if not run[2].is_file():
        raise argparse.ArgumentTypeError(f"--run {text!r}: {path} is not a file")
    return run


def validation_score(checkpoint: Path, ludb: str) -> float:
    """Strict macro-F1 on LUDB's validation split, all 12 leads, default decoding."""
    from sigseg.inference.backends import load_backend
    from sigseg.tasks.ecg.evaluation import evaluate_model
    from sigseg.tasks.ecg.ludb import load_ludb

    records = load_ludb(ludb, split="val", mode="multi")
    result = evaluate_model(load_backend(checkpoint, "torch", threads=1), records).result()
    return float(result["boundaries"]["strict"]["macro_f1"])


def noise_scores(checkpoint: Path, cache: Path, snrs: list[int], ludb: str) -> dict[str, float]:
    """Strict macro-F1 (12 leads) on the test split clean and under each noise at each SNR."""
    command = [sys.executable, str(NOISE_SCRIPT), "--model", str(checkpoint)]
    command += ["--backend", "torch", "--methods", "sigseg", "--ludb", ludb]
    command += ["--snr", *map(str, snrs), "--out", str(cache)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    cells = json.loads((cache / "results.json").read_text())["cells"]["sigseg"]
    wanted = ["clean", *(f"nst:{n}@{s}" for n in NOISES for s in snrs)]
    return {key: cells[key]["all"]["macro_f1_strict"] for key in wanted}


def mean_sd(values: list[float]) -> dict[str, float | None]:
    sd = statistics.stdev(values) if len(values) > 1 else None
    return {"mean": round(statistics.fmean(values), 4), "sd": sd and round(sd, 4), "n": len(values)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=parse_run, action="append", required=True)
    parser.add_argument("--snr", type=int, nargs="+", default=[6])
    parser.add_argument("--ludb", default=str(HERE.parents[2] / "shared" / "data" / "ludb"))
    parser.add_argument("--cache", type=Path, default=Path("runs/noise-seeds"))
    parser.add_argument("--out", type=Path, default=HERE / "seeds")
    args = parser.parse_args(argv)
    runs = []
    for recipe, seed, checkpoint in args.run:
        print(f"{recipe} seed {seed}: {checkpoint}", flush=True)
        scores = {
            "val": round(validation_score(checkpoint, args.ludb), 4),
            **noise_scores(checkpoint, args.cache / f"{recipe}-seed{seed}", args.snr, args.ludb),
        }
        print("  " + json.dumps(scores), flush=True)
        runs.append({"recipe": recipe, "seed": seed, "checkpoint": str(checkpoint), **scores})
    keys = [k for k in runs[0] if k not in ("recipe", "seed", "checkpoint")]
    recipes = sorted({r["recipe"] for r in runs})
    summary = {
        recipe: {k: mean_sd([r[k] for r in runs if r["recipe"] == recipe]) for k in keys}
        for recipe in recipes
    }
    command = ["python", "benchmarks/noise/seeds.py", *(argv or sys.argv[1:])]
    write_json(
        args.out / "results.json",
        {"command": " ".join(command), "metric": "strict macro-F1, 12 leads", "runs": runs,
         "summary": summary},
    )  # fmt: skip
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
