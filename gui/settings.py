"""Per-user settings (QSettings): hold keys, shortcuts, the release debounce, recent files.

Stored where Qt keeps a user's settings (an INI file: ``~/.config/behavior/behavior-gui.ini``
on Linux), or in the INI file named by the ``BEHAVIOR_GUI_SETTINGS`` environment variable
(tests, several profiles).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PyQt5.QtCore import QSettings, Qt
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QKeySequenceEdit,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

#: behaviour -> key held to score it (the rat modified FST adds K and L)
DEFAULT_HOLD_KEYS = {"immobility": "J", "swimming": "K", "climbing": "L"}
#: keys pressed once to mark a protocol's point events, in the protocol's order
DEFAULT_MARK_KEYS = "123456789"
#: how long (ms) a release waits for the same key's press before ending the hold: X11
#: and Windows send a held key as release/press pairs a few ms apart
DEFAULT_RELEASE_GRACE_MS = 50
RECENT_MAX = 8


@dataclass(frozen=True)
class Command:
    """One menu command with a default shortcut (settable)."""

    id: str
    text: str
    key: str
    tip: str = ""


#: every command with a shortcut, in menu order (ids are stable: settings keys)
COMMANDS: tuple[Command, ...] = (
    Command("play", "Play / Pause", "Space"),
    Command("slower", "Slower", "["),
    Command("faster", "Faster", "]"),
    Command("normal_speed", "Normal Speed (1×)", "\\"),
    Command("frame_back", "Previous Frame", "Left"),
    Command("frame_forward", "Next Frame", "Right"),
    Command("back_1s", "Back 1 s", "Shift+Left"),
    Command("forward_1s", "Forward 1 s", "Shift+Right"),
    Command("back_5s", "Back 5 s", "Ctrl+Left"),
    Command("forward_5s", "Forward 5 s", "Ctrl+Right"),
    Command("window_start", "Go to Window Start", "Home"),
    Command("video_start", "Go to Video Start", "Ctrl+Home"),
    Command("prev_bout", "Select Previous Bout", "Ctrl+["),
    Command("next_bout", "Select Next Bout", "Ctrl+]"),
    Command("start_earlier", "Move Bout Start 1 Frame Earlier", "Alt+Left"),
    Command("start_later", "Move Bout Start 1 Frame Later", "Alt+Right"),
    Command("end_earlier", "Move Bout End 1 Frame Earlier", "Alt+Shift+Left"),
    Command("end_later", "Move Bout End 1 Frame Later", "Alt+Shift+Right"),
    Command("delete_bout", "Delete Bout", "Del"),
    Command("undo", "Undo", "Ctrl+Z"),
    Command("redo", "Redo", "Ctrl+Shift+Z"),
    Command("finish", "Mark Finished and Go to Next Video", "Ctrl+Return"),
    Command("next_video", "Next Video", "Ctrl+PgDown"),
    Command("prev_video", "Previous Video", "Ctrl+PgUp"),
    Command("fit", "Zoom to Fit", "Ctrl+0"),
    Command("crop", "Crop to Arena…", "Ctrl+R"),
    Command("uncrop", "Show Whole Frame", "Ctrl+Shift+R"),
    Command("help", "Keyboard Help", "F1"),
    Command("open_session", "Open Session…", "Ctrl+O"),
    Command("open_video", "Score a Video Openly…", "Ctrl+Shift+O"),
    Command("close", "Close", "Ctrl+W"),
    Command("settings", "Keys and Settings…", "Ctrl+,"),
    Command("quit", "Quit", "Ctrl+Q"),
)
COMMAND_BY_ID = {c.id: c for c in COMMANDS}


def key_name(key: int) -> str:
    """The text of a Qt key code (``Qt.Key_J`` -> ``"J"``)."""
    return QKeySequence(key).toString()


def key_code(name: str) -> int:
    """The Qt key code of a key's text (``"J"`` -> ``Qt.Key_J``); 0 if none."""
    seq = QKeySequence(name)
    return int(seq[0]) & ~int(Qt.KeyboardModifierMask) if seq.count() else 0


class Settings:
    """The user's settings, read and written through QSettings."""

    def __init__(self, path: str | Path | None = None):
        path = path or os.environ.get("BEHAVIOR_GUI_SETTINGS")
        if path:
            self.q = QSettings(str(path), QSettings.IniFormat)
        else:
            self.q = QSettings(QSettings.IniFormat, QSettings.UserScope, "behavior", "behavior-gui")

    # -- keys --------------------------------------------------------------------------
    def hold_key(self, behaviour: str) -> str:
        return str(self.q.value(f"hold_keys/{behaviour}", DEFAULT_HOLD_KEYS.get(behaviour, "")))

    def set_hold_key(self, behaviour: str, key: str) -> None:
        self.q.setValue(f"hold_keys/{behaviour}", key)

    def mark_key(self, point: str, index: int = 0) -> str:
        """The key pressed once to mark ``point`` (the ``index``-th point event)."""
        default = DEFAULT_MARK_KEYS[index] if index < len(DEFAULT_MARK_KEYS) else ""
        return str(self.q.value(f"mark_keys/{point}", default))

    def set_mark_key(self, point: str, key: str) -> None:
        self.q.setValue(f"mark_keys/{point}", key)

    def shortcut(self, command: str) -> str:
        return str(self.q.value(f"shortcuts/{command}", COMMAND_BY_ID[command].key))

    def set_shortcut(self, command: str, key: str) -> None:
        self.q.setValue(f"shortcuts/{command}", key)

    @property
    def release_grace_ms(self) -> int:
        return int(self.q.value("scoring/release_grace_ms", DEFAULT_RELEASE_GRACE_MS))

    @release_grace_ms.setter
    def release_grace_ms(self, ms: int) -> None:
        self.q.setValue("scoring/release_grace_ms", int(ms))

    # -- names and recent files --------------------------------------------------------
    @property
    def last_observer(self) -> str:
        return str(self.q.value("last_observer", ""))

    @last_observer.setter
    def last_observer(self, name: str) -> None:
        self.q.setValue("last_observer", name)

    def recent(self, kind: str) -> list[str]:
        """Recent ``"sessions"`` or ``"videos"``, newest first, those that still exist."""
        value = self.q.value(f"recent/{kind}", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [p for p in items if p and Path(p).exists()]

    def add_recent(self, kind: str, path: str | Path) -> None:
        p = str(Path(path).absolute())
        items = [p] + [x for x in self.recent(kind) if x != p]
        self.q.setValue(f"recent/{kind}", items[:RECENT_MAX])

    def value(self, key: str, default=None):
        return self.q.value(key, default)

    def set_value(self, key: str, value) -> None:
        self.q.setValue(key, value)

    def sync(self) -> None:
        self.q.sync()


class KeyButton(QPushButton):
    """A button that, once clicked, takes the next key pressed as its key."""

    def __init__(self, key: str, parent: QWidget | None = None):
        super().__init__(key, parent)
        self.key = key
        self.setCheckable(True)
        self.setToolTip("Click, then press the key to hold")
        self.toggled.connect(lambda on: self.setText("Press a key…" if on else self.key))

    def keyPressEvent(self, event) -> None:
        if not self.isChecked() or event.isAutoRepeat():
            return super().keyPressEvent(event)
        if event.key() != Qt.Key_Escape:
            self.key = key_name(event.key())
        self.setChecked(False)


class SettingsDialog(QDialog):
    """Hold keys, shortcuts and the release debounce; written to :class:`Settings` on OK."""

    def __init__(self, settings: Settings, behaviours: tuple[str, ...], parent=None, *,
                 points: tuple[str, ...] = ()):
        super().__init__(parent)
        self.setWindowTitle("Keys and Settings")
        self.settings = settings
        layout = QVBoxLayout(self)
        holds = QGroupBox("Hold to score (press when the state starts, release when it ends)")
        form = QFormLayout(holds)
        self.hold_buttons: dict[str, KeyButton] = {}
        for b in behaviours:
            self.hold_buttons[b] = KeyButton(settings.hold_key(b))
            form.addRow(b.capitalize(), self.hold_buttons[b])
        self.grace = QSpinBox()
        self.grace.setRange(0, 200)
        self.grace.setSuffix(" ms")
        self.grace.setValue(settings.release_grace_ms)
        self.grace.setToolTip("A release followed by a press of the same key within this "
                              "time is the keyboard's auto-repeat, not the end of the hold")
        form.addRow("Release debounce", self.grace)
        layout.addWidget(holds)
        self.mark_buttons: dict[str, KeyButton] = {}
        if points:
            marks = QGroupBox("Mark (press once at the moment it happens)")
            mform = QFormLayout(marks)
            for i, point in enumerate(points):
                self.mark_buttons[point] = KeyButton(settings.mark_key(point, i))
                mform.addRow(point.replace("_", " ").capitalize(), self.mark_buttons[point])
            layout.addWidget(marks)
        shortcuts = QGroupBox("Shortcuts")
        sform = QFormLayout(shortcuts)
        self.edits: dict[str, QKeySequenceEdit] = {}
        for c in COMMANDS:
            edit = QKeySequenceEdit(QKeySequence(settings.shortcut(c.id)))
            self.edits[c.id] = edit
            sform.addRow(c.text.replace("…", ""), edit)
        scroll = QScrollArea()
        scroll.setWidget(shortcuts)
        scroll.setWidgetResizable(True)
        scroll.setMinimumHeight(300)
        layout.addWidget(scroll)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #b00020")
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel
                                   | QDialogButtonBox.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.RestoreDefaults).clicked.connect(self.restore_defaults)
        layout.addWidget(buttons)
        self.resize(520, 640)

    def restore_defaults(self) -> None:
        for b, button in self.hold_buttons.items():
            button.key = DEFAULT_HOLD_KEYS.get(b, "")
            button.setText(button.key)
        for i, button in enumerate(self.mark_buttons.values()):
            button.key = DEFAULT_MARK_KEYS[i] if i < len(DEFAULT_MARK_KEYS) else ""
            button.setText(button.key)
        for c in COMMANDS:
            self.edits[c.id].setKeySequence(QKeySequence(c.key))
        self.grace.setValue(DEFAULT_RELEASE_GRACE_MS)

    def clash(self) -> str:
        """Why the keys cannot be used (one key for two things), or ``""``."""
        used: dict[str, str] = {}
        for b, button in {**self.hold_buttons, **self.mark_buttons}.items():
            if not button.key:
                continue
            if button.key in used:
                return f"{button.key} is used for both {used[button.key]} and {b}"
            used[button.key] = b
        for c in COMMANDS:
            key = self.edits[c.id].keySequence().toString()
            if key and key in used:
                return f"{key} is used for both {used[key]} and {c.text}"
            if key:
                used[key] = c.text
        return ""

    def accept(self) -> None:
        problem = self.clash()
        if problem:
            self.problem.setText(problem)
            return
        for b, button in self.hold_buttons.items():
            self.settings.set_hold_key(b, button.key)
        for point, button in self.mark_buttons.items():
            self.settings.set_mark_key(point, button.key)
        for c in COMMANDS:
            self.settings.set_shortcut(c.id, self.edits[c.id].keySequence().toString())
        self.settings.release_grace_ms = self.grace.value()
        self.settings.sync()
        super().accept()
