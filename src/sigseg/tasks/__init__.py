"""Tasks: label sets and their rules (see :mod:`sigseg.tasks.base`); ECG delineation is one
(:mod:`sigseg.tasks.ecg`).

The import direction, bottom to top (a module imports only from its own level or below):

1. ``tasks.base`` and the task vocabularies (``tasks.ecg``'s ``__init__``): plain data, no
   numpy or torch, importable from every layer. This package imports nothing else.
2. The generic layers, which take a label set (a :class:`Task`) and import no task's machinery
   (no ``tasks.ecg.*`` submodule): ``layers`` <- ``models`` (with ``checkpoint`` and
   ``export``); ``data``; ``inference`` (on the model contract); ``metrics``; ``evaluation``.
3. ``tasks.ecg.*``: ECG delineation's readers, decoding, metrics and outputs, built on 2.
4. ``training``, ``compare``, ``cli`` and ``pretrained.build`` on top.

``tests/test_layering.py`` checks the first two.
"""

from sigseg.tasks.base import IGNORE_INDEX, LABEL_KINDS, Task, segmentation_task
from sigseg.tasks.ecg import ECG_DELINEATION

TASKS: dict[str, Task] = {ECG_DELINEATION.name: ECG_DELINEATION}
"""Named tasks that ship with sigseg."""

__all__ = ["ECG_DELINEATION", "IGNORE_INDEX", "LABEL_KINDS", "TASKS", "Task", "segmentation_task"]
