"""What goes wrong on a cluster: a worker that dies mid-batch, a worker that cannot see
the videos. Each test has a cluster of its own (real processes on loopback)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time

import pandas as pd
import pytest
import yaml
from cluster_helpers import OPTIONS, dask_processes, make_videos, score_cli

from behavior.cluster import Cluster
from behavior.fst import load_protocol
from behavior.fst.batch import make_jobs, score_batch

pytestmark = pytest.mark.slow


def test_a_worker_killed_mid_batch_loses_no_video(tmp_path):
    """Two workers without nannies; once a video is being scored on one, that worker
    is SIGKILLed. Dask scores that video again on the other; the batch takes every
    video's result once: the table is byte for byte that of a run on one machine,
    with each video once."""
    # a minute each, so that the video being scored is still being scored when its
    # worker is killed (with 20 s, under load, it was sometimes finished just before)
    videos = make_videos(tmp_path / "data", 4, duration_s=60, first_seed=11)
    jobs = make_jobs([str(v) for v in videos], end_s=59.5)
    protocol = load_protocol("mouse_fst").with_overrides(window_s=(0, 59))
    here = score_batch([j.on_one_core() for j in jobs], protocol, tmp_path / "here.csv")
    assert here.exit_status == 0

    with dask_processes(tmp_path / "dask", 2, nanny=False) as running, \
            running.client() as client:
        cluster = Cluster(client)
        video_of: dict[object, str] = {}

        def submit(fn, job, *args, **kwargs):
            future = cluster.submit(fn, job, *args, **kwargs)
            video_of[future.key] = job.path
            return future

        taken: list[str] = []
        outcome: dict[str, object] = {}

        def run() -> None:
            outcome["batch"] = score_batch(
                jobs, protocol, tmp_path / "cluster.csv", submit=submit,
                progress=lambda step: taken.append(step.result.path) if step.result else None,
                log_extra=cluster.log_extra())

        batch = threading.Thread(target=run)
        batch.start()
        try:
            victim, killed_video = _kill_a_busy_worker(client, running, video_of)
        finally:
            batch.join(timeout=600)
        assert not batch.is_alive()

    result = outcome["batch"]
    assert result.exit_status == 0, [r.error for r in result.results]
    assert sorted(taken) == sorted(str(v) for v in videos)  # each result taken once
    cluster_table = (tmp_path / "cluster.csv").read_bytes()
    assert cluster_table == (tmp_path / "here.csv").read_bytes()
    log = yaml.safe_load((tmp_path / "cluster.log").read_text())
    assert log["videos_scored"] == 4
    survivor = log["scored_by"][killed_video]
    assert survivor != victim and survivor.startswith("tcp://127.0.0.1:")
    assert len(pd.read_csv(tmp_path / "cluster.csv")) == 8  # 4 videos x 2 arenas


def _kill_a_busy_worker(client, running, video_of) -> tuple[str, str]:
    """SIGKILL the first worker seen scoring a video; return its address and the video."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        busy = client.run(lambda dask_worker: [ts.key for ts in dask_worker.state.executing])
        for address, keys in busy.items():
            keys = [k for k in keys if k in video_of]
            if keys:
                pid = client.run(os.getpid, workers=[address])[address]
                assert pid in running.pids()  # one of ours
                os.kill(pid, signal.SIGKILL)
                return address, video_of[keys[0]]
        time.sleep(0.02)
    pytest.fail("no worker was seen scoring a video")


def _can_hide_a_folder() -> bool:
    try:
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_a_worker_that_cannot_see_a_video_names_itself_and_the_path(
        video_dir, local_run, tmp_path, capsys):
    """The worker runs in a mount namespace where the folder ``hidden/`` is an empty
    file system (a node without the share mounted): its video fails with an error
    naming the worker and where it looked; the video it can see is scored."""
    if not _can_hide_a_folder():
        pytest.skip("unshare --mount is not allowed here (needs root or user namespaces)")
    for folder, name in (("hidden", "m1.mp4"), ("seen", "m2.mp4")):
        (tmp_path / folder).mkdir()
        shutil.copy(video_dir / name, tmp_path / folder / name)
    hidden = tmp_path / "hidden"
    hide = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            f'mount -t tmpfs none "{hidden}" && exec "$@"', "sh"]
    with dask_processes(tmp_path / "dask", 1, wrap=hide) as running:
        with running.client() as client:
            (worker,) = client.scheduler_info(n_workers=-1)["workers"]
        out = tmp_path / "results.csv"
        status = score_cli(["hidden/m1.mp4", "seen/m2.mp4", *OPTIONS, "--scheduler",
                            running.address, "--out", str(out)], tmp_path)
    err = capsys.readouterr().err
    assert status == 1
    where = hidden / "m1.mp4"
    (line,) = [x for x in err.splitlines() if x.startswith("behavior: error:")]
    assert line == (f"behavior: error: hidden/m1.mp4: not found on worker {worker} (host "
                    f"{os.uname().nodename}), which looked for it at {where}: the workers "
                    f"must see the videos at the same path as the computer that sent the "
                    f"batch (a shared file system) (skipped)")
    table = pd.read_csv(out, keep_default_na=False)
    assert table["video"].tolist() == ["hidden/m1.mp4", "seen/m2.mp4", "seen/m2.mp4"]
    assert table["warnings"][0].startswith(f"not scored: not found on worker {worker}")
    # the video it could see: the local run's rows, but for the path
    reference = local_run[0].read_text().splitlines()[3:5]
    assert out.read_text().splitlines()[-2:] == [f"seen/{r}" for r in reference]
    (error,) = yaml.safe_load(out.with_suffix(".log").read_text())["errors"]
    assert error["data"]["worker"] == worker
    assert error["video"] == "hidden/m1.mp4"
