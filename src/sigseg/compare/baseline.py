"""The non-learned baseline: NeuroKit2's wavelet (DWT) delineator, scored like any model.

Per lead, at the record's own rate: ``nk.ecg_clean`` -> ``nk.ecg_peaks`` (R peaks) ->
``nk.ecg_delineate(method="dwt")``. NeuroKit2 returns one entry per R peak for each of P, R
(QRS) and T onsets, peaks and offsets, NaN where it found none; :func:`neurokit_to_waves`
turns those into :class:`~sigseg.data.record.Wave` s. A lead on which NeuroKit2 raises (a flat
or very short lead, too few beats) gets no waves and is counted in
:attr:`NeuroKitDelineator.failures`, so one bad lead never stops a comparison.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sigseg.data.record import Record, Wave
from sigseg.optional import MissingDependency, require

# NeuroKit2's keys for each wave kind: (onsets, peaks, offsets); QRS peaks are the R peaks.
NEUROKIT_KEYS: dict[str, tuple[str, str, str]] = {
    "P": ("ECG_P_Onsets", "ECG_P_Peaks", "ECG_P_Offsets"),
    "QRS": ("ECG_R_Onsets", "ECG_R_Peaks", "ECG_R_Offsets"),
    "T": ("ECG_T_Onsets", "ECG_T_Peaks", "ECG_T_Offsets"),
}


def _index(values: Sequence[Any] | None, i: int, length: int) -> int | None:
    """Entry ``i`` as a sample index inside ``[0, length)``, or ``None`` (NaN, missing)."""
    if values is None or i >= len(values):
        return None
    v = values[i]
    if v is None:
        return None
    v = float(v)
    if math.isnan(v) or not 0 <= v < length:
        return None
    return round(v)


def neurokit_to_waves(
    delineation: Mapping[str, Sequence[Any]],
    r_peaks: Sequence[Any],
    length: int,
    lead: int | None = None,
) -> list[Wave]:
    """NeuroKit2's per-beat lists -> waves (sorted by kind, then position).

    Boundaries NeuroKit2 left as NaN stay ``None``. Its DWT method sometimes puts a boundary
    on the wrong side of the peak (an onset after the peak, or after the offset); such a
    boundary is dropped (set to ``None``) rather than trusted, so every wave satisfies
    ``onset <= peak <= offset`` where those exist. A wave with neither onset nor offset left
    is dropped. Non-finite or out-of-range entries count as missing.

    >>> d = {"ECG_P_Onsets": [10, float("nan")], "ECG_P_Peaks": [20, 120],
    ...      "ECG_P_Offsets": [30, 130], "ECG_R_Onsets": [40, 140], "ECG_R_Offsets": [60, 135],
    ...      "ECG_T_Onsets": [80, 180], "ECG_T_Peaks": [90, 190], "ECG_T_Offsets": [100, 200]}
    >>> for w in neurokit_to_waves(d, [50, 150], 1000): print(w.kind, w.onset, w.peak, w.offset)
    P 10 20 30
    P None 120 130
    QRS 40 50 60
    QRS 140 150 None
    T 80 90 100
    T 180 190 200
    """
    beats = len(r_peaks)
    waves: list[Wave] = []
    for kind, (on_key, peak_key, off_key) in NEUROKIT_KEYS.items():
        peaks = r_peaks if kind == "QRS" else delineation.get(peak_key)
        n = max(beats, *(len(delineation.get(k) or []) for k in (on_key, off_key)))
        for i in range(n):
            onset = _index(delineation.get(on_key), i, length)
            peak = _index(peaks, i, length)
            offset = _index(delineation.get(off_key), i, length)
            if peak is not None:
                onset = onset if onset is not None and onset <= peak else None
                offset = offset if offset is not None and offset >= peak else None
            elif onset is not None and offset is not None and onset > offset:
                onset = offset = None
            if onset is None and offset is None:
                continue
            waves.append(Wave(kind, onset, peak, offset, lead))
    return waves


def neurokit_delineate(signal: np.ndarray, fs: float, lead: int | None = None) -> list[Wave]:
    """NeuroKit2's DWT delineation of one lead ``(L,)`` sampled at ``fs``; raises on failure
    (use :class:`NeuroKitDelineator` to count failures instead)."""
    nk = require("neurokit2", "the NeuroKit2 baseline")
    x = np.asarray(signal, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NeuroKit2 warns freely about short or noisy input
        cleaned = nk.ecg_clean(x, sampling_rate=round(fs))
        _, info = nk.ecg_peaks(cleaned, sampling_rate=round(fs))
        r_peaks = np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
        if len(r_peaks) < 2:
            raise ValueError(f"NeuroKit2 found {len(r_peaks)} R peak(s); delineation needs 2+")
        _, delineation = nk.ecg_delineate(cleaned, r_peaks, sampling_rate=round(fs), method="dwt")
    return neurokit_to_waves(delineation, r_peaks, len(x), lead)


@dataclass
class NeuroKitDelineator:
    """``delineator(record)(lead)`` gives NeuroKit2's waves for one lead of a record, as
    :func:`sigseg.tasks.ecg.evaluation.score_record` expects; failures and time are tallied.

    ``failures`` lists ``(record name, lead name, error)`` of every lead that raised (those get
    no waves); ``seconds`` and ``leads`` add up the time spent and the leads delineated."""

    failures: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: float = 0.0
    leads: int = 0

    def lead_waves(self, record: Record, lead: int) -> list[Wave]:
        start = time.perf_counter()
        try:
            return neurokit_delineate(record.signal[lead], record.fs, lead)
        except MissingDependency:
            raise  # not a failure of this lead: nothing would work
        except Exception as err:  # NeuroKit2 raises many types (IndexError, ValueError, ...)
            message = f"{type(err).__name__}: {err}".splitlines()[0][:200]
            self.failures.append((record.name, record.channels[lead], message))
            return []
        finally:
            self.seconds += time.perf_counter() - start
            self.leads += 1

    def __call__(self, record: Record) -> Any:
        return lambda lead: self.lead_waves(record, lead)
