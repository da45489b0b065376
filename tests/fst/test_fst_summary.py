"""Immobility bouts and summaries on hand-made examples (exact answers)."""

import math

import numpy as np
import pytest

from behavior.fst.immobility import score_mobility, smooth_mobility
from behavior.fst.summary import (
    apply_min_bout,
    bin_columns,
    bin_states,
    clean_bouts,
    frames_to_bouts,
    summarize_bouts,
)
from behavior.protocols import load_fst_protocol


def test_frames_to_bouts_uses_timestamps_not_frame_index():
    # variable frame rate: the frame at 1.0 s lasts 2 s, the one at 3.0 s lasts 0.5 s
    t = np.array([0.0, 1.0, 3.0, 3.5, 4.0])
    immobile = np.array([False, True, True, False, True])
    assert frames_to_bouts(t, immobile, end_s=4.25).tolist() == [[1.0, 3.5], [4.0, 4.25]]


def test_last_frame_lasts_one_median_interval_by_default():
    t = np.arange(5) * 0.5
    assert frames_to_bouts(t, np.ones(5, bool)).tolist() == [[0.0, 2.5]]


def test_min_bout_drops_short_bouts_and_clean_merges_touching():
    bouts = np.array([[5.0, 5.9], [1.0, 2.0], [2.0, 3.0], [10.0, 11.5]])
    assert clean_bouts(bouts).tolist() == [[1.0, 3.0], [5.0, 5.9], [10.0, 11.5]]
    assert apply_min_bout(bouts, 1.0).tolist() == [[1.0, 3.0], [10.0, 11.5]]


def test_summary_by_hand():
    # bouts: 100-130 (only 10 s inside the 120-360 window), 200-260, 350-370 (10 s inside)
    bouts = np.array([[100.0, 130.0], [200.0, 260.0], [350.0, 370.0]])
    s = summarize_bouts(bouts, (120, 360), duration_s=360, bin_s=60)
    assert s["immobility_s"] == pytest.approx(80.0)
    assert s["immobility_pct"] == pytest.approx(100 * 80 / 240)
    assert s["latency_s"] == pytest.approx(100.0)  # from test start, first bout anywhere
    assert s["bouts"] == 3
    assert s["mean_bout_s"] == pytest.approx(80 / 3)
    assert s["longest_bout_s"] == pytest.approx(60.0)
    bins = [s[c] for c in bin_columns(360, 60)]
    assert bins == pytest.approx([0, 20, 10, 40, 20, 10])
    # of the four whole minutes in the window only 180-240 is mostly immobile
    assert (s["immobile_bins"], s["scored_bins"]) == (1, 4)


def test_time_sampling_counts_bins_where_immobility_predominates():
    # rat modified FST: 5-s bins over 0-300 s, 60 of them. Bouts: 0-2.6 s (more than
    # half of bin 0-5), 7-9.5 (exactly half of 5-10: not more), 12-23 (bins 15-20
    # whole, 10-15 for 3 s, 20-25 for 3 s), 297-300 (3 s of the last bin)
    bouts = np.array([[0.0, 2.6], [7.0, 9.5], [12.0, 23.0], [297.0, 300.0]])
    s = summarize_bouts(bouts, (0, 300), duration_s=300, bin_s=5)
    assert s["scored_bins"] == 60
    assert s["immobile_bins"] == 5  # 0-5, 10-15, 15-20, 20-25, 295-300
    # a recording that ends at 22 s: only the 4 whole bins before it are scored
    short = summarize_bouts(bouts, (0, 300), duration_s=300, bin_s=5, observed_end_s=22.0)
    assert (short["immobile_bins"], short["scored_bins"]) == (3, 4)


def test_summary_of_a_short_recording_is_of_the_part_covered():
    s = summarize_bouts(np.array([[150.0, 210.0]]), (120, 360), 360, 60, observed_end_s=240.0)
    assert s["scored_s"] == pytest.approx(120.0)
    assert s["immobility_pct"] == pytest.approx(50.0)
    # 120-180 and 180-240 hold 30 s each: half, not more
    assert (s["immobile_bins"], s["scored_bins"]) == (0, 2)


def test_no_bout_gives_nan_latency_and_zero_bouts():
    s = summarize_bouts(np.empty((0, 2)), (120, 360), 360, 60)
    assert math.isnan(s["latency_s"]) and s["bouts"] == 0 and s["immobility_s"] == 0
    # the window was watched and nothing was immobile: 0 s, and a longest bout of 0 s;
    # but the mean of no bouts is empty, with the reason
    assert s["longest_bout_s"] == 0 and math.isnan(s["mean_bout_s"])
    assert "no immobility bout" in s["note"]


def test_a_window_the_recording_does_not_reach_is_empty_not_zero():
    # the recording stops at 100 s; the window is 120-360 s: nothing was observed
    s = summarize_bouts(np.array([[10.0, 40.0]]), (120, 360), 360, 60, observed_end_s=100.0)
    assert s["scored_s"] == 0 and s["scored_bins"] == 0
    for key in ("immobility_s", "immobility_pct", "bouts", "mean_bout_s", "longest_bout_s",
                "immobile_bins"):
        assert math.isnan(s[key]), key
    assert s["latency_s"] == 10.0  # the first bout was seen, before the window
    assert "ends at 100 s, before the window starts at 120 s" in s["note"]
    # bins: 0-60 holds 30 s, 60-120 was partly observed (0 s immobile), later ones empty
    assert s["immobile_s_0_60"] == 30.0 and s["immobile_s_60_120"] == 0.0
    assert all(math.isnan(s[f"immobile_s_{a}_{a + 60}"]) for a in (120, 180, 240, 300))
    assert "bins from 120 s on are empty" in s["note"]


def test_other_behaviours_are_empty_where_the_window_was_not_observed():
    s = summarize_bouts(np.empty((0, 2)), (120, 360), 360, 60, observed_end_s=60.0,
                        others={"swimming": np.array([[0.0, 50.0]])})
    assert math.isnan(s["swimming_s"]) and math.isnan(s["swimming_bins"])
    seen = summarize_bouts(np.empty((0, 2)), (120, 360), 360, 60,
                           others={"swimming": np.array([[130.0, 150.0]])})
    assert seen["swimming_s"] == 20.0 and seen["note"] == "no immobility bout in the window: " \
        "mean_bout_s is empty"


def test_bin_states_fraction_per_bin():
    frac = bin_states(np.array([[0.5, 2.0]]), (0, 3), 1.0)
    assert frac.tolist() == pytest.approx([0.5, 1.0, 0.0])


def test_rat_protocol_has_sixty_five_second_bins():
    rat = load_fst_protocol("rat_modified_fst")
    cols = bin_columns(rat.duration_s, rat.bin_s)
    assert len(cols) == 60 and cols[0] == "immobile_s_0_5" and cols[-1] == "immobile_s_295_300"


def test_score_mobility_threshold_min_bout_and_nan():
    # 10 fps; mobility low from 1.0-3.0 s (2 s bout), low for 0.5 s at 5 s (too short),
    # NaN (animal not found) from 7-8 s inside an otherwise low stretch 6.5-9 s
    t = np.arange(0, 10, 0.1)
    m = np.full(t.size, 0.5)
    m[(t >= 1.0 - 1e-9) & (t < 3.0 - 1e-9)] = 0.01
    m[(t >= 5.0 - 1e-9) & (t < 5.5 - 1e-9)] = 0.01
    m[(t >= 6.5 - 1e-9) & (t < 9.0 - 1e-9)] = 0.01
    m[(t >= 7.0 - 1e-9) & (t < 8.0 - 1e-9)] = np.nan
    p = load_fst_protocol("mouse_fst").with_overrides(
        window_s=(0, 10), duration_s=10, bin_s=5, threshold=0.1, min_bout_s=1.0, smoothing_s=0)
    s = score_mobility(t, m, p, end_s=10.0)
    # bouts kept: 1-3 (2 s) and 8-9 (1 s); 5-5.5 and 6.5-7 are too short
    assert s["immobility_s"] == pytest.approx(3.0)
    assert s["bouts"] == 2
    assert s["latency_s"] == pytest.approx(1.0)


def test_smoothing_removes_single_frame_spikes_keeps_nan():
    t = np.arange(20) / 10
    m = np.zeros(20)
    m[5] = 1.0
    m[12] = np.nan
    out = smooth_mobility(t, m, 0.3)
    assert out[5] == 0 and np.isnan(out[12])


def _trace_of(mobility_by_stretch, fps=10.0):
    """A trace whose mobility is each value for its seconds, one after the other."""
    import pandas as pd

    from behavior.fst.traces import Trace

    values = np.concatenate([np.full(int(s * fps), m) for m, s in mobility_by_stretch])
    t = np.arange(values.size) / fps
    table = pd.DataFrame({"frame": np.arange(t.size), "time_s": t, "x_px": 50.0,
                          "y_px": 100.0, "area_px": 1600.0, "mobility": values,
                          "immobile": (values <= 0.1).astype(int)})
    return Trace("v.mp4", 1, table, float(t[-1] + 1 / fps))


def test_threshold_sensitivity_flags_movement_near_the_threshold():
    from behavior.fst.scoring import score_trace
    from behavior.protocols import load_fst_protocol

    protocol = load_fst_protocol("mouse_fst").with_overrides(window_s=(0, 240), duration_s=240,
                                                              threshold=0.1)
    # floating (0.02) 100 s, weak swimming at 0.11 40 s, swimming (0.4) 100 s: at the
    # threshold 0.08 only the floating is immobile, at 0.12 the weak swimming too
    row = score_trace(_trace_of([(0.02, 100), (0.11, 40), (0.4, 100)]), protocol).row()
    assert row["immobility_s"] == pytest.approx(100.0, abs=0.2)
    assert row["threshold_sensitivity_s"] == pytest.approx(40.0, abs=0.2)
    assert "immobility changes by 40.0 s between thresholds 0.08 and 0.12" in row["warnings"]
    # the same animal swimming clearly: the score does not depend on the threshold
    row = score_trace(_trace_of([(0.02, 100), (0.3, 40), (0.4, 100)]), protocol).row()
    assert row["threshold_sensitivity_s"] == pytest.approx(0.0, abs=1e-9)
    assert "between thresholds" not in row["warnings"]
    assert "above the threshold" not in row["warnings"]
    # 8 s of it near the threshold is warned (over 2.5 % of the 240-s window: 6 s; it
    # was 5 %, and rows of the independent generator changing by up to 11 s, off by up
    # to 16 s, went unwarned); 5 s is not
    for weak_s, warned in ((8, True), (5, False)):
        row = score_trace(_trace_of([(0.02, 100), (0.11, weak_s), (0.4, 140 - weak_s)]),
                          protocol).row()
        assert row["threshold_sensitivity_s"] == pytest.approx(weak_s, abs=0.2)
        assert ("between thresholds" in row["warnings"]) == warned


def test_latency_is_empty_when_a_bout_could_have_passed_unseen_before_the_first():
    from behavior.fst.scoring import score_trace
    from behavior.protocols import load_fst_protocol

    protocol = load_fst_protocol("mouse_fst").with_overrides(window_s=(0, 240), duration_s=240,
                                                              threshold=0.1)

    def row(unseen_s):
        # swimming 30 s, then floating: the first bout starts at 30 s; the animal not
        # seen (a title card, lost) from 10 s for unseen_s
        trace = _trace_of([(0.4, 30), (0.02, 210)])
        t = trace.time_s
        gone = (t >= 10) & (t < 10 + unseen_s)
        trace.table.loc[gone, ["x_px", "y_px", "area_px", "mobility"]] = np.nan
        return score_trace(trace, protocol).row()

    assert row(0.0)["latency_s"] == pytest.approx(30.0, abs=0.2)
    # unseen for less than min_bout_s (1 s): no bout could have passed unseen
    assert row(0.9)["latency_s"] == pytest.approx(30.0, abs=0.2)
    assert "latency empty" not in row(0.9)["note"]
    # unseen for 2 s: one could have
    late = row(2.0)
    assert math.isnan(late["latency_s"])
    assert ("latency empty: the animal was not seen from 10.0 to 12.0 s, before its first "
            "bout seen (at 30.0 s)") in late["note"]
    assert late["immobility_s"] == pytest.approx(210.0, abs=0.2)  # the rest unchanged


def test_the_frames_checked_for_a_title_card_lie_between_the_samples_like_the_rest():
    from behavior.fst.background import unlike_spans

    times = [0.0, 2.0, 4.0, 6.0, 8.0]
    # a title card at the start: from the video's start to the first sample like the rest
    assert unlike_spans(times, [0.0, 2.0]) == [(-math.inf, 4.0)]
    # the lights off in the middle, twice: the spans touch and are merged
    assert unlike_spans(times, [4.0]) == [(2.0, 6.0)]
    assert unlike_spans(times, [2.0, 6.0]) == [(0.0, 8.0)]
    # at the end: to the video's end
    assert unlike_spans(times, [8.0]) == [(6.0, math.inf)]
    assert unlike_spans(times, []) == []


def _auto_protocol(**kw):
    from behavior.protocols import load_fst_protocol

    return load_fst_protocol("mouse_fst").with_overrides(window_s=(0, 200), duration_s=200, **kw)


def test_the_automatic_threshold_lies_between_the_still_level_and_sustained_movement():
    from behavior.fst.immobility import THRESHOLD_WEIGHT, choose_threshold
    from behavior.fst.scoring import score_trace

    protocol = _auto_protocol()
    assert protocol.threshold == "auto"
    # floating at 0.02 for 100 s, then swimming at 0.2 for 100 s: still level 0.02,
    # movement from 0.2, threshold 0.02 * 10 ** 0.8
    trace = _trace_of([(0.02, 100), (0.2, 100)])
    choice = choose_threshold(trace.time_s, trace.mobility, protocol)
    assert (choice.method, choice.still, choice.moving) == ("auto", 0.02, 0.2)
    assert choice.threshold == pytest.approx(0.02 * 10 ** THRESHOLD_WEIGHT)
    row = score_trace(trace, protocol).row()
    assert row["immobility_s"] == pytest.approx(100.0, abs=0.15)
    assert row["threshold"] == pytest.approx(0.1262, abs=1e-4)
    assert row["separation"] == pytest.approx(0.9) and "separation" not in row["warnings"]


def test_barely_paddling_is_mobile_with_the_automatic_threshold_and_flagged():
    from behavior.fst.scoring import score_trace

    # floating (0.02) 100 s, barely paddling (0.045) 60 s, struggling (0.25) 40 s: a
    # fixed 0.1 takes the paddling for floating (160 s); the animal's own levels do not
    trace = _trace_of([(0.02, 100), (0.045, 60), (0.25, 40)])
    fixed = score_trace(trace, _auto_protocol(threshold=0.1)).row()
    assert fixed["immobility_s"] == pytest.approx(160.0, abs=0.15)
    assert fixed["threshold"] == 0.1
    row = score_trace(trace, _auto_protocol()).row()
    assert row["immobility_s"] == pytest.approx(100.0, abs=0.15)
    assert row["threshold"] == pytest.approx(0.02 * 2.25 ** 0.8, abs=1e-4)  # 0.0383
    # sustained movement begins at 2.25 times the still level: 1 - 1 / 2.25, a small
    # margin: a warning naming what to do
    assert row["separation"] == pytest.approx(1 - 0.02 / 0.045)
    assert "its movement is hard to tell from stillness (separation 0.56" in \
        row["warnings"]
    assert "behavior fst calibrate" in row["warnings"]
    # movement beginning at 3 times the still level: no warning
    row = score_trace(_trace_of([(0.02, 100), (0.06, 60), (0.25, 40)]), _auto_protocol()).row()
    assert row["separation"] == pytest.approx(1 - 0.02 / 0.06)
    assert row["immobility_s"] == pytest.approx(100.0, abs=0.15)
    assert "separation" not in row["warnings"]


def test_an_animal_that_never_floats_or_never_moves():
    from behavior.fst.immobility import MAX_STILL, NO_MOVEMENT_RATIO
    from behavior.fst.scoring import score_trace

    # swimming the whole time at 0.25: no floating still level, the highest a floating
    # one can be as the threshold, a warning
    row = score_trace(_trace_of([(0.25, 200)]), _auto_protocol()).row()
    assert row["threshold"] == MAX_STILL and row["immobility_s"] == 0
    assert "no still level found" in row["warnings"] and "0.250" in row["warnings"]
    # floating the whole time, a brief paddle now and then: no sustained movement
    stretches = [(0.02, 9.5), (0.3, 0.5)] * 20
    row = score_trace(_trace_of(stretches), _auto_protocol()).row()
    assert row["threshold"] == pytest.approx(0.02 * NO_MOVEMENT_RATIO ** 0.8)
    assert np.isnan(row["separation"]) and "no sustained movement" in row["note"]
    assert row["immobility_s"] == pytest.approx(190.0, abs=1.0)


def test_the_levels_come_from_the_window_and_frames_of_the_animals_size():
    from behavior.fst.immobility import choose_threshold

    # a still title card (mobility 0, the whole picture "found") before the window
    trace = _trace_of([(0.0, 20), (0.02, 90), (0.2, 90)])
    trace.table.loc[trace.table["time_s"] < 20, "area_px"] = 70000.0
    protocol = _auto_protocol().with_overrides(window_s=(20, 200))
    choice = choose_threshold(trace.time_s, trace.mobility, protocol,
                              area_px=trace.table["area_px"].to_numpy())
    assert choice.still == 0.02
    # the window alone leaves the card out, the area alone too
    assert choose_threshold(trace.time_s, trace.mobility, protocol).still == 0.02
    everything = _auto_protocol()
    spoilt = choose_threshold(trace.time_s, trace.mobility, everything)
    assert spoilt.still < 0.015 and spoilt.threshold < 0.05
    assert choose_threshold(trace.time_s, trace.mobility, everything,
                            area_px=trace.table["area_px"].to_numpy()).still == 0.02


def test_restless_floating_is_not_taken_for_where_movement_begins():
    """An animal floating 160 of 200 s, its floating restless (a light that changes,
    compression): its level wanders evenly (on a log scale) between 0.025 and 0.05
    and back over each 80 s; it swims at 0.13 for 40 s (strokes flicker about it, +-0.03
    every other frame; the moving median stays 0.13). Floating lies above 1.5 times its still
    level for far longer than 2 s, so 'sustained movement' began inside the floating
    and the threshold cut the restless floating off. The density has a clear valley
    between the floating and the swimming: movement is looked for above it."""
    from behavior.fst.immobility import (
        SUSTAINED_RISE,
        choose_threshold,
        floating_valley,
        smooth_mobility,
    )
    from behavior.fst.scoring import score_trace

    fps = 10.0
    t = np.arange(int(80 * fps)) / fps
    wander = 10 ** (np.log10(0.025) + np.log10(2.0) * (1 - np.abs(t / 40 - 1)))
    values = np.r_[wander, np.tile([0.13, 0.16, 0.13, 0.10], int(10 * fps)), wander]
    trace = _trace_of([(v, 1 / fps) for v in values], fps=fps)
    protocol = _auto_protocol()
    smoothed = smooth_mobility(trace.time_s, trace.mobility, protocol.smoothing_s)
    choice = choose_threshold(trace.time_s, trace.mobility, protocol)
    assert choice.still == pytest.approx(0.025, rel=0.05)
    # the floating reaches 0.05, twice the still level, in stretches of tens of s
    assert (smoothed > SUSTAINED_RISE * choice.still).sum() / fps > 60
    valley = floating_valley(smoothed, choice.still)
    assert 0.05 < valley < 0.13
    assert choice.moving == pytest.approx(0.13)
    assert choice.threshold == pytest.approx(choice.still * (0.13 / choice.still) ** 0.8)
    assert 0.05 < choice.threshold < 0.13
    row = score_trace(trace, protocol).row()
    assert row["immobility_s"] == pytest.approx(160.0, abs=0.15)


def test_no_valley_where_floating_merges_into_barely_paddling_or_nothing_moves():
    from behavior.fst.immobility import floating_valley

    rng = np.random.default_rng(7)
    # one broad hump from floating (0.03) into paddling (0.05): no clear dip
    merged = 10 ** rng.normal(np.log10(0.038), 0.1, 4000)
    assert np.isnan(floating_valley(merged, 0.03))
    # floating only: the density just falls
    assert np.isnan(floating_valley(10 ** rng.normal(np.log10(0.03), 0.08, 4000), 0.03))
    # two clear humps: the dip between them, on the log scale near their middle
    two = np.r_[10 ** rng.normal(np.log10(0.03), 0.06, 3000),
                10 ** rng.normal(np.log10(0.15), 0.06, 1000)]
    assert 0.055 < floating_valley(two, 0.03) < 0.1


def test_a_swimmer_that_floats_only_in_brief_bouts_gets_a_fallback_and_a_warning():
    """Paddling at 0.21, struggling at 0.8 now and then, floating (0.05) only in
    1.2-s bouts, 12 of 200 s: no 3-s window is mostly floating, so the still level
    is the paddling's (0.21). Above MAX_STILL it is not taken for floating: MAX_STILL
    is the threshold (what moves less than floating can is floating), the brief floats
    are found, and a warning names the animal and what to do."""
    from behavior.fst.immobility import MAX_STILL
    from behavior.fst.scoring import score_trace

    unit = [(0.21, 8.8), (0.05, 1.2), (0.21, 6.0), (0.8, 4.0)]
    trace = _trace_of(unit * 10)
    row = score_trace(trace, _auto_protocol()).row()
    assert 0.05 < MAX_STILL < 0.21
    assert row["threshold"] == MAX_STILL
    # the floating bouts (1.2 s each, the 0.5-s median filter keeps them whole)
    assert row["immobility_s"] == pytest.approx(12.0, abs=0.5)
    assert "no still level found" in row["warnings"]
    assert "its quietest stretches move 0.210" in row["warnings"]
    assert "behavior fst calibrate" in row["warnings"]


def test_a_fixed_threshold_below_the_still_level_is_flagged():
    """A threshold calibrated on the earlier measure (about a third of today's scale)
    lies below a floating animal's still level: its floating would all count as
    movement. The row says so; a threshold above the still level says nothing."""
    from behavior.fst.scoring import score_trace

    trace = _trace_of([(0.08, 100), (0.5, 100)])
    old = score_trace(trace, _auto_protocol(threshold=0.03)).row()
    assert old["immobility_s"] == 0
    assert "the threshold 0.03 lies below this animal's still level (0.080)" in old["warnings"]
    assert "calibrated again" in old["warnings"]
    fine = score_trace(trace, _auto_protocol(threshold=0.2)).row()
    assert fine["immobility_s"] == pytest.approx(100.0, abs=0.5)
    assert fine["warnings"] == ""


def test_a_still_level_near_the_most_floating_does_is_flagged():
    """A gentle swimmer paddling at 0.16 that floats (0.05) only in 1.2-s bouts: no
    3-s window is mostly floating, so its paddling is its still level. That is below
    MAX_STILL, so it is taken for floating (the paddling then counts as immobile),
    but near it: a warning says so, names the animal and what to do. An animal that
    floats for long at 0.02 gets no such warning."""
    from behavior.fst.immobility import MAX_STILL
    from behavior.fst.scoring import HIGH_STILL, score_trace

    unit = [(0.16, 8.8), (0.05, 1.2), (0.16, 6.0), (0.8, 4.0)]
    row = score_trace(_trace_of(unit * 10), _auto_protocol()).row()
    assert HIGH_STILL * MAX_STILL < 0.16 < MAX_STILL
    assert row["threshold"] > 0.16  # the paddling is taken for floating ...
    assert row["immobility_s"] > 150
    # ... and the row says it may be
    assert "its quietest stretches move 0.160, near the most a floating " \
        "animal does (0.18)" in row["warnings"]
    assert "behavior fst calibrate" in row["warnings"]
    calm = score_trace(_trace_of([(0.05, 100), (0.5, 100)]), _auto_protocol()).row()
    assert calm["warnings"] == ""
    # a fixed threshold: the still level is not used, nothing to warn about
    fixed = score_trace(_trace_of(unit * 10), _auto_protocol(threshold=0.2)).row()
    assert "quietest stretches" not in fixed["warnings"]


def test_flicker_known_values():
    from behavior.fst.immobility import flicker, smooth_mobility

    t = np.arange(250) / 25.0
    steady = np.full(t.size, 0.2)
    assert np.allclose(flicker(t, steady, smooth_mobility(t, steady, 0.5), 0.5), 0.0)
    # a stroke every other frame, +-0.05 about 0.2: the moving median follows each
    # frame, the change between frames is 0.1, half of it 0.05
    strokes = 0.2 + 0.05 * (-1.0) ** np.arange(t.size)
    got = flicker(t, strokes, smooth_mobility(t, strokes, 0.5), 0.5)
    assert np.allclose(got[10:-10], 0.05)
    # a strong but slow swell (0.1 over 4 s) barely flickers: the frame-to-frame change
    # of a sine of amplitude A, angular frequency w, at 25 fps is at most A w / 25
    swell = 0.2 + 0.1 * np.sin(2 * np.pi * t / 4.0)
    got = flicker(t, swell, smooth_mobility(t, swell, 0.5), 0.5)
    assert np.nanmax(got[10:-10]) <= 0.5 * 0.1 * (2 * np.pi / 4.0) / 25 + 1e-9
    gaps = strokes.copy()
    gaps[100:110] = np.nan
    got = flicker(t, gaps, smooth_mobility(t, gaps, 0.5), 0.5)
    assert np.isnan(got[100:110]).all() and np.isfinite(got[:100]).all()


def _restless_floater(seed: int = 11, fps: float = 25.0):
    """240 s at ``fps``: floating 100 s; floating with slow swells of the body 40 s
    (turning, drifting: mobility up to 0.15, smooth); barely paddling 40 s (0.16,
    flickering with its strokes at 6 Hz); swimming 60 s. Camera noise on every frame.
    Immobile in truth: the first 140 s."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(240 * fps)) / fps
    m = np.where(t < 100, 0.05, 0.0)
    swell = (t >= 100) & (t < 140)
    m[swell] = 0.05 + 0.1 * (1 - np.cos(2 * np.pi * (t[swell] - 100) / 5.0)) / 2
    paddle = (t >= 140) & (t < 180)
    m[paddle] = 0.16 + 0.06 * np.sign(np.sin(2 * np.pi * 6 * t[paddle]))
    swim = t >= 180
    m[swim] = 0.5 + 0.15 * np.sign(np.sin(2 * np.pi * 7 * t[swim]))
    return t, np.clip(m + rng.normal(0, 0.01, t.size), 0.0, None)


def test_floating_that_swells_smoothly_is_floating_and_paddling_is_not(monkeypatch):
    import pandas as pd

    import behavior.fst.immobility as immobility
    from behavior.fst.scoring import score_trace
    from behavior.fst.traces import Trace

    protocol = _auto_protocol().with_overrides(window_s=(0, 240), duration_s=240)
    for fps in (25.0, 15.0):
        t, m = _restless_floater(fps=fps)
        table = pd.DataFrame({"frame": np.arange(t.size), "time_s": t, "x_px": 50.0,
                              "y_px": 100.0, "area_px": 1600.0, "mobility": m,
                              "immobile": 0})
        trace = Trace("v.mp4", 1, table, 240.0)
        row = score_trace(trace, protocol).row()
        # the swells lie above the threshold, but do not flicker: floating (some of
        # their frames, where the camera noise happens to flicker more than 1.3 times
        # the floating's median, stay movement: 134.8 s at 25 fps, 133.3 at 15)
        assert row["threshold"] < 0.15
        assert 132.0 <= row["immobility_s"] <= 140.5, fps
        # by the threshold alone, the swells' tops are movement (118.4 s, 117.3 s)
        monkeypatch.setattr(immobility, "FLICKER_RATIO", 0.0)
        plain = score_trace(trace, protocol.with_overrides(brief_movement_s=0)).row()
        assert plain["immobility_s"] < 120.0
        assert "above the threshold" not in plain["warnings"]
        monkeypatch.undo()
        # ... and the row says that its score rests on how such floating is counted
        assert "s of its immobility lies above the threshold" in row["warnings"]
        note = next(n for n in score_trace(trace, protocol).notices
                    if n.code == "restless_floating")
        assert note.data["above_s"] == pytest.approx(
            row["immobility_s"] - plain["immobility_s"], abs=0.01)


def test_brief_movements_between_immobility_bouts_join_them():
    from behavior.fst.immobility import join_brief_movements

    bouts = np.array([[0.0, 2.0], [2.3, 5.0], [6.0, 8.0]])
    t = np.arange(0, 8, 0.1)
    m = np.zeros(t.size)
    # a 0.3-s gap is joined, a 1-s gap is not
    np.testing.assert_allclose(join_brief_movements(bouts, t, m, 0.5), [[0, 5], [6, 8]])
    np.testing.assert_allclose(join_brief_movements(bouts, t, m, 0.0), bouts)
    # ... nor a gap where the animal was not seen: what was not seen is never scored
    m[21] = np.nan  # 2.1 s
    np.testing.assert_allclose(join_brief_movements(bouts, t, m, 0.5), bouts)


def test_a_kick_while_floating_is_part_of_the_floating():
    from behavior.fst.scoring import score_trace
    from behavior.protocols import load_fst_protocol

    shipped = load_fst_protocol("mouse_fst")
    assert shipped.brief_movement_s == 0.5 and shipped.min_bout_s == 1.0
    protocol = shipped.with_overrides(window_s=(0, 60), duration_s=60, threshold=0.1)
    # at 10 fps: floating (0.02) in 3-s stretches, each followed by a 0.4-s kick (0.5),
    # 52 s in all; then swimming
    stretches = [(0.02, 3.0), (0.5, 0.4)] * 14 + [(0.02, 4.4)]
    trace = _trace_of(stretches + [(0.4, 40)])
    # the kicks stay movement through the moving median (0.5 s = 5 frames, 4 kick)
    row = score_trace(trace, protocol).row()
    assert row["immobility_s"] == pytest.approx(52.0, abs=0.15)
    assert row["bouts"] == 1
    # not joined: 15 bouts of floating alone, 52 s less 14 kicks of 0.4 s
    row = score_trace(trace, protocol.with_overrides(brief_movement_s=0)).row()
    assert row["immobility_s"] == pytest.approx(52.0 - 14 * 0.4, abs=0.15)
    assert row["bouts"] == 15
