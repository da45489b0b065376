"""Recordings + protocol -> per-trial table and per-animal %PPI table (no file access)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from behavior.errors import AnalysisError
from behavior.startle.amplitude import measure_recording
from behavior.startle.ppi import (
    classify_trials,
    flag_outlier_trials,
    ppi_summary,
    trial_table_for_models,
)
from behavior.startle.protocol import StartleProtocol
from behavior.startle.subjects import merge_trials
from behavior.startle.table import EXCLUDED, EXCLUSION_REASON, SUBJECT, StartleRecording


@dataclass(frozen=True)
class PpiResult:
    """Result of :func:`analyze_recordings`.

    Attributes
    ----------
    summary
        One row per animal x prepulse level (:data:`behavior.startle.ppi.SUMMARY_COLUMNS`).
    trials
        One row per trial: canonical columns, role, levels, block, per-trial
        ``ppi_pct``, ``excluded`` (trial or animal left out) and the reason.
    warnings
        Problems that did not stop the analysis.
    """

    summary: pd.DataFrame
    trials: pd.DataFrame
    warnings: tuple[str, ...]


def measured_trials(
    recordings: list[StartleRecording], protocol: StartleProtocol
) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """Measure every recording's waveforms, then merge them (subject IDs normalised)."""
    warnings: list[str] = []
    frames = []
    for rec in recordings:
        warnings.extend(rec.warnings)
        frames.append(measure_recording(rec, protocol.amplitude))
    trials, merge_warnings, duplicated = merge_trials(frames)
    return trials, warnings + merge_warnings, duplicated


def analyze_recordings(recordings: list[StartleRecording], protocol: StartleProtocol) -> PpiResult:
    """Full analysis: amplitudes, trial roles and blocks, outlier trials, %PPI per animal.

    Raises
    ------
    AnalysisError
        No trial, or no trial the protocol knows.
    """
    trials, warnings, duplicated = measured_trials(recordings, protocol)
    if not len(trials):
        raise AnalysisError("no trials were read")
    trials, notes = classify_trials(trials, protocol)
    warnings.extend(notes)
    trials = flag_outlier_trials(trials, protocol.exclusions)
    summary = ppi_summary(trials, protocol, duplicated)
    per_trial = trial_table_for_models(trials, protocol)
    # Animal-level exclusions are also shown on each of the animal's trials.
    reasons = summary.drop_duplicates(SUBJECT).set_index(SUBJECT)[EXCLUSION_REASON]
    animal_reason = per_trial[SUBJECT].map(reasons).fillna("")
    animal_out = animal_reason != ""
    per_trial[EXCLUSION_REASON] = per_trial[EXCLUSION_REASON].where(
        ~animal_out | per_trial[EXCLUDED], animal_reason
    )
    per_trial[EXCLUDED] = per_trial[EXCLUDED] | animal_out
    return PpiResult(summary, per_trial, tuple(warnings))
