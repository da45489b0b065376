"""The video reader: real timestamps, luma plane, seeking, bad files."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from behavior.errors import VideoError
from behavior.io.video import ArrayVideo, VideoReader, luma, probe


def _encode(path, frames, times, codec="mpeg4", rate=30):
    """Encode BGR frames with explicit presentation times (ms time base)."""
    with av.open(str(path), "w") as out:
        s = out.add_stream(codec, rate=rate)
        s.width, s.height = frames[0].shape[1], frames[0].shape[0]
        s.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        s.codec_context.time_base = __import__("fractions").Fraction(1, 1000)
        for img, t in zip(frames, times, strict=True):
            f = av.VideoFrame.from_ndarray(img, format="bgr24")
            f.pts = int(round(t * 1000))
            f.time_base = s.codec_context.time_base
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)


def test_vfr_timestamps_come_from_the_container(vfr_video):
    path, truth = vfr_video
    with VideoReader(path) as video:
        times = np.array([f.time_s for f in video.frames()])
    assert times.size == truth.time_s.size
    # intervals vary, and every timestamp matches what was written (not index / fps)
    assert np.ptp(np.diff(truth.time_s)) > 0.01
    assert np.abs(times - truth.time_s).max() < 1e-3


def test_grey_is_the_luma_plane_itself(two_arena_video):
    path, _ = two_arena_video
    with VideoReader(path) as video:
        frame = next(video.frames(gray=True))
    with av.open(str(path)) as c:
        planar = next(c.decode(video=0)).to_ndarray(format="yuv420p")
    assert frame.image.shape == (240, 320)
    # the Y rows of the planar frame, untouched (no range or colour conversion)
    assert np.array_equal(frame.image, planar[:240])


def test_seek_by_timestamp_returns_the_frame_shown_then(two_arena_video):
    path, truth = two_arena_video
    with VideoReader(path) as video:
        all_frames = [(f.time_s, f.image.copy()) for f in video.frames()]
        target = 23.4
        frame = video.frame_at(target)
        # and frames() still starts again from the beginning afterwards
        again = next(video.frames())
    i = int(np.searchsorted(truth.time_s, target, side="right") - 1)
    assert frame.time_s == pytest.approx(truth.time_s[i])
    assert np.array_equal(frame.image, all_frames[i][1])
    assert again.time_s == pytest.approx(0.0)


def test_frames_from_start_time(two_arena_video):
    path, truth = two_arena_video
    with VideoReader(path) as video:
        first = next(video.frames(start_s=10.0))
    assert first.time_s == pytest.approx(truth.time_s[truth.time_s >= 10.0 - 1e-9][0])


def test_missing_empty_and_garbage_files_give_a_clear_error(tmp_path):
    with pytest.raises(VideoError, match="not found"):
        probe(tmp_path / "nope.mp4")
    (tmp_path / "empty.avi").write_bytes(b"")
    with pytest.raises(VideoError, match="empty"):
        probe(tmp_path / "empty.avi")
    (tmp_path / "junk.mp4").write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(VideoError) as err:
        with VideoReader(tmp_path / "junk.mp4") as video:
            list(video.frames())
    assert "junk.mp4" in str(err.value)


def _noise_video(path, n, codec, seed):
    """``n`` frames of 64 x 48 noise at 30 fps; returns the file's bytes."""
    rng = np.random.default_rng(seed)
    frames = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(n)]
    _encode(path, frames, np.arange(n) / 30, codec=codec)
    return path.read_bytes()


def test_truncated_file_yields_the_part_that_decoded(tmp_path):
    data = _noise_video(tmp_path / "whole.avi", 60, "mjpeg", seed=3)
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: int(len(data) * 0.5)])
    with VideoReader(cut) as video:
        n = sum(1 for _ in video.frames())
    assert 10 < n < 60


def test_an_mp4_cut_off_before_its_index_was_written_says_so(tmp_path):
    # a camera or DVR that lost power writes its MP4 index ('moov') last, or never
    data = _noise_video(tmp_path / "whole.mp4", 30, "mpeg4", seed=4)
    moov = data.index(b"moov") - 4
    assert moov > len(data) // 2  # the index comes after the frames, as cameras write it
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:moov])
    with pytest.raises(VideoError, match="cut.mp4.*without its index.*cut off"):
        VideoReader(cut)
    # a file that has its index but is damaged otherwise is not said to be cut off
    (tmp_path / "junk.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100) + b"moov")
    with pytest.raises(VideoError) as err:
        VideoReader(tmp_path / "junk.mp4")
    assert "without its index" not in str(err.value)


def test_array_video_has_the_same_interface():
    imgs = np.zeros((5, 8, 10, 3), np.uint8)
    imgs[2] = 200
    video = ArrayVideo(imgs, time_s=np.array([0, 0.1, 0.3, 0.35, 0.5]))
    frames = list(video.frames())
    assert [f.time_s for f in frames] == [0, 0.1, 0.3, 0.35, 0.5]
    assert frames[2].image.shape == (8, 10) and frames[2].image[0, 0] == 200
    assert [f.index for f in video.keyframes_near([0.31, 0.5])] == [2, 4]


def test_real_xvid_avi_with_a_wrong_frame_count_and_a_missing_pts(real):
    path = real("mouse-chamber/Day3_Mouse1_CNO_xvid.avi")
    info = probe(path)
    assert info.n_frames == 2007 and info.codec == "mpeg4"
    with VideoReader(path) as video:
        times = np.array([f.time_s for f in video.frames()])
    assert times.size == 2006  # what really decodes, not the header's count
    # pts 1 is missing: 0, 2, 3, 4, ... frames of 1/29.97 s
    assert times[:3] * 29.97 == pytest.approx([0, 2, 3], abs=1e-3)
    assert np.all(np.diff(times) > 0)


def test_real_wmv_without_a_frame_count(real):
    path = real("empty-chamber/Freezing_calibration.wmv")
    assert probe(path).n_frames == 0
    with VideoReader(path) as video:
        frames = list(video.frames())
    assert len(frames) == 298
    steps = np.round(np.diff([f.time_s for f in frames]) * 1000)
    assert set(steps) <= {33.0, 34.0}
    assert frames[0].image.shape == (240, 320)
    # camera noise only: after a small blur, frame differences stay small
    a = cv2.GaussianBlur(frames[100].image, (0, 0), 1)
    b = cv2.GaussianBlur(frames[101].image, (0, 0), 1)
    assert cv2.absdiff(a, b).max() < 12


@pytest.mark.parametrize(("suffix", "codec"), [(".mov", "h264"), (".mkv", "h264"),
                                                (".avi", "mpeg4"), (".avi", "mjpeg")])
def test_containers_and_codecs_decode_with_their_timestamps(tmp_path, suffix, codec):
    from behavior.testing import SyntheticSpec, write_video

    path = tmp_path / f"clip{suffix}"
    truth = write_video(SyntheticSpec(duration_s=3, fps=10, width=160, height=120, seed=2),
                        path, codec=codec)
    with VideoReader(path) as video:
        times = np.array([f.time_s for f in video.frames()])
    assert times.size == truth.time_s.size
    assert np.abs(times - truth.time_s).max() < 2e-3


@pytest.mark.slow
@pytest.mark.parametrize(("rotation", "mirror"), [(-90, False), (90, False), (180, False),
                                                 (0, True), (90, True)])
def test_a_phone_video_is_turned_upright_before_arenas_are_numbered(two_arena_video, tmp_path,
                                                                    rotation, mirror):
    """A phone held upright stores its picture sideways and a display matrix saying
    how to turn it (a front camera: also mirrored). Frames are read as shown, so the
    two cylinders are side by side and numbered left to right as on screen, and
    score as the upright original."""
    if not hasattr(av.video.stream.VideoStream, "set_display_rotation"):
        pytest.skip("this PyAV cannot write a display matrix")
    from behavior.fst.batch import VideoJob, score_video
    from behavior.protocols import load_fst_protocol

    source, _ = two_arena_video
    with VideoReader(source) as video:
        frames = list(video.frames())
    upright_ = np.stack([f.image for f in frames])
    # what the camera stores: the picture mirrored back (the matrix mirrors after
    # turning), then turned back (clockwise by the rotation)
    shown = upright_[:, :, ::-1] if mirror else upright_
    stored = np.ascontiguousarray(np.rot90(shown, k=-rotation // 90, axes=(1, 2)))
    path = tmp_path / f"phone_{rotation}_{mirror}.mp4"
    with av.open(str(path), "w") as out:
        s = out.add_stream("h264", rate=15)
        s.width, s.height = stored.shape[2], stored.shape[1]
        s.pix_fmt = "yuv420p"
        s.options = {"crf": "12"}
        s.set_display_rotation(rotation, hflip=mirror)
        for img in stored:
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="gray")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)

    info = probe(path)
    if not mirror:
        assert info.rotation == rotation % 360
    assert (info.width, info.height) == (320, 240)  # the picture as shown
    with VideoReader(path) as video:
        turned = np.stack([f.image for f in video.frames()])
        key = video.keyframes_near([0.0])[0].image
    assert turned.shape == upright_.shape and key.shape == upright_.shape[1:]
    # (grey -> limited-range YUV rescales the levels: compare by correlation)
    assert np.corrcoef(turned[::10].ravel(), upright_[::10].ravel())[0, 1] > 0.98
    assert np.corrcoef(turned[::10].ravel(), upright_[::10, ::-1, ::-1].ravel())[0, 1] < 0.9

    protocol = load_fst_protocol("mouse_fst").with_overrides(window_s=(5.0, 40.0))
    want = score_video(VideoJob(str(source), n_arenas=2), protocol).rows()
    got = score_video(VideoJob(str(path), n_arenas=2), protocol).rows()
    assert [r["arena"] for r in got] == [1, 2]
    for a, b in zip(want, got, strict=True):
        assert abs(a["immobility_s"] - b["immobility_s"]) < 1.0


def _matrix_map(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``image`` moved as FFmpeg's display.h defines the matrix: the source pixel
    (p, q) lands on (a p + c q, b p + d q), shifted to start at 0."""
    a, b, c, d = (matrix[i] / 65536 for i in (0, 1, 3, 4))
    q, p = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    x, y = np.rint(a * p + c * q).astype(int), np.rint(b * p + d * q).astype(int)
    out = np.zeros((y.max() - y.min() + 1, x.max() - x.min() + 1), image.dtype)
    out[y - y.min(), x - x.min()] = image
    return out


@pytest.mark.parametrize(("rotation", "hflip", "vflip"),
                         [(0, True, False), (0, False, True), (90, True, False),
                          (90, False, True), (-90, True, False), (180, False, True)])
def test_every_display_matrix_is_applied_as_ffmpeg_defines_it(tmp_path, rotation, hflip,
                                                              vflip):
    if not hasattr(av.video.stream.VideoStream, "set_display_rotation"):
        pytest.skip("this PyAV cannot write a display matrix")
    picture = np.zeros((48, 64), np.uint8)
    picture[4:14, 4:30] = 250  # nothing symmetric about it
    picture[30:44, 50:60] = 120
    path = tmp_path / "m.mp4"
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt, s.options = 64, 48, "yuv420p", {"crf": "0"}
        s.set_display_rotation(rotation, hflip=hflip, vflip=vflip)
        for _ in range(3):
            for p in s.encode(av.VideoFrame.from_ndarray(picture, format="gray")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        matrix = next(np.frombuffer(bytes(sd), "<i4") for sd in frame.side_data
                      if sd.type.name == "DISPLAYMATRIX")
        want = _matrix_map(luma(frame), matrix)  # the Y plane, as the reader reads it
    with VideoReader(path) as video:
        got = next(iter(video.frames())).image
        assert (video.info.width, video.info.height) == (want.shape[1], want.shape[0])
    np.testing.assert_array_equal(got, want)
