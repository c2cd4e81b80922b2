"""Posterior draws and the posterior predictive check (``run.py validate``).

Draws are a seeded weighted resample of the last ABC generation; each draw is simulated
on its own seed, so the predictive interval holds parameter and simulation noise together.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.calibration import stats
from sim.experiments.calibration.simulate import Simulator
from sim.experiments.calibration.spec import Spec

WEIGHT = "weight"
LEVEL = 0.90  # predictive interval
CURVE = [f"curve_{h:02d}" for h in range(25)]


def read_posterior(out: Path) -> pd.DataFrame:
    """posterior.parquet: one row per accepted particle, parameter columns and ``weight``."""
    path = Path(out) / "posterior.parquet"
    if not path.exists():
        from sim.experiments.calibration import CalibrationError

        raise CalibrationError(f"{out}: no posterior.parquet (not a finished calibration folder)")
    return pd.read_parquet(path)


def parameter_columns(posterior: pd.DataFrame) -> list[str]:
    return [c for c in posterior.columns if c not in (WEIGHT, "generation")]


def draw(posterior: pd.DataFrame, k: int, seed: int) -> list[dict[str, float]]:
    """``k`` parameter vectors resampled with the particles' weights (seeded: draw r is fixed)."""
    w = posterior[WEIGHT].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(posterior), size=k, replace=True, p=w / w.sum())
    cols = parameter_columns(posterior)
    return [{c: float(posterior[c].iloc[i]) for c in cols} for i in rows]


def posterior_draws(folder: Path, k: int, seed: int) -> list[dict[str, Any]]:
    """``k`` typed parameter vectors from a calibration folder's posterior (for ``--posterior``)."""
    from sim.experiments.calibration.spec import typed_values

    return [typed_values(d) for d in draw(read_posterior(folder), k, seed)]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cum, v))


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective number of particles: n for equal weights, 1 when one particle has them all."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    return 1.0 / float(np.sum(w**2))


def posterior_median(posterior: pd.DataFrame) -> dict[str, float]:
    w = posterior[WEIGHT].to_numpy(dtype=float)
    return {c: weighted_quantile(posterior[c].to_numpy(dtype=float), w, 0.5) for c in parameter_columns(posterior)}


class _Predict:
    """Picklable: one posterior draw -> its statistics and Nov 11 cumulative curve."""

    def __init__(self, spec: Spec, consumers: int) -> None:
        self.sim = Simulator(spec, consumers=consumers)

    def __call__(self, job: tuple[int, dict[str, float]]) -> dict[str, float]:
        r, values = job
        self.sim.replicate = r + 1
        hourly = self.sim.hourly(values)
        out = self.sim.statistics(hourly)
        out.update(dict(zip(CURVE, stats.cumulative_curve(hourly))))
        return {"draw": r, **values, **out}


def predictive(spec: Spec, posterior: pd.DataFrame, *, draws: int, consumers: int, workers: int,
               seed: int | None = None, progress: bool = True) -> pd.DataFrame:
    """Simulate ``draws`` posterior vectors; one row per draw (parameters, statistics, curve)."""
    from tqdm import tqdm

    jobs = list(enumerate(draw(posterior, draws, spec.seed if seed is None else seed)))
    fn = _Predict(spec, consumers)
    with tqdm(total=len(jobs), unit="sim", desc="predictive", disable=not progress, dynamic_ncols=True) as bar:
        if workers == 1:
            rows = []
            for job in jobs:
                rows.append(fn(job))
                bar.update(1)
        else:
            with ProcessPoolExecutor(workers) as pool:
                rows = []
                for row in pool.map(fn, jobs):
                    rows.append(row)
                    bar.update(1)
    return pd.DataFrame(rows)


def fit_table(spec: Spec, predicted: pd.DataFrame) -> pd.DataFrame:
    """fit.csv: each target against its 90% posterior predictive interval."""
    lo, hi = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
    rows = []
    for t in spec.targets:
        y = predicted[t.name].to_numpy(dtype=float)
        q = np.quantile(y, [lo, 0.5, hi])
        rows.append({"target": t.name, "observed": t.observed, "predicted_median": q[1], "predicted_lo": q[0],
                     "predicted_hi": q[2], "inside": bool(q[0] <= t.observed <= q[2])})
    return pd.DataFrame(rows)


def run_validation(spec: Spec, out: Path, *, draws: int, consumers: int, workers: int,
                   progress: bool = True) -> dict[str, Any]:
    """Predictive check of a calibration folder: writes predictive.parquet and fit.csv."""
    posterior = read_posterior(out)
    predicted = predictive(spec, posterior, draws=draws, consumers=consumers, workers=workers, progress=progress)
    predicted.to_parquet(Path(out) / "predictive.parquet", index=False)
    fit = fit_table(spec, predicted)
    fit.to_csv(Path(out) / "fit.csv", index=False)
    return {"draws": draws, "consumers": consumers, "fit": fit}
