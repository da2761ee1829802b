"""Run grids of (dataset, recipe, seed) and store their histories.

An ``Experiment`` names datasets, recipes and training settings. ``run``
trains every run of its grid that the results store does not hold yet, in
chunks a trainer can train together, and writes each finished run in one
transaction, so an interrupted grid resumes where it stopped. ``compare`` does
the same for a user's own arrays.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import platform
import sys
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ..training import data as datasets
from ..training import metrics
from ..catalog.table import as_catalog
from ..results.store import Store
from ..training.keras_fit import SPLITS, Setup

# trainer name -> "module:function"; imported on first use. A trainer returns (or
# yields) one Trace per setup, in order; each is stored as soon as it arrives.
TRAINERS = {"stacked": "recipes.training.stacked:fit_stacked", "keras": "recipes.training.keras_fit:iter_keras"}
DEFAULT_TRAINER = "stacked"


@dataclass(frozen=True)
class Experiment:
    """A grid: every dataset x recipe x seed, trained with the same settings.

    ``recipes=None`` takes the recommended recipe of each dataset's problem and
    all its catalog alternatives and anti-patterns. ``goal`` is the target
    the report counts epochs to, e.g. ``{"metric": "accuracy", "value": 0.95}``.
    """

    name: str
    datasets: tuple
    recipes: tuple | None = None
    seeds: int = 5
    epochs: int = 20
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    hidden: tuple = (32,)
    output_scale: float = 1.0
    goal: dict | None = None
    claim: str = ""
    description: str = ""

    def with_options(self, **options):
        """A copy with the given settings changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in options.items() if v is not None})


def setups(experiment, dataset, catalog):
    """The setups of one dataset's part of the grid."""
    problem = dataset.problem
    if experiment.recipes is None:
        chosen = list(catalog.of(problem))
    else:
        chosen = [r for r in map(catalog.get, experiment.recipes) if r.problem == problem]
    if not chosen:
        raise ValueError(f"Experiment {experiment.name!r} names no recipe for dataset "
                         f"{dataset.name!r} (problem {problem!r}). Expected some of "
                         f"{[r.name for r in catalog.of(problem)]}. Received: {list(experiment.recipes)}")
    return [Setup(recipe=r, seed=s, epochs=experiment.epochs, batch_size=experiment.batch_size,
                  optimizer=experiment.optimizer, learning_rate=experiment.learning_rate,
                  hidden=tuple(experiment.hidden), output_scale=experiment.output_scale)
            for r in chosen for s in range(experiment.seeds)]


def run_config(experiment, dataset, setup, trainer):
    return {"experiment": experiment.name, "dataset": dataset.name, "trainer": trainer,
            **setup.config(), "goal": experiment.goal, "claim": experiment.claim,
            "description": experiment.description}


def run_id(config):
    """A stable id: the hash of everything that defines the run."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def versions():
    import keras
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": np.__version__, "pandas": pd.__version__}


def history(setup, split, trace):
    """A trace as tidy rows: epoch, split, metric, value."""
    recipe, rows = setup.recipe, []
    epochs = np.arange(1, trace.epochs + 1)

    def add(split_name, metric, values):
        rows.append(pd.DataFrame({"epoch": epochs, "split": split_name, "metric": metric,
                                  "value": np.asarray(values, dtype=float)[: len(epochs)]}))

    ys = {"train": split.y_train, "val": split.y_val}
    for s in SPLITS:
        add(s, "loss", trace.loss[s])
        truth = metrics.truth(recipe, ys[s], split.classes)
        with np.errstate(all="ignore"):
            scores = metrics.common_metrics(recipe, truth, trace.outputs[s], n=split.n)
        for name, values in scores.items():
            add(s, name, values)
    add("train", "grad_norm", trace.grad_norm)
    add("train", "seconds", trace.seconds)
    return pd.concat(rows, ignore_index=True)


def _record(experiment, dataset, split, setup, trace, trainer, env):
    config = run_config(experiment, dataset, setup, trainer)
    run = {
        "run": run_id(config), "experiment": experiment.name, "dataset": dataset.name,
        "problem": dataset.problem, "target": setup.recipe.target, "recipe": setup.recipe.name,
        "role": setup.recipe.role, "seed": setup.seed, "trainer": trainer,
        "status": trace.status, "error": trace.error, "epochs": trace.epochs,
        "seconds": float(trace.seconds[-1]) if trace.epochs else 0.0,
        "config": json.dumps(config, default=str), "versions": json.dumps(env),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    rows = history(setup, split, trace) if trace.epochs else pd.DataFrame(
        columns=["epoch", "split", "metric", "value"])
    return run, rows


def trainer_function(name):
    if name not in TRAINERS:
        raise ValueError(f"Expected one of {set(TRAINERS)}. Received: trainer={name!r}")
    module, func = TRAINERS[name].split(":")
    return getattr(importlib.import_module(module), func)


def pending(experiment, out, trainer=DEFAULT_TRAINER, catalog=None, data=None):
    """The runs of the grid not yet in the store: [(dataset, split, [setups])]."""
    catalog = as_catalog(catalog)
    done = Store(out).finished()
    work = []
    for ds in (data or [datasets.load(n) for n in experiment.datasets]):
        todo = [s for s in setups(experiment, ds, catalog)
                if run_id(run_config(experiment, ds, s, trainer)) not in done]
        if todo:
            work.append((ds, datasets.split(ds), todo))
    return work


# How a dataset's pending setups are cut into the units handed to a trainer.
# "dataset": all at once (the stacked trainer then runs two graphs side by
# side on two cores); "recipe": one unit per recipe (one Ray task each).
GROUP_BY = {"dataset": lambda s: None, "recipe": lambda s: s.recipe.name}


def chunks(todo, by="recipe"):
    """Setups grouped by recipe (or not at all): the units handed to a trainer."""
    if by not in GROUP_BY:
        raise ValueError(f"Expected one of {set(GROUP_BY)}. Received: by={by!r}")
    groups = {}
    for s in todo:
        groups.setdefault(GROUP_BY[by](s), []).append(s)
    return list(groups.values())


def train_chunk(experiment, dataset, split, chunk, trainer, out, env=None, done=None):
    """Train one chunk (setups of one recipe on one dataset's split) and write each run to
    the store at ``out`` as soon as the trainer returns; the unit an executor runs.

    Runs the store already holds are left out first, so a retried chunk (a Ray task whose
    worker died) never trains or writes a run twice. ``env``: the ``versions()`` to record
    (computed here when None, i.e. in the process that trains). ``done(1)`` is called after
    each write. Returns the number of runs written.
    """
    fit = trainer_function(trainer)
    store = Store(out)
    finished = store.finished()
    chunk = [s for s in chunk if run_id(run_config(experiment, dataset, s, trainer)) not in finished]
    if not chunk:
        return 0
    env = versions() if env is None else env
    for setup, trace in zip(chunk, fit(chunk, split)):
        store.write(*_record(experiment, dataset, split, setup, trace, trainer, env))
        if done is not None:
            done(1)
    return len(chunk)


def run(experiment, out="results", trainer=DEFAULT_TRAINER, catalog=None, progress=True,
        data=None, executor="local", address=None):
    """Train the grid's missing runs into the store at ``out``; return the experiment's tidy results.

    ``data``: Dataset objects to use instead of loading ``experiment.datasets``
    (how ``compare`` passes a user's arrays). ``executor``: where the chunks are
    trained, a name in ``recipes.results.executors.EXECUTORS`` ("local": in this process;
    "ray": one Ray task per chunk, on the Ray cluster at ``address`` or on a
    local Ray instance started for this call).
    """
    from ..results.executors import CHUNKING, executor_function, tasks

    trainer_function(trainer)  # fail on an unknown trainer (or executor) before any work
    execute = executor_function(executor)
    work = pending(experiment, out, trainer, catalog, data)
    todo = tasks(experiment, work, out, trainer, by=CHUNKING.get(executor, "recipe"))
    bar = _bar(sum(len(t.setups) for t in todo), experiment.name, progress)
    try:
        execute(todo, bar.update, address=address)
    finally:
        bar.close()
    return Store(out).history(experiment=experiment.name)


def _bar(total, name, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=name, unit="run", disable=not enabled or total == 0,
                file=sys.stderr, leave=True)


def compare(X, y, recipes=None, problem=None, seeds=5, epochs=20, out="results",
            trainer=DEFAULT_TRAINER, catalog=None, name="compare", progress=True,
            executor="local", address=None, **settings):
    """Train recipes side by side on your own data and return the tidy results.

    ``problem`` is inferred from ``y`` when not given; ``recipes=None`` takes
    the recommended recipe and its catalog alternatives. ``settings`` are
    other ``Experiment`` fields (batch_size, optimizer, learning_rate, hidden,
    output_scale, goal). ``executor``/``address``: as for ``run``. Write a report
    with ``recipes.reporting.report_all.write_report``.
    """
    from ..catalog.infer import infer_problem

    if problem is None:
        problem = infer_problem(y).problem
    ds = datasets.from_arrays(X, y, problem, name=name)
    experiment = Experiment(name=name, datasets=(ds.name,),
                            recipes=tuple(recipes) if recipes else None, seeds=seeds,
                            epochs=epochs, **settings)
    return run(experiment, out, trainer, catalog, progress, data=[ds], executor=executor,
               address=address)
