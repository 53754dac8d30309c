"""``sigseg delineate``: waves (onset, peak, offset) of every lead of many recordings."""

from __future__ import annotations

from pathlib import Path

import typer

from sigseg.cli.batching import (
    BATCH_HELP,
    OVERWRITE_HELP,
    RAY_HELP,
    SHARD_HELP,
    WORKERS_HELP,
    run_batch_command,
    wants_batch,
)


def delineate(
    inputs: list[Path] = typer.Argument(
        ...,
        help="WFDB records (.hea or base name), EDF/BDF, CSV or NumPy files; in batch mode also "
        "folders, quoted globs, .yaml manifests and @list files (one path a line).",
    ),
    model: str = typer.Option(
        None,
        "--model",
        help="Pretrained name or checkpoint/ONNX path (default: the shipped ECG model).",
    ),
    out: Path = typer.Option(Path("delineation"), "--out", help="Output folder."),
    fs: float = typer.Option(
        None,
        "--fs",
        help="Sampling rate of CSV/NumPy inputs (Hz); WFDB and EDF files give their own.",
    ),
    combine_leads: bool = typer.Option(
        False, "--combine-leads", help="Also fuse all leads into one delineation."
    ),
    backend: str = typer.Option(
        "auto", "--backend", help="auto (ONNX Runtime if installed, else torch), torch or onnx."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    threads: int = typer.Option(None, "--threads", help="CPU threads for inference."),
    plot: bool = typer.Option(
        None, "--plot/--no-plot", help="Write a PNG per input (default: yes, not in batch mode)."
    ),
    tables: bool = typer.Option(
        True,
        "--tables/--no-tables",
        help="Write the wave, interval and gap tables (CSV); a day of ECG gives ~35 MB.",
    ),
    json_tables: bool = typer.Option(
        False, "--json", help="Write the tables as JSON too (a day of ECG: ~90 MB more)."
    ),
    batch: bool = typer.Option(False, "--batch", help=BATCH_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
    shard_size: int = typer.Option(None, "--shard-size", help=SHARD_HELP),
    ray: str = typer.Option(None, "--ray", help=RAY_HELP),
    workers: int = typer.Option(None, "--workers", help=WORKERS_HELP),
) -> None:
    """Delineate each input; per lead (and fused with --combine-leads) write WFDB annotations
    in LUDB's convention, wave, interval and gap tables (CSV; --json adds JSON copies) and a
    PNG plot. Recordings of any length stream through in bounded memory (a 24-hour Holter
    recording included).
    Stretches of a lead with no signal (NaN/Inf samples, or the lead stuck at one value for
    1 s or more) get no waves; they are listed in <name>_gaps.csv and the summary line.
    A bad input (shorter than 0.6 s, sampled below 50 Hz, no usable signal...) is reported
    and skipped; the command exits 1 if any input failed.

    Batch mode (a folder, glob, manifest or @list input, or --batch) writes one run folder
    instead: events.parquet, intervals.parquet, recordings.parquet, errors.parquet and
    run.json; re-running the same command resumes it."""
    from sigseg.inference.backends import pick_backend
    from sigseg.pretrained import resolve_model

    backend, notice = pick_backend(backend, device)
    if notice:
        typer.echo(f"note: {notice}", err=True)
    path = resolve_model(model)
    if wants_batch(inputs, batch, ray):
        from sigseg.batch.jobs import JobSpec
        from sigseg.batch.shards import PLOTS

        options = {"fs": fs, "combine_leads": combine_leads, "plots": out / PLOTS if plot else None}
        spec = JobSpec("delineate", str(path), backend, threads, options, device)
        run_batch_command(
            spec,
            inputs,
            out,
            overwrite=overwrite,
            shard_size=shard_size,
            ray=ray,
            workers=workers,
            verb="delineated",
        )
        return
    from rich.progress import track

    from sigseg.inference.backends import load_backend
    from sigseg.tasks.ecg.pipeline import delineate_files

    backend_ = load_backend(path, backend, device=device, threads=threads)
    results = delineate_files(
        backend_,
        inputs,
        out,
        fs=fs,
        combine_leads=combine_leads,
        plot=True if plot is None else plot,
        tables=tables,
        json_tables=json_tables,
    )
    failures: list[str] = []
    for result in track(results, total=len(inputs), description="delineating", transient=True):
        for message in result.warnings:
            typer.echo(f"warning: {result.path}: {message}", err=True)
        if result.error is None:
            typer.echo(f"{result.path}: {result.summary}")
        else:
            failures.append(result.error)
    if failures:
        typer.echo(f"{len(failures)} of {len(inputs)} input(s) failed:", err=True)
        for line in failures:
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(1)
