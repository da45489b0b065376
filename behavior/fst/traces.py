"""Per-frame traces of one animal: the saved output that makes re-scoring decode-free.

File format (``<video stem>_arena<N>.trace.csv``)
------------------------------------------------
A few ``# key: value`` metadata lines, then a CSV table::

    # behavior-trace: 1
    # video: /data/fst/mouse12.mp4
    # arena: 1
    # arena_rect_px: 0,0,320,480
    # end_s: 360.033
    # protocol: Mouse forced swim test
    # threshold: 0.1
    # smoothing_s: 0.5
    # min_bout_s: 1
    frame,time_s,x_px,y_px,area_px,mobility,immobile
    0,0.0,161.2,240.8,912,0.0412,1
    ...

Columns (:data:`TRACE_COLUMNS`):

``frame``      decoded frame index (0-based)
``time_s``     presentation time of the frame from the start of the video (s)
``x_px``, ``y_px``  animal centroid in full-frame pixel coordinates (NaN: not found)
``area_px``    animal area (pixels)
``mobility``   how much the most-changed patch of the animal's silhouette changed
               over 0.1 and 0.2 s (0-1), in the animal's own frame of reference (see
               :func:`behavior.fst.tracker.aligned_change`); NaN when no animal was
               found
``immobile``   1 if the frame was scored immobile with the protocol in ``threshold``
               (before the minimum bout duration), else 0

``end_s`` is where the last frame ends (its time plus one frame interval);
``protocol``, ``threshold``, ``smoothing_s``, ``min_bout_s`` record the scoring
parameters the trace was made with (``immobile`` follows them). Each thing noticed
while tracking (a title card, camera shake, the animal rarely found...) is one
``# notice: {json}`` line (:class:`behavior.notices.Notice`), so a re-scored table
shows the same warnings. Traces written before notices existed keep them in one
``# warnings: a | b`` line, read back as notices.

A trace is written to a temporary name in its folder, then renamed: a crash never
leaves half a trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from behavior.errors import InputError
from behavior.io.atomic import atomic_write, write_failure
from behavior.notices import WARNING, Notice

TRACE_VERSION = "1"
TRACE_COLUMNS = ("frame", "time_s", "x_px", "y_px", "area_px", "mobility", "immobile")
TRACE_SUFFIX = ".trace.csv"
#: The mobility measure a trace's ``mobility`` column holds (metadata
#: ``mobility_measure``; :func:`behavior.fst.tracker.aligned_change`). Traces without
#: it hold the earlier measure (the whole silhouette's changed share), on another
#: scale: reading one gives a warning.
MOBILITY_MEASURE = "most-changed patch, side 1/3 of the body's"


@dataclass
class Trace:
    """One animal's per-frame trace plus where it came from."""

    video: str
    arena: int
    table: pd.DataFrame
    end_s: float
    meta: dict[str, str] = field(default_factory=dict)
    #: what was noticed while tracking (the video's and this arena's)
    notices: list[Notice] = field(default_factory=list)

    @property
    def time_s(self) -> np.ndarray:
        return self.table["time_s"].to_numpy(float)

    @property
    def mobility(self) -> np.ndarray:
        return self.table["mobility"].to_numpy(float)


def trace_name(video: str | Path, arena: int, stem: str | None = None) -> str:
    """``<stem>_arena<N>.trace.csv``; ``stem``: the video's stem unless given (a
    batch gives videos with the same stem longer ones, see
    :func:`behavior.io.names.unique_stems`)."""
    return f"{stem or Path(video).stem}_arena{arena}{TRACE_SUFFIX}"


def write_trace(trace: Trace, directory: str | Path, stem: str | None = None) -> Path:
    """Write a trace into ``directory`` (created if needed); returns the file path.

    ``stem``: the file name's start, as :func:`trace_name`."""
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failure(directory, exc) from None
    path = Path(directory) / trace_name(trace.video, trace.arena, stem)
    meta = {"behavior-trace": TRACE_VERSION, "video": trace.video, "arena": str(trace.arena),
            "end_s": f"{trace.end_s:.6f}", **trace.meta}
    meta.pop("warnings", None)  # kept as notices now
    with atomic_write(path, "w", newline="\n") as fh:
        for key, value in meta.items():
            fh.write(f"# {key}: {value}\n")
        for notice in trace.notices:
            fh.write(f"# notice: {notice.to_json()}\n")
        # 10 significant digits keep frame times exact to well under a microsecond
        trace.table.loc[:, list(TRACE_COLUMNS)].to_csv(fh, index=False, float_format="%.10g")
    return path


def read_trace(path: str | Path) -> Trace:
    """Read a trace written by :func:`write_trace`; errors name the file and the problem."""
    path = Path(path)
    meta: dict[str, str] = {}
    found: list[Notice] = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if not line.startswith("#"):
                    break
                key, _, value = line[1:].partition(":")
                if key.strip() == "notice":
                    try:
                        found.append(Notice.from_json(value.strip()))
                    except (ValueError, KeyError, TypeError):
                        raise InputError(path, f"bad notice line: {line.strip()}") from None
                    continue
                meta[key.strip()] = value.strip()
        if "behavior-trace" not in meta:
            raise InputError(path, "not a behavior trace (no '# behavior-trace:' header line)")
        table = pd.read_csv(path, comment="#")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(path, f"cannot read trace: {exc}") from None
    missing = [c for c in TRACE_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(path, f"trace lacks columns {missing}")
    try:
        arena = int(meta.get("arena", "1"))
        end_s = float(meta["end_s"]) if "end_s" in meta else float(table["time_s"].iloc[-1])
    except (ValueError, IndexError) as exc:
        raise InputError(path, f"bad trace metadata: {exc}") from None
    video = meta.pop("video", path.name)
    for k in ("behavior-trace", "arena", "end_s"):
        meta.pop(k, None)
    # a trace of an older version: its warnings as one line
    found += [Notice("note", WARNING, video, None, w)
              for w in meta.pop("warnings", "").split(" | ") if w]
    if meta.get("mobility_measure") != MOBILITY_MEASURE:
        found.append(Notice(
            "old_mobility_measure", WARNING, video, arena,
            "this trace holds the mobility measure of an earlier version (the whole "
            "silhouette's changed share, about a third of this version's): thresholds "
            "chosen or set now do not fit it; score the video again"))
    return Trace(video=video, arena=arena, table=table, end_s=end_s, meta=meta, notices=found)


def find_traces(directory: str | Path) -> list[Path]:
    """All trace files in a folder, sorted."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(directory, "not a folder of traces")
    return sorted(directory.glob(f"*{TRACE_SUFFIX}"))
