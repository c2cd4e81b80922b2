"""`--explain`: rerun the recommended and the reference arm with one mechanism switched off at a time.

The difference between the two arms with every mechanism on, minus the difference with
mechanism m off in both (same seeds, paired), is the part of the advantage m accounts for.
It costs 2 runs per mechanism and replication (plus their `none` counterfactuals), so it
is opt-in; the report reads the result from explain.csv (sim.app.report.explain).
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from sim.model.metrics import RELATIVE_METRICS
from sim.model.mechanisms import MECHANISMS as REGISTRY

MECHANISMS: tuple[str, ...] = tuple(m.switch for m in REGISTRY)
ALL_ON = "all_on"  # the `mechanism` value of the rows with every mechanism on


def explain_runs(scenario: Any, runs: pd.DataFrame, arm: str, reference: str, metric: str, *,
                 mechanisms: Sequence[str] = MECHANISMS, workers: int | None = 1, progress: bool = False,
                 **execute_options: Any) -> pd.DataFrame:
    """explain.csv's rows: per replication, the paired difference arm - reference in ``metric`` with every
    mechanism on (from ``runs``) and with each of ``mechanisms`` switched off in both arms."""
    from sim.experiments.execute import Task, execute
    from sim.experiments.tables import ok_runs

    unknown = [m for m in mechanisms if m not in MECHANISMS]
    if unknown:
        raise ValueError(f"mechanisms: unknown mechanism {unknown[0]!r} (known: {', '.join(MECHANISMS)})")
    done = ok_runs(runs)
    on = done[done["arm"].isin([arm, reference])].pivot(index="replication", columns="arm", values=metric)
    rows = [{"mechanism": ALL_ON, "replication": int(r), "diff": float(on.loc[r, arm] - on.loc[r, reference])}
            for r in on.index]
    tasks = []
    for m in mechanisms:
        for r in on.index:
            for name in (arm, reference):  # same chunk: arms with one policy share their `none` run
                params = scenario.arm(name).params.with_overrides({f"mechanisms.{m}": False})
                tasks.append(Task(index=len(tasks), params=params, seed=scenario.run_seed(int(r)),
                                  counterfactual=metric in RELATIVE_METRICS,
                                  labels={"mechanism": m, "replication": int(r), "arm": name}))
    outcomes = execute(tasks, workers=workers, keep_hourly=False, progress=progress, chunk_size=2, **execute_options)
    values = {(o.task.labels["mechanism"], o.task.labels["replication"], o.task.labels["arm"]):
              (o.summary or {}).get(metric, float("nan")) for o in outcomes}
    for m in mechanisms:
        for r in on.index:
            rows.append({"mechanism": m, "replication": int(r),
                         "diff": values[(m, int(r), arm)] - values[(m, int(r), reference)]})
    frame = pd.DataFrame(rows)
    frame.insert(0, "metric", metric)
    frame.insert(0, "reference", reference)
    frame.insert(0, "arm", arm)
    return frame
