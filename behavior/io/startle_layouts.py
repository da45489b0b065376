"""Names of the startle file layouts, in a module that imports nothing (the
``behavior`` parser offers them as ``--format`` choices at every start-up).

:mod:`behavior.io.startle_registry` checks at import that these match its readers.
"""

#: Layouts: auto-detection, the text layouts in detection order, workbooks.
LAYOUTS = ("auto", "tse", "kinder", "srlab", "long", "wide", "tse-segment", "srlab-xlsx")
