"""Parameter sweeps and global sensitivity analysis: the spec, its design and the analysis.

A sweep file names the base parameters, the parameters to vary (range or list, with a
distribution where it matters), a sampler (grid, lhs, sobol, morris), replications,
outcomes and a root seed. ``sim.app.sweeps.run_sweep`` runs its design through
``sim.experiments.execute`` and writes the folder (design.csv, runs.csv, failures.csv,
sensitivity.csv, figures and a report).
"""

from sim.experiments.sweeps.analysis import point_means, sensitivity
from sim.experiments.sweeps.design import Design, design_tasks, make_design, sample_design
from sim.experiments.sweeps.spec import Factor, SweepError, SweepSpec, load_spec, parse_spec

__all__ = [
    "Design", "Factor", "SweepError", "SweepSpec", "design_tasks", "load_spec", "make_design", "parse_spec",
    "point_means", "sample_design", "sensitivity",
]
