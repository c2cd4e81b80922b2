"""The report on REAL model output (tiny: 2,000 consumers, 2 replications, a short season).

One study runs once for the module (through the command line, in-process), plus a two-mechanism
"why" decomposition; each test re-derives what the report says from runs.csv / hourly.parquet.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.app.cli import main
from sim.experiments.goals import parse_goals
from sim.model.metrics import RUN_METRICS
from sim.app.report.explain import EXPLAIN, shares
from sim.app.report.figures import pareto
from sim.app.report.findings import HEADLINE_COLUMNS
from sim.app.report.labels import HEADLINE, KINDS, METRICS, fmt_value, info
from sim.app.report.venues import venue_changes

SCENARIO = '''
name = "tiny"
reference = "single_day/gmv_rank"
replications = 2
seed = 7
[base]
"consumers.n" = 2000
"season.start" = 2026-10-27
"season.end" = 2026-11-18
"season.warmup_days" = 2
[[arms]]
name = "single_day/gmv_rank"
"festival.format" = "single_day"
[[arms]]
name = "continuous/gmv_rank"
"festival.format" = "continuous"
[[arms]]
name = "continuous/quality_feedback"
"festival.format" = "continuous"
"platform.policy" = "quality_feedback"
[goals.growth]
maximise = "gmv_incremental"
subject_to = ["p95_delivery_delay_h <= 24"]
[goals.daily]
maximise = "gmv_per_festival_day"
'''


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    (root / "tiny.toml").write_text(SCENARIO)
    out = root / "out"
    assert main([str(root / "tiny.toml"), "--workers", "1", "--no-progress", "--out", str(out),
                 "--explain", "stockpiling"]) == 0
    return root, out


def _runs(out):
    return pd.read_csv(out / "runs.csv", converters={"error": str})


def _summary(md: str) -> list[str]:
    return [ln[2:] for ln in md.split("## Decision summary")[1].split("##")[0].strip().splitlines() if ln.startswith("- ")]


def test_report_leads_with_a_decision_summary_of_at_most_five_sentences(study):
    _, out = study
    md = (out / "report.md").read_text()
    assert md.index("## Decision summary") < md.index("## Headline metrics") < md.index("## Figures")
    sentences = _summary(md)
    text = " ".join(sentences)
    assert 2 <= len(re.findall(r"[.!?](?:\s|$)", text)) <= 5 and len(sentences) == 3
    runs = _runs(out)
    means = runs.groupby("arm")[["gmv_incremental", "gmv_per_festival_day", "p95_delivery_delay_h"]].mean()
    # growth: the best mean incremental GMV among arms within the bound, named with its value
    best = means[means["p95_delivery_delay_h"] <= 24]["gmv_incremental"].idxmax()
    assert f"**{best}** ({fmt_value('gmv_incremental', means.loc[best, 'gmv_incremental'])})" in sentences[0]
    # per festival day the one-day festival wins: a festival-period total would have crowned continuous
    daily_best = means["gmv_per_festival_day"].idxmax()
    assert daily_best.startswith("single_day") and f"**{daily_best}**" in sentences[1]


def test_no_headline_ranks_a_period_length_total(study):
    _, out = study
    assert all(info(m).comparable for m in HEADLINE)
    assert not info("gmv_festival").comparable and not info("gmv_festival_lift").comparable
    md = (out / "report.md").read_text()
    table = md.split("| " + " | ".join(HEADLINE_COLUMNS) + " |")[1].split("\n\n")[0]
    labels = [ln.split("|")[1].strip() for ln in table.strip().splitlines()[1:]]
    assert labels and all(METRICS[k].comparable for k, v in METRICS.items() if v.label in labels)
    assert "festival-period GMV" not in labels
    # the period total stays in the per-arm table, with the period's length beside it
    assert "| festival period |" in md.split("## Key metrics per arm")[1] and "11 d" in md


def test_every_metric_has_unit_kind_and_direction_and_no_yuan_prints_as_percent(study):
    _, out = study
    runs = _runs(out)
    for m in RUN_METRICS:
        assert m in METRICS, f"{m} missing from the registry"
        i = METRICS[m]
        assert i.kind in KINDS and i.better in (-1, 0, 1) and i.label
        values = runs[m].dropna()
        if i.kind == "share" and len(values):  # a yuan (or count) value registered as a share would be ~1e9, not ~1
            assert values.abs().max() <= 5, m
        if i.kind == "yuan" and len(values):
            text = fmt_value(m, float(values.iloc[0]))
            assert "¥" in text and "%" not in text, (m, text)


def test_q_values_are_benjamini_hochberg_over_all_comparisons(study):
    _, out = study
    cmp = pd.read_csv(out / "comparison.csv")
    has_p = cmp["p_value"].notna()
    expected = stats.false_discovery_control(cmp.loc[has_p, "p_value"].to_numpy(), method="bh")
    np.testing.assert_allclose(cmp.loc[has_p, "q_value"].to_numpy(), expected)
    md = (out / "report.md").read_text()
    assert "Benjamini-Hochberg" in md
    for line in md.split("## Headline metrics")[1].split("## ")[0].splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == len(HEADLINE_COLUMNS) and cells[-1] == "clearly better":
            assert cells[6] == "<0.001" or float(cells[6]) < 0.05


def test_counterfactual_figures_use_each_arms_own_none_run(study):
    _, out = study
    hourly = pd.read_parquet(out / "hourly.parquet")
    cf = hourly.groupby(["arm", "replication"], observed=True)["cf_gmv"].sum().unstack()
    # same policy, same seed: the same counterfactual; another policy: another one
    np.testing.assert_allclose(cf.loc["continuous/gmv_rank"], cf.loc["single_day/gmv_rank"])
    assert not np.allclose(cf.loc["continuous/quality_feedback"], cf.loc["continuous/gmv_rank"])
    runs = _runs(out).set_index(["arm", "replication"])
    season = hourly.groupby(["arm", "replication"], observed=True)["gmv"].sum()
    np.testing.assert_allclose((season - cf.stack().reorder_levels([0, 1]).reindex(season.index)).to_numpy(),
                               runs.loc[season.index, "gmv_incremental"].to_numpy(), rtol=1e-9)
    meta = pd.DataFrame({"arm": list(cf.index), "festival.format": [a.split("/")[0] for a in cf.index],
                         "platform.policy": [a.split("/")[1] for a in cf.index]})
    changes = venue_changes(hourly, meta)
    qf = hourly[hourly["arm"] == "continuous/quality_feedback"].groupby("replication")
    own = qf["gmv_venue_tmall_online"].sum() / qf["cf_gmv_venue_tmall_online"].sum() - 1
    assert changes.loc["continuous/quality_feedback", "tmall_online"] == pytest.approx(100 * own.mean())


def test_frontier_figure_and_pareto(study):
    _, out = study
    assert (out / "figures" / "tradeoff_frontier.png").is_file()
    x, y = np.array([1.0, 2.0, 3.0, 2.5]), np.array([1.0, 3.0, 2.0, 3.0])
    assert pareto(x, y).tolist() == [True, True, False, False]


def test_goals_are_validated_before_any_run(tmp_path, capsys):
    bad = SCENARIO.replace('maximise = "gmv_per_festival_day"', 'maximise = "gmv_per_day"')
    (tmp_path / "bad.toml").write_text(bad)
    assert main([str(tmp_path / "bad.toml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "goals.daily.maximise: unknown metric 'gmv_per_day'" in err
    assert not (tmp_path / "o").exists()
    with pytest.raises(ValueError, match="goals.g.maximise: gmv_festival is a total over the festival period"):
        parse_goals({"g": {"maximise": "gmv_festival"}})
    (tmp_path / "good.toml").write_text(SCENARIO)
    assert main([str(tmp_path / "good.toml"), "--explain", "stockpile", "--out", str(tmp_path / "o")]) == 2
    assert "--explain: unknown mechanism 'stockpile'" in capsys.readouterr().err and not (tmp_path / "o").exists()
    with pytest.raises(ValueError, match="goals.g.subject_to"):
        parse_goals({"g": {"maximise": "gmv_incremental", "subject_to": ["churn_rate < 0.1"]}})


def test_why_section_decomposes_the_difference_by_mechanism(study):
    _, out = study
    frame = pd.read_csv(out / EXPLAIN)
    runs = _runs(out).pivot(index="replication", columns="arm", values="gmv_incremental")
    pick = runs.drop(columns="single_day/gmv_rank").mean().idxmax()  # the growth goal's pick (its bound binds the single day)
    assert set(frame["arm"]) == {pick}  # explained against the reference
    on = frame[frame["mechanism"] == "all_on"].set_index("replication")["diff"]
    np.testing.assert_allclose(on, runs[pick] - runs["single_day/gmv_rank"])
    off = frame[frame["mechanism"] == "stockpiling"].set_index("replication")["diff"]
    assert not np.allclose(off, on)  # the switch reached the runs
    table, total = shares(frame)
    row = table.set_index("mechanism").loc["stockpiling"]
    assert row["share"] == pytest.approx((on - off).mean() / on.mean())
    md = (out / "report.md").read_text()
    why = md.split("## Why")[1].split("\n## ")[0]
    assert "**stockpiling**" in why and "why_mechanisms.png" in why
    assert math.isfinite(total)
