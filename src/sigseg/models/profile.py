"""Model figures for tables: parameters, receptive field and multiply-accumulates per second
of signal (counted by ``torch.utils.flop_counter``, not by hand)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from sigseg.models.base import SegmentationModel


@dataclass(frozen=True)
class ModelProfile:
    name: str
    arch: str
    parameters: int
    receptive_field_samples: float
    receptive_field_ms: float
    macs_per_second: float
    sampling_rate: float

    def to_dict(self) -> dict[str, float | int | str | None]:
        d = asdict(self)
        for key in ("receptive_field_samples", "receptive_field_ms"):
            if math.isinf(d[key]):
                d[key] = None  # JSON has no infinity: null means a global field
        return d


def count_macs(model: SegmentationModel, num_samples: int) -> int:
    """Multiply-accumulates of one forward pass over ``num_samples`` samples."""
    x = torch.zeros(1, model.in_channels, num_samples)
    was_training = model.training
    model.eval()
    # attention through its unfused formula: the counter has no formula for PyTorch's fused
    # CPU attention kernel and would count its matmuls as free
    math_only = sdpa_kernel([SDPBackend.MATH])
    with torch.no_grad(), math_only, FlopCounterMode(display=False) as counter:
        model(x)
    model.train(was_training)
    return counter.get_total_flops() // 2


def profile_model(model: SegmentationModel, name: str, seconds: float = 10.0) -> ModelProfile:
    """Figures of ``model`` at its own sampling rate; MACs averaged over ``seconds`` of signal.

    The receptive field in ms uses the model's sampling rate (the rate it runs at)."""
    fs = model.sampling_rate
    n = max(1, round(fs * seconds))
    rf = model.receptive_field.size
    return ModelProfile(
        name=name,
        arch=model.arch,
        parameters=model.num_parameters(),
        receptive_field_samples=rf,
        receptive_field_ms=rf / fs * 1000.0,
        macs_per_second=count_macs(model, n) / (n / fs),
        sampling_rate=fs,
    )
