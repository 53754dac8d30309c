"""``sigseg report``: one HTML page (and PNG figures) per recording of a run's results."""

from __future__ import annotations

from pathlib import Path

import typer


def report(
    results: Path = typer.Argument(
        ...,
        help="A batch run folder, an output folder of segment/delineate, or one "
        "<stem>_events.tsv / <name>_waves.csv.",
    ),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    recording: Path = typer.Option(
        None,
        "--recording",
        help="The signal file, for figures measured on it (saccade main sequence), when the "
        "results do not name it.",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a report in --out."),
) -> None:
    """Write a report per recording (figures declared by its task: ECG intervals over time
    and their distributions, eye-movement main sequence, time in each class, event counts
    and durations) as DIR/<recording>/report.html with PNGs, and DIR/index.html."""
    from sigseg.report.page import write_report
    from sigseg.results import load_results

    written = write_report(load_results(results), out, signal=recording, overwrite=overwrite)
    for item in written:
        typer.echo(f"{item.name}: {item.page} ({len(item.figures)} figures, {item.events} events)")
    typer.echo(f"index: {out / 'index.html'}")
