"""The PhysioNet QT Database (QTDB): 105 fifteen-minute two-lead records at 250 Hz.

Cardiologists annotated a few dozen selected beats per record (``.q1c``; ``.q2c`` by a second
cardiologist for 11 records) with the same ``(`` peak ``)`` marks as LUDB, plus ``u`` for U
waves. Onsets are often missing (T onsets in particular), and the marks describe the record as
a whole, not one lead, so the waves here have ``lead=None``. Only the neighbourhood of the
annotated beats is scored (:func:`qtdb_annotated_regions`); labels are
:data:`~sigseg.data.record.IGNORE_INDEX` everywhere else.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sigseg.data.readers import read_wfdb, wfdb_base
from sigseg.data.record import Record, Wave
from sigseg.tasks.ecg.annotations import check_annotation_samples, group_waves, paint_labels

ANNOTATORS = ("q1c", "q2c")
"""Manual annotators: first and (for 11 records) second cardiologist."""
REGION_MARGIN_S = 0.15
"""Seconds around each annotated wave that count as annotated (the lenient tolerance)."""


def read_qtdb_record(
    path: str | os.PathLike[str], annotator: str = "q1c", margin_s: float = REGION_MARGIN_S
) -> Record:
    """Read one QTDB record with one annotator's waves (record-wide, ``lead=None``).

    Labels (the same on every channel, since the marks are record-wide) are background or a
    wave class inside the annotated regions and ignored outside them and wherever a missing
    onset or offset leaves a sample's class unknown. ``metadata`` has ``annotator`` and
    ``annotators`` (those present for this record)."""
    import wfdb

    base = wfdb_base(path)
    ann_path = base.with_name(f"{base.name}.{annotator}")
    if not ann_path.is_file():
        raise FileNotFoundError(f"{ann_path}: no {annotator} annotation file")
    record = read_wfdb(base)
    try:
        ann = wfdb.rdann(str(base), annotator)
    except Exception as exc:  # wfdb raises assorted types on a malformed file
        raise ValueError(f"{ann_path}: cannot read annotations ({exc})") from exc
    n = record.num_samples
    check_annotation_samples(ann.sample, n, ann_path)
    grouped = group_waves(ann.sample, ann.symbol, lead=None)
    regions = _regions(grouped.waves, record.fs, n, margin_s)
    row = paint_labels(grouped.waves, n, grouped.marks, regions, grouped.unknown)
    record.labels = np.repeat(row[None, :], record.signal.shape[0], axis=0)
    record.waves = grouped.waves
    record.name = f"qtdb/{base.name}"
    present = [a for a in ANNOTATORS if base.with_name(f"{base.name}.{a}").is_file()]
    record.metadata.update(database="qtdb", annotator=annotator, annotators=present)
    return record


def load_qtdb(root: str | os.PathLike[str] | None = None, annotator: str = "q1c") -> list[Record]:
    """Every record under ``root`` (else ``$SIGSEG_DATA/qtdb``) that has ``annotator``'s
    file, sorted by name."""
    folder = _qtdb_root(root)
    bases = sorted(p.with_suffix("") for p in folder.glob(f"*.{annotator}"))
    if not bases:
        raise FileNotFoundError(f"{folder}: no QTDB records with .{annotator} annotations")
    return [read_qtdb_record(b, annotator) for b in bases]


def _qtdb_root(root: str | os.PathLike[str] | None) -> Path:
    if root is None:
        env = os.environ.get("SIGSEG_DATA")
        if not env:
            raise ValueError(
                "QTDB location unknown: pass root or set SIGSEG_DATA to a folder with qtdb/ "
                "(get it with `sigseg data fetch qtdb DIR`)"
            )
        root = Path(env) / "qtdb"
    path = Path(root)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such folder")
    return path


def qtdb_annotated_regions(
    record: Record, margin_s: float = REGION_MARGIN_S
) -> list[tuple[int, int]]:
    """Sample ranges ``(start, stop)``, inclusive, around the record's annotated waves: each
    wave's marks widened by ``margin_s`` on both sides, overlapping ranges merged. Scoring on
    QTDB counts predictions only inside these (elsewhere no beat was annotated). Computed from
    the waves, so it stays right after cropping or resampling."""
    return _regions(record.waves, record.fs, record.num_samples, margin_s)


def _regions(
    waves: list[Wave], fs: float, num_samples: int, margin_s: float
) -> list[tuple[int, int]]:
    if margin_s < 0:
        raise ValueError(f"margin must be >= 0 s, got {margin_s}")
    margin = round(margin_s * fs)
    spans = sorted(
        (min(marks) - margin, max(marks) + margin)
        for w in waves
        if (marks := [s for s in (w.onset, w.peak, w.offset) if s is not None])
    )
    merged: list[tuple[int, int]] = []
    for start, stop in spans:
        start, stop = max(start, 0), min(stop, num_samples - 1)
        if start > stop:
            continue
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged
