"""The comparison run: train every planned model under one budget, score it on the test
split, measure its cost, run the NeuroKit2 baseline, and write the report.

Layout of ``out_dir``::

    runs/<label>-seed<k>/train/      the training run (config.yaml, best.safetensors, ...)
    runs/<label>-seed<k>/train.json  how training went (saved as soon as it ends)
    runs/<label>-seed<k>/run.json    the run's complete results (saved as soon as it is scored)
    baseline/neurokit2.json          the baseline's results
    results.json, report.md, *.png   the comparison (rewritten after every run)

Each file is written atomically the moment its step ends, so a crash late in a long run loses
only the step in progress; running the same comparison again reuses every finished step whose
fingerprint (model, seed, recipe, budget, data, test records) matches.
"""

from __future__ import annotations

import dataclasses
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigseg.compare.aggregate import aggregate
from sigseg.compare.config import CompareConfig, plan_runs
from sigseg.compare.data import load_data, plot_target, train_recipe
from sigseg.compare.runs import (
    Log,
    RunContext,
    execute_run,
    run_baseline,
    run_metrics,
    write_json,
)


def summarize(
    config: CompareConfig, runs: list[dict[str, Any]], baseline: dict[str, Any] | None
) -> dict[str, Any]:
    """Per-model aggregates over seeds (``models``) and the ablation points (``ablation``)."""
    ok = [r for r in runs if r.get("status") == "ok"]
    models: dict[str, Any] = {}
    for name in config.models:
        mine = [r for r in ok if r["label"] == name and "main" in r["groups"]]
        if mine:
            models[name] = _model_summary(mine)
    ablation = []
    labels: dict[int, list[dict[str, Any]]] = {}
    for r in ok:
        if "ablation" in r["groups"] and r.get("levels") is not None:
            labels.setdefault(int(r["levels"]), []).append(r)
    for levels in sorted(labels):
        ablation.append({"levels": levels, **_model_summary(labels[levels])})
    return {"models": models, "ablation": ablation, "baseline": baseline}


def _model_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    first = runs[0]
    return {
        "label": first["label"],
        "model": first["model"],
        "model_options": first["model_options"],
        "seeds": [r["seed"] for r in runs],
        "profile": first["profile"],
        "metrics": {k: v.to_dict() for k, v in aggregate([run_metrics(r) for r in runs]).items()},
    }


@dataclass(frozen=True)
class CompareOutput:
    out_dir: Path
    report: Path
    results: Path
    plots: dict[str, Path]
    failed: list[str]


def run_compare(
    config: CompareConfig, *, command: str = "", log: Log | None = None
) -> CompareOutput:
    """Run the comparison ``config`` describes and write ``report.md``, ``results.json`` and
    the PNG plots to ``config.out_dir`` (rewritten after every run, so they always show what
    is finished). A run that fails is logged and reported, and the others go on."""
    import torch

    from sigseg.compare.plots import write_plots
    from sigseg.compare.report import write_report
    from sigseg.compare.system import library_versions, machine_description

    log = log or (lambda _msg: None)
    started = time.time()
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    previous_threads = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    try:
        recipe = train_recipe(config)
        data = load_data(config, recipe)
        log(
            f"data: {data.source} ({len(data.test)} test records, "
            f"{data.describe()['test_leads']} leads)"
        )
        ctx = RunContext(config, out, data, recipe, log)
        header = {
            "schema": 1,
            "command": command,
            "config": config.to_dict(),
            "recipe": recipe,
            "budget": config.budget.describe(),
            "machine": machine_description(),
            "versions": library_versions(),
            "data": data.describe(),
            "decoding": _decoding(),
        }
        baseline = None
        if config.baseline and _has_neurokit():
            baseline = run_baseline(ctx)
        elif config.baseline:
            log("NeuroKit2 is not installed (pip install 'sigseg[baselines]'): no baseline row")
        specs = plan_runs(config)
        runs: list[dict[str, Any]] = []
        failed: list[str] = []
        plots: dict[str, Path] = {}

        def publish() -> tuple[Path, Path]:
            nonlocal plots
            results = {
                **header,
                "wall_seconds": time.time() - started,
                "runs_planned": [s.run_id for s in specs],
                "runs_failed": failed,
                **summarize(config, runs, baseline),
                "runs": runs,
            }
            plots = write_plots(results, out, *plot_target(config, data.test))
            results["plots"] = {k: p.name for k, p in plots.items()}
            write_json(out / "results.json", results)
            return write_report(results, out / "report.md"), out / "results.json"

        for i, spec in enumerate(specs, 1):
            log(f"[{i}/{len(specs)}] {spec.label} seed {spec.seed}")
            try:
                runs.append(execute_run(spec, ctx))
            except Exception as err:
                failed.append(spec.run_id)
                message = f"{type(err).__name__}: {err}"
                log(f"  FAILED: {message}")
                if os.environ.get("SIGSEG_DEBUG"):
                    traceback.print_exc()
                runs.append(
                    {
                        "status": "failed",
                        "run_id": spec.run_id,
                        "label": spec.label,
                        "seed": spec.seed,
                        "error": message,
                    }
                )
            publish()
        report, results_path = publish()
    finally:
        torch.set_num_threads(previous_threads)
    return CompareOutput(out, report, results_path, plots, failed)


def _has_neurokit() -> bool:
    import importlib.util

    return importlib.util.find_spec("neurokit2") is not None


def _decoding() -> dict[str, Any]:
    from sigseg.tasks.ecg.waves import WaveOptions

    return dataclasses.asdict(WaveOptions())
