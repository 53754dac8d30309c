"""The one model contract every architecture in the zoo follows.

* ``forward`` maps a float tensor ``(N, C, L)`` to logits ``(N, K, L)`` for every ``L >= 1``;
  no activation is applied (``K = 1``: sigmoid, binary; ``K >= 2``: softmax, multi-class).
* ``in_channels``, ``num_classes`` and ``sampling_rate`` come from the model's config.
* ``receptive_field`` is derived from the layers through :meth:`span`, never typed by hand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from torch import nn

from sigseg.layers.field import ReceptiveField, Span


@dataclass(frozen=True)
class ModelConfig:
    """Fields every architecture's config has; subclasses add their own."""

    in_channels: int = 1
    num_classes: int = 4
    sampling_rate: float = 250.0

    def __post_init__(self) -> None:
        if self.in_channels < 1:
            raise ValueError(f"in_channels must be >= 1, got {self.in_channels}")
        if self.num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {self.num_classes}")
        if not self.sampling_rate > 0:
            raise ValueError(f"sampling_rate must be > 0, got {self.sampling_rate}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SegmentationModel(nn.Module):
    """Base class: holds the config and derives the receptive field.

    Subclasses set ``arch`` (the registry name) and ``config_class``, build their layers in
    ``__init__(config)``, and implement :meth:`span` (the input span one output span reads, or
    ``None`` when the field is global). ``span_period`` is the period, in samples, of the
    position dependence introduced by pooling or windowing.
    """

    arch: ClassVar[str]
    config_class: ClassVar[type[ModelConfig]]

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if not isinstance(config, self.config_class):
            raise TypeError(f"{type(self).__name__} needs a {self.config_class.__name__}")
        self.config = config

    @property
    def in_channels(self) -> int:
        return self.config.in_channels

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    @property
    def sampling_rate(self) -> float:
        return self.config.sampling_rate

    @property
    def span_period(self) -> int:
        return 1

    def span(self, span: Span) -> Span | None:
        raise NotImplementedError

    @property
    def receptive_field(self) -> ReceptiveField:
        """Exact reach of one output sample into the input (union over alignments)."""
        if self.span((0, 0)) is None:
            return ReceptiveField.global_()
        return ReceptiveField.from_span_map(self.span, self.span_period)  # type: ignore[arg-type]

    def num_parameters(self, trainable_only: bool = True) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)
