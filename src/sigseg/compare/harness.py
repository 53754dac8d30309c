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
import json
import math
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigseg.atomic import write_text
from sigseg.compare.aggregate import aggregate, flatten
from sigseg.compare.baseline import NeuroKitDelineator
from sigseg.compare.budget import (
    BudgetPlan,
    Costs,
    measure_costs,
    plan_budget,
    steps_per_epoch,
)
from sigseg.compare.config import CompareConfig, RunSpec, fingerprint, plan_runs
from sigseg.data.record import Record, Wave

Log = Callable[[str], None]
SYNTHETIC_TEST_SEED = 2_000_000
"""Seed of the synthetic test records: fixed, and apart from every training seed's data."""
BENCHMARK_NEUROKIT_LEAD_II = {"strict": 0.728, "150ms": 0.881}
"""BENCHMARK.md's NeuroKit2 figures (lead II of the LUDB test split, same protocol)."""


@dataclass
class CompareData:
    """The data of a comparison: where training reads from, and the scored test records
    (multi-lead, at their own rate)."""

    source: str
    root: str | None
    test: list[Record]
    train_examples: int
    val_examples: int
    val_seconds: float

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "root": self.root,
            "test_records": [r.name for r in self.test],
            "test_leads": sum(r.signal.shape[0] for r in self.test),
            "train_examples": self.train_examples,
            "val_examples": self.val_examples,
        }


def resolve_source(config: CompareConfig) -> tuple[str, str | None]:
    """``("ludb", root)`` or ``("synthetic", None)``; ``auto`` picks LUDB when it is found at
    ``data_root`` or ``$SIGSEG_DATA``."""
    from sigseg.data.ludb import ludb_root

    if config.data == "synthetic":
        return "synthetic", None
    try:
        return "ludb", str(ludb_root(config.data_root))
    except (ValueError, OSError):
        if config.data == "ludb":
            raise
        return "synthetic", None


def load_data(config: CompareConfig, recipe: dict[str, Any]) -> CompareData:
    """Test records (the first ``test_records`` of the split) and the training set's size,
    from the source the recipe trains on."""
    source, root = recipe["data"], recipe["data_root"]
    if source == "ludb":
        from sigseg.data.ludb import load_ludb

        test = load_ludb(root, split="test", mode="multi")
        train_n = len(load_ludb(root, split="train", mode="single"))
        val = load_ludb(root, split="val", mode="single")
        val_n, val_s = len(val), max(r.duration for r in val)
    else:
        from sigseg.data.synthetic import synthetic_records

        n = config.test_records or config.synthetic_test
        test = synthetic_records(n, 10.0, 500.0, SYNTHETIC_TEST_SEED, config.synthetic_leads)
        train_n, val_n = int(recipe["synthetic_train"]), int(recipe["synthetic_val"])
        val_s = float(recipe["synthetic_seconds"])
    if config.test_records is not None:
        test = test[: config.test_records]
    return CompareData(source, root, test, train_n, val_n, val_s)


def train_recipe(config: CompareConfig) -> dict[str, Any]:
    """The training options every run shares (a :class:`TrainConfig` dict without the model,
    seed, output folder and length), on the data :func:`resolve_source` picks."""
    from sigseg.training import TrainConfig

    source, root = resolve_source(config)
    values = {"progress": False, **config.train_options, "data": source, "data_root": root}
    recipe = TrainConfig.from_dict(values, source="compare train_options").to_dict()
    for key in ("model", "model_options", "seed", "out_dir", "max_minutes", "epochs"):
        recipe.pop(key)
    return recipe


# --------------------------------------------------------------------------------------------
# one run


@dataclass
class _Context:
    config: CompareConfig
    out: Path
    data: CompareData
    recipe: dict[str, Any]
    log: Log
    costs: dict[str, Costs] = dataclasses.field(default_factory=dict)
    """Measured costs per model identity: measured once, shared by the model's seeds, so
    every seed of a model gets the same number of epochs."""


def _read_json(path: Path) -> dict[str, Any] | None:
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


def _train_fingerprint(spec: RunSpec, ctx: _Context) -> str:
    return fingerprint(
        {
            "model": spec.model_identity(),
            "seed": spec.seed,
            "recipe": ctx.recipe,
            "budget": dataclasses.asdict(ctx.config.budget),
            "data": [ctx.data.source, ctx.data.root],
        }
    )


def _eval_fingerprint(ctx: _Context) -> str:
    from sigseg.inference.waves import WaveOptions

    return fingerprint(
        {
            "test": [r.name for r in ctx.data.test],
            "decoding": dataclasses.asdict(WaveOptions()),
            "plot": [ctx.config.plot_record, ctx.config.plot_lead],
            "repeats": ctx.config.probe_repeats,
            "threads": ctx.config.threads,
        }
    )


def plot_target(config: CompareConfig, records: list[Record]) -> tuple[Record, int]:
    """The record and lead index drawn in the stacked-delineation figure."""
    record = records[min(config.plot_record, len(records) - 1)]
    lead = config.plot_lead
    if isinstance(lead, str):
        names = [c.lower() for c in record.channels]
        return record, names.index(lead.lower()) if lead.lower() in names else 0
    return record, min(int(lead), record.signal.shape[0] - 1)


def _waves_json(waves: list[Wave]) -> list[list[Any]]:
    return [[w.kind, w.onset, w.peak, w.offset] for w in waves]


def _train(spec: RunSpec, ctx: _Context, run_dir: Path, train_fp: str) -> dict[str, Any]:
    """Train (or reuse a finished training with the same fingerprint); returns train.json."""
    from sigseg.checkpoint import read_info
    from sigseg.training import TrainConfig, train

    saved = _read_json(run_dir / "train.json")
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


def execute_run(spec: RunSpec, ctx: _Context) -> dict[str, Any]:
    """Train, score, profile and probe one run; reuse what a previous run left when its
    fingerprint matches. Returns (and saves) the run's ``run.json``."""
    from sigseg.checkpoint import load_checkpoint
    from sigseg.compare.probe import probe_in_subprocess
    from sigseg.evaluation import evaluate_model
    from sigseg.inference.backends import load_backend
    from sigseg.inference.delineate import delineate_signal
    from sigseg.inference.waves import WaveOptions
    from sigseg.models.profile import profile_model

    run_dir = ctx.out / "runs" / spec.run_id
    train_fp, eval_fp = _train_fingerprint(spec, ctx), _eval_fingerprint(ctx)
    saved = _read_json(run_dir / "run.json")
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
            "waves": _waves_json(plot.lead_waves(lead)),
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


def run_baseline(ctx: _Context) -> dict[str, Any]:
    """NeuroKit2's DWT delineator on every lead of the test records, plus a lead-II row."""
    import neurokit2

    from sigseg.inference.waves import waves_to_labels
    from sigseg.metrics.report import Evaluation, evaluate_lead

    path = ctx.out / "baseline" / "neurokit2.json"
    fp = fingerprint(
        {
            "test": [r.name for r in ctx.data.test],
            "nk": neurokit2.__version__,
            "plot": [ctx.config.plot_record, ctx.config.plot_lead],
        }
    )
    saved = _read_json(path)
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
            "waves": _waves_json(plot_waves),
        },
    }
    write_json(path, result)
    ctx.log(
        f"  all leads: strict {result['all_leads']['strict_macro_f1']:.3f}; "
        f"{len(delineator.failures)} lead(s) failed"
    )
    return result


# --------------------------------------------------------------------------------------------
# the whole comparison


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
        ctx = _Context(config, out, data, recipe, log)
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
    from sigseg.inference.waves import WaveOptions

    return dataclasses.asdict(WaveOptions())
