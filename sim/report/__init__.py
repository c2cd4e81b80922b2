"""From run tables to what a strategist reads: statistics, figures, report.md / report.html.

Everything here reads tables (runs, comparison, hourly) and never the model, so a
report can be rebuilt from a results folder on disk.
"""

from .console import comparison_text, summary_text
from .output import rebuild_report, write_manifest, write_report, write_results, write_tables
from .stats import comparison_table, mean_ci, paired
from .tables import hourly_table, runs_table

__all__ = [
    "comparison_table", "comparison_text", "hourly_table", "mean_ci", "paired", "rebuild_report", "runs_table",
    "summary_text", "write_manifest", "write_report", "write_results", "write_tables",
]
