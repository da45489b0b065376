"""Fixtures for the GUI tests (builders in gui_helpers)."""

from __future__ import annotations

import pytest
from gui_helpers import make_gui_session


@pytest.fixture
def session_dir(tmp_path):
    made, _, _ = make_gui_session(tmp_path)
    return made.session_dir


@pytest.fixture
def window_factory(qtbot, tmp_path):
    """``make()`` -> a shown MainWindow with its settings in tmp_path (closed after)."""
    from behavior_gui.main_window import MainWindow

    made = []

    def make(**kw):
        w = MainWindow(settings_path=tmp_path / "settings.ini", **kw)
        qtbot.addWidget(w)
        w.show()
        w.activateWindow()
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


