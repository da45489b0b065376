"""What the GUI needs from the Qt-free core: redo, resume points, a dismissed
interrupted hold, and one-video (open) scoring databases."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from gui_helpers import make_gui_session, write_clip

from behavior.blinding.database import ScoringError
from behavior.blinding.open_scoring import default_database, is_open, open_video_scoring
from behavior.blinding.session import ScoringSession
from behavior.errors import InputError
from behavior.io.video import VideoReader


@pytest.fixture
def scoring(tmp_path):
    made, _, _ = make_gui_session(tmp_path, n=2)
    s = ScoringSession(made.session_dir, "ann")
    s.select(s.videos[0].code)
    yield s
    s.close()


def spans(s):
    return [(e.id, e.start_s, e.end_s) for e in s.events()]


def test_redo_gives_back_what_undo_took(scoring):
    a = scoring.add("immobility", 1.0, 2.0)
    b = scoring.add("immobility", 2.5, 3.0)
    scoring.edit(a.id, 1.2, 2.0)
    scoring.delete(b.id)
    assert spans(scoring) == [(a.id, 1.2, 2.0)]
    assert scoring.undo() == f"delete of event {b.id}"
    assert spans(scoring) == [(a.id, 1.2, 2.0), (b.id, 2.5, 3.0)]
    assert scoring.undo() == f"edit of event {a.id}"
    assert spans(scoring) == [(a.id, 1.0, 2.0), (b.id, 2.5, 3.0)]
    assert scoring.undo() == f"add of event {b.id}"
    assert spans(scoring) == [(a.id, 1.0, 2.0)]
    assert scoring.can_redo
    assert scoring.redo() == f"add of event {b.id}"  # the same id comes back
    assert spans(scoring) == [(a.id, 1.0, 2.0), (b.id, 2.5, 3.0)]
    assert scoring.redo() == f"edit of event {a.id}"
    assert scoring.redo() == f"delete of event {b.id}"
    assert spans(scoring) == [(a.id, 1.2, 2.0)]
    assert scoring.redo() is None
    scoring.undo()
    scoring.add("immobility", 3.1, 3.5)  # a new action forgets the redo
    assert not scoring.can_redo and scoring.redo() is None
    actions = [r[0] for r in scoring._conn.execute("SELECT action FROM audit ORDER BY id")]
    assert actions.count("redo add") == 1 and actions.count("redo delete") == 1


def test_redo_refused_while_holding(scoring):
    scoring.add("immobility", 1.0, 2.0)
    scoring.undo()
    scoring.start("immobility", 2.5)
    assert not scoring.can_redo and scoring.redo() is None
    assert scoring.undo() == "cancel held state"
    assert scoring.redo() == "add of event 1"


def test_resume_point_is_durable(tmp_path):
    made, _, _ = make_gui_session(tmp_path, n=2)
    with ScoringSession(made.session_dir, "ann") as s:
        assert s.last_position() is None
        code = s.videos[1].code
        s.select(code)
        s.save_position(2.48)
        s.save_position(2.52)  # replaces, not appends
    with ScoringSession(made.session_dir, "ann") as s:
        assert s.last_position() == (code, 2.52)
    with ScoringSession(made.session_dir, "bob") as s:
        assert s.last_position() is None  # each observer their own
    conn = sqlite3.connect(str(made.session_dir / "session.sqlite"))
    assert conn.execute("SELECT COUNT(*) FROM resume_points").fetchone()[0] == 1
    conn.close()


def test_dismissed_interrupted_hold_is_not_offered_again(tmp_path):
    made, _, _ = make_gui_session(tmp_path, n=2)
    s = ScoringSession(made.session_dir, "ann")
    code = s.videos[0].code
    s.select(code)
    s.start("immobility", 1.25)
    s.close()  # as a crash: the hold was never stopped
    with ScoringSession(made.session_dir, "ann") as s:
        assert s.interrupted_hold() == (code, "immobility", 1.25)
        s.dismiss_interrupted()
        assert s.interrupted_hold() is None
    with ScoringSession(made.session_dir, "ann") as s:
        assert s.interrupted_hold() is None


def test_open_scoring_database_beside_the_video(tmp_path):
    video = tmp_path / "cage 3" / "m07 day2.mp4"
    video.parent.mkdir()
    times = write_clip(video, seconds=2.0, fps=25)
    path, code = open_video_scoring(video)
    assert path == default_database(video) == tmp_path / "cage 3" / "m07 day2.scores.sqlite"
    assert code == "m07 day2"
    assert not list(video.parent.glob(".*tmp*"))  # the temporary name is gone
    with ScoringSession(path, "ann") as s:
        assert [v.code for v in s.videos] == [code]
        assert s.video_path(code) == video
        v = s.videos[0]
        assert v.n_frames == times.size == 50
        assert v.duration_s == pytest.approx(2.0)  # 49 frames of 40 ms, and the last one
        assert s.protocol.window_s == (120.0, 360.0) and s.behaviours == ("immobility",)
        s.select(code)
        s.add("immobility", 0.4, 1.2)
    assert is_open(sqlite3.connect(str(path)).__enter__())
    assert open_video_scoring(video) == (path, code)  # opened again, not added twice


def test_open_scoring_adds_videos_for_existing_observers(tmp_path):
    a, b = tmp_path / "a.mp4", tmp_path / "sub" / "a.mp4"
    b.parent.mkdir()
    write_clip(a, 1.0)
    write_clip(b, 1.0)
    dbfile, code_a = open_video_scoring(a, tmp_path / "lab.sqlite")
    ScoringSession(dbfile, "ann").close()
    _, code_b = open_video_scoring(b, dbfile)
    assert code_b == "a_2"  # stems clash: the second gets a suffix
    with ScoringSession(dbfile, "ann") as s:
        assert [v.code for v in s.videos] == [code_a, code_b]
        assert s.video_path(code_b) == b


def test_open_scoring_refuses_a_blinded_session(tmp_path):
    made, _, _ = make_gui_session(tmp_path, n=2)
    clip = tmp_path / "x.mp4"
    write_clip(clip, 1.0)
    with pytest.raises(InputError, match="blinded session"):
        open_video_scoring(clip, made.session_dir / "session.sqlite")


def test_open_scoring_vfr_duration_from_frame_times(tmp_path):
    clip = tmp_path / "vfr.mp4"
    write_clip(clip, 2.0, vfr=True, seed=4)
    dbfile, code = open_video_scoring(clip)
    with VideoReader(clip) as r:
        times = r.frame_times()
    with ScoringSession(dbfile, "ann") as s:
        v = s.videos[0]
        assert v.duration_s == pytest.approx(times[-1] + (times[-1] - times[-2]))
        s.select(code, frame_times_s=times)
        e = s.add("immobility", float(times[10]), float(times[30]))
        assert (e.start_frame, e.end_frame) == (10, 30)
        with pytest.raises(ScoringError, match="outside the video"):
            s.add("immobility", 0.1, v.duration_s + 1)
    assert np.all(np.diff(times) > 0)
