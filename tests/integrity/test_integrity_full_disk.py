"""A disk that fills up on the way: one line, exit status 1, the old files intact, no
half-written file and no temporary left. The disks are tiny tmpfs mounts (root only;
``test_integrity_atomic`` makes a write fail at a chosen byte without mounting)."""

from __future__ import annotations

import shutil
import sqlite3

import pandas as pd
import pytest
from blinding_helpers import make_session, make_study
from integrity_helpers import fill, listing

from behavior.cli import main
from behavior.testing import startle as sy


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("behavior: error: ")]
    assert len(errors) == 1, err
    return errors[0]


def test_ppi_analyze_never_leaves_a_table_cut_mid_row(tmp_path, small_disk, capsys):
    startle = sy.write_srlab(tmp_path / "big.csv", sy.simulate_trials(40, seed=1))
    reference = tmp_path / "reference"
    assert main(["ppi", "analyze", str(startle), "--out", str(reference / "ppi.csv"),
                 "--trials", str(reference / "trials.csv")]) == 0
    assert (reference / "trials.csv").stat().st_size > 100_000
    disk = small_disk(200)
    (disk / "trials.csv").write_text("the trials of yesterday\n")
    fill(disk, leave_bytes=30_000)  # room for the %PPI table, not for 2 560 trials
    capsys.readouterr()
    assert main(["ppi", "analyze", str(startle), "--out", str(disk / "ppi.csv"),
                 "--trials", str(disk / "trials.csv")]) == 1
    assert _error(capsys) == (f"behavior: error: {disk / 'trials.csv'}: cannot write: "
                              "no space left on the disk")
    assert (disk / "trials.csv").read_text() == "the trials of yesterday\n"
    assert listing(disk) == ["filler.bin", "ppi.csv", "trials.csv"]
    assert (disk / "ppi.csv").read_bytes() == (reference / "ppi.csv").read_bytes()  # whole


def test_ppi_analyze_on_a_disk_that_fills_without_mounting(tmp_path, monkeypatch, capsys):
    # where no tmpfs can be mounted (not root): the disk is full after a chosen number
    # of bytes, shared by every file the command writes
    import io
    import os

    from behavior.io import atomic

    budget = {"bytes": 20_000}

    class Disk(io.RawIOBase):
        def __init__(self, fd):
            self._file = os.fdopen(fd, "wb", buffering=0)

        def writable(self):
            return True

        def write(self, data):
            n = min(len(data), budget["bytes"])
            if n == 0:
                raise OSError(28, "No space left on device")
            budget["bytes"] -= n
            return self._file.write(bytes(data[:n]))

        def fileno(self):
            return self._file.fileno()

        def close(self):
            self._file.close()
            super().close()

    startle = sy.write_srlab(tmp_path / "big.csv", sy.simulate_trials(40, seed=1))
    out = tmp_path / "out"
    out.mkdir()
    (out / "trials.csv").write_text("the trials of yesterday\n")
    monkeypatch.setattr(atomic, "_binary_file", lambda fd: io.BufferedWriter(Disk(fd)))
    assert main(["ppi", "analyze", str(startle), "--out", str(out / "ppi.csv"),
                 "--trials", str(out / "trials.csv")]) == 1
    assert _error(capsys) == (f"behavior: error: {out / 'trials.csv'}: cannot write: "
                              "no space left on the disk")
    assert (out / "trials.csv").read_text() == "the trials of yesterday\n"
    assert listing(out) == ["ppi.csv", "trials.csv"]
    assert len(pd.read_csv(out / "ppi.csv")) == 40 * 3  # whole: 40 animals x 3 prepulses


@pytest.mark.slow
def test_stats_on_a_full_disk_writes_whole_files_or_none(tmp_path, small_disk, capsys):
    results = tmp_path / "results.csv"
    results.write_text("subject,group,score\n" + "".join(
        f"m{i},{'veh' if i % 2 else 'drug'},{i % 5 + (i % 2) * 3}\n" for i in range(12)))
    reference = tmp_path / "reference"
    assert main(["stats", str(results), "--value", "score", "--out", str(reference)]) == 0
    disk = small_disk(200)
    fill(disk, leave_bytes=40_000)  # the tables and some figures fit, not all
    capsys.readouterr()
    assert main(["stats", str(results), "--value", "score", "--out", str(disk / "stats")]) == 1
    assert _error(capsys).endswith(": cannot write: no space left on the disk")
    written = [n for n in listing(disk / "stats")]
    assert "report.html" not in written and not [n for n in written if n.startswith(".")]
    for name in written:  # every file there is complete
        got, ref = disk / "stats" / name, reference / name
        if name.endswith(".csv"):
            assert got.read_bytes() == ref.read_bytes(), name
        else:
            assert got.stat().st_size == pytest.approx(ref.stat().st_size, rel=0.02), name


def test_blind_create_on_a_full_disk_leaves_nothing(tmp_path, small_disk, capsys):
    videos, groups = make_study(tmp_path, 4)
    disk = small_disk(96)  # the four coded copies and the database do not fit
    assert main(["blind", "create", *map(str, videos), "--groups", str(groups),
                 "--out", str(disk / "session"), "--key", str(disk / "key.json")]) == 1
    assert _error(capsys) == (f"behavior: error: {disk / 'session'}: cannot write: "
                              "no space left on the disk")
    assert listing(disk) == []  # no staging folder, no session, no key


def test_a_full_disk_under_the_scoring_database_loses_nothing(tmp_path, small_disk, capsys):
    disk = small_disk(2048)
    made, _, _ = make_session(disk, n=2, observers=("A",))
    shutil.rmtree(disk / "raw")  # the originals need not stay on this disk
    c1, c2 = sorted(made.codes)
    scores = tmp_path / "a.csv"
    scores.write_text("video,behaviour,start_s,end_s\n"
                      + "".join(f"{c},immobility,{0.01 * i:.2f},{0.01 * i + 0.005:.3f}\n"
                                for c in (c1, c2) for i in range(150)))
    fill(disk)
    capsys.readouterr()
    assert main(["blind", "import", str(made.session_dir), str(scores), "--observer", "A"]) == 1
    assert "no space left on the disk" in _error(capsys)
    (disk / "filler.bin").unlink()
    conn = sqlite3.connect(made.session_dir / "session.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone() == (0,)  # all or nothing
    conn.close()
    assert main(["blind", "import", str(made.session_dir), str(scores), "--observer", "A"]) == 0
    assert "imported 300 event(s) on 2 video(s)" in capsys.readouterr().out


def test_agreement_plot_on_a_full_disk(tmp_path, small_disk, capsys):
    table = tmp_path / "raters.csv"
    table.write_text("video,observer,behaviour,start_s,end_s\n" + "".join(
        f"v{v},{o},immobility,{1 + v + k},{5 + v}\n" for v in range(6) for k, o in
        enumerate("AB")))
    disk = small_disk(64)
    fill(disk, leave_bytes=12_000)  # the table fits; the Bland-Altman PNG does not
    assert main(["agreement", str(table), "--window", "0", "20",
                 "--out", str(disk / "agreement.csv")]) == 1
    assert _error(capsys).endswith("agreement_bland_altman.png: cannot write: no space left "
                                   "on the disk")
    assert listing(disk) == ["agreement.csv", "filler.bin"]
    assert pd.read_csv(disk / "agreement.csv")["n_videos"].tolist() == [6]
