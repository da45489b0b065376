"""The canonical per-trial startle table and the recording every reader returns.

It lives beside the readers (which build it) so that the dependency goes one way:
readers (:mod:`behavior.io`) -> computation (:mod:`behavior.startle`) -> commands.
:mod:`behavior.startle.table` re-exports every name here.

Every startle reader (:mod:`behavior.io.startle_registry`) ends in a
:class:`StartleRecording`: one row per trial in :attr:`StartleRecording.trials`,
with the columns below, and -- for files that hold raw samples -- the waveforms
as two aligned 2-D arrays. Amplitudes are computed from the waveforms by
:func:`behavior.startle.amplitude.measure_recording`, never by the reader.

Columns of the per-trial table (units in the names; amplitudes are in the
instrument's own units: mV for SR-LAB, N for Kinder, g for TSE, whatever a lab
table holds):

``source_file``  file the trial was read from
``line``         1-based line (or spreadsheet row) of the trial in that file
``subject``      animal identifier as written in the file
``chamber``      chamber / enclosure / box (text, may be empty)
``session``      session identifier (text, may be empty)
``group``        treatment group / genotype as written in the file (may be empty)
``phase``        test phase, e.g. the sheet name of a multi-sheet workbook
``trial_no``     trial number in session order (1-based)
``trial_name``   trial type as named in the file (``PPI_120_70``, ``p120``...)
``vmax``         maximum in the response window
``vavg``         mean in the response window
``p2p``          peak-to-peak (max - min) in the response window
``latency_ms``   time of the maximum after pulse onset (ms)
``baseline``     pre-stimulus baseline (mean before onset, or the value at onset)
``amplitude``    the amplitude that enters %PPI (the protocol's ``measure``)

Added when trials are classified against a protocol
(:func:`behavior.startle.ppi.classify_trials`): ``role``, ``pulse_db``,
``prepulse_db``, ``block``, ``excluded`` (trial left out) and
``exclusion_reason``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "AMPLITUDE", "BASELINE", "BLOCK", "CHAMBER", "EXCLUDED", "EXCLUSION_REASON", "GROUP",
    "LATENCY_MS", "LINE", "MEASURE_COLUMNS", "NO_STIMULUS", "P2P", "PHASE", "PREPULSE_ALONE",
    "PREPULSE_DB", "PREPULSE_PULSE", "PULSE_ALONE", "PULSE_DB", "ROLE", "ROLES", "SESSION",
    "SOURCE_FILE", "SUBJECT", "TEXT_COLUMNS", "TRIAL_COLUMNS", "TRIAL_NAME", "TRIAL_NO",
    "UNKNOWN", "VAVG", "VMAX", "StartleRecording", "trial_frame",
]

SOURCE_FILE = "source_file"
LINE = "line"
SUBJECT = "subject"
CHAMBER = "chamber"
SESSION = "session"
GROUP = "group"
PHASE = "phase"
TRIAL_NO = "trial_no"
TRIAL_NAME = "trial_name"
VMAX = "vmax"
VAVG = "vavg"
P2P = "p2p"
LATENCY_MS = "latency_ms"
BASELINE = "baseline"
AMPLITUDE = "amplitude"
ROLE = "role"
PULSE_DB = "pulse_db"
PREPULSE_DB = "prepulse_db"
BLOCK = "block"
EXCLUDED = "excluded"
EXCLUSION_REASON = "exclusion_reason"

#: Columns every reader fills (text columns may be empty strings, numbers NaN).
TRIAL_COLUMNS = (
    SOURCE_FILE,
    LINE,
    SUBJECT,
    CHAMBER,
    SESSION,
    GROUP,
    PHASE,
    TRIAL_NO,
    TRIAL_NAME,
    VMAX,
    VAVG,
    P2P,
    LATENCY_MS,
    BASELINE,
    AMPLITUDE,
)
TEXT_COLUMNS = (SOURCE_FILE, SUBJECT, CHAMBER, SESSION, GROUP, PHASE, TRIAL_NAME)
MEASURE_COLUMNS = (VMAX, VAVG, P2P, LATENCY_MS, BASELINE, AMPLITUDE)

#: Trial roles of a startle session.
PULSE_ALONE = "pulse_alone"
PREPULSE_PULSE = "prepulse_pulse"
PREPULSE_ALONE = "prepulse_alone"
NO_STIMULUS = "no_stimulus"
UNKNOWN = "unknown"
ROLES = (PULSE_ALONE, PREPULSE_PULSE, PREPULSE_ALONE, NO_STIMULUS)


def trial_frame(columns: dict[str, object], n: int) -> pd.DataFrame:
    """Build a per-trial table with every canonical column, filling the missing ones.

    Parameters
    ----------
    columns
        Known columns (arrays of length ``n`` or scalars).
    n
        Number of trials.
    """
    data: dict[str, object] = {}
    for name in TRIAL_COLUMNS:
        value = columns.get(name)
        if value is None:
            value = "" if name in TEXT_COLUMNS else np.nan
        if np.isscalar(value):
            value = [value] * n
        elif isinstance(value, pd.Series):
            value = value.to_numpy()  # positions, not index labels
        data[name] = value
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    for name in TEXT_COLUMNS:
        frame[name] = frame[name].astype(str).where(frame[name].notna(), "")
        frame[name] = frame[name].replace({"nan": "", "None": ""})
    for name in MEASURE_COLUMNS:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    frame[TRIAL_NO] = pd.to_numeric(frame[TRIAL_NO], errors="coerce").astype(float)
    frame[LINE] = pd.to_numeric(frame[LINE], errors="coerce").astype("Int64")
    return frame


@dataclass(frozen=True)
class StartleRecording:
    """What a startle reader returns: trials, and raw samples when the file has them.

    Attributes
    ----------
    trials
        Per-trial table with :data:`TRIAL_COLUMNS`.
    time_ms
        ``(n_trials, n_samples)`` sample times relative to the time origin of the
        file (ms), NaN-padded; ``None`` when the file holds no samples.
    samples
        Sensor values aligned with ``time_ms``; a row of NaN means the trial has
        no waveform (its measures come from the file).
    signed
        True when the sensor is signed (an accelerometer), so that the waveform
        is rectified before measuring when the protocol says ``rectify: auto``.
    layout
        Name of the reader that produced the recording.
    warnings
        Problems that did not stop reading (skipped rows, odd values).
    """

    trials: pd.DataFrame
    time_ms: np.ndarray | None = None
    samples: np.ndarray | None = None
    signed: bool = False
    layout: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_waveforms(self) -> bool:
        return self.samples is not None and self.samples.size > 0
