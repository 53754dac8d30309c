"""Fixtures of the batch tests: LUDB records named in a list file, and a generic model with
a task of its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from sigseg.checkpoint import save_checkpoint
from sigseg.models import create_model
from sigseg.tasks import Task


@pytest.fixture(scope="session")
def ludb_list(ludb_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """``@list`` file naming the first ``n`` LUDB records (by base name)."""

    def make(n: int) -> Path:
        path = tmp_path_factory.mktemp("lists") / f"ludb-{n}.txt"
        path.write_text("".join(f"{ludb_root / str(i)}\n" for i in range(1, n + 1)))
        return path

    return make


@pytest.fixture(scope="session")
def generic_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained two-channel dilated network for a three-class segments task at 100 Hz:
    its events are arbitrary but deterministic, which is all that comparing runs needs."""
    torch.manual_seed(0)
    model = create_model(
        "dilated",
        in_channels=2,
        num_classes=3,
        sampling_rate=100.0,
        widths=[8, 8],
        dilations=[1, 2],
    )
    task = Task("tones", ("background", "low", "high"), kind="segments", channels=("a", "b"))
    return save_checkpoint(model, tmp_path_factory.mktemp("model") / "tones.safetensors", task=task)
