"""The comparison's runs: each planned model trained under the budget and scored
(:func:`execute_run`), and the NeuroKit2 baseline scored the same way (:func:`run_baseline`).

Each step's results are written atomically the moment it ends (``train.json``, ``run.json``,
``baseline/neurokit2.json``) and reused when a later comparison's fingerprint (model, seed,
recipe, budget, data, test records) matches.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigseg.atomic import write_text
from sigseg.compare.aggregate import flatten
from sigseg.compare.baseline import NeuroKitDelineator
from sigseg.compare.budget import (
    BudgetPlan,
    Costs,
    measure_costs,
    plan_budget,
    steps_per_epoch,
)
from sigseg.compare.config import CompareConfig, RunSpec, fingerprint
from sigseg.compare.data import CompareData, plot_target
from sigseg.data.record import Wave

Log = Callable[[str], None]
BENCHMARK_NEUROKIT_LEAD_II = {"strict": 0.728, "150ms": 0.881}
"""BENCHMARK.md's NeuroKit2 figures (lead II of the LUDB test split, same protocol)."""


@dataclass
class RunContext:
    config: CompareConfig
    out: Path
    data: CompareData
    recipe: dict[str, Any]
    log: Log
    costs: dict[str, Costs] = dataclasses.field(default_factory=dict)
    """Measured costs per model identity: measured once, shared by the model's seeds, so
    every seed of a model gets the same number of epochs."""


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(path: Path, value: Any) -> None:
    """Atomically write ``value`` as JSON; NaN and infinities become ``null``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(_finite(value), indent=2, sort_keys=False) + "\n")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _train_fingerprint(spec: RunSpec, ctx: RunContext) -> str:
    return fingerprint(
        {
            "model": spec.model_identity(),
            "seed": spec.seed,
            "recipe": ctx.recipe,
            "budget": dataclasses.asdict(ctx.config.budget),
            "data": [ctx.data.source, ctx.data.root],
        }
    )


def _eval_fingerprint(ctx: RunContext) -> str:
    from sigseg.tasks.ecg.waves import WaveOptions

    return fingerprint(
        {
            "test": [r.name for r in ctx.data.test],
            "decoding": dataclasses.asdict(WaveOptions()),
            "plot": [ctx.config.plot_record, ctx.config.plot_lead],
            "repeats": ctx.config.probe_repeats,
            "threads": ctx.config.threads,
        }
    )


def waves_json(waves: list[Wave]) -> list[list[Any]]:
    return [[w.kind, w.onset, w.peak, w.offset] for w in waves]


def _train(spec: RunSpec, ctx: RunContext, run_dir: Path, train_fp: str) -> dict[str, Any]:
    """Train (or reuse a finished training with the same fingerprint); returns train.json."""
    from sigseg.checkpoint import read_info
    from sigseg.training import TrainConfig, train

    saved = read_json(run_dir / "train.json")
    best = run_dir / "train" / "best.safetensors"
    if saved and saved.get("fingerprint") == train_fp and best.is_file():
        ctx.log(f"  training found ({saved['seconds']:.0f} s), reused")
        return saved
    recipe, budget = ctx.recipe, ctx.config.budget
    costs = None
    identity = json.dumps(spec.model_identity(), sort_keys=True)
    if budget.kind == "minutes" and identity in ctx.costs:
        costs = ctx.costs[identity]
    elif budget.kind == "minutes":
        sr = float(recipe["sampling_rate"])
        costs = ctx.costs[identity] = measure_costs(
            spec.model,
            spec.model_options,
            sampling_rate=sr,
            batch_size=int(recipe["batch_size"]),
            crop_length=round(float(recipe["crop_seconds"]) * sr),
            train_steps=steps_per_epoch(
                ctx.data.train_examples, int(recipe["batch_size"]), recipe["limit_train_batches"]
            ),
            val_examples=ctx.data.val_examples,
            val_length=round(ctx.data.val_seconds * sr),
        )
    plan: BudgetPlan = plan_budget(budget, costs)
    limit = plan.limit_train_batches
    if plan.limit_train_batches == 1.0:
        limit = recipe["limit_train_batches"]
    ctx.log(
        f"  training: {plan.epochs} epoch(s)"
        + (f" of {limit} batches" if isinstance(limit, int) else "")
        + (f", cap {plan.max_minutes:g} min" if plan.max_minutes else "")
        + (f" (step {costs.step_s:.2f} s, validation {costs.val_s:.1f} s)" if costs else "")
    )
    cfg = TrainConfig.from_dict(
        {
            **recipe,
            "model": spec.model,
            "model_options": dict(spec.model_options),
            "seed": spec.seed,
            "epochs": plan.epochs,
            "max_minutes": plan.max_minutes,
            "limit_train_batches": limit,
            "out_dir": str(run_dir / "train"),
        }
    )
    result = train(cfg)
    extra = read_info(result.last).extra if result.last.is_file() else {}
    steps = int(extra.get("global_step", 0))
    record = {
        "fingerprint": train_fp,
        "seconds": result.seconds,
        "epochs": result.epochs,
        "steps": steps,
        "best_val_strict_f1": result.best_score,
        "plan": plan.to_dict(),
        "checkpoint": str(result.best.relative_to(ctx.out)),
    }
    if not result.best.is_file():
        raise RuntimeError(f"{spec.run_id}: training wrote no best.safetensors")
    write_json(run_dir / "train.json", record)
    return record


def execute_run(spec: RunSpec, ctx: RunContext) -> dict[str, Any]:
    """Train, score, profile and probe one run; reuse what a previous run left when its
    fingerprint matches. Returns (and saves) the run's ``run.json``."""
    from sigseg.checkpoint import load_checkpoint
    from sigseg.compare.probe import probe_in_subprocess
    from sigseg.inference.backends import load_backend
    from sigseg.models.profile import profile_model
    from sigseg.tasks.ecg.delineate import delineate_signal
    from sigseg.tasks.ecg.evaluation import evaluate_model
    from sigseg.tasks.ecg.waves import WaveOptions

    run_dir = ctx.out / "runs" / spec.run_id
    train_fp, eval_fp = _train_fingerprint(spec, ctx), _eval_fingerprint(ctx)
    saved = read_json(run_dir / "run.json")
    if saved and saved.get("status") == "ok" and saved.get("fingerprints") == [train_fp, eval_fp]:
        ctx.log("  finished run found, reused")
        return {**saved, "groups": list(spec.groups), "levels": spec.levels}
    trained = _train(spec, ctx, run_dir, train_fp)
    best = ctx.out / trained["checkpoint"]
    model, _ = load_checkpoint(best)
    backend = load_backend(model, "torch", threads=ctx.config.threads)
    start = time.perf_counter()
    evaluation = evaluate_model(backend, ctx.data.test, wave_options=WaveOptions())
    eval_seconds = time.perf_counter() - start
    record, lead = plot_target(ctx.config, ctx.data.test)
    plot = delineate_signal(backend, record.signal, record.fs, wave_options=WaveOptions())
    ctx.log(f"  scored {evaluation.leads} leads in {eval_seconds:.0f} s; probing inference cost")
    probe = probe_in_subprocess(best, repeats=ctx.config.probe_repeats, threads=ctx.config.threads)
    result = evaluation.result()
    run = {
        "status": "ok",
        "run_id": spec.run_id,
        "label": spec.label,
        "model": spec.model,
        "model_options": spec.model_options,
        "seed": spec.seed,
        "groups": list(spec.groups),
        "levels": spec.levels,
        "fingerprints": [train_fp, eval_fp],
        "train": trained,
        "profile": profile_model(model, spec.label).to_dict(),
        "evaluation": result,
        "eval_seconds": eval_seconds,
        "inference": probe.to_dict(),
        "plot": {
            "record": record.name,
            "lead": record.channels[lead],
            "waves": waves_json(plot.lead_waves(lead)),
        },
    }
    write_json(run_dir / "run.json", run)
    ctx.log(
        f"  strict macro-F1 {result['boundaries']['strict']['macro_f1']:.3f}, "
        f"150-ms {result['boundaries']['150ms']['macro_f1']:.3f}"
    )
    return run


def run_metrics(run: dict[str, Any]) -> dict[str, float]:
    """The numbers of one run that are averaged over seeds, under flat dotted keys."""
    ev = run["evaluation"]
    train = run["train"]
    epochs = train.get("epochs") or 0
    metrics = {
        **flatten({"boundaries": ev["boundaries"], "samples": ev["samples"]}),
        **flatten({"segments": ev["segments"]}),
        "train.seconds": train["seconds"],
        "train.epochs": epochs,
        "train.steps": train.get("steps", 0),
        "eval.seconds": run["eval_seconds"],
        **flatten({"inference": run["inference"]}),
    }
    if epochs:
        metrics["train.seconds_per_epoch"] = train["seconds"] / epochs
    return metrics


# --------------------------------------------------------------------------------------------
# the baseline


def run_baseline(ctx: RunContext) -> dict[str, Any]:
    """NeuroKit2's DWT delineator on every lead of the test records, plus a lead-II row."""
    from sigseg.optional import require
    from sigseg.tasks.ecg.report import Evaluation, evaluate_lead
    from sigseg.tasks.ecg.waves import waves_to_labels

    neurokit2 = require("neurokit2", "the NeuroKit2 baseline")
    path = ctx.out / "baseline" / "neurokit2.json"
    fp = fingerprint(
        {
            "test": [r.name for r in ctx.data.test],
            "nk": neurokit2.__version__,
            "plot": [ctx.config.plot_record, ctx.config.plot_lead],
        }
    )
    saved = read_json(path)
    if saved and saved.get("fingerprint") == fp:
        ctx.log("NeuroKit2 baseline found, reused")
        return saved
    ctx.log(f"NeuroKit2 DWT baseline on {sum(r.signal.shape[0] for r in ctx.data.test)} leads")
    delineator = NeuroKitDelineator()
    total, lead_ii = Evaluation.empty(), Evaluation.empty()
    plot_record, plot_lead = plot_target(ctx.config, ctx.data.test)
    plot_waves: list[Wave] = []
    for record in ctx.data.test:
        names = [c.lower() for c in record.channels]
        for lead in range(record.signal.shape[0]):
            waves = delineator.lead_waves(record, lead)
            assert record.labels is not None
            lead_eval = evaluate_lead(
                waves,
                waves_to_labels(waves, record.num_samples),
                record.lead_waves(lead),
                record.labels[lead],
                record.fs,
            )
            total = total + lead_eval
            if names[lead] == "ii":
                lead_ii = lead_ii + lead_eval
            if record is plot_record and lead == plot_lead:
                plot_waves = waves
    result = {
        "fingerprint": fp,
        "method": "nk.ecg_clean + nk.ecg_peaks + nk.ecg_delineate(method='dwt'), per lead",
        "version": neurokit2.__version__,
        "all_leads": total.result(),
        "lead_ii": lead_ii.result() if lead_ii.leads else None,
        "reference_lead_ii": BENCHMARK_NEUROKIT_LEAD_II,
        "failures": [list(f) for f in delineator.failures],
        "leads": delineator.leads,
        "seconds_per_lead": delineator.seconds / max(delineator.leads, 1),
        "plot": {
            "record": plot_record.name,
            "lead": plot_record.channels[plot_lead],
            "waves": waves_json(plot_waves),
        },
    }
    write_json(path, result)
    ctx.log(
        f"  all leads: strict {result['all_leads']['strict_macro_f1']:.3f}; "
        f"{len(delineator.failures)} lead(s) failed"
    )
    return result
