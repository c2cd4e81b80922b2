"""Morris screening of candidate calibration parameters on the calibration's own statistics.

Why: the free parameters of a calibration spec should be those that move its targets, not
chosen by taste. The project's sweep screens the run metrics; this screens the statistics
the targets use (intraday shares, day GMV, ...), with SALib's Morris method.

    python -m sim.experiments.calibration.screening scenarios/calibration/double11_2019.toml --trajectories 8 --workers 2
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiments.calibration.spec import load_spec
from sim.experiments.calibration.simulate import Simulator

# Candidate parameters and screening ranges (wider than any prior we would ship).
CANDIDATES: dict[str, tuple[float, float]] = {
    "consumers.need_scale": (0.3, 1.0),
    "consumers.sessions_per_week": (1.5, 4.0),
    "festival.pull": (1.5, 6.0),
    "festival.opening_burst": (1.0, 8.0),
    "festival.presale_reach": (0.01, 0.2),
    "festival.discount": (0.15, 0.45),
    "consumers.deal_weight": (1.0, 8.0),
    "consumers.stockpile_rate": (0.5, 6.0),
    "consumers.anticipation_strength": (0.0, 15.0),
    "consumers.urgency_activity": (0.0, 4.0),
    "consumers.expansion": (0.0, 2.0),
    "consumers.festival_awareness": (0.5, 1.0),
    "venues.festival_offline_pull": (0.0, 1.0),
    "consumers.need_weight": (4.0, 12.0),
}


def screen(spec_path: Path, trajectories: int, workers: int, seed: int = 1) -> pd.DataFrame:
    """mu* (normalised by the statistic's target sd) of each candidate for each target."""
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    spec = load_spec(spec_path)
    names = list(CANDIDATES)
    problem = {"num_vars": len(names), "names": names, "bounds": [list(CANDIDATES[k]) for k in names]}
    design = sample.sample(problem, trajectories, num_levels=4, seed=seed)
    sim = Simulator(spec)
    points = [dict(zip(names, row)) for row in design]
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(sim, points, chunksize=2))
    out = {}
    for t in spec.targets:
        y = np.array([r[t.name] for r in results], dtype=float)
        res = analyze.analyze(problem, design, y, num_levels=4, seed=seed)
        out[t.name] = np.asarray(res["mu_star"]) / t.sd
    return pd.DataFrame(out, index=names)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("spec", type=Path)
    p.add_argument("--trajectories", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, default=None, help="CSV to write (default: print only)")
    args = p.parse_args()
    table = screen(args.spec, args.trajectories, args.workers)
    table["total"] = table.sum(axis=1)
    table = table.sort_values("total", ascending=False)
    print(table.round(2).to_string())
    if args.out:
        table.to_csv(args.out)


if __name__ == "__main__":
    main()
