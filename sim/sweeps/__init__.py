"""Parameter sweeps, global sensitivity analysis and replications on local cores or Dask.

A sweep file names the base parameters, the parameters to vary (range or list, with a
distribution where it matters), a sampler (grid, lhs, sobol, morris), replications,
outcomes and a root seed; :func:`run_sweep` runs it through :mod:`sim.execute` and
writes design.csv, runs.csv, failures.csv, sensitivity.csv, figures and a report.
"""

from .analysis import point_means, sensitivity
from .cli import sweep_main
from .design import Design, design_tasks, make_design, sample_design
from .runner import rebuild_sweep, run_sweep, spec_from_folder
from .spec import Factor, SweepError, SweepSpec, load_spec, parse_spec

__all__ = [
    "Design", "Factor", "SweepError", "SweepSpec", "design_tasks", "load_spec", "make_design", "parse_spec",
    "point_means", "rebuild_sweep", "run_sweep", "spec_from_folder", "sample_design", "sensitivity", "sweep_main",
]
