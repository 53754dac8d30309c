"""sigseg: 1D signal segmentation in PyTorch.

Public API (no I/O at import; torch is imported on first use, so ``import sigseg.data`` stays
light)::

    import sigseg
    model = sigseg.create_model("hybrid", in_channels=1, num_classes=4)
    sigseg.list_models()
    sigseg.save_checkpoint(model, "model.safetensors")
    model, info = sigseg.load_checkpoint("model.safetensors")
    events = sigseg.segment(signal, fs=100.0, model="run/best.safetensors")  # any task
    result = sigseg.delineate(ecg, fs=500.0)  # ECG waves and per-beat intervals (DataFrames)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "segment": "sigseg.inference.segment",
    "Task": "sigseg.tasks",
    "CheckpointError": "sigseg.checkpoint",
    "load_checkpoint": "sigseg.checkpoint",
    "save_checkpoint": "sigseg.checkpoint",
    "delineate": "sigseg.tasks.ecg.pipeline",
    "SegmentationModel": "sigseg.models",
    "create_model": "sigseg.models",
    "list_architectures": "sigseg.models",
    "list_models": "sigseg.models",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the public names lazily (PEP 562)."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sigseg' has no attribute {name!r}")
