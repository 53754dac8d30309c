import doctest
import math

import numpy as np
import pytest

from sigseg.data.record import Wave
from sigseg.inference.decode import decode, events_to_labels
from sigseg.metrics import events as events_module
from sigseg.metrics.events import (
    TaskEvaluation,
    cohen_kappa,
    evaluate_recording,
    format_task_tables,
    headline,
)
from sigseg.tasks.base import IGNORE_INDEX, Task


def test_docstring_examples():
    assert doctest.testmod(events_module).failed == 0


def paint(length: int, *intervals: tuple[int, int, int]) -> np.ndarray:
    """Background labels with (class, first, last) intervals painted, inclusive."""
    labels = np.zeros(length, dtype=np.int64)
    for k, first, last in intervals:
        labels[first : last + 1] = k
    return labels


TASK = Task("two", ("background", "A", "B"), tolerance_s=0.05)  # 5 samples at 100 Hz


def hand_case() -> TaskEvaluation:
    """100 samples at 100 Hz, 90..99 unlabelled.

    reference: A 10-19, B 30-39, A 60-69 (and an A event at 95-98, outside the labelled span)
    prediction: A 12-21, B 30-34, A 80-84, B 92-95 (in the unlabelled part)
    """
    ref = paint(100, (1, 10, 19), (2, 30, 39), (1, 60, 69))
    ref[90:] = IGNORE_INDEX
    pred = paint(100, (1, 12, 21), (2, 30, 34), (1, 80, 84), (2, 92, 95))
    ref_events = [
        Wave("A", 10, 14, 19),
        Wave("B", 30, 35, 39),
        Wave("A", 60, 65, 69),
        Wave("A", 95, 96, 98),
    ]
    pred_events = [
        Wave("A", 12, 16, 21),
        Wave("B", 30, 32, 34),
        Wave("A", 80, 82, 84),
        Wave("B", 92, 93, 95),
    ]
    return evaluate_recording(ref, pred, ref_events, pred_events, fs=100, task=TASK)


def test_samples_by_hand():
    ev = hand_case()
    # rows: reference bg, A, B; columns: predicted
    assert ev.confusion == ((53, 7, 0), (12, 8, 0), (5, 0, 5))
    s = ev.result()["samples"]
    assert s["classes"]["A"]["precision"] == pytest.approx(8 / 15)
    assert s["classes"]["A"]["recall"] == pytest.approx(0.4)
    assert s["classes"]["A"]["f1"] == pytest.approx(16 / 35)
    assert s["classes"]["B"]["f1"] == pytest.approx(2 / 3)
    assert s["macro_f1"] == pytest.approx((16 / 35 + 2 / 3) / 2)
    assert s["accuracy"] == pytest.approx(66 / 90)
    pe = (60 * 70 + 20 * 15 + 10 * 5) / 90**2
    assert s["kappa"] == pytest.approx((66 / 90 - pe) / (1 - pe))


def test_unlabelled_samples_change_nothing():
    ref = paint(50, (1, 10, 19))
    ref[30:] = IGNORE_INDEX
    pred = paint(50, (1, 10, 19))
    clean = evaluate_recording(ref, pred, [], [], 100, TASK)
    noisy_pred = pred.copy()
    noisy_pred[30:] = 2
    noisy = evaluate_recording(ref, noisy_pred, [], [], 100, TASK)
    assert noisy == clean
    assert sum(map(sum, clean.confusion)) == 30


def counts(result: dict, family: str, name: str, side: str | None = None) -> tuple:
    s = result[family]["classes"][name]
    s = s[side] if side else s
    return int(s["tp"]), int(s["fp"]), int(s["fn"])


def test_intervals_at_iou_50_by_hand():
    r = hand_case().result()
    # A 12-21 vs 10-19: IoU 8/12; B 30-34 vs 30-39: IoU exactly 0.5; A 80-84 matches nothing;
    # the reference A 60-69 is missed; B 92-95 lies in the unlabelled part
    assert counts(r, "events_iou50", "A") == (1, 1, 1)
    assert counts(r, "events_iou50", "B") == (1, 0, 0)
    assert r["events_iou50"]["classes"]["A"]["f1"] == 0.5
    assert r["events_iou50"]["macro_f1"] == 0.75


def test_boundaries_by_hand():
    r = hand_case().result()
    # labelled span 0..89: predicted positions count up to 94, reference ones up to 89
    assert counts(r, "boundaries", "A", "onset") == (1, 1, 1)  # 12~10; 80 FP; 60 FN
    assert counts(r, "boundaries", "A", "offset") == (1, 1, 1)  # 21~19; 84 FP; 69 FN
    assert counts(r, "boundaries", "B", "onset") == (1, 1, 0)  # 30~30; 92 FP (<= 94)
    assert counts(r, "boundaries", "B", "offset") == (1, 0, 0)  # 34~39 (5: inside); 95 out
    bounds = r["boundaries"]["classes"]
    assert bounds["A"]["onset"]["error_mean_ms"] == 20.0
    assert bounds["B"]["offset"]["error_mean_ms"] == -50.0
    assert bounds["B"]["offset"]["abs_error_mean_ms"] == 50.0
    assert r["boundaries"]["macro_f1"] == pytest.approx((0.5 + 0.5 + 2 / 3 + 1.0) / 4)
    assert r["tolerance_ms"] == 50.0


def test_episodes_by_hand():
    r = hand_case().result()
    assert counts(r, "episodes", "A") == (1, 1, 1)
    assert counts(r, "episodes", "B") == (1, 0, 0)


def test_an_episode_is_hit_below_iou_50():
    # reference A 10-29; predicted A 10-17 (IoU 0.4) and background 18-49 (IoU 12/40)
    ref = paint(50, (1, 10, 29))
    pred = paint(50, (1, 10, 17))
    r = evaluate_recording(ref, pred, [], [], 100, TASK).result()
    assert counts(r, "episodes", "A") == (1, 0, 0)
    assert counts(r, "events_iou50", "A") == (0, 1, 1)


def test_a_taken_episode_is_not_hit_twice():
    # reference A 10-19, B 20-21, A 22-31; one predicted A 10-31 overlaps all three most
    ref = paint(40, (1, 10, 19), (2, 20, 21), (1, 22, 31))
    pred = paint(40, (1, 10, 31))
    r = evaluate_recording(ref, pred, [], [], 100, TASK).result()
    assert counts(r, "episodes", "A") == (1, 0, 1)
    assert counts(r, "episodes", "B") == (0, 0, 1)
    assert counts(r, "events_iou50", "A") == (0, 1, 2)  # IoU 10/22 with each


def test_a_miss_does_not_take_the_episode():
    # reference A 10-13 and B 14-29; one predicted B 10-29. A's best overlap is that B (a
    # miss, which takes nothing), so B's reference episode still hits it.
    ref = paint(40, (1, 10, 13), (2, 14, 29))
    pred = paint(40, (2, 10, 29))
    r = evaluate_recording(ref, pred, [], [], 100, TASK).result()
    assert counts(r, "episodes", "A") == (0, 0, 1)
    assert counts(r, "episodes", "B") == (1, 0, 0)


def test_cohen_kappa():
    assert cohen_kappa(np.array([[4, 1], [1, 4]])) == pytest.approx(0.6)
    assert cohen_kappa(np.eye(2)) == 1.0
    assert math.isnan(cohen_kappa(np.array([[10, 0], [0, 0]])))  # chance agreement is 1
    assert math.isnan(cohen_kappa(np.zeros((3, 3))))


PICKS = Task("picks", ("noise", "P", "S"), kind="events", tolerance_s=0.05, monitor="val_event_f1")


def test_points_by_hand():
    # 100 Hz, tolerance 5 samples. P: 52~50 (2) goes first, then 13~10 (3); 47 is left (FP),
    # 90 is missed; 150 is beyond the labelled span + tolerance. S: 36 is 6 from 30.
    ref_events = [Wave("P", None, p, None) for p in (10, 50, 90)] + [Wave("S", None, 30, None)]
    pred_events = [Wave("P", p, p, p) for p in (13, 47, 52, 150)] + [Wave("S", 36, 36, 36)]
    ref = events_to_labels(ref_events, 100, PICKS)
    pred = events_to_labels(pred_events, 100, PICKS)
    r = evaluate_recording(ref, pred, ref_events, pred_events, 100, PICKS).result()
    assert set(r) == {"recordings", "tolerance_ms", "samples", "points"}
    assert counts(r, "points", "P") == (2, 1, 1)
    assert counts(r, "points", "S") == (0, 1, 1)
    p = r["points"]["classes"]["P"]
    assert (p["error_mean_ms"], p["error_sd_ms"], p["abs_error_mean_ms"]) == (25.0, 5.0, 25.0)
    assert math.isnan(r["points"]["classes"]["S"]["error_mean_ms"])
    assert r["points"]["macro_f1"] == pytest.approx((2 / 3 + 0.0) / 2)
    assert headline(r, PICKS) == pytest.approx(1 / 3)
    assert "Points (tolerance 50 ms)" in format_task_tables(r, PICKS)


def perfect_case(task: Task, length: int = 400) -> TaskEvaluation:
    """One interval of 20 samples per event class, predicted exactly."""
    if task.kind == "states":  # the states tile the signal, each class twice
        labels = np.repeat(np.tile(np.arange(task.num_classes), 2), 20)
    else:
        labels = np.zeros(length, dtype=np.int64)
        for k in range(1, task.num_classes):
            labels[30 * k : 30 * k + 20] = k
    events = decode(np.eye(task.num_classes)[labels].T, 100, task)
    return evaluate_recording(labels, labels, events, events, 100, task)


@pytest.mark.parametrize("kind", ["segments", "states", "events"])
@pytest.mark.parametrize("num_classes", [2, 3, 5, 13])
def test_any_number_of_classes_perfect(kind: str, num_classes: int):
    task = Task("many", tuple(f"c{k}" for k in range(num_classes)), kind=kind)
    r = perfect_case(task, length=30 * num_classes + 30).result()
    assert len(r["samples"]["classes"]) == num_classes
    assert r["samples"]["macro_f1"] == 1.0 and r["samples"]["kappa"] == 1.0
    families = ["points"] if kind == "events" else ["events_iou50", "episodes", "boundaries"]
    for family in families:
        assert len(r[family]["classes"]) == len(task.foreground)
        assert r[family]["macro_f1"] == 1.0
    assert format_task_tables(r, task).count("\n") > 10


def test_thirteen_classes_by_hand():
    task = Task("thirteen", ("background", *(f"k{k}" for k in range(1, 13))))
    ref = np.zeros(400, dtype=np.int64)
    for k in range(1, 13):
        ref[30 * k : 30 * k + 10] = k
    pred = ref.copy()
    pred[30 * 5 : 30 * 5 + 10] = 0  # class 5 missed
    pred[30 * 12 : 30 * 12 + 10] = 0
    pred[30 * 12 + 3 : 30 * 12 + 13] = 12  # class 12 three samples late: IoU 7/13, 30 ms
    ref_events = decode(np.eye(13)[ref].T, 100, task)
    pred_events = decode(np.eye(13)[pred].T, 100, task)
    r = evaluate_recording(ref, pred, ref_events, pred_events, 100, task).result()
    assert counts(r, "events_iou50", "k5") == (0, 0, 1)
    assert counts(r, "events_iou50", "k12") == (1, 0, 0)
    assert r["events_iou50"]["macro_f1"] == pytest.approx(11 / 12)
    assert r["boundaries"]["macro_f1"] == pytest.approx(22 / 24)
    assert r["boundaries"]["classes"]["k12"]["offset"]["error_mean_ms"] == 30.0
    assert r["samples"]["classes"]["k12"]["f1"] == pytest.approx(14 / 20)
    assert r["samples"]["macro_f1"] == pytest.approx((10 + 14 / 20) / 12)


def test_summing_recordings_equals_one_pass_over_their_concatenation():
    # both recordings begin and end with labelled background, so no run or span joins
    ref1 = paint(60, (1, 5, 14), (2, 20, 29), (1, 40, 49))
    pred1 = paint(60, (1, 7, 16), (2, 20, 22), (2, 24, 30), (1, 52, 55))
    ref2, pred2 = ref1[::-1].copy(), pred1[::-1].copy()

    def one(ref: np.ndarray, pred: np.ndarray) -> TaskEvaluation:
        return evaluate_recording(ref, pred, waves(ref), waves(pred), 100, TASK)

    def waves(labels: np.ndarray) -> list[Wave]:
        return decode(np.eye(3)[labels].T, 100, TASK)

    total = sum([one(ref1, pred1), one(ref2, pred2)])
    joined = one(np.concatenate([ref1, ref2]), np.concatenate([pred1, pred2]))
    assert total.recordings == 2 and joined.recordings == 1
    assert total.confusion == joined.confusion
    for family in ("events_iou50", "episodes", "onsets", "offsets"):
        for a, b in zip(total.tallies[family], joined.tallies[family], strict=True):
            assert (a.tp, a.fp, a.fn) == (b.tp, b.fp, b.fn)
            assert sorted(a.errors_ms) == sorted(b.errors_ms)
    assert total.result()["samples"] == joined.result()["samples"]
    assert TaskEvaluation.empty(TASK) + total == total
    assert total.result()["episodes"]["macro_f1"] < 1.0  # the case is not trivial


def test_undefined_scores_are_nan_and_macros_skip_them():
    empty = TaskEvaluation.empty(TASK).result()
    assert math.isnan(empty["samples"]["macro_f1"]) and math.isnan(empty["samples"]["kappa"])
    assert math.isnan(empty["boundaries"]["macro_f1"])
    assert math.isnan(empty["episodes"]["classes"]["A"]["precision"])
    # B is absent from reference and prediction: its F1 is undefined and left out of macros
    ref = paint(40, (1, 10, 19))
    events = [Wave("A", 10, 15, 19)]
    r = evaluate_recording(ref, ref, events, events, 100, TASK).result()
    assert math.isnan(r["samples"]["classes"]["B"]["f1"])
    assert r["samples"]["macro_f1"] == 1.0 and r["boundaries"]["macro_f1"] == 1.0
    assert "-" in format_task_tables(r, TASK)
    unlabelled = np.full(40, IGNORE_INDEX)
    nothing = evaluate_recording(unlabelled, ref, [], events, 100, TASK).result()
    assert counts(nothing, "boundaries", "A", "onset") == (0, 0, 0)


def test_headline_follows_the_monitor():
    r = hand_case().result()
    assert headline(r, TASK) == r["samples"]["macro_f1"]
    event_task = TASK.replace(monitor="val_event_f1")
    assert headline(r, event_task) == r["boundaries"]["macro_f1"]
    assert "Headline (val_event_f1): 0.667" in format_task_tables(r, event_task)
    with pytest.raises(ValueError, match="val_loss"):
        headline(r, TASK.replace(monitor="val_loss"))


def test_adding_evaluations_of_different_tasks_is_an_error():
    with pytest.raises(ValueError, match="cannot add"):
        hand_case() + TaskEvaluation.empty(TASK.replace(tolerance_s=0.1))
    with pytest.raises(ValueError, match="sampling rate"):
        evaluate_recording(np.zeros(3), np.zeros(3), [], [], 0, TASK)
