"""Windowed inference: planning, stitching invariants, any length and rate, bounded streaming."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sigseg.data.transforms import Preprocessing
from sigseg.inference.backends import TorchBackend
from sigseg.inference.predict import iter_predict_long, logits_to_probs, predict_array, predict_long
from sigseg.inference.sources import ArraySource
from sigseg.inference.windows import (
    LONG_WINDOW,
    WindowOptions,
    keep_spans,
    long_window_options,
    plan_windows,
    stack_windows,
)
from sigseg.models import create_model

RAW = Preprocessing(sampling_rate=250.0, normalize="none")


def _backend(**overrides: object) -> TorchBackend:
    """A small dilated (fully convolutional) model; one thread keeps the shared CPU fast."""
    torch.manual_seed(0)
    config = {"widths": (8,) * 4, "dilations": (1, 2, 4, 8), **overrides}
    return TorchBackend(create_model("dilated", **config), threads=1)


@pytest.fixture(scope="module")
def backend() -> TorchBackend:
    return _backend()


def _one_pass(backend: TorchBackend, x: np.ndarray) -> np.ndarray:
    return logits_to_probs(backend(x[None]))[0]


def _signal(channels: int, length: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((channels, length)).astype(np.float32)


class _Reader:
    """A minimal stand-in for a chunked file reader: only ``fs``, ``num_samples``, ``read``."""

    def __init__(self, x: np.ndarray, fs: float) -> None:
        self.x, self.fs, self.num_samples, self.reads = x, fs, x.shape[-1], []

    def read(self, start: int, stop: int) -> np.ndarray:
        self.reads.append((start, stop))
        return self.x[:, start:stop].copy()


# ------------------------------------------------------------------------------- planning


def test_plan_windows_flush_to_end_and_short_signals() -> None:
    options = WindowOptions(window=4, overlap=2)
    assert plan_windows(10, options).tolist() == [0, 2, 4, 6]
    assert plan_windows(11, options).tolist() == [0, 2, 4, 6, 7]
    assert plan_windows(4, options).tolist() == [0]
    assert plan_windows(3, options).tolist() == [0]
    assert plan_windows(1, options).tolist() == [0]
    with pytest.raises(ValueError):
        plan_windows(0, options)


@settings(max_examples=200, deadline=None)
@given(length=st.integers(1, 3000), window=st.integers(1, 400), data=st.data())
def test_kept_parts_cover_every_sample(length: int, window: int, data: st.DataObject) -> None:
    overlap = data.draw(st.integers(0, window - 1))
    blinding = data.draw(st.none() | st.integers(0, overlap // 2))
    options = WindowOptions(window=window, overlap=overlap, blinding=blinding)
    starts = plan_windows(length, options)
    keeps = keep_spans(starts, length, options)
    assert starts[0] == 0 and np.all(np.diff(starts) > 0)
    assert starts[-1] + window == length if length > window else starts.tolist() == [0]
    assert keeps[0, 0] == 0 and keeps[-1, 1] == length
    assert np.all(keeps[1:, 0] <= keeps[:-1, 1])  # no gaps
    assert np.all(keeps[:, 1] > keeps[:, 0])
    assert np.all(keeps[1:, 0] >= keeps[:-1, 0])  # monotonic: chunks can be finalized


def test_overlap_as_fraction_or_samples_is_the_same(backend: TorchBackend) -> None:
    frac, samples = WindowOptions(window=400, overlap=0.25), WindowOptions(window=400, overlap=100)
    assert (frac.overlap_samples, frac.blinding_samples) == (100, 50)
    assert (samples.overlap_samples, samples.blinding_samples) == (100, 50)
    x = _signal(1, 3333)
    np.testing.assert_array_equal(
        predict_array(backend, x, frac), predict_array(backend, x, samples)
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window": 0},
        {"overlap": 1.0},
        {"overlap": -0.1},
        {"window": 10, "overlap": 10},
        {"overlap": True},
        {"window": 100, "overlap": 10, "blinding": 6},
        {"stacking": "median"},
        {"batch_size": 0},
    ],
)
def test_bad_options_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        WindowOptions(**kwargs)


# ------------------------------------------------------------------------------ stitching


@pytest.mark.parametrize(
    "options",
    [
        WindowOptions(window=300, overlap=64),  # blinding 32 > field 15 on each side
        WindowOptions(window=256, overlap=0.5, stacking="max"),
        WindowOptions(window=300, overlap=100, blinding=30, batch_size=3),
        WindowOptions(window=300, overlap=100, blinding=16, stacking="max", batch_size=1),
    ],
)
def test_stitched_equals_one_pass(backend: TorchBackend, options: WindowOptions) -> None:
    field = backend.receptive_field
    assert options.blinding_samples >= max(field.left, field.right)
    x = _signal(1, 2777)
    expected = _one_pass(backend, x)
    np.testing.assert_allclose(predict_array(backend, x, options), expected, atol=1e-5)
    long = predict_long(backend, x, fs=250.0, preprocessing=RAW, options=options, chunk_size=500)
    np.testing.assert_allclose(long, expected, atol=1e-5)


def test_stack_windows_averages_overlaps() -> None:
    options = WindowOptions(window=4, overlap=2, blinding=0)
    starts = plan_windows(8, options)  # [0, 2, 4]
    probs = np.stack([np.full((1, 4), v, np.float32) for v in (1.0, 2.0, 3.0)])
    assert stack_windows(probs, starts, 8, options)[0].tolist() == [1, 1, 1.5, 1.5, 2.5, 2.5, 3, 3]
    options = WindowOptions(window=4, overlap=2, blinding=0, stacking="max")
    assert stack_windows(probs, starts, 8, options)[0].tolist() == [1, 1, 2, 2, 3, 3, 3, 3]


def test_binary_model_uses_sigmoid() -> None:
    backend = _backend(num_classes=1)
    x = _signal(1, 1500)
    probs = predict_array(backend, x, WindowOptions(window=500, overlap=100))
    assert probs.shape == (1, 1500) and np.all((probs > 0) & (probs < 1))
    np.testing.assert_allclose(probs, _one_pass(backend, x), atol=1e-5)


# ------------------------------------------------------------------------- lengths, rates


@pytest.mark.parametrize("length", [1, 2, 37, 299, 300, 301, 1234])
@pytest.mark.parametrize("fs", [250.0, 360.0, 500.0, 100.0])
def test_any_length_any_rate(backend: TorchBackend, length: int, fs: float) -> None:
    x = _signal(1, length, seed=length)
    probs = predict_long(backend, x, fs=fs, options=WindowOptions(window=300, overlap=0.25))
    assert probs.shape == (4, length) and probs.dtype == np.float32
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs.sum(axis=0), 1.0, atol=1e-5)


def test_short_signal_unpadded_equals_one_pass(backend: TorchBackend) -> None:
    x = _signal(1, 123)
    options = WindowOptions(window=300, pad_short=False)
    np.testing.assert_allclose(predict_array(backend, x, options), _one_pass(backend, x), atol=1e-6)
    padded = predict_array(backend, x, WindowOptions(window=300))
    assert padded.shape == (4, 123)


def test_other_rate_maps_back_to_input_samples(backend: TorchBackend) -> None:
    """At 2x the model's rate, even input samples sit on model samples: the probabilities there
    are the model-rate ones, odd samples their midpoints."""
    x = _signal(1, 2001)
    model_rate = RAW.to_model_rate(x, 500.0)
    options = WindowOptions(window=300, overlap=64)
    at_model = predict_array(backend, model_rate, options)
    probs = predict_long(backend, x, fs=500.0, preprocessing=RAW, options=options)
    assert probs.shape == (4, 2001)
    np.testing.assert_allclose(probs[:, ::2], at_model, atol=1e-6)
    np.testing.assert_allclose(
        probs[:, 1:-1:2], (at_model[:, :-1] + at_model[:, 1:]) / 2, atol=1e-6
    )


# -------------------------------------------------------------------------------- leads


def test_single_lead_model_runs_each_lead(backend: TorchBackend) -> None:
    x = _signal(3, 1000)
    options = WindowOptions(window=300, overlap=64, batch_size=5)
    probs = predict_long(backend, x, fs=360.0, options=options)
    assert probs.shape == (3, 4, 1000)
    for lead in range(3):
        alone = predict_long(backend, x[lead], fs=360.0, options=options)
        np.testing.assert_allclose(probs[lead], alone, atol=1e-6)


def test_multichannel_model_takes_all_channels() -> None:
    backend = _backend(in_channels=2)
    x = _signal(2, 900)
    probs = predict_array(backend, x, WindowOptions(window=300, overlap=64))
    assert probs.shape == (4, 900)
    np.testing.assert_allclose(probs, _one_pass(backend, x), atol=1e-5)
    with pytest.raises(ValueError, match="2 channels"):
        predict_array(backend, _signal(3, 900))


# ---------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("fs", [250.0, 360.0])
def test_chunked_streaming_equals_in_memory(backend: TorchBackend, fs: float) -> None:
    x = _signal(1, 200_000)
    options = WindowOptions(window=512, overlap=128, batch_size=64)
    whole = predict_long(backend, x, fs=fs, options=options, chunk_size=10**9)
    reader = _Reader(x, fs)
    blocks = list(iter_predict_long(backend, reader, options=options, chunk_size=3000))
    assert len(blocks) > 10
    assert max(stop - start for start, stop in reader.reads) < 5000
    position = 0
    for start, block in blocks:  # blocks tile the input in order
        assert start == position
        position += block.shape[-1]
    assert position == x.shape[-1]
    chunked = np.concatenate([block for _, block in blocks], axis=-1)
    np.testing.assert_allclose(chunked, whole, atol=1e-4)


def test_bandpass_chunks_match_whole_signal(backend: TorchBackend) -> None:
    x = _signal(1, 30_000) + np.linspace(0, 50, 30_000, dtype=np.float32)  # drifting baseline
    prep = Preprocessing(sampling_rate=250.0, bandpass=(0.5, 40.0), normalize="none")
    options = WindowOptions(window=512, overlap=128)
    whole = predict_long(
        backend, x, fs=360.0, preprocessing=prep, options=options, chunk_size=10**9
    )
    chunked = predict_long(
        backend, x, fs=360.0, preprocessing=prep, options=options, chunk_size=2000
    )
    np.testing.assert_allclose(chunked, whole, atol=1e-4)


class _Noise:
    """Random noise generated on read: a recording of any length that costs no memory."""

    def __init__(self, num_samples: int, fs: float) -> None:
        self.num_samples, self.fs = num_samples, fs

    def read(self, start: int, stop: int) -> np.ndarray:
        rng = np.random.default_rng(start)
        return rng.standard_normal((1, stop - start), dtype=np.float32)


def test_streaming_memory_is_bounded() -> None:
    """Peak (traced) memory does not grow with the recording's length."""
    tiny = _backend(widths=(4, 4), dilations=(1, 2))
    options = WindowOptions(window=1024, overlap=128, batch_size=16)
    peaks = {}
    for n in (100_000, 1_000_000):
        tracemalloc.start()
        seen = 0
        for _, block in iter_predict_long(tiny, _Noise(n, 360.0), options=options, chunk_size=8192):
            seen += block.shape[-1]
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert seen == n
    signal_bytes = 1_000_000 * 4
    assert peaks[1_000_000] < signal_bytes, peaks  # less than the signal itself, let alone probs
    assert peaks[1_000_000] < 1.5 * peaks[100_000] + 256_000, peaks


# ------------------------------------------------------------------------ inputs, errors


def test_array_needs_fs_and_source_rate_must_agree(backend: TorchBackend) -> None:
    x = _signal(1, 500)
    with pytest.raises(ValueError, match="fs"):
        predict_long(backend, x)
    with pytest.raises(ValueError, match="contradicts"):
        predict_long(backend, ArraySource(x, 360.0), fs=250.0)
    probs = predict_long(backend, ArraySource(x, 360.0))
    assert probs.shape == (4, 500)


def test_preprocessing_rate_must_be_the_models(backend: TorchBackend) -> None:
    with pytest.raises(ValueError, match="Hz"):
        predict_long(backend, _signal(1, 500), fs=250.0, preprocessing=Preprocessing(500.0))


def test_plain_model_is_accepted() -> None:
    torch.manual_seed(0)
    model = create_model("dilated", widths=(4,), dilations=(1,))
    probs = predict_long(model, _signal(2, 700), fs=250.0, options=WindowOptions(window=256))
    assert probs.shape == (2, 4, 700)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu() -> None:
    cpu = _backend()
    gpu = TorchBackend(create_model("dilated", widths=(8,) * 4, dilations=(1, 2, 4, 8)), "cuda")
    gpu.model.load_state_dict(cpu.model.state_dict())
    x = _signal(2, 5000)
    options = WindowOptions(window=512, overlap=128)
    np.testing.assert_allclose(
        predict_long(gpu, x, fs=360.0, options=options),
        predict_long(cpu, x, fs=360.0, options=options),
        atol=1e-4,
    )


@pytest.mark.parametrize("arch", ["hybrid", "unet", "dilated"])
def test_long_window_options_blind_the_receptive_field(arch: str) -> None:
    model = create_model(arch)
    options = long_window_options(TorchBackend(model))
    field = model.receptive_field
    assert options.window == LONG_WINDOW
    assert options.blinding_samples >= max(field.left, field.right)  # kept samples see it all
    assert options.step % model.span_period == 0
    assert options.overlap_samples < 2 * max(field.left, field.right) + 2 * model.span_period


def test_long_window_options_fall_back_for_a_global_field() -> None:
    class Global:
        receptive_field = create_model("dilated").receptive_field.global_()

    assert long_window_options(Global()) == WindowOptions()
