"""The Sessions page: prepare, follow, lock and unblind blinded sessions.

The same core functions as ``behavior blind create|status|lock|unblind``:
:func:`behavior.blinding.create.create_session` (after
:func:`~behavior.blinding.tables.read_groups` / ``match_groups``),
:func:`behavior.blinding.lock.session_status`, :func:`~behavior.blinding.lock.lock_session`
and :func:`~behavior.blinding.lock.unblind` with :func:`behavior.blinding.key.read_key`;
the unblinded table is written by :func:`behavior.blinding.tables.write_table` (as the
command line writes it). Creating a session copies every video: it runs in a worker
thread, so the window stays responsive. Progress shows observers and counts only —
no file, subject or group — until the key is used.
"""

from __future__ import annotations

import html
from pathlib import Path

from behavior_gui.figure_view import FrameTable, Task
from behavior_gui.settings import Settings
from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from behavior.errors import BehaviorError

#: shipped protocols a session can be made with (file name, label)
PROTOCOLS = (("mouse_fst", "Mouse forced swim test (120–360 s)"),
             ("rat_modified_fst", "Rat modified forced swim test"),
             ("mouse_tst", "Mouse tail suspension test"))
BEHAVIOURS = (("immobility", "Immobility"),
              ("immobility,swimming,climbing", "Immobility, swimming and climbing (rat)"))
VIDEO_FILTER = "Videos (*.mp4 *.mov *.avi *.mkv *.wmv *.asf *.m4v *.mpg *.mpeg);;All files (*)"


def _create(videos: list[str], groups_path: str, session_dir: str, key_path: str,
            protocol: str, observers: str, behaviours: str):
    """What ``behavior blind create`` does, in the same order (runs in a worker)."""
    from behavior.blinding.create import create_session, remove_stale_staging
    from behavior.blinding.lock import observer_list
    from behavior.blinding.tables import match_groups, read_groups
    from behavior.io.atomic import prepare_folder
    from behavior.protocols import load_fst_protocol

    proto = load_fst_protocol(protocol)
    paths = [Path(v) for v in videos]
    groups = match_groups(paths, read_groups(groups_path), groups_path)
    stale = remove_stale_staging(prepare_folder(Path(session_dir).parent))
    made = create_session(paths, groups, session_dir, key_path, proto,
                          observers=observer_list(observers),
                          behaviours=observer_list(behaviours))
    return made, stale


class SessionsPage(QWidget):
    """Signals ``message(text)`` (status bar) and ``unblinded(path)`` (a scores table
    was written: the Statistics page can take it)."""

    message = pyqtSignal(str)
    unblinded = pyqtSignal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.task: Task | None = None
        self.last_created = None
        self.last_scores = None
        self._key_for: tuple[str, str] | None = None  # (session, its key) just made here
        self._build()
        self._restore()

    # -- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        create = QGroupBox("New blinded session")
        cform = QFormLayout()
        self.video_list = QListWidget()
        self.video_list.setMaximumHeight(120)
        add = QPushButton("Add videos…")
        add.clicked.connect(self.browse_videos)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.video_list.clear)
        vbuttons = QHBoxLayout()
        vbuttons.addWidget(add)
        vbuttons.addWidget(clear)
        vbuttons.addStretch(1)
        vbox = QVBoxLayout()
        vbox.addWidget(self.video_list)
        vbox.addLayout(vbuttons)
        cform.addRow("Videos", vbox)
        self.groups_edit = self._path_row(cform, "Groups table", "columns video, subject, group "
                                          "(+ factor columns such as dose_mg_kg)",
                                          lambda: self._browse_into(
                                              self.groups_edit, "Groups table",
                                              "Tables (*.csv *.tsv *.txt);;All files (*)"))
        self.session_edit = self._path_row(cform, "Session folder", "a new or empty folder: the "
                                           "observers get this one", self.browse_new_session)
        self.key_edit = self._path_row(cform, "Key file", "where the key goes (.json or .csv), "
                                       "outside the session folder; never overwritten",
                                       self.browse_new_key)
        self.observers_edit = QLineEdit()
        self.observers_edit.setPlaceholderText("ann, bob")
        self.observers_edit.setToolTip("Each observer gets their own random order; others "
                                       "can join later")
        cform.addRow("Observers", self.observers_edit)
        self.protocol_combo = QComboBox()
        for name, label in PROTOCOLS:
            self.protocol_combo.addItem(label, name)
        cform.addRow("Protocol", self.protocol_combo)
        self.behaviours_combo = QComboBox()
        for value, label in BEHAVIOURS:
            self.behaviours_combo.addItem(label, value)
        cform.addRow("Scored states", self.behaviours_combo)
        self.create_button = QPushButton("Create session")
        self.create_button.clicked.connect(self.create)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setVisible(False)
        self.create_result = QLabel("")
        self.create_result.setWordWrap(True)
        self.create_result.setTextInteractionFlags(self.create_result.textInteractionFlags()
                                                   | 1)  # selectable
        row = QHBoxLayout()
        row.addWidget(self.create_button)
        row.addWidget(self.busy, 1)
        cform.addRow(row)
        cform.addRow(self.create_result)
        cbox = QVBoxLayout()
        cbox.addLayout(cform)
        cbox.addStretch(1)

        create.setLayout(cbox)
        status = QGroupBox("Progress, lock and unblinding")
        sform = QFormLayout()
        self.status_edit = self._path_row(sform, "Session folder", "a session made by "
                                          "behavior blind create", self.browse_session)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.state_label = QLabel("")
        self.state_label.setWordWrap(True)
        srow = QHBoxLayout()
        srow.addWidget(self.state_label, 1)
        srow.addWidget(self.refresh_button)
        sform.addRow(srow)
        self.progress_table = FrameTable()
        self.progress_table.setMinimumHeight(90)
        self.progress_table.setMaximumHeight(180)
        sform.addRow(self.progress_table)
        self.allow_incomplete = QCheckBox("even if unfinished")
        self.allow_incomplete.setToolTip("Lock even if some videos are not marked finished "
                                         "(they are listed in the audit log)")
        self.lock_button = QPushButton("Lock session…")
        self.lock_button.setToolTip("Scoring ends: a SHA-256 digest of every event is stored; "
                                    "unblinding checks it")
        self.lock_button.clicked.connect(lambda: self.lock(confirm=True))
        lrow = QHBoxLayout()
        lrow.addWidget(self.lock_button)
        lrow.addWidget(self.allow_incomplete, 1)
        sform.addRow(lrow)
        self.unblind_key_edit = self._path_row(sform, "Key file", "the key written when the "
                                               "session was created",
                                               lambda: self._browse_into(
                                                   self.unblind_key_edit, "Key file",
                                                   "Keys (*.json *.csv);;All files (*)"))
        self.scores_edit = self._path_row(sform, "Scores table", "the unblinded scores (CSV): "
                                          "one row per animal with subject and group",
                                          self.browse_scores)
        self.combine_combo = QComboBox()
        self.combine_combo.addItem("One row per animal (mean over observers)", "mean")
        self.combine_combo.addItem("One row per observer and animal", "none")
        sform.addRow("Rows", self.combine_combo)
        self.unblind_button = QPushButton("Unblind")
        self.unblind_button.clicked.connect(self.unblind)
        self.unblind_result = QLabel("")
        self.unblind_result.setWordWrap(True)
        sform.addRow(self.unblind_button, self.unblind_result)
        sbox = QVBoxLayout(status)
        sbox.addLayout(sform)
        sbox.addStretch(1)

        for combo in (self.protocol_combo, self.behaviours_combo, self.combine_combo):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(16)
        outer = QHBoxLayout(self)
        outer.addWidget(create, 1)
        outer.addWidget(status, 1)

    def _path_row(self, form: QFormLayout, label: str, tip: str, browse) -> QLineEdit:
        edit = QLineEdit()
        edit.setToolTip(tip)
        edit.setPlaceholderText(tip.split(":")[0].split("(")[0].strip())
        button = QPushButton("…")
        button.setFixedWidth(32)
        button.clicked.connect(browse)
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(button)
        form.addRow(label, row)
        return edit

    # -- asking (tests replace these) --------------------------------------------------
    def ask_videos(self) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(self, "Videos to code", "", VIDEO_FILTER)
        return paths

    def ask_open(self, title: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, title, "", filters)
        return path or None

    def ask_save(self, title: str, filters: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, title, "", filters)
        return path or None

    def ask_folder(self, title: str) -> str | None:
        return QFileDialog.getExistingDirectory(self, title) or None

    def confirm(self, title: str, text: str) -> bool:
        return QMessageBox.question(self, title, text, QMessageBox.Yes | QMessageBox.No,
                                    QMessageBox.No) == QMessageBox.Yes

    def browse_videos(self) -> None:
        for p in self.ask_videos():
            self.video_list.addItem(p)

    def _browse_into(self, edit: QLineEdit, title: str, filters: str) -> None:
        path = self.ask_open(title, filters)
        if path:
            edit.setText(path)

    def browse_new_session(self) -> None:
        path = self.ask_folder("A new or empty folder for the session")
        if path:
            self.session_edit.setText(path)

    def browse_new_key(self) -> None:
        path = self.ask_save("Write the key to", "Key (*.json);;Key as CSV (*.csv)")
        if path:
            self.key_edit.setText(path)

    def browse_session(self) -> None:
        path = self.ask_folder("A blinded session folder")
        if path:
            self.status_edit.setText(path)
            self.refresh()

    def browse_scores(self) -> None:
        path = self.ask_save("Write the unblinded scores to", "CSV (*.csv)")
        if path:
            self.scores_edit.setText(path)

    # -- create ------------------------------------------------------------------------
    def videos(self) -> list[str]:
        return [self.video_list.item(i).text() for i in range(self.video_list.count())]

    def create(self) -> Task | None:
        """Start creating the session in a worker thread; returns the task."""
        if self.task is not None and self.task.isRunning():
            return None
        videos = self.videos()
        missing = [n for n, v in (("videos", videos), ("a groups table", self.groups_edit.text()),
                                  ("a session folder", self.session_edit.text()),
                                  ("a key file", self.key_edit.text())) if not v]
        if missing:
            self._say(self.create_result, "Choose " + ", ".join(missing) + " first.", error=True)
            return None
        args = (videos, self.groups_edit.text().strip(), self.session_edit.text().strip(),
                self.key_edit.text().strip(), self.protocol_combo.currentData(),
                self.observers_edit.text(), self.behaviours_combo.currentData())
        self.settings.set_value("sessions/observers", self.observers_edit.text())
        self.settings.set_value("sessions/protocol", self.protocol_combo.currentData())
        self.task = Task(lambda: _create(*args), self)
        self.task.finished_ok.connect(self._created)
        self.task.failed.connect(self._create_failed)
        self.create_button.setEnabled(False)
        self.busy.setVisible(True)
        self._say(self.create_result, f"Coding {len(videos)} video(s): copying each without its "
                  "metadata…")
        self.task.start()
        return self.task

    def _created(self, out) -> None:
        made, stale = out
        self.last_created = made
        self._done_creating()
        lines = [f"Session {made.session_id[:8]}…: {len(made.codes)} coded video(s) in "
                 f"{made.session_dir}.", f"Key written to {made.key_path} — keep it away from "
                 "the observers."]
        if made.observers:
            lines.append(f"Observers: {', '.join(made.observers)} (each has a random order).")
        lines += [f"Note: {s}" for s in (*stale, *made.cleaned)]
        lines += [f"Warning: {code}: {why} — its metadata was NOT stripped."
                  for code, why in made.copied.items()]
        self._say(self.create_result, "\n".join(lines))
        self.status_edit.setText(str(made.session_dir))
        self.unblind_key_edit.setText(str(made.key_path))
        self._key_for = (str(made.session_dir), str(made.key_path))
        self.settings.add_recent("sessions", made.session_dir)
        self.refresh()
        self.message.emit(f"created session {made.session_dir}")

    def _create_failed(self, text: str) -> None:
        self._done_creating()
        self._say(self.create_result, text, error=True)
        self.message.emit(text)

    def _done_creating(self) -> None:
        self.create_button.setEnabled(True)
        self.busy.setVisible(False)

    # -- status, lock, unblind ---------------------------------------------------------
    def refresh(self) -> bool:
        """Progress per observer (counts only, no group), and whether it is locked."""
        import pandas as pd

        from behavior.blinding.lock import session_status

        path = self.status_edit.text().strip()
        if not path:
            return False
        try:
            status = session_status(path)
        except BehaviorError as exc:
            self._say(self.state_label, str(exc), error=True)
            self.progress_table.set_frame(pd.DataFrame())
            return False
        self.settings.set_value("sessions/session", path)
        if self._key_for and path != self._key_for[0] and \
                self.unblind_key_edit.text() == self._key_for[1]:
            self.unblind_key_edit.clear()  # that key is another session's
        locked = f"locked at {status.locked_at}" if status.locked_at else "not locked"
        self._say(self.state_label, f"{status.videos} coded video(s), {status.events} scored "
                  f"event(s); {locked}.")
        frame = pd.DataFrame([{"observer": o.observer, "finished": o.finished,
                               "videos": o.assigned,
                               "done": "yes" if o.finished == o.assigned else ""}
                              for o in status.observers],
                             columns=["observer", "finished", "videos", "done"])
        self.progress_table.set_frame(frame, {"observer": "Observer", "finished": "Finished",
                                              "videos": "Videos", "done": "All finished"})
        self.lock_button.setEnabled(status.locked_at is None)
        self.status = status
        return True

    def lock(self, confirm: bool = False):
        from behavior.blinding.lock import lock_session

        path = self.status_edit.text().strip()
        if not path:
            return None
        if confirm and not self.confirm("Lock the session", "Lock this session? Nobody can "
                                        "change its scores afterwards."):
            return None
        try:
            result = lock_session(path, allow_incomplete=self.allow_incomplete.isChecked())
        except BehaviorError as exc:
            self._say(self.state_label, str(exc), error=True)
            self.message.emit(str(exc))
            return None
        self.refresh()
        extra = (f" {len(result.incomplete)} video(s) were not marked finished."
                 if result.incomplete else "")
        self.message.emit(f"locked: {result.events} event(s), SHA-256 {result.digest[:16]}…"
                          + extra)
        return result

    def unblind(self):
        from behavior.blinding.key import read_key
        from behavior.blinding.lock import empty_value_notes, unblind
        from behavior.blinding.tables import write_table
        from behavior.io.atomic import prepare_output

        session = self.status_edit.text().strip()
        key, out = self.unblind_key_edit.text().strip(), self.scores_edit.text().strip()
        if not (session and key and out):
            self._say(self.unblind_result, "Choose the session, its key file and where the "
                      "scores go.", error=True)
            return None
        try:
            prepare_output(out)
            scores, digest = unblind(session, read_key(key), key,
                                     combine=self.combine_combo.currentData())
            write_table(scores, out)
        except BehaviorError as exc:
            self._say(self.unblind_result, str(exc), error=True)
            self.message.emit(str(exc))
            return None
        empty = empty_value_notes(scores)
        text = f"Digest verified. Wrote {len(scores)} row(s) to {out}."
        if empty:
            text += (f" {len(empty)} with empty values, not 0 (see the note column): "
                     + "; ".join(empty[:3]) + (" …" if len(empty) > 3 else ""))
        self._say(self.unblind_result, text)
        self.settings.set_value("sessions/scores", out)
        self.last_scores = scores
        self.unblinded.emit(out)
        self.message.emit(f"unblinded {len(scores)} animal(s) into {out}")
        return scores, digest

    # -- helpers -----------------------------------------------------------------------
    def _say(self, label: QLabel, text: str, error: bool = False) -> None:
        label.setText(html.escape(text).replace("\n", "<br>"))
        label.setStyleSheet("color: #b00020" if error else "")

    def _restore(self) -> None:
        s = self.settings
        self.observers_edit.setText(str(s.value("sessions/observers", "") or ""))
        index = self.protocol_combo.findData(s.value("sessions/protocol", "mouse_fst"))
        self.protocol_combo.setCurrentIndex(max(index, 0))
        self.status_edit.setText(str(s.value("sessions/session", "") or ""))
        self.scores_edit.setText(str(s.value("sessions/scores", "") or ""))
