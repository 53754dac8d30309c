import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sigseg.data.record import IGNORE_INDEX
from sigseg.metrics.samples import confusion_matrix, sample_scores
from sigseg.tasks.ecg import CLASSES

K = len(CLASSES)


def test_tiny_confusion_by_hand():
    #          bg  P  P QRS bg   T  T  (ignored)
    ref = np.array([0, 1, 1, 2, 0, 3, 3, IGNORE_INDEX])
    pred = np.array([0, 1, 0, 2, 1, 3, 2, 3])
    cm = confusion_matrix(pred, ref, K)
    expected = np.zeros((4, 4), dtype=np.int64)
    expected[0, 0] = 1  # bg -> bg
    expected[1, 1] = 1  # P -> P
    expected[1, 0] = 1  # P -> bg
    expected[2, 2] = 1  # QRS -> QRS
    expected[0, 1] = 1  # bg -> P
    expected[3, 3] = 1  # T -> T
    expected[3, 2] = 1  # T -> QRS
    np.testing.assert_array_equal(cm, expected)
    assert cm.sum() == 7  # the ignored sample is gone

    s = sample_scores(cm, CLASSES)
    # P: TP 1, FP 1 (bg called P), FN 1 (P called bg)
    assert s["P"]["precision"] == 0.5 and s["P"]["recall"] == 0.5
    assert s["P"]["f1"] == 0.5 and s["P"]["iou"] == pytest.approx(1 / 3)
    # QRS: TP 1, FP 1 (a T called QRS), FN 0
    assert s["QRS"]["precision"] == 0.5 and s["QRS"]["recall"] == 1.0
    assert s["QRS"]["f1"] == pytest.approx(2 / 3)
    # T: TP 1, FP 0, FN 1
    assert s["T"]["precision"] == 1.0 and s["T"]["recall"] == 0.5
    assert s["T"]["support"] == 2.0


def test_absent_class_is_nan_not_zero():
    cm = confusion_matrix(np.array([0, 0, 2]), np.array([0, 0, 2]), K)
    s = sample_scores(cm, CLASSES)
    assert s["QRS"]["f1"] == 1.0
    assert math.isnan(s["P"]["f1"]) and math.isnan(s["P"]["precision"])
    assert s["P"]["support"] == 0.0


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        confusion_matrix(np.zeros(3, int), np.zeros(4, int), K)
    with pytest.raises(ValueError, match="pred labels"):
        confusion_matrix(np.array([0, 4]), np.array([0, 1]), K)
    # an out-of-range prediction on an ignored sample is not looked at
    confusion_matrix(np.array([0, 7]), np.array([0, IGNORE_INDEX]), K)
    with pytest.raises(ValueError, match="square"):
        sample_scores(np.zeros((4, 3)), CLASSES)


labels = st.integers(0, len(CLASSES) - 1)
ref_labels = st.one_of(labels, st.just(IGNORE_INDEX))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_confusion_is_additive_and_scores_bounded(data):
    n1, n2 = data.draw(st.integers(0, 40)), data.draw(st.integers(0, 40))
    p1, p2 = (data.draw(arrays(np.int64, n, elements=labels)) for n in (n1, n2))
    r1, r2 = (data.draw(arrays(np.int64, n, elements=ref_labels)) for n in (n1, n2))
    cm = confusion_matrix(np.concatenate([p1, p2]), np.concatenate([r1, r2]), K)
    np.testing.assert_array_equal(cm, confusion_matrix(p1, r1, K) + confusion_matrix(p2, r2, K))
    for scores in sample_scores(cm, CLASSES).values():
        for key in ("precision", "recall", "f1", "iou"):
            assert math.isnan(scores[key]) or 0.0 <= scores[key] <= 1.0
        # F1 and IoU are tied: IoU = F1 / (2 - F1)
        if not math.isnan(scores["f1"]):
            assert scores["iou"] == pytest.approx(scores["f1"] / (2 - scores["f1"]))


@settings(max_examples=40, deadline=None)
@given(arrays(np.int64, st.integers(1, 60), elements=labels))
def test_perfect_prediction(ref):
    s = sample_scores(confusion_matrix(ref, ref, K), CLASSES)
    for k, name in enumerate(CLASSES):
        if (ref == k).any():
            assert s[name]["f1"] == 1.0 and s[name]["iou"] == 1.0
        else:
            assert math.isnan(s[name]["f1"])
