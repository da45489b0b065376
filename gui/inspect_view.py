"""Inspecting one animal: its video, its mobility trace, the threshold and the bouts.

Opened by double-clicking a row of the Auto-score page. The video plays in the part-1
player (:class:`~behavior_gui.player.Player`, cropped to the animal's arena); under it
the mobility trace (smoothed as the scorer smooths it, the raw values faint), the
threshold as a line, and the timeline (:class:`~behavior_gui.timeline.Timeline`) with
the auto-scored immobility bouts as one lane and, when a scoring database holds an
observer's bouts for this video, each observer as another lane.

Changing the threshold or the minimum bout re-scores the animal from its trace at once
with the core's :func:`behavior.fst.score_trace` — no video is decoded — and the
page's table row follows (:attr:`InspectView.rescored`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from behavior_gui.player import Player
from behavior_gui.score_page import fmt_time, fmt_value
from behavior_gui.timeline import Bout, Timeline
from behavior_gui.video_view import VideoView
from PyQt5.QtCore import QPointF, QRect, QRectF, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PyQt5.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from behavior.errors import BehaviorError

AUTO_LANE = "immobility"


def manual_bouts(database: str | Path, video: str | Path) -> dict[str, np.ndarray]:
    """Each observer's immobility bouts of ``video`` in a scoring database (open
    scoring beside the video, or a session holding it): observer -> (n, 2) seconds.
    Read with the core's :func:`behavior.blinding.raters.session_raters`; empty when
    the database does not hold this video or nobody scored it."""
    from behavior.blinding import database as db
    from behavior.blinding.raters import session_raters

    conn = db.open_database(database, readonly=True)
    try:
        records = db.read_videos(conn)
    finally:
        conn.close()
    target = Path(video).resolve()
    codes = [r.code for r in records if Path(r.file).resolve() == target] or \
        [r.code for r in records if Path(r.file).name == target.name]
    if not codes:
        return {}
    try:
        raters = session_raters(database)
    except BehaviorError:
        return {}  # nobody has scored anything yet
    return {r.name: r.bouts[codes[0]] for r in raters if codes[0] in r.bouts}


class TraceView(QWidget):
    """The mobility trace along the video's time, the threshold as a line, immobile
    bouts shaded and the playhead. A click seeks; the threshold line can be dragged
    (``threshold_dragged`` on release)."""

    seek_requested = pyqtSignal(float)
    threshold_dragged = pyqtSignal(float)

    LABEL_W, RIGHT, PAD = Timeline.LABEL_W, Timeline.RIGHT, 8

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.setMinimumHeight(120)
        self.t = np.empty(0)
        self.raw = np.empty(0)
        self.smooth = np.empty(0)
        self.threshold = math.nan
        self.bouts = np.empty((0, 2))
        self.duration_s = 1.0
        self.playhead_s = 0.0
        self.top = 1.0
        self._dragging: float | None = None  # the threshold being dragged
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(800, 150)

    def set_trace(self, t: np.ndarray, raw: np.ndarray, smooth: np.ndarray,
                  duration_s: float) -> None:
        self.t, self.raw, self.smooth = t, raw, smooth
        self.duration_s = max(duration_s, 1e-9)
        finite = smooth[np.isfinite(smooth)]
        self.top = float(np.percentile(finite, 99.5)) * 1.15 if finite.size else 1.0
        self.top = max(self.top, 1e-6)
        self.update()

    def set_scoring(self, threshold: float, bouts: np.ndarray) -> None:
        self.threshold, self.bouts = threshold, bouts
        self.top = max(self.top, threshold * 1.6 if math.isfinite(threshold) else 0)
        self.update()

    def set_playhead(self, t_s: float) -> None:
        self.playhead_s = t_s
        self.update()

    def _plot(self) -> QRectF:
        return QRectF(self.LABEL_W, self.PAD, max(10, self.width() - self.LABEL_W - self.RIGHT),
                      max(10, self.height() - 2 * self.PAD - 14))

    def x_of(self, t_s: float) -> float:
        p = self._plot()
        return p.left() + p.width() * t_s / self.duration_s

    def y_of(self, v: float) -> float:
        p = self._plot()
        return p.bottom() - p.height() * min(max(v / self.top, 0.0), 1.0)

    def _line(self, values: np.ndarray) -> list[QPolygonF]:
        """The values as polylines (broken where no animal was found), at most about two
        points per pixel column."""
        p = self._plot()
        n = self.t.size
        step = max(1, int(n / max(p.width() * 2, 1)))
        t, v = self.t[::step], values[::step]
        xs = p.left() + p.width() * t / self.duration_s
        ys = p.bottom() - p.height() * np.clip(v / self.top, 0, 1)
        lines, current = [], []
        for x, y, ok in zip(xs, ys, np.isfinite(v), strict=True):
            if ok:
                current.append(QPointF(x, y))
            elif current:
                lines.append(QPolygonF(current))
                current = []
        if current:
            lines.append(QPolygonF(current))
        return lines

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        pal = self.palette()
        painter.fillRect(self.rect(), pal.base())
        p = self._plot()
        text = pal.text().color()
        painter.setPen(text)
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.85))
        painter.setFont(small)
        painter.drawText(QRectF(4, p.top(), self.LABEL_W - 8, p.height()),
                         Qt.AlignVCenter | Qt.AlignLeft | Qt.TextWordWrap,
                         "mobility\n(most-changed\npatch of the body)")
        for b0, b1 in self.bouts:
            painter.fillRect(QRectF(QPointF(self.x_of(b0), p.top()),
                                    QPointF(self.x_of(b1), p.bottom())),
                             QColor(0, 114, 178, 45))
        painter.setPen(QPen(QColor(128, 128, 128), 1))
        painter.drawRect(p)
        if self.t.size:
            painter.setRenderHint(QPainter.Antialiasing, True)
            painter.setPen(QPen(QColor(170, 170, 170), 1))
            for line in self._line(self.raw):
                painter.drawPolyline(line)
            painter.setPen(QPen(QColor(30, 30, 30), 1.4))
            for line in self._line(self.smooth):
                painter.drawPolyline(line)
            painter.setRenderHint(QPainter.Antialiasing, False)
        if math.isfinite(self.threshold):
            y = self.y_of(self.threshold)
            painter.setPen(QPen(QColor(213, 94, 0), 2, Qt.DashLine))
            painter.drawLine(QPointF(p.left(), y), QPointF(p.right(), y))
            painter.drawText(QRectF(p.left() + 4, y - 16, 260, 14), Qt.AlignLeft,
                             f"threshold {self.threshold:.4g}")
        painter.setPen(text)
        painter.drawText(QRectF(p.left(), p.bottom() + 1, p.width(), 14), Qt.AlignLeft,
                         f"0 … {self.top:.3g}")
        x = self.x_of(self.playhead_s)
        painter.setPen(QPen(QColor(220, 0, 0), 2))
        painter.drawLine(QPointF(x, p.top()), QPointF(x, p.bottom()))
        painter.end()

    def value_of(self, y: float) -> float:
        p = self._plot()
        return min(max((p.bottom() - y) / max(p.height(), 1) * self.top, 0.0), self.top)

    def _near_threshold(self, y: float) -> bool:
        return math.isfinite(self.threshold) and abs(y - self.y_of(self.threshold)) <= 5

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        if self._near_threshold(event.pos().y()):
            self._dragging = self.threshold
            return
        p = self._plot()
        t = (event.pos().x() - p.left()) / max(p.width(), 1) * self.duration_s
        self.seek_requested.emit(min(max(t, 0.0), self.duration_s))

    def mouseMoveEvent(self, event) -> None:
        if self._dragging is not None:
            self._dragging = self.value_of(event.pos().y())
            self.threshold = self._dragging
            self.update()
        elif event.buttons() & Qt.LeftButton:
            self.mousePressEvent(event)
        else:
            self.setCursor(Qt.SizeVerCursor if self._near_threshold(event.pos().y())
                           else Qt.ArrowCursor)

    def mouseReleaseEvent(self, event) -> None:
        if self._dragging is not None:
            value, self._dragging = self._dragging, None
            self.threshold_dragged.emit(value)


class InspectView(QWidget):
    """One animal: video, trace, threshold, bouts; re-scored from the trace on change.

    Parameters
    ----------
    trace
        The animal's :class:`behavior.fst.Trace` (from the batch's traces folder).
    protocol
        The protocol the table was scored with.
    video
        The video file to play (default: the trace's).
    database
        A scoring database with observers' bouts (default: ``<stem>.scores.sqlite``
        beside the video, if there is one).

    Signals
    -------
    rescored(AnimalResult)   the animal was scored again with new settings
    """

    rescored = pyqtSignal(object)

    def __init__(self, trace, protocol, video: str | Path | None = None,
                 database: str | Path | None = None, parent: QWidget | None = None):
        super().__init__(parent, Qt.Window)
        from behavior.fst.immobility import smooth_mobility

        self.trace = trace
        self.base_protocol = protocol
        self.protocol = protocol
        self.video = str(video or trace.video)
        self.result = None
        self.bouts = np.empty((0, 2))
        self.manual: dict[str, np.ndarray] = {}
        self.database: Path | None = None
        self.offset_s = float(trace.meta.get("video_start_s", 0) or 0)
        self.setWindowTitle(f"Inspect — {Path(self.video).name}, arena {trace.arena}")

        self.view = VideoView()
        self.player = Player(self.view, parent=self)
        self.trace_view = TraceView()
        self.timeline = Timeline()
        self.play_button = QToolButton()
        self.play_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPlay))
        self.play_button.setToolTip("Play / pause (Space); Left / Right: a frame, with "
                                    "Shift: a second")
        self.play_button.clicked.connect(self.player.toggle)
        self.time_label = QLabel("–")
        self.time_label.setFont(QFont("monospace"))

        self.auto = QCheckBox("auto")
        self.auto.setToolTip("Choose the threshold for this animal from its own trace "
                             "(the protocol's 'threshold: auto')")
        self.threshold = QDoubleSpinBox()
        self.threshold.setDecimals(4)
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.005)
        self.threshold.setToolTip("Mobility at or below which a frame is immobile")
        self.min_bout = QDoubleSpinBox()
        self.min_bout.setDecimals(2)
        self.min_bout.setRange(0.0, 60.0)
        self.min_bout.setSingleStep(0.25)
        self.min_bout.setSuffix(" s")
        self.min_bout.setToolTip("Immobile stretches shorter than this count as mobile")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.manual_label = QLabel("")
        self.manual_label.setStyleSheet("color: #555")
        self.db_button = QPushButton("Manual scores…")
        self.db_button.setToolTip("Show an observer's bouts from a scoring database")
        self.db_button.clicked.connect(lambda: self.load_manual(None))

        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.time_label)
        controls.addSpacing(16)
        controls.addWidget(QLabel("Threshold:"))
        controls.addWidget(self.threshold)
        controls.addWidget(self.auto)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Minimum bout:"))
        controls.addWidget(self.min_bout)
        controls.addSpacing(12)
        controls.addWidget(self.db_button)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 3)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addWidget(self.trace_view, 1)
        layout.addWidget(self.timeline)
        layout.addWidget(self.manual_label)

        self.player.position_changed.connect(self._position)
        self.player.frame_shown.connect(lambda i, t, exact: self._position(t))
        self.player.state_changed.connect(self._playing)
        self.player.failed.connect(lambda m: self.summary.setText(m))
        self.trace_view.seek_requested.connect(self.player.seek_time)
        self.trace_view.threshold_dragged.connect(self.set_threshold)
        self.timeline.seek_requested.connect(self.player.seek_time)

        # the trace, as the scorer smooths it
        t = trace.time_s + self.offset_s
        self.trace_view.set_trace(t, trace.mobility,
                                  smooth_mobility(trace.time_s, trace.mobility,
                                                  protocol.smoothing_s),
                                  self.offset_s + max(trace.end_s, protocol.duration_s))
        # the animal's arena, cropped once the first frame gives the frame's size
        self.crop: QRect | None = None
        rect = trace.meta.get("arena_rect_px")
        if rect:
            try:
                x, y, w, h = (int(float(v)) for v in rect.split(","))
                self.crop = QRect(x, y, w, h)
            except ValueError:
                pass
        self.player.frame_shown.connect(self._crop_once)
        self.min_bout.setValue(float(protocol.min_bout_s))
        fixed = not isinstance(protocol.threshold, str)
        self.auto.setChecked(not fixed)
        self.threshold.setEnabled(fixed)
        self.rescore(emit=False)
        self.threshold.valueChanged.connect(lambda _: self.rescore())
        self.min_bout.valueChanged.connect(lambda _: self.rescore())
        self.auto.toggled.connect(self._auto_toggled)
        self._layout_timeline()
        default_db = None
        from behavior.blinding.open_scoring import default_database

        guess = default_database(self.video)
        if database is not None or guess.is_file():
            default_db = database or guess
        if default_db is not None:
            self.load_manual(default_db)
        else:
            self.manual_label.setText("No manual scores found beside the video "
                                      f"({guess.name}); choose a scoring database with "
                                      "\"Manual scores…\".")
        self.resize(1100, 860)
        if Path(self.video).is_file():
            self.player.open(self.video, start_s=self.offset_s + protocol.window_s[0])
        else:
            self.view.clear(f"The video is not at {self.video}")

    # -- scoring -----------------------------------------------------------------------
    def settings_protocol(self):
        """The protocol with the threshold and minimum bout set here."""
        threshold = "auto" if self.auto.isChecked() else round(self.threshold.value(), 6)
        return self.base_protocol.with_overrides(threshold=threshold,
                                                 min_bout_s=self.min_bout.value())

    def rescore(self, emit: bool = True):
        """Score the animal again from its trace (no decoding); returns the result."""
        from behavior.fst import score_trace
        from behavior.fst.immobility import immobility_bouts

        self.protocol = self.settings_protocol()
        trace = self.trace
        self.result = score_trace(trace, self.protocol)
        threshold = float(self.result.values.get("threshold", math.nan))
        if math.isfinite(threshold):
            self.bouts = immobility_bouts(trace.time_s, trace.mobility, self.protocol,
                                          trace.end_s, threshold)
        else:
            self.bouts = np.empty((0, 2))
        if self.auto.isChecked() and math.isfinite(threshold):
            self.threshold.blockSignals(True)
            self.threshold.setValue(threshold)
            self.threshold.blockSignals(False)
        self.trace_view.set_scoring(threshold, self.bouts + self.offset_s)
        self._show_bouts()
        v = self.result.values
        self.summary.setText(
            f"Immobility {fmt_value(v.get('immobility_s'), ' s')} "
            f"({fmt_value(v.get('immobility_pct'), ' %')}) in "
            f"{self.protocol.window_s[0]:g}–{self.protocol.window_s[1]:g} s of the test; "
            f"{fmt_value(v.get('bouts'))} bouts; latency {fmt_value(v.get('latency_s'), ' s')}"
            + (f". {v['note']}" if v.get("note") else ""))
        if emit:
            self.rescored.emit(self.result)
        return self.result

    def set_threshold(self, value: float) -> None:
        """A fixed threshold (the line dragged, or typed): re-scored at once."""
        self.auto.blockSignals(True)
        self.auto.setChecked(False)
        self.auto.blockSignals(False)
        self.threshold.setEnabled(True)
        self.threshold.blockSignals(True)
        self.threshold.setValue(round(value, 4))
        self.threshold.blockSignals(False)
        self.rescore()

    def _auto_toggled(self, on: bool) -> None:
        self.threshold.setEnabled(not on)
        self.rescore()

    # -- lanes -------------------------------------------------------------------------
    def _layout_timeline(self) -> None:
        lanes = (AUTO_LANE, *self.manual)
        keys = {AUTO_LANE: "auto", **{name: "manual" for name in self.manual}}
        w0, w1 = self.base_protocol.window_s
        self.timeline.set_layout(lanes, self.trace_view.duration_s,
                                 (self.offset_s + w0, self.offset_s + w1),
                                 self.base_protocol.bin_s, keys)
        self._show_bouts()

    def _show_bouts(self) -> None:
        bouts = [Bout(i, AUTO_LANE, float(a) + self.offset_s, float(b) + self.offset_s)
                 for i, (a, b) in enumerate(self.bouts)]
        k = len(bouts)
        for name, found in self.manual.items():
            for a, b in found:
                bouts.append(Bout(k, name, float(a), float(b)))
                k += 1
        self.timeline.set_bouts(bouts, None)

    def ask_database(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Manual scores of this video",
                                              str(Path(self.video).parent),
                                              "Scoring database (*.sqlite);;All files (*)")
        return path or None

    def load_manual(self, database: str | Path | None) -> bool:
        """Show the observers' bouts of this video from ``database`` (asked if None)."""
        database = database or self.ask_database()
        if not database:
            return False
        try:
            self.manual = manual_bouts(database, self.video)
        except BehaviorError as exc:
            self.manual_label.setText(str(exc))
            return False
        self.database = Path(database)
        if self.manual:
            self.manual_label.setText(
                f"Manual scores from {self.database.name}: "
                + ", ".join(f"{n} ({len(b)} bouts)" for n, b in self.manual.items()))
        else:
            self.manual_label.setText(f"{self.database.name} holds no scores of this video.")
        self._layout_timeline()
        return True

    # -- playback ----------------------------------------------------------------------
    def _crop_once(self, *_) -> None:
        self.player.frame_shown.disconnect(self._crop_once)
        if self.crop is not None:
            self.view.set_crop(self.crop)

    def _position(self, t_s: float) -> None:
        self.time_label.setText(fmt_time(t_s))
        self.trace_view.set_playhead(t_s)
        self.timeline.set_playhead(t_s)

    def _playing(self, playing: bool) -> None:
        self.play_button.setIcon(self.style().standardIcon(
            QStyle.SP_MediaPause if playing else QStyle.SP_MediaPlay))

    def keyPressEvent(self, event) -> None:
        """Space: play/pause; Left/Right: a frame; with Shift: a second (as on the
        Score page)."""
        key, shift = event.key(), bool(event.modifiers() & Qt.ShiftModifier)
        if key == Qt.Key_Space:
            self.player.toggle()
        elif key in (Qt.Key_Left, Qt.Key_Right):
            sign = -1 if key == Qt.Key_Left else 1
            if shift:
                self.player.jump(sign)
            else:
                self.player.step(sign)
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event) -> None:
        self.player.close()
        super().closeEvent(event)
