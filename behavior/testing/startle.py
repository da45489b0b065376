"""Synthetic startle sessions with known amplitudes, written in every file layout.

Used by the tests and the benchmarks: the truth table of
:func:`simulate_trials` says exactly which amplitude, latency and baseline each
trial has, and the ``write_*`` functions put it in each vendor layout, so a
reader + amplitude + %PPI round trip can be checked against known values.

Sessions (62 trials, background 70 dB, pulse 120 dB, prepulses 74/78/86 dB):

``srlab``       trials 1-6 pulse-alone, 7-56 ten each of pulse-alone, three
                prepulse+pulse levels and no-stimulus in seeded random order,
                57-62 pulse-alone (protocol ``ppi_srlab``).
``four_block``  trials 1-6 pulse-alone, 7-31 and 32-56 five of each type
                in random order, 57-62 pulse-alone (protocol ``ppi_four_block``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PREPULSES_DB = (74.0, 78.0, 86.0)
#: Fraction of the startle left by each prepulse (so true %PPI = 100 x (1 - fraction)).
FRACTION_LEFT = {74.0: 0.8, 78.0: 0.6, 86.0: 0.35}
SRLAB_NAMES = {
    "pa": "Startle_120_0",
    74.0: "PPI_120_74",
    78.0: "PPI_120_78",
    86.0: "PPI_120_86",
    "ns": "NoStim_0_0",
}
LAB_NAMES = {"pa": "p120", 74.0: "pp4", 78.0: "pp8", 86.0: "pp16", "ns": "nostim"}

TRUTH_COLUMNS = (
    "subject",
    "chamber",
    "trial_no",
    "kind",
    "trial_name",
    "amplitude",
    "latency_ms",
    "baseline",
)


def session_kinds(session: str, rng: np.random.Generator) -> list[object]:
    """Trial kinds in session order: ``"pa"``, ``"ns"`` or a prepulse level (dB)."""
    kinds: list[object] = ["pa", *PREPULSES_DB, "ns"]
    if session == "srlab":
        middle = [k for k in kinds for _ in range(10)]
        rng.shuffle(middle)
        return ["pa"] * 6 + middle + ["pa"] * 6
    if session == "four_block":
        b2 = [k for k in kinds for _ in range(5)]
        b3 = list(b2)
        rng.shuffle(b2)
        rng.shuffle(b3)
        return ["pa"] * 6 + b2 + b3 + ["pa"] * 6
    raise ValueError(f"unknown session '{session}'")


def simulate_trials(
    n_subjects: int,
    *,
    seed: int = 0,
    session: str = "srlab",
    names: str = "srlab",
    noise: float = 0.1,
    n_chambers: int = 4,
) -> pd.DataFrame:
    """Truth table of a synthetic experiment (one row per trial).

    Each animal has a startle level drawn from 300-900 units, starts 20 %
    above and ends 20 % below it (habituation blocks), keeps
    :data:`FRACTION_LEFT` of it after each prepulse, and has no-stimulus
    amplitudes near 10; every trial is multiplied by ``1 + noise x N(0, 1)``
    (clipped at 0.2). Latencies are even ms in 16-44, baselines 0.5-1.5.
    """
    rng = np.random.default_rng(seed)
    kinds = session_kinds(session, rng)
    label = SRLAB_NAMES if names == "srlab" else LAB_NAMES
    n_t = len(kinds)
    level = rng.uniform(300, 900, n_subjects)
    factor = np.ones(n_t)
    factor[:6], factor[-6:] = 1.2, 0.8
    base = np.array([FRACTION_LEFT.get(k, 1.0) if k != "ns" else 0.0 for k in kinds])
    amp = level[:, None] * base[None, :] * factor[None, :]
    is_ns = np.array([k == "ns" for k in kinds])
    amp[:, is_ns] = rng.uniform(5, 15, (n_subjects, int(is_ns.sum())))
    amp = amp * np.clip(1 + noise * rng.standard_normal(amp.shape), 0.2, None)
    amp = np.round(amp, 3)
    subjects = [f"M{i + 1:03d}" for i in range(n_subjects)]
    return pd.DataFrame(
        {
            "subject": np.repeat(subjects, n_t),
            "chamber": np.repeat([str(i % n_chambers + 1) for i in range(n_subjects)], n_t),
            "trial_no": np.tile(np.arange(1, n_t + 1), n_subjects),
            "kind": np.tile(np.array(kinds, dtype=object), n_subjects),
            "trial_name": np.tile(np.array([label[k] for k in kinds], dtype=object), n_subjects),
            "amplitude": amp.ravel(),
            "latency_ms": 2.0 * rng.integers(8, 23, amp.size),
            "baseline": np.round(rng.uniform(0.5, 1.5, amp.size), 3),
        }
    )


def waveforms(truth: pd.DataFrame, time_ms: np.ndarray, half_width_ms: float = 10.0) -> np.ndarray:
    """One waveform per truth row: flat baseline, then a raised-cosine peak of the trial amplitude.

    Every sample farther than ``half_width_ms`` from ``latency_ms`` equals
    ``baseline`` (so the value at onset and before it is the baseline), and the
    maximum equals ``amplitude`` exactly at ``latency_ms`` when that time is a
    sample time.
    """
    a = truth["amplitude"].to_numpy(float)[:, None]
    b = truth["baseline"].to_numpy(float)[:, None]
    lat = truth["latency_ms"].to_numpy(float)[:, None]
    d = np.asarray(time_ms, float)[None, :] - lat
    bump = np.where(np.abs(d) < half_width_ms, 0.5 * (1 + np.cos(np.pi * d / half_width_ms)), 0.0)
    return b + (a - b) * bump


def _write(
    path: str | Path,
    frame: pd.DataFrame,
    *,
    header: bool = True,
    sep: str = ",",
    decimal: str = ".",
    encoding: str = "utf-8",
    newline: str = "\r\n",
    preamble: list[str] | None = None,
) -> Path:
    text = frame.to_csv(
        None, sep=sep, decimal=decimal, index=False, header=header, lineterminator=newline
    )
    if preamble:
        text = newline.join(preamble) + newline + text
    path = Path(path)
    path.write_bytes(text.encode(encoding))
    return path


def write_srlab(
    path: str | Path,
    truth: pd.DataFrame,
    *,
    header: bool = True,
    run_data: bool = False,
    rate: float = 1000.0,
    samples: int = 200,
    **fmt: str,
) -> Path:
    """SR-LAB 20-column per-trial CSV; ``run_data`` appends the waveform (from onset).

    The waveform goes in ``Run Data`` and the following fields, one sample each.
    """
    n = len(truth)
    t = np.arange(samples) * 1000.0 / rate
    frame = pd.DataFrame(
        {
            "Chamber": truth["chamber"].to_numpy(),
            "Subject": truth["subject"].to_numpy(),
            "Session": 1,
            "Channel": 1,
            "Trial": truth["trial_name"].to_numpy(),
            "Trial Num": truth["trial_no"].to_numpy(),
            "Group": "A",
            "Param": 0,
            "Trial List Block": 1,
            "Samples": samples,
            "Rate": int(rate),
            "V Start": truth["baseline"].to_numpy(),
            "mV Max": truth["amplitude"].to_numpy(),
            "T Max": truth["latency_ms"].to_numpy(),
            "mV Avg": np.round(truth["amplitude"].to_numpy() / 4, 3),
            "V Peak": truth["amplitude"].to_numpy(),
            "T Peak": truth["latency_ms"].to_numpy(),
            "Run Time": "12/12/2018 2:25:45 PM",
            "TimeStamp": np.arange(n) * 15 + 1544624745,
            "Run Data": "" if not run_data else None,
        }
    )
    if run_data:
        waves = pd.DataFrame(np.round(waveforms(truth, t), 4))
        frame = pd.concat([frame.drop(columns="Run Data"), waves], axis=1)
        frame.columns = [*frame.columns[:19], "Run Data", *[""] * (samples - 1)]
    return _write(path, frame, header=header, **fmt)


def _underscore_frame(truth: pd.DataFrame) -> pd.DataFrame:
    """The SR-LAB workbook's columns (underscore header) for the trials of ``truth``."""
    return pd.DataFrame(
        {
            "Trial_Num": truth["trial_no"].to_numpy(),
            "Trial_ID": truth["trial_name"].to_numpy(),
            "Channel_ID": 1,
            "Chamber_ID": truth["chamber"].to_numpy(),
            "Subject_ID": truth["subject"].to_numpy(),
            "Session_ID": 1,
            "Group_ID": "A",
            "Param": 0,
            "Trial_List_Block": 1,
            "Samples": 200,
            "Rate": 1000,
            "V_Start": truth["baseline"].to_numpy(),
            "mV_Max": truth["amplitude"].to_numpy(),
            "T_Max": truth["latency_ms"].to_numpy(),
            "mV_Avg": np.round(truth["amplitude"].to_numpy() / 4, 3),
            "Run_Time": "12/12/2018 2:25:45 PM",
            "TimeStampPT": 1544624745,
        }
    )


def write_srlab_xlsx(path: str | Path, phases: dict[str, pd.DataFrame]) -> Path:
    """SR-LAB .xlsx with underscore headers, one sheet per phase (numbers as given)."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sheet, truth in phases.items():
            _underscore_frame(truth).to_excel(writer, sheet_name=sheet, index=False)
    return Path(path)


def write_srlab_underscore(path: str | Path, truth: pd.DataFrame, **fmt: str) -> Path:
    """One sheet of the SR-LAB workbook saved as text by Excel: the underscore header,
    ``Chamber_ID`` and ``Subject_ID`` first (as FIELD.md shows it); ``fmt`` as
    :func:`write_srlab` (a European Excel: ``encoding="utf-16", sep=";", decimal=","``)."""
    frame = _underscore_frame(truth)
    first = ["Chamber_ID", "Subject_ID"]
    return _write(path, frame[first + [c for c in frame.columns if c not in first]], **fmt)


def write_kinder(
    path: str | Path,
    truth: pd.DataFrame,
    *,
    session: str = "S1",
    n_samples: int = 500,
    pre_ms: int = 100,
    **fmt: str,
) -> Path:
    """Kinder per-sample CSV of 1-8 animals with the same trials, one per enclosure.

    ``Time(ms)`` runs from ``-pre_ms`` in 1-ms steps (pulse onset at 0).
    """
    subjects = list(pd.unique(truth["subject"]))
    first = truth[truth["subject"] == subjects[0]]
    t = np.arange(n_samples, dtype=float) - pre_ms
    n_t = len(first)
    cols: dict[str, object] = {
        "Session": session,
        "TrialNo": np.repeat(first["trial_no"].to_numpy(), n_samples),
        "TrialIndex": np.repeat(np.arange(1, n_t + 1), n_samples),
        "TrialName": np.repeat(first["trial_name"].to_numpy(), n_samples),
        "Time(ms)": np.tile(t, n_t).astype(int),
    }
    for k, s in enumerate(subjects, start=1):
        cols[f"Encl {k}"] = np.round(waveforms(truth[truth["subject"] == s], t), 4).ravel()
    return _write(path, pd.DataFrame(cols), **fmt)


def write_tse(
    path: str | Path,
    truth: pd.DataFrame,
    *,
    step_ms: float = 2.0,
    start_ms: float = -100.0,
    n_samples: int = 250,
    signed: bool = True,
    **fmt: str,
) -> Path:
    """TSE analog export: metadata rows, then one row per 2-ms sample of ``ValueG``.

    With ``signed``, every other sample after onset flips sign (an
    accelerometer swings both ways), so only a rectified measure recovers the
    amplitude.
    """
    t = start_ms + step_ms * np.arange(n_samples)
    w = waveforms(truth, t)
    if signed:
        flip = np.where((t >= 0) & (np.arange(n_samples) % 2 == 1), -1.0, 1.0)
        w = w * flip[None, :]
    n_t = len(truth)
    frame = pd.DataFrame(
        {
            "Animal No.": np.repeat(truth["subject"].to_numpy(), n_samples),
            "Weight": 25.3,
            "Exp. No.": 1,
            "Box": np.repeat(truth["chamber"].to_numpy(), n_samples),
            "Trial": np.repeat(truth["trial_name"].to_numpy(), n_samples),
            "TrialNo": np.repeat(truth["trial_no"].to_numpy(), n_samples),
            "MS": np.tile(t, n_t),
            "ValueG": np.round(w, 5).ravel(),
        }
    )
    sep = fmt.get("sep", ",")
    preamble = [
        f"TSE Startle Response{sep}Export Analog Data",
        f"Experiment{sep}PPI mice",
        f"Date{sep}12.03.2024",
        "",
    ]
    return _write(path, frame, preamble=preamble, **fmt)


def write_wide(path: str | Path, truth: pd.DataFrame, **fmt: str) -> Path:
    """Wide lab table: subject, chamber, group, then ``<name>.<k>`` columns in session order."""
    first = truth[truth["subject"] == truth["subject"].iloc[0]]
    seen: dict[str, int] = {}
    columns = []
    for name in first["trial_name"]:
        seen[name] = seen.get(name, 0) + 1
        columns.append(f"{name}.{seen[name]}")
    subjects = list(pd.unique(truth["subject"]))
    n_t = len(first)
    values = truth["amplitude"].to_numpy().reshape(len(subjects), n_t)
    frame = pd.DataFrame(values, columns=columns)
    frame.insert(0, "group", "vehicle")
    frame.insert(0, "chamber", truth["chamber"].to_numpy()[::n_t])
    frame.insert(0, "subject", subjects)
    return _write(path, frame, **fmt)


def write_long(path: str | Path, truth: pd.DataFrame, **fmt: str) -> Path:
    """Tidy long lab table: subject, trial, trial_type, amplitude, chamber."""
    frame = pd.DataFrame(
        {
            "subject": truth["subject"].to_numpy(),
            "trial": truth["trial_no"].to_numpy(),
            "trial_type": truth["trial_name"].to_numpy(),
            "amplitude": truth["amplitude"].to_numpy(),
            "chamber": truth["chamber"].to_numpy(),
        }
    )
    return _write(path, frame, **fmt)
