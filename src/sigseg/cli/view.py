"""``sigseg view``: a recording with its events in the browser, served on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import typer


def view(
    input: Path = typer.Argument(
        ..., help="Signal file: WFDB, EDF/BDF, WAV/FLAC, CSV/TSV or NumPy."
    ),
    predictions: Path = typer.Option(
        None,
        "--predictions",
        help="<stem>_events.tsv, <name>_waves.csv, an output folder or a batch run folder.",
    ),
    reference: Path = typer.Option(
        None,
        "--reference",
        help="Reference events: as --predictions, or WFDB annotations <record>.<annotator>.",
    ),
    fs: float = typer.Option(None, "--fs", help="Sampling rate of files that store none (Hz)."),
    channels: str = typer.Option(None, "--channels", help="Channels by name or index."),
    tolerance: float = typer.Option(
        None, "--tolerance", help="Onset tolerance (s) for disagreements (default: the task's)."
    ),
    port: int = typer.Option(5006, "--port", help="Port on 127.0.0.1 (0: any free port)."),
    open_browser: bool = typer.Option(True, "--open/--no-open", help="Open a browser tab."),
    export: Path = typer.Option(
        None, "--export", help="Write a self-contained HTML page of --start..--end instead."
    ),
    start: float = typer.Option(0.0, "--start", help="Start of the exported stretch (s)."),
    end: float = typer.Option(None, "--end", help="End of the exported stretch (s)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --export."),
) -> None:
    """Serve a view of INPUT and its events on 127.0.0.1 (Ctrl-C stops it): pan and zoom
    from the whole recording down to single samples, predicted and reference events as
    coloured spans, classes toggled on and off, disagreements listed and jumped to. With
    --export FILE.html, write a self-contained page of a stretch instead."""
    from sigseg.cli.options import split_names
    from sigseg.optional import require

    require("bokeh", "sigseg view")
    require("tsdownsample", "sigseg view")
    from sigseg.view.recording import open_view

    if export is not None and export.exists() and not overwrite:
        raise ValueError(f"{export}: already exists; pass --overwrite to replace it")
    source = open_view(
        input,
        predictions,
        reference,
        fs=fs,
        channels=split_names(channels),
        tolerance_s=tolerance,
    )
    title = Path(source.reader.name).name
    try:
        if export is not None:
            from sigseg.view.export import export_html

            stop = source.duration if end is None else end
            export_html(source, export, start, stop, title)
            typer.echo(f"wrote {export} ({start:g}-{stop:g} s of {title})")
            return
        _serve(source, title, port, open_browser)
    finally:
        source.close()


def _serve(source: object, title: str, port: int, open_browser: bool) -> None:
    from sigseg.view.server import start_server

    running = start_server(source, title, port)  # type: ignore[arg-type]
    found = getattr(source, "disagreements", None)
    extra = "" if found is None else f", {len(found)} disagreement(s)"
    typer.echo(f"viewer: {running.url} ({title}{extra}; Ctrl-C stops it)", err=False)
    if open_browser:
        import webbrowser

        webbrowser.open(running.url)
    try:
        running.run()
    except KeyboardInterrupt:
        running.stop()
