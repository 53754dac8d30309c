"""``sigseg segment``: events of many recordings with any trained model."""

from __future__ import annotations

from pathlib import Path

import typer


def segment(
    model: str = typer.Argument(..., help="Checkpoint, ONNX file or pretrained model name."),
    inputs: list[Path] = typer.Argument(
        ..., help="Signal files: WFDB, EDF/BDF, WAV/FLAC, CSV/TSV or NumPy."
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
    plot: bool = typer.Option(True, "--plot/--no-plot", help="Write a PNG per input."),
    backend: str = typer.Option("torch", "--backend", help="torch or onnx."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    threads: int = typer.Option(None, "--threads", help="CPU threads for inference."),
) -> None:
    """Segment each input; write <stem>_events.tsv (BIDS events: onset, duration, label, peak,
    probability, channel), <stem>_gaps.tsv (its NaN/Inf stretches, where nothing is found)
    and a plot per input. A bad input is reported and skipped; the command exits 1 if any
    input failed."""
    from sigseg.cli.options import split_names
    from sigseg.inference.segment import load_segmenter, segment_files

    segmenter = load_segmenter(model, backend, device=device, threads=threads)
    failures = []
    for path, result, warned in segment_files(
        segmenter, inputs, out, fs=fs, channels=split_names(channels), samples=samples, plot=plot
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
