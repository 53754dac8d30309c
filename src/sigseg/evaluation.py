"""Scoring results against labelled records, for any task: events tables (``sigseg
segment``'s, or a model's) scored with :mod:`sigseg.metrics.events`.

ECG delineation has its own protocol (``BENCHMARK.md``), in :mod:`sigseg.tasks.ecg.evaluation`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from sigseg.data.events import SIDECAR_SUFFIX
from sigseg.data.record import IGNORE_INDEX, Record
from sigseg.inference.segment import Segmenter, segment_source
from sigseg.metrics.events import TaskEvaluation, evaluate_recording
from sigseg.tasks import Task


def predicted_events_path(folder: Path, record: Record) -> Path:
    """Where ``sigseg segment`` put a recording's events: ``<folder>/<stem>_events.tsv``."""
    return folder / f"{Path(record.name).name}{SIDECAR_SUFFIX}"


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
