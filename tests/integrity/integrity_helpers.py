"""Helpers of the data-integrity tests: filling a disk, listing a folder."""

from __future__ import annotations

from pathlib import Path


def fill(folder: Path, leave_bytes: int = 0) -> None:
    """Fill the file system of ``folder`` up to ``leave_bytes`` free."""
    import shutil

    free = shutil.disk_usage(folder).free - leave_bytes
    with open(folder / "filler.bin", "wb") as fh:
        block = b"\0" * 4096
        while free >= len(block):
            try:
                fh.write(block)
                fh.flush()
            except OSError:
                break
            free -= len(block)


def listing(folder: Path) -> list[str]:
    """Every file and folder under ``folder``, hidden ones included, relative and sorted."""
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*"))
