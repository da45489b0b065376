"""The widget that shows the frame on screen: zoomed to fit, optionally cropped to
one arena, with a small overlay (the state being held)."""

from __future__ import annotations

from PyQt5.QtCore import QPoint, QRect, QRectF, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QFont, QImage, QPainter, QPen
from PyQt5.QtWidgets import QSizePolicy, QWidget


class VideoView(QWidget):
    """Paints a QImage scaled to fit (aspect kept) or at 1:1, centred.

    Signals
    -------
    painted(index)         the frame ``index`` was painted (the end of a seek, for timing)
    crop_chosen(QRect)     a rectangle was drawn in crop mode (image pixels)
    """

    painted = pyqtSignal(int)
    crop_chosen = pyqtSignal(QRect)
    display_changed = pyqtSignal()  # the size frames should be scaled to changed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(320, 240)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.NoFocus)
        self.image: QImage | None = None
        self.frame_size: QSize | None = None  # the decoded frame's size
        self.index = -1
        self.fit = True
        self.crop: QRect | None = None
        self.overlay = ""
        self.placeholder = "No video open"
        self._choosing_crop = False
        self._drag: tuple[QPoint, QPoint] | None = None

    def sizeHint(self) -> QSize:
        return QSize(800, 600)

    def set_frame(self, image: QImage, index: int, frame_size: QSize | None = None) -> None:
        """Show ``image`` (frame ``index``), already cropped and scaled by the decoder
        (see :func:`behavior_gui.player.display_array`), or as decoded.

        ``frame_size``: the decoded frame's size (for the crop and fit geometry).
        """
        self.image, self.index = image, index
        if frame_size is not None and frame_size != self.frame_size:
            self.frame_size = frame_size
            self.display_changed.emit()
        self.update()

    def display_size(self) -> tuple[int, int] | None:
        """The size (device pixels) frames are painted at, or None before a frame."""
        tgt = self.target_rect()
        if tgt.isEmpty():
            return None
        dpr = self.devicePixelRatioF()
        return max(1, round(tgt.width() * dpr)), max(1, round(tgt.height() * dpr))

    def crop_tuple(self) -> tuple[int, int, int, int] | None:
        if self.crop is None:
            return None
        r = self.source_rect()
        return r.x(), r.y(), r.width(), r.height()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.display_changed.emit()

    def clear(self, placeholder: str = "No video open") -> None:
        self.image, self.index, self.placeholder = None, -1, placeholder
        self.update()

    def set_overlay(self, text: str) -> None:
        if text != self.overlay:
            self.overlay = text
            self.update()

    def set_fit(self, fit: bool) -> None:
        self.fit = fit
        self.display_changed.emit()
        self.update()

    def set_crop(self, crop: QRect | None) -> None:
        self.crop = crop
        self.display_changed.emit()
        self.update()

    def choose_crop(self) -> None:
        """Let the user draw the arena to crop to (the next mouse drag)."""
        self._choosing_crop = True
        self.setCursor(Qt.CrossCursor)

    # -- geometry ----------------------------------------------------------------------
    def source_rect(self) -> QRect:
        """The part of the decoded frame shown (frame pixels)."""
        if self.frame_size is None:
            return QRect()
        full = QRect(QPoint(0, 0), self.frame_size)
        return self.crop.intersected(full) if self.crop is not None else full

    def target_rect(self) -> QRectF:
        src = self.source_rect()
        if src.isEmpty():
            return QRectF()
        w, h = self.width(), self.height()
        scale = min(w / src.width(), h / src.height()) if self.fit else 1.0
        tw, th = src.width() * scale, src.height() * scale
        return QRectF((w - tw) / 2, (h - th) / 2, tw, th)

    def to_image(self, p: QPoint) -> QPoint:
        """A widget point in image pixels."""
        src, tgt = self.source_rect(), self.target_rect()
        if tgt.isEmpty():
            return QPoint()
        x = src.x() + (p.x() - tgt.x()) * src.width() / tgt.width()
        y = src.y() + (p.y() - tgt.y()) * src.height() / tgt.height()
        return QPoint(int(x), int(y))

    # -- painting ----------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 24, 24))
        if self.image is None:
            painter.setPen(QColor(170, 170, 170))
            painter.drawText(self.rect(), Qt.AlignCenter, self.placeholder)
            painter.end()
            return
        target = self.target_rect()
        if target.isEmpty():  # frames not from the decoder (no frame size): as they are
            target = QRectF(self.image.rect())
        dpr = self.devicePixelRatioF()
        if (round(target.width() * dpr), round(target.height() * dpr)) == \
                (self.image.width(), self.image.height()):
            self.image.setDevicePixelRatio(dpr)
            painter.drawImage(target.topLeft(), self.image)  # scaled already: a copy
        else:  # until the decoder sends frames at the new size
            painter.setRenderHint(QPainter.SmoothPixmapTransform, True)
            if self.image.size() == self.frame_size:  # as decoded: crop here
                painter.drawImage(target, self.image, QRectF(self.source_rect()))
            else:
                painter.drawImage(target, self.image)
        if self._drag is not None:
            painter.setPen(QPen(QColor(255, 200, 0), 2, Qt.DashLine))
            painter.drawRect(QRect(*self._drag).normalized())
        if self.overlay:
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.3)
            font.setBold(True)
            painter.setFont(font)
            box = painter.fontMetrics().boundingRect(self.overlay).adjusted(-10, -6, 10, 6)
            box.moveTopLeft(QPoint(12, 12))
            painter.fillRect(box, QColor(200, 40, 40, 210))
            painter.setPen(Qt.white)
            painter.drawText(box, Qt.AlignCenter, self.overlay)
        painter.end()
        self.painted.emit(self.index)

    # -- drawing the crop --------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if self._choosing_crop and event.button() == Qt.LeftButton:
            self._drag = (event.pos(), event.pos())
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._drag is not None:
            self._drag = (self._drag[0], event.pos())
            self.update()

    def mouseReleaseEvent(self, event) -> None:
        if self._drag is not None:
            a, b = self.to_image(self._drag[0]), self.to_image(event.pos())
            self._drag, self._choosing_crop = None, False
            self.unsetCursor()
            rect = QRect(a, b).normalized()
            if self.frame_size is not None:
                rect = rect.intersected(QRect(QPoint(0, 0), self.frame_size))
            if rect.width() >= 8 and rect.height() >= 8:
                self.crop_chosen.emit(rect)
            self.update()
