"""``fst score --scheduler``: what happens without Dask, with a local Dask cluster, and
with a scheduler that is not there."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cluster_helpers import OPTIONS, same_files, score_cli

import behavior
from behavior.errors import BehaviorError

CHECK_IMPORTS = """
import sys
from behavior.cli import main
status = main(sys.argv[1:])
print("imported:", sorted(m for m in ("dask", "distributed") if m in sys.modules))
sys.exit(status)
"""


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


@pytest.mark.slow
def test_without_scheduler_dask_is_never_imported(video_dir, local_run, tmp_path):
    """Scoring here (one video at a time, and two at once in the local pool) does not
    import Dask, though it is installed, and gives the same table."""
    pytest.importorskip("distributed")  # else the test proves nothing
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}.csv"
        run = _run(["-c", CHECK_IMPORTS, "fst", "score", "m1.mp4", "m2.mp4", *OPTIONS,
                    "--jobs", jobs, "--out", str(out)], video_dir)
        assert run.returncode == 0, run.stderr
        assert "imported: []" in run.stdout
        local_rows = local_run[0].read_text().splitlines()[:5]  # header + m1, m2 x 2 arenas
        assert out.read_text().splitlines() == local_rows


def test_scheduler_without_dask_says_what_to_install(video_dir, tmp_path):
    """With Dask's packages unimportable, --scheduler gives one line saying what to
    install, exit status 2, no traceback and no results file."""
    site = tmp_path / "site"
    site.mkdir()
    # an import of either fails as if not installed
    (site / "sitecustomize.py").write_text(
        "import sys\nsys.modules['distributed'] = None\nsys.modules['dask'] = None\n")
    out = tmp_path / "results.csv"
    run = _run(["-m", "behavior.cli", "fst", "score", "m1.mp4", *OPTIONS, "--scheduler",
                "local", "--out", str(out)], video_dir, {"PYTHONPATH": str(site)})
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("behavior: error: scoring on a Dask cluster needs")
    assert 'pip install "behavior[cluster]"' in lines[0]
    assert 'pip install ".[cluster]"' in lines[0]
    assert "Traceback" not in run.stderr
    assert not out.exists()


def test_a_scheduler_that_is_not_there_is_one_error(tmp_path):
    from behavior.cluster import connect

    pytest.importorskip("distributed")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BehaviorError, match=f"cannot reach the Dask scheduler at "
                                            f"tcp://127.0.0.1:{port}: "):
        connect(f"tcp://127.0.0.1:{port}", timeout_s=1)
    with pytest.raises(BehaviorError, match="nope.json: scheduler file not found"):
        connect(str(tmp_path / "nope.json"))


@pytest.mark.slow
def test_scheduler_local_gives_the_same_results(video_dir, local_run, tmp_path, capsys):
    """--scheduler local --jobs 2: two worker processes of a LocalCluster; the table
    and the traces are those of the run on one core, byte for byte; the log names
    the scheduler and the worker that scored each video."""
    pytest.importorskip("distributed")
    out = tmp_path / "results.csv"
    shown = [o for o in OPTIONS if o != "--no-progress"]  # stderr is not a terminal here
    status = score_cli(["m1.mp4", "m2.mp4", "m3.mp4", "m4.mp4", *shown, "--scheduler",
                        "local", "--jobs", "2", "--out", str(out)], video_dir)
    err = capsys.readouterr().err
    assert status == 0, err
    assert out.read_bytes() == local_run[0].read_bytes()
    same_files(out.with_name("results_traces"), local_run[1])
    log = yaml.safe_load(out.with_suffix(".log").read_text())
    assert log["scheduler"].startswith("local (tcp://127.0.0.1:")
    assert log["workers_at_start"] == 2
    assert sorted(log["scored_by"]) == ["m1.mp4", "m2.mp4", "m3.mp4", "m4.mp4"]
    assert all(w.startswith("tcp://127.0.0.1:") for w in log["scored_by"].values())
    assert "behavior: scoring on the Dask cluster at tcp://127.0.0.1:" in err
    # not a terminal: a line per finished video, naming where it was scored
    assert sum(line.startswith("behavior: ") and "/4 m" in line
               for line in err.splitlines()) == 4


def test_a_task_takes_one_core(video_dir):
    """Outside a Dask worker (one thread), a task sets OpenCV to one thread and scores
    its video with one decoder thread, decoding and tracking in turn."""
    import cv2

    from behavior.cluster import run_on_worker
    from behavior.fst import load_protocol
    from behavior.fst.batch import VideoJob, score_video

    given = []

    def scored(job, *args, **kwargs):
        given.append(job)
        return score_video(job, *args, **kwargs)

    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(2)
        job = VideoJob(str(video_dir / "m1.mp4"), decoder_threads=0, pipelined=True)
        result = run_on_worker(scored, job, load_protocol("mouse_fst"), None, False,
                               behavior.__version__)
        assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(before)
    assert result.ok and len(result.animals) == 2
    (ran,) = given
    assert (ran.path, ran.decoder_threads, ran.pipelined) == (job.path, 1, False)


def test_a_worker_with_another_version_scores_nothing(video_dir):
    """Traces and numbers depend on the version: a worker with another one says so
    instead of scoring."""
    from behavior.cluster import run_on_worker
    from behavior.fst import load_protocol
    from behavior.fst.batch import VideoJob, score_video

    result = run_on_worker(score_video, VideoJob(str(video_dir / "m1.mp4")),
                           load_protocol("mouse_fst"), None, False, "0.0.0-elsewhere")
    assert result.error.code == "VersionMismatch"
    assert "the batch was sent by behavior 0.0.0-elsewhere" in result.error.message
    assert not result.animals


def test_the_slurm_example_writes_a_job_script(tmp_path):
    """docs/examples/slurm_cluster.py: one worker per core, one thread each, the
    scoring code preloaded, the account and the environment line (nothing submitted)."""
    pytest.importorskip("dask_jobqueue")
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "slurm_cluster.py"
    run = _run([str(example), "--print-script", "--account", "mylab", "--cores", "8",
                "--activate", "source /shared/env/bin/activate", "--host", "127.0.0.1",
                "--dashboard", "127.0.0.1:0"], tmp_path)
    assert run.returncode == 0, run.stderr
    script = run.stdout
    assert "#SBATCH -A mylab" in script and "#SBATCH --cpus-per-task=8" in script
    assert "source /shared/env/bin/activate" in script
    worker = next(line for line in script.splitlines() if "dask_worker" in line)
    assert " tcp://127.0.0.1:" in worker  # the scheduler, on loopback here
    for option in ("--nthreads 1", "--nworkers 8", "--preload behavior.cluster"):
        assert option in worker
