"""load_backend(checkpoint, "onnx") exports once per checkpoint and reuses the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sigseg
from sigseg import export
from sigseg.inference.backends import OnnxBackend, load_backend

pytest.importorskip("onnxruntime")


def test_checkpoint_export_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGSEG_CACHE_DIR", str(tmp_path / "cache"))
    paths = []
    for dilation in (2, 3):
        model = sigseg.create_model("dilated", widths=(8, 8), dilations=(1, dilation))
        paths.append(sigseg.save_checkpoint(model, tmp_path / f"m{dilation}.safetensors"))
    first = load_backend(paths[0], "onnx")
    assert isinstance(first, OnnxBackend) and first.path.parent == tmp_path / "cache" / "onnx"

    def no_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again")

    with monkeypatch.context() as patch:
        patch.setattr(export, "export_onnx", no_export)
        again = load_backend(paths[0], "onnx")
    assert again.path == first.path
    other = load_backend(paths[1], "onnx")  # another checkpoint, another file
    assert other.path != first.path
    x = np.random.default_rng(0).standard_normal((1, 1, 300)).astype(np.float32)
    assert np.allclose(again(x), load_backend(paths[0], "torch")(x), atol=1e-5)
