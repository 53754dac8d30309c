"""Training crops: an epoch can draw several crops from each recording, each its own."""

from __future__ import annotations

import numpy as np
import torch

from sigseg.training.datamodule import CropDataset, Lead


def test_each_recording_gives_several_distinct_crops_per_epoch() -> None:
    ramp = np.arange(10_000, dtype=np.float32)
    leads = [
        Lead(np.stack([ramp + 100_000 * i]), np.zeros(10_000, dtype=np.int64), f"r{i}", 50.0)
        for i in range(2)
    ]
    data = CropDataset(leads, 500, "none", seed=0, repeats=3)
    assert len(data) == 6
    starts = [int(data[i][0][0, 0]) for i in range(6)]
    assert [s // 100_000 for s in starts] == [0, 0, 0, 1, 1, 1]  # items 0-2 from r0, 3-5 r1
    assert len(set(starts)) == 6  # each crop drawn on its own
    assert torch.equal(data[4][0], data[4][0])  # the same item is the same crop (resumable)
    data.epoch = 1
    assert int(data[4][0][0, 0]) != starts[4]
