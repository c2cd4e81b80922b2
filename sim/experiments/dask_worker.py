"""Preloaded into each worker of a ``--cluster local`` Dask cluster (``LocalCluster(preload=...)``).

Those workers are child processes in the terminal's process group, so Ctrl-C reaches them too;
only the parent handles it (it stops the cluster), as with the local process pool.
"""

from __future__ import annotations

import signal
from typing import Any


def dask_setup(worker: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
