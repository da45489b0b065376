"""Writing video files: one encoder for every video the project makes.

:class:`VideoWriter` encodes grey or BGR ``uint8`` frames with their own timestamps
(H.264, HEVC, MJPEG, MPEG-4 Part 2, FFV1) and writes the file atomically: frames go
to a temporary name in the destination's folder, renamed to the real name only when
:meth:`VideoWriter.close` succeeds, so a crash, a full disk or an exception inside
``with`` leaves nothing behind (and never a half-written file under the real name).
:func:`atomic_output` is the same guarantee for other writers (the blinding remux).

Timestamps are written exactly, to the container's tick: each frame's ``time_s`` is
rounded once to an integer number of ticks (``pts``) of :attr:`VideoWriter.time_base`
and :attr:`VideoWriter.times_s` holds ``pts × tick``, the times a reader gets back
(relative to the first frame). The tick is 1/90000 s (MP4, MOV), except where the
format has its own: Matroska stores milliseconds, AVI one frame per ``1/fps`` (it
cannot store variable frame rates), and MPEG-4 Part 2 allows at most 65535 ticks a
second (1/30000 s: exact for 24, 25, 29.97, 30, 50 and 60 fps).

Nothing about the recording is written unless asked (``metadata``): no title, no
creation time (an MP4's header dates stay zero), no encoder tag (FFmpeg's bit-exact
mode), so a coded copy made for blinded scoring tells the observer nothing.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
from collections.abc import Iterator, Mapping
from fractions import Fraction
from pathlib import Path

import numpy as np

from behavior.errors import VideoError

#: codec name -> (FFmpeg encoder, pixel format for BGR input, for grey input)
CODECS: dict[str, tuple[str, str, str]] = {
    "h264": ("libx264", "yuv420p", "yuv420p"),
    "hevc": ("libx265", "yuv420p", "yuv420p"),
    "mjpeg": ("mjpeg", "yuvj420p", "yuvj420p"),
    "mpeg4": ("mpeg4", "yuv420p", "yuv420p"),
    "ffv1": ("ffv1", "bgr0", "gray"),
}

#: file suffix -> FFmpeg muxer, for the files :class:`VideoWriter` encodes
CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi"}

#: ... and for copying packets into another file of the same kind (a remux)
MUXERS = {**CONTAINERS, ".m4v": "mp4", ".3gp": "3gp", ".wmv": "asf", ".asf": "asf",
          ".webm": "webm", ".mpg": "mpeg", ".mpeg": "mpeg", ".ts": "mpegts",
          ".mts": "mpegts", ".m2ts": "mpegts", ".flv": "flv"}

#: the finest tick MP4/MOV store exactly (the MPEG clock)
TIME_BASE = Fraction(1, 90000)


def output_format(path: str | Path, formats: dict[str, str] = CONTAINERS) -> str:
    """FFmpeg muxer for a file name's suffix (of ``formats``: by default those
    :class:`VideoWriter` encodes, ``.mp4``, ``.mov``, ``.mkv``, ``.avi``; see
    :data:`MUXERS` for remuxing)."""
    suffix = Path(path).suffix.lower()
    if suffix not in formats:
        raise ValueError(f"{path}: container {suffix!r} not supported; use one of "
                         f"{', '.join(formats)}")
    return formats[suffix]


def _temporary_name(path: Path) -> Path:
    # hidden, in the same folder (a rename never crosses file systems), and not a
    # video suffix, so a folder scan never picks up a half-written file
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")


def _claim(path: Path, overwrite: bool) -> Path:
    """Check ``path`` can be made; the temporary name to write instead."""
    if not overwrite and path.exists():
        raise VideoError(path, "already exists; it is never overwritten")
    if not path.parent.is_dir():
        raise VideoError(path, f"folder {path.parent} does not exist")
    return _temporary_name(path)


def _commit(tmp: Path, path: Path, overwrite: bool) -> None:
    """Give the finished temporary file its real name (or remove it and raise)."""
    try:
        if not overwrite and path.exists():
            raise VideoError(path, "appeared while it was being written; it is never "
                             "overwritten")
        os.replace(tmp, path)
    except OSError as exc:
        raise VideoError(path, f"cannot be written ({exc.strerror or exc})") from None
    finally:
        _discard(tmp)


def _discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_output(path: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """A temporary path next to ``path``, renamed to ``path`` if the block succeeds.

    On any exception the temporary file is removed and the exception propagates;
    ``path`` itself is untouched. Without ``overwrite``, an existing ``path`` is an
    error (before and after writing).

    Raises
    ------
    VideoError
        If ``path`` exists (and ``overwrite`` is False) or cannot be written.
    """
    path = Path(path)
    tmp = _claim(path, overwrite)
    try:
        yield tmp
    except BaseException:
        _discard(tmp)
        raise
    _commit(tmp, path, overwrite)


class VideoWriter:
    """Encode frames with their own timestamps into a video file, atomically.

    Parameters
    ----------
    path
        Output file; the container follows the suffix (``.mp4``, ``.mov``, ``.mkv``,
        ``.avi``). Written under a temporary name in the same folder and renamed
        on a successful :meth:`close`.
    codec
        ``"h264"`` (libx264), ``"hevc"`` (libx265), ``"mjpeg"``, ``"mpeg4"``
        (MPEG-4 Part 2) or ``"ffv1"`` (lossless; grey frames stay grey).
    fps
        Nominal frame rate: the times of frames written without ``time_s``
        (``n / fps``), the rate the container reports, and AVI's tick.
    crf
        H.264/HEVC quality (lower is better; default 23 for H.264, 28 for HEVC,
        the encoders' own).
    preset
        x264/x265 speed preset. Note ``"ultrafast"`` turns B-frames off.
    quality
        MJPEG/MPEG-4 fixed quantiser (1 best … 31; default 4).
    keyframe_interval
        Longest run of frames between two key frames (the GOP); default the
        encoder's (x264/x265: 250 frames, FFV1/MPEG-4: 12).
    bframes
        Most B-frames in a row (H.264, HEVC, MPEG-4); default the encoder's.
    open_gop
        H.264/HEVC open GOPs (key frames that are not IDR, whose leading B-frames
        refer to the previous GOP; x265 does this by default). Default: the
        encoder's (x264: closed, x265: open).
    full_range
        Grey input only: store the grey levels as the luma plane itself, flagged
        full range (a reader's grey frames give them back up to compression);
        False converts them to limited-range video levels (16–235), as
        ``VideoFrame.from_ndarray(..., format="gray")`` does.
    rotation, hflip, vflip
        A display matrix, as a phone writes it: show the picture turned
        ``rotation`` degrees counter-clockwise, then mirrored (MP4/MOV only).
    metadata
        Container tags to write (e.g. ``{"title": ...}``); default none. Blinded
        copies must pass nothing.
    overwrite
        Replace an existing file (default: an existing file is an error).

    Examples
    --------
    >>> with VideoWriter("out.mp4", fps=25, keyframe_interval=50) as out:  # doctest: +SKIP
    ...     for t, image in zip(times_s, images):
    ...         out.write(image, t)
    """

    def __init__(
        self,
        path: str | Path,
        *,
        codec: str = "h264",
        fps: float = 30.0,
        crf: int | None = None,
        preset: str = "veryfast",
        quality: int | None = None,
        keyframe_interval: int | None = None,
        bframes: int | None = None,
        open_gop: bool | None = None,
        full_range: bool = True,
        rotation: int = 0,
        hflip: bool = False,
        vflip: bool = False,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = False,
    ):
        self.path = Path(path)
        if codec not in CODECS:
            raise ValueError(f"codec {codec!r} not supported; use one of {', '.join(CODECS)}")
        if not (fps > 0 and math.isfinite(fps)):
            raise ValueError(f"fps must be a positive number, not {fps!r}")
        self.codec = codec
        self.format = output_format(self.path)
        self.rate = Fraction(fps).limit_denominator(1001)
        self.time_base = self._tick()
        self._crf, self._preset, self._quality = crf, preset, quality
        self._gop, self._bframes, self._open_gop = keyframe_interval, bframes, open_gop
        self._full_range = full_range
        self._display = (rotation, hflip, vflip) if (rotation % 360 or hflip or vflip) else None
        self._metadata = dict(metadata or {})
        self._pts: list[int] = []
        self._container = None
        self._stream = None
        self._gray: bool | None = None
        self._shape: tuple[int, ...] | None = None
        self._closed = False
        self._overwrite = overwrite
        self._tmp = _claim(self.path, overwrite)

    def _tick(self) -> Fraction:
        if self.format == "avi":
            return 1 / self.rate
        if self.format == "matroska":
            return Fraction(1, 1000)
        if self.codec == "mpeg4":
            return Fraction(1, 30000)
        return TIME_BASE

    # -- public ------------------------------------------------------------------

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    @property
    def n_frames(self) -> int:
        """Frames written so far."""
        return len(self._pts)

    @property
    def pts(self) -> np.ndarray:
        """Each frame's timestamp in ticks of :attr:`time_base`, as written."""
        return np.asarray(self._pts, dtype=np.int64)

    @property
    def times_s(self) -> np.ndarray:
        """Each frame's time as stored, from the first frame (s): what a reader gets
        back (:meth:`behavior.io.video.VideoReader.frame_times`)."""
        pts = self.pts
        return (pts - pts[0]) * float(self.time_base) if pts.size else pts.astype(float)

    def write(self, image: np.ndarray, time_s: float | None = None) -> None:
        """Add one frame: ``(h, w)`` grey or ``(h, w, 3)`` BGR ``uint8``.

        ``time_s`` is the frame's presentation time (default ``n / fps``); times
        must increase by at least one tick of :attr:`time_base` from frame to frame.
        """
        import av

        if self._closed:
            raise ValueError(f"{self.path}: the writer is closed")
        image = np.asarray(image)
        n = len(self._pts)
        if time_s is None:
            time_s = float(n / self.rate)
        pts = self._to_pts(float(time_s), n)
        try:
            if self._container is None:
                self._start(image)
            if image.shape != self._shape or image.dtype != np.uint8:
                raise ValueError(f"{self.path}: frame {n} is {image.dtype} {image.shape}; "
                                 f"every frame must be uint8 {self._shape}")
            frame = self._frame(image)
            frame.pts, frame.time_base = pts, self.time_base
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except av.error.FFmpegError as exc:
            self.abort()
            raise VideoError(self.path, f"cannot encode frame {n} ({exc})") from None
        except OSError as exc:
            self.abort()
            raise VideoError(self.path, f"cannot be written ({exc.strerror or exc})") from None
        self._pts.append(pts)

    def close(self) -> None:
        """Flush the encoder, finish the file and give it its real name."""
        import av

        if self._closed:
            return
        if not self._pts:
            self.abort()
            raise VideoError(self.path, "no frame was written; no file made")
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
        except av.error.FFmpegError as exc:
            self.abort()
            raise VideoError(self.path, f"cannot finish the file ({exc})") from None
        except OSError as exc:
            self.abort()
            raise VideoError(self.path, f"cannot be written ({exc.strerror or exc})") from None
        self._closed = True
        _commit(self._tmp, self.path, self._overwrite)

    def abort(self) -> None:
        """Stop and remove the temporary file; nothing is left behind."""
        if self._closed:
            return
        self._closed = True
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
        _discard(self._tmp)

    # -- internals ---------------------------------------------------------------

    def _to_pts(self, time_s: float, n: int) -> int:
        if not math.isfinite(time_s):
            raise ValueError(f"{self.path}: frame {n} has time {time_s}")
        ticks = Fraction(time_s) / self.time_base
        pts = round(ticks)
        if self.format == "avi" and abs(ticks - pts) > Fraction(1, 1000):
            raise ValueError(f"{self.path}: frame {n} at {time_s!r} s is not on AVI's "
                             f"1/{float(self.rate):g} s grid; AVI cannot store per-frame "
                             "times (use .mp4, .mov or .mkv)")
        if self._pts and pts <= self._pts[-1]:
            raise ValueError(f"{self.path}: frame {n} at {time_s!r} s is not after the "
                             f"previous frame ({float(self._pts[-1] * self.time_base)!r} s) "
                             f"at this file's tick of {self.time_base} s")
        return pts

    def _start(self, image: np.ndarray) -> None:
        import av

        if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3
                                                               and image.shape[2] == 3)):
            raise ValueError(f"{self.path}: frames must be (h, w) grey or (h, w, 3) BGR uint8, "
                             f"not {image.dtype} {image.shape}")
        height, width = image.shape[:2]
        self._gray = image.ndim == 2
        self._shape = image.shape
        encoder, pix_bgr, pix_gray = CODECS[self.codec]
        pix_fmt = pix_gray if self._gray else pix_bgr
        if pix_fmt.startswith("yuv") and (width % 2 or height % 2):
            raise ValueError(f"{self.path}: {self.codec} needs an even width and height, "
                             f"not {width}x{height}")
        # bit-exact: no encoder tag, no dates; the same frames give the same bytes
        try:
            self._container = av.open(str(self._tmp), mode="w", format=self.format,
                                       options={"fflags": "+bitexact"})
        except (av.error.FFmpegError, OSError) as exc:
            raise VideoError(self.path, f"cannot be written ({exc})") from None
        for key, value in self._metadata.items():
            self._container.metadata[key] = str(value)
        stream = self._container.add_stream(encoder, rate=self.rate)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.time_base = self.time_base
        stream.codec_context.time_base = self.time_base
        if self._gray and self._full_range and pix_fmt.startswith("yuv"):
            stream.codec_context.color_range = 2  # JPEG (full) range
        if self._gop is not None:
            stream.codec_context.gop_size = int(self._gop)
        if self._bframes is not None:
            stream.codec_context.max_b_frames = int(self._bframes)
        stream.options = self._options()
        if self._display is not None:
            rotation, hflip, vflip = self._display
            stream.set_display_rotation(rotation, hflip=hflip, vflip=vflip)
        self._stream = stream

    def _options(self) -> dict[str, str]:
        if self.codec == "h264":
            opts = {"preset": self._preset, "crf": str(23 if self._crf is None else self._crf)}
            params = []
            if self._open_gop is not None:
                params.append(f"open-gop={int(self._open_gop)}")
            if params:
                opts["x264-params"] = ":".join(params)
            return opts
        if self.codec == "hevc":
            params = ["log-level=error"]
            if self._open_gop is not None:
                params.append(f"open-gop={int(self._open_gop)}")
            if self._gop is not None:
                params.append(f"keyint={int(self._gop)}")
            if self._bframes is not None:
                params.append(f"bframes={int(self._bframes)}")
            return {"preset": self._preset, "crf": str(28 if self._crf is None else self._crf),
                    "x265-params": ":".join(params)}
        if self.codec in ("mjpeg", "mpeg4"):
            q = str(4 if self._quality is None else int(self._quality))
            # a fixed quantiser (FFmpeg's -q:v is per-frame quality, which PyAV cannot set)
            return {"qmin": q, "qmax": q}
        return {}

    def _frame(self, image: np.ndarray):
        import av

        if not self._gray:
            return av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        pix_fmt = self._stream.pix_fmt
        if pix_fmt == "gray":
            return av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="gray")
        if not self._full_range:
            return av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="gray")
        # the grey levels as the luma plane, neutral chroma: no level conversion
        h, w = image.shape
        planar = np.empty((h * 3 // 2, w), np.uint8)
        planar[:h] = image
        planar[h:] = 128
        frame = av.VideoFrame.from_ndarray(planar, format=pix_fmt)
        frame.color_range = 2
        return frame
