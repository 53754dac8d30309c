"""Dilated Conv1D network: the receptive field grows exponentially with depth, no pooling."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from sigseg.layers.blocks import ConvNormAct, DilatedResidualBlock
from sigseg.layers.factories import NORMS
from sigseg.layers.field import Span, conv_span
from sigseg.models.base import ModelConfig, SegmentationModel
from sigseg.models.registry import register_model


@dataclass(frozen=True)
class DilatedConfig(ModelConfig):
    """``widths[i]`` channels at dilation ``dilations[i]``; the stack repeats ``stacks`` times.

    The default schedule doubles the dilation per layer (1, 2, ..., 128): with kernel 3 the
    field is ``1 + 2 * stacks * sum(dilations)`` samples.

    ``stem_kernel`` 0 (the article's Example 1) lets the first block read the input, so its
    1x1 skip projection carries the input's raw level down the residual stream to the head;
    ``k > 0`` puts a conv-norm-activation stem of kernel ``k`` and the first width before the
    blocks, so the stream starts normalized. It matters for inputs whose level means nothing
    to the task and is not normalized away (gaze position in pixels, where only its changes
    tell a saccade from a fixation).
    """

    widths: tuple[int, ...] = (32,) * 8
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    stacks: int = 1
    kernel_size: int = 3
    norm: str = "batch"
    activation: str = "relu"
    dropout: float = 0.0
    residual: bool = True
    stem_kernel: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.stem_kernel < 0:
            raise ValueError(f"dilated: stem_kernel must be >= 0, got {self.stem_kernel}")
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
        self.stem: ConvNormAct | None = None
        if c.stem_kernel:
            self.stem = ConvNormAct(
                cin, c.widths[0], c.stem_kernel, norm=c.norm, activation=c.activation
            )
            cin = c.widths[0]
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
        if self.stem is not None:
            x = self.stem(x)
        return self.head(self.blocks(x))

    def span(self, span: Span) -> Span:
        span = conv_span(span, 1)
        for block in reversed(self.blocks):
            span = block.span(span)
        return span if self.stem is None else self.stem.span(span)
