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

from behavior import notices
from behavior.fst.arenas import Arena
from behavior.fst.setup import Setup, prepare
from behavior.fst.tracker import TWIN_FRACTION
from behavior.io.atomic import prepare_folder, write_bytes
from behavior.io.video import VideoReader
from behavior.notices import Notice
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
    warnings: list[Notice] | None = None,
) -> Path:
    """Write the arenas picture of ``video`` into ``out_dir``; returns its path.

    The arenas, the background and the animal's polarity and threshold are those
    scoring with ``protocol`` (default mouse FST) would use
    (:func:`behavior.fst.setup.prepare`). Every piece at least half the size of
    the largest is outlined, so two animals in one arena (two cylinders taken as
    one) show as two outlines; ``warnings``, if given, gets the set-up's notices
    and one for each such arena.
    """
    protocol = protocol or load_fst_protocol("mouse_fst")
    video, out_dir = Path(video), Path(out_dir)
    with VideoReader(video) as reader:
        setup = prepare(reader, protocol, arenas=rects, n_arenas=n_arenas, start_s=start_s)
        duration = reader.info.duration_s
        start = setup.first_start_s
        length = duration - start if np.isfinite(duration) and duration > start else 0.0
        frame = reader.frame_at(start + min(length / 2, 60.0)).image
    picture, found = preview_picture(setup, frame)
    if warnings is not None:
        warnings.extend(n.at(str(video)) for n in setup.all_notices())
        warnings.extend(found)
    path = out_dir / preview_name(video, name)
    encoded, png = cv2.imencode(".png", picture)
    if not encoded:
        raise ValueError(f"{path}: the picture could not be encoded")
    prepare_folder(out_dir)
    return write_bytes(path, png.tobytes())


def preview_picture(setup: Setup, frame: np.ndarray) -> tuple[np.ndarray, list[Notice]]:
    """The picture (BGR): ``frame`` (grey, from the test) on the left, the background
    each arena is compared with on the right, each arena's rectangle and number on
    both, the animal's outline on the frame; and a notice for each arena that
    shows two animals."""
    found: list[Notice] = []
    shown = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    background = setup.background.copy()  # each arena's part as tracking would use it
    for a in setup.arenas:
        arena = a.arena
        background[arena.y:arena.y + arena.h, arena.x:arena.x + arena.w] = a.background
        animals = _outline_animal(shown, frame, a.background, arena, a.stats.polarity,
                                  a.stats.threshold, setup.protocol.min_area_px)
        if animals > 1:
            found.append(notices.warning(
                "two_animals", f"arena {arena.number} shows {animals} animals of about the "
                "same size: two cylinders taken as one? Set n_arenas or arena_rects",
                arena=arena.number, video=setup.video, settings=["n_arenas", "arena_rects"]))
    picture = np.hstack([shown, cv2.cvtColor(cv2.convertScaleAbs(background),
                                             cv2.COLOR_GRAY2BGR)])
    for offset in (0, frame.shape[1]):
        for a in setup.arenas:
            _draw_arena(picture, a.arena, offset)
    return picture, found


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
