"""`behavior ppi analyze|trials` end to end on generated files."""

from __future__ import annotations

import pandas as pd
import pytest

from behavior.cli import main
from behavior.testing import startle as sy


@pytest.fixture()
def files(tmp_path):
    lab = sy.simulate_trials(3, seed=4)
    good = sy.write_srlab(tmp_path / "session1.csv", lab[lab.subject != "M003"], header=False)
    other = sy.write_kinder(tmp_path / "kinder.csv", lab[lab.subject == "M003"], session="K")
    bad = tmp_path / "broken.csv"
    text = good.read_text()
    bad.write_text(text[: len(text) // 2 - 7].replace("M00", "X00"))
    return lab, good, other, bad


def test_analyze_reports_bad_file_and_analyses_the_rest(tmp_path, files, capsys):
    lab, good, other, bad = files
    out, trials = tmp_path / "res" / "ppi.csv", tmp_path / "trials.csv"
    rc = main(
        [
            "ppi",
            "analyze",
            str(good),
            str(bad),
            str(other),
            "--out",
            str(out),
            "--trials",
            str(trials),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert "broken.csv, line" in err and "1 of 3 files could not be read" in err
    table = pd.read_csv(out)
    required = {
        "subject",
        "prepulse_db",
        "ppi_pct",
        "startle",
        "n_trials",
        "habituation",
        "nostim",
        "excluded",
        "exclusion_reason",
    }
    assert required <= set(table.columns)
    assert sorted(table.subject.unique()) == ["K Encl 1", "M001", "M002"]
    assert len(table) == 9 and (table.n_trials == 10).all()
    per_trial = pd.read_csv(trials)
    assert len(per_trial) == 3 * 62 and {"role", "block", "amplitude", "ppi_pct"} <= set(
        per_trial.columns
    )
    # Kinder waveforms and SR-LAB columns give the same startle for the same truth
    m3 = lab[(lab.subject == "M003") & lab.trial_no.between(7, 56) & (lab.kind == "pa")][
        "amplitude"
    ].mean()
    assert table.loc[table.subject == "K Encl 1", "startle"].iloc[0] == pytest.approx(m3, abs=1e-3)


def test_analyze_method_override_and_stdout(files, capsys):
    _, good, _, _ = files
    assert (
        main(
            [
                "ppi",
                "analyze",
                str(good),
                "--method",
                "per_trial",
                "--negative",
                "clip",
                "--out",
                "-",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("subject,group,chamber,") and "per_trial" in out


def test_trials_command_on_segments(tmp_path, capsys):
    t = sy.simulate_trials(1, seed=1).iloc[:1]
    import numpy as np

    times = np.arange(-500, 502, 2.0)
    values = sy.waveforms(t, times)[0]
    seg = tmp_path / "Rat7_PPI_120_74_Rep1_segment.csv"
    seg.write_text(
        "0,1\n" + "".join(f"{a:g},{float(b)!r}\n" for a, b in zip(times, values, strict=True))
    )
    out = tmp_path / "t.csv"
    assert main(["ppi", "trials", str(seg), "--format", "tse-segment", "--out", str(out)]) == 0
    row = pd.read_csv(out).iloc[0]
    assert row["subject"] == "Rat7" and row["vmax"] == pytest.approx(t["amplitude"].iloc[0])
    assert row["latency_ms"] == t["latency_ms"].iloc[0]


def test_bad_protocol_is_exit_2(tmp_path, files, capsys):
    _, good, _, _ = files
    proto = tmp_path / "p.yaml"
    proto.write_text("name: x\nbackground_db: loud\n")
    assert (
        main(
            [
                "ppi",
                "analyze",
                str(good),
                "--protocol",
                str(proto),
                "--out",
                str(tmp_path / "o.csv"),
            ]
        )
        == 2
    )
    assert "background_db" in capsys.readouterr().err


def test_nothing_readable_is_exit_1(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert main(["ppi", "analyze", str(missing), "--out", str(tmp_path / "o.csv")]) == 1
    assert "nope.csv: file not found" in capsys.readouterr().err


def test_onset_override_for_files_timed_from_trial_start(tmp_path):
    lab = sy.simulate_trials(1, seed=12)
    path = sy.write_kinder(tmp_path / "k.csv", lab, session="S", newline="\n")
    frame = pd.read_csv(path)
    frame["Time(ms)"] += 100  # this export counts from the trial start; the pulse is at 100 ms
    frame.to_csv(path, index=False)
    out = tmp_path / "t.csv"
    assert main(["ppi", "trials", str(path), "--onset-ms", "100", "--out", str(out)]) == 0
    got = pd.read_csv(out).merge(lab, on="trial_no")
    assert (got["latency_ms_x"] == got["latency_ms_y"]).all()
    assert got["vmax"].to_numpy() == pytest.approx(got["amplitude_y"].to_numpy(), abs=1e-3)
    # without the override the window (0-100 ms on the file's axis) holds only the baseline
    assert main(["ppi", "trials", str(path), "--out", str(out)]) == 0
    plain = pd.read_csv(out).merge(lab, on="trial_no")
    assert plain["vmax"].to_numpy() == pytest.approx(plain["baseline_y"].to_numpy(), abs=1e-3)
