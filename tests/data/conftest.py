"""Helpers for the data tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from sigseg.data import Record
from sigseg.tasks.ecg import CLASSES

Span = tuple[int, str, int, int]  # lead, kind, first sample, last sample


def _label_runs(record: Record) -> set[Span]:
    """Every run of one wave class in the labels."""
    out = set()
    for lead, row in enumerate(record.labels):
        edges = np.flatnonzero(np.diff(row)) + 1
        for start, stop in zip(np.r_[0, edges], np.r_[edges, len(row)], strict=True):
            if row[start] > 0:
                out.add((lead, CLASSES[row[start]], int(start), int(stop - 1)))
    return out


def _wave_spans(record: Record) -> set[Span]:
    """Every wave's span, a boundary outside the record read as the record's edge."""
    last = record.num_samples - 1
    return {
        (w.lead, w.kind, 0 if w.onset is None else w.onset, last if w.offset is None else w.offset)
        for w in record.waves
    }


@pytest.fixture
def label_runs() -> Callable[[Record], set[Span]]:
    return _label_runs


@pytest.fixture
def wave_spans() -> Callable[[Record], set[Span]]:
    return _wave_spans
