"""The video files meant by what a user picked: files, folders and patterns.

Used by every front end: the command line's ``VIDEO...`` arguments, the desktop
GUI's "pick videos or a folder", a cluster job's list.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

from behavior.errors import InputError

#: File endings taken as videos when a folder is given.
VIDEO_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".avi", ".wmv", ".asf", ".mkv", ".webm", ".mpg", ".mpeg",
    ".ts", ".mts", ".m2ts", ".3gp", ".flv", ".dv", ".vob",
})


def expand_videos(items: Sequence[str | os.PathLike[str]]) -> tuple[list[str], list[str]]:
    """The video files meant by ``items``, in order, and the items meant twice.

    A file is taken as given (a missing one is reported later, with the rest of the
    batch scored); a folder stands for the videos in it (by ending, sorted); a
    pattern with ``*``, ``?`` or ``[`` that is not itself a file is expanded (for
    shells that leave that to the program: Windows' cmd and PowerShell). A file
    meant twice (overlapping patterns, a folder and a file in it) is kept once; the
    second list names such repeats.

    Raises
    ------
    InputError
        For a folder without videos, or a pattern that matches no file.
    """
    out: list[str] = []
    for item in map(str, items):
        path = Path(item)
        if path.is_dir():
            found = sorted(str(p) for p in path.iterdir()
                           if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
            if not found:
                raise InputError(path, "is a folder with no video files in it (endings "
                                 + ", ".join(sorted(VIDEO_SUFFIXES)) + ")")
            out.extend(found)
        elif not path.exists() and any(c in item for c in "*?["):
            found = sorted(p for p in glob.glob(item) if Path(p).is_file())
            if not found:
                raise InputError(item, "no file matches this pattern")
            out.extend(found)
        else:
            out.append(item)
    seen: set[str] = set()
    unique, repeated = [], []
    for item in out:
        key = os.path.normcase(os.path.abspath(item))
        if key in seen:
            repeated.append(item)
            continue
        seen.add(key)
        unique.append(item)
    return unique, repeated
