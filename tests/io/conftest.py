"""Fixtures of the reader tests: numbered test videos (helpers in video_helpers.py)."""

from __future__ import annotations

import pytest
from video_helpers import REAL, has_encoder, leading_frames, vfr_times, write_numbered  # noqa: F401


@pytest.fixture(scope="session")
def open_gop_h264(tmp_path_factory):
    """H.264 with open GOPs: variable frame rate, 3 B-frames, a key frame at most
    every 24 frames (non-IDR key frames whose leading B-frames refer to the GOP
    before). 150 frames, ~6 s. Returns (path, writer)."""
    path = tmp_path_factory.mktemp("io") / "open_gop.mp4"
    return path, write_numbered(path, 150, vfr_times(150, seed=1), seed=1, codec="h264",
                                keyframe_interval=24, bframes=3, open_gop=True)


@pytest.fixture(scope="session")
def vfr_h264(tmp_path_factory):
    """H.264, variable frame rate, closed GOPs of at most 30 frames, B-frames."""
    path = tmp_path_factory.mktemp("io") / "vfr.mp4"
    return path, write_numbered(path, 150, vfr_times(150, seed=2), seed=2, codec="h264",
                                keyframe_interval=30, bframes=2)


@pytest.fixture(scope="session")
def open_gop_hevc(tmp_path_factory):
    """HEVC (x265, open GOPs by default: CRA key frames with skipped leading frames),
    variable frame rate; skipped when this PyAV has no libx265."""
    if not has_encoder("libx265"):
        pytest.skip("this PyAV has no libx265 encoder")
    path = tmp_path_factory.mktemp("io") / "open_gop_hevc.mp4"
    return path, write_numbered(path, 120, vfr_times(120, seed=3), seed=3, codec="hevc",
                                keyframe_interval=24, bframes=3, open_gop=True)

