"""Run a sweep end to end: spec -> design -> executor (with a resumable store) -> outputs.

The output folder is the unit of resumption: it holds the store's chunk files and a
manifest with the resolved spec, so ``--resume DIR`` can check it is continuing the same
sweep, run only the missing task indices, and rebuild every table and figure.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from sim.experiments.execute import JOBQUEUE_KINDS, Outcome, ResultStore, RunFn, check_cluster, execute, outcome_rows
from sim.model.metrics import RUN_METRICS
from sim.experiments.tables import yearly_table
from sim.model.runs import YEARLY_KEY
from sim.app.folders import Interrupted, check_out_dir, original_command
from sim.app.report.manifest import common_fields, now
from sim.experiments.sweeps.analysis import IMPORTANCE, drivers, point_means, sensitivity
from sim.experiments.sweeps.design import DESIGN_POINT, REPLICATION, Design, design_table, design_tasks, make_design
from sim.app.sweeps.report import fmt_index, report_blocks, response_figure, sensitivity_figure, write_report
from sim.experiments.sweeps.spec import SweepError, SweepSpec, load_spec

RESULTS_DIR = Path("results")
MANIFEST = "manifest.json"


def run_sweep(
    path_or_spec: str | Path | Mapping[str, Any] | SweepSpec | None,
    *,
    overrides: Mapping[str, Any] | None = None,
    reps: int | None = None,
    samples: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    out_dir: str | Path | None = None,
    resume_dir: str | Path | None = None,
    progress: bool = True,
    chunk_size: int | None = None,
    cluster_options: Mapping[str, Any] | None = None,
    run_fn: RunFn | None = None,
    argv: Sequence[str] | None = None,
) -> Path:
    """Run every design point x replication and write the sweep's folder; returns its path.

    ``resume_dir`` continues an interrupted sweep of the same spec (tasks already stored
    are not re-run); with ``path_or_spec=None`` the spec is read from that folder. ``run_fn`` replaces ``run_model`` (tests, custom models); ``argv`` is
    the command line recorded in the manifest (``run.py`` arguments).
    """
    if path_or_spec is None:
        if resume_dir is None or overrides or reps or samples:
            raise SweepError("a sweep file is needed (only --resume DIR alone can take the sweep from DIR)")
        spec = spec_from_folder(resume_dir)
    elif isinstance(path_or_spec, SweepSpec):
        spec = path_or_spec
    else:
        spec = load_spec(path_or_spec, overrides=overrides, reps=reps, samples=samples)
    check_cluster(cluster)
    out = _prepare_dir(spec, out_dir, resume_dir)
    design = make_design(spec)
    tasks, invalid = design_tasks(spec, design)
    started = now()
    if resume_dir is not None:  # the manifest keeps the command that started the sweep
        first_argv, first_started = original_command(out)
        argv, started = first_argv or argv, first_started or started
    facts = {**common_fields("sweep", argv, started=started, status="running", wall_seconds=None, workers=workers,
                             cluster=cluster, root_seed=spec.root_seed), "resumed": resume_dir is not None}
    write_manifest(out, spec, facts)
    options = {**spec.cluster, **(cluster_options or {})} if cluster in JOBQUEUE_KINDS else dict(cluster_options or {})
    if cluster in JOBQUEUE_KINDS:  # job logs (slurm-*.out) beside the results, not in the current folder
        options.setdefault("log_directory", str((out / "logs").absolute()))
    store = ResultStore(out, keep_hourly=spec.keep_hourly)
    facts["runs_executed"] = len(tasks) - len(store.completed_indices() & {t.index for t in tasks})
    if progress:
        print(f"sweep {spec.name}: {len(design)} design points x {spec.replications} replications, "
              f"{facts['runs_executed']} runs to do -> {out}", file=sys.stderr)
    t0 = time.perf_counter()
    try:  # until the outputs are written: an interrupt while writing them is resumed the same way
        outcomes = execute(tasks, workers=workers, cluster=cluster, chunk_size=chunk_size,
                           keep_hourly=spec.keep_hourly, progress=progress, store=store, run_fn=run_fn,
                           cluster_options=options or None)
        facts["wall_seconds"] = round(time.perf_counter() - t0, 2)
        facts["finished"] = now()
        facts["status"] = "finished"
        write_outputs(out, spec, design, outcomes + invalid, facts)
    except KeyboardInterrupt:
        raise Interrupted(out) from None
    return out


def spec_from_folder(folder: str | Path) -> SweepSpec:
    """The spec a sweep folder was started with (from its manifest)."""
    manifest = Path(folder) / MANIFEST
    if not manifest.is_file():
        raise SweepError(f"{folder}: not a sweep folder (no {MANIFEST})")
    saved = json.loads(manifest.read_text(encoding="utf-8"))
    if "spec" not in saved:
        raise SweepError(f"{folder}: {MANIFEST} is not a sweep's manifest")
    return SweepSpec.from_dict(saved["spec"], source=saved.get("source"))


def rebuild_sweep(folder: str | Path) -> Path:
    """Rewrite a finished sweep's tables, figures and report from its stored runs (no model runs)."""
    out = Path(folder)
    spec = spec_from_folder(out)
    design = make_design(spec)
    tasks, invalid = design_tasks(spec, design)
    outcomes = ResultStore(out, keep_hourly=spec.keep_hourly).outcomes(tasks)
    if len(outcomes) < len(tasks):
        raise SweepError(f"{out}: {len(tasks) - len(outcomes)} of {len(tasks)} runs are missing; "
                         f"finish them with: python run.py sweep --resume {out}")
    saved = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    facts = {k: v for k, v in saved.items() if k not in ("name", "source", "root_seed", "spec")}
    write_outputs(out, spec, design, outcomes + invalid, facts)
    return out


def _prepare_dir(spec: SweepSpec, out_dir: str | Path | None, resume_dir: str | Path | None) -> Path:
    if resume_dir is not None:
        out = Path(resume_dir)
        saved = spec_from_folder(out).to_dict()
        if _identity(saved) != _identity(spec.to_dict()):
            raise SweepError(f"--resume {out}: the sweep spec differs from the one that folder was started with "
                             "(same file, --set, --reps and --samples are needed)")
        return out
    if out_dir is None:
        out = RESULTS_DIR / f"sweep-{spec.name}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    else:
        out = Path(out_dir)
    return check_out_dir(out)


def _identity(spec: dict[str, Any]) -> dict[str, Any]:
    """The parts of a spec that decide which runs exist and what they compute (not name, text or cluster)."""
    return {k: v for k, v in spec.items() if k not in ("name", "description", "cluster")}


def write_outputs(out: Path, spec: SweepSpec, design: Design, outcomes: list[Outcome], facts: dict[str, Any]) -> None:
    """design.csv, runs.csv, failures.csv, sensitivity.csv, figures/, report.md/.html, manifest.json."""
    runs = runs_table(outcomes, design.keys)
    design_table(spec, design).to_csv(out / "design.csv", index=False)
    runs.to_csv(out / "runs.csv", index=False)
    yearly_table(outcomes).drop(columns="arm").to_csv(out / "yearly.csv", index=False)
    failed = runs[runs["error"].notna()]
    failed[[DESIGN_POINT, REPLICATION, "index", "seed", *design.keys, "error"]].to_csv(out / "failures.csv", index=False)
    means = point_means(runs, spec.outcomes, len(design))
    table, notes = sensitivity(design, means)
    table.to_csv(out / "sensitivity.csv", index=False)
    figures = [sensitivity_figure(table, spec.method, out / "figures" / "sensitivity.png")]
    figures += [response_figure(design, runs, means, o, out / "figures" / f"response-{o}.png") for o in spec.outcomes]
    facts.update(runs=len(runs), failed=len(failed), replications=spec.replications, root_seed=spec.root_seed,
                 seeds=spec.seeds, notes=notes)
    if facts.get("wall_seconds") and facts.get("runs_executed"):
        facts["runs_per_minute"] = 60 * facts["runs_executed"] / facts["wall_seconds"]
    write_report(out, report_blocks(name=spec.name, description=spec.description, method=spec.method, design=design,
                                    runs=runs, table=table, notes=notes, figures=figures, facts=facts))
    write_manifest(out, spec, facts)


def runs_table(outcomes: Sequence[Outcome], keys: Sequence[str]) -> pd.DataFrame:
    """runs.csv: design point, replication, index, seed, parameter values, every metric, error."""
    rows = outcome_rows(outcomes)
    ids = [DESIGN_POINT, REPLICATION, "index", "seed", *keys]
    extra = [c for c in rows.columns if c not in {*ids, *RUN_METRICS, "counterfactual", "error"} and not c.startswith(YEARLY_KEY)]
    return rows.reindex(columns=[*ids, *RUN_METRICS, *extra, "error"])


def write_manifest(out: Path, spec: SweepSpec, facts: dict[str, Any]) -> None:
    manifest = {"name": spec.name, "source": spec.source, "root_seed": spec.root_seed, "spec": spec.to_dict(), **facts}
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(out / MANIFEST)


def sweep_summary(out: Path, top: int = 3) -> str:
    """One screen at the end of a sweep: runs, failures, wall time, what matters most, where the report is."""
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    spec = SweepSpec.from_dict(manifest["spec"], source=manifest.get("source"))
    lines = [f"sweep {spec.name} ({spec.method}): {manifest.get('runs', 0)} runs, {manifest.get('failed', 0)} failed, "
             f"{manifest.get('runs_executed', 0)} run now in {float(manifest.get('wall_seconds') or 0):.0f} s"]
    table = pd.read_csv(out / "sensitivity.csv")
    if spec.method in ("grid", "lhs") and len(make_design(spec)) > 1:
        lines.append(_best_points(out, spec.outcomes))
    lines.append(f"most influential parameters per outcome ({IMPORTANCE[spec.method]}):")
    for outcome, ranked in drivers(table, spec.method, top).items():
        shown = ", ".join(f"{key} {fmt_index(spec.method, outcome, value)}" for key, value in ranked) or "not analysed (see report)"
        lines.append(f"  {outcome}: {shown}")
    if manifest.get("failed"):
        lines.append(f"failures: {out / 'failures.csv'}")
    lines.append(f"Report: {out / 'report.html'}  (also report.md, runs.csv, yearly.csv, sensitivity.csv, design.csv, figures/ in {out})")
    return "\n".join(lines)


def _best_points(out: Path, outcomes: Sequence[str]) -> str:
    """The design point with the highest mean of the first outcome (the one the file lists first)."""
    runs = pd.read_csv(out / "runs.csv")
    design = pd.read_csv(out / "design.csv")
    first = outcomes[0]
    means = runs[runs["error"].isna()].groupby(DESIGN_POINT)[first].mean()
    if means.dropna().empty:
        return f"best design point by {first}: none (no successful runs)"
    best = int(means.idxmax())
    row = design[design[DESIGN_POINT] == best].drop(columns=[DESIGN_POINT, "seeds"], errors="ignore").iloc[0].to_dict()
    return f"best design point by {first} (mean {means[best]:.4g}): " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())
