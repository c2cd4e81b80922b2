"""Reference prices: what a session teaches a consumer about the category's discounts, and the
daily fading of that memory towards the everyday discount."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from sim.model.kernels import threads
from sim.model.kernels.threads import parallel_jit


@njit(cache=True, inline="always")
def seen_discount(options, valid, discount, group, ref):
    """The mean discount of the options a shopper saw and did not buy, or ``ref`` if none was on show."""
    n_seen = 0
    seen = np.float32(0.0)
    for j in range(options.shape[0]):
        if valid[j]:
            n_seen += 1
            seen += discount[group, options[j]]
    return seen / n_seen if n_seen > 0 else ref


@njit(cache=True, inline="always")
def updated_reference(ref, observed, settings):
    """A deal is memorable at once; regular prices win back slowly."""
    speed = settings.reference_smoothing if observed > ref else settings.reference_recovery
    return ref + speed * (observed - ref)


def _fade_references(ref_discount, keep, everyday):
    """Remembered discounts move towards the everyday one, ``ref * keep + everyday * (1 - keep)``
    in float32 as numpy computed it in two steps, in one pass over the consumers' records
    (numpy's two passes over a strided column cost several times more)."""
    towards = everyday * (np.float32(1.0) - keep)
    for i in prange(ref_discount.shape[0]):
        for c in range(ref_discount.shape[1]):
            ref_discount[i, c] = ref_discount[i, c] * keep + towards


_fade_serial = njit(cache=True)(_fade_references)
_fade_parallel = parallel_jit(_fade_references)


def fade_references(ref_discount, keep, everyday):
    """See ``_fade_references``; on numba's threads when the cores are free (a pass over all
    records is bound by memory, which two cores read faster than one)."""
    (_fade_parallel if threads.kernel_threads() > 1 else _fade_serial)(ref_discount, keep, everyday)
