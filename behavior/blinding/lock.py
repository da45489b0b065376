"""Import outside scores, lock a session, and unblind it.

Order of a blinded study: create → score (GUI or import) → lock → unblind. The lock
stores a SHA-256 digest of every event (:func:`behavior.blinding.database.events_digest`);
unblinding recomputes it, so any change after the lock is detected, and refuses to
run before the lock unless forced (which the audit log records).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from behavior.blinding import database as db
from behavior.blinding.codes import random_order
from behavior.blinding.database import ScoringError
from behavior.blinding.session import frame_at, summarize_events
from behavior.blinding.tables import OBSERVER
from behavior.errors import BadRowsError, InputError


@dataclass(frozen=True)
class LockResult:
    digest: str
    events: int
    locked_at: str
    incomplete: tuple[tuple[str, str], ...]  # (observer, code) not marked finished


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_intervals` wrote.

    Attributes
    ----------
    counts
        Events written per video code.
    finished
        Codes marked finished for the observer (the videos in the file).
    unfinished
        The observer's other videos, still not marked finished.
    new_observer
        True when the observer was added by this import.
    """

    counts: dict[str, int]
    finished: tuple[str, ...]
    unfinished: tuple[str, ...]
    new_observer: bool


def import_intervals(session: str | Path, intervals: pd.DataFrame, observer: str,
                     source: str | Path, *, replace: bool = False, new_observer: bool = False,
                     finish: bool = True) -> ImportResult:
    """Add intervals scored elsewhere (from :func:`behavior.blinding.tables.read_intervals`,
    after :func:`~behavior.blinding.tables.merge_overlaps`).

    Every row is checked against the session (known code, known behaviour, inside the
    video, no overlap with the observer's events) and every bad row is reported at
    once; nothing is written unless all are good. Checks and writes run in one
    ``BEGIN IMMEDIATE`` transaction, so a scorer working at the same moment cannot
    slip an overlapping event in between.

    Parameters
    ----------
    observer
        Must be an observer of the session, unless ``new_observer`` (a misspelt name
        would otherwise add an observer who never finishes, and blocks the lock).
    replace
        Delete the observer's earlier events on the videos in the file first.
    finish
        Mark the videos in the file finished for ``observer`` (their scoring is
        complete); False keeps them open. A row with only a video marks a video
        scored with nothing seen.

    Raises
    ------
    BadRowsError
        Rows that do not fit the session (each with its line).
    ScoringError
        Unknown observer, or a locked session.
    """
    path = db.database_path(session)
    conn = db.open_database(path)
    src = Path(source)
    observer = observer.strip()
    try:
        known = db.read_observers(conn)
        if observer not in known and not new_observer:
            raise ScoringError(
                f"{path}: no observer '{observer}' in this session (observers: "
                f"{', '.join(known) or 'none yet'}); check the name, or add a new observer "
                "(setting new_observer)")
        if OBSERVER in intervals.columns:
            others = sorted(set(intervals[OBSERVER]) - {observer})
            if others:
                raise InputError(src, f"the file holds scores of other observer(s) "
                                 f"{', '.join(others)}; import one observer at a time")
        videos = {v.code: v for v in db.read_videos(conn)}
        behaviours = db.read_behaviours(conn)
        rows, problems, touched_codes = _check_rows(intervals, videos, behaviours)
        touched = sorted({videos[c].id for c in touched_codes})
        try:
            with db.transaction(conn):
                if db.is_locked(conn):
                    raise ScoringError(f"{path}: the session is locked; no more scores can be "
                                       "added")
                oid = db.observer_id(conn, observer)
                added = oid is None
                if oid is None:
                    oid = db.add_observer(conn, observer, random_order(list(
                        v.id for v in videos.values())))
                elif replace and touched:
                    marks = ",".join("?" * len(touched))
                    conn.execute(f"DELETE FROM events WHERE observer_id = ? AND video_id IN "
                                 f"({marks})", (oid, *touched))
                problems += _clashes(conn, oid, observer, rows)
                if problems:
                    raise BadRowsError(src, sorted(problems, key=lambda p: p[0] or 0),
                                       "nothing was imported")
                conn.executemany(
                    "INSERT INTO events (observer_id, video_id, behaviour, start_s, end_s, "
                    "start_frame, end_frame, created_at, source) VALUES (?,?,?,?,?,?,?,?,?)",
                    [(oid, v.id, b, s, e, frame_at(s, v.fps), frame_at(e, v.fps), db.now(),
                      "import") for v, b, s, e, _ in rows])
                if finish:
                    conn.executemany(
                        "UPDATE assignments SET finished_at = ? WHERE observer_id = ? AND "
                        "video_id = ?", [(db.now(), oid, vid) for vid in touched])
                db.audit(conn, "import", observer, file=src.name, events=len(rows),
                         videos=len(touched), replace=replace, finished=finish,
                         new_observer=added)
                open_rows = conn.execute(
                    "SELECT v.code FROM assignments a JOIN videos v ON v.id = a.video_id "
                    "WHERE a.observer_id = ? AND a.finished_at IS NULL ORDER BY v.code",
                    (oid,)).fetchall()
        except sqlite3.OperationalError as exc:
            raise db.write_error(path, exc) from None
        except sqlite3.IntegrityError as exc:
            raise ScoringError(f"{path}: import failed, nothing was written ({exc})") from None
        counts: dict[str, int] = dict.fromkeys(sorted(touched_codes), 0)
        for v, *_ in rows:
            counts[v.code] += 1
        return ImportResult(counts, tuple(sorted(touched_codes)) if finish else (),
                            tuple(r["code"] for r in open_rows), added)
    finally:
        conn.close()


def _check_rows(intervals: pd.DataFrame, videos: dict, behaviours: tuple[str, ...]):
    """The rows that fit the session, the problems of the others, and the codes named."""
    rows, problems, touched = [], [], set()
    for r in intervals.itertuples(index=False):
        line = int(r.line)
        v = videos.get(r.video)
        if v is None:
            problems.append((line, f"unknown video code '{r.video}' (not in this session)"))
            continue
        touched.add(v.code)
        if r.behaviour == "":  # the video was scored; nothing seen
            continue
        if r.behaviour not in behaviours:
            problems.append((line, f"behaviour '{r.behaviour}' is not scored in this session "
                             f"({', '.join(behaviours)})"))
            continue
        if r.end_s > v.duration_s + 0.5 / v.fps:
            problems.append((line, f"video {v.code}: {r.start_s:g}–{r.end_s:g} s ends after "
                             f"the video ({v.duration_s:g} s)"))
            continue
        end = min(float(r.end_s), v.duration_s)
        if end <= r.start_s:
            problems.append((line, f"video {v.code}: {r.start_s:g} s is at or after the end "
                             f"of the video ({v.duration_s:g} s)"))
            continue
        rows.append((v, r.behaviour, float(r.start_s), end, line))
    return rows, problems, touched


def _clashes(conn: sqlite3.Connection, oid: int, observer: str, rows) -> list:
    """Rows overlapping the observer's events already in the database (inside the
    import's transaction)."""
    problems = []
    for v, behaviour, start, end, line in rows:
        clash = conn.execute(
            "SELECT start_s, end_s FROM events WHERE observer_id = ? AND video_id = ? AND "
            "behaviour = ? AND start_s < ? AND end_s > ?",
            (oid, v.id, behaviour, end, start)).fetchone()
        if clash is not None:
            problems.append((line, f"video {v.code}: {behaviour} {start:g}–{end:g} s overlaps "
                             f"{observer}'s scored {clash['start_s']:g}–{clash['end_s']:g} s "
                             "(import with replace to re-import)"))
    return problems


def incomplete(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(observer, code) pairs assigned but not marked finished."""
    rows = conn.execute(
        "SELECT o.name AS observer, v.code FROM assignments a JOIN observers o ON "
        "o.id = a.observer_id JOIN videos v ON v.id = a.video_id WHERE a.finished_at IS NULL "
        "ORDER BY o.name, v.code")
    return [(r["observer"], r["code"]) for r in rows]


@dataclass(frozen=True)
class ObserverProgress:
    """How far one observer is: videos marked finished of those assigned."""

    observer: str
    finished: int
    assigned: int


@dataclass(frozen=True)
class SessionStatus:
    """A session's state without anything the codes hide (no file, subject or group).

    ``locked_at`` is the time of the lock, or None; ``observers`` in name order.
    """

    session_id: str
    locked_at: str | None
    events: int
    videos: int
    observers: tuple[ObserverProgress, ...]


def session_status(session: str | Path) -> SessionStatus:
    """Progress per observer and whether the session is locked (what ``blind status``
    prints). Read-only: it never writes to the session."""
    conn = db.open_database(session, readonly=True)
    try:
        rows = conn.execute(
            "SELECT o.name, COUNT(*) AS n, SUM(a.finished_at IS NOT NULL) AS done FROM "
            "assignments a JOIN observers o ON o.id = a.observer_id GROUP BY o.id ORDER BY o.name"
        ).fetchall()
        head = conn.execute("SELECT id, locked_at FROM session").fetchone()
        n_events = conn.execute("SELECT COUNT(*) AS n FROM events").fetchone()["n"]
        n_videos = conn.execute("SELECT COUNT(*) AS n FROM videos").fetchone()["n"]
    finally:
        conn.close()
    return SessionStatus(str(head["id"]), head["locked_at"], int(n_events), int(n_videos),
                         tuple(ObserverProgress(r["name"], int(r["done"] or 0), int(r["n"]))
                               for r in rows))


def lock_session(session: str | Path, *, allow_incomplete: bool = False) -> LockResult:
    """Mark scoring finished and store the SHA-256 digest of all events.

    Refuses when an observer has not finished every video, unless
    ``allow_incomplete`` (the unfinished pairs are then listed in the audit log).
    """
    path = db.database_path(session)
    conn = db.open_database(path)
    try:
        if db.is_locked(conn):
            raise ScoringError(f"{path}: the session is already locked")
        if not db.read_observers(conn):
            raise ScoringError(f"{path}: nobody has scored yet; nothing to lock")
        todo = incomplete(conn)
        if todo and not allow_incomplete:
            shown = ", ".join(f"{o}/{c}" for o, c in todo[:8])
            more = f" and {len(todo) - 8} more" if len(todo) > 8 else ""
            raise ScoringError(f"{path}: {len(todo)} video(s) not marked finished: {shown}{more} "
                               "(finish them, or lock with allow_incomplete)")
        with db.transaction(conn):
            digest = db.events_digest(conn)
            n = conn.execute("SELECT COUNT(*) AS n FROM events").fetchone()["n"]
            at = db.now()
            db.audit(conn, "lock", None, events=n, sha256=digest,
                     incomplete=[f"{o}/{c}" for o, c in todo])
            conn.execute("UPDATE session SET locked_at = ?, events_sha256 = ?", (at, digest))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return LockResult(digest, int(n), at, tuple(todo))
    finally:
        conn.close()


def verify_lock(conn: sqlite3.Connection, path: Path) -> str:
    """Recompute the digest of a locked session; raises if anything changed."""
    row = conn.execute("SELECT events_sha256 FROM session").fetchone()
    stored = row["events_sha256"]
    actual = db.events_digest(conn)
    if stored != actual:
        raise InputError(path, "the scores changed after the lock (digest "
                         f"{actual[:12]}… differs from the locked {str(stored)[:12]}…); "
                         "the database has been tampered with")
    return actual


def session_scores(conn: sqlite3.Connection) -> pd.DataFrame:
    """One row per (observer, video) scored: summary with the auto-scorer's definitions.

    A pair counts as scored when it was marked finished or has events.
    """
    protocol = db.read_protocol(conn)
    behaviours = db.read_behaviours(conn)
    points = db.read_behaviours(conn, "point")
    videos = {v.id: v for v in db.read_videos(conn)}
    events = pd.read_sql_query(
        "SELECT o.name AS observer, e.video_id, e.behaviour, e.start_s, e.end_s FROM events e "
        "JOIN observers o ON o.id = e.observer_id", conn)
    done = pd.read_sql_query(
        "SELECT o.name AS observer, a.video_id, a.finished_at FROM assignments a "
        "JOIN observers o ON o.id = a.observer_id", conn)
    scored = set(zip(events["observer"], events["video_id"], strict=True))
    scored |= {(o, v) for o, v, f in done.itertuples(index=False) if pd.notna(f)}
    rows = []
    for observer, vid in sorted(scored, key=lambda k: (k[0], videos[k[1]].code)):
        mine = events[(events["observer"] == observer) & (events["video_id"] == vid)]
        bouts = {b: mine.loc[mine["behaviour"] == b, ["start_s", "end_s"]].to_numpy(float)
                 .reshape(-1, 2) for b in behaviours}
        marks = {p: mine.loc[mine["behaviour"] == p, "start_s"].to_numpy(float) for p in points}
        summary = summarize_events(bouts, protocol, videos[vid].duration_s, marks)
        rows.append({"code": videos[vid].code, "observer": observer,
                     "n_events": int(len(mine)), **summary})
    return pd.DataFrame(rows)


def unblind(session: str | Path, key: tuple[str, pd.DataFrame], key_path: str | Path, *,
            force: bool = False, combine: str = "mean", observer: str | None = None
            ) -> tuple[pd.DataFrame, str | None]:
    """Join the locked scores with the key: ``(scores, digest)``.

    Parameters
    ----------
    key
        ``(session_id, table)`` from :func:`behavior.blinding.key.read_key`.
    force
        Unblind an unlocked session (recorded in the audit log; ``digest`` is None).
    combine
        ``"mean"``: one row per video, numeric columns averaged over observers
        (``observer`` lists them, ``n_observers`` counts them); ``"none"``: one row
        per observer and video.
    observer
        Keep only this observer's scores.
    """
    path = db.database_path(session)
    conn = db.open_database(path)
    try:
        sid, table = key
        if sid != db.session_id(conn):
            raise InputError(key_path, "this key belongs to another session (session ids differ)")
        codes = {v.code for v in db.read_videos(conn)}
        if set(table["code"]) != codes:
            raise InputError(key_path, "the key's codes do not match the session's videos")
        digest = None
        if db.is_locked(conn):
            digest = verify_lock(conn, path)
        elif not force:
            raise ScoringError(f"{path}: the session is not locked; lock it first (or unblind "
                               "with force, which the audit log records)")
        scores = session_scores(conn)
        if observer is not None:
            known = db.read_observers(conn)
            if observer not in known:
                raise ScoringError(f"{path}: no observer '{observer}' in this session "
                                   f"(observers: {', '.join(known) or 'none'})")
            if observer not in set(scores.get("observer", [])):
                raise ScoringError(f"{path}: observer '{observer}' has scored no video yet")
            scores = scores[scores["observer"] == observer]
        if scores.empty:
            raise ScoringError(f"{path}: no scores to unblind")
        if combine == "mean":
            scores = _mean_over_observers(scores)
        elif combine != "none":
            raise ValueError(f"combine must be 'mean' or 'none', got {combine!r}")
        joined = table.merge(scores, on="code", how="inner", validate="one_to_many"
                             if combine == "none" else "one_to_one")
        front = ["subject", "group"] + [c for c in table.columns
                                        if c not in ("code", "video", "subject", "group")]
        joined = joined[front + ["code", "video"] + [c for c in scores.columns if c != "code"]]
        with db.transaction(conn):
            db.audit(conn, "unblind forced" if digest is None else "unblind", None,
                     rows=len(joined), locked=digest is not None, sha256=digest)
        joined = joined.sort_values(["group", "subject"], kind="stable")
        return joined.reset_index(drop=True), digest
    finally:
        conn.close()


def _mean_over_observers(scores: pd.DataFrame) -> pd.DataFrame:
    numeric = [c for c in scores.columns if c not in ("code", "observer", "note")]
    grouped = scores.groupby("code", sort=True)
    out = grouped[numeric].mean()
    out.insert(0, "n_observers", grouped.size())
    out.insert(0, "observer", grouped["observer"].agg(lambda s: "+".join(sorted(s))))
    out["bouts"] = out["bouts"].astype(float)
    if "note" in scores.columns:  # why a value is empty: each observer's reason, once
        out["note"] = grouped["note"].agg(lambda s: "; ".join(dict.fromkeys(n for n in s if n)))
    return out.reset_index()


def empty_value_notes(scores: pd.DataFrame) -> list[str]:
    """One line per row of unblinded scores with empty values: the animal and why.

    Where nothing was observed (a recording that ends before the window, bins after
    its end) the values are empty, never 0, and ``note`` says why
    (:func:`behavior.fst.summary.summarize_bouts`); this names each such row.
    """
    if "note" not in scores.columns:
        return []
    out = []
    for _, row in scores.iterrows():
        note = row["note"]
        if isinstance(note, str) and note:
            who = row.get("subject", row.get("code"))
            by = f", {row['observer']}" if "observer" in row.index else ""
            out.append(f"{who} (video {row['code']}{by}): {note}")
    return out


def observer_list(values: str | None) -> list[str]:
    """``"A,B"`` → ``["A", "B"]``."""
    return [v.strip() for v in (values or "").split(",") if v.strip()]


