"""Make the screenshots of docs/gui.md: the real window on Xvfb, grabbed by Qt.

    python tests/gui/make_screenshots.py [--keep DIR] [--out docs/screenshots]

Renders two 6-min synthetic forced swim videos (behavior.testing; kept in DIR for
later runs), codes them into a blinded session, scores a few bouts, and grabs: the
start page, the scoring page while a bout is held, the keyboard help, the settings
dialog, the crash offer, and open scoring with the rat protocol's three states.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> None:
    from gui_helpers import screenshot_main

    screenshot_main(__file__, "shots", shoot)


def shoot(keep: Path, out: Path) -> None:
    import pandas as pd
    from behavior_gui.app import make_app
    from PyQt5.QtCore import Qt
    from PyQt5.QtTest import QTest

    from behavior.blinding.create import create_session
    from behavior.protocols import load_fst_protocol
    from behavior.testing import SyntheticSpec, write_video

    keep.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    videos = []
    for i, group in enumerate(("vehicle", "fluoxetine")):
        v = keep / f"{group}_m{i + 1}.mp4"
        if not v.exists():
            write_video(SyntheticSpec(duration_s=360, seed=20 + i, immobility_fraction=0.55,
                                      early_mobile=True), v, keyframe_s=2.0)
        videos.append(v)
    work = Path(tempfile.mkdtemp(prefix="shots-", dir=keep))
    table = pd.DataFrame({"video": [v.name for v in videos], "subject": ["m1", "m2"],
                          "group": ["vehicle", "fluoxetine"], "file": [str(v) for v in videos]})
    made = create_session(videos, table, work / "fst_cohort3", work / "key.json",
                          load_fst_protocol("mouse_fst"), observers=["ann", "bob"])
    os.environ["BEHAVIOR_GUI_SETTINGS"] = str(work / "settings.ini")
    app = make_app()  # noqa: F841 (the widgets need it)
    from behavior_gui.main_window import MainWindow
    from behavior_gui.settings import SettingsDialog
    from gui_helpers import shot_saver, spin

    grab = shot_saver(out, 0.4)

    w = MainWindow()
    w.settings.add_recent("sessions", made.session_dir)
    w.start_page.refresh()
    w.resize(1280, 800)
    w.show()
    grab(w, "start_page.png")

    w.open_session(made.session_dir, observer="ann")
    page, player = w.score_page, w.score_page.player
    while not (player.ready and player.shown_index >= 0):
        spin(0.05)
    s = w.doc.session
    for a, b in ((62.0, 66.4), (131.2, 140.75), (152.0, 171.3), (188.4, 203.0), (214.0, 226.5),
                 (241.0, 268.2), (281.5, 300.0)):
        s.add("immobility", a, b)
    w.doc.changed.emit()
    player.seek_time(312.0)
    while abs(player.time() - 312.0) > 0.1 or player.shown_index < 0:
        spin(0.05)
    QTest.keyPress(w, Qt.Key_J)
    player.seek_time(316.4)
    spin(0.6)
    page.select_bout(w.doc.events()[2].id)
    grab(w, "score_page_blinded.png")
    QTest.keyRelease(w, Qt.Key_J)
    spin(0.2)
    w.toggle_help()
    grab(w, "keyboard_help.png")
    w.toggle_help()
    dialog = SettingsDialog(w.settings, w.doc.behaviours, w)
    dialog.show()
    grab(dialog, "settings_dialog.png")
    dialog.close()
    w.close()

    # a crash while holding, then the offer on reopening
    s2 = type(s)(made.session_dir, "bob")
    s2.select(s2.videos[0].code)
    s2.start("immobility", 131.2)
    s2.close()
    w2 = MainWindow()
    w2.resize(1280, 800)
    w2.show()
    def offer(video, behaviour, start_s):
        box, _, _ = w2.interrupted_box(video, behaviour, start_s)
        box.show()
        grab(box, "crash_offer.png")
        box.close()
        return "later"

    w2.offer_interrupted = offer
    w2.open_session(made.session_dir, observer="bob")
    w2.close()

    # open scoring, rat protocol: three states
    w3 = MainWindow()
    w3.ask_protocol = lambda: "rat_modified_fst"
    w3.resize(1280, 800)
    w3.show()
    rat = keep / "rat_open.mp4"
    if not rat.exists():
        write_video(SyntheticSpec(duration_s=300, seed=31, immobility_fraction=0.4), rat,
                    keyframe_s=2.0)
    db = work / "rat_open.scores.sqlite"
    w3.open_video(rat, database=db, observer="ann")
    p3 = w3.score_page.player
    while not (p3.ready and p3.shown_index >= 0):
        spin(0.05)
    s3 = w3.doc.session
    t = 0.0
    for k, (behaviour, length) in enumerate([("swimming", 22), ("climbing", 14), ("immobility", 9),
                                             ("swimming", 30), ("immobility", 12),
                                             ("climbing", 8), ("swimming", 25),
                                             ("immobility", 20), ("swimming", 18),
                                             ("immobility", 31), ("climbing", 6),
                                             ("swimming", 19), ("immobility", 40)]):
        s3.add(behaviour, t, t + length - 0.5 * (k % 2))
        t += length
    w3.doc.changed.emit()
    p3.seek_time(150.0)
    spin(0.8)
    grab(w3, "open_scoring_rat.png")
    w3.close()


if __name__ == "__main__":
    main()
