"""Data: records, readers, event tables, datasets (any folder or manifest, LUDB, QTDB,
synthetic), transforms and augmentation.

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
from sigseg.data.dataset import SegDataset, open_dataset
from sigseg.data.events import (
    events_frame,
    events_to_labels,
    read_edf_events,
    read_events_tsv,
    read_wfdb_events,
    write_events_tsv,
)
from sigseg.data.fetch import DATABASES, FetchResult, fetch_database
from sigseg.data.ludb import load_ludb, load_ludb_record, ludb_split, split_leads
from sigseg.data.qtdb import load_qtdb, qtdb_annotated_regions, read_qtdb_record
from sigseg.data.readers import (
    SignalReader,
    open_signal,
    read_csv,
    read_edf,
    read_label_column,
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
    "SegDataset",
    "SignalReader",
    "SyntheticConfig",
    "TimeStretch",
    "Wave",
    "crop_record",
    "events_frame",
    "events_to_labels",
    "fetch_database",
    "load_ludb",
    "load_ludb_record",
    "load_qtdb",
    "ludb_split",
    "open_dataset",
    "open_signal",
    "qtdb_annotated_regions",
    "read_csv",
    "read_edf",
    "read_edf_events",
    "read_events_tsv",
    "read_label_column",
    "read_numpy",
    "read_qtdb_record",
    "read_record",
    "read_wfdb",
    "read_wfdb_events",
    "resample_record",
    "split_leads",
    "synthesize_ecg",
    "synthetic_records",
    "write_events_tsv",
    "write_synthetic_wfdb",
]
