"""Bland–Altman plot of every pair of raters (matplotlib, no pyplot state)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from behavior.blinding.reliability import bland_altman
from behavior.stats.labels import axis_label, lower_first


def bland_altman_figure(pairs: Sequence[tuple[str, str, pd.DataFrame]],
                        behaviour: str = "immobility") -> Figure:
    """One panel per pair: difference (rater2 − rater1) against the mean, per video.

    ``pairs``: ``(rater1, rater2, table)`` with the table of
    :func:`behavior.blinding.agreement.pair_table` (``x_s`` rater1, ``y_s`` rater2).
    Lines: the bias and the 95 % limits of agreement (bias ± 1.96 SD). Axes are
    labelled in words (:func:`behavior.stats.labels.axis_label` of ``<behaviour>_s``).
    """
    seconds = axis_label(f"{behaviour}_s")
    n = max(1, len(pairs))
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(4.2 * cols, 3.6 * rows), layout="constrained")
    for i, (name1, name2, table) in enumerate(pairs):
        ax = fig.add_subplot(rows, cols, i + 1)
        x, y = table["x_s"].to_numpy(float), table["y_s"].to_numpy(float)
        ba = bland_altman(x, y)
        ax.scatter((x + y) / 2, y - x, s=18, color="black", zorder=3)
        for value, style in ((ba.bias, "-"), (ba.loa_low, "--"), (ba.loa_high, "--")):
            if np.isfinite(value):
                ax.axhline(value, color="tab:red", linestyle=style, linewidth=1)
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.margins(y=0.3)  # room for the text above the upper limit
        ax.set_title(f"{name2} − {name1}", fontsize=9)
        ax.set_xlabel(f"Mean {lower_first(seconds)}")
        ax.set_ylabel(f"Difference {seconds[seconds.rfind('('):]}" if "(" in seconds
                      else "Difference")
        ax.text(0.02, 0.97, f"bias {ba.bias:.1f} s\nLoA {ba.loa_low:.1f} to {ba.loa_high:.1f} s",
                transform=ax.transAxes, va="top", fontsize=8)
    return fig
