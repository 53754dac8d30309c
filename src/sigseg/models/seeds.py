"""Presets reproducing the three Keras examples of the reference article, bugs fixed.

* ``dilated-seed`` (Example 1): Conv1D 32/64/128 filters, kernel 3, dilation 1/2/4, each with
  BatchNorm and ReLU, no residuals, then a 1x1 sigmoid head. The article calls its blocks on
  an undefined ``x`` inside ``Sequential``; here the blocks are chained as intended.
* ``attention-seed`` (Example 2): Conv1D(64, 3) with no activation, one 8-head self-attention
  with key size 64, residual add, LayerNorm (post-norm), no feed-forward, no positional
  encoding, 1x1 sigmoid head. The article overwrites its input tensor ``x``, so its model has
  no real input; here the input is kept.
* ``unet-seed`` (Example 3): Conv1D 32 -> pool -> 64 -> pool -> 128, nearest upsampling with
  concatenation back up (64, 32), one ReLU conv per block, kernel 3, no norm, 1x1 sigmoid head.

All take one input channel and give one output (binary segmentation; apply a sigmoid).
"""

from sigseg.models.registry import Preset, register_preset

SEED_PRESETS = (
    register_preset(
        Preset(
            "dilated-seed",
            "dilated",
            {
                "in_channels": 1,
                "num_classes": 1,
                "widths": (32, 64, 128),
                "dilations": (1, 2, 4),
                "kernel_size": 3,
                "norm": "batch",
                "activation": "relu",
                "residual": False,
            },
            "article Example 1: dilated Conv1D 32/64/128, dilations 1/2/4",
        )
    ),
    register_preset(
        Preset(
            "attention-seed",
            "attention",
            {
                "in_channels": 1,
                "num_classes": 1,
                "dim": 64,
                "depth": 1,
                "num_heads": 8,
                "key_dim": 64,
                "ffn_ratio": 0.0,
                "window": None,
                "pos_kernel": 0,
                "norm_first": False,
                "stem_kernel": 3,
                "stem_norm": "none",
                "stem_activation": "none",
            },
            "article Example 2: Conv1D(64,3) + 8-head self-attention (key 64) + LayerNorm",
        )
    ),
    register_preset(
        Preset(
            "unet-seed",
            "unet",
            {
                "in_channels": 1,
                "num_classes": 1,
                "depth": 2,
                "base_width": 32,
                "width_growth": 2.0,
                "convs_per_block": 1,
                "kernel_size": 3,
                "norm": "none",
                "activation": "relu",
                "upsample": "nearest",
            },
            "article Example 3: U-Net 32/64/128, two poolings, nearest upsampling",
        )
    ),
)
