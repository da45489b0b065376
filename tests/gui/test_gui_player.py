"""The player shows the exact frame asked for, with its own timestamp, in VFR video."""

from __future__ import annotations

import av
import numpy as np
import pytest
from behavior_gui.player import Display, PlaybackClock, Player, display_array, index_at
from behavior_gui.video_view import VideoView
from gui_helpers import write_clip
from PyQt5.QtCore import QSize


def decode_all(path):
    """Every frame (BGR) and its time from the first frame, decoded independently
    from the start with PyAV."""
    frames, times = [], []
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        first = None
        for f in c.decode(stream):
            first = f.pts if first is None else first
            frames.append(f.to_ndarray(format="bgr24"))
            times.append(float((f.pts - first) * stream.time_base))
    return frames, np.array(times)


@pytest.fixture(scope="module")
def vfr_clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("vfr") / "vfr.mp4"
    written = write_clip(path, seconds=8.0, fps=25, vfr=True, seed=11, keyframe_interval=60)
    return path, written


def test_seek_to_100_random_frames_of_vfr_video(qtbot, vfr_clip):
    path, written = vfr_clip
    frames, times = decode_all(path)
    assert np.allclose(times, written - written[0], atol=1e-9)
    assert np.ptp(np.diff(times)) > 0.02  # the frame intervals really vary
    view = VideoView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    player = Player(view)
    player.open(path)
    qtbot.waitUntil(lambda: player.ready and player.shown_index == 0, timeout=10000)
    assert np.allclose(player.times, times, rtol=0, atol=1e-9)  # the same times, to 1 ns
    qtbot.waitUntil(lambda: player.shown_image is not None and
                    (player.shown_image.width(), player.shown_image.height()) ==
                    view.display_size(), timeout=5000)
    painted = []
    view.painted.connect(painted.append)
    rng = np.random.default_rng(5)
    for i in rng.integers(0, len(frames), 100):
        i = int(i)
        player.seek_index(i)
        qtbot.waitUntil(lambda i=i: player.shown_index == i and i in painted, timeout=5000)
        assert player.shown_time == player.times[i] == pytest.approx(times[i], abs=1e-9)
        assert np.array_equal(player.shown_array, frames[i])
        # what is painted is that frame, scaled to the view
        shown = player.shown_image
        expected = display_array(frames[i], Display(view.display_size()))
        got = np.frombuffer(shown.constBits().asstring(shown.sizeInBytes()), np.uint8)
        got = got.reshape(shown.height(), shown.bytesPerLine() // 4, 4)[:, :shown.width()]
        assert np.array_equal(got[..., :3], expected[..., :3])
        painted.clear()
    # a time between two frames shows the frame on screen then: the earlier one
    for t in rng.uniform(0, times[-1], 20):
        player.seek_time(float(t))
        j = int(np.searchsorted(times, t, side="right") - 1)
        qtbot.waitUntil(lambda j=j: player.shown_index == j, timeout=5000)
        assert times[j] <= t < (times[j + 1] if j + 1 < len(times) else np.inf)
        assert np.array_equal(player.shown_array, frames[j])
    player.close()


def test_frame_step_both_ways_and_jumps(qtbot, vfr_clip):
    path, _ = vfr_clip
    frames, times = decode_all(path)
    player = Player(None)
    player.open(path, start_s=float(times[100]))
    qtbot.waitUntil(lambda: player.shown_index == 100, timeout=10000)
    for step, expect in ((-1, 99), (-1, 98), (1, 99), (5, 104)):
        player.step(step)
        qtbot.waitUntil(lambda e=expect: player.shown_index == e, timeout=5000)
        assert np.array_equal(player.shown_array, frames[expect])
        assert player.time() == pytest.approx(times[expect], abs=1e-9)
    player.jump(-1.0)
    target = index_at(times, times[104] - 1.0)
    qtbot.waitUntil(lambda: player.shown_index == target, timeout=5000)
    player.close()


def test_playback_clock_from_wall_time_and_frames_drop_when_late(qtbot, vfr_clip):
    """The clock is the start time plus wall time × speed, whatever the frames do; at
    4× frames whose time has passed are skipped (the clock does not wait for them)."""
    path, _ = vfr_clip
    wall = [100.0]
    clock = PlaybackClock(now=lambda: wall[0])
    player = Player(None, clock=clock)
    player.open(path)
    qtbot.waitUntil(lambda: player.shown_index == 0, timeout=10000)
    player.set_speed(4.0)
    shown = []
    player.frame_shown.connect(lambda i, t, e: shown.append((i, t)))
    player.play()
    wall[0] += 0.5  # half a second of wall time: 2 s of video
    assert player.time() == pytest.approx(2.0)
    last = index_at(player.times, 2.0)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1][0] == last, timeout=5000)
    assert len(shown) < index_at(player.times, 2.0)  # the late frames were not shown
    assert all(t <= 2.0 for _, t in shown)
    wall[0] += 10.0  # past the end: the clock stops at the end, playback pauses
    qtbot.waitUntil(lambda: not player.playing, timeout=5000)
    qtbot.waitUntil(lambda: player.shown_index == len(player.times) - 1, timeout=5000)
    player.close()


def test_view_geometry_fit_and_crop(qtbot):
    view = VideoView()
    qtbot.addWidget(view)
    view.resize(400, 400)
    from PyQt5.QtGui import QImage

    view.set_frame(QImage(200, 100, QImage.Format_RGB32), 0, QSize(200, 100))
    assert view.display_size() == (400, 200)  # fit, aspect kept
    from PyQt5.QtCore import QRect

    view.set_crop(QRect(50, 0, 100, 100))
    assert view.display_size() == (400, 400)
    assert view.crop_tuple() == (50, 0, 100, 100)
    img = np.zeros((100, 200, 3), np.uint8)
    img[:, 50:150] = 200
    out = display_array(img, Display((400, 400), view.crop_tuple()))
    assert out.shape == (400, 400, 4) and (out[..., :3] == 200).all()
