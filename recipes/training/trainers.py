"""The trainers, by name: ``trainer("stacked")`` or ``trainer("keras")``.

A trainer is a function ``(setups, split) -> traces``, one ``Trace`` per setup
in order (a generator may yield each as soon as its run ends, so that a runner
stores it at once). Each is imported on first use: both import TensorFlow.
"""

from __future__ import annotations

import importlib

from ..messages import expected

# name -> "module:function"
TRAINERS = {"stacked": "recipes.training.stacked:iter_fit_stacked",
            "keras": "recipes.training.keras_fit:iter_keras"}
DEFAULT_TRAINER = "stacked"


def trainer(name):
    """The trainer function called ``name`` (a key of ``TRAINERS``)."""
    if name not in TRAINERS:
        raise ValueError(expected(TRAINERS, "trainer", name))
    module, func = TRAINERS[name].split(":")
    return getattr(importlib.import_module(module), func)
