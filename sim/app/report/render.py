"""Assemble the report (answers first, then evidence) and render it as Markdown and self-contained HTML.

The report is built once as a list of blocks and rendered twice, so report.md and
report.html always say the same thing.
"""

from __future__ import annotations

import base64
import html
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.app.report.findings import (FORMAT_KEY, FORMAT_METRICS, HEADLINE_COLUMNS, POLICY_KEY, POLICY_METRICS, arms_metadata,
                       factor_section, festival_arms, headlines, tradeoffs)
from sim.experiments.goals import goals_or_default
from sim.app.report.blocks import Block
from sim.app.report.decision import summary
from sim.app.report.explain import WHY_FIGURES, why_blocks
from sim.app.report.glossary import glossary_blocks
from sim.app.report.labels import CONSOLE, fmt_value, info
from sim.experiments.stats import FDR, lookup
from sim.app.report.posterior_note import posterior_blocks
from sim.experiments.tables import ok_runs
from sim.app.report.venues import venue_changes


@dataclass
class ReportContext:
    """What the report needs besides the tables: names and provenance, never model internals."""

    name: str
    description: str
    reference: str
    replications: int
    seed: int
    command: str
    generated: str
    failures: list[dict[str, Any]] = field(default_factory=list)
    goals: tuple[Any, ...] = ()           # empty: the default goals
    explain: pd.DataFrame | None = None   # the "why" decomposition (explain.csv), if run
    posterior: str | None = None  # calibration folder the replications drew their parameters from


def build_blocks(ctx: ReportContext, runs: pd.DataFrame, comparison: pd.DataFrame,
                 figures: list[tuple[str, str]], hourly: pd.DataFrame | None = None) -> list[Block]:
    """The report's content: the decision first, then the evidence, then a glossary."""
    done = ok_runs(runs)
    meta = arms_metadata(done if not done.empty else runs)
    n_arms = runs["arm"].nunique()
    title = f"{ctx.name}: {ctx.description}" if ctx.description else ctx.name
    blocks = [Block("h1", title)]
    if done.empty:
        blocks.append(Block("p", "No run completed, so there is nothing to compare; see the failures below."))
        return blocks + _failures(ctx)
    _, sentences = summary(goals_or_default(ctx.goals), runs, comparison, meta, ctx.reference)
    blocks += [Block("h2", "Decision summary"), Block("ul", items=sentences)]
    blocks += _unsettled_warning(done)
    blocks += _expansion_note(done)
    tests = int(comparison["p_value"].notna().sum())
    blocks.append(Block("p", (
        f"{len(done)} of {len(runs)} runs completed: {n_arms} arms × {ctx.replications} replications, "
        f"root seed {ctx.seed}, generated {ctx.generated}. Every arm is compared with the reference arm "
        f"**{ctx.reference}** on the same seeds (common random numbers): differences are paired by replication, "
        + (f"with 95% confidence intervals, paired t-test p-values and Benjamini-Hochberg q-values that control the "
           f"false discovery rate at {FDR:.0%} across all {tests} comparisons of this report." if tests else
           "but with one replication there are no intervals and no tests."))))
    heads = headlines(comparison, meta)
    blocks.append(Block("h2", "Headline metrics"))
    blocks.append(Block("p", "The best festival arm on each like-for-like metric (totals over festival periods of "
                             "different length never decide a best; they are in the table per arm below). "
                             "Better means in the metric's preferred direction."))
    blocks.append(Block("table", header=HEADLINE_COLUMNS, items=[h.cells() for h in heads]))
    blocks += why_blocks(ctx.explain, figures)

    for key, metrics, heading in ((FORMAT_KEY, FORMAT_METRICS, "Festival format"),
                                  (POLICY_KEY, POLICY_METRICS, "Platform incentive policy")):
        bullets = factor_section(comparison, meta, ctx.reference, key, metrics) if key in meta else []
        if bullets:
            blocks += [Block("h2", heading), Block("p", f"Each line changes only the {key.split('.')[1]} of the "
                                                        f"reference arm {ctx.reference}."), Block("ul", items=bullets)]
    trade = tradeoffs(comparison, ctx.reference, festival_arms(meta))
    if trade:
        blocks += [Block("h2", "Trade-offs against the reference"),
                   Block("p", f"Headline metrics on which an arm is clearly better or worse (q < {FDR:g})."),
                   Block("ul", items=trade)]
    if ctx.posterior:
        blocks += posterior_blocks(runs, heads, ctx.reference, ctx.posterior)
    blocks += _online_offline(comparison, meta, hourly, ctx.reference)
    blocks += [Block("h2", "Key metrics per arm"),
               Block("p", "Mean over replications with the 95% confidence interval; the full table is comparison.csv. "
                          "Festival-period GMV is a total over the festival period, whose length is given: compare "
                          "arms on GMV per festival day or incremental GMV instead."),
               _arm_table(comparison, [a for a in meta["arm"]])]
    if figures:
        blocks.append(Block("h2", "Figures"))
        blocks += [Block("fig", caption, items=[name]) for name, caption in figures if name not in WHY_FIGURES]
    blocks += _failures(ctx)
    blocks += glossary_blocks()
    blocks += [Block("h2", "Reproduce"), Block("p", f"`{ctx.command}` — resolved parameters, seeds and versions are in "
                                                    "manifest.json; every run is a row of runs.csv.")]
    return blocks


SETTLED_GAP = 0.02  # the festival's after-effects have settled when the last week is this close to no festival


def _unsettled_warning(runs: pd.DataFrame) -> list[Block]:
    """Warn when a festival's after-effects have not settled by the season's end: then the
    incremental GMV still depends on where the season happens to stop."""
    if "final_week_gap" not in runs:
        return []
    gaps = runs.groupby("arm")["final_week_gap"].mean().abs()
    late = gaps[gaps > SETTLED_GAP]
    if late.empty:
        return []
    arms = ", ".join(f"{arm} ({gap:.1%})" for arm, gap in late.items())
    return [Block("p", f"**Warning:** the season ends before the festival's after-effects settle: the last week's "
                       f"GMV is still more than {SETTLED_GAP:.0%} away from no festival for {arms}. Incremental GMV "
                       f"would change with a later `season.end`.")]


PUBLISHED_EXPANSION = 1 / 3  # share of a promotion's bump that is category expansion (van Heerde, Leeflang & Wittink 2004)


def _expansion_note(runs: pd.DataFrame) -> list[Block]:
    """Say what incremental GMV rests on when the festival's extra units are mostly taken as new
    consumption: far more than published decompositions find, and set by hand."""
    if "expansion_share" not in runs:
        return []
    shares = runs.groupby("arm")["expansion_share"].mean().dropna()
    high = shares[shares > PUBLISHED_EXPANSION + 0.15]
    if high.empty:
        return []
    high = high.sort_values()
    if len(high) <= 3:
        arms = ", ".join(f"{arm} ({share:.0%})" for arm, share in high.items()) + " of the extra units"
    else:  # many arms: the range
        arms = (f"{high.iloc[0]:.0%} ({high.index[0]}) to {high.iloc[-1]:.0%} ({high.index[-1]}) of the extra units, "
                f"depending on the arm")
    return [Block("p", f"**Assumption:** incremental GMV counts the festival's extra units that meet no need as new "
                       f"consumption, which is not paid back later. That is {arms}, against about "
                       f"a third in published decompositions of promotion bumps. `consumers.expansion` sets it by "
                       f"hand; at the published third the festival's gain shrinks and can turn into a loss by January "
                       f"(docs/model.md, \"Mechanisms and their switches\").")]


def _online_offline(comparison: pd.DataFrame, meta: pd.DataFrame, hourly: pd.DataFrame | None,
                    reference: str) -> list[Block]:
    items = []
    changes = venue_changes(hourly, meta) if hourly is not None and not hourly.empty else None
    if changes is not None and reference in changes.index:
        row = changes.loc[reference].dropna().sort_values(ascending=False)
        gain = [f"{v} ({c:+.1f}%)" for v, c in row.items() if c > 0]
        loss = [f"{v} ({c:+.1f}%)" for v, c in row.items() if c < 0]
        items.append(f"Against no festival, the reference arm {reference} moves season GMV towards "
                     f"{', '.join(gain) or 'no venue type'} and away from {', '.join(loss) or 'no venue type'} "
                     f"(mean over replications; all arms in the venue figure).")
    for metric in ("offline_gmv_lift", "online_share"):
        rows = comparison[(comparison["metric"] == metric) & comparison["mean"].notna()
                          & comparison["arm"].isin(festival_arms(meta))]
        if rows.empty:
            continue
        top, low = rows.loc[rows["mean"].idxmax()], rows.loc[rows["mean"].idxmin()]
        label = info(metric).label
        items.append(f"{label[0].upper() + label[1:]} ranges from {fmt_value(metric, low['mean'])} "
                     f"({low['arm']}) to {fmt_value(metric, top['mean'])} ({top['arm']}).")
    return [Block("h2", "Online and offline"), Block("ul", items=items)] if items else []


def _arm_table(comparison: pd.DataFrame, arms: list[str]) -> Block:
    metrics = [m for m in (*CONSOLE, "gmv_festival") if (comparison["metric"] == m).any()]
    days = "festival_days" in set(comparison["metric"])
    rows = []
    for arm in arms:
        cells = [arm] + ([fmt_value("festival_days", lookup(comparison, arm, "festival_days")["mean"])] if days else [])
        for m in metrics:
            r = comparison[(comparison["arm"] == arm) & (comparison["metric"] == m)].iloc[0]
            ci = (f" [{fmt_value(m, r['ci_low'])}, {fmt_value(m, r['ci_high'])}]"
                  if math.isfinite(r["ci_low"]) else "")
            cells.append(fmt_value(m, r["mean"]) + ci)
        rows.append(cells)
    return Block("table", header=["Arm"] + (["festival period"] if days else []) + [info(m).label for m in metrics],
                 items=rows)


def _failures(ctx: ReportContext) -> list[Block]:
    if not ctx.failures:
        return []
    items = [f"arm {f.get('arm')}, replication {f.get('replication')}, seed {f.get('seed')}: "
             f"{str(f.get('error', '')).strip().splitlines()[-1] if f.get('error') else 'unknown error'}"
             for f in ctx.failures]
    return [Block("h2", f"Failed runs ({len(items)})"),
            Block("p", "These runs are recorded in runs.csv with their error and left out of every statistic."),
            Block("ul", items=items)]


def to_markdown(blocks: list[Block]) -> str:
    out = []
    for b in blocks:
        if b.kind == "h1":
            out.append(f"# {b.text}")
        elif b.kind == "h2":
            out.append(f"## {b.text}")
        elif b.kind == "p":
            out.append(b.text)
        elif b.kind == "ul":
            out.append("\n".join(f"- {item}" for item in b.items))
        elif b.kind == "table":
            lines = ["| " + " | ".join(b.header) + " |", "|" + "|".join("---" for _ in b.header) + "|"]
            lines += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in b.items]
            out.append("\n".join(lines))
        elif b.kind == "fig":
            out.append(f"![{b.text}](figures/{b.items[0]})\n\n*{b.text}*")
    return "\n\n".join(out) + "\n"


def _inline(text: str) -> str:
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


_CSS = """body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}table{border-collapse:collapse;margin:1em 0;font-size:0.9em}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f2f2f2}
img{max-width:100%;border:1px solid #eee}figcaption{font-style:italic;color:#555;margin-bottom:1.5em}
code{background:#f4f4f4;padding:1px 4px}"""


def to_html(blocks: list[Block], figures_dir: Path) -> str:
    """Self-contained HTML: figures are embedded as base64 so the file can be mailed on its own."""
    body = []
    for b in blocks:
        if b.kind in ("h1", "h2"):
            body.append(f"<{b.kind}>{_inline(b.text)}</{b.kind}>")
        elif b.kind == "p":
            body.append(f"<p>{_inline(b.text)}</p>")
        elif b.kind == "ul":
            body.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "table":
            head = "".join(f"<th>{_inline(h)}</th>" for h in b.header)
            rows = "".join("<tr>" + "".join(f"<td>{_inline(str(c))}</td>" for c in row) + "</tr>" for row in b.items)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif b.kind == "fig":
            data = base64.b64encode((figures_dir / b.items[0]).read_bytes()).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(b.text)}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{_inline(b.text)}</figcaption></figure>")
    title = html.escape(blocks[0].text if blocks else "report")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title><style>{_CSS}</style>"
            f"</head><body>\n" + "\n".join(body) + "\n</body></html>\n")
