"""One video per arena: frames, times and pixels against the source, and scores."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from behavior.cli import main
from behavior.errors import InputError
from behavior.fst.arenas import Arena
from behavior.fst.batch import VideoJob, score_video
from behavior.fst.split import even_crop, split_video
from behavior.io.video import VideoReader
from behavior.protocols import load_fst_protocol


def _frames(path, start_s=None):
    with VideoReader(path) as video:
        return [(f.time_s, f.image.copy()) for f in video.frames(start_s=start_s)]


@pytest.mark.slow
def test_each_arena_gets_its_own_video_with_the_same_frames_and_times(two_arena_video,
                                                                      tmp_path):
    path, truth = two_arena_video
    written = split_video(path, tmp_path, n_arenas=2)
    assert [p.name for p in written] == ["two_arenas_arena1.mp4", "two_arenas_arena2.mp4"]
    source = _frames(path)
    protocol = load_fst_protocol("mouse_fst").with_overrides(window_s=(5.0, 40.0))
    whole = score_video(VideoJob(str(path), n_arenas=2), protocol)
    for k, out in enumerate(written):
        frames = _frames(out)
        assert len(frames) == len(source)
        np.testing.assert_allclose([t for t, _ in frames], [t for t, _ in source], atol=1e-4)
        # the pixels are the source's arena (lossy H.264 at CRF 18: a grey level or two)
        x0 = 0 if k == 0 else source[0][1].shape[1] - frames[0][1].shape[1]
        h, w = frames[0][1].shape
        assert w % 2 == 0 and h % 2 == 0
        # the whole of its cylinder and nothing of the other's (a pixel or two of slack)
        (cx, _, cw, _), (ox, _, ow, _) = truth.arena_rects[k], truth.arena_rects[1 - k]
        assert x0 <= cx + 2 and x0 + w >= cx + cw - 2
        assert (x0 + w <= ox + 2) if k == 0 else (x0 >= ox + ow - 2)
        for (_, got), (_, want) in zip(frames[::25], source[::25], strict=True):
            diff = np.abs(got.astype(int) - want[:h, x0:x0 + w].astype(int))
            assert diff.mean() < 2.0
        # scoring the arena's own video gives that animal's immobility again
        alone = score_video(VideoJob(str(out), n_arenas=1), protocol)
        assert alone.error is None
        assert abs(alone.rows()[0]["immobility_s"] - whole.rows()[k]["immobility_s"]) <= 1.0


def test_a_variable_frame_rate_video_keeps_its_times_from_the_test_start(vfr_video, tmp_path):
    path, truth = vfr_video
    (out,) = split_video(path, tmp_path, rects=[(0, 0, 321, 240)], start_s=2.0)
    times = np.array([t for t, _ in _frames(out)])
    kept = truth.time_s[truth.time_s >= 2.0 - 1e-6] - 2.0
    assert np.ptp(np.diff(kept)) > 0.005  # the source really is variable-rate
    np.testing.assert_allclose(times, kept - kept[0], atol=1e-4)
    assert _frames(out)[0][1].shape == (240, 320)  # odd width made even


def test_even_crop_stays_inside_the_frame():
    assert even_crop(Arena(1, 5, 3, 101, 77), 100, 80) == Arena(1, 5, 3, 94, 76)
    with pytest.raises(InputError, match="outside"):
        even_crop(Arena(2, 200, 0, 50, 50), 100, 80)


def test_existing_files_are_not_overwritten_and_bad_files_are_skipped(two_arena_video,
                                                                      tmp_path, capsys):
    path, _ = two_arena_video
    (tmp_path / "two_arenas_arena2.mp4").write_bytes(b"keep me")
    with pytest.raises(InputError, match="never overwritten"):
        split_video(path, tmp_path, n_arenas=2)
    assert (tmp_path / "two_arenas_arena2.mp4").read_bytes() == b"keep me"
    assert not (tmp_path / "two_arenas_arena1.mp4").exists()
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    out = tmp_path / "out"
    assert main(["fst", "split", str(bad), str(path), "--arenas", "2", "--out", str(out)]) == 1
    assert "broken.mp4" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["two_arenas_arena1.mp4",
                                                     "two_arenas_arena2.mp4"]


@pytest.mark.slow
def test_each_arena_video_starts_at_its_own_test_start(two_arena_video, tmp_path):
    path, _ = two_arena_video
    source = _frames(path)
    written = split_video(path, tmp_path, rects=[(0, 0, 160, 240), (160, 0, 160, 240)],
                          start_s=(2.0, 7.5))
    for out, start in zip(written, (2.0, 7.5), strict=True):
        frames = _frames(out)
        kept = [t for t, _ in source if t >= start - 1e-9]
        # times from the first frame at or after the start (7.5 s falls between frames)
        want = [t - kept[0] for t in kept]
        assert len(frames) == len(want)
        np.testing.assert_allclose([t for t, _ in frames], want, atol=1e-4)
    # and each ends a test's length after its own start
    shorter = split_video(path, tmp_path / "short", rects=[(0, 0, 160, 240), (160, 0, 160, 240)],
                          start_s=(2.0, 7.5), duration_s=20.0)
    for out, start in zip(shorter, (2.0, 7.5), strict=True):
        times = [t for t, _ in _frames(out)]
        want = [t for t, _ in source if start - 1e-9 <= t < start + 20.0 - 1e-9]
        assert len(times) == len(want) and times[-1] < 20.0
    with pytest.raises(InputError, match="3 test start times for 2 arenas"):
        split_video(path, tmp_path / "x", rects=[(0, 0, 160, 240), (160, 0, 160, 240)],
                    start_s=(1.0, 2.0, 3.0))


def test_a_test_that_ended_early_ends_its_arena_video(two_arena_video, tmp_path):
    # the sidecar says arena 1's animal was taken out at 15 s, arena 2's at 25 s
    path, _ = two_arena_video
    video = tmp_path / "cage.mp4"
    shutil.copy(path, video)
    (tmp_path / "cage.mp4.arenas.yaml").write_text(
        "arenas: [[0, 0, 160, 240], [160, 0, 160, 240]]\nend_s: [15, 25]\n")
    written = split_video(video, tmp_path / "out", duration_s=360)
    source = _frames(path)
    for out, end in zip(written, (15.0, 25.0), strict=True):
        times = [t for t, _ in _frames(out)]
        assert len(times) == sum(1 for t, _ in source if t < end - 1e-9)
        assert times[-1] < end
