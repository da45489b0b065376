"""The real recordings in ../shared/data/real at the shipped defaults (arenas counted,
``threshold: auto``): the mouse is found, the chamber stays one arena, and per-frame
immobility agrees with the lab's own labels; an empty chamber gives an empty row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from behavior.fst.immobility import immobile_flags, smooth_mobility
from behavior.fst.scoring import score_trace
from behavior.fst.tracking import track_video
from behavior.io.video import ArrayVideo, VideoReader
from behavior.protocols import load_fst_protocol

MOUSE = "mouse-chamber/Day3_Mouse1_CNO_xvid.avi"
LABELS = "mouse-chamber/Immobility1.csv"


#: The title card ends here (s into the video): decoded frames 0-209 (pts 1-210).
CARD_END_S = 7.02


def _agreement(trace, flags, labels, start_s):
    """Share of the lab's labelled frames where our immobile flags agree (row r of
    Immobility1.csv is decoded frame 196 + r; decoded frame d has pts d + 1). The
    first 14 rows fall on the title card, where there is no mouse to score: left out
    (they are before the test when it starts after the card)."""
    video_t = (196 + np.arange(len(labels)) + 1) / 29.97
    t = video_t - start_s
    ok = (t > 0) & (video_t >= CARD_END_S)
    idx = np.clip(np.searchsorted(trace.time_s, t[ok] - 1e-6), 0, len(trace.time_s) - 1)
    return float(np.mean(flags[idx] == labels[ok]))


def _read_labels(path):
    return pd.read_csv(path, header=None)[0].astype(str).str.strip().eq("True").to_numpy()


@pytest.mark.slow
@pytest.mark.parametrize("start", [7.0, 0.0], ids=["after the title card", "title card too"])
def test_the_real_mouse_at_the_shipped_defaults(real, start):
    path, labels = real(MOUSE), _read_labels(real(LABELS))
    protocol = load_fst_protocol("mouse_fst")
    assert protocol.threshold == "auto"
    with VideoReader(path) as video:
        result = track_video(video, protocol, start_s=start)
    # one chamber: one arena (it was split at x = 180 px into two, the second empty),
    # said quietly: a note, not a warning (the still column where it was split has
    # no edge: the mouse keeps to one side)
    assert len(result.traces) == 1 and result.arenas[0].w == 320
    assert [n.severity for n in result.notices if n.code == "one_arena"] == ["info"]
    assert not any("one arena" in w for w in result.warnings)
    trace = result.traces[0]
    assert trace.meta["polarity"] == "dark"
    # found in every frame but the title card's (decoded frames 0-209, to 7.01 s),
    # which are not scored
    seen = np.isfinite(trace.table["area_px"].to_numpy(float))
    on_card = trace.time_s + start < CARD_END_S
    assert not seen[on_card].any() if start == 0.0 else on_card.sum() <= 1
    assert seen[~on_card].mean() > 0.99
    row = score_trace(trace, protocol).row()
    assert "one arena counted" in row["note"] and "one arena" not in row["warnings"]
    # the threshold used, chosen from this mouse's own trace; above it, only frames
    # whose mobility rises smoothly (no flicker of strokes) are immobile: none here
    ours = trace.table["immobile"].to_numpy().astype(bool)
    smoothed = smooth_mobility(trace.time_s, trace.mobility, protocol.smoothing_s)
    with np.errstate(invalid="ignore"):
        below = smoothed <= row["threshold"]
    np.testing.assert_array_equal(ours, immobile_flags(trace.time_s, trace.mobility, protocol,
                                                       row["threshold"]))
    assert (below & ~ours).sum() == 0 and (ours & ~below).sum() < 0.01 * ours.size
    # the lab's labels come from another rule (a frame difference with a 3-Hz low
    # pass), which counts more small movements as immobility than this mouse's
    # automatic threshold does: 0.90 agreement at it, 0.94 at the best single cut-off
    # (about 2 times it; fst calibrate would find and report that). With the whole
    # silhouette's changed share as the measure: 0.89 and 0.93.
    assert _agreement(trace, ours, labels, start) > 0.895
    best = max(_agreement(trace, smoothed <= cut, labels, start)
               for cut in np.exp(np.linspace(np.log(0.01), np.log(0.5), 120)))
    assert best >= 0.935


def _still_mouse(real):
    """The real clip's frames in which the mouse sits within 7 px of where it rests
    most (found with the whole clip), one after the other: a real mouse that never
    leaves its corner over the grid floor, with no image of the empty chamber."""
    protocol = load_fst_protocol("mouse_fst")
    frames, times = [], []
    with VideoReader(real(MOUSE)) as video:
        whole = track_video(video, protocol, start_s=7.0).traces[0].table
        for frame in video.frames():
            frames.append(frame.image.copy())
            times.append(frame.time_s - 7.0)
    times = np.array(times)
    x = np.interp(times, whole["time_s"], whole["x_px"])
    y = np.interp(times, whole["time_s"], whole["y_px"])
    near = (np.hypot(x - np.nanmedian(whole["x_px"]), y - np.nanmedian(whole["y_px"])) < 7)
    near &= times > 0.2
    keep = np.flatnonzero(near)
    video = ArrayVideo(np.stack([frames[i] for i in keep]), np.arange(keep.size) / 29.97)
    return video, x[keep], y[keep]


@pytest.mark.slow
def test_a_real_mouse_that_never_leaves_its_corner_is_found(real):
    """Before, such a mouse was taken as light (the floor it uncovered now and then
    was the "animal") and lost in 7 % of the frames; or, still more of the time, not
    found at all."""
    video, x, y = _still_mouse(real)
    assert len(x) > 800
    protocol = load_fst_protocol("mouse_fst")
    result = track_video(video, protocol)
    assert len(result.traces) == 1
    trace = result.traces[0]
    assert trace.meta["polarity"] == "dark"
    assert np.isfinite(trace.table["area_px"]).mean() > 0.99
    # where the whole clip's tracking had it (a few px off: the cleared background
    # under a dark mouse in a dark corner is an estimate)
    assert np.nanmedian(np.hypot(trace.table["x_px"] - x, trace.table["y_px"] - y)) < 8
    assert any("rests in one place" in w for w in result.warnings)


@pytest.mark.slow
def test_an_empty_chamber_gives_an_empty_row_never_zeros(real):
    protocol = load_fst_protocol("mouse_fst").with_overrides(window_s=(0, 9))
    with VideoReader(real("empty-chamber/Freezing_calibration.wmv")) as video:
        result = track_video(video, protocol)
    assert len(result.traces) == 1
    row = score_trace(result.traces[0], protocol).row()
    assert row["tracked_pct"] == 0
    for column in ("immobility_s", "immobility_pct", "bouts", "separation", "threshold"):
        assert np.isnan(row[column]), column
    assert "no animal was found in arena 1" in row["note"]
    assert "no animal found" in row["warnings"]
