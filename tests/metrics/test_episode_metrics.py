"""The GazeCom anchor's episode-level F1 (sp_tool's Hooge-style matching): worked cases, an
independent restatement checked on random label sequences, and the sample-level F1 of the same
protocol being sigseg's pooled sample F1."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigseg.metrics import episodes as episodes_module
from sigseg.metrics.episodes import EpisodeCounts, episode_counts, label_runs
from sigseg.metrics.samples import confusion_matrix, sample_scores


def test_docstring_examples() -> None:
    assert doctest.testmod(episodes_module).failed == 0


def test_one_predicted_episode_over_two_reference_episodes_hits_only_the_first() -> None:
    ref = np.array([2, 2, 1, 2, 2, 0])
    pred = np.array([2, 2, 2, 2, 2, 0])
    assert episode_counts(pred, ref, 2) == EpisodeCounts(tp=1, fp=0, fn=1, iou_sum=0.4)
    # the other way round: one reference episode, two predicted pieces -> one hit, one FP
    assert episode_counts(ref, pred, 2) == EpisodeCounts(tp=1, fp=1, fn=0, iou_sum=0.4)


def test_counts_add_over_recordings_and_empty_scores_are_nan() -> None:
    a = episode_counts(np.array([1, 1, 0]), np.array([1, 1, 0]), 1)
    b = episode_counts(np.array([0, 0, 0]), np.array([0, 1, 0]), 1)
    total = a + b
    assert (total.tp, total.fp, total.fn) == (1, 0, 1)
    assert total.f1 == pytest.approx(2 / 3)
    assert total.mean_iou == pytest.approx(0.5)
    empty = episode_counts(np.zeros(4, int), np.zeros(4, int), 3)
    assert math.isnan(empty.f1) and math.isnan(empty.mean_iou)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="pred length 3 != ref length 2"):
        episode_counts(np.zeros(3, int), np.zeros(2, int), 1)
    with pytest.raises(ValueError, match=r"iou_threshold must lie in \[0, 1\]"):
        episode_counts(np.zeros(3, int), np.zeros(3, int), 1, iou_threshold=1.5)


def _restated(pred: np.ndarray, ref: np.ndarray, cls: int) -> tuple[int, int, int]:
    """The any-overlap matching said differently: each reference episode, in order, is hit by
    the first predicted episode that overlaps it, unless that one was the previous reference
    episode's hit (then the next overlapping one); the rest are misses and false alarms."""
    ref_eps = list(zip(*label_runs(ref, cls), strict=True))
    pred_eps = list(zip(*label_runs(pred, cls), strict=True))
    used: set[int] = set()
    previous_hit = -1
    for start, end in ref_eps:
        overlapping = [
            k
            for k, (s, e) in enumerate(pred_eps)
            if min(e, end) > max(s, start) and k != previous_hit and k > previous_hit
        ]
        if overlapping:
            previous_hit = overlapping[0]
            used.add(previous_hit)
    tp = len(used)
    return tp, len(pred_eps) - tp, len(ref_eps) - tp


labels = st.lists(st.integers(0, 3), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(labels, labels, st.integers(0, 3))
def test_matches_the_restated_definition_on_random_sequences(
    a: list[int], b: list[int], cls: int
) -> None:
    n = min(len(a), len(b))
    pred, ref = np.array(a[:n]), np.array(b[:n])
    counts = episode_counts(pred, ref, cls)
    assert (counts.tp, counts.fp, counts.fn) == _restated(pred, ref, cls)
    assert counts.tp + counts.fn == len(label_runs(ref, cls)[0])
    assert counts.tp + counts.fp == len(label_runs(pred, cls)[0])
    same = episode_counts(ref, ref, cls)
    assert same.fp == same.fn == 0 and same.iou_sum == same.tp
    strict = episode_counts(pred, ref, cls, iou_threshold=0.5)
    assert strict.tp <= counts.tp


def test_the_protocols_sample_f1_is_the_pooled_sample_f1() -> None:
    """sp_tool's evaluate_samples: per class, TP/FP/FN over all samples of all files, every
    other class (noise too) negative. Computed that way here, it equals sample_scores of the
    summed confusion matrix."""
    rng = np.random.default_rng(0)
    files = [(rng.integers(0, 4, n), rng.integers(0, 4, n)) for n in (50, 120, 7)]
    cm = sum(confusion_matrix(p, r, 4) for p, r in files)
    scores = sample_scores(cm, ["fix", "sacc", "sp", "noise"])
    for k, name in enumerate(["fix", "sacc", "sp"]):
        tp = sum(int(((p == k) & (r == k)).sum()) for p, r in files)
        fp = sum(int(((p == k) & (r != k)).sum()) for p, r in files)
        fn = sum(int(((p != k) & (r == k)).sum()) for p, r in files)
        assert scores[name]["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
