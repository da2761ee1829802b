"""Run grids into a results store and return their tidy results.

``run(experiment, out)`` trains every run of the grid that the store at
``out`` does not hold yet, and writes each finished run in one transaction,
so an interrupted grid resumes where it stopped. ``compare(X, y)`` does the
same for a user's own arrays. ``load_results(out)`` reads a store back.
"""

from __future__ import annotations

import sys

from ..catalog.infer import infer_problem
from ..training import data as datasets
from ..training.settings import Settings
from ..training.trainers import DEFAULT_TRAINER, trainer as trainer_function
from .executors import GROUPING, executor_function, tasks
from .grid import Experiment, pending
from .store import Store


def run(experiment, out="results", trainer=DEFAULT_TRAINER, catalog=None, progress=True,
        data=None, executor="local", address=None):
    """Train the grid's missing runs into the store at ``out``; return the experiment's results.

    Parameters
    ----------
    experiment : Experiment
        The grid to run.
    out : str or Path, default="results"
        The results directory (created if needed); runs it already holds are skipped.
    trainer : {"stacked", "keras"}, default="stacked"
        ``"stacked"`` trains many runs in one compiled graph; ``"keras"`` runs
        one plain ``model.fit`` per run.
    catalog : Catalog, str, Path or None
        The catalog to take recipes from (None: the bundled one).
    progress : bool, default=True
        Show a progress bar on stderr.
    data : list of Dataset, optional
        Datasets to use instead of loading ``experiment.datasets`` (how
        ``compare`` passes a user's arrays).
    executor : {"local", "ray"}, default="local"
        Where the runs are trained: in this process, or one Ray task per group
        of runs on the Ray cluster at ``address`` (or on a local Ray instance
        started for this call).
    address : str, optional
        The Ray cluster, with ``executor="ray"``.

    Returns
    -------
    pandas.DataFrame
        The experiment's tidy results, one observation per row (columns
        ``recipes.results.store.TIDY_COLUMNS``). Pass it to ``recipes.report``.
    """
    trainer_function(trainer)  # fail on an unknown trainer (or executor) before any work
    execute = executor_function(executor)
    work = pending(experiment, out, trainer, catalog, data)
    todo = tasks(experiment, work, out, trainer, by=GROUPING.get(executor, "recipe"))
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


def compare(X, y, recipes=None, problem=None, seeds=5, out="results",
            trainer=DEFAULT_TRAINER, catalog=None, name="compare", progress=True,
            executor="local", address=None, goal=None, **settings):
    """Train recipes side by side on your own data and return the tidy results.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features (standardized with the training split's statistics).
    y : array-like
        Labels, as ``recipes.infer_problem`` reads them.
    recipes : list of str, optional
        Recipe names; None takes the recommended recipe of the problem and
        its catalog alternatives and anti-patterns.
    problem : str, optional
        The problem type; inferred from ``y`` when not given.
    seeds : int, default=5
        Runs per recipe.
    out : str or Path, default="results"
        The results directory; runs it already holds are not trained again.
    trainer, catalog, progress, executor, address
        As for ``run``.
    name : str, default="compare"
        The experiment (and dataset) name in the store and the report.
    goal : dict, optional
        ``{"metric": ..., "value": ...}`` the report counts epochs to.
    **settings
        Training settings, the fields of ``recipes.Settings``: ``epochs``,
        ``batch_size``, ``optimizer``, ``learning_rate``, ``hidden``,
        ``output_scale``.

    Returns
    -------
    pandas.DataFrame
        The tidy results (see ``run``); write a report with ``recipes.report``.
    """
    if problem is None:
        problem = infer_problem(y).problem
    ds = datasets.from_arrays(X, y, problem, name=name)
    experiment = Experiment(name=name, datasets=(ds.name,),
                            recipes=tuple(recipes) if recipes else None, seeds=seeds,
                            settings=Settings.of(settings), goal=goal)
    return run(experiment, out, trainer, catalog, progress, data=[ds], executor=executor,
               address=address)


def load_results(path, **filters):
    """The tidy results stored in a results directory (or ``.sqlite`` file).

    Parameters
    ----------
    path : str or Path
        A results directory written by ``run``, ``compare`` or ``recipes run``.
    **filters
        ``column=value`` or ``column=[values]``, e.g. ``experiment="binary"``.

    Returns
    -------
    pandas.DataFrame
        One observation per row (``recipes.results.store.TIDY_COLUMNS``).
    """
    return Store(path, create=False).history(**filters)
