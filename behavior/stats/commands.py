"""Command-line sub-commands of this domain (argument parsing only)."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from behavior.commandline import echo
from behavior.errors import AnalysisError, InputError


def register(sub: argparse._SubParsersAction) -> None:
    """Add this domain's sub-commands to the ``behavior`` parser."""
    p = sub.add_parser(
        "stats",
        help="group statistics, figures and a report from a results table",
        description="Join a results table (unblinded scores, PPI output, forced swim results) "
        "with a groups table, run the test the design calls for (Welch t, one-way ANOVA + "
        "Dunnett/Tukey, Kruskal-Wallis + Dunn, two-way ANOVA + Sidak, mixed ANOVA with "
        "Greenhouse-Geisser), and write tables, figures and report.html.",
    )
    p.add_argument("results", metavar="RESULTS.csv", help="tidy results table (.csv/.tsv/.xlsx)")
    p.add_argument(
        "--groups",
        metavar="GROUPS.csv",
        help="subject (or video + arena) -> factor columns; omit when RESULTS "
        "already has the factor columns",
    )
    p.add_argument("--value", required=True, metavar="COLUMN", help="column to analyse")
    p.add_argument(
        "--between",
        nargs="+",
        metavar="FACTOR",
        help="one or two between-subject factors (default: group)",
    )
    p.add_argument(
        "--within", metavar="FACTOR", help="within-subject factor, long layout (e.g. prepulse_db)"
    )
    p.add_argument(
        "--control",
        metavar="LEVEL",
        help="control level (Dunnett's test; reference of comparisons)",
    )
    p.add_argument(
        "--test",
        choices=("welch", "mannwhitney", "anova", "kruskal", "mixed"),
        help="override the automatic choice of test",
    )
    p.add_argument(
        "--posthoc",
        choices=("dunnett", "tukey", "dunn", "sidak", "none"),
        help="override the post hoc test",
    )
    p.add_argument(
        "--anova-type",
        type=int,
        choices=(2, 3),
        default=2,
        help="sums of squares of the two-way ANOVA (default: 2)",
    )
    p.add_argument("--subject", metavar="COLUMN", help="key column when it is not called 'subject'")
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="keep only rows with this value (repeatable), e.g. pulse_db=120",
    )
    p.add_argument("--out", metavar="DIR", default="stats", help="output folder (default: ./stats)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.set_defaults(func=run_stats)



def run_stats(args: argparse.Namespace) -> int:
    from behavior.io.atomic import prepare_folder
    from behavior.stats.analysis import DataWarning, analyze
    from behavior.stats.readers import read_table
    from behavior.stats.report import write_report

    prepare_folder(args.out)  # a read-only or full output folder fails before the analysis
    results = read_table(args.results)
    groups = read_table(args.groups) if args.groups else None
    if args.value not in results.columns:
        raise InputError(
            args.results,
            f"no column '{args.value}' to analyse; columns are: " + ", ".join(results.columns),
            line=1,
        )
    where = {}
    for item in args.where:
        col, sep, val = item.partition("=")
        if not sep or not col.strip():
            raise AnalysisError(f"--where expects COLUMN=VALUE, got '{item}'")
        where[col.strip()] = val.strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        try:
            result = analyze(
                results,
                groups,
                value=args.value,
                between=args.between,
                within=args.within,
                control=args.control,
                test=args.test,
                posthoc=args.posthoc,
                anova_type=args.anova_type,
                subject=args.subject,
                where=where,
            )
        except AnalysisError as exc:
            inputs = args.results + (f" + {args.groups}" if args.groups else "")
            raise AnalysisError(f"{inputs}: {exc}") from exc
    for w in result.warnings:
        echo(f"behavior stats: warning: {w}", file=sys.stderr)
    written = write_report(result, args.out, figures=not args.no_figures)
    for m in result.methods:
        echo(m)
    for a in result.advice:
        echo(f"note: {a}")
    echo(f"wrote {len(written)} files to {Path(args.out)} (open report.html)")
    return 0
