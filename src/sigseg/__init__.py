"""sigseg: 1D signal segmentation in PyTorch.

Public API (no I/O at import)::

    import sigseg
    model = sigseg.create_model("hybrid", in_channels=1, num_classes=4)
    sigseg.list_models()
    sigseg.save_checkpoint(model, "model.safetensors")
    model, info = sigseg.load_checkpoint("model.safetensors")
"""

from sigseg.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from sigseg.models import SegmentationModel, create_model, list_architectures, list_models

__all__ = [
    "CheckpointError",
    "SegmentationModel",
    "create_model",
    "list_architectures",
    "list_models",
    "load_checkpoint",
    "save_checkpoint",
]
