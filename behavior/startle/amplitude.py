"""Startle amplitude from raw sensor samples: Vmax, Vavg, peak-to-peak, latency, baseline.

One pure function, :func:`waveform_measures`, serves every file that holds
samples (SR-LAB ``Run Data``, Kinder per-sample files, TSE analog exports, TSE
trial segments), so waveform files and per-trial files give comparable numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from behavior.startle.protocol import AmplitudeSettings
from behavior.startle.table import (
    AMPLITUDE,
    BASELINE,
    LATENCY_MS,
    P2P,
    VAVG,
    VMAX,
    StartleRecording,
)


@dataclass(frozen=True)
class WaveformMeasures:
    """Per-trial measures of :func:`waveform_measures` (arrays of length n_trials)."""

    vmax: np.ndarray
    vavg: np.ndarray
    p2p: np.ndarray
    latency_ms: np.ndarray
    baseline: np.ndarray


def waveform_measures(
    time_ms: np.ndarray,
    values: np.ndarray,
    *,
    window_ms: tuple[float, float] = (0.0, 100.0),
    baseline_ms: tuple[float, float] = (-50.0, 0.0),
    onset_ms: float = 0.0,
    rectify: bool = False,
) -> WaveformMeasures:
    """Measure startle responses in a response window after pulse onset.

    Parameters
    ----------
    time_ms
        Sample times (ms) on the file's time axis, shape ``(n_samples,)`` or
        ``(n_trials, n_samples)``; NaN marks padding.
    values
        Sensor values, same shape as ``time_ms`` (or ``(n_trials, n_samples)``
        with a 1-D ``time_ms`` shared by all trials).
    window_ms
        Response window ``[start, end)`` relative to pulse onset (ms).
    baseline_ms
        Pre-stimulus window ``[start, end)`` relative to pulse onset (ms).
    onset_ms
        Pulse onset on the file's time axis (ms).
    rectify
        Take absolute values first (signed accelerometers).

    Returns
    -------
    WaveformMeasures
        NaN for a trial without any sample in the response window.

    Notes
    -----
    Vmax is the maximum and Vavg the mean of the samples in the window, Tmax
    (``latency_ms``) the time of the first maximum after onset, peak-to-peak the
    maximum minus the minimum in the window, as SR-LAB reports them. The
    baseline is the mean of the samples in ``baseline_ms``; when the recording
    starts at onset (SR-LAB records from the pulse on) it is the first sample at
    or after onset -- SR-LAB's "V start".

    Examples
    --------
    >>> t = np.arange(-10, 20.0)
    >>> v = np.where(t == 5, 9.0, 1.0)
    >>> m = waveform_measures(t, v, window_ms=(0, 10), baseline_ms=(-5, 0))
    >>> float(m.vmax[0]), float(m.latency_ms[0]), float(m.baseline[0])
    (9.0, 5.0, 1.0)
    """
    values = np.atleast_2d(np.asarray(values, dtype=float))
    t = np.asarray(time_ms, dtype=float)
    t = np.broadcast_to(t, values.shape) if t.ndim == 1 else np.atleast_2d(t)
    if t.shape != values.shape:
        raise ValueError(f"time_ms shape {t.shape} does not match values shape {values.shape}")
    rel = t - onset_ms
    v = np.abs(values) if rectify else values
    valid = np.isfinite(rel) & np.isfinite(v)

    in_win = valid & (rel >= window_ms[0]) & (rel < window_ms[1])
    n_win = in_win.sum(axis=1)
    has = n_win > 0
    hi = np.where(in_win, v, -np.inf)
    lo = np.where(in_win, v, np.inf)
    i_max = hi.argmax(axis=1)
    rows = np.arange(v.shape[0])
    vmax = np.where(has, hi[rows, i_max], np.nan)
    vmin = np.where(has, lo.min(axis=1), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        vavg = np.where(in_win, v, 0.0).sum(axis=1) / n_win
    vavg = np.where(has, vavg, np.nan)
    latency = np.where(has, rel[rows, i_max], np.nan)

    in_base = valid & (rel >= baseline_ms[0]) & (rel < baseline_ms[1])
    n_base = in_base.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        base = np.where(in_base, v, 0.0).sum(axis=1) / n_base
    # No pre-stimulus samples: the value at onset (first sample at or after 0).
    after = valid & (rel >= 0)
    first = np.where(after, rel, np.inf).argmin(axis=1)
    v_start = np.where(after.any(axis=1), v[rows, first], np.nan)
    base = np.where(n_base > 0, base, v_start)
    return WaveformMeasures(
        vmax=vmax, vavg=vavg, p2p=vmax - vmin, latency_ms=latency, baseline=base
    )


def measure_recording(recording: StartleRecording, settings: AmplitudeSettings) -> pd.DataFrame:
    """Per-trial table with the measures filled from the waveforms and ``amplitude`` set.

    Trials with a waveform get every measure from :func:`waveform_measures`;
    trials without one keep the values the file reported (SR-LAB ``mV Max``...).
    ``amplitude`` becomes the protocol's ``measure`` (minus the baseline when
    ``subtract_baseline``); a file that only gives an amplitude (lab tables)
    keeps it.
    """
    trials = recording.trials.copy()
    if recording.has_waveforms:
        assert recording.time_ms is not None and recording.samples is not None
        rectify = settings.rectify == "yes" or (settings.rectify == "auto" and recording.signed)
        m = waveform_measures(
            recording.time_ms,
            recording.samples,
            window_ms=settings.window_ms,
            baseline_ms=settings.baseline_ms,
            onset_ms=settings.onset_ms,
            rectify=rectify,
        )
        has_wave = np.isfinite(recording.samples).any(axis=1)
        for col, arr in (
            (VMAX, m.vmax),
            (VAVG, m.vavg),
            (P2P, m.p2p),
            (LATENCY_MS, m.latency_ms),
            (BASELINE, m.baseline),
        ):
            trials[col] = np.where(has_wave, arr, trials[col].to_numpy(dtype=float))
    chosen = trials[settings.measure].to_numpy(dtype=float)
    if settings.subtract_baseline and settings.measure != "p2p":
        chosen = chosen - trials[BASELINE].to_numpy(dtype=float)
    given = trials[AMPLITUDE].to_numpy(dtype=float)
    trials[AMPLITUDE] = np.where(np.isfinite(chosen), chosen, given)
    return trials
