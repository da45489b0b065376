"""Command-line sub-commands of this domain (argument parsing only).

    behavior blind create|import|lock|unblind ...
    behavior agreement INPUT...
    behavior fst calibrate MANUAL... --traces DIR   (see :func:`register_fst_calibrate`)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from behavior.commandline import add_video_arguments, echo, video_paths
from behavior.errors import InputError

if TYPE_CHECKING:  # pandas is imported where used: the parser must build fast
    import pandas as pd


def register(sub: argparse._SubParsersAction) -> None:
    """Add this domain's sub-commands to the ``behavior`` parser."""
    blind = sub.add_parser("blind", help="blinded observer sessions",
                           description="Prepare, score, lock and unblind blinded sessions.")
    bsub = blind.add_subparsers(dest="blind_command", required=True, metavar="ACTION")

    p = bsub.add_parser("create", help="code videos into a blinded session",
                        description="Copy each video under a random code into SESSION_DIR "
                        "(remuxed without metadata), create the scoring database, and write "
                        "the key ONLY to KEY_FILE (outside SESSION_DIR).")
    add_video_arguments(p, "day1/*.avi")
    p.add_argument("--groups", required=True, metavar="GROUPS.csv",
                   help="columns video, subject, group (+ any factor columns)")
    p.add_argument("--out", required=True, metavar="SESSION_DIR", help="new or empty folder")
    p.add_argument("--key", required=True, metavar="KEY_FILE",
                   help="key file (.json, or .csv), outside SESSION_DIR; never overwritten")
    p.add_argument("--observers", metavar="A,B", help="observers, each gets a random order")
    p.add_argument("--protocol", default="mouse_fst",
                   help="FST protocol giving window, bins and duration (default mouse_fst)")
    p.add_argument("--behaviours", default="immobility", metavar="LIST",
                   help="states to score: immobility[,swimming,climbing]")
    p.add_argument("--points", metavar="LIST",
                   help="point events to mark with one key press and count, e.g. "
                        "head_shake,dive (default: the protocol's points, usually none)")
    p.add_argument("--min-bout", type=float, default=0.0, metavar="S",
                   help="minimum manual immobility bout in summaries (default 0: as scored)")
    p.set_defaults(func=_create)

    p = bsub.add_parser("import", help="add scores made elsewhere (interval CSV, BORIS export)",
                        description="Add one observer's intervals to the session and mark the "
                        "videos in the file finished for them. Every bad row is reported at "
                        "once and nothing is written unless all are good. Overlapping or "
                        "repeated intervals are merged into their union (each merge is listed); "
                        "--strict refuses them.")
    p.add_argument("session", metavar="SESSION_DIR")
    p.add_argument("intervals", metavar="INTERVALS.csv",
                   help="columns video, behaviour, start_s, end_s (video = code); a row with "
                   "only a video: scored, nothing seen")
    p.add_argument("--observer", required=True, metavar="NAME",
                   help="an observer of the session (see `blind status`)")
    p.add_argument("--new-observer", action="store_true",
                   help="add NAME as a new observer (otherwise an unknown name is refused)")
    p.add_argument("--replace", action="store_true",
                   help="replace this observer's earlier events on the videos in the file")
    p.add_argument("--unfinished", action="store_true",
                   help="do not mark the imported videos finished (scoring goes on)")
    p.add_argument("--strict", action="store_true",
                   help="refuse overlapping or repeated intervals instead of merging them")
    p.set_defaults(func=_import)

    p = bsub.add_parser("status", help="scoring progress per observer (no group shown)")
    p.add_argument("session", metavar="SESSION_DIR")
    p.set_defaults(func=_status)

    p = bsub.add_parser("audit", help="the audit log: who did what and when (for ARRIVE 2.0)")
    p.add_argument("session", metavar="SESSION_DIR")
    p.add_argument("--out", metavar="audit.csv", help="write the log as CSV")
    p.set_defaults(func=_audit)

    p = bsub.add_parser("lock", help="mark scoring finished; store a digest of all events")
    p.add_argument("session", metavar="SESSION_DIR")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="lock even if some videos are not marked finished")
    p.set_defaults(func=_lock)

    p = bsub.add_parser("unblind", help="join locked scores with the key")
    p.add_argument("session", metavar="SESSION_DIR")
    p.add_argument("--key", required=True, metavar="KEY_FILE")
    p.add_argument("--out", required=True, metavar="scores.csv")
    p.add_argument("--force", action="store_true",
                   help="unblind before the lock (recorded in the audit log)")
    p.add_argument("--combine", choices=("mean", "none"), default="mean",
                   help="mean: one row per animal, averaged over observers (default); "
                   "none: one row per observer and animal")
    p.add_argument("--observer", metavar="NAME", help="only this observer's scores")
    p.set_defaults(func=_unblind)

    p = sub.add_parser("agreement", help="agreement between observers and the auto-scorer",
                       description="Pairwise Pearson r, ICC(2,1), Bland-Altman and Cohen's "
                       "kappa on immobility; Fleiss' kappa for three raters or more.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="session folder, interval CSV (video, observer, behaviour, start_s, "
                   "end_s), traces folder or results CSV of `behavior fst score`")
    p.add_argument("--window", nargs=2, type=float, metavar=("START", "END"),
                   help="scored window in s (default: the session's, else the protocol's)")
    p.add_argument("--bin", type=float, default=1.0, metavar="S",
                   help="bin for kappa and %% agreement (default 1 s)")
    p.add_argument("--out", metavar="agreement.csv", help="pairwise table (also "
                   "<stem>_overall.csv with 3+ raters and <stem>_bland_altman.png)")
    p.add_argument("--plot", metavar="PNG", help="Bland-Altman plot (default beside --out)")
    p.add_argument("--protocol", metavar="PROTOCOL", default="mouse_fst",
                   help="protocol the traces are scored with (threshold, smoothing, minimum "
                   "bout), as `fst rescore` does (default mouse_fst)")
    p.add_argument("--behaviour", default="immobility",
                   help="behaviour compared: immobility, or swimming / climbing (the "
                        "observers' states of that name and the auto-scorer's)")
    p.add_argument("--strict", action="store_true",
                   help="refuse overlapping or repeated intervals of one observer instead of "
                   "merging them")
    p.set_defaults(func=_agreement)


def register_fst_calibrate(fst_subparsers: argparse._SubParsersAction) -> None:
    """Add ``calibrate`` to the ``behavior fst`` sub-commands."""
    p = fst_subparsers.add_parser(
        "calibrate", help="choose threshold and minimum bout from manual scores",
        description="Re-score saved traces over a grid of thresholds and minimum bouts, "
        "compare with manual scores, print the agreement curve and write a protocol file "
        "with the best values. With --behaviour climbing: the same for climb_height, "
        "against the observers' climbing.")
    p.add_argument("manual", nargs="+", metavar="MANUAL",
                   help="session folder(s) or interval CSV(s) (video, behaviour, start_s, "
                   "end_s[, observer])")
    p.add_argument("--traces", required=True, metavar="DIR",
                   help="traces of `behavior fst score --traces DIR`")
    p.add_argument("--protocol", default="mouse_fst", help="protocol to calibrate")
    p.add_argument("--out", metavar="protocol.yaml", help="calibrated protocol file")
    p.add_argument("--thresholds", metavar="LIST|START:STOP:STEP",
                   help="thresholds to try (default: 40 quantiles of the mobility)")
    p.add_argument("--min-bouts", default="0,0.5,1,1.5,2,3", metavar="LIST",
                   help="minimum bouts to try, s (default 0,0.5,1,1.5,2,3)")
    p.add_argument("--window", nargs=2, type=float, metavar=("START", "END"),
                   help="window compared (default: the protocol's)")
    p.add_argument("--bin", type=float, default=1.0, metavar="S", help="bin for kappa (1 s)")
    p.add_argument("--criterion", choices=("kappa", "icc", "pct_agreement"), default="kappa")
    p.add_argument("--curve", metavar="CSV", help="write the whole grid here")
    p.add_argument("--behaviour", choices=("immobility", "climbing"), default="immobility",
                   help="immobility: threshold and minimum bout; climbing: climb_height "
                        "(calibrate immobility first)")
    p.add_argument("--climb-heights", metavar="LIST|START:STOP:STEP",
                   help="climb_height values to try, in body sizes (default 0.05:0.6:0.025)")
    p.add_argument("--strict", action="store_true",
                   help="refuse overlapping or repeated intervals of one observer instead of "
                   "merging them")
    p.set_defaults(func=_calibrate)


# -- handlers ---------------------------------------------------------------------------
def _check_outputs(*paths: str | Path | None) -> None:
    """Before any work: each output's folder exists (or is created) and can be written."""
    from behavior.io.atomic import prepare_output

    for path in paths:
        if path:
            prepare_output(path)


def _write_csv(table: pd.DataFrame, path: str | Path) -> None:
    from behavior.blinding.tables import write_table

    write_table(table, path)  # whole or not at all


def _warn(lines, prefix: str = "warning") -> None:
    for line in lines:
        echo(f"behavior: {prefix}: {line}", file=sys.stderr)


def _numbers(text: str, what: str) -> list[float]:
    try:
        if ":" in text:
            start, stop, step = (float(v) for v in text.split(":"))
            n = int(round((stop - start) / step)) + 1
            return [round(start + i * step, 10) for i in range(n)]
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(what, f"expected numbers like 0.05,0.1 or 0.02:0.3:0.01, got {text!r}"
                         ) from None


def _create(args: argparse.Namespace) -> int:
    from behavior.blinding.create import create_session, remove_stale_staging
    from behavior.blinding.lock import observer_list
    from behavior.blinding.tables import match_groups, read_groups
    from behavior.io.atomic import prepare_folder
    from behavior.protocols import load_fst_protocol

    protocol = load_fst_protocol(args.protocol)
    videos = [Path(v) for v in video_paths(args.videos)]
    groups = match_groups(videos, read_groups(args.groups), args.groups)
    # said even if the creation then fails: what an earlier, interrupted run left
    _warn(remove_stale_staging(prepare_folder(Path(args.out).parent)), "note")
    made = create_session(videos, groups, args.out, args.key, protocol,
                          observers=observer_list(args.observers),
                          behaviours=observer_list(args.behaviours), min_bout_s=args.min_bout,
                          points=None if args.points is None else observer_list(args.points))
    _warn(made.cleaned, "note")
    echo(f"session {made.session_id}: {len(made.codes)} coded video(s) in {made.session_dir}")
    echo(f"key written to {made.key_path} — keep it away from the observers")
    if made.observers:
        echo(f"observers: {', '.join(made.observers)} (each has a random order)")
    for code, why in made.copied.items():
        echo(f"warning: {code}: {why} — its metadata was NOT stripped", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    from behavior.blinding.lock import import_intervals
    from behavior.blinding.tables import merge_overlaps, read_intervals

    table, merges = merge_overlaps(read_intervals(args.intervals), args.intervals,
                                   strict=args.strict)
    result = import_intervals(args.session, table, args.observer, args.intervals,
                              replace=args.replace, new_observer=args.new_observer,
                              finish=not args.unfinished)
    _warn(merges)
    echo(f"imported {sum(result.counts.values())} event(s) on {len(result.counts)} video(s) "
         f"for {args.observer}" + (" (a new observer)" if result.new_observer else ""))
    if result.finished:
        echo(f"marked finished for {args.observer}: {', '.join(result.finished)}")
    if result.unfinished:
        echo(f"not finished yet for {args.observer}: {len(result.unfinished)} video(s) "
             f"({', '.join(result.unfinished[:8])}{' ...' if len(result.unfinished) > 8 else ''})")
    return 0


def _status(args: argparse.Namespace) -> int:
    from behavior.blinding.lock import session_status

    status = session_status(args.session)
    echo(f"locked: {status.locked_at or 'no'}; events: {status.events}")
    for o in status.observers:
        echo(f"{o.observer}: {o.finished}/{o.assigned} videos finished")
    return 0


def _audit(args: argparse.Namespace) -> int:
    import pandas as pd

    from behavior.blinding import database as db

    _check_outputs(args.out)
    conn = db.open_database(args.session, readonly=True)
    try:
        log = pd.read_sql_query("SELECT at, observer, action, detail FROM audit ORDER BY id", conn)
    finally:
        conn.close()
    if args.out:
        _write_csv(log, args.out)
        echo(f"wrote {len(log)} audit record(s) to {args.out}")
    else:
        for r in log.itertuples(index=False):
            who = r.observer if isinstance(r.observer, str) else "-"
            echo(f"{r.at}  {who:<12} {r.action:<18} {r.detail}")
    return 0


def _lock(args: argparse.Namespace) -> int:
    from behavior.blinding.lock import lock_session

    result = lock_session(args.session, allow_incomplete=args.allow_incomplete)
    echo(f"locked at {result.locked_at}: {result.events} event(s)")
    echo(f"SHA-256 of the scores: {result.digest}")
    if result.incomplete:
        echo(f"warning: {len(result.incomplete)} video(s) were not marked finished",
             file=sys.stderr)
    return 0


def _unblind(args: argparse.Namespace) -> int:
    from behavior.blinding.key import read_key
    from behavior.blinding.lock import empty_value_notes, unblind

    _check_outputs(args.out)
    scores, digest = unblind(args.session, read_key(args.key), args.key, force=args.force,
                             combine=args.combine, observer=args.observer)
    _write_csv(scores, args.out)
    if digest is None:
        echo("warning: unblinded BEFORE the lock (--force); recorded in the audit log",
             file=sys.stderr)
    else:
        echo(f"digest verified: {digest}")
    empty = empty_value_notes(scores)
    _warn(f"empty values, not 0: {line}" for line in empty)
    echo(f"wrote {len(scores)} row(s) to {args.out}"
         + (f"; {len(empty)} with empty values (see the note column)" if empty else ""))
    return 0


def _agreement(args: argparse.Namespace) -> int:
    import pandas as pd

    from behavior.blinding.agreement import agreement
    from behavior.blinding.plots import bland_altman_figure
    from behavior.blinding.raters import load_raters
    from behavior.io.atomic import savefig
    from behavior.protocols import load_fst_protocol

    protocol = load_fst_protocol(args.protocol)
    if args.bin <= 0 or (args.window is not None and not args.window[0] < args.window[1]):
        raise InputError("--window/--bin", "expected START < END and a positive bin")
    out = Path(args.out) if args.out else None
    plot = Path(args.plot) if args.plot else (
        out.with_name(f"{out.stem}_bland_altman.png") if out else None)
    _check_outputs(out, plot)
    raters = load_raters(args.inputs, protocol, args.behaviour.lower(), strict=args.strict)
    for rater in raters:
        _warn(rater.notes)
    result = agreement(raters, tuple(args.window) if args.window else None, args.bin,
                       protocol.window_s)
    _warn(result.notes, "note")
    table, overall, window = result.pairs, result.overall, result.window_s
    echo(f"window {window[0]:g}–{window[1]:g} s, bins of {args.bin:g} s")
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        echo(table.drop(columns=["window_start_s", "window_end_s", "bin_s", "note"])
             .to_string(index=False, float_format=lambda v: f"{v:.3g}"))
        if overall is not None:
            echo(overall.drop(columns=["note"])
                 .to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    for frame in (table, overall):
        if frame is None:
            continue
        for _, row in frame.iterrows():
            if row["note"]:
                names = row["raters"] if "raters" in row else f"{row['rater1']} vs {row['rater2']}"
                _warn([f"{names}: {row['note']}"])
    if out is not None:
        _write_csv(table, out)
        if overall is not None:
            _write_csv(overall, out.with_name(f"{out.stem}_overall.csv"))
    if plot is not None:
        savefig(bland_altman_figure(result.tables, args.behaviour.lower()), plot, dpi=120)
        echo(f"Bland-Altman plot: {plot}")
    if result.empty:
        echo("behavior: error: some raters have nothing in common to compare; their measures "
             "are empty (see the note column)", file=sys.stderr)
        return 1
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    import pandas as pd

    from behavior.blinding.calibrate import calibrate, manual_raters
    from behavior.fst.traces import find_traces, read_trace
    from behavior.protocols import load_fst_protocol

    protocol = load_fst_protocol(args.protocol)
    _check_outputs(args.out, args.curve)
    manual = manual_raters(args.manual, args.behaviour, strict=args.strict)
    for rater in manual:
        _warn(rater.notes)
    traces = [read_trace(p) for p in find_traces(args.traces)]
    if not traces:
        raise InputError(args.traces, "no *.trace.csv files here")
    if args.behaviour == "climbing":
        return _calibrate_climbing(args, protocol, manual, traces)
    result = calibrate(
        manual, traces, protocol,
        thresholds=_numbers(args.thresholds, "--thresholds") if args.thresholds else None,
        min_bouts=_numbers(args.min_bouts, "--min-bouts"),
        window_s=tuple(args.window) if args.window else None, bin_s=args.bin,
        criterion=args.criterion)
    _warn(result.notes)
    echo(f"{len(result.videos)} video(s) scored by hand and by the auto-scorer; "
         f"criterion {result.criterion}")
    curve = result.curve[result.curve["min_bout_s"] == result.min_bout_s]
    echo(f"agreement curve at min_bout_s = {result.min_bout_s:g}:")
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        shown = curve.drop(columns=["min_bout_s", "n_videos", "n_bins"]).copy()
        shown[""] = ["<- chosen" if t == result.threshold else "" for t in shown["threshold"]]
        echo(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    b = result.best
    echo(f"chosen: threshold {result.threshold:g}, min_bout_s {result.min_bout_s:g} "
         f"(kappa {b['kappa']:.3f}, {b['pct_agreement']:.1f} % agreement, ICC {b['icc']:.3f}, "
         f"bias {b['bias_s']:.2f} s, mean |difference| {b['mean_abs_diff_s']:.2f} s per video)")
    echo(result.versus_automatic)
    if result.automatic_scores:
        echo(result.automatic_scores)
    _write_calibration(args, protocol, result)
    return 0


def _calibrate_climbing(args: argparse.Namespace, protocol, manual, traces) -> int:
    import pandas as pd

    from behavior.blinding.calibrate import DEFAULT_CLIMB_HEIGHTS, calibrate_climbing

    heights = (_numbers(args.climb_heights, "--climb-heights") if args.climb_heights
               else DEFAULT_CLIMB_HEIGHTS)
    result = calibrate_climbing(manual, traces, protocol, heights=heights,
                                window_s=tuple(args.window) if args.window else None,
                                bin_s=args.bin, criterion=args.criterion)
    _warn(result.notes)
    echo(f"{len(result.videos)} video(s) with climbing scored by hand and by the auto-scorer; "
         f"criterion {result.criterion}")
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        shown = result.curve.drop(columns=["n_videos", "n_bins"]).copy()
        shown[""] = ["<- chosen" if h == result.climb_height else ""
                     for h in shown["climb_height"]]
        echo(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    b = result.best
    echo(f"chosen: climb_height {result.climb_height:g} (kappa {b['kappa']:.3f}, "
         f"{b['pct_agreement']:.1f} % agreement, ICC {b['icc']:.3f}, bias {b['bias_s']:.2f} s)")
    _write_calibration(args, protocol, result)
    return 0


def _write_calibration(args: argparse.Namespace, protocol, result) -> None:
    from behavior.blinding.calibrate import calibrated_protocol_text
    from behavior.io.atomic import write_text

    if args.curve:
        _write_csv(result.curve, args.curve)
    if args.out:
        text = calibrated_protocol_text(protocol, result, [str(m) for m in args.manual])
        write_text(args.out, text)
        echo(f"protocol written to {args.out}")
