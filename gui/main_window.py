"""The main window: menus with their shortcuts, a status bar, the help overlay, and
pages — the start page, then tabs ("Score" here; other parts of the GUI add theirs
with :meth:`MainWindow.add_page`).

Opening is a command in two steps, as in SLEAP: ask (the ``ask_*`` / ``confirm_*`` /
``offer_*`` methods, which tests replace), then do (the core). In a blinded session
the title, dialogs, status bar and menus name videos by their code only.
"""

from __future__ import annotations

from pathlib import Path

from behavior_gui.document import ScoringDocument
from behavior_gui.help_overlay import HelpOverlay
from behavior_gui.score_page import ScorePage
from behavior_gui.settings import COMMAND_BY_ID, Settings, SettingsDialog
from behavior_gui.start_page import StartPage
from PyQt5.QtCore import QEvent, Qt
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (
    QAction,
    QApplication,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from behavior.blinding import database as db
from behavior.blinding.open_scoring import is_open, open_video_scoring
from behavior.blinding.session import ScoringSession
from behavior.errors import BehaviorError

#: shipped protocols offered for a new open-scoring database (file name, label)
OPEN_PROTOCOLS = (("mouse_fst", "Mouse forced swim test (scored 120–360 s)"),
                  ("rat_modified_fst", "Rat modified forced swim test (immobility, swimming, "
                                       "climbing)"),
                  ("mouse_tst", "Mouse tail suspension test"))

MENUS = (
    ("&File", ("open_session", "open_video", "@recent", "close", "-", "settings", "-", "quit")),
    ("&Playback", ("play", "slower", "faster", "normal_speed", "-", "frame_back",
                   "frame_forward", "back_1s", "forward_1s", "back_5s", "forward_5s", "-",
                   "window_start", "video_start")),
    ("&Score", ("@holds", "-", "prev_bout", "next_bout", "start_earlier", "start_later",
                "end_earlier", "end_later", "delete_bout", "-", "undo", "redo", "-", "finish",
                "next_video", "prev_video")),
    ("&View", ("fit", "crop", "uncrop")),
    ("&Help", ("help", "@about")),
)
#: commands that repeat while their key is held (stepping), the others fire once
REPEATING = {"frame_back", "frame_forward", "back_1s", "forward_1s", "start_earlier",
             "start_later", "end_earlier", "end_later", "slower", "faster"}
#: commands that need an open video
NEED_VIDEO = {"play", "slower", "faster", "normal_speed", "frame_back", "frame_forward",
              "back_1s", "forward_1s", "back_5s", "forward_5s", "window_start", "video_start",
              "prev_bout", "next_bout", "next_video", "prev_video", "fit", "crop", "uncrop",
              "close"}
NEED_WRITE = {"start_earlier", "start_later", "end_earlier", "end_later", "delete_bout", "undo",
              "redo", "finish"}


class MainWindow(QMainWindow):
    """The desktop GUI's window.

    Parameters
    ----------
    settings_path
        An INI file for the user's settings (default: Qt's per-user place, or
        ``BEHAVIOR_GUI_SETTINGS``).
    """

    def __init__(self, settings_path: str | Path | None = None):
        super().__init__()
        self.settings = Settings(settings_path)
        self.doc: ScoringDocument | None = None
        self.start_page = StartPage(self.settings)
        self.score_page = ScorePage(self.settings)
        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.setTabBarAutoHide(True)
        self.pages.addTab(self.score_page, "Score")
        # -- issue 16, part 2: the Auto-score page (its button on the start page) ---------
        from behavior_gui.autoscore_page import AutoScorePage

        self.autoscore_page = AutoScorePage(self.settings)
        self.add_page(self.autoscore_page, "Auto-score")
        self.start_page.add_tool("Auto-score videos…", "Score a folder of forced swim videos "
                                 "automatically", lambda: self.show_page(self.autoscore_page))
        self.autoscore_page.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        # -- end of the Auto-score page ----------------------------------------------------
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(self.pages)
        self.setCentralWidget(self.stack)
        self.help = HelpOverlay(self.stack)
        self.mode_label = QLabel("")
        self.progress_label = QLabel("")
        self.statusBar().addPermanentWidget(self.mode_label)
        self.statusBar().addPermanentWidget(self.progress_label)
        self.actions_by_id: dict[str, QAction] = {}
        self._build_menus()
        self.start_page.open_session.connect(lambda p: self.open_session(p or None))
        self.start_page.open_video.connect(lambda p: self.open_video(p or None))
        self.score_page.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.score_page.state_changed.connect(self._update_state)
        keys = self.score_page.keys
        keys.window = self
        keys.active = lambda: self.stack.currentWidget() is self.pages and \
            self.pages.currentWidget() is self.score_page and not self.help.isVisible()
        QApplication.instance().installEventFilter(keys)
        self.resize(1280, 800)
        self.setMinimumSize(1024, 680)
        self._update_state()
        # -- analysis tabs (issue 16: Agreement, Statistics, Sessions; gui/analysis_tabs.py)
        from behavior_gui.analysis_tabs import add_analysis_pages

        self.analysis = add_analysis_pages(self)

    # -- pages -------------------------------------------------------------------------
    def add_page(self, widget: QWidget, title: str) -> int:
        """Add a tab beside "Score" (for other parts of the GUI); returns its index."""
        return self.pages.addTab(widget, title)

    def show_page(self, widget: QWidget) -> None:
        """Show a page (a tab), also when no session or video is open."""
        self.stack.setCurrentWidget(self.pages)
        self.pages.setCurrentWidget(widget)

    @property
    def blinded(self) -> bool:
        """True while a blinded session is open (pages must then show codes only)."""
        return self.doc is not None and self.doc.blinded

    # -- menus -------------------------------------------------------------------------
    def _handlers(self) -> dict:
        p, s = self.score_page.player, self.score_page
        return {
            "play": p.toggle, "slower": lambda: s.change_speed(-1),
            "faster": lambda: s.change_speed(1), "normal_speed": lambda: p.set_speed(1.0),
            "frame_back": lambda: p.step(-1), "frame_forward": lambda: p.step(1),
            "back_1s": lambda: p.jump(-1), "forward_1s": lambda: p.jump(1),
            "back_5s": lambda: p.jump(-5), "forward_5s": lambda: p.jump(5),
            "window_start": s.go_window_start, "video_start": lambda: p.seek_index(0),
            "prev_bout": lambda: s.select_neighbour(-1), "next_bout": lambda: s.select_neighbour(1),
            "start_earlier": lambda: s.nudge("start", -1),
            "start_later": lambda: s.nudge("start", 1),
            "end_earlier": lambda: s.nudge("end", -1), "end_later": lambda: s.nudge("end", 1),
            "delete_bout": s.delete_selected, "undo": s.undo, "redo": s.redo, "finish": s.finish,
            "next_video": lambda: s.go_video(1), "prev_video": lambda: s.go_video(-1),
            "fit": lambda: s.view.set_fit(self.actions_by_id["fit"].isChecked()),
            "crop": s.choose_crop, "uncrop": s.uncrop, "help": self.toggle_help,
            "open_session": lambda: self.open_session(None),
            "open_video": lambda: self.open_video(None), "close": self.close_document,
            "settings": self.edit_settings, "quit": self.close,
        }

    def _build_menus(self) -> None:
        handlers = self._handlers()
        bar = self.menuBar()
        for title, ids in MENUS:
            menu = bar.addMenu(title)
            for cid in ids:
                if cid == "-":
                    menu.addSeparator()
                elif cid == "@recent":
                    self.recent_menu = menu.addMenu("Open &Recent")
                    self.recent_menu.aboutToShow.connect(self._fill_recent)
                elif cid == "@holds":
                    self.holds_menu = menu
                    self.hold_actions: list[QAction] = []
                elif cid == "@about":
                    menu.addAction("About behavior", self._about)
                else:
                    action = QAction(COMMAND_BY_ID[cid].text, self)
                    action.setAutoRepeat(cid in REPEATING)
                    action.setShortcutContext(Qt.WindowShortcut)
                    action.triggered.connect(handlers[cid])
                    if cid == "fit":
                        action.setCheckable(True)
                        action.setChecked(True)
                    menu.addAction(action)
                    self.addAction(action)  # shortcuts work with the menu bar hidden too
                    self.actions_by_id[cid] = action
        self.apply_shortcuts()

    def apply_shortcuts(self) -> None:
        """Shortcuts from the settings (shown beside each menu entry)."""
        for cid, action in self.actions_by_id.items():
            keys = [QKeySequence(self.settings.shortcut(cid))]
            if cid == "help":
                keys.append(QKeySequence("?"))
            if cid == "redo":
                keys.append(QKeySequence("Ctrl+Y"))
            action.setShortcuts([k for k in keys if not k.isEmpty()])
        self._fill_holds()

    def _fill_holds(self) -> None:
        for a in getattr(self, "hold_actions", []):
            self.holds_menu.removeAction(a)
        self.hold_actions = []
        behaviours = self.doc.behaviours if self.doc else ("immobility",)
        first = self.holds_menu.actions()[0] if self.holds_menu.actions() else None
        for b in behaviours:
            key = self.settings.hold_key(b)
            # the key goes after a tab: shown as the entry's key, not made a shortcut
            # (holding needs the press and the release, which HoldKeys handles)
            a = QAction(f"Hold to Score {b.capitalize()}\tHold {key}", self)
            a.setEnabled(False)
            self.holds_menu.insertAction(first, a)
            self.hold_actions.append(a)
        for i, point in enumerate(self.doc.points if self.doc else ()):
            a = QAction(f"Mark {point.replace('_', ' ').capitalize()}\t"
                        f"{self.settings.mark_key(point, i)}", self)
            a.setEnabled(False)
            self.holds_menu.insertAction(first, a)
            self.hold_actions.append(a)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent("sessions"):
            self.recent_menu.addAction(f"Session {Path(path).name}",
                                       lambda p=path: self.open_session(p))
        if not self.blinded:  # a video scored openly before could name what codes hide
            for path in self.settings.recent("videos"):
                self.recent_menu.addAction(f"Video {Path(path).name}",
                                           lambda p=path: self.open_video(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _update_state(self) -> None:
        doc = self.doc
        # no file names in a blinded session: the Auto-score page is hidden then
        self.pages.setTabVisible(self.pages.indexOf(self.autoscore_page), not self.blinded)
        has_video = doc is not None and doc.current is not None
        writable = has_video and not doc.read_only
        for cid, action in self.actions_by_id.items():
            if cid in NEED_WRITE:
                action.setEnabled(writable)
            elif cid in NEED_VIDEO:
                action.setEnabled(has_video)
        if doc is not None and writable:
            self.actions_by_id["undo"].setEnabled(doc.session.can_undo)
            self.actions_by_id["redo"].setEnabled(doc.session.can_redo)
            sel = self.score_page.selected_id >= 0
            for cid in ("start_earlier", "start_later", "end_earlier", "end_later",
                        "delete_bout"):
                self.actions_by_id[cid].setEnabled(sel)
        self._update_title()

    def _update_title(self) -> None:
        doc = self.doc
        if doc is None:
            self.setWindowTitle("behavior")
            self.mode_label.setText("")
            self.progress_label.setText("")
            return
        mode = "blinded session" if doc.blinded else "open scoring"
        if doc.read_only:
            mode += ", locked (read-only)"
        video = doc.title() or "no video"
        self.setWindowTitle(f"{video} — {mode} — {doc.observer} — behavior")
        self.mode_label.setText(f"{mode.capitalize()} · observer {doc.observer}")
        self.progress_label.setText(doc.progress())

    # -- asking (tests replace these) --------------------------------------------------
    def ask_observer(self, observers: list[str], suggested: str) -> str | None:
        items = observers or [suggested or ""]
        current = items.index(suggested) if suggested in items else 0
        name, ok = QInputDialog.getItem(self, "Observer", "Your name (as in this session):",
                                        items, current, True)
        return name.strip() if ok and name.strip() else None

    def confirm_new_observer(self, name: str, observers: list[str]) -> bool:
        known = ", ".join(observers) if observers else "none yet"
        answer = QMessageBox.question(
            self, "New observer",
            f"'{name}' is not an observer of this session (known: {known}).\n\n"
            f"Add '{name}' as a new observer, with their own random order of the videos?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def offer_interrupted(self, video: str, behaviour: str, start_s: float) -> str:
        """After a crash: ``"go"`` (re-score from there), ``"discard"`` or ``"later"``."""
        box, go, discard = self.interrupted_box(video, behaviour, start_s)
        box.exec_()
        return "go" if box.clickedButton() is go else \
            "discard" if box.clickedButton() is discard else "later"

    def interrupted_box(self, video: str, behaviour: str, start_s: float):
        """The question :meth:`offer_interrupted` asks: (box, go button, discard button)."""
        box = QMessageBox(self)
        box.setWindowTitle("A bout was being held")
        box.setIcon(QMessageBox.Question)
        article = "an" if behaviour[:1].lower() in "aeiou" else "a"
        box.setText(f"When scoring stopped unexpectedly, {article} {behaviour} bout was being "
                    f"held on video {video}, from {start_s:.2f} s. It was not saved (its end "
                    "is unknown).")
        box.setInformativeText("Go back there to score it again?")
        go = box.addButton(f"Go to {start_s:.2f} s", QMessageBox.AcceptRole)
        discard = box.addButton("Discard it", QMessageBox.DestructiveRole)
        box.addButton("Ask me later", QMessageBox.RejectRole)
        return box, go, discard

    def ask_protocol(self) -> str | None:
        labels = [label for _, label in OPEN_PROTOCOLS]
        label, ok = QInputDialog.getItem(self, "Protocol", "This video is new here. "
                                         "Score it with which protocol (window, bins)?",
                                         labels, 0, False)
        return OPEN_PROTOCOLS[labels.index(label)][0] if ok else None

    def ask_session_dir(self) -> str | None:
        path = QFileDialog.getExistingDirectory(self, "Open a blinded session folder")
        return path or None

    def ask_video_file(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Score a video openly", "",
            "Videos (*.mp4 *.mov *.avi *.mkv *.wmv *.asf *.m4v *.mpg *.mpeg);;All files (*)")
        return path or None

    def show_error(self, text: str) -> None:
        QMessageBox.warning(self, "behavior", text)

    # -- opening -----------------------------------------------------------------------
    def open_session(self, path: str | Path | None, observer: str | None = None) -> bool:
        """Open a blinded session folder (asks for the folder and the observer as needed)."""
        path = path or self.ask_session_dir()
        if not path:
            return False
        try:
            opened = self._scoring_session(path, observer)
            if opened is None:
                return False
            session, open_db = opened
        except BehaviorError as exc:
            self.show_error(str(exc))
            return False
        self._install(ScoringDocument(session, blinded=not open_db))
        self.settings.add_recent("sessions", path)
        self._resume()
        return True

    def open_video(self, path: str | Path | None, database: str | Path | None = None,
                   observer: str | None = None) -> bool:
        """Score one video openly into ``database`` (default: a new one beside it)."""
        path = path or self.ask_video_file()
        if not path:
            return False
        try:
            from behavior.blinding.open_scoring import default_database
            from behavior.protocols import load_fst_protocol

            target = Path(database) if database else default_database(path)
            protocol = None
            if not target.exists():
                name = self.ask_protocol()
                if name is None:
                    return False
                protocol = load_fst_protocol(name)
            dbfile, code = open_video_scoring(path, target, protocol)
            opened = self._scoring_session(dbfile, observer)
            if opened is None:
                return False
            session = opened[0]
        except BehaviorError as exc:
            self.show_error(str(exc))
            return False
        self._install(ScoringDocument(session, blinded=False))
        self.settings.add_recent("videos", path)
        self._resume(code)
        return True

    def _scoring_session(self, path: str | Path, observer: str | None
                         ) -> tuple[ScoringSession, bool] | None:
        """``(session, open scoring?)`` of the database at ``path`` as the observer given
        or asked for; None if no name was chosen."""
        conn = db.open_database(path)
        try:
            observers, open_db = db.read_observers(conn), is_open(conn)
            locked = db.is_locked(conn)
        finally:
            conn.close()
        name = self._observer(observers, observer, locked)
        return None if name is None else (ScoringSession(path, name), open_db)

    def _observer(self, observers: list[str], given: str | None, locked: bool) -> str | None:
        name = (given or "").strip() or self.ask_observer(observers, self.settings.last_observer)
        if not name:
            return None
        if name not in observers:
            if locked:
                raise BehaviorError(f"the session is locked: '{name}' cannot join it "
                                    f"(observers: {', '.join(observers) or 'none'})")
            if observers and not self.confirm_new_observer(name, observers):
                return None
        self.settings.last_observer = name
        return name

    def _install(self, doc: ScoringDocument) -> None:
        self.close_document()
        self.doc = doc
        self.score_page.set_document(doc)
        self.start_page.refresh(show_videos=not doc.blinded)
        self.stack.setCurrentWidget(self.pages)
        self.pages.setCurrentWidget(self.score_page)
        self._fill_holds()
        self._update_state()
        if doc.read_only:
            self.statusBar().showMessage("This session is locked: it opens read-only", 15000)

    def _resume(self, code: str | None = None) -> None:
        """Open where the observer was; first offer back a bout held when a run crashed."""
        doc = self.doc
        pending = doc.interrupted_hold() if not doc.read_only else None
        if pending is not None:
            video, behaviour, start_s = pending
            choice = self.offer_interrupted(doc.title(video), behaviour, start_s)
            if choice in ("go", "discard"):
                doc.dismiss_interrupted()
            if choice == "go":
                self.score_page.open_code(video, start_s=start_s)
                return
        self.score_page.open_code(code or doc.first_code())

    def close_document(self) -> None:
        """Close the open session or video (the hold is closed, the position saved)."""
        if self.doc is None:
            return
        self.score_page.shutdown()
        self.score_page.set_document(None)
        self.doc.close()
        self.doc = None
        self.start_page.refresh()
        self.stack.setCurrentWidget(self.start_page)
        self._fill_holds()
        self._update_state()

    # -- other commands ----------------------------------------------------------------
    def edit_settings(self) -> None:
        behaviours = self.doc.behaviours if self.doc else ("immobility", "swimming", "climbing")
        points = self.doc.points if self.doc else ()
        if SettingsDialog(self.settings, behaviours, self, points=points).exec_():
            self.apply_shortcuts()
            self.score_page.rebind_keys()

    def toggle_help(self) -> None:
        holds = [(self.settings.hold_key(b), b) for b in
                 (self.doc.behaviours if self.doc else ("immobility",))]
        groups = []
        for title, ids in MENUS:
            items = [(COMMAND_BY_ID[c].text, self.actions_by_id[c].shortcut().toString(
                QKeySequence.NativeText)) for c in ids if c in self.actions_by_id]
            groups.append((title.replace("&", ""), items))
        marks = [(self.settings.mark_key(p, i), p)
                 for i, p in enumerate(self.doc.points if self.doc else ())]
        self.help.set_keys(holds, groups, marks)
        self.help.toggle()

    def _about(self) -> None:
        QMessageBox.about(self, "About behavior",
                          "<b>behavior</b>: forced swim scoring, blinded observer sessions, "
                          "prepulse inhibition and group statistics.<br>Scores are saved "
                          "in the session's database as they are made.")

    # -- window events -----------------------------------------------------------------
    def changeEvent(self, event) -> None:
        if event.type() == QEvent.ActivationChange and not self.isActiveWindow():
            # a key released while another window has the keyboard never comes here
            self.score_page.keys.release_all()
        super().changeEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.help.isVisible():
            self.help.setGeometry(self.stack.rect())

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Escape and self.help.isVisible():
            self.help.hide()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event) -> None:
        self.autoscore_page.shutdown()
        self.close_document()
        QApplication.instance().removeEventFilter(self.score_page.keys)
        self.settings.sync()
        super().closeEvent(event)
