"""Attention Conv1D network: a convolutional stem, then self-attention over time."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from sigseg.layers.attention import TransformerBlock
from sigseg.layers.factories import make_activation, make_norm
from sigseg.layers.field import Span, conv_span
from sigseg.models.base import ModelConfig, SegmentationModel
from sigseg.models.registry import register_model


@dataclass(frozen=True)
class AttentionConfig(ModelConfig):
    """``depth`` attention blocks of width ``dim``; ``window`` restricts attention to local
    chunks (``None``: global); ``pos_kernel`` is the depthwise-conv positional encoding
    (0 disables it); ``ffn_ratio`` 0 removes the feed-forward sublayer."""

    dim: int = 64
    depth: int = 2
    num_heads: int = 4
    key_dim: int = 16
    ffn_ratio: float = 2.0
    window: int | None = None
    pos_kernel: int = 9
    norm_first: bool = True
    stem_kernel: int = 9
    stem_norm: str = "batch"
    stem_activation: str = "gelu"
    dropout: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dim < 1 or self.depth < 0 or self.num_heads < 1 or self.key_dim < 1:
            raise ValueError("attention: dim, num_heads, key_dim >= 1 and depth >= 0")


@register_model
class AttentionConvNet(SegmentationModel):
    """Conv1D stem, ``depth`` blocks of multi-head self-attention over time (residual,
    LayerNorm, feed-forward, convolutional positional encoding) and a 1x1 head.

    With ``window`` set, attention is local (memory linear in length) and the receptive field
    is finite; otherwise the field is global."""

    arch = "attention"
    config_class = AttentionConfig

    def __init__(self, config: AttentionConfig) -> None:
        super().__init__(config)
        c = config
        self.stem = nn.Sequential(
            nn.Conv1d(c.in_channels, c.dim, c.stem_kernel, padding="same"),
            make_norm(c.stem_norm, c.dim),
            make_activation(c.stem_activation),
        )
        self.blocks = nn.Sequential(
            *[
                TransformerBlock(
                    c.dim,
                    c.num_heads,
                    c.key_dim,
                    ffn_ratio=c.ffn_ratio,
                    window=c.window,
                    norm_first=c.norm_first,
                    pos_kernel=c.pos_kernel,
                    dropout=c.dropout,
                )
                for _ in range(c.depth)
            ]
        )
        self.final_norm = nn.LayerNorm(c.dim) if c.norm_first and c.depth > 0 else None
        self.head = nn.Conv1d(c.dim, c.num_classes, 1)

    @property
    def span_period(self) -> int:
        return self.config.window or 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(x))
        if self.final_norm is not None:
            x = self.final_norm(x.transpose(1, 2)).transpose(1, 2)
        return self.head(x)

    def span(self, span: Span) -> Span | None:
        s: Span | None = conv_span(span, 1)
        for block in reversed(self.blocks):
            s = block.span(s)
            if s is None:
                return None
        return conv_span(s, self.config.stem_kernel)
