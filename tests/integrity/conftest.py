"""Fixtures for the data-integrity tests: read-only folders, full disks, real processes.

Tests may run as root, for whom ``chmod 0o555`` does not stop writes. A read-only
folder is then a read-only bind mount of the folder on itself, and a full disk a
tiny tmpfs; where mounting is not allowed either, the test is skipped with the
reason (or, for a full disk, the write is made to fail at a chosen byte).
"""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

# the builders of the blinding tests (synthetic clips, sessions, traces)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "blinding"))

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _run(*cmd: str) -> bool:
    return subprocess.run(list(cmd), capture_output=True).returncode == 0


@pytest.fixture
def make_read_only():
    """``make_read_only(folder)``: nobody, root included, can write in ``folder`` until
    the test ends."""
    undo = []

    def make(folder: Path) -> Path:
        folder = Path(folder)
        if not IS_ROOT:
            mode = folder.stat().st_mode
            folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
            undo.append(lambda: folder.chmod(mode))
            return folder
        if not (_run("mount", "--bind", str(folder), str(folder))):
            pytest.skip("running as root, and bind mounts are not allowed here: "
                        "cannot make a folder read-only")
        undo.append(lambda: _run("umount", "-l", str(folder)))
        if not _run("mount", "-o", "remount,bind,ro", str(folder)):
            pytest.skip("running as root, and read-only remounts are not allowed here")
        return folder

    yield make
    for step in reversed(undo):
        with contextlib.suppress(Exception):
            step()


@pytest.fixture
def small_disk(tmp_path):
    """``small_disk(kib)``: a folder on a file system of ``kib`` KiB (a tmpfs; root only)."""
    mounted = []

    def make(kib: int) -> Path:
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        if not IS_ROOT or not _run("mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs",
                                   str(folder)):
            pytest.skip("cannot mount a small tmpfs here (needs root)")
        mounted.append(folder)
        return folder

    yield make
    for folder in mounted:
        _run("umount", "-l", str(folder))
