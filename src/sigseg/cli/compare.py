"""``sigseg compare``: train every model under one budget, score them against NeuroKit2 on the
LUDB test split, and write report.md, results.json and plots."""

from __future__ import annotations

import dataclasses
import json
import shlex
from typing import Any

import typer

from sigseg.cli.train import _pairs


def _ints(text: str | None, option: str) -> tuple[int, ...] | None:
    """``"0,1,2"`` -> ``(0, 1, 2)``; ``"none"`` or ``""`` -> ``()``; ``None`` stays ``None``."""
    if text is None:
        return None
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{option} expects comma-separated integers, got {text!r}"
        ) from None


def _command_line(ctx: typer.Context) -> str:
    """The command as given, rebuilt from the options the user set (so it is the same whether
    the CLI ran as ``sigseg``, ``python -m sigseg`` or in-process), quoted for a shell."""
    args = ["sigseg", ctx.info_name or "compare"]
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name)
        if source is None or source.name not in ("COMMANDLINE", "ENVIRONMENT"):
            continue
        value = ctx.params[param.name]
        if getattr(param, "is_flag", False):
            names = param.opts if value else (param.secondary_opts or param.opts)
            args.append(names[0])
        else:
            for item in value if isinstance(value, list | tuple) else [value]:
                args += [param.opts[0], str(item)]
    return shlex.join(args)


def compare(
    ctx: typer.Context,
    quick: bool = typer.Option(
        False, "--quick", help="Demo settings: 3 models, 1 seed, 30 s each, 4 test records."
    ),
    models: str = typer.Option(None, "--models", help="Comma-separated registry names."),
    seeds: str = typer.Option(None, "--seeds", help="Comma-separated training seeds."),
    minutes: float = typer.Option(
        None, "--minutes", help="Equal wall-time budget per run (0: use --epochs instead)."
    ),
    epochs: int = typer.Option(None, "--epochs", help="Equal epochs per run (with --minutes 0)."),
    data: str = typer.Option(None, "--data", help="auto (LUDB if found), ludb or synthetic."),
    data_root: str = typer.Option(None, "--data-root", help="LUDB folder (else $SIGSEG_DATA)."),
    out: str = typer.Option(None, "--out", help="Output folder (reruns reuse finished runs)."),
    threads: int = typer.Option(None, "--threads", help="PyTorch threads for the whole run."),
    test_records: int = typer.Option(None, "--test-records", help="Score only the first N."),
    ablation_levels: str = typer.Option(
        None, "--ablation-levels", help="Dilation levels to sweep, e.g. 2,3,4 ('none': skip)."
    ),
    ablation_seeds: str = typer.Option(None, "--ablation-seeds", help="Seeds of the ablation."),
    baseline: bool = typer.Option(True, "--baseline/--no-baseline", help="Run NeuroKit2."),
    option: list[str] = typer.Option(
        None, "--set", help="Training-recipe override key=value for every run (repeatable)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print results.json's summary as JSON."),
) -> None:
    """Compare models under an equal budget; writes report.md, results.json and PNGs to --out."""
    import logging
    import warnings

    from sigseg.compare import Budget, CompareConfig, quick_config, run_compare

    base = quick_config() if quick else CompareConfig()
    budget = base.budget
    if minutes is not None or epochs is not None:  # --epochs alone means equal epochs
        budget = Budget(
            epochs=epochs if epochs is not None else budget.epochs,
            minutes=minutes if minutes is not None else 0.0,
        )
    changes: dict[str, Any] = {
        "models": tuple(m.strip() for m in models.split(",") if m.strip()) if models else None,
        "seeds": _ints(seeds, "--seeds"),
        "ablation_levels": _ints(ablation_levels, "--ablation-levels"),
        "ablation_seeds": _ints(ablation_seeds, "--ablation-seeds"),
        "data": data,
        "data_root": data_root,
        "out_dir": out,
        "threads": threads,
        "test_records": test_records,
        "budget": budget,
        "baseline": baseline,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if option:
        changes["train_options"] = {**base.train_options, **_pairs(option, "--set")}
    config = dataclasses.replace(base, **changes)

    import lightning.pytorch  # noqa: F401  (it sets its loggers' level when imported)

    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)  # our own log says what runs
    warnings.filterwarnings("ignore", module="lightning")
    log = (lambda msg: typer.echo(msg, err=True)) if as_json else typer.echo
    result = run_compare(config, command=_command_line(ctx), log=log)
    if as_json:
        summary = json.loads(result.results.read_text(encoding="utf-8"))
        summary.pop("runs", None)
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(f"report {result.report}; results {result.results}")
    if result.failed:
        typer.echo(f"{len(result.failed)} run(s) failed: {', '.join(result.failed)}", err=True)
        raise typer.Exit(1)
