"""Property-based tests: post-processing, boundary metrics and windowing hold their invariants
on any input hypothesis can find, not only on the examples the module tests chose."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sigseg.data.record import IGNORE_INDEX, Wave
from sigseg.inference.predict import predict_long
from sigseg.inference.windows import (
    WindowOptions,
    keep_spans,
    plan_windows,
    stack_windows,
    window_width,
)
from sigseg.tasks.ecg.boundaries import (
    BOUNDARIES,
    TOLERANCES_STRICT,
    boundary_positions,
    match_boundaries,
    tally_scores,
)
from sigseg.tasks.ecg.waves import WaveOptions, labels_to_waves, waves_to_labels

FAST = settings(max_examples=60, deadline=None)
RATES = st.sampled_from([100.0, 250.0, 360.0, 500.0])


# --- post-processing ------------------------------------------------------------------------------


labels_any = arrays(
    np.int64, st.integers(1, 300), elements=st.sampled_from([0, 0, 1, 2, 3, IGNORE_INDEX])
)


@FAST
@given(labels_any, RATES, st.booleans())
def test_waves_are_well_formed_and_disjoint(labels: np.ndarray, fs: float, check: bool) -> None:
    options = WaveOptions(check_order=check)
    waves = labels_to_waves(labels, fs, options)
    previous_end = -1
    for w in waves:
        assert w.kind in ("P", "QRS", "T")
        assert previous_end < w.onset <= w.peak <= w.offset < labels.size
        assert (w.offset - w.onset + 1) * 1000 / fs >= options.min_duration_ms(w.kind) - 1e-6
        previous_end = w.offset
    painted = waves_to_labels(waves, labels.size)
    for w in waves:  # a wave never covers a sample the labels left unannotated
        assert not (labels[w.onset : w.offset + 1] == IGNORE_INDEX).any()
        assert (painted[w.onset : w.offset + 1] == ("", "P", "QRS", "T").index(w.kind)).all()


@FAST
@given(arrays(np.int64, st.integers(1, 300), elements=st.integers(0, 3)), RATES)
def test_plain_decoding_round_trips(labels: np.ndarray, fs: float) -> None:
    waves = labels_to_waves(labels, fs, WaveOptions.plain())
    np.testing.assert_array_equal(waves_to_labels(waves, labels.size), labels)


@FAST
@given(labels_any, RATES)
def test_decoding_is_idempotent(labels: np.ndarray, fs: float) -> None:
    first = labels_to_waves(labels, fs)
    painted = waves_to_labels(first, labels.size)
    painted[labels == IGNORE_INDEX] = IGNORE_INDEX  # the annotation gaps stay gaps
    again = labels_to_waves(painted, fs)
    assert [(w.kind, w.onset, w.offset) for w in again] == [
        (w.kind, w.onset, w.offset) for w in first
    ]


# --- boundary metrics -----------------------------------------------------------------------------


@st.composite
def wave_lists(draw: st.DrawFn, length: int = 3000) -> list[Wave]:
    """Any waves, overlapping or not, some with a missing onset or offset."""
    out = []
    for _ in range(draw(st.integers(0, 12))):
        onset = draw(st.integers(0, length))
        offset = onset + draw(st.integers(0, 80))
        out.append(
            Wave(
                draw(st.sampled_from(["P", "QRS", "T", "U"])),
                None if draw(st.integers(0, 9)) == 0 else onset,
                onset,
                None if draw(st.integers(0, 9)) == 0 else offset,
            )
        )
    return out


@FAST
@given(
    wave_lists(),
    wave_lists(),
    RATES,
    st.one_of(st.none(), st.tuples(st.integers(0, 1500), st.integers(1500, 3000))),
)
def test_boundary_counts_add_up(
    pred: list[Wave], ref: list[Wave], fs: float, span: tuple[int, int] | None
) -> None:
    counts = match_boundaries(pred, ref, fs, TOLERANCES_STRICT, span=span)
    marks = [m for w in ref for m in (w.onset, w.peak, w.offset) if m is not None]
    window = span if span is not None else ((min(marks), max(marks)) if marks else None)
    for b in BOUNDARIES:
        tally = counts[b]
        tol = TOLERANCES_STRICT[b] * fs / 1000
        predicted = boundary_positions(pred, b)
        inside = (
            predicted[(predicted >= window[0] - tol) & (predicted <= window[1] + tol)]
            if window
            else predicted[:0]
        )
        assert tally.tp + tally.fn == boundary_positions(ref, b).size
        assert tally.tp + tally.fp == inside.size
        assert len(tally.errors_ms) == tally.tp
        assert all(abs(e) <= TOLERANCES_STRICT[b] + 1e-6 for e in tally.errors_ms)
        f1 = tally_scores(tally)["f1"]
        assert (0.0 <= f1 <= 1.0) or (math.isnan(f1) and tally.tp + tally.fp + tally.fn == 0)


@FAST
@given(wave_lists(), RATES)
def test_a_reference_scores_one_against_itself(ref: list[Wave], fs: float) -> None:
    counts = match_boundaries(ref, ref, fs)
    for b in BOUNDARIES:
        assert counts[b].fp == counts[b].fn == 0
        assert all(e == 0 for e in counts[b].errors_ms)


# --- windowing ------------------------------------------------------------------------------------


@st.composite
def window_options(draw: st.DrawFn) -> WindowOptions:
    window = draw(st.integers(1, 64))
    overlap = draw(st.integers(0, window - 1))
    blinding = draw(st.one_of(st.none(), st.integers(0, overlap // 2)))
    return WindowOptions(
        window=window,
        overlap=overlap,
        blinding=blinding,
        stacking=draw(st.sampled_from(["mean", "max"])),
        batch_size=draw(st.integers(1, 5)),
        pad_short=draw(st.booleans()),
    )


@FAST
@given(st.integers(1, 600), window_options())
def test_windows_cover_every_sample_and_kept_parts_tile(
    length: int, options: WindowOptions
) -> None:
    starts = plan_windows(length, options)
    width = window_width(length, options)
    assert starts[0] == 0 and np.all(np.diff(starts) > 0)
    assert np.all(np.diff(starts) <= options.step)
    assert starts[-1] + width >= length and starts[-1] <= max(length - width, 0)
    spans = keep_spans(starts, length, options)
    assert spans[0, 0] == 0 and spans[-1, 1] == length
    assert np.all(spans[:, 0] < spans[:, 1])  # every window keeps something
    assert np.all(spans[1:, 0] <= spans[:-1, 1])  # no gap between kept parts
    assert np.all(spans[1:, 0] >= spans[:-1, 0])  # in order
    covered = np.zeros(length, dtype=int)
    for lo, hi in spans:
        covered[lo:hi] += 1
    assert covered.min() >= 1
    if options.blinding is None and options.overlap_samples % 2 == 0 and len(starts) > 2:
        inner = spans[:-1]  # regular windows tile exactly (the last one is flush with the end)
        np.testing.assert_array_equal(inner[1:, 0], inner[:-1, 1])


@FAST
@given(st.integers(1, 400), window_options(), st.data())
def test_stitching_a_position_independent_model_is_invisible(
    length: int, options: WindowOptions, data: st.DataObject
) -> None:
    """Windows cut from one probability map stitch back to exactly that map."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    whole = rng.random((2, 3, length), dtype=np.float32)  # (leads, K, L)
    starts = plan_windows(length, options)
    width = window_width(length, options)
    padded = np.concatenate([whole, np.zeros((2, 3, width), np.float32)], axis=-1)
    windows = np.stack([padded[..., s : s + width] for s in starts])
    np.testing.assert_allclose(stack_windows(windows, starts, length, options), whole, rtol=1e-6)


class ConstantModel:
    """A backend whose logits are the same at every sample of every window."""

    in_channels = 1
    num_classes = 4
    sampling_rate = 250.0

    def __init__(self, logits: np.ndarray) -> None:
        self.logits = logits.astype(np.float32)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        n, _, length = batch.shape
        return np.broadcast_to(self.logits[None, :, None], (n, 4, length)).copy()


@FAST
@given(
    st.integers(1, 700),
    st.sampled_from([100.0, 250.0, 257.0, 360.0, 500.0, 1000.0]),
    window_options(),
    arrays(np.float32, 4, elements=st.floats(-20, 20, width=32)),
    st.integers(1, 3),
    st.integers(8, 300),
)
def test_stitching_a_constant_model_returns_the_constant(
    length: int,
    fs: float,
    options: WindowOptions,
    logits: np.ndarray,
    leads: int,
    chunk: int,
) -> None:
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    signal = np.random.default_rng(length).standard_normal((leads, length)).astype(np.float32)
    probs = predict_long(ConstantModel(logits), signal, fs, options=options, chunk_size=chunk)
    assert probs.shape == ((leads, 4, length) if leads > 1 else (4, length))
    np.testing.assert_allclose(probs, np.broadcast_to(expected[:, None], probs.shape), atol=1e-6)
