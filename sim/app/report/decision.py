"""The decision summary: for each goal, which arm to pick, by how much, how sure, at what cost.

At most five sentences (one per goal, at most four goals, and one on how sure), so a
strategist who reads only the top of the report takes away the right answer. Every
number comes from runs.csv and comparison.csv; only like-for-like metrics can be goals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from sim.experiments.goals import Goal
from sim.app.report.findings import festival_arms
from sim.app.report.labels import COSTS, fmt_diff, fmt_p, fmt_value, info
from sim.experiments.stats import FDR, lookup, paired, significant
from sim.experiments.tables import ok_runs


@dataclass
class Decision:
    """One goal's answer."""

    goal: Goal
    winner: str | None                 # None when no arm meets the bounds
    feasible: list[str]
    runner_up: str | None = None
    vs_runner: tuple[float, float, float, int, float] | None = None  # paired mean, CI, n, p
    costs: list[tuple[str, float]] = field(default_factory=list)     # clearly worse than the reference
    closest: str | None = None         # the arm nearest to the bounds when none meets them
    unmeasured: str | None = None      # a metric the goal needs that no run measured


def arm_means(runs: pd.DataFrame, metric: str) -> pd.Series:
    done = ok_runs(runs)
    return done.groupby("arm", sort=False)[metric].mean() if metric in done else pd.Series(dtype=float)


def between(runs: pd.DataFrame, a: str, b: str, metric: str) -> tuple[float, float, float, int, float]:
    """Paired difference a - b over replications (same seeds)."""
    done = ok_runs(runs)
    x = done[done["arm"] == a].set_index("replication")[metric]
    y = done[done["arm"] == b].set_index("replication")[metric]
    common = x.index.intersection(y.index)
    return paired(x.loc[common].to_numpy(), y.loc[common].to_numpy())


def decide(goal: Goal, runs: pd.DataFrame, comparison: pd.DataFrame, meta: pd.DataFrame, reference: str) -> Decision:
    """The best festival arm on the goal's metric among those whose mean meets every bound."""
    arms = [a for a in festival_arms(meta) if a in set(ok_runs(runs)["arm"])]
    for metric in [goal.metric] + [b.metric for b in goal.subject_to]:
        if not arm_means(runs, metric).reindex(arms).notna().any():
            return Decision(goal, None, [], unmeasured=metric)
    score = arm_means(runs, goal.metric).reindex(arms) * goal.sign
    ok = [a for a in arms if math.isfinite(score.get(a, math.nan))
          and all(b.holds(arm_means(runs, b.metric).get(a, math.nan)) for b in goal.subject_to)]
    if not ok:
        return Decision(goal, None, [], closest=_closest(goal, runs, arms))
    ranked = sorted(ok, key=lambda a: -score[a])
    winner = ranked[0]
    if reference in ok and score[reference] >= score[winner]:  # ties go to the status quo
        winner = reference
        ranked = [reference] + [a for a in ranked if a != reference]
    runner = ranked[1] if len(ranked) > 1 else None
    vs = between(runs, winner, runner, goal.metric) if runner else None
    costs = []
    if winner != reference:
        for m in COSTS:
            if m == goal.metric or not (comparison["metric"] == m).any():
                continue
            row = lookup(comparison, winner, m)
            if significant(row) and row["diff"] * info(m).better < 0:
                costs.append((m, float(row["diff"])))
    return Decision(goal, winner, ok, runner, vs, costs)


def _closest(goal: Goal, runs: pd.DataFrame, arms: list[str]) -> str | None:
    """The arm that misses the bounds by the least (relative shortfall summed over bounds)."""
    def miss(a: str) -> float:
        total = 0.0
        for b in goal.subject_to:
            x = arm_means(runs, b.metric).get(a, math.nan)
            if not math.isfinite(x):
                return math.inf
            gap = (x - b.value) if b.op == "<=" else (b.value - x)
            total += max(gap, 0.0) / (abs(b.value) or 1.0)
        return total
    return min(arms, key=miss) if arms else None


def sentence(d: Decision, runs: pd.DataFrame, comparison: pd.DataFrame, reference: str) -> str:
    """One sentence: the pick, its value, its margin over the reference and the runner-up, and its costs."""
    g, m = d.goal, d.goal.metric
    head = f"To {g.text()}"
    if d.unmeasured:
        return (f"{head}: not measured here, as no run has {info(d.unmeasured).label} (metrics against no festival "
                f"need the paired no-festival runs that `counterfactual = false` skips).")
    if d.winner is None:
        closest = f"; the closest is **{d.closest}**" if d.closest else ""
        return f"{head}: no arm meets the bounds{closest}, so relax them or add arms."
    value = fmt_value(m, arm_means(runs, m)[d.winner])
    if d.winner == reference:
        text = f"{head}: keep the reference **{reference}** ({value}), as no arm does better"
    else:
        row = lookup(comparison, d.winner, m)
        ci = f"95% CI {fmt_diff(m, row['diff_ci_low'])} to {fmt_diff(m, row['diff_ci_high'])}"
        sure = "clear" if significant(row) else "not clear"
        text = (f"{head}: pick **{d.winner}** ({value}), {fmt_diff(m, row['diff'])} vs the reference {reference} "
                f"({ci}, q={fmt_p(row.get('q_value', math.nan))}, {sure})")
    if d.runner_up and d.vs_runner:
        mean, lo, hi, n, p = d.vs_runner
        apart = (math.isfinite(lo) and math.isfinite(hi) and (lo > 0 or hi < 0))
        text += (f"{',' if d.winner == reference else ' and'} {fmt_diff(m, mean)} vs the runner-up {d.runner_up} "
                 f"(95% CI {fmt_diff(m, lo)} to {fmt_diff(m, hi)}{'' if apart else ', so the two cannot be told apart'})")
    if d.winner != reference:
        if d.costs:
            text += "; it costs " + ", ".join(f"{info(c).label} {fmt_diff(c, v)}" for c, v in d.costs[:4])
        else:
            text += "; no clear cost in backlog, delay, platform cost, satisfaction, churn or small brands"
    return text + "."


def summary(goals: tuple[Goal, ...], runs: pd.DataFrame, comparison: pd.DataFrame, meta: pd.DataFrame,
            reference: str) -> tuple[list[Decision], list[str]]:
    """The decisions and the summary's sentences (one per goal, then one on confidence)."""
    decisions = [decide(g, runs, comparison, meta, reference) for g in goals]
    sentences = [sentence(d, runs, comparison, reference) for d in decisions]
    n = int(ok_runs(runs).groupby("arm").size().min()) if not ok_runs(runs).empty else 0
    tests = int(comparison["p_value"].notna().sum())
    if tests == 0:
        sentences.append(f"With {n} replication{'s' * (n != 1)} per arm there are no intervals and no tests, so no "
                         "difference can be called clear: run at least 2 replications (6 or more to see modest "
                         "effects).")
    else:
        sentences.append(f"Differences are paired over {n} replications on the same seeds; 'clear' means the "
                         f"Benjamini-Hochberg q-value is below {FDR:g} across all {tests} comparisons in this report, "
                         f"and bounds are checked on each arm's mean.")
    return decisions, sentences


def recommended(decisions: list[Decision], reference: str) -> str | None:
    """The first goal's pick when it differs from the reference (what the "why" section explains)."""
    for d in decisions[:1]:
        if d.winner and d.winner != reference:
            return d.winner
    return None
