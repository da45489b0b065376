"""Publication figures: mean ± SEM with every animal as a dot, and significance stars.

Figures are built with the object API (:class:`matplotlib.figure.Figure`), so no
display and no global pyplot state are involved; saving is left to the writer.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from behavior.stats.analysis import StatsResult
from behavior.stats.design import SUBJECT
from behavior.stats.formatting import stars
from behavior.stats.labels import axis_label

#: Colour-blind-safe palette (Okabe & Ito 2008).
PALETTE = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#F0E442")
#: Seed of the horizontal jitter of the dots (figures are reproducible).
JITTER_SEED = 0


def _mean_sem(x: np.ndarray) -> tuple[float, float]:
    sem = float(np.std(x, ddof=1) / math.sqrt(len(x))) if len(x) > 1 else 0.0
    return float(np.mean(x)), sem


def _jitter(n: int, width: float, rng: np.random.Generator) -> np.ndarray:
    if n <= 1:
        return np.zeros(n)
    return (rng.permutation(n) / (n - 1) - 0.5) * width


def _bracket(ax, x1: float, x2: float, y: float, h: float, text: str) -> None:
    ax.plot([x1, x1, x2, x2], [y, y + h, y + h, y], color="black", linewidth=0.8)
    ax.text((x1 + x2) / 2, y + h, text, ha="center", va="bottom", fontsize=9 if text != "ns" else 8)


def _which_brackets(posthoc: pd.DataFrame, n_groups: int) -> pd.DataFrame:
    if posthoc.empty:
        return posthoc
    if len(posthoc) > 3 and n_groups > 3:
        # all-pairs with many groups: only the significant ones, to stay readable
        return posthoc[posthoc["p_adj"] < 0.05]
    return posthoc


def dot_bar_figure(result: StatsResult) -> Figure:
    """Mean ± SEM bars, animals as dots, stars from the post hoc table.

    One between factor: one bar per group. Two factors: bars of the compared
    factor side by side within each level of the other factor.
    """
    d = result.design
    value = d.value
    data = d.data
    rng = np.random.default_rng(JITTER_SEED)
    if len(d.between) == 2:
        treat = d.control_factor or d.between[0]
        other = d.between[1] if treat == d.between[0] else d.between[0]
        outer, inner = d.levels[other], d.levels[treat]
    else:
        treat, other = d.between[0], None
        outer, inner = ("",), d.levels[treat]
    width = 0.8 / len(inner) if other else 0.7
    extra = 1.3 if other else 0.0  # room for the legend
    fig = Figure(figsize=(max(2.4, 0.75 * len(outer) * len(inner) + 1.2) + extra, 3.6), dpi=150)
    ax = fig.add_subplot()
    positions: dict[tuple[str, str], float] = {}
    top = -np.inf
    bottom = np.inf
    for oi, o in enumerate(outer):
        for ii, lv in enumerate(inner):
            x0 = oi + (ii - (len(inner) - 1) / 2) * width if other else ii
            sel = data[treat] == lv
            if other:
                sel &= data[other] == o
            y = data.loc[sel, value].to_numpy(float)
            if len(y) == 0:
                continue
            positions[(o, lv)] = x0
            colour = PALETTE[ii % len(PALETTE)]
            m, s = _mean_sem(y)
            ax.bar(
                x0,
                m,
                width=width * 0.8,
                color=colour,
                alpha=0.25,
                edgecolor=colour,
                linewidth=1.2,
                label=lv if oi == 0 else None,
            )
            ax.errorbar(x0, m, yerr=s, color="black", capsize=4, linewidth=1.2)
            ax.scatter(
                x0 + _jitter(len(y), width * 0.45, rng),
                y,
                s=14,
                color=colour,
                edgecolor="white",
                linewidth=0.4,
                zorder=3,
            )
            top = max(top, float(np.max(y)), m + s)
            bottom = min(bottom, float(np.min(y)), 0.0)
    top = max(top, 0.0)  # bars start at 0
    span = (top - bottom) or 1.0
    level = top + 0.05 * span
    step = 0.09 * span
    brackets = _which_brackets(result.posthoc, len(inner))
    for _, row in brackets.iterrows():
        o = row["at"].split(" = ", 1)[1] if other else ""
        a, b = positions.get((o, row["group1"])), positions.get((o, row["group2"]))
        if a is None or b is None:
            continue
        _bracket(ax, a, b, level, 0.02 * span, stars(row["p_adj"]))
        level += step
    floor = bottom - 0.05 * span if bottom < 0 else 0.0
    ax.set_ylim(floor, max(level, top + 0.1 * span) + 0.05 * span)
    if other:
        ax.set_xticks(range(len(outer)), list(outer))
        ax.set_xlabel(axis_label(other))
        ax.legend(
            title=axis_label(treat),
            frameon=False,
            fontsize=8,
            title_fontsize=8,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
        )
    else:
        ax.set_xticks(range(len(inner)), list(inner))
        ax.set_xlabel(axis_label(treat))
        if len(inner) == 2 and result.posthoc.empty and not result.tests.empty:
            _bracket(ax, 0, 1, top + 0.05 * span, 0.02 * span, stars(result.tests["p"].iloc[0]))
    ax.set_ylabel(axis_label(value))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def line_figure(result: StatsResult) -> Figure:
    """Mean ± SEM of the value over the within levels, one line per group (PPI curves).

    Stars above each within level come from the per-level post hoc comparisons,
    drawn in the colour of the compared group.
    """
    d = result.design
    assert d.within is not None
    value, within = d.value, d.within
    data = d.data
    if d.between:
        between = d.between[0]
        groups = d.levels[between]
    else:  # repeated measures in one group
        between = "_all"
        data = data.assign(_all="all animals")
        groups = ("all animals",)
    wl = d.levels[within]
    fig = Figure(figsize=(max(3.2, 0.8 * len(wl) + 1.8) + 1.4, 3.6), dpi=150)
    ax = fig.add_subplot()
    top = -np.inf
    colours = {}
    offsets = np.linspace(-0.08, 0.08, len(groups))
    for gi, g in enumerate(groups):
        colour = PALETTE[gi % len(PALETTE)]
        colours[g] = colour
        sub = data[data[between] == g]
        for _, animal in sub.groupby(SUBJECT):
            xs = [wl.index(w) + offsets[gi] for w in animal[within]]
            order = np.argsort(xs)
            ax.plot(
                np.array(xs)[order],
                animal[value].to_numpy(float)[order],
                color=colour,
                alpha=0.15,
                linewidth=0.6,
            )
        ms = [_mean_sem(sub.loc[sub[within] == w, value].to_numpy(float)) for w in wl]
        means = np.array([m for m, _ in ms])
        sems = np.array([s for _, s in ms])
        ax.errorbar(
            np.arange(len(wl)) + offsets[gi],
            means,
            yerr=sems,
            color=colour,
            marker="o",
            markersize=4,
            capsize=3,
            linewidth=1.4,
            label=f"{g} (n = {sub[SUBJECT].nunique()})",
        )
        top = max(top, float(np.max(means + sems)), float(sub[value].max()))
    bottom = min(0.0, float(data[value].min()))
    top = max(top, 0.0)  # bars start at 0
    span = (top - bottom) or 1.0
    for wi, w in enumerate(wl):
        rows = result.posthoc[result.posthoc["at"] == f"{within} = {w}"]
        for k, (_, row) in enumerate(rows.iterrows()):
            ax.text(
                wi,
                top + (0.04 + 0.07 * k) * span,
                stars(row["p_adj"]),
                ha="center",
                va="bottom",
                fontsize=9,
                color=colours.get(row["group2"], "black"),
            )
    if not d.between:  # comparisons between levels: stars against the reference level
        for _, row in result.posthoc.iterrows():
            if row["group1"] == wl[0]:
                ax.text(
                    wl.index(row["group2"]),
                    top + 0.04 * span,
                    stars(row["p_adj"]),
                    ha="center",
                    va="bottom",
                    fontsize=9,
                )
    floor = bottom - 0.05 * span if bottom < 0 else 0.0
    ax.set_ylim(floor, top + (0.1 + 0.07 * max(1, len(groups) - 1)) * span)
    ax.set_xticks(range(len(wl)), list(wl))
    ax.set_xlabel(axis_label(within))
    ax.set_ylabel(axis_label(value))
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def figures(result: StatsResult) -> dict[str, Figure]:
    """The figures of a result by file stem: ``dots`` always, ``lines`` for within designs."""
    if result.design.within:
        return {"lines": line_figure(result)}
    return {"dots": dot_bar_figure(result)}
