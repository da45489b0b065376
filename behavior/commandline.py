"""What every ``behavior`` sub-command shares: writing to the terminal, the
``VIDEO...`` argument, and saying notices and settings in the command line's words.

Each domain's ``commands`` module imports from here (never from
:mod:`behavior.cli`, which imports them), so the layers go one way:
``behavior.cli`` -> ``<domain>.commands`` -> ``behavior.commandline`` -> the core.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence

from behavior.notices import INFO, Notice


def echo(*parts: object, file=None, **kwargs: object) -> None:
    """Write a line for the user (stdout, or ``file=sys.stderr`` for warnings).

    The one place the command-line layer writes to the terminal; the library
    itself returns values, raises errors and logs.
    """
    print(*parts, file=sys.stdout if file is None else file, **kwargs)


def video_paths(items: Sequence[str]) -> list[str]:
    """The video files meant by command-line arguments, in order
    (:func:`behavior.io.paths.expand_videos`); a file meant twice is done once,
    with a note."""
    from behavior.io.paths import expand_videos

    unique, repeated = expand_videos(items)
    for item in repeated:
        echo(f"behavior: note: {item} is given more than once; it is done once",
             file=sys.stderr)
    return unique


def add_video_arguments(p: argparse.ArgumentParser, example: str = "videos/*.mp4") -> None:
    """The ``VIDEO...`` positional argument (expanded later by :func:`video_paths`)."""
    p.add_argument("videos", nargs="+", metavar="VIDEO",
                   help=f"video files, folders of videos, or patterns such as '{example}'")


#: How the command line sets each setting a notice may name.
SETTING_FLAGS = {
    "start_s": "--start-s, or start_s in VIDEO.arenas.yaml",
    "end_s": "--end-s, or end_s in VIDEO.arenas.yaml",
    "arena_rects": "--arena-rects, or arenas in VIDEO.arenas.yaml",
    "n_arenas": "--arenas N",
    "background": "--background, or background in VIDEO.arenas.yaml",
    "threshold": "--threshold, or behavior fst calibrate",
    "min_bout_s": "--min-bout-s",
    "shake_px": "--shake-px",
    "window_s": "--window-s",
    "animal": "--set animal=dark|light",
    "test": "--test",
}


def settings_named(text: str) -> list[str]:
    """The settings of :data:`SETTING_FLAGS` that ``text`` names (as whole words)."""
    import re

    return [s for s in SETTING_FLAGS if re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", text)]


def error_line(exc: BaseException, prefix: str = "behavior") -> str:
    """An error as one terminal line, with how to change the settings it names."""
    text = str(exc)
    how = [SETTING_FLAGS[s] for s in settings_named(text)]
    hint = f" [{'; '.join(how)}]" if how else ""
    return f"{prefix}: error: {text}{hint}"


def notice_line(notice: Notice, prefix: str = "behavior") -> str:
    """A notice as one terminal line, with how to change the settings it names:
    ``behavior: warning: m1.mp4: arena 2: ... [--start-s, or ...]``."""
    how = [SETTING_FLAGS.get(s, f"--set {s}=...") for s in notice.settings]
    hint = f" [{'; '.join(how)}]" if how else ""
    return f"{prefix}: {notice.severity}: {notice.text()}{hint}"


def echo_notices(found: Iterable[Notice]) -> None:
    """Each warning and error once, on stderr; information (e.g. that one arena was
    counted) only with ``--verbose`` (logging at INFO): it is in the run log and the
    results' ``note`` column anyway."""
    import logging

    loud = logging.getLogger().getEffectiveLevel() <= logging.INFO
    shown: list[Notice] = []
    for n in found:
        if n.severity == INFO and not loud:
            continue
        if n not in shown:
            shown.append(n)
            echo(notice_line(n), file=sys.stderr)
