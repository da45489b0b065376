"""Exceptions raised by the library.

Every error says what went wrong, where (file, key, line) and, where possible, what
to do about it. The CLI turns them into one line on stderr and a non-zero exit.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike


class BehaviorError(Exception):
    """Base class of every error the library raises on purpose.

    ``exit_status`` is the status the command line exits with (2: the input or the
    request is wrong; 1: the file system failed, see :class:`FileSystemError`).
    """

    exit_status = 2


class InputError(BehaviorError):
    """A file cannot be read or does not hold what was expected.

    Parameters
    ----------
    path
        The offending file.
    problem
        What is wrong, in words a user can act on.
    line
        1-based line number, when known.
    """

    def __init__(self, path: str | PathLike[str], problem: str, line: int | None = None):
        self.path = str(path)
        self.problem = problem
        self.line = line
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):
        # rebuilt from its own arguments when it comes back from a worker process
        return type(self), (self.path, self.problem, self.line)


class BadRowsError(InputError):
    """Several rows of a table are wrong: every one is listed, each with its line.

    Parameters
    ----------
    path
        The table.
    problems
        ``(line, problem)`` for each bad row (line 1-based, or None).
    consequence
        What happened because of them, e.g. "nothing was imported".
    """

    def __init__(self, path: str | PathLike[str], problems: Sequence[tuple[int | None, str]],
                 consequence: str = ""):
        self.problems = [(line, problem) for line, problem in problems]
        n = len({line for line, _ in self.problems}) or len(self.problems)
        listed = "\n".join(f"  line {line}: {problem}" if line is not None else f"  {problem}"
                           for line, problem in self.problems)
        summary = f"{n} bad row{'s' if n != 1 else ''}" + (f" ({consequence})" if consequence
                                                            else "")
        first = self.problems[0][0] if self.problems else None
        super().__init__(path, f"{summary}:\n{listed}", line=None)
        self.line = first
        self.consequence = consequence

    def __reduce__(self):
        return type(self), (self.path, self.problems, self.consequence)


class FileSystemError(InputError):
    """A file or folder cannot be read or written: missing, read-only, full disk,
    no permission. The message names the path and the problem in plain words
    (see :func:`behavior.io.atomic.os_problem`); the command line exits with 1."""

    exit_status = 1


class ProtocolError(BehaviorError):
    """A protocol file has a missing or invalid value."""

    def __init__(self, path: str | PathLike[str], key: str, problem: str):
        self.path = str(path)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.path}: key '{key}': {problem}")

    def __reduce__(self):
        return type(self), (self.path, self.key, self.problem)


class VideoError(InputError):
    """A video cannot be opened or decoded."""


class AnalysisError(BehaviorError):
    """The data were read but the requested analysis cannot be done on them."""


#: A file or folder that cannot be written (the name the forced swim module used).
OutputError = FileSystemError


class Cancelled(BehaviorError):
    """The work was cancelled (a :class:`behavior.cancel.CancelToken` was set)."""


#: Errors that say something about the input itself: trying again elsewhere gives the
#: same result (a batch on a cluster does not retry them).
PERMANENT_ERRORS = (InputError, ProtocolError, AnalysisError, Cancelled)


def is_transient(exc: BaseException) -> bool:
    """Whether a failure may go away when tried again (a lost worker, a busy network
    file system, memory), as opposed to one that says the input is wrong."""
    return not isinstance(exc, PERMANENT_ERRORS)
