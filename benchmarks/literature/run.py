"""sigseg under the LUDB protocol of the published delineation results, beside those results.

Runs ``sigseg evaluate --protocol literature --json`` (``sigseg.tasks.ecg.literature``) on the
LUDB test split, the validation and training splits, and all 200 records, plus the benchmark
protocol's 150-ms scores on the test split, and checks the counting rule: on the test split it
also counts as torch_ecg's reproduction does (a reference is found when any prediction lies
within 150 ms; FP = predictions - TP), so the two rules can be compared on the same
predictions. Writes ``benchmarks/literature/results.json``; the README beside it quotes it.
A few minutes on 2 CPU cores (6 minutes measured with the cores shared)::

    .venv/bin/python benchmarks/literature/run.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LUDB_DEFAULT = Path("..") / "shared" / "data" / "ludb"
SPLITS = ("test", "val", "train", "all")

PUBLISHED: list[dict[str, Any]] = [
    {
        "work": "Moskalenko et al. 2019, U-Net (arXiv:2001.04689)",
        "wave_f1_at_least": {"P": 0.978, "QRS": 0.999, "T": 0.995},
        "records": "the authors' own held-out part of LUDB, not BENCHMARK.md's fixed split "
        "(torch_ecg's reproduction draws a random 80/20 split, 160/40 records)",
        "trained_on_ludb": True,
    },
    {
        "work": "Kalyakulina et al. 2020, wavelet delineator",
        "wave_f1_about": {"P": 0.974, "QRS": 0.997, "T_off": 0.984},
        "mean_f1_about": 0.985,
        "records": "LUDB; a non-learned method, so no record was learned from",
        "trained_on_ludb": False,
    },
    {
        "work": "Joung et al. 2024, U-Net trained on other data (arXiv:2304.06237)",
        "wave_f1_above": {"P": 0.97, "QRS": 0.99, "T": 0.99},
        "mean_f1_about": 0.988,
        "records": "LUDB as an external test set; no LUDB record was learned from",
        "trained_on_ludb": False,
    },
]
"""The published figures as BENCHMARK.md and issue 13 quote them (the papers' full tables
were not at hand here)."""


def sigseg_json(args: list[str]) -> dict[str, Any]:
    """``sigseg ARGS --json``, run as a user would, parsed."""
    out = subprocess.run(
        [sys.executable, "-m", "sigseg", *args, "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def counting_check(data: Path, model: str | None) -> dict[str, Any]:
    """On the test split, TP/FP/FN per boundary counted one-to-one (this protocol) and by
    torch_ecg's rule, on the same predictions and the same 2..8-s window."""
    from sigseg.data.record import IGNORE_INDEX
    from sigseg.inference.backends import load_backend
    from sigseg.metrics.matching import EPS, annotated_span
    from sigseg.pretrained import resolve_model
    from sigseg.tasks.ecg.boundaries import BOUNDARIES, boundary_positions
    from sigseg.tasks.ecg.delineate import delineate_signal
    from sigseg.tasks.ecg.literature import PROTOCOL, LiteratureCounts, match_literature
    from sigseg.tasks.ecg.ludb import load_ludb

    runner = load_backend(resolve_model(model), "torch")
    ours = LiteratureCounts()
    theirs = {b: np.zeros(3, dtype=np.int64) for b in BOUNDARIES}  # tp, fp, fn
    for record in load_ludb(data, split="test", mode="multi"):
        found = delineate_signal(runner, record.signal, record.fs, channels=record.channels)
        first, last = PROTOCOL.window(record.num_samples, record.fs)
        tol = PROTOCOL.tolerance_ms * record.fs / 1000.0
        for lead in range(len(record.channels)):
            pred_waves, ref_waves = found.lead_waves(lead), record.lead_waves(lead)
            span = annotated_span(record.labels[lead], IGNORE_INDEX)
            ours += match_literature(
                pred_waves, ref_waves, record.fs, record.num_samples, PROTOCOL, span
            )
            for b in BOUNDARIES:
                ref = boundary_positions(ref_waves, b)
                pred = boundary_positions(pred_waves, b)
                ref = ref[(ref >= first) & (ref <= last)]
                pred = pred[(pred >= first) & (pred <= last)]
                hit = int(sum(np.any(np.abs(pred - r) <= tol + EPS) for r in ref))
                theirs[b] += (hit, pred.size - hit, ref.size - hit)
    out: dict[str, Any] = {"one_to_one": {}, "torch_ecg_rule": {}}
    for b in BOUNDARIES:
        t = ours.boundaries[b]
        out["one_to_one"][b] = {"tp": t.tp, "fp": t.fp, "fn": t.fn, "f1": _f1(t.tp, t.fp, t.fn)}
        tp, fp, fn = (int(v) for v in theirs[b])
        out["torch_ecg_rule"][b] = {"tp": tp, "fp": fp, "fn": fn, "f1": _f1(tp, fp, fn)}
    return out


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")


def without_unannotated_fp(result: dict[str, Any]) -> dict[str, float]:
    """Each boundary's F1 had the false positives outside the annotated span not counted."""
    return {
        b: _f1(s["tp"], s["fp"] - s["fp_unannotated"], s["fn"])
        for b, s in result["boundaries"].items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=LUDB_DEFAULT, help="the LUDB folder")
    parser.add_argument("--model", default=None, help="model (default: the shipped default)")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()

    from sigseg.pretrained import DEFAULT_MODEL

    model = ["--model", args.model] if args.model else []
    commands, literature = {}, {}
    for split in SPLITS:
        cmd = ["evaluate", "--data", str(args.data), "--split", split, "--protocol", "literature"]
        commands[split] = " ".join([".venv/bin/sigseg", *cmd, *model])
        literature[split] = sigseg_json([*cmd, *model])
        literature[split]["f1_without_unannotated_fp"] = without_unannotated_fp(literature[split])
        print(f"{split}: mean F1 {literature[split]['mean_f1']:.3f}", file=sys.stderr)
    bench = ["evaluate", "--data", str(args.data), "--split", "test", *model]
    commands["benchmark_test"] = " ".join([".venv/bin/sigseg", *bench])
    benchmark = sigseg_json(bench)["boundaries"]["150ms"]
    results = {
        "model": args.model or DEFAULT_MODEL,
        "commands": commands,
        "literature": literature,
        "benchmark_150ms_test": {
            "f1": {b: s["f1"] for b, s in benchmark.items() if b != "macro_f1"},
            "macro_f1": benchmark["macro_f1"],
        },
        "counting_check_test": counting_check(args.data, args.model),
        "published": PUBLISHED,
    }
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
