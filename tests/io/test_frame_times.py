"""frame_times(): from the packets where they can be trusted, always equal to decoding."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from conftest import has_encoder, leading_frames, vfr_times, write_numbered

from behavior.io.video import VideoReader
from behavior.io.video_index import scan_packets

VIDEOS = Path(__file__).resolve().parents[2] / "videos"


def decoded_times(path: Path) -> np.ndarray:
    """The times frames() yields, in a reader of their own."""
    with VideoReader(path) as video:
        return np.array([f.time_s for f in video.frames()])


def packets_of(path: Path) -> list[tuple[int | None, int | None, bool]]:
    with av.open(str(path)) as c:
        return [(p.pts, p.dts, p.is_keyframe) for p in c.demux(video=0) if p.size]


#: name -> (VideoWriter options, variable frame rate, where the times come from)
CASES = {
    "h264_cfr.mp4": (dict(codec="h264", keyframe_interval=30, bframes=3), False, "packets"),
    "h264_vfr.mp4": (dict(codec="h264", keyframe_interval=30, bframes=3), True, "packets"),
    "h264_open_gop.mp4": (dict(codec="h264", keyframe_interval=20, bframes=3, open_gop=True),
                          True, "packets"),
    "h264_open_gop.mkv": (dict(codec="h264", keyframe_interval=20, bframes=2, open_gop=True),
                          True, "packets"),
    "h264_no_b.mov": (dict(codec="h264", bframes=0), True, "packets"),
    "mjpeg.avi": (dict(codec="mjpeg", fps=15), False, "packets"),
    "mpeg4.avi": (dict(codec="mpeg4", keyframe_interval=12), False, "packets"),
    "mpeg4_b.avi": (dict(codec="mpeg4", keyframe_interval=12, bframes=2), False, "packets"),
    "mpeg4_vfr.mp4": (dict(codec="mpeg4", bframes=2), True, "packets"),
    "ffv1.mkv": (dict(codec="ffv1"), True, "packets"),
    # AVI stores no presentation times: with B-frames the demuxer's pts are the
    # decoding order, and the times need one decoding pass
    "h264_b.avi": (dict(codec="h264", keyframe_interval=30, bframes=3), False, "decoding"),
    "hevc.mp4": (dict(codec="hevc", keyframe_interval=24), True, "packets"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_frame_times_equal_decoding_for_every_codec(tmp_path, name):
    options, vfr, source = CASES[name]
    if options["codec"] == "hevc" and not has_encoder("libx265"):
        pytest.skip("this PyAV has no libx265 encoder")
    path = tmp_path / name
    times = vfr_times(90, seed=5) if vfr else None
    writer = write_numbered(path, 90, times, seed=5, **options)
    with VideoReader(path) as video:
        got = video.frame_times()
        assert video.frame_times_source == source
    want = decoded_times(path)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, want)  # exactly, not approximately
    if source == "packets":
        # and they are the times written, to the container's tick
        assert got.size == 90
        np.testing.assert_allclose(got - got[0], writer.times_s, rtol=0, atol=1e-9)


def test_the_test_videos_reorder_frames_as_their_names_say(tmp_path):
    # B-frames: some packet presents before one decoded earlier; open GOP: a key
    # frame after the first has packets after it (in decoding order) that present
    # before it (leading frames referring to the GOP before)
    b = tmp_path / "b.mp4"
    write_numbered(b, 60, codec="h264", keyframe_interval=30, bframes=3)
    pts = [p for p, _, _ in packets_of(b)]
    assert any(later < earlier for earlier, later in zip(pts, pts[1:], strict=False))
    o = tmp_path / "open.mp4"
    write_numbered(o, 90, codec="h264", keyframe_interval=20, bframes=3, open_gop=True)
    assert sum(key for _, _, key in packets_of(o)) >= 3
    assert leading_frames(o) > 0


def test_bundled_sample_videos():
    paths = sorted(VIDEOS.glob("*.mp4")) + sorted(VIDEOS.glob("*.avi"))
    assert len(paths) >= 3
    for path in paths:
        with VideoReader(path) as video:
            got = video.frame_times()
            assert video.frame_times_source == "packets", path
        np.testing.assert_array_equal(got, decoded_times(path), err_msg=str(path))


def test_real_xvid_avi_with_a_wrong_count_and_a_missing_pts(real):
    path = real("mouse-chamber/Day3_Mouse1_CNO_xvid.avi")
    with VideoReader(path) as video:
        assert video.info.n_frames == 2007
        got = video.frame_times()
        assert video.frame_times_source == "packets"
    assert got.size == 2006
    assert got[:3] * 29.97 == pytest.approx([0, 2, 3], abs=1e-3)  # pts 1 is missing
    np.testing.assert_array_equal(got, decoded_times(path))


def test_real_wmv_without_a_frame_count(real):
    path = real("empty-chamber/Freezing_calibration.wmv")
    with VideoReader(path) as video:
        assert video.info.n_frames == 0
        got = video.frame_times()
    assert got.size == 298
    assert set(np.round(np.diff(got) * 1000)) <= {33.0, 34.0}
    np.testing.assert_array_equal(got, decoded_times(path))


def test_packets_without_presentation_times_are_not_trusted(tmp_path):
    path = tmp_path / "b.avi"
    write_numbered(path, 40, codec="h264", keyframe_interval=30, bframes=3)
    scan = scan_packets(path)
    assert scan.times_s is None
    assert "decoding order" in scan.reason
    # ... which is right: taken at their word, the packets give other times
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        claimed = sorted(p.pts for p in c.demux(stream) if p.size)
        tb = float(stream.time_base)
    assert not np.array_equal(np.array(claimed) * tb, decoded_times(path))


def test_a_damaged_packet_found_later_makes_the_times_come_from_decoding(tmp_path):
    # a JPEG frame in the middle whose data is garbage: the container is fine (the
    # packets promise 40 frames) but one does not decode; decoding shows it, and the
    # times are then taken from decoding. (Frame 30: the first 24 are checked by
    # decoding them when the packets are read.)
    path = tmp_path / "clip.avi"
    write_numbered(path, 40, codec="mjpeg", fps=10)
    data = bytearray(path.read_bytes())
    with av.open(str(path)) as c:
        packet = [p for p in c.demux(video=0) if p.size][30]
        start, size = packet.pos, packet.size
    data[start:start + size] = bytes(size)  # SOI marker and all: not a JPEG any more
    path.write_bytes(bytes(data))
    with VideoReader(path) as video:
        promised = video.frame_times()
        assert promised.size == 40 and video.frame_times_source == "packets"
        frames = [(f.index, f.time_s) for f in video.frames()]
        assert len(frames) == 39
        got = video.frame_times()
        assert video.frame_times_source == "decoding"
        np.testing.assert_array_equal(got, [t for _, t in frames])
        # and frame 35 is frame 35 of decoding, not of the packets
        assert video.read(35).time_s == frames[35][1] == promised[36]


def test_a_damaged_packet_among_the_first_is_caught_by_the_scan(tmp_path):
    path = tmp_path / "clip.avi"
    write_numbered(path, 40, codec="mjpeg", fps=10)
    data = bytearray(path.read_bytes())
    with av.open(str(path)) as c:
        packet = [p for p in c.demux(video=0) if p.size][10]
    data[packet.pos:packet.pos + packet.size] = bytes(packet.size)
    path.write_bytes(bytes(data))
    scan = scan_packets(path)
    assert scan.times_s is None and "first packets do not decode" in scan.reason
    with VideoReader(path) as video:
        assert video.frame_times().size == 39
        assert video.frame_times_source == "decoding"


def test_frame_times_do_not_move_the_reader(open_gop_h264):
    path, _ = open_gop_h264
    with VideoReader(path) as video:
        frames = video.frames()
        first = [next(frames) for _ in range(5)]
        video.frame_times()  # a scan of its own: the iteration goes on
        rest = list(frames)
    assert [f.index for f in first + rest] == list(range(150))


def test_times_are_read_only_and_cached(vfr_h264):
    path, _ = vfr_h264
    with VideoReader(path) as video:
        times = video.frame_times()
        assert video.frame_times() is times
        with pytest.raises(ValueError):
            times[0] = 1.0
