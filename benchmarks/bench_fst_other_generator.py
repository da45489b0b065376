"""Blind accuracy benchmark of the FST scorer on videos from a second, independently
written generator (benchmarks/other_fst_generator.py).

Draws a seeded random set of 6-min videos from the generator's whole range (1, 2 or 4
cylinders; 320x240 to 1280x720; 15-30 fps; H.264 CRF 18-36 or MJPEG; dark or albino
mice; vigour from barely paddling to vigorous; floating shares from ~5 % to >= 90 %),
renders them into a cache folder (reused when the same videos are already there),
scores them all with ONE call of the shipped command line with its default protocol::

    python -m behavior fst score VIDEO ... --out CSV --no-progress [--jobs N]

and prints the set's figures against the generator's truth (immobility seconds in
120-360 s). Per-animal rows are printed only with --per-animal: keep them off for a
blind test.

    python benchmarks/bench_fst_other_generator.py [--seed 1] [--videos 10]
        [--cache DIR] [--per-animal] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import other_fst_generator as gen  # noqa: E402

TARGET_MAE_S, TARGET_WORST_S, TARGET_R = 3.0, 8.0, 0.98


def draw_set(seed: int, n_videos: int) -> list:
    """Video specs for the set: cylinder counts cycled (shuffled) so that 1, 2 and 4
    cylinders all appear; everything else drawn from the generator's range."""
    rng = np.random.default_rng([seed, 77])
    cyls = []
    while len(cyls) < n_videos:
        cyls.extend(rng.permutation([1, 2, 4]).tolist())
    specs = []
    for k in range(n_videos):
        vseed = int(rng.integers(2 ** 31))
        specs.append(gen.random_spec(vseed, n_cylinders=int(cyls[k])))
    return specs


def _render_one(args):
    spec_json, path = args
    spec = gen.VideoSpec.from_json(spec_json)
    t0 = time.time()
    gen.render(spec, path)
    return str(path), time.time() - t0


def ensure_rendered(specs: list, cache: Path, seed: int, jobs: int) -> tuple:
    cache.mkdir(parents=True, exist_ok=True)
    paths, todo = [], []
    for k, spec in enumerate(specs):
        path = cache / f"other_s{seed}_{k:02d}{spec.suffix}"
        paths.append(path)
        tp = Path(str(path) + ".truth.json")
        if path.exists() and tp.exists():
            try:
                old = json.loads(tp.read_text())
                if old.get("spec") == json.loads(json.dumps(spec.to_json())) and \
                        old.get("generator_version") == gen.GENERATOR_VERSION:
                    continue
            except (OSError, ValueError):
                pass
        todo.append((spec.to_json(), path))
    t0 = time.time()
    cpu_s = 0.0
    if todo:
        print(f"rendering {len(todo)} of {len(specs)} videos into {cache} ...", flush=True)
        if jobs > 1 and len(todo) > 1:
            with mp.get_context("fork").Pool(min(jobs, len(todo))) as pool:
                for _, dt in pool.imap_unordered(_render_one, todo):
                    cpu_s += dt
        else:
            for item in todo:
                cpu_s += _render_one(item)[1]
    return paths, len(todo), time.time() - t0, cpu_s


def score(paths: list, out_csv: Path, jobs: int) -> float:
    if out_csv.exists():
        out_csv.unlink()
    cmd = [sys.executable, "-m", "behavior", "fst", "score", *map(str, paths),
           "--out", str(out_csv), "--no-progress", "--jobs", str(jobs)]
    t0 = time.time()
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    dt = time.time() - t0
    if run.returncode != 0 or not out_csv.exists():
        print(run.stdout[-3000:])
        print(run.stderr[-3000:])
        raise SystemExit(f"scoring failed (exit {run.returncode})")
    return dt


def _has_warning(v) -> bool:
    return isinstance(v, str) and v.strip() != ""


def evaluate(paths: list, res: pd.DataFrame) -> tuple:
    res = res.copy()
    res["_name"] = res["video"].map(lambda v: Path(str(v)).name)
    rows, mismatched = [], []
    for path in paths:
        truth = gen.load_truth(path)
        got = res[res["_name"] == path.name].sort_values("arena")
        n_cyl = len(truth["animals"])
        if len(got) != n_cyl:
            mismatched.append((path.name, n_cyl, len(got)))
            continue
        for a, (_, r) in zip(truth["animals"], got.iterrows(), strict=True):
            rows.append({
                "video": path.name, "arena": int(r["arena"]), "truth_s": a["immobility_s"],
                "score_s": r["immobility_s"], "warnings": r.get("warnings"),
                "coat": a["coat"], "length_px": a["length_px"], "vigor": a["vigor"],
                "float_share": a["floating_share"]})
    return pd.DataFrame(rows), mismatched


def report(df: pd.DataFrame, mismatched: list, n_videos: int, per_animal: bool) -> None:
    n_mis_animals = sum(m[1] for m in mismatched)
    n = len(df)
    print(f"\nset: {n_videos} videos, {n + n_mis_animals} animals "
          f"({n} compared; {n_mis_animals} left out: row count != cylinder count)")
    for name, want, got in mismatched:
        print(f"  {name}: {want} cylinder(s) but {got} row(s) in the results; left out")
    if n == 0:
        print("no animals to compare")
        return
    scored = df["score_s"].notna()
    warn = df["warnings"].map(_has_warning)
    d = df.loc[scored]
    err = d["score_s"] - d["truth_s"]
    print(f"  not scored (empty immobility_s): {int((~scored).sum())}; "
          f"rows with warnings: {int(warn.sum())}")
    if len(d):
        r = float(np.corrcoef(d["truth_s"], d["score_s"])[0, 1]) if len(d) > 2 else float("nan")
        print(f"  scored animals: {len(d)}")
        print(f"  MAE          : {err.abs().mean():6.2f} s   (target <= {TARGET_MAE_S:g} s)")
        print(f"  worst |error|: {err.abs().max():6.2f} s   (target <= {TARGET_WORST_S:g} s)")
        print(f"  mean signed  : {err.mean():+6.2f} s   (score - truth)")
        print(f"  Pearson r    : {r:6.4f}     (target >= {TARGET_R:g})")
        clean = d.loc[~warn[scored]]
        if len(clean):
            ec = clean["score_s"] - clean["truth_s"]
            print(f"  no-warning rows: {len(clean)}; MAE {ec.abs().mean():.2f} s, "
                  f"worst {ec.abs().max():.2f} s")
        else:
            print("  no-warning rows: 0")
    if per_animal:
        print("\nper animal:")
        with pd.option_context("display.width", 200, "display.max_colwidth", 80,
                               "display.max_rows", 1000):
            out = df.assign(error_s=df["score_s"] - df["truth_s"])
            print(out[["video", "arena", "coat", "length_px", "vigor", "float_share", "truth_s",
                       "score_s", "error_s", "warnings"]].round(2).to_string(index=False))


#: Fixed cut-offs tried from the same traces (what the measure allows with hindsight).
FIXED_CUTOFFS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)


def where_it_errs(paths: list, traces: Path) -> None:
    """Set figures only (fit for a blind set): where the scored frames disagree with the
    truth, and what single fixed cut-offs would have given from the same traces.

    Floating scored as movement is split by where it lies in its floating bout: its
    first second (the animal settling after a mobile bout: still turning, gliding,
    its posture easing), its last half second, or deeper inside (floating's own
    movements taken for movement)."""
    import dataclasses

    from behavior.fst.immobility import smooth_mobility
    from behavior.fst.scoring import relabel_immobile, score_trace
    from behavior.fst.traces import find_traces, read_trace
    from behavior.protocols import load_fst_protocol

    protocol = load_fst_protocol("mouse_fst")
    by_name = {p.name: p for p in paths}
    parts = dict(first_s=0.0, last_s=0.0, inside_s=0.0, extra_s=0.0)
    # each animal's smoothed mobility over its own threshold: deep in floating bouts
    # (1 s or more from either end), and while swimming
    levels: dict[str, list[float]] = {"floating": [], "swimming": []}
    fixed = {c: [] for c in FIXED_CUTOFFS}
    read = [read_trace(tp) for tp in find_traces(traces)]
    per_video: dict[str, int] = {}
    for trace in read:
        name = Path(str(trace.video)).name
        per_video[name] = per_video.get(name, 0) + 1
    for trace in read:
        path = by_name.get(Path(str(trace.video)).name)
        if path is None:
            continue
        truth = gen.load_truth(path)
        if per_video[path.name] != len(truth["animals"]):
            continue  # arenas counted wrong: left out, as in the set's figures
        trace = relabel_immobile(trace, protocol)
        animal = truth["animals"][trace.arena - 1]
        states = gen.states_from_runs(animal["runs"], truth["n_frames"])
        t = trace.table["time_s"].to_numpy()
        frames = np.clip(trace.table["frame"].to_numpy(), 0, len(states) - 1)
        floating = states[frames] == gen.FLOATING
        ours = trace.table["immobile"].to_numpy().astype(bool)
        step = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
        lo, hi = truth["window_s"]
        inside = (t >= lo) & (t < hi)
        since, until = _time_in_bout(t, floating, step)
        missed = inside & floating & ~ours
        parts["first_s"] += step * np.count_nonzero(missed & (since < 1.0))
        parts["last_s"] += step * np.count_nonzero(missed & (since >= 1.0) & (until < 0.5))
        parts["inside_s"] += step * np.count_nonzero(missed & (since >= 1.0) & (until >= 0.5))
        parts["extra_s"] += step * np.count_nonzero(inside & ~floating & ours)
        row = score_trace(trace, protocol).row()
        smoothed = smooth_mobility(t, trace.table["mobility"].to_numpy(float),
                                   protocol.smoothing_s) / float(row["threshold"])
        deep = inside & floating & (since >= 1.0) & (until >= 1.0)
        swimming = inside & (states[frames] == gen.SWIMMING)
        for name, where in (("floating", deep), ("swimming", swimming)):
            if np.isfinite(smoothed[where]).any():
                levels[name].append(float(np.nanmedian(smoothed[where])))
        for c in FIXED_CUTOFFS:
            row = score_trace(trace, dataclasses.replace(protocol, threshold=c)).row()
            fixed[c].append(float(row["immobility_s"]) - animal["immobility_s"])
    missed_s = parts["first_s"] + parts["last_s"] + parts["inside_s"]
    print(f"\nwhere the frames disagree (all animals, {lo:g}-{hi:g} s):")
    print(f"  floating scored as movement: {missed_s:.0f} s; of it in the first second of a "
          f"floating bout {parts['first_s']:.0f} s, in its last half second "
          f"{parts['last_s']:.0f} s, deeper inside {parts['inside_s']:.0f} s")
    print(f"  movement scored as floating: {parts['extra_s']:.0f} s")
    print("  each animal's smoothed mobility over its threshold, median (quartiles over "
          "animals):")
    for name, values in levels.items():
        if values:
            q = np.percentile(values, [25, 50, 75])
            print(f"    {name:<9} {q[1]:.2f} ({q[0]:.2f}-{q[2]:.2f})"
                  + ("  (deep in its bouts)" if name == "floating" else ""))
    print("one fixed cut-off for every animal (the same traces re-scored):")
    for c, errors in fixed.items():
        e = np.array(errors)
        if e.size:
            print(f"  {c:.2f}: MAE {np.abs(e).mean():6.2f} s, worst {np.abs(e).max():6.1f} s, "
                  f"mean {e.mean():+6.2f} s")


def _time_in_bout(t: np.ndarray, floating: np.ndarray, step: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """For each floating frame: time since its floating bout began, and until it ends
    (inf for frames not floating)."""
    since = np.full(t.size, np.inf)
    until = np.full(t.size, np.inf)
    edges = np.flatnonzero(np.diff(np.r_[0, floating.astype(np.int8), 0]))
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        since[start:end] = t[start:end] - t[start]
        until[start:end] = t[end - 1] + step - t[start:end]
    return since, until


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--videos", type=int, default=10)
    ap.add_argument("--cache", type=Path, default=HERE / ".cache-other")
    ap.add_argument("--per-animal", action="store_true",
                    help="print each animal's truth, score, error and warnings")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)

    specs = draw_set(args.seed, args.videos)
    paths, n_new, wall, cpu = ensure_rendered(specs, args.cache, args.seed, args.jobs)
    if n_new:
        print(f"rendered {n_new} videos in {wall:.0f} s wall ({cpu:.0f} s summed over jobs)")
    else:
        print(f"all {len(paths)} videos reused from {args.cache}")
    out_csv = args.cache / f"scores_s{args.seed}.csv"
    dt = score(paths, out_csv, args.jobs)
    print(f"scored {len(paths)} videos with one 'behavior fst score' call in {dt:.0f} s "
          f"-> {out_csv}")
    res = pd.read_csv(out_csv)
    df, mismatched = evaluate(paths, res)
    report(df, mismatched, len(paths), args.per_animal)
    where_it_errs(paths, args.cache / f"scores_s{args.seed}_traces")


if __name__ == "__main__":
    main()
