"""Synthetic forced swim videos written to files in real codecs and containers.
See docs/synthetic_fst.md."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from fractions import Fraction
from os import PathLike
from pathlib import Path

import numpy as np

from behavior.testing.fst_scene import _Scene
from behavior.testing.fst_spec import CODECS, CONTAINERS, GroundTruth, SyntheticSpec


def _prefetch(make: Callable[[int], np.ndarray], n: int, depth: int = 6) -> Iterator[np.ndarray]:
    """``make(0) ... make(n - 1)`` computed in a background thread, ``depth`` ahead.

    Rendering (numpy/cv2, which release the GIL) then overlaps with encoding.
    """
    box: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for i in range(n):
                item: tuple[str, object] = ("frame", make(i))
                while not stop.is_set():
                    try:
                        box.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(("end", None))
        except BaseException as exc:  # handed to the consumer, re-raised there
            box.put(("error", exc))

    worker = threading.Thread(target=work, name="synthetic-fst-render", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = box.get()
            if kind == "end":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


def write_video(
    spec: SyntheticSpec,
    path: str | PathLike[str],
    codec: str = "h264",
    quality: int | None = None,
    keyframe_s: float | None = None,
    preset: str = "ultrafast",
) -> GroundTruth:
    """Render ``spec`` and encode it to ``path``; the container comes from the suffix.

    Parameters
    ----------
    spec
        What to render.
    path
        Output file: ``.mp4``, ``.mov``, ``.mkv`` or ``.avi``.
    codec
        ``"h264"`` (libx264, preset ultrafast), ``"mjpeg"``, ``"mpeg4"`` (MPEG-4 part 2)
        or ``"ffv1"`` (lossless, grey; ``.mkv`` or ``.avi``). Encoded by the project's
        :class:`~behavior.io.video_writer.VideoWriter`, atomically.
    quality
        H.264 CRF (default 23, x264's own) or MJPEG/MPEG-4 qscale (default 4); lower is better.
    keyframe_s
        Longest time between two key frames (s); default the encoder's (x264: 250
        frames), as most cameras write few key frames.
    preset
        x264's speed preset: ``"ultrafast"`` (the default: quick to write and to
        decode, no B-frames, no CABAC, no deblocking) or e.g. ``"medium"`` (as
        cameras and recorders write: CABAC, deblocking, B-frames).

    Returns
    -------
    GroundTruth
        With ``time_s`` exactly as written (``pts * time_base``, the writer's tick:
        1/90000 s in MP4/MOV, 1/1000 s in Matroska, 1/30000 s for MPEG-4 part 2,
        ``1/fps`` in AVI).
    """
    from behavior.io.video_writer import VideoWriter

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CONTAINERS:
        raise ValueError(f"{path}: container {suffix!r} not supported; use one of {CONTAINERS}")
    if codec not in CODECS:
        raise ValueError(f"codec {codec!r} not supported; use one of {tuple(CODECS)}")
    if spec.vfr and suffix == ".avi":
        raise ValueError(f"{path}: AVI cannot store per-frame timestamps; use .mp4/.mov/.mkv")
    scene = _Scene(spec)
    options: dict[str, object] = {}
    if codec == "h264":
        options["crf"] = quality
    elif codec in ("mjpeg", "mpeg4"):
        options["quality"] = quality
    if keyframe_s is not None:
        options["keyframe_interval"] = max(1, int(round(keyframe_s * spec.fps)))
    # the project's one encoder (grey levels converted to video levels, as cameras do)
    with VideoWriter(path, codec=codec, fps=spec.fps, preset=preset, full_range=False,
                     overwrite=True, **options) as out:
        for i, image in enumerate(_prefetch(scene.frame, scene.t.size)):
            out.write(image, float(scene.t[i]))
    tick = out.time_base
    truth = scene.truth
    truth.time_s = out.pts * tick.numerator / tick.denominator  # 351 / 15 s is 23.4
    truth.end_s = float(round(Fraction(truth.end_s) / tick) * tick)
    return truth
