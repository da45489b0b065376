"""Exact seeking: read(index) and frame_at(time) give the frame decoding gives."""

from __future__ import annotations

import threading

import av
import numpy as np
import pytest
from conftest import leading_frames, number_of, numbered, vfr_times, write_numbered

from behavior.errors import VideoError
from behavior.io.video import VideoReader


def sequential(path, gray=True):
    """(index, time, pixels) of every frame, decoding from the start."""
    with VideoReader(path) as video:
        return [(f.index, f.time_s, f.image.copy()) for f in video.frames(gray=gray)]


def assert_is(frame, truth):
    index, time_s, image = truth
    assert (frame.index, frame.time_s) == (index, time_s)
    np.testing.assert_array_equal(frame.image, image)


@pytest.mark.parametrize("video", ["open_gop_h264", "vfr_h264", "open_gop_hevc"])
def test_every_frame_in_random_order(request, video):
    path, writer = request.getfixturevalue(video)
    # the open-GOP videos really have frames that present before their key frame
    assert (leading_frames(path) > 0) == video.startswith("open_gop")
    truth = sequential(path)
    assert len(truth) == writer.n_frames
    # the pixels are the written frames, in order (checked without the reader)
    assert [number_of(image) for _, _, image in truth] == list(range(writer.n_frames))
    order = np.random.default_rng(0).permutation(len(truth))
    with VideoReader(path) as video:
        for i in order:
            assert_is(video.read(int(i)), truth[i])


@pytest.mark.parametrize("video", ["open_gop_h264", "open_gop_hevc"])
def test_every_frame_backwards_and_forwards(request, video):
    path, _ = request.getfixturevalue(video)
    truth = sequential(path)
    with VideoReader(path) as video:
        for i in reversed(range(len(truth))):  # a player's "previous frame"
            assert_is(video.read(i), truth[i])
        for i in range(len(truth)):  # its "next frame" and playback
            assert_is(video.read(i), truth[i])
        for stride in (3, 7, 13):  # fast forward: frames skipped on the way
            for i in range(stride // 2, len(truth), stride):
                assert_is(video.read(i), truth[i])


def test_leading_frames_of_an_open_gop_do_not_come_out_from_their_key_frame(open_gop_h264):
    """What makes open GOPs hard: decoding from a key frame never gives the frames
    that present just before it (they refer to the GOP before) — a reader that
    seeks to the key frame before a time by presentation order alone misses
    them. read() gets every one of them right."""
    path, _ = open_gop_h264
    truth = sequential(path)
    times = np.array([t for _, t, _ in truth])
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        packets = [(p.pts, p.is_keyframe) for p in c.demux(stream) if p.size]
        tb, origin = float(stream.time_base), float(stream.start_time * stream.time_base)
    keys = [i for i, (_, key) in enumerate(packets) if key]
    key = keys[2]
    key_pts = packets[key][0]
    leading = [pts for pts, _ in packets[key + 1:key + 6] if pts < key_pts]
    assert leading
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        c.seek(key_pts, stream=stream)
        out = [f.pts for _, f in zip(range(10), c.decode(stream), strict=False)]
    assert out[0] == key_pts and not set(leading) & set(out)
    with VideoReader(path) as video:
        for pts in leading:
            i = int(np.flatnonzero(times == pts * tb - origin)[0])
            assert_is(video.read(i), truth[i])


def test_frame_at_gives_the_frame_on_screen(open_gop_h264):
    path, _ = open_gop_h264
    truth = sequential(path)
    times = np.array([t for _, t, _ in truth])
    rng = np.random.default_rng(4)
    probes = np.concatenate([rng.uniform(times[0], times[-1] + 0.2, 80), times[::7],
                             times[1::9] - 1e-6])
    with VideoReader(path) as video:
        for t in probes:
            i = int(np.flatnonzero(times <= t + 1e-9)[-1])  # last frame shown by t
            assert_is(video.frame_at(float(t)), truth[i])
        with pytest.raises(VideoError, match="no frame at -0.500 s"):
            video.frame_at(-0.5)


def test_read_out_of_range(vfr_h264):
    path, writer = vfr_h264
    with VideoReader(path) as video:
        with pytest.raises(IndexError):
            video.read(writer.n_frames)
        with pytest.raises(IndexError):
            video.read(-1)


def test_colour_frames_by_index(vfr_h264):
    path, _ = vfr_h264
    truth = sequential(path, gray=False)
    with VideoReader(path) as video:
        for i in (0, 77, 3, 149, 76):
            frame = video.read(i, gray=False)
            assert frame.image.shape == (120, 160, 3)
            assert_is(frame, truth[i])


def test_a_step_forward_decodes_one_frame_and_does_not_seek(vfr_h264):
    path, _ = vfr_h264
    with VideoReader(path) as video:
        video.read(25)  # far from the key frame at 0 (GOPs of 30)
        before = video.decoded
        video.read(26)
        assert video.decoded - before == 1
        video.read(26)  # the same frame again: nothing decoded
        assert video.decoded - before == 1
        video.read(24)  # a step back decodes again from the key frame
        assert video.decoded - before > 1


def test_frames_from_a_start_time_carry_their_real_index(open_gop_h264):
    path, _ = open_gop_h264
    truth = sequential(path)
    times = np.array([t for _, t, _ in truth])
    with VideoReader(path) as video:
        for start in (times[40], times[40] - 1e-3, 3.0, times[-1]):
            got = list(video.frames(start_s=float(start)))
            i = int(np.searchsorted(times, start - 1e-6))
            assert len(got) == len(truth) - i
            for frame, want in zip(got, truth[i:], strict=True):
                assert_is(frame, want)
        assert list(video.frames(start_s=float(times[-1] + 1))) == []


def test_frames_without_trusted_times_start_at_the_right_frame(tmp_path):
    # H.264 with B-frames in AVI: the frame times need a decoding pass, which
    # frames(start_s=...) does not spend; it still starts at the right frame (index
    # unknown: -1). (The container has no presentation times: the decoder's frames
    # come out with decoding-order times and those that do not increase are
    # dropped, as frames() always did.)
    path = tmp_path / "b.avi"
    write_numbered(path, 120, codec="h264", keyframe_interval=30, bframes=3)
    truth = sequential(path)
    times = np.array([t for _, t, _ in truth])
    start = len(truth) // 2
    with VideoReader(path) as video:
        got = list(video.frames(start_s=float(times[start])))
        assert video.frame_times_source == ""
    assert [f.index for f in got] == [-1] * (len(truth) - start)
    for frame, (_, t, image) in zip(got, truth[start:], strict=True):
        assert frame.time_s == t
        np.testing.assert_array_equal(frame.image, image)
    with VideoReader(path) as video:  # read() pays for the pass, and is exact
        for i in (len(truth) - 1, 5, start + 1):
            assert_is(video.read(i), truth[i])
        assert video.frame_times_source == "decoding"


def test_frames_interrupted_by_a_seek_raise(vfr_h264):
    path, _ = vfr_h264
    with VideoReader(path) as video:
        frames = video.frames()
        next(frames)
        video.read(100)
        with pytest.raises(RuntimeError, match="one reader per task"):
            next(frames)
        # a new iteration starts again from the first frame
        assert next(video.frames()).index == 0


def test_reading_in_steps_after_frames_goes_on_from_there(vfr_h264):
    path, _ = vfr_h264
    truth = sequential(path)
    with VideoReader(path) as video:
        frames = video.frames()
        for _ in range(40):
            next(frames)
        before = video.decoded
        assert_is(video.read(40), truth[40])
        assert video.decoded - before == 1  # went on, no seek


def test_one_reader_per_thread(open_gop_h264, vfr_h264):
    """The thread rule: each thread its own reader, reading at the same time."""
    jobs = [open_gop_h264[0], vfr_h264[0], open_gop_h264[0]]
    truths = [sequential(p) for p in jobs]
    errors: list[str] = []

    def work(k: int) -> None:
        rng = np.random.default_rng(k)
        with VideoReader(jobs[k]) as video:
            for i in rng.permutation(len(truths[k]))[:60]:
                frame = video.read(int(i))
                if frame.time_s != truths[k][i][1] or \
                        not np.array_equal(frame.image, truths[k][i][2]):
                    errors.append(f"thread {k}: frame {i}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_rotated_phone_video_is_read_upright_by_index(tmp_path):
    path = tmp_path / "phone.mp4"
    write_numbered(path, 40, vfr_times(40, seed=9), codec="h264", crf=10, rotation=90)
    truth = sequential(path)
    with VideoReader(path) as video:
        assert video.info.rotation == 90
        assert (video.info.width, video.info.height) == (120, 160)
        for i in (30, 2, 17):
            frame = video.read(i)
            assert frame.image.shape == (160, 120)
            assert_is(frame, truth[i])
        # the picture turned back is the numbered frame
        assert number_of(np.rot90(video.read(17).image, k=-1)) == 17


def test_frames_in_memory_have_the_same_interface():
    from behavior.io.video import ArrayVideo

    images = np.stack([numbered(i, np.random.default_rng(i)) for i in range(6)])
    video = ArrayVideo(images, time_s=np.array([0.0, 0.04, 0.1, 0.13, 0.2, 0.26]))
    np.testing.assert_array_equal(video.frame_times(), [0.0, 0.04, 0.1, 0.13, 0.2, 0.26])
    assert number_of(video.read(4).image) == 4 and video.read(4).time_s == 0.2
    assert video.frame_at(0.129).index == 2 and video.frame_at(0.13).index == 3
    assert video.frame_at(9.0).index == 5
    with pytest.raises(IndexError):
        video.read(6)
    with pytest.raises(VideoError):
        video.frame_at(-0.1)
