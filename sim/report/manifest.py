"""manifest.json: everything needed to reproduce a results folder (command, parameters, seeds, versions, commit)."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

PACKAGES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "matplotlib", "pydantic", "tqdm", "dask")
REPO = Path(__file__).resolve().parents[2]


def versions() -> dict[str, str]:
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


def command_line(argv: Sequence[str] | None) -> str:
    args = list(sys.argv[1:] if argv is None else argv)
    return shlex.join(["python", "run.py", *args])


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def scenario_manifest(scenario: Any, argv: Sequence[str] | None, *, started: str, wall_seconds: float,
                      workers: int | None, failures: list[dict[str, Any]]) -> dict[str, Any]:
    """The manifest of a scenario run."""
    from ..scenarios import describe_arms

    return {
        "command": command_line(argv),
        "kind": "scenario",
        "scenario": {"name": scenario.name, "description": scenario.description, "source": scenario.source,
                     "base": {k: _plain(v) for k, v in scenario.base.items()}},
        "reference": scenario.reference,
        "replications": scenario.replications,
        "root_seed": scenario.seed,
        "counterfactual": scenario.counterfactual,
        "seeds": [{"replication": r, "seed": scenario.run_seed(r)} for r in range(scenario.replications)],
        "runs": [{"index": t.index, **t.labels, "seed": t.seed} for t in scenario.tasks()],
        "arms": describe_arms(scenario),
        "workers": workers,
        "started": started,
        "finished": now(),
        "wall_seconds": round(wall_seconds, 2),
        "failures": failures,
        "versions": versions(),
        "git": git_commit(),
    }


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
