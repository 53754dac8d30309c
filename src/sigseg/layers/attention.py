"""Self-attention over time for ``(N, C, L)`` features, global or windowed.

Windowed attention splits the sequence into chunks of ``window`` samples; each query attends
to the keys of its own chunk and of the two neighbouring chunks. Memory then grows linearly
with length, and the receptive field stays finite and exact.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sigseg.layers.factories import make_activation
from sigseg.layers.field import Span, conv_span, pool_span, union


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention on ``(N, L, D)`` with a per-head ``key_dim`` independent of
    ``D`` (as Keras' ``MultiHeadAttention`` has), optionally restricted to local windows."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        key_dim: int,
        *,
        window: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if window is not None and window < 1:
            raise ValueError(f"attention window must be >= 1, got {window}")
        self.num_heads, self.key_dim, self.window, self.dropout = (
            num_heads,
            key_dim,
            window,
            dropout,
        )
        inner = num_heads * key_dim
        self.query = nn.Linear(dim, inner)
        self.key = nn.Linear(dim, inner)
        self.value = nn.Linear(dim, inner)
        self.out = nn.Linear(inner, dim)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        n, length, _ = x.shape
        return x.view(n, length, self.num_heads, self.key_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self._heads(self.query(x)), self._heads(self.key(x)), self._heads(self.value(x))
        p = self.dropout if self.training else 0.0
        if self.window is None:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        else:
            y = self._windowed(q, k, v, p)
        n, _, length, _ = y.shape
        return self.out(y.transpose(1, 2).reshape(n, length, self.num_heads * self.key_dim))

    def _windowed(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, p: float
    ) -> torch.Tensor:
        n, h, length, d = q.shape
        w = self.window
        chunks = (length + w - 1) // w
        pad = chunks * w - length
        q, k, v = (F.pad(t, (0, 0, 0, pad)) for t in (q, k, v))
        valid = torch.arange(chunks * w, device=q.device) < length
        q, k, v = (t.reshape(n, h, chunks, w, d) for t in (q, k, v))
        valid = valid.reshape(chunks, w)

        def neighbours(t: torch.Tensor, chunk_dim: int) -> torch.Tensor:
            # keys of chunks c-1, c, c+1 side by side; missing chunks are zeros (masked out)
            padded = F.pad(t, (0, 0) * (t.dim() - chunk_dim - 1) + (1, 1))
            parts = [padded.narrow(chunk_dim, i, chunks) for i in range(3)]
            return torch.cat(parts, dim=chunk_dim + 1)

        k3, v3 = neighbours(k, 2), neighbours(v, 2)
        mask = neighbours(valid.unsqueeze(-1), 0).squeeze(-1)  # (chunks, 3w)
        # as 4-D (batch x heads, chunks, w, d) attention with chunks in the place of heads:
        # the same numbers, and PyTorch's fused CPU kernels take 4-D inputs only (5-D ones
        # fall back to the unfused formula, 4-5x slower on a CPU)
        y = F.scaled_dot_product_attention(
            q.reshape(n * h, chunks, w, d),
            k3.reshape(n * h, chunks, 3 * w, d),
            v3.reshape(n * h, chunks, 3 * w, d),
            attn_mask=mask[None, :, None, :],
            dropout_p=p,
        )
        return y.reshape(n, h, chunks * w, d)[:, :, :length]

    def span(self, span: Span) -> Span | None:
        """Input span for windowed attention; ``None`` (global) without a window."""
        if self.window is None:
            return None
        w = self.window
        return (span[0] // w - 1) * w, (span[1] // w + 2) * w - 1


class TransformerBlock(nn.Module):
    """Attention block on ``(N, C, L)``: optional convolutional positional encoding, self-
    attention and an optional feed-forward sublayer, each with a residual connection and
    LayerNorm (pre-norm by default; post-norm reproduces the article's Example 2).

    With ``stride`` > 1 the block attends over tokens: the input is average-pooled by
    ``stride`` (zero-padded to a multiple of it), the block runs on the pooled sequence, and
    its update (output minus input) is repeated back to every sample and added to the input.
    Attention then costs ``1 / stride`` as much, while the fine detail passes through the
    residual; a window counts tokens, so it spans ``window * stride`` samples.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        key_dim: int,
        *,
        ffn_ratio: float = 2.0,
        window: int | None = None,
        norm_first: bool = True,
        pos_kernel: int = 0,
        activation: str = "gelu",
        dropout: float = 0.0,
        stride: int = 1,
    ) -> None:
        super().__init__()
        if stride < 1:
            raise ValueError(f"attention stride must be >= 1, got {stride}")
        self.norm_first, self.pos_kernel, self.stride = norm_first, pos_kernel, stride
        self.pos = (
            nn.Conv1d(dim, dim, pos_kernel, padding="same", groups=dim) if pos_kernel > 0 else None
        )
        self.attn = MultiHeadSelfAttention(dim, num_heads, key_dim, window=window, dropout=dropout)
        self.norm1 = nn.LayerNorm(dim)
        hidden = round(dim * ffn_ratio)
        self.ffn = (
            nn.Sequential(
                nn.Linear(dim, hidden),
                make_activation(activation),
                nn.Dropout(dropout),
                nn.Linear(hidden, dim),
            )
            if hidden > 0
            else None
        )
        self.norm2 = nn.LayerNorm(dim) if self.ffn is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return self._mix(x)
        s, length = self.stride, x.shape[-1]
        padded = F.pad(x, (0, (-length) % s))
        n, c, padded_length = padded.shape
        samples = padded.reshape(n, c, padded_length // s, s)  # (N, C, tokens, stride)
        tokens = samples.mean(dim=-1)
        update = self._mix(tokens) - tokens
        # broadcast over each token's samples: no repeated copy of the update is made
        return (samples + update.unsqueeze(-1)).reshape(n, c, padded_length)[..., :length]

    def _mix(self, x: torch.Tensor) -> torch.Tensor:
        """The block proper, on ``(N, C, L)`` samples or tokens."""
        if self.pos is not None:
            x = x + self.pos(x)
        y = x.transpose(1, 2)
        if self.norm_first:
            y = y + self.attn(self.norm1(y))
            if self.ffn is not None:
                y = y + self.ffn(self.norm2(y))
        else:
            y = self.norm1(y + self.attn(y))
            if self.ffn is not None:
                y = self.norm2(y + self.ffn(y))
        return y.transpose(1, 2)

    def span(self, span: Span) -> Span | None:
        s = self.stride
        inner = span if s == 1 else (span[0] // s, span[1] // s)
        if self.pos is not None:
            inner = union(inner, conv_span(inner, self.pos_kernel))
        reach = self.attn.span(inner)
        if reach is None or s == 1:
            return reach
        return union(span, pool_span(reach, s))
