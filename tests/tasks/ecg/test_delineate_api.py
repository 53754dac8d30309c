"""sigseg.delineate: an ECG to wave and interval tables, with the default pretrained model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sigseg
from sigseg.tasks.ecg.ludb import load_ludb_record
from sigseg.tasks.ecg.outputs import INTERVAL_COLUMNS, WAVE_COLUMNS


def test_delineate_a_ludb_record(ludb_root: Path) -> None:
    record = load_ludb_record(5, ludb_root)  # a test-split record: the model never trained on it
    result = sigseg.delineate(
        record.signal, record.fs, channels=record.channels, combine_leads=True
    )
    waves, intervals = result.waves, result.intervals
    assert list(waves.columns) == list(WAVE_COLUMNS)
    assert list(intervals.columns) == list(INTERVAL_COLUMNS)
    assert set(waves["lead"]) == {*record.channels, "all"}
    np.testing.assert_allclose(waves["peak_s"], waves["peak"].astype(float) / record.fs)

    lead = record.channels.index("ii")
    reference = [w for w in record.waves if w.lead == lead]
    # LUDB annotates the middle of each record only: count the QRS complexes found there
    first = min(w.onset for w in reference if w.onset is not None)
    last = max(w.offset for w in reference if w.offset is not None)
    qrs = waves[(waves["lead"] == "ii") & (waves["kind"] == "QRS")]
    found = int(qrs["peak"].between(first, last).sum())
    assert abs(found - sum(w.kind == "QRS" for w in reference)) <= 1

    beats = intervals[intervals["lead"] == "ii"]
    assert len(beats) == len(qrs)  # one row per QRS complex
    assert 60 <= beats["qrs_ms"].median() <= 160
    assert 80 <= beats["pr_ms"].median() <= 300
    assert 250 <= beats["qt_ms"].median() <= 520


def test_delineate_needs_one_name_per_lead() -> None:
    with pytest.raises(ValueError, match="2 channel names for 3 leads"):
        sigseg.delineate(np.zeros((3, 5000)), 500.0, channels=["i", "ii"])
