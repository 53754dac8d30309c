"""ECG delineation end to end, with a model by name: an in-memory signal to tables
(:func:`delineate`, the ``sigseg.delineate`` API), and recordings on disk to files
(:func:`delineate_files`, the library behind ``sigseg delineate``).

    >>> import sigseg
    >>> result = sigseg.delineate(ecg, fs=500.0, channels=["i", "ii"])  # doctest: +SKIP
    >>> result.intervals.groupby("lead")["qrs_ms"].median()  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sigseg.data.gaps import Gap
from sigseg.data.readers import open_signal, signal_format
from sigseg.data.record import Wave
from sigseg.inference.backends import BackendName, load_backend
from sigseg.inference.segment import prepare_output_folder
from sigseg.inference.sources import ArraySource
from sigseg.inference.windows import window_options_for
from sigseg.pretrained import resolve_model
from sigseg.tasks.ecg.delineate import Delineation, delineate_signal, iter_delineate
from sigseg.tasks.ecg.outputs import (
    GAP_COLUMNS,
    INTERVAL_COLUMNS,
    WAVE_COLUMNS,
    AnnotationWriter,
    TableWriter,
    annotation_extensions,
    gap_rows,
    plot_delineation,
    wave_rows,
)
from sigseg.tasks.ecg.streaming import BeatStream
from sigseg.tasks.ecg.waves import beat_intervals

PLOT_SECONDS = 10.0
"""Seconds of each recording drawn in its PNG."""


# --------------------------------------------------------------------------------------------
# an in-memory signal


@dataclass(frozen=True)
class DelineationTables:
    """What :func:`delineate` returns.

    * ``waves``: one row per wave, columns :data:`~sigseg.tasks.ecg.outputs.WAVE_COLUMNS` (``lead``,
      ``kind``, ``onset``, ``peak``, ``offset`` in samples and ``onset_s``, ``peak_s``,
      ``offset_s`` in seconds);
    * ``intervals``: one row per beat and lead, columns
      :data:`~sigseg.tasks.ecg.outputs.INTERVAL_COLUMNS` (the QRS complex's samples, ``rr_ms``,
      ``pr_ms``, ``qrs_ms``, ``qt_ms``, ``qtc_bazett_ms``, ``qtc_fridericia_ms``);
    * ``delineation``: the :class:`~sigseg.tasks.ecg.delineate.Delineation` they come from
      (probabilities and :class:`~sigseg.data.record.Wave` s);
    * ``gaps``: one row per stretch of a lead with no signal (NaN/Inf, or a lead stuck at one
      value: no waves there), columns :data:`~sigseg.tasks.ecg.outputs.GAP_COLUMNS`.

    Samples are nullable integers and times floats, missing where a boundary was not found;
    ``lead`` is the channel name, ``all`` for the fused delineation."""

    waves: pd.DataFrame
    intervals: pd.DataFrame
    delineation: Delineation
    gaps: pd.DataFrame


def delineate(
    signal: np.ndarray,
    fs: float,
    model: str | os.PathLike[str] | None = None,
    *,
    channels: Sequence[str] | None = None,
    combine_leads: bool = False,
    backend: BackendName = "torch",
) -> DelineationTables:
    """Waves (P, QRS, T) and per-beat intervals of every lead of an ECG.

    ``signal`` is ``(C, L)`` (or ``(L,)``) at ``fs`` Hz, resampled to the model's rate and
    back. ``model`` is a pretrained name, a checkpoint or an ONNX file (``None``: the default
    pretrained model); ``channels`` names the leads (default ``ch0``, ``ch1``...);
    ``combine_leads`` adds the fused record-level delineation (lead ``all``). The windows
    are those ``sigseg delineate`` uses, so both give the same waves."""
    runner = load_backend(resolve_model(None if model is None else str(model)), backend)
    source = ArraySource(signal, fs)
    if channels is not None and len(channels) != source.num_channels:
        raise ValueError(f"{len(channels)} channel names for {source.num_channels} leads")
    result = delineate_signal(
        runner,
        source,
        channels=None if channels is None else list(channels),
        combine_leads=combine_leads,
        window_options=window_options_for(runner, source.num_samples, source.fs),
    )
    groups = [(name, result.lead_waves(lead)) for lead, name in enumerate(result.channels)]
    if result.fused is not None:
        groups.append(("all", result.fused))
    waves = [w for _, lead_waves in groups for w in lead_waves]
    intervals = [
        {"lead": name, **row}
        for name, lead_waves in groups
        for row in beat_intervals(lead_waves, result.fs)
    ]
    return DelineationTables(
        _frame(wave_rows(waves, result.fs, result.channels), WAVE_COLUMNS),
        _frame(intervals, INTERVAL_COLUMNS),
        result,
        _frame(gap_rows(result.gaps, result.fs, _lead_names(result, source)), GAP_COLUMNS),
    )


def _lead_names(result: Delineation, source: ArraySource) -> list[str]:
    """A name per input lead (a multi-lead model gives one probability map for them all)."""
    if len(result.channels) == source.num_channels:
        return result.channels
    return [f"ch{i}" for i in range(source.num_channels)]


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """``rows`` as a DataFrame: times (``*_s``, ``*_ms``) as floats, the other numbers (sample
    indices) as nullable integers, so a missing value is NaN or ``<NA>`` in a typed column."""
    times = [c for c in columns if c.endswith(("_s", "_ms"))]
    samples = [c for c in columns if c not in times and c not in ("lead", "kind")]
    frame = pd.DataFrame(rows, columns=list(columns))
    return frame.astype({**dict.fromkeys(samples, "Int64"), **dict.fromkeys(times, "float64")})


# --------------------------------------------------------------------------------------------
# recordings on disk


NOT_ECG = re.compile(
    r"eeg|eog|emg|resp|spo2|sao2|pleth|ppg|airflow|nasal|thor|abdo|pcg|acc|gyr|temp|"
    r"^(fp|af|fc|ft|cp|tp|po|[fpot])[0-9z]{1,2}\b|^cz\b",
    re.IGNORECASE,
)
"""Channel names of other modalities (polysomnography, EEG 10-20 electrodes, motion; not
C1-C6, which some notations use for the chest leads):
delineating them is almost surely a mistake, so it is said (the run goes on)."""


@dataclass(frozen=True)
class FileResult:
    """One input of :func:`delineate_files`: ``summary`` (what was found) when it was
    delineated, else ``error`` (a message that names the input)."""

    path: Path
    summary: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()


def delineate_files(
    backend: Any,
    inputs: Iterable[Path],
    out: Path,
    *,
    fs: float | None = None,
    combine_leads: bool = False,
    plot: bool = True,
    tables: bool = True,
    json_tables: bool = False,
) -> Iterator[FileResult]:
    """Delineate each input into ``out`` (:func:`delineate_file`) and yield its result as it
    ends. ``out`` is created and checked writable first, before any input is read. An input
    that cannot be read or delineated (``ValueError``, ``OSError``) yields its error and the
    others go on; so does one whose output name an earlier input has taken. ``json_tables``
    writes the tables as JSON too."""
    prepare_output_folder(out)
    return _each_file(backend, inputs, out, fs, combine_leads, plot, tables, json_tables)


def _each_file(
    backend: Any,
    inputs: Iterable[Path],
    out: Path,
    fs: float | None,
    combine_leads: bool,
    plot: bool,
    tables: bool,
    json_tables: bool,
) -> Iterator[FileResult]:
    names: dict[str, Path] = {}  # output name -> input, so no input overwrites another's files
    for path in inputs:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                summary = delineate_file(
                    backend,
                    path,
                    out,
                    fs=fs,
                    combine_leads=combine_leads,
                    plot=plot,
                    names=names,
                    tables=tables,
                    json_tables=json_tables,
                )
        except (ValueError, OSError) as err:
            message = str(err)
            yield FileResult(path, error=message if str(path) in message else f"{path}: {message}")
        else:
            said = tuple(str(w.message) for w in caught if issubclass(w.category, UserWarning))
            yield FileResult(path, summary=summary, warnings=said)


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
    json_tables: bool = False,
) -> str:
    """Delineate one recording and write its outputs; returns a one-line summary. ``names``
    maps the output names already written in this run to their inputs: an input whose name
    is taken is refused rather than overwriting the earlier one's files.

    The recording is streamed (:func:`~sigseg.tasks.ecg.delineate.iter_delineate`): waves,
    intervals, gaps and annotations are written as they come, so a 24-hour Holter recording
    needs no more memory than a 10-second one. Stretches of a lead with no signal (NaN/Inf,
    or one value for 1 s or more) get no waves; they are listed in ``<name>_gaps.csv`` (with
    the tables; ``json_tables`` adds a ``.json`` copy of each table), hatched in the plot and
    counted in the summary."""
    # --fs is for files that do not store their rate (CSV, NumPy); WFDB and EDF say theirs
    needs_fs = signal_format(path) in ("csv", "numpy")
    reader = open_signal(path, fs if needs_fs else None, allow_gaps=True)
    with reader:
        name = Path(reader.name).name or "record"
        if names is not None:
            if name in names:
                raise ValueError(
                    f"{path}: output name {name!r} is already taken by {names[name]} in this "
                    "run; delineate it into another --out folder"
                )
            names[name] = path
        foreign = [c for c in reader.channels if NOT_ECG.search(c)]
        if foreign:
            warnings.warn(
                f"channel(s) {', '.join(foreign)} do not look like ECG leads; delineate is for "
                "ECG (segment other signals with `sigseg segment` and a model of their task)",
                UserWarning,
                stacklevel=2,
            )
        return _delineate_reader(
            backend, reader, name, out, combine_leads, plot, tables, json_tables
        )


def _delineate_reader(
    backend: Any,
    reader: Any,
    name: str,
    out: Path,
    combine_leads: bool,
    plot: bool,
    tables: bool,
    json_tables: bool,
) -> str:
    # a recording longer than a long window runs in long windows with a minimal overlap
    options = window_options_for(backend, reader.num_samples, reader.fs)
    channels = list(reader.channels)
    # groups: each lead by index, and None for the fused delineation (its files say "all")
    groups: list[int | None] = [*range(len(channels)), *([None] if combine_leads else [])]
    extensions = [*annotation_extensions(channels), "all"]
    labels = [*channels, "all"]
    plot_samples = min(reader.num_samples, round(PLOT_SECONDS * reader.fs))
    plotted: list[Wave] = []
    plotted_gaps: list[Gap] = []
    counts = dict.fromkeys(("P", "QRS", "T"), 0)
    gap_seconds = np.zeros(len(channels))
    gap_count = 0
    with ExitStack() as files:
        annotations = {
            g: files.enter_context(
                AnnotationWriter(out, name, extensions[-1 if g is None else g], reader.fs)
            )
            for g in groups
        }
        if tables:
            as_json = {"json_too": json_tables}
            wave_table = TableWriter(out / f"{name}_waves", WAVE_COLUMNS, groups, **as_json)
            interval_table = TableWriter(
                out / f"{name}_intervals", INTERVAL_COLUMNS, groups, **as_json
            )
            gap_table = TableWriter(
                out / f"{name}_gaps", GAP_COLUMNS, range(len(channels)), **as_json
            )
            files.callback(gap_table.discard)
            files.callback(interval_table.discard)
            files.callback(wave_table.discard)
            beats = {g: BeatStream(reader.fs) for g in groups}

        def write(group: int | None, waves: list[Wave], final: bool = False) -> None:
            annotations[group].add(waves)
            if not tables:
                return
            wave_table.add(group, wave_rows(waves, reader.fs, channels))
            rows = beats[group].finish() if final else beats[group].push(waves)
            lead = labels[-1 if group is None else group]
            interval_table.add(group, [{"lead": lead, **row} for row in rows])

        def gaps_ended(gaps: list[Gap]) -> None:
            nonlocal gap_count
            gap_count += len(gaps)
            for g in gaps:
                gap_seconds[g.lead] += g.num_samples / reader.fs
                if tables:
                    gap_table.add(g.lead, gap_rows([g], reader.fs, channels))
            if plot:
                plotted_gaps.extend(g for g in gaps if g.onset < plot_samples)

        for waves in iter_delineate(
            backend, reader, combine_leads=combine_leads, window_options=options, on_gaps=gaps_ended
        ):
            by_group: dict[int | None, list[Wave]] = {}
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
            gap_table.close()
    if plot:
        plot_delineation(
            out / f"{name}.png",
            reader.read(0, plot_samples),
            reader.fs,
            sorted(plotted, key=lambda w: (w.lead is None, w.lead or 0)),  # leads, then fused
            channels,
            title=f"{name} (first {plot_samples / reader.fs:.0f} s)",
            gaps=plotted_gaps,
        )
    summary = f"{len(channels)} lead(s), {reader.num_samples / reader.fs:.1f} s, " + ", ".join(
        f"{v} {k}" for k, v in counts.items()
    )
    return summary + _gap_summary(gap_count, gap_seconds, channels)


def _gap_summary(count: int, seconds: np.ndarray, channels: Sequence[str]) -> str:
    """``, 2 gaps (1.6 s) in lead v1`` for the summary line (ms under 0.1 s); empty without
    gaps."""
    if not count:
        return ""
    leads = [channels[i] for i in np.flatnonzero(seconds > 0).tolist()]
    total = float(seconds.sum())
    return (
        f", {count} gap{'s' if count > 1 else ''} ({total:.{1 if total >= 0.1 else 3}f} s) in "
        f"lead{'s' if len(leads) > 1 else ''} {', '.join(leads)}"
    )
