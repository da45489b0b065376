"""Make the Auto-score screenshots of docs/gui.md: the real window on Xvfb, grabbed by Qt.

    python tests/gui/make_screenshots_autoscore.py [--keep DIR] [--out docs/screenshots]

Renders three 6-min synthetic forced swim videos with two cylinders each
(behavior.testing; kept in DIR for later runs) and adds the real mouse recording of
../shared/data/real (a fear-conditioning chamber with a title card: not a swim test,
so it shows what the user is told) when it is there. Scores them from the Auto-score
page, and grabs: the page while scoring and with its results, the arena editor, the
protocol editor, and the inspect view of one animal with an observer's bouts (the
synthetic ground truth, as if scored by hand) as a second lane.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
REAL = HERE.parents[1] / ".." / "shared" / "data" / "real" / "mouse-chamber" / \
    "Day3_Mouse1_CNO_xvid.avi"


def main() -> None:
    from gui_helpers import screenshot_main

    screenshot_main(__file__, "shots_auto", shoot)


def truth_bouts(spec, arena: int):
    """The synthetic animal's immobile stretches (s): what a careful observer scores."""
    import numpy as np

    from behavior.testing import ground_truth

    truth = ground_truth(spec)
    flags = truth.immobile[arena - 1]
    t = np.append(truth.time_s, truth.end_s)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(int), [0]])))
    return [(float(t[a]), float(t[b])) for a, b in zip(edges[::2], edges[1::2], strict=True)
            if t[b] - t[a] >= 1.0]


def shoot(keep: Path, out: Path) -> None:
    from behavior_gui.app import make_app

    from behavior.blinding.open_scoring import open_video_scoring
    from behavior.blinding.session import ScoringSession
    from behavior.protocols import load_fst_protocol
    from behavior.testing import SyntheticSpec, write_video

    keep.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="shots-", dir=keep))
    folder = work / "fst_2026-11-30"
    folder.mkdir()
    specs = {}
    for i, fraction in enumerate(((0.35, 0.6), (0.5, 0.7), (0.25, 0.45))):
        spec = SyntheticSpec(duration_s=360, n_arenas=2, seed=60 + i,
                             immobility_fraction=fraction, early_mobile=True)
        cached = keep / f"cage{i + 1}.mp4"
        if not cached.exists():
            write_video(spec, cached, keyframe_s=2.0)
        shutil.copy(cached, folder / cached.name)
        specs[cached.name] = spec
    videos = [str(folder / name) for name in specs]
    if REAL.is_file():
        videos.append(str(REAL.resolve()))

    os.environ["BEHAVIOR_GUI_SETTINGS"] = str(work / "settings.ini")
    app = make_app()  # noqa: F841 (the widgets need it)
    from behavior_gui.main_window import MainWindow
    from gui_helpers import shot_saver, spin

    grab = shot_saver(out, 0.5)

    w = MainWindow()
    w.resize(1360, 840)
    w.show()
    w.show_page(w.autoscore_page)
    page = w.autoscore_page
    page.add_videos(videos)
    page.out_edit.setText(str(folder / "results.csv"))

    # the arena editor on the first video
    page.video_list.setCurrentRow(0)
    page.check_arenas()
    editor = page.arena_editor
    editor.resize(980, 760)
    loaded = []
    editor.loaded.connect(loaded.append)
    while not loaded:
        spin(0.1)
    editor.scene.clearSelection()
    editor.items[0].setSelected(True)
    grab(editor, "arena_editor.png")
    editor.accept()

    # the protocol editor
    from behavior_gui.protocol_editor import ProtocolEditor

    pe = ProtocolEditor(page.protocol, w)
    pe.fields["window_s"].setText("[120, 400]")  # a mistake, said in words
    pe.validate()
    pe.show()
    grab(pe, "protocol_editor.png")
    pe.close()

    # scoring: while it runs, then the results
    done = []
    page.batch_finished.connect(done.append)
    page.jobs_spin.setValue(1)
    page.start()
    while page.total_bar.value() < 300 and not done:
        spin(0.1)
    grab(w, "autoscore_running.png")
    while not done:
        spin(0.2)
    while page.worker is not None:
        spin(0.1)
    page.table_widget.selectRow(1)
    grab(w, "autoscore_results.png")

    # inspect arena 2 of the first video, with an observer's bouts beside it
    first = Path(videos[0])
    database, code = open_video_scoring(first, protocol=load_fst_protocol("mouse_fst"))
    with ScoringSession(database, "ann") as session:
        for a, b in truth_bouts(specs[first.name], 2):
            session.add("immobility", a, b, video=code)
    view = page.inspect(1)
    view.resize(1200, 880)
    while not (view.player.ready and view.player.shown_index >= 0):
        spin(0.1)
    view.player.seek_time(200.0)
    spin(1.0)
    grab(view, "inspect_view.png")
    view.close()
    w.close()


if __name__ == "__main__":
    main()
