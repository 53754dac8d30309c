"""Fixtures of the reliability tests: a tiny checkpoint and the CLI run in this process."""

from __future__ import annotations

from pathlib import Path

import pytest

import sigseg


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny single-lead checkpoint (random weights: the tests check behaviour, not skill)."""
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    model = sigseg.create_model("dilated", widths=(8, 8), dilations=(1, 2))
    sigseg.save_checkpoint(
        model, path, preprocessing={"sampling_rate": 250.0, "normalize": "robust"}
    )
    return path


@pytest.fixture(scope="session")
def backend(model_path: Path):
    from sigseg.inference.backends import load_backend

    return load_backend(model_path)
