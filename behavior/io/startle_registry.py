"""Pick the startle reader from the file's columns (or by name) and read many files.

Layouts (``--format``): ``srlab`` (20-column per-trial CSV, with or without
header), ``srlab-xlsx``, ``kinder``, ``tse``, ``tse-segment``, ``wide`` and
``long`` (lab tables). ``auto`` detects the layout from the set of columns,
not from the vendor or the file name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from behavior.errors import InputError
from behavior.io import startle_kinder, startle_labtable, startle_srlab, startle_tse
from behavior.io.startle_srlab_xlsx import from_srlab_xlsx
from behavior.io.startle_text import TextTable, find_header, open_text_table
from behavior.startle.table import StartleRecording

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
    "srlab": (
        startle_srlab.read_srlab_table,
        lambda t: (
            find_header(t, startle_srlab.HEADER_KEYS) is not None
            or startle_srlab.looks_headerless(t)
        ),
    ),
    "long": (startle_labtable.read_long_table, startle_labtable.is_long),
    "wide": (startle_labtable.read_wide_table, startle_labtable.is_wide),
    "tse-segment": (startle_tse.read_tse_segment_table, startle_tse.is_tse_segment),
}
XLSX_SUFFIXES = (".xlsx", ".xlsm")
LAYOUTS = ("auto", *TEXT_LAYOUTS, "srlab-xlsx")


def detect_layout(table: TextTable) -> str:
    """Name of the first text layout whose columns the file has."""
    for name, (_, test) in TEXT_LAYOUTS.items():
        if test(table):
            return name
    first = next((line for line in table.lines if line.strip()), "")
    raise InputError(
        table.path,
        f"unknown startle file layout (first line: {first[:80]!r}); expected one of "
        f"{', '.join(LAYOUTS[1:])} -- see docs/startle.md, or pass --format",
        line=1,
    )


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
    if layout == "srlab-xlsx" or (layout == "auto" and path.suffix.lower() in XLSX_SUFFIXES):
        return from_srlab_xlsx(path)
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
