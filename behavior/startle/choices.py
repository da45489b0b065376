"""Names the startle command line offers as choices, in a module that imports
nothing heavy (the ``behavior`` parser is built at every start-up).

``LAYOUTS`` (``--format`` values) comes from :mod:`behavior.io.startle_layouts`, beside
the readers; :mod:`behavior.startle.protocol` uses the other tuples.
"""

from behavior.io.startle_layouts import LAYOUTS

__all__ = ["LAYOUTS", "NEGATIVE_POLICIES", "PPI_METHODS"]
#: How %PPI is computed from trials.
PPI_METHODS = ("average_first", "per_block", "per_trial")
#: What is done with a negative %PPI.
NEGATIVE_POLICIES = ("keep", "clip", "drop")
