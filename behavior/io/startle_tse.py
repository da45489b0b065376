"""TSE Startle Response exports: "Export Analog Data" CSV and single-trial segments.

Analog export: metadata rows, then one row per sample (signed accelerometer
value ``ValueG`` every 2 ms; ``MS`` relative to pulse onset unless the protocol's
``amplitude.onset_ms`` says otherwise)::

    TSE Startle Response;Export Analog Data
    Experiment;PPI mice
    Date;12.03.2024

    Animal No.;Weight;Exp. No.;Box;Trial;TrialNo;MS;ValueG
    101;25,3;1;1;Startle_120_0;1;-100;0,0123
    101;25,3;1;1;Startle_120_0;1;-98;-0,0087

Trial segment (one trial per file, as cut by Leon-Kolb/Startle-Response-Analysis):
header ``0,1``, time in ms relative to pulse onset, then the |accelerometer|
value; the subject and trial name come from the file name
(``Animal10_April16_gap_duration_50_Rep3_segment.csv`` -> subject ``Animal10``,
trial ``April16_gap_duration_50_Rep3``)::

    0,1
    -500,0.0463656849583975
    -498,0.2557843516358482
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from behavior.errors import InputError
from behavior.io.startle_table import (
    CHAMBER,
    LINE,
    SESSION,
    SOURCE_FILE,
    SUBJECT,
    TRIAL_NAME,
    TRIAL_NO,
    StartleRecording,
    trial_frame,
)
from behavior.io.startle_text import (
    TextTable,
    group_samples,
    numeric,
    open_text_table,
    read_sample_rows,
    samples_matrix,
)

HEADER_KEYS = {"animal no.", "trialno", "ms", "valueg"}


def read_tse_table(table: TextTable) -> StartleRecording:
    """Parse a decoded TSE analog export (see the module docstring)."""
    path = table.path
    frame, _, _ = read_sample_rows(
        table, HEADER_KEYS, "TSE analog export: no header with Animal No., TrialNo, MS, ValueG",
        {"animal no.": str, "trial": str, "box": str, "exp. no.": str})
    animal = frame["animal no."].astype(str).str.strip()
    trial_no = numeric(frame, "trialno", path, label="TrialNo").to_numpy()
    time = numeric(frame, "ms", path, label="MS").to_numpy()
    value = numeric(frame, "valueg", path, label="ValueG").to_numpy()
    bad = ~np.isfinite(trial_no) | ~np.isfinite(time) | (animal == "").to_numpy()
    if bad.any():
        i = int(bad.nonzero()[0][0])
        raise InputError(path, "empty Animal No., TrialNo or MS", line=int(frame["__line"].iloc[i]))
    keys = pd.MultiIndex.from_arrays([animal.to_numpy(), trial_no])
    codes, position, n, first = group_samples(keys)

    def text(name: str) -> object:
        return frame[name].astype(str).str.strip().to_numpy()[first] if name in frame else ""

    trials = trial_frame(
        {
            SOURCE_FILE: Path(path).name,
            LINE: frame["__line"].to_numpy()[first],
            SUBJECT: animal.to_numpy()[first],
            CHAMBER: text("box"),
            SESSION: text("exp. no."),
            TRIAL_NO: trial_no[first],
            TRIAL_NAME: text("trial"),
        },
        n,
    )
    return StartleRecording(
        trials,
        time_ms=samples_matrix(codes, position, time, n),
        samples=samples_matrix(codes, position, value, n),
        signed=True,
        layout="tse",
    )


def is_tse_segment(table: TextTable) -> bool:
    """True for a two-column segment file with the header ``0,1``."""
    first = next((i for i, line in enumerate(table.lines) if line.strip()), None)
    return first is not None and table.fields(first) == ["0", "1"]


def read_tse_segment_table(table: TextTable) -> StartleRecording:
    """Parse a decoded TSE single-trial segment (see the module docstring)."""
    path = table.path
    if not is_tse_segment(table):
        raise InputError(path, "not a TSE trial segment: the first line is not '0,1'", line=1)
    header = next(i for i, line in enumerate(table.lines) if line.strip())
    table.check_field_counts(header, 2, exact=True)
    frame = table.read(header, names=["t", "v"])
    time = numeric(frame, "t", path, label="time (column 0)").to_numpy()
    value = numeric(frame, "v", path, label="value (column 1)").to_numpy()
    stem = Path(path).stem
    if stem.endswith("_segment"):
        stem = stem[: -len("_segment")]
    subject, _, trial_name = stem.partition("_")
    trials = trial_frame(
        {
            SOURCE_FILE: Path(path).name,
            LINE: header + 2,
            SUBJECT: subject,
            TRIAL_NAME: trial_name or stem,
        },
        1,
    )
    return StartleRecording(
        trials, time_ms=time[None, :], samples=value[None, :], layout="tse-segment"
    )


def from_tse_file(path: str | Path) -> StartleRecording:
    """Read a TSE "Export Analog Data" CSV."""
    return read_tse_table(open_text_table(path))


def from_tse_segment_file(path: str | Path) -> StartleRecording:
    """Read one TSE trial segment (header ``0,1``: time ms, value)."""
    return read_tse_segment_table(open_text_table(path))
