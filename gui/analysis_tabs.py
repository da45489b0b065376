"""The analysis pages as tabs of the main window: Agreement, Statistics, Sessions.

:func:`add_analysis_pages` is the one call the main window makes. It adds the tabs
(with :meth:`MainWindow.add_page`), an "Analysis" menu that opens them from the start
page too, and keeps them closed while a blinded session is open: an observer who
scores blind has no business with groups, keys or other people's scores.
"""

from __future__ import annotations

from dataclasses import dataclass

from behavior_gui.agreement_page import AgreementPage
from behavior_gui.sessions_page import SessionsPage
from behavior_gui.stats_page import StatsPage
from PyQt5.QtWidgets import QWidget


@dataclass
class AnalysisPages:
    agreement: AgreementPage
    stats: StatsPage
    sessions: SessionsPage

    def all(self) -> tuple[QWidget, ...]:
        return (self.agreement, self.stats, self.sessions)


def add_analysis_pages(window) -> AnalysisPages:
    """Create the three pages, add them to ``window`` and wire them."""
    pages = AnalysisPages(AgreementPage(window.settings), StatsPage(window.settings),
                          SessionsPage(window.settings))
    titles = (("Agreement", pages.agreement), ("Statistics", pages.stats),
              ("Sessions", pages.sessions))
    menu = window.menuBar().addMenu("&Analysis")
    help_menu = next((a for a in window.menuBar().actions() if a.text() == "&Help"), None)
    if help_menu is not None:  # keep Help last
        window.menuBar().insertMenu(help_menu, menu)
    actions = []
    for title, page in titles:
        window.add_page(page, title)
        page.message.connect(lambda text: window.statusBar().showMessage(text, 8000))
        action = menu.addAction(f"{title}…", lambda p=page: show_page(window, p))
        actions.append(action)
    pages.sessions.unblinded.connect(lambda path: _to_stats(window, pages, path))

    def guard(*_):
        blinded = window.blinded
        for page in pages.all():
            window.pages.setTabEnabled(window.pages.indexOf(page), not blinded)
        for action in actions:
            action.setEnabled(not blinded)
        if blinded and window.pages.currentWidget() in pages.all():
            window.pages.setCurrentWidget(window.score_page)

    window.pages.currentChanged.connect(guard)
    window.stack.currentChanged.connect(guard)
    window.score_page.state_changed.connect(guard)
    guard()
    return pages


def show_page(window, page: QWidget) -> None:
    """Bring ``page`` to the front (from the start page too), unless a blinded
    session is open."""
    if window.blinded:
        window.statusBar().showMessage("Close the blinded session first: analysis pages show "
                                       "groups and other observers' scores", 8000)
        return
    window.stack.setCurrentWidget(window.pages)
    window.pages.setCurrentWidget(page)


def _to_stats(window, pages: AnalysisPages, path: str) -> None:
    """An unblinded scores table goes straight to the Statistics page (groups inside)."""
    pages.stats.results_edit.setText(path)
    pages.stats.groups_edit.setText("")
    pages.stats.load()
