"""Synthetic ECG: exact ground truth, determinism, any rate, chunked long records."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import wfdb

from sigseg.data import IGNORE_INDEX, Record, open_signal
from sigseg.data.transforms import Resample
from sigseg.tasks.ecg.annotations import group_waves
from sigseg.tasks.ecg.synthetic import (
    SyntheticConfig,
    synthesize_ecg,
    synthetic_records,
    write_synthetic_wfdb,
)

Runs = Callable[[Record], set]


def assert_waves_match_labels(rec: Record, label_runs: Runs, wave_spans: Runs) -> None:
    """Every labelled run is a wave and every wave a labelled run; a boundary is None only
    at the record's edge; peaks lie inside their waves."""
    assert label_runs(rec) == wave_spans(rec)
    last = rec.num_samples - 1
    for w in rec.waves:
        lo = 0 if w.onset is None else w.onset
        hi = last if w.offset is None else w.offset
        assert w.peak is None or lo <= w.peak <= hi
        assert w.onset is not None or rec.labels[w.lead, 0] > 0
        assert w.offset is not None or rec.labels[w.lead, last] > 0


@pytest.mark.parametrize(("fs", "leads", "seed"), [(500, 1, 0), (250, 3, 1), (360, 2, 7)])
def test_waves_agree_with_labels(
    fs: float, leads: int, seed: int, label_runs: Runs, wave_spans: Runs
) -> None:
    rec = synthesize_ecg(duration_s=20, fs=fs, leads=leads, seed=seed)
    assert rec.signal.shape == rec.labels.shape == (leads, 20 * fs)
    assert not (rec.labels == IGNORE_INDEX).any()
    assert {w.kind for w in rec.waves} == {"P", "QRS", "T"}
    assert_waves_match_labels(rec, label_runs, wave_spans)


@pytest.mark.parametrize("fs", [50, 128, 257.3, 1000])
def test_any_rate(fs: float, label_runs: Runs, wave_spans: Runs) -> None:
    rec = synthesize_ecg(duration_s=8, fs=fs, leads=2, seed=3)
    assert rec.fs == fs and rec.num_samples == round(8 * fs)
    assert np.isfinite(rec.signal).all()
    assert_waves_match_labels(rec, label_runs, wave_spans)


def test_deterministic_per_seed() -> None:
    a, b = synthesize_ecg(seed=5, leads=2), synthesize_ecg(seed=5, leads=2)
    np.testing.assert_array_equal(a.signal, b.signal)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.waves == b.waves
    c = synthesize_ecg(seed=6, leads=2)
    assert not np.allclose(a.signal, c.signal) and a.waves != c.waves
    records = synthetic_records(3, duration_s=5, fs=250, seed=1)
    assert len({r.name for r in records}) == 3
    np.testing.assert_array_equal(records[2].signal, synthetic_records(3, 5, 250, 1)[2].signal)


def _boundaries(rec: Record) -> list[tuple]:
    return [(w.lead, w.kind, w.onset, w.peak, w.offset) for w in rec.waves]


def _max_shift(a: Record, b: Record) -> int:
    pairs = list(zip(_boundaries(a), _boundaries(b), strict=True))
    assert all(x[:2] == y[:2] for x, y in pairs)
    return max(
        abs(u - v)
        for x, y in pairs
        for u, v in zip(x[2:], y[2:], strict=True)
        if u is not None and v is not None
    )


@pytest.mark.parametrize("seed", range(4))
def test_resampling_keeps_boundaries_within_one_sample(seed: int) -> None:
    rec = synthesize_ecg(duration_s=10, fs=500, leads=2, seed=seed)
    round_trip = Resample(500)(Resample(250)(rec))
    assert round_trip.num_samples == rec.num_samples
    assert _max_shift(rec, round_trip) <= 1
    # The same heart generated at 360 Hz is where resampling puts it.
    at_360 = synthesize_ecg(duration_s=10, fs=360, leads=2, seed=seed)
    moved = Resample(360)(rec)
    assert moved.num_samples == at_360.num_samples
    assert _max_shift(moved, at_360) <= 1
    # Labels differ only next to a boundary.
    diff = np.flatnonzero((moved.labels != at_360.labels).any(axis=0))
    change = np.flatnonzero((np.diff(at_360.labels, axis=1) != 0).any(axis=0))
    assert all(np.abs(change - i).min() <= 1 for i in diff)


def test_noise_model() -> None:
    clean = synthesize_ecg(30, 500, 1, seed=2, config=SyntheticConfig(noise=0))
    background = clean.signal[0][clean.labels[0] == 0]
    assert np.abs(background).max() < 0.02  # only the Gaussians' far tails
    mains = SyntheticConfig(powerline=0.2, powerline_hz=60.0, baseline_wander=0, muscle=0)
    hum = synthesize_ecg(30, 500, 1, seed=2, config=mains).signal[0] - clean.signal[0]
    spectrum = np.abs(np.fft.rfft(hum))
    assert np.fft.rfftfreq(len(hum), 1 / 500)[spectrum.argmax()] == pytest.approx(60.0)
    noisy = synthesize_ecg(30, 500, 1, seed=2)
    assert 0.01 < np.std(noisy.signal - clean.signal) < 0.3
    qrs_peaks = [w.peak / 500 for w in clean.waves if w.kind == "QRS" and w.peak is not None]
    rate = 60 / np.diff(qrs_peaks)
    assert rate.min() > 40 and rate.max() < 125


def test_chunked_wfdb_equals_in_memory(tmp_path: Path) -> None:
    fs, hours = 2000.0, 0.01  # 72,000 samples: crosses a noise block and many chunks
    base = write_synthetic_wfdb(tmp_path / "long", hours, fs=fs, leads=2, seed=4, chunk_s=7.3)
    ref = synthesize_ecg(hours * 3600, fs, 2, seed=4)
    with open_signal(base) as reader:
        assert (reader.fs, reader.num_samples, reader.channels) == (fs, 72_000, ref.channels)
        np.testing.assert_allclose(reader.read(), ref.signal, atol=0.5e-3 + 1e-6)
    for lead, name in enumerate(ref.channels):
        ann = wfdb.rdann(str(base), name)
        got = group_waves(ann.sample, ann.symbol, lead=lead).waves
        assert got == [w for w in ref.lead_waves(lead) if w.peak is not None]


def test_an_hour_takes_seconds(tmp_path: Path) -> None:
    start = time.perf_counter()
    base = write_synthetic_wfdb(tmp_path / "hour", 1.0, fs=500, leads=2, seed=0)
    assert time.perf_counter() - start < 20  # about 1 s on one free core
    with open_signal(base) as reader:
        assert reader.num_samples == 1_800_000
        assert np.abs(reader.read(1_000_000, 1_005_000)).max() > 0.3


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fs"):
        synthesize_ecg(fs=0)
    with pytest.raises(ValueError, match="at least one sample"):
        synthesize_ecg(duration_s=0)
    with pytest.raises(ValueError, match="leads"):
        synthesize_ecg(leads=0)
    with pytest.raises(ValueError, match="heart_rate"):
        SyntheticConfig(heart_rate=(120, 60))
    with pytest.raises(FileNotFoundError, match="no such folder"):
        write_synthetic_wfdb(tmp_path / "missing" / "rec", 0.001)
