"""Convolutional blocks with their input-span maps (see :mod:`sigseg.layers.field`)."""

from __future__ import annotations

import torch
from torch import nn

from sigseg.layers.factories import make_activation, make_norm, same_padding
from sigseg.layers.field import Span, conv_span, union


class ConvNormAct(nn.Module):
    """Length-preserving ``Conv1d -> norm -> activation -> dropout``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        dilation: int = 1,
        norm: str = "batch",
        activation: str = "relu",
        dropout: float = 0.0,
        groups: int = 1,
    ) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.pad = same_padding(kernel_size, dilation)
        self.conv = nn.Conv1d(
            in_channels,
            out_channels,
            kernel_size,
            dilation=dilation,
            padding="same",
            groups=groups,
        )
        self.norm = make_norm(norm, out_channels)
        self.act = make_activation(activation)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.act(self.norm(self.conv(x))))

    def span(self, span: Span) -> Span:
        return conv_span(span, self.kernel_size, self.dilation, self.pad[0])


class DilatedResidualBlock(nn.Module):
    """A dilated :class:`ConvNormAct` with an optional residual path.

    The residual is the identity when widths match, else a 1x1 projection, so a stack of these
    can widen as it deepens (as the article's Example 1 does) and still train deep.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dilation: int,
        *,
        norm: str = "batch",
        activation: str = "relu",
        dropout: float = 0.0,
        residual: bool = True,
    ) -> None:
        super().__init__()
        self.body = ConvNormAct(
            in_channels,
            out_channels,
            kernel_size,
            dilation=dilation,
            norm=norm,
            activation=activation,
            dropout=dropout,
        )
        self.skip: nn.Module | None = None
        if residual:
            self.skip = (
                nn.Identity()
                if in_channels == out_channels
                else nn.Conv1d(in_channels, out_channels, 1)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return y if self.skip is None else y + self.skip(x)

    def span(self, span: Span) -> Span:
        inner = self.body.span(span)
        return inner if self.skip is None else union(inner, span)
