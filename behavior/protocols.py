"""Protocol files (YAML) -> validated, frozen objects.

A protocol holds every scoring parameter of an assay, so that a result can be
reproduced from the protocol file alone. Values are checked once, here, where the
file enters; an invalid value raises :class:`~behavior.errors.ProtocolError` naming
the file, the key and what was expected.

This module holds the generic loading and checking helpers and the forced swim /
tail suspension protocol (:class:`FstProtocol`). The startle protocol lives in
:mod:`behavior.startle.protocol` and uses the same helpers.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from behavior.errors import FileSystemError, ProtocolError


def _shipped_dir() -> Path:
    # a source checkout (or editable install) reads protocols/ at the top of the
    # repository; an installed package carries them as behavior/shipped_protocols/
    installed = Path(__file__).resolve().parent / "shipped_protocols"
    return installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "protocols"


#: Folder of the protocol files shipped with the package (``protocols/`` in the repo).
SHIPPED_DIR = _shipped_dir()


def shipped(name: str) -> Path:
    """Path of a shipped protocol file, e.g. ``shipped("mouse_fst")``.

    Raises
    ------
    FileSystemError
        No shipped protocol has that name (the message lists the available ones).
    """
    candidates = [SHIPPED_DIR / name, SHIPPED_DIR / f"{name}.yaml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    available = sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml"))
    raise FileSystemError(name, "no protocol file of this name and no shipped protocol "
                          f"called that; shipped: {', '.join(available)}")


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with errors that name the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileSystemError(path, "protocol file not found") from None
    except OSError as exc:
        raise FileSystemError(path, f"cannot read the protocol file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ProtocolError(path, "<file>", f"not UTF-8 text ({exc.reason})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProtocolError(path, "<file>", f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError(path, "<file>", "expected a mapping of keys to values at the top")
    return data


class Section:
    """Typed access to one mapping of a protocol file, naming file and key on error.

    Examples
    --------
    >>> s = Section({"window_s": [120, 360]}, "p.yaml")
    >>> s.pair("window_s")
    (120.0, 360.0)
    """

    def __init__(self, data: Mapping[str, Any], path: str | Path, prefix: str = ""):
        self.data = data
        self.path = str(path)
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fail(self, name: str, problem: str) -> ProtocolError:
        return ProtocolError(self.path, self.key(name), problem)

    def has(self, name: str) -> bool:
        return name in self.data and self.data[name] is not None

    def raw(self, name: str, default: Any = ...) -> Any:
        if not self.has(name):
            if default is ...:
                raise self.fail(name, "missing")
            return default
        return self.data[name]

    def number(
        self,
        name: str,
        default: Any = ...,
        *,
        min: float | None = None,
        max: float | None = None,
        min_exclusive: bool = False,
    ) -> float:
        value = self.raw(name, default)
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value)):
            raise self.fail(name, f"expected a number, got {value!r}")
        if min is not None and (value < min or (min_exclusive and value == min)):
            op = ">" if min_exclusive else ">="
            raise self.fail(name, f"expected a number {op} {min}, got {value!r}")
        if max is not None and value > max:
            raise self.fail(name, f"expected a number <= {max}, got {value!r}")
        return float(value)

    def integer(self, name: str, default: Any = ..., *, min: int | None = None) -> int:
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"expected a whole number, got {value!r}")
        if min is not None and value < min:
            raise self.fail(name, f"expected a whole number >= {min}, got {value!r}")
        return int(value)

    def string(self, name: str, default: Any = ..., *,
               choices: tuple[str, ...] | None = None) -> str:
        value = self.raw(name, default)
        if not isinstance(value, str):
            raise self.fail(name, f"expected text, got {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(name, f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    def boolean(self, name: str, default: Any = ...) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, f"expected true or false, got {value!r}")
        return value

    def pair(self, name: str, default: Any = ...) -> tuple[float, float]:
        value = self.raw(name, default)
        ok = (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        )
        if not ok or not value[0] < value[1]:
            raise self.fail(name, f"expected [start, end] with start < end, got {value!r}")
        return float(value[0]), float(value[1])

    def names(self, name: str) -> tuple[str, ...]:
        """A list of distinct lower-case names (``[a-z][a-z0-9_]*``); empty if absent."""
        value = self.raw(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise self.fail(name, f"expected a list of names, got {value!r}")
        for v in value:
            if not isinstance(v, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", v):
                raise self.fail(name, "expected lower-case names (letters, digits, _), "
                                      f"got {v!r}")
        if len(set(value)) != len(value):
            raise self.fail(name, f"a name is given twice: {list(value)}")
        return tuple(value)

    def section(self, name: str, default: Any = ...) -> Section:
        value = self.raw(name, default)
        if not isinstance(value, Mapping):
            raise self.fail(name, f"expected a mapping, got {value!r}")
        return Section(value, self.path, prefix=f"{self.key(name)}.")

    def reject_unknown(self, known: set[str]) -> None:
        unknown = sorted(set(self.data) - known)
        if unknown:
            raise self.fail(unknown[0], f"unknown key; expected one of {', '.join(sorted(known))}")


@dataclass(frozen=True)
class FstProtocol:
    """Scoring parameters of a forced swim or tail suspension test.

    Attributes
    ----------
    name
        Human-readable name, e.g. "Mouse forced swim test".
    species, test
        Free text for reports ("mouse", "fst" / "tst" / "modified_fst").
    duration_s
        Length of the test from its start (s).
    window_s
        (start, end) of the scored window from the test start (s); mouse FST 120–360.
    bin_s
        Width of the time bins reported (s), over the whole test from 0.
    threshold
        Mobility (see :mod:`behavior.fst.tracking`) at or below which a frame is
        immobile, or ``"auto"`` (the default): chosen for each animal from its own
        trace (:func:`behavior.fst.immobility.choose_threshold`).
    min_bout_s
        Immobile stretches shorter than this are counted as mobile; also the
        minimum duration of the bout that ends the latency.
    brief_movement_s
        A mobile stretch shorter than this between two immobility bouts (each of
        at least ``min_bout_s``) counts as immobility: a kick or a twitch while
        floating (0, the default: none; the shipped mouse_fst: 0.5).
    smoothing_s
        Width of the centred moving median applied to the mobility trace before
        thresholding (0 = none).
    blur_px
        Gaussian sigma (px) applied to frames before segmentation.
    background_s
        Time window over which the rolling background model adapts (s).
    shake_px
        Camera shake tolerated (px at the decoded resolution): the background is
        spread by this radius (its darkest value around each pixel for a dark
        animal, its lightest for a light one), so static edges that move with a
        knocked camera are not taken for the animal. ``"auto"`` (default) measures
        the camera's movement between the sampled frames and spreads only when
        it moves; 0 never spreads.
    animal
        "auto", "dark" (dark animal on light water) or "light".
    min_area_px
        Smallest animal area accepted (px, at the decoded resolution).
    climb_height
        A mobile frame is *climbing* (struggling) rather than *swimming* when the
        animal's centroid is at least this high above its floating level, in units
        of its body size (the square root of its usual area); see
        :mod:`behavior.fst.states`. Not used for tail suspension.
    points
        Point events an observer may mark (by hand, with one key press) and that are
        counted in the window, e.g. ``[head_shake, dive]``: lower-case names, not a
        state's. Not used by the auto-scorer. Empty by default.
    """

    name: str
    species: str
    test: str
    duration_s: float
    window_s: tuple[float, float]
    bin_s: float
    threshold: float | str
    min_bout_s: float
    smoothing_s: float = 0.0
    brief_movement_s: float = 0.0
    blur_px: float = 0.75
    background_s: float = 20.0
    shake_px: float | str = "auto"
    animal: str = "auto"
    min_area_px: float = 30.0
    climb_height: float = 0.2
    points: tuple[str, ...] = ()
    source: str = ""

    def with_overrides(self, **overrides: Any) -> FstProtocol:
        """Copy with some values replaced (``None`` values are ignored), re-validated."""
        changes = {k: v for k, v in overrides.items() if v is not None}
        if isinstance(changes.get("window_s"), (list, tuple)):
            changes["window_s"] = tuple(changes["window_s"])
        new = dataclasses.replace(self, **changes)
        data = dataclasses.asdict(new)
        if isinstance(new.window_s, (list, tuple)):
            data["window_s"] = list(new.window_s)
        source = data.pop("source")
        return parse_fst_protocol(data, source or "<overrides>")

    def to_dict(self) -> dict[str, Any]:
        """The protocol's keys and values, as in a protocol file."""
        data = dataclasses.asdict(self)
        data.pop("source")
        data["window_s"] = list(self.window_s)
        if self.points:
            data["points"] = list(self.points)
        else:
            del data["points"]  # files without point events read and write as before
        return data

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


_FST_KEYS = {f.name for f in dataclasses.fields(FstProtocol)} - {"source"}


def _auto_or_number(s: Section, name: str, low: float, high: float) -> float | str:
    """``"auto"`` (the default) or a number in [low, high]."""
    value = s.raw(name, "auto")
    if value == "auto":
        return "auto"
    if isinstance(value, str):
        raise s.fail(name, f"expected 'auto' or a number from {low:g} to {high:g}, got {value!r}")
    return s.number(name, min=low, max=high)


def parse_fst_protocol(data: Mapping[str, Any], path: str | Path) -> FstProtocol:
    """Validate a mapping into an :class:`FstProtocol` (``path`` is used in errors)."""
    s = Section(data, path)
    s.reject_unknown(_FST_KEYS)
    duration = s.number("duration_s", min=0, min_exclusive=True)
    window = s.pair("window_s")
    if window[0] < 0 or window[1] > duration:
        raise s.fail("window_s", f"expected a window inside 0–{duration:g} s (duration_s), "
                                 f"got {list(window)}")
    return FstProtocol(
        name=s.string("name"),
        species=s.string("species", "mouse"),
        test=s.string("test", "fst"),
        duration_s=duration,
        window_s=window,
        bin_s=s.number("bin_s", min=0, min_exclusive=True),
        threshold=_auto_or_number(s, "threshold", 0, 1),
        min_bout_s=s.number("min_bout_s", 0.0, min=0),
        smoothing_s=s.number("smoothing_s", 0.0, min=0),
        brief_movement_s=s.number("brief_movement_s", 0.0, min=0),
        blur_px=s.number("blur_px", 0.75, min=0),
        background_s=s.number("background_s", 20.0, min=0, min_exclusive=True),
        shake_px=_auto_or_number(s, "shake_px", 0, 20),
        animal=s.string("animal", "auto", choices=("auto", "dark", "light")),
        min_area_px=s.number("min_area_px", 30.0, min=1),
        climb_height=s.number("climb_height", 0.2, min=0, max=5),
        points=s.names("points"),
        source=str(path),
    )


def load_fst_protocol(path: str | Path) -> FstProtocol:
    """Read and validate an FST/TST protocol file (a shipped name also works)."""
    p = Path(path)
    if not p.exists() and not p.suffix:
        p = shipped(str(path))
    return parse_fst_protocol(load_yaml(p), p)
