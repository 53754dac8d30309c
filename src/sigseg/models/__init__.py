"""The model zoo. Importing this package registers every architecture and preset."""

# registration order: architectures first, then the presets that name them
from sigseg.models import unet, dilated, attention, hybrid  # noqa: F401  # isort: skip
from sigseg.models import seeds  # noqa: F401  # isort: skip
from sigseg.models.base import ModelConfig, SegmentationModel
from sigseg.models.registry import (
    Preset,
    create_model,
    get_preset,
    list_architectures,
    list_models,
    model_class,
    resolve_config,
)

__all__ = [
    "ModelConfig",
    "Preset",
    "SegmentationModel",
    "create_model",
    "get_preset",
    "list_architectures",
    "list_models",
    "model_class",
    "resolve_config",
]
