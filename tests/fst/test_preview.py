"""`behavior fst preview`: a picture of the arenas and the animals, before scoring."""

from __future__ import annotations

import cv2
import numpy as np

from behavior.cli import main
from behavior.fst.preview import ANIMAL_BGR, BOX_BGR


def _mask(picture, bgr):
    return np.all(picture == np.array(bgr, np.uint8), axis=2)


def test_the_picture_shows_each_arena_and_its_animal(two_arena_video, tmp_path, capsys):
    video, truth = two_arena_video
    assert main(["fst", "preview", str(video), "--arena-rects", "0,0,160,240;160,0,160,240",
                 "--out", str(tmp_path)]) == 0
    picture = cv2.imread(str(tmp_path / "two_arenas_arenas.png"))
    assert picture.shape == (240, 640, 3)  # the frame, and the background beside it
    boxes = _mask(picture, BOX_BGR)
    for x in (0, 160, 320, 480):  # each rectangle's left edge, on both halves
        assert boxes[:, x].mean() > 0.9
    animals = _mask(picture[:, :320], ANIMAL_BGR)
    assert not _mask(picture[:, 320:], ANIMAL_BGR).any()  # outlines only on the frame
    # one outline per arena, around where the animal truly is at that time (20 s in)
    i = int(np.searchsorted(truth.time_s, 20.0))
    for arena in (0, 1):
        ys, xs = np.nonzero(animals[:, 160 * arena:160 * (arena + 1)])
        assert len(xs) > 20
        cx, cy = truth.centroid_px[arena][i]
        assert abs(xs.mean() + 160 * arena - cx) < 25 and abs(ys.mean() - cy) < 25


def test_a_video_that_cannot_be_read_is_reported_and_the_rest_drawn(two_arena_video,
                                                                      tmp_path, capsys):
    video, _ = two_arena_video
    assert main(["fst", "preview", str(tmp_path / "missing.mp4"), str(video),
                 "--out", str(tmp_path / "p")]) == 1
    assert "missing.mp4" in capsys.readouterr().err
    assert (tmp_path / "p" / "two_arenas_arenas.png").exists()


def test_two_videos_of_one_name_get_two_pictures(two_arena_video, tmp_path, capsys):
    import shutil

    video, _ = two_arena_video
    for day in ("day1", "day2"):
        (tmp_path / day).mkdir()
        shutil.copy(video, tmp_path / day / "cage.mp4")
    assert main(["fst", "preview", str(tmp_path / "day1" / "cage.mp4"),
                 str(tmp_path / "day2" / "cage.mp4"), "--out", str(tmp_path / "p")]) == 0
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [
        "day1-cage_arenas.png", "day2-cage_arenas.png"]


def test_two_animals_in_one_arena_are_both_outlined_and_warned(two_arena_video, tmp_path,
                                                               capsys):
    video, truth = two_arena_video
    assert main(["fst", "preview", str(video), "--arenas", "1", "--out", str(tmp_path)]) == 0
    assert "arena 1 shows 2 animals of about the same size" in capsys.readouterr().err
    picture = cv2.imread(str(tmp_path / "two_arenas_arenas.png"))
    animals = _mask(picture[:, :320], ANIMAL_BGR)
    for half in (slice(0, 160), slice(160, 320)):  # an outline in each cylinder
        assert animals[:, half].sum() > 20


def test_a_title_card_is_left_out_and_named_as_in_scoring(real, tmp_path, capsys):
    # the real recording starts with a 7-s title card: left out of the background,
    # and the same warning as scoring gives; the mouse outlined as a dark animal
    video = real("mouse-chamber/Day3_Mouse1_CNO_xvid.avi")
    assert main(["fst", "preview", str(video), "--arenas", "1", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "0.0-6.8 s (4 frames) look nothing like the rest" in err and "start_s" in err
    picture = cv2.imread(str(tmp_path / "Day3_Mouse1_CNO_xvid_arenas.png"))
    outline = _mask(picture[:, :320], ANIMAL_BGR)
    ys, xs = np.nonzero(outline)
    assert 0 < len(xs) < 0.05 * outline.size  # around the mouse, not the whole picture
