"""Writing output files so that a failure never leaves half a file, and saying why in words.

Every output file of the library (tables, reports, figures, protocol files,
unblinded scores) is written through this module:

- :func:`atomic_write` -- a context manager giving a file object; the data go to a
  temporary file in the same folder, which replaces ``path`` in one rename only
  after everything was written and flushed to the disk. An error, Ctrl-C or a kill
  leaves the old file (or none) and never a half-written one. On Linux the
  temporary file has no name until the rename (``O_TMPFILE``), so a process killed
  with ``kill -9`` leaves nothing behind; elsewhere it is a hidden
  ``.<name>.<pid>-<random>.tmp`` that the next write of the same file removes.
- :func:`write_text`, :func:`write_bytes`, :func:`write_csv`, :func:`savefig` --
  the usual outputs in one call.
- :func:`prepare_folder` / :func:`prepare_output` -- check (and create) an output
  folder *before* the work starts, by writing a probe file there: the only test
  that also holds for root, network drives and read-only mounts.

File-system failures (``OSError``) become :class:`~behavior.errors.FileSystemError`
naming the path and the problem in words (:func:`os_problem`): "no space left on
the disk", "the folder is read-only", "the folder does not exist", ... The command
line prints them as one line and exits with status 1.

Examples
--------
>>> from behavior.io.atomic import atomic_write, write_csv      # doctest: +SKIP
>>> with atomic_write("out/summary.txt") as fh:                  # doctest: +SKIP
...     fh.write("done\\n")
>>> write_csv(table, "out/ppi.csv")                              # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from behavior.errors import FileSystemError, InputError

if TYPE_CHECKING:  # pandas and matplotlib are only needed by the callers that pass them
    import pandas as pd
    from matplotlib.figure import Figure

#: Plain words for the errno values a user meets when writing files.
_PROBLEMS = {
    errno.ENOSPC: "no space left on the disk",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the folder is read-only (read-only file system)",
    errno.EACCES: "the folder is read-only (permission denied)",
    errno.EPERM: "the folder is read-only (operation not permitted)",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder, not a file",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EIO: "input/output error (a failing disk, or a network drive that went away)",
    errno.EFBIG: "the file is too large for this file system",
    errno.EMFILE: "too many open files",
    errno.EBUSY: "the file is in use by another program",
}
#: The same errors met when *reading* a file.
_READ_PROBLEMS = {
    errno.ENOENT: "file not found",
    errno.EACCES: "permission denied: the file cannot be read",
    errno.EPERM: "permission denied: the file cannot be read",
}


def os_problem(exc: OSError, *, reading: bool = False) -> str:
    """The problem behind ``exc`` in a few plain words (e.g. "no space left on the disk").

    Examples
    --------
    >>> os_problem(OSError(errno.ENOSPC, "No space left on device"))
    'no space left on the disk'
    """
    code = exc.errno
    if reading and code in _READ_PROBLEMS:
        return _READ_PROBLEMS[code]
    if code in _PROBLEMS:
        return _PROBLEMS[code]
    return (exc.strerror or str(exc) or type(exc).__name__).rstrip(".").lower()


def write_failure(path: str | os.PathLike[str], exc: OSError) -> FileSystemError:
    """The error to raise when writing ``path`` failed with ``exc``."""
    return FileSystemError(path, f"cannot write: {os_problem(exc)}")


def read_failure(path: str | os.PathLike[str], exc: OSError) -> InputError:
    """The error to raise when reading ``path`` failed with ``exc``: a missing file is
    an :class:`InputError` (a wrong name given), anything else a :class:`FileSystemError`."""
    if exc.errno == errno.ENOENT:
        return InputError(path, "file not found")
    return FileSystemError(path, f"cannot read: {os_problem(exc, reading=True)}")


# -- checking output folders before the work ---------------------------------------------
def prepare_folder(folder: str | os.PathLike[str], *, create: bool = True) -> Path:
    """Make sure files can be written in ``folder``; create it (and its parents) if asked.

    Writes and removes an empty probe file, so that read-only mounts, folders
    without write permission (also for root on a read-only file system) and a full
    disk are found before any work is done.

    Raises
    ------
    FileSystemError
        The folder is a file, does not exist (``create=False``), cannot be
        created, or cannot be written.
    """
    folder = Path(folder) if str(folder) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise FileSystemError(folder, "is a file, not a folder")
    if not folder.exists():
        if not create:
            raise FileSystemError(folder, "the folder does not exist")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FileSystemError(folder, f"cannot create the folder: {_mkdir_problem(folder, exc)}"
                                  ) from None
    probe = folder / f".behavior-write-test-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        raise FileSystemError(folder, f"cannot write in this folder: {os_problem(exc)}") from None
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    if free == 0:
        raise FileSystemError(folder, "cannot write in this folder: no space left on the disk")
    return folder


def prepare_output(path: str | os.PathLike[str], *, create_folder: bool = True) -> Path:
    """Check, before the work, that the file ``path`` can be written (see :func:`prepare_folder`).

    Raises
    ------
    FileSystemError
        ``path`` is a folder, or its folder cannot be created or written.
    """
    path = Path(path)
    if path.is_dir():
        raise FileSystemError(path, "is a folder; give a file name")
    prepare_folder(path.parent, create=create_folder)
    return path


def space_problem(folder: str | os.PathLike[str], nbytes: int = 65536) -> FileSystemError | None:
    """Whether ``nbytes`` more can be written in ``folder``: None, or the error saying why.

    For failures whose own message hides the cause (SQLite's "disk I/O error", a
    video muxer's error): write and remove a probe file of ``nbytes``.
    """
    folder = Path(folder)
    probe = folder / f".behavior-space-probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            view = memoryview(b"\0" * nbytes)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        return FileSystemError(folder, f"cannot write: {os_problem(exc)}")
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return None


def _mkdir_problem(folder: Path, exc: OSError) -> str:
    # name the existing ancestor that refused, which is where the user must look
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        parent = next((p for p in folder.parents if p.exists()), None)
        if parent is not None:
            return os_problem(exc).replace("the folder", f"the folder {parent}", 1)
    return os_problem(exc)


# -- atomic writes --------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", *, encoding: str = "utf-8",
                 newline: str | None = None, permissions: int | None = None
                 ) -> Iterator[IO[Any]]:
    """Open ``path`` for writing so that it appears whole or not at all.

    Parameters
    ----------
    path
        The file to (over)write. Its folder must exist (see :func:`prepare_output`).
    mode
        ``"w"`` (text) or ``"wb"`` (bytes).
    encoding, newline
        As for :func:`open`, in text mode.
    permissions
        File mode bits (e.g. ``0o600``: owner only), set before the file gets its
        name, so it is never readable by others even for a moment. Default: as
        :func:`open` would (``0o666`` less the umask).

    Yields
    ------
    file object
        Write to it inside the ``with`` block. On leaving the block without an
        error the data are flushed, synced to the disk and renamed over ``path``;
        on an error the temporary file is removed and ``path`` is untouched.

    Raises
    ------
    FileSystemError
        Writing failed (full disk, read-only folder, missing folder, ...). Any
        ``OSError`` inside the block counts as a failure to write ``path``; other
        errors raised by the caller's code pass through unchanged.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    _remove_stale_temps(path)
    try:
        fd, named = _open_temp(folder, path.name)
    except OSError as exc:
        raise write_failure(path, exc) from None
    binary = _binary_file(fd)
    handle: IO[Any] = (binary if mode == "wb" else
                       io.TextIOWrapper(binary, encoding=encoding, newline=newline))
    done = False
    try:
        try:
            yield handle
            handle.flush()
            if permissions is not None and hasattr(os, "fchmod"):
                os.fchmod(binary.fileno(), permissions)
            os.fsync(binary.fileno())
            _commit(binary.fileno(), named, path, folder)
            done = True
            if permissions is not None and not hasattr(os, "fchmod"):
                os.chmod(path, permissions)  # Windows: only the read-only bit applies
        except OSError as exc:
            raise write_failure(path, exc) from None
    finally:
        with contextlib.suppress(OSError, ValueError):
            handle.close()
        if not done and named is not None:
            with contextlib.suppress(OSError):
                named.unlink()


def _binary_file(fd: int) -> IO[bytes]:
    # one place to open the temporary file (tests make it fail at a chosen byte)
    return os.fdopen(fd, "wb", closefd=True)


def _temp_name(folder: Path, name: str) -> Path:
    return folder / f".{name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"


def _open_temp(folder: Path, name: str) -> tuple[int, Path | None]:
    """A temporary file in ``folder``: ``(fd, None)`` unnamed (Linux ``O_TMPFILE``, gone
    if the process dies) or ``(fd, its path)``."""
    tmpfile = getattr(os, "O_TMPFILE", 0)
    if tmpfile and os.path.isdir("/proc/self/fd"):
        try:
            return os.open(folder, tmpfile | os.O_RDWR, 0o666), None
        except OSError as exc:
            # not supported here (some network and FAT file systems): use a named file
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOTSUP):
                raise
    named = _temp_name(folder, name)
    return os.open(named, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0),
                   0o666), named


def _commit(fd: int, named: Path | None, path: Path, folder: Path) -> None:
    """Give the finished temporary file the name ``path`` (one rename)."""
    if named is None:
        named = _temp_name(folder, path.name)
        # the unnamed file gets a name only now; a kill between the two lines leaves a
        # hidden temporary that the next write of ``path`` removes
        try:
            _link_unnamed(fd, folder, named.name)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
                raise
            _copy_to_named(fd, named)  # linking refused (some sandboxes): copy instead
    try:
        os.replace(named, path)
    except OSError:
        with contextlib.suppress(OSError):
            named.unlink()
        raise
    if sys.platform != "win32":  # make the rename itself durable
        with contextlib.suppress(OSError):
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def _link_unnamed(fd: int, folder: Path, name: str) -> None:
    """Give the ``O_TMPFILE`` file ``fd`` the name ``folder/name``.

    ``linkat(..., AT_SYMLINK_FOLLOW)`` on ``/proc/self/fd/N``, as open(2) shows; Python
    calls plain ``link()`` (which does not follow the magic link, and fails with
    EXDEV) unless a ``dst_dir_fd`` is given, hence the folder's descriptor.
    """
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dir_fd, follow_symlinks=True)
    finally:
        os.close(dir_fd)


def _copy_to_named(fd: int, named: Path) -> None:
    out = os.open(named, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    try:
        offset = 0
        while chunk := os.pread(fd, 1 << 20, offset):
            offset += len(chunk)
            view = memoryview(chunk)
            while view:  # a write may take only part of the bytes (a nearly full disk)
                view = view[os.write(out, view):]
        os.fsync(out)
        if os.fstat(out).st_size != os.fstat(fd).st_size:  # pragma: no cover - a safeguard
            raise OSError(errno.EIO, "the copy of the temporary file is incomplete")
    except OSError:
        os.close(out)
        with contextlib.suppress(OSError):
            named.unlink()
        raise
    os.close(out)


def _remove_stale_temps(path: Path) -> None:
    """Remove ``.<name>.<pid>-<random>.tmp`` files of ``path`` left by dead processes."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        candidates = list(folder.glob(f".{_glob_escape(path.name)}.*-*.tmp"))
    except OSError:
        return
    for tmp in candidates:
        pid_text = tmp.name[len(path.name) + 2:].split("-", 1)[0]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (on this machine); unknown counts as alive."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return True  # os.kill(pid, 0) would send Ctrl-C there; leave the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


# -- the usual outputs in one call -------------------------------------------------------------
def write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8",
               permissions: int | None = None) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`), line ends as given."""
    with atomic_write(path, "w", encoding=encoding, newline="", permissions=permissions) as fh:
        fh.write(text)
    return Path(path)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = False,
              **to_csv: Any) -> Path:
    """Write a table as CSV (UTF-8, ``\\n`` line ends) atomically.

    ``to_csv``: further arguments of :meth:`pandas.DataFrame.to_csv` (e.g.
    ``float_format``). Missing values are written as empty cells.
    """
    to_csv.setdefault("lineterminator", "\n")
    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        frame.to_csv(fh, index=index, **to_csv)
    return Path(path)


def savefig(figure: Figure, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Save a matplotlib figure atomically; the format comes from the suffix unless given."""
    path = Path(path)
    kwargs.setdefault("format", path.suffix.lstrip(".").lower() or "png")
    with atomic_write(path, "wb") as fh:
        figure.savefig(fh, **kwargs)
    return path
