"""Record transforms and augmentations: annotations move with the signal."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from sigseg.data import IGNORE_INDEX, Record, Wave
from sigseg.data.augment import (
    AmplitudeScale,
    BaselineWander,
    GaussianNoise,
    LeadInversion,
    RandomApply,
    TimeStretch,
)
from sigseg.data.transforms import (
    Bandpass,
    Compose,
    Normalize,
    RandomCrop,
    Resample,
    crop_record,
)
from sigseg.tasks.ecg.synthetic import synthesize_ecg

Runs = Callable[[Record], set]


@pytest.fixture
def rec() -> Record:
    return synthesize_ecg(duration_s=12, fs=500, leads=2, seed=11)


def test_crop_moves_labels_and_waves(rec: Record, label_runs: Runs, wave_spans: Runs) -> None:
    qrs = next(w for w in rec.waves if w.kind == "QRS" and w.onset and w.onset > 1000)
    start, stop = qrs.onset + 5, qrs.onset + 2000  # cuts through that QRS
    crop = crop_record(rec, start, stop)
    assert crop.num_samples == 1995 and crop.name == rec.name
    np.testing.assert_array_equal(crop.labels, rec.labels[:, start:stop])
    np.testing.assert_array_equal(crop.signal, rec.signal[:, start:stop])
    assert Wave("QRS", None, qrs.peak - start, qrs.offset - start, qrs.lead) in crop.waves
    assert label_runs(crop) == wave_spans(crop)
    inside = [w for w in rec.waves if w.onset and w.offset and start <= w.onset < w.offset < stop]
    assert all(
        Wave(w.kind, w.onset - start, w.peak - start, w.offset - start, w.lead) in crop.waves
        for w in inside
    )
    with pytest.raises(ValueError, match="outside"):
        crop_record(rec, 100, 100_000)


def test_random_crop_is_seeded(rec: Record) -> None:
    a, b = RandomCrop(1024, rng=3)(rec), RandomCrop(1024, rng=3)(rec)
    np.testing.assert_array_equal(a.signal, b.signal)
    assert a.num_samples == 1024 and a.waves == b.waves
    crops = RandomCrop(1024, rng=np.random.default_rng(0))
    assert len({crops(rec).signal[0, 0] for _ in range(5)}) > 1
    with pytest.raises(ValueError, match="shorter than the crop"):
        RandomCrop(10_000)(rec)


def test_resample_moves_ignore_labels_too() -> None:
    labels = np.zeros((1, 1000), dtype=np.int64)
    labels[0, :100] = IGNORE_INDEX
    labels[0, 400:450] = 2
    rec = Record(
        np.zeros((1, 1000)), 500.0, ["ii"], labels=labels, waves=[Wave("QRS", 400, 420, 449, 0)]
    )
    out = Resample(250)(rec)
    assert out.fs == 250 and out.num_samples == 500
    assert (out.labels[0, :50] == IGNORE_INDEX).all() and out.labels[0, 50] == 0
    assert out.waves == [Wave("QRS", 200, 210, 224, 0)]
    assert (out.labels[0, 200:225] == 2).all()
    assert out.labels[0, 199] == 0 and out.labels[0, 225] == 0
    assert rec.fs == 500 and rec.num_samples == 1000  # input untouched


def test_filters_and_compose_leave_annotations(rec: Record) -> None:
    before = rec.signal.copy()
    pipeline = Compose([Bandpass(0.5, 40.0), Normalize("zscore"), Resample(250)])
    out = pipeline(rec)
    np.testing.assert_array_equal(rec.signal, before)
    assert out.fs == 250 and out.num_samples == 3000 and len(out.waves) == len(rec.waves)
    np.testing.assert_allclose(Normalize("zscore")(rec).signal.std(axis=1), 1.0, rtol=1e-4)
    with pytest.raises(ValueError, match="normalization"):
        Normalize("minmax")


def test_center_keeps_units_and_removes_the_level(rec: Record) -> None:
    shifted = rec.signal * 300.0 + 640.0  # a gaze position in pixels, say
    out = Normalize("center")(dataclasses.replace(rec, signal=shifted)).signal
    np.testing.assert_allclose(np.median(out, axis=1), 0.0, atol=1e-3)
    np.testing.assert_allclose(np.diff(out, axis=1), np.diff(shifted, axis=1), rtol=1e-4, atol=1e-3)


def test_difference_gives_the_per_sample_movement_whatever_the_level(rec: Record) -> None:
    shifted = rec.signal * 300.0 + 640.0
    out = Normalize("difference")(dataclasses.replace(rec, signal=shifted)).signal
    assert out.shape == shifted.shape
    np.testing.assert_array_equal(out[:, 0], 0.0)
    np.testing.assert_allclose(out[:, 1:], np.diff(shifted, axis=1), rtol=1e-4, atol=1e-3)
    moved = Normalize("difference")(dataclasses.replace(rec, signal=shifted + 500.0)).signal
    np.testing.assert_allclose(moved, out, atol=1e-3)


AUGMENTATIONS = {
    "scale": lambda seed: AmplitudeScale(0.5, 2.0, rng=seed),
    "noise": lambda seed: GaussianNoise((10, 20), rng=seed),
    "wander": lambda seed: BaselineWander((0.5, 1.0), rng=seed),
    "invert": lambda seed: LeadInversion(0.5, rng=seed),
    "stretch": lambda seed: TimeStretch(0.8, 1.25, rng=seed),
    "maybe": lambda seed: RandomApply(GaussianNoise(rng=seed), p=0.5, rng=seed),
}


@pytest.mark.parametrize("name", AUGMENTATIONS)
def test_augmentations_are_seeded_and_pure(
    name: str, rec: Record, label_runs: Runs, wave_spans: Runs
) -> None:
    before = rec.signal.copy()
    a, b = AUGMENTATIONS[name](1)(rec), AUGMENTATIONS[name](1)(rec)
    np.testing.assert_array_equal(rec.signal, before)
    np.testing.assert_array_equal(a.signal, b.signal)
    assert a.signal.dtype == np.float32 and a.fs == rec.fs
    if name != "stretch":
        np.testing.assert_array_equal(a.labels, rec.labels)
        assert a.waves == rec.waves


def test_augmentation_effects(rec: Record) -> None:
    ratio = AmplitudeScale(0.5, 2.0, rng=0)(rec).signal / rec.signal
    assert np.allclose(ratio, ratio[:, :1], atol=1e-4) and (ratio >= 0.5).all() <= 2.0
    flipped = LeadInversion(p=1.0, rng=0)(rec)
    np.testing.assert_array_equal(flipped.signal, -rec.signal)
    noise = GaussianNoise((20, 20), rng=0)(rec).signal - rec.signal
    q1, q3 = np.percentile(rec.signal, [25, 75], axis=1)
    assert np.allclose(noise.std(axis=1), (q3 - q1) / 1.349 / 10, rtol=0.05)
    drift = BaselineWander((1.0, 1.0), rng=0)(rec).signal - rec.signal
    spectrum = np.abs(np.fft.rfft(drift, axis=1))
    assert (np.fft.rfftfreq(rec.num_samples, 1 / rec.fs)[spectrum.argmax(axis=1)] <= 0.6).all()


def test_time_stretch_moves_waves_with_the_signal(rec: Record) -> None:
    for seed in range(3):
        out = TimeStretch(0.8, 1.25, rng=seed)(rec)
        factor = out.num_samples / rec.num_samples  # ceil(L * true factor) / L
        assert out.fs == rec.fs and 0.79 < factor < 1.26
        assert len(out.waves) == len(rec.waves)
        for w0, w1 in zip(rec.waves, out.waves, strict=True):
            for i0, i1 in zip((w0.onset, w0.offset), (w1.onset, w1.offset), strict=True):
                assert (i0 is None) == (i1 is None)
                # within one sample of where the stretch puts it (factor known to 1 / L)
                assert i0 is None or abs(i0 * factor - i1) <= 1 + i0 / rec.num_samples
        # labels follow the waves: each complete wave's samples carry its class
        for w in out.waves:
            if w.onset is not None and w.offset is not None:
                span = out.labels[w.lead, w.onset + 1 : w.offset]
                assert (span == ["background", "P", "QRS", "T"].index(w.kind)).all()
