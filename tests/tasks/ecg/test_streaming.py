"""Streaming delineation: block by block equals one pass, and memory does not grow with length."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
import wfdb
from hypothesis import given, settings
from hypothesis import strategies as st

from sigseg.data.readers import open_signal
from sigseg.data.record import Wave
from sigseg.inference.backends import TorchBackend
from sigseg.models import create_model
from sigseg.tasks.ecg.delineate import delineate_signal, iter_delineate
from sigseg.tasks.ecg.outputs import (
    AnnotationWriter,
    TableWriter,
    write_table,
    write_wfdb_annotations,
)
from sigseg.tasks.ecg.streaming import BeatStream, WaveStream
from sigseg.tasks.ecg.synthetic import synthesize_ecg, write_synthetic_wfdb
from sigseg.tasks.ecg.waves import WaveOptions, beat_intervals, probs_to_waves


@pytest.fixture(scope="module")
def backend() -> TorchBackend:
    """A tiny untrained single-lead model; one thread keeps the shared CPU fast."""
    torch.manual_seed(0)
    return TorchBackend(create_model("dilated", widths=(8,) * 4, dilations=(1, 2, 4, 8)), threads=1)


def _random_labels(rng: np.random.Generator, length: int) -> np.ndarray:
    """Runs of random kinds and lengths: flicker, short gaps and long waves all occur."""
    kinds = rng.choice(4, size=length, p=[0.45, 0.18, 0.19, 0.18])
    runs = rng.integers(1, 40, size=length)
    return np.repeat(kinds, runs)[:length]


def _blocks(rng: np.random.Generator, length: int, pieces: int) -> list[tuple[int, int]]:
    cuts = np.unique(np.concatenate([[0, length], rng.integers(0, length + 1, pieces)]))
    return list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))


OPTIONS = st.builds(
    WaveOptions,
    merge_gap_ms=st.sampled_from([0.0, 20.0, 60.0]),
    check_order=st.booleans(),
    min_rr_ms=st.sampled_from([50.0, 200.0]),
    max_p_to_qrs_ms=st.sampled_from([100.0, 400.0]),
    max_qrs_to_t_ms=st.sampled_from([100.0, 400.0]),
)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    length=st.integers(1, 3000),
    pieces=st.integers(0, 30),
    fs=st.sampled_from([100.0, 250.0, 500.0]),
    options=OPTIONS,
    with_signal=st.booleans(),
)
def test_wave_stream_equals_one_pass(
    seed: int, length: int, pieces: int, fs: float, options: WaveOptions, with_signal: bool
) -> None:
    rng = np.random.default_rng(seed)
    labels = _random_labels(rng, length)
    probs = np.eye(4, dtype=np.float32)[labels].T * 0.5 + rng.random((4, length), np.float32)
    signal = rng.standard_normal(length).astype(np.float32) if with_signal else None
    expected = probs_to_waves(probs, fs, options, signal=signal, lead=3)
    stream = WaveStream(fs, options, length=length, lead=3)
    got: list[Wave] = []
    for a, b in _blocks(rng, length, pieces):
        got += stream.push(probs[:, a:b], None if signal is None else signal[a:b])
    got += stream.finish()
    assert got == expected
    beats = BeatStream(fs)
    rows = []
    for a, b in _blocks(rng, len(expected), pieces):
        rows += beats.push(expected[a:b])
    rows += beats.finish()
    assert rows == beat_intervals(expected, fs)


def test_wave_stream_holds_a_wave_across_blocks() -> None:
    # a QRS split by a 2-sample gap (merged at 500 Hz) across the block boundary
    labels = np.array([0] * 20 + [2] * 8 + [0] * 2 + [2] * 8 + [0] * 20)
    probs = np.eye(4, dtype=np.float32)[labels].T
    stream = WaveStream(500.0)
    assert stream.push(probs[:, :29]) == []  # no safe cut after the first piece
    assert stream.push(probs[:, 29:]) == [Wave("QRS", 20, 20, 37, None)]
    assert stream.finish() == []
    with pytest.raises(ValueError, match="length"):
        WaveStream(500.0, WaveOptions(check_order=True))


def test_iter_delineate_equals_delineate_signal(backend: TorchBackend) -> None:
    """A few minutes of a two-lead synthetic ECG in small chunks: the same waves as one pass,
    per lead and fused."""
    rec = synthesize_ecg(150.0, 500.0, 2, 0)
    for options in (None, WaveOptions(check_order=True)):
        one = delineate_signal(
            backend, rec.signal, rec.fs, combine_leads=True, wave_options=options
        )
        streamed = [
            w
            for waves in iter_delineate(
                backend,
                rec.signal,
                rec.fs,
                combine_leads=True,
                wave_options=options,
                chunk_size=2000,
            )
            for w in waves
        ]
        for lead in (0, 1, None):
            expected = one.fused if lead is None else one.lead_waves(lead)
            assert [w for w in streamed if w.lead == lead] == expected
        assert len(one.waves) > 100


def _peak_traced_memory(backend: TorchBackend, path: Path, out: Path) -> int:
    with open_signal(path) as reader:
        tracemalloc.start()
        try:
            with AnnotationWriter(out, "rec", "i", reader.fs) as writer:
                for waves in iter_delineate(backend, reader, chunk_size=4096):
                    writer.add(waves)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_memory_does_not_grow_with_length(backend: TorchBackend, tmp_path: Path) -> None:
    """Delineating 8 minutes from a file peaks at the memory 2 minutes need (numpy's buffers
    are traced; the whole recording alone would be 240k samples x 4 classes x 4 B = 3.8 MB)."""
    peaks = []
    for minutes in (2, 8):
        path = write_synthetic_wfdb(tmp_path / f"rec{minutes}", minutes / 60, fs=500.0, leads=1)
        peaks.append(_peak_traced_memory(backend, path, tmp_path))
    short, long = peaks
    assert long < 1.25 * short + 256 * 1024, f"2 min: {short / 1e6:.2f} MB, 8 min: {long / 1e6:.2f}"


# --------------------------------------------------------------------------- writers


def _waves(rng: np.random.Generator, n: int, gap: int) -> list[Wave]:
    waves, t = [], 0
    for i in range(n):
        t += int(rng.integers(0, gap))
        onset = t
        peak = onset + int(rng.integers(0, 10))
        t = peak + int(rng.integers(0, 10))
        waves.append(Wave(("P", "QRS", "T")[i % 3], onset, peak, t, 0))
        t += 1
    return waves


@pytest.mark.parametrize("fs", [500.0, 250.0, 360.0, 128.5, 1000.0])
def test_annotation_writer_writes_what_wfdb_writes(fs: float, tmp_path: Path) -> None:
    rng = np.random.default_rng(int(fs))
    waves = _waves(rng, 200, gap=3000)  # intervals above 1023 samples need SKIP words
    with AnnotationWriter(tmp_path, "streamed", "ii", fs) as writer:
        for a in range(0, len(waves), 37):
            writer.add(waves[a : a + 37])
    write_wfdb_annotations(tmp_path, "whole", "ii", waves, fs)
    symbols = {"P": "p", "QRS": "N", "T": "t"}
    marks = [
        mark for w in waves for mark in ((w.onset, "("), (w.peak, symbols[w.kind]), (w.offset, ")"))
    ]
    wfdb.wrann(
        "ref",
        "atr",
        np.array([m[0] for m in marks]),
        symbol=[m[1] for m in marks],
        fs=fs,
        write_dir=str(tmp_path),
    )
    reference = (tmp_path / "ref.atr").read_bytes()
    assert (tmp_path / "streamed.ii").read_bytes() == reference
    assert (tmp_path / "whole.ii").read_bytes() == reference


def test_annotation_writer_refuses_marks_out_of_order_and_leaves_no_file(tmp_path: Path) -> None:
    writer = AnnotationWriter(tmp_path, "rec", "i", 500.0)
    with pytest.raises(ValueError, match="time order"), writer:
        writer.add([Wave("QRS", 100, 110, 120)])
        writer.add([Wave("QRS", 50, 60, 70)])
    assert list(tmp_path.iterdir()) == []
    write_wfdb_annotations(tmp_path, "empty", "i", [], 500.0)
    assert (tmp_path / "empty.i").read_bytes() == b"\x00\x00"


def test_table_writer_equals_write_table(tmp_path: Path) -> None:
    columns = ["lead", "kind", "onset", "seconds"]
    groups = {
        "ii": [
            {"lead": "ii", "kind": "P", "onset": i, "seconds": i / 7 if i % 2 else None}
            for i in range(9)
        ],
        "empty": [],
        "all": [{"lead": "all", "kind": 'Q"RS', "onset": i, "seconds": 1.5} for i in range(4)],
    }
    rows = [r for rows in groups.values() for r in rows]
    assert write_table(tmp_path / "whole", rows, columns, json_too=True)[1].suffix == ".json"
    table = TableWriter(tmp_path / "pieces", columns, list(groups), json_too=True)
    table.add("all", groups["all"][:1])
    table.add("ii", groups["ii"][:4])
    table.add("all", groups["all"][1:])
    table.add("ii", groups["ii"][4:])
    table.close()
    for suffix in (".csv", ".json"):
        whole = (tmp_path / "whole").with_suffix(suffix).read_bytes()
        assert (tmp_path / "pieces").with_suffix(suffix).read_bytes() == whole
    TableWriter(tmp_path / "none", columns, ["ii"], json_too=True).close()
    write_table(tmp_path / "none_whole", [], columns, json_too=True)
    assert (tmp_path / "none.json").read_text() == (tmp_path / "none_whole.json").read_text()
    # by default the CSV alone
    assert TableWriter(tmp_path / "csv", columns, ["ii"], json_too=False).close() == [
        tmp_path / "csv.csv"
    ]
    assert not (tmp_path / "csv.json").exists()


def test_delineate_file_writes_what_one_pass_gives(backend: TorchBackend, tmp_path: Path) -> None:
    """``sigseg delineate`` streams; for a short recording its files are byte for byte those
    written from the one-pass delineation."""
    from sigseg.tasks.ecg.outputs import GAP_COLUMNS, INTERVAL_COLUMNS, WAVE_COLUMNS, wave_rows
    from sigseg.tasks.ecg.pipeline import delineate_file

    rec = synthesize_ecg(20.0, 500.0, 2, 1)
    np.save(tmp_path / "rec.npy", rec.signal)
    streamed, one_pass = tmp_path / "streamed", tmp_path / "one_pass"
    streamed.mkdir()
    one_pass.mkdir()
    delineate_file(
        backend, tmp_path / "rec.npy", streamed, fs=rec.fs, combine_leads=True, plot=False
    )
    result = delineate_signal(backend, rec.signal, rec.fs, combine_leads=True)
    assert result.fused is not None and result.waves
    groups = [("ch0", result.lead_waves(0)), ("ch1", result.lead_waves(1)), ("all", result.fused)]
    intervals = []
    for lead, waves in groups:
        write_wfdb_annotations(one_pass, "rec", lead, waves, rec.fs)
        intervals += [{"lead": lead, **row} for row in beat_intervals(waves, rec.fs)]
    rows = wave_rows(result.waves + result.fused, rec.fs, ["ch0", "ch1"])
    write_table(one_pass / "rec_waves", rows, WAVE_COLUMNS, json_too=False)
    write_table(one_pass / "rec_intervals", intervals, INTERVAL_COLUMNS, json_too=False)
    write_table(one_pass / "rec_gaps", [], GAP_COLUMNS, json_too=False)
    expected = sorted(p.name for p in one_pass.iterdir())
    assert sorted(p.name for p in streamed.iterdir()) == expected
    for name in expected:
        assert (streamed / name).read_bytes() == (one_pass / name).read_bytes(), name


def test_delineate_file_without_tables_writes_the_same_annotations(
    backend: TorchBackend, tmp_path: Path
) -> None:
    from sigseg.tasks.ecg.pipeline import delineate_file

    np.save(tmp_path / "rec.npy", synthesize_ecg(20.0, 500.0, 1, 2).signal)
    for tables in (True, False):
        (tmp_path / str(tables)).mkdir()
        delineate_file(
            backend,
            tmp_path / "rec.npy",
            tmp_path / str(tables),
            fs=500.0,
            combine_leads=False,
            plot=False,
            tables=tables,
        )
    assert sorted(p.name for p in (tmp_path / "False").iterdir()) == ["rec.ch0"]
    assert (tmp_path / "False" / "rec.ch0").read_bytes() == (
        tmp_path / "True" / "rec.ch0"
    ).read_bytes()
