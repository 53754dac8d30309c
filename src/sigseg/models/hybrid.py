"""Hybrid Conv1D network: the article's full answer, without an encoder-decoder.

Design
------
U-Net gets its quality from two things: a large receptive field (pooling) and the fusion of
fine and coarse features (skip concatenation). This network gets both at full resolution:

1. **Dilated residual trunk.** A conv stem, then residual blocks whose dilation doubles per
   block (1, 2, ..., 128 by default). The field grows exponentially with depth at a constant
   cost per block, with no pooling, so no detail is lost to down- and up-sampling.
2. **Multi-scale feature fusion.** The outputs of every block are concatenated and mixed by a
   1x1 convolution before the head, the way U-Net's skips join fine and coarse features:
   early blocks see a few samples (sharp onsets and offsets), late ones see whole beats.
3. **Self-attention.** Windowed multi-head self-attention blocks, inserted after the blocks
   named in ``attention_after``, relate each sample to the surrounding beats (is this bump
   the P wave before a QRS or the T wave after one?). Windows keep memory linear in length
   and the receptive field finite, which long-recording inference relies on. With
   ``attention_stride`` > 1 attention runs over tokens of that many samples (their mean),
   and its update is added back to every sample of the token: beat-level context does not
   need every sample, and attention is the costliest operator per multiply on a CPU.

The compute per sample is that of a narrow conv net (about half of the baseline U-Net's
multiply-accumulates at default sizes; ``sigseg models`` prints both).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from sigseg.layers.attention import TransformerBlock
from sigseg.layers.blocks import ConvNormAct, DilatedResidualBlock
from sigseg.layers.factories import NORMS
from sigseg.layers.field import Span, conv_span, union
from sigseg.models.base import ModelConfig, SegmentationModel
from sigseg.models.registry import Preset, register_model, register_preset


@dataclass(frozen=True)
class HybridConfig(ModelConfig):
    """Trunk of ``len(dilations)`` residual blocks of ``width`` channels; attention blocks
    after the block indices in ``attention_after`` (windowed when ``window`` is set, over
    tokens of ``attention_stride`` samples); features of every block fused to ``fuse_width``
    channels before the head."""

    width: int = 48
    kernel_size: int = 3
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    stem_kernel: int = 7
    norm: str = "batch"
    activation: str = "relu"
    fuse_width: int = 48
    attention_after: tuple[int, ...] = (7,)
    num_heads: int = 4
    key_dim: int = 12
    window: int | None = 64
    attention_stride: int = 1
    ffn_ratio: float = 2.0
    pos_kernel: int = 0
    dropout: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.dilations or min(self.dilations) < 1:
            raise ValueError("hybrid: dilations must be a non-empty tuple of ints >= 1")
        bad = [i for i in self.attention_after if not 0 <= i < len(self.dilations)]
        if bad:
            raise ValueError(f"hybrid: attention_after indices {bad} are not block indices")
        if self.attention_stride < 1:
            raise ValueError(f"hybrid: attention_stride must be >= 1, got {self.attention_stride}")
        if self.norm not in NORMS:
            raise ValueError(f"hybrid: norm must be one of {NORMS}, got {self.norm!r}")


@register_model
class HybridConvNet(SegmentationModel):
    """Dilated residual trunk + multi-scale fusion + windowed self-attention (see module doc)."""

    arch = "hybrid"
    config_class = HybridConfig

    def __init__(self, config: HybridConfig) -> None:
        super().__init__(config)
        c = config
        self.stem = ConvNormAct(
            c.in_channels, c.width, c.stem_kernel, norm=c.norm, activation=c.activation
        )
        self.blocks = nn.ModuleList()
        for i, dilation in enumerate(c.dilations):
            stage: list[nn.Module] = [
                DilatedResidualBlock(
                    c.width,
                    c.width,
                    c.kernel_size,
                    dilation,
                    norm=c.norm,
                    activation=c.activation,
                    dropout=c.dropout,
                )
            ]
            if i in c.attention_after:
                stage.append(
                    TransformerBlock(
                        c.width,
                        c.num_heads,
                        c.key_dim,
                        ffn_ratio=c.ffn_ratio,
                        window=c.window,
                        pos_kernel=c.pos_kernel,
                        dropout=c.dropout,
                        stride=c.attention_stride,
                    )
                )
            self.blocks.append(nn.Sequential(*stage))
        self.fuse = ConvNormAct(
            c.width * len(c.dilations), c.fuse_width, 1, norm=c.norm, activation=c.activation
        )
        self.head = nn.Conv1d(c.fuse_width, c.num_classes, 1)

    @property
    def span_period(self) -> int:
        c = self.config
        return (c.window or 1) * c.attention_stride if c.attention_after else 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        taps = []
        for block in self.blocks:
            x = block(x)
            taps.append(x)
        return self.head(self.fuse(torch.cat(taps, dim=1)))

    def span(self, span: Span) -> Span | None:
        span = conv_span(span, 1)  # head and fusion are pointwise
        tap_spans = []
        for depth in range(len(self.blocks)):
            s: Span | None = span
            for block in reversed(self.blocks[: depth + 1]):
                for layer in reversed(block):
                    s = layer.span(s)
                    if s is None:
                        return None
            tap_spans.append(self.stem.span(s))
        return union(*tap_spans)


HYBRID_FAST = register_preset(
    Preset(
        "hybrid-fast",
        "hybrid",
        {
            "sampling_rate": 125.0,
            "dilations": (1, 2, 4, 8, 16, 32, 64),
            "attention_after": (6,),
            "window": 32,
            "attention_stride": 4,
        },
        "hybrid at 125 Hz, 7 dilated blocks, attention over 4-sample tokens in 1-s windows; "
        "the default model's design (sigseg train runs it at its 125 Hz unless told otherwise)",
    )
)
"""The design of the default pretrained model: a day of ECG in under 30 s on two CPU cores
(``benchmarks/speed``). Half the rate halves every layer's cost while the strict boundary
tolerances (40-100 ms) stay 5-12 samples wide; one block fewer keeps the trunk's field in
seconds; tokens of 4 samples (32 ms) make attention a quarter of its per-sample cost."""
