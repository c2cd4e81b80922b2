"""Executor outcomes -> the tidy tables everything downstream reads (runs.csv, hourly.parquet).

This is the only place that touches outcome objects; statistics, figures and text
work from these DataFrames alone, so a report can be rebuilt from the files on disk.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from sim.model.ecosystem import ECOSYSTEM_METRICS, YEARLY_METRICS
from sim.model.metrics import RUN_METRICS
from sim.model.runs import YEARLY_KEY

ID_COLUMNS = ("arm", "replication", "seed")


def runs_table(outcomes: Iterable[Any], param_keys: Sequence[str]) -> pd.DataFrame:
    """One row per run: arm, replication, seed, the parameters that vary, every metric, and the error if it failed."""
    outcomes = list(outcomes)
    known = list(RUN_METRICS) + list(ECOSYSTEM_METRICS)
    extra = sorted({k for o in outcomes if o.summary for k in o.summary if not k.startswith(YEARLY_KEY)} - set(known))
    metrics = known + extra
    rows = []
    for o in outcomes:
        labels = dict(o.task.labels)
        flat = o.task.params.flat()
        row: dict[str, Any] = {
            "arm": labels.pop("arm", f"task{o.task.index}"),
            "replication": labels.pop("replication", 0),
            "seed": o.task.seed,
        }
        row.update({k: _cell(flat[k]) for k in param_keys})
        row.update({k: v for k, v in labels.items() if k not in row})
        summary = o.summary or {}
        row.update({m: _num(summary.get(m)) for m in metrics})
        row["error"] = o.error or ""
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=[*ID_COLUMNS, *param_keys, *metrics, "error"])
    return frame


def yearly_table(outcomes: Iterable[Any]) -> pd.DataFrame:
    """yearly.csv: one row per run and year (arm, replication, seed, year, the yearly metrics)."""
    rows = []
    for o in outcomes:
        if o.error or not o.summary:
            continue
        years: dict[int, dict[str, float]] = {}
        for key, value in o.summary.items():
            if key.startswith(YEARLY_KEY):
                year, name = key[len(YEARLY_KEY):].split("/", 1)
                years.setdefault(int(year), {})[name] = _num(value)
        labels = dict(o.task.labels)  # a sweep's runs are labelled by design point and parameter values
        ids = {"arm": labels.pop("arm", f"task{o.task.index}"), "replication": labels.pop("replication", 0),
               "seed": o.task.seed, **labels}
        for year in sorted(years):
            rows.append({**ids, "year": year, **{m: years[year].get(m, float("nan")) for m in YEARLY_METRICS}})
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=[*ID_COLUMNS, "year", *YEARLY_METRICS])


def hourly_table(outcomes: Iterable[Any]) -> pd.DataFrame | None:
    """All runs' hourly series stacked, keyed by arm, replication and seed."""
    parts = []
    for o in outcomes:
        if o.hourly is None or o.error:
            continue
        part = o.hourly.copy()
        part.insert(0, "seed", np.int64(o.task.seed))
        part.insert(0, "replication", np.int32(o.task.labels.get("replication", 0)))
        part.insert(0, "arm", o.task.labels.get("arm", f"task{o.task.index}"))
        parts.append(part)
    if not parts:
        return None
    frame = pd.concat(parts, ignore_index=True)
    frame["arm"] = frame["arm"].astype("category")  # float64 kept: researchers re-derive metrics from it
    return frame


def ok_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs that completed (failed runs stay in runs.csv but carry no metrics)."""
    if "error" not in runs:
        return runs
    err = runs["error"]
    return runs[err.isna() | (err.astype(object) == "")]


def metric_columns(runs: pd.DataFrame) -> list[str]:
    """The metric columns of a runs table: the contract's metrics first, then any numeric extras."""
    skip = set(ID_COLUMNS) | {"error"}
    known = [m for m in (*RUN_METRICS, *ECOSYSTEM_METRICS) if m in runs]
    extra = [c for c in runs.columns if c not in skip and c not in known and "." not in c
             and pd.api.types.is_float_dtype(runs[c])]
    return known + extra


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _cell(value: Any) -> Any:
    return "+".join(map(str, value)) if isinstance(value, (list, tuple)) else value
