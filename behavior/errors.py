"""Exceptions raised by the library.

Every error says what went wrong, where (file, key, line) and, where possible, what
to do about it. The CLI turns them into one line on stderr and a non-zero exit.
"""

from __future__ import annotations

from os import PathLike


class BehaviorError(Exception):
    """Base class of every error the library raises on purpose."""


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


class OutputError(InputError):
    """A file or folder cannot be written (read-only, missing, full disk).

    The command line exits with status 1 on it, with this one line.
    """


class Cancelled(BehaviorError):
    """The work was cancelled (a :class:`behavior.cancel.CancelToken` was set)."""


#: Errors that say something about the input itself: trying again elsewhere gives the
#: same result (a batch on a cluster does not retry them).
PERMANENT_ERRORS = (InputError, ProtocolError, AnalysisError, Cancelled)


def is_transient(exc: BaseException) -> bool:
    """Whether a failure may go away when tried again (a lost worker, a busy network
    file system, memory), as opposed to one that says the input is wrong."""
    return not isinstance(exc, PERMANENT_ERRORS)
