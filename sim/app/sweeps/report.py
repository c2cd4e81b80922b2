"""Figures and the short report of a sweep: which parameters drive which outcomes.

The report uses the scenario report's blocks and renderers (``sim.app.report.render``), so
report.md and report.html look alike for scenarios and sweeps and never disagree.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from sim.app.report.labels import fmt_diff
from sim.app.report.render import Block, to_html, to_markdown
from sim.experiments.outcomes import info
from sim.experiments.sweeps.analysis import COLUMNS, IMPORTANCE, drivers
from sim.experiments.sweeps.design import Design

METHOD_NAMES = {"sobol": "Sobol (Saltelli sampling, SALib)", "morris": "Morris elementary effects (SALib)",
                "grid": "full grid", "lhs": "Latin hypercube (scipy.stats.qmc)"}
INDEX_MEANING = {
    "sobol": "ST is the share of the outcome's variance due to the parameter including interactions; S1 without them.",
    "grid": "S1 and ST are the parameter's variance shares computed exactly on the grid (ST includes interactions).",
    "morris": "mu_star is the mean absolute change of the outcome, in the outcome's unit, per full-range step of the parameter; sigma flags interactions or non-linearity.",
    "lhs": "spearman_rho is the rank correlation of the outcome with the parameter over the hypercube.",
}


def fmt_index(method: str, outcome: str, value: float) -> str:
    """Morris' mu_star is a change of the outcome, so it reads in the outcome's unit (shares in
    percentage points); the other methods' indices are unitless."""
    if method != "morris":
        return f"{value:.3g}"
    text = fmt_diff(outcome, value).lstrip("+±")
    meta = info(outcome)
    return f"{text} {meta.unit}" if meta.kind in ("count", "ratio", "score") and meta.unit else text


# --------------------------------------------------------------------------- figures


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def sensitivity_figure(table: pd.DataFrame, method: str, path: Path) -> Path:
    """One panel per outcome: bars of the method's indices per parameter, with intervals where known."""
    plt = _pyplot()
    outcomes = list(dict.fromkeys(table["outcome"]))
    bars = [c for c in COLUMNS[method] if not c.endswith("_conf") and c != "p_value"]
    ncols = min(3, len(outcomes))
    nrows = math.ceil(len(outcomes) / ncols)
    params = list(dict.fromkeys(table["parameter"]))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 0.5 + (0.45 * len(params) + 1) * nrows), squeeze=False)
    height = 0.8 / len(bars)
    for ax, outcome in zip(axes.flat, outcomes):
        part = table[table["outcome"] == outcome].set_index("parameter").reindex(params)
        y = np.arange(len(params))
        for b, col in enumerate(bars):
            err = part.get(f"{col}_conf")
            ax.barh(y + b * height, part[col], height, xerr=None if err is None else err.to_numpy(float), label=col, capsize=2)
        ax.set_yticks(y + height * (len(bars) - 1) / 2, params, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(outcome, fontsize=9)
        ax.axvline(0, color="black", lw=0.6)
    for ax in list(axes.flat)[len(outcomes):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def response_figure(design: Design, runs: pd.DataFrame, means: pd.DataFrame, outcome: str, path: Path) -> Path:
    """The outcome against each varied parameter, one readable panel each in a grid of up to three columns:
    level means with 95% intervals for a grid, points otherwise; the outcome in readable units."""
    from sim.app.report.labels import axis
    from sim.experiments.stats import mean_ci

    plt = _pyplot()
    keys = design.keys
    ncols = min(3, len(keys))
    nrows = -(-len(keys) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.4 * nrows + 0.6), squeeze=False, sharey=True)
    scale, ylabel = axis(outcome)
    ok = runs[runs["error"].isna()]
    for ax, factor in zip(axes.flat, design.factors):
        if design.method == "grid":
            levels = factor.grid()
            stats = [mean_ci(ok.loc[ok[factor.key] == level, outcome].to_numpy(float)) for level in levels]
            mean = np.array([s[0] for s in stats]) / scale
            lo = np.array([s[1] for s in stats]) / scale
            hi = np.array([s[2] for s in stats]) / scale
            x = np.arange(len(levels)) if factor.categorical else np.array(levels, dtype=float)
            ax.errorbar(x, mean, yerr=[np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)], marker="o", capsize=3)
            if factor.categorical:
                ax.set_xticks(x, [_tick(v) for v in levels], rotation=25, ha="right", fontsize=8)
        else:
            x = design.frame[factor.key]
            if factor.categorical:
                x = x.map({v: i for i, v in enumerate(factor.values)})
                ax.set_xticks(range(len(factor.values)), [_tick(v) for v in factor.values], rotation=25, ha="right",
                              fontsize=8)
            ax.scatter(x.to_numpy(float), means[outcome].to_numpy(float) / scale, s=8, alpha=0.6)
        if factor.distribution == "loguniform":
            ax.set_xscale("log")
        ax.set_title(factor.key, fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel, fontsize=8)
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    fig.suptitle(f"Response of {ylabel} to each varied parameter (mean, 95% CI)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def _tick(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- report


def report_blocks(*, name: str, description: str, method: str, design: Design, runs: pd.DataFrame,
                  table: pd.DataFrame, notes: Sequence[str], figures: Sequence[Path], facts: dict[str, Any]) -> list[Block]:
    """The report's content: what ran, which parameters drive which outcomes, the indices, the figures."""
    n_failed = int(runs["error"].notna().sum())
    blocks = [Block("h1", f"Sweep: {name}")]
    if description:
        blocks.append(Block("p", " ".join(description.split())))
    blocks.append(Block("ul", items=[
        f"Sampler: {METHOD_NAMES[method]}; {len(design)} design points x {facts['replications']} replications = {len(runs)} runs"
        + (f" ({n_failed} failed, see failures.csv)" if n_failed else ""),
        f"Varied: {', '.join(f'`{k}`' for k in design.keys)}",
        f"Root seed {facts['root_seed']} ({facts['seeds']} seeds); wall time {facts.get('wall_seconds', 0):.0f} s; "
        f"commit {facts.get('git', {}).get('commit') or 'unknown'}",
    ]))
    blocks.append(Block("h2", "Which parameters drive which outcomes"))
    blocks.append(Block("p", INDEX_MEANING[method]))
    blocks.append(Block("ul", items=driver_sentences(table, method) or ["No outcome could be analysed."]))
    if notes:
        blocks.append(Block("ul", items=list(notes)))
    column = IMPORTANCE[method]
    outcomes = list(dict.fromkeys(table["outcome"]))
    pivot = table.pivot(index="parameter", columns="outcome", values=column).reindex(index=design.keys, columns=outcomes)
    blocks.append(Block("h2", f"Indices ({column}; full table in sensitivity.csv)"))
    blocks.append(Block("table", header=["parameter", *outcomes],
                        items=[[key, *("" if pd.isna(v) else fmt_index(method, o, v) for o, v in row.items())]
                               for key, row in pivot.iterrows()]))
    blocks.extend(_failure_blocks(runs))
    blocks.append(Block("h2", "Figures"))
    blocks.extend(Block("fig", f.stem.replace("-", ": ", 1), items=[f.name]) for f in figures)
    return blocks


def _failure_blocks(runs: pd.DataFrame, shown: int = 5) -> list[Block]:
    """The distinct errors, most frequent first, with how many runs and design points each hit."""
    failed = runs[runs["error"].notna()]
    if failed.empty:
        return []
    groups = failed.groupby("error")["design_point"].agg(["size", "nunique"]).sort_values("size", ascending=False)
    items = [f"{n} runs at {points} design points: {' '.join(str(error).split())[:300]}"
             for error, (n, points) in groups.head(shown).iterrows()]
    if len(groups) > shown:
        items.append(f"... and {len(groups) - shown} other errors (failures.csv has them all)")
    return [Block("h2", f"Failed runs ({len(failed)})"),
            Block("p", "Failed runs are listed in failures.csv and left out of every index; "
                       "a design point counts if at least one of its replications succeeded."),
            Block("ul", items=items)]


def driver_sentences(table: pd.DataFrame, method: str) -> list[str]:
    column = IMPORTANCE[method]
    sentences = []
    for outcome, ranked in drivers(table, method).items():
        if ranked:
            parts = [f"`{key}` ({column} {fmt_index(method, outcome, value)})" for key, value in ranked]
            sentences.append(f"**{outcome}**: mainly {parts[0]}" + (f", then {', '.join(parts[1:])}" if len(parts) > 1 else ""))
    return sentences


def write_report(out: Path, blocks: list[Block]) -> None:
    """report.md (figures linked) and report.html (figures embedded), from the same blocks."""
    (out / "report.md").write_text(to_markdown(blocks), encoding="utf-8")
    (out / "report.html").write_text(to_html(blocks, out / "figures"), encoding="utf-8")
