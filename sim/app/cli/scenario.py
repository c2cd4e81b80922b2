"""`run.py [SCENARIO]`: compare a scenario's arms over replications, decide, and write the report."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from sim.app.cli.args import Parser, UsageError, common_options, default_out, parse_set, positive_int, preset
from sim.app.folders import FolderError, Interrupted, check_out_dir, original_command, read_manifest, saved_resume_command
from sim.experiments.scenarios import DEFAULT_SCENARIO, load_scenario
from sim.model.mechanisms import MECHANISMS as REGISTRY


def scenario_parser() -> argparse.ArgumentParser:
    p = Parser(prog="run.py", description="Run a scenario: compare arms over replications and write a report. "
                "Other commands: once, list, params, sweep, report, dashboard, calibrate, validate (run.py COMMAND -h).")
    p.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO, help="scenario file or shipped name (default double11)")
    p.add_argument("--reps", type=positive_int, help="replications per arm (default: the scenario's)")
    common_options(p, "root seed: replication r of every arm runs on derive_seed(seed, r) (default: the scenario's)")
    p.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1,
                   help="parallel processes on this machine (default: all cores); results do not depend on it")
    p.add_argument("--arms", help="comma-separated subset of arms to run")
    p.add_argument("--reference", help="arm the others are compared with (default: the scenario's)")
    p.add_argument("--cluster", help="run on Dask instead of local processes: 'local' or a scheduler address "
                   "(tcp://host:port)")
    p.add_argument("--resume", type=Path, metavar="DIR",
                   help="finish an interrupted study in DIR (same scenario and options; runs already saved are kept)")
    p.add_argument("--explain", nargs="?", const="all", metavar="MECHANISMS",
                   help="also rerun the recommended and reference arms with one mechanism off at a time and report "
                   "the share of their difference each mechanism accounts for (2 extra runs per mechanism and "
                   f"replication; all {len(REGISTRY)} mechanisms ({', '.join(m.switch for m in REGISTRY)}; those "
                   "marked in docs/mechanisms.md as acting between seasons matter only in multi-year runs), or a "
                   "comma-separated subset)")
    p.add_argument("--posterior", type=Path, metavar="DIR", help="calibration folder: replication r of every arm "
                   "draws posterior vector r (paired across arms), so intervals include parameter uncertainty")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _resume_dir(folder: Path, scenario: Any) -> Path:
    """A scenario folder this very scenario (same arms, seeds, parameters) started."""
    if not folder.is_dir():
        raise FolderError(f"--resume {folder}: {'not a folder' if folder.exists() else 'no such folder'}")
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("kind") != "scenario" or "fingerprint" not in manifest:
        raise FolderError(f"--resume {folder}: not a scenario results folder (for a sweep: run.py sweep --resume)")
    if manifest["fingerprint"] != scenario.fingerprint():
        raise FolderError(f"--resume {folder}: that folder holds a study with other runs (another scenario, --set, "
                          f"--reps, --seed or --arms); finish it with: {saved_resume_command(folder)}")
    return folder


def cmd_scenario(argv: Sequence[str]) -> int:
    args = scenario_parser().parse_args(argv)
    if args.out is not None and args.resume is not None:
        raise UsageError("--out and --resume: give one (a resumed study writes into its own folder)")
    scenario = load_scenario(args.scenario)
    mechanisms = _mechanisms(args.explain)
    arms = [a.strip() for a in args.arms.split(",") if a.strip()] if args.arms is not None else None
    if arms == []:
        raise UsageError(f"--arms: no arm named; arms are {', '.join(a.name for a in scenario.arms)}")
    named_reference = scenario.reference
    scenario = scenario.with_options(replications=args.reps, seed=args.seed, overrides=parse_set(args.sets),
                                     arms=arms, reference=args.reference, preset=preset(args.params))
    if scenario.replications < 2:
        print("run.py: note: one replication gives no intervals and no tests (n/a in the report); use --reps 2 or more",
              file=sys.stderr)
    if scenario.reference != named_reference and args.reference is None:
        print(f"run.py: note: --arms leaves out the reference arm {named_reference}; the others are compared with "
              f"{scenario.reference} (first listed; --reference names another)", file=sys.stderr)
    if args.posterior is not None:
        from sim.experiments.calibration.validate import posterior_draws

        scenario = scenario.with_posterior(posterior_draws(args.posterior, scenario.replications, scenario.seed),
                                           str(args.posterior))
    if args.cluster:
        from sim.experiments.execute import check_cluster

        try:
            check_cluster(args.cluster)
        except ValueError as exc:
            raise UsageError(f"--{exc}") from None
    if args.resume is not None:
        out = _resume_dir(args.resume, scenario)
    else:
        out = args.out or default_out(scenario.name)
        check_out_dir(out)
    from sim.experiments.execute import ResultStore
    from sim.app.report import comparison_text, write_manifest, write_results  # heavy imports only once the input is good
    from sim.app.report.console import decision_text
    from sim.app.report.manifest import now, scenario_manifest
    from sim.experiments.scenarios import run_scenario

    n_runs = len(scenario.arms) * scenario.replications
    started = now()
    if args.resume is not None:  # the manifest and report keep the command that started the study
        first_argv, first_started = original_command(out)
        argv, started = first_argv or argv, first_started or started
    else:  # marks the folder as this study's, so --resume can check it is the same one
        write_manifest(out, scenario_manifest(scenario, argv, started=started, wall_seconds=0, workers=args.workers,
                                              failures=[], status="running"))
    store = ResultStore(out)
    done = len(store.completed_indices())
    print(f"{scenario.name}: {len(scenario.arms)} arms x {scenario.replications} replications = {n_runs} runs "
          f"on {args.workers} worker(s), reference {scenario.reference}"
          + (f"; {done} already done in {out}" if args.resume else f" -> {out}"), flush=True)
    extra = {"cluster": args.cluster} if args.cluster else {}
    try:  # until the report is written: an interrupt while writing it is resumed the same way
        result = run_scenario(scenario, workers=args.workers, progress=not args.no_progress, store=store, **extra)
        decisions, sentences = decide_all(scenario, result)
        if mechanisms:
            _explain(scenario, result, decisions, mechanisms, out, args, extra)
        paths = write_results(result, out, argv=list(argv), workers=args.workers, started=started,
                              cluster=args.cluster)
    except KeyboardInterrupt:
        raise Interrupted(out) from None
    print()
    print(decision_text(sentences))
    print()
    print(comparison_text(result.comparison, scenario.reference))
    if result.failures:
        print(f"\n{len(result.failures)} of {n_runs} runs failed; see runs.csv (column error) and the report.")
    print(f"\nRuns took {result.wall_seconds:.0f} s. Report: {paths['report_html']}  (also report.md, runs.csv, "
          f"yearly.csv, comparison.csv, hourly.parquet, figures/, manifest.json in {out})")
    return 0 if len(result.failures) < n_runs else 1


def decide_all(scenario: Any, result: Any) -> tuple[list[Any], list[str]]:
    """The decision summary of a finished scenario (its goals, or the default goals)."""
    from sim.experiments.goals import goals_or_default
    from sim.app.report.decision import summary
    from sim.app.report.findings import arms_metadata
    from sim.experiments.tables import ok_runs

    done = ok_runs(result.runs)
    if done.empty:
        return [], ["No run completed, so there is nothing to decide."]
    return summary(goals_or_default(scenario.goals), result.runs, result.comparison, arms_metadata(done),
                   scenario.reference)


def _mechanisms(option: str | None) -> tuple[str, ...]:
    """--explain's mechanisms: none without the option, all with it bare, else the named ones (checked)."""
    if option is None:
        return ()
    from sim.experiments.explain import MECHANISMS

    if option == "all":
        return MECHANISMS
    names = tuple(m.strip().removeprefix("mechanisms.") for m in option.split(",") if m.strip())
    bad = [m for m in names if m not in MECHANISMS]
    if bad or not names:
        raise UsageError(f"--explain: unknown mechanism {bad[0] if bad else option!r} (known: {', '.join(MECHANISMS)}; "
                         "a scenario goes before --explain)")
    return names


def _explain(scenario: Any, result: Any, decisions: list[Any], mechanisms: tuple[str, ...], out: Path,
             args: argparse.Namespace, extra: dict[str, Any]) -> None:
    """Run the "why" decomposition for the first goal's pick against the reference; write explain.csv."""
    from sim.experiments.explain import explain_runs
    from sim.app.report.decision import recommended
    from sim.app.report.explain import EXPLAIN

    arm = recommended(decisions, scenario.reference)
    if arm is None:
        why = ("is the reference arm itself" if decisions and decisions[0].winner else
               "does not exist (no arm meets its bounds, or its metric was not measured)")
        print(f"--explain: the first goal's pick {why}, so there is no difference to explain.")
        (out / EXPLAIN).unlink(missing_ok=True)
        return
    metric = decisions[0].goal.metric
    t0 = time.perf_counter()
    print(f"--explain: {arm} vs {scenario.reference} on {metric}, {len(mechanisms)} mechanism(s) x "
          f"{scenario.replications} replications x 2 arms = {2 * len(mechanisms) * scenario.replications} runs",
          flush=True)
    frame = explain_runs(scenario, result.runs, arm, scenario.reference, metric, mechanisms=mechanisms,
                         workers=args.workers, progress=not args.no_progress, **extra)
    frame.to_csv(out / EXPLAIN, index=False)
    print(f"--explain took {time.perf_counter() - t0:.0f} s", flush=True)
