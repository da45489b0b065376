"""The start page: open a blinded session, score a video openly, or a recent one."""

from __future__ import annotations

from pathlib import Path

from behavior_gui.settings import Settings
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class StartPage(QWidget):
    """Signals ``open_session(path)`` / ``open_video(path)``; empty path: ask for one."""

    open_session = pyqtSignal(str)
    open_video = pyqtSignal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        title = QLabel("<h1>behavior</h1><p>Blinded manual scoring of the forced swim test: "
                       "hold a key while the animal is immobile, release it when it moves.</p>")
        title.setWordWrap(True)
        self.session_button = QPushButton("Open a blinded session…")
        self.session_button.setToolTip("A session folder made by behavior blind create: "
                                       "you see coded videos only")
        self.video_button = QPushButton("Score a video openly…")
        self.video_button.setToolTip("One video, not blinded, scored into a scoring database "
                                     "beside it")
        for b in (self.session_button, self.video_button):
            b.setMinimumHeight(44)
        self.session_button.clicked.connect(lambda: self.open_session.emit(""))
        self.video_button.clicked.connect(lambda: self.open_video.emit(""))
        self.sessions = QListWidget()
        self.videos = QListWidget()
        for lst in (self.sessions, self.videos):
            lst.setMaximumHeight(260)
        self.sessions.itemActivated.connect(
            lambda item: self.open_session.emit(item.data(Qt.UserRole)))
        self.videos.itemActivated.connect(
            lambda item: self.open_video.emit(item.data(Qt.UserRole)))
        grid = QGridLayout()
        grid.addWidget(QLabel("<b>Recent sessions</b>"), 0, 0)
        grid.addWidget(QLabel("<b>Recent videos (open scoring)</b>"), 0, 1)
        grid.addWidget(self.sessions, 1, 0)
        grid.addWidget(self.videos, 1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.session_button)
        buttons.addWidget(self.video_button)
        box = QWidget()
        box.setMaximumWidth(900)
        v = QVBoxLayout(box)
        v.addWidget(title)
        v.addLayout(buttons)
        #: buttons opening the other pages (MainWindow.add_start_button)
        self.tools = QHBoxLayout()
        v.addLayout(self.tools)
        v.addSpacing(12)
        v.addLayout(grid)
        hint = QLabel("Double-click a recent entry to open it. F1 in the scoring window lists "
                      "every key.")
        hint.setStyleSheet("color: gray")
        v.addWidget(hint)
        v.addStretch(1)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 4)
        outer.addStretch(1)
        self.refresh()

    def add_tool(self, text: str, tip: str, action) -> QPushButton:
        """A button under the two above, e.g. one opening another page."""
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setMinimumHeight(36)
        button.clicked.connect(action)
        self.tools.addWidget(button)
        return button

    def refresh(self, show_videos: bool = True) -> None:
        """Fill the recent lists; ``show_videos`` False while a blinded session is open
        (a video opened openly before could name what the codes hide)."""
        self.sessions.clear()
        for path in self.settings.recent("sessions"):
            item = QListWidgetItem(f"{Path(path).name}    ({Path(path).parent})")
            item.setData(Qt.UserRole, path)
            item.setToolTip(path)
            self.sessions.addItem(item)
        self.videos.clear()
        if show_videos:
            for path in self.settings.recent("videos"):
                item = QListWidgetItem(f"{Path(path).name}    ({Path(path).parent})")
                item.setData(Qt.UserRole, path)
                item.setToolTip(path)
                self.videos.addItem(item)
