"""Compiled (numba) loops of the hot path: the consumers' hour and the fulfilment queues."""
