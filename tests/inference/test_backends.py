"""Backends: PyTorch and ONNX Runtime behind one small protocol."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from sigseg.checkpoint import save_checkpoint
from sigseg.data.transforms import Preprocessing
from sigseg.export import export_onnx
from sigseg.inference.backends import Backend, OnnxBackend, TorchBackend, load_backend
from sigseg.inference.predict import predict_long
from sigseg.inference.windows import WindowOptions
from sigseg.models import create_model

CONFIG = {"widths": (8,) * 3, "dilations": (1, 2, 4), "num_classes": 3, "sampling_rate": 500.0}
PREP = {"normalize": "zscore"}


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model("dilated", **CONFIG).eval()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("backends")
    model = _model()
    ckpt = save_checkpoint(model, folder / "model.safetensors", preprocessing=PREP)
    onnx_path = export_onnx(model, folder / "model.onnx", preprocessing=PREP)
    return {"ckpt": ckpt, "onnx": onnx_path}


def _batch(n: int = 2, length: int = 777) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, 1, length)).astype(np.float32)


def test_torch_backend_follows_the_protocol() -> None:
    model = _model().train()
    backend = TorchBackend(model, threads=1)
    assert isinstance(backend, Backend)
    assert not model.training  # inference runs in eval mode
    assert (backend.in_channels, backend.num_classes, backend.sampling_rate) == (1, 3, 500.0)
    batch = _batch()
    logits = backend(batch)
    assert logits.shape == (2, 3, 777) and logits.dtype == np.float32
    with torch.no_grad():
        np.testing.assert_allclose(logits, model(torch.from_numpy(batch)).numpy(), atol=1e-6)


def test_torch_backend_threads_are_scoped() -> None:
    before = torch.get_num_threads()
    TorchBackend(_model(), threads=1)(_batch())
    assert torch.get_num_threads() == before


def test_torch_backend_rejects_missing_cuda_and_non_models() -> None:
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            TorchBackend(_model(), device="cuda")
    with pytest.raises(TypeError, match="sigseg model"):
        TorchBackend(torch.nn.Conv1d(1, 3, 1))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_torch_backend_on_cuda_matches_cpu() -> None:
    batch = _batch()
    cpu = TorchBackend(_model())(batch)
    gpu = TorchBackend(_model(), device="cuda")(batch)
    np.testing.assert_allclose(gpu, cpu, atol=1e-4)


def test_onnx_backend_matches_torch_and_reads_metadata(files: dict[str, Path]) -> None:
    backend = OnnxBackend(files["onnx"], threads=1)
    assert isinstance(backend, Backend)
    assert (backend.in_channels, backend.num_classes, backend.sampling_rate) == (1, 3, 500.0)
    assert backend.arch == "dilated"
    assert backend.preprocessing == Preprocessing(sampling_rate=500.0, normalize="zscore")
    batch = _batch(3, 1001)
    np.testing.assert_allclose(backend(batch), TorchBackend(_model())(batch), atol=1e-4)


def test_load_backend_picks_by_file(files: dict[str, Path]) -> None:
    torch_backend = load_backend(files["ckpt"], threads=1)
    assert isinstance(torch_backend, TorchBackend)
    assert torch_backend.preprocessing == Preprocessing(sampling_rate=500.0, normalize="zscore")
    assert isinstance(load_backend(files["onnx"]), OnnxBackend)
    assert isinstance(load_backend(_model()), TorchBackend)
    exported = load_backend(files["ckpt"], backend="onnx")  # via a temporary ONNX file
    assert isinstance(exported, OnnxBackend)
    assert exported.preprocessing == torch_backend.preprocessing
    with pytest.raises(ValueError, match="backend='onnx'"):
        load_backend(files["onnx"], backend="torch")
    with pytest.raises(ValueError, match="unknown backend"):
        load_backend(files["ckpt"], backend="tensorrt")  # type: ignore[arg-type]


def test_both_backends_give_the_same_long_signal_probabilities(files: dict[str, Path]) -> None:
    x = np.random.default_rng(1).standard_normal((2, 5000)).astype(np.float32)
    options = WindowOptions(window=512, overlap=128)
    by_torch = predict_long(load_backend(files["ckpt"], threads=1), x, fs=360.0, options=options)
    by_onnx = predict_long(load_backend(files["onnx"], threads=1), x, fs=360.0, options=options)
    assert by_onnx.shape == (2, 3, 5000)
    np.testing.assert_allclose(by_onnx, by_torch, atol=1e-4)


def test_onnx_backend_errors_are_clear(files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        OnnxBackend(tmp_path / "missing.onnx")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="cannot load"):
        OnnxBackend(garbage)
    foreign = onnx.load_model(str(files["onnx"]))
    del foreign.metadata_props[:]
    onnx.save_model(foreign, str(tmp_path / "foreign.onnx"))
    with pytest.raises(ValueError, match="no sigseg description"):
        OnnxBackend(tmp_path / "foreign.onnx")
