"""Generic boundary matching (shared by every task's event metrics): annotated spans and
closest-first one-to-one pairing."""

import numpy as np

from sigseg.data.record import IGNORE_INDEX
from sigseg.metrics.matching import annotated_span, match_positions


def test_annotated_span_from_labels():
    labels = np.full(20, IGNORE_INDEX)
    assert annotated_span(labels, IGNORE_INDEX) is None
    labels[5:12] = 0
    labels[7] = 2
    assert annotated_span(labels, IGNORE_INDEX) == (5, 11)


def test_closest_pairs_first_one_to_one():
    # one prediction between two references: it goes to the closer one
    pairs, p_used, r_used = match_positions(np.array([118]), np.array([100, 130]), 50)
    assert pairs == [(0, 1)] and r_used.tolist() == [False, True]
    # two predictions near one reference: the closer one matches, the other is a FP
    pairs, p_used, _ = match_positions(np.array([95, 103]), np.array([100]), 50)
    assert pairs == [(1, 0)] and p_used.tolist() == [False, True]
    # greedy closest-first, not maximum matching: (5, 4) first leaves 0 and 9 unmatched
    pairs, _, _ = match_positions(np.array([0, 5]), np.array([4, 9]), 5)
    assert pairs == [(1, 0)]
    # unsorted inputs and many candidates: indices refer to the inputs' order
    pairs, _, _ = match_positions(np.array([30, 10, 20]), np.array([21, 29, 9]), 5)
    assert sorted(pairs) == [(0, 1), (1, 2), (2, 0)]
