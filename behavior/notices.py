"""Structured notices: what the user should know about a result, kept as data.

A notice is made where something is noticed (tracking finds a title card, scoring
finds the animal's movement close to the threshold, a file breaks off) and stays a
:class:`Notice` through traces, logs and worker processes. It becomes text only at
the last step: a cell of a results table (:func:`join`), a line in a terminal (the
command line's words), a row with an icon in the desktop GUI.

Messages name *settings* (``start_s``, ``arena_rects``, ``threshold``), never a
command-line flag or a GUI control: each front end says how to change a setting in
its own words (``data["settings"]`` lists the settings a message names).

Examples
--------
>>> n = Notice("title_card", WARNING, "m1.mp4", None,
...            "the frames sampled at 0.0-6.5 s look nothing like the rest",
...            {"settings": ["start_s"]})
>>> Notice.from_dict(n.to_dict()) == n
True
>>> n.where()
'm1.mp4'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Severities, from least to most serious.
INFO = "info"
WARNING = "warning"
ERROR = "error"
SEVERITIES = (INFO, WARNING, ERROR)


@dataclass(frozen=True)
class Notice:
    """Something the user should know about one video (and arena).

    Attributes
    ----------
    code
        Stable identifier of the kind of notice (``"title_card"``, ``"no_animal"``,
        ``"threshold_sensitive"``, ``"truncated"``, or an exception's class name for
        an error), for programs that react to it (a GUI icon, a retry policy).
    severity
        :data:`INFO`, :data:`WARNING` or :data:`ERROR`.
    video
        The video (as given), or None.
    arena
        Arena number (1 = leftmost), or None when it concerns the whole video.
    message
        One sentence for a person, naming settings rather than flags.
    data
        Numbers behind the message (JSON-able), and ``settings``: the settings the
        message names.
    """

    code: str
    severity: str
    video: str | None = None
    arena: int | None = None
    message: str = ""
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        # plain Python values only (NumPy numbers become floats): notices go to JSON,
        # YAML, other processes
        object.__setattr__(self, "data", _plain(dict(self.data)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Notice):
            return NotImplemented
        return (self.code, self.severity, self.video, self.arena, self.message,
                dict(self.data)) == (other.code, other.severity, other.video, other.arena,
                                     other.message, dict(other.data))

    __hash__ = None  # type: ignore[assignment]  # data is a mapping

    @property
    def settings(self) -> tuple[str, ...]:
        """The settings the message names (to say how to change them)."""
        return tuple(self.data.get("settings", ()))

    def where(self) -> str:
        """``video``, ``video: arena N`` or ``arena N``."""
        parts = [p for p in (self.video, f"arena {self.arena}" if self.arena else None) if p]
        return ": ".join(parts)

    def text(self, with_video: bool = True) -> str:
        """The message with where it applies, e.g. ``m1.mp4: arena 2: no animal found``."""
        where = self.where() if with_video else (f"arena {self.arena}" if self.arena else "")
        return f"{where}: {self.message}" if where else self.message

    def at(self, video: str | None = None, arena: int | None = None) -> Notice:
        """The same notice attached to ``video`` (and ``arena``), where not set yet."""
        return Notice(self.code, self.severity, self.video or video,
                      self.arena if self.arena is not None else arena, self.message,
                      dict(self.data))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "severity": self.severity}
        if self.video is not None:
            out["video"] = self.video
        if self.arena is not None:
            out["arena"] = self.arena
        out["message"] = self.message
        if self.data:
            out["data"] = dict(self.data)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Notice:
        arena = d.get("arena")
        return cls(str(d["code"]), str(d.get("severity", WARNING)), d.get("video"),
                   int(arena) if arena is not None else None, str(d.get("message", "")),
                   dict(d.get("data") or {}))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=False, default=str)

    @classmethod
    def from_json(cls, text: str) -> Notice:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_exception(cls, exc: BaseException, video: str | None = None) -> Notice:
        """An :data:`ERROR` notice for an exception: its class name is the code, its
        own fields (``path``, ``problem``, ``line``, ``key``) the data."""
        fields = {k: v for k, v in vars(exc).items()
                  if isinstance(v, (str, int, float, bool, type(None))) and not k.startswith("_")}
        return cls(type(exc).__name__, ERROR, video, None, str(exc), fields)


def _plain(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays, tuples and paths made plain Python."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _plain(value.tolist())
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def warning(code: str, message: str, arena: int | None = None, video: str | None = None,
            settings: Iterable[str] = (), **data: Any) -> Notice:
    """A :data:`WARNING` notice (``settings``: the settings the message names)."""
    if settings:
        data["settings"] = list(settings)
    return Notice(code, WARNING, video, arena, message, data)


def info(code: str, message: str, arena: int | None = None, video: str | None = None,
         settings: Iterable[str] = (), **data: Any) -> Notice:
    """An :data:`INFO` notice."""
    if settings:
        data["settings"] = list(settings)
    return Notice(code, INFO, video, arena, message, data)


def error(code: str, message: str, arena: int | None = None, video: str | None = None,
          settings: Iterable[str] = (), **data: Any) -> Notice:
    """An :data:`ERROR` notice: the result is there but should not be trusted as it is
    (e.g. a recording that breaks off)."""
    if settings:
        data["settings"] = list(settings)
    return Notice(code, ERROR, video, arena, message, data)


def join(notices: Iterable[Notice], separator: str = " | ") -> str:
    """The messages of ``notices`` for one cell of a table (each once, in order)."""
    return separator.join(dict.fromkeys(n.message for n in notices if n.message))


def worst(notices: Iterable[Notice]) -> str | None:
    """The most serious severity among ``notices``, or None."""
    levels = [SEVERITIES.index(n.severity) for n in notices]
    return SEVERITIES[max(levels)] if levels else None
