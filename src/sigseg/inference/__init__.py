"""Inference: from model outputs on long signals to waves and intervals."""

from sigseg.inference.backends import Backend, OnnxBackend, TorchBackend, load_backend
from sigseg.inference.windows import (
    ArraySource,
    SignalSource,
    WindowOptions,
    iter_predict_long,
    plan_windows,
    predict_array,
    predict_long,
    stack_windows,
)

__all__ = [
    "ArraySource",
    "Backend",
    "OnnxBackend",
    "SignalSource",
    "TorchBackend",
    "WindowOptions",
    "iter_predict_long",
    "load_backend",
    "plan_windows",
    "predict_array",
    "predict_long",
    "stack_windows",
]
