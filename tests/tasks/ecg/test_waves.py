import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigseg.data.record import IGNORE_INDEX, Wave
from sigseg.tasks.ecg.waves import (
    WaveOptions,
    beat_intervals,
    fuse_leads,
    labels_to_waves,
    probs_to_labels,
    probs_to_waves,
    waves_to_labels,
)

NO_CLEANUP = WaveOptions.plain()


def runs(*pairs):
    return np.concatenate([np.full(n, lab, dtype=np.int64) for lab, n in pairs])


def one_hot(labels, k=4):
    return np.eye(k)[labels].T  # (K, L)


def test_probs_to_labels_is_argmax_over_classes():
    probs = np.array([[0.7, 0.1, 0.2], [0.2, 0.8, 0.1], [0.1, 0.1, 0.7], [0.0, 0.0, 0.0]])
    assert probs_to_labels(probs).tolist() == [0, 1, 2]
    batch = np.stack([probs, probs[:, ::-1]])  # (N, K, L)
    assert probs_to_labels(batch).tolist() == [[0, 1, 2], [2, 1, 0]]
    with pytest.raises(ValueError):
        probs_to_labels(np.zeros(3))


def test_plain_labels_to_waves():
    labels = runs((0, 3), (1, 5), (0, 2), (2, 4), (3, 6), (0, 1))
    waves = labels_to_waves(labels, 500.0, NO_CLEANUP, lead=7)
    assert waves == [
        Wave("P", 3, 5, 7, 7),
        Wave("QRS", 10, 11, 13, 7),
        Wave("T", 14, 16, 19, 7),
    ]
    np.testing.assert_array_equal(waves_to_labels(waves, labels.size), labels)


@pytest.mark.parametrize(("kind", "label", "min_ms"), [("P", 1, 20), ("QRS", 2, 20), ("T", 3, 40)])
def test_minimum_duration_edge(kind, label, min_ms):
    fs = 500.0  # 2 ms per sample
    n = int(min_ms * fs / 1000)
    kept = labels_to_waves(runs((0, 50), (label, n), (0, 50)), fs)
    dropped = labels_to_waves(runs((0, 50), (label, n - 1), (0, 50)), fs)
    assert [w.kind for w in kept] == [kind] and kept[0].offset - kept[0].onset + 1 == n
    assert dropped == []


def test_plain_preset_matches_benchmark_floor_decoding():
    # "runs shorter than 4 samples dropped" at 250 Hz
    options = WaveOptions.plain(16.0)
    labels = runs((0, 10), (2, 3), (0, 10), (2, 4), (0, 10))
    waves = labels_to_waves(labels, 250.0, options)
    assert [(w.onset, w.offset) for w in waves] == [(23, 26)]


def test_gap_merging():
    fs = 500.0  # default merge gap 20 ms = 10 samples: gaps of <= 9 samples merge
    merged = labels_to_waves(runs((0, 20), (2, 15), (0, 9), (2, 15), (0, 20)), fs)
    assert [(w.kind, w.onset, w.offset) for w in merged] == [("QRS", 20, 58)]
    apart = labels_to_waves(runs((0, 20), (2, 15), (0, 10), (2, 15), (0, 20)), fs)
    assert [(w.onset, w.offset) for w in apart] == [(20, 34), (45, 59)]
    # a gap made of another wave's blip merges too (the blip is overwritten)
    blip = labels_to_waves(runs((0, 20), (2, 15), (3, 2), (2, 15), (0, 20)), fs)
    assert [(w.kind, w.onset, w.offset) for w in blip] == [("QRS", 20, 51)]
    # unannotated samples are never bridged
    ignored = runs((0, 20), (2, 15), (IGNORE_INDEX, 2), (2, 15), (0, 20))
    assert len(labels_to_waves(ignored, fs)) == 2
    # merging is off in the plain preset
    assert len(labels_to_waves(runs((2, 15), (0, 1), (2, 15)), fs, NO_CLEANUP)) == 2


def test_merge_happens_before_dropping():
    fs = 500.0  # QRS pieces of 6 samples (12 ms) are each too short, together 14 (28 ms) not
    labels = runs((0, 20), (2, 6), (0, 2), (2, 6), (0, 20))
    assert [(w.onset, w.offset) for w in labels_to_waves(labels, fs)] == [(20, 33)]


def test_peaks():
    labels = runs((0, 10), (2, 21), (0, 10))
    probs = one_hot(labels).astype(float) * 0.6
    probs[2, 25] = 0.9
    assert labels_to_waves(labels, 500.0, probs=probs)[0].peak == 25
    assert probs_to_waves(probs, 500.0)[0].peak == 25
    # the signal wins over probabilities; a steep baseline ramp does not move the peak
    t = np.arange(labels.size, dtype=float)
    signal = 0.5 * t + np.where(np.arange(labels.size) == 17, 3.0, 0.0)
    assert labels_to_waves(labels, 500.0, probs=probs, signal=signal)[0].peak == 17
    # a negative deflection (e.g. a QS complex) is a peak too
    assert labels_to_waves(labels, 500.0, signal=-signal)[0].peak == 17
    # neither: the middle sample
    assert labels_to_waves(labels, 500.0)[0].peak == 20
    with pytest.raises(ValueError):
        labels_to_waves(labels, 500.0, signal=signal[:-1])
    with pytest.raises(ValueError):
        labels_to_waves(labels, 500.0, probs=probs[:2])


def beat(start):
    """P 40 ms, PR segment 60 ms, QRS 80 ms, ST 100 ms, T 160 ms at 1000 Hz (1 sample = 1 ms)."""
    return [(0, start), (1, 40), (0, 60), (2, 80), (0, 100), (3, 160)]


def test_order_check():
    fs = 1000.0
    options = WaveOptions(check_order=True)
    base = runs(*beat(500), (0, 1500))  # 2440 samples
    waves = labels_to_waves(base, fs, options)
    assert [w.kind for w in waves] == ["P", "QRS", "T"]
    # a lone P (no QRS within 400 ms of its offset) is dropped, unless it is near the end
    lone_p = base.copy()
    lone_p[1500:1540] = 1
    assert [w.kind for w in labels_to_waves(lone_p, fs, options)] == ["P", "QRS", "T"]
    assert len(labels_to_waves(lone_p, fs, WaveOptions())) == 4
    edge_p = base.copy()
    edge_p[2300:2340] = 1  # 400 ms after its offset is past the end of the signal
    assert [w.kind for w in labels_to_waves(edge_p, fs, options)] == ["P", "QRS", "T", "P"]
    # a T with no QRS before it within 400 ms is dropped, unless near the start
    lone_t = base.copy()
    lone_t[1500:1600] = 3
    assert [w.kind for w in labels_to_waves(lone_t, fs, options)] == ["P", "QRS", "T"]
    early_t = runs((0, 100), (3, 100), (0, 300), *beat(0), (0, 500))
    assert [w.kind for w in labels_to_waves(early_t, fs, options)] == ["T", "P", "QRS", "T"]
    # two QRS 150 ms apart: the stronger survives
    double = runs((0, 500), (2, 80), (0, 70), (2, 40), (0, 500))
    kept = labels_to_waves(double, fs, options)
    assert [(w.kind, w.onset) for w in kept] == [("QRS", 500)]  # the longer
    probs = one_hot(double).astype(float) * 0.5
    probs[2, 650:690] = 0.9
    kept = labels_to_waves(double, fs, options, probs=probs)
    assert [(w.kind, w.onset) for w in kept] == [("QRS", 650)]  # the more probable


def test_options_validation():
    with pytest.raises(ValueError, match="min_t_ms"):
        WaveOptions(min_t_ms=-1)
    assert WaveOptions().min_duration_ms("T") == 40.0
    with pytest.raises(ValueError):
        labels_to_waves(np.zeros((2, 5), dtype=int), 500.0)
    with pytest.raises(ValueError):
        labels_to_waves(np.zeros(5, dtype=int), 0.0)


def test_waves_to_labels_skips_unknown_and_open_waves_and_clips():
    waves = [
        Wave("P", -3, 0, 2),
        Wave("QRS", None, 5, 6),
        Wave("U", 6, 7, 8),
        Wave("T", 8, 9, 20),
    ]
    assert waves_to_labels(waves, 10).tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 3, 3]


@st.composite
def clean_labels(draw):
    """Labels whose runs are all at least 20 samples (40 ms at 500 Hz): longer than every
    default minimum duration and than the 20-ms merge gap, so the cleanup changes nothing."""
    pairs, last = [], None
    for _ in range(draw(st.integers(1, 12))):
        label = draw(st.sampled_from([k for k in range(4) if k != last]))
        pairs.append((label, draw(st.integers(20, 60))))
        last = label
    return runs(*pairs)


@settings(max_examples=60, deadline=None)
@given(clean_labels())
def test_round_trip_labels_waves_labels(labels):
    waves = labels_to_waves(labels, 500.0)
    np.testing.assert_array_equal(waves_to_labels(waves, labels.size), labels)
    assert all(w.onset <= w.peak <= w.offset for w in waves)
    assert [w.onset for w in waves] == sorted(w.onset for w in waves)


@settings(max_examples=40, deadline=None)
@given(clean_labels(), st.integers(1, 5), st.sampled_from(["mean", "median"]))
def test_fusion_of_identical_leads_equals_one_lead(labels, leads, method):
    rng = np.random.default_rng(labels.size)
    probs = one_hot(labels) + 0.3 * rng.random((4, labels.size))
    probs /= probs.sum(axis=0, keepdims=True)
    fused = fuse_leads(np.repeat(probs[None], leads, axis=0), method)
    np.testing.assert_allclose(fused, probs, atol=1e-12)
    assert probs_to_waves(fused, 500.0) == probs_to_waves(probs, 500.0)


def test_median_fusion_resists_one_bad_lead():
    good = one_hot(runs((0, 30), (2, 30), (0, 30))).astype(float)
    bad = one_hot(np.full(90, 3)).astype(float)
    stack = np.stack([good, good, bad])
    np.testing.assert_allclose(fuse_leads(stack, "median"), good)
    mean = fuse_leads(stack, "mean")
    np.testing.assert_allclose(mean.sum(axis=0), 1.0)
    with pytest.raises(ValueError, match="median"):
        fuse_leads(stack, "max")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        fuse_leads(good)


def test_beat_intervals_on_constructed_beats():
    fs = 500.0  # 2 ms per sample
    waves = [
        Wave("P", 100, 120, 150),
        Wave("QRS", 180, 200, 225),  # PR = 80 samples = 160 ms, QRS 45 samples = 90 ms
        Wave("T", 300, 350, 380),  # QT = 200 samples = 400 ms
        Wave("P", 500, 520, 550),
        Wave("QRS", 580, 600, 625),  # RR (peak to peak) = 400 samples = 800 ms
        Wave("T", 700, 760, None),  # no T offset: no QT
        Wave("QRS", None, 1100, 1145),  # RR = 1000 ms; no onset: no PR, QRS or QT
        Wave("T", 1220, 1270, 1300),
    ]
    beats = beat_intervals(waves[::-1], fs)  # input order does not matter
    assert len(beats) == 3
    b0, b1, b2 = beats
    assert (b0["qrs_onset"], b0["qrs_peak"], b0["qrs_offset"]) == (180, 200, 225)
    assert (b0["pr_ms"], b0["qrs_ms"], b0["qt_ms"]) == (160.0, 90.0, 400.0)
    assert b0["rr_ms"] is None and b0["qtc_bazett_ms"] is None
    assert b1["pr_ms"] == 160.0 and b1["rr_ms"] == 800.0 and b1["qt_ms"] is None
    assert b1["qtc_bazett_ms"] is None and b1["qtc_fridericia_ms"] is None
    assert b2["rr_ms"] == 1000.0
    assert b2["pr_ms"] is None and b2["qrs_ms"] is None and b2["qt_ms"] is None


def test_qtc_formulas():
    fs = 1000.0
    waves = [
        Wave("QRS", 0, 20, 90),
        Wave("QRS", 640, 660, 730),  # RR 640 ms = 0.64 s
        Wave("T", 850, 950, 1040),  # QT 400 ms
    ]
    b = beat_intervals(waves, fs)[1]
    assert b["qt_ms"] == 400.0 and b["rr_ms"] == 640.0
    assert b["qtc_bazett_ms"] == pytest.approx(400.0 / 0.8)  # sqrt(0.64) = 0.8
    assert b["qtc_fridericia_ms"] == pytest.approx(400.0 / 0.64 ** (1 / 3))
    assert math.isclose(b["qtc_fridericia_ms"], 464.16, rel_tol=1e-4)


def test_p_and_t_are_assigned_within_their_beat():
    fs = 1000.0
    waves = [
        Wave("QRS", 100, 120, 180),
        Wave("P", 300, 320, 340),  # non-conducted P: belongs to no PR
        Wave("P", 700, 720, 760),
        Wave("QRS", 900, 920, 980),  # PR from the last P before it: 200 ms
    ]
    b0, b1 = beat_intervals(waves, fs)
    assert b0["pr_ms"] is None and b0["qt_ms"] is None  # T waves absent
    assert b1["pr_ms"] == 200.0
