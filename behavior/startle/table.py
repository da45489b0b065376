"""The canonical per-trial startle table: see :mod:`behavior.io.startle_table`.

The definitions live with the readers that build the table (so that ``behavior.io``
never imports ``behavior.startle``); this module keeps the documented import path.
"""

from behavior.io.startle_table import *  # noqa: F403
from behavior.io.startle_table import __all__  # noqa: F401
