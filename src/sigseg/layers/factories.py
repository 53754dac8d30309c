"""Norm and activation factories: the one place where layer names are validated."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "leaky_relu": lambda: nn.LeakyReLU(0.1),
    "tanh": nn.Tanh,
    "none": nn.Identity,
}

NORMS = ("batch", "instance", "group", "layer", "none")


def make_activation(name: str) -> nn.Module:
    """Build an activation by name (``relu``, ``gelu``, ``silu``, ``elu``, ``leaky_relu``,
    ``tanh`` or ``none``)."""
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(_ACTIVATIONS)}"
        ) from None


def make_norm(name: str, channels: int) -> nn.Module:
    """Build a normalization over ``(N, C, L)`` features by name.

    ``layer`` normalizes over channels and time of each example (GroupNorm with one group), so
    it behaves the same at training and inference and for any batch size.
    """
    if name == "batch":
        return nn.BatchNorm1d(channels)
    if name == "instance":
        return nn.InstanceNorm1d(channels, affine=True)
    if name == "group":
        groups = next(g for g in (8, 4, 2, 1) if channels % g == 0)
        return nn.GroupNorm(groups, channels)
    if name == "layer":
        return nn.GroupNorm(1, channels)
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {name!r}; choose one of {', '.join(NORMS)}")


def same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """Left and right zero padding that keeps the length of a stride-1 convolution.

    For even kernels the extra sample goes to the right, as PyTorch's ``padding='same'`` does.
    """
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2
