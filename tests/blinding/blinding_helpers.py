"""Builders shared by the blinding tests: synthetic clips whose metadata could leak."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

LEAKY_TITLE = "vehicle mouse 3"
LEAKY_COMMENT = "group fluoxetine"
CREATION_TIME = "2024-03-05T10:00:00.000000Z"


def make_clip(path: Path, codec: str = "mpeg4", seconds: float = 2.0, fps: int = 25,
              seed: int = 0, title: str = LEAKY_TITLE) -> Path:
    """A 64x48 clip with a moving bar and noise, carrying leaky container/stream metadata."""
    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as out:
        out.metadata["title"] = title
        out.metadata["comment"] = LEAKY_COMMENT
        out.metadata["creation_time"] = CREATION_TIME
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = 64, 48
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.metadata["title"] = title
        stream.metadata["handler_name"] = title
        for i in range(int(seconds * fps)):
            img = rng.integers(0, 40, (48, 64, 3), dtype=np.uint8)
            img[10:30, (2 * i) % 56:(2 * i) % 56 + 8] = 230
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def decoded(path: Path, every: int = 1) -> list[tuple[float, np.ndarray | None]]:
    """(time_s, grey pixels) of every frame (pixels of every ``every``-th frame only)."""
    with av.open(str(path)) as c:
        return [(float(f.time), f.to_ndarray(format="gray") if i % every == 0 else None)
                for i, f in enumerate(c.decode(video=0))]


def make_study(tmp_path: Path, n: int = 4, seconds: float = 2.0) -> tuple[list[Path], Path]:
    """``n`` clips named after their group, and a groups CSV (group alternates)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    groups = ["vehicle", "fluoxetine"]
    videos, lines = [], ["video,subject,group,dose_mg_kg"]
    for i in range(n):
        g = groups[i % 2]
        v = make_clip(raw / f"{g}_mouse{i + 1}.mp4", seed=i, seconds=seconds,
                      title=f"{g} mouse {i + 1}")
        videos.append(v)
        lines.append(f"{v.name},m{i + 1:02d},{g},{0 if g == 'vehicle' else 10}")
    table = tmp_path / "groups.csv"
    table.write_text("\n".join(lines) + "\n")
    return videos, table


def small_protocol():
    """Mouse FST protocol shrunk to 2-s clips: window 0.5–2 s, 0.5-s bins."""
    from behavior.protocols import load_fst_protocol

    return load_fst_protocol("mouse_fst").with_overrides(duration_s=2.0, window_s=(0.5, 2.0),
                                                         bin_s=0.5)


def make_session(tmp_path: Path, n: int = 4, observers=("A", "B"), **kw):
    """A created session over ``n`` 2-s clips; returns (CreatedSession, videos, groups csv)."""
    from behavior.blinding.create import create_session
    from behavior.blinding.tables import match_groups, read_groups

    videos, groups = make_study(tmp_path, n)
    table = match_groups(videos, read_groups(groups), groups)
    made = create_session(videos, table, tmp_path / "session", tmp_path / "key.json",
                          small_protocol(), observers=observers, **kw)
    return made, videos, groups


def write_traces(folder: Path, bouts_by_video: dict, end_s: float = 10.0, fps: float = 10.0,
                 seed: int = 0, blips: dict | None = None) -> Path:
    """Auto-score traces whose mobility is low (0.01–0.05) exactly inside the given bouts
    and high (0.2–0.6) elsewhere; ``blips``: extra short low-mobility stretches."""
    import pandas as pd

    from behavior.fst.traces import Trace, write_trace

    rng = np.random.default_rng(seed)
    for video, bouts in bouts_by_video.items():
        t = np.arange(int(round(end_s * fps))) / fps
        low = np.zeros(t.size, bool)
        for a, b in list(bouts) + list((blips or {}).get(video, [])):
            low |= (t >= a - 1e-9) & (t < b - 1e-9)
        mobility = np.where(low, rng.uniform(0.01, 0.05, t.size), rng.uniform(0.2, 0.6, t.size))
        table = pd.DataFrame({"frame": np.arange(t.size), "time_s": t, "x_px": 10.0,
                              "y_px": 10.0, "area_px": 100.0, "mobility": mobility,
                              "immobile": (mobility <= 0.1).astype(int)})
        write_trace(Trace(video=f"/data/{video}.mp4", arena=1, table=table, end_s=end_s), folder)
    return folder
