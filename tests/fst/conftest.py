"""Fixtures for the forced swim tests: small synthetic videos with known truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from behavior.testing import SyntheticSpec, write_video

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def two_arena_video(tmp_path_factory):
    """40 s, 320x240, 15 fps, H.264; arena 1 ~30 % immobile, arena 2 ~70 %, with
    drift, ripples, glare and flicker. Returns (path, ground truth)."""
    path = tmp_path_factory.mktemp("fst") / "two_arenas.mp4"
    spec = SyntheticSpec(duration_s=40, fps=15, width=320, height=240, n_arenas=2, seed=1,
                         immobility_fraction=(0.3, 0.7))
    return path, write_video(spec, path, codec="h264")


@pytest.fixture(scope="session")
def vfr_video(tmp_path_factory):
    """30 s, one arena, variable frame rate (jittered frame intervals), H.264 in .mp4."""
    path = tmp_path_factory.mktemp("fst") / "vfr.mp4"
    spec = SyntheticSpec(duration_s=30, fps=20, width=320, height=240, n_arenas=1, seed=7,
                         immobility_fraction=0.5, vfr=True)
    return path, write_video(spec, path, codec="h264")


def faststart_copy(src: Path, dst: Path) -> None:
    """Copy an MP4 with its index moved to the front (as many cameras write it), so
    that a copy cut short still opens and seeks."""
    import av

    with av.open(str(src)) as fin, av.open(str(dst), "w",
                                           options={"movflags": "faststart"}) as fout:
        s_in = fin.streams.video[0]
        s_out = fout.add_stream_from_template(s_in)
        for packet in fin.demux(s_in):
            if packet.dts is None:
                continue
            packet.stream = s_out
            fout.mux(packet)


@pytest.fixture
def faststart():
    """:func:`faststart_copy`, for tests that cut an MP4 short."""
    return faststart_copy
