"""The experiments layer: one run's seeds, scenarios and goals, execution on local processes,
Dask and Slurm/PBS, sweeps and sensitivity, calibration, ablations and long-run tables.

It reaches the model only through ``run_model``, the parameter schema and the metric names, and
returns tidy tables; writing folders and reports is the application's job (``sim.app``).
"""
