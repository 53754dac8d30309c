"""Fixtures of the any-task tests: fresh labelled folders (see :mod:`labelled_data`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from labelled_data import write_folder


@pytest.fixture
def labelled_folder(tmp_path: Path) -> Callable[..., Path]:
    """``labelled_folder(kind, n_classes, recordings=16)``: a fresh folder under tmp_path."""

    def make(kind: str, n_classes: int, recordings: int = 16, seed: int = 0) -> Path:
        return write_folder(tmp_path / f"{kind}-{n_classes}", kind, n_classes, recordings, seed)

    return make
