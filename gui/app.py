"""``behavior gui``: start the desktop GUI.

    behavior gui SESSION_DIR [--observer NAME]          a blinded session
    behavior gui --video FILE [--db FILE] [--observer NAME]   one video, open scoring
    behavior gui                                        the start page
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PyQt5.QtCore import QCoreApplication, Qt
from PyQt5.QtWidgets import QApplication

from behavior.blinding import database as db
from behavior.errors import BehaviorError, InputError


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse what cannot be opened before any window shows (one line from the CLI)."""
    session = getattr(args, "session", None)
    video = getattr(args, "video", None)
    if session and video:
        raise BehaviorError("give a session folder or --video, not both")
    if getattr(args, "db", None) and not video:
        raise BehaviorError("--db goes with --video (a session folder holds its own database)")
    if session:
        db.open_database(session).close()  # InputError names the folder and the problem
    if video and not Path(video).is_file():
        raise InputError(video, "no such video file")


def make_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication, high-DPI aware (the attributes must precede it)."""
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setAttribute(Qt.AA_EnableHighDpiScaling, True)
        QCoreApplication.setAttribute(Qt.AA_UseHighDpiPixmaps, True)
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("behavior")
    app.setOrganizationName("behavior")
    return app


def run(args: argparse.Namespace) -> int:
    """Open the window as the arguments say and run until it closes; the exit status."""
    check_arguments(args)
    app = make_app()
    from behavior_gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    window.raise_()
    window.activateWindow()
    if getattr(args, "session", None):
        window.open_session(args.session, observer=getattr(args, "observer", None))
    elif getattr(args, "video", None):
        window.open_video(args.video, database=getattr(args, "db", None),
                          observer=getattr(args, "observer", None))
    return int(app.exec_())
