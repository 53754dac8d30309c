"""A batch run's folder: shards committed atomically, resuming, and the final tables.

Work is done in *shards*: a contiguous range of the run's recordings (by their index in the
run's order), written as one Parquet file per table into a temporary folder under
``shards/`` and renamed to ``shards/<first>-<last>`` when complete. A rename is atomic, so a
shard is there whole or not at all; a crash or Ctrl-C loses at most the shards in progress.
A re-run finds the committed ranges and does only the rest; a range committed twice (a
retried cluster task) keeps the first. When every recording is in a shard, the shards are
joined in order into the run's tables (each written to a temporary file and renamed), so
the tables equal an uninterrupted run's whatever the shards were.

``run.json`` says which run the folder holds: a fingerprint of the recordings (names and
paths), the model file's bytes, the task, the backend and the options. A folder holding a
run with another fingerprint is never overwritten silently: opening it is a one-line error
unless ``overwrite`` is given (which deletes that run's files, and only those). A folder
that is not empty and holds no ``run.json`` is refused either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sigseg.atomic import atomic_path, write_text
from sigseg.batch.inputs import Item
from sigseg.batch.tables import SCHEMAS

STATE = "run.json"
SHARDS = "shards"
PLOTS = "plots"
_SHARD_NAME = re.compile(r"^(\d{9})-(\d{9})$")
_TMP_PREFIX = ".tmp-"


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (the model's, so a changed checkpoint is another run)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(settings: Mapping[str, Any], items: Sequence[Item]) -> str:
    """What identifies a run: its settings and every recording's name and path."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for item in items:
        digest.update(f"\0{item.name}\0{item.path}".encode())
    return digest.hexdigest()


class RunFolder:
    """The folder of one batch run over ``count`` recordings, writing the tables ``names``.
    Use :meth:`open`."""

    def __init__(self, out: Path, count: int, names: Sequence[str], state: dict[str, Any]):
        self.out, self.count, self.names, self.state = out, count, tuple(names), state

    @classmethod
    def open(
        cls,
        out: Path,
        items: Sequence[Item],
        settings: Mapping[str, Any],
        names: Sequence[str],
        *,
        overwrite: bool = False,
    ) -> RunFolder:
        """Start a run in ``out``, or resume the one there with the same fingerprint."""
        key = fingerprint(settings, items)
        state_path = out / STATE
        if state_path.is_file():
            previous = _read_state(state_path)
            if previous.get("fingerprint") == key:
                run = cls(out, len(items), names, previous)
                run._clear_tmp()
                return run
            if not overwrite:
                raise ValueError(
                    f"{out}: holds a batch run of other inputs, model or options; pass "
                    "--overwrite to replace it, or choose another --out"
                )
            cls._remove(out, previous)
        elif out.is_dir() and any(out.iterdir()):
            raise ValueError(
                f"{out}: folder is not empty and holds no batch run ({STATE}); choose another --out"
            )
        try:
            (out / SHARDS).mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ValueError(f"{out}: cannot create output folder ({err.strerror})") from None
        state = {
            "status": "running",
            "fingerprint": key,
            **settings,
            "recordings": len(items),
            "tables": [f"{n}.parquet" for n in names],
            "started": _now(),
        }
        write_text(state_path, json.dumps(state, indent=1))
        return cls(out, len(items), names, state)

    @property
    def complete(self) -> bool:
        return self.state.get("status") == "complete"

    @property
    def shards(self) -> Path:
        return self.out / SHARDS

    @staticmethod
    def _remove(out: Path, state: Mapping[str, Any]) -> None:
        """Delete a previous run's files (its tables, state, shards and plots) only."""
        for table in [*state.get("tables", ()), *(f"{n}.parquet" for n in SCHEMAS)]:
            with contextlib.suppress(FileNotFoundError):
                (out / Path(table).name).unlink()
        for folder in (SHARDS, PLOTS):
            shutil.rmtree(out / folder, ignore_errors=True)
        (out / STATE).unlink()

    def _clear_tmp(self) -> None:
        """Drop the shards a crashed run left unfinished."""
        if self.shards.is_dir():
            for tmp in self.shards.glob(f"{_TMP_PREFIX}*"):
                shutil.rmtree(tmp, ignore_errors=True)

    def done(self) -> list[tuple[int, int]]:
        """The committed ranges ``(first, last)`` (inclusive), in order."""
        if not self.shards.is_dir():
            return []
        found = (_SHARD_NAME.match(p.name) for p in self.shards.iterdir())
        return sorted((int(m[1]), int(m[2])) for m in found if m)

    def todo(self) -> list[int]:
        """Indices of the recordings no committed shard holds, in order."""
        left = [True] * self.count
        for first, last in self.done():
            left[first : last + 1] = [False] * (last + 1 - first)
        return [i for i, todo in enumerate(left) if todo]

    def commit(self, first: int, last: int, tables: Mapping[str, pa.Table]) -> bool:
        """Write the shard of recordings ``first..last`` atomically; ``False`` when that
        range is committed already (the tables are then dropped)."""
        final = self.shards / f"{first:09d}-{last:09d}"
        if final.exists():
            return False
        tmp = self.shards / f"{_TMP_PREFIX}{first:09d}-{uuid.uuid4().hex}"
        tmp.mkdir(parents=True)
        try:
            for name in self.names:
                pq.write_table(tables[name], tmp / f"{name}.parquet")
            os.rename(tmp, final)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if final.exists():  # another worker committed the same range first
                return False
            raise
        return True

    def assemble(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Join the shards into the run's tables, mark the run complete in ``run.json`` and
        delete the shards; returns the state written (with the row counts)."""
        ranges = self.done()
        expected = 0
        for first, last in ranges:
            if first != expected:
                raise RuntimeError(
                    f"{self.shards}: shards do not cover recordings {expected}..{first - 1}"
                )
            expected = last + 1
        if expected != self.count:
            raise RuntimeError(f"{self.shards}: shards end at {expected} of {self.count}")
        counts = {}
        for name in self.names:
            with (
                atomic_path(self.out / f"{name}.parquet") as tmp,
                pq.ParquetWriter(tmp, SCHEMAS[name]) as writer,
            ):
                rows = 0
                for first, last in ranges:
                    part = pq.read_table(
                        self.shards / f"{first:09d}-{last:09d}" / f"{name}.parquet"
                    )
                    writer.write_table(part)
                    rows += part.num_rows
            counts[name] = rows
        self.state = {
            **self.state,
            **(extra or {}),
            "status": "complete",
            "counts": counts,
            "finished": _now(),
        }
        write_text(self.out / STATE, json.dumps(self.state, indent=1))
        shutil.rmtree(self.shards, ignore_errors=True)
        return self.state


def plan_ranges(todo: Sequence[int], size: int) -> list[tuple[int, int]]:
    """Cut the indices ``todo`` into contiguous ranges of at most ``size`` recordings (a
    range never spans a recording done before)."""
    ranges: list[tuple[int, int]] = []
    start = prev = None
    for i in todo:
        if start is None:
            start = prev = i
        elif i != prev + 1 or i - start >= size:
            ranges.append((start, prev))
            start = i
        prev = i
    if start is not None:
        ranges.append((start, prev))
    return ranges


def _read_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: unreadable batch run state ({err})") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path}: unreadable batch run state (not a mapping)")
    return state


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
