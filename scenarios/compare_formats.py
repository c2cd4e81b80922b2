"""Example for users who script: build a comparison in Python, run it, read the tables, write a report.

    python scenarios/compare_formats.py [--reps 4] [--consumers 5000] [--workers 2] [--out DIR]

Asks: does a two-wave festival with quality-feedback traffic beat the status quo
(single day, GMV-ranked traffic), and at what cost in load and concentration?
Everything here is the package's public API (`import sim`; the arguments are checked as run.py checks
its own); nothing touches the model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import sim  # noqa: E402
from sim.app.cli.args import int_at_least  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int_at_least(2), default=4, help="replications (at least 2, for intervals)")
    ap.add_argument("--consumers", type=int_at_least(sim.MIN_CONSUMERS), default=5000)
    ap.add_argument("--workers", type=int_at_least(1), default=None, help="default: all cores")
    ap.add_argument("--out", type=Path, default=Path("results/compare_formats"))
    args = ap.parse_args()

    scenario = sim.make_scenario(
        "compare_formats",
        description="Status quo vs two waves, with and without quality-feedback traffic",
        base={"consumers.n": args.consumers},
        factors={"festival.format": ["single_day", "two_waves"], "platform.policy": ["gmv_rank", "quality_feedback"]},
        arms={"none": {"festival.format": "none"}},  # the no-festival yardstick for the dip/slump figure
        reference="single_day/gmv_rank",
        replications=args.reps,
        seed=11,
    )
    result = sim.run_scenario(scenario, workers=args.workers, progress=True)

    # The tables are plain pandas: one row per run, and per arm x metric with paired differences.
    cmp = result.comparison
    # GMV the festival adds over the season (gmv_festival would count the longer format over more days).
    for metric in ("gmv_incremental", "peak_to_mean", "hhi_final", "quality_weighted_share"):
        row = cmp[(cmp["arm"] == "two_waves/quality_feedback") & (cmp["metric"] == metric)].iloc[0]
        print(f"{metric:24s} two_waves/quality_feedback - status quo = {row['diff']:+.4g} "
              f"[{row['diff_ci_low']:+.4g}, {row['diff_ci_high']:+.4g}]  p={row['p_value']:.3g}")

    paths = sim.write_results(result, args.out, workers=args.workers)  # its Reproduce line: this script's command
    print(f"Report: {paths['report_html']}")


if __name__ == "__main__":
    main()
