"""An animal that rests in one place for (nearly) the whole video, found without an
image of the empty apparatus.

Such an animal is part of the median of the sampled frames, so nothing differs from
that background where it rests and it is lost (or, worse, the floor it uncovers now
and then is taken for a light animal). It is rarely perfectly still, though: it
breathes, shifts, bobs with the water, swings on its tail, and the floor around it
shows in a few of the samples. :func:`find_resting_animal` looks for that:

1. per pixel, the second lightest of the brightness-matched samples (the second
   darkest, for a light animal): where it is lighter than the median by more than
   the segmentation threshold, the floor was seen in at least two samples (one
   could be a glint or a compression artefact);
2. the largest blob of such pixels, its convex hull widened by 2 px, is where the
   animal rests: there the floor seen is put into the background, and what was
   never uncovered (the animal's core) is filled in from around it (inpainting);
3. with ``animal: auto`` both colours are tried: the uncovered crescent of a dark
   animal that shifted has, to a light-animal hypothesis, the same look as the
   floor it moved onto; what tells them apart is the median itself, which at a
   resting animal is much darker (lighter) than its surroundings predict
   (:func:`predict_from_surroundings`), and at a patch of floor is not.

Pure functions of arrays.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

#: The floor must show in more than this many samples (the ``k + 1``-th lightest).
UNCOVERED_K = 1
#: A resting animal differs from what its surroundings predict by at least this
#: fraction of the segmentation threshold, on average over where it rests.
MIN_UNLIKE = 0.5


class RestingAnimal(NamedTuple):
    background: np.ndarray  # float32: the arena's background with the animal taken out
    polarity: float  # +1 dark animal, -1 light
    region: np.ndarray  # bool: where it rested
    unlike: float  # how much it differs from what its surroundings predict (grey levels)


def find_resting_animal(bg: np.ndarray, samples: np.ndarray, thresholds: dict[float, float],
                        min_area: float, start: np.ndarray | None = None
                        ) -> RestingAnimal | None:
    """The background with an animal resting in one place taken out, or ``None``.

    Parameters
    ----------
    bg
        The arena's background (the samples' median), float32.
    samples
        ``(n, h, w)`` sampled grey frames of the arena.
    thresholds
        The animal colours to try (+1 dark, -1 light), each with its segmentation
        threshold (grey levels).
    min_area
        Smallest animal area (px).
    start
        The background to take the animal out of (default ``bg``), e.g. one already
        cleared of ghosts elsewhere.
    """
    n = len(samples)
    if n <= 2 * (UNCOVERED_K + 1):
        return None
    bg = np.asarray(bg, np.float32)
    gains = samples.reshape(n, -1).mean(1) / max(float(bg.mean()), 1e-3)
    gains[gains <= 0] = 1.0
    matched = samples.astype(np.float32) / gains.astype(np.float32)[:, None, None]
    ordered = np.partition(matched, (UNCOVERED_K, n - 1 - UNCOVERED_K), axis=0)
    best: RestingAnimal | None = None
    for polarity, threshold in thresholds.items():
        floor = ordered[n - 1 - UNCOVERED_K] if polarity > 0 else ordered[UNCOVERED_K]
        uncovered = polarity * (floor - bg) > threshold
        region = _resting_region(uncovered, min_area)
        if region is None:
            continue
        region = _whole_body(bg, region, polarity, threshold)
        predicted = predict_from_surroundings(bg, region)
        unlike = float(np.mean(polarity * (predicted[region] - bg[region])))
        if unlike < MIN_UNLIKE * threshold or (best is not None and unlike <= best.unlike):
            continue
        cleared = (bg if start is None else np.asarray(start, np.float32)).copy()
        seen = region & uncovered
        cleared[seen] = floor[seen]
        core = _core(bg, region, uncovered, polarity, MIN_UNLIKE * threshold)
        if core.any():
            filled = cv2.inpaint(np.clip(cleared, 0, 255).astype(np.uint8),
                                 core.astype(np.uint8), 5, cv2.INPAINT_TELEA)
            cleared[core] = filled[core]
        best = RestingAnimal(cleared, polarity, region, unlike)
    return best


def _resting_region(uncovered: np.ndarray, min_area: float) -> np.ndarray | None:
    """Where an animal rests: the convex hull of the largest blob of ``uncovered``
    pixels (at least half the smallest animal) and of the blobs of at least a tenth
    of its size within half its size of it (the crescents a shift uncovers on either
    side of a body), widened by 2 px; ``None`` if there is none."""
    opened = cv2.morphologyEx(uncovered.astype(np.uint8), cv2.MORPH_OPEN,
                              np.ones((2, 2), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    if count <= 1:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    biggest = 1 + int(np.argmax(areas))
    if stats[biggest, cv2.CC_STAT_AREA] < max(4.0, min_area / 2):
        return None
    reach = int(np.clip(0.5 * np.sqrt(stats[biggest, cv2.CC_STAT_AREA]), 2, 40))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    near = cv2.dilate((labels == biggest).astype(np.uint8), kernel).astype(bool)
    keep = [i for i in np.unique(labels[near]) if i > 0
            and stats[i, cv2.CC_STAT_AREA] >= 0.1 * stats[biggest, cv2.CC_STAT_AREA]]
    contours, _ = cv2.findContours(np.isin(labels, keep).astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    region = np.zeros(uncovered.shape, np.uint8)
    cv2.fillPoly(region, [cv2.convexHull(np.concatenate(contours))], 1)
    return cv2.dilate(region, np.ones((5, 5), np.uint8)).astype(bool)


#: :func:`_whole_body` grows the resting region to at most this many times its size.
GROW_LIMIT = 4.0


def _whole_body(bg: np.ndarray, region: np.ndarray, polarity: float,
                threshold: float) -> np.ndarray:
    """``region`` grown to the whole resting animal: the blobs of the median darker
    (``polarity`` +1; lighter for -1) by over ``threshold`` than the floor just around
    the region (the median of a 5-px ring) that touch it. A body turning about its
    middle uncovers only its two ends, and the region found from them (the largest
    end) misses the rest. Kept only if at most :data:`GROW_LIMIT` times the region:
    a dark corner or a grid joined to the animal is not the animal."""
    ring = cv2.dilate(region.astype(np.uint8), np.ones((11, 11), np.uint8)).astype(bool)
    ring &= ~region
    if not ring.any():
        return region
    floor = float(np.median(bg[ring]))
    body = (polarity * (floor - bg) > threshold).astype(np.uint8)
    count, labels = cv2.connectedComponents(body | region.astype(np.uint8), connectivity=8)
    touching = np.unique(labels[region])
    grown = np.isin(labels, touching[touching > 0])
    if grown.sum() > GROW_LIMIT * region.sum():
        return region
    contours, _ = cv2.findContours((grown | region).astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    hull = np.zeros(region.shape, np.uint8)
    cv2.fillPoly(hull, [cv2.convexHull(np.concatenate(contours))], 1)
    return cv2.dilate(hull, np.ones((5, 5), np.uint8)).astype(bool)


def _core(bg: np.ndarray, region: np.ndarray, uncovered: np.ndarray, polarity: float,
          cut: float) -> np.ndarray:
    """The resting animal's pixels in ``region`` that were never uncovered: darker
    (``polarity`` +1; lighter for -1) by over ``cut`` than the surroundings predict.
    The floor around it, never covered, keeps the median's value. (Growing this
    beyond the region took in a real chamber's dark corner posts and grid.)"""
    predicted = predict_from_surroundings(bg, region)
    return region & ~uncovered & (polarity * (predicted - bg) > cut)


def predict_from_surroundings(image: np.ndarray, region: np.ndarray) -> np.ndarray:
    """``image`` with ``region`` filled in from around it (Telea's inpainting), float32."""
    return cv2.inpaint(np.clip(image, 0, 255).astype(np.uint8), region.astype(np.uint8),
                       5, cv2.INPAINT_TELEA).astype(np.float32)
