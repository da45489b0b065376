"""A picture of where the arenas are, to check before scoring a batch.

``behavior fst preview VIDEO... --out DIR`` writes ``<stem>_arenas.png`` per video:
on the left a frame from the test (its middle, or 60 s in), on the right the
background the animal is compared with (median of frames sampled over the whole
video); on both, each arena's rectangle and number, and on the frame the outline
of what differs from the background like the animal does — the animal, if the
arenas and the polarity are right. The background is the one scoring uses (an
animal resting in one place taken out of it). Arenas are found exactly as ``fst score`` finds
them (``--arenas``, ``--arena-rects``, the sidecar file, or from the animals).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from behavior.errors import InputError
from behavior.fst.arenas import (
    Arena,
    clip_to_frame,
    earliest_start,
    number_arenas,
    read_sidecar,
)
from behavior.fst.tracking import (
    TWIN_FRACTION,
    arena_background,
    locate_arenas,
    measure_shake,
    sample_video,
    without_odd_samples,
)
from behavior.io.video import VideoReader
from behavior.protocols import FstProtocol, load_fst_protocol

#: Colours (BGR) of the arena rectangles and of the animal outlines.
BOX_BGR = (0, 0, 255)
ANIMAL_BGR = (0, 200, 0)


def preview_name(video: str | Path, stem: str | None = None) -> str:
    return f"{stem or Path(video).stem}_arenas.png"


def preview_video(
    video: str | Path,
    out_dir: str | Path,
    *,
    rects: Sequence[tuple[int, int, int, int]] | None = None,
    n_arenas: int | None = None,
    start_s: float | Sequence[float] | None = None,
    protocol: FstProtocol | None = None,
    name: str | None = None,
    warnings: list[str] | None = None,
) -> Path:
    """Write the arenas picture of ``video`` into ``out_dir``; returns its path.

    The background and the animal's polarity and threshold are those scoring with
    ``protocol`` (default mouse FST) would use. Every piece at least half the size
    of the largest is outlined, so two animals in one arena (two cylinders taken as
    one) show as two outlines; ``warnings``, if given, gets a line for each such
    arena.
    """
    protocol = protocol or load_fst_protocol("mouse_fst")
    video, out_dir = Path(video), Path(out_dir)
    sidecar = read_sidecar(video)
    rects = rects or sidecar.rects
    given = start_s if start_s is not None else sidecar.start_s
    start = earliest_start(given)
    with VideoReader(video) as reader:
        samples = sample_video(reader, start)
        if not samples.images:
            raise InputError(video, "no frame could be decoded")
        # as scoring does: a title card and the like left out, with the same warning
        stack, median, note = without_odd_samples(np.stack(samples.images), samples.times_s)
        if note and warnings is not None:
            warnings.append(f"{video}: {note}")
        height, width = stack.shape[1:]
        if rects:
            arenas = clip_to_frame(number_arenas(list(rects)), width, height, str(video))
        else:
            arenas = locate_arenas(stack, n_arenas, str(video), median)
        duration = reader.info.duration_s
        length = duration - start if np.isfinite(duration) and duration > start else 0.0
        frame = reader.frame_at(start + min(length / 2, 60.0)).image
    shake, _ = measure_shake(stack, median, protocol)
    shown = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    background = median.copy()  # each arena's part as tracking would use it
    for arena in arenas:
        bg, stats, _, _ = arena_background(median, stack, arena, protocol, clear_ghost=not shake)
        background[arena.y:arena.y + arena.h, arena.x:arena.x + arena.w] = bg
        animals = _outline_animal(shown, frame, bg, arena, stats.polarity, stats.threshold,
                                  protocol.min_area_px)
        if animals > 1 and warnings is not None:
            warnings.append(f"{video}: arena {arena.number} shows {animals} animals of about "
                            "the same size — two cylinders taken as one? Give --arenas N or "
                            "--arena-rects")
    picture = np.hstack([shown, cv2.cvtColor(cv2.convertScaleAbs(background),
                                             cv2.COLOR_GRAY2BGR)])
    for offset in (0, width):
        for arena in arenas:
            _draw_arena(picture, arena, offset)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / preview_name(video, name)
    if not cv2.imwrite(str(path), picture):
        raise InputError(path, "could not write the picture")
    return path


def _draw_arena(picture: np.ndarray, arena: Arena, offset: int) -> None:
    x, y = arena.x + offset, arena.y
    cv2.rectangle(picture, (x, y), (x + arena.w - 1, y + arena.h - 1), BOX_BGR, 2)
    scale = max(0.5, min(arena.w, arena.h) / 300)
    cv2.putText(picture, str(arena.number), (x + 6, y + int(28 * scale)),
                cv2.FONT_HERSHEY_SIMPLEX, scale, BOX_BGR, 2, cv2.LINE_AA)


def _outline_animal(shown: np.ndarray, frame: np.ndarray, bg: np.ndarray, arena: Arena,
                    polarity: float, threshold: float, min_area: float) -> int:
    """Outline the largest blob differing from the arena's background as the animal
    would, and any other at least :data:`TWIN_FRACTION` of its size; returns how many."""
    crop = frame[arena.y:arena.y + arena.h, arena.x:arena.x + arena.w].astype(np.float32)
    gain = float(crop.mean()) / max(float(bg.mean()), 1e-3) or 1.0
    diff = polarity * (bg * gain - crop)
    binary = (cv2.GaussianBlur(diff, (0, 0), 1.0) > threshold).astype(np.uint8)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    areas = [cv2.contourArea(c) for c in contours]
    if not areas or max(areas) < min_area:
        return 0
    animals = [c for c, a in zip(contours, areas, strict=True)
               if a >= TWIN_FRACTION * max(areas)]
    cv2.drawContours(shown, animals, -1, ANIMAL_BGR, 2, offset=(arena.x, arena.y))
    return len(animals)
