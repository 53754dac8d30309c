"""A segmentation data set from a folder of signal files or a YAML manifest: every recording
read, labelled, checked and split up front, so a bad file stops a run before it writes any
output.

**Folder convention.** Every signal file under the folder (recursively; WFDB ``.hea``, EDF/BDF,
WAV/FLAC, CSV/TSV, NumPy; hidden folders, ``<stem>_events.tsv`` sidecars and BIDS side tables
such as ``participants.tsv`` are skipped) is a recording named by its path relative to the
folder without the extension (``sub-01/night1``). Its labels come from the first of:

1. the manifest's ``events`` table (rows whose ``recording`` is the name);
2. a sidecar ``<stem>_events.tsv`` beside it (see :func:`~sigseg.data.events.read_events_tsv`);
3. a label column of a CSV/TSV signal (``label``, or the manifest's ``label_column``);
4. WFDB annotations ``<record>.<annotator>`` (the manifest's ``annotator``);
5. the EDF+ annotations of an EDF file.

**Manifest** (YAML; relative paths are relative to the manifest's folder; an unknown key
anywhere is an error)::

    root: data                 # folder of the recordings (default: the manifest's folder)
    recordings: ["**/*.edf"]   # glob patterns under root (default: every signal file)
    fs: 100                    # Hz; files that store a rate must agree
    channels: [EEG Fpz-Cz, 1]  # names or 0-based indices, in model input order
    classes: [W, N1, N2, N3, R]  # output order (default: the labels found, sorted)
    label_map: {N4: N3, "Sleep stage ?": null}  # rename or merge; null = unlabelled
    kind: states               # segments | events | states (default: inferred)
    gaps: unlabelled           # background | unlabelled: samples no event covers
    label_column: stage        # the per-sample label column of CSV/TSV signals
    annotator: atr             # WFDB annotation file suffix
    events: all_events.tsv     # one events table with a recording column
    subject: '^(\\w+)_night'   # regex, one group: the subject id in a name (default: BIDS sub-)
    unlabelled: allow          # recordings without labels go only in "all" (default: error)
    task: {name: sleep, min_duration_s: {N1: 30}, merge_gap_s: 0, tolerance_s: 15,
           event_sigma_s: 0.02, sampling_rate: 100}
    splits: {train: ["sub-0[1-7]*"], val: ["sub-08*"], test: ["sub-09*"]}
    # or    {kfold: {k: 5, fold: 0, by: subject, seed: 0}}
    # or    {leave_out: {by: subject, group: "07"}}

**Inference.** The classes are the labels found, sorted (``background`` first for
``segments``/``events``). The kind is ``events`` when every event is a point, else
``segments`` when ``gaps`` is ``background`` or a ``background`` label occurs, else
``states``. The default split groups recordings by subject (the BIDS ``sub-`` entity, else
each recording is its own group), sorts the groups and puts every fifth, from the second on,
in ``val`` and the rest in ``train``; ``test`` is empty.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import re
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sigseg.data.events import (
    events_frame,
    events_to_labels,
    read_edf_events,
    read_events_tsv,
    read_wfdb_events,
)
from sigseg.data.readers import (
    FORMATS,
    LABEL_COLUMN,
    ChannelSelection,
    csv_columns,
    open_signal,
    read_label_column,
    signal_format,
)
from sigseg.data.record import Record
from sigseg.tasks.base import LABEL_KINDS, Task, segmentation_task

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SPLITS", "SegDataset", "open_dataset"]

SPLITS: tuple[str, ...] = ("train", "val", "test", "all")
MANIFEST_SUFFIXES = (".yaml", ".yml")
SIDECAR_SUFFIX = "_events.tsv"
SIGNAL_SUFFIXES = frozenset(s for suffixes in FORMATS.values() for s in suffixes)
FOLDER_SUFFIXES = SIGNAL_SUFFIXES - {".dat", ".txt"}
"""Suffixes of the files a folder is searched for: a WFDB record counts once (its ``.hea``),
and ``.txt`` is left out, as a folder's notes are not signals (name such files in a
manifest's ``recordings``)."""
NOT_SIGNALS = re.compile(r"(^|_)(events|channels|electrodes|scans|sessions|participants)\.tsv$")
"""BIDS tables that sit beside signals and are not signals."""
BIDS_SUBJECT = r"(?:^|[/_])sub-([A-Za-z0-9]+)"
VAL_EVERY = 5
GAPS: tuple[str, ...] = ("background", "unlabelled")
GROUPINGS: tuple[str, ...] = ("subject", "recording")
TASK_RULES: tuple[str, ...] = (
    "name",
    "min_duration_s",
    "merge_gap_s",
    "tolerance_s",
    "event_sigma_s",
    "sampling_rate",
)


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


# --- the specification: a manifest, or a folder's defaults -----------------------------------


@dataclass(frozen=True)
class _ExplicitSplits:
    patterns: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class _KFold:
    k: int = 5
    fold: int = 0
    by: str = "subject"
    seed: int = 0


@dataclass(frozen=True)
class _LeaveOut:
    group: str
    by: str = "subject"


_SplitRule = _ExplicitSplits | _KFold | _LeaveOut | None


@dataclass(frozen=True)
class _Spec:
    """What to read and how: a manifest's contents, or a folder's defaults."""

    source: Path
    root: Path
    recordings: tuple[str, ...] = ()
    fs: float | None = None
    channels: tuple[str | int, ...] | None = None
    classes: tuple[str, ...] | None = None
    label_map: Mapping[str, str | None] = field(default_factory=dict)
    kind: str | None = None
    gaps: str | None = None
    label_column: str = LABEL_COLUMN
    annotator: str | None = None
    events: Path | None = None
    subject: str | None = None
    unlabelled: str = "error"
    task: Mapping[str, Any] = field(default_factory=dict)
    splits: _SplitRule = None


def _spec(path: Path) -> _Spec:
    if path.is_dir():
        return _Spec(source=path, root=path)
    if path.suffix.lower() in MANIFEST_SUFFIXES and path.is_file():
        return _read_manifest(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such folder or manifest")
    raise ValueError(f"{path}: a data set is a folder or a YAML manifest (.yaml, .yml)")


def _read_manifest(path: Path) -> _Spec:
    import yaml

    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ValueError(f"{path}: not valid YAML ({first})") from exc
    if not isinstance(values, dict):
        raise ValueError(f"{path}: a manifest is a mapping of keys, got {type(values).__name__}")
    _check_keys(values, _MANIFEST_KEYS, path, "")
    here = path.parent
    parsed = {
        key: _MANIFEST_KEYS[key](value, _Where(path, key, here)) for key, value in values.items()
    }
    root = parsed.pop("root", here)
    return _Spec(source=path, root=root, **parsed)


@dataclass(frozen=True)
class _Where:
    """A manifest key being read: its file, the key's dotted path and the base folder."""

    manifest: Path
    key: str
    folder: Path

    def error(self, problem: str) -> ValueError:
        return ValueError(f"{self.manifest}: {self.key}: {problem}")

    def child(self, key: str) -> _Where:
        return dataclasses.replace(self, key=f"{self.key}.{key}")


def _check_keys(values: Mapping[Any, Any], known: Collection[str], manifest: Path, at: str) -> None:
    unknown = [str(k) for k in values if k not in known]
    if unknown:
        where = f"{at}." if at else ""
        raise ValueError(f"{manifest}: unknown key {where}{unknown[0]} (known: {', '.join(known)})")


def _folder(value: Any, where: _Where) -> Path:
    folder = where.folder / _text(value, where)
    if not folder.is_dir():
        raise where.error(f"{folder} is not a folder")
    return folder


def _file(value: Any, where: _Where) -> Path:
    file = where.folder / _text(value, where)
    if not file.is_file():
        raise where.error(f"{file}: no such file")
    return file


def _text(value: Any, where: _Where) -> str:
    if not isinstance(value, str) or not value:
        raise where.error(f"expected a non-empty string, got {value!r}")
    return value


def _texts(value: Any, where: _Where) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise where.error(f"expected a string or a non-empty list of strings, got {value!r}")
    return tuple(_text(item, where) for item in items)


def _rate(value: Any, where: _Where) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise where.error(f"expected a sampling rate > 0 Hz, got {value!r}")
    if not math.isfinite(value):
        raise where.error(f"expected a finite sampling rate, got {value!r}")
    return float(value)


def _channels(value: Any, where: _Where) -> tuple[str | int, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or any(isinstance(c, bool) or not isinstance(c, str | int) for c in items):
        raise where.error(f"expected channel names or indices, got {value!r}")
    return tuple(items)


def _classes(value: Any, where: _Where) -> tuple[str, ...]:
    classes = _texts([str(v) for v in value] if isinstance(value, list) else value, where)
    if len(set(classes)) != len(classes):
        raise where.error(f"class names must be unique: {list(classes)}")
    return classes


def _label_map(value: Any, where: _Where) -> dict[str, str | None]:
    if not isinstance(value, dict):
        raise where.error(f"expected a mapping old -> new (or null), got {value!r}")
    return {str(old): None if new is None else str(new) for old, new in value.items()}


def _choice(options: Sequence[str]) -> Callable[[Any, _Where], str]:
    def parse(value: Any, where: _Where) -> str:
        if value not in options:
            raise where.error(f"expected one of {', '.join(options)}, got {value!r}")
        return str(value)

    return parse


def _subject(value: Any, where: _Where) -> str:
    try:
        groups = re.compile(_text(value, where)).groups
    except re.error as exc:
        raise where.error(f"not a regular expression ({exc})") from None
    if groups != 1:
        raise where.error(f"the pattern needs exactly one group (the subject id), has {groups}")
    return str(value)


def _task_rules(value: Any, where: _Where) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise where.error(f"expected a mapping of task rules, got {value!r}")
    _check_keys(value, TASK_RULES, where.manifest, where.key)
    return dict(value)


def _splits(value: Any, where: _Where) -> _SplitRule:
    if not isinstance(value, dict) or not value:
        raise where.error("expected train/val/test patterns, kfold or leave_out")
    _check_keys(value, ("train", "val", "test", "kfold", "leave_out"), where.manifest, where.key)
    styles = [s for s in ("kfold", "leave_out") if s in value]
    if len(styles) > 1 or (styles and len(value) > 1):
        raise where.error("use one of train/val/test patterns, kfold or leave_out")
    if not styles:
        return _ExplicitSplits({k: _texts(v, where.child(k)) for k, v in value.items()})
    inner = where.child(styles[0])
    rule = value[styles[0]]
    if not isinstance(rule, dict):
        raise inner.error(f"expected a mapping, got {rule!r}")
    return _kfold(rule, inner) if styles[0] == "kfold" else _leave_out(rule, inner)


def _kfold(rule: dict[str, Any], where: _Where) -> _KFold:
    _check_keys(rule, ("k", "fold", "by", "seed"), where.manifest, where.key)
    numbers = {k: _count(rule[k], where.child(k)) for k in ("k", "fold", "seed") if k in rule}
    by = _choice(GROUPINGS)(rule.get("by", "subject"), where.child("by"))
    kfold = _KFold(by=by, **numbers)
    if kfold.k < 3:
        raise where.error(f"k must be at least 3 (test, val and train folds), got {kfold.k}")
    if kfold.fold >= kfold.k:
        raise where.error(f"fold must be below k={kfold.k}, got {kfold.fold}")
    return kfold


def _leave_out(rule: dict[str, Any], where: _Where) -> _LeaveOut:
    _check_keys(rule, ("by", "group"), where.manifest, where.key)
    if "group" not in rule:
        raise where.error("needs the group to leave out")
    by = _choice(GROUPINGS)(rule.get("by", "subject"), where.child("by"))
    return _LeaveOut(group=str(rule["group"]), by=by)


def _count(value: Any, where: _Where) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise where.error(f"expected a whole number >= 0, got {value!r}")
    return value


_MANIFEST_KEYS: dict[str, Callable[[Any, _Where], Any]] = {
    "root": _folder,
    "recordings": _texts,
    "fs": _rate,
    "channels": _channels,
    "classes": _classes,
    "label_map": _label_map,
    "kind": _choice(LABEL_KINDS),
    "gaps": _choice(GAPS),
    "label_column": _text,
    "annotator": _text,
    "events": _file,
    "subject": _subject,
    "unlabelled": _choice(("allow", "error")),
    "task": _task_rules,
    "splits": _splits,
}


# --- finding recordings ------------------------------------------------------------------------


def _signal_files(spec: _Spec) -> dict[str, Path]:
    """Recording name -> signal file, for every recording of the data set."""
    if spec.recordings:
        files = [f for pattern in spec.recordings for f in _matches(spec, pattern)]
    else:
        files = [
            f
            for f in sorted(spec.root.rglob("*"))
            if f.suffix.lower() in FOLDER_SUFFIXES and _is_signal(f, spec)
        ]
    names: dict[str, Path] = {}
    for file in files:
        name = _name(file, spec)
        if name in names and names[name] != file:
            raise ValueError(
                f"{spec.source}: two files make recording {name!r}: {names[name]} and {file}"
            )
        names[name] = file
    if not names:
        raise ValueError(f"{spec.source}: no signal files found under {spec.root}")
    return dict(sorted(names.items()))


def _matches(spec: _Spec, pattern: str) -> list[Path]:
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


def _is_signal(path: Path, spec: _Spec) -> bool:
    parts = path.relative_to(spec.root).parts
    return (
        not any(part.startswith(".") for part in parts)
        and not NOT_SIGNALS.search(path.name)
        and (spec.events is None or path.resolve() != spec.events.resolve())
        and path.is_file()
        and path.suffix.lower() in SIGNAL_SUFFIXES
    )


def _name(path: Path, spec: _Spec) -> str:
    """``sub-01/night1`` for ``<root>/sub-01/night1.edf``."""
    try:
        relative = path.relative_to(spec.root)
    except ValueError:
        raise ValueError(f"{spec.source}: {path} is not under the root {spec.root}") from None
    return relative.with_suffix("").as_posix()


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


def _load(name: str, path: Path, spec: _Spec, table: pd.DataFrame | None) -> _Loaded:
    with open_signal(path, spec.fs, spec.channels, label_column=spec.label_column) as reader:
        record = reader.to_record()
    record.name = name
    record.metadata["path"] = str(path)
    events, labels_from = _events_of(name, path, record.fs, spec, table)
    if events is None:
        return _Loaded(name, path, record, None, labels_from, frozenset())
    source_labels = frozenset(str(label) for label in events["label"])
    return _Loaded(name, path, record, _relabel(events, spec.label_map), labels_from, source_labels)


def _events_of(
    name: str, path: Path, fs: float, spec: _Spec, table: pd.DataFrame | None
) -> tuple[pd.DataFrame | None, str]:
    """The recording's events from the first source that has them (see the module doc)."""
    fmt = signal_format(path)
    if table is not None and (table["recording"] == name).any():
        return table[table["recording"] == name], f"{spec.events} (recording {name})"
    sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
    if sidecar.is_file():
        return read_events_tsv(sidecar), str(sidecar)
    if fmt == "csv" and spec.label_column in csv_columns(path):
        values = read_label_column(path, spec.label_column)
        return _column_events(values, fs), f"{path} (column {spec.label_column})"
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


def _no_labels(item: _Loaded, spec: _Spec) -> str:
    """Why a recording has no labels, naming each source looked for."""
    looked = [f"no {item.path.stem}{SIDECAR_SUFFIX} beside it"]
    fmt = signal_format(item.path)
    if fmt == "csv":
        looked.append(f"no {spec.label_column!r} column")
    elif fmt == "wfdb":
        looked.append(f"no .{spec.annotator} annotations" if spec.annotator else "no annotator")
    elif fmt == "edf":
        looked.append("no EDF+ annotations")
    if spec.events is not None:
        looked.append(f"no rows in {spec.events.name}")
    return (
        f"{item.path}: recording {item.name!r} has no labels ({', '.join(looked)}); "
        "set unlabelled: allow in a manifest to keep it out of training"
    )


def _read_table(spec: _Spec, names: Sequence[str]) -> pd.DataFrame | None:
    """The manifest's events table, each row's recording checked against ``names``."""
    if spec.events is None:
        return None
    table = read_events_tsv(spec.events)
    if "recording" not in table.columns:
        raise ValueError(f"{spec.events}: no recording column (it covers many recordings)")
    unknown = table.loc[~table["recording"].isin(list(names)), "recording"]
    if len(unknown):
        raise ValueError(
            f"{spec.events}: row {unknown.index[0]}: recording {unknown.iloc[0]!r} is not in the "
            f"data set (names are paths under the root without extension)"
        )
    return table


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


def _check_label_map(loaded: Sequence[_Loaded], spec: _Spec) -> None:
    """Every ``label_map`` key names a label the data has (a typo would silently do nothing)."""
    seen = frozenset().union(*(item.source_labels for item in loaded))
    unused = [old for old in spec.label_map if old not in seen]
    if unused:
        raise ValueError(f"{spec.source}: label_map: {unused[0]!r} is no label in the data")


# --- the task ---------------------------------------------------------------------------------


def _task(spec: _Spec, loaded: Sequence[_Loaded]) -> Task:
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


# --- splits ----------------------------------------------------------------------------------


def _group(name: str, by: str, spec: _Spec) -> str:
    """The group a recording belongs to: itself, or its subject."""
    if by == "recording":
        return name
    match = re.search(spec.subject or BIDS_SUBJECT, name)
    if match:
        return match.group(1)
    if spec.subject is not None:
        raise ValueError(f"{spec.source}: subject: {spec.subject!r} does not match {name!r}")
    return name


def _default_split(names: Sequence[str], by: str, spec: _Spec) -> tuple[list[str], list[str]]:
    """``(train, val)``: every fifth group from the second on is validation."""
    groups = sorted({_group(n, by, spec) for n in names})
    if len(groups) == 1:
        warnings.warn(
            f"{spec.source}: only one recording group ({groups[0]}): it is used for both "
            "training and validation, so validation scores are optimistic",
            stacklevel=4,
        )
        return list(names), list(names)
    val_groups = set(groups[1::VAL_EVERY])
    val = [n for n in names if _group(n, by, spec) in val_groups]
    return [n for n in names if n not in val], val


def _split(spec: _Spec, names: Sequence[str]) -> dict[str, list[str]]:
    """Split the labelled ``names`` by the manifest's rule (default: :func:`_default_split`)."""
    rule = spec.splits
    if isinstance(rule, _ExplicitSplits):
        return _explicit_split(rule, names, spec)
    if isinstance(rule, _KFold):
        return _kfold_split(rule, names, spec)
    if isinstance(rule, _LeaveOut):
        test = [n for n in names if _group(n, rule.by, spec) == rule.group]
        if not test:
            raise ValueError(f"{spec.source}: splits.leave_out: no {rule.by} {rule.group!r}")
        rest = [n for n in names if n not in test]
        if not rest:
            raise ValueError(f"{spec.source}: splits.leave_out: nothing is left to train on")
        train, val = _default_split(rest, rule.by, spec)
        return {"train": train, "val": val, "test": test}
    train, val = _default_split(names, "subject", spec)
    return {"train": train, "val": val, "test": []}


def _explicit_split(
    rule: _ExplicitSplits, names: Sequence[str], spec: _Spec
) -> dict[str, list[str]]:
    splits: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    placed: dict[str, str] = {}
    for split, patterns in rule.patterns.items():
        for pattern in patterns:
            matched = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
            if not matched:
                raise ValueError(
                    f"{spec.source}: splits.{split}: {pattern!r} matches no labelled recording"
                )
            for name in matched:
                if placed.get(name, split) != split:
                    raise ValueError(
                        f"{spec.source}: splits: recording {name!r} is in both "
                        f"{placed[name]} and {split}"
                    )
                if name not in splits[split]:
                    splits[split].append(name)
                placed[name] = split
    return {split: sorted(members) for split, members in splits.items()}


def _kfold_split(rule: _KFold, names: Sequence[str], spec: _Spec) -> dict[str, list[str]]:
    groups = sorted({_group(n, rule.by, spec) for n in names})
    if len(groups) < rule.k:
        raise ValueError(
            f"{spec.source}: splits.kfold: k={rule.k} folds but only {len(groups)} {rule.by}s"
        )
    order = np.random.default_rng(rule.seed).permutation(len(groups))
    fold_of = {groups[g]: position % rule.k for position, g in enumerate(order)}
    val_fold = (rule.fold + 1) % rule.k
    folds = [fold_of[_group(n, rule.by, spec)] for n in names]
    return {
        "train": [n for n, f in zip(names, folds, strict=True) if f not in (rule.fold, val_fold)],
        "val": [n for n, f in zip(names, folds, strict=True) if f == val_fold],
        "test": [n for n, f in zip(names, folds, strict=True) if f == rule.fold],
    }


# --- the entry point ---------------------------------------------------------------------------


def _overridden(
    spec: _Spec,
    fs: float | None,
    channels: ChannelSelection | None,
    classes: Sequence[str] | None,
    gaps: str | None,
) -> _Spec:
    """``spec`` with the arguments that are not ``None`` in place of its values."""

    def where(key: str) -> _Where:
        return _Where(spec.source, key, spec.root)

    if channels is not None and not isinstance(channels, str | int):
        channels = list(channels)
    overrides: dict[str, Any] = {
        "fs": None if fs is None else _rate(fs, where("fs")),
        "channels": None if channels is None else _channels(channels, where("channels")),
        "classes": None if classes is None else _classes(list(classes), where("classes")),
        "gaps": None if gaps is None else _choice(GAPS)(gaps, where("gaps")),
    }
    return dataclasses.replace(spec, **{k: v for k, v in overrides.items() if v is not None})


def open_dataset(
    path: str | Path,
    *,
    fs: float | None = None,
    channels: ChannelSelection | None = None,
    classes: Sequence[str] | None = None,
    gaps: str | None = None,
) -> SegDataset:
    """Open a data set: a folder of signal files with their labels, or a YAML manifest (see
    the module documentation). The keyword arguments, when given, override the manifest.

    Every recording is read, labelled and checked now, so a bad file, label or split fails
    here with a one-line error naming it, before any training output is written."""
    spec = _overridden(_spec(Path(path)), fs, channels, classes, gaps)
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
    splits = {k: tuple(v) for k, v in _split(spec, labelled).items()}
    return SegDataset(
        task=task,
        source=spec.source,
        paths={item.name: item.path for item in loaded},
        splits={**splits, "all": tuple(files)},
        _records=records,
    )
