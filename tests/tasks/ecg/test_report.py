import json
import math

import numpy as np
import pytest

from sigseg.data.record import IGNORE_INDEX, Wave
from sigseg.tasks.ecg.boundaries import BOUNDARIES, TOLERANCES_STRICT
from sigseg.tasks.ecg.report import Evaluation, evaluate_lead, format_tables, group_summary

FS = 500.0


def lead():
    """A 4-s lead at 500 Hz, annotated from 1 s to 3 s, two beats."""
    waves = []
    for start in (600, 1000):
        waves += [
            Wave("P", start, start + 25, start + 50),
            Wave("QRS", start + 80, start + 100, start + 125),
            Wave("T", start + 200, start + 250, start + 300),
        ]
    labels = np.full(2000, IGNORE_INDEX, dtype=np.int64)
    labels[500:1500] = 0
    for w in waves:
        labels[w.onset : w.offset + 1] = {"P": 1, "QRS": 2, "T": 3}[w.kind]
    return waves, labels


def test_perfect_lead():
    waves, labels = lead()
    result = evaluate_lead(waves, labels, waves, labels, FS).result()
    assert result["leads"] == 1
    assert result["strict_macro_f1"] == 1.0
    for name in ("150ms", "strict"):
        assert result["boundaries"][name]["macro_f1"] == 1.0
        for b in BOUNDARIES:
            assert result["boundaries"][name][b]["tp"] == 2.0
    for cls in ("background", "P", "QRS", "T"):
        assert result["samples"][cls]["f1"] == 1.0
    assert result["segments"] == {"f1@10": 1.0, "f1@25": 1.0, "f1@50": 1.0, "edit": 1.0}
    assert result["tolerances_ms"]["strict"] == dict(TOLERANCES_STRICT)


def test_predictions_in_unannotated_region_do_not_count():
    waves, labels = lead()
    # an extra beat predicted at 1.5..2 s, where nothing is annotated (more than 150 ms away)
    extra = [Wave("P", 1700, 1725, 1750), Wave("QRS", 1780, 1800, 1825)]
    pred_labels = labels.copy()
    pred_labels[labels == IGNORE_INDEX] = 0
    pred_labels[1700:1751] = 1
    pred_labels[1780:1826] = 2
    result = evaluate_lead(waves + extra, pred_labels, waves, labels, FS).result()
    assert result["strict_macro_f1"] == 1.0
    assert result["boundaries"]["150ms"]["P_on"]["fp"] == 0.0
    assert result["samples"]["P"]["f1"] == 1.0
    assert result["segments"]["f1@50"] == 1.0


def test_accumulates_over_leads():
    waves, labels = lead()
    good = evaluate_lead(waves, labels, waves, labels, FS)
    # a lead where the T waves are missed entirely
    no_t = [w for w in waves if w.kind != "T"]
    pred_labels = np.where(labels == 3, 0, labels)
    bad = evaluate_lead(no_t, pred_labels, waves, labels, FS)
    total = Evaluation.empty() + good + bad
    assert total == sum([good, bad])
    r = total.result()
    assert r["leads"] == 2
    t_on = r["boundaries"]["strict"]["T_on"]
    assert (t_on["tp"], t_on["fn"], t_on["se"], t_on["ppv"]) == (2.0, 2.0, 0.5, 1.0)
    assert r["strict_macro_f1"] == pytest.approx((4 * 1.0 + 2 * (2 / 3)) / 6)
    assert r["samples"]["T"]["recall"] == 0.5
    np.testing.assert_array_equal(total.confusion, good.confusion + bad.confusion)
    # segments: 12 reference segments, 10 found, no false positive
    assert r["segments"]["f1@50"] == pytest.approx(2 * 10 / (2 * 10 + 2))
    assert r["segments"]["edit"] == pytest.approx((1.0 + 4 / 6) / 2)


def test_mismatched_evaluations_cannot_be_added():
    waves, labels = lead()
    a = evaluate_lead(waves, labels, waves, labels, FS)
    only_strict = {"strict": TOLERANCES_STRICT}
    b = evaluate_lead(waves, labels, waves, labels, FS, tolerance_sets=only_strict)
    with pytest.raises(ValueError):
        a + b
    assert math.isnan(Evaluation.empty(tolerance_sets={}).result()["strict_macro_f1"])


def test_evaluation_is_immutable():
    ev = Evaluation.empty()
    with pytest.raises(ValueError):
        ev.confusion[0, 0] = 1


def test_tables_and_json():
    waves, labels = lead()
    result = (Evaluation.empty() + evaluate_lead(waves[:3], labels, waves, labels, FS)).result()
    text = format_tables(result)
    assert "Strict macro-F1 (headline)" in text
    for b in BOUNDARIES:
        assert b in text
    assert "'150ms'" in text and "'strict'" in text
    assert "f1@50" in text
    # an empty evaluation formats with dashes rather than failing
    empty_text = format_tables(Evaluation.empty().result())
    assert " - " in empty_text or empty_text.rstrip().endswith("-")
    assert all(line == line.rstrip() for line in text.splitlines())
    json.dumps(result)  # plain types only


def test_group_summary_counts_p_waves_where_none_is_annotated() -> None:
    """Atrial fibrillation: QRS and T annotated, no P; every predicted P is a false positive
    per beat, and T F1 is read from the strict set."""
    labels = np.full(5000, IGNORE_INDEX)
    labels[200:4800] = 0
    reference, predicted = [], []
    for peak in range(500, 4500, 1000):  # four beats
        qrs, t = (
            Wave("QRS", peak - 20, peak, peak + 20),
            Wave("T", peak + 150, peak + 250, peak + 350),
        )
        reference += [qrs, t]
        predicted += [qrs, t]
    predicted.insert(0, Wave("P", 380, 400, 420))  # one invented P wave
    result = evaluate_lead(predicted, labels, reference, labels, fs=500).result()
    summary = group_summary(result)
    assert summary["p_fp_per_beat"] == 0.25 and summary["t_f1"] == 1.0 and summary["leads"] == 1
