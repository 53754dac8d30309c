"""NeuroKit2's DWT delineation converted to waves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sigseg.compare.baseline import NeuroKitDelineator, neurokit_delineate, neurokit_to_waves
from sigseg.data.record import Record
from sigseg.tasks.ecg.synthetic import synthetic_records

pytest.importorskip("neurokit2")


def _check(waves: list, length: int) -> None:
    for w in waves:
        present = [v for v in (w.onset, w.peak, w.offset) if v is not None]
        assert present == sorted(present), w
        assert all(0 <= v < length for v in present)
        assert w.onset is not None or w.offset is not None


def test_neurokit_on_a_synthetic_lead_gives_ordered_p_qrs_t() -> None:
    record = synthetic_records(1, duration_s=10.0, fs=500.0, seed=3)[0]
    waves = neurokit_delineate(record.signal[0], record.fs, lead=0)
    kinds = {w.kind for w in waves}
    assert kinds == {"P", "QRS", "T"}
    assert all(w.lead == 0 for w in waves)
    _check(waves, record.num_samples)
    beats = sum(w.kind == "QRS" for w in waves)
    assert 5 <= beats <= 20  # 10 s at 50-100 bpm


def test_neurokit_on_a_ludb_lead(ludb_root) -> None:
    from sigseg.tasks.ecg.ludb import load_ludb_record

    record = load_ludb_record(10, ludb_root)
    waves = neurokit_delineate(record.signal[1], record.fs, lead=1)  # lead II
    assert {w.kind for w in waves} == {"P", "QRS", "T"}
    _check(waves, record.num_samples)


def test_conversion_drops_boundaries_on_the_wrong_side() -> None:
    nan = math.nan
    d = {
        "ECG_P_Onsets": [30, nan], "ECG_P_Peaks": [20, nan], "ECG_P_Offsets": [40, nan],
        "ECG_R_Onsets": [45, 145], "ECG_R_Offsets": [60, 170],
        "ECG_T_Onsets": [nan, 190], "ECG_T_Peaks": [nan, nan], "ECG_T_Offsets": [nan, 180],
    }  # fmt: skip
    waves = neurokit_to_waves(d, [50, 150], 1000, lead=2)
    as_tuples = [(w.kind, w.onset, w.peak, w.offset, w.lead) for w in waves]
    # P: onset 30 after its peak 20 is dropped; the second P has nothing: no wave.
    # T: the second has onset 190 > offset 180 and no peak: both dropped, so no wave.
    assert as_tuples == [
        ("P", None, 20, 40, 2),
        ("QRS", 45, 50, 60, 2),
        ("QRS", 145, 150, 170, 2),
    ]


def test_failing_lead_gets_no_waves_and_is_counted() -> None:
    flat = Record(np.zeros((2, 5000), dtype=np.float32), 500.0, ["i", "ii"], name="flat")
    delineator = NeuroKitDelineator()
    predict = delineator(flat)
    assert predict(0) == [] and predict(1) == []
    assert delineator.leads == 2
    assert [f[:2] for f in delineator.failures] == [("flat", "i"), ("flat", "ii")]
