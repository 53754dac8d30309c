"""Tasks: label sets and their rules (see :mod:`sigseg.tasks.base`); ECG delineation is one
(:mod:`sigseg.tasks.ecg`). Plain data, importable from every layer."""

from sigseg.tasks.base import IGNORE_INDEX, LABEL_KINDS, Task, segmentation_task
from sigseg.tasks.ecg import ECG_DELINEATION

TASKS: dict[str, Task] = {ECG_DELINEATION.name: ECG_DELINEATION}
"""Named tasks that ship with sigseg."""

__all__ = ["ECG_DELINEATION", "IGNORE_INDEX", "LABEL_KINDS", "TASKS", "Task", "segmentation_task"]
