"""Joining results with groups: every dropped row is named in a warning, never silent."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from behavior.errors import AnalysisError
from behavior.stats import DataWarning, analyze
from behavior.stats.design import order_levels


def run(results, groups=None, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = analyze(results, groups, **kw)
    emitted = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert emitted == list(r.warnings)  # emitted and collected alike
    return r


def scores(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"subject": list(values), "score": list(values.values())})


GROUPS = pd.DataFrame(
    {
        "subject": ["a1", "a2", "a3", "b1", "b2", "b3"],
        "treatment": ["veh", "veh", "veh", "drug", "drug", "drug"],
    }
)


def test_missing_unknown_and_non_numeric_subjects_are_named():
    res = pd.DataFrame(
        {
            "subject": ["a1", "a2", "a3", "b1", "b2", "b3", "x9"],
            "score": ["1.5", "2.5", "", "4", "five", "6", "7"],
        }
    )
    r = run(res, GROUPS, value="score", between="treatment")
    text = " | ".join(r.warnings)
    assert "not in the groups table: x9" in text
    assert "non-numeric 'score' value(s): b2 ('five')" in text
    assert "no 'score' value: a3" in text
    assert sorted(r.design.data["subject"]) == ["a1", "a2", "b1", "b3"]
    d = r.descriptives.set_index("treatment")
    assert d.loc["veh", "n"] == 2 and d.loc["veh", "mean"] == pytest.approx(2.0)


def test_groups_without_results_and_small_groups_are_reported():
    res = scores({"a1": 1, "a2": 2, "a3": 3, "b1": 4, "b2": 5, "b3": 6, "c1": 9})
    groups = pd.concat(
        [GROUPS, pd.DataFrame({"subject": ["c1", "d1"], "treatment": ["high", "high"]})]
    )
    r = run(res, groups, value="score", between="treatment")
    text = " | ".join(r.warnings)
    assert "have no results: d1" in text
    assert "fewer than 2 animals: treatment = high (n = 1)" in text
    assert set(r.design.data["treatment"]) == {"veh", "drug"}


def test_excluded_subjects_dropped_with_reason():
    rows = [
        {
            "subject": s,
            "prepulse_db": db,
            "ppi_pct": 10.0 + db - 70 + (i * db) % 7,
            "excluded": "startle below 10 mV" if s == "b1" else "",
        }
        for i, s in enumerate(GROUPS["subject"])
        for db in (70, 75, 80)
    ]
    r = run(pd.DataFrame(rows), GROUPS, value="ppi_pct", between="treatment", within="prepulse_db")
    assert any("excluded subject(s): b1 (startle below 10 mV)" in w for w in r.warnings)
    assert "b1" not in set(r.design.data["subject"])


def test_missing_repeated_measures_cell_drops_the_subject_with_a_warning():
    rows = [
        {"subject": s, "prepulse_db": db, "ppi_pct": float(i * db % 17)}
        for i, s in enumerate(GROUPS["subject"])
        for db in (70, 75, 80)
        if not (s == "a2" and db == 75)
    ]
    r = run(pd.DataFrame(rows), GROUPS, value="ppi_pct", between="treatment", within="prepulse_db")
    assert any("missing a 'prepulse_db' level" in w and "a2 (no 75)" in w for w in r.warnings)
    assert r.design.data.groupby("subject").size().to_dict() == {
        s: 3 for s in ["a1", "a3", "b1", "b2", "b3"]
    }


def test_forced_swim_results_match_groups_by_video_file_name_and_arena():
    res = pd.DataFrame(
        {
            "video": ["day1.mp4"] * 4 + ["day2.mp4"] * 4,
            "arena": ["1", "2", "3", "4"] * 2,
            "immobility_s": [100, 120, 90, 130, 95, 125, 105, 140],
        }
    )
    groups = pd.DataFrame(
        {
            "video": ["D:\\fst\\day1.mp4"] * 4 + ["/data/fst/day2.mp4"] * 4,
            "arena": [1, 2, 3, 4] * 2,
            "dose": ["0", "10", "0", "10"] * 2,
        }
    )
    r = run(res, groups, value="immobility_s", between="dose", control="0")
    assert r.warnings == ()
    assert r.design.data["subject"].iloc[0] == "day1.mp4 arena 1"
    assert r.descriptives.set_index("dose").loc["10", "mean"] == pytest.approx(128.75)


def test_conflicting_groups_and_repeated_rows_raise():
    with pytest.raises(AnalysisError, match="different groups for the same subject: a1"):
        run(
            scores({"a1": 1, "b1": 2}),
            pd.DataFrame({"subject": ["a1", "a1"], "treatment": ["veh", "drug"]}),
            value="score",
            between="treatment",
        )
    res = pd.concat([scores({"a1": 1, "a2": 2, "b1": 3, "b2": 4}), scores({"a1": 5})])
    with pytest.raises(AnalysisError, match=r"a1 \(2 rows\).*setting within"):
        run(res, GROUPS, value="score", between="treatment")


def test_empty_two_way_cell_is_an_error():
    res = scores({"a1": 1, "a2": 2, "b1": 3, "b2": 4, "a3": 5, "b3": 6})
    groups = GROUPS.assign(sex=["m", "m", "f", "m", "m", "m"])
    with pytest.raises(
        AnalysisError,
        match="at least 2 animals in every cell.*treatment = drug, sex = f \\(n = 0\\)",
    ):
        run(res, groups, value="score", between=["treatment", "sex"])


def test_manual_scores_with_group_column_need_no_groups_table():
    res = scores({"a1": 1, "a2": 2, "b1": 3, "b2": 5}).assign(group=["A", "A", "B", "B"])
    r = run(res, value="score")
    assert r.design.between == ("group",)
    assert r.posthoc["diff"].iloc[0] == pytest.approx(2.5)


def test_level_order_is_numeric_for_doses_and_control_first():
    assert order_levels(["10", "1", "0.3", "3"]) == ("0.3", "1", "3", "10")
    assert order_levels(["drug", "veh", "drug"], first="veh") == ("veh", "drug")


def test_constant_groups_warn_that_statistics_are_undefined():
    res = scores({"a1": 1, "a2": 1, "a3": 1, "b1": 2, "b2": 2, "b3": 2})
    r = run(res, GROUPS, value="score", between="treatment")
    assert any("no variation within any group" in w for w in r.warnings)


def test_forced_swim_table_with_its_own_factor_column_needs_no_groups():
    res = pd.DataFrame(
        {
            "video": ["C:\\v\\d1.mp4"] * 4,
            "arena": [1, 2, 3, 4],
            "latency_s": [30, 50, 35, 55],
            "dose": ["0", "5", "0", "5"],
        }
    )
    r = run(res, value="latency_s", between="dose")
    assert list(r.design.data["subject"]) == [
        "d1.mp4 arena 1",
        "d1.mp4 arena 2",
        "d1.mp4 arena 3",
        "d1.mp4 arena 4",
    ]
    assert r.posthoc["diff"].iloc[0] == pytest.approx(20.0)


def test_startle_summary_layout_boolean_excluded_with_reason_and_pulse_selection():
    # the startle module writes excluded as True/False plus exclusion_reason, and one row
    # per animal x pulse x prepulse level
    rows = []
    for i, s in enumerate(GROUPS["subject"]):
        for pulse in (110, 120):
            for db in (74, 82):
                bad = s == "a3"
                rows.append(
                    {
                        "subject": s,
                        "chamber": str(i % 2 + 1),
                        "pulse_db": str(pulse),
                        "prepulse_db": str(db),
                        "ppi_pct": "" if bad else str(10 + db - 74 + i + (i * pulse) % 5),
                        "excluded": str(bad),
                        "exclusion_reason": "startle below threshold" if bad else "",
                    }
                )
    res = pd.DataFrame(rows)
    with pytest.raises(AnalysisError, match="several rows for the same subject.*setting where"):
        run(res, GROUPS, value="ppi_pct", between="treatment", within="prepulse_db")
    r = run(
        res,
        GROUPS,
        value="ppi_pct",
        between="treatment",
        within="prepulse_db",
        where={"pulse_db": "120.0"},
    )
    assert r.warnings[0] == "kept 12 of 24 rows where pulse_db = 120.0 (as asked)"
    assert "dropped 1 excluded subject(s): a3 (startle below threshold)" in r.warnings
    assert len(r.design.data) == 10
    assert set(r.design.data["subject"]) == {"a1", "a2", "b1", "b2", "b3"}


def test_factor_in_both_tables_warns_only_where_they_disagree():
    res = scores({"a1": 1, "a2": 2, "b1": 3, "b2": 4}).assign(
        treatment=["veh", "veh", "drug", "veh"]
    )
    r = run(res, GROUPS, value="score", between="treatment")
    assert r.warnings == (
        "column 'treatment' differs between the tables for b2; "
        "the groups table's 'treatment' is used",
        "2 subject(s) of the groups table have no results: a3, b3",
    )
    assert r.descriptives.set_index("treatment").loc["drug", "n"] == 2
