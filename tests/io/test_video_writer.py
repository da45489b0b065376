"""VideoWriter: exact timestamps, no metadata, atomic files."""

from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np
import pytest
from conftest import numbered, vfr_times, write_numbered

from behavior.blinding.remux import find_leaks, metadata
from behavior.errors import VideoError
from behavior.io.video import VideoReader
from behavior.io.video_writer import VideoWriter, atomic_output


def demuxed_pts(path):
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        return sorted(p.pts for p in c.demux(stream) if p.size), stream.time_base


def test_variable_frame_rate_timestamps_are_written_to_the_tick(tmp_path):
    path = tmp_path / "vfr.mp4"
    times = vfr_times(80, seed=11) + 0.25  # need not start at 0
    writer = write_numbered(path, 80, times, codec="h264", bframes=3)
    assert writer.time_base == Fraction(1, 90000)
    np.testing.assert_array_equal(writer.pts, np.round(times * 90000).astype(np.int64))
    pts, tb = demuxed_pts(path)
    assert tb == Fraction(1, 90000)
    np.testing.assert_array_equal(pts, writer.pts)  # the integers, exactly
    with VideoReader(path) as video:  # times from the first frame
        np.testing.assert_allclose(video.frame_times(), writer.times_s, rtol=0, atol=1e-9)
    np.testing.assert_allclose(writer.times_s, times - times[0], rtol=0, atol=1 / 180000)


@pytest.mark.parametrize(("name", "codec", "tick"), [
    ("a.mkv", "ffv1", Fraction(1, 1000)),  # Matroska stores milliseconds
    ("a.mp4", "mpeg4", Fraction(1, 30000)),  # MPEG-4 Part 2: at most 65535 ticks a second
    ("a.avi", "mjpeg", Fraction(1, 25)),  # AVI: one frame per 1/fps
])
def test_each_container_its_own_tick(tmp_path, name, codec, tick):
    times = np.arange(30) / 25 if name.endswith(".avi") else vfr_times(30, seed=1)
    writer = write_numbered(tmp_path / name, 30, times, codec=codec, fps=25)
    assert writer.time_base == tick
    pts, tb = demuxed_pts(tmp_path / name)
    assert pts == [round(Fraction(t) / tick) for t in times]
    with VideoReader(tmp_path / name) as video:
        np.testing.assert_allclose(video.frame_times(), writer.times_s, rtol=0, atol=1e-9)


def test_avi_refuses_times_off_its_grid(tmp_path):
    with pytest.raises(ValueError, match="AVI cannot store per-frame times"):
        write_numbered(tmp_path / "a.avi", 10, vfr_times(10, seed=2), codec="mjpeg")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("times", [[0.0, 0.1, 0.1], [0.0, 0.2, 0.1], [0.0, 1e-6, 2e-6]])
def test_times_must_increase_by_a_tick(tmp_path, times):
    # (1 us apart is the same 1/90000 s tick)
    with pytest.raises(ValueError, match="is not after the previous frame"):
        write_numbered(tmp_path / "a.mp4", 3, np.array(times))
    assert list(tmp_path.iterdir()) == []


def test_an_error_inside_leaves_nothing_behind(tmp_path):
    rng = np.random.default_rng(0)
    with pytest.raises(KeyError):
        with VideoWriter(tmp_path / "a.mp4") as out:
            for i in range(20):
                out.write(numbered(i, rng))
            assert any(p.name.endswith(".part") for p in tmp_path.iterdir())  # being written
            raise KeyError("the caller fails")
    assert list(tmp_path.iterdir()) == []


def test_a_file_appears_only_when_complete(tmp_path):
    rng = np.random.default_rng(0)
    out = VideoWriter(tmp_path / "a.mp4")
    out.write(numbered(0, rng))
    assert not (tmp_path / "a.mp4").exists()
    out.write(numbered(1, rng))
    out.close()
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]
    with VideoReader(tmp_path / "a.mp4") as video:
        assert video.frame_times().size == 2


def test_no_frames_no_file(tmp_path):
    with pytest.raises(VideoError, match="no frame was written"):
        with VideoWriter(tmp_path / "a.mp4"):
            pass
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_never_overwritten(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"scored yesterday")
    with pytest.raises(VideoError, match="a.mp4: already exists"):
        VideoWriter(tmp_path / "a.mp4")
    assert (tmp_path / "a.mp4").read_bytes() == b"scored yesterday"
    write_numbered(tmp_path / "a.mp4", 3, overwrite=True)
    assert (tmp_path / "a.mp4").read_bytes()[4:8] == b"ftyp"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs a folder this user cannot write (root writes anywhere)")
def test_a_read_only_folder_gives_a_clear_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(VideoError, match="a.mp4: cannot be written"):
            write_numbered(folder / "a.mp4", 3)
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


def test_no_metadata_is_written_unless_given(tmp_path):
    secret = tmp_path / "Mouse7_fluoxetine_2024-03-05.mp4"
    write_numbered(secret, 10, codec="h264")
    tags = metadata(secret)
    assert not {k for k in tags if k.split(":")[-1] in
                ("title", "comment", "creation_time", "encoder", "date")}, tags
    data = secret.read_bytes()
    assert find_leaks(secret, ["Mouse7_fluoxetine_2024-03-05", "fluoxetine", "Mouse7"]) == []
    # the movie header's creation and modification dates are zero
    mvhd = data.index(b"mvhd")
    assert data[mvhd + 8:mvhd + 16] == bytes(8)
    # what is asked for is written (so the checks above can fail)
    told = tmp_path / "told.mp4"
    write_numbered(told, 10, codec="h264", metadata={"title": "Mouse7 fluoxetine"})
    assert find_leaks(told, ["fluoxetine"]) == ["fluoxetine"]


def test_the_same_frames_give_the_same_bytes(tmp_path):
    write_numbered(tmp_path / "a.mp4", 30, vfr_times(30, seed=3), codec="h264")
    write_numbered(tmp_path / "b.mp4", 30, vfr_times(30, seed=3), codec="h264")
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()


def test_lossless_ffv1_gives_back_the_pixels(tmp_path):
    rng = np.random.default_rng(5)
    gray = [numbered(i, rng) for i in range(10)]
    bgr = [rng.integers(0, 256, (120, 160, 3), dtype=np.uint8) for _ in range(10)]
    for name, images, read_gray in (("g.mkv", gray, True), ("c.mkv", bgr, False)):
        with VideoWriter(tmp_path / name, codec="ffv1") as out:
            for image in images:
                out.write(image)
        with VideoReader(tmp_path / name) as video:
            back = [f.image for f in video.frames(gray=read_gray)]
        assert len(back) == 10
        for a, b in zip(images, back, strict=True):
            np.testing.assert_array_equal(a, b)


def test_grey_is_stored_as_the_luma_plane(tmp_path):
    rng = np.random.default_rng(6)
    image = numbered(3, rng)
    for full, name in ((True, "full.mp4"), (False, "limited.mp4")):
        with VideoWriter(tmp_path / name, crf=0, full_range=full) as out:
            out.write(image)
    with VideoReader(tmp_path / "full.mp4") as video:
        full_back = video.read(0).image
    with VideoReader(tmp_path / "limited.mp4") as video:
        limited_back = video.read(0).image
    np.testing.assert_array_equal(full_back, image)  # crf 0: lossless luma
    # the other way rescales the levels to video range (16-235)
    expected = np.round(16 + image.astype(float) * 219 / 255)
    assert np.abs(limited_back - expected).max() <= 1
    assert limited_back.min() >= 16 and limited_back.max() <= 235


def test_bad_frames_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="even width and height"):
        with VideoWriter(tmp_path / "odd.mp4") as out:
            out.write(np.zeros((121, 160), np.uint8))
    with pytest.raises(ValueError, match=r"every frame must be uint8 \(120, 160\)"):
        with VideoWriter(tmp_path / "a.mp4") as out:
            out.write(numbered(0, rng))
            out.write(np.zeros((120, 160, 3), np.uint8))
    with pytest.raises(ValueError, match="codec 'vp9' not supported"):
        VideoWriter(tmp_path / "a.webm", codec="vp9")
    with pytest.raises(ValueError, match="container '.webm' not supported"):
        VideoWriter(tmp_path / "a.webm")
    assert list(tmp_path.iterdir()) == []


def test_key_frames_and_b_frames_as_asked(tmp_path):
    write_numbered(tmp_path / "gop.mp4", 60, codec="h264", keyframe_interval=10, bframes=0)
    with av.open(str(tmp_path / "gop.mp4")) as c:
        packets = [(p.pts, p.is_keyframe) for p in c.demux(video=0) if p.size]
    keys = [i for i, (_, key) in enumerate(packets) if key]
    assert max(np.diff(keys + [len(packets)])) <= 10
    pts = [p for p, _ in packets]
    assert pts == sorted(pts)  # no B-frames: decoding order is presentation order


def test_atomic_output_for_other_writers(tmp_path):
    target = tmp_path / "copy.mp4"
    with atomic_output(target) as tmp:
        tmp.write_bytes(b"data")
        assert tmp.parent == tmp_path and not target.exists()
    assert target.read_bytes() == b"data"
    with pytest.raises(OSError), atomic_output(tmp_path / "other.mp4") as tmp:
        tmp.write_bytes(b"half")
        raise OSError("disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.mp4"]
