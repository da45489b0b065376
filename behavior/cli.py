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
from behavior.commandline import (  # noqa: F401
    add_video_arguments,
    echo,
    error_line,
    video_paths,
)
from behavior.errors import BehaviorError


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
    fst_sub = fst_commands.register(sub)
    # `fst calibrate` compares traces with manual scores: the blinding domain's command
    blinding_commands.register_fst_calibrate(fst_sub)
    for module in (startle_commands, stats_commands, blinding_commands):
        module.register(sub)
    _register_gui(sub)
    return parser


def _register_gui(sub: argparse._SubParsersAction) -> None:
    """``behavior gui``: the desktop GUI (package behavior_gui, imported only here, when
    it is asked for; the core never imports Qt)."""
    p = sub.add_parser(
        "gui", help="the desktop GUI: blinded scoring, auto-scoring, agreement, statistics",
        description="Open the desktop GUI. With SESSION_DIR: score that blinded session "
                    "(only codes are shown). With --video: score one video openly into a "
                    "scoring database. Alone: the start page.")
    p.add_argument("session", nargs="?", metavar="SESSION_DIR",
                   help="a blinded session folder (behavior blind create)")
    p.add_argument("--video", metavar="FILE", help="score one video openly (not blinded)")
    p.add_argument("--db", metavar="FILE", help="with --video: the scoring database "
                   "(default: a new one beside the video)")
    p.add_argument("--observer", metavar="NAME", help="the observer's name (asked if not given)")
    p.set_defaults(func=_run_gui)


def _run_gui(args: argparse.Namespace) -> int:
    try:
        from behavior_gui.app import run
    except ImportError as exc:
        raise BehaviorError(f"the desktop GUI cannot start: {exc}; install it with "
                            "pip install \".[gui]\"") from None
    return int(run(args) or 0)


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
    except BehaviorError as exc:  # 1: a file or folder (FileSystemError), 2: the input
        print(error_line(exc), file=sys.stderr)
        return exc.exit_status
    except OSError as exc:  # the file system said no where no check foresaw it
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"behavior: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("behavior: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
