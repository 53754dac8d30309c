"""1D U-Net: the encoder-decoder baseline the rest of the zoo is measured against."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sigseg.layers.blocks import ConvNormAct
from sigseg.layers.factories import NORMS
from sigseg.layers.field import Span, conv_span, pool_span, union, upsample_span
from sigseg.models.base import ModelConfig, SegmentationModel
from sigseg.models.registry import register_model

UPSAMPLING = ("nearest", "linear", "transposed")


@dataclass(frozen=True)
class UNetConfig(ModelConfig):
    """``depth`` max-pooling levels; level ``i`` has ``base_width * width_growth**i`` channels
    and ``convs_per_block`` convolutions; the deepest level is the bottleneck."""

    depth: int = 4
    base_width: int = 16
    width_growth: float = 2.0
    convs_per_block: int = 2
    kernel_size: int = 9
    norm: str = "batch"
    activation: str = "relu"
    dropout: float = 0.0
    upsample: str = "nearest"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.depth < 0 or self.base_width < 1 or self.convs_per_block < 1:
            raise ValueError("unet: depth >= 0, base_width >= 1 and convs_per_block >= 1")
        if self.upsample not in UPSAMPLING:
            raise ValueError(f"unet: upsample must be one of {UPSAMPLING}, got {self.upsample!r}")
        if self.norm not in NORMS:
            raise ValueError(f"unet: norm must be one of {NORMS}, got {self.norm!r}")

    def width(self, level: int) -> int:
        return max(1, round(self.base_width * self.width_growth**level))


class _Stage(nn.Sequential):
    def span(self, span: Span) -> Span:
        for block in reversed(self):
            span = block.span(span)
        return span


@register_model
class UNet(SegmentationModel):
    """Encoder of conv blocks with max-pooling, a bottleneck, and a decoder that upsamples and
    concatenates the encoder features of the same scale (skip connections) before its convs.

    The input is padded on the right to a multiple of ``2**depth`` and the output cropped back,
    so every length ``L >= 1`` works.
    """

    arch = "unet"
    config_class = UNetConfig

    def __init__(self, config: UNetConfig) -> None:
        super().__init__(config)
        c = config

        def stage(cin: int, cout: int) -> _Stage:
            blocks = [
                ConvNormAct(
                    cin if i == 0 else cout,
                    cout,
                    c.kernel_size,
                    norm=c.norm,
                    activation=c.activation,
                    dropout=c.dropout,
                )
                for i in range(c.convs_per_block)
            ]
            return _Stage(*blocks)

        self.encoders = nn.ModuleList()
        cin = c.in_channels
        for level in range(c.depth + 1):
            self.encoders.append(stage(cin, c.width(level)))
            cin = c.width(level)
        self.upsamplers = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for level in reversed(range(c.depth)):
            below = c.width(level + 1)
            self.upsamplers.append(
                nn.ConvTranspose1d(below, below, 2, stride=2)
                if c.upsample == "transposed"
                else nn.Upsample(scale_factor=2, mode=c.upsample)
            )
            self.decoders.append(stage(below + c.width(level), c.width(level)))
        self.head = nn.Conv1d(c.width(0), c.num_classes, 1)

    @property
    def span_period(self) -> int:
        return 2**self.config.depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[-1]
        multiple = 2**self.config.depth
        x = F.pad(x, (0, (-length) % multiple))
        skips = []
        for level, encoder in enumerate(self.encoders):
            if level > 0:
                x = F.max_pool1d(x, 2)
            x = encoder(x)
            skips.append(x)
        skips.pop()
        for upsample, decoder in zip(self.upsamplers, self.decoders, strict=True):
            x = decoder(torch.cat([upsample(x), skips.pop()], dim=1))
        return self.head(x)[..., :length]

    def span(self, span: Span) -> Span:
        """Walk the decoder back to the bottleneck, joining each skip's span on the way."""
        mode = self.config.upsample

        def encoder_span(level: int, s: Span) -> Span:
            s = self.encoders[level].span(s)
            for lvl in reversed(range(level)):
                s = self.encoders[lvl].span(pool_span(s, 2))
            return s

        def decoder_span(level: int, s: Span) -> Span:
            """Input span of the decoder output at ``level`` (the bottleneck at ``depth``)."""
            if level == self.config.depth:
                return encoder_span(level, s)
            s = self.decoders[self.config.depth - 1 - level].span(s)
            below = decoder_span(level + 1, upsample_span(s, 2, mode))
            return union(below, encoder_span(level, s))

        return decoder_span(0, conv_span(span, 1))
