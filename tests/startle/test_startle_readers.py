"""Every file layout, written by the synthetic generators with known amplitudes, read back.

The truth table (:func:`behavior.testing.startle.simulate_trials`) gives each
trial's amplitude, latency and baseline; waveform layouts must recover them from
the samples, per-trial layouts from the columns, and %PPI must equal the value
computed here from the truth with plain Python.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from behavior.errors import InputError
from behavior.io.startle_registry import read_startle_file
from behavior.startle.amplitude import measure_recording
from behavior.startle.pipeline import analyze_recordings
from behavior.startle.protocol import AmplitudeSettings, load_startle_protocol
from behavior.testing import startle as sy

SRLAB = load_startle_protocol("ppi_srlab")


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return sy.simulate_trials(4, seed=7)


def expected_ppi(
    truth: pd.DataFrame, first: int = 7, last: int = 56
) -> dict[tuple[str, float], float]:
    """%PPI = 100 (PA - PP) / PA from trial means of trials first..last, by hand."""
    out = {}
    for subject in pd.unique(truth["subject"]):
        rows = [
            r
            for r in truth[truth["subject"] == subject].itertuples()
            if first <= r.trial_no <= last
        ]
        pa = [r.amplitude for r in rows if r.kind == "pa"]
        pa_mean = sum(pa) / len(pa)
        for level in sy.PREPULSES_DB:
            pp = [r.amplitude for r in rows if r.kind == level]
            out[(subject, level)] = 100 * (pa_mean - sum(pp) / len(pp)) / pa_mean
    return out


def measured(path, **kw) -> pd.DataFrame:
    return measure_recording(
        read_startle_file(path, kw.pop("layout", "auto")), kw.pop("settings", SRLAB.amplitude)
    )


def check_amplitudes(trials: pd.DataFrame, truth: pd.DataFrame, subjects=None, waveform=True):
    if subjects is not None:
        trials = trials.assign(subject=trials["subject"].map(subjects))
    merged = trials.merge(truth, on=["subject", "trial_no"], suffixes=("", "_true"))
    assert len(merged) == len(truth)
    np.testing.assert_allclose(merged["amplitude"], merged["amplitude_true"], rtol=0, atol=1e-3)
    assert (merged["trial_name"] == merged["trial_name_true"]).all()
    if waveform:
        np.testing.assert_allclose(merged["latency_ms"], merged["latency_ms_true"])
        np.testing.assert_allclose(merged["baseline"], merged["baseline_true"], atol=1e-3)


def test_srlab_with_header(tmp_path, truth):
    path = sy.write_srlab(tmp_path / "srlab.csv", truth)
    rec = read_startle_file(path)
    assert rec.layout == "srlab" and not rec.has_waveforms
    t = measure_recording(rec, SRLAB.amplitude)
    check_amplitudes(t, truth)  # mV Max, T Max, V Start columns
    assert list(t["line"][:2]) == [2, 3]


def test_srlab_headerless_run_data_matches_per_trial_values(tmp_path, truth):
    a = sy.write_srlab(tmp_path / "plain.csv", truth, header=False)
    b = sy.write_srlab(
        tmp_path / "wave.csv", truth, header=False, run_data=True, sep=";", decimal=","
    )
    rec = read_startle_file(b)
    assert rec.layout == "srlab" and rec.samples.shape == (len(truth), 200)
    from_wave = measure_recording(rec, SRLAB.amplitude)
    from_cols = measured(a)
    check_amplitudes(from_wave, truth)
    # the same amplitudes whether measured from Run Data or read from mV Max
    np.testing.assert_allclose(from_wave["amplitude"], from_cols["amplitude"], atol=1e-3)
    assert from_wave["p2p"].notna().all() and from_cols["p2p"].isna().all()


def test_xlsx_phases(tmp_path, truth):
    hab = truth[truth["trial_no"] <= 6]
    rest = truth[truth["trial_no"] > 6].assign(
        trial_no=lambda d: d["trial_no"] - 6
    )  # numbering restarts
    path = sy.write_srlab_xlsx(tmp_path / "export.xlsx", {"Habituation": hab, "PPI": rest})
    rec = read_startle_file(path)
    assert rec.layout == "srlab-xlsx"
    t = measure_recording(rec, SRLAB.amplitude)
    check_amplitudes(t, truth)  # trial numbers continue across sheets
    assert set(t.loc[t["trial_no"] <= 6, "phase"]) == {"Habituation"}
    result = analyze_recordings([rec], SRLAB)
    got = result.summary.set_index(["subject", "prepulse_db"])["ppi_pct"]
    for key, value in expected_ppi(truth).items():
        assert got[key] == pytest.approx(value)


def test_kinder(tmp_path, truth):
    path = sy.write_kinder(tmp_path / "kinder.csv", truth, session="S7")
    rec = read_startle_file(path)
    assert rec.layout == "kinder" and rec.samples.shape == (4 * 62, 500)
    t = measure_recording(rec, SRLAB.amplitude)
    names = {f"S7 Encl {k}": s for k, s in enumerate(pd.unique(truth["subject"]), start=1)}
    check_amplitudes(t, truth, subjects=names)
    assert set(t["chamber"]) == {"Encl 1", "Encl 2", "Encl 3", "Encl 4"}


def test_tse_analog_signed_needs_rectifying(tmp_path, truth):
    path = sy.write_tse(tmp_path / "tse.csv", truth, sep=";", decimal=",", encoding="cp1252")
    rec = read_startle_file(path)
    assert rec.layout == "tse" and rec.signed
    check_amplitudes(measure_recording(rec, SRLAB.amplitude), truth)  # rectify: auto
    raw = measure_recording(rec, AmplitudeSettings(rectify="no"))
    merged = raw.merge(truth, on=["subject", "trial_no"])
    # peaks at odd sample indices are flipped negative by the generator: not recovered unrectified
    odd = ((merged["latency_ms_y"] + 100) / 2) % 2 == 1
    assert odd.sum() > 50
    assert (merged.loc[odd, "vmax"] < 0.95 * merged.loc[odd, "amplitude_y"]).all()


def test_lab_tables(tmp_path):
    lab = sy.simulate_trials(3, seed=3, names="lab")
    wide = read_startle_file(sy.write_wide(tmp_path / "wide.csv", lab))
    long = read_startle_file(sy.write_long(tmp_path / "long.csv", lab))
    assert (wide.layout, long.layout) == ("wide", "long")
    check_amplitudes(measure_recording(wide, SRLAB.amplitude), lab, waveform=False)
    check_amplitudes(measure_recording(long, SRLAB.amplitude), lab, waveform=False)
    summary = analyze_recordings([wide], SRLAB).summary
    got = summary.set_index(["subject", "prepulse_db"])["ppi_pct"]
    for key, value in expected_ppi(lab).items():
        assert got[key] == pytest.approx(value)
    # habituation = mean of trials 57-62 minus mean of trials 1-6
    m1 = lab[lab["subject"] == "M001"]
    hab = m1[m1.trial_no >= 57]["amplitude"].mean() - m1[m1.trial_no <= 6]["amplitude"].mean()
    assert summary.loc[summary.subject == "M001", "habituation"].iloc[0] == pytest.approx(hab)


def test_four_block_protocol_end_to_end(tmp_path):
    lab = sy.simulate_trials(2, seed=11, session="four_block", names="lab")
    proto = load_startle_protocol("ppi_four_block")
    summary = analyze_recordings(
        [read_startle_file(sy.write_long(tmp_path / "l.csv", lab))], proto
    ).summary
    for subject in ("M001", "M002"):
        d = lab[lab["subject"] == subject]
        blocks = [(1, 6), (7, 31), (32, 56), (57, 62)]
        pa = [
            d[(d.trial_no >= a) & (d.trial_no <= b) & (d.kind == "pa")]["amplitude"].mean()
            for a, b in blocks
        ]
        row = summary[(summary.subject == subject) & (summary.prepulse_db == 78)].iloc[0]
        pp = [
            d[(d.trial_no >= a) & (d.trial_no <= b) & (d.kind == 78.0)]["amplitude"].mean()
            for a, b in blocks[1:3]
        ]
        assert row["ppi_pct"] == pytest.approx(
            ((pa[1] - pp[0]) / pa[1] + (pa[2] - pp[1]) / pa[2]) * 50
        )
        assert row["startle"] == pytest.approx(sum(pa) / 4)
        assert row["habituation"] == pytest.approx(pa[3] - pa[0])


@pytest.mark.parametrize(
    ("encoding", "sep", "decimal", "newline"),
    [
        ("utf-8", ",", ".", "\n"),
        ("utf-8-sig", ",", ".", "\r\n"),
        ("utf-16", "\t", ".", "\r\n"),
        ("utf-16-le", ";", ",", "\r\n"),  # no BOM
        ("cp1252", ";", ",", "\r\n"),
    ],
)
@pytest.mark.parametrize(
    "writer", [sy.write_srlab, sy.write_long, sy.write_wide, sy.write_srlab_underscore]
)
def test_encodings_and_locales(tmp_path, encoding, sep, decimal, newline, writer):
    lab = sy.simulate_trials(2, seed=5, names="lab")
    lab["subject"] = lab["subject"].map({"M001": "Maus-ä1", "M002": "Souris-é2"})
    path = writer(
        tmp_path / "f.csv", lab, encoding=encoding, sep=sep, decimal=decimal, newline=newline
    )
    check_amplitudes(measured(path), lab, waveform=False)


def test_format_override_and_unknown_layout(tmp_path, truth):
    path = sy.write_long(tmp_path / "l.csv", truth)
    assert read_startle_file(path, "long").layout == "long"
    with pytest.raises(InputError, match="not a Kinder export"):
        read_startle_file(path, "kinder")
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(InputError, match="unknown startle file layout"):
        read_startle_file(odd)


def test_truncated_files_name_the_line(tmp_path, truth):
    path = sy.write_srlab(tmp_path / "cut.csv", truth, newline="\n")
    text = path.read_text()
    path.write_text(text[: text.rindex(",", 0, len(text) - 60)])  # cut inside the last row
    with pytest.raises(InputError) as info:
        read_startle_file(path)
    assert info.value.line == len(truth) + 1 and "truncated" in info.value.problem
    kinder = sy.write_kinder(tmp_path / "k.csv", truth[truth.subject == "M001"], newline="\n")
    raw = kinder.read_bytes()
    kinder.write_bytes(raw[: len(raw) - 12])
    with pytest.raises(InputError) as info:
        read_startle_file(kinder)
    assert info.value.line == 62 * 500 + 1


def test_wrong_encoding_and_binary_files(tmp_path, truth):
    binary = tmp_path / "image.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match="not a text table|not text"):
        read_startle_file(binary)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"  \r\n")
    with pytest.raises(InputError, match="empty"):
        read_startle_file(empty)
    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a workbook")
    with pytest.raises(InputError, match="xlsx"):
        read_startle_file(broken)
    # UTF-16 claimed by its BOM, but with an unpaired surrogate: a decoding error, with the line
    bad16 = tmp_path / "bad16.csv"
    bad16.write_bytes(
        "subject,trial,trial_type,amplitude\nA,1,p120,5\n".encode("utf-16") + b"\x00\xd8"
    )
    with pytest.raises(InputError, match="utf-16"):
        read_startle_file(bad16)


def test_non_numeric_value_names_line_and_column(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("subject,trial,trial_type,amplitude\nA,1,p120,5.5\nA,2,pp4,n/a?\n")
    with pytest.raises(InputError) as info:
        read_startle_file(path)
    assert info.value.line == 3 and "amplitude" in info.value.problem


def test_missing_unknown_and_duplicated(tmp_path, truth):
    lab = sy.simulate_trials(3, seed=9, names="lab")
    m1 = lab["subject"] == "M001"
    # M001 misses trials 10-19; M002 has one unknown trial name
    broken = lab[~(m1 & lab.trial_no.between(10, 19))].copy()
    broken.loc[(broken.subject == "M002") & (broken.trial_no == 8), "trial_name"] = "p999x"
    a = sy.write_long(tmp_path / "a.csv", broken)
    b = sy.write_long(tmp_path / "b.csv", lab[lab.subject == "M003"])  # M003 again
    result = analyze_recordings([read_startle_file(a), read_startle_file(b)], SRLAB)
    text = "\n".join(result.warnings)
    assert "subject 'M001': 52 of 62 trials (missing trials)" in text
    assert "'p999x' (1 trials)" in text
    per = result.summary.drop_duplicates("subject").set_index("subject")
    assert (
        bool(per.loc["M003", "excluded"])
        and "a.csv and b.csv" in per.loc["M003", "exclusion_reason"]
    )
    assert not per.loc["M001", "excluded"]
    got = result.summary.set_index(["subject", "prepulse_db"])["ppi_pct"]
    kept = broken[broken.trial_name != "p999x"]
    for key, value in expected_ppi(kept[kept.subject != "M003"]).items():
        assert got[key] == pytest.approx(value)
    assert result.trials.loc[result.trials.subject == "M003", "excluded"].all()


def test_subject_ids_normalised_and_near_duplicates(tmp_path):
    lab = sy.simulate_trials(3, seed=2, names="lab")
    first = lab[lab.subject == "M001"].copy()
    first.loc[first.trial_no > 30, "subject"] = "  m001 "  # same animal, other spelling
    lab = pd.concat([first, lab[lab.subject != "M001"]])
    lab.loc[lab.subject == "M002", "subject"] = "M-02"
    lab.loc[lab.subject == "M003", "subject"] = "M2"
    result = analyze_recordings([read_startle_file(sy.write_long(tmp_path / "l.csv", lab))], SRLAB)
    text = "\n".join(result.warnings)
    assert "merged as 'M001'" in text and "near-duplicate subject IDs 'M-02', 'M2'" in text
    assert sorted(pd.unique(result.summary.subject)) == ["M-02", "M001", "M2"]
    assert (result.summary.loc[result.summary.subject == "M001", "n_pulse_alone"] == 10).all()


@pytest.mark.parametrize(("sep", "joiner"), [(",", ","), (",", " "), (";", " ")])
def test_srlab_run_data_in_one_quoted_field(tmp_path, truth, sep, joiner):
    part = truth.iloc[:5]
    decimal = "," if sep == ";" else "."
    plain = sy.write_srlab(tmp_path / "p.csv", part, sep=sep, decimal=decimal, newline="\n")
    waves = sy.waveforms(part, np.arange(200.0))
    lines = plain.read_text().splitlines()
    rows = [
        line + '"' + joiner.join(f"{v:.4f}".replace(".", decimal) for v in w) + '"'
        for line, w in zip(lines[1:], waves, strict=True)
    ]
    path = tmp_path / "q.csv"
    path.write_text("\n".join([lines[0], *rows]) + "\n")
    rec = read_startle_file(path)
    assert rec.samples.shape == (5, 200)
    check_amplitudes(measure_recording(rec, SRLAB.amplitude), part)


def test_numeric_ids_keep_leading_zeros(tmp_path):
    lab = sy.simulate_trials(2, seed=8, names="lab")
    lab["subject"] = lab["subject"].map({"M001": "007", "M002": "012"})
    for writer in (sy.write_wide, sy.write_long, sy.write_srlab):
        path = writer(tmp_path / f"{writer.__name__}.csv", lab)
        assert set(read_startle_file(path).trials["subject"]) == {"007", "012"}


def test_group_column_reaches_the_summary(tmp_path):
    lab = sy.simulate_trials(2, seed=8, names="lab")
    srlab = sy.write_srlab(tmp_path / "s.csv", lab)  # Group column "A"
    wide = sy.write_wide(tmp_path / "w.csv", lab)  # group column "vehicle"
    for path, group in ((srlab, "A"), (wide, "vehicle")):
        summary = analyze_recordings([read_startle_file(path)], SRLAB).summary
        assert set(summary["group"]) == {group}


def test_row_with_extra_fields_names_the_line(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(
        "subject,trial,trial_type,amplitude\nA,1,p120,5.5\n\nA,2,pp4,4,5\nA,3,pp4,4.2,,\n"
    )  # decimal comma in a comma-separated file, line 4
    with pytest.raises(InputError) as info:
        read_startle_file(path)
    assert info.value.line == 4 and "5 fields where the header has 4" in info.value.problem


def test_trailing_empty_fields_are_accepted(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("subject,trial,trial_type,amplitude,,\nA,1,p120,5.5,,\nA,2,pp4,4.2,,\n")
    trials = read_startle_file(path).trials
    assert list(trials["amplitude"]) == [5.5, 4.2] and list(trials["line"]) == [2, 3]


def test_lab_tables_kept_in_excel(tmp_path):
    lab = sy.simulate_trials(2, seed=6, names="lab")
    wide_csv = sy.write_wide(tmp_path / "w.csv", lab)
    long_csv = sy.write_long(tmp_path / "l.csv", lab)
    path = tmp_path / "lab.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.read_csv(wide_csv, dtype={"subject": str}).to_excel(
            writer, sheet_name="cohort1", index=False
        )
    rec = read_startle_file(path)
    assert rec.layout == "workbook" and set(rec.trials["phase"]) == {"cohort1"}
    check_amplitudes(measure_recording(rec, SRLAB.amplitude), lab, waveform=False)
    assert rec.trials["line"].iloc[0] == 2  # spreadsheet row
    with pd.ExcelWriter(path) as writer:
        pd.read_csv(long_csv).to_excel(writer, sheet_name="trials", index=False)
    check_amplitudes(
        measure_recording(read_startle_file(path), SRLAB.amplitude), lab, waveform=False
    )
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"a": [1], "b": [2]}).to_excel(writer, sheet_name="notes", index=False)
    with pytest.raises(InputError, match="sheet 'notes': unknown startle file layout"):
        read_startle_file(path)
