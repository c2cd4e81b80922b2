"""Profile one model run: function level (pyinstrument) or line level (line_profiler).

    python benchmarks/profile_run.py --consumers 1000000              # pyinstrument call tree
    python benchmarks/profile_run.py --consumers 1000000 --lines      # per-line times of the hot path
    python benchmarks/profile_run.py --lines --min-share 1            # show lines >= 1 % of their function

``--lines`` needs ``pip install line-profiler``; it times every line of the consumer,
fulfilment and step functions (overhead is small: each line is a numpy call on
thousands of rows).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def hot_functions():
    import sim.model.agents.consumers as consumers
    import sim.model.fulfilment as fulfilment
    import sim.model.double11 as model
    import sim.model.market as market

    pop = consumers.ConsumerPopulation
    funcs = [model.Double11Model.step, market.Market.offer, fulfilment.Fulfilment.settle,
             fulfilment.Fulfilment._account, fulfilment.allocate_stock]
    # The compiled kernels (sim/model/kernels) are timed as single lines of activate and shop.
    funcs += [pop.activate, pop.shop, pop.commit, pop.experience, consumers.bernoulli_indices]
    return funcs


def condense(text: str, min_share: float) -> str:
    """Keep, per function, its total and the lines taking at least ``min_share`` % of it."""
    out = []
    for block in text.split("Total time:")[1:]:
        lines = block.splitlines()
        total = float(lines[0].split()[0])
        name = next((l.replace("Function: ", "") for l in lines if l.startswith("Function:")), "?")
        out.append(f"{name}: {total:.2f} s")
        for line in lines:
            m = re.match(r"\s*(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(.*)", line)
            if m and float(m.group(5)) >= min_share:
                out.append(f"  line {m.group(1):>4} {float(m.group(3)) / 1000:7.2f} s {float(m.group(5)):5.1f} %  "
                           f"{m.group(6).strip()[:140]}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--consumers", type=int, default=100_000)
    p.add_argument("--format", default="single_day")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--season-end", help="e.g. 2026-11-30 (default: the schema's season end)")
    p.add_argument("--lines", action="store_true", help="line-level profile (needs line_profiler)")
    p.add_argument("--min-share", type=float, default=2.0, help="with --lines: smallest share of a function to show, %%")
    p.add_argument("--raw", action="store_true", help="with --lines: print line_profiler's full report")
    args = p.parse_args(argv)

    from sim.model.params import build_params
    from sim.model.runs import simulate

    params = build_params({"consumers.n": args.consumers, "festival.format": args.format} | ({"season.end": args.season_end} if args.season_end else {}))
    if args.lines:
        try:
            from line_profiler import LineProfiler
        except ImportError:
            print("error: --lines needs line_profiler (pip install line-profiler)", file=sys.stderr)
            return 2
        lp = LineProfiler()
        for f in hot_functions():
            lp.add_function(f)
        lp.enable_by_count()
        model = simulate(params, args.seed)
        lp.disable_by_count()
        buf = io.StringIO()
        lp.print_stats(stream=buf, output_unit=1e-3, stripzeros=True)
        print(buf.getvalue() if args.raw else condense(buf.getvalue(), args.min_share))
    else:
        from pyinstrument import Profiler
        prof = Profiler(interval=0.002)
        prof.start()
        model = simulate(params, args.seed)
        prof.stop()
        print(prof.output_text(unicode=False, color=False))
    print("phase seconds:", {k: round(v, 2) for k, v in model.timings.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
