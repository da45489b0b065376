"""Read result and groups tables (CSV, TSV or Excel) as text, for checking later.

Every cell is read as text (nothing is converted or dropped here), so that the
design check can name each value it cannot use.
"""

from __future__ import annotations

import csv
from os import PathLike
from pathlib import Path

import pandas as pd

from behavior.errors import InputError

#: Suffixes read as delimited text (delimiter sniffed: comma, semicolon or tab).
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
#: Suffixes read as Excel workbooks (first sheet).
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def read_table(path: str | PathLike[str], required: tuple[str, ...] = ()) -> pd.DataFrame:
    """A table with a header row, every cell as stripped text (empty cells ``""``).

    Parameters
    ----------
    path
        ``.csv``/``.tsv``/``.txt`` (comma, semicolon or tab separated) or ``.xlsx``.
    required
        Columns that must be present.

    Raises
    ------
    InputError
        When the file is missing, unreadable, empty, has duplicate column names or
        lacks a required column.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "file not found")
    suffix = p.suffix.lower()
    try:
        if suffix in EXCEL_SUFFIXES:
            table = pd.read_excel(p, dtype=str, keep_default_na=False)
        elif suffix in TEXT_SUFFIXES:
            text = p.read_text(encoding="utf-8-sig")
            if not text.strip():
                raise InputError(p, "the file is empty")
            try:
                sep = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t").delimiter
            except csv.Error:
                sep = ","
            header = next(csv.reader([text.splitlines()[0]], delimiter=sep))
            dup = sorted({c.strip() for c in header if header.count(c) > 1})
            if dup:
                raise InputError(p, f"duplicate column name(s): {', '.join(dup)}", line=1)
            table = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        else:
            raise InputError(p, f"unknown table format '{suffix}'; use .csv, .tsv or .xlsx")
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(p, f"not UTF-8 text ({exc.reason}); save it as CSV UTF-8") from exc
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
