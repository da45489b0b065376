"""Small pieces the analysis pages share: a core figure on screen, a table of a
DataFrame, and a task run off the GUI thread.

Nothing here computes anything: figures come from the core's plotting functions
(:mod:`behavior.stats.plots`, :mod:`behavior.blinding.plots`) and are only shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import pandas as pd
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PyQt5.QtCore import Qt, QThread, pyqtSignal
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from behavior.errors import BehaviorError
from behavior.stats.formatting import format_p

#: how an empty value is shown (never as 0)
EMPTY = "—"


class FigureView(QWidget):
    """Shows one matplotlib :class:`Figure` (the core's), or a line of text when there
    is none."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.figure: Figure | None = None
        self.canvas: FigureCanvasQTAgg | None = None
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel(placeholder)
        self.placeholder.setAlignment(Qt.AlignCenter)
        self.placeholder.setStyleSheet("color: gray")
        self.layout_.addWidget(self.placeholder)

    def set_figure(self, figure: Figure | None, text: str = "") -> None:
        if self.canvas is not None:
            self.layout_.removeWidget(self.canvas)
            self.canvas.setParent(None)
            self.canvas.deleteLater()
            self.canvas = None
        self.figure = figure
        if figure is None:
            self.placeholder.setText(text or self.placeholder.text())
            self.placeholder.show()
            return
        self.placeholder.hide()
        if figure.get_layout_engine() is None:
            figure.set_layout_engine("tight")  # laid out again at every size the page takes
        self.canvas = FigureCanvasQTAgg(figure)
        self.layout_.addWidget(self.canvas)
        self.canvas.draw_idle()


def cell_text(value: object, digits: int = 3) -> str:
    """A cell as a lab user reads it: numbers to ``digits`` significant figures,
    empty values as a dash."""
    if value is None:
        return EMPTY
    if isinstance(value, float):
        if math.isnan(value):
            return EMPTY
        if value != 0 and (abs(value) < 10 ** -(digits) or abs(value) >= 1e6):
            return f"{value:.{digits}g}"
        return f"{value:.{digits}g}" if abs(value) < 10 ** digits else f"{value:.0f}"
    if isinstance(value, str) and value == "":
        return ""
    return str(value)


#: Columns holding p-values (the core's statistics tables): shown as a lab reports
#: them, ``< 0.001`` below it and three decimals otherwise (the exact value in the tip).
P_COLUMNS = ("p", "p_adj", "p_gg", "p_unc")


def p_text(value: object) -> str:
    """A p-value cell as the core's reports write it (``format_p``, without the "p")."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return format_p(float(value)).removeprefix("p = ").removeprefix("p ")
    return cell_text(value)


class FrameTable(QTableWidget):
    """A read-only table of a DataFrame; ``headers`` renames columns for the eye
    (the column's own name is its tool tip). :attr:`frame` keeps the values shown."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.frame = pd.DataFrame()
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)

    def set_frame(self, frame: pd.DataFrame, headers: Mapping[str, str] | None = None,
                  digits: int = 3, tips: Mapping[int, str] | None = None) -> None:
        headers = headers or {}
        self.frame = frame.reset_index(drop=True)
        self.clear()
        self.setColumnCount(len(frame.columns))
        self.setRowCount(len(frame))
        for j, c in enumerate(frame.columns):
            item = QTableWidgetItem(headers.get(str(c), str(c)))
            item.setToolTip(str(c))
            self.setHorizontalHeaderItem(j, item)
        p_columns = {j for j, c in enumerate(frame.columns) if str(c) in P_COLUMNS}
        for i, row in enumerate(self.frame.itertuples(index=False)):
            for j, value in enumerate(row):
                is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
                item = QTableWidgetItem(p_text(value) if j in p_columns
                                        else cell_text(value, digits))
                if is_number:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                if tips and i in tips:
                    item.setToolTip(tips[i])
                elif j in p_columns and is_number:
                    item.setToolTip(f"p = {value:.3g}")
                elif isinstance(value, str) and len(value) > 40:
                    item.setToolTip(value)
                self.setItem(i, j, item)

    def fit_rows(self, most: int = 6) -> None:
        """Height for the rows shown (at most ``most``, then it scrolls)."""
        rows = max(1, min(self.rowCount(), most))
        header = self.horizontalHeader().height() if self.columnCount() else 24
        row_h = self.rowHeight(0) if self.rowCount() else self.verticalHeader().defaultSectionSize()
        bar = self.horizontalScrollBar().sizeHint().height()
        self.setFixedHeight(header + rows * row_h + bar + 2 * self.frameWidth() + 2)

    def text(self, row: int, column: str) -> str:
        """The text shown in ``row`` of ``column`` (by the column's own name)."""
        return self.item(row, list(self.frame.columns).index(column)).text()


def one_line(exc: BaseException) -> str:
    """An error as the one line a user reads (the core's message; else its type too)."""
    if isinstance(exc, BehaviorError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class Task(QThread):
    """Runs ``work()`` off the GUI thread; ``finished_ok(result)`` or ``failed(text)``
    arrive on the GUI thread."""

    finished_ok = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, work: Callable[[], object], parent: QWidget | None = None):
        super().__init__(parent)
        self.work = work

    def run(self) -> None:
        try:
            result = self.work()
        except Exception as exc:  # noqa: BLE001 - shown to the user in one line
            self.failed.emit(one_line(exc))
            return
        self.finished_ok.emit(result)
