"""The keyboard help drawn over the window (F1 or ?; Esc or a click closes it)."""

from __future__ import annotations

from html import escape

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QColor, QPainter
from PyQt5.QtWidgets import QLabel, QVBoxLayout, QWidget


class HelpOverlay(QWidget):
    """A translucent panel listing the hold keys and every shortcut."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setTextFormat(Qt.RichText)
        self.label.setStyleSheet("color: white; font-size: 11pt")
        self.label.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 30, 40, 30)
        layout.addWidget(self.label)
        self.hide()

    def set_keys(self, holds: list[tuple[str, str]], groups: list[tuple[str, list[tuple[str,
                                                                                    str]]]],
                 marks: list[tuple[str, str]] = ()) -> None:
        """``holds``: (key, behaviour); ``groups``: (menu, [(command, shortcut)]);
        ``marks``: (key, point event)."""
        cells = ["<h2>Keys</h2><table cellspacing='6'><tr><td valign='top'>",
                 "<h3>Hold to score</h3><table>"]
        for key, behaviour in holds:
            cells.append(f"<tr><td><b>{escape(key)}</b> (hold)&nbsp;&nbsp;</td>"
                         f"<td>{escape(behaviour)}</td></tr>")
        cells.append("</table><p>Press when the state starts,<br>release when it ends.</p>")
        if marks:
            cells.append("<h3>Mark</h3><table>")
            for key, point in marks:
                cells.append(f"<tr><td><b>{escape(key)}</b> (press)&nbsp;&nbsp;</td>"
                             f"<td>{escape(point.replace('_', ' '))}</td></tr>")
            cells.append("</table>")
        for n, (menu, items) in enumerate(groups):
            if n and n % 2 == 1:
                cells.append("</td><td valign='top' style='padding-left:30px'>")
            cells.append(f"<h3>{escape(menu)}</h3><table>")
            for text, key in items:
                if key:
                    cells.append(f"<tr><td><b>{escape(key)}</b>&nbsp;&nbsp;</td>"
                                 f"<td>{escape(text)}</td></tr>")
            cells.append("</table>")
        cells.append("</td></tr></table><p>Esc or a click closes this help.</p>")
        self.label.setText("".join(cells))

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
        else:
            self.setGeometry(self.parentWidget().rect())
            self.raise_()
            self.show()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(20, 24, 32, 242))
        painter.end()

    def mousePressEvent(self, event) -> None:
        self.hide()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Escape:
            self.hide()
        else:
            super().keyPressEvent(event)
