"""ECG delineation as a task: P waves, QRS complexes and T waves on a background.

This module is where the ECG vocabulary is defined: the class names and the task's rules
(its 250-Hz design rate, decoding minimums, strict-boundary monitor, ECG augmentation and
default pretrained model). The ECG-specific machinery built on them (LUDB and QTDB readers,
WFDB wave symbols, beat-order rules, PR/QRS/QT intervals) imports its names from here.
"""

from __future__ import annotations

from sigseg.tasks.base import Task

CLASSES: tuple[str, ...] = ("background", "P", "QRS", "T")
"""ECG delineation classes; a wave kind's label is its index here."""

WAVE_KINDS: tuple[str, ...] = CLASSES[1:]

ECG_DELINEATION = Task(
    name="ecg-delineation",
    classes=CLASSES,
    kind="segments",
    sampling_rate=250.0,
    min_duration_s={"P": 0.02, "QRS": 0.02, "T": 0.04},
    merge_gap_s=0.02,
    tolerance_s=0.15,
    monitor="val_strict_f1",
    augmentation="ecg",
    default_model="ecg-hybrid-fast-ludb",
)
"""The flagship task. Its decoding and scoring follow ``BENCHMARK.md`` through
:mod:`sigseg.inference.waves` and :mod:`sigseg.metrics.report` (both tolerance sets); the
fields here describe it to the generic layer (checkpoints, ``sigseg segment``)."""
