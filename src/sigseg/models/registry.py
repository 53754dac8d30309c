"""The one registry: architectures and named presets, built by name.

``create_model(name, **overrides)`` is how the CLI, configs, checkpoints and tests build every
model. ``None`` overrides are ignored, so a generic CLI can pass every flag it has.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sigseg.models.base import ModelConfig, SegmentationModel

_ARCHS: dict[str, type[SegmentationModel]] = {}
_PRESETS: dict[str, Preset] = {}


@dataclass(frozen=True)
class Preset:
    """A named set of config values for one architecture."""

    name: str
    arch: str
    overrides: dict[str, Any] = field(default_factory=dict)
    description: str = ""


def register_model(cls: type[SegmentationModel]) -> type[SegmentationModel]:
    """Class decorator: register an architecture under ``cls.arch``."""
    if cls.arch in _ARCHS or cls.arch in _PRESETS:
        raise ValueError(f"model name {cls.arch!r} is already registered")
    _ARCHS[cls.arch] = cls
    return cls


def register_preset(preset: Preset) -> Preset:
    if preset.name in _ARCHS or preset.name in _PRESETS:
        raise ValueError(f"model name {preset.name!r} is already registered")
    if preset.arch not in _ARCHS:
        raise ValueError(f"preset {preset.name!r} names unknown architecture {preset.arch!r}")
    _PRESETS[preset.name] = preset
    return preset


def list_models() -> list[str]:
    """Every registered architecture, then every preset."""
    return [*_ARCHS, *_PRESETS]


def list_architectures() -> list[str]:
    return list(_ARCHS)


def get_preset(name: str) -> Preset | None:
    return _PRESETS.get(name)


def model_class(arch: str) -> type[SegmentationModel]:
    """The class registered for an architecture name (not a preset)."""
    try:
        return _ARCHS[arch]
    except KeyError:
        raise ValueError(
            f"unknown architecture {arch!r}; valid architectures: {', '.join(_ARCHS)}"
        ) from None


def resolve_config(name: str, **overrides: Any) -> tuple[str, ModelConfig]:
    """Architecture name and full config for a model or preset name plus overrides."""
    preset = _PRESETS.get(name)
    if preset is None and name not in _ARCHS:
        raise ValueError(f"unknown model {name!r}; valid models: {', '.join(list_models())}")
    arch = preset.arch if preset else name
    cls = _ARCHS[arch]
    values = dict(preset.overrides) if preset else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(cls.config_class)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(
            f"model {name!r} has no option(s) {', '.join(unknown)}; "
            f"options are: {', '.join(sorted(known))}"
        )
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return arch, cls.config_class(**values)


def create_model(name: str, **overrides: Any) -> SegmentationModel:
    """Build a registered model or preset by name, e.g.
    ``create_model("unet", in_channels=1, num_classes=4, depth=3)``."""
    arch, config = resolve_config(name, **overrides)
    return _ARCHS[arch](config)
