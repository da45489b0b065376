"""The video player: a decoding thread, a wall clock and the frame on screen.

Frames come from :class:`behavior.io.video.VideoReader` (never QMediaPlayer), decoded
in a :class:`DecoderThread` that owns its own reader (a reader is not thread-safe:
one per thread). Seeking is exact: :meth:`Player.seek_index` shows frame ``i`` with
its own timestamp, in variable-frame-rate files too.

Playback time comes from :class:`PlaybackClock` — the time of the frame playback
started from plus the monotonic wall time since, times the speed — not from a timer
counting ticks, so it does not drift over a 6-min test. The decoder runs a little
ahead of the clock; a frame that is already late when it would be decoded is
skipped (the reader steps over it without converting it), so when decoding falls
behind frames drop and the clock keeps time.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QObject, QSize, Qt, QThread, QTimer, pyqtSignal
from PyQt5.QtGui import QImage

from behavior.errors import BehaviorError
from behavior.io.video import VideoReader

log = logging.getLogger(__name__)

#: how far ahead of the clock (wall seconds) the decoder may run
AHEAD_WALL_S = 0.25
#: the speeds offered (× real time)
SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)


def index_at(times: np.ndarray, t_s: float) -> int:
    """Index of the frame on screen at ``t_s``: the last frame at or before it (0 before
    the first)."""
    return max(0, int(np.searchsorted(times, t_s + 1e-9, side="right")) - 1)


class PlaybackClock:
    """Media time of a player: ``t0 + (now() - wall0) × speed`` while playing.

    The state is one tuple replaced whole, so the decoding thread reads a
    consistent clock without a lock. ``now`` is the wall clock (monotonic by default;
    tests pass their own).
    """

    def __init__(self, now: Callable[[], float] = time.monotonic):
        self._now = now
        self._state = (0.0, 0.0, 1.0, False)  # (t0, wall0, speed, playing)
        self.end_s = float("inf")

    def time(self) -> float:
        t0, wall0, speed, playing = self._state
        if not playing:
            return t0
        return min(self.end_s, t0 + (self._now() - wall0) * speed)

    @property
    def playing(self) -> bool:
        return self._state[3]

    @property
    def speed(self) -> float:
        return self._state[2]

    def set_time(self, t_s: float) -> None:
        _, _, speed, playing = self._state
        self._state = (float(t_s), self._now(), speed, playing)

    def play(self) -> None:
        t = self.time()
        self._state = (t, self._now(), self._state[2], True)

    def pause(self) -> float:
        t = self.time()
        self._state = (t, self._now(), self._state[2], False)
        return t

    def set_speed(self, speed: float) -> None:
        t = self.time()
        self._state = (t, self._now(), float(speed), self._state[3])


@dataclass
class DecodedFrame:
    """A frame ready to show.

    ``array`` is the decoded frame (BGR, full size); ``image`` is what the view paints:
    the frame (cropped to ``crop``) scaled to the view's size, in the format Qt
    paints fastest; ``display`` keeps its pixels alive.
    """

    generation: int
    index: int
    time_s: float
    image: QImage
    exact: bool = True
    array: np.ndarray | None = field(default=None, repr=False)
    display: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Display:
    """How the view shows frames: ``size`` (w, h) in device pixels (None: as decoded),
    ``crop`` (x, y, w, h) in frame pixels (None: the whole frame)."""

    size: tuple[int, int] | None = None
    crop: tuple[int, int, int, int] | None = None


def display_array(bgr: np.ndarray, display: Display) -> np.ndarray:
    """The frame as the view paints it: cropped, scaled (area averaging when smaller,
    bilinear when larger), as BGRA (Qt's RGB32: painted without a conversion).

    Scaling here, in the decoding thread, leaves the GUI thread a plain copy to paint
    (scaling a 640×480 frame while painting costs 8–20 ms there).
    """
    import cv2

    if display.crop is not None:
        x, y, w, h = display.crop
        bgr = bgr[max(0, y):y + h, max(0, x):x + w]
    if display.size is not None and bgr.size:
        w, h = display.size
        if (w, h) != (bgr.shape[1], bgr.shape[0]) and w > 0 and h > 0:
            smaller = w < bgr.shape[1]
            bgr = cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA if smaller
                             else cv2.INTER_LINEAR)
    if bgr.ndim == 2:
        return cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGRA)
    return cv2.cvtColor(np.ascontiguousarray(bgr), cv2.COLOR_BGR2BGRA)


def to_qimage(bgra: np.ndarray) -> QImage:
    """A QImage over a BGRA (h, w, 4) uint8 array, without copying."""
    h, w = bgra.shape[:2]
    return QImage(bgra.data, w, h, bgra.strides[0], QImage.Format_RGB32)


class DecoderThread(QThread):
    """Decodes frames for one video in its own thread, with its own reader.

    The GUI asks for a frame (:meth:`request_seek`), a quick key-frame preview while
    scrubbing (:meth:`request_preview`), or playback (:meth:`set_playing`); only the
    latest request counts. Frames come back through :attr:`frame_ready` with the
    request's generation, so the GUI drops the answers to requests it has
    replaced.
    """

    opened = pyqtSignal(object, object)  # frame times (ndarray), VideoInfo
    frame_ready = pyqtSignal(object)  # DecodedFrame
    failed = pyqtSignal(str)

    def __init__(self, path: Path, clock: PlaybackClock, parent: QObject | None = None):
        super().__init__(parent)
        self.path = Path(path)
        self.clock = clock
        self.display = Display()  # replaced whole by the GUI; read here
        self._cond = threading.Condition()
        self._stopping = False
        self._seek: tuple[int, int] | None = None  # (generation, index)
        self._preview: tuple[int, float] | None = None
        self._playing = False
        self._generation = 0
        self._next = 0
        self.times: np.ndarray | None = None

    # -- called from the GUI thread ----------------------------------------------------
    def request_seek(self, generation: int, index: int) -> None:
        with self._cond:
            self._generation = generation
            self._seek, self._preview = (generation, int(index)), None
            self._next = int(index) + 1
            self._cond.notify()

    def request_preview(self, generation: int, t_s: float) -> None:
        with self._cond:
            self._generation = generation
            self._preview = (generation, float(t_s))
            self._cond.notify()

    def set_playing(self, generation: int, playing: bool, next_index: int) -> None:
        with self._cond:
            self._generation = generation
            self._playing = playing
            self._next = int(next_index)
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self.wait()

    # -- the decoding thread -----------------------------------------------------------
    def run(self) -> None:
        try:
            reader = VideoReader(self.path)
        except BehaviorError as exc:
            self.failed.emit(str(exc))
            return
        try:
            self.times = reader.frame_times()
            if self.times.size == 0:
                self.failed.emit(f"{self.path}: no frame could be decoded")
                return
            self.opened.emit(self.times, reader.info)
            self._loop(reader, self.times)
        except BehaviorError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a decoder crash must not take the GUI down
            log.exception("decoding %s failed", self.path)
            self.failed.emit(f"{self.path}: decoding failed ({exc})")
        finally:
            reader.close()

    def _loop(self, reader: VideoReader, times: np.ndarray) -> None:
        n = times.size
        while True:
            with self._cond:
                while not (self._stopping or self._seek or self._preview
                           or (self._playing and self._next < n)):
                    self._cond.wait()
                if self._stopping:
                    return
                seek, preview = self._seek, self._preview
                self._seek = self._preview = None
                generation, index = self._generation, self._next
            if seek is not None:
                self._emit(reader.read(seek[1], gray=False), seek[0], True)
                continue
            if preview is not None:
                shown = reader.keyframes_near([preview[1]], gray=False)
                if shown:
                    self._emit(shown[0], preview[0], False)
                continue
            # playing: decode the next frame unless it is too far ahead of the clock
            now = self.clock.time()
            speed = self.clock.speed
            early = times[index] - (now + AHEAD_WALL_S * speed)
            if early > 0:
                with self._cond:
                    if self._seek is None and self._preview is None and not self._stopping:
                        self._cond.wait(timeout=min(0.05, early / speed))
                continue
            index = max(index, index_at(times, now))  # a late frame is skipped, not shown
            frame = reader.read(index, gray=False)
            with self._cond:
                if generation != self._generation or not self._playing:
                    continue  # asked for something else meanwhile
                self._next = index + 1
            self._emit(frame, generation, True)

    def _emit(self, frame, generation: int, exact: bool) -> None:
        shown = display_array(frame.image, self.display)
        self.frame_ready.emit(DecodedFrame(generation, frame.index, frame.time_s,
                                           to_qimage(shown), exact, frame.image, shown))


class Player(QObject):
    """Plays one video into a view: clock, decoder thread and the frame on screen.

    Signals
    -------
    opened(times, info)   the video's frame times are known; the player is ready
    frame_shown(index, time_s, exact)   a new frame is on screen
    position_changed(t_s)  the clock moved (about 25 times a second while playing)
    state_changed(playing)
    ended(t_s)            playback reached the end of the video and paused
    paused(t_s)           playback paused at ``t_s`` (by the user or the end)
    failed(message)
    """

    opened = pyqtSignal(object, object)
    frame_shown = pyqtSignal(int, float, bool)
    position_changed = pyqtSignal(float)
    state_changed = pyqtSignal(bool)
    ended = pyqtSignal(float)
    paused = pyqtSignal(float)
    failed = pyqtSignal(str)

    def __init__(self, view=None, clock: PlaybackClock | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.view = view
        self.clock = clock or PlaybackClock()
        self.times: np.ndarray = np.empty(0)
        self.info = None
        self.end_s = 0.0
        self.shown_index = -1
        self.shown_time = float("nan")
        self.shown_exact = False
        self.shown_image: QImage | None = None
        self.shown_array: np.ndarray | None = None
        self.display = Display()
        self._decoder: DecoderThread | None = None
        self._generation = 0
        self._buffer: list[DecodedFrame] = []
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.setTimerType(Qt.PreciseTimer)
        self._show_timer.timeout.connect(self._show_due)
        self._tick = QTimer(self)
        self._tick.setInterval(40)
        self._tick.timeout.connect(self._on_tick)
        if view is not None:
            view.display_changed.connect(self._view_changed)

    def _view_changed(self) -> None:
        self.set_display(Display(self.view.display_size(), self.view.crop_tuple()))

    # -- opening -----------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self.times.size > 0

    def open(self, path: str | Path, end_s: float | None = None, start_s: float = 0.0) -> None:
        """Open ``path`` (asynchronously: :attr:`opened` when its frame times are known,
        then the frame on screen at ``start_s`` is shown).

        ``end_s``: where playback ends (the video's duration: the last frame stays on
        screen for one frame interval); default the last frame's time plus one interval.
        """
        self.close()
        self.times = np.empty(0)
        self.shown_index, self.shown_time, self.shown_image = -1, float("nan"), None
        self._requested_end = end_s
        self._start_s = start_s
        self.clock.pause()
        self.clock.set_time(0.0)
        self._decoder = DecoderThread(Path(path), self.clock)
        self._decoder.display = self.display
        self._decoder.opened.connect(self._on_opened)
        self._decoder.frame_ready.connect(self._on_frame)
        self._decoder.failed.connect(self.failed)
        self._decoder.start()

    def close(self) -> None:
        """Stop playback and the decoder thread."""
        if self.clock.playing:
            self.pause()
        self._tick.stop()
        self._show_timer.stop()
        self._buffer.clear()
        if self._decoder is not None:
            self._decoder.stop()
            self._decoder.deleteLater()
            self._decoder = None
        self.times = np.empty(0)

    def _on_opened(self, times: np.ndarray, info) -> None:
        if self.sender() is not self._decoder:
            return
        self.times, self.info = times, info
        last = float(times[-1]) + (float(times[-1] - times[-2]) if times.size > 1 else 0.0)
        self.end_s = float(self._requested_end) if self._requested_end else last
        self.end_s = max(self.end_s, float(times[-1]))
        self.clock.end_s = self.end_s
        self.seek_time(self._start_s)
        self.opened.emit(times, info)

    # -- what is on screen -------------------------------------------------------------
    def time(self) -> float:
        """The player's current time: the clock (the shown frame's time when paused
        after a seek)."""
        return self.clock.time()

    @property
    def playing(self) -> bool:
        return self.clock.playing

    @property
    def speed(self) -> float:
        return self.clock.speed

    def _on_frame(self, frame: DecodedFrame) -> None:
        if frame.generation != self._generation:
            return  # the answer to a request since replaced
        if not self.clock.playing:
            self._buffer.clear()
            self._show(frame)
            return
        self._buffer.append(frame)
        self._show_due()

    def _show_due(self) -> None:
        now = self.clock.time()
        due = [f for f in self._buffer if f.time_s <= now + 1e-6]
        if due:
            self._buffer = [f for f in self._buffer if f.time_s > now + 1e-6]
            self._show(due[-1])  # the older ones are late: dropped
        if self._buffer and self.clock.playing:
            wait_s = (self._buffer[0].time_s - now) / self.clock.speed
            self._show_timer.start(max(0, math.ceil(wait_s * 1000)))

    def _show(self, frame: DecodedFrame) -> None:
        self.shown_index, self.shown_time, self.shown_exact = frame.index, frame.time_s, frame.exact
        self.shown_image = frame.image
        self.shown_array = frame.array
        self._shown_display = frame.display  # keeps the image's pixels alive
        if self.view is not None:
            h, w = frame.array.shape[:2]
            self.view.set_frame(frame.image, frame.index, QSize(w, h))
        self.frame_shown.emit(frame.index, frame.time_s, frame.exact)

    def set_display(self, display: Display) -> None:
        """Frames from now on are cropped and scaled as ``display`` says; the frame on
        screen is made again (from the reader's position: no seek)."""
        if display == self.display:
            return
        self.display = display
        if self._decoder is not None:
            self._decoder.display = display
            if self.ready and self.shown_index >= 0 and not self.clock.playing:
                self._generation += 1
                self._decoder.request_seek(self._generation, self.shown_index)

    # -- commands ----------------------------------------------------------------------
    def play(self) -> None:
        if not self.ready or self.clock.playing:
            return
        if self.shown_index == self.times.size - 1:
            self.seek_index(0)  # at the end: play again from the start
        self._generation += 1
        self._buffer.clear()
        self.clock.play()
        t = self.clock.time()
        i = index_at(self.times, t)
        # the frame on screen now is shown already (if it is i); decode from the next one
        start = i + 1 if self.shown_index == i and self.shown_exact else i
        self._decoder.set_playing(self._generation, True, start)
        self._tick.start()
        self.state_changed.emit(True)

    def pause(self) -> float:
        """Pause; the frame on screen at that moment stays. Returns the pause time."""
        if not self.clock.playing:
            return self.clock.time()
        t = self.clock.pause()
        self._generation += 1
        self._tick.stop()
        self._show_timer.stop()
        if self._decoder is not None:
            self._decoder.set_playing(self._generation, False, 0)
        i = index_at(self.times, t)
        frames = [f for f in self._buffer if f.index == i]
        self._buffer.clear()
        if frames:
            self._show(frames[0])
        elif self.shown_index != i:
            self._decoder.request_seek(self._generation, i)
        self.clock.set_time(float(self.times[i]))
        self.state_changed.emit(False)
        self.position_changed.emit(self.clock.time())
        self.paused.emit(t)
        return t

    def toggle(self) -> None:
        if self.clock.playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, speed: float) -> None:
        speed = float(min(max(speed, SPEEDS[0]), SPEEDS[-1]))
        self.clock.set_speed(speed)
        self.state_changed.emit(self.clock.playing)

    def seek_index(self, index: int) -> None:
        """Show frame ``index`` exactly (playback goes on from there if playing)."""
        if not self.ready:
            return
        index = int(min(max(index, 0), self.times.size - 1))
        self._generation += 1
        self._buffer.clear()
        self._show_timer.stop()
        self.clock.set_time(float(self.times[index]))
        self._decoder.request_seek(self._generation, index)
        if self.clock.playing:
            self._decoder.set_playing(self._generation, True, index + 1)
        self.position_changed.emit(self.clock.time())

    def seek_time(self, t_s: float) -> None:
        """Show the frame on screen at ``t_s``."""
        if self.ready:
            self.seek_index(index_at(self.times, t_s))

    def preview_time(self, t_s: float) -> None:
        """While scrubbing: show the key frame at or before ``t_s`` quickly (paused)."""
        if not self.ready:
            return
        if self.clock.playing:
            self.pause()
        self._generation += 1
        self.clock.set_time(float(self.times[index_at(self.times, t_s)]))
        self._decoder.request_preview(self._generation, t_s)
        self.position_changed.emit(self.clock.time())

    def step(self, frames: int) -> None:
        """Frame step (pauses first)."""
        if not self.ready:
            return
        if self.clock.playing:
            self.pause()
        base = self.shown_index if self.shown_index >= 0 else index_at(self.times,
                                                                         self.clock.time())
        self.seek_index(base + frames)

    def jump(self, seconds: float) -> None:
        if self.ready:
            self.seek_time(min(max(0.0, self.clock.time() + seconds), float(self.times[-1])))

    # -- while playing -----------------------------------------------------------------
    def _on_tick(self) -> None:
        t = self.clock.time()
        self.position_changed.emit(t)
        if t >= self.end_s - 1e-9:
            self.pause()
            self.ended.emit(self.end_s)
