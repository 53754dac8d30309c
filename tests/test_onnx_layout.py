"""The ONNX graph rewrites for CPU kernels: what they change (parity with PyTorch for every
architecture is in test_export.py, on the rewritten graphs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import helper

from sigseg.export import export_onnx
from sigseg.models import create_model
from sigseg.onnx_layout import optimize_for_cpu


def _graph(tmp_path: Path, name: str, **options: object) -> onnx.GraphProto:
    torch.manual_seed(0)
    model = create_model(name, **options).eval()
    return onnx.load(str(export_onnx(model, tmp_path / f"{name}.onnx"))).graph


def test_hybrid_convolutions_run_in_2d_and_its_fusion_is_a_sum(tmp_path: Path) -> None:
    dilations = (1, 2, 4)
    graph = _graph(
        tmp_path,
        "hybrid",
        width=8,
        dilations=dilations,
        attention_after=(2,),
        num_heads=2,
        key_dim=4,
        fuse_width=8,
        window=16,
    )
    convs = [n for n in graph.node if n.op_type == "Conv"]
    for conv in convs:
        (kernel,) = (a.ints for a in conv.attribute if a.name == "kernel_shape")
        assert len(kernel) == 2 and kernel[0] == 1, conv.name
    # stem + 3 blocks + fusion split into one 1x1 conv per block + head
    assert len(convs) == 1 + len(dilations) + len(dilations) + 1
    producers = {out: n for n in graph.node for out in n.output}
    for conv in convs:
        assert producers.get(conv.input[0], conv).op_type != "Concat"
    # one way into the 2-D part and one way out around the attention, plus the output
    assert sum(n.op_type == "Squeeze" and "sigseg_layout_axis" in n.input for n in graph.node) == 2


def _conv_relu_add_model(opset: int) -> onnx.ModelProto:
    """x -> Conv -> Relu -> + x, a residual block, as a hand-made 1-D graph."""
    rng = np.random.default_rng(0)
    weight = helper.make_tensor("w", onnx.TensorProto.FLOAT, [3, 3, 5], rng.standard_normal(45))
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[2, 2], kernel_shape=[5]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Add", ["r", "x"], ["y"]),
    ]
    value = helper.make_tensor_value_info
    graph = helper.make_graph(
        nodes,
        "residual",
        [value("x", onnx.TensorProto.FLOAT, ["n", 3, "l"])],
        [value("y", onnx.TensorProto.FLOAT, ["n", 3, "l"])],
        [weight],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def test_a_residual_block_is_lifted_whole_and_computes_the_same() -> None:
    x = np.random.default_rng(1).standard_normal((2, 3, 101)).astype(np.float32)
    before = _run(_conv_relu_add_model(18), x)
    model = optimize_for_cpu(_conv_relu_add_model(18))
    onnx.checker.check_model(model)
    ops = [n.op_type for n in model.graph.node]
    assert ops == ["Unsqueeze", "Conv", "Relu", "Add", "Squeeze"]
    np.testing.assert_allclose(_run(model, x), before, atol=1e-5)


def test_old_opsets_are_left_alone() -> None:
    model = optimize_for_cpu(_conv_relu_add_model(11))
    assert [n.op_type for n in model.graph.node] == ["Conv", "Relu", "Add"]
