"""The scoring commands the GUI's actions call: each asks the core, then says what changed.

:class:`ScoringDocument` wraps one :class:`~behavior.blinding.session.ScoringSession`
(Qt-free): hold start/end, delete, undo/redo, moving a bout's edges, marking a video
finished, remembering where the observer is. A refused action (a
:class:`~behavior.errors.BehaviorError`) becomes a :attr:`message`, never a crash:
nothing is written then. Tests drive these commands directly.
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QObject, pyqtSignal

from behavior.blinding.session import Event, ScoringSession
from behavior.errors import BehaviorError


class ScoringDocument(QObject):
    """One observer scoring one session (blinded) or one database (open).

    Parameters
    ----------
    session
        The open scoring session (this object closes it).
    blinded
        Show codes only (a blinded session), never a file name or path.
    """

    changed = pyqtSignal()  # events, the held state or the finished marks changed
    message = pyqtSignal(str)  # something to tell the observer (status bar)

    def __init__(self, session: ScoringSession, blinded: bool, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.blinded = blinded
        self.frame_times: np.ndarray = np.empty(0)
        self.read_only = session.locked

    # -- what there is -----------------------------------------------------------------
    @property
    def observer(self) -> str:
        return self.session.observer

    @property
    def codes(self) -> list[str]:
        """The observer's videos, in their (random) order."""
        return [v.code for v in self.session.videos]

    @property
    def current(self) -> str | None:
        return self.session.current

    @property
    def behaviours(self) -> tuple[str, ...]:
        return self.session.behaviours

    @property
    def points(self) -> tuple[str, ...]:
        """The protocol's point events (marked with one key press)."""
        return self.session.points

    @property
    def protocol(self):
        return self.session.protocol

    def finished(self) -> set[str]:
        return self.session.finished()

    def progress(self) -> str:
        n = len(self.codes)
        return f"{len(self.finished() & set(self.codes))} of {n} videos finished"

    def duration(self, code: str | None = None) -> float:
        code = code or self.current
        return next(v.duration_s for v in self.session.videos if v.code == code)

    def title(self, code: str | None = None) -> str:
        """How a video is named on screen: its code when blinded, else its file name."""
        code = code or self.current
        if code is None:
            return ""
        return code if self.blinded else self.session.video_path(code).name

    def video_path(self, code: str) -> Path:
        return self.session.video_path(code)

    def events(self) -> list[Event]:
        return self.session.events(self.current) if self.current else []

    def summary(self) -> dict[str, float]:
        return self.session.summary() if self.current else {}

    @property
    def held(self) -> tuple[str, float] | None:
        return self.session.held

    # -- choosing a video --------------------------------------------------------------
    def select(self, code: str, frame_times: np.ndarray | None = None) -> bool:
        """Make ``code`` the current video (a held state must be closed first)."""
        if not self._do(self.session.select, code, frame_times_s=frame_times)[0]:
            return False
        if frame_times is not None:
            self.frame_times = np.asarray(frame_times, dtype=float)
        self.changed.emit()
        return True

    def next_code(self, step: int = 1, unfinished: bool = False) -> str | None:
        """The video ``step`` places after the current one in the observer's order
        (wrapping); with ``unfinished``, the next one not yet finished."""
        codes = self.codes
        if not codes:
            return None
        here = codes.index(self.current) if self.current in codes else -1
        done = self.finished() if unfinished else set()
        for k in range(1, len(codes) + 1):
            code = codes[(here + step * k) % len(codes)]
            if code not in done:
                return code
        return None

    def first_code(self) -> str | None:
        """Where to start: the saved position's video, else the first unfinished one."""
        point = self.session.last_position()
        if point is not None:
            return point[0]
        done = self.finished()
        return next((c for c in self.codes if c not in done), self.codes[0] if self.codes
                    else None)

    # -- hold-to-score -----------------------------------------------------------------
    def hold_start(self, behaviour: str, t_s: float) -> bool:
        if self.read_only:
            self.message.emit("This session is locked: it opens read-only")
            return False
        if behaviour not in self.behaviours:
            return False
        ok = self._do(self.session.start, behaviour, t_s)[0]
        self.changed.emit()
        return ok

    def mark(self, point: str, t_s: float) -> Event | None:
        """Mark a point event at ``t_s`` (a held state goes on)."""
        if self.read_only:
            self.message.emit("This session is locked: it opens read-only")
            return None
        if point not in self.points:
            return None
        event = self._do(self.session.mark, point, min(t_s, self.duration()))[1]
        if event is not None:
            self.message.emit(f"{point.replace('_', ' ')} marked at {event.start_s:.2f} s")
        self.changed.emit()
        return event

    def hold_end(self, behaviour: str, t_s: float) -> Event | None:
        """End the hold of ``behaviour`` at ``t_s`` (nothing if another is held now)."""
        held = self.session.held
        if held is None or held[0] != behaviour:
            return None
        return self.close_hold(t_s)

    def close_hold(self, t_s: float, why: str = "") -> Event | None:
        """End whatever is held at ``t_s`` (the video ended, paused or changed)."""
        held = self.session.held
        if held is None:
            return None
        ok, event = self._do(self.session.stop, min(t_s, self.duration()))
        if ok and event is None:
            self.message.emit(f"{held[0]} bout of no duration not kept")
        elif event is not None and why:
            self.message.emit(f"{held[0]} bout ended at {event.end_s:.2f} s ({why})")
        self.changed.emit()
        return event

    # -- editing -----------------------------------------------------------------------
    def delete(self, event_id: int) -> bool:
        ok = self._do(self.session.delete, event_id)[0]
        self.changed.emit()
        return ok

    def undo(self) -> str | None:
        done = self._do(self.session.undo)[1]
        if done:
            self.message.emit(f"Undone: {done}")
        self.changed.emit()
        return done or None

    def redo(self) -> str | None:
        done = self._do(self.session.redo)[1]
        if done:
            self.message.emit(f"Redone: {done}")
        self.changed.emit()
        return done or None

    def move_edge(self, event_id: int, edge: str, t_s: float) -> Event | None:
        """Move the ``"start"`` or ``"end"`` of an event to ``t_s``."""
        ok, event = self._do(self.session.event, event_id)
        if not ok:
            return None
        start, end = (t_s, event.end_s) if edge == "start" else (event.start_s, t_s)
        if event.behaviour in self.points:  # a mark has one time: both edges move
            start = end = t_s
        moved = self._do(self.session.edit, event_id, start, end)[1]
        self.changed.emit()
        return moved

    def nudge(self, event_id: int, edge: str, frames: int) -> Event | None:
        """Move an edge by whole frames (onto frame times; the end of the video after the
        last frame)."""
        ok, event = self._do(self.session.event, event_id)
        if not ok:
            return None
        t = event.start_s if edge == "start" else event.end_s
        return self.move_edge(event_id, edge, self.frame_step(t, frames))

    def frame_step(self, t_s: float, frames: int) -> float:
        """The frame time ``frames`` frames from ``t_s`` (first onto the frame grid)."""
        times = self.frame_times
        if times.size == 0:
            v = next(v for v in self.session.videos if v.code == self.current)
            return max(0.0, (math.floor(t_s * v.fps + 1e-6) + frames) / v.fps)
        n = times.size
        k = max(0, int(np.searchsorted(times, t_s + 1e-9, side="right")) - 1)
        if frames < 0 and abs(times[k] - t_s) > 1e-6:
            frames += 1  # between two frames: one step back is the frame at t_s
        j = k + frames
        if j >= n:
            return self.duration()
        return float(times[max(0, j)])

    # -- finishing ---------------------------------------------------------------------
    def mark_finished(self) -> str | None:
        """Mark the current video finished; returns the next unfinished video (or None)."""
        if self.read_only:
            self.message.emit("This session is locked: it opens read-only")
            return None
        code = self.current
        if code is None or not self._do(self.session.finish)[0]:
            return None
        nxt = self.next_code(unfinished=True)
        self.message.emit(f"Video {self.title(code)} finished — {self.progress()}")
        self.changed.emit()
        return nxt

    # -- where the observer is ---------------------------------------------------------
    def save_position(self, t_s: float) -> None:
        if self.current is None or not math.isfinite(t_s):
            return
        try:
            self.session.save_position(t_s)
        except (sqlite3.Error, BehaviorError) as exc:  # e.g. a read-only file after the lock
            self.message.emit(f"cannot remember the position: {exc}")

    def last_time(self, code: str) -> float:
        point = self.session.last_position()
        return point[1] if point is not None and point[0] == code else 0.0

    def interrupted_hold(self) -> tuple[str, str, float] | None:
        pending = self.session.interrupted_hold()
        if pending is None or pending[0] not in self.codes:
            return None
        return pending

    def dismiss_interrupted(self) -> None:
        self._do(self.session.dismiss_interrupted)

    def close(self) -> None:
        self.session.close()

    # -- internals ---------------------------------------------------------------------
    def _do(self, action, *args, **kwargs) -> tuple[bool, object]:
        """Run a core action: ``(True, its result)``, or ``(False, None)`` when it was
        refused (the reason becomes a message)."""
        try:
            result = action(*args, **kwargs)
        except BehaviorError as exc:
            self.message.emit(str(exc))
            return False, None
        except sqlite3.Error as exc:  # a disk or database failure: nothing was written
            self.message.emit(f"the scoring database refused the change: {exc}")
            return False, None
        return True, result
