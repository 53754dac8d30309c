"""``sigseg export``: a checkpoint to an ONNX file that ONNX Runtime runs on its own."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from sigseg.optional import require


def export(
    checkpoint: Path = typer.Argument(..., help="A sigseg checkpoint (.safetensors)."),
    onnx: Path = typer.Option(..., "--onnx", help="The ONNX file to write."),
    opset: int | None = typer.Option(
        None, "--opset", help="ONNX opset version (default: sigseg.export.DEFAULT_OPSET)."
    ),
    check: bool = typer.Option(
        True, "--check/--no-check", help="Compare ONNX Runtime with PyTorch on random input."
    ),
    tolerance: float = typer.Option(
        1e-3, "--tolerance", help="Largest |diff| --check accepts before it fails."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a line of text."),
) -> None:
    """Export a checkpoint to ONNX with dynamic batch and length.

    The file carries the model's description (architecture, config, sampling rate,
    preprocessing, task) in its metadata, so `load_backend("model.onnx")` runs it as the checkpoint
    would. With --check, ONNX Runtime's logits are compared with PyTorch's."""
    if check:  # say what is missing before anything is written
        require("onnxruntime", "sigseg export --check")
    # torch is imported here, not with the CLI, so that other commands start fast
    from sigseg.checkpoint import load_checkpoint
    from sigseg.export import DEFAULT_OPSET, export_onnx
    from sigseg.inference.backends import check_onnx

    opset = DEFAULT_OPSET if opset is None else opset
    model, info = load_checkpoint(checkpoint)
    path = export_onnx(
        model, onnx, opset=opset, preprocessing=info.preprocessing, name=info.name, task=info.task
    )
    lengths = (1000, 1001, 2500)
    diff = check_onnx(model, path, lengths=lengths) if check else None
    if diff is not None and not diff <= tolerance:
        raise ValueError(
            f"{path}: ONNX Runtime disagrees with PyTorch (max |diff| {diff:.2e} > {tolerance:g});"
            " the file is written but should not be trusted"
        )
    result = {
        "onnx": str(path),
        "arch": info.arch,
        "name": info.name,
        "opset": opset,
        "bytes": path.stat().st_size,
        "max_abs_diff": diff,
        "checked_lengths": list(lengths) if check else [],
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    line = f"wrote {path} ({info.name or info.arch}, opset {opset}, {result['bytes'] / 1e3:.0f} kB)"
    if diff is not None:
        line += f"; ONNX Runtime vs PyTorch max |diff| {diff:.2e} on lengths {lengths}"
    typer.echo(line)
