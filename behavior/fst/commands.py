"""``behavior fst ...``: score videos, re-score traces (argument parsing only)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from behavior.commandline import (
    add_video_arguments,
    echo,
    echo_notices,
    error_line,
    video_paths,
)
from behavior.errors import ProtocolError
from behavior.parallel import usable_cores
from behavior.protocols import load_fst_protocol

if TYPE_CHECKING:
    from behavior.protocols import FstProtocol

DEFAULT_PROTOCOL = "mouse_fst"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def _auto_or_float(text: str) -> float | str:
    try:
        return "auto" if text == "auto" else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto or a number, got {text}") from None


def _starts(text: str) -> float | tuple[float, ...]:
    """``--start-s`` and ``--end-s``: seconds, or one per arena separated by commas."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if not values or not all(v >= 0 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected seconds >= 0, or one per arena like 4.5,12,19.5; got {text}")
    return values[0] if len(values) == 1 else tuple(values)


def _jobs(text: str) -> int | str:
    return "auto" if text == "auto" else _positive_int(text)


def _add_protocol_options(p: argparse.ArgumentParser) -> None:
    """``--protocol`` and ``--set KEY=VALUE`` (read by :func:`_protocol`)."""
    p.add_argument("--protocol", default=DEFAULT_PROTOCOL,
                   help="protocol YAML file, or the name of a shipped one "
                        "(mouse_fst, mouse_tst, rat_modified_fst); default mouse_fst")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                   help="override any protocol key, e.g. --set animal=light --set "
                        "blur_px=1 (YAML values; repeatable)")


#: Protocol keys that have an option of their own (read when the command has it).
_NAMED_OVERRIDES = ("threshold", "min_bout_s", "smoothing_s", "window_s", "bin_s", "shake_px")


def _add_scoring_overrides(p: argparse.ArgumentParser) -> None:
    _add_protocol_options(p)
    p.add_argument("--threshold", type=float, help="override: mobility at or below which a "
                   "frame is immobile")
    p.add_argument("--min-bout-s", type=float, help="override: shortest immobility bout (s)")
    p.add_argument("--smoothing-s", type=float, help="override: moving-median width (s)")
    p.add_argument("--window-s", type=float, nargs=2, metavar=("START", "END"),
                   help="override: scored window from the test start (s)")
    p.add_argument("--bin-s", type=float, help="override: bin width (s)")


def _setting(text: str) -> tuple[str, object]:
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ProtocolError("--set", text, "expected KEY=VALUE, e.g. animal=light")
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError:
        return key.strip(), value


def _rects(args: argparse.Namespace) -> list[tuple[int, int, int, int]] | None:
    from behavior.fst.arenas import parse_rects

    return parse_rects(args.arena_rects) if args.arena_rects else None


def _protocol(args: argparse.Namespace) -> FstProtocol:
    protocol = load_fst_protocol(args.protocol)
    settings = dict(_setting(t) for t in args.settings)
    known = set(protocol.to_dict())
    for key in settings:
        if key not in known:
            raise ProtocolError("--set", key, "not a protocol key; known keys: "
                                + ", ".join(sorted(known)))
    named = {k: getattr(args, k, None) for k in _NAMED_OVERRIDES}
    named = {k: v for k, v in named.items() if v is not None}
    # all at once: the file's values are checked against the new ones together
    # (e.g. --set duration_s=55 with --window-s 10 50), not one change at a time
    try:
        return protocol.with_overrides(**{**settings, **named})
    except ProtocolError as exc:
        if exc.key in settings and exc.key not in named:
            raise ProtocolError("--set", exc.key, exc.problem) from None
        raise


def _add_arena_options(p: argparse.ArgumentParser) -> None:
    """Where the arenas are and where the test starts (fst score and fst split)."""
    p.add_argument("--arenas", type=_positive_int, metavar="N",
                   help="number of cylinders per frame "
                        "(found automatically; counted from the animals if not given)")
    p.add_argument("--arena-rects", metavar="X,Y,W,H;...", help="arena rectangles in pixels "
                   "(else <video>.arenas.yaml next to each video, else found automatically)")
    p.add_argument("--start-s", type=_starts, metavar="S[,S...]",
                   help="where the test starts in every video (s), or one time per arena "
                        "from left to right, e.g. 4.5,12,19.5 (animals put in one after "
                        "the other); earlier frames are left out; default 0 or start_s in "
                        "<video>.arenas.yaml")


def register(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """Add ``behavior fst ...``; returns its sub-parsers (``fst calibrate`` is added
    to them by the blinding domain)."""
    fst = sub.add_parser("fst", help="forced swim / tail suspension test from video",
                         description="Forced swim and tail suspension tests: score immobility "
                                     "from video.")
    fst_sub = fst.add_subparsers(dest="fst_command", required=True, metavar="COMMAND")

    score = fst_sub.add_parser(
        "score", help="track and score videos",
        description="Track the animal in each arena of each video and score immobility. "
                    "Writes one results row per video x arena and per-frame traces for "
                    "re-scoring without decoding.")
    add_video_arguments(score)
    _add_scoring_overrides(score)
    _add_arena_options(score)
    score.add_argument("--background", metavar="IMAGE",
                       help="image of the empty apparatus, for animals that stay in one place "
                            "(tail suspension); else 'background' in <video>.arenas.yaml, else "
                            "the median of frames sampled over the video")
    score.add_argument("--shake-px", type=_auto_or_float, metavar="auto|R",
                       help="override: camera shake tolerated (px): auto (measure it), "
                            "or a radius; 0 for a rock-steady camera")
    score.add_argument("--out", default="results.csv", help="results CSV (default results.csv)")
    score.add_argument("--traces", metavar="DIR",
                       help="folder for per-frame traces (default: <out>_traces next to --out)")
    score.add_argument("--jobs", type=_jobs, default="auto", metavar="N",
                       help="CPU cores to keep busy (default auto: every core this process "
                            "may use): N videos at a time, one core each; 1 uses exactly one "
                            "core; a single video on 2+ cores is decoded and tracked in two "
                            "threads")
    score.add_argument("--end-s", type=_starts, metavar="S[,S...]",
                       help="where the test ended in every video (s, as --start-s), or one "
                            "time per arena, when before the protocol's duration (the "
                            "animal taken out early); default end_s in <video>.arenas.yaml")
    score.add_argument("--resume", action="store_true",
                       help="score from the traces already in the traces folder where they "
                            "were made from the same file with the same tracking settings "
                            "(an interrupted batch goes on where it stopped; a new threshold "
                            "needs no decoding); the other videos are tracked")
    score.add_argument("--scheduler", metavar="ADDRESS",
                       help="score on a Dask cluster, one task per video: a running "
                            "scheduler's address (tcp://HOST:8786), its scheduler file "
                            "(*.json), or 'local' to start --jobs worker processes here "
                            "(with an address, --jobs is not used: the workers are the "
                            "cluster's); "
                            "the workers must see the videos and the traces folder at the "
                            "same paths (needs pip install \"behavior[cluster]\")")
    score.add_argument("--no-progress", action="store_true", help="no progress bar")
    score.set_defaults(func=run_score)

    rescore = fst_sub.add_parser(
        "rescore", help="score saved traces again with other parameters (no decoding)",
        description="Re-score the per-frame traces written by 'fst score' with another "
                    "protocol or overrides; the videos are not needed.")
    rescore.add_argument("traces_dir", metavar="TRACES_DIR")
    _add_scoring_overrides(rescore)
    rescore.add_argument("--out", required=True, help="results CSV")
    rescore.set_defaults(func=run_rescore)

    split = fst_sub.add_parser(
        "split", help="one video per arena (for blinded manual scoring)",
        description="Crop each arena (cylinder) of each video into its own H.264 file "
                    "<stem>_arena<N>.mp4, with the original frame times, so each animal can "
                    "be coded and scored on its own ('behavior blind create').")
    add_video_arguments(split)
    split.add_argument("--out", required=True, metavar="DIR", help="folder for the arena videos")
    _add_arena_options(split)
    split.add_argument("--duration-s", type=float, metavar="S",
                       help="length of the test: each arena's video ends S seconds after "
                            "its start (default: at the end of the recording; mouse FST 360)")
    split.add_argument("--crf", type=int, default=18,
                       help="H.264 quality, lower is better (default 18, visually lossless)")
    split.set_defaults(func=run_split)

    preview = fst_sub.add_parser(
        "preview", help="a picture of the arenas and the animals found, to check before "
                        "scoring (<stem>_arenas.png per video)")
    add_video_arguments(preview)
    preview.add_argument("--out", required=True, metavar="DIR", help="folder for the pictures")
    _add_arena_options(preview)
    _add_protocol_options(preview)
    preview.set_defaults(func=run_preview)

    return fst_sub


def run_score(args: argparse.Namespace) -> int:
    args.videos = video_paths(args.videos)
    protocol = _protocol(args)
    n_jobs = args.jobs if args.jobs != "auto" else usable_cores()
    if getattr(args, "scheduler", None):
        return _score_on_cluster(args, protocol, n_jobs)
    pool = helper = None
    if n_jobs > 1 and args.videos:
        from behavior.parallel import LocalPool, start_workers

        # started before this process imports the scoring code, so the workers'
        # imports overlap its own. Several videos: this process and n - 1 workers,
        # a video each; one video: one worker, for the second half of a long test
        if len(args.videos) > 1:
            pool = LocalPool(min(n_jobs, len(args.videos)))
        else:
            helper = start_workers(1, "behavior.fst.batch")
    try:
        return _score(args, protocol, n_jobs, pool, helper)
    finally:
        for executor in (pool, helper):
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)


def _score_on_cluster(args: argparse.Namespace, protocol: FstProtocol, n_jobs: int) -> int:
    """``--scheduler``: the batch as one Dask task per video (Dask imported only here)."""
    import logging

    from behavior.cluster import connect, require_distributed

    require_distributed()  # a missing Dask is said before anything else
    if logging.getLogger().getEffectiveLevel() > logging.INFO:  # not --verbose
        # Dask says every worker's arrival and departure at INFO; only problems here
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if not args.videos:
        return _score(args, protocol, n_jobs, None, None)
    with connect(args.scheduler, n_workers=n_jobs) as cluster:
        workers = cluster.workers()
        echo(f"behavior: scoring on the Dask cluster at {cluster.scheduler}: "
             f"{len(workers)} workers, {sum(workers.values())} threads"
             + (" (waiting for workers to join)" if not workers else "")
             + (f"; dashboard {cluster.dashboard}" if cluster.dashboard else ""),
             file=sys.stderr)
        return _score(args, protocol, n_jobs, cluster, None, cluster.log_extra())


def _failure_line(r, on_cluster: bool) -> str:
    """A video that could not be scored, as one line (on a cluster: which worker)."""
    said = not on_cluster or not r.worker or r.worker in r.error.message
    where = "" if said else f"; worker {r.worker}"
    message = r.error.message if r.error.message.startswith(r.path) else \
        f"{r.path}: {r.error.message}"
    return f"{error_line(message)} (skipped{where})"


def _score(args: argparse.Namespace, protocol: FstProtocol, n_jobs: int, pool,
           helper, log_extra: dict | None = None) -> int:
    from tqdm import tqdm

    from behavior.errors import BehaviorError
    from behavior.fst.batch import make_jobs, score_batch
    from behavior.io.video import probe

    if n_jobs <= 1:  # one core means OpenCV's own thread pool too
        import cv2

        cv2.setNumThreads(1)
    rects = _rects(args)
    out = Path(args.out)
    traces = Path(args.traces) if args.traces else out.with_name(out.stem + "_traces")
    jobs = make_jobs(args.videos, arenas=rects, n_arenas=args.arenas, start_s=args.start_s,
                     end_s=args.end_s, background=args.background)
    if n_jobs <= 1:
        jobs = [job.on_one_core() for job in jobs]

    show = not args.no_progress and sys.stderr.isatty()
    on_cluster = log_extra is not None
    if pool is not None:  # videos in parallel: count finished videos
        bar = tqdm(total=len(jobs), unit="video", disable=not show, file=sys.stderr)
        # a cluster's batch may run for hours, its output often a file: each video's
        # end is said as it comes (a bar on a terminal, else a line), failures at once
        lines = on_cluster and not show and not args.no_progress

        def progress(step) -> None:
            if step.result is None:
                return
            bar.update(1)
            r = step.result
            if on_cluster and r.error is not None:
                tqdm.write(_failure_line(r, True), file=sys.stderr)
            elif lines:
                echo(f"behavior: {step.done}/{step.total} {r.path} "
                     f"({r.worker}, {r.seconds:.1f} s)", file=sys.stderr)
    else:  # one video at a time here: count the video time tracked
        durations: dict[str, float] = {}
        for job in jobs if show else []:
            try:
                d = probe(job.path).duration_s
                durations[job.path] = d if d == d else 0.0
            except BehaviorError:
                durations[job.path] = 0.0
        bar = tqdm(total=round(sum(durations.values())), unit="s", disable=not show,
                   file=sys.stderr, desc="video time")
        done = {"base": 0.0, "last": 0.0}

        def progress(step) -> None:
            if step.result is not None:
                done["base"] += durations.get(step.video, 0.0)
                done["last"] = 0.0
                bar.n = round(done["base"])
                bar.refresh()
            elif step.time_s is not None and step.time_s - done["last"] >= 1.0:
                done["last"] = step.time_s
                bar.n = round(done["base"] + step.time_s)
                bar.refresh()

    try:
        batch = score_batch(jobs, protocol, out, traces,
                            submit=pool.submit if pool is not None else None,
                            progress=progress, resume=args.resume, helper=helper,
                            command=getattr(args, "argv", sys.argv[1:]), log_extra=log_extra)
    finally:
        bar.close()
    echo_notices(batch.notices)
    for r in batch.failed if not on_cluster else []:  # a cluster's were said as they came
        echo(_failure_line(r, False), file=sys.stderr)
    n_ok = len(batch.results) - len(batch.failed)
    reused = sum(r.reused for r in batch.results)
    again = f", {reused} from the traces of an earlier run" if reused else ""
    echo(f"scored {n_ok} of {len(jobs)} videos{again} ({batch.n_animals} animals"
         f"{_warned(batch.n_warned)}) -> {out}; traces in {traces}/; log {batch.log}",
         file=sys.stderr)
    return batch.exit_status


def _warned(count: int, before: str = ", ", after: str = "") -> str:
    """How many rows have warnings, for the last line of a run ("" if none): in a
    batch of hundreds of videos the warnings printed above scroll away."""
    return f"{before}{count} with warnings: see the warnings column{after}" if count else ""


def _each_video(args: argparse.Namespace, work) -> int:
    """``work(video, name)`` for every video of the command line (``name``: the
    start of its output files' names, unique in the batch); a failure is reported
    and the rest are done. ``work`` returns the line to print. Exit status 1 if any
    failed."""
    from behavior.errors import BehaviorError
    from behavior.io.names import unique_stems

    failed = 0
    videos = video_paths(args.videos)
    for video, name in zip(videos, unique_stems(videos), strict=True):
        try:
            echo(work(video, name), file=sys.stderr)
        except BehaviorError as exc:
            echo(error_line(exc) + " (skipped)", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def run_split(args: argparse.Namespace) -> int:
    from behavior.fst.split import split_video

    rects = _rects(args)

    def split(video: str, name: str) -> str:
        found: list = []
        written = split_video(video, args.out, rects=rects, n_arenas=args.arenas,
                              start_s=args.start_s, crf=args.crf, duration_s=args.duration_s,
                              name=name, warnings=found)
        echo_notices(found)
        return (f"{video}: {len(written)} arena{'' if len(written) == 1 else 's'} -> "
                + ", ".join(str(p) for p in written))

    return _each_video(args, split)


def run_preview(args: argparse.Namespace) -> int:
    from behavior.fst.preview import preview_video

    protocol, rects = _protocol(args), _rects(args)

    def preview(video: str, name: str) -> str:
        found: list = []
        path = preview_video(video, args.out, rects=rects, n_arenas=args.arenas,
                             start_s=args.start_s, protocol=protocol, name=name,
                             warnings=found)
        echo_notices(found)
        return f"{video} -> {path}"

    from behavior.io.atomic import prepare_folder

    prepare_folder(args.out)
    return _each_video(args, preview)


def run_rescore(args: argparse.Namespace) -> int:
    from behavior.fst.batch import now_utc, write_run_log
    from behavior.fst.scoring import rescore_dir, write_table
    from behavior.io.atomic import prepare_folder

    protocol = _protocol(args)
    out = Path(args.out)
    prepare_folder(out.parent)
    started = now_utc()
    table, errors, found = rescore_dir(args.traces_dir, protocol)
    echo_notices(found)
    for e in errors:
        echo(error_line(e.message) + " (skipped)", file=sys.stderr)
    write_table(table, out)
    log = write_run_log(out, protocol, "finished", started, now_utc(),
                        getattr(args, "argv", sys.argv[1:]),
                        {"traces_scored": len(table), "traces_failed": len(errors)}, errors,
                        found)
    warned = int((table["warnings"] != "").sum())
    echo(f"re-scored {len(table)} traces{_warned(warned, ' (', ')')} -> {out}; log {log}",
         file=sys.stderr)
    return 1 if errors else 0
