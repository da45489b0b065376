"""Every text reader takes UTF-8, UTF-8 with BOM, UTF-16 (LE/BE, with or without BOM)
and cp1252 through one decoder, and refuses other encodings and garbled IDs with the
file and the line. The files are written here, byte for byte, in each encoding."""

from __future__ import annotations

import codecs
import re

import numpy as np
import pandas as pd
import pytest
from blinding_helpers import make_session, make_study

from behavior.blinding.key import read_key
from behavior.blinding.tables import read_groups, read_intervals
from behavior.cli import main
from behavior.errors import InputError
from behavior.io.startle_registry import read_startle_file
from behavior.stats.readers import read_table
from behavior.testing import startle as sy

#: name -> bytes of a text, as Windows, Excel and lab software write it
ENCODINGS = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-8 BOM": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    "utf-16 LE BOM": lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
    "utf-16 BE BOM": lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
    "utf-16 LE": lambda t: t.encode("utf-16-le"),
    "utf-16 BE": lambda t: t.encode("utf-16-be"),
    "cp1252": lambda t: t.encode("cp1252"),
}
IDS = ["Müller-1", "Souris-é2", "µ-3", "Ørsted-4", "Ñandú-5", "Maus-ß6"]


def _write(path, text: str, encoding: str, newline: str = "\r\n"):
    path.write_bytes(ENCODINGS[encoding](text.replace("\n", newline)))
    return path


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_stats_reads_results_and_groups_tables_in_every_encoding(tmp_path, capsys, encoding):
    # a European Excel: ';' and decimal commas in the results; the groups in cp1252 or not
    scores = [4.5, 6.25, 5.0, 12.5, 14.75, 13.0]
    results = _write(tmp_path / "results.csv", "subject;immobility_s\n" + "".join(
        f"{s};{str(v).replace('.', ',')}\n" for s, v in zip(IDS, scores, strict=True)), encoding)
    groups = _write(tmp_path / "groups.csv", "subject,group\n" + "".join(
        f"{s},{'véhicule' if i < 3 else 'fluoxétine'}\n" for i, s in enumerate(IDS)), encoding)
    table = read_table(results)
    assert table["subject"].tolist() == IDS and table["immobility_s"].tolist()[0] == "4.5"
    assert main(["stats", str(results), "--groups", str(groups), "--value", "immobility_s",
                 "--control", "véhicule", "--out", str(tmp_path / "out")]) == 0
    data = pd.read_csv(tmp_path / "out" / "analysed_data.csv", encoding="utf-8")
    assert dict(zip(data["subject"], data["immobility_s"], strict=True)) == dict(
        zip(IDS, scores, strict=True))
    assert data.groupby("group")["immobility_s"].mean().to_dict() == pytest.approx(
        {"véhicule": np.mean(scores[:3]), "fluoxétine": np.mean(scores[3:])})


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_blinding_tables_in_every_encoding(tmp_path, encoding):
    videos, _ = make_study(tmp_path, 2)
    groups = _write(tmp_path / "groups.csv", "video,subject,group\n" + "".join(
        f"{v.name},{IDS[i]},{'véhicule' if i else 'fluoxétine'}\n" for i, v in enumerate(videos)),
        encoding)
    assert read_groups(groups)["subject"].tolist() == IDS[:2]
    intervals = _write(tmp_path / "ann.csv", "video;behaviour;start_s;end_s\n"
                       "K7QX3M.mp4;Immobility;1,5;3,25\nK7QX3M;immobility;4;4,5\n", encoding)
    table = read_intervals(intervals)
    assert table[["video", "behaviour", "start_s", "end_s"]].values.tolist() == [
        ["K7QX3M", "immobility", 1.5, 3.25], ["K7QX3M", "immobility", 4.0, 4.5]]


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16 LE BOM", "utf-8 BOM"])
def test_a_csv_key_saved_again_by_excel_still_unblinds(tmp_path, capsys, encoding):
    made, _, _ = make_session(tmp_path, n=2, observers=("A",))
    key = made.key_path.with_suffix(".csv")
    sid, table = read_key(made.key_path)
    table = table.assign(subject=IDS[:2])
    text = f"# behavior-blinding-key: 1;;;\n# session_id: {sid};;;\n" + table.to_csv(
        index=False, sep=";", lineterminator="\n")
    _write(key, text, encoding)
    got_sid, got = read_key(key)
    assert got_sid == sid and got["subject"].tolist() == IDS[:2]
    assert main(["blind", "lock", str(made.session_dir), "--allow-incomplete"]) == 0
    # nobody scored: nothing to unblind, but the key was read and matched the session
    assert main(["blind", "unblind", str(made.session_dir), "--key", str(key), "--out",
                 str(tmp_path / "s.csv")]) == 2
    assert "no scores to unblind" in capsys.readouterr().err


def test_srlab_underscore_csv_from_a_european_excel(tmp_path, capsys):
    # FIELD.md section 2: the workbook's underscore header saved as CSV by Excel in a
    # European locale: UTF-16, ';', decimal commas -- it was "unknown layout"
    truth = sy.simulate_trials(3, seed=11)
    path = sy.write_srlab_underscore(tmp_path / "export.csv", truth, encoding="utf-16",
                                     sep=";", decimal=",")
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF16_LE)
    assert "Chamber_ID;Subject_ID;Trial_Num;".encode("utf-16-le") in raw
    assert re.search(r";\d+,\d+;", raw.decode("utf-16"))  # decimal commas
    out = tmp_path / "ppi.csv"
    assert main(["ppi", "analyze", str(path), "--out", str(out)]) == 0
    got = pd.read_csv(out).set_index(["subject", "prepulse_db"])["ppi_pct"]
    for subject in pd.unique(truth["subject"]):
        rows = truth[(truth["subject"] == subject) & truth["trial_no"].between(7, 56)]
        pa = rows.loc[rows["kind"] == "pa", "amplitude"].mean()
        for level in sy.PREPULSES_DB:
            pp = rows.loc[rows["kind"] == level, "amplitude"].mean()
            assert got[(subject, level)] == pytest.approx(100 * (pa - pp) / pa)


def _garbled_files(tmp_path):
    """(what, path, line, reader) of files that must be refused."""
    lines = ["subject,trial,trial_type,amplitude", "M01,1,p120,812.5"]
    cases = {
        "Shift-JIS": ("マウス01,2,p120,790.0", "shift_jis", "Shift-JIS"),
        "Mac-Roman": ("Müller-2,2,p120,790.0", "mac_roman", "Mac-Roman it would read"),
        "UTF-8 read as cp1252": ("MÃ¼ller-2,2,p120,790.0", "utf-8", "garbled text"),
        "C1 control": ("M\u008502,2,p120,790.0", "utf-8", "control character U+0085"),
    }
    for what, (row, codec, message) in cases.items():
        text = "\n".join([*lines, row, "M01,3,pp4,400.0"]) + "\n"
        path = tmp_path / f"{what.replace(' ', '_')}.csv"
        path.write_bytes(text.encode(codec))
        yield what, path, message


@pytest.mark.parametrize("reader", ["startle", "stats", "intervals", "groups"])
def test_other_encodings_and_mojibake_are_refused_with_file_and_line(tmp_path, reader):
    read = {
        "startle": read_startle_file,
        "stats": read_table,
        "intervals": read_intervals,
        "groups": read_groups,
    }[reader]
    for what, path, message in _garbled_files(tmp_path):
        with pytest.raises(InputError) as info:
            read(path)
        assert info.value.path == str(path) and info.value.line == 3, what
        assert message in info.value.problem, (what, info.value.problem)


def test_the_decoder_accepts_real_cp1252_text():
    from behavior.io.text import decode_bytes

    text = ("subject;group;dose;note\nMüller-1;véhicule;0,5;“ok” – 120–360 s\n"
            "Škoda;O’Brien;€5;5‰ naïve façade\nŒuvre;Ñandú;ÀÉÎÕÜ;µ ± °C\n")
    assert decode_bytes("f.csv", text.encode("cp1252")) == (text, "cp1252")
