"""The Auto-score page: the same table as the command line, arenas saved as the sidecar
the command line reads, the protocol checked as the core checks it, and Cancel."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PyQt5.QtCore import Qt

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ("fst_2arenas_h264.mp4", "fst_1arena_vfr.mp4")


@pytest.fixture
def page(qtbot, tmp_path):
    from behavior_gui.autoscore_page import AutoScorePage
    from behavior_gui.settings import Settings

    p = AutoScorePage(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(p)
    p.show_error = lambda text: p.errors.append(text)  # a dialog would wait for a click
    p.errors = []
    p.resize(1300, 800)
    p.show()
    yield p
    p.shutdown()


def copy_samples(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in SAMPLES:
        shutil.copy(ROOT / "videos" / name, folder / name)
        out.append(folder / name)
    return out


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "behavior", *args], capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_gui_table_equals_cli(page, qtbot, tmp_path):
    videos = copy_samples(tmp_path / "videos")
    # the sample clips are 60 s and 30 s: a protocol scoring 10-60 s (a file, as a lab
    # would write it; the 30-s clip ends inside the window, so some values are empty)
    protocol = tmp_path / "short_fst.yaml"
    protocol.write_text((ROOT / "protocols" / "mouse_fst.yaml").read_text()
                        .replace("duration_s: 360", "duration_s: 60")
                        .replace("window_s: [120, 360]", "window_s: [10, 60]")
                        .replace("bin_s: 60", "bin_s: 10"))
    assert page.load_protocol(str(protocol))
    page.jobs_spin.setValue(2)  # two videos at a time (the numbers do not depend on it)
    page.add_videos([str(v) for v in videos])
    page.out_edit.setText(str(tmp_path / "gui" / "results.csv"))
    with qtbot.waitSignal(page.batch_finished, timeout=300_000) as blocker:
        assert page.start()
    batch = blocker.args[0]
    assert not batch.cancelled and not batch.failed
    qtbot.waitUntil(lambda: page.worker is None, timeout=10_000)

    cli_out = tmp_path / "cli" / "results.csv"
    run = run_cli("fst", "score", *map(str, videos), "--out", str(cli_out), "--jobs", "1",
                  "--no-progress", "--protocol", str(protocol))
    assert run.returncode == 0, run.stderr
    cli = pd.read_csv(cli_out, keep_default_na=True)
    gui = page.table()
    assert list(gui.columns) == list(cli.columns)
    assert len(gui) == len(cli) == 3  # two arenas and one
    # the end of the batch counts the animals with warnings, as the CLI's last line does
    warned = int(cli["warnings"].fillna("").astype(bool).sum())
    assert warned >= 1  # the 30-s clip ends inside the window
    assert f"{warned} of 3 animals with warnings" in page.video_label.text()
    assert f"{warned} with warnings: see the warnings column" in run.stderr
    assert cli["immobility_s"].notna().all() and cli.isna().any().any()  # values, and empty
    for column in cli.columns:
        if column in ("video", "note", "warnings"):
            assert [str(v) if isinstance(v, str) else "" for v in cli[column]] == \
                list(gui[column].astype(str)), column
            continue
        a = pd.to_numeric(gui[column]).to_numpy(float)
        b = cli[column].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), column  # missing stays missing
        assert np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], atol=1e-4, rtol=0), column
    # the results file the page's batch wrote is the CLI's, cell for cell
    gui_file = pd.read_csv(tmp_path / "gui" / "results.csv")
    pd.testing.assert_frame_equal(gui_file.drop(columns="video"), cli.drop(columns="video"))

    # what the table shows: the CLI's values, rounded; empty cells where the CLI is empty
    from behavior_gui.autoscore_page import SHOWN

    shown = {key: c for c, (key, _, _) in enumerate(SHOWN)}
    for r in range(len(cli)):
        for key in ("immobility_s", "immobility_pct", "latency_s", "bouts", "threshold"):
            text = page.table_widget.item(r, shown[key]).text()
            value = cli.loc[r, key]
            if isinstance(value, float) and math.isnan(value):
                assert text == ""
            else:
                decimals = next(d for k, _, d in SHOWN if k == key)
                assert float(text) == pytest.approx(float(value), abs=0.51 * 10 ** -decimals)

    # export: CSV and Excel hold the same table
    csv = page.export(tmp_path / "export.csv")
    xlsx = page.export(tmp_path / "export.xlsx")
    pd.testing.assert_frame_equal(pd.read_csv(csv).drop(columns="video"),
                                  cli.drop(columns="video"))
    excel = pd.read_excel(xlsx)
    for column in ("immobility_s", "latency_s", "immobile_s_50_60"):
        assert np.allclose(excel[column], cli[column], atol=1e-4, equal_nan=True), column


def test_missing_values_are_blank_with_a_reason(page):
    """A video that cannot be scored is one row: blank values, its reason on hover."""
    from behavior_gui.autoscore_page import SHOWN

    from behavior.fst import VideoJob, load_protocol, score_video

    broken = Path(page.settings.q.fileName()).parent / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    result = score_video(VideoJob(str(broken)), load_protocol("mouse_fst"))
    assert result.error is not None
    page.add_result(result, [])
    col = {key: c for c, (key, _, _) in enumerate(SHOWN)}
    item = page.table_widget.item(0, col["immobility_s"])
    assert item.text() == ""  # never 0
    assert "empty" in item.toolTip()
    notices = page.table_widget.item(0, col["notices"])
    assert result.error.message in notices.toolTip()
    assert not notices.icon().isNull()
    assert math.isnan(float(page.table()["immobility_s"].iloc[0]))


def drag(qtbot, view, start, end) -> None:
    """A real mouse drag on a QGraphicsView's viewport (press, moves, release)."""
    from PyQt5.QtCore import QEvent, QPoint, QPointF, Qt
    from PyQt5.QtGui import QMouseEvent
    from PyQt5.QtWidgets import QApplication

    vp = view.viewport()
    a, b = view.mapFromScene(QPointF(*start)), view.mapFromScene(QPointF(*end))

    def send(kind, pos, buttons):
        button = Qt.LeftButton if kind != QEvent.MouseMove else Qt.NoButton
        # the scene finds the item under the screen position: give the real one
        here = QPointF(pos)
        QApplication.sendEvent(vp, QMouseEvent(kind, here, here, QPointF(vp.mapToGlobal(pos)),
                                               button, buttons, Qt.NoModifier))

    send(QEvent.MouseButtonPress, a, Qt.LeftButton)
    for k in range(1, 6):
        p = a + (b - a) * k / 5
        send(QEvent.MouseMove, QPoint(int(p.x()), int(p.y())), Qt.LeftButton)
    send(QEvent.MouseButtonRelease, b, Qt.NoButton)


def test_moved_arena_is_the_sidecar_the_cli_reads(qtbot, tmp_path):
    from behavior_gui.arena_editor import ArenaEditor

    import behavior.fst as fst
    from behavior.fst.arenas import read_sidecar, sidecar_path

    video = copy_samples(tmp_path / "v")[0]  # two arenas
    protocol = fst.load_protocol("mouse_fst")
    editor = ArenaEditor([str(video)], protocol)
    qtbot.addWidget(editor)
    editor.show()
    with qtbot.waitSignal(editor.loaded, timeout=60_000):
        pass
    found = editor.rects()
    assert len(found) == 2
    assert found == fst.prepare(str(video), protocol).rects  # what the core found

    # drag arena 1's right edge 15 px to the left...
    x1, y1, w1, h1 = found[0]
    # (pressed 1.5 px inside it: arena 2 starts where arena 1 ends, and is on top)
    drag(qtbot, editor.view, (x1 + w1 - 1.5, y1 + h1 / 2), (x1 + w1 - 16.5, y1 + h1 / 2))
    # ...and arena 2 by its middle 20 px to the left
    x, y, w, h = found[1]
    drag(qtbot, editor.view, (x + w / 2, y + h / 2), (x + w / 2 - 20, y + h / 2))
    moved = editor.rects()
    assert moved[0][0] == x1 and abs(moved[0][2] - (w1 - 15)) <= 1 and moved[0][3] == h1
    assert abs(moved[1][0] - (x - 20)) <= 1 and moved[1][1:] == (y, w, h)
    assert editor.dirty

    path = editor.save()
    assert path == sidecar_path(video) and path.is_file()
    assert read_sidecar(video).rects == moved
    # the command line's path: prepare() reads the sidecar, as scoring does
    assert fst.prepare(str(video), protocol).rects == \
        fst.prepare(str(video), protocol, arenas=moved, sidecar=False).rects
    # opened again, the editor shows the saved rectangles as they are
    with qtbot.waitSignal(editor.loaded, timeout=60_000):
        editor.open_video(str(video))
    assert editor.rects() == moved and "arenas.yaml" in editor.status.text()
    # and the command line itself: its traces record the arenas it tracked
    run = run_cli("fst", "score", str(video), "--out", str(tmp_path / "cli" / "r.csv"),
                  "--jobs", "1", "--no-progress")
    assert run.returncode in (0, 1), run.stderr  # 1: warnings (a 60-s clip, 360-s test)
    tracked = [fst.read_trace(p).meta["arena_rect_px"]
               for p in sorted((tmp_path / "cli" / "r_traces").glob("*.trace.csv"))]
    expected = fst.prepare(str(video), protocol, arenas=moved, sidecar=False).rects
    assert tracked == [",".join(map(str, r)) for r in expected]
    assert expected != fst.prepare(str(video), protocol, sidecar=False).rects  # not found

    # the number of arenas can be changed: one arena found; closing offers to save
    with qtbot.waitSignal(editor.loaded, timeout=60_000):
        editor.find(1)
    assert len(editor.rects()) == 1 and editor.dirty
    asked = []
    editor.ask_save = lambda v: asked.append(v) or True
    editor.accept()
    assert asked == [str(video)]
    assert len(read_sidecar(video).rects) == 1


def test_protocol_editor_checks_as_the_core(qtbot, tmp_path):
    from behavior_gui.protocol_editor import ProtocolEditor, key_meanings

    from behavior.errors import ProtocolError
    from behavior.protocols import load_fst_protocol, parse_fst_protocol

    protocol = load_fst_protocol("mouse_fst")
    editor = ProtocolEditor(protocol)
    qtbot.addWidget(editor)
    assert set(editor.fields) == set(protocol.to_dict())  # every key
    meanings = key_meanings()
    assert all(meanings[k] for k in editor.fields)  # each with its meaning
    assert editor.validate() and editor.protocol() == protocol

    editor.fields["window_s"].setText("[120, 400]")  # past duration_s
    assert not editor.validate()
    data = {**protocol.to_dict(), "window_s": [120, 400]}
    with pytest.raises(ProtocolError) as core:
        parse_fst_protocol(data, protocol.source)
    assert core.value.problem in editor.error.text()
    assert "window_s" in editor.error.text()
    assert "b00020" in editor.fields["window_s"].styleSheet()

    editor.fields["window_s"].setText("[120, 360]")
    editor.fields["threshold"].setText("0.07")
    assert editor.validate()
    saved = editor.save_as(tmp_path / "my_fst.yaml")
    again = load_fst_protocol(saved)
    assert again.threshold == 0.07 and again.window_s == (120.0, 360.0)


def test_page_remembers_choices(qtbot, tmp_path):
    from behavior_gui.autoscore_page import AutoScorePage
    from behavior_gui.settings import Settings

    videos = copy_samples(tmp_path / "v")
    settings = Settings(tmp_path / "s.ini")
    first = AutoScorePage(settings)
    qtbot.addWidget(first)
    first.add_videos([str(v) for v in videos])
    assert first.load_protocol("rat_modified_fst")
    first.out_edit.setText(str(tmp_path / "r.xlsx"))
    first._remember()
    settings.sync()
    second = AutoScorePage(Settings(tmp_path / "s.ini"))
    qtbot.addWidget(second)
    assert second.videos == [str(v) for v in videos]
    assert second.protocol.name == "Rat modified forced swim test"
    assert second.out_edit.text() == str(tmp_path / "r.xlsx")
    assert second.last_folder == str(videos[0].parent)
    # a bad protocol file is said in words, the one in use stays
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nduration_s: -5\n")
    second.show_error = lambda text: second.errors.append(text)
    second.errors = []
    assert not second.load_protocol(str(bad))
    assert "duration_s" in second.errors[0] and "bad.yaml" in second.errors[0]
    assert second.protocol.name == "Rat modified forced swim test"


@pytest.mark.slow
def test_cancel_stops_within_2_s_and_keeps_finished_rows(page, qtbot, tmp_path):
    from behavior.testing import SyntheticSpec, write_video

    folder = tmp_path / "gen"
    folder.mkdir()
    videos = []
    for i in range(3):  # long enough that the second is still tracked when cancelled
        v = folder / f"m{i + 1}.mp4"
        write_video(SyntheticSpec(duration_s=150, width=320, height=240, n_arenas=1,
                                  seed=70 + i), v)
        videos.append(str(v))
    from behavior.protocols import load_fst_protocol

    page.set_protocol(load_fst_protocol("mouse_fst").with_overrides(
        duration_s=150, window_s=[30, 150], bin_s=30))
    assert "edited" in page.protocol_label.text()
    page.add_videos(videos)
    page.out_edit.setText(str(tmp_path / "out" / "results.csv"))
    finished = []
    with qtbot.waitSignal(page.batch_finished, timeout=300_000) as blocker:
        assert page.start()
        page.worker.video_done.connect(lambda f: finished.append(f))
        qtbot.waitUntil(lambda: len(finished) >= 1, timeout=200_000)
        # inside the second video now: wait until it is being tracked
        qtbot.waitUntil(lambda: page.video_bar.value() > 0 and "2 of" in
                        page.video_label.text(), timeout=60_000)
        asked = time.monotonic()
        page.cancel()
    stopped = time.monotonic() - asked
    print(f"cancel -> batch returned in {stopped:.3f} s")
    batch = blocker.args[0]
    assert batch.cancelled
    assert stopped < 2.0, f"the batch took {stopped:.2f} s to stop"
    kept = len(batch.results)
    assert kept == len(finished) >= 1 and batch.unfinished
    assert videos[1] in batch.unfinished  # stopped inside the second video
    assert len(page.rows) == kept  # the finished rows stay
    on_disk = pd.read_csv(tmp_path / "out" / "results.csv")
    assert len(on_disk) == kept
    assert on_disk["immobility_s"].notna().all()
    assert np.allclose(on_disk["immobility_s"], page.table()["immobility_s"].astype(float),
                       atol=1e-4)
    assert "state: cancelled" in (tmp_path / "out" / "results.log").read_text()
    qtbot.waitUntil(lambda: page.worker is None, timeout=10_000)
    assert page.start_button.isEnabled()


def test_main_window_has_the_page(qtbot, window_factory, session_dir):
    from PyQt5.QtWidgets import QPushButton

    w = window_factory()
    button = next(b for b in w.start_page.findChildren(QPushButton)
                  if b.text() == "Auto-score videos…")
    qtbot.mouseClick(button, Qt.LeftButton)
    assert w.stack.currentWidget() is w.pages
    assert w.pages.currentWidget() is w.autoscore_page
    index = w.pages.indexOf(w.autoscore_page)
    assert w.pages.tabText(index) == "Auto-score" and w.pages.isTabVisible(index)
    # a blinded session: the page (which names files) is not offered
    assert w.open_session(session_dir, observer="ann")
    assert not w.pages.isTabVisible(index)
    w.close_document()
    assert w.pages.isTabVisible(index)


def test_resume_keeps_the_traces_for_inspecting(page, qtbot, tmp_path):
    """A second run with "Re-use the traces" decodes nothing and still has each
    animal's trace (to inspect and re-score)."""
    video = copy_samples(tmp_path / "v")[1]
    page.set_protocol(page.protocol.with_overrides(duration_s=30, window_s=[5, 30], bin_s=5))
    page.add_videos([str(video)])
    page.out_edit.setText(str(tmp_path / "r.csv"))
    with qtbot.waitSignal(page.batch_finished, timeout=120_000):
        page.start()
    qtbot.waitUntil(lambda: page.worker is None, timeout=10_000)
    first = page.table()
    page.resume_box.setChecked(True)
    with qtbot.waitSignal(page.batch_finished, timeout=120_000) as blocker:
        page.start()
    qtbot.waitUntil(lambda: page.worker is None, timeout=10_000)
    assert all(r.reused for r in blocker.args[0].results)
    assert page.rows and all(r.trace is not None for r in page.rows)
    pd.testing.assert_frame_equal(page.table(), first)


def test_notices_say_where_to_change_things(page):
    from behavior_gui.autoscore_page import SHOWN

    from behavior import notices

    found = [notices.warning("unclear_separation", "arena 1: its movement is hard to tell",
                             video="m.mp4", arena=1, settings=["threshold"]),
             notices.info("one_arena", "one arena: set n_arenas or arena_rects",
                          video="m.mp4", settings=["n_arenas", "arena_rects"])]
    item = page._notice_item(found)
    tip = item.toolTip()
    assert item.text() == "2" and not item.icon().isNull()
    assert "hard to tell" in tip and "double-click the row" in tip and "Check arenas" in tip
    assert "--" not in tip  # no command-line flag
    assert SHOWN[2][0] == "notices"
