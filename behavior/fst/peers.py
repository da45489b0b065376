"""The animals of one video scored together: each one's *peer still level*.

Cylinders filmed side by side share the camera, the light, the water and the
compression, so a floating animal's mobility looks alike in each. An animal whose
quietest stretches move far more than its cage-mates' (:data:`PEER_RATIO`) is not
floating in them: it floats rarely, if at all, and its gentle swimming would
otherwise set its still level and be scored as immobility. Such an animal is scored
with the others' still level (:func:`~behavior.fst.immobility.choose_threshold`).

The peer still level is kept in the trace's metadata (:data:`PEER_KEY`), so every
consumer of one trace — the results row, the re-scoring GUI, an observer's
comparison with the scorer, ``fst calibrate`` — chooses the same threshold
(:func:`trace_choice`). :func:`set_peer_levels` sets it for the traces of each video
from the protocol they are scored with; the traces written by scoring carry it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from behavior.fst.immobility import (
    PEER_RATIO,
    ThresholdChoice,
    choose_threshold,
    immobile_flags,
    measured_levels,
    smooth_mobility,
    still_level,
)
from behavior.fst.traces import Trace
from behavior.protocols import FstProtocol

__all__ = ["PEER_KEY", "PEER_RATIO", "label_immobile", "own_still_level", "peer_level",
           "set_peer_levels", "trace_choice"]

#: Trace metadata: the median still level of the other animals in the same video.
PEER_KEY = "peer_still_level"


def own_still_level(trace: Trace, protocol: FstProtocol) -> float:
    """The animal's own still level, as :func:`choose_threshold` measures it."""
    smoothed = smooth_mobility(trace.time_s, trace.mobility, protocol.smoothing_s)
    t, levels = measured_levels(trace.time_s, smoothed, protocol,
                                trace.table["area_px"].to_numpy(float))
    return still_level(t, levels)


def set_peer_levels(traces: Iterable[Trace], protocol: FstProtocol) -> None:
    """Set :data:`PEER_KEY` in each trace's metadata: the median still level of the
    other traces of its video (those where one was found), measured with
    ``protocol``; removed where the video has no other animal with one. An arena
    where tracking found no animal (metadata ``animal_found: false``) is no one's
    peer: what moved there was not floating."""
    by_video: dict[str, list[Trace]] = {}
    for trace in traces:
        by_video.setdefault(trace.video, []).append(trace)
    for group in by_video.values():
        levels = ([own_still_level(t, protocol) if t.meta.get("animal_found") != "false"
                   else math.nan for t in group] if len(group) > 1 else [math.nan])
        for i, trace in enumerate(group):
            others = [v for j, v in enumerate(levels) if j != i and math.isfinite(v)]
            if others:
                trace.meta[PEER_KEY] = f"{float(np.median(others)):.6g}"
            else:
                trace.meta.pop(PEER_KEY, None)


def peer_level(trace: Trace) -> float:
    """The trace's peer still level (NaN when it has none)."""
    try:
        return float(trace.meta.get(PEER_KEY, "nan"))
    except ValueError:
        return math.nan


def trace_choice(trace: Trace, protocol: FstProtocol,
                 smoothed: np.ndarray | None = None) -> ThresholdChoice:
    """The threshold of one animal from its trace: :func:`choose_threshold` with its
    sizes and its peer still level."""
    return choose_threshold(trace.time_s, trace.mobility, protocol, smoothed,
                            area_px=trace.table["area_px"].to_numpy(float),
                            peer_still=peer_level(trace))


def label_immobile(trace: Trace, protocol: FstProtocol) -> None:
    """Set the trace's ``immobile`` column: its frames at or below the threshold chosen
    for it (:func:`trace_choice`), before the minimum bout."""
    threshold = trace_choice(trace, protocol).threshold
    trace.table["immobile"] = immobile_flags(trace.time_s, trace.mobility, protocol,
                                             threshold).astype(np.int8)
