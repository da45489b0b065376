"""Waveform -> Vmax, Vavg, peak-to-peak, latency, baseline; the real TSE startle segments."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from behavior.io.startle_registry import read_startle_file
from behavior.startle.amplitude import measure_recording, waveform_measures
from behavior.startle.protocol import AmplitudeSettings

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "startle-tse"


def test_hand_waveform():
    # 1-ms samples from -5 ms: baseline 2 before onset; response 2,4,10,6,-2,2,... after onset
    t = np.arange(-5, 10, dtype=float)
    v = np.array([2, 2, 2, 2, 2, 2, 4, 10, 6, -2, 2, 2, 2, 2, 2], dtype=float)
    m = waveform_measures(t, v, window_ms=(0, 5), baseline_ms=(-5, 0))
    # window 0..4 ms holds 2, 4, 10, 6, -2
    assert m.vmax[0] == 10 and m.latency_ms[0] == 2
    assert m.vavg[0] == pytest.approx((2 + 4 + 10 + 6 - 2) / 5)
    assert m.p2p[0] == 12 and m.baseline[0] == 2
    r = waveform_measures(t, v, window_ms=(0, 5), rectify=True)
    assert r.vavg[0] == pytest.approx((2 + 4 + 10 + 6 + 2) / 5)


def test_onset_shift_and_vstart_fallback():
    # Recording starts at onset (SR-LAB): no pre-stimulus samples, baseline = first sample.
    t = np.arange(0, 200, dtype=float)
    v = np.full(200, 3.0)
    v[150] = 50.0
    m = waveform_measures(t, v, window_ms=(0, 100))
    assert m.vmax[0] == 3.0 and m.baseline[0] == 3.0
    # Pulse at 100 ms on the file's axis: the peak is 50 ms after onset.
    s = waveform_measures(t, v, window_ms=(0, 100), onset_ms=100)
    assert s.vmax[0] == 50 and s.latency_ms[0] == 50 and s.baseline[0] == 3.0


def test_empty_window_and_padding_give_nan():
    t = np.array([[0, 1, 2, np.nan], [200, 201, np.nan, np.nan]], dtype=float)
    v = np.array([[1, 5, 2, np.nan], [9, 9, np.nan, np.nan]], dtype=float)
    m = waveform_measures(t, v, window_ms=(0, 100))
    assert m.vmax[0] == 5 and m.latency_ms[0] == 1
    assert np.isnan(m.vmax[1]) and np.isnan(m.vavg[1]) and np.isnan(m.latency_ms[1])


def _plain_read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    return np.array([float(r[0]) for r in rows]), np.array([float(r[1]) for r in rows])


@pytest.mark.real
@pytest.mark.parametrize(
    ("stem", "peak", "latency"),
    [
        ("gap_duration_50_Rep3", 26.1, 18.0),
        ("offset_PPI_18_Rep4", 28.1, 32.0),
        ("offset_PPI_20_Rep2", 27.4, 32.0),
    ],
)
def test_real_tse_segments(stem, peak, latency):
    if not REAL.is_dir():
        pytest.skip(f"real startle recordings not found at {REAL}")
    path = REAL / f"Animal10_April16_{stem}_segment.csv"
    rec = read_startle_file(path)  # detected as tse-segment
    assert rec.layout == "tse-segment" and rec.samples.shape == (1, 501)
    trials = measure_recording(rec, AmplitudeSettings(window_ms=(0, 100), baseline_ms=(-50, 0)))
    row = trials.iloc[0]
    # README of the data: peak in 0-100 ms after onset
    assert row["vmax"] == pytest.approx(peak, abs=0.05)
    assert row["latency_ms"] == latency
    assert row["amplitude"] == row["vmax"] and row["subject"] == "Animal10"
    # baseline and average, computed here independently of the library
    t, v = _plain_read(path)
    assert row["baseline"] == pytest.approx(v[(t >= -50) & (t < 0)].mean())
    assert row["vavg"] == pytest.approx(v[(t >= 0) & (t < 100)].mean())
    assert row["p2p"] == pytest.approx(
        v[(t >= 0) & (t < 100)].max() - v[(t >= 0) & (t < 100)].min()
    )
    # The 2-ms grid: 50 samples in the 100-ms window, 25 in the baseline
    assert ((t >= 0) & (t < 100)).sum() == 50
