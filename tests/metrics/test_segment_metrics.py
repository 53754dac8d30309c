import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sigseg.data.record import IGNORE_INDEX
from sigseg.metrics.segments import (
    Segment,
    SegmentCounts,
    edit_distance,
    edit_score,
    label_segments,
    match_segments,
    segment_counts,
    segment_iou,
    segment_scores,
)

X = IGNORE_INDEX


def runs(*pairs):
    """Label array from (label, length) pairs."""
    return np.concatenate([np.full(n, lab) for lab, n in pairs])


def test_label_segments_skip_background_and_split_at_ignored():
    labels = runs((X, 2), (0, 1), (1, 3), (X, 1), (1, 2), (0, 2), (2, 1))
    assert label_segments(labels) == [Segment(1, 3, 5), Segment(1, 7, 8), Segment(2, 11, 11)]
    with_bg = label_segments(labels, background=None)
    assert [s.label for s in with_bg] == [0, 1, 1, 0, 2]
    assert label_segments(np.array([], dtype=int)) == []


def test_iou_by_hand():
    assert segment_iou(Segment(1, 0, 9), Segment(1, 0, 9)) == 1.0
    assert segment_iou(Segment(1, 0, 9), Segment(1, 10, 19)) == 0.0
    assert segment_iou(Segment(1, 0, 9), Segment(1, 5, 14)) == pytest.approx(5 / 15)


def test_f1_depends_on_threshold_by_hand():
    # reference: P (10 samples), QRS (10), T (20)
    ref = runs((0, 5), (1, 10), (0, 5), (2, 10), (0, 5), (3, 20), (0, 5))
    # prediction: P exact (IoU 1); QRS shifted by 6 (overlap 4 of 16: IoU 0.25);
    # T covers 8 of its 20 samples (IoU 0.4)
    pred = runs((0, 5), (1, 10), (0, 11), (2, 10), (0, 4), (3, 8), (0, 12))
    assert pred.size == ref.size
    c = segment_counts(pred, ref)
    # tau 0.10: all three match; 0.25: all three (0.25 counts); 0.50: only P
    assert c.tp == (3, 3, 1) and c.fp == (0, 0, 2) and c.fn == (0, 0, 2)
    s = segment_scores(c)
    assert s["f1@10"] == 1.0 and s["f1@25"] == 1.0
    assert s["f1@50"] == pytest.approx(2 * 1 / (2 * 1 + 2 + 2))
    assert s["edit"] == 1.0  # the order P, QRS, T is right


def test_over_segmentation_costs_segments_and_edit():
    ref = runs((0, 4), (2, 12), (0, 4))
    pred = runs((0, 4), (2, 5), (0, 1), (2, 6), (0, 4))  # the QRS split in two
    c = segment_counts(pred, ref, thresholds=(0.1, 0.5))
    # one-to-one: both pieces overlap the reference (IoU 5/12, 6/12); only the better matches
    assert c.tp == (1, 1) and c.fp == (1, 1) and c.fn == (0, 0)
    assert c.edit_sum == pytest.approx(0.5)  # [2, 2] vs [2]: one deletion over length 2


def test_match_segments_highest_iou_first():
    ref = [Segment(1, 0, 9), Segment(1, 12, 21)]
    pred = [Segment(1, 5, 16)]  # IoU 5/17 with the first, 5/17 with the second: tie
    assert match_segments(pred, ref, 0.1) == [(0, 0)]  # ties go to the earlier reference
    pred = [Segment(1, 4, 17)]  # IoU 6/18 with the first, 6/18 with the second
    assert len(match_segments(pred, ref, 0.1)) == 1
    # labels must agree
    assert match_segments([Segment(2, 0, 9)], [Segment(1, 0, 9)], 0.1) == []


def test_ignored_reference_samples_are_removed_from_prediction():
    ref = runs((X, 5), (0, 2), (1, 6), (0, 2), (X, 5))
    pred = runs((1, 5), (0, 2), (1, 6), (0, 2), (2, 5))  # waves under ignored samples
    c = segment_counts(pred, ref)
    assert c.tp == (1, 1, 1) and c.fp == (0, 0, 0) and c.fn == (0, 0, 0)
    assert c.edit_sum == 1.0


def test_edit_distance_and_score_by_hand():
    assert edit_distance([], []) == 0
    assert edit_distance([1, 2, 3], []) == 3
    assert edit_distance([1, 2, 3], [1, 3]) == 1
    assert edit_distance([1, 2, 3], [3, 2, 1]) == 2
    assert edit_score([], []) == 1.0
    assert edit_score([1, 2, 3, 1, 2, 3], [1, 2, 3, 1, 2, 3]) == 1.0
    assert edit_score([1, 2, 3, 1, 2, 3], [1, 2, 1, 2, 3]) == pytest.approx(5 / 6)
    assert edit_score([1], [2, 3]) == 0.0


def test_counts_add_and_validate():
    a = SegmentCounts((0.5,), (2,), (1,), (0,), 1.0, 1)
    b = SegmentCounts((0.5,), (1,), (0,), (3,), 0.5, 1)
    assert a + b == SegmentCounts((0.5,), (3,), (1,), (3,), 1.5, 2) == sum([a, b])
    assert SegmentCounts.empty((0.5,)) + a == a
    with pytest.raises(ValueError):
        a + SegmentCounts.empty()
    with pytest.raises(ValueError):
        SegmentCounts((0.5,), (1, 2), (0,), (0,))
    s = segment_scores(SegmentCounts.empty())
    assert all(math.isnan(v) for v in s.values())
    assert list(s) == ["f1@10", "f1@25", "f1@50", "edit"]


labels = st.integers(0, 3)


@settings(max_examples=60, deadline=None)
@given(arrays(np.int64, st.integers(1, 80), elements=st.one_of(labels, st.just(X))))
def test_perfect_prediction_scores_one(ref):
    pred = np.where(ref == X, 0, ref)
    c = segment_counts(pred, ref)
    s = segment_scores(c)
    n = len(label_segments(ref))
    assert c.tp == (n, n, n) and c.fp == (0, 0, 0) and c.fn == (0, 0, 0)
    assert s["edit"] == 1.0
    if n:
        assert s["f1@10"] == s["f1@25"] == s["f1@50"] == 1.0


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_scores_bounded_and_monotone_in_threshold(data):
    n = data.draw(st.integers(1, 80))
    ref = data.draw(arrays(np.int64, n, elements=st.one_of(labels, st.just(X))))
    pred = data.draw(arrays(np.int64, n, elements=labels))
    c = segment_counts(pred, ref)
    assert c.tp[0] >= c.tp[1] >= c.tp[2]  # a stricter threshold never matches more
    for v in segment_scores(c).values():
        assert math.isnan(v) or 0.0 <= v <= 1.0
    n_pred = len(label_segments(np.where(ref == X, X, pred)))
    assert all(tp + fp == n_pred for tp, fp in zip(c.tp, c.fp, strict=True))
