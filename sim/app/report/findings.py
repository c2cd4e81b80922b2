"""Turn the comparison table into answers: who wins on what, by how much, how sure, at what cost.

Every number in the text comes from comparison.csv (paired differences from the
reference arm), formatted by sim.app.report.labels, so the report and the table agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from sim.model.formats import CUSTOM, windows_label
from sim.app.report.labels import HEADLINE, direction_word, fmt_diff, fmt_p, fmt_pct, fmt_value, info, p_text
from sim.experiments.stats import FDR, significant

FORMAT_KEY, POLICY_KEY, WINDOWS_KEY = "festival.format", "platform.policy", "festival.windows"
FORMAT_METRICS = ("gmv_incremental", "gmv_per_festival_day", "peak_to_mean", "mean_delivery_delay_h", "p95_delivery_delay_h",
                  "max_logistics_backlog", "satisfaction_mean", "pre_festival_dip", "post_festival_slump")
POLICY_METRICS = ("hhi_final", "small_brand_share", "low_quality_share", "quality_weighted_share", "gmv_incremental",
                  "satisfaction_mean", "platform_net_cost", "platform_ad_revenue", "brand_profit_small", "brand_profit_low_quality")


@dataclass(frozen=True)
class Headline:
    """The best arm on one metric and its paired difference from the reference (one row of the headline table)."""

    metric: str
    arm: str
    mean: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    is_reference: bool
    q_value: float = math.nan

    @property
    def separated(self) -> bool:
        """The difference survives the report's false discovery rate control (BH q < FDR)."""
        return math.isfinite(self.q_value) and self.q_value < FDR and self.diff != 0

    def cells(self) -> list[str]:
        """Headline table cells; the test re-derives these strings from comparison.csv."""
        m = self.metric
        if self.is_reference:
            return [info(m).label, self.arm + " (reference)", fmt_value(m, self.mean), "—", "—", "—", "—", "best as is"]
        verdict = "clearly better" if self.separated and self.diff * info(m).better > 0 else "not distinguishable"
        return [info(m).label, self.arm, fmt_value(m, self.mean), fmt_diff(m, self.diff),
                f"{fmt_diff(m, self.ci_low)} to {fmt_diff(m, self.ci_high)}", fmt_p(self.p_value), fmt_p(self.q_value),
                verdict]


HEADLINE_COLUMNS = ["Metric", "Best arm", "Mean", "vs reference", "95% CI of difference", "p", "q (BH)", "Verdict"]


def headlines(comparison: pd.DataFrame, arms_meta: pd.DataFrame) -> list[Headline]:
    """For each headline metric with a preferred direction, the best festival arm (the `none` baseline excluded)."""
    contenders = set(festival_arms(arms_meta)) or set(arms_meta["arm"])
    out = []
    for metric in HEADLINE:
        if not info(metric).comparable:  # a period total: ranking it would rank the period's length
            continue
        better = info(metric).better
        rows = comparison[(comparison["metric"] == metric) & comparison["arm"].isin(contenders)
                          & comparison["mean"].notna()]
        if rows.empty or better == 0 or rows["mean"].nunique() == 1:  # nothing to choose between
            continue
        score = rows["mean"] * better
        ref = rows[rows["arm"] == rows["reference"]]
        if not ref.empty and score.loc[ref.index[0]] >= score.max():  # ties go to the status quo
            best = ref.iloc[0]
        else:
            best = rows.loc[score.idxmax()]
        out.append(Headline(metric, best["arm"], best["mean"], best["diff"], best["diff_ci_low"], best["diff_ci_high"],
                            best["p_value"], best["arm"] == best["reference"], best.get("q_value", math.nan)))
    return out


def effect_sentence(row: pd.Series) -> str:
    """'+¥1.2 bn (95% CI … to …; +3.1%; p=0.002)' with a plain-language verdict."""
    m = row["metric"]
    ci = f"95% CI {fmt_diff(m, row['diff_ci_low'])} to {fmt_diff(m, row['diff_ci_high'])}"
    q = f"q={fmt_p(row.get('q_value', math.nan))}"
    core = f"{info(m).label} {fmt_diff(m, row['diff'])} ({ci}; {fmt_pct(row['diff_rel'])}; {p_text(row['p_value'])}, {q})"
    if not significant(row):
        return core + " — no clear difference"
    word = direction_word(m, row["diff"])
    return core + ("" if word == "different" else f" — {word}")


def one_factor_arms(arms_meta: pd.DataFrame, reference: str, key: str) -> list[str]:
    """Arms that differ from the reference only in ``key`` (so the difference is that factor's effect)."""
    ref = arms_meta.set_index("arm").loc[reference]
    others = [c for c in arms_meta.columns if c != "arm"]
    out = []
    for _, row in arms_meta.iterrows():
        if row["arm"] == reference or row[key] == ref[key] or (key == FORMAT_KEY and row[key] == "none"):
            continue
        if all(row[c] == ref[c] for c in others if c != key):
            out.append(row["arm"])
    return out


def factor_section(comparison: pd.DataFrame, arms_meta: pd.DataFrame, reference: str, key: str,
                   metrics: tuple[str, ...]) -> list[str]:
    """One bullet per alternative level of ``key``: its effect on ``metrics`` against the reference arm."""
    bullets = []
    ref_level = arms_meta.set_index("arm").loc[reference, key]
    for arm in one_factor_arms(arms_meta, reference, key):
        rows = comparison[(comparison["arm"] == arm) & comparison["diff"].notna()]
        parts = [effect_sentence(rows[rows["metric"] == m].iloc[0]) for m in metrics
                 if (rows["metric"] == m).any() and informative(comparison, m)]
        level = arms_meta.set_index("arm").loc[arm, key]
        bullets.append(f"**{level}** instead of {ref_level} (arm {arm}): " + "; ".join(parts) + ".")
    return bullets


def informative(comparison: pd.DataFrame, metric: str) -> bool:
    """False for a metric that is the same constant in every arm (e.g. subsidy cost when no arm subsidises)."""
    means = comparison.loc[comparison["metric"] == metric, "mean"].dropna()
    return means.nunique() > 1


def clear_effects(comparison: pd.DataFrame, arm: str) -> tuple[list[str], list[str]]:
    """Metrics on which ``arm`` is clearly better / clearly worse than the reference (BH q < FDR)."""
    directional = comparison["metric"].map(lambda m: info(m).better != 0).astype(bool)
    rows = comparison[(comparison["arm"] == arm) & directional]
    sep = rows[[significant(r) for _, r in rows.iterrows()]]
    good = [m for m, d in zip(sep["metric"], sep["diff"]) if d * info(m).better > 0]
    bad = [m for m, d in zip(sep["metric"], sep["diff"]) if d * info(m).better < 0]
    return good, bad


def festival_arms(arms_meta: pd.DataFrame) -> list[str]:
    """Arms with a festival (the `none` baseline is a yardstick, not a contender)."""
    if FORMAT_KEY not in arms_meta:
        return list(arms_meta["arm"])
    return list(arms_meta.loc[arms_meta[FORMAT_KEY] != "none", "arm"])


def tradeoffs(comparison: pd.DataFrame, reference: str, arms: list[str]) -> list[str]:
    """Per arm, the headline metrics on which it is clearly better and clearly worse than the reference."""
    out = []
    for arm in [a for a in dict.fromkeys(comparison["arm"]) if a in arms and a != reference]:
        good, bad = (  # the headline metrics only: a list of 25 metric names is not read
            [m for m in effects if m in HEADLINE] for effects in clear_effects(comparison, arm))
        if not good and not bad:
            out.append(f"**{arm}**: no metric differs clearly from {reference}.")
            continue
        text = f"**{arm}**: better on {_labels(good) or 'nothing'}"
        text += f"; worse on {_labels(bad)}" if bad else "; worse on nothing"
        if good and bad:
            text += " — a trade-off"
        out.append(text + ".")
    return out


def _labels(metrics: list[str]) -> str:
    return "; ".join(info(m).label for m in metrics) if any("," in info(m).label for m in metrics) else \
        ", ".join(info(m).label for m in metrics)


def arms_metadata(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per arm with its parameter columns (the dotted ones), in run order.

    A custom festival's format level is its windows ('custom 11-09..11-11 30%'), so two custom
    arms are two formats to the report (colours, the festival-format section) and the windows
    column, folded into the format, does not count as a second factor.
    """
    cols = ["arm"] + [c for c in runs.columns if "." in c]
    meta = runs[cols].drop_duplicates("arm").reset_index(drop=True)
    if WINDOWS_KEY in meta and FORMAT_KEY in meta:
        custom = meta[FORMAT_KEY] == CUSTOM
        meta.loc[custom, FORMAT_KEY] = meta.loc[custom, WINDOWS_KEY].map(windows_label)
        meta = meta.drop(columns=WINDOWS_KEY)
    return meta
