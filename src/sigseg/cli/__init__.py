"""The ``sigseg`` command line: thin commands over the public API, one module each."""

from __future__ import annotations

import os
import sys

import typer

from sigseg.cli import (
    compare,
    data,
    delineate,
    evaluate,
    export,
    models,
    report,
    segment,
    train,
    view,
)

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="sigseg: 1D signal segmentation (ECG delineation and more).",
)


@app.callback()
def _root() -> None:
    """sigseg: 1D signal segmentation (ECG delineation and more)."""


app.command("models")(models.models)
app.command("train")(train.train)
app.command("export")(export.export)
app.command("segment")(segment.segment)
app.command("delineate")(delineate.delineate)
app.add_typer(data.app, name="data")
app.command("evaluate")(evaluate.evaluate)
app.command("compare")(compare.compare)
app.command("view")(view.view)
app.command("report")(report.report)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI. A user error (bad file, bad argument) prints one line, ``error: ...``, to
    stderr and exits with status 2; set ``SIGSEG_DEBUG=1`` for the full traceback."""
    try:
        app(args=argv, prog_name="sigseg")
    except (ValueError, OSError) as exc:
        if os.environ.get("SIGSEG_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
