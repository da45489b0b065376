"""Numbers written the way papers report them: p values, stars, test statistics."""

from __future__ import annotations

import math

#: Star thresholds (GraphPad Prism convention): p < threshold -> stars.
STAR_LEVELS = ((0.0001, "****"), (0.001, "***"), (0.01, "**"), (0.05, "*"))


def stars(p: float) -> str:
    """``ns``, ``*``, ``**``, ``***`` or ``****`` at 0.05 / 0.01 / 0.001 / 0.0001.

    Examples
    --------
    >>> [stars(p) for p in (0.2, 0.05, 0.049, 0.009, 0.0009, 0.00009)]
    ['ns', 'ns', '*', '**', '***', '****']
    """
    if p is None or not math.isfinite(p):
        return ""
    for threshold, mark in STAR_LEVELS:
        if p < threshold:
            return mark
    return "ns"


def format_p(p: float) -> str:
    """APA-style p: ``p = 0.004``, ``p < 0.001``; three decimals otherwise.

    Examples
    --------
    >>> format_p(0.0042), format_p(0.00002), format_p(0.5)
    ('p = 0.004', 'p < 0.001', 'p = 0.500')
    """
    if p is None or not math.isfinite(p):
        return "p = n/a"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def format_df(df: float) -> str:
    """Whole degrees of freedom as integers, corrected ones with up to two decimals."""
    if df is None or not math.isfinite(df):
        return "n/a"
    if abs(df - round(df)) < 1e-9:
        return str(int(round(df)))
    return f"{df:.2f}".rstrip("0").rstrip(".")


def format_number(x: float, digits: int = 2) -> str:
    """A statistic with ``digits`` decimals (``n/a`` when missing)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.{digits}f}"


def format_stat(name: str, value: float, df1: float | None = None, df2: float | None = None) -> str:
    """``F(3, 36) = 5.21``, ``t(17.3) = 2.45``, ``H(2) = 7.10``, ``U = 12.0``."""
    dfs = [format_df(d) for d in (df1, df2) if d is not None and math.isfinite(d)]
    head = f"{name}({', '.join(dfs)})" if dfs else name
    return f"{head} = {format_number(value)}"
