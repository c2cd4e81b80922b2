"""Write a results folder (tables, figures, report, manifest) and rebuild a report from one.

The report is generated from the files written here, so `python run.py report DIR`
reproduces it from disk without rerunning the model.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from sim.experiments.goals import goals_from_manifest
from sim.app.report.explain import WHY_FIGURES, fig_why, read_explain
from sim.app.report.figures import make_figures
from sim.experiments.stats import with_q_values
from sim.app.report.render import ReportContext, build_blocks, to_html, to_markdown
from sim.app.report.years import yearly_figures

RUNS, COMPARISON, HOURLY, MANIFEST = "runs.csv", "comparison.csv", "hourly.parquet", "manifest.json"
YEARLY = "yearly.csv"


def write_tables(out: Path, runs: pd.DataFrame, comparison: pd.DataFrame | None, hourly: pd.DataFrame | None,
                 yearly: pd.DataFrame | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(out / RUNS, index=False)
    if yearly is not None:
        yearly.to_csv(out / YEARLY, index=False)
    if comparison is not None:
        comparison.to_csv(out / COMPARISON, index=False)
    if hourly is not None:
        hourly.to_parquet(out / HOURLY, index=False, compression="zstd")


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    (out / MANIFEST).write_text(json.dumps(_json_safe(manifest), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_report(out: Path, runs: pd.DataFrame, comparison: pd.DataFrame, hourly: pd.DataFrame | None,
                 manifest: dict[str, Any], yearly: pd.DataFrame | None = None) -> dict[str, Path]:
    """Figures, report.md and report.html from the tables and the manifest."""
    explain = read_explain(out)
    ctx = ReportContext(
        name=manifest["scenario"]["name"], description=manifest["scenario"].get("description", ""),
        reference=manifest["reference"], replications=manifest["replications"], seed=manifest["root_seed"],
        command=manifest["command"], generated=manifest.get("finished", ""), failures=manifest.get("failures", []),
        goals=goals_from_manifest(manifest.get("goals")), explain=explain,
        posterior=(manifest.get("posterior") or {}).get("source"),
    )
    if "q_value" not in comparison:  # a folder written before the FDR control
        comparison = with_q_values(comparison)
    figures_dir = out / "figures"
    figures = make_figures(runs, comparison, hourly, ctx.reference, figures_dir) + yearly_figures(yearly, figures_dir)
    if explain is not None and not explain.empty:
        figures.append(fig_why(explain, figures_dir / WHY_FIGURES[0]))
    blocks = build_blocks(ctx, runs, comparison, figures, hourly)
    (out / "report.md").write_text(to_markdown(blocks), encoding="utf-8")
    (out / "report.html").write_text(to_html(blocks, figures_dir), encoding="utf-8")
    return {"report_md": out / "report.md", "report_html": out / "report.html", "figures": figures_dir}


def write_results(result: Any, out: Path, *, argv: list[str] | None = None, workers: int | None = None,
                  started: str | None = None, cluster: str | None = None) -> dict[str, Path]:
    """Write a whole results folder for a ScenarioResult: tables, manifest, figures and report."""
    from sim.app.report.manifest import now, scenario_manifest

    out = Path(out)
    manifest = scenario_manifest(result.scenario, argv, started=started or now(), wall_seconds=result.wall_seconds,
                                 workers=workers, failures=result.failures, cluster=cluster)
    write_tables(out, result.runs, result.comparison, result.hourly, result.yearly)
    write_manifest(out, manifest)
    return write_report(out, result.runs, result.comparison, result.hourly, manifest, result.yearly)


def rebuild_report(out: Path) -> dict[str, Path]:
    """Regenerate figures and report of an existing results folder from its files."""
    out = Path(out)
    for name in (RUNS, COMPARISON, MANIFEST):
        if not (out / name).is_file():
            raise FileNotFoundError(f"{out / name}: not found (not a scenario results folder?)")
    manifest = _read(out / MANIFEST, lambda path: json.loads(path.read_text(encoding="utf-8")))
    if manifest.get("kind") != "scenario":
        raise ValueError(f"{out}: a report needs a scenario run (this folder holds a {manifest.get('kind')!r} run)")
    runs = _read(out / RUNS, lambda path: pd.read_csv(path, converters={"error": str}))  # empty error cell = success
    comparison = _read(out / COMPARISON, pd.read_csv)
    hourly = _read(out / HOURLY, pd.read_parquet) if (out / HOURLY).is_file() else None
    yearly = _read(out / YEARLY, pd.read_csv) if (out / YEARLY).is_file() else None
    return write_report(out, runs, comparison, hourly, manifest, yearly)


def _read(path: Path, reader: Callable[[Path], Any]) -> Any:
    """``reader(path)``, a damaged file named in the error (the parsers' own messages do not name it)."""
    try:
        return reader(path)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read ({exc})") from None


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
