"""Arena counting on fresh footage: is every picture counted as the cylinders it shows?

Renders short (60 s) videos drawn at random from both generators — ours
(``behavior.testing``, the whole range and the hard corner of bench_fst_accuracy.py)
and the independently written one (``other_fst_generator.py``: round tanks with or
without dividers, reflections, an animal resting where the median absorbs it) — and
counts their arenas as ``behavior fst score`` does with neither ``--arenas`` nor
rectangles. Prints every video whose count is wrong, and the share right per
generator. Nothing here was tuned on: the seeds are new each time ``--seed`` is.

    python benchmarks/bench_fst_arenas.py [--seed 1] [--n-other 40] [--jobs 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_fst_accuracy as accuracy  # noqa: E402
import other_fst_generator as other  # noqa: E402

from behavior.fst.setup import prepare  # noqa: E402
from behavior.io.video import VideoReader  # noqa: E402
from behavior.protocols import load_fst_protocol  # noqa: E402
from behavior.testing import write_video  # noqa: E402

DURATION_S = 60.0


def counted(path: Path) -> tuple[int, str]:
    """Arenas counted in the video, and the evidence when one was kept."""
    with VideoReader(path) as video:
        setup = prepare(video, load_fst_protocol("mouse_fst"), sidecar=False)
    kept = [str(n.data.get("evidence")) for n in setup.all_notices() if n.code == "one_arena"]
    return len(setup.arenas), ", ".join(kept)


def other_video(args: tuple[int, Path]) -> tuple[str, str, int, int, str]:
    seed, folder = args
    spec = other.random_spec(seed, duration_s=DURATION_S)
    path = folder / f"other_{seed}.mp4"
    other.render(spec, path)
    n, evidence = counted(path)
    about = f"{spec.n_cylinders} cylinder(s), {'dividers' if spec.dividers else 'no dividers'}"
    return "independent", path.name, spec.n_cylinders, n, f"{about} {evidence}".strip()


def our_video(args: tuple[accuracy.Case, Path]) -> tuple[str, str, int, int, str]:
    case, folder = args
    spec = dataclasses.replace(case.spec, duration_s=DURATION_S)
    path = folder / f"{case.name}{case.suffix}"
    write_video(spec, path, codec=case.codec, quality=case.quality)
    n, evidence = counted(path)
    return "ours", path.name, spec.n_arenas, n, f"{case.about} {evidence}".strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n-other", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    base = 100_000 * args.seed
    with tempfile.TemporaryDirectory(prefix="arenas-") as tmp:
        folder = Path(tmp)
        ours = (accuracy.random_draw(accuracy.WHOLE_RANGE, base + 1, "w", base + 1000,
                                     "whole range")
                + accuracy.random_draw(accuracy.HARD_CORNER, base + 2, "h", base + 2000,
                                       "hard corner"))
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(other_video, [(base + i, folder) for i in range(args.n_other)]))
            rows += list(pool.map(our_video, [(case, folder) for case in ours]))
    print(f"{len(rows)} videos of {DURATION_S:g} s, counted as 'fst score' does (seed {args.seed})")
    for generator in ("independent", "ours"):
        mine = [r for r in rows if r[0] == generator]
        wrong = [r for r in mine if r[2] != r[3]]
        print(f"  {generator:11s}: {len(mine) - len(wrong)} of {len(mine)} right")
        for _, name, truth, n, about in wrong:
            print(f"    {name}: {truth} cylinder(s), counted {n} ({about})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
