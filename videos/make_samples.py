"""Regenerate the tiny sample clips in this folder (seeded, so byte-stable per library version).

Run from the repository root::

    python videos/make_samples.py

Each clip ``<name>.<ext>`` gets ``<name>.truth.csv``: one row per arena and frame with the
behaviour state and body centre (columns of
:meth:`behavior.testing.GroundTruth.to_frame`).
"""

from __future__ import annotations

from pathlib import Path

from behavior.testing import SyntheticSpec, write_video

HERE = Path(__file__).resolve().parent

#: name -> (spec, codec, quality)
SAMPLES = {
    "fst_2arenas_h264.mp4": (
        SyntheticSpec(
            duration_s=60.0,
            fps=15.0,
            width=320,
            height=240,
            n_arenas=2,
            immobility_fraction=(0.3, 0.7),
            seed=1,
        ),
        "h264",
        30,
    ),
    "fst_1arena_vfr.mp4": (
        SyntheticSpec(
            duration_s=30.0,
            fps=30.0,
            width=320,
            height=240,
            vfr=True,
            immobility_fraction=0.5,
            seed=2,
        ),
        "h264",
        30,
    ),
    "fst_mjpeg.avi": (
        SyntheticSpec(
            duration_s=10.0,
            fps=15.0,
            width=320,
            height=240,
            animal="light",
            immobility_fraction=0.5,
            seed=3,
        ),
        "mjpeg",
        10,
    ),
}


def main() -> None:
    for name, (spec, codec, quality) in SAMPLES.items():
        path = HERE / name
        truth = write_video(spec, path, codec=codec, quality=quality)
        table = truth.to_frame()
        table.to_csv(path.with_name(path.stem + ".truth.csv"), index=False, float_format="%.6f")
        print(f"{path.name}: {truth.n_frames} frames, {path.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
