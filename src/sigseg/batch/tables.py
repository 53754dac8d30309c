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


@dataclass
class Rows:
    """What one recording adds to the tables: row dicts per table name."""

    events: list[dict[str, Any]] = field(default_factory=list)
    intervals: list[dict[str, Any]] = field(default_factory=list)
    recordings: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def extend(self, other: Rows) -> None:
        for name in SCHEMAS:
            getattr(self, name).extend(getattr(other, name))

    def __len__(self) -> int:
        return len(self.recordings) + len(self.errors)


def to_tables(rows: Rows, names: Iterable[str]) -> dict[str, pa.Table]:
    """``rows`` as Arrow tables, one per table ``names``."""
    return {name: table_of(getattr(rows, name), SCHEMAS[name]) for name in names}


def table_of(rows: list[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Row dicts as a table of ``schema`` (missing keys are null)."""
    return pa.Table.from_pylist(list(rows), schema=schema)
