"""manifest.json: everything needed to reproduce a results folder (command, parameters, seeds, versions, commit)."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

PACKAGES = ("mesa", "numpy", "numba", "llvmlite", "scipy", "pandas", "pyarrow", "matplotlib", "pydantic", "tqdm",
            "SALib", "dask", "distributed", "dask-jobqueue", "pyabc")
REPO = Path(__file__).resolve().parents[3]
SCHEMA = 2
COMMON_KEYS = ("schema", "kind", "command", "status", "started", "finished", "wall_seconds", "workers", "cluster",
               "root_seed", "platform", "packages", "git")
"""Keys every manifest has, whatever the command (scenario, once, sweep); each kind adds its own."""


def versions() -> dict[str, str]:
    """Python and every package that can change the numbers or run them (the compiled kernels: numba, llvmlite)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> dict[str, Any]:
    """HEAD commit and whether the checkout had uncommitted changes (then the commit alone does not reproduce)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", "sim", "run.py"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": dirty}


def common_fields(kind: str, argv: Sequence[str] | None, *, started: str, status: str, wall_seconds: float | None,
                  workers: int | None, cluster: str | None, root_seed: int | None) -> dict[str, Any]:
    """The shared part of every manifest (see COMMON_KEYS): what ran, when, where, with which code."""
    return {"schema": SCHEMA, "kind": kind, "command": command_line(argv), "status": status, "started": started,
            "finished": now() if status != "running" else None,
            "wall_seconds": None if wall_seconds is None else round(wall_seconds, 2), "workers": workers,
            "cluster": cluster, "root_seed": root_seed, **provenance()}


def provenance() -> dict[str, Any]:
    """Platform, package versions and git commit: enough to reproduce the numbers."""
    return {"platform": platform.platform(), "packages": versions(), "git": git_commit()}


def command_line(argv: Sequence[str] | None) -> str:
    """The command that reproduces a run: ``argv`` are the arguments after ``run.py``; None means this
    process's own command line (a user's script that calls the Python API)."""
    words = ["run.py", *argv] if argv is not None else [os.path.relpath(sys.argv[0]), *sys.argv[1:]]
    return shlex.join(["python", *words])


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def scenario_manifest(scenario: Any, argv: Sequence[str] | None, *, started: str, wall_seconds: float,
                      workers: int | None, failures: list[dict[str, Any]], status: str = "finished",
                      cluster: str | None = None) -> dict[str, Any]:
    """The manifest of a scenario run (``status`` "running" while it runs: resume reads its fingerprint)."""
    from sim.experiments.scenarios import describe_arms

    return {
        **common_fields("scenario", argv, started=started, status=status, wall_seconds=wall_seconds,
                        workers=workers, cluster=cluster, root_seed=scenario.seed),
        "fingerprint": scenario.fingerprint(),
        "scenario": {"name": scenario.name, "description": scenario.description, "source": scenario.source,
                     "base": {k: _plain(v) for k, v in scenario.base.items()}},
        "reference": scenario.reference,
        "replications": scenario.replications,
        "counterfactual": scenario.counterfactual,
        "goals": [g.model_dump() for g in scenario.goals],  # empty: the report uses the default goals
        "seeds": [{"replication": r, "seed": scenario.run_seed(r)} for r in range(scenario.replications)],
        "runs": [{"index": t.index, **t.labels, "seed": t.seed} for t in scenario.tasks()],
        "arms": describe_arms(scenario),
        "failures": failures,
        **({"posterior": {"source": scenario.posterior, "draws": [dict(d) for d in scenario.draws]}}
           if getattr(scenario, "draws", ()) else {}),
    }


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
