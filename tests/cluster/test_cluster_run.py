"""A batch on a real Dask cluster: a scheduler and two workers, each a process of its
own on loopback, working in another folder than the client (as on other machines)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import cv2
import pandas as pd
import pytest
import yaml
from cluster_helpers import OPTIONS, same_files, score_cli

pytestmark = pytest.mark.slow

VIDEOS = ["m1.mp4", "m2.mp4", "m3.mp4", "m4.mp4"]


def _log(out):
    return yaml.safe_load(out.with_suffix(".log").read_text(encoding="utf-8"))


def test_a_cluster_gives_the_same_results_as_one_machine(cluster, video_dir, local_run,
                                                         tmp_path, capsys):
    """Relative paths, given where the client runs (the workers run elsewhere): the
    table and every trace are byte for byte those of a run on one core; the log
    names the scheduler and which worker scored each video; each worker's OpenCV
    pool is sized to its one thread."""
    out = tmp_path / "results.csv"
    status = score_cli([*VIDEOS, *OPTIONS, "--scheduler", cluster.address, "--out",
                        str(out)], video_dir)
    err = capsys.readouterr().err
    assert status == 0, err + cluster.output()
    assert out.read_bytes() == local_run[0].read_bytes()
    same_files(out.with_name("results_traces"), local_run[1])
    log = _log(out)
    assert log["scheduler"] == cluster.address
    assert (log["state"], log["videos_scored"], log["workers_at_start"]) == ("finished", 4, 2)
    with cluster.client() as client:
        workers = set(client.scheduler_info(n_workers=-1)["workers"])
        assert sorted(log["scored_by"]) == VIDEOS
        assert set(log["scored_by"].values()) <= workers
        # the workers were started without a preload: the task itself set the pool
        assert set(client.run(cv2.getNumThreads).values()) == {1}


def test_the_scheduler_file_is_an_address(cluster, video_dir, local_run, tmp_path):
    out = tmp_path / "results.csv"
    assert score_cli(["m2.mp4", *OPTIONS, "--scheduler", str(cluster.scheduler_file), "--out",
                      str(out)], video_dir) == 0
    assert out.read_text().splitlines() == [local_run[0].read_text().splitlines()[i]
                                            for i in (0, 3, 4)]  # header, m2's two arenas


def test_a_killed_client_leaves_a_valid_table_and_resumes(cluster, video_dir, local_run,
                                                           tmp_path):
    """The client is SIGKILLed once the first video is in the table: the table read
    back holds whole rows, each the same as the local run's; the log says running.
    Resumed on the cluster, the videos already tracked are not decoded again and the
    table is complete."""
    data = tmp_path / "data"
    data.mkdir()
    # eight videos, so that the batch is far from done when the first one is in
    names = [f"k{i}.mp4" for i in range(1, 9)]
    for i, name in enumerate(names):
        shutil.copy(video_dir / VIDEOS[i % 4], data / name)
    out = tmp_path / "results.csv"
    client = subprocess.Popen(
        [sys.executable, "-m", "behavior.cli", "fst", "score", *names, *OPTIONS,
         "--scheduler", cluster.address, "--out", str(out)],
        cwd=data, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and client.poll() is None:
            if out.is_file() and len(out.read_text().splitlines()) > 1:
                break
            time.sleep(0.05)
        assert client.poll() is None, "the batch ended before it could be killed"
        os.kill(client.pid, signal.SIGKILL)
        client.wait(timeout=30)
    finally:
        if client.poll() is None:
            os.kill(client.pid, signal.SIGKILL)
            client.wait(timeout=30)
        client.stderr.close()

    partial = pd.read_csv(out)
    reference = pd.read_csv(local_run[0])
    done = list(dict.fromkeys(partial["video"]))
    assert 1 <= len(done) < 8
    assert len(partial) == 2 * len(done)  # whole videos, both arenas
    for name in done:
        original = VIDEOS[names.index(name) % 4]
        mine = partial[partial["video"] == name].drop(columns="video").reset_index(drop=True)
        theirs = reference[reference["video"] == original].drop(columns="video")
        pd.testing.assert_frame_equal(mine, theirs.reset_index(drop=True))
    assert _log(out)["state"] == "running"

    assert score_cli([*names, *OPTIONS, "--scheduler", cluster.address, "--out", str(out),
                      "--resume"], data) == 0
    log = _log(out)
    assert (log["state"], log["videos_scored"]) == ("finished", 8)
    assert log["videos_from_earlier_traces"] >= len(done)
    table = pd.read_csv(out)
    assert table["video"].tolist() == [n for n in names for _ in (1, 2)]
    for i, name in enumerate(names):
        mine = table[table["video"] == name].drop(columns="video").reset_index(drop=True)
        theirs = reference[reference["video"] == VIDEOS[i % 4]].drop(columns="video")
        pd.testing.assert_frame_equal(mine, theirs.reset_index(drop=True))


def test_resume_on_another_machine(cluster, video_dir, local_run, tmp_path):
    """Scored on the cluster in one place; the videos and the traces copied to another
    folder (new modification times, another absolute path) and the first place
    removed: resumed there on the cluster, no video is decoded again and the table is
    the same, byte for byte."""
    first = tmp_path / "first"
    (first / "data").mkdir(parents=True)
    for name in VIDEOS[:2]:
        shutil.copy(video_dir / name, first / "data" / name)
    args = ["data/m1.mp4", "data/m2.mp4", *OPTIONS, "--scheduler", cluster.address,
            "--out", "out/results.csv"]
    assert score_cli(args, first) == 0
    assert _log(first / "out" / "results.csv")["videos_from_earlier_traces"] == 0
    table = (first / "out" / "results.csv").read_bytes()

    second = tmp_path / "second"
    shutil.copytree(first / "data", second / "data", copy_function=shutil.copy)
    shutil.copytree(first / "out" / "results_traces", second / "out" / "results_traces",
                    copy_function=shutil.copy)
    traces = {p.name: p.read_bytes() for p in (second / "out" / "results_traces").iterdir()}
    shutil.rmtree(first)

    assert score_cli([*args, "--resume"], second) == 0
    log = _log(second / "out" / "results.csv")
    assert (log["videos_scored"], log["videos_from_earlier_traces"]) == (2, 2)
    assert (second / "out" / "results.csv").read_bytes() == table
    # the traces were read, not written again
    assert {p.name: p.read_bytes()
            for p in (second / "out" / "results_traces").iterdir()} == traces
