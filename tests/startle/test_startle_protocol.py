"""Startle protocol files: shipped ones load; bad values name the file and key."""

from __future__ import annotations

import pytest
import yaml

from behavior.errors import FileSystemError, ProtocolError
from behavior.startle.protocol import load_startle_protocol, parse_trial_name


def test_shipped_protocols():
    srlab = load_startle_protocol("ppi_srlab")
    assert srlab.ppi_method == "average_first" and srlab.negative_ppi == "keep"
    assert sorted(t.prepulse_db for t in srlab.trial_types if t.role == "prepulse_pulse") == [
        74,
        78,
        86,
    ]
    assert (
        srlab.lookup("pp8").prepulse_db == 78
        and srlab.lookup("  startle_120_0 ").role == "pulse_alone"
    )
    four = load_startle_protocol("ppi_four_block")
    assert [(b.first_trial, b.last_trial, b.ppi) for b in four.blocks] == [
        (1, 6, False), (7, 31, True), (32, 56, True), (57, 62, False)
    ]  # fmt: skip
    assert four.ppi_method == "per_block" and four.startle_method == "mean_of_block_means"
    assert four.habituation_blocks == ("block1", "block4")


@pytest.mark.parametrize(
    ("name", "role", "pulse", "prepulse"),
    [
        ("PPI_120_70", "prepulse_pulse", 120, 70),
        ("Startle_120_0", "pulse_alone", 120, 0),
        ("NoStim_0_0", "no_stimulus", 0, 0),
        ("PP_0_74", "prepulse_alone", 0, 74),
        ("startle 95 0", "pulse_alone", 95, 0),
    ],
)
def test_parse_trial_name(name, role, pulse, prepulse):
    t = parse_trial_name(name)
    assert (t.role, t.pulse_db, t.prepulse_db) == (role, pulse, prepulse)


def test_parse_trial_name_rejects_others():
    assert parse_trial_name("p120") is None and parse_trial_name("Gap_50_3") is None


BASE = {
    "name": "x",
    "background_db": 70,
    "trial_types": [{"name": "PA", "role": "pulse_alone", "pulse_db": 120}],
}


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"ppi_method": "median"}, "ppi_method", "expected one of"),
        ({"negative_ppi": "hide"}, "negative_ppi", "keep, clip, drop"),
        (
            {"trial_types": [{"name": "PP", "role": "prepulse_pulse", "pulse_db": 120}]},
            "trial_types[0].prepulse_db",
            "> 0",
        ),
        (
            {"trial_types": [{"name": "PA", "role": "pulse"}]},
            "trial_types[0].role",
            "expected one of",
        ),
        ({"blocks": [{"name": "a", "trials": [5, 2]}]}, "blocks[0].trials", "first <= last"),
        (
            {"blocks": [{"name": "a", "trials": [1, 6]}, {"name": "b", "trials": [6, 9]}]},
            "blocks[1].trials",
            "overlap",
        ),
        (
            {
                "blocks": [{"name": "a", "trials": [1, 6]}],
                "habituation": {"first": "a", "last": "z"},
            },
            "habituation.last",
            "no block",
        ),
        ({"amplitude": {"window_ms": [-5, 100]}}, "amplitude.window_ms", ">= 0"),
        (
            {"exclusions": {"outlier_trials": {"method": "iqr"}}},
            "exclusions.outlier_trials.method",
            "expected one of",
        ),
        ({"colour": "red"}, "colour", "unknown key"),
        ({"ppi_method": "per_block"}, "ppi_method", "needs blocks"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path, change, key, words):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**BASE, **change}))
    with pytest.raises(ProtocolError) as info:
        load_startle_protocol(path)
    assert info.value.key == key and words in info.value.problem and "bad.yaml" in str(info.value)


def test_unknown_shipped_name():
    # a file-system error (exit status 1) naming the name and the shipped protocols
    with pytest.raises(FileSystemError, match="no_such_protocol: .*shipped: .*ppi_srlab"):
        load_startle_protocol("no_such_protocol")
