"""Preparing a blinded session: coded copies, no leaks, the key apart, all or nothing."""

import json
import sqlite3
from pathlib import Path

import av
import numpy as np
import pytest
from blinding_helpers import (
    CREATION_TIME,
    LEAKY_COMMENT,
    decoded,
    make_clip,
    make_session,
    make_study,
    small_protocol,
)

from behavior.blinding.create import create_session
from behavior.blinding.key import read_key
from behavior.blinding.remux import find_leaks, metadata, remux_without_metadata
from behavior.blinding.tables import match_groups, read_groups
from behavior.errors import InputError

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


def _all_text(folder: Path) -> bytes:
    """Every byte of every file in the folder, plus the file names."""
    blob = b""
    for p in sorted(folder.rglob("*")):
        blob += p.name.encode() + b"\n"
        if p.is_file():
            blob += p.read_bytes()
    return blob.lower()


@pytest.mark.parametrize("codec,suffix", [("mpeg4", ".avi"), ("h264", ".mp4"),
                                          ("mjpeg", ".mkv"), ("mpeg4", ".mov")])
def test_remux_strips_metadata_and_keeps_frames(tmp_path, codec, suffix):
    src = make_clip(tmp_path / f"vehicle_mouse3{suffix}", codec=codec)
    with av.open(str(src)) as c:  # the leak is really there before
        assert "vehicle" in str(dict(c.metadata)).lower()
    dst = tmp_path / f"K7QX3M{suffix}"
    result = remux_without_metadata(src, dst)
    assert result.remuxed and result.packets == 50
    with av.open(str(dst)) as c:
        meta = {**c.metadata, **c.streams.video[0].metadata}
    text = json.dumps(meta).lower()
    for leak in ("vehicle", "mouse", "group", CREATION_TIME[:10], "fluoxetine"):
        assert leak.lower() not in text
    assert b"vehicle" not in dst.read_bytes().lower()
    a, b = decoded(src), decoded(dst)
    assert len(a) == len(b) == 50
    assert all(ta == pytest.approx(tb) and np.array_equal(fa, fb) for (ta, fa), (tb, fb)
               in zip(a, b, strict=False))


def test_session_folder_reveals_no_group_or_name(tmp_path):
    made, videos, groups = make_session(tmp_path, n=4)
    blob = _all_text(made.session_dir)
    for leak in ("vehicle", "fluoxetine", "mouse1", "m01", "m02", "raw", "groups",
                 CREATION_TIME[:10].encode().decode(), LEAKY_COMMENT):
        assert leak.lower().encode() not in blob, leak
    files = sorted(p.name for p in (made.session_dir / "videos").iterdir())
    assert files == sorted(f"{c}.mp4" for c in made.codes)
    # the key, outside, maps every code back
    sid, key = read_key(made.key_path)
    assert sid == made.session_id
    assert sorted(key["code"]) == sorted(made.codes)
    assert sorted(Path(v).name for v in key["video"]) == sorted(v.name for v in videos)
    for row in key.itertuples():
        assert row.group in Path(row.video).name  # the test's files are named after the group
    conn = sqlite3.connect(made.session_dir / "session.sqlite")
    assert conn.execute("SELECT id FROM session").fetchone()[0] == made.session_id
    assert conn.execute("SELECT COUNT(*) FROM videos WHERE remuxed = 1").fetchone()[0] == 4
    conn.close()


def test_codes_are_random_not_derived_from_names(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, _, _ = make_session(tmp_path / "a", n=4)
    b, _, _ = make_session(tmp_path / "b", n=4)
    assert set(a.codes).isdisjoint(b.codes)  # same inputs, new codes (25**6 possibilities)
    assert a.session_id != b.session_id


def test_key_inside_the_session_is_refused(tmp_path):
    videos, groups = make_study(tmp_path, 2)
    table = match_groups(videos, read_groups(groups), groups)
    with pytest.raises(InputError, match="outside the session folder"):
        create_session(videos, table, tmp_path / "s", tmp_path / "s" / "key.json",
                       small_protocol())
    assert not (tmp_path / "s").exists()


def test_existing_key_or_full_folder_refused(tmp_path):
    videos, groups = make_study(tmp_path, 2)
    table = match_groups(videos, read_groups(groups), groups)
    (tmp_path / "key.json").write_text("{}")
    with pytest.raises(InputError, match="already exists"):
        create_session(videos, table, tmp_path / "s", tmp_path / "key.json", small_protocol())
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        create_session(videos, table, tmp_path / "full", tmp_path / "k2.json", small_protocol())


def test_a_bad_video_leaves_nothing_behind(tmp_path):
    videos, groups = make_study(tmp_path, 3)
    videos[1].write_bytes(b"not a video at all")
    table = match_groups(videos, read_groups(groups), groups)
    with pytest.raises(InputError, match=videos[1].name):
        create_session(videos, table, tmp_path / "s", tmp_path / "key.json", small_protocol())
    assert not (tmp_path / "s").exists() and not (tmp_path / "key.json").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_groups_table_must_cover_every_video(tmp_path):
    videos, groups = make_study(tmp_path, 3)
    lines = groups.read_text().splitlines()
    groups.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(InputError, match=videos[2].name):
        match_groups(videos, read_groups(groups), groups)
    groups.write_text("video,subject\na.mp4,m1\n")
    with pytest.raises(InputError, match="missing column"):
        read_groups(groups)
    groups.write_text("video,subject,group,code\na.mp4,m1,vehicle,X1\n")
    with pytest.raises(InputError, match="code are used by the scores"):
        read_groups(groups)


def test_real_codecs_are_coded_without_leaks(tmp_path):
    clips = [REAL / "empty-chamber" / "Freezing_calibration.wmv",
             REAL / "mouse-chamber" / "Day3_Mouse1_CNO_xvid.avi"]
    if not all(c.exists() for c in clips):
        pytest.skip("real recordings not found in ../shared/data/real")
    groups = tmp_path / "groups.csv"
    groups.write_text(f"video,subject,group\n{clips[0].name},e1,empty\n{clips[1].name},m1,CNO\n")
    protocol = small_protocol().with_overrides(duration_s=60.0, window_s=(0.0, 60.0), bin_s=10.0)
    made = create_session(clips, match_groups(clips, read_groups(groups), groups),
                          tmp_path / "s", tmp_path / "key.csv", protocol)
    blob = _all_text(made.session_dir)
    for leak in (b"day3_mouse1", b"freezing_calibration"):
        assert leak not in blob, leak
    assert b"cno" not in (made.session_dir / "session.sqlite").read_bytes().lower()
    for f in (made.session_dir / "videos").iterdir():
        assert "cno" not in json.dumps(metadata(f)).lower()
    # WMV3 has no encoder in FFmpeg, so PyAV cannot remux it: copied, and said so
    assert [c.endswith(".wmv") for c in made.copied] == [] or len(made.copied) == 1
    assert all("copied unchanged" in why for why in made.copied.values())
    sid, key = read_key(made.key_path)
    for row in key.itertuples():
        coded = next((made.session_dir / "videos").glob(f"{row.code}.*"))
        a, b = decoded(Path(row.video), every=100), decoded(coded, every=100)
        assert len(a) == len(b)
        assert [t for t, _ in a] == pytest.approx([t for t, _ in b])
        pairs = zip(a[::100], b[::100], strict=True)
        assert all(np.array_equal(fa, fb) for (_, fa), (_, fb) in pairs)


def test_a_copy_that_would_leak_is_refused(tmp_path, monkeypatch):
    """Where a file can only be copied, its metadata is checked for names and groups."""
    videos, groups = make_study(tmp_path, 2)
    table = match_groups(videos, read_groups(groups), groups)
    import behavior.blinding.create as create_module

    def copy_only(src, dst):
        import shutil

        from behavior.blinding.remux import RemuxResult
        shutil.copyfile(src, dst)
        return RemuxResult(Path(dst), False, 0, "copied unchanged")

    monkeypatch.setattr(create_module, "remux_without_metadata", copy_only)
    with pytest.raises(InputError, match="would still reveal"):
        create_session(videos, table, tmp_path / "s", tmp_path / "key.json", small_protocol())
    assert not (tmp_path / "s").exists() and not (tmp_path / "key.json").exists()
    assert find_leaks(videos[0], ["vehicle", "nothing-like-this"]) == ["vehicle"]
