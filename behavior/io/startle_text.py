"""Text files from startle software: lines, separator and decimal-comma sniffing.

Windows startle software writes UTF-8 (with or without BOM), UTF-16 or cp1252,
CRLF line ends and, in European locales, ``;`` separators with decimal commas.
:func:`open_text_table` decodes any of these with the shared decoder
(:mod:`behavior.io.text`, which refuses other encodings and garbled IDs) and
turns them into lines plus the dialect, so each reader can find its header and
hand the data section to :func:`pandas.read_csv`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from behavior.errors import InputError
from behavior.io.text import decode_bytes, read_text, sniff_dialect

__all__ = [
    "TextTable", "column_key", "decode_bytes", "find_header", "group_samples", "header_names",
    "numeric", "open_text_table", "read_sample_rows", "samples_matrix", "sniff_dialect",
]

@dataclass(frozen=True)
class TextTable:
    """A decoded text file: its lines (no line ends), separator and decimal mark."""

    path: str
    lines: list[str]
    sep: str
    decimal: str
    encoding: str

    def fields(self, index: int) -> list[str]:
        """Fields of line ``index`` (0-based), stripped, quotes removed."""
        row = next(csv.reader([self.lines[index]], delimiter=self.sep), [])
        return [f.strip() for f in row]

    def read(
        self, header_index: int | None, *, names: list[str] | None = None, dtype=None
    ) -> pd.DataFrame:
        """Data from the line after ``header_index`` (or from the first line) with pandas.

        Adds a ``__line`` column with the 1-based line number of each row; blank
        lines are skipped.
        """
        start = 0 if header_index is None else header_index + 1
        body = self.lines[start:]
        keep = [i for i, line in enumerate(body) if line.strip()]
        # Trailing empty fields (spreadsheet exports pad rows with separators) are dropped.
        text = "\n".join(body[i].rstrip(self.sep + " \t") for i in keep)
        if not text:
            return pd.DataFrame(columns=names or [])
        if names is None:
            names = self.fields(header_index) if header_index is not None else None
        frame = pd.read_csv(
            io.StringIO(text),
            sep=self.sep,
            decimal=self.decimal,
            header=None,
            names=names,
            dtype=dtype,
            skipinitialspace=True,
            skip_blank_lines=False,
            index_col=False,
            engine="c",
            on_bad_lines="error",
            keep_default_na=True,
        )
        frame = frame.copy()
        frame["__line"] = [start + i + 1 for i in keep]
        return frame

    def check_field_counts(
        self,
        header_index: int | None,
        expected: int,
        minimum: int | None = None,
        *,
        exact: bool = False,
    ) -> None:
        """Raise :class:`InputError` at the first data line with a wrong number of fields.

        A line is short when it has fewer than ``minimum`` fields, or -- for the
        last line, where a cut-off file ends -- fewer than most lines have. With
        ``exact``, a line with non-empty fields beyond ``expected`` is an error too
        (lines with quotes are not checked for that: a quoted field may hold the
        separator).
        """
        minimum = expected if minimum is None else minimum
        start = 0 if header_index is None else header_index + 1
        counts = {}
        for i in range(start, len(self.lines)):
            line = self.lines[i]
            if not line.strip():
                continue
            n = line.count(self.sep) + 1
            counts[i] = n
            if exact and n > expected and '"' not in line:
                extra = line.split(self.sep)[expected:]
                if any(x.strip() for x in extra):
                    raise InputError(
                        self.path,
                        f"{n} fields where the header has {expected} "
                        "(a separator inside a value, or a shifted row?)",
                        line=i + 1,
                    )
            if n < minimum:
                raise InputError(
                    self.path,
                    f"{n} fields where {expected} were expected (truncated file or broken row)",
                    line=i + 1,
                )
        if len(counts) > 1:
            last = max(counts)
            typical = pd.Series(list(counts.values())).mode().iloc[0]
            if counts[last] < typical:
                raise InputError(
                    self.path,
                    f"{counts[last]} fields where the other rows have {typical} (truncated file?)",
                    line=last + 1,
                )


def open_text_table(path: str | Path) -> TextTable:
    """Read, decode and sniff a text table (see :mod:`behavior.io.text`; CRLF or LF)."""
    decoded = read_text(path)
    lines = decoded.text.splitlines()
    sep, decimal = sniff_dialect(lines)
    return TextTable(str(path), lines, sep, decimal, decoded.encoding)


def column_key(name: object) -> str:
    """Column-name key: lower case, runs of spaces/underscores -> one space."""
    return re.sub(r"[\s_]+", " ", str(name).strip().strip('"').lstrip("\ufeff")).casefold()


def header_names(table: TextTable, index: int) -> list[str]:
    """Column keys of header line ``index``: trailing empty names dropped, other blanks numbered."""
    keys = [column_key(f) for f in table.fields(index)]
    while keys and not keys[-1]:
        keys.pop()
    return [k or f"column {i + 1}" for i, k in enumerate(keys)]


def find_header(table: TextTable, required: set[str], max_lines: int = 80) -> int | None:
    """0-based index of the first line whose fields include all ``required`` keys."""
    for i in range(min(max_lines, len(table.lines))):
        line = table.lines[i]
        if not line.strip():
            continue
        keys = {column_key(f) for f in table.fields(i)}
        if required <= keys:
            return i
    return None


def numeric(frame: pd.DataFrame, column: str, path: str, *, label: str | None = None) -> pd.Series:
    """Column as floats; the first non-numeric, non-empty value raises with its line."""
    values = frame[column]
    if values.dtype.kind in "fiu":
        return values.astype(float)
    text = values.astype(str).str.strip()
    nums = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
    bad = nums.isna() & values.notna() & (text != "") & (text.str.casefold() != "nan")
    if bad.any():
        i = bad.to_numpy().nonzero()[0][0]
        raise InputError(
            path,
            f"column '{label or column}': {str(values.iloc[i])[:40]!r} is not a number",
            line=int(frame["__line"].iloc[i]),
        )
    return nums.astype(float)


def samples_matrix(
    group: np.ndarray, position: np.ndarray, values: np.ndarray, n_groups: int
) -> np.ndarray:
    """Scatter long-format samples into a NaN-padded ``(n_groups, n_samples)`` array."""
    width = int(position.max()) + 1 if len(position) else 0
    out = np.full((n_groups, width), np.nan)
    out[group, position] = values
    return out


def read_sample_rows(
    table: TextTable, required: set[str], what: str, dtype: dict[str, type]
) -> tuple[pd.DataFrame, list[str], int]:
    """The rows of a per-sample export under its header: ``(frame, names, header)``.

    ``what`` describes the export for the error when no header with the
    ``required`` columns is found (e.g. "Kinder export: no header with ...").
    Every row must have as many fields as the header, and there must be rows.
    """
    header = find_header(table, required)
    if header is None:
        raise InputError(table.path, f"not a {what}", line=1)
    names = header_names(table, header)
    table.check_field_counts(header, len(names), exact=True)
    frame = table.read(header, names=names, dtype=dtype)
    if frame.empty:
        raise InputError(table.path, "no samples after the header", line=header + 2)
    return frame, names, header


def group_samples(keys: object) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Long-format samples grouped into trials by ``keys`` (in order of appearance).

    Returns ``(group, position, n_groups, first_row)``: each row's trial, its
    place within the trial, the number of trials and each trial's first row, ready
    for :func:`samples_matrix`.
    """
    codes, uniques = pd.factorize(keys)
    position = pd.Series(codes).groupby(codes).cumcount().to_numpy()
    first_row = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
    return codes, position, len(uniques), first_row
