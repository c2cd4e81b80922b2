"""A calibration folder's files: posterior, calibrated parameter set, figures, report.

Everything here is rebuilt from files in the folder (abc.db, posterior.parquet,
predictive.parquet, manifest.json), so ``run.py report DIR`` and ``run.py validate DIR``
can redo it without the history's run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.app.report.render import Block, to_html, to_markdown
from sim.experiments.calibration.abc import Generation
from sim.experiments.calibration.paramset import write_param_set
from sim.experiments.calibration.spec import Spec, typed_values
from sim.experiments.calibration.validate import CURVE, LEVEL, WEIGHT, effective_sample_size, parameter_columns, posterior_median, weighted_quantile

FIGURES = {
    "posterior_marginals.png": "Posterior marginals (weighted histogram; x-axis spans the prior; line: median)",
    "posterior_pairs.png": "Posterior pairs (point size: weight)",
    "fit.png": "Observed vs posterior predictive, in target sds (90% interval; filled: hard targets)",
    "intraday.png": "Nov 11 cumulative share of the day's GMV: 90% predictive band and median vs published moments",
}
INTRADAY_DATA = Path(__file__).resolve().parents[2] / "data" / "double11_intraday.csv"


def write_posterior(history: Any, out: Path) -> pd.DataFrame:
    """posterior.parquet from the history's last generation: parameters, weight, generation."""
    frame, w = history.get_distribution(m=0, t=history.max_t)
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    frame[WEIGHT] = np.asarray(w, dtype=float) / np.sum(w)
    frame["generation"] = int(history.max_t)
    frame.to_parquet(out / "posterior.parquet", index=False)
    return frame


def write_calibrated(spec: Spec, posterior: pd.DataFrame, out: Path, note: str) -> dict[str, Any]:
    """calibrated.toml: the posterior median as a parameter set (base keys that differ from defaults too)."""
    median = typed_values(posterior_median(posterior))
    values = {**{k: v for k, v in spec.base.items() if not k.startswith(("season.", "festival.format"))}, **median}
    write_param_set(out / "calibrated.toml", values,
                    header=[f"Calibration {spec.name}: posterior median of {len(median)} free parameters.", note])
    return values


def figures(spec: Spec, posterior: pd.DataFrame, predicted: pd.DataFrame | None, fit: pd.DataFrame | None,
            out: Path) -> list[str]:
    """Write the figures that the available tables allow; returns their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    made = []
    cols = parameter_columns(posterior)
    w = posterior[WEIGHT].to_numpy(dtype=float)
    n = len(cols)
    ncol = min(3, n)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4 * ncol, 2.8 * nrow), squeeze=False)
    for ax, c in zip(axes.flat, cols):
        prior = spec.priors[c]
        ax.hist(posterior[c], bins=20, range=(prior.low, prior.high), weights=w, color="#4c72b0", alpha=0.8)
        ax.axvline(weighted_quantile(posterior[c].to_numpy(dtype=float), w, 0.5), color="k", lw=1)
        ax.set_xlim(prior.low, prior.high)
        ax.set_title(c, fontsize=9)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(fig_dir / "posterior_marginals.png", dpi=90)
    plt.close(fig)
    made.append("posterior_marginals.png")

    if n >= 2:
        fig, axes = plt.subplots(n, n, figsize=(1.9 * n, 1.9 * n), squeeze=False)
        size = 60 * w / w.max()
        for i, a in enumerate(cols):
            for j, b in enumerate(cols):
                ax = axes[i, j]
                if j >= i:
                    ax.axis("off") if j > i else ax.hist(posterior[a], bins=15, weights=w, color="#4c72b0")
                else:
                    ax.scatter(posterior[b], posterior[a], s=size, alpha=0.5, color="#4c72b0")
                    ax.set_xlim(spec.priors[b].low, spec.priors[b].high)
                    ax.set_ylim(spec.priors[a].low, spec.priors[a].high)
                ax.tick_params(labelsize=6)
                if i == n - 1:
                    ax.set_xlabel(b.split(".")[-1], fontsize=7)
                if j == 0:
                    ax.set_ylabel(a.split(".")[-1], fontsize=7)
        fig.tight_layout()
        fig.savefig(fig_dir / "posterior_pairs.png", dpi=80)
        plt.close(fig)
        made.append("posterior_pairs.png")

    if fit is not None:
        sd = {t.name: t.sd for t in spec.targets}
        hard = {t.name: t.hard for t in spec.targets}
        fig, ax = plt.subplots(figsize=(7, 0.45 * len(fit) + 1.2))
        for k, row in enumerate(fit.itertuples()):
            s = sd[row.target]
            lo, med, hi = ((getattr(row, c) - row.observed) / s for c in ("predicted_lo", "predicted_median", "predicted_hi"))
            ax.plot([lo, hi], [k, k], color="#4c72b0", lw=3)
            ax.plot(med, k, "o", color="#4c72b0", mfc="#4c72b0" if hard[row.target] else "white")
        ax.axvline(0, color="k", lw=1)
        ax.axvspan(-1, 1, color="#dddddd", zorder=0)
        ax.set_yticks(range(len(fit)), fit.target)
        ax.invert_yaxis()  # first target on top, as in fit.csv
        ax.set_xlabel("(predicted - observed) / target sd")
        fig.tight_layout()
        fig.savefig(fig_dir / "fit.png", dpi=90)
        plt.close(fig)
        made.append("fit.png")

    if predicted is not None and set(CURVE) <= set(predicted.columns):
        curves = predicted[CURVE].to_numpy(dtype=float)
        hours = np.arange(25)
        lo, med, hi = np.quantile(curves, [(1 - LEVEL) / 2, 0.5, 1 - (1 - LEVEL) / 2], axis=0)
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.fill_between(hours, lo, hi, color="#4c72b0", alpha=0.25, label="model, 90% predictive")
        ax.plot(hours, med, color="#4c72b0", label="model, median")
        pub = pd.read_csv(INTRADAY_DATA)
        for year, marker in ((2019, "o"), (2017, "s")):
            d = pub[pub.year == year]
            total = float(d.cumulative_gmv_cny_bn.max())
            ax.plot(d.elapsed_s / 3600, d.cumulative_gmv_cny_bn / total, marker, color="#c44e52" if year == 2019 else "#888888",
                    mfc="#c44e52" if year == 2019 else "white", label=f"published {year}")
        ax.set_xlabel("hour of Nov 11")
        ax.set_ylabel("share of the day's GMV sold")
        ax.set_xlim(0, 24)
        ax.set_ylim(0, 1.02)
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        fig.savefig(fig_dir / "intraday.png", dpi=90)
        plt.close(fig)
        made.append("intraday.png")
    return made


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def report(spec: Spec, manifest: dict[str, Any], posterior: pd.DataFrame, fit: pd.DataFrame | None,
           gens: list[Generation], made: list[str], out: Path) -> dict[str, Path]:
    """report.md and a self-contained report.html."""
    info = manifest.get("calibration", {})
    w = posterior[WEIGHT].to_numpy(dtype=float)
    blocks = [Block("h1", f"Calibration {spec.name}"), Block("p", spec.description)]
    if fit is not None:
        hard = {t.name for t in spec.targets if t.hard}
        inside = fit[fit.target.isin(hard)].inside
        outside = ", ".join(fit[fit.target.isin(hard) & ~fit.inside].target) or "none"
        blocks.append(Block("p", f"**{int(inside.sum())} of {len(inside)} hard targets** lie inside the model's "
                                 f"{LEVEL:.0%} posterior predictive interval (outside: {outside})."))
    blocks.append(Block("p", f"ABC-SMC (pyabc): population {spec.method.population_size}, "
                             f"{len(gens)} generations, {info.get('simulations', '?')} simulations of "
                             f"{spec.method.consumers:,} consumers each, wall time "
                             f"{(manifest.get('wall_seconds') or 0) / 60:.1f} min on {manifest.get('workers')} worker(s). "
                             f"Final threshold {gens[-1].epsilon:.2f} (distance in target sds)." if gens else ""))
    blocks.append(Block("p", f"Command: `{manifest.get('command', '')}`"))
    blocks.append(Block("h2", "Posterior"))
    ess = effective_sample_size(w)
    blocks.append(Block("p", f"Effective sample size of the last generation: {ess:.1f} of {w.size} particles"
                             + (" - a few particles carry most of the weight, so the weighted median and intervals "
                                "rest on them: run more generations or a larger population before trusting them."
                                if ess < 0.25 * w.size else ".")))
    rows = []
    for c in parameter_columns(posterior):
        v = posterior[c].to_numpy(dtype=float)
        p = spec.priors[c]
        q = [weighted_quantile(v, w, x) for x in (0.05, 0.5, 0.95)]
        rows.append([f"`{c}`", f"{p.distribution} [{_fmt(p.low)}, {_fmt(p.high)}]", _fmt(q[1]),
                     f"{_fmt(q[0])} - {_fmt(q[2])}", f"{(q[2] - q[0]) / (p.high - p.low):.0%}"])
    blocks.append(Block("table", items=rows, header=["parameter", "prior", "median", "90% interval",
                                                      "interval / prior range"]))
    blocks.append(Block("p", "The median is in `calibrated.toml`, a parameter set: "
                             "`python run.py SCENARIO --params calibrated.toml` (or `--posterior` this folder to "
                             "draw a parameter vector per replication)."))
    if fit is not None:
        blocks.append(Block("h2", "Fit"))
        src = {t.name: (t.source, ("hard" if t.hard else "soft") + ("" if t.fit else ", reported only"), t.sd)
               for t in spec.targets}
        blocks.append(Block("table", header=["target", "observed", "sd", "predicted median", "90% interval", "inside",
                                             "kind", "source"],
                            items=[[r.target, _fmt(r.observed), _fmt(src[r.target][2]), _fmt(r.predicted_median),
                                    f"{_fmt(r.predicted_lo)} - {_fmt(r.predicted_hi)}", "yes" if r.inside else "**no**",
                                    src[r.target][1], src[r.target][0]] for r in fit.itertuples()]))
        pc = manifest.get("validation") or {}
        blocks.append(Block("p", f"Predictive check: {pc.get('draws', '?')} posterior draws simulated with "
                                 f"{pc.get('consumers', '?'):,} consumers each, each on its own seed "
                                 f"(`python run.py validate DIR --consumers N --draws K` redoes it)."))
    if gens:
        blocks.append(Block("h2", "Generations"))
        blocks.append(Block("table", header=["generation", "threshold", "acceptance rate", "simulations"],
                            items=[[g.t, f"{g.epsilon:.2f}", f"{g.acceptance_rate:.2f}", g.simulations] for g in gens]))
    blocks.append(Block("h2", "Figures"))
    for name in made:
        blocks.append(Block("fig", FIGURES[name], items=[name]))
    blocks.append(Block("p", f"Generated {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC."))
    (out / "report.md").write_text(to_markdown(blocks), encoding="utf-8")
    (out / "report.html").write_text(to_html(blocks, out / "figures"), encoding="utf-8")
    return {"report_md": out / "report.md", "report_html": out / "report.html"}
