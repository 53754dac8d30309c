"""Building blocks shared by the model zoo: layer factories, conv and attention blocks, and
the interval algebra that derives receptive fields from the layers themselves.

Import direction: ``layers`` depends on nothing else in sigseg; ``models`` builds on it.
"""

from sigseg.layers.attention import MultiHeadSelfAttention, TransformerBlock
from sigseg.layers.blocks import ConvNormAct, DilatedResidualBlock
from sigseg.layers.factories import make_activation, make_norm, same_padding
from sigseg.layers.field import ReceptiveField, Span

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
