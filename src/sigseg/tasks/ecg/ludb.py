"""The Lobachevsky University Electrocardiography Database (LUDB, PhysioNet v1.0.1).

200 ten-second 12-lead records at 500 Hz, each lead annotated on its own (``N.i`` ... ``N.v6``).
:func:`load_ludb` returns the benchmark's split (``BENCHMARK.md``) as records with per-lead
labels, in which samples before a lead's first annotation and after its last are
:data:`~sigseg.data.record.IGNORE_INDEX`. Parsed records are cached per process, so loading
the dataset a second time (another split or mode) costs no file reads.
"""

from __future__ import annotations

import csv
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sigseg.data.record import Record, Wave
from sigseg.tasks.ecg.annotations import (
    AnnotatedWaves,
    check_annotation_samples,
    group_waves,
    paint_labels,
)

LEADS: tuple[str, ...] = (
    "i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6",
)  # fmt: skip
"""LUDB lead names, in the records' channel order; each is also an annotation extension."""

SPLITS = ("train", "val", "test", "all")
MODES = ("single", "multi")
FS = 500.0
DATA_ENV = "SIGSEG_DATA"
"""Environment variable naming the LUDB folder (or a folder holding ``ludb/``)."""


def ludb_split(record_id: int) -> str:
    """The benchmark split of a record id: test if ``id % 5 == 0``, val if ``id % 10 == 1``,
    else train.

    >>> [ludb_split(i) for i in (1, 2, 5, 10, 11)]
    ['val', 'train', 'test', 'test', 'val']
    """
    if record_id % 5 == 0:
        return "test"
    if record_id % 10 == 1:
        return "val"
    return "train"


def ludb_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The LUDB folder: ``root`` if given, else ``$SIGSEG_DATA`` (the LUDB folder itself or a
    folder with a ``ludb/`` subfolder). It must hold ``ludb.csv``."""
    if root is None:
        env = os.environ.get(DATA_ENV)
        if not env:
            raise ValueError(
                f"LUDB location unknown: pass root or set {DATA_ENV}=/path/to/ludb "
                "(get it with `sigseg data fetch ludb DIR`)"
            )
        base = Path(env)
        path = base / "ludb" if not (base / "ludb.csv").is_file() else base
    else:
        path = Path(root)
    if not (path / "ludb.csv").is_file():
        raise FileNotFoundError(f"{path}: not an LUDB folder (no ludb.csv)")
    return path


def ludb_record_ids(root: str | os.PathLike[str] | None = None) -> list[int]:
    """Ids of the records present under ``root`` (in ``data/`` or the folder itself)."""
    path = ludb_root(root)
    ids = {
        int(p.stem)
        for d in (path, path / "data")
        if d.is_dir()
        for p in d.glob("*.hea")
        if p.stem.isdigit()
    }
    if not ids:
        raise FileNotFoundError(f"{path}: no LUDB records (*.hea) found")
    return sorted(ids)


def load_ludb(
    root: str | os.PathLike[str] | None = None, split: str = "train", mode: str = "single"
) -> list[Record]:
    """Load one split of LUDB.

    ``mode="single"``: each lead its own one-channel record named ``ludb/<id>/<lead>`` (what a
    single-lead model trains and is scored on); ``mode="multi"``: one 12-channel record per id
    named ``ludb/<id>``. Labels are per lead (0 background, 1 P, 2 QRS, 3 T, ignore outside the
    annotated span and where a missing onset/offset leaves a sample's class unknown). Waves
    keep ``None`` for boundaries that were not annotated. ``metadata`` holds ``id``, ``split``,
    ``age``, ``sex``, ``rhythms`` and ``diagnoses`` (every column of ``ludb.csv``, each a list
    of findings). A lead's annotated span is where its labels are not ignored (first to last
    non-ignored sample), which stays right through crops and resampling."""
    if split not in SPLITS:
        raise ValueError(f"unknown LUDB split {split!r}; choose one of {SPLITS}")
    if mode not in MODES:
        raise ValueError(f"unknown LUDB mode {mode!r}; choose one of {MODES}")
    path = ludb_root(root).resolve()
    ids = [i for i in ludb_record_ids(path) if split == "all" or ludb_split(i) == split]
    records = [_to_record(_parse_record(str(path), i)) for i in ids]
    if mode == "multi":
        return records
    return [lead for rec in records for lead in split_leads(rec)]


def load_ludb_record(record_id: int, root: str | os.PathLike[str] | None = None) -> Record:
    """One LUDB record with all 12 leads (as ``mode="multi"``)."""
    return _to_record(_parse_record(str(ludb_root(root).resolve()), int(record_id)))


def split_leads(record: Record) -> list[Record]:
    """One single-channel record per lead, named ``<name>/<lead>``, with that lead's waves
    (their ``lead`` set to 0) and labels."""
    out = []
    for c, lead in enumerate(record.channels):
        meta = dict(record.metadata, lead=lead)
        waves = [Wave(w.kind, w.onset, w.peak, w.offset, 0) for w in record.waves if w.lead == c]
        out.append(
            Record(
                signal=record.signal[c : c + 1].copy(),
                fs=record.fs,
                channels=[lead],
                name=f"{record.name}/{lead}",
                waves=waves,
                metadata=meta,
                labels=None if record.labels is None else record.labels[c : c + 1].copy(),
            )
        )
    return out


@dataclass(frozen=True)
class _Parsed:
    """What is cached per record: the signal and grouped annotations, not the labels (cheap
    to repaint)."""

    record_id: int
    signal: np.ndarray
    leads: tuple[AnnotatedWaves, ...]
    metadata: dict[str, Any]


@functools.cache
def _parse_record(root: str, record_id: int) -> _Parsed:
    import wfdb

    base = _record_base(Path(root), record_id)
    try:
        rec = wfdb.rdrecord(str(base), physical=True)
    except Exception as exc:  # wfdb raises assorted types on malformed files
        raise ValueError(f"{base}.hea: cannot read LUDB record ({exc})") from exc
    names = [str(s).lower() for s in rec.sig_name]
    if names != list(LEADS):
        raise ValueError(f"{base}.hea: expected leads {LEADS}, got {names}")
    leads = []
    for lead in LEADS:
        ann_path = base.with_name(f"{base.name}.{lead}")
        if not ann_path.is_file():
            raise FileNotFoundError(f"{ann_path}: missing LUDB annotation file")
        try:
            ann = wfdb.rdann(str(base), lead)
        except Exception as exc:
            raise ValueError(f"{ann_path}: cannot read annotations ({exc})") from exc
        check_annotation_samples(ann.sample, rec.sig_len, ann_path)
        leads.append(group_waves(ann.sample, ann.symbol, lead=LEADS.index(lead)))
    signal = np.ascontiguousarray(rec.p_signal.T, dtype=np.float32)
    if not np.isfinite(signal).all():
        raise ValueError(f"{base}.dat: NaN/Inf samples")
    info = _diagnoses(root).get(record_id)
    if info is None:
        raise ValueError(f"{Path(root) / 'ludb.csv'}: no row for record {record_id}")
    meta = {
        "database": "ludb",
        "id": record_id,
        "split": ludb_split(record_id),
        "source": str(base),
        **info,
    }
    return _Parsed(record_id, signal, tuple(leads), meta)


def _record_base(root: Path, record_id: int) -> Path:
    for folder in (root / "data", root):
        if (folder / f"{record_id}.hea").is_file():
            return folder / str(record_id)
    raise FileNotFoundError(f"{root}: no LUDB record {record_id} ({record_id}.hea)")


def _to_record(parsed: _Parsed) -> Record:
    n = parsed.signal.shape[1]
    labels, waves = [], []
    for ann in parsed.leads:
        span = [(int(ann.marks[0]), int(ann.marks[-1]))] if len(ann.marks) else []
        labels.append(paint_labels(ann.waves, n, ann.marks, span, ann.unknown))
        waves.extend(ann.waves)
    meta = dict(parsed.metadata)
    meta["diagnoses"] = {k: list(v) for k, v in meta["diagnoses"].items()}
    meta["rhythms"] = list(meta["rhythms"])
    return Record(
        signal=parsed.signal.copy(),
        fs=FS,
        channels=list(LEADS),
        name=f"ludb/{parsed.record_id}",
        labels=np.stack(labels),
        waves=waves,
        metadata=meta,
    )


@functools.cache
def _diagnoses(root: str) -> dict[int, dict[str, Any]]:
    """``ludb.csv`` by record id: ``age`` (int, or the text such as ``'>89'``), ``sex``,
    ``rhythms`` and ``diagnoses`` (column -> findings; cells hold one finding per line)."""
    path = Path(root) / "ludb.csv"
    out: dict[int, dict[str, Any]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or "ID" not in reader.fieldnames:
            raise ValueError(f"{path}: no ID column; not LUDB's ludb.csv")
        for row in reader:
            cells = {k.strip(): _findings(v) for k, v in row.items() if k and k.strip()}
            record_id = int(cells.pop("ID")[0])
            sex, age = cells.pop("Sex", [""]), cells.pop("Age", [""])
            out[record_id] = {
                "age": int(age[0]) if age and age[0].isdigit() else (age[0] if age else None),
                "sex": sex[0] if sex else None,
                "rhythms": cells.get("Rhythms", []),
                "diagnoses": cells,
            }
    return out


def _findings(cell: str | None) -> list[str]:
    return [s.strip() for s in re.split(r"[\r\n]+", cell or "") if s.strip()]
