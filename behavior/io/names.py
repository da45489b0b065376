"""Names of the files written per video (traces, split arena videos, pictures).

Output files are named after the video's stem, so ``cage3/day1.mp4`` gives
``day1_arena1.trace.csv``. Labs often keep one folder per day or cage with the same
file names in each (``day1/mouse1.mp4``, ``day2/mouse1.mp4``), or one recording in
two formats (``m1.mp4``, ``m1.avi``): in one batch those stems would clash and one
video's files would overwrite the other's. :func:`unique_stems` keeps the plain stem
wherever it is unique and lengthens only the clashing ones.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path


def _candidate(path: Path, level: int) -> str:
    """Longer and longer names for a clashing path: level 1 adds the file's ending
    (``m1-mp4``), 2 the parent folder (``day1-mouse1``), 3 both, 4 two parent
    folders, and so on."""
    parents = [p.rstrip(":\\/") for p in Path(os.path.abspath(path)).parent.parts]
    parents = [p for p in parents if p]
    depth = min(level // 2, len(parents))
    parts = [*parents[len(parents) - depth:], path.stem]
    if level % 2 and path.suffix:
        parts.append(path.suffix.lstrip("."))
    return "-".join(parts)


def unique_stems(paths: Sequence[str | Path]) -> list[str]:
    """One output stem per path, no two alike (ignoring case, as Windows and macOS do).

    A path's stem is kept where no other path in the list has it; clashing paths
    get their ending (``m1-mp4``, ``m1-avi``) or as many of their parent folders'
    names in front as it takes (``day1-mouse1``, ``day2-mouse1``), whichever is
    shorter.
    The same path given twice gets ``-2``, ``-3``, ...

    >>> unique_stems(["day1/mouse1.mp4", "day2/mouse1.mp4", "day2/mouse2.mp4"])
    ['day1-mouse1', 'day2-mouse1', 'mouse2']
    """
    keys = [os.path.normcase(os.path.abspath(p)) for p in paths]
    # the same file given twice is named once (from its path as first given: normcase
    # lowers the case on Windows, and names keep the file's own)
    first = {}
    for key, p in zip(keys, paths, strict=True):
        first.setdefault(key, Path(os.path.abspath(p)))
    distinct = list(first)
    items = list(first.values())
    levels = [0] * len(items)
    names = [p.stem for p in items]
    longest = max((2 * len(p.parts) + 1 for p in items), default=0)
    while True:
        counts = Counter(n.lower() for n in names)
        clashing = [i for i, n in enumerate(names) if counts[n.lower()] > 1]
        if not clashing or all(levels[i] > longest for i in clashing):
            break
        for i in clashing:
            levels[i] += 1
            names[i] = _candidate(items[i], levels[i])
    name_of = dict(zip(distinct, names, strict=True))
    # repeats of one file, and (only on odd file systems) names still alike: numbered
    seen: Counter[str] = Counter()
    out = []
    for key in keys:
        n = name_of[key]
        seen[n.lower()] += 1
        out.append(n if seen[n.lower()] == 1 else f"{n}-{seen[n.lower()]}")
    return out
