"""Data: records, readers, datasets (LUDB, QTDB, synthetic), transforms and augmentation.

Importing this package reads no files and touches no network; ``wfdb`` and ``pyedflib`` are
imported when a reader first needs them.
"""

from sigseg.data.augment import (
    AmplitudeScale,
    BaselineWander,
    GaussianNoise,
    LeadInversion,
    RandomApply,
    TimeStretch,
)
from sigseg.data.fetch import DATABASES, FetchResult, fetch_database
from sigseg.data.ludb import load_ludb, load_ludb_record, ludb_split, split_leads
from sigseg.data.qtdb import load_qtdb, qtdb_annotated_regions, read_qtdb_record
from sigseg.data.readers import (
    SignalReader,
    open_signal,
    read_csv,
    read_edf,
    read_numpy,
    read_record,
    read_wfdb,
)
from sigseg.data.record import IGNORE_INDEX, Record, Wave
from sigseg.data.synthetic import (
    SyntheticConfig,
    synthesize_ecg,
    synthetic_records,
    write_synthetic_wfdb,
)
from sigseg.data.transforms import (
    Bandpass,
    Compose,
    Normalize,
    Preprocessing,
    RandomCrop,
    Resample,
    crop_record,
    resample_record,
)
from sigseg.tasks.ecg import CLASSES, WAVE_KINDS

__all__ = [
    "CLASSES",
    "DATABASES",
    "IGNORE_INDEX",
    "WAVE_KINDS",
    "AmplitudeScale",
    "Bandpass",
    "BaselineWander",
    "Compose",
    "FetchResult",
    "GaussianNoise",
    "LeadInversion",
    "Normalize",
    "Preprocessing",
    "RandomApply",
    "RandomCrop",
    "Record",
    "Resample",
    "SignalReader",
    "SyntheticConfig",
    "TimeStretch",
    "Wave",
    "crop_record",
    "fetch_database",
    "load_ludb",
    "load_ludb_record",
    "load_qtdb",
    "ludb_split",
    "open_signal",
    "qtdb_annotated_regions",
    "read_csv",
    "read_edf",
    "read_numpy",
    "read_qtdb_record",
    "read_record",
    "read_wfdb",
    "resample_record",
    "split_leads",
    "synthesize_ecg",
    "synthetic_records",
    "write_synthetic_wfdb",
]
