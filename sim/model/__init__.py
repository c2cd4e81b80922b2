"""The model layer: parameters, calendar and festival formats, catalog, the Mesa model and its
agents, the market, fulfilment, the ecosystem over years, metrics and the compiled kernels.

It knows nothing of files, command lines or reports (a test keeps it from importing the other
layers). Experiments reach it through ``runs.run_model``, the parameter schema (``params``) and
the metric names (``metrics``).
"""
