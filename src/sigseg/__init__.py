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

from importlib.metadata import PackageNotFoundError, version

from sigseg.lazy import lazy_attributes

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
__getattr__ = lazy_attributes(__name__, _EXPORTS)


def library_version() -> str:
    """This package's installed version (``"unknown"`` when it runs uninstalled), recorded
    in checkpoints, exports and run folders."""
    try:
        return version("sigseg")
    except PackageNotFoundError:
        return "unknown"
