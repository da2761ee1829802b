"""Pair a network's output layer with its loss: a catalog of recipes for Keras.

``import recipes`` is the one front door; every public function is here by name:

- the catalog: ``load_catalog``, ``select``, ``get``, ``infer_problem``;
- models: ``build_model``, ``build_head``;
- experiments: ``Settings``, ``Experiment``, ``OPTIMIZER_CONDITIONS``, ``compare``, ``run``,
  ``load_results``;
- decisions after training: ``calibrate`` (temperature scaling, a ``Calibrator``),
  ``tune_threshold`` (a cut-off per label, a ``TunedThreshold``);
- the report: ``report``, ``effects`` (the effect of each recipe choice, per condition);
- diagnostics: ``check_model``, ``gradients``.

The catalog names are imported with the package and never import TensorFlow
or matplotlib. The others are imported on first use (``recipes.build_model``
imports Keras the first time it is looked up), so ``import recipes`` stays fast.

>>> import recipes
>>> recipes.select("binary").name
'binary_sigmoid_bce'
>>> recipes.infer_problem(["cat", "dog", "cat"]).problem
'binary'
"""

from __future__ import annotations

import importlib

from .catalog import Catalog, CatalogError, Recipe, get, load_catalog, select
from .catalog.infer import Inference, InferenceError, infer_problem

# name -> the module that defines it, imported on first use (TensorFlow, matplotlib)
_LAZY = {
    "Settings": "recipes.training.settings",
    "OPTIMIZER_CONDITIONS": "recipes.training.settings",
    "Experiment": "recipes.results.grid",
    "build_model": "recipes.models.build",
    "build_head": "recipes.models.build",
    "compare": "recipes.results.runner",
    "run": "recipes.results.runner",
    "load_results": "recipes.results.runner",
    "calibrate": "recipes.decisions.calibration",
    "Calibrator": "recipes.decisions.calibration",
    "tune_threshold": "recipes.decisions.thresholds",
    "TunedThreshold": "recipes.decisions.thresholds",
    "report": "recipes.reporting.writer",
    "effects": "recipes.reporting.stats",
    "check_model": "recipes.diagnostics.check",
    "gradients": "recipes.diagnostics.gradient",
}

__all__ = ["Catalog", "CatalogError", "Inference", "InferenceError", "Recipe", "get",
           "infer_problem", "load_catalog", "select", *_LAZY]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'recipes' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
