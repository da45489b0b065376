"""Read result and groups tables (CSV, TSV or Excel) as text, for checking later.

Every cell is read as text (nothing is converted or dropped here), so that the
design check can name each value it cannot use.
"""

from __future__ import annotations

import csv
import io
from os import PathLike
from pathlib import Path

import pandas as pd

from behavior.errors import InputError
from behavior.io.text import header_separator, read_text, sniff_dialect

#: Suffixes read as delimited text (delimiter sniffed: comma, semicolon or tab).
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
#: Suffixes read as Excel workbooks (first sheet).
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_DECIMAL_COMMA_NUMBER = r"[+-]?\d+,\d+"


def read_table(path: str | PathLike[str], required: tuple[str, ...] = ()) -> pd.DataFrame:
    """A table with a header row, every cell as stripped text (empty cells ``""``).

    Parameters
    ----------
    path
        ``.csv``/``.tsv``/``.txt`` (comma, semicolon or tab separated; any encoding
        :mod:`behavior.io.text` accepts: UTF-8, UTF-16, cp1252 from Excel...) or
        ``.xlsx``. In a ``;``- or tab-separated file, numbers written with a decimal
        comma (``12,5``) are read as ``12.5``.
    required
        Columns that must be present.

    Raises
    ------
    InputError
        When the file is missing, unreadable, in another encoding, empty, has
        duplicate column names or lacks a required column.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "file not found")
    suffix = p.suffix.lower()
    try:
        if suffix in EXCEL_SUFFIXES:
            table = pd.read_excel(p, dtype=str, keep_default_na=False)
        elif suffix in TEXT_SUFFIXES:
            table = _read_text_table(p)
        else:
            raise InputError(p, f"unknown table format '{suffix}'; use .csv, .tsv or .xlsx")
    except InputError:
        raise
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        raise InputError(p, f"cannot read the table: {exc}") from exc
    table.columns = [str(c).strip() for c in table.columns]
    if table.empty:
        raise InputError(p, "the table has a header but no rows")
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(
            p,
            f"no column {', '.join(repr(c) for c in missing)}; "
            f"columns are: {', '.join(table.columns)}",
            line=1,
        )
    for c in table.columns:
        table[c] = table[c].astype(str).str.strip()
    return table


def _read_text_table(path: Path) -> pd.DataFrame:
    """A delimited text table as text cells, decoded by the shared decoder."""
    text = read_text(path).text
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    sep = header_separator(first)
    header = next(csv.reader([first], delimiter=sep))
    dup = sorted({c.strip() for c in header if header.count(c) > 1})
    if dup:
        raise InputError(path, f"duplicate column name(s): {', '.join(dup)}", line=1)
    table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    if sep != "," and sniff_dialect(lines)[1] == ",":
        for c in table.columns:
            cells = table[c].str.strip()
            comma = cells.str.fullmatch(_DECIMAL_COMMA_NUMBER)
            table[c] = cells.where(~comma, cells.str.replace(",", ".", regex=False))
    return table
