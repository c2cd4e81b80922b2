"""`run.py once`: one model run with no counterfactual, its summary, runs.csv and the hourly series."""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Sequence

from sim.app.cli.args import Parser, common_options, default_out, parse_set, preset
from sim.app.folders import check_out_dir
from sim.experiments.scenarios import DEFAULT_SEED
from sim.model.params import build_params


def once_parser() -> argparse.ArgumentParser:
    p = Parser(prog="run.py once", description="One model run (no counterfactual): print its summary, write runs.csv "
                "and the hourly series.")
    common_options(p, f"the run's seed (default {DEFAULT_SEED})")
    return p


def cmd_once(argv: Sequence[str]) -> int:
    args = once_parser().parse_args(argv)
    overrides = parse_set(args.sets)
    params = build_params({**preset(args.params), **overrides})
    seed = DEFAULT_SEED if args.seed is None else args.seed
    out = check_out_dir(args.out or default_out("once"))
    from sim.experiments.execute import Task, execute  # heavy imports only once the input is good
    from sim.app.report import summary_text, write_manifest, write_tables
    from sim.app.report.manifest import common_fields, now
    from sim.experiments.tables import hourly_table, runs_table, yearly_table

    started = now()
    t0 = time.perf_counter()
    task = Task(index=0, params=params, seed=seed, counterfactual=False, labels={"arm": "once", "replication": 0})
    outcome = execute([task], workers=1, progress=False)[0]
    wall = time.perf_counter() - t0
    keys = ["festival.format", "platform.policy"] + [k for k in overrides if k not in ("festival.format", "platform.policy")]
    write_tables(out, runs_table([outcome], keys), None, hourly_table([outcome]), yearly_table([outcome]))
    write_manifest(out, {**common_fields("once", ["once", *argv], started=started, status="finished", wall_seconds=wall,
                                         workers=1, cluster=None, root_seed=seed),
                         "seed": seed, "overrides": overrides, "params": params.flat(), "error": outcome.error})
    if outcome.error:
        print(f"run failed: {outcome.error.strip().splitlines()[-1]}", file=sys.stderr)
        print(f"Recorded in {out / 'runs.csv'}")
        return 1
    summary = {k: v for k, v in outcome.summary.items() if not (isinstance(v, float) and math.isnan(v))}
    print(f"One run: format {params.festival.format}, policy {params.platform.policy}, seed {seed}, "
          f"{params.consumers.n} consumers, {wall:.1f} s\n")
    print(summary_text(summary))
    print(f"\nWrote {out / 'runs.csv'}, {out / 'yearly.csv'}, {out / 'hourly.parquet'} and {out / 'manifest.json'}")
    return 0
