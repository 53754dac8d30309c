"""Synthetic ECG with exact ground truth, for tests, demos and long-recording benchmarks.

Each beat is a sum of Gaussian bumps around its R peak (P; Q, R, S; two for an asymmetric T),
in the spirit of McSharry et al. (IEEE TBME 2003), written here in closed form rather than as
their ODE. A wave's boundaries are where the envelope of its components falls to
``boundary_fraction`` of their peaks (``centre ± z·sigma`` with ``z = sqrt(2 ln(1/f))``), so
the labels, the waves and the signal come from one model and agree exactly. The model lives in
continuous time: the same seed gives the same heart at any sampling rate.

Variety: heart-rate variability (respiratory and slow sinusoids plus correlated noise), per
record and per lead morphology (gains, polarity, widths, small timing shifts, so boundaries
differ between leads), per beat amplitude and width jitter, and noise (baseline wander, muscle
noise with a varying envelope, 50/60 Hz powerline). Generation is vectorized and works in
chunks: :func:`write_synthetic_wfdb` writes a 24-hour record with bounded memory, and its
samples equal :func:`synthesize_ecg`'s for the same arguments.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

from sigseg.data.record import Record, Wave
from sigseg.tasks.ecg import CLASSES

Seed = int | Sequence[int]

# Components of one beat and the wave each belongs to.
_COMPONENTS = ("P", "Q", "R", "S", "T1", "T2")
_WAVE_OF = np.array([0, 1, 1, 1, 2, 2])  # index into _WAVES
_WAVES = ("P", "QRS", "T")
_SUPPORT = 5.0  # components are rendered to ± this many sigmas (exp(-12.5) ~ 4e-6 of peak)
_NOISE_BLOCK = 1 << 16  # white noise is drawn in fixed blocks so any chunking gives equal output
_ADC_GAIN = 1000.0  # WFDB output: 1 adu = 1 µV, range ±32.767 mV


@dataclass(frozen=True)
class SyntheticConfig:
    """Knobs of the generator (amplitudes in mV, rates in Hz, times in s)."""

    heart_rate: tuple[float, float] = (50.0, 100.0)
    """Range the record's mean heart rate (beats/min) is drawn from."""
    hrv: float = 0.04
    """Relative size of beat-to-beat RR variation."""
    boundary_fraction: float = 0.05
    """Wave boundary: where the components' envelope falls to this fraction of their peak."""
    noise: float = 1.0
    """Scale of all noise (0: clean)."""
    baseline_wander: float = 0.1
    muscle: float = 0.02
    powerline: float = 0.01
    powerline_hz: float | None = None
    """Mains frequency; ``None``: 50 or 60 at random per record."""

    def __post_init__(self) -> None:
        lo, hi = self.heart_rate
        if not 20 <= lo <= hi <= 250:
            raise ValueError(f"heart_rate must satisfy 20 <= low <= high <= 250, got {lo}-{hi}")
        if not 0 < self.boundary_fraction < 1:
            raise ValueError(f"boundary_fraction must be in (0, 1), got {self.boundary_fraction}")
        if min(self.hrv, self.noise, self.baseline_wander, self.muscle, self.powerline) < 0:
            raise ValueError("hrv and noise amplitudes must be >= 0")


@dataclass
class _BeatTrain:
    """Every beat in continuous time (seconds from the record start).

    ``centre``/``sigma``/``amp``: ``(beats, leads, components)``. ``bounds``: ``(beats, leads,
    waves, 3)`` onset, peak, offset times, NaN where a wave was dropped (it would overlap its
    neighbour at a fast rate)."""

    centre: np.ndarray
    sigma: np.ndarray
    amp: np.ndarray
    bounds: np.ndarray


def _rng(seed: Seed, *stream: int) -> np.random.Generator:
    key = [seed] if isinstance(seed, int | np.integer) else list(seed)
    if any(int(k) < 0 for k in key):
        raise ValueError(f"seed must be non-negative, got {seed}")
    return np.random.default_rng([*map(int, key), *stream])


# --- the beat model -------------------------------------------------------------------------


def _beat_train(duration_s: float, leads: int, seed: Seed, cfg: SyntheticConfig) -> _BeatTrain:
    rec = _rng(seed, 0)
    rr = _rr_intervals(duration_s, rec, _rng(seed, 1), cfg)
    r_times = np.cumsum(rr) - rr[0] - rec.uniform(0.5, 1.5)
    keep = r_times <= duration_s + 2.0
    rr, r_times = rr[keep], r_times[keep]
    beats = _rng(seed, 2)
    n = len(r_times)
    base_c, base_s, base_a = _record_morphology(rec)
    lead_c, lead_s, lead_a = _lead_morphology(rec, leads)
    # Per-beat variation: respiration-modulated amplitude, jittered widths and positions.
    resp = 1 + rec.uniform(0.03, 0.1) * np.sin(
        2 * np.pi * rec.uniform(0.15, 0.35) * r_times + rec.uniform(0, 2 * np.pi)
    )
    amp_j = resp[:, None] * np.clip(1 + 0.06 * beats.standard_normal((n, 6)), 0.8, 1.2)
    width_j = np.clip(1 + 0.03 * beats.standard_normal((n, 6)), 0.93, 1.07)
    shift_j = np.clip(0.0015 * beats.standard_normal((n, 6)), -0.003, 0.003)
    # Repolarisation (and less so the PR interval) shortens at fast rates (Bazett-like).
    scale = np.ones((n, 6))
    scale[:, 4:] = np.sqrt(np.clip(rr, 0.3, 2.0))[:, None]
    scale[:, 0] = np.clip(rr, 0.3, 2.0) ** 0.25
    centre = r_times[:, None, None] + (base_c * scale + shift_j)[:, None, :] + lead_c[None, :, :]
    sigma = (base_s * scale * width_j)[:, None, :] * lead_s[None, :, :]
    amp = (base_a * amp_j)[:, None, :] * lead_a[None, :, :]
    bounds = _wave_bounds(centre, sigma, amp, cfg.boundary_fraction)
    _drop_overlaps(amp, bounds)
    return _BeatTrain(centre=centre, sigma=sigma, amp=amp, bounds=bounds)


def _rr_intervals(
    duration_s: float, rec: np.random.Generator, beats: np.random.Generator, cfg: SyntheticConfig
) -> np.ndarray:
    """RR intervals (s) covering the record plus two seconds on each side: a mean rate, a
    respiratory and a slow (~0.1 Hz) sinusoid, and AR(1) noise."""
    mean_rr = 60.0 / rec.uniform(*cfg.heart_rate)
    n = math.ceil((duration_s + 4.0) / (mean_rr * 0.6)) + 2  # enough at the shortest RR
    t = np.arange(n) * mean_rr
    mod = 0.5 * np.sin(
        2 * np.pi * rec.uniform(0.15, 0.35) * t + rec.uniform(0, 2 * np.pi)
    ) + 0.5 * np.sin(2 * np.pi * rec.uniform(0.05, 0.12) * t + rec.uniform(0, 2 * np.pi))
    ar = lfilter([0.8], [1.0, -0.6], beats.standard_normal(n))  # ar[i] = 0.6 ar[i-1] + 0.8 e[i]
    return mean_rr * np.clip(1 + cfg.hrv * (mod + 0.5 * ar), 0.6, 1.4)


def _record_morphology(rec: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Centres (s from R), widths (s) and amplitudes (mV) of the six components at RR = 1 s."""
    t1 = rec.uniform(0.26, 0.32)
    centre = np.array(
        [
            -rec.uniform(0.13, 0.19),
            -rec.uniform(0.022, 0.032),
            0.0,
            rec.uniform(0.022, 0.032),
            t1,
            t1 + rec.uniform(0.02, 0.045),
        ]
    )
    sigma = np.array(
        [
            rec.uniform(0.015, 0.024),
            rec.uniform(0.006, 0.009),
            rec.uniform(0.007, 0.013),
            rec.uniform(0.006, 0.01),
            rec.uniform(0.03, 0.048),
            rec.uniform(0.02, 0.032),
        ]
    )
    amp = np.array(
        [
            rec.uniform(0.08, 0.25),
            -rec.uniform(0.05, 0.2),
            rec.uniform(0.6, 1.6),
            -rec.uniform(0.1, 0.4),
            rec.uniform(0.15, 0.4),
            0.0,
        ]
    )
    amp[5] = amp[4] * rec.uniform(0.2, 0.6)
    return centre, sigma, amp


def _lead_morphology(rec: np.random.Generator, leads: int) -> tuple[np.ndarray, ...]:
    """Per lead (``(leads, 6)``): timing shifts (s), width factors and signed gains. Each wave
    may be inverted on a lead, and Q/R/S get their own gains (rS, qR, RS shapes)."""
    shift = rec.uniform(-0.002, 0.002, (leads, 6))
    width = rec.uniform(0.9, 1.1, (leads, 6))
    gain = rec.uniform(0.3, 1.3, (leads, 6))
    gain[:, 1:4] = rec.uniform(0.2, 1.5, (leads, 3))
    gain[:, 5] = gain[:, 4]
    for comps, p_flip in (((0,), 0.15), ((1, 2, 3), 0.25), ((4, 5), 0.2)):
        flip = np.where(rec.random(leads) < p_flip, -1.0, 1.0)
        gain[:, list(comps)] *= flip[:, None]
    shift[:, 5] = shift[:, 4]
    return shift, width, gain


def _wave_bounds(
    centre: np.ndarray, sigma: np.ndarray, amp: np.ndarray, fraction: float
) -> np.ndarray:
    """Onset, peak and offset time of each wave: the union of its components' spans
    ``centre ± z·sigma``; the peak is the centre of its largest component."""
    z = math.sqrt(2 * math.log(1 / fraction))
    lo, hi = centre - z * sigma, centre + z * sigma
    out = np.empty((*centre.shape[:2], 3, 3))
    for w in range(3):
        comps = np.flatnonzero(w == _WAVE_OF)
        dominant = comps[np.argmax(np.abs(amp[..., comps]), axis=-1)]
        out[..., w, 0] = lo[..., comps].min(-1)
        out[..., w, 1] = np.take_along_axis(centre, dominant[..., None], -1)[..., 0]
        out[..., w, 2] = hi[..., comps].max(-1)
    return out


def _drop_overlaps(amp: np.ndarray, bounds: np.ndarray) -> None:
    """Remove (zero the amplitude of, NaN the bounds of) waves that would touch a neighbour:
    a P or T running into its own QRS, a T running into the next QRS, or a P that would start
    before the previous T ends (at fast rates the P hides in the T; it is left out)."""
    p, qrs, t = bounds[:, :, 0], bounds[:, :, 1], bounds[:, :, 2]
    drop = np.zeros(bounds.shape[:3], dtype=bool)
    drop[:, :, 0] = p[..., 2] >= qrs[..., 0]
    drop[:, :, 2] = t[..., 0] <= qrs[..., 2]
    drop[:-1, :, 2] |= t[:-1, :, 2] >= qrs[1:, :, 0]
    t_end = np.where(drop[:-1, :, 2], -np.inf, t[:-1, :, 2])
    drop[1:, :, 0] |= p[1:, :, 0] <= t_end
    for w in range(3):
        comps = np.flatnonzero(w == _WAVE_OF)
        amp[..., comps] = np.where(drop[..., w, None], 0.0, amp[..., comps])
    bounds[drop] = np.nan


# --- rendering ------------------------------------------------------------------------------


def _render_beats(train: _BeatTrain, fs: float, start: int, stop: int) -> np.ndarray:
    """The noiseless ECG at samples ``start:stop``, ``(leads, stop - start)``."""
    leads = train.amp.shape[1]
    out = np.zeros((leads, stop - start))
    t0, t1 = start / fs, stop / fs
    for k in range(6):
        c, s, a = train.centre[:, :, k], train.sigma[:, :, k], train.amp[:, :, k]
        reach = _SUPPORT * s.max(initial=0.0)
        beats = np.flatnonzero((c.max(1) + reach >= t0) & (c.min(1) - reach < t1))
        if len(beats) == 0:
            continue
        half = math.ceil(reach * fs) + 1
        offsets = np.arange(-half, half + 1)
        for lead in range(leads):
            cb, sb, ab = c[beats, lead], s[beats, lead], a[beats, lead]
            idx = np.rint(cb * fs).astype(np.int64)[:, None] + offsets
            vals = ab[:, None] * np.exp(-0.5 * ((idx / fs - cb[:, None]) / sb[:, None]) ** 2)
            keep = (idx >= start) & (idx < stop)
            out[lead] += np.bincount(idx[keep] - start, weights=vals[keep], minlength=stop - start)
    return out


@dataclass(frozen=True)
class _NoiseModel:
    """Record-level noise parameters, ``(leads, ...)`` arrays; evaluated at absolute sample
    times so chunks join seamlessly."""

    wander_f: np.ndarray
    wander_a: np.ndarray
    wander_phi: np.ndarray
    mains_f: float
    mains_a: np.ndarray
    mains_phi: np.ndarray
    muscle_a: np.ndarray
    muscle_f: np.ndarray
    muscle_phi: np.ndarray


def _noise_model(seed: Seed, leads: int, cfg: SyntheticConfig) -> _NoiseModel:
    rng = _rng(seed, 3)
    wander_a = rng.uniform(0.2, 1.0, (leads, 4))
    wander_a *= cfg.noise * cfg.baseline_wander / np.sqrt((wander_a**2).sum(1, keepdims=True))
    mains = cfg.powerline_hz if cfg.powerline_hz is not None else float(rng.choice([50, 60]))
    return _NoiseModel(
        wander_f=rng.uniform(0.05, 0.5, (leads, 4)),
        wander_a=wander_a,
        wander_phi=rng.uniform(0, 2 * np.pi, (leads, 4)),
        mains_f=mains,
        mains_a=cfg.noise * cfg.powerline * rng.uniform(0.3, 1.0, leads),
        mains_phi=rng.uniform(0, 2 * np.pi, leads),
        muscle_a=cfg.noise * cfg.muscle * rng.uniform(0.5, 1.5, leads),
        muscle_f=rng.uniform(0.02, 0.2, leads),
        muscle_phi=rng.uniform(0, 2 * np.pi, leads),
    )


def _render_noise(model: _NoiseModel, seed: Seed, fs: float, start: int, stop: int) -> np.ndarray:
    """Baseline wander + powerline + muscle noise at samples ``start:stop``."""
    leads = len(model.mains_a)
    t = np.arange(start, stop) / fs
    out = np.zeros((leads, stop - start))
    for lead in range(leads):
        for f, a, phi in zip(
            model.wander_f[lead], model.wander_a[lead], model.wander_phi[lead], strict=True
        ):
            out[lead] += a * np.sin(2 * np.pi * f * t + phi)
        if model.mains_f < fs / 2 and model.mains_a[lead] > 0:
            out[lead] += model.mains_a[lead] * np.sin(
                2 * np.pi * model.mains_f * t + model.mains_phi[lead]
            )
    if model.muscle_a.any():
        envelope = (
            1
            + 0.8 * np.sin(2 * np.pi * model.muscle_f[:, None] * t + model.muscle_phi[:, None]) ** 3
        )
        out += model.muscle_a[:, None] * envelope * _white(seed, leads, start, stop)
    return out


def _white(seed: Seed, leads: int, start: int, stop: int) -> np.ndarray:
    """Standard normal noise at samples ``start:stop``, drawn in fixed blocks so that the value
    at a sample does not depend on how the record is chunked."""
    first, last = start // _NOISE_BLOCK, (stop - 1) // _NOISE_BLOCK
    blocks = [
        _rng(seed, 4, b).standard_normal((leads, _NOISE_BLOCK)) for b in range(first, last + 1)
    ]
    joined = np.concatenate(blocks, axis=1)
    return joined[:, start - first * _NOISE_BLOCK : stop - first * _NOISE_BLOCK]


# --- ground truth ---------------------------------------------------------------------------


def _wave_samples(train: _BeatTrain, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounds in samples, ``(beats, leads, waves, 3)`` int64, and which waves exist
    ``(beats, leads, waves)``: the onset is the first sample at or after the onset time, the
    offset the last at or before the offset time, so a wave's samples are exactly those whose
    time lies within it (none, at a very low rate, when it falls between two samples)."""
    b = train.bounds * fs
    present = ~np.isnan(b[..., 0])
    b = np.nan_to_num(b)
    out = np.stack([np.ceil(b[..., 0]), np.rint(b[..., 1]), np.floor(b[..., 2])], axis=-1)
    present &= out[..., 2] >= out[..., 0]
    return out.astype(np.int64), present


def _paint(samples: np.ndarray, present: np.ndarray, num_samples: int) -> np.ndarray:
    """Labels ``(leads, num_samples)``: background plus every wave's samples."""
    leads = samples.shape[1]
    labels = np.zeros((leads, num_samples), dtype=np.int64)
    for w, kind in enumerate(_WAVES):
        for lead in range(leads):
            sel = present[:, lead, w]
            lo = np.clip(samples[sel, lead, w, 0], 0, num_samples)
            hi = np.clip(samples[sel, lead, w, 2] + 1, 0, num_samples)
            edges = np.zeros(num_samples + 1, dtype=np.int64)
            np.add.at(edges, lo, 1)
            np.add.at(edges, hi, -1)
            labels[lead][np.cumsum(edges[:-1]) > 0] = CLASSES.index(kind)
    return labels


def _waves(samples: np.ndarray, present: np.ndarray, num_samples: int) -> list[Wave]:
    """Waves with at least one sample inside the record, in time order per lead; boundaries
    (and peaks) outside the record are None."""
    out = []
    for beat, lead, w in zip(*np.nonzero(present), strict=True):
        on, peak, off = (int(v) for v in samples[beat, lead, w])
        if off < 0 or on >= num_samples:
            continue
        out.append(
            Wave(
                _WAVES[w],
                on if on >= 0 else None,
                peak if 0 <= peak < num_samples else None,
                off if off < num_samples else None,
                int(lead),
            )
        )
    out.sort(key=lambda x: (x.lead, x.onset if x.onset is not None else -1))
    return out


# --- public API -----------------------------------------------------------------------------


def _check_args(duration_s: float, fs: float, leads: int) -> None:
    if not fs > 0:
        raise ValueError(f"fs must be > 0 Hz, got {fs}")
    if not round(duration_s * fs) >= 1:
        raise ValueError(f"duration must give at least one sample, got {duration_s} s")
    if leads < 1:
        raise ValueError(f"leads must be >= 1, got {leads}")


def lead_names(leads: int) -> list[str]:
    """Channel names of synthetic records: ``syna``, ``synb``, ... (letters only, because each
    is also the extension of the lead's WFDB annotation file, and WFDB allows only letters)."""
    return ["syn" + _letters(i) for i in range(leads)]


def _letters(i: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa, ..."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def synthesize_ecg(
    duration_s: float = 10.0,
    fs: float = 500.0,
    leads: int = 1,
    seed: Seed = 0,
    config: SyntheticConfig | None = None,
) -> Record:
    """A synthetic ECG record (mV) with exact labels and waves on every lead.

    The whole record is labelled (no ignore). Waves cut by the record's edges keep ``None``
    for the boundary outside. Deterministic for a seed; the same seed at another ``fs`` gives
    the same heart (boundaries at the same times).

    >>> rec = synthesize_ecg(duration_s=5, fs=250, leads=2, seed=1)
    >>> rec.signal.shape, rec.labels.shape, sorted({w.kind for w in rec.waves})
    ((2, 1250), (2, 1250), ['P', 'QRS', 'T'])
    """
    cfg = config or SyntheticConfig()
    _check_args(duration_s, fs, leads)
    n = round(duration_s * fs)
    train = _beat_train(duration_s, leads, seed, cfg)
    noise = _noise_model(seed, leads, cfg)
    signal = _render_beats(train, fs, 0, n) + _render_noise(noise, seed, fs, 0, n)
    samples, present = _wave_samples(train, fs)
    return Record(
        signal=signal.astype(np.float32),
        fs=float(fs),
        channels=lead_names(leads),
        name=f"synthetic/{_seed_name(seed)}",
        labels=_paint(samples, present, n),
        waves=_waves(samples, present, n),
        metadata={
            "database": "synthetic",
            "seed": seed,
            "mains_hz": noise.mains_f,
            "config": asdict(cfg),
        },
    )


def _seed_name(seed: Seed) -> str:
    return str(seed) if isinstance(seed, int | np.integer) else "-".join(map(str, seed))


def synthetic_records(
    n: int,
    duration_s: float = 10.0,
    fs: float = 500.0,
    seed: int = 0,
    leads: int = 1,
    config: SyntheticConfig | None = None,
) -> list[Record]:
    """``n`` independent synthetic records (record ``i`` uses seed ``(seed, i)``): a stand-in
    dataset for training smoke tests and demos that need no download."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return [synthesize_ecg(duration_s, fs, leads, (seed, i), config) for i in range(n)]


def write_synthetic_wfdb(
    path: str | os.PathLike[str],
    hours: float,
    fs: float = 500.0,
    leads: int = 2,
    seed: int = 0,
    config: SyntheticConfig | None = None,
    chunk_s: float = 600.0,
    annotations: bool = True,
) -> Path:
    """Write a long synthetic record as WFDB (format 16, 1 µV per unit) chunk by chunk, so
    memory stays bounded whatever its length (24 h at 500 Hz, 2 leads: 43.2 M samples per
    lead, about 170 MB on disk). With ``annotations``, each lead's waves are written LUDB-style
    (``(`` onset, ``p``/``N``/``t`` peak, ``)`` offset) to ``<path>.<lead name>``; a wave
    cut by the record's edge before its peak is left out (its lone mark would name no wave).

    Returns the record path (without suffix); read it with
    :func:`~sigseg.data.readers.open_signal`. The samples equal :func:`synthesize_ecg`'s for
    the same arguments (up to the 1 µV quantization)."""
    cfg = config or SyntheticConfig()
    duration_s = hours * 3600.0
    _check_args(duration_s, fs, leads)
    base = Path(path)
    base = base.with_suffix("") if base.suffix in (".hea", ".dat") else base
    if not base.parent.is_dir():
        raise FileNotFoundError(f"{base.parent}: no such folder")
    n = round(duration_s * fs)
    train = _beat_train(duration_s, leads, seed, cfg)
    noise = _noise_model(seed, leads, cfg)
    names = lead_names(leads)
    with tempfile.TemporaryDirectory(dir=base.parent, prefix=f".{base.name}.") as tmp:
        # every file is written aside, then renamed into place (header last): a crash leaves
        # the previous files or none, never a truncated one
        _write_wfdb(Path(tmp) / base.name, n, fs, leads, seed, hours, train, noise, chunk_s)
        if annotations:
            _write_annotations(Path(tmp) / base.name, *_wave_samples(train, fs), n, fs, names)
        for written in sorted(Path(tmp).iterdir(), key=lambda p: p.suffix == ".hea"):
            os.replace(written, base.parent / written.name)
    return base


def _write_wfdb(
    base: Path,
    n: int,
    fs: float,
    leads: int,
    seed: Seed,
    hours: float,
    train: _BeatTrain,
    noise: _NoiseModel,
    chunk_s: float,
) -> None:
    import wfdb

    step = max(1, int(chunk_s * fs))
    checksum = np.zeros(leads, dtype=np.int64)
    first = np.zeros(leads, dtype=np.int64)
    dat = base.with_name(base.name + ".dat")
    with dat.open("wb") as f:
        for start in range(0, n, step):
            stop = min(n, start + step)
            x = _render_beats(train, fs, start, stop) + _render_noise(noise, seed, fs, start, stop)
            digital = np.clip(np.rint(x * _ADC_GAIN), -32767, 32767).astype("<i2")
            if start == 0:
                first = digital[:, 0].astype(np.int64)
            checksum += digital.sum(axis=1, dtype=np.int64)
            f.write(digital.T.tobytes())
    header = wfdb.Record(
        record_name=base.name,
        n_sig=leads,
        fs=fs,
        sig_len=n,
        file_name=[dat.name] * leads,
        fmt=["16"] * leads,
        adc_gain=[_ADC_GAIN] * leads,
        baseline=[0] * leads,
        units=["mV"] * leads,
        sig_name=lead_names(leads),
        adc_res=[16] * leads,
        adc_zero=[0] * leads,
        init_value=[int(v) for v in first],
        block_size=[0] * leads,
        checksum=[int((c + 32768) % 65536 - 32768) for c in checksum],
        comments=[f"sigseg synthetic ECG: seed {seed}, {hours:g} h at {fs:g} Hz"],
    )
    header.wrheader(write_dir=str(base.parent))


def _write_annotations(
    base: Path, samples: np.ndarray, present: np.ndarray, n: int, fs: float, names: list[str]
) -> None:
    """One annotation file per lead, built with array operations (no per-wave objects), so
    a day of beats costs tens of MB here; ``wfdb.wrann`` itself needs about 250 B a mark."""
    import wfdb

    symbols = np.array(["(", "p", ")", "(", "N", ")", "(", "t", ")"])
    for lead, name in enumerate(names):
        marks = samples[:, lead].reshape(-1, 9)  # per beat: P, QRS, T x onset, peak, offset
        peak_in = (marks[:, 1::3] >= 0) & (marks[:, 1::3] < n)  # waves whose peak is inside
        wave_ok = np.repeat(present[:, lead] & peak_in, 3, axis=1)
        keep = wave_ok & (marks >= 0) & (marks < n)
        order = np.argsort(marks[keep], kind="stable")  # beats are in time order already
        wfdb.wrann(
            base.name,
            name,
            marks[keep][order],
            symbol=list(np.broadcast_to(symbols, marks.shape)[keep][order]),
            fs=fs,
            write_dir=str(base.parent),
        )
