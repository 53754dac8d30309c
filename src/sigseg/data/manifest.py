"""The YAML manifest of a data set: reading it, checking its keys and parsing their values into
a :class:`Spec` (what to read and how), which a folder without a manifest gets as defaults.

**Manifest** (YAML; relative paths are relative to the manifest's folder; an unknown key
anywhere is an error)::

    base: ../sleep.yaml        # another manifest this one extends: its keys, these replacing
                               # them (its relative paths stay relative to its own folder)
    root: data                 # folder of the recordings (default: the manifest's folder)
    recordings: ["**/*.edf"]   # glob patterns under root (default: every signal file)
    exclude: ["sub-03/*"]      # recording names (shell patterns) left out of the data set
                               # ([] in a manifest with a base takes the base's back in)
    parts:                     # instead of recordings: one recording = several files of equal
      acc: raw/acc_{name}.txt  #   length joined as channels <part>_<channel>; {name} (no
      gyro: raw/gyro_{name}.txt  # slash) is the recording's name, the first part finds them
    fs: 100                    # Hz; files that store a rate must agree
    time_unit: ms              # unit of a CSV/ARFF time column: s, ms, us, ns (default: s for
                               # CSV/TSV, us for ARFF, as the eye-movement tools write it)
    column_names: [x, y, z]    # names of a CSV/TSV file's columns when it has no header row
    channels: [EEG Fpz-Cz, 1]  # names or 0-based indices, in model input order
    classes: [W, N1, N2, N3, R]  # output order (default: the labels found, sorted)
    label_map: {N4: N3, "Sleep stage ?": null}  # rename or merge; null = unlabelled
    kind: states               # segments | events | states (default: inferred)
    gaps: unlabelled           # background | unlabelled: samples no event covers
    label_column: stage        # the per-sample label column of CSV/TSV signals
    annotator: atr             # WFDB annotation file suffix
    events: all_events.tsv     # one events table with a recording column, or a table
                               # described: columns of a header-less file, how a row names its
                               # recording (a format string over its cells) and intervals in
                               # samples (end inclusive unless inclusive: false; first = the
                               # index of a recording's first sample)
    # events: {file: labels.txt, columns: [exp, user, label, start, end],
    #          recording: "exp{exp:0>2}_user{user:0>2}",
    #          samples: {start: start, end: end, first: 1}}
    subject: '^(\\w+)_night'   # regex, one group: the subject id in a name (default: BIDS sub-)
    unlabelled: allow          # recordings without labels go only in "all" (default: error)
    task: {name: sleep, min_duration_s: {N1: 30}, merge_gap_s: 0, tolerance_s: 15,
           event_sigma_s: 0.02, sampling_rate: 100, monitor: val_macro_f1,
           augmentation: generic}
    splits: {train: ["sub-0[1-7]*"], val: ["sub-08*"], test: ["sub-09*"]}
    # or    {kfold: {k: 5, fold: 0, by: subject, seed: 0}}
    # or    {leave_out: {by: subject, group: "07"}}

How the recordings are found and labelled and the task inferred is in
:mod:`sigseg.data.dataset`; how the ``splits`` rules (and the default split) place recordings
is in :mod:`sigseg.data.splits`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigseg.data.readers import LABEL_COLUMN, TIME_UNITS, ChannelSelection
from sigseg.tasks.base import LABEL_KINDS

__all__ = [
    "GAPS",
    "GROUPINGS",
    "MANIFEST_SUFFIXES",
    "TASK_RULES",
    "EventsTable",
    "ExplicitSplits",
    "KFold",
    "LeaveOut",
    "SampleSpan",
    "Spec",
    "SplitRule",
    "read_spec",
    "with_overrides",
]

MANIFEST_SUFFIXES = (".yaml", ".yml")
GAPS: tuple[str, ...] = ("background", "unlabelled")
GROUPINGS: tuple[str, ...] = ("subject", "recording")
TASK_RULES: tuple[str, ...] = (
    "name",
    "min_duration_s",
    "merge_gap_s",
    "tolerance_s",
    "event_sigma_s",
    "sampling_rate",
    "monitor",
    "augmentation",
)


# --- the specification: a manifest, or a folder's defaults -----------------------------------


@dataclass(frozen=True)
class ExplicitSplits:
    patterns: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class KFold:
    k: int = 5
    fold: int = 0
    by: str = "subject"
    seed: int = 0


@dataclass(frozen=True)
class LeaveOut:
    group: str
    by: str = "subject"


SplitRule = ExplicitSplits | KFold | LeaveOut | None


@dataclass(frozen=True)
class SampleSpan:
    """Where an events table gives each interval in samples: the columns of its first and
    last sample, the index of a recording's first sample (``1`` for MATLAB-style tables) and
    whether the last is inclusive."""

    start: str
    end: str
    first: int = 0
    inclusive: bool = True


@dataclass(frozen=True)
class EventsTable:
    """An events table for many recordings: the file, the names of its columns when it has no
    header row, how a row names its recording (a ``str.format`` pattern over its cells;
    ``None``: its ``recording`` column) and, when intervals are in samples, their columns."""

    file: Path
    columns: tuple[str, ...] | None = None
    recording: str | None = None
    samples: SampleSpan | None = None


@dataclass(frozen=True)
class Spec:
    """What to read and how: a manifest's contents, or a folder's defaults."""

    source: Path
    root: Path
    recordings: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    parts: Mapping[str, str] = field(default_factory=dict)
    fs: float | None = None
    time_unit: str | None = None
    column_names: tuple[str, ...] | None = None
    channels: tuple[str | int, ...] | None = None
    classes: tuple[str, ...] | None = None
    label_map: Mapping[str, str | None] = field(default_factory=dict)
    kind: str | None = None
    gaps: str | None = None
    label_column: str = LABEL_COLUMN
    annotator: str | None = None
    events: EventsTable | None = None
    subject: str | None = None
    unlabelled: str = "error"
    task: Mapping[str, Any] = field(default_factory=dict)
    splits: SplitRule = None


def read_spec(path: Path) -> Spec:
    if path.is_dir():
        return Spec(source=path, root=path)
    if path.suffix.lower() in MANIFEST_SUFFIXES and path.is_file():
        return _read_manifest(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such folder or manifest")
    raise ValueError(f"{path}: a data set is a folder or a YAML manifest (.yaml, .yml)")


def _read_manifest(path: Path, extending: tuple[Path, ...] = ()) -> Spec:
    import yaml

    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ValueError(f"{path}: not valid YAML ({first})") from exc
    if not isinstance(values, dict):
        raise ValueError(f"{path}: a manifest is a mapping of keys, got {type(values).__name__}")
    _check_keys(values, [*_MANIFEST_KEYS, "base"], path, "")
    here = path.parent
    parsed = {
        key: _MANIFEST_KEYS[key](value, _Where(path, key, here))
        for key, value in values.items()
        if key != "base"
    }
    if "base" in values:
        base = _base(values["base"], _Where(path, "base", here), (*extending, path.resolve()))
        spec = dataclasses.replace(base, source=path, **parsed)
    else:
        spec = Spec(source=path, root=parsed.pop("root", here), **parsed)
    if spec.parts and spec.recordings:
        raise ValueError(f"{path}: use recordings or parts, not both")
    return spec


def _base(value: Any, where: _Where, extending: tuple[Path, ...]) -> Spec:
    """The manifest ``value`` names, read as the base of the one being read."""
    base = _file(value, where)
    if base.resolve() in extending:
        raise where.error(f"{base} extends itself (through {', '.join(map(str, extending))})")
    if base.suffix.lower() not in MANIFEST_SUFFIXES:
        raise where.error(f"{base} is not a YAML manifest (.yaml, .yml)")
    return _read_manifest(base, extending)


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


def _patterns(value: Any, where: _Where) -> tuple[str, ...]:
    """Shell patterns; an empty list is allowed (it undoes a base manifest's)."""
    return () if value == [] else _texts(value, where)


def _names(value: Any, where: _Where) -> tuple[str, ...]:
    names = _texts(value, where)
    if len(set(names)) != len(names):
        raise where.error(f"names must be unique: {list(names)}")
    return names


def _parts(value: Any, where: _Where) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise where.error(f"expected a mapping part -> file pattern with {{name}}, got {value!r}")
    parts = {}
    for part, pattern in value.items():
        text = _text(pattern, where.child(str(part)))
        if not re.fullmatch(r"[A-Za-z0-9]+", str(part)):
            raise where.error(f"part names are letters and digits (they prefix channels): {part!r}")
        if text.count("{name}") != 1 or text.replace("{name}", "").count("{") > 0:
            raise where.child(str(part)).error(f"needs {{name}} exactly once, got {text!r}")
        if Path(text).is_absolute():
            raise where.child(str(part)).error(f"{text!r} must be relative to the root")
        parts[str(part)] = text
    return parts


def _events(value: Any, where: _Where) -> EventsTable:
    if not isinstance(value, dict):
        return EventsTable(_file(value, where))
    _check_keys(value, ("file", "columns", "recording", "samples"), where.manifest, where.key)
    if "file" not in value:
        raise where.error("needs the file of the table")
    if "columns" in value and "samples" not in value:
        raise where.error("columns (a table without a header row) needs samples: {start, end}")
    samples = value.get("samples")
    return EventsTable(
        file=_file(value["file"], where.child("file")),
        columns=_names(value["columns"], where.child("columns")) if "columns" in value else None,
        recording=_text(value["recording"], where.child("recording"))
        if "recording" in value
        else None,
        samples=None if samples is None else _sample_span(samples, where.child("samples")),
    )


def _sample_span(value: Any, where: _Where) -> SampleSpan:
    if not isinstance(value, dict):
        raise where.error(f"expected {{start: column, end: column, first: 0 or 1}}, got {value!r}")
    _check_keys(value, ("start", "end", "first", "inclusive"), where.manifest, where.key)
    missing = [k for k in ("start", "end") if k not in value]
    if missing:
        raise where.error(f"needs the {missing[0]} column")
    first = _count(value.get("first", 0), where.child("first"))
    inclusive = value.get("inclusive", True)
    if not isinstance(inclusive, bool):
        raise where.child("inclusive").error(f"expected true or false, got {inclusive!r}")
    return SampleSpan(
        _text(value["start"], where.child("start")),
        _text(value["end"], where.child("end")),
        first,
        inclusive,
    )


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


def _splits(value: Any, where: _Where) -> SplitRule:
    if not isinstance(value, dict) or not value:
        raise where.error("expected train/val/test patterns, kfold or leave_out")
    _check_keys(value, ("train", "val", "test", "kfold", "leave_out"), where.manifest, where.key)
    styles = [s for s in ("kfold", "leave_out") if s in value]
    if len(styles) > 1 or (styles and len(value) > 1):
        raise where.error("use one of train/val/test patterns, kfold or leave_out")
    if not styles:
        return ExplicitSplits({k: _texts(v, where.child(k)) for k, v in value.items()})
    inner = where.child(styles[0])
    rule = value[styles[0]]
    if not isinstance(rule, dict):
        raise inner.error(f"expected a mapping, got {rule!r}")
    return _kfold(rule, inner) if styles[0] == "kfold" else _leave_out(rule, inner)


def _kfold(rule: dict[str, Any], where: _Where) -> KFold:
    _check_keys(rule, ("k", "fold", "by", "seed"), where.manifest, where.key)
    numbers = {k: _count(rule[k], where.child(k)) for k in ("k", "fold", "seed") if k in rule}
    by = _choice(GROUPINGS)(rule.get("by", "subject"), where.child("by"))
    kfold = KFold(by=by, **numbers)
    if kfold.k < 3:
        raise where.error(f"k must be at least 3 (test, val and train folds), got {kfold.k}")
    if kfold.fold >= kfold.k:
        raise where.error(f"fold must be below k={kfold.k}, got {kfold.fold}")
    return kfold


def _leave_out(rule: dict[str, Any], where: _Where) -> LeaveOut:
    _check_keys(rule, ("by", "group"), where.manifest, where.key)
    if "group" not in rule:
        raise where.error("needs the group to leave out")
    by = _choice(GROUPINGS)(rule.get("by", "subject"), where.child("by"))
    return LeaveOut(group=str(rule["group"]), by=by)


def _count(value: Any, where: _Where) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise where.error(f"expected a whole number >= 0, got {value!r}")
    return value


_MANIFEST_KEYS: dict[str, Callable[[Any, _Where], Any]] = {
    "root": _folder,
    "recordings": _texts,
    "exclude": _patterns,
    "parts": _parts,
    "fs": _rate,
    "time_unit": _choice(tuple(TIME_UNITS)),
    "column_names": _names,
    "channels": _channels,
    "classes": _classes,
    "label_map": _label_map,
    "kind": _choice(LABEL_KINDS),
    "gaps": _choice(GAPS),
    "label_column": _text,
    "annotator": _text,
    "events": _events,
    "subject": _subject,
    "unlabelled": _choice(("allow", "error")),
    "task": _task_rules,
    "splits": _splits,
}


# --- arguments in place of manifest values -----------------------------------------------------


def with_overrides(
    spec: Spec,
    fs: float | None,
    channels: ChannelSelection | None,
    classes: Sequence[str] | None,
    gaps: str | None,
) -> Spec:
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
