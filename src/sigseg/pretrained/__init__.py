"""Pretrained models shipped with the package: safetensors weights, a JSON config and a model
card per model. ``make pretrained`` rebuilds them with ``sigseg train``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sigseg.tasks.ecg import ECG_DELINEATION

DEFAULT_MODEL: str = ECG_DELINEATION.default_model or ""
"""The default ECG delineation model used by ``sigseg delineate`` (the ECG task's)."""


def _folder() -> Path:
    return Path(str(resources.files("sigseg.pretrained")))


def list_pretrained() -> list[str]:
    """Names of the pretrained models shipped in this installation."""
    return sorted(p.stem for p in _folder().glob("*.safetensors"))


def resolve_model(spec: str | None = None) -> Path:
    """The checkpoint (or ONNX file) a ``--model`` value names: an existing path, or the name
    of a shipped pretrained model (``None``: the default)."""
    spec = spec or DEFAULT_MODEL
    path = Path(spec)
    if path.suffix.lower() in (".safetensors", ".onnx") or path.exists():
        if not path.is_file():
            raise ValueError(f"{path}: model file not found")
        return path
    candidate = _folder() / f"{spec}.safetensors"
    if candidate.is_file():
        return candidate
    shipped = ", ".join(list_pretrained()) or "none (run `make pretrained`)"
    raise ValueError(
        f"--model {spec!r}: not a file and not a pretrained model; pretrained models: {shipped}"
    )
