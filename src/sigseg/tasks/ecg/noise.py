"""Real ECG noise from the MIT-BIH Noise Stress Test Database (NSTDB), added at a calibrated SNR.

NSTDB's three noise records (``bw`` baseline wander, ``ma`` muscle artifact, ``em`` electrode
motion; 360 Hz, 2 channels, 30 min) are split in two halves by :data:`BENCHMARK_START`:
training-time noise augmentation reads only the first half (``part="train"``), the noise
stress benchmark (``benchmarks/noise.py``) only the second (``part="benchmark"``), so a model
is never scored on noise it was trained with.

The signal-to-noise ratio follows WFDB ``nst`` (``nst(1)``, ``sigamp(1)``), per lead:

* S, the QRS "power", is the squared peak-to-peak QRS amplitude divided by 8 (the power of a
  sinusoid of that peak-to-peak amplitude). :func:`qrs_peak_to_peak` measures it on the
  reference QRS annotations: the median over beats of the signal's range within each QRS
  (onset..offset where both are annotated, else nst's window of 50 ms either side of the peak).
* N is nst's frequency-weighted noise power: the noise is cut into 1-s chunks; each chunk's
  RMS deviation from its own mean is taken (which ignores very slow drift); the largest and
  smallest 5 % of those are dropped, the rest averaged, and N is that RMS squared
  (:func:`nst_noise_power`).
* The noise is scaled by ``a = sqrt(S / (N * 10**(SNR/10)))`` (:func:`noise_gain`), so that
  ``10 log10(S / (a**2 N)) == SNR``.

``power="mean"`` (:data:`NOISE_POWERS`) replaces nst's N by the plain mean power of the noise
after removing its mean. It counts slow drift that nst's 1-s chunks ignore, so the same SNR
means less noise (on the noise benchmark's excerpts the RMS ratio is about 3.2 for ``bw``,
1.8 for ``ma`` and 1.5 for ``em``: 10, 5 and 3.4 dB).

Unlike ``nst``, which measures S on the first 300 beats and N on the first 300 s of the noise
record once, both are measured on the record and noise excerpt at hand, so every lead gets
exactly the SNR asked for.

    >>> import numpy as np
    >>> from sigseg.data.record import Wave
    >>> fs, t = 500.0, np.arange(5000)
    >>> ecg = np.zeros(5000); ecg[250::500] = 2.0          # a 2-mV spike every second
    >>> qrs = [Wave("QRS", p - 20, p, p + 20) for p in range(250, 5000, 500)]
    >>> float(qrs_peak_to_peak(ecg, qrs, fs))
    2.0
    >>> noise = np.sin(2 * np.pi * 7 * t / fs)             # RMS 1/sqrt(2): N = 0.5
    >>> a = noise_gain(qrs_power(2.0), nst_noise_power(noise, fs), snr_db=6.0)
    >>> round(float(measured_snr_db(2.0, a * noise, fs)), 6)
    6.0
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sigseg.data.record import Record, Wave
from sigseg.data.transforms import resample_signal
from sigseg.metrics.segments import label_segments

NOISE_TYPES: tuple[str, ...] = ("bw", "ma", "em")
"""NSTDB noise records: baseline wander, muscle artifact, electrode motion."""

NOISE_NAMES: dict[str, str] = {
    "bw": "baseline wander",
    "ma": "muscle artifact",
    "em": "electrode motion",
}

NSTDB_FS = 360.0
"""Sampling rate of the NSTDB records."""

NSTDB_LENGTH = 650_000
"""Samples per NSTDB record (30:05.556 at 360 Hz)."""

BENCHMARK_START = 324_000
"""The split point, a sample index at 360 Hz (15:00): noise augmentation for training uses
samples ``[0, BENCHMARK_START)`` only; the noise stress benchmark draws its excerpts from
``[BENCHMARK_START, end)`` only."""

PARTS = ("train", "benchmark", "all")

QRS_HALF_WINDOW_S = 0.05
"""nst's QRS window: 50 ms either side of the QRS mark (used where a QRS lacks a boundary)."""

NOISE_POWERS = ("nst", "mean")
"""Definitions of the noise power N: nst's 1-s trimmed RMS, or the plain mean power."""

TRIM = 0.05
"""Fraction of the 1-s noise RMS values dropped at each end (nst's trimmed mean)."""


def read_nstdb_noise(name: str, root: str | Path, part: str = "train") -> Record:
    """One NSTDB noise record (``bw``, ``ma`` or ``em``) in mV at 360 Hz, two channels
    (``noise1``, ``noise2``); samples ``em`` lacks read as NaN.

    ``part`` picks the half: ``"train"`` (before :data:`BENCHMARK_START`, the default, for
    augmentation), ``"benchmark"`` (from it on) or ``"all"``. ``metadata["start"]`` is the
    index of the first returned sample in the whole record. Files stored gzip-compressed
    (``bw.dat.gz``, ``bw.hea.gz``) are read transparently."""
    if name not in NOISE_TYPES:
        raise ValueError(f"unknown NSTDB noise record {name!r}; choose one of {NOISE_TYPES}")
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; choose one of {PARTS}")
    base = Path(root) / name
    signal, fs, channels = _read_wfdb(base)
    if not np.isclose(fs, NSTDB_FS) or signal.shape[1] != NSTDB_LENGTH:
        raise ValueError(
            f"{base}: expected {NSTDB_LENGTH} samples at {NSTDB_FS:g} Hz, "
            f"got {signal.shape[1]} at {fs:g} Hz; not an NSTDB noise record"
        )
    start, stop = {
        "train": (0, BENCHMARK_START),
        "benchmark": (BENCHMARK_START, NSTDB_LENGTH),
        "all": (0, NSTDB_LENGTH),
    }[part]
    return Record(
        signal=signal[:, start:stop],
        fs=fs,
        channels=channels,
        name=f"nstdb/{name}",
        metadata={"database": "nstdb", "part": part, "start": start, "source": str(base)},
    )


def _read_wfdb(base: Path) -> tuple[np.ndarray, float, list[str]]:
    """A WFDB record's physical signal ``(C, L)``; a header or signal file present only as
    ``<file>.gz`` is decompressed to a temporary folder first."""
    import wfdb

    def _read(path: Path) -> tuple[np.ndarray, float, list[str]]:
        rec = wfdb.rdrecord(str(path), physical=True)
        return np.asarray(rec.p_signal.T, dtype=np.float64), float(rec.fs), list(rec.sig_name)

    header = base.with_name(base.name + ".hea")
    header_gz = base.with_name(base.name + ".hea.gz")
    if not header.is_file() and not header_gz.is_file():
        raise FileNotFoundError(f"{header}: no such file (nor {header_gz.name})")
    if header.is_file():
        files = wfdb.rdheader(str(base)).file_name or []
        if all((base.parent / f).is_file() for f in files):
            return _read(base)
    with tempfile.TemporaryDirectory(prefix="sigseg-nstdb-") as tmp:
        _plain_copy(header, Path(tmp) / header.name)
        files = wfdb.rdheader(str(Path(tmp) / base.name)).file_name or []
        for f in set(files):
            _plain_copy(base.parent / f, Path(tmp) / f)
        return _read(Path(tmp) / base.name)


def _plain_copy(path: Path, target: Path) -> None:
    """Copy ``path`` to ``target``, decompressing ``<path>.gz`` when only that exists."""
    if path.is_file():
        shutil.copyfile(path, target)
        return
    packed = path.with_name(path.name + ".gz")
    if not packed.is_file():
        raise FileNotFoundError(f"{path}: no such file (nor {packed.name})")
    with gzip.open(packed, "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst)


# --------------------------------------------------------------------------------- the SNR


def qrs_peak_to_peak(signal: np.ndarray, waves: Sequence[Wave], fs: float) -> float:
    """Median peak-to-peak amplitude of one lead ``(L,)`` over its QRS complexes.

    Each QRS's window is its annotated span (onset..offset) when both boundaries are known,
    else 50 ms either side of its peak (nst's window); QRS with neither are skipped."""
    x = np.asarray(signal, dtype=np.float64)
    half = round(QRS_HALF_WINDOW_S * fs)
    amplitudes = []
    for w in waves:
        if w.kind != "QRS":
            continue
        if w.onset is not None and w.offset is not None:
            lo, hi = w.onset, w.offset
        elif w.peak is not None:
            lo, hi = w.peak - half, w.peak + half
        else:
            continue
        window = x[max(lo, 0) : min(hi, len(x) - 1) + 1]
        if len(window):
            amplitudes.append(float(window.max() - window.min()))
    if not amplitudes:
        raise ValueError("no QRS complex to measure the signal amplitude on")
    return float(np.median(amplitudes))


def qrs_power(peak_to_peak: float) -> float:
    """nst's signal power S: the squared peak-to-peak QRS amplitude divided by 8."""
    return float(peak_to_peak) ** 2 / 8.0


def nst_noise_rms(noise: np.ndarray, fs: float) -> float:
    """nst's noise amplitude of ``(L,)``: the 5 %-trimmed mean over whole 1-s chunks of each
    chunk's RMS deviation from its own mean (the whole signal is one chunk if shorter than
    1 s). With fewer than 20 chunks nothing is trimmed."""
    x = np.asarray(noise, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("noise holds NaN/Inf samples")
    size = max(round(fs), 1)
    chunks = len(x) // size
    if chunks == 0:
        if len(x) == 0:
            raise ValueError("empty noise signal")
        return float(x.std())
    rms = np.sort(x[: chunks * size].reshape(chunks, size).std(axis=1))
    k = int(TRIM * chunks)
    return float(rms[k : chunks - k].mean())


def nst_noise_power(noise: np.ndarray, fs: float) -> float:
    """nst's noise power N: :func:`nst_noise_rms` squared."""
    return nst_noise_rms(noise, fs) ** 2


def noise_power(noise: np.ndarray, fs: float, power: str = "nst") -> float:
    """The noise power N under one of :data:`NOISE_POWERS`: ``"nst"`` (:func:`nst_noise_power`)
    or ``"mean"`` (the mean square of ``noise`` minus its mean)."""
    if power == "nst":
        return nst_noise_power(noise, fs)
    if power == "mean":
        x = np.asarray(noise, dtype=np.float64)
        if not len(x) or not np.isfinite(x).all():
            raise ValueError("noise is empty or holds NaN/Inf samples")
        return float(np.mean((x - x.mean()) ** 2))
    raise ValueError(f"unknown noise power {power!r}; choose one of {NOISE_POWERS}")


def noise_gain(signal_power: float, noise_power: float, snr_db: float) -> float:
    """The gain ``a`` that gives ``10 log10(S / (a**2 N)) == snr_db``."""
    if not noise_power > 0:
        raise ValueError(f"noise power must be > 0, got {noise_power}")
    return float(np.sqrt(signal_power / (noise_power * 10.0 ** (snr_db / 10.0))))


def measured_snr_db(peak_to_peak: float, noise: np.ndarray, fs: float, power: str = "nst") -> float:
    """The SNR of ``noise`` (as added) against a QRS peak-to-peak amplitude."""
    return float(10.0 * np.log10(qrs_power(peak_to_peak) / noise_power(noise, fs, power)))


# ------------------------------------------------------------------------ excerpts and mixing


def noise_excerpt(
    noise: Record, length: int, fs: float, rng: np.random.Generator, pad_s: float = 1.0
) -> tuple[np.ndarray, int]:
    """A random excerpt of a noise record, resampled to ``fs``: ``(C, length)`` float64 with
    every sample known (``em``'s unknown stretches are avoided), and the index of its first
    sample in the whole NSTDB record (at the noise's rate, ``pad_s`` of resampling margin
    included). Every sample read lies inside ``noise``, so a ``part="benchmark"`` record
    never yields training noise."""
    pad = round(pad_s * noise.fs)
    span = int(np.ceil(length * noise.fs / fs)) + 2 * pad + 1
    bad = ~np.isfinite(noise.signal).all(axis=0)
    if noise.num_samples < span:
        raise ValueError(f"{noise.name}: {noise.num_samples} samples, an excerpt needs {span}")
    bad_before = np.concatenate([[0], np.cumsum(bad)])
    starts = np.flatnonzero(bad_before[span:] == bad_before[:-span])
    if not len(starts):
        raise ValueError(f"{noise.name}: no stretch of {span} valid samples")
    start = int(rng.choice(starts))
    chunk = np.asarray(noise.signal[:, start : start + span], dtype=np.float64)
    resampled = resample_signal(chunk, noise.fs, fs).astype(np.float64)
    offset = round(pad * fs / noise.fs)
    return resampled[:, offset : offset + length], int(noise.metadata.get("start", 0)) + start


def mix_channels(
    excerpt: np.ndarray, num_leads: int, fs: float, rng: np.random.Generator
) -> np.ndarray:
    """Per-lead noise ``(num_leads, L)`` from a 2-channel excerpt: each channel is first scaled
    to unit nst RMS, then lead ``c`` gets ``cos(t_c) * ch0 + sin(t_c) * ch1`` with ``t_c``
    uniform in ``[0, 2 pi)`` (so leads see different, correlated mixtures of the two noise
    sources, either sign), minus its mean."""
    x = np.asarray(excerpt, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != 2:
        raise ValueError(f"expected a 2-channel excerpt, got shape {x.shape}")
    unit = x / np.array([[nst_noise_rms(ch, fs)] for ch in x])
    theta = rng.uniform(0.0, 2.0 * np.pi, size=num_leads)
    mixed = np.cos(theta)[:, None] * unit[0] + np.sin(theta)[:, None] * unit[1]
    return mixed - mixed.mean(axis=1, keepdims=True)


def add_noise(
    record: Record,
    noise: np.ndarray,
    snr_db: float,
    power: str = "nst",
    peak_to_peak: Sequence[float] | None = None,
) -> Record:
    """``record`` with ``noise`` ``(C, L)`` added to every lead at ``snr_db`` (nst's SNR, each
    lead's S from its QRS peak-to-peak: ``peak_to_peak[lead]`` when given, else measured on
    its own reference QRS annotations; N as ``power`` says); labels, waves and metadata are
    kept, ``metadata["noise_gain"]`` holds the per-lead gains."""
    noise = np.asarray(noise, dtype=np.float64)
    if noise.shape != record.signal.shape:
        raise ValueError(f"noise shape {noise.shape} != signal shape {record.signal.shape}")
    out = record.signal.astype(np.float64)
    gains = []
    for lead in range(out.shape[0]):
        if peak_to_peak is not None:
            pp = peak_to_peak[lead]
        else:
            pp = qrs_peak_to_peak(out[lead], record.lead_waves(lead), record.fs)
        gain = noise_gain(qrs_power(pp), noise_power(noise[lead], record.fs, power), snr_db)
        out[lead] += gain * noise[lead]
        gains.append(gain)
    return Record(
        signal=out.astype(np.float32),
        fs=record.fs,
        channels=list(record.channels),
        name=record.name,
        labels=None if record.labels is None else record.labels.copy(),
        waves=list(record.waves),
        metadata={
            **record.metadata,
            "noise_snr_db": float(snr_db),
            "noise_power": power,
            "noise_gain": gains,
        },
    )


class NstdbNoise:
    """Training augmentation: with probability ``p``, real NSTDB noise (one of ``bw``, ``ma``,
    ``em``, chosen at random; only the first, training half of each record) is added to every
    lead of an ECG crop at an SNR drawn uniformly from ``snr_db``, in nst's terms (S from the
    crop's labelled QRS complexes, N from :func:`nst_noise_power`).

    Called as ``augment(record, rng)`` on a record at the model's rate whose first label row
    marks QRS with ``qrs_label``; a crop without a labelled QRS takes its 1-99 % range as the
    QRS peak-to-peak (a crop of a lead still holds beats)."""

    def __init__(
        self,
        root: str | Path,
        snr_db: tuple[float, float] = (0.0, 24.0),
        p: float = 0.5,
        qrs_label: int = 2,
    ) -> None:
        if not 0 <= p <= 1 or snr_db[0] > snr_db[1]:
            raise ValueError(f"NstdbNoise: need 0 <= p <= 1 and low <= high, got {p}, {snr_db}")
        self.noises = [read_nstdb_noise(name, root, part="train") for name in NOISE_TYPES]
        self.snr_db, self.p, self.qrs_label = snr_db, p, qrs_label

    def __call__(self, record: Record, rng: np.random.Generator) -> Record:
        if rng.random() >= self.p or record.num_samples < 2 * record.fs:
            return record
        noise = self.noises[int(rng.integers(len(self.noises)))]
        excerpt, _ = noise_excerpt(noise, record.num_samples, record.fs, rng)
        mixed = mix_channels(excerpt, record.signal.shape[0], record.fs, rng)
        snr = float(rng.uniform(*self.snr_db))
        peak_to_peak = [self._qrs_peak_to_peak(x, record) for x in record.signal]
        return add_noise(record, mixed, snr, power="nst", peak_to_peak=peak_to_peak)

    def _qrs_peak_to_peak(self, x: np.ndarray, record: Record) -> float:
        """Median range of ``x`` over the labelled QRS runs (else its 1-99 % range)."""
        if record.labels is not None:
            runs = [r for r in label_segments(record.labels[0]) if r.label == self.qrs_label]
            if runs:
                return float(np.median([np.ptp(x[r.start : r.end + 1]) for r in runs]))
        low, high = np.percentile(x, [1, 99])
        return float(high - low)
