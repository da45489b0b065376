"""Cancelling long work from outside: a token, not an exception from a callback.

The caller keeps a :class:`CancelToken` and sets it (a GUI's Cancel button, a
signal handler); the work checks it between frames and between videos and stops
cleanly, keeping what is finished. Inside the library, stopping unwinds with
:class:`behavior.errors.Cancelled`, which the batch layer turns into a result
marked cancelled; it never reaches the caller as an error.

Examples
--------
>>> token = CancelToken()
>>> token.cancelled
False
>>> token.cancel(); token.cancelled
True
"""

from __future__ import annotations

import threading

from behavior.errors import Cancelled


class CancelToken:
    """A thread-safe flag that asks running work to stop.

    ``event``: the flag to use (default a new ``threading.Event``); a
    ``multiprocessing`` event lets another process stop the work, which a pickled
    token cannot (see ``__getstate__``).
    """

    def __init__(self, event=None) -> None:
        self._event = threading.Event() if event is None else event

    def cancel(self) -> None:
        """Ask the work to stop (from any thread)."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`~behavior.errors.Cancelled` if cancelling was asked for."""
        if self._event.is_set():
            raise Cancelled("cancelled")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or ``timeout`` s passed; True if cancelled."""
        return self._event.wait(timeout)

    def __getstate__(self):
        # a token cannot reach another process: a copy there is never cancelled
        return {}

    def __setstate__(self, state) -> None:
        self._event = threading.Event()


def check(token: CancelToken | None) -> None:
    """:meth:`CancelToken.check` of ``token``, if there is one."""
    if token is not None:
        token.check()
