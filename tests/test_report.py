"""Tables, statistics and report on synthetic runs (fast, no model): numbers agree across files."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.app.report import rebuild_report, write_results
from sim.app.report.findings import HEADLINE_COLUMNS, Headline
from sim.app.report.labels import fmt_diff, fmt_p, fmt_value
from sim.experiments.stats import comparison_table, mean_ci, paired
from sim.experiments.scenarios import make_scenario, run_scenario


def small_scenario(reps: int = 4, extra_arms: dict | None = None):
    return make_scenario(
        "synthetic", description="test", base={"consumers.n": 1000},
        factors={"festival.format": ["single_day", "two_waves"], "platform.policy": ["gmv_rank", "quality_feedback"]},
        arms={"none": {"festival.format": "none"}, **(extra_arms or {})}, reference="single_day/gmv_rank",
        replications=reps, seed=5,
    )


@pytest.fixture
def result(fake_run_fn):
    return run_scenario(small_scenario(), workers=1, run_fn=fake_run_fn)


def test_mean_ci_matches_scipy():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    mean, lo, hi, n = mean_ci(x)
    ref = stats.t.interval(0.95, 3, loc=x.mean(), scale=stats.sem(x))
    assert n == 4 and mean == pytest.approx(3.5)
    assert (lo, hi) == pytest.approx(ref)
    assert math.isnan(mean_ci(np.array([1.0]))[1])


def test_paired_difference_and_p_value():
    a = np.array([10.0, 12.0, 9.0, 11.0, np.nan])
    b = np.array([9.0, 10.5, 8.8, 9.9, 3.0])
    mean, lo, hi, n, p = paired(a, b)
    assert n == 4 and mean == pytest.approx(np.mean(a[:4] - b[:4]))
    assert p == pytest.approx(stats.ttest_rel(a[:4], b[:4]).pvalue)
    assert lo < mean < hi


def test_a_shift_of_the_same_size_in_every_pair_is_not_certain():
    """Two replications that each differ by one consumer of 3,000 (a count metric) gave p = 7e-17 and a
    "clear" difference. Without spread the t-test is undefined: the exact sign test's p = 2^(1-n)."""
    a = np.array([0.1234, 0.4321])
    assert paired(a - 1 / 3000, a)[4] == 0.5
    ten = np.linspace(0.1, 0.9, 10)
    assert paired(ten + 0.01, ten)[4] == pytest.approx(2.0**-9)
    assert paired(a, a)[4] == 1.0


def test_runs_table_has_arm_columns_params_and_metrics(result):
    runs = result.runs
    assert len(runs) == 5 * 4
    for col in ("arm", "replication", "seed", "festival.format", "platform.policy", "gmv_total", "hhi_final", "error"):
        assert col in runs
    assert (runs.groupby("replication")["seed"].nunique() == 1).all()  # common random numbers


def test_comparison_pairs_by_replication(result):
    cmp = result.comparison
    assert set(cmp.columns) >= {"arm", "metric", "mean", "ci_low", "ci_high", "n", "diff", "diff_ci_low",
                                "diff_ci_high", "p_value"}
    runs = result.runs.set_index(["arm", "replication"])
    row = cmp[(cmp["arm"] == "two_waves/gmv_rank") & (cmp["metric"] == "gmv_festival")].iloc[0]
    d = (runs.loc["two_waves/gmv_rank", "gmv_festival"] - runs.loc["single_day/gmv_rank", "gmv_festival"]).to_numpy()
    assert row["diff"] == pytest.approx(d.mean())
    # shared noise cancels: the fake's effect is a constant shift, so the paired interval is (nearly) a point
    assert row["diff_ci_high"] - row["diff_ci_low"] < 1e-3 * abs(row["diff"])
    assert row["ci_high"] - row["ci_low"] > 100 * (row["diff_ci_high"] - row["diff_ci_low"])


def test_failed_runs_are_recorded_and_reported(tmp_path, fake_run_fn):
    sc = small_scenario(reps=3, extra_arms={"broken": {"consumers.n": 13}})
    res = run_scenario(sc, workers=1, run_fn=fake_run_fn)
    broken = res.runs[res.runs["arm"] == "broken"]
    assert len(broken) == 3 and broken["error"].str.contains("synthetic failure").all()
    assert broken["gmv_total"].isna().all()
    assert (res.runs[res.runs["arm"] != "broken"]["error"] == "").all()
    assert len(res.failures) == 3
    write_results(res, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "Failed runs (3)" in md and "synthetic failure" in md
    on_disk = pd.read_csv(tmp_path / "runs.csv")
    assert on_disk["error"].fillna("").str.contains("synthetic failure").sum() == 3


def headline_rows(md: str) -> list[list[str]]:
    """The rows of the report's headline table."""
    lines = md.splitlines()
    start = lines.index("| " + " | ".join(HEADLINE_COLUMNS) + " |")
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def check_headlines_match_comparison(folder) -> int:
    """Every headline row's numbers re-derived from comparison.csv; returns how many rows were checked."""
    md = (folder / "report.md").read_text()
    cmp = pd.read_csv(folder / "comparison.csv")
    from sim.app.report.labels import METRICS

    by_label = {info.label: key for key, info in METRICS.items()}
    rows = headline_rows(md)
    assert rows, "report has no headline table"
    for cells in rows:
        metric = by_label[cells[0]]
        arm = cells[1].removesuffix(" (reference)")
        r = cmp[(cmp["arm"] == arm) & (cmp["metric"] == metric)].iloc[0]
        assert cells[2] == fmt_value(metric, r["mean"])
        if not cells[1].endswith("(reference)"):
            assert cells[3] == fmt_diff(metric, r["diff"])
            assert cells[4] == f"{fmt_diff(metric, r['diff_ci_low'])} to {fmt_diff(metric, r['diff_ci_high'])}"
            assert cells[5] == fmt_p(r["p_value"])
            assert cells[6] == fmt_p(r["q_value"])
    return len(rows)


def test_report_headline_numbers_match_comparison_csv(result, tmp_path):
    write_results(result, tmp_path)
    assert check_headlines_match_comparison(tmp_path) >= 3
    md = (tmp_path / "report.md").read_text()
    assert md.index("## Decision summary") < md.index("## Headline metrics") < md.index("## Figures")
    assert "two_waves" in md.split("## Decision summary")[1].split("##")[0]  # the fake's best format leads


def test_results_folder_is_complete_and_html_self_contained(result, tmp_path):
    write_results(result, tmp_path, argv=["synthetic"])
    for name in ("runs.csv", "comparison.csv", "hourly.parquet", "report.md", "report.html", "manifest.json"):
        assert (tmp_path / name).is_file(), name
    pngs = sorted(p.name for p in (tmp_path / "figures").glob("*.png"))
    for fig in ("hourly_gmv_orders.png", "daily_gmv_vs_none.png", "load_and_delay.png", "archetype_share.png",
                "hhi_over_time.png", "venue_sales.png"):
        assert fig in pngs
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(pngs)
    assert not re.search(r'src="(?!data:)', html)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["root_seed"] == 5 and len(manifest["seeds"]) == 4
    assert {a["name"] for a in manifest["arms"]} == set(result.runs["arm"])
    assert manifest["arms"][0]["params"]["consumers.n"] == 1000
    assert {"numpy", "numba", "llvmlite"} <= set(manifest["packages"]) and "commit" in manifest["git"]
    hourly = pd.read_parquet(tmp_path / "hourly.parquet")
    assert len(hourly) == len(result.runs) * 144 and {"arm", "replication", "seed", "gmv"} <= set(hourly.columns)


def test_rebuild_report_from_disk_gives_same_text(result, tmp_path):
    write_results(result, tmp_path)
    before = (tmp_path / "report.md").read_text()
    rebuild_report(tmp_path)
    assert (tmp_path / "report.md").read_text() == before


def test_headline_cells_formatting():
    h = Headline("gmv_incremental", "a", 2.5e9, 3e8, 1e8, 5e8, 0.0004, False, 0.003)
    assert h.cells() == ["incremental GMV vs no festival", "a", "¥2.50 bn", "+¥300.0 m", "+¥100.0 m to +¥500.0 m",
                         "<0.001", "0.003", "clearly better"]
    assert Headline("gmv_incremental", "a", 2.5e9, 3e8, 1e8, 5e8, 0.01, False, 0.08).cells()[-1] == "not distinguishable"


def test_comparison_with_identical_arms_has_p_one():
    runs = pd.DataFrame({"arm": ["a", "a", "b", "b"], "replication": [0, 1, 0, 1], "seed": [1, 2, 1, 2],
                         "gmv_total": [1.0, 2.0, 1.0, 2.0], "error": ["", "", "", ""]})
    cmp = comparison_table(runs, reference="a")
    row = cmp[cmp["arm"] == "b"].iloc[0]
    assert row["diff"] == 0 and row["p_value"] == 1.0


def test_intervals_of_a_share_stay_within_0_and_100_percent():
    """Two replications give a wide t interval; a share of a whole cannot pass 0 or 1, nor differ by more than 1."""
    runs = pd.DataFrame({"arm": ["a", "a", "b", "b"], "replication": [0, 1, 0, 1], "seed": [1, 2, 1, 2],
                         "online_share": [0.97, 0.60, 0.10, 0.90], "gmv_total": [1.0, 9.0, 2.0, 3.0],
                         "error": ["", "", "", ""]})
    cmp = comparison_table(runs, reference="a").set_index(["arm", "metric"])
    share_a, share_b = cmp.loc[("a", "online_share")], cmp.loc[("b", "online_share")]
    assert (share_a["ci_low"], share_a["ci_high"]) == (0.0, 1.0) and (share_b["ci_low"], share_b["ci_high"]) == (0.0, 1.0)
    assert share_b["diff_ci_low"] == -1.0 and share_b["diff_ci_high"] == 1.0
    assert cmp.loc[("a", "gmv_total"), "ci_low"] < 0  # unbounded metrics keep the t interval


def test_tiny_run_with_no_venue_sales_writes_figures_without_warnings(fake_run_fn, tmp_path):
    """A tiny run can leave every venue at zero: the venue figure's colour scale must not warn (All-NaN slice)."""
    import warnings

    def no_venue_sales(params, seed, counterfactual=True):
        res = fake_run_fn(params, seed, counterfactual)
        for column in [c for c in res.hourly if c.startswith("gmv_venue_")]:
            res.hourly[column] = 0.0
        return res

    result = run_scenario(small_scenario(reps=2), workers=1, run_fn=no_venue_sales)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        write_results(result, tmp_path)
    assert (tmp_path / "figures").is_dir()


def test_arm_styles_colour_per_format_marker_per_policy_and_other_factors_told_apart():
    from sim.app.report.figures import arm_styles

    meta = pd.DataFrame({"arm": ["a", "b", "c", "d", "n"],
                         "festival.format": ["single_day", "single_day", "two_waves", "single_day", "none"],
                         "platform.policy": ["gmv_rank", "quality_feedback", "gmv_rank", "gmv_rank", "gmv_rank"],
                         "season.end": ["2026-11-30", "2026-11-30", "2026-11-30", "2026-12-31", "2026-11-30"]})
    st = arm_styles(meta)
    assert st["a"]["color"] == st["b"]["color"] != st["c"]["color"]          # one colour per format
    assert st["a"]["marker"] == st["c"]["marker"] != st["b"]["marker"]       # one marker per policy
    assert st["a"]["panel"] == "gmv_rank" and st["b"]["panel"] == "quality_feedback"
    assert st["a"]["linestyle"] != st["d"]["linestyle"] and st["a"]["shared"] and st["d"]["shared"]  # season.end
    assert not st["c"]["shared"]


def test_the_report_says_when_incremental_gmv_rests_on_more_new_consumption_than_published():
    from sim.app.report.render import _expansion_note
    runs = pd.DataFrame({"arm": ["a", "a", "b", "b", "none", "none"],
                         "expansion_share": [0.9, 0.8, 0.3, 0.35, np.nan, np.nan]})
    (note,) = _expansion_note(runs)
    assert "a (85%)" in note.text and "b (" not in note.text and "none" not in note.text
    assert _expansion_note(runs.assign(expansion_share=0.3)) == []
    many = pd.DataFrame({"arm": list("pqrst"), "expansion_share": [0.6, 0.9, 0.7, 0.95, 0.8]})
    (note,) = _expansion_note(many)
    assert "60% (p) to 95% (s) of the extra units, depending on the arm" in note.text


def test_one_replication_says_there_are_no_tests_rather_than_zero_comparisons(tmp_path, fake_run_fn):
    res = run_scenario(small_scenario(reps=1), workers=1, run_fn=fake_run_fn)
    write_results(res, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "across all 0 comparisons" not in md and md.count("no intervals and no tests") == 2
