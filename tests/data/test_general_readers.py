"""Readers for any signal: WAV/FLAC, channel selection in every format, mixed-rate EDF files and
per-sample label columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyedflib
import pytest
import soundfile
import wfdb

from sigseg.data.readers import (
    csv_columns,
    open_signal,
    read_label_column,
    read_record,
    select_channels,
    signal_format,
)

FS = 200


@pytest.fixture
def pcg() -> np.ndarray:
    """Three channels of 2 s heart-sound-like bursts in [-0.5, 0.5], ``(C, L)``."""
    rng = np.random.default_rng(1)
    t = np.arange(2 * FS) / FS
    bursts = np.sin(2 * np.pi * 40 * t) * (np.sin(2 * np.pi * 1.2 * t) > 0.8)
    x = np.stack([bursts, 0.5 * bursts, rng.uniform(-1, 1, t.size)]) * 0.5
    return x.astype(np.float32)


def write_edf_mixed(path: Path) -> Path:
    """A PSG-like EDF+: two EEG channels at 100 Hz, respiration at 1 Hz, 30 s."""
    rates = {"EEG Fpz-Cz": 100, "EEG Pz-Oz": 100, "Resp oro-nasal": 1}
    writer = pyedflib.EdfWriter(str(path), len(rates), file_type=pyedflib.FILETYPE_EDFPLUS)
    writer.setSignalHeaders(
        [
            {
                "label": label,
                "dimension": "uV",
                "sample_frequency": fs,
                "physical_min": -500.0,
                "physical_max": 500.0,
                "digital_min": -32768,
                "digital_max": 32767,
                "transducer": "",
                "prefilter": "",
            }
            for label, fs in rates.items()
        ]
    )
    t100, t1 = np.arange(3000) / 100, np.arange(30.0)
    writer.writeSamples(
        [100 * np.sin(2 * np.pi * t100), 50 * np.cos(2 * np.pi * t100), 10 * np.sin(t1)]
    )
    writer.close()
    return path


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_audio_round_trip_range_reads_and_channels(
    suffix: str, pcg: np.ndarray, tmp_path: Path
) -> None:
    path = tmp_path / f"heart{suffix}"
    soundfile.write(path, pcg.T, FS, subtype="PCM_24")
    assert signal_format(path) == "audio"
    record = read_record(path)
    assert record.fs == FS and record.channels == ["ch0", "ch1", "ch2"]
    np.testing.assert_allclose(record.signal, pcg, atol=1e-6)
    with open_signal(path, channels=["ch2", 0]) as reader:
        assert reader.channels == ["ch2", "ch0"] and reader.num_samples == 2 * FS
        np.testing.assert_allclose(reader.read(37, 151), pcg[[2, 0], 37:151], atol=1e-6)
        np.testing.assert_allclose(reader.read(390, 999), pcg[[2, 0], 390:], atol=1e-6)
    assert read_record(path, fs=FS).fs == FS  # a matching --fs is a check, not a change
    with pytest.raises(ValueError, match=rf"heart{suffix}: fs=100 given but the file says 200"):
        read_record(path, fs=100)
    with pytest.raises(
        ValueError, match=r"no channel\(s\) \['ch3'\]; it has \['ch0', 'ch1', 'ch2'\]"
    ):
        read_record(path, channels=["ch3"])


def test_unreadable_audio(tmp_path: Path) -> None:
    (tmp_path / "junk.wav").write_bytes(b"RIFF....WAVE" + b"\0" * 40)
    with pytest.raises(ValueError, match=r"junk\.wav: not a readable audio file"):
        read_record(tmp_path / "junk.wav")


def _write(fmt: str, path: Path, x: np.ndarray) -> Path:
    names = ["ii", "v5", "pcg"]
    if fmt == "wfdb":
        wfdb.wrsamp(
            path.name,
            fs=FS,
            units=["mV"] * 3,
            sig_name=names,
            p_signal=x.T.astype(np.float64),
            fmt=["16"] * 3,
            adc_gain=[10000] * 3,
            baseline=[0] * 3,
            write_dir=str(path.parent),
        )
        return path
    if fmt == "csv":
        np.savetxt(path, x.T, delimiter=",", header=",".join(names), comments="", fmt="%.9g")
    elif fmt == "npy":
        np.save(path, x)
    else:
        np.savez(path, signal=x, fs=FS, channels=np.array(names))
    return path


@pytest.mark.parametrize(("fmt", "suffix"), [("wfdb", ""), ("csv", ".csv"), ("npz", ".npz")])
def test_channels_by_name_or_index_in_every_format(
    fmt: str, suffix: str, pcg: np.ndarray, tmp_path: Path
) -> None:
    path = _write(fmt, tmp_path / f"rec{suffix}", pcg)
    record = read_record(path, fs=FS, channels=["pcg", 0])  # fs: the CSV stores none
    assert record.channels == ["pcg", "ii"]
    np.testing.assert_allclose(record.signal, pcg[[2, 0]], atol=1e-4)
    with open_signal(path, FS, channels=[1]) as reader:
        assert reader.channels == ["v5"]
        np.testing.assert_allclose(reader.read(10, 20), pcg[[1], 10:20], atol=1e-4)
    with pytest.raises(
        ValueError, match=r"no channel\(s\) \['V7', 9\]; it has \['ii', 'v5', 'pcg'\]"
    ):
        read_record(path, fs=FS, channels=["V7", 9])


def test_npy_channels_by_index(pcg: np.ndarray, tmp_path: Path) -> None:
    path = _write("npy", tmp_path / "rec.npy", pcg)
    record = read_record(path, fs=FS, channels=[2, 1])
    assert record.channels == ["ch2", "ch1"]
    np.testing.assert_array_equal(record.signal, pcg[[2, 1]])


def test_select_channels_rules() -> None:
    available = ["EEG", "EOG", "EMG"]
    assert select_channels(Path("x"), available, None) == [0, 1, 2]
    assert select_channels(Path("x"), available, "EOG") == [1]
    with pytest.raises(ValueError, match="x: a channel is selected twice"):
        select_channels(Path("x"), available, ["EEG", 0])
    with pytest.raises(ValueError, match="x: no channels selected"):
        select_channels(Path("x"), available, [])


def test_mixed_rate_edf(tmp_path: Path) -> None:
    path = write_edf_mixed(tmp_path / "psg.edf")
    eeg = read_record(path, channels=["EEG Pz-Oz", "EEG Fpz-Cz"])
    assert eeg.fs == 100 and eeg.channels == ["EEG Pz-Oz", "EEG Fpz-Cz"]
    assert eeg.signal.shape == (2, 3000)
    np.testing.assert_allclose(
        eeg.signal[1, :100], 100 * np.sin(2 * np.pi * np.arange(100) / 100), atol=0.05
    )
    resp = read_record(path, channels=[2])
    assert resp.fs == 1 and resp.channels == ["Resp oro-nasal"] and resp.signal.shape == (1, 30)
    with pytest.raises(
        ValueError,
        match=r"psg\.edf: channels have different sampling rates \(100 Hz: EEG Fpz-Cz, "
        r"EEG Pz-Oz; 1 Hz: Resp oro-nasal\); select channels of one rate$",
    ):
        read_record(path)
    with pytest.raises(
        ValueError, match=r"psg\.edf: .*\(100 Hz: EEG Fpz-Cz; 1 Hz: Resp oro-nasal\); select one"
    ):
        read_record(path, channels=["EEG Fpz-Cz", "Resp oro-nasal"])
    with pytest.raises(ValueError, match=r"psg\.edf: no channel\(s\) \['EOG'\]; it has \['EEG"):
        read_record(path, channels=["EOG"])
    with pytest.raises(ValueError, match=r"psg\.edf: fs=250 given but the file says 100 Hz"):
        open_signal(path, fs=250, channels=[0])


def test_label_column(tmp_path: Path) -> None:
    path = tmp_path / "gaze.tsv"
    path.write_text(
        "time\tx\ty\tlabel\n"
        "0.00\t1.0\t5.0\tfixation\n"
        "0.01\t1.1\t5.0\tfixation\n"
        "0.02\t3.0\t6.0\t\n"
        "0.03\t6.0\t7.0\tn/a\n"
        "0.04\t9.0\t8.0\t2.0\n"
        "0.05\t9.1\t8.0\t2\n"
    )
    record = read_record(path)
    assert record.channels == ["x", "y"] and record.fs == pytest.approx(100)
    np.testing.assert_allclose(record.signal[0], [1.0, 1.1, 3.0, 6.0, 9.0, 9.1])
    assert read_label_column(path).tolist() == ["fixation", "fixation", "", "", "2", "2"]
    assert csv_columns(path) == ["time", "x", "y", "label"]
    with pytest.raises(ValueError, match=r"gaze\.tsv: no label column 'stage' \(columns: time, x"):
        read_label_column(path, "stage")


def test_a_named_label_column_is_not_a_channel(tmp_path: Path) -> None:
    path = tmp_path / "imu.csv"
    path.write_text("acc_x,acc_y,activity\n0.1,0.2,walk\n0.3,0.4,walk\n0.5,0.6,run\n")
    with pytest.raises(ValueError, match=r"imu\.csv: non-numeric or ragged data \(line 2"):
        read_record(path, fs=50)  # "activity" is not the default label column
    with open_signal(path, fs=50, label_column="activity") as reader:
        assert reader.channels == ["acc_x", "acc_y"]
    assert read_label_column(path, "activity").tolist() == ["walk", "walk", "run"]
    headerless = tmp_path / "plain.csv"
    headerless.write_text("1,2\n3,4\n")
    with pytest.raises(ValueError, match=r"plain\.csv: no label column 'label' \(no header row\)"):
        read_label_column(headerless)


def test_short_label_row_and_time_column_rate_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("time,x,label\n0,1,a\n0.5,2\n")
    with pytest.raises(ValueError, match=r"s\.csv: line 3 has 2 cells, the header 3"):
        read_label_column(path)
    timed = tmp_path / "t.csv"
    timed.write_text("time,x\n" + "".join(f"{i * 0.004:.3f},{i}\n" for i in range(20)))
    assert read_record(timed).fs == pytest.approx(250)
    assert read_record(timed, fs=250).fs == 250
    with pytest.raises(ValueError, match=r"t\.csv: fs=500 given but the time column says 250 Hz"):
        read_record(timed, fs=500)
