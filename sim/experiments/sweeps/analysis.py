"""Sensitivity of each outcome to each varied parameter, by the sampler's own method.

- Sobol (SALib, Saltelli design): first-order S1 and total ST with bootstrap intervals.
- Morris (SALib): mu_star (mean absolute elementary effect, per unit of the parameter's
  normalised range), its interval, and sigma (interaction / non-linearity).
- Grid: the same variance shares S1 and ST, computed exactly on the grid (a full
  factorial needs no estimator).
- Latin hypercube: Spearman rank correlation with its p-value.
Replications are averaged per design point first, so the indices describe the model's
mean response and not its seed noise.
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from sim.experiments.sweeps.design import DESIGN_POINT, Design

COLUMNS = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu_star", "mu_star_conf", "sigma"),
    "grid": ("S1", "ST"),
    "lhs": ("spearman_rho", "p_value"),
}
IMPORTANCE = {"sobol": "ST", "grid": "ST", "morris": "mu_star", "lhs": "spearman_rho"}


def point_means(runs: pd.DataFrame, outcomes: Sequence[str], n_points: int) -> pd.DataFrame:
    """Mean of each outcome over a design point's successful replications (NaN if none succeeded)."""
    ok = runs[runs["error"].isna()] if "error" in runs else runs
    cols = [o for o in outcomes if o in ok]
    means = ok.groupby(DESIGN_POINT)[cols].mean() if len(ok) else pd.DataFrame(columns=cols)
    return means.reindex(index=range(n_points), columns=list(outcomes)).astype(float)


def sensitivity(design: Design, means: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One row per (outcome, parameter) with the method's indices, and notes on what was skipped."""
    rows: list[dict[str, float | str]] = []
    notes: list[str] = []
    for outcome in means.columns:
        y = means[outcome].to_numpy(dtype=float)
        problem = _problem(design, y)
        missing = int((~np.isfinite(y)).sum())
        if missing and not problem:
            notes.append(f"{outcome}: {missing} of {len(y)} design points have no successful run and were left out")
        if problem:
            notes.append(f"{outcome}: not analysed, {problem}")
            values = {k: [math.nan] * len(design.keys) for k in COLUMNS[design.method]}
        else:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                values = _ANALYSERS[design.method](design, y)
        for j, key in enumerate(design.keys):
            rows.append({"outcome": outcome, "parameter": key, **{c: float(values[c][j]) for c in COLUMNS[design.method]}})
    table = pd.DataFrame(rows, columns=["outcome", "parameter", *COLUMNS[design.method]])
    return table, notes + _precision_notes(table, design.method)


def _precision_notes(table: pd.DataFrame, method: str, widest: float = 0.1) -> list[str]:
    """Flag Sobol estimates whose 95% intervals are too wide to rank parameters (too few samples)."""
    if method != "sobol" or table.empty:
        return []
    wide = table.groupby("outcome", sort=False)["ST_conf"].max()
    wide = wide[wide > widest]
    if wide.empty:
        return []
    listed = ", ".join(f"{o} (ST_conf up to {v:.2f})" for o, v in wide.items())
    return [f"Wide intervals for {listed}: raise --samples (runs grow with samples x (parameters + 2))."]


def _problem(design: Design, y: np.ndarray) -> str | None:
    finite = np.isfinite(y)
    if design.method in ("sobol", "morris") and not finite.all():
        return f"{int((~finite).sum())} of {len(y)} design points have no successful run (Sobol/Morris need all)"
    if finite.sum() < 3:
        return "fewer than 3 design points have a result"
    if np.nanstd(y) == 0:
        return "the outcome does not vary across the design"
    return None


def _sobol(design: Design, y: np.ndarray) -> dict[str, np.ndarray]:
    from SALib.analyze import sobol

    res = sobol.analyze(design.problem(), y, calc_second_order=False, print_to_console=False, seed=design.seed)
    return {k: np.asarray(res[k]) for k in COLUMNS["sobol"]}


def _morris(design: Design, y: np.ndarray) -> dict[str, np.ndarray]:
    from SALib.analyze import morris

    res = morris.analyze(design.problem(), design.unit, y, num_levels=design.levels, print_to_console=False, seed=design.seed)
    return {k: np.asarray(res[k], dtype=float) for k in COLUMNS["morris"]}


def _grid(design: Design, y: np.ndarray) -> dict[str, np.ndarray]:
    """Var(E[Y|X_i]) / Var(Y) and E[Var(Y|X_~i)] / Var(Y) over the grid's points."""
    frame = design.frame[design.keys].astype(object).assign(_y=y)
    frame = frame[np.isfinite(y)]
    total = frame["_y"].var(ddof=0)
    s1, st = [], []
    for key in design.keys:
        s1.append(frame.groupby(key)["_y"].transform("mean").var(ddof=0) / total)
        others = [k for k in design.keys if k != key]
        resid = frame["_y"] - (frame.groupby(others)["_y"].transform("mean") if others else frame["_y"].mean())
        st.append(float((resid ** 2).mean()) / total)
    return {"S1": np.array(s1), "ST": np.array(st)}


def _lhs(design: Design, y: np.ndarray) -> dict[str, np.ndarray]:
    from scipy.stats import spearmanr

    keep = np.isfinite(y)
    rho, p = [], []
    for factor in design.factors:
        x = design.frame[factor.key]
        x = x.map({v: i for i, v in enumerate(factor.values)}) if factor.categorical else x
        result = spearmanr(x.to_numpy(dtype=float)[keep], y[keep])
        rho.append(result.statistic)
        p.append(result.pvalue)
    return {"spearman_rho": np.array(rho), "p_value": np.array(p)}


_ANALYSERS = {"sobol": _sobol, "morris": _morris, "grid": _grid, "lhs": _lhs}


def drivers(table: pd.DataFrame, method: str, top: int = 3) -> dict[str, list[tuple[str, float]]]:
    """Per outcome, the parameters that matter most (by ST, mu_star or |rho|), largest first."""
    column = IMPORTANCE[method]
    out: dict[str, list[tuple[str, float]]] = {}
    for outcome, part in table.groupby("outcome", sort=False):
        score = part[column].abs()
        ranked = part.assign(_score=score).dropna(subset=["_score"]).sort_values("_score", ascending=False)
        out[str(outcome)] = [(str(r.parameter), float(getattr(r, column))) for r in ranked.head(top).itertuples()]
    return out
