"""Threshold and minimum-bout calibration on synthetic traces with a known answer."""

import numpy as np
import pytest
from blinding_helpers import write_traces

from behavior.blinding.calibrate import calibrate, manual_raters
from behavior.fst.traces import find_traces, read_trace
from behavior.protocols import load_fst_protocol

# The observer's immobility; the traces are low-mobility (<= 0.05) exactly there, and
# also in 0.3-s blips the observer rightly ignored (too short to be immobility).
TRUE = {"v1": [(1, 4), (6, 9.5)], "v2": [(0, 2), (5, 7)], "v3": [(3, 8)]}
BLIPS = {"v1": [(4.5, 4.8)], "v2": [(3.0, 3.3), (8.2, 8.5)], "v3": [(1.0, 1.3)]}


@pytest.fixture
def study(tmp_path):
    write_traces(tmp_path / "traces", TRUE, blips=BLIPS, seed=4)
    manual = tmp_path / "manual.csv"
    manual.write_text("video,behaviour,start_s,end_s\n" + "".join(
        f"{v}.mp4,immobility,{a},{b}\n" for v, spans in TRUE.items() for a, b in spans))
    protocol = load_fst_protocol("mouse_fst").with_overrides(
        duration_s=10.0, window_s=(0.0, 10.0), bin_s=5.0, smoothing_s=0.0)
    proto_file = tmp_path / "base.yaml"
    proto_file.write_text(protocol.to_yaml())
    return tmp_path, manual, proto_file, protocol


def test_calibration_finds_the_separating_threshold_and_bout(study):
    tmp_path, manual, _, protocol = study
    traces = [read_trace(p) for p in find_traces(tmp_path / "traces")]
    thresholds = np.round(np.arange(0.02, 0.32, 0.02), 2)
    result = calibrate(manual_raters([manual]), traces, protocol, thresholds=thresholds,
                       min_bouts=(0.0, 0.5, 1.0), bin_s=0.1)
    # immobile mobility <= 0.05 < 0.2 <= mobile: any threshold in [0.06, 0.18] separates;
    # ties go to the smallest |bias|, then the smallest threshold
    assert result.threshold == pytest.approx(0.06)
    assert result.min_bout_s == 0.5  # removes the 0.3-s blips, keeps every true bout
    assert result.best["kappa"] == pytest.approx(1.0)
    assert result.best["bias_s"] == pytest.approx(0.0, abs=1e-9)
    curve = result.curve.set_index(["min_bout_s", "threshold"])
    # without a minimum bout the blips are false immobility: 0.3 + 0.6 + 0.3 s too much
    assert curve.loc[(0.0, 0.06), "bias_s"] == pytest.approx(1.2 / 3)
    assert curve.loc[(0.0, 0.06), "kappa"] < 1
    # below every immobile value nothing is immobile
    assert curve.loc[(0.5, 0.02), "mean_abs_diff_s"] > 0
    assert result.videos == ("v1", "v2", "v3")


def test_command_writes_a_loadable_protocol(study, capsys):
    import argparse

    from behavior.blinding.commands import register_fst_calibrate

    tmp_path, manual, proto_file, _ = study
    parser = argparse.ArgumentParser()
    register_fst_calibrate(parser.add_subparsers())
    out = tmp_path / "calibrated.yaml"
    args = parser.parse_args(["calibrate", str(manual), "--traces", str(tmp_path / "traces"),
                              "--protocol", str(proto_file), "--thresholds", "0.02:0.3:0.02",
                              "--min-bouts", "0,0.5,1", "--bin", "0.1", "--out", str(out),
                              "--curve", str(tmp_path / "curve.csv")])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "<- chosen" in printed and "threshold 0.06" in printed
    # and how far that lies from the automatic threshold: 10-s traces hold too few
    # 3-s windows for a still level, so threshold: auto falls back to 0.18 on each
    assert ("threshold: auto would choose 0.18-0.18 on these videos (median 0.18); the "
            "calibrated 0.06 is 0.33 times that") in printed
    # 0.18 also lies between the immobile (<= 0.05) and the mobile (>= 0.2) values, and
    # the protocol's 1-s minimum bout drops the 0.3-s blips and keeps every true bout
    # (2 s or more, 2 s or more apart): scored so, every bin agrees with the observer
    assert ("scored with threshold: auto, these videos agree with the observers at kappa "
            "1.000, 100.0 % agreement, ICC 1.000, bias 0.00 s, mean |difference| 0.00 s per "
            "video") in printed
    calibrated = load_fst_protocol(out)
    assert (calibrated.threshold, calibrated.min_bout_s) == (0.06, 0.5)
    assert calibrated.window_s == (0.0, 10.0)
    assert out.read_text().startswith("# Calibrated by `behavior fst calibrate` on 3 ")


def test_videos_without_traces_are_an_error(study):
    tmp_path, _, _, protocol = study
    other = tmp_path / "other.csv"
    other.write_text("video,behaviour,start_s,end_s\nzz9,immobility,0,1\n")
    traces = [read_trace(p) for p in find_traces(tmp_path / "traces")]
    from behavior.errors import AnalysisError

    with pytest.raises(AnalysisError, match="no manually scored video has a trace"):
        calibrate(manual_raters([other]), traces, protocol)



def _climbing_trace(folder, video, raised_px):
    """20 s at 10 fps: floating 0-5 s at y = 100, then mobile 5-20 s with the centroid
    ``raised_px`` above that (body 40 px: the animal's area is 1600 px)."""
    import pandas as pd

    from behavior.fst.traces import Trace, write_trace

    t = np.arange(200) / 10
    still = t < 5
    table = pd.DataFrame({"frame": np.arange(t.size), "time_s": t, "x_px": 50.0,
                          "y_px": np.where(still, 100.0, 100.0 - raised_px),
                          "area_px": 1600.0, "mobility": np.where(still, 0.02, 0.4),
                          "immobile": still.astype(int)})
    write_trace(Trace(f"{video}.mp4", 1, table, 20.0), folder)


def test_climb_height_is_calibrated_on_the_observers_climbing(tmp_path, capsys):
    # raised 15 px (0.375 body sizes) and 6 px (0.15): the observer says climbing;
    # raised 4 px (0.10): swimming. Every height in (0.10, 0.15] agrees perfectly;
    # ties go to the smallest |bias|, then the smallest height: 0.125 of the grid.
    from behavior.cli import main

    traces = tmp_path / "traces"
    for video, raised in (("v1", 15), ("v2", 6), ("v3", 4)):
        _climbing_trace(traces, video, raised)
    manual = tmp_path / "manual.csv"
    manual.write_text("video,behaviour,start_s,end_s\n"
                      "v1.mp4,immobility,0,5\nv1.mp4,climbing,5,20\n"
                      "v2.mp4,immobility,0,5\nv2.mp4,climbing,5,20\n"
                      "v3.mp4,immobility,0,5\nv3.mp4,swimming,5,20\n")
    out = tmp_path / "calibrated.yaml"
    assert main(["fst", "calibrate", str(manual), "--traces", str(traces), "--behaviour",
                 "climbing", "--window", "0", "20", "--out", str(out),
                 "--curve", str(tmp_path / "curve.csv")]) == 0
    assert "chosen: climb_height 0.125 (kappa 1.000" in capsys.readouterr().out
    assert load_fst_protocol(out).climb_height == pytest.approx(0.125)
    import pandas as pd

    curve = pd.read_csv(tmp_path / "curve.csv").set_index("climb_height")
    # 0.1 and below: v3's swimming is called climbing too, 15 s too many
    assert curve.loc[0.1, "bias_s"] == pytest.approx(15 / 3, abs=0.2)
    # above 0.15: v2's climbing is missed
    assert curve.loc[0.2, "bias_s"] == pytest.approx(-15 / 3, abs=0.2)
