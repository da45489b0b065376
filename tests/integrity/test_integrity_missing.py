"""Missing is empty, never 0: where nothing was observed the value is blank with a note,
and stats, unblind, agreement and calibrate leave such rows out and name each one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from blinding_helpers import make_clip, make_session, small_protocol, write_traces

from behavior.blinding.create import create_session
from behavior.blinding.lock import lock_session
from behavior.blinding.session import ScoringSession
from behavior.blinding.tables import match_groups, read_groups
from behavior.cli import main
from behavior.protocols import load_fst_protocol


def _score(session_dir, observer, end=1.5, step=0.0):
    """The observer scores immobility from 0.6 s to ``end`` (+ ``step`` more in each next
    video by code) in every clip long enough, and finishes every clip."""
    with ScoringSession(session_dir, observer) as s:
        long = sorted((v for v in s.videos if v.duration_s > 0.6), key=lambda v: v.code)
        for k, video in enumerate(long):
            s.add("immobility", 0.6, min(end + k * step, video.duration_s), video=video.code)
        for video in s.videos:
            s.finish(video.code)


@pytest.fixture
def short_and_long(tmp_path):
    """Six clips (window 0.5-2 s): m1-m4 last 2 s, m5 and m6 only 0.4 s -- they end
    before the window starts, so nothing of the window was observed in them."""
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = ["video,subject,group"]
    videos = []
    for i in range(6):
        group = "vehicle" if i % 2 == 0 else "drug"
        video = make_clip(raw / f"clip{i + 1}.mp4", seed=i, seconds=2.0 if i < 4 else 0.4)
        videos.append(video)
        lines.append(f"{video.name},m{i + 1},{group}")
    (tmp_path / "groups.csv").write_text("\n".join(lines) + "\n")
    table = match_groups(videos, read_groups(tmp_path / "groups.csv"), tmp_path / "groups.csv")
    made = create_session(videos, table, tmp_path / "session", tmp_path / "key.json",
                          small_protocol(), observers=("A",))
    _score(made.session_dir, "A", end=1.0, step=0.2)
    lock_session(made.session_dir)
    return made


def test_unblind_gives_empty_values_with_a_note_and_stats_leaves_them_out(
        tmp_path, capsys, short_and_long):
    made = short_and_long
    scores = tmp_path / "scores.csv"
    assert main(["blind", "unblind", str(made.session_dir), "--key", str(made.key_path),
                 "--out", str(scores)]) == 0
    captured = capsys.readouterr()
    assert "6 row(s) to" in captured.out and "2 with empty values" in captured.out
    warned = [line for line in captured.err.splitlines() if "empty values, not 0" in line]
    assert len(warned) == 2 and all("ends at 0.4 s, before the window starts at 0.5 s"
                                    in line for line in warned)
    raw = pd.read_csv(scores, dtype=str, keep_default_na=False).set_index("subject")
    for short in ("m5", "m6"):  # blank cells in the CSV, never 0
        assert raw.loc[short, "immobility_s"] == "" and raw.loc[short, "immobility_pct"] == ""
        assert raw.loc[short, "bouts"] == "" and raw.loc[short, "scored_s"] == "0"
        assert "nothing in the window was observed" in raw.loc[short, "note"]
    table = pd.read_csv(scores).set_index("subject")
    long = table.loc[["m1", "m2", "m3", "m4"]]
    # 0.6 s to 1.0, 1.2, 1.4 or 1.6 s, by code: inside the window 0.5-2 s, all of it
    assert sorted(long["immobility_s"]) == pytest.approx([0.4, 0.6, 0.8, 1.0])

    out = tmp_path / "stats"
    assert main(["stats", str(scores), "--value", "immobility_s", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "dropped 2 row(s) with no 'immobility_s' value: " in err
    assert "m5 (the recording ends at 0.4 s" in err and "m6 (the recording ends at 0.4 s" in err
    analysed = pd.read_csv(out / "analysed_data.csv")
    assert sorted(analysed["subject"]) == ["m1", "m2", "m3", "m4"]
    assert analysed.set_index("subject")["immobility_s"].to_dict() == pytest.approx(
        long["immobility_s"].to_dict())


def test_stats_names_each_empty_row_and_never_analyses_it(tmp_path, capsys):
    results = tmp_path / "scores.csv"
    results.write_text(
        "subject,group,immobility_s,note\n"
        "m1,vehicle,100,\nm2,vehicle,110,\nm3,vehicle,,the recording ends at 2 s\n"
        "m4,drug,60,\nm5,drug,70,\nm6,drug,,the recording ends at 3 s\nm7,vehicle,120,\n"
        "m8,drug,65,\n")
    out = tmp_path / "stats"
    assert main(["stats", str(results), "--value", "immobility_s", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("dropped 2 row(s) with no 'immobility_s' value: m3 (the recording ends at 2 s), "
            "m6 (the recording ends at 3 s)") in err
    analysed = pd.read_csv(out / "analysed_data.csv")
    assert sorted(analysed["subject"]) == ["m1", "m2", "m4", "m5", "m7", "m8"]
    d = pd.read_csv(out / "descriptives.csv").set_index("group")
    assert d.loc["vehicle", "n"] == 3 and d.loc["vehicle", "mean"] == pytest.approx(110)
    assert d.loc["drug", "mean"] == pytest.approx(65)
    assert "m3 (the recording ends at 2 s)" in (out / "report.html").read_text()


def test_stats_does_not_take_an_old_tables_zeros_for_measurements(tmp_path, capsys):
    # unblinded before empty values were left empty: 0 s of immobility where the clip
    # ended before the window (scored_s = 0); the latency was observed and is kept
    results = tmp_path / "old_scores.csv"
    results.write_text(
        "subject,group,scored_s,immobility_s,latency_s\n"
        "m1,vehicle,240,100,30\nm2,vehicle,240,110,35\nm3,vehicle,0,0,40\n"
        "m4,drug,240,60,50\nm5,drug,0,0,55\nm6,drug,240,70,60\nm7,vehicle,240,120,45\n"
        "m8,drug,240,65,52\n")
    out = tmp_path / "stats"
    assert main(["stats", str(results), "--value", "immobility_s", "--out", str(out)]) == 0
    assert ("dropped 2 row(s) where nothing of the window was observed (scored_s = 0), so "
            "'immobility_s' there is not a measurement: m3, m5") in capsys.readouterr().err
    d = pd.read_csv(out / "descriptives.csv").set_index("group")
    assert d.loc["vehicle", "mean"] == pytest.approx(110) and d.loc["drug", "n"] == 3
    assert main(["stats", str(results), "--value", "latency_s", "--out", str(out)]) == 0
    assert "scored_s" not in capsys.readouterr().err
    assert len(pd.read_csv(out / "analysed_data.csv")) == 8


def test_agreement_with_nothing_in_common_is_empty_and_fails(tmp_path, capsys):
    # the session's window (mouse FST, 120-360 s) lies past the end of its 2-s clips
    made, _, _ = make_session(tmp_path, n=2, observers=("A", "B"))
    from behavior.blinding import database as db

    conn = db.connect(made.session_dir / "session.sqlite")
    conn.execute("UPDATE protocol SET window_start_s = 120, window_end_s = 360, "
                 "duration_s = 360")
    conn.close()
    _score(made.session_dir, "A", end=1.5)
    _score(made.session_dir, "B", end=1.9)
    out = tmp_path / "agreement.csv"
    assert main(["agreement", str(made.session_dir), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "A vs B: nothing to compare: 2 video(s) with nothing of the window 120–360 s " \
           "observed" in err
    row = pd.read_csv(out, dtype=str, keep_default_na=False).iloc[0]
    assert row["n_videos"] == "0" and row["window_start_s"] == "120"
    for column in ("bias_s", "loa_low_s", "loa_high_s", "icc", "kappa", "pearson_r"):
        assert row[column] == "", column  # empty, never 0
    # asked for the part the clips cover: compared, and the difference said
    assert main(["agreement", str(made.session_dir), "--window", "0.5", "2",
                 "--out", str(out)]) == 0
    assert "window 0.5–2 s as asked; the session stores 120–360 s" in capsys.readouterr().err
    row = pd.read_csv(out).iloc[0]
    assert row["n_videos"] == 2 and row["bias_s"] == pytest.approx(0.4)


def test_agreement_uses_the_window_stored_in_the_session(tmp_path, capsys):
    made, _, _ = make_session(tmp_path, n=2, observers=("A", "B"))  # window 0.5-2 s
    _score(made.session_dir, "A", end=1.5)
    _score(made.session_dir, "B", end=1.9)
    out = tmp_path / "agreement.csv"
    assert main(["agreement", str(made.session_dir), "--out", str(out)]) == 0
    assert "window 0.5–2 s, bins of 1 s" in capsys.readouterr().out
    row = pd.read_csv(out).iloc[0]
    assert (row["window_start_s"], row["window_end_s"]) == (0.5, 2.0)
    assert row["n_videos"] == 2 and row["bias_s"] == pytest.approx(0.4)


def test_agreement_leaves_out_a_video_nobody_could_observe(tmp_path, capsys):
    manual = tmp_path / "manual.csv"
    manual.write_text("video,observer,behaviour,start_s,end_s\n"
                      "v1,A,immobility,3,6\nv2,A,immobility,3,8\nv3,A,immobility,0,1\n")
    write_traces(tmp_path / "traces", {"v1": [(3, 7)], "v2": [(3, 8)], "v3": [(0, 1)]},
                 end_s=10.0)
    write_traces(tmp_path / "traces", {"v3": [(0, 1)]}, end_s=1.5)  # ends before 2 s
    proto = tmp_path / "p.yaml"
    proto.write_text(load_fst_protocol("mouse_fst").with_overrides(
        duration_s=10.0, window_s=(2.0, 10.0), bin_s=1.0, smoothing_s=0.0,
        threshold=0.1, min_bout_s=0.0).to_yaml())
    out = tmp_path / "agreement.csv"
    assert main(["agreement", str(manual), str(tmp_path / "traces"), "--protocol", str(proto),
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("A vs auto: left out 1 video(s) with nothing of the window 2–10 s observed: "
            "v3 (ends at 1.5 s)") in err
    row = pd.read_csv(out).iloc[0]
    assert row["n_videos"] == 2 and row["n_bins"] == 16
    assert row["bias_s"] == pytest.approx(0.5)  # v1: 4 s vs 3 s; v2: equal


def test_calibration_leaves_out_a_video_with_nothing_observed(tmp_path, capsys):
    from behavior.blinding.calibrate import calibrate, manual_raters
    from behavior.fst.traces import find_traces, read_trace

    manual = tmp_path / "manual.csv"
    manual.write_text("video,behaviour,start_s,end_s\n"
                      "v1.mp4,immobility,3,6\nv2.mp4,immobility,4,8\nv3.mp4,immobility,0,1\n")
    write_traces(tmp_path / "traces", {"v1": [(3, 6)], "v2": [(4, 8)]}, end_s=10.0, seed=2)
    write_traces(tmp_path / "traces", {"v3": [(0, 1)]}, end_s=1.5, seed=3)
    protocol = load_fst_protocol("mouse_fst").with_overrides(
        duration_s=10.0, window_s=(2.0, 10.0), bin_s=1.0, smoothing_s=0.0)
    traces = [read_trace(p) for p in find_traces(tmp_path / "traces")]
    result = calibrate(manual_raters([manual]), traces, protocol,
                       thresholds=np.round(np.arange(0.06, 0.2, 0.04), 2), min_bouts=(0.0,),
                       bin_s=0.5)
    assert result.videos == ("v1", "v2")
    assert result.notes == ("left out 1 video(s) with nothing of the window 2–10 s observed: "
                            "v3 (ends at 1.5 s)",)
    assert result.best["kappa"] == pytest.approx(1.0)
    assert set(result.curve["n_videos"]) == {2}
