"""`behavior fst` under faults: read-only folders, a full disk, a kill mid-batch, broken
recordings and bad settings. Each test checks what is on disk afterwards as well as
the message (one line, no traceback)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from behavior.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _one_line_error(err: str, *words: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("behavior: error:")]
    assert lines, err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def _debris(folder: Path) -> list[str]:
    """Temporary files left in ``folder``."""
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name)


def test_a_read_only_results_folder_stops_before_any_decoding(two_arena_video, read_only,
                                                              monkeypatch, capsys):
    import behavior.fst.batch as batch

    opened = []
    monkeypatch.setattr(batch, "VideoReader", lambda *a, **k: opened.append(a))
    video, _ = two_arena_video
    with read_only("archive") as folder:
        status = main(["fst", "score", str(video), "--out", str(folder / "results.csv"),
                       "--no-progress"])
        assert list(folder.iterdir()) == []
    assert status == 1 and opened == []
    _one_line_error(capsys.readouterr().err, str(folder), "cannot write")


def test_a_read_only_traces_folder_is_refused_too(two_arena_video, read_only, tmp_path,
                                                  capsys):
    video, _ = two_arena_video
    with read_only("traces") as traces:
        status = main(["fst", "score", str(video), "--out", str(tmp_path / "r.csv"),
                       "--traces", str(traces), "--no-progress"])
    assert status == 1
    _one_line_error(capsys.readouterr().err, str(traces))


def test_preview_and_rescore_into_a_read_only_folder(two_arena_video, read_only, tmp_path,
                                                     capsys):
    video, _ = two_arena_video
    traces = tmp_path / "traces"
    assert main(["fst", "score", str(video), "--out", str(tmp_path / "r.csv"), "--traces",
                 str(traces), "--window-s", "5", "40", "--no-progress"]) == 0
    capsys.readouterr()
    with read_only() as folder:
        assert main(["fst", "preview", str(video), "--out", str(folder)]) == 1
        _one_line_error(capsys.readouterr().err, str(folder))
        assert main(["fst", "rescore", str(traces), "--out", str(folder / "again.csv")]) == 1
        _one_line_error(capsys.readouterr().err, str(folder))
        assert list(folder.iterdir()) == []


@pytest.mark.slow
def test_a_full_disk_loses_nothing_scored_and_leaves_no_debris(two_arena_video, vfr_video,
                                                               full_disk, tmp_path, capsys):
    """The traces of the first video fill a 48-kB disk: that video is reported as not
    scored (never both rows and a 'not scored' row), the file system's words are in
    the message, and no half-written file stays."""
    big, _ = two_arena_video
    with full_disk(size="48k") as disk:
        out = disk / "results.csv"
        status = main(["fst", "score", str(big), "--out", str(out), "--window-s", "5", "40",
                       "--no-progress", "--jobs", "1"])
        err = capsys.readouterr().err
        assert status == 1
        assert "no space left" in err and "Traceback" not in err
        assert _debris(disk) == []
        if out.exists():  # the table, if it fitted, is whole and honest
            table = pd.read_csv(out, keep_default_na=False, dtype=str)
            for _, rows in table.groupby("video"):
                scored = rows["arena"] != ""
                assert scored.all() or (~scored).sum() == len(rows) == 1, rows
        left = {p.name for p in (disk / "results_traces").glob("*")} \
            if (disk / "results_traces").exists() else set()
        assert all(name.endswith(".trace.csv") for name in left)


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_batch_killed_mid_way_keeps_a_valid_table_and_its_log(two_arena_video, tmp_path):
    """kill -9 after the first video: the results table holds that video, the log
    says the batch was running, and --resume finishes it without tracking again
    what was scored."""
    video, _ = two_arena_video
    videos = []
    for i in range(4):
        copy = tmp_path / f"m{i}.mp4"
        shutil.copy(video, copy)
        videos.append(str(copy))
    out = tmp_path / "out" / "results.csv"
    command = [sys.executable, "-m", "behavior", "fst", "score", *videos, "--out", str(out),
               "--window-s", "5", "40", "--jobs", "1", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        def first_done() -> bool:
            try:
                return len(pd.read_csv(out)) >= 2
            except (OSError, pd.errors.EmptyDataError):
                return False

        _wait_for(first_done)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    table = pd.read_csv(out)
    assert len(table) in (2, 4, 6) and table["arena"].notna().all()
    log = yaml.safe_load(out.with_suffix(".log").read_text())
    assert log["state"] == "running" and log["videos"] == 4
    # the table is written first, then the log: a kill between the two leaves the
    # log one video behind, never ahead of the table
    assert len(table) // 2 - 1 <= log["videos_scored"] <= len(table) // 2
    # resumed: the rest is scored, the first ones from their traces
    run = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert f"{len(table) // 2} from the traces of an earlier run" in run.stderr
    final = pd.read_csv(out)
    assert len(final) == 8
    assert yaml.safe_load(out.with_suffix(".log").read_text())["state"] == "finished"
    assert _debris(out.parent) == []


def test_an_unknown_protocol_name_is_one_line(two_arena_video, tmp_path, capsys):
    video, _ = two_arena_video
    status = main(["fst", "score", str(video), "--protocol", "mouse_fts", "--out",
                   str(tmp_path / "r.csv"), "--no-progress"])
    assert status != 0
    line = _one_line_error(capsys.readouterr().err, "mouse_fts")
    assert "mouse_fst" in line  # the names there are
    assert not (tmp_path / "r.csv").exists()



@pytest.mark.parametrize("container", ["mp4", "avi"])
def test_a_recording_cut_in_half_is_reported_as_broken(two_arena_video, tmp_path, container,
                                                       capsys, faststart):
    video, _ = two_arena_video
    whole = tmp_path / f"whole.{container}"
    if container == "mp4":
        faststart(video, whole)
    else:
        from behavior.testing import SyntheticSpec, write_video

        write_video(SyntheticSpec(duration_s=40, fps=15, width=320, height=240, n_arenas=2,
                                  seed=1, immobility_fraction=(0.3, 0.7)), whole,
                    codec="mjpeg")
    data = whole.read_bytes()
    cut = tmp_path / f"cut.{container}"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "r.csv"
    status = main(["fst", "score", str(cut), "--out", str(out), "--window-s", "5", "40",
                   "--no-progress"])
    err = capsys.readouterr().err
    assert status == 1  # scored, but the user must look
    assert "breaks off at" in err and "Traceback" not in err
    table = pd.read_csv(out)
    assert table["warnings"].str.contains("breaks off at").all()
    log = yaml.safe_load(out.with_suffix(".log").read_text())
    broken = [n for n in log["notices"] if n["code"] == "broken_off"]
    assert broken and broken[0]["severity"] == "error"
    assert 12.0 < broken[0]["data"]["at_s"] < 28.0  # about half of the 40 s
    assert broken[0]["data"]["declared_s"] == pytest.approx(40.0, abs=0.5)


def test_a_start_after_the_end_of_the_video_says_so(tmp_path, capsys):
    video = ROOT / "videos" / "fst_mjpeg.avi"  # 10 s
    status = main(["fst", "score", str(video), "--start-s", "50", "--out",
                   str(tmp_path / "r.csv"), "--no-progress"])
    assert status == 1
    err = capsys.readouterr().err
    assert "starts at 50 s (start_s), after the end of the video (10.0 s)" in err
    assert "no frame could be decoded" not in err


def test_an_arena_rectangle_beyond_the_frame_is_refused(tmp_path, capsys):
    video = ROOT / "videos" / "fst_mjpeg.avi"  # 320 x 240
    status = main(["fst", "score", str(video), "--arena-rects", "0,0,400,240", "--out",
                   str(tmp_path / "r.csv"), "--no-progress"])
    assert status == 1
    err = capsys.readouterr().err
    assert "reaches beyond the 320x240 frame" in err and "--arena-rects" in err


def test_rescore_of_a_folder_without_traces_is_an_error_not_a_success(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    status = main(["fst", "rescore", str(tmp_path / "empty"), "--out", str(tmp_path / "r.csv")])
    err = capsys.readouterr().err
    assert status != 0
    _one_line_error(err, "no traces")
    assert "re-scored" not in err and not (tmp_path / "r.csv").exists()


def test_every_warning_reaches_the_terminal_and_the_log(tmp_path, capsys):
    # the sample clips are shorter than the window: every row has warnings
    videos = sorted(str(p) for p in (ROOT / "videos").glob("*.mp4"))
    out = tmp_path / "r.csv"
    assert main(["fst", "score", *videos, "--window-s", "0", "60", "--out", str(out),
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    table = pd.read_csv(out, keep_default_na=False)
    log = yaml.safe_load(out.with_suffix(".log").read_text())
    logged = {n["message"] for n in log["notices"]}
    in_table = {w for cell in table["warnings"] for w in cell.split(" | ") if w}
    assert in_table, "the clips should have warnings"
    for message in in_table:
        assert message in err and message in logged, message


def test_damaged_pieces_of_a_file_are_said_once_in_words(tmp_path, capsys):
    """Five runs of random bytes in the middle of an MJPEG AVI: the damaged frames are
    skipped, the rest scored, and the user is told once, in words (not FFmpeg's error
    number), on the terminal, in the table and in the log."""
    import numpy as np

    from behavior.testing import SyntheticSpec, write_video

    whole = tmp_path / "whole.avi"
    write_video(SyntheticSpec(duration_s=20, fps=15, width=320, height=240, n_arenas=1,
                              seed=2), whole, codec="mjpeg")
    data = bytearray(whole.read_bytes())
    rng = np.random.default_rng(0)
    for k in range(5):
        i = int(len(data) * (0.3 + 0.1 * k))
        data[i:i + 3000] = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    damaged = tmp_path / "damaged.avi"
    damaged.write_bytes(bytes(data))
    out = tmp_path / "r.csv"
    assert main(["fst", "score", str(damaged), "--window-s", "0", "20", "--out", str(out),
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "could not be decoded" in line]
    assert len(lines) == 1 and "Invalid data" in lines[0] and "Errno" not in err
    table = pd.read_csv(out)
    assert table["warnings"].str.contains("could not be decoded").all()
    assert table["frames"].iloc[0] > 250  # of 300: only the damaged frames are missing
    log = yaml.safe_load(out.with_suffix(".log").read_text())
    (notice,) = [n for n in log["notices"] if n["code"] == "damaged_packets"]
    assert notice["data"]["count"] >= 1 and 5.0 < notice["data"]["first_s"] < 20.0
