import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigseg.data.record import Wave
from sigseg.metrics.matching import BoundaryTally
from sigseg.tasks.ecg.boundaries import (
    BOUNDARIES,
    TOLERANCES_150MS,
    TOLERANCES_STRICT,
    BoundaryCounts,
    boundary_scores,
    match_boundaries,
    reference_span,
)


def qrs(onset, offset):
    return Wave("QRS", onset, (onset + offset) // 2, offset)


def test_shifted_predictions_by_hand():
    fs = 500.0  # 2 ms per sample; strict QRS tolerance 40 ms = 20 samples
    ref = [qrs(1000, 1050), qrs(1500, 1550), qrs(2000, 2050), qrs(2500, 2550)]
    # onsets shifted by +5, -5, +10 samples (+10, -10, +20 ms), offsets exact; the 4th QRS is
    # missed, and a spurious QRS at 2800 lies inside the explicit annotated span (900, 3000).
    pred = [qrs(1005, 1050), qrs(1495, 1550), qrs(2010, 2050), qrs(2800, 2850)]
    counts = match_boundaries(pred, ref, fs, TOLERANCES_STRICT, span=(900, 3000))
    on, off = counts["QRS_on"], counts["QRS_off"]
    assert (on.tp, on.fp, on.fn) == (3, 1, 1)
    assert sorted(on.errors_ms) == [-10.0, 10.0, 20.0]
    assert (off.tp, off.fp, off.fn) == (3, 1, 1)
    assert off.errors_ms == (0.0, 0.0, 0.0)
    for b in ("P_on", "P_off", "T_on", "T_off"):
        assert counts[b] == BoundaryTally()

    s = boundary_scores(counts)["QRS_on"]
    assert s["se"] == 0.75 and s["ppv"] == 0.75 and s["f1"] == 0.75
    mean = (10 - 10 + 20) / 3
    sd = math.sqrt(((10 - mean) ** 2 + (-10 - mean) ** 2 + (20 - mean) ** 2) / 3)
    assert s["error_mean_ms"] == pytest.approx(mean)
    assert s["error_sd_ms"] == pytest.approx(sd)
    assert (s["tp"], s["fp"], s["fn"]) == (3.0, 1.0, 1.0)


@pytest.mark.parametrize("fs", [1000.0, 360.0, 250.0])
@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_exactly_at_tolerance_counts_just_beyond_does_not(fs, boundary):
    kind, side = boundary.split("_")
    tol = math.floor(TOLERANCES_STRICT[boundary] * fs / 1000 + 1e-9)  # whole samples in reach
    ref = [Wave(kind, 5000, 5100, 5200)]

    def shifted(d):
        if side == "on":
            return [Wave(kind, 5000 + d, 5100, 5200)]
        return [Wave(kind, 5000, 5100, 5200 + d)]

    for d in (tol, -tol):
        t = match_boundaries(shifted(d), ref, fs, TOLERANCES_STRICT, span=(0, 10_000))[boundary]
        assert (t.tp, t.fp, t.fn) == (1, 0, 0)
        assert t.errors_ms == (pytest.approx(d * 1000 / fs),)
    for d in (tol + 1, -tol - 1):
        t = match_boundaries(shifted(d), ref, fs, TOLERANCES_STRICT, span=(0, 10_000))[boundary]
        assert (t.tp, t.fp, t.fn) == (0, 1, 1)


def test_exact_ms_tolerance_at_1000hz():
    # 1 sample = 1 ms: T offset tolerance 100 ms strict, 150 ms lenient
    ref = [Wave("T", 1000, 1100, 1200)]
    for tol_set, tol in ((TOLERANCES_STRICT, 100), (TOLERANCES_150MS, 150)):
        hit = match_boundaries([Wave("T", 1000, 1100, 1200 + tol)], ref, 1000, tol_set)["T_off"]
        miss = match_boundaries([Wave("T", 1000, 1100, 1201 + tol)], ref, 1000, tol_set)
        assert hit.tp == 1
        assert miss["T_off"].tp == 0


def test_predictions_outside_annotated_span_are_ignored():
    fs = 1000.0  # P tolerance 50 samples
    ref = [Wave("P", 1200, 1250, 1300)]
    span = (1000, 3000)  # the lead's annotated labels
    inside = [Wave("P", 950, 960, 970), Wave("P", 3040, 3045, 3050)]
    outside = [Wave("P", 900, 920, 949), Wave("P", 3051, 3060, 3080), Wave("P", 8000, 8010, 8020)]
    t = match_boundaries(inside + outside, ref, fs, TOLERANCES_STRICT, span=span)
    # P_on counted: 950 (edge: 1000 - 50) and 3040; P_off counted: 970 and 3050 (edge)
    assert (t["P_on"].tp, t["P_on"].fp, t["P_on"].fn) == (0, 2, 1)
    assert (t["P_off"].tp, t["P_off"].fp, t["P_off"].fn) == (0, 2, 1)


def test_default_span_comes_from_reference_annotations():
    fs = 1000.0
    ref = [Wave("P", None, 1250, 1300), Wave("T", 2000, 2100, 2200)]
    assert reference_span(ref) == (1250, 2200)
    far = [Wave("P", 100, 150, 200), Wave("P", 1150, 1160, 1170)]
    t = match_boundaries(far, ref, fs, TOLERANCES_STRICT)
    # the span is 1250 - 50 .. 2200 + 50 for P boundaries: every predicted boundary (100, 200,
    # 1150, 1170) lies before it, so none counts
    assert t["P_on"].fp == 0 and t["P_off"].fp == 0
    assert t["P_off"].fn == 1  # the reference P offset was missed
    assert t["P_on"].fn == 0  # no reference P onset: nothing to miss
    # no reference waves and no span: nothing is annotated, nothing counts
    empty = match_boundaries(far, [], fs, TOLERANCES_STRICT)
    assert all(empty[b] == BoundaryTally() for b in BOUNDARIES)


def test_several_spans():
    fs = 1000.0
    ref = [Wave("QRS", 1000, 1040, 1080), Wave("QRS", 9000, 9040, 9080)]
    pred = [*ref, Wave("QRS", 5000, 5040, 5080)]  # between the two annotated beats
    spans = [(900, 1200), (8900, 9200)]
    t = match_boundaries(pred, ref, fs, TOLERANCES_STRICT, span=spans)
    assert (t["QRS_on"].tp, t["QRS_on"].fp) == (2, 0)
    t = match_boundaries(pred, ref, fs, TOLERANCES_STRICT, span=(900, 9200))
    assert (t["QRS_on"].tp, t["QRS_on"].fp) == (2, 1)


def test_via_waves_errors_keep_sign():
    ref = [Wave("P", 100, 120, 140), Wave("P", 130, 150, 170)]
    pred = [Wave("P", 118, 120, 140)]
    t = match_boundaries(pred, ref, 1000.0, TOLERANCES_STRICT, span=(0, 1000))["P_on"]
    assert (t.tp, t.fp, t.fn) == (1, 0, 1) and t.errors_ms == (-12.0,)


def test_kinds_are_not_mixed_and_missing_boundaries_are_skipped():
    ref = [Wave("P", None, 120, 140), Wave("U", 400, 420, 440)]
    pred = [Wave("QRS", 100, 120, 140), Wave("P", 100, 120, None)]
    t = match_boundaries(pred, ref, 1000.0, TOLERANCES_STRICT, span=(0, 1000))
    assert (t["P_off"].tp, t["P_off"].fp, t["P_off"].fn) == (0, 0, 1)
    assert (t["P_on"].tp, t["P_on"].fp, t["P_on"].fn) == (0, 1, 0)  # no reference P onset
    assert (t["QRS_off"].fp, t["QRS_on"].fp) == (1, 1)


def test_counts_add_and_sum():
    a = match_boundaries([qrs(100, 150)], [qrs(102, 150)], 500.0, TOLERANCES_STRICT)
    b = match_boundaries([], [qrs(100, 150)], 500.0, TOLERANCES_STRICT)
    total = sum([a, b])
    assert total == a + b == BoundaryCounts() + a + b
    assert (total["QRS_on"].tp, total["QRS_on"].fn) == (1, 1)
    assert total["QRS_on"].errors_ms == (-4.0,)
    with pytest.raises(ValueError):
        BoundaryCounts({"P_on": BoundaryTally()})


def test_scores_undefined_are_nan():
    s = boundary_scores(BoundaryCounts())
    assert math.isnan(s["P_on"]["f1"]) and math.isnan(s["P_on"]["error_mean_ms"])
    assert math.isnan(s["macro_f1"])


def test_macro_f1_is_mean_of_six():
    tallies = {b: BoundaryTally(tp=1, fp=0, fn=0) for b in BOUNDARIES}
    tallies["T_off"] = BoundaryTally(tp=1, fp=1, fn=0)  # F1 2/3
    s = boundary_scores(BoundaryCounts(tallies))
    assert s["macro_f1"] == pytest.approx((5 + 2 / 3) / 6)


# ---- property tests ----------------------------------------------------------------------

KINDS = ("P", "QRS", "T")


@st.composite
def wave_lists(draw, max_waves=12, min_gap=0):
    """Non-overlapping waves in time order, starting at sample 100."""
    waves, t = [], 100
    for _ in range(draw(st.integers(0, max_waves))):
        t += draw(st.integers(min_gap, min_gap + 200))
        length = draw(st.integers(1, 150))
        onset = draw(st.one_of(st.just(t), st.just(None))) if draw(st.booleans()) else t
        offset = t + length - 1
        waves.append(Wave(draw(st.sampled_from(KINDS)), onset, t + length // 2, offset))
        t = offset + 1
    return waves


def _n_boundaries(waves, boundary):
    kind, side = boundary.split("_")
    return sum(
        1 for w in waves if w.kind == kind and (w.onset if side == "on" else w.offset) is not None
    )


@settings(max_examples=60, deadline=None)
@given(wave_lists(), st.sampled_from([250.0, 360.0, 500.0]))
def test_perfect_prediction_scores_one_with_zero_error(ref, fs):
    counts = match_boundaries(ref, ref, fs, TOLERANCES_STRICT)
    scores = boundary_scores(counts)
    for b in BOUNDARIES:
        n = _n_boundaries(ref, b)
        assert (counts[b].tp, counts[b].fp, counts[b].fn) == (n, 0, 0)
        if n:
            assert scores[b]["f1"] == 1.0
            assert scores[b]["error_mean_ms"] == 0.0 and scores[b]["error_sd_ms"] == 0.0


@settings(max_examples=60, deadline=None)
@given(wave_lists(min_gap=60), st.integers(-19, 19))
def test_uniform_shift_within_tolerance_is_all_matched(ref, shift):
    # 500 Hz, strict: the smallest tolerance is 40 ms = 20 samples; waves of a kind are at
    # least 60 samples apart, so every shifted boundary's closest reference is its own
    fs = 500.0

    def move(w):
        return Wave(w.kind, None if w.onset is None else w.onset + shift, w.peak, w.offset + shift)

    counts = match_boundaries([move(w) for w in ref], ref, fs, TOLERANCES_STRICT)
    for b in BOUNDARIES:
        n = _n_boundaries(ref, b)
        assert (counts[b].tp, counts[b].fp, counts[b].fn) == (n, 0, 0)
        assert all(e == pytest.approx(shift * 2.0) for e in counts[b].errors_ms)


@settings(max_examples=60, deadline=None)
@given(wave_lists(), wave_lists(), wave_lists(), wave_lists())
def test_counts_additive_over_leads_and_bounded(ref1, pred1, ref2, pred2):
    fs = 500.0
    tol = TOLERANCES_150MS
    c1 = match_boundaries(pred1, ref1, fs, tol, span=(100, 2000))
    c2 = match_boundaries(pred2, ref2, fs, tol, span=(100, 2000))
    # the same two leads laid end to end, far apart, scored with two spans in one call
    off = 100_000

    def move(w):
        return Wave(
            w.kind, None if w.onset is None else w.onset + off, w.peak + off, w.offset + off
        )

    joined = match_boundaries(
        pred1 + [move(w) for w in pred2],
        ref1 + [move(w) for w in ref2],
        fs,
        tol,
        span=[(100, 2000), (100 + off, 2000 + off)],
    )
    total = c1 + c2
    for b in BOUNDARIES:
        assert (total[b].tp, total[b].fp, total[b].fn) == (joined[b].tp, joined[b].fp, joined[b].fn)
        assert sorted(total[b].errors_ms) == sorted(joined[b].errors_ms)
        assert total[b].tp + total[b].fn == _n_boundaries(ref1, b) + _n_boundaries(ref2, b)
        assert all(abs(e) <= 150.0 for e in total[b].errors_ms)
    scores = boundary_scores(total)
    for b in BOUNDARIES:
        for key in ("se", "ppv", "f1"):
            v = scores[b][key]
            assert math.isnan(v) or 0.0 <= v <= 1.0
