"""Point events: instants an observer marks with one key press (a head shake, a dive),
counted in the window, beside the held states."""

import math

import numpy as np
import pytest
from blinding_helpers import make_session, small_protocol

from behavior.blinding import database as db
from behavior.blinding.database import ScoringError, SessionProtocol
from behavior.blinding.key import read_key
from behavior.blinding.lock import lock_session, unblind
from behavior.blinding.session import ScoringSession, summarize_events
from behavior.cli import main
from behavior.errors import InputError
from behavior.protocols import ProtocolError, parse_fst_protocol


@pytest.fixture
def made(tmp_path):
    made, _, _ = make_session(tmp_path, n=2, points=("head_shake", "dive"))
    return made


def test_a_mark_is_one_frame_and_is_counted_in_the_window(made):
    with ScoringSession(made.session_dir, "A") as s:
        assert s.behaviours == ("immobility",) and s.points == ("head_shake", "dive")
        s.select(s.videos[0].code)
        # 25-fps clips, window 0.5-2 s: 0.30 is before it, the rest inside
        marks = [s.mark("head_shake", t) for t in (0.30, 0.62, 1.01, 1.90)]
        s.mark("dive", 1.5)
        assert [(m.start_s, m.end_s, m.start_frame, m.end_frame) for m in marks[:2]] == [
            (0.30, 0.30, 7, 8), (0.62, 0.62, 15, 16)]
        summary = s.summary()
        assert summary["head_shake_n"] == 3 and summary["dive_n"] == 1
        assert summary["immobility_s"] == 0  # marks are not immobility


def test_a_mark_does_not_end_a_held_state_and_twice_on_a_frame_is_refused(made):
    with ScoringSession(made.session_dir, "A") as s:
        s.select(s.videos[0].code)
        s.start("immobility", 0.6)
        s.mark("dive", 0.8)
        assert s.held == ("immobility", 0.6)
        bout = s.stop(1.6)
        assert (bout.start_s, bout.end_s) == (0.6, 1.6)
        with pytest.raises(ScoringError, match="already marked on this frame"):
            s.mark("dive", 0.81)  # frame 20 again (25 fps)
        s.mark("dive", 0.84)      # frame 21: a second dive
        with pytest.raises(ScoringError, match="point event: mark it"):
            s.start("dive", 1.0)
        with pytest.raises(ScoringError, match="not a point event"):
            s.mark("immobility", 1.0)
        with pytest.raises(ScoringError, match="one time"):
            s.add("dive", 1.0, 1.2)
        assert s.summary()["dive_n"] == 2
        assert s.summary()["immobility_s"] == pytest.approx(1.0)


def test_undo_and_redo_of_a_mark(made):
    with ScoringSession(made.session_dir, "A") as s:
        s.select(s.videos[0].code)
        m = s.mark("head_shake", 1.2)
        assert s.undo() == f"add of event {m.id}"
        assert s.events(behaviour="head_shake") == []
        s.redo()
        assert [e.start_s for e in s.events(behaviour="head_shake")] == [1.2]
        moved = s.edit(m.id, 1.4, 1.4)
        assert (moved.start_frame, moved.end_frame) == (35, 36)
        actions = [r["action"] for r in s._conn.execute(
            "SELECT action FROM audit WHERE observer = 'A' ORDER BY id")]
        assert actions[-4:] == ["add", "undo add", "redo add", "edit"]


def test_counts_reach_the_unblinded_table(made, tmp_path):
    expected = {}
    for observer, times in (("A", (0.6, 0.7, 1.9)), ("B", (0.6,))):
        with ScoringSession(made.session_dir, observer) as s:
            for v in s.videos:
                s.select(v.code)
                for t in times:
                    s.mark("head_shake", t)
                s.finish()
                expected.setdefault(v.code, []).append(len(times))
    lock_session(made.session_dir)
    scores, _ = unblind(made.session_dir, read_key(made.key_path), made.key_path)
    for _, row in scores.iterrows():
        assert row["head_shake_n"] == pytest.approx(np.mean(expected[row["code"]]))
        assert row["dive_n"] == 0


def test_a_window_the_video_does_not_reach_counts_nothing_not_zero():
    protocol = SessionProtocol("p", 10.0, (4.0, 8.0), 2.0, 0.0)
    summary = summarize_events({}, protocol, observed_end_s=3.0,
                               points={"dive": np.array([1.0, 2.0])})
    assert math.isnan(summary["dive_n"])
    summary = summarize_events({}, protocol, observed_end_s=6.0,
                               points={"dive": np.array([1.0, 4.0, 5.9, 6.5])})
    assert summary["dive_n"] == 2  # 4.0 and 5.9: inside the window, before the end


def test_the_protocol_names_its_point_events(tmp_path):
    base = small_protocol().to_dict()
    assert "points" not in base  # a protocol without points reads and writes as before
    p = parse_fst_protocol({**base, "points": ["head_shake", "dive"]}, "lab.yaml")
    assert p.points == ("head_shake", "dive") and p.to_dict()["points"] == ["head_shake", "dive"]
    with pytest.raises(ProtocolError, match="points.*lower-case"):
        parse_fst_protocol({**base, "points": ["Head shake"]}, "lab.yaml")
    with pytest.raises(ProtocolError, match="twice"):
        parse_fst_protocol({**base, "points": ["dive", "dive"]}, "lab.yaml")
    with pytest.raises(InputError, match="not a state's"):
        make_session(tmp_path, n=2, points=("swimming",))


def test_blind_create_takes_points_from_the_command_line(tmp_path, capsys):
    from blinding_helpers import make_study

    videos, groups = make_study(tmp_path, 2)
    status = main(["blind", "create", *map(str, videos), "--groups", str(groups),
                   "--out", str(tmp_path / "s"), "--key", str(tmp_path / "k.json"),
                   "--points", "rearing"])
    assert status == 0, capsys.readouterr().err
    conn = db.open_database(tmp_path / "s", readonly=True)
    kinds = [tuple(r) for r in conn.execute("SELECT name, kind FROM behaviours ORDER BY position")]
    conn.close()
    assert kinds == [("immobility", "state"), ("rearing", "point")]


def test_a_version_1_database_still_opens_and_scores(made):
    conn = db.connect(db.database_path(made.session_dir))
    with db.transaction(conn):
        conn.execute("UPDATE session SET schema_version = 1")
    conn.close()
    with ScoringSession(made.session_dir, "A") as s:
        s.select(s.videos[0].code)
        assert s.stop(0) is None
        s.start("immobility", 0.5)
        assert s.stop(1.0).end_s == 1.0
