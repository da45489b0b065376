"""One video per arena: crop each cylinder of a multi-arena recording into its own file.

Blinded manual scoring (:mod:`behavior.blinding`) codes one animal per video, and an
observer scores one animal at a time; a recording with several cylinders side by
side is therefore split first, then each per-arena file is coded like any video.
The arenas are the same as the auto-scorer's (``--arenas N``, ``--arena-rects``,
the sidecar file, or found from the animals), numbered left to right from 1, and
the files are named ``<stem>_arena<N>.mp4`` — the names that ``behavior
agreement`` uses for the auto-scorer's traces of the same animals.

Cropping needs re-encoding (H.264, CRF 18 by default: visually lossless for
scoring). Each frame keeps its own timestamp, so variable-frame-rate recordings
stay correctly timed; frames before ``start_s`` (e.g. a title card) are left out,
so 0 s in an arena's video is the start of the test (its first frame at or after
``start_s``, within one frame interval of it). ``start_s`` may be one time per
arena, when the animals were put in one after the other.

Examples
--------
>>> split_video("fst_2arenas.mp4", "split/")           # doctest: +SKIP
[PosixPath('split/fst_2arenas_arena1.mp4'), PosixPath('split/fst_2arenas_arena2.mp4')]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from behavior.errors import InputError
from behavior.fst.arenas import Arena
from behavior.fst.setup import prepare
from behavior.io.atomic import prepare_folder
from behavior.io.video import VideoReader
from behavior.io.video_writer import VideoWriter
from behavior.notices import Notice
from behavior.protocols import FstProtocol, load_fst_protocol


def split_name(video: str | Path, arena: int, stem: str | None = None) -> str:
    """File name of one arena's video: ``<stem>_arena<N>.mp4`` (``stem``: the
    video's unless given)."""
    return f"{stem or Path(video).stem}_arena{arena}.mp4"


def even_crop(arena: Arena, width: int, height: int) -> Arena:
    """The arena shrunk to even width and height inside the frame (H.264 4:2:0 needs it)."""
    x, y = max(0, arena.x), max(0, arena.y)
    w = min(arena.w, width - x) // 2 * 2
    h = min(arena.h, height - y) // 2 * 2
    if w < 2 or h < 2:
        raise InputError(f"arena {arena.number}", f"rectangle {arena.as_text()} is outside the "
                         f"{width}x{height} frame")
    return Arena(arena.number, x, y, w, h)


def split_video(
    video: str | Path,
    out_dir: str | Path,
    *,
    rects: Sequence[tuple[int, int, int, int]] | None = None,
    n_arenas: int | None = None,
    start_s: float | Sequence[float] | None = None,
    crf: int = 18,
    duration_s: float | None = None,
    on_frame: Callable[[float], None] | None = None,
    name: str | None = None,
    protocol: FstProtocol | None = None,
    warnings: list[Notice] | None = None,
) -> list[Path]:
    """Write one H.264 ``.mp4`` per arena of ``video`` into ``out_dir``.

    Parameters
    ----------
    video
        The recording.
    out_dir
        Folder for the per-arena files (created; existing files are never overwritten).
    rects
        Arena rectangles ``(x, y, w, h)``; else the sidecar's; else found from the
        animals (``n_arenas`` of them if given).
    start_s
        Where the test starts (frames before it are left out), or one time per arena
        from left to right; else the sidecar's, else 0. Each arena's video starts
        at its own test start.
    crf
        H.264 quality (lower is better; 18 is visually lossless).
    duration_s
        Length of the test: each arena's video ends this long after its start
        (default: at the end of the recording). The sidecar's ``end_s`` (a test
        that ended early, see :class:`behavior.fst.arenas.Sidecar`) ends it sooner.
    on_frame
        Called with each frame's time (for progress bars).
    protocol
        For finding the arenas as scoring would (default mouse FST).
    warnings
        If given, gets the notices of finding the arenas (a title card, two
        animals in one arena...), as scoring would give them.

    Returns
    -------
    list of Path
        The files written, arena 1 first.
    """
    video, out_dir = Path(video), Path(out_dir)
    protocol = protocol or load_fst_protocol("mouse_fst")
    with VideoReader(video, threads=0) as reader:
        width, height = reader.info.width, reader.info.height
        # the arenas, starts and ends exactly as scoring finds them (sidecar included)
        setup = prepare(reader, protocol, arenas=rects, n_arenas=n_arenas, start_s=start_s)
        if warnings is not None:
            warnings.extend(n.at(str(video)) for n in setup.all_notices())
        arenas = [even_crop(a.arena, width, height) for a in setup.arenas]
        start = setup.first_start_s
        starts = [a.start_s for a in setup.arenas]
        start_of = {a.number: a.start_s for a in setup.arenas}
        # where each arena's video ends, on the video's clock: after ``duration_s``,
        # or where the test ended early (the sidecar's end_s), else the recording's end
        length = duration_s if duration_s is not None else math.inf
        stop_of = {a.number: min(a.start_s + length, a.end_s) for a in setup.arenas}
        outputs = [out_dir / split_name(video, a.number, name) for a in arenas]
        existing = [p for p in outputs if p.exists()]
        if existing:
            raise InputError(existing[0], "already exists; an arena's video is never overwritten")
        prepare_folder(out_dir)
        fps = float(reader.info.fps) if reader.info.fps and reader.info.fps > 0 else 30.0
        writers: list[VideoWriter] = []
        try:
            for path in outputs:
                writers.append(VideoWriter(path, codec="h264", fps=fps, crf=int(crf),
                                           preset="veryfast"))
            counts = [0] * len(arenas)
            written = 0
            end = max(stop_of.values())
            for frame in reader.frames(gray=False, start_s=start if start > 0 else None):
                if frame.time_s >= end - 1e-9:
                    break  # every arena's test is over
                for i, (arena, writer) in enumerate(zip(arenas, writers, strict=True)):
                    t = frame.time_s - start_of[arena.number]
                    if t < -1e-9 or frame.time_s >= stop_of[arena.number] - 1e-9:
                        continue  # before or after this arena's test
                    crop = np.ascontiguousarray(frame.image[arena.y:arena.y + arena.h,
                                                            arena.x:arena.x + arena.w])
                    writer.write(crop, max(t, 0.0))
                    counts[i] += 1
                written += 1
                if on_frame is not None:
                    on_frame(frame.time_s - start)
            if written == 0 or min(counts) == 0:
                late = max(starts) if written else start
                raise InputError(video, f"no frame at or after {late:g} s")
            for writer in writers:
                writer.close()  # each file appears only now, complete
        except BaseException:
            for writer in writers:  # never leave half-written arena videos behind
                writer.abort()
            raise
    return outputs
