"""Video reading with real per-frame timestamps.

One interface, two backends (as in SLEAP): :class:`VideoReader` decodes a file with
PyAV (FFmpeg), :class:`ArrayVideo` serves frames held in memory, so synthetic arrays
and real files go through the same tracking code.

Every frame comes with its presentation time in seconds from the stream's start
(the first frame, as a rule),
taken from the container's timestamps — never frame index × nominal frame rate — so
variable-frame-rate video (phones, some DVRs) is timed correctly. The container's
frame count is only a hint: files whose header count disagrees with what decodes
(or that have none) are read to their real end. Grey frames are the decoder's luma
(Y) plane, used without a colour conversion when the pixel format is planar YUV.
Frames are turned upright as the container's display matrix asks (a phone held
upright records its picture sideways and says so there), so arenas are left to
right as anyone watching the video sees them.

Besides reading in order (:meth:`VideoReader.frames`), a player or a scorer can
have any frame exactly — by index (:meth:`VideoReader.read`) or as shown at a time
(:meth:`VideoReader.frame_at`) — and every frame's time without decoding
(:meth:`VideoReader.frame_times`, from the packets: :mod:`behavior.io.video_index`).
A reader serves one thread (see :class:`VideoReader`).

A file that cannot be opened raises :class:`~behavior.errors.VideoError`; a file
that breaks off part-way (truncated or corrupt) yields what decoded, then logs a
warning and sets :attr:`VideoReader.truncated`.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from behavior.errors import VideoError
from behavior.io.video_index import FrameClock, PacketScan, scan_packets

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


def _rotation(frame: av.VideoFrame | None) -> tuple[int, tuple[str, ...]]:
    """The display matrix a decoded frame carries (the decoder copies the stream's
    onto every frame): its turn (degrees counter-clockwise, a multiple of 90; 0 if
    none) and the steps that show the picture upright (:func:`display_steps`)."""
    angle, matrix = 0.0, None
    if frame is not None:
        angle = float(getattr(frame, "rotation", 0) or 0)
        for side in getattr(frame, "side_data", ()):
            data = bytes(side)
            if getattr(side.type, "name", "") == "DISPLAYMATRIX" and len(data) >= 36:
                matrix = np.frombuffer(data[:36], dtype="<i4")
    if not math.isfinite(angle):
        angle = 0.0
    rotation = int(90 * round(angle / 90)) % 360
    return rotation, display_steps(matrix, angle)


def _first_frame(container: av.container.InputContainer) -> av.VideoFrame | None:
    """The first frame that decodes (None for a file that does not)."""
    try:
        return next(container.decode(container.streams.video[0]), None)
    except av.error.FFmpegError:
        return None  # a broken file: the reader reports it when it decodes


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


def _info(path: str | Path, container: av.container.InputContainer,
          first: av.VideoFrame | None) -> VideoInfo:
    """What the container says; the rotation from ``first``, the first decoded frame
    (PyAV does not expose the stream's display matrix without decoding)."""
    stream = container.streams.video[0]
    ctx = stream.codec_context
    fps = _nominal_fps(stream)
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = math.nan
    rotation, steps = _rotation(first)
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
    )


def probe(path: str | Path) -> VideoInfo:
    """Read a video's header: size, codec, nominal rate and duration (one frame is
    decoded, for the display matrix).

    Raises
    ------
    VideoError
        If the file is missing, empty, not a video, or has no video stream.
    """
    container = _open(path)
    try:
        return _info(path, container, _first_frame(container))
    finally:
        container.close()


def luma(frame: av.VideoFrame) -> np.ndarray:
    """Grey image of a decoded frame: the Y plane itself where the format has one."""
    if frame.format.name in _YUV_PLANAR:
        plane = frame.planes[0]
        buf = np.frombuffer(plane, dtype=np.uint8)
        return buf.reshape(plane.height, plane.line_size)[:, : plane.width]
    return frame.to_ndarray(format="gray")


class _TimesDisagree(Exception):
    """Decoding put out a frame whose time the packets did not promise."""


class _Skip:
    """Packets presenting before ``pts`` may skip frames nothing refers to (None: none)."""

    __slots__ = ("pts",)

    def __init__(self) -> None:
        self.pts: int | None = None


class _Cursor:
    """A decoding position: the frames still to come, and the last one taken."""

    __slots__ = ("frames", "index", "time_s", "frame", "sequential", "skip")

    def __init__(self, frames: Iterator[tuple[int, float, av.VideoFrame]], sequential: bool,
                 skip: _Skip | None = None):
        self.frames: Iterator[tuple[int, float, av.VideoFrame]] | None = frames
        # decoding from the file's start, which defines the frames (counted, so
        # none may be skipped); else frames found by their time
        self.sequential = sequential
        self.skip = skip
        self.index = -1
        self.time_s = -math.inf
        self.frame: av.VideoFrame | None = None

    def step(self) -> bool:
        """Take the next frame; False at the end."""
        if self.frames is None:
            return False
        try:
            self.index, self.time_s, self.frame = next(self.frames)
        except StopIteration:
            self.frames = None
            return False
        return True


#: a forward step of at most this many frames beyond the nearest key frame decodes
#: on from the current position instead of seeking
_FORWARD_SLACK = 4


class VideoReader:
    """Decode a video file with real timestamps: in order, or any frame by index or time.

    Parameters
    ----------
    path
        Any file FFmpeg opens: .mp4/.mov (H.264, HEVC, MPEG-4), .avi (MJPEG, XVID),
        .wmv/.asf, .mkv, ...
    threads
        Decoder threads (0 = FFmpeg's choice). Frame and slice threading are used.

    Notes
    -----
    **Frames and their times.** Frame ``i`` is the ``i``-th frame :meth:`frames`
    yields from the start: frames come in presentation order, each timed by its
    own timestamp from the stream's start, and a frame whose timestamp does not
    increase is left out. :meth:`frame_times` gives all their times (from the
    packets, without decoding, where they can be trusted — see
    :mod:`behavior.io.video_index` — else from one decoding pass), :meth:`read`
    frame ``i`` and :meth:`frame_at` the frame on screen at a time, exactly:
    same pixels, index and time as decoding from the start would give.

    **Seeking.** :meth:`read` decodes on from the last frame it returned when the
    target lies before the next key frame (a player's "next frame" or playback
    never seeks), else seeks to the key frame at or before the target and decodes
    up to it, converting only the target to pixels (frames before it that no
    other frame refers to are not even decoded). Frames decoded after a seek
    count only from the first key frame that comes out: the leading B-frames of an
    open GOP refer to the GOP before and would be damaged (FFmpeg's H.264 and
    HEVC decoders leave them out; others may not); when the target precedes that
    key frame, or does not come out, the reader seeks further back (at worst, it
    decodes from the start). Frames are found after a seek by their time, so
    their index is right even in variable-frame-rate files.

    **Threads.** A reader is not thread-safe (PyAV containers and decoders are
    not): use one reader per thread — a scoring GUI's player and a background
    job each open their own. Opening is cheap (the header and one decoded frame,
    for the display matrix, which this PyAV exposes only on frames; that frame is
    kept, so reading from the start does not decode it again). Within a thread,
    :meth:`read`, :meth:`frame_at` or :meth:`keyframes_near` move the decoder:
    a :meth:`frames` iteration that is interrupted by them raises
    ``RuntimeError`` when resumed.

    Examples
    --------
    >>> with VideoReader("videos/fst_2arenas_h264.mp4") as video:   # doctest: +SKIP
    ...     for frame in video.frames():
    ...         print(frame.index, frame.time_s, frame.image.shape)
    ...     times = video.frame_times()
    ...     middle = video.read(len(times) // 2)
    ...     shown = video.frame_at(12.5)
    """

    def __init__(self, path: str | Path, threads: int = 0):
        self.path = Path(path)
        self._threads = threads
        self.truncated = False
        self.decoded = 0
        self._times: np.ndarray | None = None
        self._times_from = ""  # "packets" or "decoding"
        self._scan: PacketScan | None = None
        self._key_times: np.ndarray | None = None
        self._epoch = 0  # bumped whenever the decoder is moved other than by frames()
        self._at = (-1, math.nan)  # last frame decoded (index, time): for messages
        self.info: VideoInfo | None = None
        self._open_stream()
        # The first frame gives the display matrix; kept as the decoding position,
        # so nothing is decoded twice and nothing seeks.
        cursor = _Cursor(self._sequential(), sequential=True)
        try:
            first = cursor.frame if cursor.step() else None
        except VideoError:
            first = None  # a broken file: reported when it is decoded
        self._cursor = cursor if first is not None else None
        self.info = _info(self.path, self._container, first)

    def _open_stream(self) -> None:
        self._container = _open(self.path)
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO" if self._threads != 1 else "SLICE"
        self._stream.thread_count = self._threads
        self._clock = FrameClock(self._stream, _nominal_fps(self._stream))

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._cursor = None
        self._container.close()

    # -- frame times -------------------------------------------------------------

    def frame_times(self) -> np.ndarray:
        """Every frame's time (s, from the stream's start), read-only: exactly the
        ``time_s`` of the frames :meth:`frames` yields, in order.

        Taken from the packets without decoding where they can be trusted, else by
        decoding the file once (the reason is logged at INFO); computed once.
        """
        if self._times is None:
            scan = self._packet_scan()
            if scan.times_s is not None:
                self._set_times(scan.times_s, "packets")
            else:
                log.info("%s: frame times need decoding (%s)", self.path, scan.reason)
                self._set_times(self._decoded_times(), "decoding")
        return self._times

    @property
    def frame_times_source(self) -> str:
        """Where :meth:`frame_times` came from: ``"packets"`` (no decoding),
        ``"decoding"`` (a pass, the packets could not be trusted), ``""`` (not yet)."""
        return self._times_from

    def _set_times(self, times: np.ndarray, source: str) -> None:
        times = np.array(times, dtype=np.float64)
        times.setflags(write=False)
        self._times, self._times_from = times, source

    def _packet_scan(self) -> PacketScan:
        if self._scan is None:
            try:
                self._scan = scan_packets(self.path, _nominal_fps(self._stream))
            except (av.error.FFmpegError, OSError) as exc:
                self._scan = PacketScan(None, f"cannot be read again ({exc})")
            keys = self._scan.key_times_s
            self._key_times = np.sort(keys[np.isfinite(keys)])
        return self._scan

    def _decoded_times(self) -> np.ndarray:
        """The times of one decoding pass from the start, in a decoder of its own."""
        with VideoReader(self.path, threads=self._threads) as other:
            times = np.fromiter((t for _, t, _ in other._walk()), dtype=np.float64)
            if other.truncated:
                self.truncated = True
        return times

    def _walk(self) -> Iterator[tuple[int, float, av.VideoFrame]]:
        """Every frame from the start (the opening frame first)."""
        cursor = self._cursor
        if cursor is None or not cursor.sequential or cursor.index != 0:
            self._rewind()
            cursor = _Cursor(self._sequential(), sequential=True)
            if not cursor.step():
                return
        self._cursor = cursor
        while True:
            yield cursor.index, cursor.time_s, cursor.frame
            if not cursor.step():
                return

    def _cheap_times(self) -> np.ndarray | None:
        """The frame times if known without decoding (None: they need a pass)."""
        if self._times is None:
            scan = self._packet_scan()
            if scan.times_s is not None:
                self._set_times(scan.times_s, "packets")
        return self._times

    # -- decoding ----------------------------------------------------------------

    def _output(self, skip: _Skip | None = None) -> Iterator[av.VideoFrame]:
        """Every frame the decoder puts out from the container's position.

        ``skip``: packets presenting before ``skip.pts`` are decoded only if other
        frames refer to them (FFmpeg's ``skip_frame`` "NONREF"), so they do not
        come out — for frames that are only decoded to reach another.
        """
        packets = self._container.demux(self._stream)
        ctx = self._stream.codec_context
        skipping = False
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError as exc:
                self._broke_off(exc)
                return
            if skip is not None:
                nonref = skip.pts is not None and packet.pts is not None and packet.pts < skip.pts
                if nonref != skipping:
                    ctx.skip_frame = "NONREF" if nonref else "DEFAULT"
                    skipping = nonref
            try:
                decoded = packet.decode()
            except av.error.FFmpegError as exc:
                # A damaged packet: skip it and keep going, as players do.
                log.warning("%s: undecodable packet near frame %d skipped (%s)",
                            self.path, self._at[0], exc)
                if self._times_from == "packets":
                    # the packets promised a frame here: their times are not to be trusted
                    self._times, self._times_from = None, ""
                    self._scan = PacketScan(None, "a packet does not decode",
                                            self._scan.key_times_s, self._scan.key_pts,
                                            self._scan.key_dts, self._scan.n_packets)
                continue
            yield from decoded

    def _sequential(self) -> Iterator[tuple[int, float, av.VideoFrame]]:
        """(index, time, frame) from the container's start: the definition of frames."""
        clock = self._clock
        index = 0
        last: float | None = None
        dropped = 0
        for frame in self._output():
            t = clock.time(frame, last)
            if last is not None and t <= last:
                dropped += 1
                continue
            last = t
            self.decoded += 1
            self._at = (index, t)
            yield index, t, frame
            index += 1
        if dropped:
            log.warning("%s: %d frames with non-increasing timestamps dropped", self.path, dropped)
        if self.decoded == 0:
            raise VideoError(self.path, "no frame could be decoded (corrupt or unsupported codec)")
        n = self.info.n_frames if self.info is not None else 0
        if n and abs(index - n) > 1:
            log.info("%s: container says %d frames, %d decoded", self.path, n, index)

    def _anchored(self, skip: _Skip | None = None) -> Iterator[tuple[float, av.VideoFrame]]:
        """(time, frame) after a seek, from the first key frame that comes out on,
        times increasing (frames without a timestamp cannot be placed: skipped)."""
        clock = self._clock
        anchored = False
        last = -math.inf
        for frame in self._output(skip):
            if not anchored:
                if not frame.key_frame:
                    continue  # e.g. an open GOP's leading B-frames: damaged
                anchored = True
            if frame.pts is None:
                continue
            t = clock.time(frame, None)
            if t <= last:
                continue
            last = t
            self.decoded += 1
            yield t, frame

    def _indexed(self, times: np.ndarray, skip: _Skip | None = None
                 ) -> Iterator[tuple[int, float, av.VideoFrame]]:
        """:meth:`_anchored` frames with their index among ``times``."""
        n = times.size
        for t, frame in self._anchored(skip):
            i = int(np.searchsorted(times, t))
            if i == n or times[i] != t:
                if self._times_from == "packets":
                    raise _TimesDisagree(t)
                continue  # a frame that decoding from the start leaves out
            self._at = (i, t)
            yield i, t, frame

    def _broke_off(self, exc: Exception) -> None:
        if self.decoded == 0:
            raise VideoError(self.path, f"cannot be decoded: {exc}") from None
        self.truncated = True
        log.warning("%s: decoding stopped after frame %d (%s); using the part that decoded",
                    self.path, self._at[0], exc)

    def _rewind(self) -> None:
        """Back to the first packet (a file that cannot seek is opened again)."""
        self._cursor = None
        self._stream.codec_context.skip_frame = "DEFAULT"
        try:
            self._container.seek(0, backward=True, any_frame=False, stream=self._stream)
        except av.error.FFmpegError:
            self._container.close()
            self._open_stream()

    def _seek_ts(self, ts: int) -> bool:
        self._cursor = None
        self._stream.codec_context.skip_frame = "DEFAULT"
        try:
            self._container.seek(int(ts), backward=True, any_frame=False, stream=self._stream)
        except av.error.FFmpegError:
            return False
        return True

    def _time_ts(self, time_s: float) -> int:
        tb = self._stream.time_base or Fraction(1, 1000)
        return int((max(0.0, time_s) + self._clock.origin) / tb)

    def _seek_points(self, time_s: float) -> Iterator[int]:
        """Timestamps to seek to for a frame at ``time_s``, nearest first: the key
        frame at or before it (by pts, then by dts: demuxers index either), then
        key frames further back, doubling the step."""
        scan = self._packet_scan()
        keys = scan.key_times_s
        # key frames (in decoding order) whose presentation time is not after time_s
        usable = np.flatnonzero(np.isfinite(keys) & (keys <= time_s + 1e-9))
        if usable.size:
            j, step, first = int(usable[-1]), 1, True
            while True:
                pts, dts = scan.key_pts[j], scan.key_dts[j]
                yield pts
                if first and dts is not None and dts != pts:
                    yield dts
                first = False
                if j == 0:
                    return
                j, step = max(0, j - step), step * 2
        elif not np.isfinite(keys).any():
            for back in (0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0):
                yield self._time_ts(time_s - back)
                if time_s - back <= 0:
                    return

    def _goto(self, i: int) -> _Cursor:
        """A cursor on frame ``i`` (frame times known)."""
        times = self._times
        cursor = self._cursor
        if cursor is not None and cursor.index == i and cursor.frame is not None:
            return cursor
        self._epoch += 1
        # frames before the target that nothing refers to need not be decoded
        # (only where the packets' pts are the frames': times from packets)
        target_pts = self._pts_of(float(times[i])) if self._times_from == "packets" else None
        if cursor is not None and cursor.frames is not None and i > cursor.index:
            key = self._nearest_key(i)
            # decoding on is cheaper than seeking to the key frame when the cursor
            # is past it (a sequential cursor decodes every frame: only a short way)
            ahead = cursor.index >= key - _FORWARD_SLACK and (
                cursor.skip is not None or i - cursor.index <= max(_FORWARD_SLACK,
                                                                  (i - key) // 2))
            if ahead:
                if cursor.skip is not None:
                    cursor.skip.pts = target_pts
                while cursor.step():
                    if cursor.index >= i:
                        break
                if cursor.index == i:
                    return cursor
        skip = _Skip()
        skip.pts = target_pts
        for ts in self._seek_points(float(times[i])):
            if not self._seek_ts(ts):
                continue
            cursor = _Cursor(self._indexed(times, skip), sequential=False, skip=skip)
            if not cursor.step() or cursor.index > i:
                continue  # the seek landed after the frame: further back
            while cursor.index < i and cursor.step():
                pass
            if cursor.index == i:
                self._cursor = cursor
                return cursor
        self._rewind()
        cursor = _Cursor(self._sequential(), sequential=True)
        while cursor.step():
            if cursor.index == i:
                self._cursor = cursor
                if cursor.time_s != times[i]:
                    raise _TimesDisagree(cursor.time_s)
                return cursor
        raise _TimesDisagree(float(times[i]))

    def _pts_of(self, time_s: float) -> int | None:
        """The packet pts of a frame time (None if frames are timed otherwise)."""
        tb, stream_tb = self._clock.tb, self._stream.time_base
        if tb is None or stream_tb is None or tb != float(stream_tb):
            return None
        return round((time_s + self._clock.origin) / tb)

    def _nearest_key(self, i: int) -> int:
        """Index of the last key frame at or before frame ``i`` (0 if unknown)."""
        keys = self._key_times
        if keys is None or keys.size == 0:
            return 0
        k = int(np.searchsorted(keys, self._times[i], side="right")) - 1
        if k < 0:
            return 0
        return int(np.searchsorted(self._times, keys[k]))

    def _image(self, frame: av.VideoFrame, gray: bool, copy: bool = False) -> np.ndarray:
        image = luma(frame) if gray else frame.to_ndarray(format="bgr24")
        steps = self.info.orientation
        if steps:
            return upright(image, steps)  # a new array
        if copy and gray:
            return image.copy()  # the luma plane is a view into the decoder's frame
        return image

    # -- public reading ----------------------------------------------------------

    def read(self, index: int, gray: bool = True) -> Frame:
        """Frame ``index`` (the ``index``-th frame :meth:`frames` yields), exactly.

        Raises
        ------
        IndexError
            If there is no such frame.
        """
        times = self.frame_times()
        if not 0 <= index < times.size:
            raise IndexError(f"{self.path}: no frame {index} (frames 0 to {times.size - 1})")
        try:
            cursor = self._goto(int(index))
        except _TimesDisagree as exc:
            if self._times_from != "packets":
                raise VideoError(self.path, f"frame {index} cannot be decoded again") from None
            self._repair(exc)
            return self.read(index, gray)
        return Frame(cursor.index, cursor.time_s, self._image(cursor.frame, gray, copy=True))

    def _repair(self, exc: _TimesDisagree) -> None:
        log.warning("%s: decoding gave a frame at %.6f s that the packets did not; "
                    "frame times taken from decoding instead", self.path, exc.args[0])
        self._scan = PacketScan(None, "decoding disagreed with the packets",
                                self._scan.key_times_s, self._scan.key_pts,
                                self._scan.key_dts, self._scan.n_packets)
        self._set_times(self._decoded_times(), "decoding")

    def frame_at(self, time_s: float, gray: bool = True) -> Frame:
        """The frame on screen at ``time_s``: the last frame with time ≤ ``time_s``
        (a time after the last frame gives the last frame).

        Raises
        ------
        VideoError
            If ``time_s`` is before the first frame.
        """
        times = self.frame_times()
        i = int(np.searchsorted(times, time_s + 1e-9, side="right")) - 1
        if i < 0:
            raise VideoError(self.path, f"no frame at {time_s:.3f} s (the first is at "
                             f"{times[0] if times.size else math.nan:.3f} s)")
        return self.read(i, gray)

    def frames(self, gray: bool = True, start_s: float | None = None) -> Iterator[Frame]:
        """Yield every decodable frame in order (from ``start_s`` if given).

        Timestamps come from the stream: frames whose timestamp does not increase
        (broken muxers) are dropped with a warning rather than mis-timed. From
        ``start_s`` the first frame is the first at or after it; frames carry their
        real index where the frame times are known without decoding, else -1 (a
        file whose packets cannot be trusted is not decoded twice for them).
        """
        if start_s is not None and start_s > 0:
            yield from self._frames_from(start_s, gray)
            return
        self._epoch += 1
        epoch = self._epoch
        for index, t, frame in self._walk():
            yield Frame(index, t, self._image(frame, gray))
            if self._epoch != epoch:
                raise RuntimeError(self._interrupted)

    _interrupted = ("VideoReader.frames() was interrupted: read(), frame_at() or "
                    "keyframes_near() moved the same reader; use one reader per task")

    def _frames_from(self, start_s: float, gray: bool) -> Iterator[Frame]:
        times = self._cheap_times()
        if times is not None:
            i = int(np.searchsorted(times, start_s - 1e-6, side="left"))
            if i >= times.size:
                return
            try:
                cursor = self._goto(i)
            except _TimesDisagree as exc:
                self._repair(exc)
                yield from self._frames_from(start_s, gray)
                return
            epoch = self._epoch
            while True:
                yield Frame(cursor.index, cursor.time_s, self._image(cursor.frame, gray))
                if self._epoch != epoch:
                    raise RuntimeError(self._interrupted)
                if not cursor.step():
                    return
        self._epoch += 1
        epoch = self._epoch
        for t, frame in self._anchored_from(start_s):
            yield Frame(-1, t, self._image(frame, gray))
            if self._epoch != epoch:
                raise RuntimeError(self._interrupted)

    def _anchored_from(self, start_s: float) -> Iterator[tuple[float, av.VideoFrame]]:
        """Frames at or after ``start_s`` without known frame times: seek to a key
        frame before it (further back if the first key frame out is after it)."""
        for ts in self._seek_points(start_s):
            if not self._seek_ts(ts):
                continue
            frames = self._anchored()
            first = next(frames, None)
            if first is None:
                return  # nothing from there on (a file cut off before start_s)
            if first[0] > start_s + 1e-6:
                continue  # landed after start_s: frames before the key frame are missed
            yield from ((t, f) for t, f in itertools.chain([first], frames)
                        if t >= start_s - 1e-6)
            return
        self._rewind()
        yield from ((t, f) for _, t, f in self._sequential() if t >= start_s - 1e-6)

    def keyframes_near(self, times_s: list[float], gray: bool = True) -> list[Frame]:
        """The key frame at or before each time (one seek per time, no scanning).

        A cheap way to sample a whole video, e.g. for a background model. Times
        that land on the same key frame give it once. Frames carry their index
        if :meth:`frame_times` was computed, else -1. Returns what could be read
        (possibly nothing, for files that cannot seek).
        """
        self._epoch += 1
        out: list[Frame] = []
        seen: set[float] = set()
        for t in times_s:
            if not self._seek_ts(self._time_ts(t)):
                continue
            try:
                found = self._first_key()
            except VideoError:
                continue
            if found is None or round(found[0], 4) in seen:
                continue
            time_s, frame = found
            seen.add(round(time_s, 4))
            index = -1
            if self._times is not None:
                i = int(np.searchsorted(self._times, time_s))
                index = i if i < self._times.size and self._times[i] == time_s else -1
            out.append(Frame(index, time_s, self._image(frame, gray, copy=True)))
        return out

    def _first_key(self, limit: int = 64) -> tuple[float, av.VideoFrame] | None:
        """The first key frame out after a seek (else the first frame, after
        ``limit`` frames without one)."""
        first = None
        for n, frame in enumerate(self._output()):
            t = self._clock.time(frame, None)
            if frame.key_frame:
                return t, frame
            if first is None:
                first = (t, frame)
            if n >= limit:
                break
        return first


def _nominal_fps(stream: av.video.stream.VideoStream) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else math.nan


class ArrayVideo:
    """Frames held in memory, with the interface of a file's reader (:meth:`frames`,
    :meth:`read`, :meth:`frame_at`, :meth:`frame_times`, :meth:`keyframes_near`).

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

    def frame_times(self) -> np.ndarray:
        """Every frame's time (s)."""
        return self.time_s

    def read(self, index: int, gray: bool = True) -> Frame:
        """Frame ``index`` (IndexError if there is none)."""
        if not 0 <= index < self.time_s.size:
            raise IndexError(f"{self.path}: no frame {index} (frames 0 to {self.time_s.size - 1})")
        img = self.images[index]
        return Frame(int(index), float(self.time_s[index]), self._grey(img) if gray else img)

    def frame_at(self, time_s: float, gray: bool = True) -> Frame:
        """The frame on screen at ``time_s`` (the last with time ≤ ``time_s``)."""
        i = int(np.searchsorted(self.time_s, time_s + 1e-9, side="right")) - 1
        if i < 0:
            raise VideoError(self.path, f"no frame at {time_s:.3f} s")
        return self.read(i, gray)

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
