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
        or ``"ffv1"`` (lossless, grey; ``.mkv`` or ``.avi``).
    quality
        H.264 CRF (default 23, x264's own) or MJPEG/MPEG-4 qscale (default 4); lower is better.
    keyframe_s
        Longest time between two key frames (s); default the encoder's (x264: 250
        frames), as most cameras write few key frames.

    Returns
    -------
    GroundTruth
        With ``time_s`` exactly as written (``pts * time_base``).
    """
    import av  # local: the generator itself does not need PyAV

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CONTAINERS:
        raise ValueError(f"{path}: container {suffix!r} not supported; use one of {CONTAINERS}")
    if codec not in CODECS:
        raise ValueError(f"codec {codec!r} not supported; use one of {tuple(CODECS)}")
    if spec.vfr and suffix == ".avi":
        raise ValueError(f"{path}: AVI cannot store per-frame timestamps; use .mp4/.mov/.mkv")
    scene = _Scene(spec)
    rate = Fraction(spec.fps).limit_denominator(1001)
    if spec.vfr:
        # Matroska stores milliseconds; MPEG-4 part 2 allows time bases up to 1/65535
        ms_only = suffix == ".mkv" or codec == "mpeg4"
        time_base = Fraction(1, 1000) if ms_only else Fraction(1, 90000)
    else:
        time_base = 1 / rate
    tb_num, tb_den = time_base.numerator, time_base.denominator
    pts = np.round(scene.t * tb_den / tb_num).astype(np.int64)
    encoder, pix_fmt = CODECS[codec]
    container = av.open(str(path), mode="w")
    try:
        stream = container.add_stream(encoder, rate=rate)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, pix_fmt
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        if keyframe_s is not None:
            stream.codec_context.gop_size = max(1, int(round(keyframe_s * spec.fps)))
        if codec == "ffv1":
            pass
        elif codec == "h264":
            crf = 23 if quality is None else quality
            stream.options = {"preset": "ultrafast", "crf": str(crf)}
        else:
            q = 4 if quality is None else quality
            # a fixed quantiser (ffmpeg's -q:v needs per-frame quality, which PyAV cannot set)
            stream.options = {"qmin": str(q), "qmax": str(q)}
        for i, image in enumerate(_prefetch(scene.frame, scene.t.size)):
            frame = av.VideoFrame.from_ndarray(image, format="gray")
            frame.pts = int(pts[i])
            frame.time_base = time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    finally:
        container.close()
    truth = scene.truth
    truth.time_s = pts * tb_num / tb_den
    truth.end_s = round(truth.end_s * tb_den / tb_num) * tb_num / tb_den
    return truth
