"""Group statistics, figures and reports.

Tidy tables in (unblinded scores, %PPI, forced swim results + a groups table),
tests, post hoc comparisons, effect sizes, figures and an HTML report out.

>>> from behavior.stats import analyze, write_report          # doctest: +SKIP
>>> result = analyze(scores, groups, value="immobility_s",
...                  between=["treatment"], control="vehicle")  # doctest: +SKIP
>>> write_report(result, "stats_out")                         # doctest: +SKIP
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["DataWarning", "StatsResult", "analyze", "read_table", "write_report"]

# statsmodels, pingouin and matplotlib take a second to import: load them on first
# use, so that every `behavior` command (and `--help`) starts fast
_HOME = {"DataWarning": "analysis", "StatsResult": "analysis", "analyze": "analysis",
         "read_table": "readers", "write_report": "report"}

if TYPE_CHECKING:
    from behavior.stats.analysis import DataWarning, StatsResult, analyze
    from behavior.stats.readers import read_table
    from behavior.stats.report import write_report


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"behavior.stats.{_HOME[name]}"), name)
    raise AttributeError(f"module 'behavior.stats' has no attribute {name!r}")
