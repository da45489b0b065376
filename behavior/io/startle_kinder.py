"""Kinder Scientific startle "Reduce" CSV: one row per sample, one column per enclosure.

Example (force in newtons; ``Time(ms)`` relative to pulse onset unless the
protocol's ``amplitude.onset_ms`` says where the pulse starts)::

    Session,TrialNo,TrialIndex,TrialName,Time(ms),Encl 1,Encl 2,Encl 3,Encl 4
    S1,1,1,Startle_120_0,-100,0.012,0.010,0.011,0.013
    S1,1,1,Startle_120_0,-99,0.011,0.012,0.010,0.012
    ...

Each enclosure holds one animal; the subject is ``<Session> Encl <n>`` and the
chamber ``Encl <n>``. Amplitudes come from the waveforms
(:mod:`behavior.startle.amplitude`).
"""

from __future__ import annotations

import re
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

HEADER_KEYS = {"trialno", "trialname", "time(ms)", "encl 1"}
_ENCL = re.compile(r"^encl\s*(\d+)$")


def read_kinder_table(table: TextTable) -> StartleRecording:
    """Parse a decoded Kinder per-sample CSV (see the module docstring)."""
    path = table.path
    frame, names, _ = read_sample_rows(
        table, HEADER_KEYS, "Kinder export: no header with TrialNo, TrialName, Time(ms), Encl 1",
        {"session": str, "trialname": str})
    enclosures = [(n, _ENCL.match(n).group(1)) for n in names if _ENCL.match(n)]
    trial_no = numeric(frame, "trialno", path, label="TrialNo").to_numpy()
    time = numeric(frame, "time(ms)", path, label="Time(ms)").to_numpy()
    bad = ~np.isfinite(trial_no) | ~np.isfinite(time)
    if bad.any():
        i = int(bad.nonzero()[0][0])
        raise InputError(path, "empty TrialNo or Time(ms)", line=int(frame["__line"].iloc[i]))
    codes, position, n, first_row = group_samples(trial_no)
    t2 = samples_matrix(codes, position, time, n)
    session = (
        frame["session"].astype(str).str.strip().to_numpy()[first_row]
        if "session" in frame
        else np.full(n, "")
    )
    names_ = frame["trialname"].astype(str).str.strip().to_numpy()[first_row]
    lines = frame["__line"].to_numpy()[first_row]
    frames, waves = [], []
    for col, k in enclosures:
        values = numeric(frame, col, path, label=f"Encl {k}").to_numpy()
        waves.append(samples_matrix(codes, position, values, n))
        subject = [f"{s or Path(path).stem} Encl {k}" for s in session]
        frames.append(
            trial_frame(
                {
                    SOURCE_FILE: Path(path).name,
                    LINE: lines,
                    SUBJECT: subject,
                    CHAMBER: f"Encl {k}",
                    SESSION: session,
                    TRIAL_NO: trial_no[first_row],
                    TRIAL_NAME: names_,
                },
                n,
            )
        )
    trials = pd.concat(frames, ignore_index=True)
    samples = np.vstack(waves)
    time_ms = np.tile(t2, (len(enclosures), 1))
    return StartleRecording(trials, time_ms=time_ms, samples=samples, layout="kinder")


def from_kinder_file(path: str | Path) -> StartleRecording:
    """Read a Kinder Scientific per-sample startle CSV."""
    return read_kinder_table(open_text_table(path))
