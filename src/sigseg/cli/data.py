"""``sigseg data``: download datasets, write synthetic recordings, inspect a signal file or
check how a folder or manifest of labelled recordings is read."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Datasets: download LUDB/QTDB, write synthetic ECG, inspect a file, check a data set.",
)


@app.command("fetch")
def fetch(
    database: str = typer.Argument(..., help="ludb or qtdb."),
    dest: Path = typer.Argument(..., help="Folder to download into (created if needed)."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="A PhysioNet mirror with its files/ and content/ layout."
    ),
    record: list[str] | None = typer.Option(
        None, "--record", help="Only this record, as listed in RECORDS (repeatable)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Download complete files again."),
) -> None:
    """Download LUDB or QTDB from PhysioNet with wfdb's downloader."""
    from sigseg.tasks.ecg.fetch import fetch_database

    result = fetch_database(database, dest, base_url=base_url, records=record, overwrite=overwrite)
    typer.echo(f"{result.database} {result.version}: {result.files} files in {result.path}")
    typer.echo(f"use it with: export SIGSEG_DATA={result.path.resolve()}")


@app.command("synth")
def synth(
    out: Path = typer.Argument(..., help="Record path to write (<out>.hea, <out>.dat, ...)."),
    hours: float = typer.Option(1.0, "--hours", help="Length in hours."),
    fs: float = typer.Option(500.0, "--fs", help="Sampling rate (Hz)."),
    leads: int = typer.Option(2, "--leads", help="Number of leads."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same recording)."),
    annotations: bool = typer.Option(
        True, "--annotations/--no-annotations", help="Write each lead's true waves."
    ),
) -> None:
    """Write a synthetic ECG with exact ground truth as a WFDB record, chunk by chunk."""
    from sigseg.tasks.ecg.synthetic import write_synthetic_wfdb

    base = write_synthetic_wfdb(out, hours, fs=fs, leads=leads, seed=seed, annotations=annotations)
    typer.echo(f"wrote {base}.hea ({hours:g} h, {leads} leads at {fs:g} Hz)")


@app.command("info")
def info(
    path: Path = typer.Argument(..., help="A WFDB, EDF/BDF, CSV or NumPy signal file."),
    fs: float | None = typer.Option(None, "--fs", help="Sampling rate, where the file lacks it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a signal file's rate, channels and length (reads the header, not the samples)."""
    from sigseg.data.readers import open_signal, signal_format

    with open_signal(path, fs) as reader:
        row = {
            "name": reader.name,
            "format": signal_format(path),
            "fs": reader.fs,
            "channels": reader.channels,
            "samples": reader.num_samples,
            "duration_s": reader.num_samples / reader.fs,
        }
    if as_json:
        typer.echo(json.dumps(row, indent=2))
        return
    for key, value in row.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        typer.echo(f"{key:>10}: {shown}")


@app.command("check")
def check(
    data: str = typer.Argument(..., help="A folder of labelled recordings or a YAML manifest."),
    fs: float = typer.Option(None, "--fs", help="Sampling rate of files that store none (Hz)."),
    channels: str = typer.Option(None, "--channels", help="Channels by name or index."),
    classes: str = typer.Option(None, "--classes", help="Class names in order."),
    gaps: str = typer.Option(None, "--gaps", help="unlabelled (default) or background."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Read a data set as `sigseg train` would (every file, every label, with the same
    one-line errors) and show what was inferred: label kind, classes, channels, splits, and
    the seconds of each class per split."""
    from sigseg.cli.options import split_classes, split_names
    from sigseg.data.dataset import open_dataset

    dataset = open_dataset(
        data, fs=fs, channels=split_names(channels), classes=split_classes(classes), gaps=gaps
    )
    summary = dataset.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    task = dataset.task
    table = Table(
        title=f"{summary['source']}: {task.kind}; channels {', '.join(task.channels)}",
        title_justify="left",
    )
    for column in ["split", "recordings", "hours", "rate (Hz)", "events"]:
        table.add_column(column, justify="left" if column == "split" else "right")
    for name in [*task.classes, "unlabelled"]:
        table.add_column(f"{name} (s)", justify="right")
    for split, row in summary["splits"].items():
        rates = ", ".join(f"{r:g}" for r in row["rates_hz"]) or "-"
        seconds = [f"{row['seconds'][c]:.0f}" for c in task.classes]
        counts = [str(row["recordings"]), f"{row['hours']:.2f}", rates, str(row["events"])]
        table.add_row(split, *counts, *seconds, f"{row['unlabelled_seconds']:.0f}")
    Console(width=200).print(table)
