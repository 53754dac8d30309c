"""Receptive fields derived from the layers, by interval arithmetic on sample indices.

Every layer maps the span of output samples ``[lo, hi]`` to the span of input samples it reads.
Walking a model's layers backwards gives, for one output sample ``t``, the exact input span it
depends on. Pooling and windowed attention make that span depend on ``t`` modulo a period, so
the model's field is the union over one period: the largest reach to the left and to the right.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

Span = tuple[int, int]


@dataclass(frozen=True)
class ReceptiveField:
    """How far an output sample looks back (``left``) and ahead (``right``), in input samples.

    ``left = right = None`` means a global field (the output depends on the whole input).
    """

    left: int | None
    right: int | None

    @property
    def is_global(self) -> bool:
        return self.left is None

    @property
    def size(self) -> float:
        """Total width in samples (``inf`` for a global field)."""
        if self.left is None or self.right is None:
            return math.inf
        return self.left + self.right + 1

    @staticmethod
    def global_() -> ReceptiveField:
        return ReceptiveField(None, None)

    @staticmethod
    def from_span_map(span_map: Callable[[Span], Span], period: int = 1) -> ReceptiveField:
        """Union over one period of the input span that output sample ``t`` depends on."""
        base = 1 << 20  # far from the signal edges, aligned to any power-of-two period
        left = right = 0
        for t in range(base, base + period):
            lo, hi = span_map((t, t))
            left, right = max(left, t - lo), max(right, hi - t)
        return ReceptiveField(left, right)


def conv_span(
    span: Span, kernel_size: int, dilation: int = 1, pad_left: int | None = None, stride: int = 1
) -> Span:
    """Input span read by a 1D convolution for the output span ``span``."""
    if pad_left is None:
        pad_left = dilation * (kernel_size - 1) // 2
    lo, hi = span
    return lo * stride - pad_left, hi * stride - pad_left + dilation * (kernel_size - 1)


def pool_span(span: Span, factor: int) -> Span:
    """Input span read by max/avg pooling with kernel = stride = ``factor``."""
    lo, hi = span
    return lo * factor, hi * factor + factor - 1


def upsample_span(span: Span, factor: int, mode: str) -> Span:
    """Input span read by an upsampling layer (``nearest``, ``transposed`` or ``linear``)."""
    lo, hi = span
    if mode in ("nearest", "transposed"):
        return lo // factor, hi // factor
    if mode == "linear":
        # align_corners=False: output i samples the input at (i + 0.5) / f - 0.5
        return math.floor((lo + 0.5) / factor - 0.5), math.floor((hi + 0.5) / factor - 0.5) + 1
    raise ValueError(f"unknown upsampling mode {mode!r}")


def union(*spans: Span) -> Span:
    """Smallest span covering all of ``spans`` (concatenation and residual additions)."""
    return min(s[0] for s in spans), max(s[1] for s in spans)
