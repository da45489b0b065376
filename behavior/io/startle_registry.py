"""Pick the startle reader from the file's columns (or by name) and read many files.

Layouts (``format``): ``srlab`` (20-column per-trial CSV, with or without
header, or the workbook's underscore header saved as text), ``srlab-xlsx``,
``kinder``, ``tse``, ``tse-segment``, ``wide`` and
``long`` (lab tables). ``auto`` detects the layout from the set of columns,
not from the vendor or the file name. A workbook (.xlsx) is read as SR-LAB when
a sheet has its underscore header; otherwise each sheet is read as a lab table
(``wide`` or ``long``), the sheet name going to ``phase``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from behavior.errors import InputError
from behavior.io import startle_kinder, startle_labtable, startle_srlab, startle_tse
from behavior.io.startle_layouts import LAYOUTS
from behavior.io.startle_srlab_xlsx import from_srlab_xlsx, is_srlab_workbook, read_sheets
from behavior.io.startle_table import StartleRecording
from behavior.io.startle_text import TextTable, find_header, open_text_table

TableReader = Callable[[TextTable], StartleRecording]

#: Text layouts, in detection order, with a test on the decoded file.
TEXT_LAYOUTS: dict[str, tuple[TableReader, Callable[[TextTable], bool]]] = {
    "tse": (
        startle_tse.read_tse_table,
        lambda t: find_header(t, startle_tse.HEADER_KEYS) is not None,
    ),
    "kinder": (
        startle_kinder.read_kinder_table,
        lambda t: find_header(t, startle_kinder.HEADER_KEYS) is not None,
    ),
    "srlab": (startle_srlab.read_srlab_table, startle_srlab.has_srlab_header),
    "long": (startle_labtable.read_long_table, startle_labtable.is_long),
    "wide": (startle_labtable.read_wide_table, startle_labtable.is_wide),
    "tse-segment": (startle_tse.read_tse_segment_table, startle_tse.is_tse_segment),
}
XLSX_SUFFIXES = (".xlsx", ".xlsm")
if LAYOUTS != ("auto", *TEXT_LAYOUTS, "srlab-xlsx"):  # pragma: no cover - a coding error
    raise ImportError("behavior.io.startle_layouts.LAYOUTS does not match TEXT_LAYOUTS")


def detect_layout(table: TextTable) -> str:
    """Name of the first text layout whose columns the file has."""
    for name, (_, test) in TEXT_LAYOUTS.items():
        if test(table):
            return name
    first = next((line for line in table.lines if line.strip()), "")
    raise InputError(
        table.path,
        f"unknown startle file layout (first line: {first[:80]!r}); expected one of "
        f"{', '.join(LAYOUTS[1:])} -- see docs/startle.md, or name the format",
        line=1,
    )


def _read_workbook(path: Path, layout: str) -> StartleRecording:
    """SR-LAB workbook, or lab tables kept in Excel (each sheet read as a text table)."""
    sheets = read_sheets(path)
    if layout == "srlab-xlsx" or (layout == "auto" and is_srlab_workbook(sheets)):
        return from_srlab_xlsx(path, sheets)
    frames = []
    for sheet, raw in sheets.items():
        if raw.dropna(how="all").empty:
            continue
        text = raw.to_csv(header=False, index=False, lineterminator="\n")
        table = TextTable(str(path), text.splitlines(), ",", ".", "xlsx")
        try:
            name = detect_layout(table) if layout == "auto" else layout
            if name not in ("wide", "long"):
                raise InputError(
                    path, f"a {name} layout in a workbook is not supported: export it as CSV"
                )
            recording = TEXT_LAYOUTS[name][0](table)
        except InputError as exc:
            raise InputError(path, f"sheet '{sheet}': {exc.problem}", line=exc.line) from None
        frames.append(recording.trials.assign(phase=str(sheet)))
    if not frames:
        raise InputError(path, "the workbook has no data rows")
    return StartleRecording(pd.concat(frames, ignore_index=True), layout="workbook")


def read_startle_file(path: str | Path, layout: str = "auto") -> StartleRecording:
    """Read one startle file with the named reader, or the detected one.

    Raises
    ------
    InputError
        File missing, unreadable, of unknown layout, or broken (names the line).
    """
    if layout not in LAYOUTS:
        raise InputError(path, f"unknown format '{layout}'; expected one of {', '.join(LAYOUTS)}")
    path = Path(path)
    if layout == "srlab-xlsx" or path.suffix.lower() in XLSX_SUFFIXES:
        return _read_workbook(path, layout)
    table = open_text_table(path)
    name = detect_layout(table) if layout == "auto" else layout
    reader, _ = TEXT_LAYOUTS[name]
    try:
        return reader(table)
    except InputError:
        raise
    except (ValueError, KeyError, IndexError) as exc:
        # pandas' tokenizer reports "Error tokenizing data. C error: ... in line N"
        raise InputError(path, f"cannot parse as {name}: {exc}") from None
