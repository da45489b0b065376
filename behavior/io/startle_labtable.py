"""Lab tables of startle amplitudes: wide (one row per animal) and tidy long.

Wide: an id column (``subject``, ``animal``, ``id``, ``mouse``, ``rat``), optional
``chamber`` (or ``box``) and ``group`` (or ``treatment``, ``genotype``) columns,
then one column per trial *in session order*, named ``<type>.<n>``; other
columns (sex, weight...) are ignored::

    subject,chamber,p120.1,p120.2,pp4.1,nostim.1,p120.3
    M01,1,812.5,790.0,402.1,12.0,760.3

Tidy long: one row per trial, ``subject, trial, trial_type, amplitude[, chamber][, group]``
(``trial`` = trial number in session order)::

    subject,trial,trial_type,amplitude,chamber
    M01,1,p120,812.5,1

Empty cells are missing trials and are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from behavior.errors import InputError
from behavior.io.startle_table import (
    AMPLITUDE,
    CHAMBER,
    GROUP,
    LINE,
    SOURCE_FILE,
    SUBJECT,
    TRIAL_NAME,
    TRIAL_NO,
    StartleRecording,
    trial_frame,
)
from behavior.io.startle_text import (
    TextTable,
    column_key,
    find_header,
    header_names,
    numeric,
    open_text_table,
)

ID_KEYS = ("subject", "animal", "animal id", "subject id", "id", "mouse", "rat", "animal no.")
GROUP_KEYS = ("group", "treatment", "genotype")
CHAMBER_KEYS = ("chamber", "box", "chamber id", "enclosure", "encl")
LONG_KEYS = {"subject", "trial", "trial type", "amplitude"}
TRIAL_COLUMN = re.compile(r"^[a-z][a-z0-9 -]*\.\d+$")


def _wide_header(table: TextTable) -> tuple[int, list[str], list[str]] | None:
    for i in range(min(20, len(table.lines))):
        if not table.lines[i].strip():
            continue
        fields = table.fields(i)
        keys = [column_key(f) for f in fields]
        if any(k in ID_KEYS for k in keys) and sum(bool(TRIAL_COLUMN.match(k)) for k in keys) >= 2:
            return i, keys, fields
    return None


def is_wide(table: TextTable) -> bool:
    return _wide_header(table) is not None


def is_long(table: TextTable) -> bool:
    return find_header(table, LONG_KEYS, max_lines=20) is not None


def read_wide_table(table: TextTable) -> StartleRecording:
    """Parse a decoded wide lab table (see the module docstring)."""
    path = table.path
    found = _wide_header(table)
    if found is None:
        raise InputError(
            path, "not a wide lab table: no id column with trial columns like 'p120.1'", line=1
        )
    header, keys, fields = found
    table.check_field_counts(header, len(keys), exact=True)
    names = [f"c{i}" for i in range(len(keys))]
    id_col = next(names[i] for i, k in enumerate(keys) if k in ID_KEYS)
    ch = next((names[i] for i, k in enumerate(keys) if k in CHAMBER_KEYS), None)
    gr = next((names[i] for i, k in enumerate(keys) if k in GROUP_KEYS), None)
    frame = table.read(header, names=names, dtype={c: str for c in (id_col, ch, gr) if c})
    trial_cols = [(names[i], fields[i]) for i, k in enumerate(keys) if TRIAL_COLUMN.match(k)]
    values = np.column_stack([numeric(frame, c, path, label=k).to_numpy() for c, k in trial_cols])
    n_animals, n_trials = values.shape
    subject = frame[id_col].astype(str).str.strip().to_numpy()
    if (subject == "").any() or (subject == "nan").any():
        i = int(((subject == "") | (subject == "nan")).nonzero()[0][0])
        raise InputError(path, "empty subject id", line=int(frame["__line"].iloc[i]))
    trial_names = np.array([k.rsplit(".", 1)[0] for _, k in trial_cols], dtype=object)
    chamber = frame[ch].astype(str).str.strip().to_numpy() if ch else np.full(n_animals, "")
    group = frame[gr].astype(str).str.strip().to_numpy() if gr else np.full(n_animals, "")
    flat = values.ravel()
    keep = np.isfinite(flat)
    trials = trial_frame(
        {
            SOURCE_FILE: Path(path).name,
            LINE: np.repeat(frame["__line"].to_numpy(), n_trials)[keep],
            SUBJECT: np.repeat(subject, n_trials)[keep],
            CHAMBER: np.repeat(chamber, n_trials)[keep],
            GROUP: np.repeat(group, n_trials)[keep],
            TRIAL_NO: np.tile(np.arange(1, n_trials + 1, dtype=float), n_animals)[keep],
            TRIAL_NAME: np.tile(trial_names, n_animals)[keep],
            AMPLITUDE: flat[keep],
        },
        int(keep.sum()),
    )
    return StartleRecording(trials, layout="wide")


def read_long_table(table: TextTable) -> StartleRecording:
    """Parse a decoded tidy long lab table (see the module docstring)."""
    path = table.path
    header = find_header(table, LONG_KEYS, max_lines=20)
    if header is None:
        raise InputError(
            path,
            "not a long lab table: no header with subject, trial, trial_type, amplitude",
            line=1,
        )
    keys = header_names(table, header)
    table.check_field_counts(header, len(keys), exact=True)
    text = {"subject": str, "trial type": str, **{k: str for k in (*CHAMBER_KEYS, *GROUP_KEYS)}}
    frame = table.read(header, names=keys, dtype=text)
    amplitude = numeric(frame, "amplitude", path).to_numpy()
    trial_no = numeric(frame, "trial", path).to_numpy()
    keep = np.isfinite(amplitude)

    def optional(choices: tuple[str, ...]) -> object:
        name = next((k for k in keys if k in choices), None)
        return frame[name].astype(str).str.strip().to_numpy()[keep] if name else ""

    trials = trial_frame(
        {
            SOURCE_FILE: Path(path).name,
            LINE: frame["__line"].to_numpy()[keep],
            SUBJECT: frame["subject"].astype(str).str.strip().to_numpy()[keep],
            CHAMBER: optional(CHAMBER_KEYS),
            GROUP: optional(GROUP_KEYS),
            TRIAL_NO: trial_no[keep],
            TRIAL_NAME: frame["trial type"].astype(str).str.strip().to_numpy()[keep],
            AMPLITUDE: amplitude[keep],
        },
        int(keep.sum()),
    )
    return StartleRecording(trials, layout="long")


def from_wide_file(path: str | Path) -> StartleRecording:
    """Read a wide lab table (one row per animal, one column per trial)."""
    return read_wide_table(open_text_table(path))


def from_long_file(path: str | Path) -> StartleRecording:
    """Read a tidy long lab table (one row per trial)."""
    return read_long_table(open_text_table(path))
