"""``sigseg delineate``: waves (onset, peak, offset) of every lead of many recordings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    tables: bool = typer.Option(
        True,
        "--tables/--no-tables",
        help="Write the wave and interval tables (CSV, JSON); a day of ECG gives ~80 MB.",
    ),
) -> None:
    """Delineate each input; per lead (and fused with --combine-leads) write WFDB annotations
    in LUDB's convention, wave and interval tables (CSV, JSON) and a PNG plot. Recordings of
    any length stream through in bounded memory (a 24-hour Holter recording included). A bad
    input is reported and skipped; the command exits 1 if any input failed."""
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
                backend_,
                path,
                out,
                fs=fs,
                combine_leads=combine_leads,
                plot=plot,
                names=names,
                tables=tables,
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
    tables: bool = True,
) -> str:
    """Delineate one recording and write its outputs; returns a one-line summary. ``names``
    maps the output names already written in this run to their inputs: an input whose name
    is taken is refused rather than overwriting the earlier one's files.

    The recording is streamed (:func:`~sigseg.inference.delineate.iter_delineate`): waves,
    intervals and annotations are written as they come, so a 24-hour Holter recording needs
    no more memory than a 10-second one."""
    from sigseg.data.readers import open_signal, signal_format

    # --fs is for files that do not store their rate (CSV, NumPy); WFDB and EDF say theirs
    reader = open_signal(path, fs if signal_format(path) in ("csv", "numpy") else None)
    with reader:
        name = Path(reader.name).name or "record"
        if names is not None:
            if name in names:
                raise ValueError(
                    f"{path}: output name {name!r} is already taken by {names[name]} in this "
                    "run; delineate it into another --out folder"
                )
            names[name] = path
        return _delineate_reader(backend, reader, name, out, combine_leads, plot, tables)


def _delineate_reader(
    backend: Any,
    reader: Any,
    name: str,
    out: Path,
    combine_leads: bool,
    plot: bool,
    tables: bool,
) -> str:
    from contextlib import ExitStack

    from sigseg.inference.delineate import iter_delineate
    from sigseg.inference.streaming import BeatStream
    from sigseg.inference.windows import LONG_WINDOW, long_window_options
    from sigseg.outputs import (
        AnnotationWriter,
        TableWriter,
        annotation_extensions,
        plot_delineation,
        wave_rows,
    )

    # a recording longer than a long window runs in long windows with a minimal overlap
    # (about half the computation of the default windows); shorter ones as before
    model_samples = reader.num_samples * float(backend.sampling_rate) / reader.fs
    options = long_window_options(backend) if model_samples > LONG_WINDOW else None
    channels = list(reader.channels)
    # groups: each lead by index, and None for the fused delineation (its files say "all")
    groups: list[int | None] = [*range(len(channels)), *([None] if combine_leads else [])]
    extensions = [*annotation_extensions(channels), "all"]
    labels = [*channels, "all"]
    plot_samples = min(reader.num_samples, round(PLOT_SECONDS * reader.fs))
    plotted: list = []
    counts = dict.fromkeys(("P", "QRS", "T"), 0)
    with ExitStack() as files:
        annotations = {
            g: files.enter_context(
                AnnotationWriter(out, name, extensions[-1 if g is None else g], reader.fs)
            )
            for g in groups
        }
        if tables:
            wave_table = TableWriter(out / f"{name}_waves", WAVE_COLUMNS, groups)
            interval_table = TableWriter(out / f"{name}_intervals", INTERVAL_COLUMNS, groups)
            files.callback(interval_table.discard)
            files.callback(wave_table.discard)
            beats = {g: BeatStream(reader.fs) for g in groups}

        def write(group: int | None, waves: list, final: bool = False) -> None:
            annotations[group].add(waves)
            if not tables:
                return
            wave_table.add(group, wave_rows(waves, reader.fs, channels))
            rows = beats[group].finish() if final else beats[group].push(waves)
            lead = labels[-1 if group is None else group]
            interval_table.add(group, [{"lead": lead, **row} for row in rows])

        for waves in iter_delineate(
            backend, reader, combine_leads=combine_leads, window_options=options
        ):
            by_group: dict[int | None, list] = {}
            for w in waves:
                by_group.setdefault(w.lead, []).append(w)
                if w.lead is not None and w.kind in counts:
                    counts[w.kind] += 1
            for group, group_waves in by_group.items():
                write(group, group_waves)
            if plot:
                plotted += [w for w in waves if w.onset is not None and w.onset < plot_samples]
        for group in groups:
            write(group, [], final=True)
        if tables:
            wave_table.close()
            interval_table.close()
    if plot:
        plot_delineation(
            out / f"{name}.png",
            reader.read(0, plot_samples),
            reader.fs,
            sorted(plotted, key=lambda w: (w.lead is None, w.lead or 0)),  # leads, then fused
            channels,
            title=f"{name} (first {plot_samples / reader.fs:.0f} s)",
        )
    return f"{len(channels)} lead(s), {reader.num_samples / reader.fs:.1f} s, " + ", ".join(
        f"{v} {k}" for k, v in counts.items()
    )
