"""The atomic-write helper every output goes through (:mod:`behavior.io.atomic`)."""

from __future__ import annotations

import errno
import io
import os
import stat
import subprocess
import sys

import pandas as pd
import pytest
from integrity_helpers import fill, listing

from behavior.errors import FileSystemError
from behavior.io import atomic
from behavior.io.atomic import (
    atomic_write,
    os_problem,
    prepare_folder,
    prepare_output,
    write_csv,
    write_text,
)


class _DiskFullAfter(io.RawIOBase):
    """A file that takes ``budget`` bytes, then fails as a full disk does."""

    def __init__(self, fd: int, budget: int):
        self._file = os.fdopen(fd, "wb", buffering=0)
        self.budget = budget

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.budget <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = min(len(data), self.budget)
        self.budget -= n
        return self._file.write(bytes(data[:n]))

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
        super().close()


def test_os_errors_in_words():
    assert os_problem(OSError(errno.ENOSPC, "x")) == "no space left on the disk"
    assert os_problem(OSError(errno.EROFS, "x")) == ("the folder is read-only "
                                                     "(read-only file system)")
    assert os_problem(OSError(errno.EACCES, "x")) == "the folder is read-only (permission denied)"
    assert os_problem(OSError(errno.ENOENT, "x")) == "the folder does not exist"
    assert os_problem(OSError(errno.ENOENT, "x"), reading=True) == "file not found"


def test_a_write_that_fails_leaves_the_old_file_and_nothing_else(tmp_path):
    target = tmp_path / "ppi.csv"
    target.write_text("old,table\n1,2\n")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("new,table\n")
        raise RuntimeError("the caller's own error passes through")
    assert target.read_text() == "old,table\n1,2\n"
    assert listing(tmp_path) == ["ppi.csv"]
    write_csv(pd.DataFrame({"a": [1.5, float("nan")], "note": ["", "why"]}), target)
    assert target.read_text() == "a,note\n1.5,\n,why\n"  # missing is blank, never 0
    assert listing(tmp_path) == ["ppi.csv"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()


def test_a_full_disk_at_a_chosen_byte_is_one_error_and_the_old_file_stays(tmp_path,
                                                                          monkeypatch):
    # runs everywhere (no mounting): the temporary file takes 10 000 bytes, then the
    # disk is full, in the middle of a row
    target = tmp_path / "trials.csv"
    target.write_text("old\n")
    monkeypatch.setattr(atomic, "_binary_file",
                        lambda fd: io.BufferedWriter(_DiskFullAfter(fd, 10_000)))
    table = pd.DataFrame({"subject": [f"M{i:03d}" for i in range(5000)], "vmax": 812.5})
    with pytest.raises(FileSystemError) as info:
        write_csv(table, target)
    assert str(info.value) == f"{target}: cannot write: no space left on the disk"
    assert info.value.exit_status == 1
    assert target.read_text() == "old\n" and listing(tmp_path) == ["trials.csv"]


def test_permissions_are_set_before_the_file_has_its_name(tmp_path):
    key = write_text(tmp_path / "key.json", "{}\n", permissions=0o600)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    # a named temporary left by a process that died (where O_TMPFILE is missing)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = tmp_path / f".out.csv.{dead.stdout.strip()}-0a1b2c3d.tmp"
    stale.write_text("half a row")
    mine = tmp_path / f".out.csv.{os.getpid()}-00000000.tmp"  # a live writer's: kept
    mine.write_text("in progress")
    write_text(tmp_path / "out.csv", "done\n")
    assert listing(tmp_path) == [mine.name, "out.csv"]


def test_output_folders_are_checked_before_any_work(tmp_path):
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    with pytest.raises(FileSystemError, match="is a file, not a folder"):
        prepare_folder(a_file)
    with pytest.raises(FileSystemError, match="cannot create the folder: a part of the path "
                                              "is a file"):
        prepare_output(a_file / "sub" / "out.csv")
    with pytest.raises(FileSystemError, match="the folder does not exist"):
        prepare_folder(tmp_path / "missing", create=False)
    with pytest.raises(FileSystemError, match="is a folder; give a file name"):
        prepare_output(tmp_path)
    assert prepare_output(tmp_path / "new" / "deeper" / "out.csv").parent.is_dir()
    assert listing(tmp_path) == ["new", "new/deeper", "plain.txt"]  # no probe file left


def test_on_a_nearly_full_disk_a_copy_is_never_committed_short(small_disk, monkeypatch):
    # the fallback where the unnamed file cannot be linked: it is copied; a copy that
    # the disk cut short must fail, not become the file (it did: 4096 of 24090 bytes)
    disk = small_disk(100)
    fill(disk, 28672)
    monkeypatch.setattr(atomic, "_link_unnamed",
                        lambda *a: (_ for _ in ()).throw(OSError(errno.EXDEV, "EXDEV")))
    with pytest.raises(FileSystemError, match="no space left on the disk"):
        write_text(disk / "report.html", "y" * 24090)
    assert listing(disk) == ["filler.bin"]
    monkeypatch.undo()
    write_text(disk / "report.html", "y" * 24090)  # linked in place: fits, and whole
    assert (disk / "report.html").read_text() == "y" * 24090


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
