"""Forced swim / tail suspension test: video -> per-frame features -> immobility.

The public API that the command line, the desktop GUI and a Dask worker all call
(see docs/api.md)::

    import behavior.fst as fst

    protocol = fst.load_protocol("mouse_fst")
    setup = fst.prepare("m1.mp4", protocol)            # arenas, backgrounds, notices
    traces = fst.track(setup, progress=..., cancel=token)
    results = fst.score_traces(traces, protocol)        # the animals' numbers

    batch = fst.score_batch(["m1.mp4", "m2.mp4"], protocol, out="results.csv",
                            submit=executor.submit, cancel=token)

Names are imported lazily: ``import behavior.fst`` itself loads neither NumPy nor
OpenCV, so the command line starts quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> the module that defines it.
_EXPORTS = {
    "prepare": "behavior.fst.setup",
    "Setup": "behavior.fst.setup",
    "ArenaSetup": "behavior.fst.setup",
    "track": "behavior.fst.tracking",
    "track_video": "behavior.fst.tracking",
    "TrackingResult": "behavior.fst.tracking",
    "TrackingSettings": "behavior.fst.settings",
    "score_batch": "behavior.fst.batch",
    "score_video": "behavior.fst.batch",
    "make_jobs": "behavior.fst.batch",
    "VideoJob": "behavior.fst.batch",
    "VideoResult": "behavior.fst.batch",
    "BatchResult": "behavior.fst.batch",
    "BatchProgress": "behavior.fst.batch",
    "tracking_key": "behavior.fst.batch",
    "score_trace": "behavior.fst.scoring",
    "score_traces": "behavior.fst.scoring",
    "AnimalResult": "behavior.fst.scoring",
    "rescore_traces": "behavior.fst.scoring",
    "rescore_dir": "behavior.fst.scoring",
    "rows_to_table": "behavior.fst.scoring",
    "result_columns": "behavior.fst.scoring",
    "write_table": "behavior.fst.scoring",
    "Trace": "behavior.fst.traces",
    "read_trace": "behavior.fst.traces",
    "write_trace": "behavior.fst.traces",
    "find_traces": "behavior.fst.traces",
    "Arena": "behavior.fst.arenas",
    "read_sidecar": "behavior.fst.arenas",
    "write_sidecar": "behavior.fst.arenas",
    "load_protocol": "behavior.protocols",
    "CancelToken": "behavior.cancel",
    "Notice": "behavior.notices",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'behavior.fst' has no attribute {name!r}")
    attr = "load_fst_protocol" if name == "load_protocol" else name
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)


if TYPE_CHECKING:  # for type checkers and editors
    from behavior.cancel import CancelToken
    from behavior.fst.arenas import Arena, read_sidecar, write_sidecar
    from behavior.fst.batch import (
        BatchProgress,
        BatchResult,
        VideoJob,
        VideoResult,
        make_jobs,
        score_batch,
        score_video,
        tracking_key,
    )
    from behavior.fst.scoring import (
        AnimalResult,
        rescore_dir,
        rescore_traces,
        result_columns,
        rows_to_table,
        score_trace,
        score_traces,
        write_table,
    )
    from behavior.fst.settings import TrackingSettings
    from behavior.fst.setup import ArenaSetup, Setup, prepare
    from behavior.fst.traces import Trace, find_traces, read_trace, write_trace
    from behavior.fst.tracking import TrackingResult, track, track_video
    from behavior.notices import Notice
    from behavior.protocols import load_fst_protocol as load_protocol
