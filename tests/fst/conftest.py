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


@pytest.fixture
def real():
    """``real("mouse-chamber/x.avi")`` -> path in ../shared/data/real, or skip."""

    def find(path: str) -> Path:
        p = REAL / path
        if not p.exists():
            pytest.skip(f"real recording {p} not available (../shared/data/real missing)")
        return p

    return find
