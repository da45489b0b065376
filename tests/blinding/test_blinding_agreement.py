"""Agreement between observers and the auto-scorer on hand-made examples."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from blinding_helpers import make_session, write_traces
from scipy import stats

from behavior.blinding.agreement import overall_agreement, pairwise_agreement
from behavior.blinding.raters import load_raters
from behavior.cli import main
from behavior.errors import AnalysisError, InputError

# Window 0-10 s, 1-s bins. A and B differ on bin 4 of v1, bin 2 of v2, bin 4 of v3.
A = {"v1": [(0, 4)], "v2": [(2, 8)], "v3": [(5, 10)]}
B = {"v1": [(0, 5)], "v2": [(3, 8)], "v3": [(4, 10)]}


def _interval_csv(path, raters):
    lines = ["video,observer,behaviour,start_s,end_s"]
    for name, bouts in raters.items():
        for video, spans in bouts.items():
            lines += [f"{video}.mp4,{name},immobility,{a},{b}" for a, b in spans]
    path.write_text("\n".join(lines) + "\n")
    return path


def _bins(bouts):
    return np.concatenate([[any(a <= s < b for a, b in bouts[v]) for s in range(10)]
                           for v in ("v1", "v2", "v3")])


def test_two_observers_by_hand(tmp_path):
    raters = load_raters([_interval_csv(tmp_path / "manual.csv", {"A": A, "B": B})])
    row = pairwise_agreement(raters, (0.0, 10.0), 1.0).iloc[0]
    assert (row["rater1"], row["rater2"], row["n_videos"], row["n_bins"]) == ("A", "B", 3, 30)
    # 27 of 30 bins agree; A immobile in 15, B in 16: pe = .5*16/30 + .5*14/30 = .5
    assert row["pct_agreement"] == pytest.approx(90.0)
    assert row["kappa"] == pytest.approx((0.9 - 0.5) / 0.5)
    a, b = np.array([4.0, 6.0, 5.0]), np.array([5.0, 5.0, 6.0])
    assert row["bias_s"] == pytest.approx(1 / 3)  # B − A: +1, −1, +1
    sd = np.sqrt(4 / 3)
    assert (row["loa_low_s"], row["loa_high_s"]) == pytest.approx((1 / 3 - 1.96 * sd,
                                                                    1 / 3 + 1.96 * sd))
    assert row["pearson_r"] == pytest.approx(stats.pearsonr(a, b)[0])
    long = pd.DataFrame({"v": [0, 1, 2] * 2, "r": ["A"] * 3 + ["B"] * 3,
                         "s": np.concatenate([a, b])})
    icc = pg.intraclass_corr(long, "v", "r", "s").set_index("Type")
    assert row["icc"] == pytest.approx(icc.iloc[1]["ICC"])  # ICC(A,1) = ICC2
    assert row["mean_abs_diff_s"] == pytest.approx(1.0)


def test_observers_and_auto_traces_with_fleiss(tmp_path):
    manual = _interval_csv(tmp_path / "manual.csv", {"A": A, "B": B})
    traces = write_traces(tmp_path / "traces", A)  # the auto-scorer agrees with A exactly
    out = tmp_path / "agreement.csv"
    assert main(["agreement", str(manual), str(traces), "--window", "0", "10", "--bin", "1",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(zip(table["rater1"], table["rater2"], strict=False)) == [("A", "B"), ("A", "auto"),
                                                           ("B", "auto")]
    a_auto = table.iloc[1]
    assert a_auto["kappa"] == pytest.approx(1.0) and a_auto["icc"] == pytest.approx(1.0)
    assert a_auto["bias_s"] == pytest.approx(0.0, abs=1e-9)
    overall = pd.read_csv(tmp_path / "agreement_overall.csv").iloc[0]
    # Fleiss by hand: per bin, how many of A, B, auto(=A) call it immobile
    immobile = 2 * _bins(A).astype(int) + _bins(B).astype(int)
    counts = np.column_stack((immobile, 3 - immobile))
    m, n_items = 3, counts.shape[0]
    p_i = ((counts**2).sum(axis=1) - m) / (m * (m - 1))
    p_j = counts.sum(axis=0) / (n_items * m)
    expected = (p_i.mean() - (p_j**2).sum()) / (1 - (p_j**2).sum())
    assert overall["fleiss_kappa"] == pytest.approx(expected)
    assert overall["pct_all_agree"] == pytest.approx(90.0)
    assert overall["n_raters"] == 3 and overall["n_bins"] == 30
    assert (tmp_path / "agreement_bland_altman.png").stat().st_size > 1000


def test_recording_that_ends_early_limits_the_comparison(tmp_path):
    manual = _interval_csv(tmp_path / "manual.csv", {"A": {"v1": [(0, 10)]}})
    traces = write_traces(tmp_path / "traces", {"v1": [(0, 6)]}, end_s=6.0)
    raters = load_raters([manual, traces])
    row = pairwise_agreement(raters, (0.0, 10.0), 1.0).iloc[0]
    assert row["n_bins"] == 6 and row["bias_s"] == pytest.approx(0.0)


def test_session_database_as_input(tmp_path):
    made, _, _ = make_session(tmp_path, n=2, observers=())
    c1, c2 = sorted(made.codes)
    for name, spans in {"A": [(0.5, 1.0), (0.5, 2.0)], "B": [(0.5, 1.5), (0.5, 2.0)]}.items():
        csv = tmp_path / f"{name}.csv"
        csv.write_text("video,behaviour,start_s,end_s\n"
                       f"{c1},immobility,{spans[0][0]},{spans[0][1]}\n"
                       f"{c2},immobility,{spans[1][0]},{spans[1][1]}\n")
        assert main(["blind", "import", str(made.session_dir), str(csv), "--observer", name,
                     "--new-observer"]) == 0
    row = pairwise_agreement(load_raters([made.session_dir]), (0.5, 2.0), 0.5).iloc[0]
    assert row["n_videos"] == 2 and row["n_bins"] == 6
    assert row["bias_s"] == pytest.approx(0.25)  # B − A: 0.5 and 0
    assert row["pct_agreement"] == pytest.approx(100 * 5 / 6)


def test_bad_inputs(tmp_path):
    one = _interval_csv(tmp_path / "one.csv", {"A": A})
    with pytest.raises(AnalysisError, match="at least two raters"):
        pairwise_agreement(load_raters([one]), (0, 10), 1)
    other = _interval_csv(tmp_path / "other.csv", {"B": {"w9": [(0, 1)]}})
    with pytest.raises(AnalysisError, match="no video in common"):
        pairwise_agreement(load_raters([one, other]), (0, 10), 1)
    no_observer = tmp_path / "plain.csv"
    no_observer.write_text("video,behaviour,start_s,end_s\nv1,immobility,0,1\n")
    with pytest.raises(InputError, match="observer"):
        load_raters([no_observer])
    overlapping = tmp_path / "overlap.csv"
    overlapping.write_text("video,observer,behaviour,start_s,end_s\n"
                           "v1,A,immobility,0,2\nv1,A,immobility,1,3\n")
    with pytest.raises(InputError, match="line 3"):  # strict: refused, with the line
        load_raters([overlapping], strict=True)
    (merged,) = load_raters([overlapping])  # by default: the union, and a note saying so
    assert merged.bouts["v1"].tolist() == [[0.0, 3.0]]
    assert merged.notes == (f"{overlapping}, lines 2 and 3: video v1 (A): immobility 0–2 s, "
                            "1–3 s overlap; merged into 0–3 s",)


def test_overall_needs_common_videos(tmp_path):
    raters = load_raters([_interval_csv(tmp_path / "m.csv", {"A": A, "B": B, "C": A})])
    o = overall_agreement(raters, (0.0, 10.0), 1.0).iloc[0]
    assert o["n_videos"] == 3 and o["raters"] == "A+B+C"


def test_bin_fractions_equal_the_fst_definition():
    from behavior.blinding.agreement import bin_fractions
    from behavior.fst.summary import bin_states

    rng = np.random.default_rng(11)
    for _ in range(20):
        starts = np.sort(rng.uniform(0, 300, 12))
        bouts = np.column_stack((starts, starts + rng.uniform(0.1, 30, 12)))  # some overlap
        for w0, n, width in [(120.0, 240, 1.0), (0.0, 72, 5.0), (3.5, 7, 0.7)]:
            got = bin_fractions(bouts, w0, n, width)
            assert got == pytest.approx(bin_states(bouts, (w0, w0 + n * width), width))


def test_traces_rescored_with_a_protocol(tmp_path):
    from behavior.protocols import load_fst_protocol

    manual = _interval_csv(tmp_path / "manual.csv", {"A": A})
    traces = write_traces(tmp_path / "traces", A)
    base = load_fst_protocol("mouse_fst").with_overrides(
        duration_s=10.0, window_s=(0.0, 10.0), smoothing_s=0.0, min_bout_s=0.0)
    # mobility is <= 0.05 inside A's bouts and >= 0.2 outside
    same = pairwise_agreement(load_raters([manual, traces], base.with_overrides(threshold=0.1)),
                              (0.0, 10.0), 1.0).iloc[0]
    assert same["kappa"] == pytest.approx(1.0) and same["bias_s"] == pytest.approx(0.0)
    none = pairwise_agreement(load_raters([manual, traces], base.with_overrides(threshold=0.001)),
                              (0.0, 10.0), 1.0).iloc[0]
    assert none["bias_s"] == pytest.approx(-(4 + 6 + 5) / 3)  # auto finds no immobility


def test_results_table_gives_totals_only(tmp_path):
    manual = _interval_csv(tmp_path / "manual.csv", {"A": A})
    results = tmp_path / "results.csv"
    results.write_text("video,arena,immobility_s,latency_s\n/data/v1.mp4,1,5,0\n"
                       "/data/v2.mp4,1,6,2\n/data/v3.mp4,1,,\n")  # v3: not scored
    row = pairwise_agreement(load_raters([manual, results]), (0.0, 10.0), 1.0).iloc[0]
    assert row["rater2"] == "auto:results" and row["n_videos"] == 2
    assert row["bias_s"] == pytest.approx((1 + 0) / 2) and np.isnan(row["kappa"])
    results.write_text("video,immobility_s\nv1,lots\n")
    with pytest.raises(InputError, match="line 2"):
        load_raters([results])


def test_auto_rater_equals_fst_rescore(tmp_path):
    """The auto-scorer's seconds in agreement are those `behavior fst rescore` reports."""
    from behavior.fst.scoring import score_trace
    from behavior.fst.summary import overlap_s
    from behavior.fst.traces import find_traces, read_trace
    from behavior.protocols import load_fst_protocol

    traces = write_traces(tmp_path / "traces", {"v1": [(0.2, 0.9), (2, 7.45)], "v2": [(3, 9)]},
                          blips={"v2": [(1.0, 1.6)]})
    protocol = load_fst_protocol("mouse_fst").with_overrides(duration_s=10.0,
                                                             window_s=(1.0, 10.0))
    (auto,) = load_raters([traces], protocol)
    for path in find_traces(traces):
        trace = read_trace(path)
        stem = path.name.split("_arena")[0]
        expected = score_trace(trace, protocol).values["immobility_s"]
        assert overlap_s(auto.bouts[stem], 1.0, 10.0) == pytest.approx(expected)


def test_climbing_compared_with_the_auto_scorer(tmp_path):
    # the auto-scorer's traces: 10 fps, 20 s; floating 0-5 s and 15-20 s at y = 100,
    # swimming 5-10 s a little deeper (y = 102), climbing 10-15 s at y = 85: 15 px
    # above the floating level, 0.375 body sizes of a 1600-px animal
    from behavior.fst.traces import Trace, write_trace

    t = np.arange(200) / 10
    y = np.where((t >= 5) & (t < 10), 102.0, np.where((t >= 10) & (t < 15), 85.0, 100.0))
    still = (t < 5) | (t >= 15)
    table = pd.DataFrame({"frame": np.arange(t.size), "time_s": t, "x_px": 50.0, "y_px": y,
                          "area_px": 1600.0, "mobility": np.where(still, 0.02, 0.4),
                          "immobile": still.astype(int)})
    write_trace(Trace("cage1.mp4", 1, table, 20.0), tmp_path / "traces")
    manual = tmp_path / "manual.csv"
    manual.write_text("video,observer,behaviour,start_s,end_s\n"
                      "cage1.mp4,A,immobility,0,5\ncage1.mp4,A,swimming,5,9\n"
                      "cage1.mp4,A,climbing,9,15\ncage1.mp4,A,immobility,15,20\n")
    out = tmp_path / "climbing.csv"
    assert main(["agreement", str(manual), str(tmp_path / "traces"), "--window", "0", "20",
                 "--bin", "1", "--behaviour", "climbing", "--out", str(out)]) == 0
    row = pd.read_csv(out).iloc[0]
    # A called 9-10 s climbing, the auto-scorer swimming: 1 s apart, 1 bin of 20 differs
    assert (row["rater1"], row["rater2"]) == ("A", "auto")
    assert row["bias_s"] == pytest.approx(-1.0, abs=0.05)  # auto minus A
    assert row["pct_agreement"] == pytest.approx(95.0)
    # kappa by hand over the 20 bins: A climbs in 6, auto in 5, both in 5
    po, pe = 19 / 20, (6 / 20) * (5 / 20) + (14 / 20) * (15 / 20)
    assert row["kappa"] == pytest.approx((po - pe) / (1 - pe))
    # the same from a results table's climbing_s
    from behavior.blinding.raters import load_raters

    results = tmp_path / "results.csv"
    results.write_text("video,arena,immobility_s,swimming_s,climbing_s\n"
                       "cage1.mp4,1,10,5,5\n")
    (auto,) = load_raters([results], behaviour="climbing")
    assert auto.totals == {"cage1": 5.0}
    with pytest.raises(InputError, match="give immobility, swimming, climbing"):
        load_raters([tmp_path / "traces"], behaviour="rearing")
