"""Self-describing checkpoints: one ``.safetensors`` file holds the weights and, in its
metadata, the architecture name, full config, sampling rate, preprocessing and library
version. Loading never unpickles, so a model file from a stranger cannot run code.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from sigseg import library_version
from sigseg.atomic import atomic_path
from sigseg.models.base import SegmentationModel
from sigseg.models.registry import create_model, list_architectures
from sigseg.tasks import ECG_DELINEATION, Task, segmentation_task

FORMAT_VERSION = 1
_META_KEY = "sigseg"


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message names the file and the problem."""


@dataclass
class CheckpointInfo:
    """Everything a checkpoint says about itself besides the weights."""

    arch: str
    config: dict[str, Any]
    name: str = ""
    preprocessing: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    library_version: str = ""
    task: Task = ECG_DELINEATION
    """What the outputs mean (see :func:`default_task` for files that do not say)."""

    @property
    def sampling_rate(self) -> float:
        return float(self.config["sampling_rate"])


def default_task(num_classes: int) -> Task:
    """The task of a model that names none: ECG delineation for four outputs (every model
    shipped before tasks existed), else anonymous classes ``class1``... on a background."""
    if num_classes == ECG_DELINEATION.num_classes:
        return ECG_DELINEATION
    names = [f"class{i}" for i in range(1, max(num_classes, 2))]
    return segmentation_task(names)


def save_checkpoint(
    model: SegmentationModel,
    path: str | os.PathLike[str],
    *,
    name: str = "",
    preprocessing: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    task: Task | None = None,
) -> Path:
    """Write ``model`` atomically to ``path`` (a ``.safetensors`` file) and return the path.
    ``task`` (default: :func:`default_task`) must have one class per model output (two for a
    single-logit binary model)."""
    path = Path(path)
    task = task or default_task(int(model.num_classes))
    if task.num_classes != max(int(model.num_classes), 2):
        raise ValueError(
            f"task {task.name!r} has {task.num_classes} classes; the model outputs "
            f"{model.num_classes}"
        )
    meta = {
        "format": FORMAT_VERSION,
        "arch": model.arch,
        "name": name or model.arch,
        "config": model.config.to_dict(),
        "preprocessing": preprocessing or {},
        "extra": extra or {},
        "task": task.to_dict(),
        "library_version": library_version(),
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={_META_KEY: json.dumps(meta)})
    return path


def read_info(path: str | os.PathLike[str]) -> CheckpointInfo:
    """Read and validate a checkpoint's description without loading its weights."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path}: not a safetensors checkpoint ({err})") from None
    if _META_KEY not in metadata:
        raise CheckpointError(f"{path}: safetensors file has no sigseg description")
    try:
        meta = json.loads(metadata[_META_KEY])
        info = CheckpointInfo(
            arch=str(meta["arch"]),
            config=dict(meta["config"]),
            name=str(meta.get("name", "")),
            preprocessing=dict(meta.get("preprocessing", {})),
            extra=dict(meta.get("extra", {})),
            library_version=str(meta.get("library_version", "")),
        )
        info.task = (
            Task.from_dict(meta["task"], source=f"{path}: task")
            if "task" in meta
            else default_task(int(info.config.get("num_classes", 4)))
        )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: malformed sigseg description ({err})") from None
    if info.arch not in list_architectures():
        raise CheckpointError(
            f"{path}: unknown architecture {info.arch!r}; "
            f"valid architectures: {', '.join(list_architectures())}"
        )
    return info


def load_checkpoint(
    path: str | os.PathLike[str], map_location: str | torch.device = "cpu"
) -> tuple[SegmentationModel, CheckpointInfo]:
    """Build the model a checkpoint describes and load its weights (strictly), in eval mode."""
    info = read_info(path)
    try:
        model = create_model(info.arch, **info.config)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: invalid config for {info.arch!r} ({err})") from None
    try:
        state = load_file(str(path), device=str(map_location))
        model.load_state_dict(state, strict=True)
    except (RuntimeError, SafetensorError) as err:
        first = str(err).strip().splitlines()[0]
        raise CheckpointError(
            f"{path}: weights do not match the {info.arch!r} config ({first})"
        ) from None
    return model.eval(), info
