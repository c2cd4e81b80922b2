"""``run.py calibrate SPEC`` and ``run.py validate DIR``: parse, check the folder, run, write.

Errors are one line and exit 2 (raised as CalibrationError / UsageError and printed by
sim.app.cli.main); Ctrl-C is exit 130 with the finished generations kept in ``abc.db`` and the
command that resumes them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from pathlib import Path
from typing import Any, Sequence

from sim.app.cli.args import Parser, default_out, int_at_least, parse_set
from sim.app.cli.sweep import parse_assignments
from sim.app.folders import FolderError, Interrupted, check_out_dir, read_manifest
from sim.app.report.manifest import common_fields, now
from sim.app.report.output import write_manifest
from sim.experiments.calibration.spec import CalibrationError, Spec, load_spec
from sim.model.params import MIN_CONSUMERS

KIND = "calibration"
DEFAULT_DRAWS = 60


_positive = int_at_least(1)


def calibrate_parser() -> argparse.ArgumentParser:
    p = Parser(prog="run.py calibrate", description="Calibrate free parameters to published figures with ABC-SMC "
                "(pyabc); writes posterior, calibrated.toml, fit.csv, figures and a report.", error_type=CalibrationError)
    p.add_argument("spec", nargs="?", help="calibration spec (TOML) or a name in scenarios/calibration "
                   "(optional with --resume)")
    p.add_argument("--workers", type=_positive, default=os.cpu_count() or 1, help="parallel simulations (default: all cores)")
    p.add_argument("--cluster", metavar="ADDRESS|local|slurm|pbs", help="run on Dask (pyabc's Dask sampler)")
    p.add_argument("--cluster-option", action="append", default=[], metavar="KEY=VALUE",
                   help="SLURM/PBS setting (queue, account, cores, memory, walltime, jobs, ...), repeatable")
    p.add_argument("--set", action="append", dest="sets", metavar="KEY=VALUE", help="override a base parameter")
    p.add_argument("--out", type=Path, help="output folder (default results/calibration-<name>-<timestamp>)")
    p.add_argument("--resume", type=Path, metavar="DIR", help="continue an interrupted calibration in DIR")
    p.add_argument("--draws", type=_positive, help=f"posterior predictive draws for fit.csv (default {DEFAULT_DRAWS}; "
                   "with --resume, the interrupted command's)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def validate_parser() -> argparse.ArgumentParser:
    p = Parser(prog="run.py validate", description="Posterior predictive check of a calibration folder: simulate "
                "posterior draws, rewrite fit.csv, the figures and the report.", error_type=CalibrationError)
    p.add_argument("folder", type=Path)
    p.add_argument("--consumers", type=int_at_least(MIN_CONSUMERS), help="consumers per simulation (default: the calibration's)")
    p.add_argument("--draws", type=_positive, default=DEFAULT_DRAWS, help=f"posterior draws (default {DEFAULT_DRAWS})")
    p.add_argument("--workers", type=_positive, default=os.cpu_count() or 1)
    p.add_argument("--no-progress", action="store_true")
    return p


def fingerprint(spec: Spec) -> str:
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:20]


def spec_of(folder: Path) -> tuple[Spec, dict[str, Any]]:
    """The spec a calibration folder was made with (from its manifest)."""
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("kind") != KIND:
        raise FolderError(f"{folder}: not a calibration results folder (no calibration manifest.json)")
    return Spec.model_validate(manifest[KIND]["spec"]), manifest


def cmd_calibrate(argv: Sequence[str]) -> int:
    from sim.experiments.execute import check_cluster

    args = calibrate_parser().parse_args(argv)
    if args.out is not None and args.resume is not None:
        raise CalibrationError("--out and --resume: give one (a resumed calibration writes into its own folder)")
    if args.spec is None and args.resume is None:
        raise CalibrationError("the following arguments are required: spec")
    try:
        check_cluster(args.cluster)
    except ValueError as exc:
        raise CalibrationError(f"--{exc}") from None
    options = parse_assignments(args.cluster_option, "--cluster-option")
    previous: dict[str, Any] = {}
    if args.resume is not None:
        saved, previous = spec_of(args.resume)
        spec = load_spec(args.spec, parse_set(args.sets)) if args.spec else saved
        if fingerprint(spec) != previous[KIND]["fingerprint"]:
            raise FolderError(f"--resume {args.resume}: that folder holds a calibration of another spec or --set")
        out = args.resume
    else:
        spec = load_spec(args.spec, parse_set(args.sets))
        out = check_out_dir(args.out or default_out(f"calibration-{spec.name}"))
    from sim.experiments.calibration.abc import import_pyabc

    import_pyabc()
    started = previous.get("started") or now()
    wall_before = float(previous.get("wall_seconds") or 0.0)
    command = previous.get("command_argv") or ["calibrate", *argv]
    if args.draws is None:  # a resumed calibration checks its fit as the command that started it asked
        args.draws = calibrate_parser().parse_args(command[1:]).draws or DEFAULT_DRAWS
    base = {"started": started, "argv": command, "workers": args.workers, "cluster": args.cluster}
    _manifest(out, spec, base, status="running", wall=wall_before)
    print(f"calibration {spec.name}: {len(spec.priors)} free parameters, {len(spec.targets)} targets, population "
          f"{spec.method.population_size}, up to {spec.method.max_generations} generations of "
          f"{spec.method.consumers:,}-consumer simulations on {args.workers} worker(s) -> {out}", flush=True)
    t0 = time.perf_counter()
    try:
        from sim.experiments.calibration.abc import run_abc

        history = run_abc(spec, out, workers=args.workers, cluster=args.cluster, cluster_options=options,
                          resume=args.resume is not None, progress=not args.no_progress)
        wall = wall_before + time.perf_counter() - t0
        _manifest(out, spec, base, status="running", wall=wall, history=history)
        from sim.app.calibration import write_posterior

        write_posterior(history, out)
        summary = finish(out, draws=args.draws, consumers=spec.method.consumers, workers=args.workers,
                         progress=not args.no_progress)
    except KeyboardInterrupt:
        _manifest(out, spec, base, status="interrupted", wall=wall_before + time.perf_counter() - t0)
        raise Interrupted(out) from None
    wall = wall_before + time.perf_counter() - t0
    _manifest(out, spec, base, status="finished", wall=wall, history=history, validation=summary)
    paths = rebuild_calibration(out)
    fit = summary["fit"]
    print(f"\n{fit.to_string(index=False)}\n\nCalibration took {wall / 60:.1f} min, "
          f"{history.total_nr_simulations} simulations. Report: {paths['report_html']} "
          f"(also calibrated.toml, posterior.parquet, fit.csv, figures/, abc.db in {out})")
    return 0


def finish(out: Path, *, draws: int, consumers: int, workers: int, progress: bool) -> dict[str, Any]:
    """Posterior predictive check and calibrated.toml of a folder whose posterior is written."""
    from sim.app.calibration import write_calibrated
    from sim.experiments.calibration.validate import read_posterior, run_validation

    spec, _ = spec_of(out)
    summary = run_validation(spec, out, draws=draws, consumers=consumers, workers=workers, progress=progress)
    write_calibrated(spec, read_posterior(out), out, note=f"Reproduce: {read_manifest(out)['command']}")
    return summary


def _manifest(out: Path, spec: Spec, base: dict[str, Any], *, status: str, wall: float, history: Any = None,
              validation: dict[str, Any] | None = None) -> None:
    old = read_manifest(out) or {}
    info = {"name": spec.name, "fingerprint": fingerprint(spec), "spec": spec.model_dump(mode="json"),
            "free_parameters": list(spec.priors), "consumers": spec.method.consumers,
            "population_size": spec.method.population_size}
    if history is not None:
        info.update(simulations=int(history.total_nr_simulations), generations=int(history.max_t + 1))
    else:
        info.update({k: old.get(KIND, {}).get(k) for k in ("simulations", "generations") if k in old.get(KIND, {})})
    manifest = {**common_fields(KIND, base["argv"], started=base["started"], status=status, wall_seconds=wall,
                                workers=base["workers"], cluster=base["cluster"], root_seed=spec.seed),
                "command_argv": list(base["argv"]), KIND: info,
                "validation": ({"draws": validation["draws"], "consumers": validation["consumers"]}
                               if validation else old.get("validation"))}
    write_manifest(out, manifest)


def rebuild_calibration(out: Path) -> dict[str, Path]:
    """Figures and report of a calibration folder from its files (``run.py report DIR``)."""
    import pandas as pd

    from sim.experiments.calibration.abc import generations, load_history
    from sim.app.calibration import figures, report
    from sim.experiments.calibration.validate import read_posterior

    spec, manifest = spec_of(out)
    posterior = read_posterior(out)
    predicted = pd.read_parquet(out / "predictive.parquet") if (out / "predictive.parquet").exists() else None
    fit = pd.read_csv(out / "fit.csv") if (out / "fit.csv").exists() else None
    gens = generations(load_history(out)) if (out / "abc.db").exists() else []
    made = figures(spec, posterior, predicted, fit, out)
    return report(spec, manifest, posterior, fit, gens, made, out)


def _posterior_from_history(out: Path, manifest: dict[str, Any]) -> None:
    """An interrupted calibration has no posterior.parquet yet: take its last finished generation."""
    posterior, db = out / "posterior.parquet", out / "abc.db"
    if db.exists() and (not posterior.exists() or db.stat().st_mtime > posterior.stat().st_mtime):
        from sim.experiments.calibration.abc import load_history
        from sim.app.calibration import write_posterior

        history = load_history(out)
        if history.max_t < 0:
            raise CalibrationError(f"{out}: no finished ABC generation yet; resume the calibration first")
        write_posterior(history, out)
        manifest[KIND].update(simulations=int(history.total_nr_simulations), generations=int(history.max_t + 1))


def cmd_validate(argv: Sequence[str]) -> int:
    args = validate_parser().parse_args(argv)
    spec, manifest = spec_of(args.folder)
    consumers = args.consumers or spec.method.consumers
    _posterior_from_history(args.folder, manifest)
    summary = finish(args.folder, draws=args.draws, consumers=consumers, workers=args.workers,
                     progress=not args.no_progress)  # Ctrl-C: the previous fit.csv and figures stay
    manifest["validation"] = {"draws": summary["draws"], "consumers": consumers}
    write_manifest(args.folder, manifest)
    paths = rebuild_calibration(args.folder)
    print(f"{summary['fit'].to_string(index=False)}\n\nReport: {paths['report_html']}")
    return 0

