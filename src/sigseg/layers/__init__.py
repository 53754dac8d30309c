"""Building blocks shared by the model zoo: layer factories, conv and attention blocks, and
the interval algebra that derives receptive fields from the layers themselves.

Import direction: ``layers`` depends on nothing else in sigseg; ``models`` builds on it.
"""

from sigseg.layers.field import ReceptiveField, Span
from sigseg.lazy import lazy_attributes

__all__ = [
    "ConvNormAct",
    "DilatedResidualBlock",
    "MultiHeadSelfAttention",
    "ReceptiveField",
    "Span",
    "TransformerBlock",
    "make_activation",
    "make_norm",
    "same_padding",
]

# the torch modules are imported on first use: the receptive-field algebra needs no PyTorch
__getattr__ = lazy_attributes(
    __name__,
    {
        "ConvNormAct": "sigseg.layers.blocks",
        "DilatedResidualBlock": "sigseg.layers.blocks",
        "MultiHeadSelfAttention": "sigseg.layers.attention",
        "TransformerBlock": "sigseg.layers.attention",
        "make_activation": "sigseg.layers.factories",
        "make_norm": "sigseg.layers.factories",
        "same_padding": "sigseg.layers.factories",
    },
)
