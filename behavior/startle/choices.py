"""Names the startle command line offers as choices, in a module that imports
nothing heavy (the ``behavior`` parser is built at every start-up).

:mod:`behavior.io.startle_registry` and :mod:`behavior.startle.protocol` use these
tuples; a test checks they match the readers actually registered.
"""

#: ``--format`` values: auto-detection, the text layouts in detection order, workbooks.
LAYOUTS = ("auto", "tse", "kinder", "srlab", "long", "wide", "tse-segment", "srlab-xlsx")
#: How %PPI is computed from trials.
PPI_METHODS = ("average_first", "per_block", "per_trial")
#: What is done with a negative %PPI.
NEGATIVE_POLICIES = ("keep", "clip", "drop")
