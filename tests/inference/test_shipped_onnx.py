"""Every shipped pretrained model has its ONNX export beside it, for the checkpoint as it is
now (named by its hash), equal to PyTorch: the default backend pays no export."""

from __future__ import annotations

import pytest

from sigseg.checkpoint import load_checkpoint
from sigseg.inference.backends import OnnxBackend, check_onnx, load_backend, onnx_beside
from sigseg.pretrained import list_pretrained, resolve_model
from sigseg.pretrained.onnx import MAX_DIFFERENCE


@pytest.mark.parametrize("name", list_pretrained())
def test_shipped_onnx_is_current_and_equal_to_pytorch(name: str, tmp_path, monkeypatch) -> None:
    checkpoint = resolve_model(name)
    shipped = onnx_beside(checkpoint)
    assert shipped.is_file(), f"{shipped.name} missing: run python -m sigseg.pretrained.onnx"
    monkeypatch.setenv("SIGSEG_CACHE_DIR", str(tmp_path))  # an export would land here
    backend = load_backend(checkpoint, "onnx")
    assert isinstance(backend, OnnxBackend) and backend.path == shipped
    assert not any(tmp_path.rglob("*.onnx"))
    model, _ = load_checkpoint(checkpoint)
    assert check_onnx(model, shipped, lengths=(1000, 1664)) < MAX_DIFFERENCE


def test_auto_backend_is_onnx_runtime_when_installed() -> None:
    from sigseg.inference.backends import pick_backend

    assert pick_backend("auto") == ("onnx", None)
    assert pick_backend("auto", "cuda") == ("torch", None)
    assert pick_backend("torch") == ("torch", None)


def test_auto_backend_falls_back_to_pytorch_with_a_notice(monkeypatch) -> None:
    import importlib.util

    from sigseg.inference.backends import pick_backend

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name)
    )
    name, notice = pick_backend("auto")
    assert name == "torch" and "ONNX Runtime is not installed" in notice
    assert "\n" not in notice
