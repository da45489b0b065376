"""Write a :class:`StatsResult` to a folder: CSV tables, figures and ``report.html``."""

from __future__ import annotations

import base64
import html
import io
import math
from os import PathLike
from pathlib import Path

import pandas as pd

from behavior import __version__
from behavior.io.atomic import prepare_folder, savefig, write_csv, write_text
from behavior.stats.analysis import StatsResult
from behavior.stats.formatting import format_p, stars

#: Figure formats written for every figure.
FIGURE_FORMATS = ("png", "svg", "pdf")

_CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; max-width: 980px;
       margin: 2em auto; color: #222; line-height: 1.45; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em;
     border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
.warn { background: #fff6dd; border-left: 4px solid #e6a800; padding: 0.5em 1em; }
.methods li { margin-bottom: 0.4em; }
img { max-width: 100%; }
"""


def _fmt(x: object) -> str:
    if isinstance(x, float):
        if math.isnan(x):
            return ""
        if x != 0 and (abs(x) < 0.001 or abs(x) >= 1e6):
            return f"{x:.3g}"
        return f"{x:.4g}" if abs(x) < 1000 else f"{x:.1f}"
    return str(x)


def _table(df: pd.DataFrame) -> str:
    if df.empty:
        return "<p><em>none</em></p>"
    return df.to_html(index=False, na_rep="", float_format=_fmt, border=0, escape=True)


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def render_html(result: StatsResult, figure_png: dict[str, str]) -> str:
    """The report as one self-contained HTML page (figures embedded as PNG)."""
    d = result.design
    factors = " × ".join([*d.between, *([d.within] if d.within else [])])
    e = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{e(d.value)} by {e(factors)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(d.value)} by {e(factors)}</h1>",
        f"<p>{d.data['subject'].nunique()} animals analysed; main test: "
        f"<strong>{e(result.primary)}</strong>."
        + (
            f" Control: <strong>{e(d.control)}</strong> ({e(d.control_factor or '')})."
            if d.control is not None
            else ""
        )
        + "</p>",
    ]
    if result.warnings:
        parts.append("<div class='warn'><strong>Warnings — check what was dropped:</strong><ul>")
        parts += [f"<li>{e(w)}</li>" for w in result.warnings]
        parts.append("</ul></div>")
    parts.append("<h2>Methods and results</h2><ul class='methods'>")
    parts += [f"<li>{e(m)}</li>" for m in result.methods]
    parts.append("</ul>")
    if not result.posthoc.empty:
        parts.append(
            "<p>Post hoc comparisons (difference = group2 − group1, "
            "multiplicity-adjusted 95 % CI and p):</p><ul class='methods'>"
        )
        for _, r in result.posthoc.iterrows():
            ci = (
                f" [95 % CI {_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
                if not math.isnan(r["ci_low"])
                else ""
            )
            at = f" at {r['at']}" if r["at"] else ""
            p_text = format_p(r["p_adj"]).replace("p ", "p_adj ", 1)
            parts.append(
                f"<li>{e(str(r['group2']))} vs {e(str(r['group1']))}{e(at)}: difference "
                f"{_fmt(r['diff'])}{ci}, {p_text} {stars(r['p_adj'])} "
                f"({e(r['method'])})</li>"
            )
        parts.append("</ul>")
    parts.append("<h2>Figures</h2>")
    for stem, data in figure_png.items():
        parts.append(
            f"<p><img alt='{e(stem)}' src='data:image/png;base64,{data}'><br>"
            f"<small>Mean ± SEM; each dot one animal; ns p ≥ 0.05, * p &lt; 0.05, "
            f"** p &lt; 0.01, *** p &lt; 0.001, **** p &lt; 0.0001 "
            f"(adjusted). Files: {e(stem)}.png / .svg / .pdf</small></p>"
        )
    parts += ["<h2>Tests</h2>", _table(result.tests)]
    parts += ["<h2>Post hoc comparisons</h2>", _table(result.posthoc)]
    parts += ["<h2>Descriptive statistics</h2>", _table(result.descriptives)]
    parts += ["<h2>Assumption checks</h2>", _table(result.assumptions), "<ul>"]
    parts += [f"<li>{e(a)}</li>" for a in result.advice]
    parts.append("</ul>")
    parts.append(f"<hr><p><small>behavior {e(__version__)} — behavior stats</small></p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    result: StatsResult, out_dir: str | PathLike[str], *, figures: bool = True
) -> dict[str, Path]:
    """Write tables, figures and ``report.html`` into ``out_dir`` (created if needed).

    Each file is written atomically (:mod:`behavior.io.atomic`): a full disk or an
    interruption leaves the previous file or the new one, never half of one.

    Returns
    -------
    dict
        Written file paths by name (``tests``, ``posthoc``, ``descriptives``,
        ``assumptions``, ``data``, ``report`` and ``<figure>.<format>``).

    Raises
    ------
    FileSystemError
        The folder cannot be created or written, or the disk is full.
    """
    out = prepare_folder(out_dir)
    written: dict[str, Path] = {}
    tables = {
        "tests": result.tests,
        "posthoc": result.posthoc,
        "descriptives": result.descriptives,
        "assumptions": result.assumptions,
        "data": result.design.data,
    }
    for name, df in tables.items():
        path = out / ("analysed_data.csv" if name == "data" else f"{name}.csv")
        written[name] = write_csv(df, path)
    pngs: dict[str, str] = {}
    if figures:
        from behavior.stats.plots import figures as build

        for stem, fig in build(result).items():
            for fmt in FIGURE_FORMATS:
                written[f"{stem}.{fmt}"] = savefig(fig, out / f"{stem}.{fmt}", format=fmt)
            pngs[stem] = _png(fig)
    written["report"] = write_text(out / "report.html", render_html(result, pngs))
    return written
