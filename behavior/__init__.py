"""behavior: scoring rodent behaviour for behavioural-pharmacology labs.

Sub-packages
------------
io         readers, one per file format (video, startle exports, score tables)
fst        forced swim / tail suspension: video -> per-frame features -> immobility
startle    acoustic startle and prepulse inhibition
stats      group statistics, figures and reports
blinding   blinded observer sessions, scoring database, reliability
"""

__version__ = "0.1.0"
