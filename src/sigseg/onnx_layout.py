"""Rewrites of an exported ONNX graph that let ONNX Runtime's CPU kernels run a 1-D conv net
faster, computing the same function (up to float rounding).

ONNX Runtime converts 2-D convolutions to its blocked ``NCHWc`` layout on x86 CPUs and keeps
that layout across the element-wise operators between them; 1-D convolutions get none of it.
So :func:`lift_convolutions` runs the convolutional parts of the graph on ``(N, C, 1, L)``
tensors: every 1-D ``Conv``, and the ``Relu``, ``Add`` and channel ``Concat`` fed by one,
become their 2-D forms, with one ``Unsqueeze`` where a 3-D tensor enters that part and one
``Squeeze`` where a lifted tensor leaves it. The rest of the graph (attention, reshapes) is
untouched.

A channel concatenation that only feeds a 1x1 convolution (the hybrid's multi-scale fusion)
copies every tap once and, in the blocked layout, forces a layout change of every tap;
:func:`split_concat_conv` replaces it by one 1x1 convolution per tap, summed, since
``W @ concat(x_1, ..., x_n) = W_1 @ x_1 + ... + W_n @ x_n``.

On two cores the default model runs 1.25x faster with both (``benchmarks/speed``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

_LIFTED = ("Conv", "Relu", "Add", "Concat")
_AXIS = "sigseg_layout_axis"
MIN_OPSET = 13  # Squeeze / Unsqueeze take their axes as an input from opset 13


def optimize_for_cpu(model: Any) -> Any:
    """Both rewrites on an ``onnx.ModelProto`` (changed in place and returned); models with an
    opset below :data:`MIN_OPSET` are returned unchanged."""
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if opset < MIN_OPSET:
        return model
    split_concat_conv(model)
    lift_convolutions(model)
    return model


def _attributes(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _shapes(model: Any) -> dict[str, list[int | None]]:
    """Shape of every value shape inference can tell (``None`` for a dynamic dimension)."""
    from onnx import shape_inference

    inferred = shape_inference.infer_shapes(model).graph
    shapes: dict[str, list[int | None]] = {}
    for value in (*inferred.input, *inferred.value_info, *inferred.output):
        tensor = value.type.tensor_type
        if tensor.HasField("shape"):
            shapes[value.name] = [
                d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim
            ]
    for init in inferred.initializer:
        shapes[init.name] = list(init.dims)
    return shapes


def _replace_nodes(graph: Any, nodes: Iterable[Any]) -> None:
    """Set the graph's nodes and drop the initializers no node uses any more."""
    nodes = list(nodes)
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in nodes for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    del graph.value_info[:]  # stale after the rewrite; ONNX Runtime infers shapes again


def split_concat_conv(model: Any) -> Any:
    """Replace ``Conv1x1(Concat(x_1..x_n, axis=1))`` by ``sum_i Conv1x1_i(x_i)`` where the
    concatenation feeds nothing else and every ``x_i`` has a known channel count."""
    from onnx import helper, numpy_helper

    graph = model.graph
    shapes = _shapes(model)
    weights = {init.name: init for init in graph.initializer}
    users: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    outputs = {value.name for value in graph.output}
    replaced: dict[int, list[Any]] = {}  # id(conv) -> its replacement
    dropped: set[int] = set()  # id(concat)
    for node in graph.node:
        if node.op_type != "Concat" or node.output[0] in outputs:
            continue
        consumers = users.get(node.output[0], [])
        if len(consumers) != 1 or consumers[0].op_type != "Conv":
            continue
        conv = consumers[0]
        attrs = _attributes(conv)
        weight = weights.get(conv.input[1])
        inputs = [shapes.get(name) for name in node.input]
        if (
            _attributes(node).get("axis") not in (1, -2)
            or attrs.get("group", 1) != 1
            or weight is None
            or list(weight.dims[2:]) != [1]
            or any(s is None or len(s) != 3 or not s[1] for s in inputs)
        ):
            continue
        w = numpy_helper.to_array(weight)
        parts, start, total = [], 0, None
        for k, (name, shape) in enumerate(zip(node.input, inputs, strict=True)):
            assert shape is not None and shape[1] is not None
            part_weight = f"{weight.name}__part{k}"
            graph.initializer.append(
                numpy_helper.from_array(
                    np.ascontiguousarray(w[:, start : start + shape[1]]), part_weight
                )
            )
            start += shape[1]
            bias = [conv.input[2]] if k == 0 and len(conv.input) > 2 and conv.input[2] else []
            out = f"{conv.output[0]}__part{k}"
            parts.append(helper.make_node("Conv", [name, part_weight, *bias], [out], **attrs))
            if total is not None:
                last = k == len(inputs) - 1
                summed = conv.output[0] if last else f"{conv.output[0]}__sum{k}"
                parts.append(helper.make_node("Add", [total, out], [summed]))
                out = summed
            total = out
        if len(inputs) == 1:
            parts.append(helper.make_node("Identity", [total], [conv.output[0]]))
        replaced[id(conv)] = parts
        dropped.add(id(node))
    if replaced:
        nodes: list[Any] = []
        for node in graph.node:
            if id(node) in dropped:
                continue
            nodes.extend(replaced.get(id(node), [node]))
        _replace_nodes(graph, nodes)
    return model


def lift_convolutions(model: Any) -> Any:
    """Run the graph's 1-D convolutions, and the ``Relu``/``Add``/channel ``Concat`` fed by
    them, on ``(N, C, 1, L)`` tensors (see the module doc)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    shapes = _shapes(model)
    weights = {init.name: init for init in graph.initializer}
    lifted: dict[str, str] = {}  # 3-D value -> its 4-D twin
    from_lifted: set[str] = set()  # values computed in 4-D (3-D copy made on demand)
    squeezed: set[str] = set()
    nodes: list[Any] = []

    def rank(name: str) -> int | None:
        shape = shapes.get(name)
        return None if shape is None else len(shape)

    def liftable(node: Any) -> bool:
        if node.op_type not in _LIFTED:
            return False
        if node.op_type == "Conv":
            return (
                rank(node.input[0]) == 3
                and node.input[1] in weights
                and rank(node.input[1]) == 3
                and len(_attributes(node).get("kernel_shape", [0])) == 1
            )
        if not any(name in from_lifted for name in node.input):
            return False  # lift only what a lifted convolution feeds
        for name in node.input:
            # constants of rank <= 1 broadcast along the length in 3-D and 4-D alike
            if name in weights and rank(name) in (0, 1):
                continue
            if rank(name) != 3:
                return False
        return node.op_type != "Concat" or _attributes(node).get("axis") in (0, 1, -2, -3)

    def as_4d(name: str) -> str:
        if name in lifted:
            return lifted[name]
        if name in weights:  # a constant: add the axis to a copy
            array = numpy_helper.to_array(weights[name])
            if array.ndim != 3:
                return name
            lifted[name] = f"{name}__2d"
            graph.initializer.append(numpy_helper.from_array(array[:, :, None, :], lifted[name]))
            return lifted[name]
        lifted[name] = f"{name}__2d"
        nodes.append(helper.make_node("Unsqueeze", [name, _AXIS], [lifted[name]]))
        return lifted[name]

    def as_3d(name: str) -> str:
        if name in from_lifted and name not in squeezed:
            nodes.append(helper.make_node("Squeeze", [lifted[name], _AXIS], [name]))
            squeezed.add(name)
        return name

    for node in list(graph.node):
        if not liftable(node):
            copy = type(node)()
            copy.CopyFrom(node)
            del copy.input[:]
            copy.input.extend(as_3d(name) if name else name for name in node.input)
            nodes.append(copy)
            continue
        attrs = _attributes(node)
        if node.op_type == "Conv":
            for key in ("dilations", "strides", "kernel_shape"):
                if key in attrs:
                    attrs[key] = [1, *attrs[key]]
            if "pads" in attrs:
                begin, end = attrs["pads"]
                attrs["pads"] = [0, begin, 0, end]
        if node.op_type == "Concat" and attrs["axis"] < 0:
            attrs["axis"] -= 1  # counted from the end: one axis more
        inputs = [as_4d(name) if name else name for name in node.input]
        outputs = []
        for name in node.output:
            lifted[name] = f"{name}__2d"
            from_lifted.add(name)
            outputs.append(lifted[name])
        nodes.append(
            helper.make_node(
                node.op_type, inputs, outputs, name=node.name, domain=node.domain, **attrs
            )
        )
    for value in graph.output:
        as_3d(value.name)
    if from_lifted:
        graph.initializer.append(numpy_helper.from_array(np.array([2], dtype=np.int64), _AXIS))
        _replace_nodes(graph, nodes)
    return model
