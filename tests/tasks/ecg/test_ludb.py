"""LUDB loader against the real database (BENCHMARK.md's split, labels and edge rule)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from sigseg.data import IGNORE_INDEX, Record, Wave
from sigseg.tasks.ecg import CLASSES
from sigseg.tasks.ecg.ludb import LEADS, load_ludb, load_ludb_record, ludb_split

# Symbol totals over all 2,400 annotation files of LUDB v1.0.1.
ONSETS, OFFSETS = 58_321, 58_423
PEAKS = {"QRS": 21_965, "T": 19_661, "P": 16_797}


@pytest.fixture(scope="module")
def ludb(ludb_root: Path) -> list[Record]:
    return load_ludb(ludb_root, split="all", mode="multi")


def _marks(waves: list[Wave]) -> list[int]:
    return [s for w in waves for s in (w.onset, w.peak, w.offset) if s is not None]


def test_every_record_and_annotation_is_read(ludb: list[Record]) -> None:
    assert len(ludb) == 200
    assert [r.metadata["id"] for r in ludb] == list(range(1, 201))
    waves = [w for r in ludb for w in r.waves]
    assert sum(w.onset is not None for w in waves) == ONSETS
    assert sum(w.offset is not None for w in waves) == OFFSETS
    assert Counter(w.kind for w in waves if w.peak is not None) == PEAKS
    for r in ludb:
        assert r.signal.shape == r.labels.shape == (12, 5000)
        assert r.fs == 500 and r.channels == list(LEADS)
        assert {w.lead for w in r.waves} == set(range(12))


def test_unannotated_edges_are_ignored(ludb: list[Record]) -> None:
    for r in ludb:
        for lead in range(12):
            marks = _marks(r.lead_waves(lead))
            first, last = min(marks), max(marks)
            row = r.labels[lead]
            assert (row[:first] == IGNORE_INDEX).all(), (r.name, lead)
            assert (row[last + 1 :] == IGNORE_INDEX).all(), (r.name, lead)
            assert row[first] != IGNORE_INDEX and row[last] != IGNORE_INDEX, (r.name, lead)


def test_labels_cover_each_complete_wave(ludb: list[Record]) -> None:
    for r in ludb[::7]:
        for w in r.waves:
            if w.onset is not None and w.offset is not None:
                span = r.labels[w.lead, w.onset : w.offset + 1]
                assert (span == CLASSES.index(w.kind)).all(), (r.name, w)


def test_irregular_annotations_are_kept_without_inventing(ludb: list[Record]) -> None:
    by_id = {r.metadata["id"]: r for r in ludb}
    v5, v2, v1 = LEADS.index("v5"), LEADS.index("v2"), LEADS.index("v1")
    # An onset/offset pair without a peak between two T waves: a QRS with no peak.
    assert Wave("QRS", 1066, None, 1138, v5) in by_id[8].waves
    # An onset written one sample after its peak ('N ( )').
    assert Wave("QRS", 1470, 1469, 1502, v2) in by_id[7].waves
    # Six nested, overlapping T waves ('( ( ( ( ( ( t t t t t t ) ) ) ) ) )').
    nested = [w for w in by_id[116].lead_waves(v1) if w.kind == "T" and w.onset < 400]
    assert len(nested) == 6 and all(w.onset < w.peak < w.offset for w in nested)
    # QRS complexes annotated without onset: the samples between the P offset and the peak
    # are of unknown class, so they are ignored rather than called background.
    ii = LEADS.index("ii")
    qrs = [w for w in by_id[104].lead_waves(ii) if w.kind == "QRS" and w.onset is None]
    assert len(qrs) >= 5
    w = qrs[2]
    before = max(s for s in _marks(by_id[104].lead_waves(ii)) if s < w.peak)
    assert (by_id[104].labels[ii, before + 1 : w.peak] == IGNORE_INDEX).all()
    assert (by_id[104].labels[ii, w.peak : w.offset + 1] == CLASSES.index("QRS")).all()


def test_splits_and_single_lead_mode(ludb_root: Path) -> None:
    sizes = {s: len(load_ludb(ludb_root, split=s, mode="multi")) for s in ("train", "val", "test")}
    assert sizes == {"train": 140, "val": 20, "test": 40}
    test = load_ludb(ludb_root, split="test", mode="single")
    assert len(test) == 480
    assert all(ludb_split(r.metadata["id"]) == "test" for r in test)
    lead = next(r for r in test if r.name == "ludb/5/ii")
    full = load_ludb_record(5, ludb_root)
    ii = LEADS.index("ii")
    assert lead.channels == ["ii"] and lead.signal.shape == (1, 5000)
    np.testing.assert_array_equal(lead.signal[0], full.signal[ii])
    np.testing.assert_array_equal(lead.labels[0], full.labels[ii])
    assert [w.lead for w in lead.waves] == [0] * len(lead.waves)
    assert len(lead.waves) == len(full.lead_waves(ii))


def test_diagnoses_in_metadata(ludb: list[Record]) -> None:
    first = ludb[0].metadata
    assert first["sex"] == "F" and first["age"] == 51
    assert first["rhythms"] == ["Sinus bradycardia"]
    assert first["diagnoses"]["Hypertrophies"] == [
        "Left ventricular overload",
        "Left ventricular hypertrophy",
    ]
    assert all(r.metadata["rhythms"] and r.metadata["sex"] in ("M", "F") for r in ludb)
    rhythms = Counter(r.metadata["rhythms"][0] for r in ludb)
    assert rhythms["Sinus rhythm"] > 100 and rhythms["Atrial fibrillation"] > 10


def test_records_are_independent_copies(ludb_root: Path) -> None:
    a = load_ludb_record(1, ludb_root)
    a.signal[:] = 0
    a.metadata["rhythms"].append("x")
    b = load_ludb_record(1, ludb_root)
    assert np.abs(b.signal).sum() > 0 and b.metadata["rhythms"] == ["Sinus bradycardia"]


def test_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIGSEG_DATA", raising=False)
    with pytest.raises(ValueError, match="SIGSEG_DATA"):
        load_ludb()
    with pytest.raises(FileNotFoundError, match="ludb.csv"):
        load_ludb(tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_ludb(tmp_path, split="dev")
