"""Frame times and key frames of a video from its packets, without decoding.

A container's packets carry each frame's presentation timestamp (pts), so reading
them alone (demuxing: no pixel is decoded) gives every frame's time in a fraction of
a decoding pass — as long as the packets can be trusted to be the frames a decoder
puts out. :func:`scan_packets` reads them and says whether they can, using the same
clock and the same rule as :meth:`behavior.io.video.VideoReader.frames` (time =
``pts × time_base − stream start``; a frame whose time does not increase is left out).

Packets are not trusted, and the caller decodes instead, when:

* a packet has no pts (raw streams; AVI and other containers that store only the
  decoding order), or is flagged corrupt or to be discarded (edit lists that start
  inside a GOP), or is empty before the end (a dropped-frame placeholder);
* the stream reorders frames (B-frames) but the pts run in decoding order — a
  container without presentation times whose demuxer copied the decoding order,
  e.g. H.264 with B-frames in AVI — or the same pts comes twice;
* the file breaks off (the demuxer stops with an error);
* decoding the first :data:`CHECKED_PACKETS` packets does not give exactly the
  times their pts promise (packed B-frames of old DivX/XviD AVIs, decoders that
  leave out the leading frames of an open GOP at the start, time bases that differ).

What remains assumed: that a packet in the middle of the file which demuxes cleanly
decodes to one frame. A packet that fails to decode is seen when it is decoded
(the reader then rebuilds the times by decoding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

#: packets decoded at the start of the file to check their pts against the frames
CHECKED_PACKETS = 24


class FrameClock:
    """A frame's time (s) from its pts, as every path of the reader computes it.

    The time base is taken as a float once (exact rational arithmetic per frame
    costs more than the rest of the reader); frames without a pts are put one
    nominal interval after the previous frame.
    """

    def __init__(self, stream: av.video.stream.VideoStream, fps: float):
        tb = stream.time_base
        self.tb: float | None = float(tb) if tb else None
        self._stream_tb = tb
        self._checked = False
        st = stream.start_time
        self.origin = float(st * tb) if st is not None and tb else 0.0
        self.fps = fps if fps and math.isfinite(fps) else 30.0

    def time(self, frame: av.VideoFrame, last: float | None) -> float:
        pts = frame.pts
        if not self._checked:
            self._checked = True
            if frame.time_base is not None and frame.time_base != self._stream_tb:
                self.tb = float(frame.time_base)
        if pts is not None and self.tb is not None:
            return pts * self.tb - self.origin
        if pts is not None and frame.time_base is not None:
            return float(pts * frame.time_base) - self.origin
        if frame.time is not None:
            return float(frame.time) - self.origin
        return (last + 1.0 / self.fps) if last is not None else 0.0

    def times(self, pts: np.ndarray) -> np.ndarray:
        """Times of many pts at once (the same float operations as :meth:`time`)."""
        return pts.astype(np.float64) * self.tb - self.origin


@dataclass(frozen=True)
class PacketScan:
    """What the packets of a video's first stream say.

    ``times_s`` is None when the packets cannot be trusted (``reason`` says why);
    the key frames are known either way (as far as the packets mark them).
    """

    times_s: np.ndarray | None
    reason: str
    #: presentation time of each key-frame packet, in decoding order (NaN: no pts)
    key_times_s: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: each key-frame packet's pts and dts (stream time base; None when absent)
    key_pts: tuple[int | None, ...] = ()
    key_dts: tuple[int | None, ...] = ()
    n_packets: int = 0


def _expected(pts: np.ndarray, reorders: bool) -> np.ndarray:
    """The pts of the frames a decoder puts out, in order, after the reader's rule
    (a frame whose time does not increase is left out)."""
    if reorders:
        return np.sort(pts)
    keep = pts > np.maximum.accumulate(np.r_[np.iinfo(np.int64).min, pts[:-1]])
    return pts[keep]


def _decoded_times(container: av.container.InputContainer, packets: list[av.Packet],
                   clock: FrameClock) -> list[float]:
    """Times of the frames the first packets decode to (the decoder drained)."""
    stream = container.streams.video[0]
    out: list[float] = []
    last: float | None = None

    def take(frames: list[av.VideoFrame]) -> None:
        nonlocal last
        for frame in frames:
            t = clock.time(frame, last)
            if last is None or t > last:
                out.append(t)
                last = t

    for packet in packets:
        take(packet.decode())
    take(stream.decode(None))
    return out


def scan_packets(path: str | Path, fps: float = math.nan) -> PacketScan:
    """Frame times of ``path`` from its packets, or why they cannot be trusted.

    Opens the file itself (so a reader's decoding position is left alone). ``fps``
    is the nominal rate (only for frames without timestamps).
    """
    with av.open(str(path), mode="r", timeout=30.0) as container:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"
        clock = FrameClock(stream, fps)
        pts: list[int | None] = []
        dts: list[int | None] = []
        keys: list[int] = []
        problems: list[str] = []
        first: list[av.Packet] = []
        n = 0
        try:
            for packet in container.demux(stream):
                if packet.size == 0 and packet.pts is None and packet.dts is None:
                    continue  # the flush packet at the end
                if packet.size == 0:
                    problems.append("an empty packet (a dropped-frame placeholder)")
                if packet.is_corrupt:
                    problems.append("packets flagged corrupt")
                if packet.is_discard:
                    problems.append("packets to be decoded but not shown (an edit list)")
                if packet.is_keyframe:
                    keys.append(n)
                pts.append(packet.pts)
                dts.append(packet.dts)
                if n < CHECKED_PACKETS:
                    first.append(packet)
                n += 1
        except av.error.FFmpegError as exc:
            problems.append(f"the file breaks off after {n} packets ({exc})")
        key_pts = tuple(pts[k] for k in keys)
        key_dts = tuple(dts[k] for k in keys)
        key_times = np.array([np.nan if p is None else p * clock.tb - clock.origin
                              for p in key_pts], dtype=np.float64) if clock.tb else \
            np.full(len(keys), np.nan)
        scan = dict(key_times_s=key_times, key_pts=key_pts, key_dts=key_dts, n_packets=n)
        if n == 0:
            return PacketScan(None, "no packets", **scan)
        if clock.tb is None:
            problems.append("the stream has no time base")
        if any(p is None for p in pts):
            problems.append("packets without a presentation time")
        if problems:
            return PacketScan(None, "; ".join(dict.fromkeys(problems)), **scan)
        values = np.array(pts, dtype=np.int64)
        reorders = bool(getattr(stream.codec_context, "reorder_depth", 0)
                        or stream.codec_context.has_b_frames)
        if reorders:
            if n > 1 and np.all(np.diff(values) > 0):
                return PacketScan(None, "the stream has B-frames but its pts follow the "
                                  "decoding order (a container without presentation "
                                  "times)", **scan)
            if np.unique(values).size != n:
                return PacketScan(None, "the same pts comes twice", **scan)
        try:
            decoded = _decoded_times(container, first, clock)
        except av.error.FFmpegError as exc:
            return PacketScan(None, f"the first packets do not decode ({exc})", **scan)
        promised = clock.times(_expected(values[:len(first)], reorders))
        if len(decoded) != promised.size or not np.array_equal(decoded, promised):
            return PacketScan(None, f"decoding the first {len(first)} packets gives "
                              "other frame times than their pts", **scan)
        times = clock.times(_expected(values, reorders))
        return PacketScan(times, "", **scan)
