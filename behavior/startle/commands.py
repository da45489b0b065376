"""Command-line sub-commands of this domain (argument parsing only).

behavior ppi analyze FILE... [--protocol P] [--format auto] [--out ppi.csv] [--trials trials.csv]
behavior ppi trials FILE... [--protocol P] [--format auto] [--out trials.csv]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from behavior.commandline import echo
from behavior.errors import InputError

DEFAULT_PROTOCOL = "ppi_srlab"


def register(sub: argparse._SubParsersAction) -> None:
    """Add this domain's sub-commands to the ``behavior`` parser."""
    from behavior.startle.choices import LAYOUTS, NEGATIVE_POLICIES, PPI_METHODS

    ppi = sub.add_parser(
        "ppi", help="acoustic startle and prepulse inhibition (%%PPI) from startle-chamber files"
    )
    ppi_sub = ppi.add_subparsers(dest="ppi_command", required=True, metavar="ACTION")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("files", nargs="+", metavar="FILE", help="startle files (many are merged)")
        p.add_argument(
            "--protocol",
            default=DEFAULT_PROTOCOL,
            help=f"protocol YAML file or shipped name (default: {DEFAULT_PROTOCOL}; "
            "also ppi_four_block)",
        )
        p.add_argument(
            "--format",
            default="auto",
            choices=LAYOUTS,
            help="file layout (default: detect from columns)",
        )
        p.add_argument(
            "--onset-ms",
            type=float,
            help="pulse onset on the files' time axis (ms), overrides the protocol",
        )
        p.add_argument(
            "--window-ms",
            type=float,
            nargs=2,
            metavar=("START", "END"),
            help="response window after onset (ms)",
        )

    a = ppi_sub.add_parser(
        "analyze",
        help="%%PPI, startle, habituation and no-stim baseline per animal x prepulse level",
        description="Read startle files, measure amplitudes, apply the protocol and exclusions, "
        "and write one row per animal x prepulse level.",
    )
    common(a)
    a.add_argument(
        "--out", default="ppi.csv", help="per-animal table (default: ppi.csv; '-' for stdout)"
    )
    a.add_argument("--trials", help="also write the per-trial table (for mixed models)")
    a.add_argument("--method", choices=PPI_METHODS, help="%%PPI method, overrides the protocol")
    a.add_argument(
        "--negative",
        choices=NEGATIVE_POLICIES,
        help="negative %%PPI policy, overrides the protocol",
    )
    a.set_defaults(func=_analyze)

    t = ppi_sub.add_parser(
        "trials",
        help="per-trial amplitudes (Vmax, Vavg, peak-to-peak, latency, baseline) without %%PPI",
        description="Read startle files and write one row per trial with the measured amplitudes.",
    )
    common(t)
    t.add_argument(
        "--out", default="trials.csv", help="per-trial table (default: trials.csv; '-' for stdout)"
    )
    t.set_defaults(func=_trials)



def _protocol(args: argparse.Namespace):
    from behavior.errors import ProtocolError
    from behavior.startle.protocol import load_startle_protocol

    protocol = load_startle_protocol(args.protocol)
    amplitude = protocol.amplitude
    if args.onset_ms is not None:
        amplitude = dataclasses.replace(amplitude, onset_ms=args.onset_ms)
    if args.window_ms is not None:
        if not 0 <= args.window_ms[0] < args.window_ms[1]:
            raise ProtocolError(
                "--window-ms", "window_ms", f"expected 0 <= START < END, got {args.window_ms}"
            )
        amplitude = dataclasses.replace(amplitude, window_ms=tuple(args.window_ms))
    changes = {"amplitude": amplitude}
    if getattr(args, "method", None):
        if args.method == "per_block" and not protocol.blocks:
            raise ProtocolError(protocol.source, "ppi_method", "per_block needs blocks")
        changes["ppi_method"] = args.method
    if getattr(args, "negative", None):
        changes["negative_ppi"] = args.negative
    return dataclasses.replace(protocol, **changes)


def _read_all(args: argparse.Namespace) -> tuple[list, int]:
    from behavior.io.startle_registry import read_startle_file

    recordings, failed = [], 0
    for name in args.files:
        try:
            recordings.append(read_startle_file(name, args.format))
        except InputError as exc:
            failed += 1
            echo(f"behavior: {exc}", file=sys.stderr)
    return recordings, failed


def _check_outputs(*targets: str | None) -> None:
    """Before any work: each output's folder exists (or is created) and can be written."""
    from behavior.io.atomic import prepare_output

    for target in targets:
        if target and target != "-":
            prepare_output(target)


def _write(frame, target: str) -> None:
    if target == "-":
        try:
            frame.to_csv(sys.stdout, index=False, lineterminator="\n")
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. piped into `head`
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    else:
        from behavior.io.atomic import write_csv

        write_csv(frame, target)  # whole or not at all: never a table cut mid-row


def _analyze(args: argparse.Namespace) -> int:
    from behavior.startle.pipeline import analyze_recordings
    from behavior.startle.ppi import EXCLUDED, SUBJECT

    protocol = _protocol(args)
    _check_outputs(args.out, args.trials)
    recordings, failed = _read_all(args)
    if not recordings:
        echo(f"behavior: no file could be read ({failed} failed)", file=sys.stderr)
        return 1
    result = analyze_recordings(recordings, protocol)
    for w in result.warnings:
        echo(f"behavior: warning: {w}", file=sys.stderr)
    _write(result.summary, args.out)
    if args.trials:
        _write(result.trials, args.trials)
    animals = result.summary.drop_duplicates(SUBJECT)
    if args.out != "-":
        echo(
            f"{len(animals)} animals ({int(animals[EXCLUDED].sum())} excluded), "
            f"{len(result.trials)} trials from {len(recordings)} files -> {args.out}"
            + (f", {args.trials}" if args.trials else "")
        )
    if failed:
        echo(f"behavior: {failed} of {len(args.files)} files could not be read", file=sys.stderr)
        return 1
    return 0


def _trials(args: argparse.Namespace) -> int:
    from behavior.startle.pipeline import measured_trials
    from behavior.startle.ppi import classify_trials

    protocol = _protocol(args)
    _check_outputs(args.out)
    recordings, failed = _read_all(args)
    if not recordings:
        echo(f"behavior: no file could be read ({failed} failed)", file=sys.stderr)
        return 1
    trials, warnings, duplicated = measured_trials(recordings, protocol)
    trials, notes = classify_trials(trials, protocol)
    for w in [*warnings, *notes]:
        echo(f"behavior: warning: {w}", file=sys.stderr)
    _write(trials, args.out)
    if args.out != "-":
        echo(f"{len(trials)} trials from {len(recordings)} files -> {args.out}")
    if failed:
        echo(f"behavior: {failed} of {len(args.files)} files could not be read", file=sys.stderr)
        return 1
    return 0
