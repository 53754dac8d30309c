"""Comparing the tables of two batch runs."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

TIMED = {"seconds"}
"""Columns that hold timings: they differ between two runs of the same work."""


def read_tables(run: Path, names: tuple[str, ...]) -> dict[str, object]:
    """The run's tables as pandas frames, without timing columns."""
    out = {}
    for name in names:
        frame = pq.read_table(run / f"{name}.parquet").to_pandas()
        out[name] = frame.drop(columns=[c for c in frame.columns if c in TIMED])
    return out


def assert_same_tables(a: Path, b: Path, names: tuple[str, ...]) -> None:
    """Two runs' tables hold the same rows in the same order (timings aside)."""
    left, right = read_tables(a, names), read_tables(b, names)
    for name in names:
        assert left[name].equals(right[name]), name
