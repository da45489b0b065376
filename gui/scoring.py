"""Hold-to-score: a key press starts a state, its release ends it.

A held key does not arrive as one press and one release everywhere: X11 (and so
Xvfb with xdotool) sends auto-repeat as release/press pairs a few ms apart, flagged
as auto-repeat by Qt only when the two carry the same server time, and Windows
repeats the press alone. So a release is not believed at once: the hold ends only
if no press of the same key follows within the *release grace* (50 ms by default),
and then at the time of the release itself, not at the end of the wait.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from PyQt5.QtCore import QEvent, QObject, QTimer, pyqtSignal
from PyQt5.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QTextEdit


class HoldKeys(QObject):
    """Turns key events into hold starts and ends.

    Parameters
    ----------
    clock
        The player's current time (s), read at each press and release.
    grace_ms
        How long a release waits for a press of the same key (see the module).

    Signals
    -------
    hold_started(behaviour, t_s)   a key of ``behaviour`` went down at ``t_s``
    hold_ended(behaviour, t_s)     it came up at ``t_s`` (after the grace)
    """

    hold_started = pyqtSignal(str, float)
    hold_ended = pyqtSignal(str, float)

    def __init__(self, clock: Callable[[], float], grace_ms: int = 50,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.clock = clock
        self.grace_ms = grace_ms
        self.bindings: dict[int, str] = {}  # Qt key -> behaviour
        self._down: set[int] = set()
        self._pending: dict[int, tuple[float, QTimer]] = {}
        self.enabled = True
        self.window = None  # the main window: keys count only while it is active
        self.active: Callable[[], bool] = lambda: True  # e.g. the Score page is shown
        log = os.environ.get("BEHAVIOR_GUI_KEYLOG")  # raw key events, for diagnosis
        self._log = open(log, "a", buffering=1, encoding="utf-8") if log else None  # noqa: SIM115

    def bind(self, bindings: dict[int, str]) -> None:
        self.release_all()
        self.bindings = {k: b for k, b in bindings.items() if k}

    @property
    def held_keys(self) -> set[int]:
        return set(self._down)

    # -- raw events (the event filter calls these; tests may too) ----------------------
    def press(self, key: int, auto_repeat: bool = False) -> bool:
        """A press of ``key``; True if it is a hold key (the event is used up)."""
        behaviour = self.bindings.get(key)
        if behaviour is None:
            return False
        self._trace("press", key, auto_repeat)
        pending = self._pending.pop(key, None)
        if pending is not None:
            pending[1].stop()  # the release was auto-repeat: the hold goes on
            return True
        if key in self._down or auto_repeat or not self.enabled:
            return True
        self._down.add(key)
        self.hold_started.emit(behaviour, self.clock())
        return True

    def release(self, key: int, auto_repeat: bool = False) -> bool:
        behaviour = self.bindings.get(key)
        if behaviour is None:
            return False
        self._trace("release", key, auto_repeat)
        if auto_repeat or key not in self._down or key in self._pending:
            return True
        t = self.clock()
        if self.grace_ms <= 0:
            self._end(key, t)
            return True
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(lambda k=key: self._grace_over(k))
        self._pending[key] = (t, timer)
        timer.start(self.grace_ms)
        return True

    def release_all(self) -> None:
        """End every hold now (e.g. the window lost the keyboard)."""
        t = None
        for key in list(self._down):
            pending = self._pending.pop(key, None)
            if pending is not None:
                pending[1].stop()
                self._end(key, pending[0])
            else:
                t = self.clock() if t is None else t
                self._end(key, t)

    def _grace_over(self, key: int) -> None:
        pending = self._pending.pop(key, None)
        if pending is not None:
            self._end(key, pending[0])

    def _end(self, key: int, t: float) -> None:
        self._down.discard(key)
        self.hold_ended.emit(self.bindings.get(key, ""), t)

    def _trace(self, what: str, key: int, auto_repeat: bool) -> None:
        if self._log is not None:
            self._log.write(f"{time.monotonic():.6f} {what} {key} {int(auto_repeat)}\n")

    # -- as an application event filter ------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.KeyPress, QEvent.KeyRelease):
            return False
        if not self._accepts(obj):
            return False
        if kind == QEvent.KeyPress:
            return self.press(event.key(), event.isAutoRepeat())
        return self.release(event.key(), event.isAutoRepeat())

    def _accepts(self, obj: QObject) -> bool:
        """Hold keys act in the scoring window, not while typing in a field or a dialog."""
        if event_target_is_text(obj) or not self.active():
            return False
        if self.window is None:
            return True
        active = QApplication.activeWindow()
        return active is None or active is self.window


def event_target_is_text(obj: QObject) -> bool:
    return isinstance(obj, (QLineEdit, QTextEdit, QAbstractSpinBox, QComboBox))
