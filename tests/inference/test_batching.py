"""Recordings batched into shared model calls get exactly the probabilities each gets alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sigseg.inference.backends import TorchBackend
from sigseg.inference.batching import prepare, run_prepared, tight_width
from sigseg.inference.predict import predict_long
from sigseg.inference.windows import WindowOptions, long_window_options
from sigseg.models import create_model


@pytest.fixture(scope="module")
def backend() -> TorchBackend:
    torch.manual_seed(0)
    model = create_model("dilated", in_channels=1, num_classes=4, sampling_rate=125.0)
    return TorchBackend(model)


@pytest.mark.parametrize("options", [WindowOptions(), WindowOptions(pad_short=True), "long"])
def test_batched_equals_one_at_a_time(backend: TorchBackend, options: object) -> None:
    opts = long_window_options(backend) if options == "long" else options
    rng = np.random.default_rng(0)
    # several rates, lead counts and lengths (shorter and longer than one window), one gap
    sources = [
        (rng.standard_normal((12, 5000)), 500.0),
        (rng.standard_normal((2, 3333)), 360.0),
        (rng.standard_normal((1, 900)), 125.0),
        (rng.standard_normal((3, 30_000)), 250.0),
    ]
    sources[1][0][0, 100:180] = np.nan
    prepared = [prepare(backend, x, opts, fs=fs, key=i) for i, (x, fs) in enumerate(sources)]
    got = list(run_prepared(backend, prepared, batch_items=8))
    assert [p.key for p, _ in got] == [0, 1, 2, 3]
    for (x, fs), (_, probs) in zip(sources, got, strict=True):
        expected = predict_long(backend, x, fs, options=opts, fill_gaps=True)
        assert probs.shape == expected.shape
        np.testing.assert_allclose(probs, expected, atol=1e-5)


def test_a_lone_short_window_is_padded_only_as_far_as_the_model_sees(
    backend: TorchBackend,
) -> None:
    field = backend.receptive_field
    padded = WindowOptions(pad_short=True)
    assert tight_width(backend, 1250, padded) == 1250 + field.right
    assert tight_width(backend, 5000, padded) == 2560  # many windows: whole ones
    assert tight_width(backend, 1250, WindowOptions()) == 1250  # default: its own length
