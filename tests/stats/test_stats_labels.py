"""Figures label their axes in words with units; an unknown column is shown as it is."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from behavior.blinding.plots import bland_altman_figure
from behavior.stats import analyze
from behavior.stats.labels import axis_label, lower_first
from behavior.stats.plots import figures


@pytest.mark.parametrize("column, label", [
    ("immobility_s", "Immobility (s)"), ("immobility_pct", "Immobility (%)"),
    ("ppi_pct", "PPI (%)"), ("prepulse_db", "Prepulse (dB)"), ("dose_mg_kg", "Dose (mg/kg)"),
    ("startle", "Startle (a.u.)"), ("latency_s", "Latency to immobility (s)"),
    ("my_own_score", "my_own_score"), ("Immobility", "Immobility"),
])
def test_axis_label(column, label):
    assert axis_label(column) == label


def test_lower_first_keeps_abbreviations():
    assert lower_first("Immobility (s)") == "immobility (s)"
    assert lower_first("PPI (%)") == "PPI (%)"


def _dose_table(value: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    doses = np.repeat(["0", "1", "10"], 6)
    subjects = [f"m{i:02d}" for i in range(doses.size)]
    values = 150 - 5 * doses.astype(float) + rng.normal(0, 10, doses.size)
    results = pd.DataFrame({"subject": subjects, value: [f"{v:.2f}" for v in values]})
    groups = pd.DataFrame({"subject": subjects, "dose_mg_kg": doses})
    return results, groups


def test_dot_figure_axes_in_words():
    results, groups = _dose_table("immobility_s")
    result = analyze(results, groups, value="immobility_s", between="dose_mg_kg", control="0")
    ax = figures(result)["dots"].axes[0]
    assert ax.get_ylabel() == "Immobility (s)"
    assert ax.get_xlabel() == "Dose (mg/kg)"


def test_unknown_column_is_shown_as_it_is():
    results, groups = _dose_table("score_v2")
    result = analyze(results, groups, value="score_v2", between="dose_mg_kg", control="0")
    assert figures(result)["dots"].axes[0].get_ylabel() == "score_v2"


def test_ppi_line_figure_axes_in_words():
    rng = np.random.default_rng(3)
    rows = []
    for i in range(10):
        group = "vehicle" if i < 5 else "drug"
        for k, db in enumerate(("70", "75", "80")):
            ppi = 20 + 15 * k + rng.normal(0, 5) - 8 * (group == "drug")
            rows.append({"subject": f"r{i}", "group": group, "prepulse_db": db,
                         "ppi_pct": f"{ppi:.2f}"})
    result = analyze(pd.DataFrame(rows), value="ppi_pct", between="group",
                     within="prepulse_db", control="vehicle")
    ax = figures(result)["lines"].axes[0]
    assert ax.get_ylabel() == "PPI (%)"
    assert ax.get_xlabel() == "Prepulse (dB)"


def test_bland_altman_axes_in_words():
    table = pd.DataFrame({"video": ["a", "b", "c"], "x_s": [10.0, 20.0, 30.0],
                          "y_s": [12.0, 19.0, 33.0]})
    ax = bland_altman_figure([("ann", "auto", table)]).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Mean immobility (s)", "Difference (s)")
    ax = bland_altman_figure([("ann", "auto", table)], "climbing").axes[0]
    assert ax.get_xlabel() == "Mean climbing (s)"
