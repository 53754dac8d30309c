"""ONNX export: parity with PyTorch at dynamic batch and length, metadata, CLI, clear errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import sigseg.export as export_module
from sigseg.checkpoint import save_checkpoint
from sigseg.cli import main
from sigseg.export import export_onnx
from sigseg.inference.backends import OnnxBackend, check_onnx
from sigseg.models import create_model
from sigseg.onnx_description import read_onnx_description

# small configs so each export takes seconds; hybrid keeps its windowed attention (window 16)
SMALL = {
    "unet": {"depth": 3, "base_width": 4},
    "dilated": {"widths": (8,) * 4, "dilations": (1, 2, 4, 8)},
    "hybrid": {
        "width": 8,
        "dilations": (1, 2, 4),
        "attention_after": (2,),
        "num_heads": 2,
        "key_dim": 4,
        "fuse_width": 8,
        "window": 16,
    },
}
# the default model's design: attention over 4-sample tokens (1001 is not a multiple of 4)
SMALL["hybrid-fast"] = {**SMALL["hybrid"], "window": 8}
# 1001 is not a multiple of the U-Net's pooling factor (8) nor of the attention window (16)
LENGTHS = (1, 37, 1000, 1001, 2500)


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """One intra-op thread: faster than two on a shared, busy CPU; restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _model(arch: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(arch, **SMALL[arch]).eval()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each small model exported once (exports take seconds), with a description."""
    folder = tmp_path_factory.mktemp("export")
    return {
        arch: export_onnx(
            _model(arch), folder / f"{arch}.onnx", preprocessing={"normalize": "zscore"}, name=arch
        )
        for arch in SMALL
    }


@pytest.mark.parametrize("arch", sorted(SMALL))
def test_onnx_matches_pytorch_at_any_batch_and_length(arch: str, exported: dict[str, Path]) -> None:
    model, path = _model(arch), exported[arch]
    graph = onnx.load_model(str(path)).graph
    for value in (*graph.input, *graph.output):
        dims = value.type.tensor_type.shape.dim
        assert dims[0].dim_param and dims[2].dim_param, f"{value.name}: batch/length not dynamic"
    session = _session(path)
    rng = np.random.default_rng(0)
    for batch in (1, 3):
        for length in LENGTHS:
            x = rng.standard_normal((batch, 1, length)).astype(np.float32)
            with torch.no_grad():
                expected = model(torch.from_numpy(x)).numpy()
            (got,) = session.run(None, {"signal": x})
            assert got.shape == expected.shape == (batch, 4, length)
            assert np.abs(got - expected).max() < 1e-4, (arch, batch, length)


def test_metadata_describes_the_model(exported: dict[str, Path]) -> None:
    model, path = _model("hybrid"), exported["hybrid"]
    description = read_onnx_description(path)
    assert description["arch"] == "hybrid" and description["name"] == "hybrid"
    assert description["config"] == json.loads(json.dumps(model.config.to_dict()))
    assert description["sampling_rate"] == 250.0
    assert description["preprocessing"] == {"normalize": "zscore"}
    assert not list(path.parent.glob(".*.tmp")), "atomic write left a temporary file"
    # the geometry windowed inference needs, so the ONNX backend builds no PyTorch model
    field = model.receptive_field
    assert description["receptive_field"] == [field.left, field.right]
    assert description["span_period"] == model.span_period > 1
    backend = OnnxBackend(path)
    assert (backend.receptive_field, backend.span_period) == (field, model.span_period)


def test_an_export_without_the_geometry_still_runs_windowed(
    exported: dict[str, Path], tmp_path: Path
) -> None:
    """Files exported before the receptive field was recorded: the backend derives it."""
    model, proto = _model("hybrid"), onnx.load(str(exported["hybrid"]))
    (entry,) = [e for e in proto.metadata_props if e.key == "sigseg"]
    description = json.loads(entry.value)
    del description["receptive_field"], description["span_period"]
    entry.value = json.dumps(description)
    onnx.save(proto, str(tmp_path / "old.onnx"))
    backend = OnnxBackend(tmp_path / "old.onnx")
    assert (backend.receptive_field, backend.span_period) == (
        model.receptive_field,
        model.span_period,
    )


def test_falls_back_to_torchscript_exporter(tmp_path: Path, monkeypatch) -> None:
    def fail(*args: object) -> None:
        raise RuntimeError("simulated dynamo failure")

    monkeypatch.setattr(export_module, "_export_dynamo", fail)
    model = _model("unet")
    with pytest.warns(RuntimeWarning, match="TorchScript"):
        path = export_onnx(model, tmp_path / "fallback.onnx")
    assert check_onnx(model, path, lengths=(1, 1001)) < 1e-4
    assert read_onnx_description(path)["arch"] == "unet"


def test_bad_output_paths_are_clear(tmp_path: Path) -> None:
    model = _model("dilated")
    with pytest.raises(ValueError, match="does not exist"):
        export_onnx(model, tmp_path / "missing" / "m.onnx")
    with pytest.raises(ValueError, match="is a folder"):
        export_onnx(model, tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        read_onnx_description(tmp_path / "none.onnx")


# ------------------------------------------------------------------------------------ CLI


def _cli(*args: str) -> int:
    """Run ``sigseg`` in process (faster than a subprocess) and return its exit status."""
    try:
        main(list(args))
    except SystemExit as exit_info:
        return int(exit_info.code or 0)
    return 0


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    return save_checkpoint(
        _model("dilated"), tmp_path / "model.safetensors", preprocessing={"normalize": "zscore"}
    )


def test_cli_writes_a_file_onnx_runtime_loads(checkpoint: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "model.onnx"
    assert _cli("export", str(checkpoint), "--onnx", str(out), "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["onnx"] == str(out) and report["arch"] == "dilated"
    assert report["max_abs_diff"] < 1e-4
    session = _session(out)
    (logits,) = session.run(None, {"signal": np.zeros((1, 1, 123), np.float32)})
    assert logits.shape == (1, 4, 123)
    assert read_onnx_description(out)["preprocessing"] == {"normalize": "zscore"}


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("missing.safetensors", "out.onnx", "checkpoint file not found"),
        ("model.safetensors", "missing/out.onnx", "does not exist"),
        ("model.safetensors", ".", "is a folder"),
        ("garbage.safetensors", "out.onnx", "not a safetensors checkpoint"),
    ],
)
def test_cli_bad_paths_give_one_line_errors(
    checkpoint: Path, tmp_path: Path, capsys, source: str, target: str, message: str
) -> None:
    (tmp_path / "garbage.safetensors").write_bytes(b"not a checkpoint")
    status = _cli("export", str(tmp_path / source), "--onnx", str(tmp_path / target), "--no-check")
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
