"""Gaps and impossible inputs: the four faults an independent battery found, reproduced (the
fourth, a traceback for a missing ONNX Runtime, is in ``test_optional.py``).

* A 12-lead record with a 0.8-s NaN stretch in one lead used to be refused whole. Gaps (NaN/Inf
  stretches, and a lead stuck at one value for 1 s or more) are now delineated around: no wave
  in or next to a gap, the other leads as if it were not there, the gaps reported (the
  ``Delineation``, the summary line, ``<name>_gaps.csv``/``.json``, the plot; ``sigseg
  segment``'s ``<stem>_gaps.tsv``), found chunk by chunk when streaming, with the waves of one
  pass. Only a record with nothing usable is refused.
* An input shorter than the task's minimum (a 20-ms ECG used to give two QRS complexes) or
  sampled too slowly to resolve its events (a 200-s "ECG" at 1 Hz gave seven) is a one-line
  error, in the API, in ``sigseg delineate`` and in ``sigseg segment``: never invented waves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb
from cli_helpers import CliResult, assert_user_error
from reliability_helpers import FS, ecg, write_npy

import sigseg
from sigseg.data.gaps import Gap, GapRuns, GapScanner, gap_codes
from sigseg.data.readers import read_record
from sigseg.data.record import Record, Wave
from sigseg.tasks import Task
from sigseg.tasks.ecg import ECG_DELINEATION
from sigseg.tasks.ecg.delineate import delineate_signal, iter_delineate

Cli = Callable[..., CliResult]

TOO_SHORT = "is 0.02 s long (10 samples at 500 Hz); task 'ecg-delineation' needs at least 0.6 s"
TOO_SLOW = "sampled at 1 Hz; task 'ecg-delineation' needs at least 50 Hz"

# --- impossible inputs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signal", "fs", "message"),
    [(ecg(leads=1)[:, :10], FS, TOO_SHORT), (np.sin(np.arange(200.0))[None], 1.0, TOO_SLOW)],
    ids=["20ms", "1Hz"],
)
def test_impossible_input_through_the_api(signal: np.ndarray, fs: float, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sigseg.delineate(signal, fs)


@pytest.mark.parametrize(
    ("seconds", "fs", "message"),
    [(0.02, FS, TOO_SHORT), (200.0, 1.0, TOO_SLOW)],
    ids=["20ms", "1Hz"],
)
@pytest.mark.parametrize("command", ["delineate", "segment"])
def test_impossible_input_through_the_cli(
    cli: Cli, tmp_path: Path, seconds: float, fs: float, message: str, command: str
) -> None:
    path = write_npy(tmp_path / "odd.npy", np.sin(np.arange(round(seconds * fs)) / 3.0))
    out = tmp_path / "out"
    model = [] if command == "delineate" else ["ecg-hybrid-fast-ludb"]  # the shipped model
    result = cli(command, *model, path, "--fs", fs, "--out", out)
    assert_user_error(result, "odd.npy", message, code=1)
    assert not [p for p in out.iterdir() if p.name.startswith("odd")]


def test_the_limits_are_the_tasks_and_travel_with_it() -> None:
    assert Task.from_dict(ECG_DELINEATION.to_dict()) == ECG_DELINEATION
    ECG_DELINEATION.check_input(300, 500.0)  # 0.6 s at 500 Hz: enough
    ECG_DELINEATION.check_input(30, 50.0)
    Task("any", ("background", "x")).check_input(1, 1e-3)  # no limits by default
    for key in ("min_input_s", "min_sampling_rate"):
        with pytest.raises(ValueError, match=f"{key} must be a number > 0"):
            Task("t", ("background", "x"), **{key: 0.0})


# --- gaps: NaN/Inf stretches and flat (lead-off) stretches -------------------------------------

GAP_AT = 2000  # sample 2000 of LUDB record 1 (4.0 s at 500 Hz): a QRS complex and a T wave


@pytest.fixture(scope="module")
def shipped() -> object:
    from sigseg.inference.backends import load_backend
    from sigseg.pretrained import resolve_model

    return load_backend(resolve_model(None))


@pytest.fixture(scope="module")
def ludb_1(ludb_root: Path) -> Record:
    """A 12-lead LUDB record: 10 s at 500 Hz."""
    return read_record(ludb_root / "1.hea")


def with_gap(record: Record, lead: str, kind: str) -> tuple[np.ndarray, int, int]:
    """The record's signal with a 0.8-s NaN stretch or a 1.2-s lead-off (stuck at 2.5 mV) in
    ``lead``, and the stretch's first and last samples."""
    x = record.signal.copy()
    stop = GAP_AT + (400 if kind == "missing" else 600)
    x[record.channels.index(lead), GAP_AT:stop] = np.nan if kind == "missing" else 2.5
    return x, GAP_AT, stop - 1


def near(waves: list[Wave], onset: int, offset: int, margin: int = 1) -> list[Wave]:
    """The waves that cover or come within ``margin`` samples of ``onset..offset``."""
    return [w for w in waves if w.offset >= onset - margin and w.onset <= offset + margin]


@pytest.mark.parametrize("kind", ["missing", "flat"])
def test_a_gap_in_one_lead_of_a_12_lead_record(shipped: object, ludb_1: Record, kind: str) -> None:
    lead = ludb_1.channels.index("v1")
    x, onset, offset = with_gap(ludb_1, "v1", kind)
    args = {"channels": ludb_1.channels, "combine_leads": True}
    clean = delineate_signal(shipped, ludb_1.signal, ludb_1.fs, **args)
    holed = delineate_signal(shipped, x, ludb_1.fs, **args)
    # the gap is reported, and the record is delineated (it used to be refused whole)
    assert [(g.lead, g.kind, g.onset, g.offset) for g in holed.gaps] == [
        (lead, kind, onset, offset)
    ]
    # the other eleven leads: exactly the clean run's waves (each lead is its own model input)
    for other in range(12):
        if other != lead:
            assert holed.lead_waves(other) == clean.lead_waves(other), ludb_1.channels[other]
    # the lead itself: nothing in the gap nor next to it, where the clean run had waves
    assert near(clean.lead_waves(lead), onset, offset, margin=0)
    assert not near(holed.lead_waves(lead), onset, offset)
    assert np.isnan(holed.probs[lead, :, onset : offset + 1]).all()
    assert np.isfinite(np.delete(holed.probs, np.s_[onset : offset + 1], axis=-1)).all()
    # ... and delineated away from it: every QRS complex a second or more from the gap
    far = [(w.onset, w.offset) for w in clean.lead_waves(lead) if w.kind == "QRS"]
    far = [w for w in far if w[1] < onset - 500 or w[0] > offset + 500]
    got = [(w.onset, w.offset) for w in holed.lead_waves(lead) if w.kind == "QRS"]
    assert len(far) >= 5 and all(any(abs(a - g[0]) <= 5 for g in got) for a, _ in far)
    # the record-level delineation keeps the beat the other leads see during the gap
    assert any(w.kind == "QRS" for w in near(holed.fused or [], onset, offset, margin=0))


def test_gaps_through_the_cli(cli: Cli, ludb_1: Record, tmp_path: Path) -> None:
    """A WFDB record with "no value" samples in v1 and a lead-off in iii: delineated, the gaps
    in the summary line, the gap table and the plot, and no wave of those leads near them."""
    x, onset, offset = with_gap(ludb_1, "v1", "missing")
    iii = ludb_1.channels.index("iii")
    x[iii, 3000:3600] = x[iii, 3000]  # stuck at its value for 1.2 s
    wfdb.wrsamp(
        "rec",
        fs=ludb_1.fs,
        units=["mV"] * 12,
        sig_name=ludb_1.channels,
        p_signal=x.T.astype(np.float64),
        fmt=["16"] * 12,
        write_dir=str(tmp_path),
    )
    out = tmp_path / "out"
    result = cli("delineate", tmp_path / "rec.hea", "--out", out)
    assert result.code == 0, result.err
    assert result.out.rstrip().endswith("2 gaps (2.0 s) in leads iii, v1"), result.out
    rows = pd.read_csv(out / "rec_gaps.csv")
    assert rows[["lead", "kind", "onset", "offset"]].values.tolist() == [
        ["iii", "flat", 3000, 3599],
        ["v1", "missing", onset, offset],
    ]
    assert rows["duration_s"].tolist() == [1.2, 0.8]
    waves = pd.read_csv(out / "rec_waves.csv")
    for lead, (a, b) in {"iii": (3000, 3599), "v1": (onset, offset)}.items():
        mine = waves[waves["lead"] == lead]
        assert len(mine) > 10
        assert not ((mine["offset"] >= a - 1) & (mine["onset"] <= b + 1)).any()
        marks = wfdb.rdann(str(out / "rec"), lead).sample
        assert not ((marks >= a) & (marks <= b)).any()


def test_a_nan_stretch_through_segment(cli: Cli, ludb_1: Record, tmp_path: Path) -> None:
    x, onset, offset = with_gap(ludb_1, "v1", "missing")
    path = write_npy(tmp_path / "gap.npy", x)
    out = tmp_path / "out"
    result = cli("segment", "ecg-hybrid-fast-ludb", path, "--fs", ludb_1.fs, "--out", out)
    assert result.code == 0, result.err
    gaps = pd.read_csv(out / "gap_gaps.tsv", sep="\t")
    assert gaps.values.tolist() == [[onset / 500, 0.8, "missing", "ch6"]]
    events = pd.read_csv(out / "gap_events.tsv", sep="\t")
    v1 = events[events["channel"] == "ch6"]
    start, stop = v1["onset"] * 500, (v1["onset"] + v1["duration"]) * 500  # stop: exclusive
    assert len(v1) > 10 and not ((stop >= onset) & (start <= offset + 1)).any()
    assert len(events[events["channel"] == "ch5"]) > 10


def test_streaming_finds_the_same_gaps_and_waves_in_any_chunks(backend: object) -> None:
    """A two-lead recording at 360 Hz with a short and a long NaN stretch and a lead-off: the
    waves and gaps of one pass, streamed in small chunks (gaps are found chunk by chunk, with
    context, and filled the same way whatever the chunks)."""
    x = ecg(150.0, leads=2, fs=360.0)
    x[0, 10000:10400] = np.nan
    x[1, 30000:36000] = np.inf  # 16.7 s: ramped to 0, not interpolated
    x[0, 50000:51000] = -1.0
    one = delineate_signal(backend, x, 360.0, combine_leads=True)
    assert [(g.lead, g.kind, g.onset, g.offset) for g in one.gaps] == [
        (0, "missing", 10000, 10399),
        (0, "flat", 50000, 50999),
        (1, "missing", 30000, 35999),
    ]
    for chunk_size in (2000, 4096):
        found: list[Gap] = []
        streamed = [
            w
            for waves in iter_delineate(
                backend, x, 360.0, combine_leads=True, chunk_size=chunk_size, on_gaps=found.extend
            )
            for w in waves
        ]
        assert sorted(found, key=lambda g: (g.lead, g.onset)) == one.gaps
        for lead in (0, 1, None):
            expected = one.fused if lead is None else one.lead_waves(lead)
            assert [w for w in streamed if w.lead == lead] == expected
    for g in one.gaps:
        assert not near(one.lead_waves(g.lead), g.onset, g.offset)


def test_gap_runs_do_not_depend_on_the_blocks() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=(3, 5000)).astype(np.float32)  # coarse: short flat runs
    x[0, 100:160] = 1.0
    x[1, 900:2000] = np.nan
    x[2, 4950:] = 7.0
    x[2, 1000:1003] = np.inf
    whole = GapRuns(3)
    expected = whole.push(gap_codes(x, flat_samples=50)) + whole.finish()
    source = sigseg.inference.ArraySource(x, 100.0)  # flat_s 0.5 s: 50 samples
    for _ in range(5):
        scanner, runs, found = GapScanner(source, 0.5), GapRuns(3), []
        cuts = np.sort(rng.choice(np.arange(1, 5000), size=rng.integers(1, 40), replace=False))
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, 5000], strict=True):
            found += runs.push(scanner.read(int(a), int(b))[1])
        found += runs.finish()
        assert sorted(found, key=lambda g: (g.lead, g.onset)) == sorted(
            expected, key=lambda g: (g.lead, g.onset)
        )
    assert [(g.lead, g.kind, g.onset, g.offset) for g in expected if g.num_samples >= 3] == [
        (0, "flat", 100, 159),
        (1, "missing", 900, 1999),
        (2, "missing", 1000, 1002),
        (2, "flat", 4950, 4999),
    ]


def test_nothing_usable_is_refused_in_one_line(cli: Cli, tmp_path: Path) -> None:
    path = write_npy(tmp_path / "off.npy", np.full((2, 5000), np.nan))
    result = cli("delineate", path, "--fs", FS, "--out", tmp_path / "out")
    assert_user_error(result, "off.npy", "no usable signal", code=1)
    with pytest.raises(ValueError, match="no usable signal"):
        sigseg.delineate(np.full((1, 5000), 0.7), FS)  # stuck at one value throughout


def test_events_and_states_around_a_gap() -> None:
    """``sigseg segment``'s decoding around a gap: events that a gap may have cut go, states
    lose the gap's samples only."""
    from sigseg.inference.segment import _decode_around

    gaps = np.zeros(100, dtype=bool)
    gaps[40:50] = True
    probs = np.zeros((2, 100))
    probs[1, 30:40] = probs[1, 60:80] = 1.0  # an event that ends where the gap starts
    probs[0] = 1 - probs[1]
    spindles = Task("spindles", ("background", "spindle"))
    assert [(w.onset, w.offset) for w in _decode_around(probs, gaps, 100.0, spindles)] == [(60, 79)]
    stages = Task("stages", ("wake", "sleep"), kind="states")
    assert [(w.kind, w.onset, w.offset) for w in _decode_around(probs, gaps, 100.0, stages)] == [
        ("wake", 0, 29),
        ("sleep", 30, 39),
        ("wake", 50, 59),
        ("sleep", 60, 79),
        ("wake", 80, 99),
    ]


def test_the_api_tables_list_the_gaps() -> None:
    x = ecg(leads=2)
    x[1, 100:300] = np.nan
    tables = sigseg.delineate(x, FS, channels=["i", "ii"])  # the shipped model
    assert tables.gaps.values.tolist() == [["ii", "missing", 100, 299, 0.2, 0.598, 0.4]]
    ii = tables.waves[tables.waves["lead"] == "ii"]
    assert len(ii) and not ((ii["offset"] >= 99) & (ii["onset"] <= 300)).any()
