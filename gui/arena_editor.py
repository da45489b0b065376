"""Checking the arenas before scoring: each video's arenas over a frame or the background.

The arenas, backgrounds and notices come from the core's :func:`behavior.fst.prepare`
(the same call scoring, ``fst preview`` and ``fst split`` start from), run in a thread
so the window stays responsive. The rectangles can be dragged, resized by their edges
and corners, added and removed, or found again for another number of arenas. "Save"
writes the video's sidecar ``<video>.arenas.yaml`` with the core's
:func:`behavior.fst.write_sidecar` — the file the command line reads — keeping the
sidecar's test start, end and background.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt5.QtCore import QPointF, QRectF, Qt, QThread, pyqtSignal
from PyQt5.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen, QPixmap
from PyQt5.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from behavior.errors import BehaviorError

#: how near an edge (view pixels) a press resizes instead of moving
EDGE_PX = 8
#: the smallest arena (image pixels)
MIN_SIDE = 8
ARENA_COLOURS = (QColor(0, 114, 178), QColor(213, 94, 0), QColor(0, 158, 115),
                 QColor(204, 121, 167), QColor(230, 159, 0), QColor(86, 180, 233))


def to_pixmap(image: np.ndarray) -> QPixmap:
    """A grey (2-D, any dtype 0-255) or BGR image as a pixmap."""
    img = np.ascontiguousarray(np.clip(image, 0, 255).astype(np.uint8))
    if img.ndim == 2:
        q = QImage(img.data, img.shape[1], img.shape[0], img.strides[0], QImage.Format_Grayscale8)
    else:
        rgb = np.ascontiguousarray(img[:, :, ::-1])
        q = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format_RGB888)
    return QPixmap.fromImage(q.copy())


class ArenaItem(QGraphicsRectItem):
    """One arena: dragged to move it, its edges or corners to resize it (image pixels;
    the item stays at the scene origin, its rectangle is the arena)."""

    def __init__(self, rect: QRectF, bounds: QRectF, on_change):
        super().__init__(rect)
        self.bounds = bounds
        self.on_change = on_change
        self.setFlag(QGraphicsItem.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
        self.label = QGraphicsSimpleTextItem("", self)
        font = QFont()
        font.setBold(True)
        font.setPointSize(11)
        self.label.setFont(font)
        self._grab: tuple[str, QPointF, QRectF] | None = None
        self.set_colour(ARENA_COLOURS[0])

    def set_colour(self, colour: QColor) -> None:
        self.colour = colour
        self.setPen(QPen(colour, 0))  # cosmetic: the same width at every zoom
        fill = QColor(colour)
        fill.setAlpha(40)
        self.setBrush(QBrush(fill))
        self.label.setBrush(QBrush(colour))

    def set_number(self, n: int) -> None:
        self.label.setText(str(n))
        self._place_label()

    def _place_label(self) -> None:
        r = self.rect()
        self.label.setPos(r.left() + 4, r.top() + 2)
        self.label.setScale(max(1.0, self.rect().height() / 240))

    def paint(self, painter, option, widget=None) -> None:
        pen = QPen(self.colour, 3 if self.isSelected() else 2)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(self.brush())
        painter.drawRect(self.rect())

    def _edges(self, pos: QPointF) -> str:
        """Which edges are under ``pos``: letters of "lrtb"; "" inside (a move)."""
        view = self.scene().views()[0] if self.scene() and self.scene().views() else None
        scale = view.transform().m11() if view is not None else 1.0
        tol = EDGE_PX / max(scale, 1e-6)
        r = self.rect()
        edges = ""
        if abs(pos.x() - r.left()) <= tol:
            edges += "l"
        elif abs(pos.x() - r.right()) <= tol:
            edges += "r"
        if abs(pos.y() - r.top()) <= tol:
            edges += "t"
        elif abs(pos.y() - r.bottom()) <= tol:
            edges += "b"
        return edges

    def hoverMoveEvent(self, event) -> None:
        edges = self._edges(event.pos())
        shapes = {"l": Qt.SizeHorCursor, "r": Qt.SizeHorCursor, "t": Qt.SizeVerCursor,
                  "b": Qt.SizeVerCursor, "lt": Qt.SizeFDiagCursor, "rb": Qt.SizeFDiagCursor,
                  "lb": Qt.SizeBDiagCursor, "rt": Qt.SizeBDiagCursor}
        self.setCursor(shapes.get(edges, Qt.SizeAllCursor))

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return super().mousePressEvent(event)
        self.scene().clearSelection()
        self.setSelected(True)
        self._grab = (self._edges(event.pos()), QPointF(event.pos()), QRectF(self.rect()))
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self._grab is None:
            return
        edges, start, r0 = self._grab
        d = event.pos() - start
        b = self.bounds
        if not edges:  # move, kept inside the frame
            dx = min(max(d.x(), b.left() - r0.left()), b.right() - r0.right())
            dy = min(max(d.y(), b.top() - r0.top()), b.bottom() - r0.bottom())
            r = r0.translated(dx, dy)
        else:
            left, right, top, bottom = r0.left(), r0.right(), r0.top(), r0.bottom()
            if "l" in edges:
                left = min(max(b.left(), left + d.x()), right - MIN_SIDE)
            if "r" in edges:
                right = max(min(b.right(), right + d.x()), left + MIN_SIDE)
            if "t" in edges:
                top = min(max(b.top(), top + d.y()), bottom - MIN_SIDE)
            if "b" in edges:
                bottom = max(min(b.bottom(), bottom + d.y()), top + MIN_SIDE)
            r = QRectF(QPointF(left, top), QPointF(right, bottom))
        self.setRect(QRectF(round(r.left()), round(r.top()), round(r.width()),
                            round(r.height())))
        self._place_label()

    def mouseReleaseEvent(self, event) -> None:
        if self._grab is not None:
            self._grab = None
            self.on_change()
        event.accept()

    def as_tuple(self) -> tuple[int, int, int, int]:
        r = self.rect()
        return int(round(r.left())), int(round(r.top())), int(round(r.width())), \
            int(round(r.height()))


class PrepareWorker(QThread):
    """``prepare(video, protocol, ...)`` and one frame to show, off the GUI thread."""

    ready = pyqtSignal(str, object, object, object)  # video, Setup, frame (BGR), rects
    failed = pyqtSignal(str, str)  # video, message

    def __init__(self, video: str, protocol, n_arenas: int | None, sidecar: bool, parent=None):
        super().__init__(parent)
        self.video, self.protocol = video, protocol
        self.n_arenas, self.sidecar = n_arenas, sidecar

    def run(self) -> None:
        from behavior.fst import prepare
        from behavior.fst.arenas import read_sidecar
        from behavior.io.video import VideoReader

        try:
            # the sidecar's rectangles as written (prepare tracks them trimmed to
            # even sizes: shown that way, saving again would shrink them)
            given = read_sidecar(self.video).rects if self.sidecar else None
            with VideoReader(self.video, threads=1) as reader:
                setup = prepare(reader, self.protocol, n_arenas=self.n_arenas,
                                sidecar=self.sidecar)
                times = setup.sample_times_s or [setup.first_start_s]
                frame = reader.frame_at(times[len(times) // 2], gray=False).image
        except BehaviorError as exc:
            self.failed.emit(self.video, str(exc))
            return
        except Exception as exc:  # never a traceback in the window
            self.failed.emit(self.video, f"{self.video}: {type(exc).__name__}: {exc}")
            return
        self.ready.emit(self.video, setup, frame, given or setup.rects)


class ArenaEditor(QDialog):
    """The arenas of each video of a batch, editable and saved as its sidecar.

    Signals
    -------
    loaded(video)   the video's arenas are on screen
    saved(path)     a sidecar was written
    """

    loaded = pyqtSignal(str)
    saved = pyqtSignal(str)

    def __init__(self, videos: list[str], protocol, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Check the arenas")
        self.videos = [str(v) for v in videos]
        self.protocol = protocol
        self.video: str | None = None
        self.setup = None
        self.frame: np.ndarray | None = None
        self.items: list[ArenaItem] = []
        self.dirty = False
        self._worker: PrepareWorker | None = None
        self._workers: list[PrepareWorker] = []

        self.scene = QGraphicsScene(self)
        self.view = QGraphicsView(self.scene)
        self.view.setRenderHint(QPainter.SmoothPixmapTransform)
        self.view.setBackgroundBrush(QColor(40, 40, 40))
        self.pixmap = QGraphicsPixmapItem()
        self.scene.addItem(self.pixmap)

        self.video_box = QComboBox()
        for v in self.videos:
            self.video_box.addItem(Path(v).name, v)
        self.video_box.currentIndexChanged.connect(self._video_chosen)
        self.show_frame = QRadioButton("Frame")
        self.show_background = QRadioButton("Background")
        self.show_frame.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.show_frame)
        group.addButton(self.show_background)
        self.show_frame.toggled.connect(self._show_image)
        self.count = QSpinBox()
        self.count.setRange(1, 12)
        self.count.setToolTip("How many cylinders the video shows")
        self.find_button = QPushButton("Find this many")
        self.find_button.setToolTip("Find the arenas again from the animals, this many of them")
        self.find_button.clicked.connect(lambda: self.find(self.count.value()))
        self.add_button = QPushButton("Add arena")
        self.add_button.clicked.connect(self.add_arena)
        self.remove_button = QPushButton("Remove selected")
        self.remove_button.clicked.connect(self.remove_selected)
        self.save_button = QPushButton("Save arenas")
        self.save_button.setToolTip("Write <video>.arenas.yaml beside the video: scoring "
                                    "(here or on the command line) uses these rectangles")
        self.save_button.clicked.connect(self.save)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.accept)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.notices = QLabel("")
        self.notices.setWordWrap(True)
        self.notices.setStyleSheet("color: #8a5a00")

        top = QHBoxLayout()
        top.addWidget(QLabel("Video:"))
        top.addWidget(self.video_box, 1)
        top.addSpacing(12)
        top.addWidget(self.show_frame)
        top.addWidget(self.show_background)
        tools = QHBoxLayout()
        tools.addWidget(QLabel("Arenas:"))
        tools.addWidget(self.count)
        tools.addWidget(self.find_button)
        tools.addSpacing(12)
        tools.addWidget(self.add_button)
        tools.addWidget(self.remove_button)
        tools.addStretch(1)
        tools.addWidget(self.save_button)
        tools.addWidget(self.close_button)
        hint = QLabel("Drag an arena to move it, its edges or corners to resize it. "
                      "Arenas are numbered left to right.")
        hint.setStyleSheet("color: #555")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(hint)
        layout.addWidget(self.notices)
        layout.addWidget(self.status)
        layout.addLayout(tools)
        self._enable(False)
        self.resize(900, 700)
        if self.videos:
            self.open_video(self.videos[0])

    # -- loading -----------------------------------------------------------------------
    def _enable(self, on: bool) -> None:
        for w in (self.find_button, self.add_button, self.remove_button, self.save_button,
                  self.count):
            w.setEnabled(on)

    def open_video(self, video: str, n_arenas: int | None = None, sidecar: bool = True) -> None:
        """Show ``video``'s arenas: its sidecar's, else found (``n_arenas`` of them)."""
        self.video = str(video)
        self.dirty = False
        self._enable(False)
        self.status.setText(f"Looking at {Path(video).name}: sampling frames…")
        worker = PrepareWorker(self.video, self.protocol, n_arenas, sidecar, self)
        worker.ready.connect(self._on_ready)
        worker.failed.connect(self._on_failed)
        self._worker = worker
        self._workers.append(worker)
        worker.finished.connect(lambda w=worker: self._workers.remove(w)
                                if w in self._workers else None)
        worker.start()

    def _video_chosen(self, index: int) -> None:
        self._offer_save()
        self.open_video(self.videos[index])

    def ask_save(self, video: str) -> bool:
        """Whether to save changed arenas before leaving them (tests replace this)."""
        answer = QMessageBox.question(
            self, "Arenas changed", f"The arenas of {Path(video).name} were changed. "
            "Save them (scoring then uses them)?", QMessageBox.Save | QMessageBox.Discard,
            QMessageBox.Save)
        return answer == QMessageBox.Save

    def _offer_save(self) -> None:
        if self.dirty and self.video is not None and self.ask_save(self.video):
            self.save()
        self.dirty = False

    def find(self, n: int) -> None:
        """Find ``n`` arenas again from the animals (the sidecar's rectangles ignored)."""
        if self.video:
            self.open_video(self.video, n_arenas=n, sidecar=False)

    def _on_ready(self, video: str, setup, frame, rects) -> None:
        if self.sender() is not self._worker:
            return
        self.setup, self.frame = setup, frame
        h, w = frame.shape[:2]
        self.bounds = QRectF(0, 0, w, h)
        self._show_image()
        self._set_rects(rects)
        self.dirty = not self.sender().sidecar  # found again: not saved yet
        from behavior.fst.arenas import sidecar_path

        side = sidecar_path(video)
        where = (f"from {side.name}" if self.sender().sidecar and side.is_file() and rects
                 else "found from the animals")
        self.status.setText(f"{Path(video).name}: {len(rects)} arena"
                            f"{'' if len(rects) == 1 else 's'} ({where}).")
        messages = [n.message for n in setup.all_notices()]
        self.notices.setText("\n".join(f"⚠ {m}" for m in messages))
        self._enable(True)
        self.loaded.emit(video)

    def _on_failed(self, video: str, message: str) -> None:
        if self.sender() is not self._worker:
            return
        self.status.setText(message)
        self.add_button.setEnabled(False)

    def _show_image(self) -> None:
        if self.setup is None:
            return
        image = self.setup.background if self.show_background.isChecked() else self.frame
        self.pixmap.setPixmap(to_pixmap(image))
        self.scene.setSceneRect(QRectF(0, 0, image.shape[1], image.shape[0]))
        self.view.fitInView(self.scene.sceneRect(), Qt.KeepAspectRatio)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.setup is not None:
            self.view.fitInView(self.scene.sceneRect(), Qt.KeepAspectRatio)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.setup is not None:
            self.view.fitInView(self.scene.sceneRect(), Qt.KeepAspectRatio)

    # -- the rectangles ----------------------------------------------------------------
    def _set_rects(self, rects) -> None:
        for item in self.items:
            self.scene.removeItem(item)
        self.items = []
        for r in rects:
            self._add_item(QRectF(*r))
        self._renumber()

    def _add_item(self, rect: QRectF) -> ArenaItem:
        item = ArenaItem(rect, self.bounds, self._changed)
        self.scene.addItem(item)
        self.items.append(item)
        return item

    def _changed(self) -> None:
        self.dirty = True
        self._renumber()
        self.status.setText("Changed; not saved yet.")

    def _renumber(self) -> None:
        """Number the arenas left to right, as the core does."""
        from behavior.fst.arenas import number_arenas

        numbered = number_arenas([i.as_tuple() for i in self.items])
        order = {(a.x, a.y, a.w, a.h): a.number for a in numbered}
        for item in self.items:
            n = order.get(item.as_tuple(), 0)
            item.set_number(n)
            item.set_colour(ARENA_COLOURS[(n - 1) % len(ARENA_COLOURS)])
        self.count.blockSignals(True)
        self.count.setValue(max(1, len(self.items)))
        self.count.blockSignals(False)

    def rects(self) -> list[tuple[int, int, int, int]]:
        """The arenas on screen, left to right (x, y, w, h in pixels)."""
        from behavior.fst.arenas import number_arenas

        return [(a.x, a.y, a.w, a.h) for a in number_arenas([i.as_tuple() for i in self.items])]

    def add_arena(self) -> None:
        """A new arena in the middle of the frame, a quarter of its width."""
        if self.setup is None:
            return
        b = self.bounds
        w, h = b.width() / 4, b.height() * 0.8
        item = self._add_item(QRectF(round(b.center().x() - w / 2), round(b.top() + 0.1 *
                                                                          b.height()),
                                     round(w), round(h)))
        self.scene.clearSelection()
        item.setSelected(True)
        self._changed()

    def remove_selected(self) -> None:
        for item in [i for i in self.items if i.isSelected()]:
            self.scene.removeItem(item)
            self.items.remove(item)
        self._changed()

    # -- saving ------------------------------------------------------------------------
    def save(self) -> Path | None:
        """Write the sidecar (keeping its start, end and background); returns its path."""
        from behavior.fst import write_sidecar
        from behavior.fst.arenas import Sidecar, read_sidecar

        if self.video is None or not self.items:
            self.status.setText("Nothing to save: there is no arena.")
            return None
        try:
            old = read_sidecar(self.video)
        except BehaviorError:
            old = Sidecar()  # an unreadable sidecar is replaced
        try:
            path = write_sidecar(self.video, Sidecar(self.rects(), old.start_s, old.background,
                                                     old.end_s))
        except BehaviorError as exc:
            self.status.setText(str(exc))
            return None
        self.dirty = False
        self.status.setText(f"Saved {path.name}: {len(self.items)} arenas. Scoring here or "
                            "with 'behavior fst score' uses them.")
        self.saved.emit(str(path))
        return path

    def done(self, result: int) -> None:
        self._offer_save()
        for worker in list(self._workers):
            worker.wait(30000)
        super().done(result)
