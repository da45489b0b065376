"""Writing output files so that a crash, a kill or a full disk never leaves half a file.

Every output is written to a temporary name in the folder it belongs in, flushed,
then renamed over the final name (an atomic step on every file system the lab is
likely to use): an interrupted run leaves either the old file or the new one, and
the temporary file is removed on any error. File-system failures become one
:class:`~behavior.errors.OutputError` naming the path and the problem in words
(read-only folder, no space left, folder missing), never a traceback.

Examples
--------
>>> from pathlib import Path
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> with atomic_text(folder / "results.csv") as fh:
...     _ = fh.write("a,b\\n1,2\\n")
>>> (folder / "results.csv").read_text()
'a,b\\n1,2\\n'
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from behavior.errors import OutputError

#: Prefix of temporary files; :func:`remove_debris` knows them by it.
TMP_PREFIX = ".tmp-"


def os_problem(exc: OSError) -> str:
    """An operating-system error in words a user can act on."""
    code = exc.errno
    if code == errno.ENOSPC or code == errno.EDQUOT:
        return "no space left on the disk"
    if code == errno.EROFS:
        return "the disk is read-only"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied (a read-only folder or file?)"
    if code == errno.ENOENT:
        return "the folder does not exist"
    if code == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    if code == errno.EISDIR:
        return "is a folder, not a file"
    return exc.strerror or str(exc)


def output_error(path: str | os.PathLike[str], exc: OSError) -> OutputError:
    """:class:`OutputError` for a failed write of ``path``."""
    return OutputError(path, f"cannot write: {os_problem(exc)}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """A temporary path in ``path``'s folder to write to; renamed to ``path`` when the
    block ends without an error, removed otherwise.

    For writers that take a file name (Excel, figures, images). ``suffix``: the
    temporary file's ending (default ``path``'s, which some writers need).
    """
    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=TMP_PREFIX + path.name + ".",
                                    suffix=path.suffix if suffix is None else suffix,
                                    dir=folder)
        os.close(fd)
    except OSError as exc:
        raise output_error(path, exc) from None
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise output_error(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_text(path: str | os.PathLike[str], encoding: str = "utf-8",
                newline: str | None = "\n") -> Iterator[IO[str]]:
    """A text file handle whose contents replace ``path`` only when the block ends
    without an error (flushed and synced to the disk first)."""
    with atomic_path(path) as tmp:
        try:
            with open(tmp, "w", encoding=encoding, newline=newline) as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise output_error(path, exc) from None


def write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; returns the path."""
    with atomic_text(path, encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def check_folder(folder: str | os.PathLike[str], create: bool = True) -> Path:
    """Make sure files can be written in ``folder`` (created if ``create``), before any
    long work starts: raises :class:`OutputError` naming it and the problem."""
    folder = Path(folder)
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        elif not folder.is_dir():
            raise OutputError(folder, "the folder does not exist")
        fd, name = tempfile.mkstemp(prefix=TMP_PREFIX + "check.", dir=folder)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise OutputError(folder, f"cannot write in this folder: {os_problem(exc)}") from None
    return folder


def remove_debris(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary files a killed run left in ``folder``; returns them."""
    removed = []
    with contextlib.suppress(OSError):
        for p in Path(folder).glob(TMP_PREFIX + "*"):
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed
