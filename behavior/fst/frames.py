"""Grey frames for tracking: from a start time, on a clock of one's choosing, and
decoded ahead in a background thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator

from behavior.io.video import ArrayVideo, Frame, VideoReader


def prefetch(frames: Iterable[Frame], depth: int = 8) -> Iterator[Frame]:
    """Iterate ``frames`` in a background thread (decoding overlaps the consumer)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        # frames travel in small batches: one queue hand-over per batch, not per frame
        batch: list[Frame] = []
        try:
            for item in frames:
                batch.append(item)
                if len(batch) == 8:
                    if stop.is_set():
                        return
                    q.put(batch)
                    batch = []
        except BaseException as exc:  # re-raised in the consumer
            if batch:
                q.put(batch)
            q.put(exc)
            return
        if batch:
            q.put(batch)
        q.put(done)

    worker = threading.Thread(target=produce, name="decoder", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)


def frames_from(video: VideoReader | ArrayVideo, start_s: float,
                origin_s: float | None = None) -> Iterator[Frame]:
    """Grey frames from ``start_s`` on, timed from ``origin_s`` (default ``start_s``)."""
    frames = video.frames(gray=True, start_s=start_s if start_s > 0 else None)
    origin = start_s if origin_s is None else origin_s
    if origin == 0:
        return frames
    return (Frame(f.index, f.time_s - origin, f.image) for f in frames)
