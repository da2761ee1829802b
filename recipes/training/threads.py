"""TensorFlow's thread pools for the stacked trainer, set once per process."""

from __future__ import annotations

import os

from ..quiet import import_tensorflow

__all__ = ["configure_threads"]

_THREADS = {"configured": None}


def configure_threads(intra=None, inter=None):
    """Set TensorFlow's thread pools once, before TensorFlow starts its runtime; returns
    whether this call's process set them (False: the runtime had started; its pools stay).

    Chosen: both pools as large as the cores this process may use (2 here). The
    TensorFlow stacked trainer runs ``engine.WORKERS`` (2) chunks at once on Python
    threads; measured on 2 cores (digits, 16 runs): XLA chunks overlap only with an
    intra-op pool of 2 (intra=1: 18-22 ms per run instead of 10), and plain-graph chunks
    overlap only with an inter-op pool of 2 (inter=1: 41 ms per run instead of 23);
    larger pools would only oversubscribe the cores. TensorFlow's own default is the same
    on this machine, so a process that started TensorFlow before (e.g. built a Keras
    model or optimizer) keeps equivalent pools. Called by the TensorFlow stacked trainer
    on first use.
    """
    import_tensorflow()
    import tensorflow as tf

    if _THREADS["configured"] is not None:
        return _THREADS["configured"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(intra or cores))
        tf.config.threading.set_inter_op_parallelism_threads(int(inter or cores))
        ok = True
    except RuntimeError:   # the runtime is already initialized: keep its pools
        ok = False
    _THREADS["configured"] = ok
    return ok
