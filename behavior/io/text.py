"""Text files from lab software and spreadsheets: one decoder for every reader.

Every text file the library reads (startle exports, results and groups tables,
key files, interval and annotation exports) goes through :func:`read_text`, so
they all accept the same encodings and refuse the same garbage:

- accepted: UTF-8, UTF-8 with a byte-order mark (Excel's "CSV UTF-8"), UTF-16
  little or big endian with or without a byte-order mark (Windows "Unicode
  text", many instrument programs), and cp1252 (Excel's default CSV on Western
  Windows, "ANSI");
- refused, with the file and line: any other encoding (Shift-JIS, Mac-Roman,
  ...), text garbled by an earlier wrong conversion ("mojibake": UTF-8 read as
  cp1252 and saved again, ``"Ã©"`` for ``"é"``), control characters (binary files,
  UTF-32).

Why refuse rather than guess: a wrong guess does not fail, it silently turns
subject IDs into other IDs (``"マウス01"`` read as cp1252 is ``"ƒ}ƒEƒX01"``), and an
animal would then be analysed under a name nobody wrote. The checks are
heuristics tuned to refuse the garbled text labs meet; plausible Western text in
cp1252 passes. One case cannot be told apart: a lowercase ``š``, ``ž`` or ``œ``
between letters is read as cp1252 (Czech, French), although Mac-Roman ``ö``, ``û``,
``ú`` give the same bytes.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from behavior.errors import InputError
from behavior.io.atomic import read_failure

#: Encodings :func:`decode_bytes` accepts, for messages.
ACCEPTED = "UTF-8 (with or without BOM), UTF-16 or cp1252"
_SAVE_AS = "save it as UTF-8 (in Excel: 'CSV UTF-8')"

#: Characters cp1252 gives to the bytes 0x80-0x9F (Windows' extra punctuation and letters).
_C1_ZONE = frozenset(bytes(range(0x80, 0xA0)).decode("cp1252", errors="ignore"))
#: Typographic punctuation of that zone, common in real text (quotes, dashes, bullet, euro).
_TYPOGRAPHIC = frozenset("‘’‚“”„–—…•€™")
#: Marks of that zone that are never glued to a word in real text.
_ODD_MARKS = frozenset("ˆ‹›˜‡")
#: Capital letters of that zone: at a word's start or in capitals, never after a small letter.
_ODD_CAPITALS = frozenset("ŠŽŒŸ")
_C1_CLASS = re.escape("".join(sorted(_C1_ZONE)))
#: A word (between separators, spaces and quotes) with a character of bytes 0x80-0x9F.
_C1_TOKEN = re.compile(f"(?<![^\\s,;|\"'])[^\\s,;|\"'{_C1_CLASS}]*+[{_C1_CLASS}][^\\s,;|\"']*")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_C1_CONTROL = re.compile(r"[\x80-\x9f]")
#: Two or more kana or kanji in a row: Japanese words; a Western accented letter
#: misread as Shift-JIS gives one kanji between Latin letters.
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]{2,}")


@dataclass(frozen=True)
class DecodedText:
    """A decoded text file: its text (no byte-order mark) and the encoding found."""

    path: str
    text: str
    encoding: str


def read_text(path: str | PathLike[str]) -> DecodedText:
    """Read and decode a text file (see the module docstring for what is accepted).

    Raises
    ------
    InputError
        The file is missing, empty, binary, in another encoding, or garbled (names
        the line).
    FileSystemError
        The file cannot be read (permission, disk error).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise read_failure(path, exc) from None
    text, encoding = decode_bytes(path, raw)
    return DecodedText(str(path), text, encoding)


def decode_bytes(path: str | PathLike[str], raw: bytes) -> tuple[str, str]:
    """Decode a file's bytes; returns ``(text, encoding)``.

    Byte-order marks decide first (UTF-8, UTF-16 LE/BE); NUL bytes in every other
    position mean BOM-less UTF-16; then UTF-8 is tried, then cp1252. The text is
    then checked (:func:`check_text`).

    Raises
    ------
    InputError
        Empty, binary, another encoding, or garbled text (with the line).
    """
    if not raw.strip():
        raise InputError(path, "the file is empty")
    if raw.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = _bomless_utf16(raw) or "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        if encoding != "utf-8":
            raise InputError(path, f"not valid {encoding} text ({exc.reason})", line=line) from None
        _refuse_shift_jis(path, raw)
        try:
            text, encoding = raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as exc2:
            line = raw[: exc2.start].count(b"\n") + 1
            raise InputError(
                path,
                f"not text in {ACCEPTED}: byte 0x{raw[exc2.start]:02X} means nothing in any of "
                f"them (another encoding such as Mac-Roman, or a binary or spreadsheet file?); "
                f"{_SAVE_AS}",
                line=line,
            ) from None
    text = text.lstrip("\ufeff")
    check_text(path, text, encoding, raw)
    return text, encoding


def _bomless_utf16(raw: bytes) -> str | None:
    head = raw[:4000]
    even, odd = head[0::2], head[1::2]
    if len(head) < 4:
        return None
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def check_text(path: str | PathLike[str], text: str, encoding: str, raw: bytes = b"") -> None:
    """Refuse control characters and garbled text; ``encoding`` is the one decoded with.

    Raises
    ------
    InputError
        With the line of the first problem.
    """
    bad = _CONTROL.search(text)
    if bad:
        raise InputError(path, "control characters found: this is not a text table (a binary "
                         "file, or UTF-32?)", line=_line(text, bad.start()))
    bad = _C1_CONTROL.search(text)
    if bad:
        raise InputError(path, f"control character U+{ord(bad.group()):04X} found: the text was "
                         f"converted from another encoding wrongly; {_SAVE_AS} from the original",
                         line=_line(text, bad.start()))
    for run in _NON_ASCII_RUN.finditer(text):
        original = _undo_mojibake(run.group())
        if original is not None:
            raise InputError(
                path, f"garbled text {run.group()!r} (UTF-8 read as cp1252 and saved again; it "
                f"was {original!r}): re-export the file as UTF-8 from the original",
                line=_line(text, run.start()))
    if encoding == "cp1252":
        words: dict[str, int] = {}  # each distinct word with such characters, once
        for word in _C1_TOKEN.finditer(text):
            words.setdefault(word.group(), word.start())
        for word, start in words.items():
            if _implausible_cp1252(word):
                raise InputError(path, _wrong_encoding(word, raw), line=_line(text, start))


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _undo_mojibake(run: str) -> str | None:
    """The text ``run`` was before UTF-8 bytes were read as cp1252, or None if it is not that."""
    try:
        original = run.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return None
    return original if original != run else None


def _implausible_cp1252(token: str) -> bool:
    """Whether a word decoded as cp1252 holds characters real text does not have there.

    Looks only at the characters of bytes 0x80-0x9F, where Shift-JIS lead bytes and
    Mac-Roman accented letters land in cp1252: ``"ƒ}ƒEƒX"`` (Shift-JIS ``マウス``),
    ``"MŸller"`` (Mac-Roman ``Müller``), ``"Mu–oz"`` (Mac-Roman ``Muñoz``).
    """
    for i, ch in enumerate(token):
        if ch not in _C1_ZONE:
            continue
        prev = token[i - 1] if i else ""
        nxt = token[i + 1] if i + 1 < len(token) else ""
        if any(c > "\x7f" and c not in _TYPOGRAPHIC for c in (prev, nxt)):
            return True
        if ch in _ODD_MARKS and (prev.isalnum() or nxt.isalnum()):
            return True
        if ch == "ƒ" and nxt and not nxt.isdigit():
            return True
        if ch in "†€" and nxt.isalpha():
            return True
        if ch == "‰" and (prev.isalpha() or nxt.isalnum()):
            return True
        if ch in _ODD_CAPITALS and (prev.islower() or (prev.isalpha() and nxt.islower())):
            return True
        if ch in "–—•™" and prev.islower() and nxt.isalpha():
            return True
        if ch in "–—" and not prev and nxt.isalpha():
            return True
    return False


def _looks_shift_jis(raw: bytes) -> bool:
    """Whether ``raw`` is Japanese Shift-JIS text: valid as such, with words of kana or
    kanji, and high bytes mostly Shift-JIS lead bytes (0x81-0x9F), where cp1252 text
    has letters."""
    try:
        text = raw.decode("cp932")
    except UnicodeDecodeError:
        return False
    if not _JAPANESE.search(text):
        return False
    high = [b for b in raw if b >= 0x80]
    return sum(0x81 <= b <= 0x9F for b in high) >= 0.3 * len(high)


def _refuse_shift_jis(path: str | PathLike[str], raw: bytes) -> None:
    if _looks_shift_jis(raw):
        text = raw.decode("cp932")
        where = _JAPANESE.search(text)
        line = _line(text, where.start()) if where else None
        raise InputError(path, f"this looks like Japanese Shift-JIS text, not {ACCEPTED}; "
                         f"{_SAVE_AS}", line=line)


def _wrong_encoding(token: str, raw: bytes) -> str:
    """The message for an implausible cp1252 word: which encoding it probably was."""
    if _looks_shift_jis(raw):
        return (f"{token!r} looks like Japanese Shift-JIS text read as cp1252 "
                f"({token.encode('cp1252').decode('cp932', errors='replace')!r}); "
                f"the file must be {ACCEPTED}: {_SAVE_AS}")
    try:
        mac = token.encode("cp1252").decode("mac_roman")
    except UnicodeError:
        mac = None
    guess = ""
    if mac is not None and all(c.isalnum() or c in "-_. " for c in mac):
        guess = f" (as Mac-Roman it would read {mac!r})"
    return (f"implausible characters in {token!r}{guess}: the file is probably not in "
            f"{ACCEPTED}; {_SAVE_AS}")


# -- separators ---------------------------------------------------------------------------------
_DECIMAL_COMMA = re.compile(r"(?:^|[;\t])\s*-?\d+,\d+\s*(?:[;\t]|$)")


def sniff_dialect(lines: list[str]) -> tuple[str, str]:
    """Separator (``,``, ``;`` or tab) and decimal mark of a table's lines.

    The separator found on most of the first lines wins (ties: ``;``, tab, ``,``);
    with ``;`` or tab, numbers like ``12,5`` mean a decimal comma.
    """
    sample = [line for line in lines[:60] if line.strip()][-30:] or lines[:1]
    scores = {}
    for sep in (";", "\t", ","):
        counts = [line.count(sep) for line in sample]
        scores[sep] = (sum(c > 0 for c in counts), sum(counts))
    sep = max((";", "\t", ","), key=lambda s: scores[s])
    if scores[sep][0] == 0:
        sep = ","
    decimal = "."
    if sep != "," and any(_DECIMAL_COMMA.search(line) or re.search(r"\d,\d", line)
                          for line in sample):
        decimal = ","
    return sep, decimal


def header_separator(header: str) -> str:
    """Separator of a table from its header line: the most frequent of ``,``, ``;``, tab."""
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","
