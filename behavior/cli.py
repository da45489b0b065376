"""The ``behavior`` command: argument parsing only; every command calls the core.

Each domain registers its own sub-commands (``behavior.<domain>.commands``), so the
parsers live beside the code they drive:

    behavior fst score|rescore|calibrate ...
    behavior ppi analyze ...
    behavior stats ...
    behavior blind create|import|lock|unblind ...
    behavior agreement ...
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from behavior import __version__
from behavior.errors import BehaviorError


def echo(*parts: object, file=None, **kwargs: object) -> None:
    """Write a line for the user (stdout, or ``file=sys.stderr`` for warnings).

    The one place the command-line layer writes to the terminal; the library
    itself returns values, raises errors and logs.
    """
    print(*parts, file=sys.stdout if file is None else file, **kwargs)


#: File endings taken as videos when a folder is given.
VIDEO_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".avi", ".wmv", ".asf", ".mkv", ".webm", ".mpg", ".mpeg",
    ".ts", ".mts", ".m2ts", ".3gp", ".flv", ".dv", ".vob",
})


def video_paths(items: Sequence[str]) -> list[str]:
    """The video files meant by command-line arguments, in order.

    A file is taken as given (a missing one is reported later, with the rest of the
    batch scored); a folder stands for the videos in it (by ending, sorted); a
    pattern with ``*``, ``?`` or ``[`` that is not itself a file is expanded, for
    shells that leave that to the program (Windows' cmd and PowerShell).
    """
    import glob
    import os
    from pathlib import Path

    from behavior.errors import InputError

    out: list[str] = []
    for item in items:
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
    # a file meant twice (overlapping patterns, a folder and a file in it) is done once
    seen: set[str] = set()
    unique = []
    for item in out:
        key = os.path.normcase(os.path.abspath(item))
        if key in seen:
            print(f"behavior: note: {item} is given more than once; it is done once",
                  file=sys.stderr)
            continue
        seen.add(key)
        unique.append(item)
    return unique


def add_video_arguments(p: argparse.ArgumentParser, example: str = "videos/*.mp4") -> None:
    """The ``VIDEO...`` positional argument (expanded later by :func:`video_paths`)."""
    p.add_argument("videos", nargs="+", metavar="VIDEO",
                   help=f"video files, folders of videos, or patterns such as '{example}'")


def build_parser() -> argparse.ArgumentParser:
    from behavior.blinding import commands as blinding_commands
    from behavior.fst import commands as fst_commands
    from behavior.startle import commands as startle_commands
    from behavior.stats import commands as stats_commands

    parser = argparse.ArgumentParser(
        prog="behavior",
        description="Score rodent behaviour: forced swim immobility, prepulse inhibition, "
        "blinded manual scoring and group statistics.",
    )
    parser.add_argument("--version", action="version", version=f"behavior {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (fst_commands, startle_commands, stats_commands, blinding_commands):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for run logs
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except BehaviorError as exc:
        print(f"behavior: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("behavior: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
