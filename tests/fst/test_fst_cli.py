"""`behavior fst score` and `behavior fst rescore` as a user runs them."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from behavior.cli import main
from behavior.fst.summary import frames_to_bouts, summarize_bouts
from behavior.fst.traces import read_trace

REQUIRED = ["video", "arena", "window_start_s", "window_end_s", "immobility_s", "immobility_pct",
            "latency_s", "bouts", "mean_bout_s", "longest_bout_s"]


@pytest.fixture
def scored(two_arena_video, tmp_path, capsys):
    """Score the two-arena video plus a broken file; return paths and exit status."""
    video, truth = two_arena_video
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    out = tmp_path / "results.csv"
    status = main(["fst", "score", str(video), str(bad), "--window-s", "5", "40",
                   "--out", str(out), "--traces", str(tmp_path / "traces"), "--no-progress"])
    return video, truth, out, tmp_path / "traces", status, capsys.readouterr()


def test_score_reports_the_bad_file_and_scores_the_rest(scored):
    video, truth, out, traces, status, captured = scored
    assert status != 0
    assert "broken.mp4" in captured.err
    everything = pd.read_csv(out, keep_default_na=False)
    # the broken file has a row too: no arena, no numbers, and why
    not_scored = everything[everything["arena"] == ""]
    assert not_scored["video"].str.endswith("broken.mp4").tolist() == [True]
    assert not_scored["warnings"].iloc[0].startswith("not scored: ")
    assert (not_scored[["immobility_s", "bouts", "frames"]] == "").all(axis=None)
    table = pd.read_csv(out).dropna(subset=["arena"])
    assert set(REQUIRED) <= set(table.columns)
    assert "immobile_s_0_60" in table.columns  # per-minute bins
    assert table["arena"].tolist() == [1, 2]
    # whole numbers stay whole in the file, next to the empty row
    assert everything.loc[everything["arena"] != "", "bouts"].str.fullmatch(r"\d+").all()
    assert (table["video"] == str(video)).all()
    for _, row in table.iterrows():
        want = summarize_bouts(truth.bouts(int(row.arena)), (5, 40), 360, 60, truth.end_s)
        assert row.immobility_s == pytest.approx(want["immobility_s"], abs=2.0)
        assert row.immobility_pct == pytest.approx(100 * row.immobility_s / 35, abs=0.01)
    assert sorted(p.name for p in traces.iterdir()) == [
        "two_arenas_arena1.trace.csv", "two_arenas_arena2.trace.csv"]


def test_a_log_beside_the_results_says_how_they_were_made(scored):
    import yaml

    video, _, out, _, _, _ = scored
    log = out.with_suffix(".log")
    record = yaml.safe_load(log.read_text(encoding="utf-8"))
    assert record["command"] == (f"behavior fst score {video} {out.parent / 'broken.mp4'} "
                                 f"--window-s 5 40 --out {out} --traces "
                                 f"{out.parent / 'traces'} --no-progress")
    assert (record["videos_scored"], record["videos_failed"]) == (1, 1)
    (error,) = record["errors"]
    assert error["video"].endswith("broken.mp4") and error["code"] == "VideoError"
    assert "broken.mp4" in error["message"]
    assert record["protocol"]["threshold"] == "auto"
    assert record["protocol"]["window_s"] == [5.0, 40.0]  # the override, not the file's
    assert record["protocol"]["source"].endswith("mouse_fst.yaml")
    assert record["started"] <= record["finished"]


def test_rescore_needs_no_video_and_matches_score(scored, tmp_path):
    video, truth, out, traces, status, _ = scored
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.move(str(video), moved / video.name)  # the video is gone
    try:
        same = tmp_path / "same.csv"
        assert main(["fst", "rescore", str(traces), "--window-s", "5", "40",
                     "--out", str(same)]) == 0
        a, b = pd.read_csv(out).dropna(subset=["arena"]), pd.read_csv(same)
        assert np.allclose(a["immobility_s"], b["immobility_s"])
        import yaml

        record = yaml.safe_load(same.with_suffix(".log").read_text(encoding="utf-8"))
        assert (record["traces_scored"], record["traces_failed"]) == (2, 0)
        assert record["command"].startswith("behavior fst rescore ")
        strict = tmp_path / "strict.csv"
        assert main(["fst", "rescore", str(traces), "--window-s", "5", "40", "--threshold",
                     "0.0001", "--out", str(strict)]) == 0
        assert (pd.read_csv(strict)["immobility_s"] < a["immobility_s"]).all()
    finally:
        shutil.move(str(moved / video.name), video)


def test_traces_hold_the_documented_columns(scored):
    _, truth, _, traces, _, _ = scored
    trace = read_trace(traces / "two_arenas_arena1.trace.csv")
    assert list(trace.table.columns) == ["frame", "time_s", "x_px", "y_px", "area_px",
                                         "mobility", "immobile"]
    assert np.allclose(trace.time_s, truth.time_s, atol=1e-4)
    assert trace.meta["arena_rect_px"].count(",") == 3
    assert not [n for n in trace.notices if n.code == "old_mobility_measure"]


def test_a_trace_of_the_earlier_mobility_measure_is_rescored_with_a_warning(scored, tmp_path):
    """A trace without ``mobility_measure`` holds the whole silhouette's changed share
    (about a third of the patch measure): its row says to score the video again."""
    _, _, _, traces, _, _ = scored
    old = tmp_path / "old"
    old.mkdir()
    text = (traces / "two_arenas_arena1.trace.csv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines(keepends=True)
             if not line.startswith("# mobility_measure:")]
    assert len(lines) == len(text.splitlines()) - 1
    (old / "two_arenas_arena1.trace.csv").write_text("".join(lines), encoding="utf-8")
    out = tmp_path / "old.csv"
    assert main(["fst", "rescore", str(old), "--window-s", "5", "40", "--out",
                 str(out)]) == 0
    row = pd.read_csv(out).iloc[0]
    assert "mobility measure of an earlier version" in row["warnings"]
    assert "score the video again" in row["warnings"]


def test_arena_rects_option_and_sidecar(two_arena_video, tmp_path):
    video, _ = two_arena_video
    out = tmp_path / "r.csv"
    assert main(["fst", "score", str(video), "--arena-rects", "0,0,160,240", "--out", str(out),
                 "--no-progress"]) == 0
    assert len(pd.read_csv(out)) == 1
    copy = tmp_path / "copy.mp4"
    shutil.copy(video, copy)
    (tmp_path / "copy.mp4.arenas.yaml").write_text("arenas: [[0, 0, 160, 240], [160, 0, 160, 240], "
                                                   "[300, 0, 20, 240]]\n")
    assert main(["fst", "score", str(copy), "--out", str(out), "--no-progress"]) == 0
    assert pd.read_csv(out)["arena"].tolist() == [1, 2, 3]


def test_jobs_2_gives_the_same_results_in_the_same_order(two_arena_video, tmp_path, capsys):
    # three files on two cores: this process scores one while a worker scores
    # another, and whichever finishes first takes the third (here a broken file)
    video, _ = two_arena_video
    copy = tmp_path / "second.mp4"
    shutil.copy(video, copy)
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    files = [str(video), str(bad), str(copy)]
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert main(["fst", "score", *files, "--jobs", "1", "--out", str(one), "--no-progress"]) == 1
    capsys.readouterr()
    assert main(["fst", "score", *files, "--jobs", "2", "--out", str(two), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "broken.mp4" in err and "scored 2 of 3 videos" in err
    a, b = pd.read_csv(one), pd.read_csv(two)
    assert b["video"].tolist() == [str(video), str(video), str(bad), str(copy), str(copy)]
    pd.testing.assert_frame_equal(a, b)


def test_protocol_errors_name_file_key_and_expectation(tmp_path, capsys):
    bad = tmp_path / "p.yaml"
    bad.write_text("name: x\nduration_s: 360\nwindow_s: [120, 400]\nbin_s: 60\nthreshold: 0.1\n")
    assert main(["fst", "rescore", str(tmp_path), "--protocol", str(bad), "--out",
                 str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "p.yaml" in err and "window_s" in err and "inside 0" in err
    bad.write_text("name: x\nduration_s: 360\nwindow_s: [120, 360]\nbin_s: 60\nthreshold: low\n")
    assert main(["fst", "rescore", str(tmp_path), "--protocol", str(bad), "--out",
                 str(tmp_path / "o.csv")]) == 2
    assert "threshold" in capsys.readouterr().err
    base = "name: x\nduration_s: 360\nwindow_s: [120, 360]\nbin_s: 60\nthreshold: 0.1\n"
    for value, expected in (("big", "'auto' or a number from 0 to 20"), ("-1", "0")):
        bad.write_text(base + f"shake_px: {value}\n")
        assert main(["fst", "rescore", str(tmp_path), "--protocol", str(bad), "--out",
                     str(tmp_path / "o.csv")]) == 2
        err = capsys.readouterr().err
        assert "shake_px" in err and expected in err


def test_shake_px_is_auto_unless_set():
    from behavior.protocols import load_fst_protocol

    protocol = load_fst_protocol("mouse_fst")
    assert protocol.shake_px == "auto"
    assert protocol.with_overrides(shake_px=3).shake_px == 3
    assert protocol.with_overrides(shake_px="auto").shake_px == "auto"


def test_results_as_an_excel_workbook(scored, tmp_path):
    _, _, out, traces, _, _ = scored
    xlsx = tmp_path / "results.xlsx"
    assert main(["fst", "rescore", str(traces), "--window-s", "5", "40", "--out", str(xlsx)]) == 0
    book = pd.read_excel(xlsx, sheet_name="immobility")
    scored_rows = pd.read_csv(out).dropna(subset=["arena"])
    assert np.allclose(book["immobility_s"], scored_rows["immobility_s"], atol=1e-4)


def test_results_are_saved_after_each_video(two_arena_video, tmp_path):
    """An interrupted batch keeps what was already scored: the table on disk is
    rewritten after every video, and the run log says the batch is running."""
    import yaml

    from behavior.fst.batch import score_batch
    from behavior.protocols import load_fst_protocol

    video, _ = two_arena_video
    missing = str(tmp_path / "missing.mp4")
    protocol = load_fst_protocol("mouse_fst")
    out = tmp_path / "r.csv"
    seen = []

    def on_disk(step):
        if step.result is not None:
            table = pd.read_csv(out, keep_default_na=False, dtype=str)
            log = yaml.safe_load(out.with_suffix(".log").read_text())
            seen.append((list(zip(table["video"], table["arena"], strict=True)),
                         log["state"]))

    batch = score_batch([str(video), missing], protocol, out, progress=on_disk)
    assert seen == [([(str(video), "1"), (str(video), "2")], "running"),
                    ([(str(video), "1"), (str(video), "2"), (missing, "")], "running")]
    assert yaml.safe_load(out.with_suffix(".log").read_text())["state"] == "finished"
    assert batch.exit_status == 1 and [r.path for r in batch.failed] == [missing]


def test_jobs_default_to_the_usable_cores(monkeypatch):
    import os

    from behavior.cli import build_parser
    from behavior.fst import commands

    args = build_parser().parse_args(["fst", "score", "a.mp4"])
    assert args.jobs == "auto"
    assert build_parser().parse_args(["fst", "score", "a.mp4", "--jobs", "3"]).jobs == 3
    with pytest.raises(SystemExit):
        build_parser().parse_args(["fst", "score", "a.mp4", "--jobs", "0"])
    if hasattr(os, "sched_getaffinity"):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 5, 7})
        assert commands.usable_cores() == 3


def test_any_protocol_key_can_be_set_from_the_command_line(capsys, tmp_path):
    from behavior.cli import build_parser
    from behavior.fst.commands import _protocol

    args = build_parser().parse_args(["fst", "score", "a.mp4", "--set", "animal=light",
                                      "--set", "blur_px=1.5", "--set", "window_s=[0, 60]",
                                      "--threshold", "0.2"])
    protocol = _protocol(args)
    assert (protocol.animal, protocol.blur_px, protocol.window_s, protocol.threshold) == \
        ("light", 1.5, (0.0, 60.0), 0.2)
    assert build_parser().parse_args(["fst", "score", "a.mp4", "--shake-px", "auto"]).shake_px \
        == "auto"
    assert build_parser().parse_args(["fst", "score", "a.mp4", "--shake-px", "3"]).shake_px == 3
    for bad, expected in (("colour=red", "not a protocol key"), ("animal=grey", "animal"),
                          ("window_s=5", "window_s"), ("blur_px", "KEY=VALUE")):
        assert main(["fst", "rescore", str(tmp_path), "--set", bad, "--out",
                     str(tmp_path / "o.csv")]) == 2
        err = capsys.readouterr().err
        assert "--set" in err and expected in err, err


def test_a_failing_batch_stops_every_worker(two_arena_video, tmp_path):
    # e.g. the results file cannot be written: the error reaches the caller and
    # no video is waited for
    from behavior.fst.batch import VideoJob, score_batch
    from behavior.parallel import LocalPool
    from behavior.protocols import load_fst_protocol

    video, _ = two_arena_video
    protocol = load_fst_protocol("mouse_fst")
    jobs = [VideoJob(str(video), name=f"v{i}") for i in range(3)]

    def disk_full(step):
        if step.result is not None:
            raise OSError("No space left on device")

    with LocalPool(2) as pool, pytest.raises(OSError, match="No space"):
        score_batch(jobs, protocol, tmp_path / "r.csv", submit=pool.submit,
                    progress=disk_full)
    # the log says the batch did not finish
    assert "state: interrupted" in (tmp_path / "r.log").read_text()


def test_one_video_gives_the_same_traces_on_one_core_and_on_two(two_arena_video, tmp_path):
    # --jobs 1: decoding and tracking take turns in one thread; --jobs 2 with one
    # video: decoded in a background thread while tracked. Same frames, same numbers.
    video, _ = two_arena_video
    for jobs in ("1", "2"):
        assert main(["fst", "score", str(video), "--jobs", jobs, "--out",
                     str(tmp_path / f"r{jobs}.csv"), "--traces", str(tmp_path / f"t{jobs}"),
                     "--no-progress"]) == 0
    for arena in (1, 2):
        one = read_trace(tmp_path / "t1" / f"{video.stem}_arena{arena}.trace.csv").table
        two = read_trace(tmp_path / "t2" / f"{video.stem}_arena{arena}.trace.csv").table
        pd.testing.assert_frame_equal(one, two)


def test_warnings_are_in_the_results_table_and_survive_rescoring(two_arena_video, tmp_path,
                                                                  real, capsys):
    # a batch of hundreds of videos: what stderr said must also be next to the numbers
    video, _ = two_arena_video
    empty = real("empty-chamber/Freezing_calibration.wmv")  # no animal in it
    out, traces = tmp_path / "r.csv", tmp_path / "traces"
    assert main(["fst", "score", str(video), str(empty), "--window-s", "0", "60", "--out",
                 str(out), "--traces", str(traces), "--no-progress"]) == 0
    # and the last line counts the rows with warnings (those above may have scrolled away)
    assert "(3 animals, 3 with warnings: see the warnings column) ->" in capsys.readouterr().err
    table = pd.read_csv(out, keep_default_na=False)
    assert table.columns[-1] == "warnings"
    notes = table.set_index(["video", "arena"])["warnings"].to_dict()
    assert notes[(str(video), 1)] == notes[(str(video), 2)] == (
        "the recording covers 40.0 s of the test, less than the window end 60 s; "
        "percentages are of the part covered")
    assert notes[(str(empty), 1)].startswith("no animal found in arena 1 (")
    assert "covers 9.9 s" in notes[(str(empty), 1)]
    again = tmp_path / "again.csv"
    assert main(["fst", "rescore", str(traces), "--window-s", "0", "60", "--out",
                 str(again)]) == 0
    rescored = pd.read_csv(again, keep_default_na=False).set_index(["video", "arena"])
    assert rescored.loc[table.set_index(["video", "arena"]).index, "warnings"].tolist() == \
        table["warnings"].tolist()
    # a window the recording covers: only the video's own notes remain
    assert "re-scored 3 traces (3 with warnings: see the warnings column)" in \
        capsys.readouterr().err
    assert main(["fst", "rescore", str(traces), "--window-s", "0", "30", "--out",
                 str(again)]) == 0
    short = pd.read_csv(again, keep_default_na=False).set_index(["video", "arena"])
    assert short.loc[(str(video), 1), "warnings"] == ""
    # the empty chamber's row still says no animal was found; the other two none
    assert short.loc[(str(empty), 1), "warnings"].startswith("no animal found")
    assert "re-scored 3 traces (1 with warnings: see the warnings column)" in \
        capsys.readouterr().err


def test_folders_and_patterns_stand_for_the_videos_in_them(two_arena_video, tmp_path):
    # Windows shells pass 'videos\*.mp4' on unexpanded: the program expands it
    from behavior.cli import video_paths
    from behavior.errors import InputError

    video, _ = two_arena_video
    folder = tmp_path / "day1"
    folder.mkdir()
    for name in ("b.mp4", "a.AVI", "notes.txt"):
        shutil.copy(video, folder / name)
    (folder / "sub").mkdir()
    assert video_paths([str(folder)]) == [str(folder / "a.AVI"), str(folder / "b.mp4")]
    assert video_paths([str(folder / "*.mp4"), str(video)]) == [str(folder / "b.mp4"),
                                                                 str(video)]
    assert video_paths([str(tmp_path / "missing.mp4")]) == [str(tmp_path / "missing.mp4")]
    with pytest.raises(InputError, match=r"no file matches"):
        video_paths([str(folder / "*.mkv")])
    with pytest.raises(InputError, match=r"sub.*no video files"):
        video_paths([str(folder / "sub")])
    out = tmp_path / "r.csv"
    assert main(["fst", "score", str(folder / "*.mp4"), "--out", str(out), "--no-progress"]) == 0
    assert pd.read_csv(out)["video"].tolist() == [str(folder / "b.mp4")] * 2
    assert main(["fst", "score", str(folder / "*.mkv"), "--out", str(out), "--no-progress"]) == 2


def test_each_arena_can_start_at_its_own_time(two_arena_video, tmp_path, capsys):
    # four mice are put in one after the other: each arena's test (and window) runs
    # from its own start
    from behavior.fst.arenas import Arena, read_sidecar
    from behavior.fst.batch import VideoJob, score_video
    from behavior.fst.tracking import track_video
    from behavior.io.video import VideoReader
    from behavior.protocols import load_fst_protocol

    video, _ = two_arena_video
    protocol = load_fst_protocol("mouse_fst").with_overrides(window_s=(5.0, 30.0))
    arenas = [Arena(1, 0, 0, 160, 240), Arena(2, 160, 0, 160, 240)]

    def traces(start):
        with VideoReader(video) as v:
            return track_video(v, protocol, arenas=arenas, start_s=start).traces

    both = traces((0.0, 6.0))
    first, second = traces(0.0)[0], traces(6.0)[1]
    pd.testing.assert_frame_equal(both[0].table, first.table)  # the earliest start: as before
    assert (both[0].meta["video_start_s"], both[1].meta["video_start_s"]) == ("0", "6")
    late, alone = both[1].table, second.table
    # the same frames, timed from 6 s into the video
    np.testing.assert_allclose(late["time_s"], alone["time_s"])
    assert late["time_s"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    # (the background is sampled from the earliest start, so not every pixel is the
    # same as in a run that starts at 6 s; the scores are)
    assert (late["immobile"] == alone["immobile"]).mean() > 0.97
    window = (5.0, 30.0)
    a, b = (summarize_bouts(frames_to_bouts(t["time_s"].to_numpy(), t["immobile"].to_numpy()
                                            .astype(bool)), window, 30.0, 5.0)
            for t in (late, alone))
    assert a["immobility_s"] == pytest.approx(b["immobility_s"], abs=0.5)

    # the sidecar and the command line take one time per arena
    copy = tmp_path / "staggered.mp4"
    shutil.copy(video, copy)
    side = copy.with_name(copy.name + ".arenas.yaml")
    side.write_text("arenas: [[0, 0, 160, 240], [160, 0, 160, 240]]\nstart_s: [0, 6]\n")
    assert read_sidecar(copy).start_s == (0.0, 6.0)
    rows = score_video(VideoJob(str(copy)), protocol).rows()
    out = tmp_path / "r.csv"
    assert main(["fst", "score", "--start-s", "0,6", str(video), "--arena-rects",
                 "0,0,160,240;160,0,160,240", "--window-s", "5", "30", "--out", str(out),
                 "--no-progress"]) == 0
    table = pd.read_csv(out)
    for row, (_, cli) in zip(rows, table.iterrows(), strict=True):
        assert row["immobility_s"] == pytest.approx(cli["immobility_s"], abs=1e-3)
    assert table["scored_s"].tolist() == [25.0, 25.0]
    # more times than arenas: an error naming the video
    side.write_text("start_s: [0, 6, 9]\narenas: [[0, 0, 160, 240], [160, 0, 160, 240]]\n")
    outcome = score_video(VideoJob(str(copy)), protocol)
    assert outcome.error.code == "InputError" and outcome.error.video == str(copy)
    assert "staggered.mp4" in outcome.error.message
    assert "3 test start times for 2 arenas" in outcome.error.message
    assert type(outcome.exception).__name__ == "InputError"
    with pytest.raises(SystemExit):
        main(["fst", "score", str(video), "--start-s", "0,-1"])
    side.write_text("start_s: [0, -1]\n")
    assert "'start_s' must be" in score_video(VideoJob(str(copy)), protocol).error.message


def test_set_and_named_overrides_are_checked_together():
    from behavior.cli import build_parser
    from behavior.errors import ProtocolError
    from behavior.fst.commands import _protocol

    # the shipped window (120-360 s) does not fit a 55-s test, the new one does
    args = build_parser().parse_args(["fst", "score", "a.mp4", "--set", "duration_s=55",
                                      "--window-s", "10", "50"])
    protocol = _protocol(args)
    assert (protocol.duration_s, protocol.window_s) == (55.0, (10.0, 50.0))
    args = build_parser().parse_args(["fst", "score", "a.mp4", "--set", "duration_s=55"])
    with pytest.raises(ProtocolError, match="window_s"):
        _protocol(args)


def test_videos_with_the_same_name_in_two_folders_keep_their_own_traces(
        two_arena_video, vfr_video, tmp_path, capsys):
    # one folder per day, the same file names in each: before, the second video's
    # traces overwrote the first's (or, on two cores, one video failed)
    (tmp_path / "day1").mkdir()
    (tmp_path / "day2").mkdir()
    first, second = tmp_path / "day1" / "mouse.mp4", tmp_path / "day2" / "mouse.mp4"
    shutil.copy(two_arena_video[0], first)
    shutil.copy(vfr_video[0], second)
    out, traces = tmp_path / "r.csv", tmp_path / "traces"
    status = main(["fst", "score", str(first), str(second), str(tmp_path / "day1"),
                   "--window-s", "5", "30", "--jobs", "2", "--out", str(out),
                   "--traces", str(traces), "--no-progress"])
    assert status == 0
    assert "given more than once" in capsys.readouterr().err
    assert sorted(p.name for p in traces.iterdir()) == [
        "day1-mouse_arena1.trace.csv", "day1-mouse_arena2.trace.csv",
        "day2-mouse_arena1.trace.csv"]
    scored = pd.read_csv(out)
    assert list(zip(scored["video"], scored["arena"], strict=True)) == [
        (str(first), 1), (str(first), 2), (str(second), 1)]
    # each trace is its own video's: re-scoring gives the same numbers
    rescored = tmp_path / "again.csv"
    assert main(["fst", "rescore", str(traces), "--window-s", "5", "30",
                 "--out", str(rescored)]) == 0
    again = pd.read_csv(rescored).set_index(["video", "arena"]).sort_index()
    pd.testing.assert_series_equal(scored.set_index(["video", "arena"]).sort_index()
                                   ["immobility_s"], again["immobility_s"])
    assert read_trace(traces / "day2-mouse_arena1.trace.csv").video == str(second)


def test_unique_stems_lengthen_only_the_names_that_clash():
    from behavior.io.names import unique_stems

    assert unique_stems(["day1/mouse1.mp4", "day2/mouse1.mp4", "day2/mouse2.mp4"]) == [
        "day1-mouse1", "day2-mouse1", "mouse2"]
    # one recording in two formats in one folder: the ending tells them apart
    assert unique_stems(["a/m1.mp4", "a/m1.avi"]) == ["m1-mp4", "m1-avi"]
    # case-blind, as file systems on Windows and macOS are
    assert unique_stems(["x/cage/T1.mp4", "y/cage/t1.mp4", "t2.mp4"]) == [
        "x-cage-T1", "y-cage-t1", "t2"]
    assert unique_stems(["a/m.mp4", "./a/m.mp4"]) == ["m", "m-2"]


def test_resume_scores_from_earlier_traces_made_with_the_same_settings(
        two_arena_video, vfr_video, tmp_path, monkeypatch, capsys):
    import os

    import behavior.fst.batch as scoring

    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    shutil.copy(two_arena_video[0], a)
    shutil.copy(vfr_video[0], b)
    out, traces = tmp_path / "r.csv", tmp_path / "traces"
    common = ["--window-s", "5", "30", "--out", str(out), "--traces", str(traces),
              "--no-progress", "--jobs", "1"]
    # a batch stopped after the first video: only a.mp4 has traces
    assert main(["fst", "score", str(a), *common]) == 0
    made = {p.name: p.stat().st_mtime_ns for p in traces.iterdir()}
    opened = []
    real_reader = scoring.VideoReader

    def reader(path, *args, **kwargs):
        opened.append(os.path.basename(path))
        return real_reader(path, *args, **kwargs)

    monkeypatch.setattr(scoring, "VideoReader", reader)
    capsys.readouterr()
    assert main(["fst", "score", str(a), str(b), *common, "--resume", "--threshold", "0.2"]) == 0
    assert opened == ["b.mp4"]  # a.mp4 is not decoded again
    assert "1 from the traces of an earlier run" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in traces.iterdir()
            if p.name.startswith("a_")} == made
    resumed = pd.read_csv(out)
    again = tmp_path / "again.csv"
    assert main(["fst", "rescore", str(traces), "--window-s", "5", "30", "--threshold", "0.2",
                 "--out", str(again)]) == 0
    pd.testing.assert_frame_equal(resumed.sort_values(["video", "arena"]).reset_index(drop=True),
                                  pd.read_csv(again).sort_values(["video", "arena"])
                                  .reset_index(drop=True), atol=2e-4)  # traces: 10 digits
    assert (resumed["threshold"] == 0.2).all()
    # a tracking setting changed, or the file replaced: tracked again
    opened.clear()
    assert main(["fst", "score", str(a), str(b), *common, "--resume", "--set", "blur_px=1"]) == 0
    assert opened == ["a.mp4", "b.mp4"]
    opened.clear()
    # touching a file changes nothing (a copy to another machine does that); another
    # recording under the same name is tracked again
    os.utime(b, ns=(b.stat().st_atime_ns, b.stat().st_mtime_ns + 10**9))
    assert main(["fst", "score", str(a), str(b), *common, "--resume", "--set", "blur_px=1"]) == 0
    assert opened == []
    shutil.copy(two_arena_video[0], b)
    assert main(["fst", "score", str(a), str(b), *common, "--resume", "--set", "blur_px=1"]) == 0
    assert opened == ["b.mp4"]
    opened.clear()
    assert main(["fst", "score", str(a), *common, "--resume", "--set", "blur_px=1",
                 "--arenas", "2"]) == 0
    assert opened == ["a.mp4"]  # the number of arenas asked for is a tracking setting
    # fewer arenas than before: the old arena 2 trace goes, so rescoring sees no ghost
    assert main(["fst", "score", str(a), *common, "--arena-rects", "0,0,160,240"]) == 0
    assert not (traces / "a_arena2.trace.csv").exists()


def test_rescore_scores_two_traces_of_one_arena_once(scored, tmp_path, capsys):
    import os

    _, _, _, traces, _, _ = scored
    first = sorted(traces.iterdir())[0]
    older = traces / ("old-" + first.name)
    shutil.copy(first, older)
    os.utime(older, (1_000_000_000, 1_000_000_000))
    out = tmp_path / "again.csv"
    capsys.readouterr()
    assert main(["fst", "rescore", str(traces), "--window-s", "5", "40", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"{older}: another trace of" in err and "only that one is scored" in err
    table = pd.read_csv(out)
    assert len(table) == 2 and table["arena"].tolist() == [1, 2]


def test_end_s_ends_each_arenas_test_early(two_arena_video, tmp_path):
    video, _ = two_arena_video
    out = tmp_path / "r.csv"
    assert main(["fst", "score", str(video), "--window-s", "5", "40", "--end-s", "30,35",
                 "--out", str(out), "--no-progress"]) == 0
    table = pd.read_csv(out)
    assert table["scored_s"].tolist() == pytest.approx([25.0, 30.0], abs=1e-3)
    assert main(["fst", "score", str(video), "--end-s", "30,35,40", "--out", str(out),
                 "--no-progress"]) == 1  # three end times for two arenas: an error
