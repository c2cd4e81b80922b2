"""Design points from a sweep spec, and the executor tasks that run them.

Samplers work on the unit cube (scipy.stats.qmc for Latin hypercubes, SALib for Sobol
and Morris) and each factor maps its column to values through its inverse CDF, so every
sampler supports every distribution. The design is a pure function of the spec (the
sampler is seeded), which is what lets ``--resume`` rebuild it and trust task indices.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.execute import Outcome, Task
from sim.model.params import ParameterError, build_params
from sim.experiments.sweeps.spec import Factor, SweepSpec

DESIGN_POINT = "design_point"
REPLICATION = "replication"


@dataclass(frozen=True)
class Design:
    """Parameter values per design point (``frame``) and, for samplers, the unit-cube points."""

    method: str
    factors: tuple[Factor, ...]
    frame: pd.DataFrame            # one row per design point: design_point, then one column per factor key
    unit: np.ndarray | None        # (points, factors) in [0, 1]; None for grids
    levels: int = 4
    seed: int = 0

    @property
    def keys(self) -> list[str]:
        return [f.key for f in self.factors]

    def __len__(self) -> int:
        return len(self.frame)

    def problem(self) -> dict[str, Any]:
        """The SALib problem on the unit cube (values are mapped by the factors, not by SALib)."""
        return {"num_vars": len(self.factors), "names": self.keys, "bounds": [[0.0, 1.0]] * len(self.factors)}


def make_design(spec: SweepSpec) -> Design:
    return sample_design(spec.method, spec.factors, spec.samples, levels=spec.levels, seed=spec.sampler_seed)


def sample_design(method: str, factors: tuple[Factor, ...], samples: int | None, *, levels: int = 4, seed: int = 0) -> Design:
    """Design points for ``method`` (grid, lhs, sobol, morris) over ``factors``."""
    if method == "grid":
        rows = list(itertools.product(*(f.grid() for f in factors)))
        return Design(method, factors, _frame(factors, [list(col) for col in zip(*rows)]), None, levels, seed)
    unit = unit_sample(method, len(factors), samples or 1, levels=levels, seed=seed)
    columns = [f.from_unit(unit[:, j]) for j, f in enumerate(factors)]
    return Design(method, factors, _frame(factors, columns), unit, levels, seed)


def unit_sample(method: str, dims: int, samples: int, *, levels: int = 4, seed: int = 0) -> np.ndarray:
    """Points in [0, 1]^dims: ``samples`` LHS points, Saltelli's N(D+2), or N Morris trajectories."""
    from scipy.stats import qmc

    problem = {"num_vars": dims, "names": [f"x{j}" for j in range(dims)], "bounds": [[0.0, 1.0]] * dims}
    if method == "lhs":
        return qmc.LatinHypercube(d=dims, seed=seed).random(samples)
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, samples, calc_second_order=False, scramble=True, seed=seed)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, samples, num_levels=levels, seed=seed)
    raise ValueError(f"unknown sampler {method!r}")


def _frame(factors: tuple[Factor, ...], columns: list[list[Any]]) -> pd.DataFrame:
    n = len(columns[0]) if columns else 0
    data: dict[str, Any] = {DESIGN_POINT: np.arange(n)}
    for f, col in zip(factors, columns):
        data[f.key] = pd.Series(col, dtype=object if f.categorical else None)
    return pd.DataFrame(data)


def design_tasks(spec: SweepSpec, design: Design) -> tuple[list[Task], list[Outcome]]:
    """One task per (design point, replication); points the schema rejects become failed outcomes.

    Task index = design_point * replications + replication, so a resumed or re-ordered
    sweep maps every stored run back to the same point.
    """
    base = spec.base_params()
    tasks: list[Task] = []
    invalid: list[Outcome] = []
    for point in design.frame.to_dict("records"):
        dp = int(point.pop(DESIGN_POINT))
        values = {k: _plain(v) for k, v in point.items()}
        try:
            params, error = build_params(values, base=base), None
        except ParameterError as exc:
            params, error = base, f"ParameterError: {exc}"
        for r in range(spec.replications):
            task = Task(index=dp * spec.replications + r, params=params, seed=spec.run_seed(dp, r),
                        counterfactual=spec.counterfactual, labels={DESIGN_POINT: dp, REPLICATION: r, **values})
            if error is None:
                tasks.append(task)
            else:
                invalid.append(Outcome(task, None, None, error))
    return tasks, invalid


def design_table(spec: SweepSpec, design: Design) -> pd.DataFrame:
    """design.csv: the design point, its parameter values and the seeds of its replications."""
    table = design.frame.copy()
    table["seeds"] = [" ".join(str(spec.run_seed(dp, r)) for r in range(spec.replications)) for dp in table[DESIGN_POINT]]
    return table


def _plain(value: Any) -> Any:
    """numpy scalars -> Python, so pydantic and the CSV see ordinary numbers."""
    return value.item() if isinstance(value, np.generic) else value
