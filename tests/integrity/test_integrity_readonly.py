"""Read-only folders: one line naming the folder and the problem, exit status 1, no
traceback, nothing written -- and an archived (read-only) session can still be read."""

from __future__ import annotations

import pandas as pd
import pytest
from blinding_helpers import make_session
from integrity_helpers import listing

from behavior.blinding.lock import lock_session
from behavior.blinding.session import ScoringSession
from behavior.cli import main
from behavior.testing import startle as sy


def _one_error_line(capsys, *words: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("behavior: error: "), err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture
def scored_session(tmp_path):
    """A locked session of two 2-s clips scored by A and B (window 0.5-2 s)."""
    made, _, _ = make_session(tmp_path, n=2, observers=("A", "B"))
    for observer, end in (("A", 1.4), ("B", 1.6)):
        with ScoringSession(made.session_dir, observer) as s:
            for video in s.videos:
                s.add("immobility", 0.6, end, video=video.code)
                s.finish(video.code)
    lock_session(made.session_dir)
    return made


def test_outputs_into_a_read_only_folder(tmp_path, make_read_only, capsys, scored_session):
    startle = sy.write_srlab(tmp_path / "srlab.csv", sy.simulate_trials(2, seed=3))
    results = tmp_path / "results.csv"
    results.write_text("subject,group,score\n" + "".join(
        f"m{i},{'veh' if i % 2 else 'drug'},{i}\n" for i in range(8)))
    made = scored_session
    (tmp_path / "archive").mkdir()
    ro = make_read_only(tmp_path / "archive")
    commands = {
        "ppi analyze": ["ppi", "analyze", str(startle), "--out", str(ro / "ppi.csv")],
        "ppi trials": ["ppi", "trials", str(startle), "--out", str(ro / "trials.csv")],
        "stats": ["stats", str(results), "--value", "score", "--out", str(ro / "stats")],
        "unblind": ["blind", "unblind", str(made.session_dir), "--key", str(made.key_path),
                    "--out", str(ro / "scores.csv")],
        "audit": ["blind", "audit", str(made.session_dir), "--out", str(ro / "audit.csv")],
        "agreement": ["agreement", str(made.session_dir), "--out", str(ro / "agreement.csv")],
    }
    for name, argv in commands.items():
        assert main(argv) == 1, name
        _one_error_line(capsys, str(ro), "read-only")
        assert listing(ro) == [], name  # nothing written, no temporary left


def test_blind_create_into_a_read_only_folder_writes_no_key(tmp_path, make_read_only, capsys):
    from blinding_helpers import make_study

    videos, groups = make_study(tmp_path, 2)
    (tmp_path / "ro").mkdir()
    ro = make_read_only(tmp_path / "ro")
    base = ["blind", "create", *map(str, videos), "--groups", str(groups)]
    assert main([*base, "--out", str(ro / "session"), "--key", str(tmp_path / "key.json")]) == 1
    _one_error_line(capsys, str(ro), "read-only")
    assert not (tmp_path / "key.json").exists() and listing(ro) == []
    # the key's folder read-only: refused before any video is copied
    assert main([*base, "--out", str(tmp_path / "s"), "--key", str(ro / "key.json")]) == 1
    _one_error_line(capsys, str(ro), "read-only")
    assert not (tmp_path / "s").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".blind-")]


def test_an_archived_read_only_session_can_still_be_read(tmp_path, make_read_only, capsys,
                                                         scored_session):
    made = scored_session
    before = listing(made.session_dir)
    make_read_only(made.session_dir)
    assert main(["blind", "status", str(made.session_dir)]) == 0
    out = capsys.readouterr().out
    assert "A: 2/2 videos finished" in out and "events: 4" in out
    assert main(["blind", "audit", str(made.session_dir)]) == 0
    assert "lock" in capsys.readouterr().out
    assert main(["agreement", str(made.session_dir), "--out",
                 str(tmp_path / "agreement.csv")]) == 0
    capsys.readouterr()
    row = pd.read_csv(tmp_path / "agreement.csv").iloc[0]
    assert (row["rater1"], row["rater2"], row["n_videos"]) == ("A", "B", 2)
    assert row["bias_s"] == pytest.approx(0.2)  # B - A: 0.6-1.6 vs 0.6-1.4 s
    # writing needs a writable copy: said in one line
    scores = tmp_path / "more.csv"
    scores.write_text(f"video,behaviour,start_s,end_s\n{made.codes[0]},immobility,1.5,1.8\n")
    assert main(["blind", "import", str(made.session_dir), str(scores), "--observer", "A"]) == 1
    _one_error_line(capsys, "session.sqlite", "read-only")
    assert main(["blind", "unblind", str(made.session_dir), "--key", str(made.key_path),
                 "--out", str(tmp_path / "scores.csv")]) == 1
    _one_error_line(capsys, "read-only")
    assert listing(made.session_dir) == before  # not a byte more (no -wal, no -shm)


def test_an_unknown_protocol_name_lists_the_shipped_ones(tmp_path, capsys):
    from blinding_helpers import make_study

    videos, groups = make_study(tmp_path, 1)
    argv = ["blind", "create", *map(str, videos), "--groups", str(groups), "--out",
            str(tmp_path / "s"), "--key", str(tmp_path / "k.json"), "--protocol", "mouse_fts"]
    assert main(argv) == 1
    line = _one_error_line(capsys, "mouse_fts", "no shipped protocol")
    assert line.endswith("shipped: mouse_fst, mouse_tst, ppi_four_block, ppi_srlab, "
                         "rat_modified_fst")
    startle = sy.write_srlab(tmp_path / "srlab.csv", sy.simulate_trials(1, seed=3))
    assert main(["ppi", "analyze", str(startle), "--protocol", "ppi_sr_lab",
                 "--out", str(tmp_path / "ppi.csv")]) == 1
    _one_error_line(capsys, "ppi_sr_lab", "shipped:")
    assert listing(tmp_path) == ["groups.csv", "raw", "raw/vehicle_mouse1.mp4", "srlab.csv"]
