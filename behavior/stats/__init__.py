"""Group statistics, figures and reports.

Tidy tables in (unblinded scores, %PPI, forced swim results + a groups table),
tests, post hoc comparisons, effect sizes, figures and an HTML report out.

>>> from behavior.stats import analyze, write_report          # doctest: +SKIP
>>> result = analyze(scores, groups, value="immobility_s",
...                  between=["treatment"], control="vehicle")  # doctest: +SKIP
>>> write_report(result, "stats_out")                         # doctest: +SKIP
"""

from behavior.stats.analysis import DataWarning, StatsResult, analyze
from behavior.stats.readers import read_table
from behavior.stats.report import write_report

__all__ = ["DataWarning", "StatsResult", "analyze", "read_table", "write_report"]
