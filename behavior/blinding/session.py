"""The scoring model: what the GUI (and the tests) call while an observer scores.

No Qt here. The GUI maps a key press to :meth:`ScoringSession.start` and its release
to :meth:`ScoringSession.stop` (hold-to-score), with the player's current time.

A held state is not an event until it is stopped: only its start is written to the
audit log. Every completed action is its own committed transaction (see
:mod:`behavior.blinding.database`), so a crash loses at most the held bout. The
checks of an action (overlap, lock) run inside its write transaction, so two programs
scoring as the same observer at once cannot both add the same bout.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from behavior.blinding import database as db
from behavior.blinding.codes import random_order
from behavior.blinding.database import ScoringError, SessionProtocol, VideoRecord
from behavior.fst.summary import apply_min_bout, summarize_bouts

#: The behaviour summarised as immobility (see :mod:`behavior.fst.summary`).
IMMOBILITY = "immobility"
#: States a forced swim session may score (bouts, held with a key).
KNOWN_BEHAVIOURS = ("immobility", "swimming", "climbing")


def check_behaviours(states: Sequence[str], points: Sequence[str] = (),
                     where: object = "behaviours") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The states (immobility first, always) and point events of a new session.

    States must be :data:`KNOWN_BEHAVIOURS`; point events are free lower-case names
    (e.g. ``head_shake``, ``dive``: instants an observer marks with one key press,
    counted in the window) that are not states. Raises InputError naming ``where``.
    """
    from behavior.errors import InputError

    names = tuple(dict.fromkeys([IMMOBILITY, *[b.strip().lower() for b in states]]))
    unknown = [b for b in names if b not in KNOWN_BEHAVIOURS]
    if unknown:
        raise InputError(where, f"unknown behaviour(s) {', '.join(unknown)}; expected "
                         f"{', '.join(KNOWN_BEHAVIOURS)}")
    marks = tuple(dict.fromkeys(p.strip().lower() for p in points if p.strip()))
    bad = [p for p in marks if p in KNOWN_BEHAVIOURS or not p.replace("_", "").isalnum()
           or not p[0].isalpha()]
    if bad:
        raise InputError(where, f"point event name(s) {', '.join(bad)}: use lower-case "
                         "names (letters, digits, _) that are not a state's")
    return names, marks


@dataclass(frozen=True)
class Event:
    """One scored state, ``[start_s, end_s)`` of ``behaviour`` in video ``code``, or a
    point event (``start_s == end_s``, one frame)."""

    id: int
    observer: str
    code: str
    behaviour: str
    start_s: float
    end_s: float
    start_frame: int
    end_frame: int
    created_at: str
    source: str = "live"


def frame_at(t_s: float, fps: float, frame_times_s: np.ndarray | None = None) -> int:
    """Index of the frame on screen at ``t_s``.

    With the video's per-frame timestamps (variable frame rate), the last frame whose
    timestamp is at or before ``t_s``; otherwise ``floor(t_s * fps)``.
    """
    if frame_times_s is not None and len(frame_times_s):
        return max(0, int(np.searchsorted(frame_times_s, t_s + 1e-9, side="right")) - 1)
    return int(math.floor(t_s * fps + 1e-6))


def summarize_events(bouts_by_behaviour: dict[str, np.ndarray], protocol: SessionProtocol,
                     observed_end_s: float,
                     points: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """Summary of one observer's scores of one video.

    Immobility is summarised by :func:`behavior.fst.summary.summarize_bouts` (after
    the session's minimum bout), exactly as the auto-scorer's bouts are; every other
    behaviour adds ``<behaviour>_s``, its seconds inside the window, and
    ``<behaviour>_bins``, the whole bins where it predominated (as the auto-scorer's
    swimming and climbing). Each point event adds ``<point>_n``, how many were marked
    in the part of the window the video covers (empty when it covers none of it).
    """
    immobile = apply_min_bout(bouts_by_behaviour.get(IMMOBILITY, np.empty((0, 2))),
                              protocol.min_bout_s)
    others = {name: bouts for name, bouts in bouts_by_behaviour.items() if name != IMMOBILITY}
    summary = summarize_bouts(immobile, protocol.window_s, protocol.duration_s, protocol.bin_s,
                              observed_end_s=observed_end_s, others=others)
    w0, w1 = protocol.window_s
    end = min(w1, observed_end_s)
    for name, times in (points or {}).items():
        t = np.asarray(times, dtype=float).ravel()
        summary[f"{name}_n"] = (float(np.count_nonzero((t >= w0) & (t < end))) if end > w0
                                else float("nan"))
    return summary


class ScoringSession:
    """One observer scoring the coded videos of a session.

    Parameters
    ----------
    session
        Session folder or its ``session.sqlite``.
    observer
        The observer's name; a new observer is added (with their own random video
        order) unless ``create_observer`` is False.

    Examples
    --------
    >>> s = ScoringSession("session", "alice")            # doctest: +SKIP
    >>> s.select(s.videos[0].code)                         # doctest: +SKIP
    >>> s.start("immobility", 130.2); s.stop(141.0)        # doctest: +SKIP
    >>> s.summary()["immobility_s"]                        # doctest: +SKIP
    10.8
    """

    def __init__(self, session: str | Path, observer: str, *, create_observer: bool = True):
        self.path = db.database_path(session)
        self._conn = db.open_database(self.path)
        self.observer = observer.strip()
        try:
            self._observer_id = self._join(create_observer)
        except BaseException:
            self._conn.close()
            raise
        self.protocol: SessionProtocol = db.read_protocol(self._conn)
        self.behaviours: tuple[str, ...] = db.read_behaviours(self._conn)
        #: point events (marked with one key press; counted), after the states
        self.points: tuple[str, ...] = db.read_behaviours(self._conn, "point")
        self._videos = {v.code: v for v in db.read_videos(self._conn)}
        self._frame_times: dict[str, np.ndarray] = {}
        self._current: str | None = None
        self._held: tuple[str, str, float] | None = None  # (code, behaviour, start_s)
        self._undo: list[tuple[str, Event, Event | None]] = []
        self._redo: list[tuple[str, Event, Event | None]] = []  # what undo() took back

    def _join(self, create: bool) -> int:
        oid = db.observer_id(self._conn, self.observer)
        if oid is not None:
            return oid
        if not create:
            known = ", ".join(db.read_observers(self._conn)) or "none yet"
            raise ScoringError(f"{self.path}: no observer '{self.observer}' in this session "
                               f"(observers: {known})")
        # looked up again inside the write transaction: another process may have added
        # the same observer in between
        with self._write():
            self._check_unlocked()
            oid = db.observer_id(self._conn, self.observer)
            if oid is not None:
                return oid
            ids = [v.id for v in db.read_videos(self._conn)]
            return db.add_observer(self._conn, self.observer, random_order(ids))

    # -- what there is to score -------------------------------------------------
    @property
    def videos(self) -> list[VideoRecord]:
        """This observer's videos, in their random order."""
        rows = self._conn.execute(
            "SELECT v.code FROM assignments a JOIN videos v ON v.id = a.video_id "
            "WHERE a.observer_id = ? ORDER BY a.position", (self._observer_id,))
        return [self._videos[r["code"]] for r in rows]

    def video_path(self, code: str) -> Path:
        """Where the coded file of ``code`` is."""
        return self.path.parent / self._video(code).file

    def finished(self) -> set[str]:
        """Codes this observer has marked finished."""
        rows = self._conn.execute(
            "SELECT v.code FROM assignments a JOIN videos v ON v.id = a.video_id "
            "WHERE a.observer_id = ? AND a.finished_at IS NOT NULL", (self._observer_id,))
        return {r["code"] for r in rows}

    def select(self, code: str, frame_times_s: Sequence[float] | None = None) -> None:
        """Make ``code`` the current video; a held state is stopped first.

        ``frame_times_s``: the video's per-frame timestamps, if the player knows them
        (used to map times to frames exactly on variable-frame-rate video).
        """
        self._video(code)
        if self._held is not None:
            raise ScoringError(f"a '{self._held[1]}' state is held; stop it before changing video")
        self._current = code
        if frame_times_s is not None:
            self._frame_times[code] = np.asarray(frame_times_s, dtype=float)

    @property
    def current(self) -> str | None:
        return self._current

    @property
    def held(self) -> tuple[str, float] | None:
        """``(behaviour, start_s)`` of the state being held, or None."""
        return None if self._held is None else (self._held[1], self._held[2])

    # -- hold-to-score ----------------------------------------------------------
    def start(self, behaviour: str, t_s: float, video: str | None = None) -> None:
        """Begin holding ``behaviour`` at ``t_s`` (a key press). Only audited, not an event.

        Starting while another state is held stops that one at ``t_s`` first (the
        states of a forced swim are mutually exclusive).
        """
        code = self._code(video)
        self._check_behaviour(behaviour)
        if behaviour in self.points:
            raise ScoringError(f"'{behaviour}' is a point event: mark it, it is not held")
        self._check_time(code, t_s)
        self._check_unlocked()
        if self._held is not None:
            if self._held[0] != code:
                raise ScoringError(f"a '{self._held[1]}' state is held on video {self._held[0]}; "
                                   "stop it first")
            self.stop(t_s)
        with db.transaction(self._conn):
            db.audit(self._conn, "start", self.observer, video=code, behaviour=behaviour,
                     t_s=float(t_s))
        self._held = (code, behaviour, float(t_s))

    def stop(self, t_s: float) -> Event | None:
        """Release the held state at ``t_s``; the bout becomes an event (committed).

        Returns None when nothing was held or the bout has no duration.
        """
        if self._held is None:
            return None
        code, behaviour, start_s = self._held
        self._held = None
        if t_s <= start_s:
            with db.transaction(self._conn):
                db.audit(self._conn, "discard empty bout", self.observer, video=code,
                         behaviour=behaviour, start_s=start_s, end_s=float(t_s))
            return None
        return self.add(behaviour, start_s, t_s, video=code)

    def cancel(self) -> None:
        """Drop the held state without making an event."""
        if self._held is not None:
            code, behaviour, start_s = self._held
            self._held = None
            with db.transaction(self._conn):
                db.audit(self._conn, "cancel", self.observer, video=code, behaviour=behaviour,
                         start_s=start_s)

    def interrupted_hold(self) -> tuple[str, str, float] | None:
        """``(code, behaviour, start_s)`` of a state this observer was holding when the
        previous scoring run ended without stopping it (a crash), else None.

        Read from the audit log, so the GUI can offer to re-score that bout.
        """
        pending: tuple[str, str, float] | None = None
        rows = self._conn.execute(
            "SELECT action, detail FROM audit WHERE observer = ? ORDER BY id", (self.observer,))
        for r in rows:
            d = json.loads(r["detail"])
            if r["action"] == "start":
                pending = (d["video"], d["behaviour"], float(d["t_s"]))
            elif pending is not None and r["action"] in ("add", "cancel", "discard empty bout"):
                start = d.get("start_s", d.get("t_s"))
                if (d.get("video"), d.get("behaviour"), start) == pending:
                    pending = None
        return pending

    def dismiss_interrupted(self) -> None:
        """Record that the :meth:`interrupted_hold` was seen and let go (audited as a
        ``cancel`` of that start), so it is not offered again."""
        pending = self.interrupted_hold()
        if pending is not None:
            code, behaviour, start_s = pending
            with db.transaction(self._conn):
                db.audit(self._conn, "cancel", self.observer, video=code, behaviour=behaviour,
                         start_s=start_s)

    # -- where the observer was -------------------------------------------------
    def save_position(self, t_s: float, video: str | None = None) -> None:
        """Remember (durably, in the database) the video and time this observer is at,
        so the next scoring run resumes there."""
        code = self._code(video)
        db.save_resume_point(self._conn, self.observer, code, float(t_s))

    def last_position(self) -> tuple[str, float] | None:
        """``(code, t_s)`` saved by :meth:`save_position`, or None."""
        point = db.read_resume_point(self._conn, self.observer)
        if point is None or point[0] not in self._videos:
            return None
        return point

    @property
    def locked(self) -> bool:
        """True once the session is locked (scores can no longer change)."""
        return db.is_locked(self._conn)

    # -- events -----------------------------------------------------------------
    def add(self, behaviour: str, start_s: float, end_s: float, video: str | None = None,
            source: str = "live") -> Event:
        """Add a complete bout (committed in its own transaction)."""
        code = self._code(video)
        event = self._insert(code, behaviour, float(start_s), float(end_s), source, None)
        self._undo.append(("add", event, None))
        self._redo.clear()
        return event

    def mark(self, point: str, t_s: float, video: str | None = None,
             source: str = "live") -> Event:
        """Mark a point event at ``t_s`` (one key press; committed at once).

        A held state goes on: a point is an instant, not a state. Refused when the same
        point is already marked on that frame (a key pressed twice)."""
        if point not in self.points:
            raise ScoringError(f"'{point}' is not a point event of this session"
                               + (f" ({', '.join(self.points)})" if self.points else
                                  " (it has none)"))
        return self.add(point, t_s, t_s, video=video, source=source)

    def edit(self, event_id: int, start_s: float, end_s: float) -> Event:
        """Move an event's start and end; audited with the old values."""
        old = self.event(event_id)
        new = self._update(old, float(start_s), float(end_s), "edit")
        self._undo.append(("edit", new, old))
        self._redo.clear()
        return new

    def delete(self, event_id: int) -> Event:
        """Delete an event; audited with its values."""
        old = self.event(event_id)
        self._delete(old, "delete")
        self._undo.append(("delete", old, None))
        self._redo.clear()
        return old

    def undo(self) -> str | None:
        """Undo the last action of this scoring run: cancel a held state, remove an
        added event, restore an edited or deleted one. Returns what was undone."""
        if self._held is not None:
            self.cancel()
            return "cancel held state"
        if not self._undo:
            return None
        action, event, old = self._undo.pop()
        if action == "add":
            self._delete(event, "undo add")
        elif action == "edit":
            assert old is not None
            self._update(event, old.start_s, old.end_s, "undo edit")
        else:
            self._insert(event.code, event.behaviour, event.start_s, event.end_s, event.source,
                         event.id, "undo delete", created_at=event.created_at)
        self._redo.append((action, event, old))
        return f"{action} of event {event.id}"

    def redo(self) -> str | None:
        """Do again what :meth:`undo` took back (the event keeps its id); any new add,
        edit or delete forgets what there was to redo. Returns what was redone, or None
        (nothing to redo, or a state is held)."""
        if self._held is not None or not self._redo:
            return None
        action, event, old = self._redo.pop()
        if action == "add":
            self._insert(event.code, event.behaviour, event.start_s, event.end_s, event.source,
                         event.id, "redo add", created_at=event.created_at)
        elif action == "edit":
            assert old is not None
            self._update(old, event.start_s, event.end_s, "redo edit")
        else:
            self._delete(event, "redo delete")
        self._undo.append((action, event, old))
        return f"{action} of event {event.id}"

    @property
    def can_undo(self) -> bool:
        return self._held is not None or bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return self._held is None and bool(self._redo)

    def finish(self, video: str | None = None) -> None:
        """Mark a video as completely scored by this observer (no events = none seen)."""
        code = self._code(video)
        if self._held is not None and self._held[0] == code:
            raise ScoringError(f"a '{self._held[1]}' state is held; stop it before finishing")
        with self._write():
            self._check_unlocked()
            self._conn.execute(
                "UPDATE assignments SET finished_at = ? WHERE observer_id = ? AND video_id = ?",
                (db.now(), self._observer_id, self._video(code).id))
            db.audit(self._conn, "finish", self.observer, video=code)

    def event(self, event_id: int) -> Event:
        rows = self._select("e.id = ? AND e.observer_id = ?", (event_id, self._observer_id))
        if not rows:
            raise ScoringError(f"no event {event_id} of observer '{self.observer}'")
        return rows[0]

    def events(self, video: str | None = None, behaviour: str | None = None) -> list[Event]:
        """This observer's events, by video and start time."""
        where, params = ["e.observer_id = ?"], [self._observer_id]
        if video is not None:
            where.append("e.video_id = ?")
            params.append(self._video(video).id)
        if behaviour is not None:
            where.append("e.behaviour = ?")
            params.append(behaviour)
        return self._select(" AND ".join(where), tuple(params))

    def summary(self, video: str | None = None) -> dict[str, float]:
        """Per-video summary with the auto-scorer's definitions (window, bins, latency).

        Keys: :data:`behavior.fst.summary.SUMMARY_COLUMNS`, the bin columns, then
        ``<behaviour>_s`` for each behaviour other than immobility, then ``<point>_n``
        for each point event.
        """
        code = self._code(video)
        bouts = {b: np.array([[e.start_s, e.end_s] for e in self.events(code, b)]).reshape(-1, 2)
                 for b in self.behaviours}
        points = {p: np.array([e.start_s for e in self.events(code, p)]) for p in self.points}
        return summarize_events(bouts, self.protocol, self._video(code).duration_s, points)

    def close(self) -> None:
        """Close the database (a held state is dropped, as a crash would)."""
        self._conn.close()

    def __enter__(self) -> ScoringSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------
    def _video(self, code: str) -> VideoRecord:
        try:
            return self._videos[code]
        except KeyError:
            raise ScoringError(f"{self.path}: unknown video code '{code}'") from None

    def _code(self, video: str | None) -> str:
        code = video if video is not None else self._current
        if code is None:
            raise ScoringError("no video selected")
        self._video(code)
        return code

    def _check_behaviour(self, behaviour: str) -> None:
        if behaviour not in self.behaviours and behaviour not in self.points:
            raise ScoringError(f"unknown behaviour '{behaviour}'; this session scores "
                               f"{', '.join(self.behaviours + self.points)}")

    def _check_time(self, code: str, t_s: float) -> None:
        v = self._video(code)
        tolerance = 0.5 / v.fps
        if not math.isfinite(t_s) or t_s < 0 or t_s > v.duration_s + tolerance:
            raise ScoringError(f"video {code}: time {t_s:g} s is outside the video "
                               f"(0–{v.duration_s:g} s)")

    def _check_unlocked(self) -> None:
        if db.is_locked(self._conn):
            raise ScoringError(f"{self.path}: the session is locked; scores can no longer change")

    def _check_bout(self, code: str, behaviour: str, start_s: float, end_s: float,
                    ignore_id: int | None) -> tuple[float, int, int]:
        self._check_behaviour(behaviour)
        self._check_time(code, start_s)
        self._check_time(code, end_s)
        v = self._video(code)
        times = self._frame_times.get(code)
        if behaviour in self.points:
            return self._check_point(code, behaviour, start_s, end_s, ignore_id)
        end_s = min(end_s, v.duration_s)
        if not end_s > start_s:
            raise ScoringError(f"video {code}: a bout must end after it starts "
                               f"({start_s:g}–{end_s:g} s)")
        clash = self._conn.execute(
            "SELECT id, start_s, end_s FROM events WHERE observer_id = ? AND video_id = ? AND "
            "behaviour = ? AND start_s < ? AND end_s > ? AND id IS NOT ?",
            (self._observer_id, v.id, behaviour, end_s, start_s, ignore_id)).fetchone()
        if clash is not None:
            raise ScoringError(
                f"video {code}: {behaviour} {start_s:g}–{end_s:g} s overlaps event {clash['id']} "
                f"({clash['start_s']:g}–{clash['end_s']:g} s); edit or delete that one first")
        return end_s, frame_at(start_s, v.fps, times), frame_at(end_s, v.fps, times)

    def _check_point(self, code: str, point: str, t_s: float, end_s: float,
                     ignore_id: int | None) -> tuple[float, int, int]:
        """A point event is one frame: ``end_s == start_s``, not twice on a frame."""
        if end_s != t_s:
            raise ScoringError(f"video {code}: '{point}' is a point event; it has one time, "
                               f"not {t_s:g}–{end_s:g} s")
        v = self._video(code)
        frame = frame_at(t_s, v.fps, self._frame_times.get(code))
        twice = self._conn.execute(
            "SELECT id, start_s FROM events WHERE observer_id = ? AND video_id = ? AND "
            "behaviour = ? AND start_frame = ? AND id IS NOT ?",
            (self._observer_id, v.id, point, frame, ignore_id)).fetchone()
        if twice is not None:
            raise ScoringError(f"video {code}: {point} is already marked on this frame "
                               f"(event {twice['id']} at {twice['start_s']:g} s)")
        return t_s, frame, frame + 1

    def _insert(self, code: str, behaviour: str, start_s: float, end_s: float, source: str,
                event_id: int | None, action: str = "add", created_at: str | None = None) -> Event:
        created = created_at or db.now()
        # the checks run inside the write transaction (BEGIN IMMEDIATE): another process
        # scoring as the same observer cannot add an overlapping bout between them
        with self._write():
            self._check_unlocked()
            end_s, f0, f1 = self._check_bout(code, behaviour, start_s, end_s, None)
            cur = self._conn.execute(
                "INSERT INTO events (id, observer_id, video_id, behaviour, start_s, end_s, "
                "start_frame, end_frame, created_at, source) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (event_id, self._observer_id, self._video(code).id, behaviour, start_s, end_s,
                 f0, f1, created, source))
            new_id = int(cur.lastrowid or 0)
            db.audit(self._conn, action, self.observer, event=new_id, video=code,
                     behaviour=behaviour, start_s=start_s, end_s=end_s)
        return Event(new_id, self.observer, code, behaviour, start_s, end_s, f0, f1, created,
                     source)

    def _update(self, old: Event, start_s: float, end_s: float, action: str) -> Event:
        with self._write():
            self._check_unlocked()
            end_s, f0, f1 = self._check_bout(old.code, old.behaviour, start_s, end_s, old.id)
            self._conn.execute(
                "UPDATE events SET start_s = ?, end_s = ?, start_frame = ?, end_frame = ? "
                "WHERE id = ?", (start_s, end_s, f0, f1, old.id))
            db.audit(self._conn, action, self.observer, event=old.id, video=old.code,
                     old=[old.start_s, old.end_s], new=[start_s, end_s])
        return Event(old.id, old.observer, old.code, old.behaviour, start_s, end_s, f0, f1,
                     old.created_at, old.source)

    def _delete(self, old: Event, action: str) -> None:
        with self._write():
            self._check_unlocked()
            self._conn.execute("DELETE FROM events WHERE id = ?", (old.id,))
            db.audit(self._conn, action, self.observer, event=old.id, video=old.code,
                     behaviour=old.behaviour, start_s=old.start_s, end_s=old.end_s)

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """One ``BEGIN IMMEDIATE`` transaction: every check made inside it sees the
        database as the write will leave it. SQLite's refusals (the lock triggers)
        become ScoringError; a read-only folder or a full disk a FileSystemError."""
        try:
            with db.transaction(self._conn):
                yield
        except sqlite3.IntegrityError as err:
            raise ScoringError(f"{self.path}: cannot write the scoring database: {err}") from None
        except sqlite3.OperationalError as err:
            raise db.write_error(self.path, err) from None

    def _select(self, where: str, params: tuple[object, ...]) -> list[Event]:
        rows = self._conn.execute(
            "SELECT e.*, o.name AS observer, v.code FROM events e "
            "JOIN observers o ON o.id = e.observer_id JOIN videos v ON v.id = e.video_id "
            f"WHERE {where} ORDER BY v.code, e.start_s, e.id", params)
        return [Event(r["id"], r["observer"], r["code"], r["behaviour"], r["start_s"], r["end_s"],
                      r["start_frame"], r["end_frame"], r["created_at"], r["source"]) for r in rows]
