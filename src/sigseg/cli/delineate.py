"""``sigseg delineate``: waves (onset, peak, offset) of every lead of many recordings."""

from __future__ import annotations

from pathlib import Path

import typer

WAVE_COLUMNS = ("lead", "kind", "onset", "peak", "offset", "onset_s", "peak_s", "offset_s")
INTERVAL_COLUMNS = (
    "lead",
    "qrs_onset",
    "qrs_peak",
    "qrs_offset",
    "rr_ms",
    "pr_ms",
    "qrs_ms",
    "qt_ms",
    "qtc_bazett_ms",
    "qtc_fridericia_ms",
)
PLOT_SECONDS = 10.0


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
) -> None:
    """Delineate each input; per lead (and fused with --combine-leads) write WFDB annotations
    in LUDB's convention, wave and interval tables (CSV, JSON) and a PNG plot. A bad input is
    reported and skipped; the command exits 1 if any input failed."""
    from rich.progress import track

    from sigseg.inference.backends import load_backend
    from sigseg.pretrained import resolve_model

    backend_ = load_backend(resolve_model(model), backend, device=device, threads=threads)
    _prepare_out(out)
    failures: list[str] = []
    names: dict[str, Path] = {}  # output name -> input, so no input overwrites another's files
    for path in track(inputs, description="delineating", transient=True):
        try:
            written = delineate_file(
                backend_, path, out, fs=fs, combine_leads=combine_leads, plot=plot, names=names
            )
            typer.echo(f"{path}: {written}")
        except (ValueError, OSError) as err:
            message = str(err)
            failures.append(message if str(path) in message else f"{path}: {message}")
    if failures:
        typer.echo(f"{len(failures)} of {len(inputs)} input(s) failed:", err=True)
        for line in failures:
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(1)


def _prepare_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"{out}: cannot create output folder ({err.strerror})") from None
    probe = out / ".sigseg-write-test"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ValueError(f"{out}: output folder is not writable ({err.strerror})") from None


def delineate_file(
    backend: object,
    path: Path,
    out: Path,
    *,
    fs: float | None,
    combine_leads: bool,
    plot: bool,
    names: dict[str, Path] | None = None,
) -> str:
    """Delineate one recording and write its outputs; returns a one-line summary. ``names``
    maps the output names already written in this run to their inputs: an input whose name
    is taken is refused rather than overwriting the earlier one's files."""
    from sigseg.data.readers import open_signal, signal_format
    from sigseg.inference.delineate import delineate_signal
    from sigseg.inference.waves import beat_intervals
    from sigseg.outputs import (
        annotation_extensions,
        plot_delineation,
        wave_rows,
        write_table,
        write_wfdb_annotations,
    )

    # --fs is for files that do not store their rate (CSV, NumPy); WFDB and EDF say theirs
    reader = open_signal(path, fs if signal_format(path) in ("csv", "numpy") else None)
    name = Path(reader.name).name or "record"
    if names is not None:
        if name in names:
            reader.close()
            raise ValueError(
                f"{path}: output name {name!r} is already taken by {names[name]} in this run; "
                "delineate it into another --out folder"
            )
        names[name] = path
    result = delineate_signal(
        backend, reader, channels=list(reader.channels), combine_leads=combine_leads
    )
    extensions = annotation_extensions(result.channels)
    groups: list[tuple[str, str, list]] = [
        (ch, extensions[i], result.lead_waves(i)) for i, ch in enumerate(result.channels)
    ]
    if result.fused is not None:
        groups.append(("all", "all", result.fused))
    intervals = []
    for lead, ext, waves in groups:
        write_wfdb_annotations(out, name, ext, waves, reader.fs)
        intervals += [{"lead": lead, **row} for row in beat_intervals(waves, reader.fs)]
    all_waves = result.waves + (result.fused or [])
    write_table(
        out / f"{name}_waves", wave_rows(all_waves, reader.fs, result.channels), WAVE_COLUMNS
    )
    write_table(out / f"{name}_intervals", intervals, INTERVAL_COLUMNS)
    if plot:
        n = min(reader.num_samples, round(PLOT_SECONDS * reader.fs))
        plot_delineation(
            out / f"{name}.png",
            reader.read(0, n),
            reader.fs,
            all_waves,
            result.channels,
            title=f"{name} (first {n / reader.fs:.0f} s)",
        )
    counts = {k: sum(w.kind == k for w in result.waves) for k in ("P", "QRS", "T")}
    return f"{len(result.channels)} lead(s), {reader.num_samples / reader.fs:.1f} s, " + ", ".join(
        f"{v} {k}" for k, v in counts.items()
    )
