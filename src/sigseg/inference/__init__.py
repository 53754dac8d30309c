"""Inference for any task: a model (or ONNX file) run over long signals in windows, and its
probabilities decoded into events with the task's rules."""

from sigseg.inference.backends import Backend, OnnxBackend, TorchBackend, load_backend
from sigseg.inference.predict import iter_predict_long, predict_array, predict_long
from sigseg.inference.sources import ArraySource, SignalSource
from sigseg.inference.windows import WindowOptions, plan_windows, stack_windows

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
