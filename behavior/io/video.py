"""Video reading with real per-frame timestamps.

One interface, two backends (as in SLEAP): :class:`VideoReader` decodes a file with
PyAV (FFmpeg), :class:`ArrayVideo` serves frames held in memory, so synthetic arrays
and real files go through the same tracking code.

Every frame comes with its presentation time in seconds from the first frame,
taken from the container's timestamps — never frame index × nominal frame rate — so
variable-frame-rate video (phones, some DVRs) is timed correctly. The container's
frame count is only a hint: files whose header count disagrees with what decodes
(or that have none) are read to their real end. Grey frames are the decoder's luma
(Y) plane, used without a colour conversion when the pixel format is planar YUV.
Frames are turned upright as the container's display matrix asks (a phone held
upright records its picture sideways and says so there), so arenas are left to
right as anyone watching the video sees them.

A file that cannot be opened raises :class:`~behavior.errors.VideoError`; a file
that breaks off part-way (truncated or corrupt) yields what decoded, then logs a
warning and sets :attr:`VideoReader.truncated`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from behavior.errors import VideoError

log = logging.getLogger(__name__)

#: Pixel formats whose first plane is the luma (Y) plane at full resolution.
_YUV_PLANAR = {
    "yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv410p",
    "yuv411p", "yuvj411p", "yuv440p", "yuvj440p", "nv12", "nv21", "gray", "yuva420p",
}


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video (hints, not guarantees).

    ``n_frames`` is the container's count (0 when unknown; may disagree with the
    decodable frames); ``fps`` is the average rate the container reports.
    """

    path: str
    duration_s: float
    fps: float
    n_frames: int
    width: int
    height: int
    codec: str
    container: str
    #: counter-clockwise turn (0, 90, 180 or 270) of the container's display matrix,
    #: as FFmpeg reports it, e.g. for a phone held upright
    rotation: int = 0
    #: the steps that show the picture as the display matrix asks (FFmpeg's
    #: autorotate: ``clock``, ``cclock``, ``clock_flip``, ``cclock_flip`` turns,
    #: ``hflip``, ``vflip``), mirror images (a front camera) included; frames are
    #: read already turned, and ``width``/``height`` are those of the shown picture
    orientation: tuple[str, ...] = ()


@dataclass(frozen=True)
class Frame:
    """One decoded frame: index in decode order, time from the first frame (s), pixels."""

    index: int
    time_s: float
    image: np.ndarray


def _open(path: str | Path) -> av.container.InputContainer:
    path = Path(path)
    if path.is_dir():
        raise VideoError(path, "is a folder, not a video file")
    if not path.is_file():
        raise VideoError(path, "file not found")
    if path.stat().st_size == 0:
        raise VideoError(path, "file is empty")
    try:
        container = av.open(str(path), mode="r", timeout=30.0)
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        if _unfinished_mp4(path):
            raise VideoError(path, "is an MP4/MOV file without its index (no 'moov' box): "
                             "the recording was cut off before the camera finished the "
                             "file. Repair tools (e.g. untrunc, with a good file from the "
                             "same camera) can rebuild it") from None
        raise VideoError(path, f"not a readable video ({exc})") from None
    if not container.streams.video:
        container.close()
        raise VideoError(path, "has no video stream")
    return container


def _rotation(container: av.container.InputContainer) -> tuple[int, tuple[str, ...], bool]:
    """The display matrix of the first frame that decodes: its turn (degrees
    counter-clockwise, a multiple of 90; 0 if none), the steps that show the picture
    upright (:func:`display_steps`), and whether the container could be rewound to
    its start afterwards."""
    stream = container.streams.video[0]
    angle, matrix = 0.0, None
    try:
        for frame in container.decode(stream):
            angle = float(getattr(frame, "rotation", 0) or 0)
            for side in getattr(frame, "side_data", ()):
                data = bytes(side)
                if getattr(side.type, "name", "") == "DISPLAYMATRIX" and len(data) >= 36:
                    matrix = np.frombuffer(data[:36], dtype="<i4")
            break
    except av.error.FFmpegError:
        pass  # a broken file: the reader reports it when it decodes
    try:
        container.seek(0, backward=True, any_frame=False, stream=stream)
        rewound = True
    except av.error.FFmpegError:
        rewound = False
    if not math.isfinite(angle):
        angle = 0.0
    rotation = int(90 * round(angle / 90)) % 360
    return rotation, display_steps(matrix, angle), rewound


#: Steps that turn the picture a quarter (its width and height swap).
_QUARTER_TURNS = frozenset({"clock", "cclock", "clock_flip", "cclock_flip"})


def display_steps(matrix: np.ndarray | None, angle: float) -> tuple[str, ...]:
    """How to show a decoded picture as its display matrix asks, as FFmpeg's
    autorotate does: ``angle`` is the matrix's rotation (``VideoFrame.rotation``),
    ``matrix`` its nine numbers (for the flips; None: a plain turn). Angles are
    taken to the nearest quarter turn."""
    theta = (-90 * round(angle / 90)) % 360  # clockwise
    m = matrix
    if theta == 90:
        return ("cclock_flip",) if m is not None and m[3] > 0 else ("clock",)
    if theta == 180:
        if m is None:
            return ("hflip", "vflip")
        return tuple(step for step, mirrored in (("hflip", m[0] < 0), ("vflip", m[4] < 0))
                     if mirrored)
    if theta == 270:
        return ("clock_flip",) if m is not None and m[3] < 0 else ("cclock",)
    return ("vflip",) if m is not None and m[4] < 0 else ()


def upright(image: np.ndarray, steps: tuple[str, ...]) -> np.ndarray:
    """``image`` shown as :func:`display_steps` says (FFmpeg's transpose and flip
    filters: ``clock`` turns a quarter clockwise, ``cclock_flip`` transposes, ...)."""
    import cv2  # (8x faster than numpy for the turns)

    if steps == ("hflip", "vflip"):
        return cv2.rotate(image, cv2.ROTATE_180)
    for step in steps:
        if step == "clock":
            image = cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
        elif step == "cclock":
            image = cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
        elif step == "cclock_flip":  # a quarter counter-clockwise, then upside down
            image = cv2.flip(cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE), 0)
        elif step == "clock_flip":  # a quarter clockwise, then upside down
            image = cv2.flip(cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE), 0)
        elif step == "hflip":
            image = cv2.flip(image, 1)
        elif step == "vflip":
            image = cv2.flip(image, 0)
        else:
            raise ValueError(f"unknown display step {step!r}")
    return image


def _unfinished_mp4(path: Path) -> bool:
    """An ISO media file (MP4/MOV) that starts well but has no 'moov' box anywhere."""
    with open(path, "rb") as f:
        head = f.read(12)
        if head[4:8] not in (b"ftyp", b"mdat", b"wide", b"free"):
            return False
        f.seek(0)
        tail = b""
        while chunk := f.read(1 << 20):
            if b"moov" in tail + chunk:
                return False
            tail = chunk[-3:]
    return True


def _info(path: str | Path, container: av.container.InputContainer) -> tuple[VideoInfo, bool]:
    """What the container says, and whether it is back at its start (reading the
    rotation decodes a frame)."""
    stream = container.streams.video[0]
    ctx = stream.codec_context
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else math.nan
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = math.nan
    rotation, steps, rewound = _rotation(container)
    width, height = int(ctx.width), int(ctx.height)
    if _QUARTER_TURNS & set(steps):
        width, height = height, width
    return VideoInfo(
        path=str(path),
        duration_s=duration,
        fps=fps,
        n_frames=int(stream.frames or 0),
        width=width,
        height=height,
        codec=ctx.name,
        container=container.format.name,
        rotation=rotation,
        orientation=steps,
    ), rewound


def probe(path: str | Path) -> VideoInfo:
    """Read a video's header: size, codec, nominal rate and duration (no decoding).

    Raises
    ------
    VideoError
        If the file is missing, empty, not a video, or has no video stream.
    """
    container = _open(path)
    try:
        return _info(path, container)[0]
    finally:
        container.close()


def luma(frame: av.VideoFrame) -> np.ndarray:
    """Grey image of a decoded frame: the Y plane itself where the format has one."""
    if frame.format.name in _YUV_PLANAR:
        plane = frame.planes[0]
        buf = np.frombuffer(plane, dtype=np.uint8)
        return buf.reshape(plane.height, plane.line_size)[:, : plane.width]
    return frame.to_ndarray(format="gray")


class VideoReader:
    """Decode a video file frame by frame with real timestamps.

    Parameters
    ----------
    path
        Any file FFmpeg opens: .mp4/.mov (H.264, HEVC, MPEG-4), .avi (MJPEG, XVID),
        .wmv/.asf, .mkv, ...
    threads
        Decoder threads (0 = FFmpeg's choice). Frame and slice threading are used.

    Examples
    --------
    >>> with VideoReader("videos/fst_2arenas_h264.mp4") as video:   # doctest: +SKIP
    ...     for frame in video.frames():
    ...         print(frame.index, frame.time_s, frame.image.shape)
    """

    def __init__(self, path: str | Path, threads: int = 0):
        self.path = Path(path)
        self._threads = threads
        self._open_stream()
        self.info, rewound = _info(self.path, self._container)  # decodes one frame
        if not rewound:  # a file that cannot seek: start again from the top
            self._container.close()
            self._open_stream()
        self._origin: float | None = None
        self.truncated = False
        self.decoded = 0
        self._moved = False
        tb = self._stream.time_base
        self._tb: float | None = float(tb) if tb else None
        self._tb_checked = False

    def _open_stream(self) -> None:
        self._container = _open(self.path)
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO" if self._threads != 1 else "SLICE"
        self._stream.thread_count = self._threads

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    @property
    def _start_time(self) -> float:
        if self._origin is None:
            st = self._stream.start_time
            self._origin = float(st * self._stream.time_base) if st is not None else 0.0
        return self._origin

    def _time_of(self, frame: av.VideoFrame, index: int, last: float | None) -> float:
        pts = frame.pts
        if self._tb_checked is False:
            self._tb_checked = True
            if frame.time_base is not None and frame.time_base != self._stream.time_base:
                self._tb = float(frame.time_base)
        if pts is not None and self._tb is not None:
            # exact rational time base as a float once: Fraction arithmetic per frame
            # costs more than the rest of the reader
            t = pts * self._tb - self._start_time
        elif pts is not None and frame.time_base is not None:
            t = float(pts * frame.time_base) - self._start_time
        elif frame.time is not None:
            t = float(frame.time) - self._start_time
        else:
            fps = self.info.fps if self.info.fps and math.isfinite(self.info.fps) else 30.0
            t = (last + 1.0 / fps) if last is not None else 0.0
        return t

    def frames(self, gray: bool = True, start_s: float | None = None) -> Iterator[Frame]:
        """Yield every decodable frame in order (from ``start_s`` if given).

        Timestamps come from the stream: frames whose timestamp does not increase
        (broken muxers) are dropped with a warning rather than mis-timed.
        """
        if start_s is not None and start_s > 0:
            yield from self._frames_from(start_s, gray)
            return
        if self._moved:
            self._container.seek(0, backward=True, any_frame=False, stream=self._stream)
        self._moved = True
        yield from self._decode(gray, index0=0, min_time=None)

    def _seek(self, time_s: float) -> None:
        tb = self._stream.time_base or Fraction(1, 1000)
        target = int((max(0.0, time_s) + self._start_time) / tb)
        self._container.seek(target, backward=True, any_frame=False, stream=self._stream)
        self._moved = True

    def _frames_from(self, start_s: float, gray: bool) -> Iterator[Frame]:
        self._seek(start_s)
        # Frame indices after a seek are unknown without decoding from the start: -1.
        yield from self._decode(gray, index0=None, min_time=start_s - 1e-6)

    def _decode(self, gray: bool, index0: int | None, min_time: float | None) -> Iterator[Frame]:
        index = 0 if index0 is None else index0
        last_t: float | None = None
        dropped = 0
        steps = self.info.orientation
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                self._broke_off(exc, index)
                break
            try:
                decoded = packet.decode()
            except av.error.FFmpegError as exc:
                # A damaged packet: skip it and keep going, as players do.
                log.warning("%s: undecodable packet near frame %d skipped (%s)",
                            self.path, index, exc)
                continue
            for frame in decoded:
                t = self._time_of(frame, index, last_t)
                if last_t is not None and t <= last_t:
                    dropped += 1
                    continue
                last_t = t
                self.decoded += 1
                if min_time is not None and t < min_time:
                    continue
                image = luma(frame) if gray else frame.to_ndarray(format="bgr24")
                if steps:
                    image = upright(image, steps)
                yield Frame(index if index0 is not None else -1, t, image)
                index += 1
        if dropped:
            log.warning("%s: %d frames with non-increasing timestamps dropped", self.path, dropped)
        if self.decoded == 0:
            raise VideoError(self.path, "no frame could be decoded (corrupt or unsupported codec)")
        n = self.info.n_frames
        if n and index0 == 0 and abs(index - n) > 1:
            log.info("%s: container says %d frames, %d decoded", self.path, n, index)

    def _broke_off(self, exc: Exception, index: int) -> None:
        if self.decoded == 0:
            raise VideoError(self.path, f"cannot be decoded: {exc}") from None
        self.truncated = True
        log.warning("%s: decoding stopped after frame %d (%s); using the part that decoded",
                    self.path, index - 1, exc)

    def frame_at(self, time_s: float, gray: bool = True) -> Frame:
        """The frame shown at ``time_s`` (the last frame with timestamp ≤ time_s)."""
        self._seek(time_s)
        previous: Frame | None = None
        for frame in self._decode(gray, index0=None, min_time=None):
            if frame.time_s > time_s + 1e-9:
                break
            previous = Frame(frame.index, frame.time_s, frame.image.copy())
        if previous is None:
            raise VideoError(self.path, f"no frame at {time_s:.3f} s")
        return previous


    def keyframes_near(self, times_s: list[float], gray: bool = True) -> list[Frame]:
        """The key frame at or before each time (one decode per time, no scanning).

        A cheap way to sample a whole video, e.g. for a background model. Times
        that land on the same key frame give it once. Returns what could be read
        (possibly nothing, for files that cannot seek).
        """
        out: list[Frame] = []
        seen: set[float] = set()
        for t in times_s:
            try:
                self._seek(t)
                frame = next(self._decode(gray, index0=None, min_time=None), None)
            except (av.error.FFmpegError, VideoError, StopIteration):
                continue
            if frame is not None and round(frame.time_s, 4) not in seen:
                seen.add(round(frame.time_s, 4))
                out.append(Frame(frame.index, frame.time_s, frame.image.copy()))
        return out


class ArrayVideo:
    """Frames held in memory, with the same :meth:`frames` interface as a file.

    Parameters
    ----------
    images
        ``(n, h, w)`` grey or ``(n, h, w, 3)`` BGR uint8 frames.
    time_s
        Per-frame times (s); default ``index / fps``.
    """

    def __init__(self, images: np.ndarray, time_s: np.ndarray | None = None, fps: float = 30.0,
                 name: str = "<array>"):
        self.images = np.asarray(images)
        n = self.images.shape[0]
        self.time_s = np.arange(n) / fps if time_s is None else np.asarray(time_s, float)
        if self.time_s.shape != (n,):
            raise ValueError(f"time_s has {self.time_s.size} values for {n} frames")
        h, w = self.images.shape[1:3]
        dur = float(self.time_s[-1] + (np.median(np.diff(self.time_s)) if n > 1 else 1 / fps))
        self.path = Path(name)
        self.info = VideoInfo(name, dur, fps, n, w, h, "raw", "memory")
        self.truncated = False

    def __enter__(self) -> ArrayVideo:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def close(self) -> None:
        pass

    def frames(self, gray: bool = True, start_s: float | None = None) -> Iterator[Frame]:
        for i, (t, img) in enumerate(zip(self.time_s, self.images, strict=True)):
            if start_s is not None and t < start_s - 1e-9:
                continue
            yield Frame(i, float(t), self._grey(img) if gray else img)

    @staticmethod
    def _grey(img: np.ndarray) -> np.ndarray:
        import cv2

        return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img

    def keyframes_near(self, times_s: list[float], gray: bool = True) -> list[Frame]:
        """Frames at or before each time (every in-memory frame is a key frame)."""
        idx = np.unique(np.clip(np.searchsorted(self.time_s, times_s, side="right") - 1, 0, None))
        return [Frame(int(i), float(self.time_s[i]),
                      self._grey(self.images[i]) if gray else self.images[i]) for i in idx]


def open_video(path: str | Path, threads: int = 0) -> VideoReader:
    """Open a video file for reading (see :class:`VideoReader`)."""
    return VideoReader(path, threads=threads)
