"""Merging per-trial tables from many files: subject IDs, near-duplicates, duplicates."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from behavior.startle.table import SOURCE_FILE, SUBJECT, TRIAL_NO


def subject_key(name: str) -> str:
    """Subject identity: surrounding/inner whitespace collapsed, case-folded.

    Examples
    --------
    >>> subject_key("  M 01 ") == subject_key("m 01")
    True
    """
    return " ".join(str(name).split()).casefold()


def _skeleton(key: str) -> str:
    # Near-duplicate test: punctuation and leading zeros of numbers removed.
    letters_digits = re.sub(r"[^0-9a-z]+", "", key)
    return re.sub(r"(?<![0-9])0+(?=[0-9])", "", letters_digits)


def merge_trials(frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """Concatenate per-trial tables and normalise subject IDs.

    Parameters
    ----------
    frames
        Per-trial tables (one per file).

    Returns
    -------
    trials
        One table; ``subject`` holds the first spelling seen of each subject
        (whitespace collapsed), so ``"M01 "`` and ``"m01"`` are one animal.
    warnings
        Merged spellings and near-duplicate IDs (``M-01`` vs ``M1``), which are
        *not* merged.
    duplicated
        Subject -> reason, for subjects whose trial numbers occur twice (the
        same animal read from two files or twice in one file).
    """
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(), [], {}
    trials = pd.concat(frames, ignore_index=True)
    warnings: list[str] = []
    raw = trials[SUBJECT].astype(str)
    uniq = pd.unique(raw)
    spelling: dict[str, str] = {}
    variants: dict[str, set[str]] = {}
    for name in uniq:
        key = subject_key(name)
        spelling.setdefault(key, " ".join(str(name).split()))
        variants.setdefault(key, set()).add(str(name))
    for key, names in variants.items():
        if len(names) > 1:
            shown = ", ".join(repr(n) for n in sorted(names))
            warnings.append(
                f"subject IDs {shown} differ only in case or spaces: merged as '{spelling[key]}'"
            )
    mapping = {name: spelling[subject_key(name)] for name in uniq}
    trials[SUBJECT] = raw.map(mapping)

    by_skeleton: dict[str, list[str]] = {}
    for key in spelling:
        by_skeleton.setdefault(_skeleton(key), []).append(spelling[key])
    for names in by_skeleton.values():
        if len(names) > 1:
            shown = ", ".join(repr(n) for n in sorted(names))
            warnings.append(f"near-duplicate subject IDs {shown}: kept apart; check the IDs")

    duplicated: dict[str, str] = {}
    numbered = trials[np.isfinite(trials[TRIAL_NO].to_numpy(dtype=float))]
    dup = numbered.duplicated([SUBJECT, TRIAL_NO], keep=False)
    if dup.any():
        for subject, group in numbered[dup].groupby(SUBJECT, sort=True):
            files = sorted(set(group[SOURCE_FILE]))
            if len(files) > 1:
                reason = f"duplicated subject: same trial numbers in {' and '.join(files)}"
            else:
                reason = f"duplicated subject: trial numbers repeated in {files[0]}"
            duplicated[str(subject)] = reason
            warnings.append(f"subject '{subject}': {reason}; excluded")
    return trials, warnings, duplicated
