"""Prepare a blinded session: coded copies, the scoring database, and the key apart.

The session is built in a hidden staging folder beside ``session_dir``
(``.blind-<random>``) and moved into place only when complete; the key is written
last-but-one and removed again if the final move fails, so an error never leaves
half a session behind.

A process killed on the way (power cut, ``kill -9``) cannot clean up. Each staging
folder therefore has a lock file beside it (``.blind-<random>.lock``) that its
creator holds while working; the next :func:`create_session` in the same folder
removes every staging folder whose lock nobody holds (:func:`remove_stale_staging`),
with a key it had already written for the session that never came to be, and
says so.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from behavior.blinding import database as db
from behavior.blinding.codes import new_codes, new_session_id, random_order
from behavior.blinding.key import key_text, read_key
from behavior.blinding.remux import RemuxResult, find_leaks, remux_without_metadata
from behavior.blinding.session import IMMOBILITY, check_behaviours
from behavior.errors import BehaviorError, FileSystemError, InputError, VideoError
from behavior.io.atomic import prepare_folder, space_problem, write_failure, write_text
from behavior.io.video import probe
from behavior.protocols import FstProtocol

#: Prefix of the hidden staging folders (and their lock files) beside a new session.
STAGING_PREFIX = ".blind-"
#: A staging folder without a lock file this young may be one being set up right now.
_GRACE_S = 60.0


@dataclass(frozen=True)
class CreatedSession:
    """What :func:`create_session` made."""

    session_dir: Path
    key_path: Path
    session_id: str
    codes: tuple[str, ...]
    observers: tuple[str, ...]
    copied: dict[str, str] = field(default_factory=dict)  # code -> why it was not remuxed
    cleaned: tuple[str, ...] = ()  # stale staging folders removed first (one line each)


def check_key_outside(session_dir: Path, key_path: Path) -> None:
    """Refuse a key path inside the session folder (it would unblind the scorer)."""
    s, k = session_dir.resolve(), key_path.resolve()
    if k == s or s in k.parents:
        raise InputError(key_path, f"the key must be kept outside the session folder {session_dir}")


def create_session(
    videos: Sequence[str | Path],
    groups: pd.DataFrame,
    session_dir: str | Path,
    key_path: str | Path,
    protocol: FstProtocol,
    *,
    observers: Sequence[str] = (),
    behaviours: Sequence[str] = (IMMOBILITY,),
    min_bout_s: float = 0.0,
    points: Sequence[str] | None = None,
) -> CreatedSession:
    """Code the videos into ``session_dir`` and write the key to ``key_path``.

    Parameters
    ----------
    videos
        Video files; each must have a row in ``groups``.
    groups
        One row per video, in the order of ``videos`` (see
        :func:`behavior.blinding.tables.match_groups`): ``file, video, subject, group``
        and factor columns; it goes to the key only.
    session_dir
        New or empty folder for the coded videos and ``session.sqlite``.
    key_path
        Key file (JSON, or CSV by suffix), outside ``session_dir``; must not exist.
    protocol
        Window, bin size and duration of the test (the forced swim protocol).
    observers
        Observers known now; each gets their own random order (others can join later).
    behaviours
        States to score; immobility always included.
    min_bout_s
        Minimum bout applied to manual immobility before summarising (0: as scored).
    points
        Point events observers may mark (one key press each, counted in the window);
        default: the protocol's ``points``.

    Raises
    ------
    InputError
        A wrong argument or an unreadable video (before anything is written).
    FileSystemError
        The session's or the key's folder cannot be written (checked before any
        work), or the disk fills up on the way (nothing is left behind).
    """
    session_dir, key_path = Path(session_dir), Path(key_path)
    check_key_outside(session_dir, key_path)
    if key_path.exists():
        raise InputError(key_path, "key file already exists; choose a new name (a key is "
                         "never overwritten)")
    if session_dir.exists() and (not session_dir.is_dir() or any(session_dir.iterdir())):
        raise InputError(session_dir, "session folder exists and is not empty")
    if not key_path.parent.is_dir():
        raise FileSystemError(key_path, "the key's folder does not exist")
    behaviours, marks = check_behaviours(
        behaviours, protocol.points if points is None else points)
    observers = tuple(dict.fromkeys(o.strip() for o in observers if o.strip()))
    paths = [Path(v) for v in videos]
    if not paths:
        raise InputError(session_dir, "no videos given")
    if len({p.resolve() for p in paths}) != len(paths):
        raise InputError(session_dir, "a video is given twice")
    if len(groups) != len(paths):
        raise InputError(session_dir, "groups table and videos differ in length")
    parent = prepare_folder(session_dir.parent)  # writable, before any work
    prepare_folder(key_path.parent, create=False)
    cleaned = tuple(remove_stale_staging(parent))
    infos = [probe(p) for p in paths]  # fails early, before anything is written

    staging = _Staging.start(parent)
    key_written = False
    try:
        sid = new_session_id()
        codes = new_codes(len(paths))
        assigned = random_order(range(len(paths)))  # code i -> video assigned[i]
        tmp = staging.folder
        (tmp / db.VIDEO_DIR).mkdir()
        created_at = db.now()
        conn = db.connect(tmp / db.DB_NAME)
        copied: dict[str, str] = {}
        key_rows = []
        try:
            db.create_schema(conn)
            rows = []
            for code, index in zip(codes, assigned, strict=True):
                src, info = paths[index], infos[index]
                rel = f"{db.VIDEO_DIR}/{code}{src.suffix.lower()}"
                result = _coded_copy(src, tmp / rel, session_dir)
                if not result.remuxed:
                    copied[code] = result.reason
                row_text = [str(v) for k, v in groups.iloc[index].items() if k != "file"]
                leaks = find_leaks(tmp / rel, [src.name, src.stem, *row_text])
                if leaks:
                    raise InputError(src, f"the coded copy would still reveal {', '.join(leaks)} "
                                     f"({result.reason or 'in its encoded stream'}); strip it "
                                     "first, e.g. ffmpeg -i IN -map_metadata -1 -c copy OUT")
                duration, fps = _timing(src, info.duration_s, info.fps, info.n_frames, result)
                rows.append((code, rel, duration, fps, info.n_frames, int(result.remuxed)))
                key_row = groups.iloc[index].to_dict()
                key_row.pop("file", None)
                key_row["video"] = str(src.resolve())
                key_rows.append({"code": code, **key_row})
            with db.transaction(conn):
                conn.execute("INSERT INTO session (id, schema_version, created_at) VALUES (?,?,?)",
                             (sid, db.SCHEMA_VERSION, created_at))
                w0, w1 = protocol.window_s
                conn.execute("INSERT INTO protocol VALUES (1, ?, ?, ?, ?, ?, ?)",
                             (protocol.name, protocol.duration_s, w0, w1, protocol.bin_s,
                              float(min_bout_s)))
                db.insert_behaviours(conn, behaviours, marks)
                conn.executemany("INSERT INTO videos (code, file, duration_s, fps, n_frames, "
                                 "remuxed) VALUES (?,?,?,?,?,?)", rows)
                ids = [r["id"] for r in conn.execute("SELECT id FROM videos ORDER BY code")]
                for name in observers:
                    db.add_observer(conn, name, random_order(ids))
                db.audit(conn, "create", None, videos=len(rows), observers=list(observers),
                         copied=sorted(copied))
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError as exc:
            problem = space_problem(tmp)
            if problem is not None:
                raise FileSystemError(session_dir, problem.problem) from None
            raise db.write_error(session_dir / db.DB_NAME, exc) from None
        finally:
            conn.close()
        table = pd.DataFrame(key_rows)
        first = ["code", "video", "subject", "group"]
        table = table[first + [c for c in table.columns if c not in first]]
        # said before the key exists: a kill after this line leaves a key that the next
        # run can tell is this unfinished session's, and remove
        staging.record(key=key_path, session_id=sid, session_dir=session_dir)
        # readable by whoever prepared the session only, from its first byte
        write_text(key_path, key_text(key_path, sid, created_at, table), permissions=0o600)
        key_written = True
        try:
            if session_dir.exists():
                session_dir.rmdir()
            tmp.replace(session_dir)
        except OSError as exc:
            raise FileSystemError(session_dir, "cannot move the session into place: "
                                  f"{write_failure(session_dir, exc).problem}") from None
    except BaseException:
        if key_written:
            key_path.unlink(missing_ok=True)
        staging.discard()
        raise
    staging.done()
    return CreatedSession(session_dir, key_path, sid, tuple(codes), observers, copied, cleaned)


def _coded_copy(src: Path, dst: Path, session_dir: Path) -> RemuxResult:
    """The coded copy of one video; a full disk or a read-only folder said as such."""
    try:
        return remux_without_metadata(src, dst)
    except OSError as exc:
        raise write_failure(session_dir, exc) from None
    except VideoError:
        # the copy failed: if the staging folder cannot take more bytes, that is the
        # cause (the remuxer reports it against the source video)
        problem = space_problem(dst.parent)
        if problem is not None:
            raise FileSystemError(session_dir, problem.problem) from None
        raise


# -- staging folders ----------------------------------------------------------------------------
@dataclass
class _Staging:
    """A hidden folder beside the new session, and the lock file that says it is in use."""

    folder: Path
    lock_path: Path
    fd: int

    @classmethod
    def start(cls, parent: Path) -> _Staging:
        try:
            folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
            folder.chmod(0o755)  # mkdtemp's 0700 would shut out the observers' accounts
            lock_path = folder.with_name(folder.name + ".lock")
            fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        except OSError as exc:
            raise write_failure(parent, exc) from None
        if not _try_lock(fd):  # pragma: no cover - a fresh random name
            os.close(fd)
            raise BehaviorError(f"{lock_path}: locked by another process")
        staging = cls(folder, lock_path, fd)
        staging._write({"pid": os.getpid()})
        return staging

    def record(self, **info: object) -> None:
        """Store what a later cleanup must know (the key about to be written)."""
        self._write({"pid": os.getpid(), **{k: str(v) for k, v in info.items()}})

    def _write(self, info: dict) -> None:
        data = json.dumps(info).encode()
        try:
            os.lseek(self.fd, 0, os.SEEK_SET)
            os.ftruncate(self.fd, 0)
            os.write(self.fd, data)
            os.fsync(self.fd)
        except OSError as exc:
            raise write_failure(self.lock_path, exc) from None

    def discard(self) -> None:
        """After a failure: the folder and the lock file go."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.done()

    def done(self) -> None:
        """Release and remove the lock file (the folder was moved, or removed)."""
        with contextlib.suppress(OSError):
            self.lock_path.unlink()
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; False if another process holds it.
    The operating system releases it when its holder dies, however it dies."""
    try:
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def remove_stale_staging(parent: str | Path) -> list[str]:
    """Remove the staging folders an interrupted :func:`create_session` left in ``parent``.

    A staging folder is stale when no process holds its lock file (its creator
    died), or it has no lock file and is older than a minute. With it go its lock
    file and a key it had written for the session that was never moved into place
    (the key's session id says so).

    Returns
    -------
    list of str
        One line per folder removed: what, how large, and the key removed with it.
    """
    parent = Path(parent)
    notes = []
    try:
        entries = sorted(parent.glob(f"{STAGING_PREFIX}*"))
    except OSError:
        return notes
    for folder in entries:
        if folder.suffix == ".lock" or not folder.is_dir():
            continue
        lock_path = folder.with_name(folder.name + ".lock")
        info = _stale_info(folder, lock_path)
        if info is None:
            continue
        size = _size(folder)
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            lock_path.unlink()
        note = (f"removed {folder} ({size / 1e6:.1f} MB), the staging folder of a session "
                "creation that was interrupted")
        key = _orphan_key(info)
        if key is not None:
            note += f", and its key {key}, written for that session which was never completed"
        notes.append(note)
    for lock_path in parent.glob(f"{STAGING_PREFIX}*.lock"):
        # a lock file alone: its folder became a session, then the process died
        if not lock_path.with_suffix("").exists() and _stale_info(None, lock_path) is not None:
            with contextlib.suppress(OSError):
                lock_path.unlink()
    return notes


def _stale_info(folder: Path | None, lock_path: Path) -> dict | None:
    """The staging's recorded info if nobody holds its lock (``{}`` if none), else None."""
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except FileNotFoundError:
        if folder is None:
            return None
        try:
            age = time.time() - folder.stat().st_mtime
        except OSError:
            return None
        return {} if age > _GRACE_S else None
    except OSError:
        return None
    try:
        if not _try_lock(fd):
            return None
        try:
            return json.loads(os.read(fd, 1 << 16).decode() or "{}")
        except (ValueError, OSError):
            return {}
    finally:
        os.close(fd)


def _orphan_key(info: dict) -> Path | None:
    """Remove the key a dead staging had written, if it belongs to no completed session."""
    key, sid, session_dir = info.get("key"), info.get("session_id"), info.get("session_dir")
    if not key or not sid:
        return None
    key_path = Path(key)
    try:
        if read_key(key_path)[0] != sid:
            return None  # another session's key now: leave it
    except (InputError, OSError):
        return None
    if session_dir:
        with contextlib.suppress(InputError, OSError, sqlite3.Error):
            conn = db.open_database(session_dir, readonly=True)
            try:
                if db.session_id(conn) == sid:
                    return None  # the session was completed after all
            finally:
                conn.close()
    with contextlib.suppress(OSError):
        key_path.unlink()
        return key_path
    return None


def _size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total


def _timing(src: Path, duration_s: float, fps: float, n_frames: int,
            result: RemuxResult) -> tuple[float, float]:
    """Duration and frame rate for the database: the header's, else from the packets."""
    if not (math.isfinite(duration_s) and duration_s > 0):
        duration_s = result.duration_s
    if not (math.isfinite(fps) and fps > 0) and math.isfinite(duration_s) and duration_s > 0:
        count = n_frames or result.packets
        fps = count / duration_s if count else math.nan
    if not (math.isfinite(duration_s) and duration_s > 0 and math.isfinite(fps) and fps > 0):
        raise InputError(src, "the container gives no duration or frame rate; re-mux it "
                         "(e.g. ffmpeg -i IN -c copy OUT.mkv) and try again")
    return float(duration_s), float(fps)
