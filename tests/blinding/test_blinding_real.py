"""Calibration on a real recording against that lab's per-frame immobility labels."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from behavior.blinding.calibrate import calibrate, manual_raters
from behavior.cli import main
from behavior.fst.summary import frames_to_bouts
from behavior.fst.traces import find_traces, read_trace
from behavior.protocols import load_fst_protocol

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "mouse-chamber"


@pytest.mark.real
@pytest.mark.slow
def test_calibration_on_real_labels(tmp_path):
    video, labels = REAL / "Day3_Mouse1_CNO_xvid.avi", REAL / "Immobility1.csv"
    if not (video.exists() and labels.exists()):
        pytest.skip("real recording not found in ../shared/data/real/mouse-chamber")
    # the chamber appears at decoded frame 210 (7.0 s); score 55 s from there
    assert main(["fst", "score", str(video), "--start-s", "7.0", "--window-s", "0", "55",
                 "--arenas", "1", "--traces", str(tmp_path / "traces"), "--out",
                 str(tmp_path / "results.csv"), "--no-progress"]) == 0
    trace = read_trace(find_traces(tmp_path / "traces")[0])
    # label row r describes decoded frame 196 + r, i.e. trace frame r - 14 (README)
    immobile = pd.read_csv(labels, header=None)[0].astype(str).str.strip() == "True"
    flags = np.zeros(len(trace.table), bool)
    rows = np.arange(len(immobile)) - 14
    ok = (rows >= 0) & (rows < flags.size)
    flags[rows[ok]] = immobile.to_numpy()[ok]
    bouts = frames_to_bouts(trace.time_s, flags, trace.end_s)
    manual = tmp_path / "labels.csv"
    manual.write_text("video,behaviour,start_s,end_s\n" + "".join(
        f"{video.stem},immobility,{a:.4f},{b:.4f}\n" for a, b in bouts))
    protocol = load_fst_protocol("mouse_fst").with_overrides(window_s=(0.0, 55.0))
    result = calibrate(manual_raters([manual]), [trace], protocol, min_bouts=(0.0, 0.5, 1.0))
    # the labels are a frame-difference rule (README: a plain rule agrees on ~93 % of
    # frames); the calibrated auto-scorer must agree substantially on 1-s bins
    assert result.best["kappa"] > 0.6
    assert result.best["pct_agreement"] > 80
