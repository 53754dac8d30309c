"""NSTDB noise at a calibrated SNR (WFDB nst's definition), and the train/benchmark split of
the noise records."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from sigseg.data.record import Record, Wave
from sigseg.tasks.ecg.noise import (
    BENCHMARK_START,
    NOISE_POWERS,
    NOISE_TYPES,
    NSTDB_FS,
    NstdbNoise,
    add_noise,
    measured_snr_db,
    mix_channels,
    noise_excerpt,
    nst_noise_rms,
    qrs_peak_to_peak,
    read_nstdb_noise,
)

NSTDB = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "nstdb"


@pytest.fixture
def nstdb() -> Path:
    """The NSTDB copy in ../shared beside the repository; like LUDB, a missing one fails the
    tests that read it instead of skipping them."""
    if not (NSTDB / "bw.hea").is_file() and not (NSTDB / "bw.hea.gz").is_file():
        pytest.fail(f"NSTDB not found at {NSTDB}")
    return NSTDB


def beat_train(fs: float = 500.0, seconds: float = 10.0, leads: int = 3) -> Record:
    """Triangular QRS complexes of a different height on each lead, one per 0.8 s."""
    n = int(fs * seconds)
    signal = np.zeros((leads, n))
    waves = []
    width = int(0.04 * fs)
    tri = 1.0 - np.abs(np.arange(-width, width + 1)) / width
    for lead in range(leads):
        for peak in range(int(0.5 * fs), n - width - 1, int(0.8 * fs)):
            signal[lead, peak - width : peak + width + 1] += (lead + 1) * tri
            waves.append(Wave("QRS", peak - width, peak, peak + width, lead))
    return Record(signal, fs, [f"c{i}" for i in range(leads)], waves=waves)


def test_qrs_peak_to_peak_uses_span_or_nst_window() -> None:
    rec = beat_train()
    for lead in range(3):
        assert qrs_peak_to_peak(rec.signal[lead], rec.lead_waves(lead), rec.fs) == pytest.approx(
            lead + 1, rel=1e-6
        )
    peaks_only = [Wave("QRS", None, w.peak, None) for w in rec.lead_waves(0)]
    assert qrs_peak_to_peak(rec.signal[0], peaks_only, rec.fs) == pytest.approx(1.0, rel=1e-6)
    with pytest.raises(ValueError, match="no QRS"):
        qrs_peak_to_peak(rec.signal[0], [], rec.fs)


@pytest.mark.parametrize("power", NOISE_POWERS)
@pytest.mark.parametrize("snr", [24.0, 6.0, 0.0, -6.0])
def test_added_noise_has_the_requested_snr(snr: float, power: str) -> None:
    rec = beat_train()
    rng = np.random.default_rng(0)
    t = np.arange(rec.num_samples) / rec.fs
    # white noise plus a slow drift: the two noise powers differ, each must hit its own SNR
    noise = rng.normal(size=rec.signal.shape) + 3 * np.sin(2 * np.pi * 0.3 * t)
    noisy = add_noise(rec, noise, snr, power=power)
    for lead in range(3):
        pp = qrs_peak_to_peak(rec.signal[lead], rec.lead_waves(lead), rec.fs)
        added = noisy.signal[lead].astype(np.float64) - rec.signal[lead]
        assert measured_snr_db(pp, added, rec.fs, power) == pytest.approx(snr, abs=0.1)
    assert noisy.waves == rec.waves and noisy.metadata["noise_power"] == power


def test_nst_rms_trims_five_percent_of_one_second_chunks() -> None:
    fs = 100.0
    amplitudes = np.arange(1, 41, dtype=float)  # 40 chunks: 2 dropped at each end
    chunks = [a * np.tile([1.0, -1.0], 50) + 7.0 * i for i, a in enumerate(amplitudes)]
    assert nst_noise_rms(np.concatenate(chunks), fs) == pytest.approx(amplitudes[2:38].mean())


def test_mixed_leads_are_unit_scale_zero_mean() -> None:
    rng = np.random.default_rng(1)
    excerpt = np.stack([5 * rng.normal(size=5000) + 2, 0.1 * rng.normal(size=5000)])
    mixed = mix_channels(excerpt, 12, 500.0, rng)
    assert mixed.shape == (12, 5000)
    assert np.allclose(mixed.mean(axis=1), 0, atol=1e-12)
    assert np.all((mixed.std(axis=1) > 0.6) & (mixed.std(axis=1) < 1.5))


@pytest.mark.parametrize("name", NOISE_TYPES)
def test_benchmark_excerpts_are_disjoint_from_the_training_half(nstdb: Path, name: str) -> None:
    train = read_nstdb_noise(name, nstdb)  # the default part is the training half
    bench = read_nstdb_noise(name, nstdb, part="benchmark")
    assert train.metadata["start"] == 0 and train.num_samples == BENCHMARK_START
    assert bench.metadata["start"] == BENCHMARK_START and bench.fs == NSTDB_FS
    for seed in range(20):
        excerpt, start = noise_excerpt(bench, 5000, 500.0, np.random.default_rng(seed))
        assert start >= BENCHMARK_START
        assert excerpt.shape == (2, 5000) and np.isfinite(excerpt).all()


def test_em_excerpts_avoid_unknown_samples(nstdb: Path) -> None:
    em = read_nstdb_noise("em", nstdb, part="all")
    assert np.isnan(em.signal).any()
    for seed in range(20):
        excerpt, start = noise_excerpt(em, 5000, 500.0, np.random.default_rng(seed))
        assert np.isfinite(em.signal[:, start : start + 3600 + 2 * 360]).all()
        assert np.isfinite(excerpt).all()


def test_gzipped_record_reads_the_same(nstdb: Path, tmp_path: Path) -> None:
    for suffix in ("hea", "dat"):
        source, target = nstdb / f"ma.{suffix}", tmp_path / f"ma.{suffix}.gz"
        with source.open("rb") as src, gzip.open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    packed = read_nstdb_noise("ma", tmp_path, part="benchmark")
    plain = read_nstdb_noise("ma", nstdb, part="benchmark")
    assert np.array_equal(packed.signal, plain.signal)


def labelled_beat_train(leads: int) -> Record:
    """:func:`beat_train` at 125 Hz with its first lead's QRS complexes as training labels (2),
    what the training recipe sees."""
    record = beat_train(fs=125.0, leads=leads)
    labels = np.zeros((1, record.num_samples), dtype=np.int64)
    for w in record.lead_waves(0):
        if w.kind == "QRS":
            labels[0, w.onset : w.offset + 1] = 2
    return Record(record.signal, record.fs, record.channels, labels=labels, waves=record.waves)


def test_training_noise_reads_the_training_half_at_the_drawn_snr(nstdb: Path) -> None:
    """NstdbNoise never holds benchmark noise, adds it at the SNR drawn (nst's terms, S from
    the labelled QRS), keeps the labels, and with p=0 changes nothing."""
    fs, record = 125.0, labelled_beat_train(leads=2)
    noise = NstdbNoise(nstdb, snr_db=(6.0, 6.0), p=1.0)
    assert all(n.metadata["start"] == 0 and n.num_samples == BENCHMARK_START for n in noise.noises)
    noisy = noise(record, np.random.default_rng(0))
    added = noisy.signal.astype(np.float64) - record.signal
    for lead in range(2):
        pp = qrs_peak_to_peak(record.signal[lead], record.lead_waves(lead), fs)
        assert measured_snr_db(pp, added[lead], fs) == pytest.approx(6.0, abs=0.05)
    assert np.array_equal(noisy.labels, record.labels)
    untouched = NstdbNoise(nstdb, p=0.0)(record, np.random.default_rng(0))
    assert np.array_equal(untouched.signal, record.signal)


def test_training_recipe_adds_noise_at_the_configured_snr_range(nstdb: Path) -> None:
    """``noise_snr_db`` reaches the recipe: with the same draws, noise at 0 dB is 100 times
    (40 dB) the amplitude of noise at 40 dB, and a crop left clean stays as the plain recipe
    makes it."""
    from sigseg.tasks import ECG_DELINEATION
    from sigseg.training.config import TrainConfig
    from sigseg.training.datamodule import augmentation_for, default_augmentation

    record = labelled_beat_train(leads=1)
    loud, quiet = (augmentation_for(ECG_DELINEATION, str(nstdb), (s, s)) for s in (0.0, 40.0))
    ratios = []
    for seed in range(8):
        plain = default_augmentation(record, np.random.default_rng(seed)).signal
        a, b = (f(record, np.random.default_rng(seed)).signal - plain for f in (loud, quiet))
        if np.any(a):
            ratios.append(np.sqrt(np.mean(a**2) / np.mean(b**2)))
        else:
            assert not np.any(b)
    assert 0 < len(ratios) < 8 and np.allclose(ratios, 100.0, rtol=1e-3)
    with pytest.raises(ValueError, match="noise_snr_db must be low <= high"):
        TrainConfig(data="synthetic", noise_snr_db=(24.0, 6.0))
