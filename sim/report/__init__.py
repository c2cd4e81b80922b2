"""From run tables to what a strategist reads: statistics, figures, report.md / report.html.

Everything here reads tables (runs, comparison, hourly) and never the model, so a
report can be rebuilt from a results folder on disk. Names are imported lazily, so
reading the metric registry (labels) does not pull in matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "comparison_text": "console", "summary_text": "console", "rebuild_report": "output", "write_manifest": "output",
    "write_report": "output", "write_results": "output", "write_tables": "output", "comparison_table": "stats",
    "mean_ci": "stats", "paired": "stats", "hourly_table": "tables", "runs_table": "tables",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
