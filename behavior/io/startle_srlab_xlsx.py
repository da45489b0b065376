"""SR-LAB family .xlsx export: underscore headers, one sheet per test phase.

The same underscore header saved as text (e.g. CSV from a European-locale Excel:
UTF-16, ``;``, decimal commas) is read by :func:`behavior.io.startle_srlab.read_srlab_table`
with :func:`underscore_trials`, the same code as each sheet here.

Example sheet ``PPI`` (first row is the header)::

    Trial_Num | Trial_ID           | Channel_ID | Chamber_ID | Subject_ID | Session_ID | Group_ID | Param | Trial_List_Block | Samples | Rate | V_Start | mV_Max | T_Max | mV_Avg | Run_Time | TimeStampPT
    1         | Startle 120 dB Trial | 1        | 1          | M01        | 1          | A        | 0     | 1                | 200     | 1000 | 2.1     | 812.5  | 24    | 140.2  | ...

Sheets are read in workbook order; trial numbers of a later sheet continue
after the last trial of the earlier sheets (per subject), so blocks in the
protocol count trials over the whole session. ``phase`` holds the sheet name.
"""  # noqa: E501

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from behavior.errors import InputError
from behavior.io.startle_table import (
    BASELINE,
    CHAMBER,
    GROUP,
    LATENCY_MS,
    LINE,
    PHASE,
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
from behavior.io.startle_text import column_key, numeric

HEADER_KEYS = {"trial num", "trial id", "subject id", "mv max"}


def read_sheets(path: str | Path) -> dict[str, pd.DataFrame]:
    """Every sheet of a workbook as raw cells (no header, objects), by sheet name."""
    try:
        return pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="openpyxl")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise InputError(
            path, f"cannot open as an .xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None


def _header_row(raw: pd.DataFrame) -> int | None:
    for r in range(min(20, len(raw))):
        keys = {column_key(v) for v in raw.iloc[r].tolist() if isinstance(v, str)}
        if HEADER_KEYS <= keys:
            return r
    return None


def is_srlab_workbook(sheets: dict[str, pd.DataFrame]) -> bool:
    """True when some sheet has the SR-LAB underscore header."""
    return any(_header_row(raw.dropna(how="all")) is not None for raw in sheets.values())


def underscore_trials(body: pd.DataFrame, path: str | Path, where: str, phase: str
                      ) -> pd.DataFrame:
    """Per-trial table from rows under an underscore header, in a workbook sheet or a text file.

    ``body``: one row per trial, columns named by :func:`column_key` of the header
    (``"subject id"``, ``"mv max"``...), values as text or numbers (decimal commas
    allowed), and ``__line`` (the row's line or spreadsheet row); ``where`` names
    the file (and sheet) in errors.
    """

    def num(name: str) -> object:
        return numeric(body, name, where, label=name) if name in body else np.nan

    def text(name: str) -> object:
        return (
            body[name].astype(str).str.strip().replace({"nan": "", "None": ""})
            if name in body
            else ""
        )

    trials = trial_frame(
        {
            SOURCE_FILE: Path(path).name,
            LINE: body["__line"].to_numpy(),
            PHASE: phase,
            CHAMBER: text("chamber id"),
            SUBJECT: text("subject id"),
            SESSION: text("session id"),
            GROUP: text("group id"),
            TRIAL_NAME: text("trial id"),
            TRIAL_NO: num("trial num"),
            VMAX: num("mv max"),
            VAVG: num("mv avg"),
            LATENCY_MS: num("t max"),
            BASELINE: num("v start"),
        },
        len(body),
    )
    empty = (trials[SUBJECT] == "").to_numpy().nonzero()[0]
    if empty.size:
        raise InputError(where, "empty Subject_ID", line=int(trials[LINE].iloc[int(empty[0])]))
    return trials


def from_srlab_xlsx(
    path: str | Path, sheets: dict[str, pd.DataFrame] | None = None
) -> StartleRecording:
    """Read every sheet of an SR-LAB .xlsx export into one recording."""
    if sheets is None:
        sheets = read_sheets(path)
    frames = []
    offset: dict[str, float] = {}
    for sheet, raw in sheets.items():
        raw = raw.dropna(how="all")
        if raw.empty:
            continue
        header_row = _header_row(raw)
        if header_row is None:
            raise InputError(
                path, f"sheet '{sheet}': no header row with Trial_Num, Trial_ID, Subject_ID, mV_Max"
            )
        names = [
            column_key(v) if isinstance(v, str) else f"col{i}"
            for i, v in enumerate(raw.iloc[header_row])
        ]
        body = raw.iloc[header_row + 1 :].copy()
        body.columns = names
        body["__line"] = body.index.to_numpy() + 1  # spreadsheet row (1-based)
        where = f"{Path(path).name} [{sheet}]"
        trial = underscore_trials(body, path, where, str(sheet))
        # Numbering restarts on a new sheet: continue after the subject's earlier trials.
        first = trial.groupby(SUBJECT)[TRIAL_NO].transform("min")
        prev = trial[SUBJECT].map(offset).fillna(0.0)
        shift = prev.where(first <= prev, 0.0)
        trial[TRIAL_NO] = trial[TRIAL_NO] + shift.to_numpy()
        for subject, last in trial.groupby(SUBJECT)[TRIAL_NO].max().items():
            offset[subject] = float(last)
        frames.append(trial)
    if not frames:
        raise InputError(path, "the workbook has no data rows")
    trials = pd.concat(frames, ignore_index=True)
    return StartleRecording(trials, layout="srlab-xlsx")
