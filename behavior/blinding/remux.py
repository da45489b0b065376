"""Copy a video's compressed packets into a new file without its metadata.

The coded copy must not tell the observer anything the code hides: the container's
title, comment, creation time, encoder-set file name and stream handler names are
dropped. Only the first video stream is kept — audio, subtitle and data streams can
carry a spoken or written condition. Packets are copied as they are (no re-encoding),
so the coded file decodes to exactly the same frames at the same timestamps.

Nothing is encoded here, so :class:`behavior.io.video_writer.VideoWriter` is not
used; what is shared with it is the writing: atomically (a temporary name in the
same folder, renamed when complete, removed on failure) and bit-exact (FFmpeg
writes no encoder tag and no dates of its own).
"""

from __future__ import annotations

import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import av

from behavior.errors import VideoError
from behavior.io.video_writer import MUXERS, atomic_output, output_format

#: Container metadata keys that may hold a condition, a name or a date (for reports).
STRIPPED_KEYS = ("title", "comment", "description", "creation_time", "date", "filename",
                 "encoder", "handler_name", "artist", "album", "copyright", "location")


@dataclass(frozen=True)
class RemuxResult:
    """How a coded copy was made: ``remuxed`` False means copied byte for byte."""

    path: Path
    remuxed: bool
    packets: int
    reason: str = ""
    duration_s: float = math.nan  # from the packets' timestamps (remuxed files only)


def remux_without_metadata(src: str | Path, dst: str | Path) -> RemuxResult:
    """Write ``dst`` with the video packets of ``src`` and no metadata.

    The output container format follows ``dst``'s suffix (use the source's). Where
    the container cannot be rewritten (unknown muxer, a codec the muxer refuses,
    packets without timestamps), the file is copied byte for byte instead and
    ``RemuxResult.reason`` says why — the caller must report it, since a copy keeps
    the original metadata.

    Notes
    -----
    FFmpeg muxers write a few tags of their own (``handler_name: VideoHandler``,
    ``major_brand``); these name the software, not the animal. The ``encoder``
    tag and header dates are left out (bit-exact muxing).
    """
    src, dst = Path(src), Path(dst)
    try:
        packets, duration = _remux(src, dst)
    except (av.error.FFmpegError, ValueError, TypeError, OSError) as exc:
        dst.unlink(missing_ok=True)
        try:
            shutil.copyfile(src, dst)
        except OSError as copy_exc:
            raise VideoError(src, f"cannot copy the video: {copy_exc}") from None
        kept = sorted(metadata(dst))
        note = f"; its metadata keys {', '.join(kept)} were kept" if kept else ""
        return RemuxResult(dst, False, 0, f"cannot remux ({exc}); copied unchanged{note}")
    return RemuxResult(dst, True, packets, duration_s=duration)


def metadata(path: str | Path) -> dict[str, str]:
    """Container and stream metadata of a media file (``stream<i>:key`` for streams)."""
    try:
        with av.open(str(path), mode="r") as c:
            out = {str(k): str(v) for k, v in c.metadata.items()}
            for i, stream in enumerate(c.streams):
                out.update({f"stream{i}:{k}": str(v) for k, v in stream.metadata.items()})
    except (av.error.FFmpegError, OSError):
        return {}
    return out


def find_leaks(path: str | Path, words: list[str], min_bytes_len: int = 8) -> list[str]:
    """Which of ``words`` (names, subjects, groups) a coded file still reveals.

    Words are looked for case-insensitively in the file's metadata: as a substring
    when at least 4 characters long, otherwise as a whole token (so a group "A" is
    not found inside "isom"); numbers alone are not looked for (doses, ages would
    match any date). Words of at least ``min_bytes_len`` characters (original file
    names) are also looked for in the raw bytes — shorter ones would match
    compressed data by chance.
    """
    meta = " ".join(f"{k}={v}" for k, v in metadata(path).items()).lower()
    tokens = set(re.split(r"[^0-9a-z]+", meta))
    data = Path(path).read_bytes().lower()
    found = []
    for word in {w.strip() for w in words if w and w.strip()}:
        w = word.lower()
        if re.fullmatch(r"[0-9.+-]+", w):
            continue
        in_meta = w in meta if len(w) >= 4 else w in tokens
        if in_meta or (len(w) >= min_bytes_len and w.encode() in data):
            found.append(word)
    return sorted(found)


def _remux(src: Path, dst: Path) -> tuple[int, float]:
    fmt = output_format(dst, MUXERS)
    with av.open(str(src), mode="r") as inp, atomic_output(dst, overwrite=True) as tmp:
        if not inp.streams.video:
            raise VideoError(src, "no video stream")
        in_stream = inp.streams.video[0]
        n = 0
        first, last = math.inf, -math.inf
        with av.open(str(tmp), mode="w", format=fmt, options={"fflags": "+bitexact"}) as out:
            out_stream = out.add_stream_from_template(in_stream)
            for key in list(out_stream.metadata):
                del out_stream.metadata[key]
            for key in list(out.metadata):
                del out.metadata[key]
            for packet in inp.demux(in_stream):
                if packet.dts is None:  # the flush packet
                    continue
                if packet.pts is not None and packet.time_base is not None:
                    first = min(first, float(packet.pts * packet.time_base))
                    end = (packet.pts + (packet.duration or 0)) * packet.time_base
                    last = max(last, float(end))
                packet.stream = out_stream
                out.mux(packet)
                n += 1
        if n == 0:
            raise ValueError("no video packets")
    return n, (last - first if last > first else math.nan)
