"""``kill -9`` in the middle of writing: the old file stays whole and no debris is left;
a killed ``blind create`` leaves a staging folder that the next run removes, and says so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from blinding_helpers import make_study
from integrity_helpers import listing

from behavior.cli import main

WRITER = textwrap.dedent("""
    import sys
    from behavior.io.atomic import atomic_write
    with atomic_write(sys.argv[1]) as fh:
        i = 0
        while True:  # the new table, forever: killed while writing it
            fh.write("".join(f"M{i:05d},{j},812.5,24,2.1\\n" for j in range(1000)))
            i += 1
            if i == 20:
                fh.flush()
                print("WRITING", flush=True)
""")

# `behavior blind create`, stopped for good at a chosen step (then killed by the test)
CREATE = textwrap.dedent("""
    import sys, time
    import behavior.blinding.create as create
    step = sys.argv[1]
    real_copy, real_key = create.remux_without_metadata, create.write_text
    copies = []
    def copy(src, dst):
        result = real_copy(src, dst)
        copies.append(dst)
        if step == "copying" and len(copies) == 2:
            print("STOPPED", flush=True); time.sleep(600)
        return result
    def key(path, text, **kw):
        out = real_key(path, text, **kw)
        if step == "key":
            print("STOPPED", flush=True); time.sleep(600)
        return out
    create.remux_without_metadata, create.write_text = copy, key
    from behavior.cli import main
    sys.exit(main(sys.argv[2:]))
""")


def _kill_when(argv: list[str], word: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", *argv], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == word
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL


def test_a_writer_killed_mid_file_leaves_the_old_file_and_no_debris(tmp_path):
    target = tmp_path / "trials.csv"
    target.write_text("subject,trial_no,vmax,latency_ms,baseline\nM00001,1,800.0,25,2.0\n")
    old = target.read_bytes()
    _kill_when([WRITER, str(target)], "WRITING")
    assert target.read_bytes() == old
    assert listing(tmp_path) == ["trials.csv"]


@pytest.mark.slow
@pytest.mark.parametrize("step", ["copying", "key"])
def test_a_killed_blind_create_is_cleaned_up_by_the_next_run(tmp_path, capsys, step):
    videos, groups = make_study(tmp_path, 3)
    argv = ["blind", "create", *map(str, videos), "--groups", str(groups),
            "--out", str(tmp_path / "session"), "--key", str(tmp_path / "key.json")]
    _kill_when([CREATE, step, *argv], "STOPPED")
    staging = [p for p in tmp_path.iterdir() if p.name.startswith(".blind-")]
    assert sorted(p.suffix for p in staging) == ["", ".lock"]  # the debris of the kill
    folder = next(p for p in staging if p.is_dir())
    assert len(list((folder / "videos").iterdir())) >= 2
    assert not (tmp_path / "session").exists()
    if step == "key":  # the key of a session that never came to be
        orphan = json.loads((tmp_path / "key.json").read_text())["session_id"]

    assert main(argv) == 0  # the same command again
    err = capsys.readouterr().err
    assert f"behavior: note: removed {folder} (" in err
    assert "the staging folder of a session creation that was interrupted" in err
    assert ("and its key" in err) == (step == "key")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".blind-")]
    assert sorted(p.name for p in (tmp_path / "session").iterdir()) == ["session.sqlite",
                                                                        "videos"]
    new_key = json.loads((tmp_path / "key.json").read_text())
    if step == "key":
        assert new_key["session_id"] != orphan
    assert oct(os.stat(tmp_path / "key.json").st_mode & 0o777) == "0o600"


def test_a_staging_folder_in_use_is_left_alone(tmp_path):
    from behavior.blinding.create import _Staging, remove_stale_staging

    busy = _Staging.start(tmp_path)  # another `blind create` at work right now
    try:
        (busy.folder / "videos").mkdir()
        assert remove_stale_staging(tmp_path) == []
        assert busy.folder.is_dir() and busy.lock_path.is_file()
    finally:
        busy.discard()
    assert listing(tmp_path) == []
