"""Export a model to ONNX, with dynamic batch and length, describing itself in its metadata.

The exported graph takes ``signal`` ``(N, C, L)`` float32 and returns ``logits`` ``(N, K, L)``
for any ``N >= 1`` and ``L >= 1`` (the model contract). The file's ``metadata_props`` hold,
under the key ``"sigseg"``, a JSON description like a checkpoint's (architecture, config,
sampling rate, preprocessing, library version), so :class:`~sigseg.inference.backends.OnnxBackend`
runs it with the right preprocessing and nobody needs the Python model to use the file.

How: ``torch.export`` with dynamic dimensions, then the ONNX exporter (``dynamo=True``). One
fix makes every model in the zoo export with a truly dynamic length:

scaled-dot-product attention is decomposed into matmul + softmax before conversion, because
the ONNX translation accepts only 4-D inputs and windowed attention uses 5-D ones. (Sizes are
computed with non-negative floor divisions, e.g. ``(length + w - 1) // w``: the stock ONNX
translation of ``//`` truncates, which differs from floor only for negative operands.)

Should that path fail for some model, the TorchScript exporter (``dynamo=False``) with
``dynamic_axes`` is tried instead, with a warning; check its output with
:func:`~sigseg.inference.backends.check_onnx`.

The graph is then rewritten for ONNX Runtime's CPU kernels (:mod:`sigseg.onnx_layout`:
convolutions as 2-D ones, the fusion's concatenation as a sum), the same function.

Example::

    model, info = sigseg.load_checkpoint("model.safetensors")
    export_onnx(model, "model.onnx", preprocessing=info.preprocessing)
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import math
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sigseg import library_version
from sigseg.atomic import atomic_path
from sigseg.data.transforms import Preprocessing
from sigseg.onnx_description import FORMAT_VERSION, ONNX_METADATA_KEY
from sigseg.onnx_layout import optimize_for_cpu
from sigseg.tasks import Task

DEFAULT_OPSET = 18
INPUT_NAME, OUTPUT_NAME = "signal", "logits"


def describe_model(
    model: nn.Module,
    preprocessing: Preprocessing | dict[str, Any] | None = None,
    name: str = "",
    task: Task | None = None,
) -> dict[str, Any]:
    """The JSON-able description stored with an exported model (as in a checkpoint, plus the
    receptive field and span period), with the model's task when given."""
    if isinstance(preprocessing, Preprocessing):
        preprocessing = preprocessing.to_dict()
    config = model.config.to_dict() if hasattr(model, "config") else {}
    config.setdefault("in_channels", int(model.in_channels))
    config.setdefault("num_classes", int(model.num_classes))
    config.setdefault("sampling_rate", float(model.sampling_rate))
    arch = str(getattr(model, "arch", type(model).__name__))
    field = getattr(model, "receptive_field", None)
    return {
        "format": FORMAT_VERSION,
        "arch": arch,
        "name": name or arch,
        "config": config,
        "sampling_rate": float(model.sampling_rate),
        "preprocessing": dict(preprocessing or {}),
        # what windowed inference needs, so running the file needs no PyTorch model
        "receptive_field": None if field is None else [field.left, field.right],
        "span_period": int(getattr(model, "span_period", 1)),
        "library_version": library_version(),
        **({"task": task.to_dict()} if task is not None else {}),
    }


def export_onnx(
    model: nn.Module,
    path: str | os.PathLike[str],
    *,
    opset: int = DEFAULT_OPSET,
    preprocessing: Preprocessing | dict[str, Any] | None = None,
    name: str = "",
    task: Task | None = None,
) -> Path:
    """Write ``model`` to ``path`` as ONNX (atomically) and return the path.

    Batch and length are dynamic. The model is copied to the CPU in float32 and eval mode, so
    the caller's model is left as it was. ``preprocessing`` (what a checkpoint records) is
    stored in the metadata; without it, inference uses the model's rate and the default
    normalization. ``task`` (what a checkpoint carries) tells ``sigseg segment`` what the
    outputs mean.
    """
    from sigseg.optional import require

    onnx = require("onnx", "ONNX export")
    require("onnxscript", "ONNX export")  # torch's exporter (dynamo=True) imports it

    path = _output_path(path)
    for attr in ("in_channels", "num_classes", "sampling_rate"):
        if not hasattr(model, attr):
            raise TypeError(f"{type(model).__name__} lacks {attr!r}: not a sigseg model")
    if not 7 <= opset <= 30:
        raise ValueError(f"opset must be a valid ONNX opset (7..30), got {opset}")
    cpu_model = copy.deepcopy(model).to("cpu", torch.float32).eval()
    length = max(1024, 4 * int(getattr(model, "span_period", 1)))
    example = torch.randn(2, int(model.in_channels), length)
    try:
        proto = _export_dynamo(cpu_model, example, opset)
    except Exception as err:  # the exporter raises many types; fall back on any
        warnings.warn(
            f"dynamo ONNX export failed ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}); "
            "falling back to the TorchScript exporter",
            RuntimeWarning,
            stacklevel=2,
        )
        proto = _export_torchscript(cpu_model, example, opset)
    proto = optimize_for_cpu(proto)
    description = describe_model(model, preprocessing, name, task)
    for entry in list(proto.metadata_props):
        if entry.key == ONNX_METADATA_KEY:
            proto.metadata_props.remove(entry)
    entry = proto.metadata_props.add()
    entry.key, entry.value = ONNX_METADATA_KEY, json.dumps(description)
    with atomic_path(path) as tmp:
        onnx.save_model(proto, str(tmp))
    return path


def _output_path(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give a file name such as {path / 'model.onnx'}")
    if not path.parent.is_dir():
        raise ValueError(f"{path}: folder {path.parent} does not exist")
    return path


def _sdpa_math(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> torch.Tensor:
    """Scaled dot-product attention as matmul + softmax, for inputs of any rank (inference).

    A boolean mask that depends on the key only (shape ``(..., 1, S)``, as windowed
    attention's is) becomes a bias in one extra key dimension: each key gets ``0`` (kept) or
    ``-inf`` (masked) and each query a ``1``, so the masking happens inside the matmul. This
    avoids a pass of ``Where`` (or ``Add``) over the whole score tensor, the largest tensor of
    the graph (``(N, heads, chunks, w, 3w)``): ONNX Runtime runs the hybrid model about 1.3x
    faster on a CPU. The scores are those of the plain formula up to float rounding."""
    if is_causal or enable_gqa:
        raise NotImplementedError("causal / grouped-query attention is not decomposed here")
    scale = scale if scale is not None else 1.0 / math.sqrt(query.shape[-1])
    if attn_mask is not None and attn_mask.dtype == torch.bool and attn_mask.shape[-2] == 1:
        bias = torch.zeros(attn_mask.shape, dtype=key.dtype).masked_fill(~attn_mask, -math.inf)
        key = torch.cat([key, bias.transpose(-2, -1).expand(*key.shape[:-1], 1)], dim=-1)
        ones = torch.ones(*query.shape[:-1], 1, dtype=query.dtype)
        query = torch.cat([query, ones], dim=-1)
        attn_mask = None
    scores = torch.matmul(query, key.transpose(-2, -1)) * scale
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    return torch.matmul(torch.softmax(scores, dim=-1), value)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporters' progress prints and deprecation chatter."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        logger.setLevel(level)


def _export_dynamo(model: nn.Module, example: torch.Tensor, opset: int) -> Any:
    from torch.export import Dim

    with _quiet():
        program = torch.export.export(
            model, (example,), strict=False, dynamic_shapes=({0: Dim.DYNAMIC, 2: Dim.DYNAMIC},)
        )
        sdpa = torch.ops.aten.scaled_dot_product_attention.default
        program = program.run_decompositions({sdpa: _sdpa_math})
        onnx_program = torch.onnx.export(
            program,
            (example,),
            dynamo=True,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=opset,
            verbose=False,
        )
    assert onnx_program is not None
    return onnx_program.model_proto


def _export_torchscript(model: nn.Module, example: torch.Tensor, opset: int) -> Any:
    from sigseg.optional import require

    onnx = require("onnx", "ONNX export")

    buffer = io.BytesIO()
    axes = {0: "batch", 2: "length"}
    with _quiet():
        torch.onnx.export(
            model,
            (example,),
            buffer,
            dynamo=False,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=opset,
            dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes},
        )
    return onnx.load_model_from_string(buffer.getvalue())
