"""Copy a video's compressed packets into a new file without its metadata.

The coded copy must not tell the observer anything the code hides: the container's
title, comment, creation time, encoder-set file name and stream handler names are
dropped. Only the first video stream is kept — audio, subtitle and data streams can
carry a spoken or written condition. Packets are copied as they are (no re-encoding),
so the coded file decodes to exactly the same frames at the same timestamps.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import av

from behavior.errors import VideoError

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


def remux_without_metadata(src: str | Path, dst: str | Path) -> RemuxResult:
    """Write ``dst`` with the video packets of ``src`` and no metadata.

    The output container format follows ``dst``'s suffix (use the source's). Where
    the container cannot be rewritten (unknown muxer, a codec the muxer refuses,
    packets without timestamps), the file is copied byte for byte instead and
    ``RemuxResult.reason`` says why — the caller must report it, since a copy keeps
    the original metadata.

    Notes
    -----
    FFmpeg muxers write a few tags of their own (``encoder: Lavf…``, ``handler_name:
    VideoHandler``, ``major_brand``); these name the software, not the animal.
    """
    src, dst = Path(src), Path(dst)
    try:
        packets = _remux(src, dst)
    except (av.error.FFmpegError, ValueError, TypeError, OSError) as exc:
        dst.unlink(missing_ok=True)
        try:
            shutil.copyfile(src, dst)
        except OSError as copy_exc:
            raise VideoError(src, f"cannot copy the video: {copy_exc}") from None
        return RemuxResult(dst, False, 0, f"remux failed ({exc}); copied unchanged")
    return RemuxResult(dst, True, packets)


def _remux(src: Path, dst: Path) -> int:
    with av.open(str(src), mode="r") as inp:
        if not inp.streams.video:
            raise VideoError(src, "no video stream")
        in_stream = inp.streams.video[0]
        n = 0
        with av.open(str(dst), mode="w") as out:
            out_stream = out.add_stream_from_template(in_stream)
            for key in list(out_stream.metadata):
                del out_stream.metadata[key]
            for key in list(out.metadata):
                del out.metadata[key]
            for packet in inp.demux(in_stream):
                if packet.dts is None:  # the flush packet
                    continue
                packet.stream = out_stream
                out.mux(packet)
                n += 1
        if n == 0:
            raise ValueError("no video packets")
    return n
