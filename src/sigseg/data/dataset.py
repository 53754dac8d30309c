"""A segmentation data set from a folder of signal files or a YAML manifest: every recording
read, labelled, checked and split up front, so a bad file stops a run before it writes any
output. This module finds the recordings, reads their labels, infers the task and builds the
:class:`SegDataset`; the manifest's keys are documented and parsed in
:mod:`sigseg.data.manifest`, and the split rules are in :mod:`sigseg.data.splits`.

**Folder convention.** Every signal file under the folder (recursively; WFDB ``.hea``, EDF/BDF,
WAV/FLAC, CSV/TSV, ARFF, NumPy, and gzip-compressed CSV/TSV/ARFF; hidden folders,
``<stem>_events.tsv`` sidecars and BIDS side tables such as ``participants.tsv`` are skipped)
is a recording named by its path relative to the folder without the extension
(``sub-01/night1``). A manifest's ``parts`` instead make each recording of several files
joined as channels, named by the text its ``{name}`` stands for. Its labels come from the
first of:

1. the manifest's ``events`` table (rows whose ``recording`` is the name);
2. a sidecar ``<stem>_events.tsv`` beside it (see :func:`~sigseg.data.events.read_events_tsv`);
3. a label column of a CSV/TSV or ARFF signal (``label``, or the manifest's ``label_column``);
4. WFDB annotations ``<record>.<annotator>`` (the manifest's ``annotator``);
5. the EDF+ annotations of an EDF file.

**Inference.** The classes are the labels found, sorted (``background`` first for
``segments``/``events``). The kind is ``events`` when every event is a point, else
``segments`` when ``gaps`` is ``background`` or a ``background`` label occurs, else
``states``. Without a ``splits`` rule, recordings are split by subject, every fifth group in
``val`` (see :mod:`sigseg.data.splits`).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sigseg.data.events import (
    SIDECAR_SUFFIX,
    events_frame,
    events_to_labels,
    read_edf_events,
    read_events_tsv,
    read_sample_intervals,
    read_wfdb_events,
)
from sigseg.data.manifest import EventsTable, Spec, read_spec, with_overrides
from sigseg.data.readers import (
    FORMATS,
    ChannelSelection,
    JoinedReader,
    SignalReader,
    open_signal,
    signal_format,
    signal_stem,
    signal_suffix,
)
from sigseg.data.record import Record
from sigseg.data.splits import SPLITS, split_recordings
from sigseg.tasks.base import Task, segmentation_task

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SPLITS", "SegDataset", "open_dataset"]

SIGNAL_SUFFIXES = frozenset(s for suffixes in FORMATS.values() for s in suffixes)
FOLDER_SUFFIXES = SIGNAL_SUFFIXES - {".dat", ".txt"}
"""Suffixes of the files a folder is searched for: a WFDB record counts once (its ``.hea``),
and ``.txt`` is left out, as a folder's notes are not signals (name such files in a
manifest's ``recordings``)."""
NOT_SIGNALS = re.compile(r"(^|_)(events|channels|electrodes|scans|sessions|participants)\.tsv$")
"""BIDS tables that sit beside signals and are not signals."""


@dataclass(frozen=True)
class SegDataset:
    """Recordings with labels for one :class:`~sigseg.tasks.base.Task`, split for training.

    * ``task``: classes, kind and channels shared by every recording.
    * ``source``: the folder or manifest it was opened from.
    * ``paths``: recording name -> its signal file (a WFDB record's ``.hea``).
    * ``splits``: split -> recording names (``train``, ``val``, ``test``, ``all``).

    Each :class:`~sigseg.data.record.Record` has ``(1, L)`` labels indexing
    ``task.classes`` (``None`` for a recording allowed to be unlabelled), the events as
    ``waves`` and the signal file in ``metadata["path"]``.
    """

    task: Task
    source: Path
    paths: Mapping[str, Path]
    splits: Mapping[str, tuple[str, ...]]
    _records: Mapping[str, Record] = field(repr=False)

    def names(self, split: str = "all") -> list[str]:
        """The recording names in ``split`` (sorted)."""
        if split not in SPLITS:
            raise ValueError(f"{self.source}: no split {split!r}; use one of {', '.join(SPLITS)}")
        return list(self.splits[split])

    def records(self, split: str = "all") -> list[Record]:
        """The records of ``split``, in name order."""
        return [self._records[name] for name in self.names(split)]

    def summary(self) -> dict[str, Any]:
        """What was read, for a person to check before training: the task, and per split the
        recordings, hours, rates and seconds of each class and of unlabelled signal."""
        splits = {}
        for split in SPLITS:
            records = self.records(split)
            seconds = dict.fromkeys(self.task.classes, 0.0)
            unlabelled = 0.0
            for record in records:
                if record.labels is None:
                    unlabelled += record.duration
                    continue
                counts = np.bincount(
                    record.labels[0][record.labels[0] >= 0], minlength=self.task.num_classes
                )
                for name, count in zip(self.task.classes, counts, strict=True):
                    seconds[name] += float(count) / record.fs
                unlabelled += float((record.labels[0] < 0).sum()) / record.fs
            splits[split] = {
                "recordings": len(records),
                "hours": sum(r.duration for r in records) / 3600,
                "rates_hz": sorted({float(r.fs) for r in records}),
                "events": sum(len(r.waves) for r in records),
                "seconds": seconds,
                "unlabelled_seconds": unlabelled,
            }
        return {"source": str(self.source), "task": self.task.to_dict(), "splits": splits}


# --- finding recordings ------------------------------------------------------------------------


def _signal_files(spec: Spec) -> dict[str, Path]:
    """Recording name -> signal file (the first part's, for ``parts``), for every recording of
    the data set but those ``exclude`` names."""
    names = _part_files(spec) if spec.parts else _named_files(spec)
    for pattern in spec.exclude:
        matched = [name for name in names if fnmatch.fnmatchcase(name, pattern)]
        if not matched:
            raise ValueError(f"{spec.source}: exclude: {pattern!r} matches no recording")
        for name in matched:
            del names[name]
    if not names:
        raise ValueError(f"{spec.source}: no signal files found under {spec.root}")
    return dict(sorted(names.items()))


def _part_files(spec: Spec) -> dict[str, Path]:
    """Recording name -> first part's file: the names the first pattern's ``{name}`` matches,
    each checked to have every other part."""
    first = next(iter(spec.parts.values()))
    head, tail = first.split("{name}")
    shape = re.compile(re.escape(head) + "([^/]+)" + re.escape(tail) + "$")
    names: dict[str, Path] = {}
    for file in sorted(spec.root.glob(first.replace("{name}", "*"))):
        match = shape.match(file.relative_to(spec.root).as_posix())
        if match and file.is_file():
            names[match.group(1)] = file
    if not names:
        raise ValueError(f"{spec.source}: parts: {first!r} matches no file under {spec.root}")
    for name in names:
        for part, pattern in spec.parts.items():
            file = spec.root / pattern.replace("{name}", name)
            if not file.is_file():
                raise ValueError(f"{file}: no such file (part {part} of recording {name!r})")
    return names


def _named_files(spec: Spec) -> dict[str, Path]:
    """Recording name (path under the root without extension) -> signal file."""
    if spec.recordings:
        files = [f for pattern in spec.recordings for f in _matches(spec, pattern)]
    else:
        files = [
            f
            for f in sorted(spec.root.rglob("*"))
            if signal_suffix(f) in FOLDER_SUFFIXES and _is_signal(f, spec)
        ]
    names: dict[str, Path] = {}
    for file in files:
        name = _name(file, spec)
        if name in names and names[name] != file:
            raise ValueError(
                f"{spec.source}: two files make recording {name!r}: {names[name]} and {file}"
            )
        names[name] = file
    return names


def _matches(spec: Spec, pattern: str) -> list[Path]:
    if Path(pattern).is_absolute():
        raise ValueError(f"{spec.source}: recordings: {pattern!r} must be relative to the root")
    found = sorted({_wfdb_header(f) for f in spec.root.glob(pattern) if f.is_file()})
    found = [f for f in found if _is_signal(f, spec)]
    if not found:
        raise ValueError(f"{spec.source}: recordings: {pattern!r} matches no signal file")
    return found


def _wfdb_header(path: Path) -> Path:
    """A WFDB record's signal file stands for its ``.hea`` header."""
    return path.with_suffix(".hea") if path.suffix.lower() == ".dat" else path


def _is_signal(path: Path, spec: Spec) -> bool:
    parts = path.relative_to(spec.root).parts
    return (
        not any(part.startswith(".") for part in parts)
        and not NOT_SIGNALS.search(path.name)
        and (spec.events is None or path.resolve() != spec.events.file.resolve())
        and path.is_file()
        and signal_suffix(path) in SIGNAL_SUFFIXES
    )


def _name(path: Path, spec: Spec) -> str:
    """``sub-01/night1`` for ``<root>/sub-01/night1.edf`` (or ``night1.csv.gz``)."""
    try:
        relative = path.relative_to(spec.root)
    except ValueError:
        raise ValueError(f"{spec.source}: {path} is not under the root {spec.root}") from None
    return relative.with_name(signal_stem(relative)).as_posix()


# --- reading one recording -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    """One recording read: its signal (no labels yet), its events (``None``: no labels) with
    where they came from, and the labels its source used before ``label_map``."""

    name: str
    path: Path
    record: Record
    events: pd.DataFrame | None
    labels_from: str
    source_labels: frozenset[str]


def _load(name: str, path: Path, spec: Spec, table: pd.DataFrame | None) -> _Loaded:
    with _open(name, path, spec) as reader:
        record = reader.to_record()
        sample_labels = reader.sample_labels
    record.name = name
    record.metadata["path"] = str(path)
    events, labels_from = _events_of(name, path, record.fs, spec, table, sample_labels)
    if events is None:
        return _Loaded(name, path, record, None, labels_from, frozenset())
    source_labels = frozenset(str(label) for label in events["label"])
    return _Loaded(name, path, record, _relabel(events, spec.label_map), labels_from, source_labels)


def _open(name: str, path: Path, spec: Spec) -> SignalReader:
    """The recording's signal: its file, or its ``parts`` joined (channels selected after)."""
    if not spec.parts:
        return _open_file(path, spec, spec.channels)
    readers: dict[str, SignalReader] = {}
    try:
        for part, pattern in spec.parts.items():
            readers[part] = _open_file(spec.root / pattern.replace("{name}", name), spec, None)
        return JoinedReader(readers, name, spec.channels)
    except BaseException:
        for reader in readers.values():
            reader.close()
        raise


def _open_file(path: Path, spec: Spec, channels: ChannelSelection | None) -> SignalReader:
    return open_signal(
        path,
        spec.fs,
        channels,
        label_column=spec.label_column,
        time_unit=spec.time_unit,
        column_names=spec.column_names,
    )


def _events_of(
    name: str,
    path: Path,
    fs: float,
    spec: Spec,
    table: pd.DataFrame | None,
    sample_labels: np.ndarray | None,
) -> tuple[pd.DataFrame | None, str]:
    """The recording's events from the first source that has them (see the module doc)."""
    fmt = signal_format(path)
    if table is not None and (table["recording"] == name).any():
        rows = table[table["recording"] == name]
        assert spec.events is not None
        return _in_seconds(rows, spec.events, fs), f"{spec.events.file} (recording {name})"
    sidecar = path.with_name(signal_stem(path) + SIDECAR_SUFFIX)
    if sidecar.is_file():
        return read_events_tsv(sidecar), str(sidecar)
    if sample_labels is not None:
        return _column_events(sample_labels, fs), f"{path} (column {spec.label_column})"
    if fmt == "wfdb" and spec.annotator:
        annotations = path.with_suffix(f".{spec.annotator}")
        if annotations.is_file():
            return read_wfdb_events(path, spec.annotator), str(annotations)
    if fmt == "edf":
        events = read_edf_events(path)
        if len(events):
            return events, f"{path} (EDF+ annotations)"
    return None, ""


def _column_events(values: np.ndarray, fs: float) -> pd.DataFrame:
    """Runs of one label in a per-sample label column as intervals; row ``n`` of the frame is
    the run starting at data row ``n``."""
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts, stops = np.r_[0, change], np.r_[change, len(values)]
    labelled = values[starts] != ""
    starts, stops = starts[labelled], stops[labelled]
    frame = events_frame(starts / fs, (stops - starts) / fs, values[starts])
    frame.index = starts + 1
    return frame


def _relabel(events: pd.DataFrame, label_map: Mapping[str, str | None]) -> pd.DataFrame:
    """Rename labels through ``label_map``; those mapped to ``None`` are dropped."""
    if not label_map:
        return events
    labels = [label_map.get(label, label) for label in events["label"]]
    keep = np.array([label is not None for label in labels], dtype=bool)
    return events.assign(label=labels)[keep]


def _no_labels(item: _Loaded, spec: Spec) -> str:
    """Why a recording has no labels, naming each source looked for."""
    looked = [f"no {signal_stem(item.path)}{SIDECAR_SUFFIX} beside it"]
    fmt = signal_format(item.path)
    if fmt in ("csv", "arff"):
        looked.append(f"no {spec.label_column!r} column")
    elif fmt == "wfdb":
        looked.append(f"no .{spec.annotator} annotations" if spec.annotator else "no annotator")
    elif fmt == "edf":
        looked.append("no EDF+ annotations")
    if spec.events is not None:
        looked.append(f"no rows in {spec.events.file.name}")
    return (
        f"{item.path}: recording {item.name!r} has no labels ({', '.join(looked)}); "
        "set unlabelled: allow in a manifest to keep it out of training"
    )


def _read_table(spec: Spec, names: Sequence[str]) -> pd.DataFrame | None:
    """The manifest's events table with a ``recording`` column, each row's recording checked
    against ``names`` (rows of recordings the manifest excludes are kept out). Intervals
    given in samples stay in samples here (see :func:`_in_seconds`)."""
    if spec.events is None:
        return None
    events = spec.events
    if events.samples is None:
        table = read_events_tsv(events.file)
    else:
        span = events.samples
        table = read_sample_intervals(
            events.file, events.columns, span.start, span.end, span.first, span.inclusive
        )
    if events.recording is not None:
        table["recording"] = _recording_names(table, events)
    if "recording" not in table.columns:
        raise ValueError(f"{events.file}: no recording column (it covers many recordings)")
    excluded = table["recording"].map(
        lambda name: any(fnmatch.fnmatchcase(name, p) for p in spec.exclude)
    )
    table = table[~excluded.astype(bool)]
    unknown = table.loc[~table["recording"].isin(list(names)), "recording"]
    if len(unknown):
        raise ValueError(
            f"{events.file}: row {unknown.index[0]}: recording {unknown.iloc[0]!r} is not in the "
            f"data set (names are paths under the root without extension, or parts' {{name}})"
        )
    return table


def _recording_names(table: pd.DataFrame, events: EventsTable) -> list[str]:
    """Each row's recording by the ``recording`` pattern over its cells."""
    assert events.recording is not None
    names = []
    for row, cells in zip(table.index, table.astype(str).to_dict("records"), strict=True):
        try:
            names.append(events.recording.format(**cells))
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"{events.file}: row {row}: recording pattern {events.recording!r} does not "
                f"apply ({type(exc).__name__}: {exc}; columns: {', '.join(table.columns)})"
            ) from None
    return names


def _in_seconds(rows: pd.DataFrame, events: EventsTable, fs: float) -> pd.DataFrame:
    """Rows of the events table with onsets and durations in seconds at ``fs`` Hz."""
    if events.samples is None:
        return rows
    return rows.assign(onset=rows["onset"] / fs, duration=rows["duration"] / fs)


# --- checks across recordings ------------------------------------------------------------------


def _check_channels(loaded: Sequence[_Loaded]) -> None:
    """Every recording has the first one's channels, in its order."""
    first = loaded[0]
    expected = first.record.channels
    for item in loaded[1:]:
        actual = item.record.channels
        missing = [c for c in expected if c not in actual]
        if missing:
            raise ValueError(
                f"{item.path}: no channel(s) {missing} that {first.path.name} has "
                f"(it has {actual}); every recording needs the same channels"
            )
        if actual != expected:
            raise ValueError(
                f"{item.path}: channels {actual} differ from {first.path.name}'s {expected}; "
                "select the common ones with channels"
            )


def _check_label_map(loaded: Sequence[_Loaded], spec: Spec) -> None:
    """Every ``label_map`` key names a label the data has (a typo would silently do nothing)."""
    seen = frozenset().union(*(item.source_labels for item in loaded))
    unused = [old for old in spec.label_map if old not in seen]
    if unused:
        raise ValueError(f"{spec.source}: label_map: {unused[0]!r} is no label in the data")


# --- the task ---------------------------------------------------------------------------------


def _task(spec: Spec, loaded: Sequence[_Loaded]) -> Task:
    """The task the data implies, with the manifest's choices taking precedence."""
    frames = [item.events for item in loaded if item.events is not None]
    labels = sorted({str(label) for frame in frames for label in frame["label"]})
    if not labels and spec.classes is None:
        raise ValueError(f"{spec.source}: no events in any recording, so no classes")
    point_only = all((frame["duration"] == 0).all() for frame in frames)
    kind = spec.kind
    if kind is None:
        if point_only:
            kind = "events"
        elif spec.gaps == "background" or "background" in labels:
            kind = "segments"
        else:
            kind = "states"
    if kind == "states" and spec.gaps == "background":
        raise ValueError(f"{spec.source}: gaps: background needs kind segments (states tile)")
    rules = dict(spec.task)
    try:
        return segmentation_task(
            spec.classes if spec.classes is not None else labels,
            kind,
            name=rules.pop("name", "segmentation"),
            channels=tuple(loaded[0].record.channels),
            gaps_are_background=spec.gaps == "background",
            **rules,
        )
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{spec.source}: {exc}") from None


def _labelled(item: _Loaded, task: Task) -> Record:
    record = item.record
    if item.events is None:
        return record
    labels, waves = events_to_labels(
        item.events, record.fs, record.num_samples, task, item.labels_from
    )
    return dataclasses.replace(
        record,
        labels=labels[None, :],
        waves=waves,
        metadata={**record.metadata, "labels_from": item.labels_from},
    )


# --- the entry point ---------------------------------------------------------------------------


def open_dataset(
    path: str | Path,
    *,
    fs: float | None = None,
    channels: ChannelSelection | None = None,
    classes: Sequence[str] | None = None,
    gaps: str | None = None,
) -> SegDataset:
    """Open a data set: a folder of signal files with their labels, or a YAML manifest (see
    :mod:`sigseg.data.manifest`). The keyword arguments, when given, override the manifest.

    Every recording is read, labelled and checked now, so a bad file, label or split fails
    here with a one-line error naming it, before any training output is written."""
    spec = with_overrides(read_spec(Path(path)), fs, channels, classes, gaps)
    files = _signal_files(spec)
    table = _read_table(spec, list(files))
    loaded = [_load(name, file, spec, table) for name, file in files.items()]
    for item in loaded:
        if item.events is None and spec.unlabelled != "allow":
            raise ValueError(_no_labels(item, spec))
    _check_channels(loaded)
    _check_label_map(loaded, spec)
    task = _task(spec, loaded)
    records = {item.name: _labelled(item, task) for item in loaded}
    labelled = [item.name for item in loaded if item.events is not None]
    if not labelled:
        raise ValueError(f"{spec.source}: no recording has labels")
    splits = {k: tuple(v) for k, v in split_recordings(spec, labelled).items()}
    return SegDataset(
        task=task,
        source=spec.source,
        paths={item.name: item.path for item in loaded},
        splits={**splits, "all": tuple(files)},
        _records=records,
    )
