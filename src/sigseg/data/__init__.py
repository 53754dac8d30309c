"""Data: records, readers, datasets (LUDB, QTDB, synthetic), transforms and augmentation."""

from sigseg.data.ludb import load_ludb, load_ludb_record
from sigseg.data.readers import (
    SignalReader,
    open_signal,
    read_csv,
    read_edf,
    read_numpy,
    read_record,
    read_wfdb,
)
from sigseg.data.record import CLASSES, IGNORE_INDEX, WAVE_KINDS, Record, Wave

__all__ = [
    "CLASSES",
    "IGNORE_INDEX",
    "WAVE_KINDS",
    "Record",
    "SignalReader",
    "Wave",
    "load_ludb",
    "load_ludb_record",
    "open_signal",
    "read_csv",
    "read_edf",
    "read_numpy",
    "read_record",
    "read_wfdb",
]
