"""Scoring results against labelled records.

ECG delineation follows BENCHMARK.md: every lead is scored on its own annotation at the
record's own rate (LUDB: 500 Hz), with unannotated samples excluded; the per-lead counts add
up over the records. Any other task is scored from events tables (``sigseg segment``'s, or a
model's) with :mod:`sigseg.metrics.events`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sigseg.data.record import IGNORE_INDEX, Record, Wave
from sigseg.inference.delineate import delineate_signal
from sigseg.inference.segment import Segmenter, segment_source
from sigseg.inference.waves import WaveOptions, waves_to_labels
from sigseg.inference.windows import WindowOptions
from sigseg.metrics.events import TaskEvaluation, evaluate_recording
from sigseg.metrics.report import Evaluation, evaluate_lead
from sigseg.tasks import Task


def score_record(record: Record, predicted: Callable[[int], Sequence[Wave]]) -> Evaluation:
    """Score one annotated record; ``predicted(lead)`` gives the waves predicted on a lead."""
    if record.labels is None:
        raise ValueError(f"{record.name}: record has no annotation to score against")
    total = Evaluation.empty()
    for lead in range(record.signal.shape[0]):
        pred = list(predicted(lead))
        pred_labels = waves_to_labels(pred, record.num_samples)
        total = total + evaluate_lead(
            pred, pred_labels, record.lead_waves(lead), record.labels[lead], record.fs
        )
    return total


def evaluate_model(
    backend: Any,
    records: Iterable[Record],
    *,
    wave_options: WaveOptions | None = None,
    window_options: WindowOptions | None = None,
    progress: Callable[[Iterable[Record]], Iterable[Record]] | None = None,
) -> Evaluation:
    """Delineate every lead of every record with ``backend`` and score it."""
    total = Evaluation.empty()
    for record in progress(records) if progress else records:
        result = delineate_signal(
            backend,
            record.signal,
            record.fs,
            channels=record.channels,
            wave_options=wave_options,
            window_options=window_options,
        )
        total = total + score_record(record, result.lead_waves)
    return total


def result_summary(result: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of an :meth:`Evaluation.result`: strict and 150-ms macro-F1 and
    the mean sample F1 of the three waves."""
    samples = result["samples"]
    return {
        "strict_macro_f1": result["boundaries"]["strict"]["macro_f1"],
        "f1_150ms": result["boundaries"]["150ms"]["macro_f1"],
        "sample_f1_waves": sum(samples[k]["f1"] for k in ("P", "QRS", "T")) / 3,
    }


def predicted_events_path(folder: Path, record: Record) -> Path:
    """Where ``sigseg segment`` put a recording's events: ``<folder>/<stem>_events.tsv``."""
    return folder / f"{Path(record.name).name}_events.tsv"


def score_events(
    record: Record, predicted: pd.DataFrame, task: Task, source: str
) -> TaskEvaluation:
    """Score a predicted events table (seconds, BIDS style) against a labelled record of any
    task; ``source`` names the predictions in errors (a class the task does not know, an
    event outside the recording)."""
    from sigseg.data.events import events_to_labels as table_to_labels

    if record.labels is None:
        raise ValueError(f"{record.name}: recording has no labels to score against")
    labels, events = table_to_labels(predicted, record.fs, record.num_samples, task, source)
    uncovered = (labels == IGNORE_INDEX) & (record.labels[0] != IGNORE_INDEX)
    if uncovered.any():  # states tile the signal: a gap in the prediction is no class at all
        first = int(np.flatnonzero(uncovered)[0])
        raise ValueError(
            f"{source}: no predicted state covers {int(uncovered.sum())} labelled samples "
            f"(first at {first / record.fs:.3f} s); is it a prediction of this task?"
        )
    return evaluate_recording(record.labels[0], labels, record.waves, events, record.fs, task)


def score_predictions(records: Iterable[Record], folder: Path, task: Task) -> TaskEvaluation:
    """Score ``sigseg segment``'s tables in ``folder`` against every record; a record with no
    table is an error (rather than a silent zero)."""
    from sigseg.data.events import read_events_tsv

    total = TaskEvaluation.empty(task)
    for record in records:
        path = predicted_events_path(folder, record)
        if not path.is_file():
            raise ValueError(f"{path}: no predictions for recording {record.name!r}")
        total = total + score_events(record, read_events_tsv(path), task, str(path))
    return total


def score_segmenter(segmenter: Segmenter, records: Iterable[Record], task: Task) -> TaskEvaluation:
    """Segment every record with a model and score it."""
    total = TaskEvaluation.empty(task)
    for record in records:
        result = segment_source(segmenter, record.signal, record.fs, channels=record.channels)
        total = total + score_events(record, result.events, task, str(record.name))
    return total
