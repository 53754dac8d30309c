"""The comparison to convergence, on any field: every model of a field trained with one recipe
until its validation score stops improving, for several seeds, then scored on the field's test
split and measured for cost.

A field is a YAML file (``benchmarks/fields/<field>.yaml``)::

    name: hapt                           # the field's name in tables
    data: ../../configs/datasets/hapt.yaml  # a manifest or data folder, or "ludb"
    seeds: [0, 1, 2]
    recipe: {sampling_rate: 50, crop_seconds: 40.96, epochs: 60, patience: 6,
             schedule: plateau, lr: 0.001}   # TrainConfig values shared by every run
    models:                              # label -> registry name and options
      unet: {model: unet}
      hybrid: {model: hybrid, options: {window: 64}}

Paths are relative to the YAML file. Every run lives in ``<out>/runs/<label>-seed<k>/``:
``train/`` (the training folder, resumed from its last Lightning checkpoint after a crash),
``curve.json`` (validation score against epochs and training seconds, written every epoch)
and ``run.json`` (written when the run is scored). A run whose ``run.json`` holds the same
fingerprint (model, seed, recipe, data) is never redone: the benchmark resumes across
sessions.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import yaml

from sigseg.atomic import write_text
from sigseg.compare.aggregate import aggregate, flatten
from sigseg.compare.config import fingerprint
from sigseg.compare.field_report import write_field_report
from sigseg.compare.runs import read_json, write_json

Log = Callable[[str], None]
FIELD_KEYS = ("name", "data", "data_root", "seeds", "recipe", "models", "test_split")
SCORE_ECG = "strict macro-F1 of the P, QRS and T boundaries (BENCHMARK.md)"
SCORE_ANY = "sample macro-F1 over the task's classes"
RESERVED = ("model", "model_options", "seed", "out_dir", "data", "data_root")


@dataclass(frozen=True)
class FieldModel:
    """One compared model: its label in tables, registry name and options."""

    label: str
    model: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldConfig:
    """A field's comparison (see the module docstring for the YAML form)."""

    name: str
    data: str
    models: tuple[FieldModel, ...]
    recipe: Mapping[str, Any]
    seeds: tuple[int, ...] = (0, 1, 2)
    data_root: str | None = None
    test_split: str = "test"

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError(f"field {self.name!r}: give at least one model")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"field {self.name!r}: seeds must be distinct and non-empty")
        reserved = sorted(set(RESERVED) & set(self.recipe))
        if reserved:
            raise ValueError(f"field {self.name!r}: recipe cannot set {', '.join(reserved)}")
        if int(self.recipe.get("patience", 0)) < 1:
            raise ValueError(f"field {self.name!r}: recipe needs patience >= 1 (early stopping)")

    @property
    def is_ecg(self) -> bool:
        return self.data == "ludb"


def read_field_config(path: str | Path) -> FieldConfig:
    """Read a field's YAML file; an unknown key is an error naming the file."""
    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"{path}: cannot read field config ({err})") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: a field config is a mapping")
    unknown = sorted(set(values) - set(FIELD_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(unknown)}")
    data = str(values.get("data", ""))
    if data != "ludb":
        data = str((path.parent / data).resolve())
    models = tuple(
        FieldModel(label, str(spec["model"]), dict(spec.get("options") or {}))
        for label, spec in (values.get("models") or {}).items()
    )
    return FieldConfig(
        name=str(values.get("name", path.stem)),
        data=data,
        models=models,
        recipe=dict(values.get("recipe") or {}),
        seeds=tuple(int(s) for s in values.get("seeds", (0, 1, 2))),
        data_root=str((path.parent / root).resolve())
        if (root := values.get("data_root"))
        else None,
        test_split=str(values.get("test_split", "test")),
    )


class EpochClock(L.Callback):
    """Writes ``curve.json`` after every validation: epoch, wall seconds of training so far
    (validation included; kept across a resume through the Lightning checkpoint, which
    Lightning saves after this callback has run) and the task's monitored score."""

    def __init__(self, path: Path, monitor: str) -> None:
        self.path, self.monitor = path, monitor
        self.elapsed = 0.0
        self.points: list[dict[str, float]] = []
        self._base, self._start = 0.0, time.perf_counter()

    def on_fit_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._base, self._start = self.elapsed, time.perf_counter()

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking or self.monitor not in trainer.callback_metrics:
            return
        self.elapsed = self._base + time.perf_counter() - self._start
        score = float(trainer.callback_metrics[self.monitor])
        epoch = trainer.current_epoch + 1
        self.points = [p for p in self.points if p["epoch"] < epoch]
        self.points.append({"epoch": epoch, "seconds": round(self.elapsed, 2), "score": score})
        write_json(self.path, self.points)

    def state_dict(self) -> dict[str, Any]:
        return {"elapsed": self.elapsed, "points": self.points}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.elapsed = self._base = float(state["elapsed"])
        self.points = list(state["points"])


def run_id(model: FieldModel, seed: int) -> str:
    return f"{model.label}-seed{seed}"


def run_fingerprint(config: FieldConfig, model: FieldModel, seed: int) -> str:
    """What a finished run of ``model`` and ``seed`` under ``config`` is recorded with; a
    saved run or score with another was made under another recipe, model or data."""
    return fingerprint(
        {
            "model": [model.model, dict(model.options)],
            "seed": seed,
            "recipe": dict(config.recipe),
            # names, not paths: a checkout elsewhere reuses the runs
            "data": [
                Path(config.data).name,
                config.data_root and Path(config.data_root).name,
                config.test_split,
            ],
        }
    )


def train_run(config: FieldConfig, model: FieldModel, seed: int, run_dir: Path) -> dict[str, Any]:
    """Train one run to convergence (resuming a killed one from its last checkpoint)."""
    from sigseg.training import TrainConfig, train

    train_dir = run_dir / "train"
    cfg = TrainConfig.from_dict(
        {
            **dict(config.recipe),
            "model": model.model,
            "model_options": dict(model.options),
            "seed": seed,
            "data": config.data,
            "data_root": config.data_root,
            "out_dir": str(train_dir),
            "progress": False,
        }
    )
    last = train_dir / "checkpoints" / "last.ckpt"
    resume = last if last.is_file() else None
    monitor = "val_strict_f1" if config.is_ecg else _task_monitor(config)
    clock = EpochClock(run_dir / "curve.json", monitor)
    result = train(cfg, resume=resume, callbacks=[clock])
    return {
        "seconds": clock.elapsed,
        "epochs": len(clock.points),
        "best_epoch": _best_epoch(clock.points),
        "best_val": result.best_score,
        "monitor": result.monitor,
    }


def _task_monitor(config: FieldConfig) -> str:
    from sigseg.data.dataset import open_dataset

    return open_dataset(config.data).task.monitor


def _best_epoch(points: Sequence[Mapping[str, float]]) -> int:
    return int(max(points, key=lambda p: p["score"])["epoch"]) if points else 0


def score_run(config: FieldConfig, checkpoint: Path) -> tuple[dict[str, Any], dict[str, float]]:
    """The test split's scores (the task's metrics, or BENCHMARK.md's for ECG) and the
    inference speed measured while scoring (seconds of signal per second, one thread pool)."""
    from sigseg.inference.segment import load_segmenter

    segmenter = load_segmenter(checkpoint, "torch")
    if config.is_ecg:
        from sigseg.tasks.ecg.evaluation import evaluate_model
        from sigseg.tasks.ecg.ludb import load_ludb

        records = load_ludb(config.data_root, split=config.test_split, mode="multi")
        start = time.perf_counter()
        result = evaluate_model(segmenter.backend, records).result()
    else:
        from sigseg.data.dataset import open_dataset
        from sigseg.evaluation import score_segmenter

        records = open_dataset(config.data).records(config.test_split)
        if not records:
            raise ValueError(f"the {config.test_split} split of {config.data} has no recordings")
        start = time.perf_counter()
        result = score_segmenter(segmenter, records, segmenter.task).result()
    seconds = time.perf_counter() - start
    signal = sum(
        r.num_samples / r.fs * (r.signal.shape[0] if config.is_ecg else 1) for r in records
    )
    return result, {"seconds": seconds, "signal_seconds": signal, "realtime": signal / seconds}


def headline(config: FieldConfig, result: Mapping[str, Any]) -> float:
    """The field's one accuracy number (:data:`SCORE_ECG` or :data:`SCORE_ANY`)."""
    if config.is_ecg:
        return float(result["boundaries"]["strict"]["macro_f1"])
    return float(result["samples"]["macro_f1"])


def _set_aside_stale(run_dir: Path, fp: str, log: Log) -> None:
    """Mark ``run_dir`` as training under fingerprint ``fp``; a training folder marked with
    another (another recipe or model, which its last checkpoint would otherwise resume) is
    renamed ``train-<its fingerprint>``, not deleted. An unmarked folder is taken as the one
    its finished ``train.json`` names, else as ``fp``'s (a run killed before it was marked)."""
    mark = run_dir / "fingerprint.txt"
    if mark.is_file():
        old = mark.read_text(encoding="utf-8").strip()
    else:
        old = str((read_json(run_dir / "train.json") or {}).get("fingerprint", fp))
    train_dir = run_dir / "train"
    if train_dir.exists() and old != fp:
        aside = run_dir / f"train-{old}"
        log(f"  {train_dir} was trained with another recipe or model: kept as {aside.name}")
        train_dir.rename(aside)
        (run_dir / "curve.json").unlink(missing_ok=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text(mark, fp + "\n")


def execute_run(config: FieldConfig, model: FieldModel, seed: int, out: Path, log: Log) -> dict:
    """Train, score and profile one run, or return its finished ``run.json``."""
    from sigseg.checkpoint import load_checkpoint
    from sigseg.models.profile import profile_model

    run_dir = out / "runs" / run_id(model, seed)
    fp = run_fingerprint(config, model, seed)
    if saved := finished_run(config, model, seed, out):
        log("  finished run found, reused")
        return saved
    best = run_dir / "train" / "best.safetensors"
    trained = read_json(run_dir / "train.json")
    if not (trained and trained.pop("fingerprint", None) == fp and best.is_file()):
        _set_aside_stale(run_dir, fp, log)
        trained = train_run(config, model, seed, run_dir)
        write_json(run_dir / "train.json", {**trained, "fingerprint": fp})
    result, speed = score_run(config, best)
    net, _ = load_checkpoint(best)
    run = {
        "run_id": run_id(model, seed),
        "label": model.label,
        "model": model.model,
        "options": dict(model.options),
        "seed": seed,
        "fingerprint": fp,
        "train": trained,
        "profile": profile_model(net, model.label).to_dict(),
        "inference": speed,
        "score": headline(config, result),
        "evaluation": result,
    }
    write_json(run_dir / "run.json", run)
    log(
        f"  test score {run['score']:.3f} after {trained['epochs']} epochs "
        f"({trained['seconds'] / 60:.1f} min; best epoch {trained['best_epoch']})"
    )
    return run


def summarize(config: FieldConfig, runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean and SD over seeds per model: the headline score, every flattened test metric, the
    training time and epochs, inference speed, and the (seed-independent) profile."""
    models: dict[str, Any] = {}
    for model in config.models:
        done = [r for r in runs if r["label"] == model.label]
        if not done:
            continue
        rows = [
            {
                "score": r["score"],
                **flatten({"test": r["evaluation"]}),
                "train.seconds": r["train"]["seconds"],
                "train.epochs": r["train"]["epochs"],
                "train.best_epoch": r["train"]["best_epoch"],
                "train.best_val": r["train"].get("best_val"),
                "inference.realtime": r["inference"]["realtime"],
            }
            for r in done
        ]
        stats = aggregate(rows)
        models[model.label] = {
            "model": model.model,
            "seeds": sorted(r["seed"] for r in done),
            "profile": done[0]["profile"],
            "metrics": {k: v.to_dict() for k, v in stats.items()},
        }
    return models


def finished_run(config: FieldConfig, model: FieldModel, seed: int, out: Path) -> dict | None:
    """The run's saved ``run.json`` when it was finished under today's fingerprint, else None."""
    saved = read_json(out / "runs" / run_id(model, seed) / "run.json")
    fresh = saved and saved.get("fingerprint") == run_fingerprint(config, model, seed)
    return saved if fresh else None


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[bool]:
    """An exclusive lock on ``run_dir`` (``.lock``, released when the process ends, even
    killed): ``True`` when this process holds it, ``False`` when another is training the run,
    so two invocations of one field never train the same run at once."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_field(
    config: FieldConfig,
    out: str | Path,
    *,
    select: Callable[[FieldModel, int], bool] = lambda model, seed: True,
    command: str = "",
    log: Log = print,
) -> Path:
    """Every selected run of the field, seed-major (each model's first seed, then the
    second...), with ``results.json`` rewritten after each run; returns its path. The summary
    holds every run of the plan finished on disk when it is written, so neither a partial
    invocation nor another process training runs of the same field at once drops any. A
    failed run is logged and the others go on."""
    out = Path(out)
    failed: list[dict[str, str]] = []
    plan = [(model, seed) for seed in config.seeds for model in config.models]
    for i, (model, seed) in enumerate(plan, 1):
        if not select(model, seed):
            continue
        log(f"[{i}/{len(plan)}] {config.name}: {model.label} seed {seed}")
        try:
            with run_lock(out / "runs" / run_id(model, seed)) as mine:
                if mine:
                    execute_run(config, model, seed, out, log)
                else:
                    log("  being trained by another process: skipped")
        except Exception as err:  # one failed run must not stop the others
            failed.append({"run_id": run_id(model, seed), "error": f"{type(err).__name__}: {err}"})
            log(f"  FAILED: {failed[-1]['error']}")
        _write_summary(config, out, command, plan, failed)
    _write_summary(config, out, command, plan, failed)
    return out / "results.json"


def _write_summary(
    config: FieldConfig,
    out: Path,
    command: str,
    plan: Sequence[tuple[FieldModel, int]],
    failed: list[dict[str, str]],
) -> None:
    """``results.json``, ``report.md`` and ``curves.png`` for the runs of ``plan`` finished so
    far (read from disk: another process may have finished some)."""
    runs = [r for m, s in plan if (r := finished_run(config, m, s, out)) is not None]
    summary = {
        "field": config.name,
        "command": command,
        "score": SCORE_ECG if config.is_ecg else SCORE_ANY,
        "recipe": dict(config.recipe),
        "seeds": list(config.seeds),
        "planned": [run_id(m, s) for m, s in plan],
        "failed": failed,
        "models": summarize(config, runs),
    }
    write_json(out / "results.json", summary)
    write_field_report(out, summary)
