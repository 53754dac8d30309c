"""Mean and SD over seeds on hand numbers."""

from __future__ import annotations

import math

import pytest

from sigseg.compare.aggregate import MeanSD, aggregate, flatten, mean_sd, unflatten
from sigseg.compare.runs import run_metrics


def test_mean_sd_hand_numbers() -> None:
    # 0.94, 0.95, 0.96: mean 0.95, sample SD sqrt(((-0.01)^2 + 0 + 0.01^2) / 2) = 0.01
    result = mean_sd([0.94, 0.95, 0.96])
    assert result.n == 3
    assert result.mean == pytest.approx(0.95)
    assert result.sd == pytest.approx(0.01)
    # 2 and 4: mean 3, SD sqrt((1 + 1) / 1) = sqrt(2)
    assert mean_sd([2, 4]) == MeanSD(3.0, pytest.approx(math.sqrt(2)), 2)


def test_mean_sd_single_missing_and_nan() -> None:
    assert mean_sd([0.7]) == MeanSD(0.7, None, 1)
    assert mean_sd([]) == MeanSD(None, None, 0)
    assert mean_sd([None, float("nan"), 1.0, 3.0]) == MeanSD(2.0, pytest.approx(math.sqrt(2)), 2)


def test_aggregate_over_seeds_by_key() -> None:
    runs = [
        {"boundaries": {"strict": {"macro_f1": 0.90}}, "train": {"seconds": 100}},
        {"boundaries": {"strict": {"macro_f1": 0.92}}, "train": {"seconds": 120}},
        {"boundaries": {"strict": {"macro_f1": 0.94}}, "train": {"seconds": 110}, "name": "x"},
    ]
    agg = aggregate([flatten(r) for r in runs])
    assert set(agg) == {"boundaries.strict.macro_f1", "train.seconds"}
    assert agg["boundaries.strict.macro_f1"].mean == pytest.approx(0.92)
    assert agg["boundaries.strict.macro_f1"].sd == pytest.approx(0.02)
    assert agg["train.seconds"] == MeanSD(110.0, 10.0, 3)
    assert agg["train.seconds"].format(0) == "110 ± 10"
    assert unflatten({"a.b": 1})["a"]["b"] == 1


def test_run_metrics_keys() -> None:
    boundary = {"se": 1.0, "ppv": 1.0, "f1": 1.0, "error_mean_ms": 0.0, "error_sd_ms": 0.0}
    run = {
        "evaluation": {
            "boundaries": {"strict": {"P_on": boundary, "macro_f1": 1.0}},
            "samples": {"P": {"f1": 0.5}},
            "segments": {"f1@50": 0.8},
        },
        "train": {"seconds": 60.0, "epochs": 3, "steps": 30},
        "eval_seconds": 5.0,
        "inference": {"forward_samples_per_s": 1e5, "peak_rss_delta_mib": 20.0},
    }
    metrics = run_metrics(run)
    assert metrics["boundaries.strict.P_on.f1"] == 1.0
    assert metrics["samples.P.f1"] == 0.5
    assert metrics["segments.f1@50"] == 0.8
    assert metrics["train.seconds_per_epoch"] == 20.0
    assert metrics["inference.peak_rss_delta_mib"] == 20.0
