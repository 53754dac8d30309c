"""``sigseg segment``: events of many recordings with any trained model."""

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


def segment(
    model: str = typer.Argument(..., help="Checkpoint, ONNX file or pretrained model name."),
    inputs: list[Path] = typer.Argument(
        ...,
        help="Signal files: WFDB, EDF/BDF, WAV/FLAC, CSV/TSV or NumPy; in batch mode also "
        "folders, quoted globs, .yaml manifests and @list files (one path a line).",
    ),
    out: Path = typer.Option(Path("segmentation"), "--out", help="Output folder."),
    fs: float = typer.Option(None, "--fs", help="Sampling rate of files that store none (Hz)."),
    channels: str = typer.Option(
        None,
        "--channels",
        help="Channels by name or index, comma-separated (default: the model's own, by name).",
    ),
    samples: bool = typer.Option(
        False, "--samples", help="Also write per-sample labels and probabilities (.npz)."
    ),
    plot: bool = typer.Option(
        None, "--plot/--no-plot", help="Write a PNG per input (default: yes, not in batch mode)."
    ),
    backend: str = typer.Option(
        "auto", "--backend", help="auto (ONNX Runtime if installed, else torch), torch or onnx."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    threads: int = typer.Option(None, "--threads", help="CPU threads for inference."),
    batch: bool = typer.Option(False, "--batch", help=BATCH_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
    shard_size: int = typer.Option(None, "--shard-size", help=SHARD_HELP),
    ray: str = typer.Option(None, "--ray", help=RAY_HELP),
    workers: int = typer.Option(None, "--workers", help=WORKERS_HELP),
) -> None:
    """Segment each input; write <stem>_events.tsv (BIDS events: onset, duration, label, peak,
    probability, channel), <stem>_gaps.tsv (its NaN/Inf stretches, where nothing is found)
    and a plot per input. A bad input is reported and skipped; the command exits 1 if any
    input failed.

    Batch mode (a folder, glob, manifest or @list input, or --batch) writes one run folder
    instead: events.parquet, recordings.parquet, errors.parquet and run.json; re-running the
    same command resumes it."""
    from sigseg.cli.options import split_names
    from sigseg.inference.backends import pick_backend
    from sigseg.pretrained import resolve_model

    backend, notice = pick_backend(backend, device)
    if notice:
        typer.echo(f"note: {notice}", err=True)
    if wants_batch(inputs, batch, ray):
        from sigseg.batch.jobs import JobSpec
        from sigseg.batch.shards import PLOTS

        if samples:
            raise ValueError("--samples writes per-recording files; batch mode writes tables")
        options = {
            "fs": fs,
            "channels": split_names(channels),
            "plots": out / PLOTS if plot else None,
        }
        spec = JobSpec("segment", str(resolve_model(model)), backend, threads, options, device)
        run_batch_command(
            spec,
            inputs,
            out,
            overwrite=overwrite,
            shard_size=shard_size,
            ray=ray,
            workers=workers,
            verb="segmented",
        )
        return
    from sigseg.inference.segment import load_segmenter, segment_files

    segmenter = load_segmenter(model, backend, device=device, threads=threads)
    failures = []
    for path, result, warned in segment_files(
        segmenter,
        inputs,
        out,
        fs=fs,
        channels=split_names(channels),
        samples=samples,
        plot=True if plot is None else plot,
    ):
        for message in warned:
            typer.echo(f"warning: {path}: {message}", err=True)
        if isinstance(result, str):
            failures.append(result)
        else:
            typer.echo(f"{path}: {', '.join(p.name for p in result)}")
    if failures:
        typer.echo(f"{len(failures)} of {len(inputs)} input(s) failed:", err=True)
        for line in failures:
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(1)
