"""Swimming and climbing: the active behaviours of the rat modified FST."""

from __future__ import annotations

import numpy as np
import pytest

from behavior.fst.states import active_bouts
from behavior.fst.summary import frames_to_bouts, summarize_bouts
from behavior.protocols import load_fst_protocol


def test_the_predominant_behaviour_of_each_bin_by_hand():
    # 5-s bins over 0-25 s; seconds per bin (immobility, swimming, climbing):
    #   0-5   3.0, 1.0, 0.0  -> immobility (more than half)
    #   5-10  2.0, 1.5, 1.5  -> immobility (less than half, but more than each other)
    #   10-15 2.0, 2.5, 0.5  -> swimming
    #   15-20 0.0, 0.0, 1.0  -> none: 4 s with nothing scored outweigh 1 s of climbing
    #   20-25 2.5, 0.0, 2.5  -> immobility (a tie goes to the behaviour named first)
    immobile = np.array([[0, 3], [5, 7], [10, 12], [20, 22.5]], float)
    swimming = np.array([[3, 4], [7, 8.5], [12, 14.5]], float)
    climbing = np.array([[8.5, 10], [14.5, 15], [16, 17], [22.5, 25]], float)
    s = summarize_bouts(immobile, (0, 25), 25, 5,
                        others={"swimming": swimming, "climbing": climbing})
    assert (s["immobile_bins"], s["swimming_bins"], s["climbing_bins"], s["scored_bins"]) == \
        (3, 1, 0, 5)
    assert s["immobility_s"] == pytest.approx(9.5)
    assert s["swimming_s"] == pytest.approx(5.0)
    assert s["climbing_s"] == pytest.approx(1.5 + 0.5 + 1.0 + 2.5)
    # immobility alone: the old rule, more than half the bin
    alone = summarize_bouts(immobile, (0, 25), 25, 5)
    assert alone["immobile_bins"] == 1 and "swimming_s" not in alone


def test_height_above_the_floating_level_tells_climbing_from_swimming():
    # 30 fps, 30 s: floating at y = 200 for 10 s, swimming at y = 203 (a little
    # deeper) for 10 s, then climbing at y = 185 (15 px above; body 40 px, so 0.375
    # body sizes) for 10 s; image y grows downwards
    protocol = load_fst_protocol("rat_modified_fst")
    t = np.arange(900) / 30
    y = np.where(t < 10, 200.0, np.where(t < 20, 203.0, 185.0))
    area = np.full(t.size, 1600.0)
    immobile = frames_to_bouts(t, t < 10, 30.0)
    bouts, note = active_bouts(t, y, area, immobile, protocol, 30.0)
    assert note is None
    np.testing.assert_allclose(bouts["swimming"], [[10, 20]], atol=0.3)
    np.testing.assert_allclose(bouts["climbing"], [[20, 30]], atol=0.3)
    # lost frames are neither
    y[600:630] = np.nan
    bouts, _ = active_bouts(t, y, area, immobile, protocol, 30.0)
    assert sum(b[1] - b[0] for b in bouts["climbing"]) == pytest.approx(9.0, abs=0.3)
    # no floating at all: the median height stands in for it, and a note says so
    bouts, note = active_bouts(t[300:], y[300:], area[300:], np.empty((0, 2)), protocol, 30.0)
    assert "less than 3 s of immobility" in note
    assert sum(b[1] - b[0] for b in bouts["swimming"]) == pytest.approx(10.0, abs=0.5)


def test_scored_videos_swim_and_climb_as_the_ground_truth_says(two_arena_video, tmp_path):
    from behavior.fst.batch import VideoJob, score_video

    video, truth = two_arena_video
    protocol = load_fst_protocol("mouse_fst").with_overrides(window_s=(0, 40), duration_s=40)
    outcome = score_video(VideoJob(str(video)), protocol, str(tmp_path))
    assert outcome.error is None
    for row, states in zip(outcome.rows(), truth.states, strict=True):
        dt = np.diff(np.append(truth.time_s, truth.end_s))
        true_climb = float(dt[states == "struggling"].sum())
        true_swim = float(dt[states == "swimming"].sum())
        assert true_climb > 3 and true_swim > 3  # the video has both
        # the state label switches at the bout boundary, the posture follows with a
        # lag, and the immobility bouts are themselves ~1-2 s off: a few seconds
        assert row["climbing_s"] == pytest.approx(true_climb, abs=3.0)
        assert row["swimming_s"] == pytest.approx(true_swim, abs=3.0)
        total = row["immobility_s"] + row["swimming_s"] + row["climbing_s"]
        assert total == pytest.approx(row["scored_s"] * row["tracked_pct"] / 100, abs=0.5)


def test_tail_suspension_has_no_swimming_or_climbing(two_arena_video, tmp_path):
    from behavior.fst.batch import VideoJob, score_video
    from behavior.fst.scoring import rows_to_table

    video, _ = two_arena_video
    protocol = load_fst_protocol("mouse_tst").with_overrides(window_s=(0, 40), duration_s=40)
    outcome = score_video(VideoJob(str(video)), protocol)
    table = rows_to_table(outcome.rows(), protocol)
    assert table[["swimming_s", "climbing_s", "swimming_bins", "climbing_bins"]].isna().all().all()
