"""From run tables to what a strategist reads: statistics, figures, report.md / report.html.

Everything here reads tables (runs, comparison, hourly) and never the model, so a
report can be rebuilt from a results folder on disk. Names are imported lazily, so
reading the metric registry (labels) does not pull in matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "comparison_text": "sim.app.report.console", "summary_text": "sim.app.report.console",
    "rebuild_report": "sim.app.report.output", "write_manifest": "sim.app.report.output",
    "write_report": "sim.app.report.output", "write_results": "sim.app.report.output",
    "write_tables": "sim.app.report.output",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
