"""Ship the pretrained models' ONNX exports beside their weights, so the default (fastest)
backend pays no export on first use.

    python -m sigseg.pretrained.onnx            # every shipped model
    python -m sigseg.pretrained.onnx NAME ...   # some

Every shipped model's export is committed (each about 0.5 MB).

Each export is named by the hash of its checkpoint's bytes
(:func:`~sigseg.inference.backends.onnx_beside`): a rebuilt checkpoint never runs an old
export, and ``make pretrained`` writes the new one. An export is checked against PyTorch
(:func:`~sigseg.inference.backends.check_onnx`) before it replaces the old one.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

from sigseg.pretrained import _folder, list_pretrained

MAX_DIFFERENCE = 1e-3
"""Largest logit difference from PyTorch an export may show (float32 rounding only)."""


def export_shipped(name: str) -> Path:
    """Export the shipped model ``name`` beside its checkpoint; remove its older exports."""
    from sigseg.checkpoint import load_checkpoint
    from sigseg.export import export_onnx
    from sigseg.inference.backends import check_onnx, onnx_beside

    weights = _folder() / f"{name}.safetensors"
    model, info = load_checkpoint(weights)
    target = onnx_beside(weights)
    export_onnx(model, target, preprocessing=info.preprocessing, name=name, task=info.task)
    worst = check_onnx(model, target)
    if worst > MAX_DIFFERENCE:
        target.unlink()
        raise RuntimeError(f"{name}: ONNX export differs from PyTorch by {worst:.2g}")
    for old in _folder().glob(f"{name}-*.onnx"):
        if old != target and re.fullmatch(rf"{re.escape(name)}-[0-9a-f]{{16}}\.onnx", old.name):
            old.unlink()
    return target


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="shipped models (default: all)")
    args = parser.parse_args(argv)
    for name in args.names or list_pretrained():
        print(export_shipped(name))


if __name__ == "__main__":
    main()
