"""Per-trial amplitudes + protocol -> %PPI, startle, habituation per animal (pure functions).

Pipeline (what ``behavior ppi analyze`` runs after reading and measuring)::

    trials, notes = classify_trials(trials, protocol)    # role, dB, block
    trials = flag_outlier_trials(trials, protocol.exclusions)
    summary = ppi_summary(trials, protocol, duplicated)  # one row per animal x prepulse

Output columns of :func:`ppi_summary` (units: dB SPL, ms, sensor units):

``subject, group, chamber``     the animal, its group as in the file, its chamber
``pulse_db, prepulse_db``        pulse and prepulse levels of the prepulse+pulse trials
``prepulse_above_bg_db``         prepulse level above the background noise
``ppi_pct``                      %PPI (NaN for an excluded animal)
``startle``                      startle magnitude: mean pulse-alone amplitude
``prepulse_pulse``               mean prepulse+pulse amplitude at this level
``prepulse_alone``               mean prepulse-alone amplitude at this level (if any)
``latency_ms``                   mean latency to peak of the prepulse+pulse trials
``n_trials``                     prepulse+pulse trials that entered %PPI
``n_pulse_alone``                pulse-alone trials that entered the startle magnitude
``startle_latency_ms``           mean latency to peak of those pulse-alone trials
``habituation``                  last habituation block - first (pulse-alone means)
``nostim``, ``n_nostim``         mean no-stimulus amplitude (movement baseline) and count
``n_trials_excluded``            trials of this animal left out as outliers
``excluded``, ``exclusion_reason``  animal left out, and why
``ppi_method``                   the %PPI method used
``source_file``                  file(s) the animal was read from
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from behavior.errors import AnalysisError
from behavior.startle.protocol import Exclusions, StartleProtocol
from behavior.startle.table import (
    AMPLITUDE,
    BLOCK,
    CHAMBER,
    EXCLUDED,
    EXCLUSION_REASON,
    GROUP,
    LATENCY_MS,
    NO_STIMULUS,
    PREPULSE_ALONE,
    PREPULSE_DB,
    PREPULSE_PULSE,
    PULSE_ALONE,
    PULSE_DB,
    ROLE,
    SOURCE_FILE,
    SUBJECT,
    TRIAL_NAME,
    TRIAL_NO,
    UNKNOWN,
)

PPI_PCT = "ppi_pct"
STARTLE = "startle"
PREPULSE_ABOVE_BG_DB = "prepulse_above_bg_db"
PREPULSE_PULSE_MEAN = "prepulse_pulse"
PREPULSE_ALONE_MEAN = "prepulse_alone"
N_TRIALS = "n_trials"
N_PULSE_ALONE = "n_pulse_alone"
STARTLE_LATENCY_MS = "startle_latency_ms"
HABITUATION = "habituation"
NOSTIM = "nostim"
N_NOSTIM = "n_nostim"
N_TRIALS_EXCLUDED = "n_trials_excluded"
PPI_METHOD = "ppi_method"

SUMMARY_COLUMNS = (
    SUBJECT,
    GROUP,
    CHAMBER,
    PULSE_DB,
    PREPULSE_DB,
    PREPULSE_ABOVE_BG_DB,
    PPI_PCT,
    STARTLE,
    PREPULSE_PULSE_MEAN,
    PREPULSE_ALONE_MEAN,
    LATENCY_MS,
    N_TRIALS,
    N_PULSE_ALONE,
    STARTLE_LATENCY_MS,
    HABITUATION,
    NOSTIM,
    N_NOSTIM,
    N_TRIALS_EXCLUDED,
    EXCLUDED,
    EXCLUSION_REASON,
    PPI_METHOD,
    SOURCE_FILE,
)


def classify_trials(
    trials: pd.DataFrame, protocol: StartleProtocol
) -> tuple[pd.DataFrame, list[str]]:
    """Add ``role``, ``pulse_db``, ``prepulse_db``, ``block``, ``excluded`` to a per-trial table.

    Trial names unknown to the protocol get role ``unknown`` and are reported;
    trials outside every block get an empty ``block`` and do not enter any mean.

    Returns
    -------
    trials, warnings
    """
    out = trials.copy()
    names = pd.unique(out[TRIAL_NAME].astype(str))
    types = {n: protocol.lookup(n) for n in names}
    out[ROLE] = out[TRIAL_NAME].map({n: (t.role if t else UNKNOWN) for n, t in types.items()})
    out[PULSE_DB] = (
        out[TRIAL_NAME]
        .map({n: (t.pulse_db if t else np.nan) for n, t in types.items()})
        .astype(float)
    )
    out[PREPULSE_DB] = (
        out[TRIAL_NAME]
        .map({n: (t.prepulse_db if t else np.nan) for n, t in types.items()})
        .astype(float)
    )
    warnings: list[str] = []
    unknown = [n for n, t in types.items() if t is None]
    if unknown:
        counts = out.loc[out[ROLE] == UNKNOWN, TRIAL_NAME].value_counts()
        shown = ", ".join(f"'{n}' ({counts[n]} trials)" for n in sorted(unknown, key=str))
        warnings.append(f"trial names not in protocol '{protocol.name}', left out: {shown}")

    trial_no = out[TRIAL_NO].to_numpy(dtype=float)
    block = np.full(len(out), "", dtype=object)
    if protocol.blocks:
        for b in protocol.blocks:
            block[(trial_no >= b.first_trial) & (trial_no <= b.last_trial)] = b.name
        outside = (block == "") & (out[ROLE] != UNKNOWN).to_numpy()
        if outside.any():
            warnings.append(
                f"{int(outside.sum())} trials have trial numbers outside every block of "
                f"protocol '{protocol.name}' and are left out"
            )
    else:
        block[:] = "all"
    out[BLOCK] = block
    out[EXCLUDED] = False
    out[EXCLUSION_REASON] = ""
    if protocol.session_trials is not None and len(out):
        n = out.groupby(SUBJECT, sort=True).size()
        short = n[n < protocol.session_trials]
        for subject, count in short.items():
            warnings.append(
                f"subject '{subject}': {count} of {protocol.session_trials} trials (missing trials)"
            )
    return out, warnings


def flag_outlier_trials(trials: pd.DataFrame, exclusions: Exclusions) -> pd.DataFrame:
    """Mark outlier trials (``excluded``) within each animal x trial type.

    Notes
    -----
    ``mad``: robust z = |x - median| / (1.4826 MAD) of the same animal's trials
    of the same type (role, pulse and prepulse levels); ``sd``: z = |x - mean| /
    SD. A trial with z above ``outlier_threshold`` is left out. Groups with
    fewer than 3 trials, or no spread, are kept whole.
    """
    out = trials.copy()
    if exclusions.outlier_method == "none" or not len(out):
        return out
    amp = out[AMPLITUDE]
    groups = [out[SUBJECT], out[ROLE], out[PULSE_DB].fillna(-1), out[PREPULSE_DB].fillna(-1)]
    grouped = amp.groupby(groups)
    n = grouped.transform("count")
    if exclusions.outlier_method == "mad":
        centre = grouped.transform("median")
        scale = 1.4826 * (amp - centre).abs().groupby(groups).transform("median")
        label = "MAD z"
    else:
        centre = grouped.transform("mean")
        scale = grouped.transform("std")
        label = "z"
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (amp - centre).abs() / scale
    bad = (n >= 3) & (scale > 0) & (z > exclusions.outlier_threshold) & (out[ROLE] != UNKNOWN)
    out.loc[bad, EXCLUDED] = True
    out.loc[bad, EXCLUSION_REASON] = [
        f"outlier trial ({label} {v:.2f} > {exclusions.outlier_threshold:g})" for v in z[bad]
    ]
    return out


def _apply_negative(values: pd.Series, policy: str) -> pd.Series:
    if policy == "clip":
        return values.clip(lower=0)
    if policy == "drop":
        return values.where(~(values < 0))
    return values


def _pct(pa: pd.Series, pp: pd.Series) -> pd.Series:
    pa = pa.where(pa > 0)
    return 100.0 * (pa - pp) / pa


def ppi_summary(
    trials: pd.DataFrame,
    protocol: StartleProtocol,
    duplicated: dict[str, str] | None = None,
) -> pd.DataFrame:
    """%PPI, startle, habituation and no-stimulus baseline per animal and prepulse level.

    Parameters
    ----------
    trials
        Classified per-trial table (:func:`classify_trials`, then optionally
        :func:`flag_outlier_trials`).
    protocol
        Gives the %PPI method, negative-%PPI policy, blocks and exclusions.
    duplicated
        Subject -> reason for subjects to exclude as duplicates
        (:func:`behavior.startle.subjects.merge_trials`).

    Returns
    -------
    pandas.DataFrame
        :data:`SUMMARY_COLUMNS`, one row per animal x pulse x prepulse level
        (an animal without prepulse+pulse trials gets one row with NaN levels).

    Notes
    -----
    %PPI = 100 x (PA - PP) / PA, with PA the mean pulse-alone and PP the mean
    prepulse+pulse amplitude [1]_. ``average_first``: means over all trials of
    the PPI blocks. ``per_block``: %PPI in each PPI block against that block's
    own pulse-alone mean, then the mean over blocks (Palmer lab). ``per_trial``:
    each prepulse+pulse trial against the animal's pulse-alone mean over the PPI
    blocks, then the mean over trials. The negative-%PPI policy (keep, clip to
    0, drop) applies to the values that are averaged (per block, per trial) or,
    for ``average_first``, to the final value. Startle = mean pulse-alone
    amplitude of the startle blocks (``mean_of_trials``) or the mean of their
    block means (``mean_of_block_means``); habituation = pulse-alone mean of the
    last habituation block - that of the first. An animal is excluded (its
    ``ppi_pct`` set to NaN, its other values kept) when it has too few
    pulse-alone trials, when startle - mean no-stimulus amplitude is at or below
    ``min_startle_minus_nostim`` (non-responder), or when it is duplicated.

    References
    ----------
    .. [1] Swerdlow NR, Geyer MA (1998). Schizophr Bull 24:285-301.
    """
    if not len(trials):
        raise AnalysisError("no trials to analyse")
    duplicated = duplicated or {}
    ppi_blocks = {b.name for b in protocol.blocks if b.ppi} if protocol.blocks else {"all"}
    startle_blocks = {b.name for b in protocol.blocks if b.startle} if protocol.blocks else {"all"}
    usable = trials[
        ~trials[EXCLUDED].astype(bool) & (trials[ROLE] != UNKNOWN) & (trials[BLOCK] != "")
    ]
    usable = usable[np.isfinite(usable[AMPLITUDE].to_numpy(dtype=float))]
    role = usable[ROLE]
    in_ppi = usable[BLOCK].isin(ppi_blocks)
    pa = usable[(role == PULSE_ALONE) & in_ppi]
    pp = usable[(role == PREPULSE_PULSE) & in_ppi]

    subjects = pd.Index(pd.unique(trials[SUBJECT]), name=SUBJECT)
    if not len(usable[usable[ROLE].isin([PULSE_ALONE, PREPULSE_PULSE])]):
        raise AnalysisError(
            f"no pulse-alone or prepulse+pulse trial matches protocol '{protocol.name}' "
            "(check the trial names and blocks)"
        )

    key = [SUBJECT, PULSE_DB, PREPULSE_DB]
    pa_mean = pa.groupby([SUBJECT, PULSE_DB])[AMPLITUDE].mean()
    pp_stats = pp.groupby(key).agg(
        **{
            PREPULSE_PULSE_MEAN: (AMPLITUDE, "mean"),
            N_TRIALS: (AMPLITUDE, "size"),
            LATENCY_MS: (LATENCY_MS, "mean"),
        }
    )
    pa_for_pp = pa_mean.reindex(pp_stats.index.droplevel(PREPULSE_DB)).to_numpy()
    policy = protocol.negative_ppi
    if protocol.ppi_method == "average_first":
        ppi = _apply_negative(
            _pct(pd.Series(pa_for_pp, index=pp_stats.index), pp_stats[PREPULSE_PULSE_MEAN]), policy
        )
    elif protocol.ppi_method == "per_block":
        pa_b = pa.groupby([SUBJECT, PULSE_DB, BLOCK])[AMPLITUDE].mean()
        pp_b = pp.groupby([SUBJECT, PULSE_DB, PREPULSE_DB, BLOCK])[AMPLITUDE].mean()
        pa_match = pa_b.reindex(pp_b.index.droplevel(PREPULSE_DB)).to_numpy()
        per_block = _apply_negative(_pct(pd.Series(pa_match, index=pp_b.index), pp_b), policy)
        ppi = per_block.groupby(level=[0, 1, 2]).mean()
    else:
        pa_match = pa_mean.reindex(pd.MultiIndex.from_frame(pp[[SUBJECT, PULSE_DB]])).to_numpy()
        per_trial = _apply_negative(
            _pct(pd.Series(pa_match, index=pp.index), pp[AMPLITUDE]), policy
        )
        ppi = per_trial.groupby([pp[SUBJECT], pp[PULSE_DB], pp[PREPULSE_DB]]).mean()
    pp_stats[PPI_PCT] = ppi.reindex(pp_stats.index)

    pa_alone = (
        usable[(role == PREPULSE_ALONE) & in_ppi].groupby([SUBJECT, PREPULSE_DB])[AMPLITUDE].mean()
    )
    rows = pp_stats.reset_index()
    if len(pa_alone):
        rows = rows.merge(
            pa_alone.rename(PREPULSE_ALONE_MEAN).reset_index(),
            on=[SUBJECT, PREPULSE_DB],
            how="left",
        )
    else:
        rows[PREPULSE_ALONE_MEAN] = np.nan
    missing = subjects.difference(pd.Index(rows[SUBJECT].unique()))
    if len(missing):
        rows = pd.concat([rows, pd.DataFrame({SUBJECT: missing})], ignore_index=True)

    # Per-subject values.
    st = usable[(role == PULSE_ALONE) & usable[BLOCK].isin(startle_blocks)]
    if protocol.startle_method == "mean_of_block_means":
        startle = st.groupby([SUBJECT, BLOCK])[AMPLITUDE].mean().groupby(level=0).mean()
    else:
        startle = st.groupby(SUBJECT)[AMPLITUDE].mean()
    per = pd.DataFrame(index=subjects)
    per[STARTLE] = startle
    per[N_PULSE_ALONE] = st.groupby(SUBJECT).size()
    per[N_PULSE_ALONE] = per[N_PULSE_ALONE].fillna(0).astype(int)
    per[STARTLE_LATENCY_MS] = st.groupby(SUBJECT)[LATENCY_MS].mean()
    if protocol.habituation_blocks is not None:
        first, last = protocol.habituation_blocks
        pa_all = (
            usable[role == PULSE_ALONE].groupby([SUBJECT, BLOCK])[AMPLITUDE].mean().unstack(BLOCK)
        )
        if first in pa_all and last in pa_all:
            per[HABITUATION] = pa_all[last] - pa_all[first]
        else:
            per[HABITUATION] = np.nan
    else:
        per[HABITUATION] = np.nan
    ns = usable[role == NO_STIMULUS].groupby(SUBJECT)[AMPLITUDE]
    per[NOSTIM] = ns.mean()
    per[N_NOSTIM] = ns.size()
    per[N_NOSTIM] = per[N_NOSTIM].fillna(0).astype(int)
    per[N_TRIALS_EXCLUDED] = trials[trials[EXCLUDED].astype(bool)].groupby(SUBJECT).size()
    per[N_TRIALS_EXCLUDED] = per[N_TRIALS_EXCLUDED].fillna(0).astype(int)
    for col in (CHAMBER, GROUP):
        first = trials[trials[col] != ""].groupby(SUBJECT)[col].first()
        per[col] = first.reindex(subjects).fillna("")
    per[SOURCE_FILE] = trials.groupby(SUBJECT)[SOURCE_FILE].agg(lambda s: ";".join(pd.unique(s)))

    reasons: list[str] = []
    ex = protocol.exclusions
    n_pa_all = per[N_PULSE_ALONE].to_numpy()
    diffs = (per[STARTLE] - per[NOSTIM]).to_numpy(dtype=float)
    for subject, n_pa, diff in zip(subjects, n_pa_all, diffs, strict=True):
        why = []
        if subject in duplicated:
            why.append(duplicated[subject])
        if n_pa == 0:
            why.append("no pulse-alone trials")
        elif n_pa < ex.min_pulse_alone_trials:
            why.append(f"too few pulse-alone trials ({n_pa} < {ex.min_pulse_alone_trials})")
        if (
            ex.min_startle_minus_nostim is not None
            and np.isfinite(diff)
            and diff <= ex.min_startle_minus_nostim
        ):
            why.append(
                f"non-responder: startle - no-stim = {diff:.3g} <= {ex.min_startle_minus_nostim:g}"
            )
        reasons.append("; ".join(why))
    per[EXCLUSION_REASON] = reasons
    per[EXCLUDED] = per[EXCLUSION_REASON] != ""

    rows = rows.merge(per.reset_index(), on=SUBJECT, how="left")
    rows.loc[rows[EXCLUDED], PPI_PCT] = np.nan
    rows[PREPULSE_ABOVE_BG_DB] = rows[PREPULSE_DB] - protocol.background_db
    rows[PPI_METHOD] = protocol.ppi_method
    rows[N_TRIALS] = rows[N_TRIALS].fillna(0).astype(int)
    order = {s: i for i, s in enumerate(subjects)}
    rows = rows.sort_values(
        [SUBJECT, PULSE_DB, PREPULSE_DB], key=lambda c: c.map(order) if c.name == SUBJECT else c
    )
    return rows[list(SUMMARY_COLUMNS)].reset_index(drop=True)


def trial_table_for_models(trials: pd.DataFrame, protocol: StartleProtocol) -> pd.DataFrame:
    """Per-trial table for mixed models: every classified trial, with ``ppi_pct`` per trial.

    ``ppi_pct`` is 100 x (PA - amplitude) / PA for prepulse+pulse trials, with PA
    the animal's mean pulse-alone amplitude over the PPI blocks (NaN elsewhere).
    """
    out = trials.copy()
    ppi_blocks = {b.name for b in protocol.blocks if b.ppi} if protocol.blocks else {"all"}
    ok = ~out[EXCLUDED].astype(bool) & out[BLOCK].isin(ppi_blocks) & (out[ROLE] == PULSE_ALONE)
    pa = out[ok].groupby([SUBJECT, PULSE_DB])[AMPLITUDE].mean()
    idx = pd.MultiIndex.from_frame(out[[SUBJECT, PULSE_DB]])
    pa_t = pd.Series(pa.reindex(idx).to_numpy(), index=out.index)
    ppi = _pct(pa_t, out[AMPLITUDE])
    out[PPI_PCT] = ppi.where(out[ROLE] == PREPULSE_PULSE)
    has_prepulse = out[ROLE].isin([PREPULSE_PULSE, PREPULSE_ALONE])
    out[PREPULSE_ABOVE_BG_DB] = (out[PREPULSE_DB] - protocol.background_db).where(has_prepulse)
    return out.sort_values([SUBJECT, TRIAL_NO], kind="stable").reset_index(drop=True)
