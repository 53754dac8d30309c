"""Training outputs that survive a crash: atomic Lightning checkpoints and a metrics log that a
resumed run continues instead of wiping.

Lightning writes ``.ckpt`` files through an ``fsspec`` transaction whose temporary file lies in
the system's temporary folder; ``shutil.move`` then renames it only when that folder is on the
same file system as the checkpoint, and otherwise copies it over the old file, which a crash
can leave truncated. :class:`AtomicCheckpointIO` writes beside the target and renames, always.
Its :meth:`~AtomicCheckpointIO.load_checkpoint` keeps ``weights_only`` loading and turns an
unreadable or untrusted file into a one-line ``ValueError`` naming it.

Lightning's ``CSVLogger`` deletes ``metrics.csv`` when a run starts and appends to it in place.
:class:`ResumableCSVLogger` keeps, on resume, the rows of the epochs the checkpoint already
holds, and rewrites the file atomically at every flush and after every checkpoint.
"""

from __future__ import annotations

import csv
import io
import math
import os
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import yaml
from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.fabric.utilities.types import _PATH
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from sigseg.atomic import atomic_path, write_text


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` to a temporary file beside the checkpoint, then rename it."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: _PATH, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO takes no storage_options")
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            torch.save(checkpoint, tmp)

    def load_checkpoint(
        self,
        path: _PATH,
        map_location: Callable | None = lambda storage, loc: storage,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        """``torch.load`` with ``weights_only=True`` whatever is asked: a checkpoint is data,
        and a file that needs more than tensors and plain containers is refused."""
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: checkpoint file not found")
        try:
            checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile) as err:
            first = next((ln for ln in str(err).splitlines() if ln.strip()), type(err).__name__)
            raise ValueError(
                f"{path}: not a loadable Lightning checkpoint ({first.strip()})"
            ) from None
        if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
            raise ValueError(f"{path}: not a Lightning checkpoint (no state_dict)")
        return checkpoint


class _AtomicWriter(ExperimentWriter):
    """Holds every row and rewrites ``metrics.csv`` whole, atomically, at each save.

    With ``previous`` rows (a resumed run), the first save drops those from the epochs the
    new rows start at, which the killed run had begun but the checkpoint does not hold."""

    def __init__(self, log_dir: str, resume: bool) -> None:
        self._resume = resume
        super().__init__(log_dir=log_dir)
        self._rows: list[dict[str, Any]] = []
        self._previous = _read_rows(Path(self.metrics_file_path)) if resume else None

    def _check_log_dir_exists(self) -> None:
        if not self._resume:
            super()._check_log_dir_exists()  # a fresh run starts a fresh log

    def log_hparams(self, params: dict[str, Any]) -> None:
        self.hparams.update(params)
        text = yaml.safe_dump(_plain(self.hparams), sort_keys=False)
        write_text(Path(self.log_dir) / self.NAME_HPARAMS_FILE, text)

    def save(self) -> None:
        if not self.metrics:
            return
        if self._previous is not None:
            first = min((_epoch(m) for m in self.metrics if _epoch(m) is not None), default=None)
            self._rows = [
                r
                for r in self._previous
                if first is None or _epoch(r) is None or _epoch(r) < first  # type: ignore[operator]
            ]
            self._previous = None
        self._rows += self.metrics
        self.metrics = []
        keys = sorted({k for row in self._rows for k in row})
        self.metrics_keys = keys
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=keys)
        writer.writeheader()
        writer.writerows(self._rows)
        os.makedirs(self.log_dir, exist_ok=True)
        with atomic_path(self.metrics_file_path) as tmp:
            tmp.write_text(buffer.getvalue(), encoding="utf-8", newline="")


class ResumableCSVLogger(CSVLogger):
    """Lightning's ``CSVLogger`` with :class:`_AtomicWriter`: ``resume=True`` continues an
    existing ``metrics.csv``; every checkpoint also flushes the log, so the rows of the epochs
    a checkpoint holds are on disk with it."""

    def __init__(self, *args: Any, resume: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._resume = resume

    @property
    @rank_zero_experiment
    def experiment(self) -> _AtomicWriter:
        if self._experiment is None:
            os.makedirs(self.root_dir or ".", exist_ok=True)
            self._experiment = _AtomicWriter(self.log_dir, self._resume)
        return self._experiment

    @rank_zero_only
    def after_save_checkpoint(self, checkpoint_callback: ModelCheckpoint) -> None:
        self.save()


def _read_rows(path: Path) -> list[dict[str, Any]]:
    """The complete rows of an existing ``metrics.csv`` (none if it is missing or unreadable)."""
    if not path.is_file():
        return []
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return [row for row in csv.DictReader(f) if None not in row]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _epoch(row: dict[str, Any]) -> int | None:
    try:
        value = float(row.get("epoch", ""))
    except (TypeError, ValueError):
        return None
    return int(value) if math.isfinite(value) else None


def _plain(value: Any) -> Any:
    """Hyperparameters as YAML-safe plain values (tuples as lists, others as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
