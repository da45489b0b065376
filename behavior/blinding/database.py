"""The scoring database of a blinded session: SQLite, one transaction per event.

File: ``SESSION_DIR/session.sqlite``. The connection runs in WAL mode with
``synchronous=FULL``, and every scoring action (an event added, edited, deleted, a
video marked finished) is its own committed transaction, so a crash or power cut
loses at most the bout being held at that moment.

Schema (version :data:`SCHEMA_VERSION`)
---------------------------------------
``session``      one row: ``id`` (random, also in the key file), ``schema_version``,
                 ``created_at``, ``locked_at``, ``events_sha256`` (set by the lock)
``protocol``     one row: ``name``, ``duration_s``, ``window_start_s``, ``window_end_s``,
                 ``bin_s``, ``min_bout_s`` (the definitions of the forced swim module)
``behaviours``   ``name``, ``kind`` (``state``: a bout with a start and an end; ``point``:
                 an instant, counted — version 2), ``position``
``observers``    ``id``, ``name``, ``added_at``
``videos``       ``id``, ``code``, ``file`` (inside the session), ``duration_s``, ``fps``,
                 ``n_frames``, ``remuxed`` (1 remuxed, 0 copied byte for byte)
``assignments``  ``observer_id``, ``video_id``, ``position`` (1-based place in that
                 observer's random order), ``finished_at``
``events``       ``id``, ``observer_id``, ``video_id``, ``behaviour``, ``start_s``,
                 ``end_s``, ``start_frame``, ``end_frame`` (exclusive), ``created_at``,
                 ``source`` (``live`` or ``import``); a point event has ``end_s = start_s``
                 and ``end_frame = start_frame + 1``
``audit``        ``id``, ``at``, ``observer``, ``action``, ``detail`` (JSON)
``resume_points`` ``observer``, ``code``, ``t_s``, ``at``: where each observer was (video
                 and time), so the GUI resumes there; made when first written, not part
                 of the lock's digest

The version is also SQLite's ``PRAGMA user_version``. Version 1 (states only) is still
read and scored into; it cannot hold point events. After the lock, triggers
refuse any insert, update or delete on events, assignments, videos and observers;
the digest catches changes made around them.
Times are ISO 8601 UTC strings.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from behavior.errors import BehaviorError, FileSystemError, InputError

SCHEMA_VERSION = 2
#: versions this code opens (1 has no point events: its ``behaviours`` allow states only)
READABLE_VERSIONS = (1, 2)
DB_NAME = "session.sqlite"
VIDEO_DIR = "videos"

_SCHEMA = """
CREATE TABLE session (
    id TEXT PRIMARY KEY,
    schema_version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    locked_at TEXT,
    events_sha256 TEXT
);
CREATE TABLE protocol (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    duration_s REAL NOT NULL CHECK (duration_s > 0),
    window_start_s REAL NOT NULL,
    window_end_s REAL NOT NULL,
    bin_s REAL NOT NULL CHECK (bin_s > 0),
    min_bout_s REAL NOT NULL CHECK (min_bout_s >= 0),
    CHECK (0 <= window_start_s AND window_start_s < window_end_s)
);
CREATE TABLE behaviours (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('state', 'point')),
    position INTEGER NOT NULL UNIQUE
);
CREATE TABLE observers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    added_at TEXT NOT NULL
);
CREATE TABLE videos (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    file TEXT NOT NULL,
    duration_s REAL NOT NULL CHECK (duration_s > 0),
    fps REAL NOT NULL CHECK (fps > 0),
    n_frames INTEGER NOT NULL,
    remuxed INTEGER NOT NULL
);
CREATE TABLE assignments (
    observer_id INTEGER NOT NULL REFERENCES observers(id),
    video_id INTEGER NOT NULL REFERENCES videos(id),
    position INTEGER NOT NULL,
    finished_at TEXT,
    PRIMARY KEY (observer_id, video_id),
    UNIQUE (observer_id, position)
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    observer_id INTEGER NOT NULL REFERENCES observers(id),
    video_id INTEGER NOT NULL REFERENCES videos(id),
    behaviour TEXT NOT NULL REFERENCES behaviours(name),
    start_s REAL NOT NULL CHECK (start_s >= 0),
    end_s REAL NOT NULL,
    start_frame INTEGER NOT NULL,
    end_frame INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'live',
    CHECK (end_s >= start_s)
);
CREATE INDEX events_by_video ON events (observer_id, video_id, behaviour, start_s);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    observer TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
"""

_LOCKED_TABLES = ("events", "assignments", "videos", "observers")
_TRIGGER = """
CREATE TRIGGER {table}_{op}_locked BEFORE {op} ON {table}
WHEN (SELECT locked_at FROM session) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'session is locked'); END;
"""


class ScoringError(BehaviorError):
    """A scoring action that cannot be done (overlap, outside the video, locked, ...)."""


@dataclass(frozen=True)
class SessionProtocol:
    """The scoring definitions stored in a session (see :mod:`behavior.fst.summary`)."""

    name: str
    duration_s: float
    window_s: tuple[float, float]
    bin_s: float
    min_bout_s: float


@dataclass(frozen=True)
class VideoRecord:
    """One coded video of a session."""

    id: int
    code: str
    file: str
    duration_s: float
    fps: float
    n_frames: int
    remuxed: bool


def now() -> str:
    """Current UTC time, ISO 8601 with microseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def database_path(session: str | Path) -> Path:
    """The database file of a session folder (or the file itself)."""
    p = Path(session)
    return p / DB_NAME if p.is_dir() else p


def connect(path: str | Path) -> sqlite3.Connection:
    """Open a connection in autocommit mode, WAL journal, full sync, foreign keys on."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def create_schema(conn: sqlite3.Connection) -> None:
    """Create every table and the lock triggers (in one transaction)."""
    with transaction(conn):
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        for table in _LOCKED_TABLES:
            for op in ("INSERT", "UPDATE", "DELETE"):
                conn.execute(_TRIGGER.format(table=table, op=op))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")  # readable by any SQLite tool


def open_database(session: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open an existing session database and check its schema version.

    ``readonly``: only read (``status``, ``audit``, agreement, calibration). That
    works in a read-only folder too (an archived session, a write-protected share):
    SQLite cannot create its ``-shm`` file there, so the file is then opened as
    immutable -- safe, because nobody can write to a read-only folder.

    Raises
    ------
    InputError
        No database, not a scoring database, or another schema version.
    FileSystemError
        Writing was asked for but the folder or file is read-only.
    """
    path = database_path(session)
    if not path.is_file():
        raise InputError(path, f"no scoring database here (expected {DB_NAME} in the "
                         "session folder)")
    try:
        conn = _connect_readonly(path) if readonly else connect(path)
        row = conn.execute("SELECT schema_version FROM session").fetchone()
    except sqlite3.OperationalError as exc:
        if _cannot_open(exc):
            raise _read_only_error(path) from None
        if "i/o error" in str(exc).lower() or "full" in str(exc).lower():
            raise write_error(path, exc) from None  # e.g. no room for the -shm file
        raise InputError(path, f"not a scoring database ({exc})") from None
    except sqlite3.DatabaseError as exc:
        raise InputError(path, f"not a scoring database ({exc})") from None
    if row is None:
        conn.close()
        raise InputError(path, "scoring database has no session row")
    if row["schema_version"] not in READABLE_VERSIONS:
        conn.close()
        raise InputError(path, f"schema version {row['schema_version']}; this version of "
                         f"behavior reads versions {', '.join(map(str, READABLE_VERSIONS))}")
    return conn


def write_error(path: Path, exc: sqlite3.OperationalError) -> BehaviorError:
    """The error for a failed write: read-only, full disk, or SQLite's own words."""
    from behavior.io.atomic import space_problem

    text = str(exc).lower()
    if _cannot_open(exc):
        return _read_only_error(path)
    if "full" in text or "i/o error" in text:
        # SQLite says "disk I/O error" for a full tmpfs: find out what it was
        problem = space_problem(path.parent)
        if problem is not None or "full" in text:
            return FileSystemError(path, "cannot write: no space left on the disk")
    if "locked" in text or "busy" in text:
        return ScoringError(f"{path}: the scoring database is busy (another program has "
                            f"been writing to it for too long): {exc}")
    return FileSystemError(path, f"cannot write the scoring database: {exc}")


def _cannot_open(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "unable to open" in text or "readonly" in text or "read-only" in text


def _read_only_error(path: Path) -> FileSystemError:
    where = "file" if path.parent.is_dir() and _writable(path.parent) else "session folder"
    return FileSystemError(path, f"the {where} is read-only: nothing can be recorded in the "
                           "session (copy the session folder to a writable place to go on)")


def _writable(folder: Path) -> bool:
    from behavior.io.atomic import prepare_folder

    try:
        prepare_folder(folder, create=False)
    except FileSystemError:
        return False
    return True


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection, in a read-only folder too (see :func:`open_database`)."""
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, timeout=10.0)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        conn.close()
        if not _cannot_open(exc):
            raise
        wal = path.with_name(f"{path.name}-wal")
        if wal.is_file() and wal.stat().st_size > 0:
            # immutable would ignore the changes still in the write-ahead log
            raise FileSystemError(path, "the session folder is read-only and the last scores "
                                  f"are still in {wal.name}: open the session once in a "
                                  "writable folder") from None
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA query_only=ON")
    return conn


def audit(conn: sqlite3.Connection, action: str, observer: str | None = None,
          **detail: Any) -> None:
    """Append to the audit log (call inside the caller's transaction)."""
    conn.execute("INSERT INTO audit (at, observer, action, detail) VALUES (?, ?, ?, ?)",
                 (now(), observer, action, json.dumps(detail, sort_keys=True)))


def session_id(conn: sqlite3.Connection) -> str:
    return str(conn.execute("SELECT id FROM session").fetchone()["id"])


def is_locked(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT locked_at FROM session").fetchone()["locked_at"] is not None


def read_protocol(conn: sqlite3.Connection) -> SessionProtocol:
    r = conn.execute("SELECT * FROM protocol").fetchone()
    return SessionProtocol(r["name"], r["duration_s"], (r["window_start_s"], r["window_end_s"]),
                           r["bin_s"], r["min_bout_s"])


def read_behaviours(conn: sqlite3.Connection, kind: str = "state") -> tuple[str, ...]:
    """Names of the behaviours of ``kind`` (``"state"`` or ``"point"``), in order."""
    return tuple(r["name"] for r in conn.execute(
        "SELECT name FROM behaviours WHERE kind = ? ORDER BY position", (kind,)))


def insert_behaviours(conn: sqlite3.Connection, states: tuple[str, ...],
                      points: tuple[str, ...] = ()) -> None:
    """The behaviours of a new session (call inside its creating transaction)."""
    rows = [(b, "state", i) for i, b in enumerate(states)]
    rows += [(b, "point", len(states) + i) for i, b in enumerate(points)]
    conn.executemany("INSERT INTO behaviours (name, kind, position) VALUES (?, ?, ?)", rows)


def read_videos(conn: sqlite3.Connection) -> list[VideoRecord]:
    rows = conn.execute("SELECT * FROM videos ORDER BY code")
    return [VideoRecord(r["id"], r["code"], r["file"], r["duration_s"], r["fps"], r["n_frames"],
                        bool(r["remuxed"])) for r in rows]


def read_observers(conn: sqlite3.Connection) -> list[str]:
    return [r["name"] for r in conn.execute("SELECT name FROM observers ORDER BY id")]


def add_observer(conn: sqlite3.Connection, name: str, order: list[int]) -> int:
    """Add an observer with ``order`` (video ids) as their viewing order; returns the id.

    Call inside a transaction.
    """
    name = name.strip()
    if not name:
        raise ScoringError("an observer needs a name")
    cur = conn.execute("INSERT INTO observers (name, added_at) VALUES (?, ?)", (name, now()))
    observer_id = int(cur.lastrowid or 0)
    conn.executemany(
        "INSERT INTO assignments (observer_id, video_id, position) VALUES (?, ?, ?)",
        [(observer_id, vid, pos) for pos, vid in enumerate(order, start=1)],
    )
    audit(conn, "add observer", name, videos=len(order))
    return observer_id


def observer_id(conn: sqlite3.Connection, name: str) -> int | None:
    row = conn.execute("SELECT id FROM observers WHERE name = ?", (name,)).fetchone()
    return None if row is None else int(row["id"])


def events_digest(conn: sqlite3.Connection) -> str:
    """SHA-256 of the session id, the videos, every event and every finished mark.

    The text hashed is one JSON array per line, in id order, with floats written
    by ``repr`` (exact); any change to a stored value changes the digest.
    """
    h = hashlib.sha256()

    def put(values: list[Any]) -> None:
        h.update(json.dumps(values, separators=(",", ":")).encode())
        h.update(b"\n")

    put(["session", session_id(conn)])
    for r in conn.execute("SELECT code, duration_s, fps, n_frames FROM videos ORDER BY code"):
        put(["video", r["code"], repr(r["duration_s"]), repr(r["fps"]), r["n_frames"]])
    for r in conn.execute(
        "SELECT e.id, o.name AS observer, v.code, e.behaviour, e.start_s, e.end_s, "
        "e.start_frame, e.end_frame, e.created_at, e.source FROM events e "
        "JOIN observers o ON o.id = e.observer_id JOIN videos v ON v.id = e.video_id ORDER BY e.id"
    ):
        put(["event", r["id"], r["observer"], r["code"], r["behaviour"], repr(r["start_s"]),
             repr(r["end_s"]), r["start_frame"], r["end_frame"], r["created_at"], r["source"]])
    for r in conn.execute(
        "SELECT o.name AS observer, v.code, a.position, a.finished_at FROM assignments a "
        "JOIN observers o ON o.id = a.observer_id JOIN videos v ON v.id = a.video_id "
        "ORDER BY o.name, v.code"
    ):
        put(["assignment", r["observer"], r["code"], r["position"], r["finished_at"]])
    return h.hexdigest()


_RESUME_TABLE = """CREATE TABLE IF NOT EXISTS resume_points (
    observer TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    t_s REAL NOT NULL,
    at TEXT NOT NULL
)"""


def save_resume_point(conn: sqlite3.Connection, observer: str, code: str, t_s: float) -> None:
    """Remember where ``observer`` is (its own committed transaction)."""
    with transaction(conn):
        conn.execute(_RESUME_TABLE)
        conn.execute("INSERT OR REPLACE INTO resume_points (observer, code, t_s, at) "
                     "VALUES (?, ?, ?, ?)", (observer, code, float(t_s), now()))


def read_resume_point(conn: sqlite3.Connection, observer: str) -> tuple[str, float] | None:
    """``(code, t_s)`` last saved for ``observer``, or None."""
    try:
        row = conn.execute("SELECT code, t_s FROM resume_points WHERE observer = ?",
                           (observer,)).fetchone()
    except sqlite3.OperationalError:  # no such table: nobody saved a position yet
        return None
    return None if row is None else (str(row["code"]), float(row["t_s"]))
