"""Hand-computed %PPI, startle, habituation and exclusions on tiny trial tables."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from behavior.errors import AnalysisError
from behavior.startle.ppi import (
    classify_trials,
    flag_outlier_trials,
    ppi_summary,
    trial_table_for_models,
)
from behavior.startle.protocol import Block, Exclusions, StartleProtocol, TrialType
from behavior.startle.table import EXCLUDED, trial_frame

TYPES = (
    TrialType("PA", "pulse_alone", 120, 0),
    TrialType("PP74", "prepulse_pulse", 120, 74),
    TrialType("PP78", "prepulse_pulse", 120, 78),
    TrialType("P74", "prepulse_alone", 0, 74),
    TrialType("NS", "no_stimulus", 0, 0),
)


def protocol(**changes) -> StartleProtocol:
    base = StartleProtocol(
        name="test", background_db=70, trial_types=TYPES, parse_trial_names=False
    )
    return dataclasses.replace(base, **changes)


def trials(rows: list[tuple[str, str, float]]):
    """rows: (subject, trial name, amplitude), numbered 1.. per subject in order."""
    counter: dict[str, int] = {}
    numbers = []
    for subject, _, _ in rows:
        counter[subject] = counter.get(subject, 0) + 1
        numbers.append(counter[subject])
    return trial_frame(
        {
            "source_file": "hand.csv",
            "subject": [r[0] for r in rows],
            "trial_name": [r[1] for r in rows],
            "amplitude": [r[2] for r in rows],
            "trial_no": numbers,
            "latency_ms": [20.0] * len(rows),
        },
        len(rows),
    )


def summarise(rows, proto, duplicated=None):
    t, notes = classify_trials(trials(rows), proto)
    t = flag_outlier_trials(t, proto.exclusions)
    return ppi_summary(t, proto, duplicated), notes


# Animal A: PA 100, 120 (mean 110); PP74 50, 60 (mean 55); PP78 100, 130 (mean 115).
ANIMAL_A = [
    ("A", "PA", 100), ("A", "PP74", 50), ("A", "PP78", 100), ("A", "NS", 4),
    ("A", "PA", 120), ("A", "PP74", 60), ("A", "PP78", 130), ("A", "NS", 6),
]  # fmt: skip


def by_level(summary):
    return dict(zip(summary["prepulse_db"], summary["ppi_pct"], strict=True))


def test_average_first_keeps_negative_ppi():
    s, _ = summarise(ANIMAL_A, protocol(ppi_method="average_first"))
    ppi = by_level(s)
    assert ppi[74] == pytest.approx(100 * (110 - 55) / 110)  # 50 %
    assert ppi[78] == pytest.approx(100 * (110 - 115) / 110)  # -4.545 %
    assert set(s["startle"]) == {110}
    assert set(s["nostim"]) == {5}
    assert list(s["n_trials"]) == [2, 2]
    assert list(s["prepulse_above_bg_db"]) == [4, 8]


@pytest.mark.parametrize(
    ("policy", "expected78"), [("keep", -100 * 5 / 110), ("clip", 0.0), ("drop", np.nan)]
)
def test_average_first_negative_policies(policy, expected78):
    s, _ = summarise(ANIMAL_A, protocol(negative_ppi=policy))
    assert by_level(s)[78] == pytest.approx(expected78, nan_ok=True)
    assert by_level(s)[74] == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("policy", "expected78"),
    [
        # per-trial values: 100*(110-100)/110 = 9.0909, 100*(110-130)/110 = -18.1818
        ("keep", (100 * 10 / 110 - 100 * 20 / 110) / 2),
        ("clip", (100 * 10 / 110 + 0) / 2),
        ("drop", 100 * 10 / 110),
    ],
)
def test_per_trial_method(policy, expected78):
    s, _ = summarise(ANIMAL_A, protocol(ppi_method="per_trial", negative_ppi=policy))
    assert by_level(s)[78] == pytest.approx(expected78)
    # 100*(110-50)/110 and 100*(110-60)/110 average to 50 %
    assert by_level(s)[74] == pytest.approx(50.0)


def test_per_block_differs_from_average_first():
    rows = [("B", "PA", 100), ("B", "PP74", 50), ("B", "PA", 200), ("B", "PP74", 150)]
    blocks = (Block("b1", 1, 2), Block("b2", 3, 4))
    per_block, _ = summarise(rows, protocol(blocks=blocks, ppi_method="per_block"))
    # block 1: 100*(100-50)/100 = 50; block 2: 100*(200-150)/200 = 25; mean 37.5
    assert per_block["ppi_pct"].iloc[0] == pytest.approx(37.5)
    average, _ = summarise(rows, protocol(blocks=blocks, ppi_method="average_first"))
    # means: PA 150, PP 100 -> 33.33 %
    assert average["ppi_pct"].iloc[0] == pytest.approx(100 * 50 / 150)


def test_four_block_startle_and_habituation():
    rows = [
        ("C", "PA", 120), ("C", "PA", 120),           # block1: trials 1-2
        ("C", "PA", 100), ("C", "PP74", 40),          # block2: 3-4
        ("C", "PA", 200), ("C", "PP74", 150),         # block3: 5-6
        ("C", "PA", 80), ("C", "PA", 80),             # block4: 7-8
    ]  # fmt: skip
    blocks = (
        Block("block1", 1, 2, ppi=False),
        Block("block2", 3, 4),
        Block("block3", 5, 6),
        Block("block4", 7, 8, ppi=False),
    )
    p = protocol(
        blocks=blocks,
        ppi_method="per_block",
        startle_method="mean_of_block_means",
        habituation_blocks=("block1", "block4"),
    )
    s, _ = summarise(rows, p)
    row = s.iloc[0]
    assert row["startle"] == pytest.approx((120 + 100 + 200 + 80) / 4)
    assert row["habituation"] == pytest.approx(80 - 120)
    assert row["ppi_pct"] == pytest.approx((100 * 60 / 100 + 100 * 50 / 200) / 2)  # (60 + 25) / 2
    assert row["n_pulse_alone"] == 6
    s2, _ = summarise(rows, dataclasses.replace(p, startle_method="mean_of_trials"))
    assert s2["startle"].iloc[0] == pytest.approx((240 + 100 + 200 + 160) / 6)


def test_nonresponder_is_excluded_with_reason():
    rows = ANIMAL_A + [
        ("D", "PA", 8),
        ("D", "PA", 8),
        ("D", "PP74", 6),
        ("D", "NS", 3),
        ("D", "NS", 5),
    ]
    s, _ = summarise(rows, protocol(exclusions=Exclusions(min_startle_minus_nostim=5)))
    d = s[s["subject"] == "D"].iloc[0]
    assert bool(d["excluded"]) and "non-responder" in d["exclusion_reason"]
    assert np.isnan(d["ppi_pct"])  # 8 - 4 = 4 <= 5
    assert d["startle"] == 8 and d["nostim"] == 4
    assert not s[s["subject"] == "A"]["excluded"].any()


def test_too_few_pulse_alone_and_duplicates():
    rows = ANIMAL_A + [("E", "PP74", 6)]
    s, _ = summarise(
        rows,
        protocol(exclusions=Exclusions(min_pulse_alone_trials=3)),
        {"A": "duplicated subject: x"},
    )
    reasons = s.drop_duplicates("subject").set_index("subject")["exclusion_reason"]
    assert "too few pulse-alone trials (2 < 3)" in reasons["A"] and "duplicated" in reasons["A"]
    assert reasons["E"] == "no pulse-alone trials"


def test_mad_outlier_trial_is_left_out():
    amps = [100, 102, 98, 101, 99, 500]
    rows = [("F", "PA", a) for a in amps] + [("F", "PP74", 50)]
    p = protocol(exclusions=Exclusions(outlier_method="mad", outlier_threshold=3.5))
    t, _ = classify_trials(trials(rows), p)
    t = flag_outlier_trials(t, p.exclusions)
    # median 100.5, MAD 1.5: 500 is (399.5 / (1.4826 * 1.5)) = 180 robust z; 98 is 1.12
    assert list(t[EXCLUDED]) == [False] * 5 + [True, False]
    s = ppi_summary(t, p)
    assert s["startle"].iloc[0] == pytest.approx(100.0)
    assert s["ppi_pct"].iloc[0] == pytest.approx(50.0)
    assert s["n_trials_excluded"].iloc[0] == 1


def test_unknown_names_are_reported_and_left_out():
    rows = ANIMAL_A + [("A", "Mystery", 999)]
    s, notes = summarise(rows, protocol())
    assert any("'Mystery' (1 trials)" in n for n in notes)
    assert set(s["startle"]) == {110}


def test_prepulse_alone_mean_and_per_trial_table():
    rows = ANIMAL_A + [("A", "P74", 7), ("A", "P74", 9)]
    p = protocol()
    s, _ = summarise(rows, p)
    assert s.set_index("prepulse_db").loc[74, "prepulse_alone"] == pytest.approx(8)
    t, _ = classify_trials(trials(rows), p)
    per = trial_table_for_models(t, p)
    pp = per[per["trial_name"] == "PP74"]
    assert list(pp["ppi_pct"]) == pytest.approx([100 * 60 / 110, 100 * 50 / 110])
    assert per[per["trial_name"] == "PA"]["ppi_pct"].isna().all()


def test_no_known_trial_is_an_analysis_error():
    t, _ = classify_trials(trials([("A", "Mystery", 1.0)]), protocol())
    with pytest.raises(AnalysisError, match="no pulse-alone"):
        ppi_summary(t, protocol())


def test_zero_pulse_alone_gives_nan_not_infinity():
    s, _ = summarise([("G", "PA", 0.0), ("G", "PP74", 5.0)], protocol())
    assert np.isnan(s["ppi_pct"].iloc[0])
