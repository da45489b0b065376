"""SR-LAB style 20-column per-trial export (CSV, with or without a header row).

Example (header optional; ``Run Data`` empty or holding the waveform as the
remaining fields, ``Samples`` values at ``Rate`` Hz from pulse onset)::

    Chamber,Subject,Session,Channel,Trial,Trial Num,Group,Param,Trial List Block,Samples,Rate,V Start,mV Max,T Max,mV Avg,V Peak,T Peak,Run Time,TimeStamp,Run Data
    1,M01,1,1,Startle_120_0,1,A,0,1,200,1000,2.1,812.5,24,140.2,812.5,24,12/12/2018 2:25:45 PM,1544624745,
    1,M01,1,1,PPI_120_70,2,A,0,1,200,1000,1.9,402.0,27,80.1,402.0,27,12/12/2018 2:26:01 PM,1544624761,

The underscore header of the .xlsx export (``Trial_Num, Trial_ID, Chamber_ID,
Subject_ID, ..., mV_Max``) is read too when the sheet was saved as text (any
encoding, ``;`` separators, decimal commas), by :func:`read_underscore_table`.

The trial type is only in the trial name (``Trial``): ``NoStim_0_0``,
``Startle_120_0``, ``PPI_120_70`` (type, pulse dB, prepulse dB). ``mV Max``,
``mV Avg``, ``T Max`` (ms) and ``V Start`` become ``vmax``, ``vavg``,
``latency_ms`` and ``baseline``; when ``Run Data`` holds samples they are
measured again from the waveform instead (:mod:`behavior.startle.amplitude`).
"""  # noqa: E501

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from behavior.errors import InputError
from behavior.io.startle_srlab_xlsx import HEADER_KEYS as UNDERSCORE_KEYS
from behavior.io.startle_srlab_xlsx import underscore_trials
from behavior.io.startle_table import (
    BASELINE,
    CHAMBER,
    GROUP,
    LATENCY_MS,
    LINE,
    SESSION,
    SOURCE_FILE,
    SUBJECT,
    TRIAL_NAME,
    TRIAL_NO,
    VAVG,
    VMAX,
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

#: The 20 columns, in file order.
SRLAB_COLUMNS = (
    "Chamber", "Subject", "Session", "Channel", "Trial", "Trial Num", "Group", "Param",
    "Trial List Block", "Samples", "Rate", "V Start", "mV Max", "T Max", "mV Avg",
    "V Peak", "T Peak", "Run Time", "TimeStamp", "Run Data",
)  # fmt: skip
HEADER_KEYS = {"subject", "trial num", "mv max"}
_NUMBER = re.compile(r"^\s*-?\d+(?:[.,]\d+)?\s*$")


def looks_headerless(table: TextTable) -> bool:
    """True when the first line is an SR-LAB data row (>= 19 fields, numbers where expected)."""
    first = next((i for i, line in enumerate(table.lines) if line.strip()), None)
    if first is None:
        return False
    f = table.fields(first)
    return len(f) >= 19 and all(_NUMBER.match(f[i] or "x") for i in (5, 9, 10, 12))


def has_srlab_header(table: TextTable) -> bool:
    """True for an SR-LAB export: its header (spaces or underscores) or a 20-column data row."""
    return (find_header(table, HEADER_KEYS) is not None
            or find_header(table, UNDERSCORE_KEYS) is not None or looks_headerless(table))


def read_underscore_table(table: TextTable) -> StartleRecording:
    """Parse SR-LAB rows under the underscore header (``Chamber_ID;Subject_ID;...;mV_Max``,
    the .xlsx export's columns) saved as text: any encoding, ``,`` or ``;``, decimal commas."""
    header = find_header(table, UNDERSCORE_KEYS)
    if header is None:
        raise InputError(table.path, "no header with Trial_Num, Trial_ID, Subject_ID, mV_Max",
                         line=1)
    names = header_names(table, header)
    table.check_field_counts(header, len(names), exact=True)
    body = table.read(header, names=names, dtype=str)
    if body.empty:
        raise InputError(table.path, "no trials after the header", line=header + 2)
    trials = underscore_trials(body, table.path, table.path, "")
    return StartleRecording(trials, layout="srlab")


def read_srlab_table(table: TextTable) -> StartleRecording:
    """Parse a decoded SR-LAB per-trial export (see the module docstring)."""
    path = table.path
    header = find_header(table, HEADER_KEYS)
    if header is None and find_header(table, UNDERSCORE_KEYS) is not None:
        return read_underscore_table(table)
    if header is None and not looks_headerless(table):
        raise InputError(
            path,
            "not an SR-LAB per-trial export: no header with Subject, Trial Num, mV Max "
            "(or Subject_ID, Trial_Num, Trial_ID, mV_Max) and no 20-column data row",
            line=1,
        )
    positions = {column_key(name): i for i, name in enumerate(SRLAB_COLUMNS)}
    if header is not None:
        found = {column_key(n): i for i, n in enumerate(table.fields(header)) if n}
        positions = {k: found.get(k, -1) for k in positions}
    start = 0 if header is None else header + 1
    widths = [line.count(table.sep) + 1 for line in table.lines[start:] if line.strip()]
    if not widths:
        raise InputError(path, "no trials after the header", line=start + 1)
    needed = max(i for k, i in positions.items() if k != "run data") + 1
    table.check_field_counts(header, 20, minimum=needed)
    text_positions = [
        positions.get(column_key(n), -1)
        for n in ("Chamber", "Subject", "Session", "Group", "Trial")
    ]
    frame = table.read(
        header, names=list(range(max(widths))), dtype={i: str for i in text_positions if i >= 0}
    )

    def col(name: str):
        i = positions.get(column_key(name), -1)
        return frame[i] if i >= 0 else None

    def num(name: str):
        i = positions.get(column_key(name), -1)
        return numeric(frame, i, path, label=name) if i >= 0 else np.nan

    columns = {
        SOURCE_FILE: Path(path).name,
        LINE: frame["__line"].to_numpy(),
        CHAMBER: col("Chamber"),
        SUBJECT: col("Subject"),
        SESSION: col("Session"),
        GROUP: col("Group"),
        TRIAL_NAME: col("Trial"),
        TRIAL_NO: num("Trial Num"),
        VMAX: num("mV Max"),
        VAVG: num("mV Avg"),
        LATENCY_MS: num("T Max"),
        BASELINE: num("V Start"),
    }
    trials = trial_frame(
        {k: (v.astype(str).str.strip() if hasattr(v, "str") else v) for k, v in columns.items()},
        len(frame),
    )
    if (trials[SUBJECT] == "").any():
        i = int((trials[SUBJECT] == "").to_numpy().nonzero()[0][0])
        raise InputError(path, "empty Subject", line=int(trials[LINE].iloc[i]))

    run = positions.get("run data", -1)
    time_ms = samples = None
    if run >= 0 and frame.shape[1] - 1 > run:
        block = frame.iloc[:, run : frame.shape[1] - 1].dropna(axis=1, how="all")
        if block.shape[1] == 1 and block.iloc[:, 0].dtype.kind not in "fiu":
            # Run Data as one (quoted) field of numbers
            splitter = r"[\s,;]+" if table.decimal == "." else r"[\s;]+"
            parts = (
                block.iloc[:, 0].fillna("").astype(str).str.strip().str.split(splitter, regex=True)
            )
            parts = parts.map(lambda p: [x for x in p if x])
            width = int(parts.map(len).max() or 0)
            values = np.full((len(frame), width), np.nan)
            for r, p in enumerate(parts):
                if p:
                    values[r, : len(p)] = [float(x.replace(",", ".")) for x in p]
        else:
            values = (
                np.column_stack(
                    [numeric(frame, c, path, label="Run Data").to_numpy() for c in block.columns]
                )
                if block.shape[1]
                else np.empty((len(frame), 0))
            )
        if np.isfinite(values).any():
            rate = num("Rate")
            rate = (
                np.where(np.isfinite(rate) & (rate > 0), rate, 1000.0)
                if np.ndim(rate)
                else np.full(len(frame), 1000.0)
            )
            n = num("Samples")
            idx = np.arange(values.shape[1])
            if np.ndim(n):
                limit = np.where(np.isfinite(n), n, values.shape[1])
                values = np.where(idx[None, :] < limit[:, None], values, np.nan)
            time_ms = idx[None, :] * (1000.0 / rate[:, None])
            time_ms = np.where(np.isfinite(values), time_ms, np.nan)
            samples = values
    return StartleRecording(trials, time_ms=time_ms, samples=samples, layout="srlab")


def from_srlab_file(path: str | Path) -> StartleRecording:
    """Read an SR-LAB 20-column per-trial CSV export (any encoding, with or without header)."""
    return read_srlab_table(open_text_table(path))
