"""A session's key as the groups table of the statistics (``key_groups``)."""

from __future__ import annotations

import json

from blinding_helpers import make_session

from behavior.blinding.key import key_groups


def test_key_groups_by_subject_and_by_coded_file(tmp_path):
    made, videos, _ = make_session(tmp_path, n=4)
    rows = json.loads(made.key_path.read_text())["videos"]
    # unblinded scores name the animal: matched on subject, no code or original path
    by_subject = key_groups(made.key_path, ["subject", "group", "immobility_s"])
    assert list(by_subject.columns) == ["subject", "group", "dose_mg_kg"]
    assert sorted(by_subject["subject"]) == ["m01", "m02", "m03", "m04"]
    # auto-scores of the coded videos: matched on the coded file's name, arena 1
    by_file = key_groups(made.key_path, ["video", "arena", "immobility_s"])
    assert list(by_file.columns[:3]) == ["video", "arena", "subject"]
    expected = {f"{r['code']}.mp4": (r["subject"], r["group"]) for r in rows}
    assert {v: (s, g) for v, s, g in by_file[["video", "subject", "group"]].itertuples(
        index=False)} == expected
    assert set(by_file["arena"]) == {"1"}
    coded = {p.name for p in (made.session_dir / "videos").iterdir()}
    assert set(by_file["video"]) == coded  # the names the coded copies really have
