"""Shared fixtures: real file-system faults (a read-only folder, a nearly full disk).

As root (CI and this project's machines) a small tmpfs is mounted, read-only or of a
few kilobytes, so the operating system itself refuses the write — the only test that
holds for root, whom permission bits do not stop. Without root, a read-only folder
falls back to permission bits, and a full disk cannot be made: the test is skipped
with the reason.
"""

from __future__ import annotations

import contextlib
import os

# Qt tests run without a screen, whoever starts pytest (set before any Qt import)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(target: Path, options: str) -> bool:
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                         capture_output=True, text=True)
    return run.returncode == 0


def _unmount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True)


@contextlib.contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    """``path`` (created) as a folder nothing can be written in."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        if not _mount(path, "ro,size=64k"):
            pytest.skip("cannot mount a read-only tmpfs here (root without mount rights)")
        try:
            yield path
        finally:
            _unmount(path)
    else:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)


@contextlib.contextmanager
def small_disk(path: Path, size: str = "48k") -> Iterator[Path]:
    """``path`` (created) as a file system of ``size`` bytes: writing more fails with
    ENOSPC ("no space left on device")."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not _mount(path, f"size={size}"):
        pytest.skip("a full disk needs a small tmpfs, which only root can mount")
    try:
        yield path
    finally:
        _unmount(path)


@pytest.fixture
def read_only(tmp_path):
    """``read_only(name)``: a folder under tmp_path nothing can be written in (a
    context manager)."""
    return lambda name="read-only": read_only_folder(tmp_path / name)


@pytest.fixture
def full_disk(tmp_path):
    """``full_disk(name, size)``: a folder on a file system of ``size`` (a context
    manager)."""
    return lambda name="full", size="48k": small_disk(tmp_path / name, size)


#: Real recordings from other labs, beside the project (see ../shared/data/real/README.md)
REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


@pytest.fixture
def real():
    """``real("mouse-chamber/x.avi")`` -> path in ../shared/data/real, or skip."""

    def find(path: str) -> Path:
        p = REAL / path
        if not p.exists():
            pytest.skip(f"real recording {p} not available (../shared/data/real missing)")
        return p

    return find
