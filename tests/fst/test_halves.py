"""A long test is tracked as two halves, each from its own decoder (two cores for one
video): the numbers must not depend on where the second half runs, and must match
tracking the video in one go except for the second half's fresh start."""

from __future__ import annotations

from concurrent.futures import Executor, Future

import numpy as np
import pandas as pd
import pytest

from behavior.fst import halves, tracking
from behavior.fst.batch import VideoJob, score_batch, score_video
from behavior.fst.scoring import score_trace
from behavior.fst.settings import TrackingSettings
from behavior.fst.tracking import track_video
from behavior.io.video import ArrayVideo, VideoReader
from behavior.parallel import start_workers
from behavior.protocols import load_fst_protocol
from behavior.testing import SyntheticSpec, write_video

PROTOCOL = load_fst_protocol("mouse_fst").with_overrides(window_s=(5.0, 40.0))
#: Split tests of 20 s or more (the test videos are short).
SPLIT = TrackingSettings(split_min_s=20.0)
#: Never split.
WHOLE = TrackingSettings(split_min_s=1e9)


def _immobility(trace, protocol=PROTOCOL):
    return score_trace(trace, protocol).values["immobility_s"]


@pytest.fixture
def split_short(monkeypatch):
    """The list of the middles at which videos were split, to check that they were
    (tracking with :data:`SPLIT`)."""
    middles: list[float] = []
    run = tracking.track_in_halves

    def spy(*args, **kwargs):
        middles.append(args[4])
        return run(*args, **kwargs)

    monkeypatch.setattr(tracking, "track_in_halves", spy)
    return middles


@pytest.fixture(scope="module")
def seekable_video(tmp_path_factory):
    """40 s, 320x240, 15 fps, H.264 with a key frame every second (so that it seeks
    to enough places to be split; the conftest's has three); 2 arenas."""
    path = tmp_path_factory.mktemp("halves") / "two_arenas_gop1s.mp4"
    spec = SyntheticSpec(duration_s=40, fps=15, width=320, height=240, n_arenas=2, seed=1,
                         immobility_fraction=(0.3, 0.7))
    return path, write_video(spec, path, codec="h264", keyframe_s=1.0)


@pytest.fixture(scope="module")
def seekable_vfr_video(tmp_path_factory):
    """30 s, variable frame rate (jittered intervals), H.264 with a key frame each second."""
    path = tmp_path_factory.mktemp("halves") / "vfr_gop1s.mp4"
    spec = SyntheticSpec(duration_s=30, fps=20, width=320, height=240, n_arenas=1, seed=7,
                         immobility_fraction=0.5, vfr=True)
    return path, write_video(spec, path, codec="h264", keyframe_s=1.0)


@pytest.fixture(scope="module")
def worker():
    pool = start_workers(1, "behavior.fst.tracking")
    yield pool
    pool.shutdown()


def _track(path, settings=SPLIT, **kw):
    with VideoReader(path) as video:
        return track_video(video, PROTOCOL, settings=settings, **kw)


def _same(a, b):
    assert len(a.traces) == len(b.traces)
    for ta, tb in zip(a.traces, b.traces, strict=True):
        pd.testing.assert_frame_equal(ta.table, tb.table)


def test_halves_give_the_same_numbers_wherever_the_second_runs(seekable_video, split_short,
                                                              worker):
    path, _ = seekable_video
    here = _track(path, pipelined=False)  # one thread, one half after the other
    thread = _track(path, pipelined=True)  # a helper thread of its own
    process = _track(path, helper=worker)  # a worker process
    assert split_short == [21.0] * 3
    _same(here, thread)
    _same(here, process)


def test_a_video_with_few_key_frames_is_tracked_in_one_go(two_arena_video, split_short):
    # three key frames in 40 s: seeking to the middle would decode from far back
    _track(two_arena_video[0], pipelined=False)
    assert split_short == []


@pytest.mark.parametrize("fixture", ["seekable_video", "seekable_vfr_video"])
def test_halves_match_tracking_in_one_go(fixture, request, split_short, monkeypatch):
    path, _ = request.getfixturevalue(fixture)
    halves = _track(path, pipelined=False)
    assert len(split_short) == 1
    whole = _track(path, settings=WHOLE, pipelined=False)
    with VideoReader(path) as video:
        n_frames = sum(1 for _ in video.frames())
        # the middle: (the test + the second half's 2-s warm-up) / 2
        middle = (video.info.duration_s + SPLIT.warm_s) / 2
    for th, tw in zip(halves.traces, whole.traces, strict=True):
        # every frame once, in order, at the same times (also with a variable frame
        # rate): nothing lost or doubled at the middle
        assert len(th.table) == len(tw.table) == n_frames
        np.testing.assert_array_equal(th.table["time_s"], tw.table["time_s"])
        assert th.table["frame"].tolist() == list(range(n_frames))
        # the first half is the same tracking, frame for frame (but for the forward
        # change of its last frames, which looks into the second half)
        first = tw.table["time_s"] < middle - 0.2
        pd.testing.assert_frame_equal(th.table[first], tw.table[first])
        # the second half's trackers start afresh, 2 s early: the same animal
        later = (tw.table["time_s"] >= middle).to_numpy()
        centroid = np.hypot(th.table["x_px"] - tw.table["x_px"],
                            th.table["y_px"] - tw.table["y_px"])[later]
        assert np.nanmedian(centroid) < 0.5
        flips = (th.table["immobile"] != tw.table["immobile"]).mean()
        assert flips < 0.02
        assert _immobility(th) == pytest.approx(_immobility(tw), abs=1.0)


def test_progress_runs_forward_to_the_end_with_a_helper(seekable_video, split_short, worker):
    path, _ = seekable_video
    seen: list[float] = []
    _track(path, helper=worker, on_frame=seen.append)
    assert split_short == [21.0]
    assert seen == sorted(seen)
    assert seen[-1] == pytest.approx(40.0, abs=0.2)  # the whole test, not the first half


class _Failing(Executor):
    """A helper whose work always fails (a worker that died, say)."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        future.set_exception(RuntimeError("worker died"))
        return future


@pytest.mark.slow
def test_a_failed_helper_is_replaced_by_tracking_here(seekable_video, split_short):
    path, _ = seekable_video
    _same(_track(path, pipelined=False), _track(path, helper=_Failing()))
    assert len(split_short) == 2


class _LateSeeking(ArrayVideo):
    """Frames in memory whose seeks land 5 s late (a broken index)."""

    def frames(self, gray=True, start_s=None):
        late = None if start_s is None else start_s + 5.0
        return super().frames(gray, late)


def test_a_seek_that_lands_late_decodes_from_the_start(split_short):
    from behavior.testing import SyntheticSpec, render

    spec = SyntheticSpec(duration_s=30, fps=10, width=160, height=120, n_arenas=1, seed=3,
                         immobility_fraction=0.5)
    frames, truth = render(spec, gray=True)
    frames = np.stack(list(frames))
    good = track_video(ArrayVideo(frames, truth.time_s), PROTOCOL, pipelined=False,
                       settings=SPLIT)
    late = track_video(_LateSeeking(frames, truth.time_s), PROTOCOL, pipelined=False,
                       settings=SPLIT)
    assert len(split_short) == 2
    _same(good, late)
    assert len(late.traces[0].table) == len(truth.time_s)



@pytest.mark.slow
@pytest.mark.parametrize("keep", [1 / 3, 4 / 5])  # the middle is at 21 s of 40
def test_a_file_cut_short_in_either_half(seekable_video, split_short, tmp_path, worker, keep,
                                        faststart):
    # an MP4 with its index in front, cut short (a full card, a crash): it opens and
    # seeks, but has frames only up to the cut, in the first or the second half
    path, _ = seekable_video
    front = tmp_path / "front.mp4"
    faststart(path, front)
    data = front.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")
    whole = _track(front, pipelined=False).traces[0].table["time_s"].to_numpy()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * keep)])
    with VideoReader(cut) as video:
        decodable = [f.time_s for f in video.frames()]
    results = [_track(cut, **kw) for kw in ({"pipelined": False}, {"helper": worker})]
    assert split_short[-2:] == [21.0, 21.0]
    _same(*results)
    times = results[0].traces[0].table["time_s"].to_numpy()
    # every decodable frame once, and nothing else
    np.testing.assert_array_equal(times, decodable)
    np.testing.assert_array_equal(times, whole[:len(times)])
    assert (times[-1] < 21.0) == (keep < 0.5)


class _BreaksOff(ArrayVideo):
    """Frames in memory that break off at 12 s, as a damaged file does."""

    def frames(self, gray=True, start_s=None):
        for frame in super().frames(gray, start_s):
            if frame.time_s >= 12.0:
                self.truncated = True
                return
            yield frame


def test_a_file_broken_off_in_the_first_half_keeps_what_decoded(split_short):
    from behavior.testing import SyntheticSpec, render

    spec = SyntheticSpec(duration_s=30, fps=10, width=160, height=120, n_arenas=1, seed=3,
                         immobility_fraction=0.5)
    frames, truth = render(spec, gray=True)
    result = track_video(_BreaksOff(np.stack(list(frames)), truth.time_s), PROTOCOL,
                         pipelined=False, settings=SPLIT)
    assert split_short == [16.0]  # (30 s + 2 s) / 2
    assert result.truncated
    # the last frame decoded is at 11.9 s and lasts a frame interval (0.1 s)
    (broken,) = [n for n in result.notices if n.code == "broken_off"]
    assert broken.severity == "error" and "breaks off at 12.0 s" in broken.message
    times = result.traces[0].table["time_s"].to_numpy()
    np.testing.assert_allclose(times, truth.time_s[truth.time_s < 12.0])


@pytest.mark.slow
def test_one_video_on_two_cores_scores_as_on_one(seekable_video, split_short, worker):
    path, _ = seekable_video
    job = VideoJob(str(path), settings=SPLIT)
    (two,) = score_batch([job], PROTOCOL, helper=worker).results
    one = score_video(job.on_one_core(), PROTOCOL)
    assert split_short == [21.0, 21.0]
    assert two.error is None and one.error is None
    assert two.rows() == one.rows()


def test_halves_of_a_real_recording(real, split_short, monkeypatch, worker):
    """The real XVID mouse (60 s after its title card, split at 31 s): the same
    numbers wherever the second half runs, and close to tracking in one go."""
    path = real("mouse-chamber/Day3_Mouse1_CNO_xvid.avi")
    protocol = PROTOCOL.with_overrides(window_s=(0.0, 59.0))

    def run(settings=SPLIT, **kw):
        with VideoReader(path) as video:
            return track_video(video, protocol, n_arenas=1, start_s=7.0, settings=settings,
                               **kw)

    here, there = run(pipelined=False), run(helper=worker)
    assert len(split_short) == 2
    _same(here, there)
    whole = run(WHOLE, pipelined=False)
    th, tw = here.traces[0], whole.traces[0]
    np.testing.assert_array_equal(th.table["time_s"], tw.table["time_s"])
    assert np.isfinite(th.table["area_px"]).mean() > 0.99
    assert (th.table["immobile"] != tw.table["immobile"]).mean() < 0.05
    assert _immobility(th, protocol) == pytest.approx(_immobility(tw, protocol), abs=1.5)


def test_a_helper_thread_failing_half_way_leaves_nothing_behind(seekable_video, split_short,
                                                               monkeypatch):
    # the second half breaks down in its thread after a second of rows: it is
    # tracked again here, from its start, as if the thread had never run
    from concurrent.futures import ThreadPoolExecutor

    path, _ = seekable_video
    here = _track(path, pipelined=False)
    run = halves.run_half

    def breaks(half, video=None, on_frame=None, cancel=None):
        if video is not None:  # tracked here: as usual
            return run(half, video, on_frame, cancel)
        seen = []

        def fail(t):
            seen.append(t)
            if len(seen) > 15:
                raise RuntimeError("thread broke down")

        return run(half, None, fail)

    monkeypatch.setattr(halves, "run_half", breaks)
    with ThreadPoolExecutor(1) as pool:
        _same(here, _track(path, helper=pool))
    assert len(split_short) == 2


@pytest.mark.parametrize("fixture", ["seekable_video", "two_arena_video"],
                         ids=["two halves", "one go, decoding in a thread"])
def test_a_helper_thread_stops_when_the_first_half_fails(fixture, request, split_short):
    # e.g. Ctrl-C, or a batch abandoned: no thread goes on decoding a file that is
    # being closed (it crashed the interpreter)
    import threading
    import time

    path, _ = request.getfixturevalue(fixture)

    def fail(t):
        if t > 1.0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _track(path, pipelined=True, on_frame=fail)
    assert len(split_short) == (fixture == "seekable_video")
    deadline = time.monotonic() + 5.0
    while any(t.name.startswith(("second-half", "decoder")) for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the second half went on"
        time.sleep(0.01)


def test_a_pool_that_cannot_take_work_is_replaced_by_tracking_here(seekable_video, split_short):
    path, _ = seekable_video
    closed = start_workers(1, "behavior.fst.tracking")
    closed.shutdown()  # submit now raises
    _same(_track(path, pipelined=False), _track(path, helper=closed))
    assert len(split_short) == 2


def test_errors_come_back_whole_from_a_worker_process(worker):
    # an error that could not be rebuilt from its message broke the pool (the
    # worker seemed to have died) and lost every later video's second half
    import pickle

    from behavior.errors import InputError, ProtocolError, VideoError

    for err in (VideoError("a.mp4", "no frame could be decoded"),
                InputError("b.csv", "wrong columns", line=3),
                ProtocolError("p.yaml", "threshold", "must be a number")):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err)
        assert vars(back) == vars(err)
    with pytest.raises(VideoError, match="no frame could be decoded"):
        worker.submit(_raise_video_error).result()
    assert worker.submit(int, "7").result() == 7  # the pool still works


def _raise_video_error():
    from behavior.errors import VideoError

    raise VideoError("a.mp4", "no frame could be decoded")


def test_frames_unlike_the_rest_in_the_second_half_are_not_scored_wherever_it_runs(
        tmp_path, split_short, worker):
    """The lens covered from 28 to 33 s (the picture nearly black), in the second half
    of a 40-s test split at 21 s: those frames are no animal in each place the second
    half can run (its own process gets the check pickled with it)."""
    from behavior.io.video_writer import VideoWriter
    from behavior.testing import render

    spec = SyntheticSpec(duration_s=40, fps=15, width=320, height=240, n_arenas=1, seed=2,
                         immobility_fraction=0.5)
    frames, truth = render(spec, gray=True)
    covered = (truth.time_s >= 28.0) & (truth.time_s < 33.0)
    path = tmp_path / "covered.mp4"
    with VideoWriter(path, codec="h264", fps=15, keyframe_interval=15) as out:
        for image, t, dark in zip(frames, truth.time_s, covered, strict=True):
            out.write(np.full_like(image, 12) if dark else image, float(t))
    runs = [_track(path, pipelined=False), _track(path, pipelined=True),
            _track(path, helper=worker)]
    assert split_short == [21.0] * 3
    for result in runs:
        (trace,) = result.traces
        seen = np.isfinite(trace.table["area_px"].to_numpy(float))
        t = trace.time_s
        assert not seen[(t >= 28.05) & (t < 32.95)].any()
        assert seen[(t < 27.95) | (t >= 33.05)].mean() > 0.99
        assert any("look nothing like the rest" in w for w in result.warnings)
    _same(runs[0], runs[2])
