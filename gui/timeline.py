"""The timeline under the video: the scored bouts, the scoring window and its bins.

One row per behaviour; bouts are bars, point events (marks) are ticks, the bout
being held grows from its start to the playhead. The scoring window is shaded and
the protocol's bins are marked, so the observer sees them while coding. A click on a
bout selects it; dragging an edge of the selected bout (or a mark) moves it (one edit
on release); a click or drag elsewhere moves the playhead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PyQt5.QtCore import QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PyQt5.QtWidgets import QSizePolicy, QWidget

#: a colour per behaviour (colour-blind safe: Okabe & Ito)
COLOURS = {"immobility": QColor(0, 114, 178), "swimming": QColor(0, 158, 115),
           "climbing": QColor(213, 94, 0)}
#: point events, in the protocol's order (Okabe & Ito: reddish purple, sky blue, yellow)
MARK_COLOURS = (QColor(204, 121, 167), QColor(86, 180, 233), QColor(200, 160, 0))
EDGE_PX = 5  # how near an edge a press must be to drag it


@dataclass(frozen=True)
class Bout:
    id: int
    behaviour: str
    start_s: float
    end_s: float


class Timeline(QWidget):
    """Bouts per behaviour along the video's time.

    Signals
    -------
    selected(event_id)          a bout was clicked (-1: none)
    edge_moved(event_id, edge, t_s)   an edge ("start"/"end") was dragged to ``t_s``
    seek_requested(t_s)         a click or drag off the bouts
    """

    selected = pyqtSignal(int)
    edge_moved = pyqtSignal(int, str, float)
    seek_requested = pyqtSignal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.NoFocus)
        self.behaviours: tuple[str, ...] = ("immobility",)
        self.points: tuple[str, ...] = ()  # rows of point events, after the states
        self.keys: dict[str, str] = {}
        self.duration_s = 1.0
        self.window_s = (0.0, 0.0)
        self.bin_s = 0.0
        self.bouts: list[Bout] = []
        self.held: tuple[str, float] | None = None
        self.playhead_s = 0.0
        self.selected_id = -1
        self._drag: tuple[int, str, float] | None = None  # (event id, edge, t)
        self._press_x = 0
        self._scrubbing = False
        self.setToolTip("")
        self.setFixedHeight(self.sizeHint().height())

    # -- data --------------------------------------------------------------------------
    def set_layout(self, behaviours: tuple[str, ...], duration_s: float,
                   window_s: tuple[float, float], bin_s: float,
                   keys: dict[str, str] | None = None,
                   points: tuple[str, ...] = ()) -> None:
        self.points = tuple(points)
        self.behaviours, self.duration_s = behaviours, max(duration_s, 1e-9)
        self.window_s, self.bin_s, self.keys = window_s, bin_s, keys or {}
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def set_bouts(self, bouts: list[Bout], held: tuple[str, float] | None) -> None:
        self.bouts, self.held = bouts, held
        if self.selected_id not in {b.id for b in bouts}:
            self.selected_id = -1
        self.update()

    def set_playhead(self, t_s: float) -> None:
        self.playhead_s = t_s
        self.update()

    def select(self, event_id: int) -> None:
        self.selected_id = event_id
        self.update()

    # -- geometry ----------------------------------------------------------------------
    LABEL_W, AXIS_H, ROW_H, PAD, RIGHT = 124, 22, 26, 6, 28

    def sizeHint(self) -> QSize:
        return QSize(800, self.AXIS_H + self.ROW_H * len(self.rows) + 2 * self.PAD + 14)

    @property
    def rows(self) -> tuple[str, ...]:
        return self.behaviours + self.points

    def _plot(self) -> QRectF:
        return QRectF(self.LABEL_W, self.PAD + self.AXIS_H, max(10, self.width() - self.LABEL_W
                      - self.RIGHT), self.ROW_H * len(self.rows))

    def x_of(self, t_s: float) -> float:
        p = self._plot()
        return p.left() + p.width() * t_s / max(self.duration_s, 1e-9)

    def t_of(self, x: float) -> float:
        p = self._plot()
        return min(max(0.0, (x - p.left()) / max(p.width(), 1.0) * self.duration_s),
                   self.duration_s)

    def _row(self, behaviour: str) -> QRectF:
        p = self._plot()
        i = self.rows.index(behaviour) if behaviour in self.rows else 0
        return QRectF(p.left(), p.top() + i * self.ROW_H + 3, p.width(), self.ROW_H - 6)

    def bout_at(self, pos: QPointF) -> tuple[Bout | None, str]:
        """The bout under ``pos`` and the edge (``"start"``/``"end"``/``""``) near it."""
        for b in self.bouts:
            row = self._row(b.behaviour)
            if not row.top() - 2 <= pos.y() <= row.bottom() + 2:
                continue
            x0, x1 = self.x_of(b.start_s), self.x_of(b.end_s)
            if b.behaviour in self.points:  # a mark: grabbed anywhere near, moved whole
                if abs(pos.x() - x0) <= EDGE_PX:
                    return b, "start"
                continue
            if abs(pos.x() - x0) <= EDGE_PX:
                return b, "start"
            if abs(pos.x() - x1) <= EDGE_PX:
                return b, "end"
            if x0 <= pos.x() <= x1:
                return b, ""
        return None, ""

    # -- painting ----------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing, False)
        pal = self.palette()
        painter.fillRect(self.rect(), pal.base())
        plot = self._plot()
        text = pal.text().color()
        # the scoring window, shaded, and its bins
        w0, w1 = self.window_s
        win = QRectF(QPointF(self.x_of(w0), plot.top() - 4), QPointF(self.x_of(w1),
                                                                       plot.bottom() + 4))
        painter.fillRect(win, QColor(255, 214, 102, 90))
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.85))
        painter.setFont(small)
        if self.bin_s > 0 and self.duration_s / self.bin_s <= 400:
            painter.setPen(QPen(QColor(160, 120, 0, 150), 1, Qt.DotLine))
            k = math.ceil(w0 / self.bin_s - 1e-9)
            while k * self.bin_s < w1 - 1e-9:
                x = self.x_of(k * self.bin_s)
                if k * self.bin_s > w0 + 1e-9:
                    painter.drawLine(QPointF(x, plot.top() - 4), QPointF(x, plot.bottom() + 4))
                k += 1
        painter.setPen(QColor(140, 100, 0))
        label = f"scoring window {w0:g}–{w1:g} s"
        if self.bin_s > 0:
            label += f", bins of {self.bin_s:g} s"
        painter.drawText(QRectF(win.left() + 4, plot.bottom() + 4, max(win.width(), 10) + 200,
                                14), Qt.AlignLeft | Qt.AlignVCenter, label)
        # the time axis
        painter.setPen(text)
        painter.drawLine(QPointF(plot.left(), plot.top() - 4), QPointF(plot.right(),
                                                                         plot.top() - 4))
        step = _tick_step(self.duration_s, plot.width())
        t = 0.0
        while t <= self.duration_s + 1e-9:
            x = self.x_of(t)
            painter.drawLine(QPointF(x, plot.top() - 8), QPointF(x, plot.top() - 4))
            painter.drawText(QRectF(x - 30, self.PAD, 60, self.AXIS_H - 10), Qt.AlignCenter,
                             _clock(t))
            t += step
        # rows and bouts
        for b in self.rows:
            row = self._row(b)
            painter.setPen(text)
            key = self.keys.get(b)
            painter.drawText(QRectF(4, row.top(), self.LABEL_W - 8, row.height()),
                             Qt.AlignVCenter | Qt.AlignLeft,
                             b.replace("_", " ") + (f" ({key})" if key else ""))
            painter.fillRect(row, QColor(128, 128, 128, 28))
        for bout in self.bouts:
            row = self._row(bout.behaviour)
            if bout.behaviour in self.points:
                self._paint_mark(painter, bout, row)
                continue
            r = QRectF(QPointF(self.x_of(bout.start_s), row.top()),
                       QPointF(max(self.x_of(bout.end_s), self.x_of(bout.start_s) + 1),
                               row.bottom()))
            painter.fillRect(r, COLOURS.get(bout.behaviour, QColor(120, 120, 120)))
            if bout.id == self.selected_id:
                painter.setPen(QPen(QColor(230, 30, 30), 2))
                painter.drawRect(r.adjusted(-1, -2, 1, 2))
        if self.held is not None:
            behaviour, start = self.held
            row = self._row(behaviour)
            r = QRectF(QPointF(self.x_of(start), row.top()),
                       QPointF(max(self.x_of(self.playhead_s), self.x_of(start) + 1),
                               row.bottom()))
            colour = QColor(COLOURS.get(behaviour, QColor(120, 120, 120)))
            colour.setAlpha(110)
            painter.fillRect(r, colour)
            painter.fillRect(r, QColor(255, 255, 255, 60))
            painter.setPen(QPen(COLOURS.get(behaviour, QColor(120, 120, 120)), 1, Qt.DashLine))
            painter.drawRect(r)
        if self._drag is not None:
            painter.setPen(QPen(QColor(230, 30, 30), 1, Qt.DashLine))
            x = self.x_of(self._drag[2])
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        # the playhead
        x = self.x_of(self.playhead_s)
        painter.setPen(QPen(QColor(220, 0, 0), 2))
        painter.drawLine(QPointF(x, plot.top() - 8), QPointF(x, plot.bottom() + 2))
        painter.end()

    def _paint_mark(self, painter: QPainter, mark: Bout, row: QRectF) -> None:
        """A point event: a vertical tick with a small triangle on top."""
        x = self.x_of(mark.start_s)
        colour = MARK_COLOURS[self.points.index(mark.behaviour) % len(MARK_COLOURS)]
        selected = mark.id == self.selected_id
        painter.setPen(QPen(QColor(230, 30, 30) if selected else colour, 3 if selected else 2))
        painter.drawLine(QPointF(x, row.top()), QPointF(x, row.bottom()))
        painter.setBrush(colour)
        painter.setPen(Qt.NoPen)
        painter.drawPolygon(QPolygonF([QPointF(x - 4, row.top()), QPointF(x + 4, row.top()),
                                       QPointF(x, row.top() + 6)]))
        painter.setBrush(Qt.NoBrush)

    # -- mouse -------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        bout, edge = self.bout_at(QPointF(event.pos()))
        if bout is not None:
            self.selected_id = bout.id
            self.selected.emit(bout.id)
            if edge:
                self._drag = (bout.id, edge, bout.start_s if edge == "start" else bout.end_s)
                self._press_x = event.pos().x()
            self.update()
            return
        self._scrubbing = True
        self.seek_requested.emit(self.t_of(event.pos().x()))

    def mouseMoveEvent(self, event) -> None:
        if self._drag is not None:
            self._drag = (self._drag[0], self._drag[1], self.t_of(event.pos().x()))
            self.update()
            return
        if self._scrubbing:
            self.seek_requested.emit(self.t_of(event.pos().x()))
            return
        bout, edge = self.bout_at(QPointF(event.pos()))
        self.setCursor(Qt.SizeHorCursor if edge else Qt.PointingHandCursor if bout
                       else Qt.ArrowCursor)
        if bout is not None and bout.behaviour in self.points:
            self.setToolTip(f"{bout.behaviour.replace('_', ' ')} at {bout.start_s:.2f} s")
            return
        self.setToolTip(f"{bout.behaviour} {bout.start_s:.2f}–{bout.end_s:.2f} s "
                        f"({bout.end_s - bout.start_s:.2f} s)" if bout else "")

    def mouseReleaseEvent(self, event) -> None:
        if self._drag is not None:
            event_id, edge, _ = self._drag
            t = self.t_of(event.pos().x())  # where the edge was let go
            self._drag = None
            if abs(event.pos().x() - self._press_x) >= 3:  # a click on an edge only selects
                self.edge_moved.emit(event_id, edge, t)
            self.update()
        self._scrubbing = False


def _tick_step(duration_s: float, width_px: float) -> float:
    """A round tick step giving ticks at least ~70 px apart."""
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600):
        if width_px * step / max(duration_s, 1e-9) >= 70:
            return float(step)
    return 3600.0


def _clock(t_s: float) -> str:
    m, s = divmod(int(round(t_s)), 60)
    return f"{m}:{s:02d}"
