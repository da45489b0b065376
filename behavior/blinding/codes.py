"""Random codes, session ids and orders, from the operating system's cryptographic generator.

Codes must not be derived from file names or groups (a hash of the name, a counter
in input order or a seeded generator can all be undone), so every random choice
here comes from :mod:`secrets`.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from typing import TypeVar

T = TypeVar("T")

#: Letters and digits that cannot be misread for one another (no 0/O, 1/I/L, 5/S, 2/Z, 8/B).
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
#: Characters per code: 25**6 = 2.4e8 possible codes.
CODE_LENGTH = 6


def new_code(taken: Collection[str] = ()) -> str:
    """A random video code not in ``taken``, e.g. ``'K7QX3M'``."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code not in taken:
            return code


def new_codes(n: int) -> list[str]:
    """``n`` distinct random codes, in sorted order (so their order reveals nothing)."""
    codes: set[str] = set()
    while len(codes) < n:
        codes.add(new_code(codes))
    return sorted(codes)


def new_session_id() -> str:
    """A random session id (128 bits, hex), stored in the database and in the key."""
    return secrets.token_hex(16)


def random_order(items: Sequence[T]) -> list[T]:
    """A uniformly random permutation of ``items`` (Fisher–Yates with a CSPRNG)."""
    out = list(items)
    secrets.SystemRandom().shuffle(out)
    return out
