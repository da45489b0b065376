"""What ``score_batch`` does for a cluster's sake: relative paths opened from the
folder the batch was sent from, results taken together when they come faster than
the table is written, a run log written by libyaml, no Dask imported to name a
process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import Future

import yaml

from behavior import notices
from behavior.fst import load_protocol
from behavior.fst.batch import VideoJob, make_jobs, score_batch, score_video, write_run_log


def test_a_relative_path_is_opened_from_the_jobs_folder(video_dir, local_run, tmp_path):
    """Scored from another working directory, a job with ``folder`` reads the video
    there and names it as given: the traces are the local run's, byte for byte."""
    protocol = load_protocol("mouse_fst").with_overrides(window_s=(0, 12))
    job = VideoJob("m3.mp4", folder=str(video_dir), decoder_threads=1, pipelined=False)
    result = score_video(job, protocol, str(tmp_path))  # tmp_path has no m3.mp4
    assert result.ok, result.error
    assert result.path == "m3.mp4"
    for name in ("m3_arena1.trace.csv", "m3_arena2.trace.csv"):
        assert (tmp_path / name).read_bytes() == (local_run[1] / name).read_bytes()
    # without the folder, the same job is looked for here, and not found
    missing = score_video(VideoJob("m3.mp4"), protocol, None)
    assert missing.error is not None and "m3.mp4: file not found" in missing.error.message


def test_results_that_are_in_together_are_written_once(video_dir, local_run, tmp_path,
                                                       monkeypatch):
    """Four results all finished before the batch looks: the table is written once for
    them (plus the batch's first and last write), progress still comes once per
    video, counting 1..4, and the table is the local run's."""
    import behavior.fst.scoring as scoring

    traces = tmp_path / "traces"
    shutil.copytree(local_run[1], traces)
    writes = []
    write_table = scoring.write_table
    monkeypatch.setattr(scoring, "write_table",
                        lambda table, out: (writes.append(len(table)), write_table(table, out)))

    def submit(fn, *args, **kwargs) -> Future:  # done at once, like a fast cluster
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future

    steps = []
    protocol = load_protocol("mouse_fst").with_overrides(window_s=(0, 12))
    jobs = make_jobs([str(video_dir / f"m{i}.mp4") for i in range(1, 5)])
    batch = score_batch(jobs, protocol, tmp_path / "results.csv", traces, submit=submit,
                        progress=steps.append, resume=True)
    assert [r.reused for r in batch.results] == [True] * 4
    assert writes == [0, 8, 8]  # begin, the four together, end
    assert [(s.done, s.total) for s in steps] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [s.result.path for s in steps] == [j.path for j in jobs]
    local = local_run[0].read_text().splitlines()
    mine = (tmp_path / "results.csv").read_text().splitlines()
    assert [line.split(",", 1)[1] for line in mine] == [x.split(",", 1)[1] for x in local]


def test_the_run_log_is_the_text_pyyaml_writes(tmp_path):
    """libyaml writes the log (faster); the text is what PyYAML's own dumper gives."""
    protocol = load_protocol("mouse_fst")
    found = [notices.warning("odd", f"Überschrift µ {i} " + "long words " * 20, video=f"v{i}",
                             arena=1, settings=["start_s"], value=0.1 * i) for i in range(50)]
    path = write_run_log(tmp_path / "r.csv", protocol, "finished", "a", "b", ["x", "é"],
                         {"videos": 50}, found[:3], found, {"scored_by": {"v1": "tcp://h:1"}})
    text = path.read_text(encoding="utf-8")
    record = yaml.safe_load(text)
    again = yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=100)
    assert text == f"# behavior: how r.csv was made\n{again}"
    assert record["notices"][49]["data"]["value"] == 4.9


def test_naming_the_process_does_not_import_dask():
    code = ("import sys\nfrom behavior.fst.batch import worker_name\nname = worker_name()\n"
            "print(name, 'distributed' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    host_pid, imported = run.stdout.split()
    assert imported == "False"
    assert host_pid.rsplit(":", 1)[1].isdigit()
