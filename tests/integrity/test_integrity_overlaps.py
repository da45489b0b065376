"""Real annotation exports: overlapping and repeated intervals of one rater, every bad row
at once, observer names that must exist, and an import that makes a session lockable."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
from blinding_helpers import make_session

from behavior.cli import main


def _events(session_dir) -> list[tuple[str, str, float, float]]:
    conn = sqlite3.connect(session_dir / "session.sqlite")
    rows = conn.execute("SELECT o.name, v.code, e.start_s, e.end_s FROM events e JOIN observers o "
                        "ON o.id = e.observer_id JOIN videos v ON v.id = e.video_id "
                        "ORDER BY o.name, v.code, e.start_s").fetchall()
    conn.close()
    return rows


def _csv(path, rows, header="video,behaviour,start_s,end_s"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def session(tmp_path):
    made, _, _ = make_session(tmp_path, n=2, observers=("ann",))
    return made, *sorted(made.codes)


def test_import_merges_overlaps_and_repeats_and_says_which_lines(tmp_path, capsys, session):
    made, c1, c2 = session
    path = _csv(tmp_path / "ann.csv", [
        f"{c1},immobility,0.5,1.0",
        f"{c1},immobility,0.8,1.2",   # a bout scored again, longer
        f"{c1},immobility,0.5,1.0",   # a double click
        f"{c2},immobility,0.2,0.4",
        f"{c2},immobility,0.4,0.6",   # touches the one before: two bouts, not an overlap
    ])
    strict = ["blind", "import", str(made.session_dir), str(path), "--observer", "ann"]
    assert main([*strict, "--strict"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: 2 bad rows (overlapping intervals of one rater)" in err
    assert f"  line 3: video {c1}: immobility 0.8–1.2 s overlaps 0.5–1 s (line 2)" in err
    assert f"  line 4: video {c1}: immobility 0.5–1 s repeats line 2" in err
    assert _events(made.session_dir) == []

    assert main(strict) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"behavior: warning: {path}, lines 2, 3 and 4: video {c1}: immobility 0.5–1 s, "
        "0.8–1.2 s, 0.5–1 s overlap; merged into 0.5–1.2 s"]
    assert "imported 3 event(s) on 2 video(s) for ann" in captured.out
    assert _events(made.session_dir) == [("ann", c1, 0.5, 1.2), ("ann", c2, 0.2, 0.4),
                                         ("ann", c2, 0.4, 0.6)]


def test_import_reports_every_bad_row_at_once(tmp_path, capsys, session):
    made, c1, c2 = session
    path = _csv(tmp_path / "ann.csv", [
        f"{c1},immobility,0.5,1.0",
        f"{c1},immobility,abc,1.5",   # line 3
        "XXXXXX,immobility,0.1,0.2",   # line 4
        f"{c2},climbing,0.1,0.2",      # line 5
        f"{c2},immobility,1.0,9.0",    # line 6
        f"{c2},immobility,0.7,0.3",    # line 7
    ])
    argv = ["blind", "import", str(made.session_dir), str(path), "--observer", "ann"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{path}: 2 bad rows:" in err  # what cannot even be read comes first
    assert "  line 3: 'start_s' is not a number: 'abc'" in err
    assert "  line 7: interval 0.7–0.3 s must have 0 <= start_s < end_s" in err
    _csv(path, [f"{c1},immobility,0.5,1.0", "XXXXXX,immobility,0.1,0.2",
                f"{c2},climbing,0.1,0.2", f"{c2},immobility,1.0,9.0"])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{path}: 3 bad rows (nothing was imported):" in err
    assert "  line 3: unknown video code 'XXXXXX' (not in this session)" in err
    assert "  line 4: behaviour 'climbing' is not scored in this session (immobility)" in err
    assert f"  line 5: video {c2}: 1–9 s ends after the video (2 s)" in err
    assert _events(made.session_dir) == []


def test_observer_names_must_be_known(tmp_path, capsys, session):
    made, c1, c2 = session
    path = _csv(tmp_path / "ann.csv", [f"{c1},immobility,0.5,1.0"])
    argv = ["blind", "import", str(made.session_dir), str(path)]
    assert main([*argv, "--observer", "Ann"]) == 2  # a typo must not add a new observer
    assert "no observer 'Ann' in this session (observers: ann)" in capsys.readouterr().err
    assert main([*argv, "--observer", "bob", "--new-observer"]) == 0
    assert "(a new observer)" in capsys.readouterr().out
    assert main(["blind", "lock", str(made.session_dir), "--allow-incomplete"]) == 0
    unblind = ["blind", "unblind", str(made.session_dir), "--key", str(made.key_path),
               "--out", str(tmp_path / "scores.csv")]
    assert main([*unblind, "--observer", "Bob"]) == 2
    assert "no observer 'Bob' in this session (observers: ann, bob)" in capsys.readouterr().err
    assert main([*unblind, "--observer", "bob"]) == 0


def test_an_imported_complete_scoring_can_be_locked(tmp_path, capsys, session):
    made, c1, c2 = session
    path = _csv(tmp_path / "ann.csv", [f"{c1},immobility,0.5,1.0",
                                       f"{c2},,,"])  # scored, nothing seen
    argv = ["blind", "import", str(made.session_dir), str(path), "--observer", "ann"]
    assert main([*argv, "--unfinished"]) == 0
    assert main(["blind", "lock", str(made.session_dir)]) == 2  # still open, as asked
    assert "2 video(s) not marked finished" in capsys.readouterr().err
    assert main([*argv, "--replace"]) == 0
    assert f"marked finished for ann: {c1}, {c2}" in capsys.readouterr().out
    assert main(["blind", "lock", str(made.session_dir)]) == 0
    assert main(["blind", "unblind", str(made.session_dir), "--key", str(made.key_path),
                 "--out", str(tmp_path / "scores.csv")]) == 0
    scores = pd.read_csv(tmp_path / "scores.csv").set_index("code")
    # the video with nothing seen is a real 0 (it was watched to the end); the window
    # of these clips is 0.5-2 s
    assert scores.loc[c1, "immobility_s"] == pytest.approx(0.5)
    assert scores.loc[c2, "immobility_s"] == 0.0 and scores.loc[c2, "n_events"] == 0


def test_agreement_merges_a_raters_overlaps_or_refuses_them(tmp_path, capsys):
    path = _csv(tmp_path / "raters.csv", [
        "v1,A,immobility,2,6", "v1,A,immobility,4,8", "v1,B,immobility,2,8",
        "v2,A,immobility,1,3", "v2,B,immobility,1,4",
        "v3,A,immobility,0,5", "v3,B,immobility,0,5", "v3,B,immobility,0,5",
    ], header="video,observer,behaviour,start_s,end_s")
    out = tmp_path / "agreement.csv"
    argv = ["agreement", str(path), "--window", "0", "10", "--out", str(out)]
    assert main([*argv, "--strict"]) == 2
    err = capsys.readouterr().err
    assert "  line 3: video v1 (A): immobility 4–8 s overlaps 2–6 s (line 2)" in err
    assert not out.exists()
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert (f"behavior: warning: {path}, lines 2 and 3: video v1 (A): immobility 2–6 s, "
            "4–8 s overlap; merged into 2–8 s") in err
    assert (f"behavior: warning: {path}, lines 8 and 9: video v3 (B): immobility 0–5 s is "
            "listed 2 times; kept once") in err
    row = pd.read_csv(out).iloc[0]
    # A: 6, 2, 5 s; B: 6, 3, 5 s (the union, not 8 and 10 s)
    assert row["bias_s"] == pytest.approx(1 / 3) and row["mean_abs_diff_s"] == pytest.approx(1 / 3)
