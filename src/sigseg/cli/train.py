"""``sigseg train``: train a registry model on any labelled data: a folder of recordings with
``_events.tsv`` sidecars, a YAML manifest, LUDB or the synthetic ECG generator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml

from sigseg.cli.options import split_classes, split_names


def _pairs(items: list[str] | None, option: str) -> dict[str, Any]:
    """``key=value`` strings -> dict, values parsed as YAML (``3``, ``[1, 2]``, ``none``)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{option} expects key=value, got {item!r}")
        out[key.strip().replace("-", "_")] = yaml.safe_load(value)
    return out


def train(
    model: str = typer.Option(None, "--model", help="Registry model or preset name."),
    data: str = typer.Option(
        None, "--data", help="A folder or manifest of labelled recordings; ludb; synthetic."
    ),
    fs: float = typer.Option(None, "--fs", help="Sampling rate of files that store none (Hz)."),
    channels: str = typer.Option(
        None, "--channels", help="Input channels by name or index, comma-separated."
    ),
    classes: str = typer.Option(
        None, "--classes", help="Class names in order, comma-separated (default: from the data)."
    ),
    gaps: str = typer.Option(
        None, "--gaps", help="Samples no label covers: unlabelled (default) or background."
    ),
    config: Path = typer.Option(None, "--config", help="YAML config (e.g. a run's config.yaml)."),
    data_root: str = typer.Option(None, "--data-root", help="LUDB folder (else $SIGSEG_DATA)."),
    epochs: int = typer.Option(None, "--epochs"),
    batch_size: int = typer.Option(None, "--batch-size"),
    lr: float = typer.Option(None, "--lr"),
    seed: int = typer.Option(None, "--seed"),
    max_minutes: float = typer.Option(None, "--max-minutes", help="Wall-time cap (0: none)."),
    out: str = typer.Option(None, "--out", help="Output folder (default runs/train)."),
    devices: str = typer.Option(None, "--devices", help="Number of devices, or 'auto'."),
    accelerator: str = typer.Option(None, "--accelerator", help="cpu, gpu or auto."),
    strategy: str = typer.Option(None, "--strategy", help="Lightning strategy, e.g. ddp."),
    num_nodes: int = typer.Option(None, "--num-nodes"),
    resume: Path = typer.Option(None, "--resume", help="Lightning .ckpt to resume from."),
    model_option: list[str] = typer.Option(
        None, "--model-option", "-m", help="Model override key=value (repeatable)."
    ),
    option: list[str] = typer.Option(None, "--set", help="Config override key=value."),
) -> None:
    """Train a model; writes config.yaml, best/last.safetensors and metrics.csv to --out."""
    from sigseg.training import TrainConfig, load_config
    from sigseg.training import train as run_training

    overrides: dict[str, Any] = {
        "model": model,
        "data": data,
        "data_root": data_root,
        "fs": fs,
        "channels": split_names(channels),
        "classes": split_classes(classes),
        "gaps": gaps,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "max_minutes": max_minutes,
        "out_dir": out,
        "devices": devices,
        "accelerator": accelerator,
        "strategy": strategy,
        "num_nodes": num_nodes,
        **_pairs(option, "--set"),
    }
    model_options = _pairs(model_option, "--model-option")
    if config is not None:
        cfg = load_config(config, **overrides)
    else:
        cfg = TrainConfig.from_dict(
            {k: v for k, v in overrides.items() if v is not None}, source="command line"
        )
    if model_options:
        cfg.model_options = {**cfg.model_options, **model_options}
    result = run_training(cfg, resume=resume)
    if not result.primary:
        return
    typer.echo(
        f"best {result.best} ({result.monitor} {abs(result.best_score):.4f}); "
        f"last {result.last}; config {result.config}; {result.seconds:.0f} s"
    )
