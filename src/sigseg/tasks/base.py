"""What a segmentation task is: its label set and the rules that turn probabilities into
events, score them and train on them.

A :class:`Task` is plain data (no torch, no I/O), so every layer can depend on it: readers
paint labels with it, training picks its monitor and augmentation from it, inference decodes
with it, metrics take its tolerances, and checkpoints carry it (``to_dict``/``from_dict``) so
a model file says what its outputs mean.

Label kinds:

* ``segments``: intervals with an onset and an offset, on a ``background`` class (ECG waves,
  EEG spindles, heart sounds);
* ``events``: points in time (R peaks, seismic picks), trained as soft targets around each
  point and decoded as probability peaks;
* ``states``: intervals that tile the signal, no background (sleep stages, activities,
  fixation/saccade/pursuit).

Class ``i`` of the model's output is ``classes[i]``; the background class, when there is one,
is ``classes[0]``.

    >>> task = Task("heart-sounds", classes=("background", "S1", "S2"))
    >>> task.foreground, task.index("S2")
    (('S1', 'S2'), 2)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

LABEL_KINDS: tuple[str, ...] = ("segments", "events", "states")
IGNORE_INDEX = -100
"""Label of unlabelled samples: excluded from every loss and metric (PyTorch's default)."""
AUGMENTATIONS: tuple[str, ...] = ("none", "generic", "ecg")
MONITORS: tuple[str, ...] = (
    "val_macro_f1",
    "val_event_f1",
    "val_strict_f1",
    "val_loss",
)
"""What early stopping and ``best.safetensors`` can follow: macro sample F1 over the
foreground classes (every class for ``states``), macro event F1 (onset/offset or point
matching within the tolerance), the ECG task's strict boundary F1, or the validation loss
(minimized)."""


@dataclass(frozen=True)
class Task:
    """A label set and its rules.

    * ``name``: a short identifier (``ecg-delineation``, ``segmentation``...).
    * ``classes``: the model's output classes in order; ``classes[0]`` is the background for
      ``segments`` and ``events``.
    * ``kind``: one of :data:`LABEL_KINDS`.
    * ``sampling_rate``: the rate models of this task run at (``None``: the data's own rate).
    * ``channels``: the input channel names a model was trained on (empty: unknown).
    * ``min_duration_s``: per class, decoded intervals shorter than this are dropped
      (``segments``: their samples become background; ``states``: they join a neighbour).
    * ``merge_gap_s``: two decoded intervals of one class closer than this become one.
    * ``tolerance_s``: onset/offset and point-event matching tolerance of the metrics.
    * ``event_sigma_s``: width (standard deviation) of the soft training target around each
      point event, and the minimum distance between two decoded events of one class.
    * ``gaps_are_background``: samples no label covers are background (else unlabelled:
      ignored in the loss and every metric).
    * ``monitor``: the validation score early stopping and ``best.safetensors`` follow (one of
      :data:`MONITORS`).
    * ``augmentation``: the training recipe (one of :data:`AUGMENTATIONS`).
    * ``default_model``: the pretrained model used when none is named.
    * ``min_input_s``: the shortest input (seconds) the task can be run on, and
      ``min_sampling_rate`` the lowest rate (Hz) that resolves its events; ``None``: no limit.
      Inference refuses anything less in one line (:meth:`check_input`) rather than decode
      events a model invents on it.
    """

    name: str
    classes: tuple[str, ...]
    kind: str = "segments"
    sampling_rate: float | None = None
    channels: tuple[str, ...] = ()
    min_duration_s: Mapping[str, float] = field(default_factory=dict)
    merge_gap_s: float = 0.0
    tolerance_s: float = 0.05
    event_sigma_s: float = 0.02
    gaps_are_background: bool = False
    monitor: str = "val_macro_f1"
    augmentation: str = "generic"
    default_model: str | None = None
    min_input_s: float | None = None
    min_sampling_rate: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        object.__setattr__(self, "channels", tuple(str(c) for c in self.channels))
        object.__setattr__(self, "min_duration_s", dict(self.min_duration_s))
        where = f"task {self.name!r}"
        if self.kind not in LABEL_KINDS:
            raise ValueError(
                f"{where}: kind must be one of {', '.join(LABEL_KINDS)}, got {self.kind!r}"
            )
        minimum = 1 if self.kind == "states" else 2
        if len(self.classes) < minimum:
            raise ValueError(
                f"{where}: a {self.kind} task needs at least {minimum} classes "
                f"(got {list(self.classes)})"
            )
        if len(set(self.classes)) != len(self.classes) or any(not c for c in self.classes):
            raise ValueError(
                f"{where}: class names must be unique and non-empty: {list(self.classes)}"
            )
        unknown = sorted(set(self.min_duration_s) - set(self.classes))
        if unknown:
            raise ValueError(
                f"{where}: min_duration_s names unknown class(es) {', '.join(unknown)}"
            )
        durations = {
            **{key: getattr(self, key) for key in ("merge_gap_s", "tolerance_s", "event_sigma_s")},
            **{f"min_duration_s.{name}": v for name, v in self.min_duration_s.items()},
        }
        for key, value in durations.items():
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{where}: {key} must be a number >= 0, got {value!r}")
        for key in ("sampling_rate", "min_input_s", "min_sampling_rate"):
            value = getattr(self, key)
            ok = isinstance(value, (int, float)) and math.isfinite(value) and value > 0
            if value is not None and not ok:
                raise ValueError(f"{where}: {key} must be a number > 0, got {value!r}")
        if self.monitor not in MONITORS:
            raise ValueError(
                f"{where}: monitor must be one of {', '.join(MONITORS)}, got {self.monitor!r}"
            )
        if self.augmentation not in AUGMENTATIONS:
            raise ValueError(
                f"{where}: augmentation must be one of {', '.join(AUGMENTATIONS)}, "
                f"got {self.augmentation!r}"
            )

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def background(self) -> str | None:
        """The background class (``classes[0]``), or ``None`` for ``states``."""
        return None if self.kind == "states" else self.classes[0]

    @property
    def foreground(self) -> tuple[str, ...]:
        """The classes that form events: all but the background."""
        return self.classes if self.kind == "states" else self.classes[1:]

    def index(self, name: str) -> int:
        """The output index of class ``name``; a one-line error lists the valid ones."""
        try:
            return self.classes.index(name)
        except ValueError:
            raise ValueError(
                f"class {name!r} is not one of task {self.name!r}'s classes: "
                f"{', '.join(self.classes)}"
            ) from None

    def check_input(self, num_samples: int, fs: float) -> None:
        """Refuse, in one line, an input of ``num_samples`` at ``fs`` Hz that is slower than
        ``min_sampling_rate`` or shorter than ``min_input_s``.

            >>> task = Task("beats", ("background", "R"), min_input_s=1.0)
            >>> try:
            ...     task.check_input(10, 500.0)
            ... except ValueError as err:
            ...     print(err)
            the input is 0.02 s long (10 samples at 500 Hz); task 'beats' needs at least 1 s
        """
        where = f"task {self.name!r}"
        if self.min_sampling_rate is not None and not fs >= self.min_sampling_rate:
            raise ValueError(
                f"the input is sampled at {fs:g} Hz; {where} needs at least "
                f"{self.min_sampling_rate:g} Hz to resolve its events"
            )
        seconds = num_samples / fs
        if self.min_input_s is not None and seconds < self.min_input_s - 1e-9:
            raise ValueError(
                f"the input is {seconds:.3g} s long ({num_samples} samples at {fs:g} Hz); "
                f"{where} needs at least {self.min_input_s:g} s"
            )

    def replace(self, **changes: Any) -> Task:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, stored in checkpoints and ONNX metadata."""
        d = dataclasses.asdict(self)
        d["classes"], d["channels"] = list(self.classes), list(self.channels)
        d["min_duration_s"] = dict(self.min_duration_s)
        return d

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], source: str = "task") -> Task:
        """The inverse of :meth:`to_dict`; unknown keys are an error naming ``source``."""
        if not isinstance(values, Mapping):
            raise ValueError(f"{source}: a task must be a mapping, got {type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{source}: unknown task key(s) {', '.join(unknown)}")
        if "name" not in values or "classes" not in values:
            raise ValueError(f"{source}: a task needs a name and classes")
        try:
            return cls(**values)
        except TypeError as err:
            raise ValueError(f"{source}: {err}") from None


def segmentation_task(
    classes: Sequence[str], kind: str = "segments", name: str = "segmentation", **rules: Any
) -> Task:
    """A task for a label set found in data: ``classes`` are the foreground names; a
    ``background`` class is put first for ``segments`` and ``events``."""
    classes = [str(c) for c in classes]
    if kind != "states":
        classes = ["background", *(c for c in classes if c != "background")]
    return Task(name, tuple(classes), kind=kind, **rules)
