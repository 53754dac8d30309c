import doctest

import numpy as np
import pytest

from sigseg.data.record import Wave
from sigseg.inference import decode as decode_module
from sigseg.inference.decode import (
    clean_labels,
    decode,
    events_to_labels,
    labels_from_probs,
)
from sigseg.tasks.base import IGNORE_INDEX, Task


def probs_of(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """0.9 for the labelled class, 0.05 elsewhere."""
    p = np.full((num_classes, labels.size), 0.05)
    p[labels, np.arange(labels.size)] = 0.9
    return p


def runs(*pieces: tuple[int, int]) -> np.ndarray:
    """Labels from (class, length) pieces."""
    return np.concatenate([np.full(n, k, dtype=np.int64) for k, n in pieces])


def spans(waves: list[Wave]) -> list[tuple[str, int | None, int | None]]:
    return [(w.kind, w.onset, w.offset) for w in waves]


def test_docstring_examples():
    assert doctest.testmod(decode_module).failed == 0


SPINDLES = Task(
    "spindles",
    ("background", "spindle"),
    merge_gap_s=0.02,
    min_duration_s={"spindle": 0.04},
)
# bg 0-19 | ev 20-25 | gap 26-29 (4) | ev 30-35 | bg 36-55 | ev 56-61 | gap 62-66 (5) | ev 67-72
# | bg 73-92 | ev 93-101 (9) | bg 102-121 | ev 122-131 (10) | bg 132-151
GAPPY = runs((0, 20), (1, 6), (0, 4), (1, 6), (0, 20), (1, 6), (0, 5), (1, 6), (0, 20), (1, 9))
GAPPY = np.concatenate([GAPPY, runs((0, 20), (1, 10), (0, 20))])


def test_gap_merging_and_min_duration_at_250_hz():
    # 250 Hz: gaps under 0.02 s = 5 samples merge (4 does, 5 does not); runs under 0.04 s =
    # 10 samples are dropped (the unmerged 6-sample pieces and the 9-sample run).
    waves = decode(probs_of(GAPPY, 2), fs=250, task=SPINDLES)
    assert spans(waves) == [("spindle", 20, 35), ("spindle", 122, 131)]
    labels = labels_from_probs(probs_of(GAPPY, 2), fs=250, task=SPINDLES)
    expected = np.zeros(GAPPY.size, dtype=np.int64)
    expected[20:36] = 1
    expected[122:132] = 1
    np.testing.assert_array_equal(labels, expected)


def test_the_same_rules_at_125_hz():
    # 125 Hz: the gap limit is 2.5 samples (neither gap merges), the minimum 5 samples (every
    # run is long enough)
    waves = decode(probs_of(GAPPY, 2), fs=125, task=SPINDLES)
    assert spans(waves) == [
        ("spindle", 20, 25),
        ("spindle", 30, 35),
        ("spindle", 56, 61),
        ("spindle", 67, 72),
        ("spindle", 93, 101),
        ("spindle", 122, 131),
    ]


def test_peak_and_score_of_a_merged_interval():
    p = probs_of(GAPPY, 2)
    p[1, 33] = 0.95
    first = decode(p, fs=250, task=SPINDLES)[0]
    assert (first.onset, first.peak, first.offset) == (20, 33, 35)
    # 11 samples at 0.9, one at 0.95, the 4 gap samples at 0.05
    assert first.score == pytest.approx((11 * 0.9 + 0.95 + 4 * 0.05) / 16)


def test_a_gap_holding_another_event_class_is_filled():
    task = Task("two", ("background", "a", "b"), merge_gap_s=0.002)  # 2 samples at 1 kHz
    labels = runs((0, 3), (1, 4), (2, 1), (1, 4), (0, 3))
    assert spans(decode(probs_of(labels, 3), 1000, task)) == [("a", 3, 11)]


def test_waves_are_sorted_by_onset_across_classes():
    task = Task("two", ("background", "a", "b"))
    labels = runs((0, 2), (2, 3), (1, 2), (0, 1), (2, 1), (1, 2))
    assert spans(decode(probs_of(labels, 3), 100, task)) == [
        ("b", 2, 4),
        ("a", 5, 6),
        ("b", 8, 8),
        ("a", 9, 10),
    ]


STAGES = Task(
    "eye",
    ("fix", "sac", "pur"),
    kind="states",
    min_duration_s={"sac": 0.01, "fix": 0.04},
)


def test_states_absorb_short_runs_into_the_longer_neighbour():
    # 1 kHz: saccades need 10 samples, fixations 40. The 4-sample saccade joins the fixation
    # (50 > 30 samples of pursuit); the 20-sample fixation then joins the pursuit before it
    # (30 > 15 samples of the saccade after it).
    labels = runs((0, 50), (1, 4), (2, 30), (0, 20), (1, 15), (2, 40))
    waves = decode(probs_of(labels, 3), 1000, STAGES)
    assert spans(waves) == [("fix", 0, 53), ("pur", 54, 103), ("sac", 104, 118), ("pur", 119, 158)]
    assert waves[0].score == pytest.approx((50 * 0.9 + 4 * 0.05) / 54)


def test_states_neighbours_of_one_class_join_around_a_short_run():
    labels = runs((0, 45), (1, 3), (0, 50))
    assert spans(decode(probs_of(labels, 3), 1000, STAGES)) == [("fix", 0, 97)]


def test_states_a_lone_short_run_stays():
    labels = runs((1, 3))
    assert spans(decode(probs_of(labels, 3), 1000, STAGES)) == [("sac", 0, 2)]


def test_states_cleaning_recovers_stages_under_flicker():
    # every state has a minimum here; 10% of the samples flipped to a random state
    task = STAGES.replace(min_duration_s={"fix": 0.04, "sac": 0.01, "pur": 0.04})
    truth = runs((0, 100), (1, 30), (2, 100), (0, 100))
    rng = np.random.default_rng(0)
    noisy = np.where(rng.random(truth.size) < 0.1, rng.integers(0, 3, truth.size), truth)
    assert np.count_nonzero(np.diff(noisy)) > 30
    cleaned = labels_from_probs(probs_of(noisy, 3), 1000, task)
    np.testing.assert_array_equal(cleaned, truth)
    np.testing.assert_array_equal(clean_labels(noisy, 1000, task), truth)


PICKS = Task("picks", ("noise", "P", "S"), kind="events", event_sigma_s=0.05)


def picks_probs() -> np.ndarray:
    p = np.zeros((3, 60))
    p[1, [0, 10, 13, 20, 30, 40, 45]] = [0.7, 0.9, 0.8, 0.8, 0.5, 0.9, 0.8]
    p[2, 25] = 0.6
    return p


def test_points_decode_at_the_peaks():
    # 100 Hz, peaks at least 5 samples apart: 13 is 3 from the higher 10; 45 is exactly 5 from
    # 40; 30 is not above 0.5; sample 0 is a peak at the edge
    waves = decode(picks_probs(), 100, PICKS)
    assert [(w.kind, w.onset, w.peak, w.offset) for w in waves] == [
        ("P", 0, 0, 0),
        ("P", 10, 10, 10),
        ("P", 20, 20, 20),
        ("S", 25, 25, 25),
        ("P", 40, 40, 40),
        ("P", 45, 45, 45),
    ]
    assert [w.score for w in waves] == [0.7, 0.9, 0.8, 0.6, 0.9, 0.8]


def test_points_threshold_keyword():
    waves = decode(picks_probs(), 100, PICKS, threshold=0.75)
    assert [w.peak for w in waves] == [10, 20, 40, 45]


def test_points_paint_one_sample_each():
    labels = labels_from_probs(picks_probs(), 100, PICKS)
    expected = np.zeros(60, dtype=np.int64)
    expected[[0, 10, 20, 40, 45]] = 1
    expected[25] = 2
    np.testing.assert_array_equal(labels, expected)


def test_binary_sigmoid_output():
    task = Task("binary", ("background", "event"))
    p = np.array([[0.2, 0.6, 0.7, 0.5, 0.9, 0.1]])
    waves = decode(p, 100, task)
    assert spans(waves) == [("event", 1, 2), ("event", 4, 4)]  # 0.5 is not above one half
    assert waves[0].score == pytest.approx(0.65) and waves[0].peak == 2
    binary_events = Task("beats", ("background", "beat"), kind="events")
    assert [w.peak for w in decode(p, 100, binary_events)] == [2, 4]


def test_wrong_number_of_rows_is_an_error():
    with pytest.raises(ValueError, match="3 classes"):
        decode(np.zeros((1, 10)), 100, Task("t", ("bg", "a", "b")))
    with pytest.raises(ValueError, match="3 classes"):
        decode(np.zeros((2, 10)), 100, Task("t", ("bg", "a", "b")))
    with pytest.raises(ValueError, match="sampling rate"):
        decode(np.zeros((2, 10)), 0, SPINDLES)


def test_events_to_labels_paints_spans_points_and_nothing_else():
    task = Task("t", ("bg", "a", "b"))
    waves = [
        Wave("a", 2, 3, 4),
        Wave("b", 4, 4, 5),  # overwrites sample 4
        Wave("U", 0, 0, 1),  # not a class of the task
        Wave("a", None, 8, None),  # a point
        Wave("b", 9, 10, 12),  # clipped
        Wave("a", None, None, None),
    ]
    np.testing.assert_array_equal(
        events_to_labels(waves, 11, task), [0, 0, 1, 1, 2, 2, 0, 0, 1, 2, 2]
    )
    np.testing.assert_array_equal(
        events_to_labels([Wave("sac", 1, 1, 2)], 4, STAGES),
        [IGNORE_INDEX, 1, 1, IGNORE_INDEX],
    )


def test_score_is_not_part_of_equality():
    assert Wave("a", 1, 1, 1, score=0.3) == Wave("a", 1, 1, 1)
    assert Wave("a", 1, 1, 1, None, 0.3).score == 0.3
