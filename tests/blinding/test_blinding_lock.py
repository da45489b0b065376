"""Import, lock, unblind: refusals, the digest, a key from another session, all or nothing."""

import json
import sqlite3

import pandas as pd
import pytest
from blinding_helpers import make_session

from behavior.blinding.database import ScoringError
from behavior.blinding.key import read_key
from behavior.blinding.lock import import_intervals, lock_session, unblind
from behavior.blinding.session import ScoringSession
from behavior.blinding.tables import merge_overlaps, read_intervals
from behavior.cli import main
from behavior.errors import InputError


def _score_all(session_dir, observer, bouts):
    """Score every video of the session with ``bouts[i]`` for the i-th code (sorted)."""
    with ScoringSession(session_dir, observer) as s:
        for i, code in enumerate(sorted(v.code for v in s.videos)):
            for a, b in bouts[i]:
                s.add("immobility", a, b, video=code)
            s.finish(code)


def _events(session_dir):
    conn = sqlite3.connect(session_dir / "session.sqlite")
    n = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    conn.close()
    return n


def test_unblind_joins_scores_with_the_key(tmp_path):
    made, videos, _ = make_session(tmp_path, n=4)
    codes = sorted(made.codes)
    _score_all(made.session_dir, "A", [[(0.5, 1.0)], [(1.0, 2.0)], [], [(0.2, 0.7)]])
    _score_all(made.session_dir, "B", [[(0.5, 1.2)], [(1.0, 1.8)], [(0.6, 0.7)], [(0.2, 0.9)]])
    with pytest.raises(ScoringError, match="not locked"):
        unblind(made.session_dir, read_key(made.key_path), made.key_path)
    lock_session(made.session_dir)
    scores, digest = unblind(made.session_dir, read_key(made.key_path), made.key_path,
                             combine="none")
    assert digest is not None and len(scores) == 8
    _, key = read_key(made.key_path)
    by_code = key.set_index("code")
    a = scores[scores["observer"] == "A"].set_index("code")
    expected_a = {codes[0]: 0.5, codes[1]: 1.0, codes[2]: 0.0, codes[3]: 0.2}  # window 0.5-2
    for code, value in expected_a.items():
        assert a.loc[code, "immobility_s"] == pytest.approx(value)
        assert a.loc[code, "group"] == by_code.loc[code, "group"]
        assert a.loc[code, "subject"] == by_code.loc[code, "subject"]
    mean, _ = unblind(made.session_dir, read_key(made.key_path), made.key_path)
    assert len(mean) == 4 and set(mean["n_observers"]) == {2}
    m = mean.set_index("code")
    assert m.loc[codes[0], "immobility_s"] == pytest.approx((0.5 + 0.7) / 2)
    assert list(mean.columns[:3]) == ["subject", "group", "dose_mg_kg"]


def test_force_before_lock_is_audited(tmp_path):
    made, _, _ = make_session(tmp_path, n=2, observers=("A",))
    _score_all(made.session_dir, "A", [[(0.5, 1.0)], []])
    scores, digest = unblind(made.session_dir, read_key(made.key_path), made.key_path,
                             force=True)
    assert digest is None and len(scores) == 2
    conn = sqlite3.connect(made.session_dir / "session.sqlite")
    actions = [r[0] for r in conn.execute("SELECT action FROM audit")]
    conn.close()
    assert actions[-1] == "unblind forced"


def test_tampering_after_the_lock_is_detected(tmp_path):
    made, _, _ = make_session(tmp_path, n=2, observers=("A",))
    _score_all(made.session_dir, "A", [[(0.5, 1.0)], [(0.6, 1.6)]])
    lock_session(made.session_dir)
    conn = sqlite3.connect(made.session_dir / "session.sqlite")
    # a tamperer who knows SQLite drops the guard and shortens a bout
    conn.execute("DROP TRIGGER events_UPDATE_locked")
    conn.execute("UPDATE events SET end_s = 0.9 WHERE end_s = 1.0")
    conn.commit()
    conn.close()
    with pytest.raises(InputError, match="tampered"):
        unblind(made.session_dir, read_key(made.key_path), made.key_path)


def test_key_from_another_session_is_refused(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one, _, _ = make_session(tmp_path / "one", n=2, observers=("A",))
    two, _, _ = make_session(tmp_path / "two", n=2, observers=("A",))
    _score_all(one.session_dir, "A", [[], []])
    lock_session(one.session_dir)
    with pytest.raises(InputError, match="another session"):
        unblind(one.session_dir, read_key(two.key_path), two.key_path)


def test_lock_refuses_unfinished_videos(tmp_path):
    made, _, _ = make_session(tmp_path, n=2, observers=("A", "B"))
    _score_all(made.session_dir, "A", [[(0.5, 1.0)], []])
    with pytest.raises(ScoringError, match="2 video\\(s\\) not marked finished: B/"):
        lock_session(made.session_dir)
    result = lock_session(made.session_dir, allow_incomplete=True)
    assert len(result.incomplete) == 2 and result.events == 1


def _intervals(tmp_path, rows, name="scores.csv"):
    path = tmp_path / name
    path.write_text("video,behaviour,start_s,end_s\n" + "\n".join(rows) + "\n")
    return path


def test_import_checks_everything_before_writing(tmp_path):
    made, _, _ = make_session(tmp_path, n=2, observers=())
    c1, c2 = sorted(made.codes)
    good = _intervals(tmp_path, [f"{c1}.mp4,immobility,0.5,1.0", f"{c2},immobility,0.2,1.9"])
    cases = {
        "unknown video code 'ZZZZZZ'": [f"{c1},immobility,0.5,1.0", "ZZZZZZ,immobility,0,1"],
        "ends after the video": [f"{c1},immobility,0.5,1.0", f"{c2},immobility,1.0,3.5"],
        "not scored in this session": [f"{c1},climbing,0.5,1.0"],
    }
    for problem, rows in cases.items():
        path = _intervals(tmp_path, rows, "bad.csv")
        with pytest.raises(InputError, match=problem):
            import_intervals(made.session_dir, read_intervals(path), "A", path,
                             new_observer=True)
        assert _events(made.session_dir) == 0  # nothing written half-way
    with pytest.raises(ScoringError, match="no observer 'A' in this session"):
        import_intervals(made.session_dir, read_intervals(good), "A", good)
    result = import_intervals(made.session_dir, read_intervals(good), "A", good,
                              new_observer=True)
    assert result.counts == {c1: 1, c2: 1} and result.new_observer
    assert result.finished == (c1, c2) and result.unfinished == ()
    with pytest.raises(InputError, match="overlaps A's scored"):
        import_intervals(made.session_dir, read_intervals(good), "A", good)
    import_intervals(made.session_dir, read_intervals(good), "A", good, replace=True)
    assert _events(made.session_dir) == 2
    lock_session(made.session_dir)  # import marked both videos finished
    with pytest.raises(ScoringError, match="locked"):
        import_intervals(made.session_dir, read_intervals(good), "B", good, new_observer=True)


def test_boris_export_columns_are_accepted(tmp_path):
    path = tmp_path / "boris.csv"
    path.write_text("Observation id,Media file,Behavior,Behavior type,Start (s),Stop (s)\n"
                    "obs1,/home/x/K7QX3M.mp4,Immobility,STATE,1.5,3.25\n")
    table = read_intervals(path)
    assert table[["video", "behaviour", "start_s", "end_s"]].values.tolist() == [
        ["K7QX3M", "immobility", 1.5, 3.25]]
    path.write_text("Observation id,Media file,Behavior,Behavior type,Start (s),Stop (s)\n"
                    "obs1,K7QX3M.mp4,dive,POINT,2.0,2.0\n"
                    "obs1,K7QX3M.mp4,Immobility,STATE,1.5,3.25\n"
                    "obs1,K7QX3M.mp4,Immobility,STATE,3.0,4.0\n")
    with pytest.raises(InputError, match="line 4"):  # point events skipped, lines kept
        merge_overlaps(read_intervals(path), path, strict=True)


def test_command_line_round_trip(tmp_path, capsys):
    made, videos, groups = make_session(tmp_path, n=2, observers=())
    c1, c2 = sorted(made.codes)
    scores = _intervals(tmp_path, [f"{c1},immobility,0.5,1.0", f"{c2},immobility,1.0,2.0"])
    argv = ["blind", "import", str(made.session_dir), str(scores), "--observer", "A"]
    assert main(argv) == 2  # a name the session does not know: refused
    assert "no observer 'A' in this session" in capsys.readouterr().err
    assert main([*argv, "--new-observer"]) == 0
    out = tmp_path / "unblinded.csv"
    argv = ["blind", "unblind", str(made.session_dir), "--key", str(made.key_path),
            "--out", str(out)]
    assert main(argv) == 2 and not out.exists()  # refused before the lock, nothing written
    assert "not locked" in capsys.readouterr().err
    assert main(["blind", "lock", str(made.session_dir)]) == 0
    assert main(argv) == 0
    table = pd.read_csv(out)
    sid, key = read_key(made.key_path)
    expected = {key.set_index("code").loc[c1, "subject"]: 0.5,
                key.set_index("code").loc[c2, "subject"]: 1.0}
    got = dict(zip(table["subject"], table["immobility_s"], strict=True))
    assert got == pytest.approx(expected)


def test_command_line_create(tmp_path, capsys):
    from blinding_helpers import make_study

    videos, groups = make_study(tmp_path, 2)
    rc = main(["blind", "create", *map(str, videos), "--groups", str(groups), "--out",
               str(tmp_path / "s"), "--key", str(tmp_path / "key.json"), "--observers", "A,B",
               "--behaviours", "immobility,swimming"])
    assert rc == 0
    doc = json.loads((tmp_path / "key.json").read_text())
    assert len(doc["videos"]) == 2 and doc["session_id"] in capsys.readouterr().out
    rc = main(["blind", "create", *map(str, videos), "--groups", str(groups), "--out",
               str(tmp_path / "s2"), "--key", str(tmp_path / "s2" / "key.json")])
    assert rc == 2 and "outside the session folder" in capsys.readouterr().err


def test_unfinished_video_without_events_is_not_a_zero(tmp_path):
    made, _, _ = make_session(tmp_path, n=2, observers=("A",))
    with ScoringSession(made.session_dir, "A") as s:
        first = s.videos[0].code
        s.finish(first)  # watched, nothing immobile: a real zero
    lock_session(made.session_dir, allow_incomplete=True)
    scores, _ = unblind(made.session_dir, read_key(made.key_path), made.key_path,
                        combine="none")
    assert scores["code"].tolist() == [first]  # the unwatched one is absent, not 0 s
    assert scores["immobility_s"].tolist() == [0.0]


def test_audit_log_tells_who_did_what_and_when(tmp_path, capsys):
    made, _, _ = make_session(tmp_path, n=2, observers=("A",))
    _score_all(made.session_dir, "A", [[(0.5, 1.0)], []])
    lock_session(made.session_dir)
    unblind(made.session_dir, read_key(made.key_path), made.key_path)
    out = tmp_path / "audit.csv"
    assert main(["blind", "audit", str(made.session_dir), "--out", str(out)]) == 0
    log = pd.read_csv(out)
    assert log["action"].tolist() == ["add observer", "create", "add", "finish", "finish",
                                      "lock", "unblind"]
    assert log["at"].is_monotonic_increasing
    assert json.loads(log["detail"].iloc[-2])["sha256"] == json.loads(log["detail"].iloc[-1])[
        "sha256"]
