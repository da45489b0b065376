"""Open (unblinded) scoring of single videos: a scoring database that names the files.

The same database and :class:`~behavior.blinding.session.ScoringSession` as a
blinded session, so open scores get the same hold-to-score, audit log, summaries,
agreement and import/export; only nothing is hidden: a video's code is its file
stem and its ``file`` is its own path (relative to the database's folder when it lies
below it, else absolute). No key file, no coded copies.

The audit log's ``create`` row says ``"open": true`` (:func:`is_open`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from behavior.blinding import database as db
from behavior.blinding.codes import new_session_id
from behavior.blinding.database import ScoringError
from behavior.blinding.session import IMMOBILITY, KNOWN_BEHAVIOURS, check_behaviours
from behavior.errors import InputError
from behavior.io.video import VideoReader
from behavior.protocols import FstProtocol, load_fst_protocol

#: suffix of the database made beside a video: ``<stem>.scores.sqlite``
DB_SUFFIX = ".scores.sqlite"


def default_database(video: str | Path) -> Path:
    """The database beside ``video``: ``<folder>/<stem>.scores.sqlite``."""
    video = Path(video)
    return video.with_name(video.stem + DB_SUFFIX)


def behaviours_for(protocol: FstProtocol) -> tuple[str, ...]:
    """The states a protocol scores: the rat modified FST's three, else immobility."""
    if protocol.test == "modified_fst":
        return KNOWN_BEHAVIOURS
    return (IMMOBILITY,)


def is_open(conn: sqlite3.Connection) -> bool:
    """True for a database made by :func:`open_video_scoring` (not a blinded session)."""
    row = conn.execute("SELECT detail FROM audit WHERE action = 'create' ORDER BY id LIMIT 1")
    first = row.fetchone()
    return first is not None and bool(json.loads(first[0]).get("open", False))


def open_video_scoring(
    video: str | Path,
    database: str | Path | None = None,
    protocol: FstProtocol | None = None,
    *,
    behaviours: Sequence[str] | None = None,
    min_bout_s: float = 0.0,
) -> tuple[Path, str]:
    """The scoring database and code to score ``video`` openly.

    A new database is made (atomically: a temporary name, renamed when complete)
    when ``database`` does not exist; a video it does not hold yet is added (every
    observer already in it gets the video at the end of their order).

    Parameters
    ----------
    video
        The video to score.
    database
        The scoring database (default :func:`default_database`).
    protocol
        Window, bins and duration for a new database (default: ``mouse_fst``);
        an existing database keeps its own.
    behaviours
        States to score in a new database (default :func:`behaviours_for`).
    min_bout_s
        Minimum bout applied to manual immobility when summarising (new database).

    Returns
    -------
    (database path, the video's code)
    """
    video = Path(video).absolute()
    database = Path(database).absolute() if database is not None else default_database(video)
    frame_times = _frame_times(video)
    if database.exists():
        return database, _add_video(database, video, frame_times)
    protocol = protocol or load_fst_protocol("mouse_fst")
    names, marks = check_behaviours(behaviours or behaviours_for(protocol), protocol.points,
                                    database)
    if not database.parent.is_dir():
        raise InputError(database, "its folder does not exist")
    tmp = database.with_name(f".{database.name}.{os.getpid()}.tmp")
    code = video.stem
    try:
        conn = db.connect(tmp)
        try:
            db.create_schema(conn)
            with db.transaction(conn):
                conn.execute("INSERT INTO session (id, schema_version, created_at) VALUES (?,?,?)",
                             (new_session_id(), db.SCHEMA_VERSION, db.now()))
                w0, w1 = protocol.window_s
                conn.execute("INSERT INTO protocol VALUES (1, ?, ?, ?, ?, ?, ?)",
                             (protocol.name, protocol.duration_s, w0, w1, protocol.bin_s,
                              float(min_bout_s)))
                db.insert_behaviours(conn, names, marks)
                _insert_video(conn, database, video, code, frame_times)
                db.audit(conn, "create", None, open=True, videos=1, observers=[])
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        _drop_sidecars(tmp)
        if database.exists():
            raise InputError(database, "was made by someone else meanwhile; open it again")
        tmp.replace(database)
    except OSError as exc:
        raise InputError(database, f"cannot create the scoring database: {exc.strerror or exc}"
                         ) from None
    finally:
        tmp.unlink(missing_ok=True)
        _drop_sidecars(tmp)
    return database, code


def _frame_times(video: Path):
    with VideoReader(video) as reader:
        times = reader.frame_times()
        fps = reader.info.fps
    if times.size == 0:
        raise InputError(video, "no frame could be decoded")
    return times, fps


def _insert_video(conn: sqlite3.Connection, database: Path, video: Path, code: str,
                  frame_times) -> None:
    times, fps = frame_times
    if not (math.isfinite(fps) and fps > 0):
        fps = (times.size - 1) / float(times[-1]) if times.size > 1 and times[-1] > 0 else 30.0
    # the last frame stays on screen for one frame interval
    duration = float(times[-1]) + (float(times[-1] - times[-2]) if times.size > 1 else 1 / fps)
    try:
        file = video.relative_to(database.parent).as_posix()
    except ValueError:
        file = str(video)
    conn.execute("INSERT INTO videos (code, file, duration_s, fps, n_frames, remuxed) "
                 "VALUES (?,?,?,?,?,0)", (code, file, duration, float(fps), int(times.size)))


def _add_video(database: Path, video: Path, frame_times) -> str:
    conn = db.open_database(database)
    try:
        if not is_open(conn):
            raise InputError(database, "is a blinded session's database; open its folder as "
                             "a session instead of scoring a video into it")
        for v in db.read_videos(conn):
            if (database.parent / v.file).resolve() == video.resolve():
                return v.code
        if db.is_locked(conn):
            raise ScoringError(f"{database}: the session is locked; no video can be added")
        taken = {v.code for v in db.read_videos(conn)}
        code, n = video.stem, 2
        while code in taken:
            code, n = f"{video.stem}_{n}", n + 1
        with db.transaction(conn):
            _insert_video(conn, database, video, code, frame_times)
            vid = conn.execute("SELECT id FROM videos WHERE code = ?", (code,)).fetchone()["id"]
            for o in conn.execute("SELECT id FROM observers").fetchall():
                last = conn.execute("SELECT COALESCE(MAX(position), 0) AS p FROM assignments "
                                    "WHERE observer_id = ?", (o["id"],)).fetchone()["p"]
                conn.execute("INSERT INTO assignments (observer_id, video_id, position) "
                             "VALUES (?, ?, ?)", (o["id"], vid, last + 1))
            db.audit(conn, "add video", None, video=code, file=str(video))
        return code
    finally:
        conn.close()


def _drop_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            Path(str(path) + suffix).unlink()
