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

