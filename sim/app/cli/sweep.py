"""``python run.py sweep FILE [options]``: argument parsing and one-line errors.

Every mistake a user can make on the command line or in the file (missing file,
malformed TOML, unknown key, NaN, a negative size) ends as ``run.py: error: ...`` on
stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any, Sequence

from sim.app.cli.args import Parser, int_at_least, one_line
from sim.app.folders import interrupted_message
from sim.app.sweeps.runner import run_sweep, sweep_summary
from sim.experiments.sweeps.spec import SweepError


_positive = int_at_least(1)


def parse_assignments(items: Sequence[str], option: str) -> dict[str, Any]:
    """``key=value`` pairs; values read as TOML (numbers, booleans, dates, lists), else as plain strings."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise SweepError(f"{option} {item!r}: expected KEY=VALUE")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        out[key.strip()] = value
    return out


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="run.py sweep", description="Run a parameter sweep, sensitivity analysis or replication study.",
               error_type=SweepError)
    p.add_argument("file", type=Path, nargs="?",
                   help="sweep file (TOML), e.g. scenarios/sweeps/grid_formats.toml (optional with --resume)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a base parameter (dotted key), repeatable")
    p.add_argument("--reps", type=_positive, help="replications per design point (overrides the file)")
    p.add_argument("--samples", type=_positive, help="base sample size for lhs/sobol/morris (overrides the file)")
    p.add_argument("--workers", type=_positive, help="worker processes (default: all cores; 1 = in this process)")
    p.add_argument("--cluster", metavar="ADDRESS|local|slurm|pbs",
                   help="run on Dask: a scheduler address (tcp://host:8786), a LocalCluster, or a SLURM/PBS cluster")
    p.add_argument("--cluster-option", action="append", default=[], metavar="KEY=VALUE",
                   help="SLURM/PBS setting (queue, account, cores, memory, walltime, jobs, ...), repeatable")
    p.add_argument("--chunk-size", type=_positive, help="runs per chunk (default: ~8 chunks per worker, at most 32)")
    p.add_argument("--out", type=Path, help="output folder (default results/sweep-<name>-<timestamp>)")
    p.add_argument("--resume", type=Path, metavar="DIR", help="continue an interrupted sweep in DIR (same file and options)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def sweep_main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``run.py sweep``; ``argv`` is the arguments after ``sweep``. Returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        if args.file is None and args.resume is None:
            raise SweepError("the following arguments are required: file")
        if args.out is not None and args.resume is not None:
            raise SweepError("--out and --resume: give one (a resumed sweep writes into its own folder)")
        out = run_sweep(args.file, overrides=parse_assignments(args.set, "--set"), reps=args.reps, samples=args.samples,
                        workers=args.workers, cluster=args.cluster, out_dir=args.out, resume_dir=args.resume,
                        progress=not args.no_progress, chunk_size=args.chunk_size,
                        cluster_options=parse_assignments(args.cluster_option, "--cluster-option"),
                        argv=["sweep", *argv])
    except (ValueError, OSError) as exc:  # SweepError, ParameterError, ScenarioError, FolderError, cluster settings
        print(f"run.py: error: {one_line(exc)}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt as exc:
        print(interrupted_message(exc, ["sweep", *argv]), file=sys.stderr)
        raise SystemExit(130) from None
    print(sweep_summary(out))
    return 0


def cmd_sweep(argv: Sequence[str]) -> int:
    return int(sweep_main(list(argv)) or 0)
