"""Command-line sub-commands of this domain (argument parsing only)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this domain's sub-commands to the ``behavior`` parser."""
