"""Dilated Conv1D network: the receptive field grows exponentially with depth, no pooling."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from sigseg.layers.blocks import DilatedResidualBlock
from sigseg.layers.factories import NORMS
from sigseg.layers.field import Span, conv_span
from sigseg.models.base import ModelConfig, SegmentationModel
from sigseg.models.registry import register_model


@dataclass(frozen=True)
class DilatedConfig(ModelConfig):
    """``widths[i]`` channels at dilation ``dilations[i]``; the stack repeats ``stacks`` times.

    The default schedule doubles the dilation per layer (1, 2, ..., 128): with kernel 3 the
    field is ``1 + 2 * stacks * sum(dilations)`` samples.
    """

    widths: tuple[int, ...] = (32,) * 8
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    stacks: int = 1
    kernel_size: int = 3
    norm: str = "batch"
    activation: str = "relu"
    dropout: float = 0.0
    residual: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.widths) != len(self.dilations) or not self.widths:
            raise ValueError("dilated: widths and dilations need the same, non-zero length")
        if min(self.dilations) < 1 or min(self.widths) < 1 or self.stacks < 1:
            raise ValueError("dilated: widths, dilations and stacks must be >= 1")
        if self.norm not in NORMS:
            raise ValueError(f"dilated: norm must be one of {NORMS}, got {self.norm!r}")


@register_model
class DilatedConvNet(SegmentationModel):
    """Stacked dilated conv blocks (conv, norm, activation) with residual connections and
    length-preserving padding, then a 1x1 head. The article's Example 1, generalized."""

    arch = "dilated"
    config_class = DilatedConfig

    def __init__(self, config: DilatedConfig) -> None:
        super().__init__(config)
        c = config
        blocks = []
        cin = c.in_channels
        for _ in range(c.stacks):
            for width, dilation in zip(c.widths, c.dilations, strict=True):
                blocks.append(
                    DilatedResidualBlock(
                        cin,
                        width,
                        c.kernel_size,
                        dilation,
                        norm=c.norm,
                        activation=c.activation,
                        dropout=c.dropout,
                        residual=c.residual,
                    )
                )
                cin = width
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Conv1d(cin, c.num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(x))

    def span(self, span: Span) -> Span:
        span = conv_span(span, 1)
        for block in reversed(self.blocks):
            span = block.span(span)
        return span
