"""The scoring API the GUI calls: hold-to-score, undo, edit, delete, summaries."""

import sqlite3

import numpy as np
import pytest
from blinding_helpers import make_session

from behavior.blinding.database import ScoringError
from behavior.blinding.lock import lock_session
from behavior.blinding.session import ScoringSession, frame_at
from behavior.fst.summary import summarize_bouts


@pytest.fixture
def session(tmp_path):
    made, _, _ = make_session(tmp_path, n=2, behaviours=("immobility", "swimming"))
    with ScoringSession(made.session_dir, "A") as s:
        s.select(s.videos[0].code)
        yield s


def test_hold_to_score_makes_events_with_frames(session):
    session.start("immobility", 0.62)
    assert session.held == ("immobility", 0.62)
    assert session.events() == []  # a held state is not an event yet
    ev = session.stop(1.30)
    assert (ev.start_s, ev.end_s) == (0.62, 1.30)
    assert (ev.start_frame, ev.end_frame) == (15, 32)  # 25 fps: floor(0.62*25), floor(1.3*25)
    assert [e.id for e in session.events()] == [ev.id]
    audit = session._conn.execute("SELECT action FROM audit WHERE observer='A'").fetchall()
    assert [a["action"] for a in audit][-2:] == ["start", "add"]


def test_interrupted_hold_is_none_after_a_clean_stop(session):
    session.start("immobility", 0.5)
    assert session.interrupted_hold() == (session.current, "immobility", 0.5)
    session.stop(0.9)
    assert session.interrupted_hold() is None
    session.start("immobility", 1.0)
    session.cancel()
    assert session.interrupted_hold() is None


def test_starting_another_state_stops_the_held_one(session):
    session.start("swimming", 0.1)
    session.start("immobility", 0.9)
    session.stop(1.5)
    got = [(e.behaviour, e.start_s, e.end_s) for e in session.events()]
    assert sorted(got) == [("immobility", 0.9, 1.5), ("swimming", 0.1, 0.9)]


def test_summary_uses_the_fst_definitions(session):
    for a, b in [(0.3, 0.8), (1.0, 1.2), (1.5, 2.0)]:
        session.add("immobility", a, b)
    session.add("swimming", 0.8, 1.0)
    s = session.summary()
    ref = summarize_bouts(np.array([[0.3, 0.8], [1.0, 1.2], [1.5, 2.0]]), (0.5, 2.0), 2.0, 0.5,
                          observed_end_s=2.0)
    for k, v in ref.items():
        assert s[k] == pytest.approx(v)
    assert s["immobility_s"] == pytest.approx(0.3 + 0.2 + 0.5)
    assert s["latency_s"] == pytest.approx(0.3)
    assert s["swimming_s"] == pytest.approx(0.2)
    # 0.5-s bins: 0.5-1.0 immobile 0.3 s vs swimming 0.2 s; 1.0-1.5 immobile 0.2 s
    # vs nothing held 0.3 s (no count); 1.5-2.0 immobile
    assert (s["immobile_bins"], s["swimming_bins"], s["scored_bins"]) == (2, 0, 3)
    session.add("swimming", 1.2, 1.5)  # now 1.0-1.5: swimming 0.3 s, immobile 0.2 s
    s = session.summary()
    assert (s["immobile_bins"], s["swimming_bins"]) == (2, 1)
    assert s["swimming_s"] == pytest.approx(0.5)


def test_undo_edit_delete(session):
    e1 = session.add("immobility", 0.5, 0.9)
    e2 = session.add("immobility", 1.0, 1.4)
    session.edit(e2.id, 1.1, 1.6)
    assert session.event(e2.id).end_s == 1.6
    session.delete(e1.id)
    assert [e.id for e in session.events()] == [e2.id]
    assert session.undo() == f"delete of event {e1.id}"
    assert session.event(e1.id).start_s == 0.5  # restored with its id
    session.undo()  # the edit
    assert (session.event(e2.id).start_s, session.event(e2.id).end_s) == (1.0, 1.4)
    session.undo()  # the add of e2
    assert [e.id for e in session.events()] == [e1.id]
    session.start("immobility", 1.5)
    assert session.undo() == "cancel held state" and session.held is None


def test_bad_events_are_refused_and_nothing_written(session):
    session.add("immobility", 0.5, 1.0)
    with pytest.raises(ScoringError, match="overlaps event"):
        session.add("immobility", 0.9, 1.2)
    session.add("immobility", 1.0, 1.2)  # touching is fine
    with pytest.raises(ScoringError, match="outside the video"):
        session.add("immobility", 1.5, 2.6)
    with pytest.raises(ScoringError, match="unknown behaviour"):
        session.start("climbing", 0.1)
    with pytest.raises(ScoringError, match="unknown video code"):
        session.select("NOPE42")
    e = session.events()[0]
    with pytest.raises(ScoringError, match="overlaps"):
        session.edit(e.id, 0.5, 1.1)
    assert [(x.start_s, x.end_s) for x in session.events()] == [(0.5, 1.0), (1.0, 1.2)]


def test_locked_session_refuses_changes(tmp_path):
    made, _, _ = make_session(tmp_path, n=1, observers=("A",))
    with ScoringSession(made.session_dir, "A") as s:
        code = s.videos[0].code
        e = s.add("immobility", 0.5, 1.0, video=code)
        s.finish(code)
    lock_session(made.session_dir)
    with ScoringSession(made.session_dir, "A") as s:
        with pytest.raises(ScoringError, match="locked"):
            s.add("immobility", 1.2, 1.5, video=code)
        with pytest.raises(ScoringError, match="locked"):
            s.delete(e.id)
    with pytest.raises(ScoringError, match="locked"):
        ScoringSession(made.session_dir, "newcomer")
    # the triggers refuse even a direct write
    conn = sqlite3.connect(made.session_dir / "session.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="locked"):
        conn.execute("DELETE FROM events")
    conn.close()


def test_each_observer_has_a_random_order_of_all_videos(tmp_path):
    made, _, _ = make_session(tmp_path, n=4)
    orders = []
    for name in ("A", "B", "C"):  # C joins later
        with ScoringSession(made.session_dir, name) as s:
            orders.append([v.code for v in s.videos])
    assert all(sorted(o) == sorted(made.codes) for o in orders)


def test_frame_at_uses_per_frame_times():
    times = np.array([0.0, 0.04, 0.1, 0.2])  # variable frame rate
    assert frame_at(0.15, 25.0, times) == 2
    assert frame_at(0.1, 25.0, times) == 2
    assert frame_at(0.15, 25.0) == 3
