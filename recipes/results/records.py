"""A finished run as the store keeps it: one ``runs`` row and its tidy history.

The common metrics come from the trace: scored as the run trained (the
stacked trainer) or from its raw outputs now, by one function for every
trainer (``recipes.training.trace.scores``, i.e. ``recipes.training.metrics``).
Beside them, each evaluated split gets the trivial baseline's value of every
common metric (``metrics.baselines``: majority class, mean or median, learned
from the run's train split) as rows ``metric = BASELINE + name`` at epoch 0
(before any training), so the report can show what a model must beat.
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from ..quiet import import_keras
from ..training import metrics
from ..training.trace import SPLITS
from .decoded import decoded_metrics
from .grid import run_config, run_id

BASELINE = "baseline_"   # the prefix of a trivial baseline's metric rows


def versions():
    """The library versions a run is recorded with (the Keras backend's library, by
    its name: ``tensorflow``, ``jax`` or ``torch``)."""
    import importlib

    keras = import_keras()   # the first import of Keras in a run: without TensorFlow's log lines
    backend = keras.backend.backend()
    return {"python": platform.python_version(), "backend": backend,
            backend: importlib.import_module(backend).__version__,
            "keras": keras.__version__, "numpy": np.__version__, "pandas": pd.__version__}


def history(setup, split, trace):
    """A trace as tidy rows: epoch, split, metric, value."""
    recipe, rows = setup.recipe, []
    epochs = np.arange(1, trace.epochs + 1)

    def add(split_name, metric, values, at=epochs):
        values = np.asarray(values, dtype=float)[: len(at)]
        rows.append((at, [split_name] * len(at), [metric] * len(at), values))

    for s in SPLITS:
        add(s, "loss", trace.loss[s])
    scored = trace.common_metrics(recipe, split)
    for s, scores in scored.items():   # test: the final epoch
        for name, values in scores.items():
            add(s, name, values, epochs if s in SPLITS else epochs[-1:])
    ys = {"train": split.y_train, "val": split.y_val, "test": split.y_test}
    train = metrics.truth(recipe, split.y_train, split.classes)
    for s in scored:
        if s != "train":
            truth = metrics.truth(recipe, ys[s], split.classes)
            for name, value in metrics.baselines(recipe, train, truth, n=split.n).items():
                add(s, BASELINE + name, [value], epochs[:1] * 0)
    add("train", "grad_norm", trace.grad_norm)
    add("train", "seconds", trace.seconds)
    columns = [np.concatenate(parts) for parts in zip(*rows)]
    return pd.DataFrame(dict(zip(("epoch", "split", "metric", "value"), columns)))


def decoded(config, setup, split, trace):
    """``(rows, fitted)``: the decoded forms' test rows of a finished run whose config asks
    for some (``config["decoding"]``), at its final epoch, with a ``decoding`` column
    (``decoded_metrics``: fitted on the final validation outputs), and the fitted
    parameters; ``(None, None)`` when the run decodes nothing or has no finite final
    outputs (a diverged run). A fit ``decoded_metrics`` refuses (e.g. too few rows of a
    rare class to tune a threshold on) is recorded as ``{"error": message}``, the run's
    raw rows kept. A calibrated run's fitted parameters also hold its test reliability
    bins before and after calibration (``decoded_metrics(reliability=True)``), for the
    report."""
    asked = config.get("decoding")
    outputs = trace.outputs
    if not asked or trace.status != "ok" or "test" not in outputs or "val" not in outputs:
        return None, None
    try:
        rows, fitted = decoded_metrics(setup.recipe, split, outputs["val"][-1],
                                       outputs["test"][-1], asked["calibrate"] or False,
                                       asked["threshold"], reliability=True)
    except ValueError as err:
        return None, {"error": str(err)}
    rows = rows[rows["decoding"] != "raw"].assign(epoch=trace.epochs)
    return rows[["epoch", "split", "metric", "value", "decoding"]], fitted


def record(experiment, dataset, split, setup, trace, trainer, env):
    """``(run row, history rows)`` for ``Store.write``: the history's rows of a decoded
    run (``decoded``) carry a ``decoding`` column ("raw" for the trained outputs), and
    its config the fitted parameters under ``"decoded"``."""
    config = run_config(experiment, dataset, setup, trainer)
    rows = history(setup, split, trace) if trace.epochs else pd.DataFrame(
        columns=["epoch", "split", "metric", "value"])
    extra, fitted = decoded(config, setup, split, trace)
    stored = config if fitted is None else {**config, "decoded": fitted}
    if extra is not None:
        rows = pd.concat([rows.assign(decoding="raw"), extra], ignore_index=True)
    run = {
        "run": run_id(config), "experiment": experiment.name, "dataset": dataset.name,
        "problem": dataset.problem, "target": setup.recipe.target, "recipe": setup.recipe.name,
        "role": setup.recipe.role, "seed": setup.seed, "trainer": config["trainer"],
        "status": trace.status, "error": trace.error, "epochs": trace.epochs,
        "seconds": float(trace.seconds[-1]) if trace.epochs else 0.0,
        "config": json.dumps(stored, default=str), "versions": json.dumps(env),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return run, rows
