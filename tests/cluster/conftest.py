"""Fixtures of the cluster tests: videos, a local reference run, a Dask cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from cluster_helpers import OPTIONS, dask_processes, make_videos, score_cli


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory) -> Path:
    """Four 12-s videos in a folder ``data/`` (read through relative paths)."""
    folder = tmp_path_factory.mktemp("cluster") / "data"
    make_videos(folder, 4)
    return folder


@pytest.fixture(scope="session")
def local_run(video_dir, tmp_path_factory):
    """The videos scored on one machine, one after the other (no Dask): the results
    table and traces folder every cluster run is compared with."""
    out = tmp_path_factory.mktemp("local") / "results.csv"
    status = score_cli(["m1.mp4", "m2.mp4", "m3.mp4", "m4.mp4", *OPTIONS, "--jobs", "1",
                        "--out", str(out)], video_dir)
    assert status == 0
    return out, out.with_name("results_traces")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two workers (with nannies), shared by a module's tests."""
    with dask_processes(tmp_path_factory.mktemp("dask")) as running:
        yield running


