"""Test videos for the reader and the writer: every frame shows its own number.

Frames are 160x120 grey: a 12-bit code of the frame number as black and white
blocks (large enough to survive any of the lossy codecs), a gradient that moves
every frame and seeded noise (so that encoders must really code each frame; mild
enough that x264 does not take every GOP for a scene cut, which would leave its
open GOPs without leading frames).
:func:`number_of` reads the code back, so a test can tell which written frame a
decoded picture is, independently of the reader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from behavior.io.video_writer import VideoWriter

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
HEIGHT, WIDTH = 120, 160
BITS = 12  # frame numbers up to 4095


def _block(bit: int) -> tuple[slice, slice]:
    row, col = divmod(bit, 6)
    return slice(6 + 22 * row, 24 + 22 * row), slice(6 + 25 * col, 27 + 25 * col)


def numbered(i: int, rng: np.random.Generator) -> np.ndarray:
    """Frame ``i``: its number in blocks (top), a moving gradient and noise (bottom)."""
    img = np.empty((HEIGHT, WIDTH), np.uint8)
    img[:] = ((np.arange(WIDTH)[None, :] * 3 + 2 * i) % 200 + 30).astype(np.uint8)
    for bit in range(BITS):
        img[_block(bit)] = 235 if (i >> bit) & 1 else 20
    img[56:] = np.clip(img[56:] + rng.integers(-8, 9, (HEIGHT - 56, WIDTH)), 0, 255)
    return img


def number_of(image: np.ndarray) -> int:
    """The frame number a decoded grey picture shows."""
    return sum(1 << bit for bit in range(BITS) if image[_block(bit)].mean() > 128)


def vfr_times(n: int, seed: int, low_s: float = 0.02, high_s: float = 0.06) -> np.ndarray:
    """``n`` frame times from 0 with intervals drawn between ``low_s`` and ``high_s``."""
    rng = np.random.default_rng(seed)
    return np.concatenate([[0.0], np.cumsum(rng.uniform(low_s, high_s, n - 1))])


def write_numbered(path: Path, n: int, times: np.ndarray | None = None, seed: int = 0,
                   **options) -> VideoWriter:
    """Write ``n`` numbered frames (at ``times``, default ``i / fps``); returns the
    closed writer (its ``times_s`` and ``pts`` are what was written)."""
    rng = np.random.default_rng(seed)
    with VideoWriter(path, **options) as out:
        for i in range(n):
            out.write(numbered(i, rng), None if times is None else float(times[i]))
    return out


def leading_frames(path: Path) -> int:
    """How many frames present before the key frame they are decoded after (the
    leading frames of open GOPs; the first key frame has none)."""
    import av

    with av.open(str(path)) as c:
        packets = [(p.pts, p.is_keyframe) for p in c.demux(video=0) if p.size]
    n, key_pts = 0, None
    for pts, key in packets:
        if key:
            key_pts = pts
        elif key_pts is not None and pts < key_pts:
            n += 1
    return n


def has_encoder(name: str) -> bool:
    import av

    try:
        av.codec.Codec(name, "w")
    except Exception:  # (av.codec.codec.UnknownCodecError, version dependent)
        return False
    return True


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


@pytest.fixture
def real():
    """``real("mouse-chamber/x.avi")`` -> path in ../shared/data/real, or skip."""

    def find(path: str) -> Path:
        p = REAL / path
        if not p.exists():
            pytest.skip(f"real recording {p} not available (../shared/data/real missing)")
        return p

    return find
