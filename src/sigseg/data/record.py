"""The in-memory form of a segmented recording, shared by readers, datasets, training,
inference and metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sigseg.tasks.base import IGNORE_INDEX

__all__ = ["IGNORE_INDEX", "Record", "Wave"]


@dataclass(frozen=True)
class Wave:
    """One wave: ``kind`` in ``P``/``QRS``/``T`` (readers may also give ``U``), sample indices
    of onset, peak and offset (``None`` when not annotated), and the lead index it belongs to
    (``None``: the whole record). A wave spans ``onset..offset`` inclusive.

    ``score`` is a decoded event's mean probability over its span (``None`` for annotations);
    it is left out of ``==`` and ``repr``, so a prediction equals the annotation it reproduces."""

    kind: str
    onset: int | None
    peak: int | None
    offset: int | None
    lead: int | None = None
    score: float | None = field(default=None, compare=False, repr=False)


@dataclass
class Record:
    """A multi-channel signal with optional per-sample labels and waves.

    * ``signal``: ``(C, L)`` float32.
    * ``fs``: sampling rate in Hz.
    * ``channels``: one name per row of ``signal``.
    * ``labels``: int64 class indices into the task's classes, with :data:`IGNORE_INDEX` for
      unlabelled samples: ``(1, L)``, one row for the whole recording (any task), or
      ``(C, L)``, one row per channel (ECG leads annotated one by one); ``None`` when the
      record has no labels.
    * ``waves``: annotated waves (per lead via ``Wave.lead``).
    * ``metadata``: anything else (diagnoses, sex, age, source file...).
    """

    signal: np.ndarray
    fs: float
    channels: list[str]
    name: str = ""
    labels: np.ndarray | None = None
    waves: list[Wave] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.signal = np.asarray(self.signal, dtype=np.float32)
        if self.signal.ndim != 2:
            raise ValueError(
                f"{self.name or 'record'}: signal must be (channels, samples), "
                f"got shape {self.signal.shape}"
            )
        if not self.fs > 0:
            raise ValueError(f"{self.name or 'record'}: sampling rate must be > 0, got {self.fs}")
        if len(self.channels) != self.signal.shape[0]:
            raise ValueError(
                f"{self.name or 'record'}: {len(self.channels)} channel names for "
                f"{self.signal.shape[0]} channels"
            )
        if self.labels is not None:
            self.labels = np.asarray(self.labels, dtype=np.int64)
            if self.labels.ndim != 2 or (
                self.labels.shape[1] != self.signal.shape[1]
                or self.labels.shape[0] not in (1, self.signal.shape[0])
            ):
                raise ValueError(
                    f"{self.name or 'record'}: labels shape {self.labels.shape} fits neither "
                    f"(1, {self.signal.shape[1]}) nor the signal's {self.signal.shape}"
                )

    @property
    def num_samples(self) -> int:
        return int(self.signal.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.num_samples / self.fs

    def lead_waves(self, lead: int) -> list[Wave]:
        """Waves annotated on one lead (plus record-wide waves)."""
        return [w for w in self.waves if w.lead is None or w.lead == lead]
