"""``sigseg delineate``: waves (onset, peak, offset) of every lead of many recordings."""

from __future__ import annotations

from pathlib import Path

import typer


def delineate(
    inputs: list[Path] = typer.Argument(
        ..., help="WFDB records (.hea or base name), EDF/BDF, CSV or NumPy files."
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
    backend: str = typer.Option("torch", "--backend", help="torch or onnx."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    threads: int = typer.Option(None, "--threads", help="CPU threads for inference."),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="Write a PNG per input."),
    tables: bool = typer.Option(
        True,
        "--tables/--no-tables",
        help="Write the wave and interval tables (CSV, JSON); a day of ECG gives ~80 MB.",
    ),
) -> None:
    """Delineate each input; per lead (and fused with --combine-leads) write WFDB annotations
    in LUDB's convention, wave and interval tables (CSV, JSON) and a PNG plot. Recordings of
    any length stream through in bounded memory (a 24-hour Holter recording included).
    Stretches of a lead with no signal (NaN/Inf samples, or the lead stuck at one value for
    1 s or more) get no waves; they are listed in <name>_gaps.csv/.json and the summary line.
    A bad input (shorter than 0.6 s, sampled below 50 Hz, no usable signal...) is reported
    and skipped; the command exits 1 if any input failed."""
    from rich.progress import track

    from sigseg.inference.backends import load_backend
    from sigseg.pretrained import resolve_model
    from sigseg.tasks.ecg.pipeline import delineate_files

    backend_ = load_backend(resolve_model(model), backend, device=device, threads=threads)
    results = delineate_files(
        backend_, inputs, out, fs=fs, combine_leads=combine_leads, plot=plot, tables=tables
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
