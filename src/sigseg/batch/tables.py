"""The tables of a batch run: their Arrow schemas, and rows gathered into shards.

Every table has a ``recording`` column (the name :mod:`sigseg.batch.inputs` gives); times
are seconds from the recording's start. See :mod:`sigseg.batch` for what each table holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from sigseg.tasks.ecg.outputs import INTERVAL_COLUMNS

EVENTS = pa.schema(
    [
        ("recording", pa.string()),
        ("channel", pa.string()),
        ("label", pa.string()),
        ("onset", pa.float64()),
        ("offset", pa.float64()),
        ("peak", pa.float64()),
        ("score", pa.float64()),
    ]
)
"""One row per event: ``onset`` its first sample's time, ``offset`` the end of its last
sample (``onset + duration``; equal to ``onset`` for a point event), ``peak`` its most
probable sample's time (null when none), ``score`` its mean probability (its peak's for a
point event). ``channel`` is the channel it was found on, ``all`` when the model reads every
channel at once or for ECG's fused delineation."""

INTERVALS = pa.schema(
    [
        ("recording", pa.string()),
        *(
            (c, pa.string() if c == "lead" else pa.float64() if c.endswith("_ms") else pa.int64())
            for c in INTERVAL_COLUMNS
        ),
    ]
)
"""ECG only: one row per beat and lead, the columns of ``sigseg delineate``'s interval
tables (:data:`~sigseg.tasks.ecg.outputs.INTERVAL_COLUMNS`: the QRS complex's samples and
``rr_ms``, ``pr_ms``, ``qrs_ms``, ``qt_ms``, ``qtc_bazett_ms``, ``qtc_fridericia_ms``)."""

RECORDINGS = pa.schema(
    [
        ("recording", pa.string()),
        ("path", pa.string()),
        ("sampling_rate", pa.float64()),
        ("duration_s", pa.float64()),
        ("n_channels", pa.int64()),
        ("n_events", pa.int64()),
        ("gap_s", pa.float64()),
        ("seconds", pa.float64()),
        ("warnings", pa.string()),
    ]
)
"""One row per recording done: its file, rate, length, channels, events found, seconds of
gaps (channel-seconds with no signal: no events there), the seconds it took, and the
warnings it raised (``; ``-joined, empty when none)."""

ERRORS = pa.schema([("recording", pa.string()), ("path", pa.string()), ("error", pa.string())])
"""One row per recording that failed: its one-line error."""

SCHEMAS: dict[str, pa.Schema] = {
    "events": EVENTS,
    "intervals": INTERVALS,
    "recordings": RECORDINGS,
    "errors": ERRORS,
}
"""Table name (``<name>.parquet`` in the run folder) -> schema."""


PACK_ROWS = 50_000
"""Row dicts are packed into an Arrow table once a table holds this many (a day of ECG gives
hundreds of thousands of rows: as dicts, hundreds of MB)."""


@dataclass
class Rows:
    """What one or more recordings add to the tables: per table name, row dicts and the
    Arrow tables earlier rows were packed into (:meth:`pack`), in order."""

    events: list[dict[str, Any]] = field(default_factory=list)
    intervals: list[dict[str, Any]] = field(default_factory=list)
    recordings: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    packed: dict[str, list[pa.Table]] = field(default_factory=dict)

    def extend(self, other: Rows) -> None:
        for name in SCHEMAS:
            if other.packed.get(name):
                self._pack(name)
                self.packed.setdefault(name, []).extend(other.packed[name])
            getattr(self, name).extend(getattr(other, name))
        self.pack()

    def count(self, name: str) -> int:
        """Rows of table ``name``, packed or not."""
        packed = sum(t.num_rows for t in self.packed.get(name, []))
        return packed + len(getattr(self, name))

    def pack(self, at_least: int | None = None) -> None:
        """Pack each table's row dicts into Arrow once there are ``at_least`` of them
        (default :data:`PACK_ROWS`)."""
        limit = PACK_ROWS if at_least is None else at_least
        for name in SCHEMAS:
            if len(getattr(self, name)) >= limit:
                self._pack(name)

    def _pack(self, name: str) -> None:
        rows = getattr(self, name)
        if rows:
            self.packed.setdefault(name, []).append(table_of(rows, SCHEMAS[name]))
            rows.clear()


def to_tables(rows: Rows, names: Iterable[str]) -> dict[str, pa.Table]:
    """``rows`` as Arrow tables, one per table ``names``."""
    out = {}
    for name in names:
        parts = [*rows.packed.get(name, []), table_of(getattr(rows, name), SCHEMAS[name])]
        out[name] = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    return out


def table_of(rows: list[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Row dicts as a table of ``schema`` (missing keys are null)."""
    return pa.Table.from_pylist(list(rows), schema=schema)
