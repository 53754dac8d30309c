"""No P wave where the rhythm has none (sigseg.tasks.ecg.atrial): atrial fibrillation loses
its stray P waves, sinus rhythm keeps its own, and streaming gives the one-pass result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigseg.data.record import Record, Wave
from sigseg.inference.windows import WindowOptions
from sigseg.tasks.ecg.atrial import P_WINDOW_S, PGate, gate_p_waves
from sigseg.tasks.ecg.delineate import delineate_signal, iter_delineate
from sigseg.tasks.ecg.ludb import load_ludb_record

AF_RECORD = 96  # LUDB train: atrial fibrillation, the model's P waves before 11 % of beats
SINUS_RECORD = 2  # LUDB train: sinus rhythm


def _p_waves(waves: list[Wave]) -> list[Wave]:
    return [w for w in waves if w.kind == "P"]


def _with_p_before(record: Record, every: int) -> list[Wave]:
    """The record's annotated waves plus a P wave 160 ms before every ``every``-th QRS
    complex of each lead, each lead starting at another beat: scattered P-like waves, as a
    model finds them in fibrillatory waves."""
    ms = record.fs / 1000
    out = []
    for lead in range(record.signal.shape[0]):
        waves = [w for w in record.waves if w.lead == lead]
        qrs = [w for w in waves if w.kind == "QRS"]
        for w in qrs[lead % every :: every]:
            onset = w.onset - round(160 * ms)
            waves.append(Wave("P", onset, onset + round(40 * ms), onset + round(80 * ms), lead))
        out += sorted(waves, key=lambda w: w.onset)
    return out


def test_stray_p_waves_go_where_the_rhythm_has_none(ludb_root: Path) -> None:
    record = load_ludb_record(AF_RECORD, ludb_root)
    assert not _p_waves(record.waves)  # LUDB annotates no P wave in atrial fibrillation
    waves = _with_p_before(record, every=5)
    assert len(_p_waves(waves)) > 20
    assert gate_p_waves(waves, record.fs) == [w for w in waves if w.kind != "P"]


def test_sinus_p_waves_stay_even_with_every_other_beat_without_one(ludb_root: Path) -> None:
    record = load_ludb_record(SINUS_RECORD, ludb_root)
    waves = [w for w in record.waves if w.onset is not None]
    assert gate_p_waves(waves, record.fs) == waves
    # bigeminy: one beat in two has a P wave (P waves of the odd beats removed in every lead)
    bigeminy: list[Wave] = []
    for lead in range(record.signal.shape[0]):
        beat = 0
        for w in (w for w in waves if w.lead == lead):
            beat += w.kind == "QRS"
            if w.kind != "P" or beat % 2 == 0:
                bigeminy.append(w)
    assert 0 < len(_p_waves(bigeminy)) < len(_p_waves(waves))
    assert gate_p_waves(bigeminy, record.fs) == bigeminy


def _random_record(rng: np.random.Generator, leads: int, fs: float) -> list[Wave]:
    """Beats of several leads at random rates, with P waves before some beats at a share that
    changes along the record (stretches of sinus rhythm and of AF), sometimes two in a beat;
    each lead's waves in time order."""
    waves: list[Wave] = []
    n = int(rng.integers(0, 60))
    times = np.cumsum(rng.uniform(0.3, 1.8, n))
    share = np.repeat(rng.uniform(0, 1, n // 8 + 1), 8)[:n]

    def at(t: float, on: float, off: float, kind: str, lead: int) -> Wave:
        a, b = round((t + on) * fs), round((t + off) * fs)
        return Wave(kind, a, (a + b) // 2, b, lead)

    for lead in range(leads):
        mine = []
        for t, p in zip(times.tolist(), share.tolist(), strict=True):
            t += rng.uniform(-0.01, 0.01)
            if rng.random() < 0.05:  # a second P-like wave
                mine.append(at(t, -0.28, -0.2, "P", lead))
            if rng.random() < p:
                mine.append(at(t, -0.16, -0.06, "P", lead))
            if rng.random() < 0.95:  # a lead misses a beat now and then
                mine.append(at(t, 0.0, 0.08, "QRS", lead))
            mine.append(at(t, 0.15, 0.25, "T", lead))
        waves += sorted(mine, key=lambda w: (w.onset, w.offset))
    return waves


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    leads=st.integers(1, 4),
    fs=st.sampled_from([100.0, 500.0]),
    steps=st.integers(1, 12),
)
def test_gate_stream_equals_one_pass(seed: int, leads: int, fs: float, steps: int) -> None:
    """Each lead arrives in its own random blocks (as each lead's WaveStream gives them);
    ``settled`` is the lowest of the leads' positions."""
    rng = np.random.default_rng(seed)
    waves = _random_record(rng, leads, fs)
    end = max((w.offset for w in waves), default=0) + 1
    cuts = np.sort(rng.integers(0, end + 1, size=(steps, leads)), axis=0)
    gate, got, sent = PGate(fs), [], [0] * leads
    for row in cuts.tolist():
        block = []
        for lead, cut in enumerate(row):
            mine = [w for w in waves if w.lead == lead]
            block += [w for w in mine[sent[lead] :] if w.onset < cut]
            sent[lead] = sum(w.onset < cut for w in mine)
        got += gate.push(block, min(row))
    rest = [w for lead in range(leads) for w in [w for w in waves if w.lead == lead][sent[lead] :]]
    got += gate.push(rest, end) + gate.finish()
    expected = gate_p_waves(waves, fs)
    for lead in range(leads):
        assert [w for w in got if w.lead == lead] == [w for w in expected if w.lead == lead]


def test_gate_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="min_p_share"):
        gate_p_waves([], 500.0, min_share=1.5)
    with pytest.raises(ValueError, match="sampling rate"):
        PGate(0.0)


@pytest.fixture(scope="module")
def shipped() -> object:
    from sigseg.inference.backends import load_backend
    from sigseg.pretrained import resolve_model

    return load_backend(resolve_model(None), "torch")


def test_af_then_sinus_streams_as_one_pass(shipped: object, ludb_root: Path) -> None:
    """The default model on 10 s of atrial fibrillation then 10 s of sinus rhythm (the six
    limb leads), streamed in 4-s chunks, so every P wave is judged by beats of other chunks:
    the stream gives the one-pass waves; the fibrillation loses its P waves and the sinus
    rhythm keeps them."""
    af, sinus = load_ludb_record(AF_RECORD, ludb_root), load_ludb_record(SINUS_RECORD, ludb_root)
    x = np.concatenate([af.signal[:6], sinus.signal[:6]], axis=1)
    fs, join = af.fs, af.num_samples
    windows = WindowOptions(window=512)  # 4.1 s at the model's 125 Hz, half overlapping
    plain = delineate_signal(shipped, x, fs, window_options=windows, min_p_share=None).waves
    one = delineate_signal(shipped, x, fs, window_options=windows).waves
    blocks = list(iter_delineate(shipped, x, fs, window_options=windows, chunk_size=512))
    streamed = [w for ws in blocks for w in ws]
    assert len(blocks) >= 4
    for lead in range(x.shape[0]):
        assert [w for w in streamed if w.lead == lead] == [w for w in one if w.lead == lead]

    reach = P_WINDOW_S * fs  # P waves this close to the join are judged by both rhythms

    def p_in(waves: list[Wave], start: float, stop: float) -> int:
        return sum(w.kind == "P" and start <= w.onset < stop for w in waves)

    assert p_in(plain, 0, join - reach) >= 5  # the model's stray P waves in AF...
    assert p_in(one, 0, join - reach) == 0  # ...are gone
    assert p_in(one, join + reach, x.shape[1]) == p_in(plain, join + reach, x.shape[1]) > 25
    assert [w for w in one if w.kind != "P"] == [w for w in plain if w.kind != "P"]
