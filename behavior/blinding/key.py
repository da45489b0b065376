"""The key of a blinded session: code → original file, subject, group and factors.

Written only to a file outside the session folder, by whoever prepares the session,
and opened only at unblinding. It carries the session id, so a key from another
session is refused.

Formats (chosen by the suffix): JSON (default)::

    {"behavior-blinding-key": 1, "session_id": "…", "created_at": "…",
     "videos": [{"code": "K7QX3M", "video": "/data/m03.mp4", "subject": "m03",
                 "group": "vehicle", "dose": "0"}, …]}

or CSV (``.csv``): ``# behavior-blinding-key: 1`` and ``# session_id: …`` lines, then
columns ``code, video, subject, group`` and the other factor columns.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from behavior.errors import InputError
from behavior.io.text import header_separator, read_text

KEY_VERSION = 1
KEY_COLUMNS = ("code", "video", "subject", "group")


def key_text(path: str | Path, session_id: str, created_at: str, table: pd.DataFrame) -> str:
    """The key file's text for ``table`` (columns :data:`KEY_COLUMNS` first)."""
    table = table.astype(str)
    if Path(path).suffix.lower() == ".csv":
        header = (f"# behavior-blinding-key: {KEY_VERSION}\n# session_id: {session_id}\n"
                  f"# created_at: {created_at}\n")
        return header + table.to_csv(index=False, lineterminator="\n")
    doc = {"behavior-blinding-key": KEY_VERSION, "session_id": session_id,
           "created_at": created_at, "videos": table.to_dict(orient="records")}
    return json.dumps(doc, indent=1) + "\n"


def read_key(path: str | Path) -> tuple[str, pd.DataFrame]:
    """Read a key file: ``(session_id, table)`` with columns :data:`KEY_COLUMNS` first."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "key file not found")
    # a CSV key opened and saved in Excel comes back in cp1252 or UTF-16: the shared
    # decoder takes them and refuses garbled names
    text = read_text(path).text
    if path.suffix.lower() == ".csv":
        meta = {}
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            k, _, v = line[1:].partition(":")
            meta[k.strip()] = v.strip().rstrip(",;\t")  # a spreadsheet pads the row
        if "behavior-blinding-key" not in meta or "session_id" not in meta:
            raise InputError(path, "not a blinding key (no '# behavior-blinding-key' and "
                             "'# session_id' lines)")
        body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        first = next((line for line in body.splitlines() if line.strip()), "")
        try:
            table = pd.read_csv(io.StringIO(body), sep=header_separator(first), dtype=str,
                                keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(path, f"cannot read key table: {exc}") from None
        sid = meta["session_id"]
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"not a JSON blinding key: {exc}", line=exc.lineno) from None
        if not isinstance(doc, dict) or "behavior-blinding-key" not in doc:
            raise InputError(path, "not a blinding key (no 'behavior-blinding-key' entry)")
        sid = str(doc.get("session_id", ""))
        table = pd.DataFrame(doc.get("videos", [])).astype(str)
    missing = [c for c in KEY_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(path, f"key lacks column(s) {', '.join(missing)}")
    if table["code"].duplicated().any():
        raise InputError(path, "key lists a code twice")
    return sid, table


def key_groups(path: str | Path, results_columns: Sequence[str] = ()) -> pd.DataFrame:
    """A session's key as the groups table of :func:`behavior.stats.analyze`.

    Results that name the animal (``subject``: unblinded scores) are matched on
    ``subject``; results of the auto-scorer run on the session's coded videos
    (``video`` + ``arena``, no ``subject``) on the coded file's name
    (``<code><suffix>``, one animal per coded video: arena 1). The key's ``code``
    and original ``video`` columns are not factors and are left out.
    """
    _, table = read_key(path)
    factors = [c for c in table.columns if c not in ("code", "video")]
    out = table[factors].copy()
    if "subject" not in results_columns and {"video", "arena"} <= set(results_columns):
        suffixes = table["video"].map(lambda v: Path(v.replace("\\", "/")).suffix.lower())
        out.insert(0, "arena", "1")
        out.insert(0, "video", table["code"] + suffixes)
    return out
