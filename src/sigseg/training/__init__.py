"""Training on Lightning: config, data module, task, losses and the ``train`` entry point.

Sits on top of ``models``, ``data``, ``metrics``, ``inference`` and the tasks (``tasks.ecg``)."""

from sigseg.training.config import TrainConfig, load_config
from sigseg.training.fit import TrainResult, train
from sigseg.training.losses import WeightedLoss

__all__ = ["TrainConfig", "TrainResult", "WeightedLoss", "load_config", "train"]
