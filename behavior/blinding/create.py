"""Prepare a blinded session: coded copies, the scoring database, and the key apart.

The session is built in a hidden temporary folder beside ``session_dir`` and moved
into place only when complete; the key is written last-but-one and removed again if
the final move fails, so an error never leaves half a session behind.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from behavior.blinding import database as db
from behavior.blinding.codes import new_codes, new_session_id, random_order
from behavior.blinding.key import key_text
from behavior.blinding.remux import RemuxResult, find_leaks, remux_without_metadata
from behavior.blinding.session import IMMOBILITY, KNOWN_BEHAVIOURS
from behavior.errors import InputError
from behavior.io.video import probe
from behavior.protocols import FstProtocol


@dataclass(frozen=True)
class CreatedSession:
    """What :func:`create_session` made."""

    session_dir: Path
    key_path: Path
    session_id: str
    codes: tuple[str, ...]
    observers: tuple[str, ...]
    copied: dict[str, str] = field(default_factory=dict)  # code -> why it was not remuxed


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
    """
    session_dir, key_path = Path(session_dir), Path(key_path)
    check_key_outside(session_dir, key_path)
    if key_path.exists():
        raise InputError(key_path, "key file already exists; choose a new name (a key is "
                         "never overwritten)")
    if session_dir.exists() and (not session_dir.is_dir() or any(session_dir.iterdir())):
        raise InputError(session_dir, "session folder exists and is not empty")
    if not key_path.parent.is_dir():
        raise InputError(key_path, "the key's folder does not exist")
    behaviours = tuple(dict.fromkeys([IMMOBILITY, *[b.strip().lower() for b in behaviours]]))
    unknown = [b for b in behaviours if b not in KNOWN_BEHAVIOURS]
    if unknown:
        raise InputError("behaviours", f"unknown behaviour(s) {', '.join(unknown)}; "
                         f"expected {', '.join(KNOWN_BEHAVIOURS)}")
    observers = tuple(dict.fromkeys(o.strip() for o in observers if o.strip()))
    paths = [Path(v) for v in videos]
    if not paths:
        raise InputError(session_dir, "no videos given")
    if len({p.resolve() for p in paths}) != len(paths):
        raise InputError(session_dir, "a video is given twice")
    if len(groups) != len(paths):
        raise InputError(session_dir, "groups table and videos differ in length")
    infos = [probe(p) for p in paths]  # fails early, before anything is written

    session_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".blind-", dir=session_dir.parent))
    tmp.chmod(0o755)  # mkdtemp's 0700 would shut out the observers' accounts
    key_tmp = key_path.with_name(f".{key_path.name}.tmp")
    try:
        sid = new_session_id()
        codes = new_codes(len(paths))
        assigned = random_order(range(len(paths)))  # code i -> video assigned[i]
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
                result = remux_without_metadata(src, tmp / rel)
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
                conn.executemany("INSERT INTO behaviours VALUES (?, 'state', ?)",
                                 [(b, i) for i, b in enumerate(behaviours)])
                conn.executemany("INSERT INTO videos (code, file, duration_s, fps, n_frames, "
                                 "remuxed) VALUES (?,?,?,?,?,?)", rows)
                ids = [r["id"] for r in conn.execute("SELECT id FROM videos ORDER BY code")]
                for name in observers:
                    db.add_observer(conn, name, random_order(ids))
                db.audit(conn, "create", None, videos=len(rows), observers=list(observers),
                         copied=sorted(copied))
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        table = pd.DataFrame(key_rows)
        first = ["code", "video", "subject", "group"]
        table = table[first + [c for c in table.columns if c not in first]]
        key_tmp.write_text(key_text(key_path, sid, created_at, table), encoding="utf-8")
        key_tmp.chmod(0o600)  # readable by whoever prepared the session only
        key_tmp.replace(key_path)
        try:
            if session_dir.exists():
                session_dir.rmdir()
            tmp.replace(session_dir)
        except OSError as exc:
            key_path.unlink(missing_ok=True)
            raise InputError(session_dir, f"cannot create the session folder: {exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        key_tmp.unlink(missing_ok=True)
        raise
    return CreatedSession(session_dir, key_path, sid, tuple(codes), observers, copied)


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
