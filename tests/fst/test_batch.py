"""`behavior.fst.score_batch`: the one entry point of the CLI, the GUI and a cluster.
Pluggable executors, cancelling with a token, notices and errors across processes."""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pandas as pd
import pytest
import yaml

import behavior.fst as fst
from behavior.cancel import CancelToken
from behavior.errors import VideoError
from behavior.fst.batch import VideoJob, score_batch
from behavior.notices import Notice
from behavior.parallel import LocalPool
from behavior.protocols import load_fst_protocol

PROTOCOL = load_fst_protocol("mouse_fst").with_overrides(window_s=(5.0, 40.0))


@pytest.fixture(scope="module")
def batch_of_three(two_arena_video, tmp_path_factory):
    """Three copies of the 40-s two-arena video and a broken file, and the table of
    scoring them here, one after the other."""
    import shutil

    video, _ = two_arena_video
    folder = tmp_path_factory.mktemp("batch")
    videos = []
    for i in range(3):
        copy = folder / f"m{i}.mp4"
        shutil.copy(video, copy)
        videos.append(str(copy))
    bad = folder / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 50)
    videos.insert(1, str(bad))
    serial = score_batch(videos, PROTOCOL, folder / "serial.csv")
    return videos, serial.table(PROTOCOL)


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(["video", "arena"]).reset_index(drop=True)


@pytest.mark.parametrize("kind", ["threads", "processes", "local pool"])
def test_any_executor_gives_the_same_table_as_scoring_here(batch_of_three, tmp_path, kind):
    videos, serial = batch_of_three
    if kind == "threads":
        executor = ThreadPoolExecutor(2)
    elif kind == "processes":
        executor = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
    else:
        executor = LocalPool(2)
    with executor:
        batch = score_batch(videos, PROTOCOL, tmp_path / "r.csv", submit=executor.submit)
    pd.testing.assert_frame_equal(_sorted(batch.table(PROTOCOL)), _sorted(serial))
    on_disk = pd.read_csv(tmp_path / "r.csv")
    assert len(on_disk) == len(serial) == 7  # 3 videos x 2 arenas + the bad file's row
    # the failure keeps its type and fields across the process boundary
    (failed,) = batch.failed
    assert isinstance(failed.exception, VideoError)
    assert failed.error.code == "VideoError" and failed.error.data["path"] == videos[1]
    assert batch.exit_status == 1


def test_cancel_after_the_first_video_keeps_it_and_stops(batch_of_three, tmp_path):
    """A plain concurrent.futures executor and a token set when the first video is
    done: the batch returns with that video in the table and says what was left."""
    videos, serial = batch_of_three
    token = CancelToken()
    first_taken = threading.Event()

    def on_step(step):
        if step.result is not None:
            token.cancel()
            first_taken.set()

    submitted = []

    def submit(fn, *args, **kwargs):
        # the later videos start only once the first is in the table: on a loaded
        # machine they could otherwise finish before it is read, and be kept (right,
        # but not what this test is about)
        submitted.append(args[0])
        if len(submitted) == 1:
            return executor.submit(fn, *args, **kwargs)

        def later():
            first_taken.wait(30)
            return fn(*args, **kwargs)
        return executor.submit(later)

    out = tmp_path / "r.csv"
    with ThreadPoolExecutor(1) as executor:
        batch = score_batch(videos, PROTOCOL, out, submit=submit, cancel=token,
                            progress=on_step)
    assert batch.cancelled and [r.path for r in batch.results] == [videos[0]]
    assert batch.unfinished == videos[1:]
    assert batch.exit_status == 1
    table = pd.read_csv(out)
    assert table["video"].tolist() == [videos[0]] * 2
    for column in ("immobility_s", "bouts", "latency_s", "scored_s"):
        assert table[column].tolist() == pytest.approx(serial[column].iloc[:2].astype(float)
                                                       .tolist(), abs=1e-4), column
    assert yaml.safe_load(out.with_suffix(".log").read_text())["state"] == "cancelled"


def test_cancel_stops_a_video_scored_here_between_two_frames(two_arena_video, tmp_path):
    video, _ = two_arena_video
    token = CancelToken()
    seen = []

    def on_step(step):
        if step.time_s is not None:
            seen.append(step.time_s)
            if step.time_s > 3.0:
                token.cancel()

    batch = score_batch([str(video), str(video)], PROTOCOL, tmp_path / "r.csv",
                        progress=on_step, cancel=token)
    assert batch.cancelled and batch.results == [] and len(batch.unfinished) == 2
    assert 3.0 < max(seen) < 3.5  # stopped at the next frame, not at the video's end
    assert not (tmp_path / "r_traces").exists() or not list((tmp_path / "r_traces").iterdir())


def test_a_token_is_set_from_another_thread():
    token = CancelToken()
    threading.Timer(0.05, token.cancel).start()
    assert token.wait(5.0) and token.cancelled
    # a token sent to another process arrives as one never cancelled
    assert not pickle.loads(pickle.dumps(token)).cancelled


def test_notices_keep_their_fields_through_traces_and_processes(two_arena_video, tmp_path):
    video, _ = two_arena_video
    job = VideoJob(str(video))
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        batch = score_batch([job], PROTOCOL.with_overrides(window_s=(5.0, 60.0)),
                            tmp_path / "r.csv", submit=pool.submit)
    (result,) = batch.results
    short = [n for n in result.notices if n.code == "short_recording"]
    assert {n.arena for n in short} == {1, 2} and all(n.video == str(video) for n in short)
    assert short[0].data["covered_s"] == pytest.approx(40.0, abs=0.1)
    # the traces keep the tracking's notices, one JSON line each
    for trace_path in (tmp_path / "r_traces").iterdir():
        lines = [line for line in trace_path.read_text().splitlines()
                 if line.startswith("# notice: ")]
        for line in lines:
            assert Notice.from_json(line[len("# notice: "):]).video == str(video)
    log = yaml.safe_load((tmp_path / "r.log").read_text())
    assert any(n["code"] == "short_recording" and n["arena"] == 1 for n in log["notices"])


def test_the_public_api_is_one_import():
    for name in ("prepare", "track", "score_batch", "score_trace", "rescore_dir", "Setup",
                 "VideoJob", "TrackingSettings", "CancelToken", "Notice", "load_protocol"):
        assert getattr(fst, name) is not None
    with pytest.raises(AttributeError):
        fst.no_such_thing  # noqa: B018


def test_prepare_then_track_is_what_a_batch_scores(two_arena_video, tmp_path):
    """The GUI's path (prepare, show the arenas, track, score) gives the batch's numbers."""
    video, _ = two_arena_video
    setup = fst.prepare(str(video), PROTOCOL)
    assert [a.number for a in setup.arenas] == [1, 2]
    assert all(a.present for a in setup.arenas)
    traces = fst.track(setup)
    rows = [fst.score_trace(t, PROTOCOL).values for t in traces]
    table = score_batch([str(video)], PROTOCOL, tmp_path / "r.csv").table(PROTOCOL)
    for row, (_, want) in zip(rows, table.iterrows(), strict=True):
        assert row["immobility_s"] == pytest.approx(want["immobility_s"], abs=1e-9)
