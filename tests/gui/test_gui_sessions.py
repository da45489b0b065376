"""The Sessions page creates, follows, locks and unblinds a session as ``behavior blind``.

Four real H.264 clips of 125 s at 2 fps (vehicle / fluoxetine alternating; the mouse
forced swim window 120–360 s is observed from 120 to 125 s), coded once from the page and
once by the command line; both sessions get the same bouts per original video from
two observers; the keys (apart from the random codes) and the unblinded tables must
be the same.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from gui_helpers import write_clip

from behavior.blinding.session import ScoringSession
from behavior.cli import main

#: bouts per original video (s) for observers ann and bob
BOUTS = {"vehicle_mouse1": [(121.2, 121.9)], "fluoxetine_mouse2": [(121.0, 123.6)],
         "vehicle_mouse3": [(122.0, 122.5), (122.7, 124.0)], "fluoxetine_mouse4": []}
END_S = 125.0


@pytest.fixture
def study(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    videos, lines = [], ["video,subject,group,dose_mg_kg"]
    for i, stem in enumerate(BOUTS):
        v = raw / f"{stem}.mp4"
        write_clip(v, seconds=END_S, fps=2.0, seed=i)
        videos.append(v)
        group = stem.split("_")[0]
        lines.append(f"{v.name},m{i + 1},{group},{0 if group == 'vehicle' else 10}")
    groups = tmp_path / "groups.csv"
    groups.write_text("\n".join(lines) + "\n")
    return videos, groups


@pytest.fixture
def page(qtbot, tmp_path):
    from behavior_gui.sessions_page import SessionsPage
    from behavior_gui.settings import Settings

    p = SessionsPage(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(p)
    p.show()
    return p


def score_everything(session_dir, key_path, shift: float = 0.0) -> None:
    """ann and bob score every video with BOUTS (bob's bouts ``shift`` s later) and
    finish it; videos found through the key (the test plays the administrator)."""
    key = {row["code"]: row["video"] for row in json.loads(key_path.read_text())["videos"]}
    for observer, delta in (("ann", 0.0), ("bob", shift)):
        with ScoringSession(session_dir, observer) as s:
            for code, video in key.items():
                s.select(code)
                stem = video.rsplit("/", 1)[-1].removesuffix(".mp4")
                for a, b in BOUTS[stem]:
                    s.add("immobility", a + delta, min(b + delta, END_S))
                s.finish(code)


def test_create_lock_unblind_from_the_page_equals_the_cli(qtbot, page, study, tmp_path, capsys):
    videos, groups = study
    for v in videos:
        page.video_list.addItem(str(v))
    page.groups_edit.setText(str(groups))
    page.session_edit.setText(str(tmp_path / "gui_session"))
    page.key_edit.setText(str(tmp_path / "gui_key.json"))
    page.observers_edit.setText("ann, bob")
    task = page.create()
    assert task is not None
    assert not page.create_button.isEnabled()  # the copy runs in a worker thread
    # the thread may end before a signal wait would be connected (a quick
    # failure): wait for the thread itself
    qtbot.waitUntil(task.isFinished, timeout=60000)
    qtbot.waitUntil(lambda: page.last_created is not None, timeout=5000)
    made = page.last_created
    assert len(made.codes) == 4 and made.observers == ("ann", "bob")
    # the command line, same videos and groups
    assert main(["blind", "create", *map(str, videos), "--groups", str(groups), "--out",
                 str(tmp_path / "cli_session"), "--key", str(tmp_path / "cli_key.json"),
                 "--observers", "ann,bob"]) == 0
    keys = []
    for name in ("gui_key.json", "cli_key.json"):
        rows = json.loads((tmp_path / name).read_text())["videos"]
        keys.append(sorted(({k: v for k, v in r.items() if k != "code"} for r in rows),
                           key=lambda r: r["subject"]))
    assert keys[0] == keys[1]

    # progress per observer: counts only, no group, no file name
    score_everything(made.session_dir, made.key_path, shift=0.1)
    assert page.refresh()
    shown = page.progress_table.frame
    assert shown.to_dict("list") == {"observer": ["ann", "bob"], "finished": [4, 4],
                                     "videos": [4, 4], "done": ["yes", "yes"]}
    capsys.readouterr()
    assert main(["blind", "status", str(made.session_dir)]) == 0
    cli_status = capsys.readouterr().out
    assert "ann: 4/4 videos finished" in cli_status and "bob: 4/4" in cli_status
    texts = [page.state_label.text()] + [page.progress_table.item(i, j).text()
                                          for i in range(2) for j in range(4)]
    for secret in ("vehicle", "fluoxetine", "mouse", "m1"):
        assert not any(secret in t for t in texts), secret

    # lock, then unblind with the key
    result = page.lock()
    assert result is not None and result.events == 2 * 4  # 4 bouts each, per observer
    assert "locked at" in page.state_label.text() and not page.lock_button.isEnabled()
    page.scores_edit.setText(str(tmp_path / "gui_scores.csv"))
    assert page.unblind() is not None

    score_everything(tmp_path / "cli_session", tmp_path / "cli_key.json", shift=0.1)
    assert main(["blind", "lock", str(tmp_path / "cli_session")]) == 0
    assert main(["blind", "unblind", str(tmp_path / "cli_session"), "--key",
                 str(tmp_path / "cli_key.json"), "--out", str(tmp_path / "cli_scores.csv")]) == 0
    gui = pd.read_csv(tmp_path / "gui_scores.csv").drop(columns="code")
    cli = pd.read_csv(tmp_path / "cli_scores.csv").drop(columns="code")
    pd.testing.assert_frame_equal(gui, cli)
    # and the values are the bouts scored: mouse 2, ann 2.6 s and bob 2.6 s (ends at
    # 123.7 s: inside the 5 s observed); mouse 4 scored as immobile for 0 s
    by_subject = gui.set_index("subject")
    assert by_subject.loc["m2", "immobility_s"] == pytest.approx(2.6, abs=1e-6)
    assert by_subject.loc["m2", "scored_s"] == pytest.approx(5.0, abs=0.01)
    assert by_subject.loc["m4", "immobility_s"] == 0.0
    assert by_subject.loc["m2", "n_observers"] == 2
    assert by_subject.loc["m2", "group"] == "fluoxetine"


def test_unblind_before_the_lock_is_refused_in_one_line(qtbot, page, study, tmp_path):
    from behavior.blinding.create import create_session
    from behavior.blinding.tables import match_groups, read_groups
    from behavior.protocols import load_fst_protocol

    videos, groups = study
    made = create_session(videos, match_groups(videos, read_groups(groups), groups),
                          tmp_path / "s", tmp_path / "k.json", load_fst_protocol("mouse_fst"),
                          observers=["ann"])
    page.status_edit.setText(str(made.session_dir))
    page.unblind_key_edit.setText(str(made.key_path))
    page.scores_edit.setText(str(tmp_path / "scores.csv"))
    assert page.unblind() is None
    assert "not locked" in page.unblind_result.text()
    assert not (tmp_path / "scores.csv").exists()


def test_create_failure_is_one_line_and_the_page_stays_usable(qtbot, page, study, tmp_path):
    videos, groups = study
    page.video_list.addItem(str(videos[0]))  # the groups table lists four videos: fine
    page.video_list.addItem(str(tmp_path / "missing.mp4"))
    page.groups_edit.setText(str(groups))
    page.session_edit.setText(str(tmp_path / "s"))
    page.key_edit.setText(str(tmp_path / "k.json"))
    task = page.create()
    # the thread may end before a signal wait would be connected (a quick
    # failure): wait for the thread itself
    qtbot.waitUntil(task.isFinished, timeout=30000)
    qtbot.waitUntil(lambda: page.create_button.isEnabled(), timeout=5000)
    text = page.create_result.text()
    assert "missing.mp4" in text and "Traceback" not in text
    assert not (tmp_path / "k.json").exists() and not (tmp_path / "s").exists()


def test_analysis_tabs_are_closed_while_a_blinded_session_is_open(qtbot, window_factory,
                                                                   session_dir):
    from behavior_gui.analysis_tabs import show_page

    w = window_factory()
    titles = [w.pages.tabText(i) for i in range(w.pages.count())]
    assert titles[:1] == ["Score"] and {"Agreement", "Statistics", "Sessions"} <= set(titles)
    show_page(w, w.analysis.stats)  # from the start page, through the Analysis menu
    assert w.stack.currentWidget() is w.pages and w.pages.currentWidget() is w.analysis.stats
    assert w.open_session(session_dir, observer="ann")
    assert w.blinded and w.pages.currentWidget() is w.score_page
    for page in w.analysis.all():
        assert not w.pages.isTabEnabled(w.pages.indexOf(page))
    show_page(w, w.analysis.sessions)  # refused while blinded
    assert w.pages.currentWidget() is w.score_page
    w.close_document()
    for page in w.analysis.all():
        assert w.pages.isTabEnabled(w.pages.indexOf(page))


def test_sessions_page_remembers_observers_and_session_not_the_key(qtbot, page, study,
                                                                   tmp_path):
    from behavior_gui.sessions_page import SessionsPage
    from behavior_gui.settings import Settings

    videos, groups = study
    for v in videos:
        page.video_list.addItem(str(v))
    page.groups_edit.setText(str(groups))
    page.session_edit.setText(str(tmp_path / "s"))
    page.key_edit.setText(str(tmp_path / "k.json"))
    page.observers_edit.setText("ann, bob")
    page.protocol_combo.setCurrentIndex(page.protocol_combo.findData("mouse_tst"))
    task = page.create()
    # the thread may end before a signal wait would be connected (a quick
    # failure): wait for the thread itself
    qtbot.waitUntil(task.isFinished, timeout=60000)
    qtbot.waitUntil(lambda: page.last_created is not None, timeout=5000)
    page.settings.sync()
    again = SessionsPage(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(again)
    assert again.observers_edit.text() == "ann, bob"
    assert again.protocol_combo.currentData() == "mouse_tst"
    assert again.status_edit.text() == str(tmp_path / "s")
    # what could unblind an observer on this computer is not kept
    assert again.unblind_key_edit.text() == "" and again.groups_edit.text() == ""
    assert again.video_list.count() == 0
    ini = (tmp_path / "settings.ini").read_text()
    assert "k.json" not in ini and "vehicle" not in ini and "groups.csv" not in ini
