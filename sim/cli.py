"""The command line: `python run.py [SCENARIO] | once | list | params | sweep | report`.

Thin on purpose: parse and validate the arguments, call the package, print where the
results are. Bad input ends in one line naming the problem and exit status 2, never a
traceback, because the users are strategists as much as programmers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
import time
import tomllib
from pathlib import Path
from typing import Any, NoReturn, Sequence

from .folders import (FolderError, Interrupted, check_out_dir, interrupted_message, original_command, read_manifest,
                      saved_resume_command)
from .calibration import CalibrationError
from .params import ParameterError, build_params, describe
from .scenarios import (DEFAULT_SCENARIO, DEFAULT_SEED, ScenarioError, list_scenarios, load_scenario,
                        seed_problem)

USAGE_ERROR = 2
COMMANDS = ("once", "list", "params", "sweep", "report", "dashboard", "calibrate", "validate")


class UsageError(Exception):
    """Bad command-line input; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + message
        raise UsageError(message)


def parse_set(items: Sequence[str] | None) -> dict[str, Any]:
    """`--set key=value` pairs; values are read as TOML literals (numbers, dates, booleans, lists), else as text."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            raise UsageError(f"--set {item!r}: expected dotted.key=value")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        if isinstance(value, float) and not math.isfinite(value):
            raise UsageError(f"--set {key}: must be a finite number (got {raw})")
        try:  # each value on its own, so the message points at --set (combinations are checked later)
            build_params({key: value})
        except ParameterError as exc:
            if str(exc).startswith(f"{key}:"):  # about this key itself, not a combination with others
                raise UsageError(f"--set {exc}") from None
        out[key] = value
    return out


def int_at_least(minimum: int):
    """An argparse type: an integer no smaller than ``minimum``, with a one-line message."""
    kind = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer of at least {minimum}")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be {kind} (got {text!r})")
        return value

    return parse


_positive_int = int_at_least(1)


def _seed(text: str) -> int:
    """An argparse type: a seed the generator and the tables can take."""
    try:
        value: Any = int(text)
    except ValueError:
        value = text
    problem = seed_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def _common(p: argparse.ArgumentParser, seed_help: str) -> None:
    p.add_argument("--seed", type=_seed, help=seed_help)
    p.add_argument("--set", action="append", metavar="KEY=VALUE", dest="sets",
                   help="override a parameter, e.g. --set consumers.n=5000 (repeatable; see `run.py params`)")
    p.add_argument("--out", type=Path, help="output folder (default results/<scenario>-<timestamp>)")
    p.add_argument("--params", type=Path, metavar="FILE", help="start from a parameter set ([params] table of dotted "
                   "keys, e.g. scenarios/calibration/calibrated.toml); the scenario's settings and --set win over it")


def scenario_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="run.py", description="Run a scenario: compare arms over replications and write a report. "
                "Other commands: once, list, params, sweep, report, dashboard, calibrate, validate (run.py COMMAND -h).")
    p.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO, help="scenario file or shipped name (default double11)")
    p.add_argument("--reps", type=_positive_int, help="replications per arm (default: the scenario's)")
    _common(p, "root seed: replication r of every arm runs on derive_seed(seed, r) (default: the scenario's)")
    p.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1,
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
                   "replication; all 7 mechanisms, or a comma-separated subset)")
    p.add_argument("--posterior", type=Path, metavar="DIR", help="calibration folder: replication r of every arm "
                   "draws posterior vector r (paired across arms), so intervals include parameter uncertainty")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _preset(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    from .calibration.paramset import load_param_set

    return load_param_set(path)


def once_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="run.py once", description="One model run (no counterfactual): print its summary, write runs.csv "
                "and the hourly series.")
    _common(p, f"the run's seed (default {DEFAULT_SEED})")
    return p


def report_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="run.py report", description="Rebuild figures and report of a results folder (scenario or "
                "sweep) from its tables.")
    p.add_argument("folder", type=Path)
    return p


def list_parser() -> argparse.ArgumentParser:
    return _Parser(prog="run.py list", description="List the shipped scenarios with their descriptions.")


def params_parser() -> argparse.ArgumentParser:
    return _Parser(prog="run.py params", description="List every parameter: dotted key, default, unit, description.")


def default_out(name: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path("results") / f"{name}-{stamp}"
    k = 1
    while out.exists():
        k += 1
        out = Path("results") / f"{name}-{stamp}-{k}"
    return out


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
                                     arms=arms, reference=args.reference, preset=_preset(args.params))
    if scenario.replications < 2:
        print("run.py: note: one replication gives no intervals and no tests (n/a in the report); use --reps 2 or more",
              file=sys.stderr)
    if scenario.reference != named_reference and args.reference is None:
        print(f"run.py: note: --arms leaves out the reference arm {named_reference}; the others are compared with "
              f"{scenario.reference} (first listed; --reference names another)", file=sys.stderr)
    if args.posterior is not None:
        from .calibration.validate import posterior_draws

        scenario = scenario.with_posterior(posterior_draws(args.posterior, scenario.replications, scenario.seed),
                                           str(args.posterior))
    if args.cluster:
        from .execute import check_cluster

        try:
            check_cluster(args.cluster)
        except ValueError as exc:
            raise UsageError(f"--{exc}") from None
    if args.resume is not None:
        out = _resume_dir(args.resume, scenario)
    else:
        out = args.out or default_out(scenario.name)
        check_out_dir(out)
    from .execute import ResultStore
    from .report import comparison_text, write_manifest, write_results  # heavy imports only once the input is good
    from .report.console import decision_text
    from .report.manifest import now, scenario_manifest
    from .scenarios import run_scenario

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
    from .goals import goals_or_default
    from .report.decision import summary
    from .report.findings import arms_metadata
    from .report.tables import ok_runs

    done = ok_runs(result.runs)
    if done.empty:
        return [], ["No run completed, so there is nothing to decide."]
    return summary(goals_or_default(scenario.goals), result.runs, result.comparison, arms_metadata(done),
                   scenario.reference)


def _mechanisms(option: str | None) -> tuple[str, ...]:
    """--explain's mechanisms: none without the option, all with it bare, else the named ones (checked)."""
    if option is None:
        return ()
    from .explain import MECHANISMS

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
    from .explain import explain_runs
    from .report.decision import recommended
    from .report.explain import EXPLAIN

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


def cmd_once(argv: Sequence[str]) -> int:
    args = once_parser().parse_args(argv)
    overrides = parse_set(args.sets)
    params = build_params({**_preset(args.params), **overrides})
    seed = DEFAULT_SEED if args.seed is None else args.seed
    out = check_out_dir(args.out or default_out("once"))
    from .execute import Task, execute  # heavy imports only once the input is good
    from .report import hourly_table, runs_table, summary_text, write_manifest, write_tables
    from .report.manifest import common_fields, now
    from .report.tables import yearly_table

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


def cmd_list(argv: Sequence[str]) -> int:
    list_parser().parse_args(argv)
    rows = list_scenarios()
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        print(f"{r['name'].ljust(width)}  {r['description']}")
    return 0


def cmd_params(argv: Sequence[str]) -> int:
    params_parser().parse_args(argv)
    rows = describe()
    kw = max(len(r["key"]) for r in rows)
    dw = max(len(_show(r["default"])) for r in rows)
    uw = max(len(r["unit"]) for r in rows)
    for r in rows:
        print(f"{r['key'].ljust(kw)}  {_show(r['default']).rjust(dw)}  {r['unit'].ljust(uw)}  {r['description']}")
    return 0


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, float) and (abs(value) >= 1e5):
        return f"{value:.3g}"
    return str(value)


def cmd_sweep(argv: Sequence[str]) -> int:
    try:
        from .sweeps import sweep_main
    except ImportError as exc:
        raise UsageError(f"sweep is not available: {exc}") from None
    return int(sweep_main(list(argv)) or 0)


def cmd_calibrate(argv: Sequence[str]) -> int:
    from .calibration.cli import cmd_calibrate as run

    return run(argv)


def cmd_validate(argv: Sequence[str]) -> int:
    from .calibration.cli import cmd_validate as run

    return run(argv)


def cmd_report(argv: Sequence[str]) -> int:
    from .report import rebuild_report

    args = report_parser().parse_args(argv)
    manifest = read_manifest(args.folder) or {}
    try:
        if manifest.get("kind") == "calibration":
            from .calibration.cli import rebuild_calibration

            print(f"Report: {rebuild_calibration(args.folder)['report_html']}")
            return 0
        if "spec" in manifest:
            from .sweeps.runner import rebuild_sweep, sweep_summary

            print(sweep_summary(rebuild_sweep(args.folder)))
            return 0
        paths = rebuild_report(args.folder)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(f"Report: {paths['report_html']}")
    return 0


def cmd_dashboard(argv: Sequence[str]) -> int:
    p = _Parser(prog="run.py dashboard", description="Explore one run interactively in the browser (Mesa SolaraViz), "
                "served on 127.0.0.1 until Ctrl-C.")
    p.add_argument("--port", type=int_at_least(0), default=0, help="port to listen on (default: a free one)")
    args = p.parse_args(argv)
    if args.port > 65535:
        raise UsageError(f"--port {args.port}: must be at most 65535")
    try:
        from .dashboard import free_port, port_in_use, serve
        import solara  # noqa: F401  (the optional extra)
    except ImportError as exc:
        raise UsageError(f"dashboard needs the dashboard extra (pip install -e '.[dashboard]'): {exc}") from None
    if args.port and port_in_use(args.port):
        raise UsageError(f"--port {args.port}: already in use")
    try:
        serve(args.port or free_port())
    except KeyboardInterrupt:
        pass
    print("Dashboard stopped.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of run.py; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    rest = argv[1:] if command else argv
    handler = {"once": cmd_once, "list": cmd_list, "params": cmd_params, "sweep": cmd_sweep,
               "report": cmd_report, "dashboard": cmd_dashboard, "calibrate": cmd_calibrate, "validate": cmd_validate,
               None: cmd_scenario}[command]
    try:
        return handler(rest)
    except (UsageError, ScenarioError, ParameterError, FolderError, FileNotFoundError, CalibrationError) as exc:
        print(f"run.py: error: {_one_line(exc)}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:  # output piped into a reader that stopped (`run.py params | head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
        return 1
    except PermissionError as exc:  # an output file or folder this user may not write
        print(f"run.py: error: {_one_line(exc)}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as exc:  # a cluster whose workers cannot run the model (sim.execute, loaded only to run)
        execute = sys.modules.get("sim.execute")
        if execute is None or not isinstance(exc, execute.ClusterError):
            raise
        print(f"run.py: error: {_one_line(exc)}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt as exc:
        print(interrupted_message(exc, [command] * bool(command) + rest), file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
