"""What a grid is: an ``Experiment`` and the runs it expands to.

An ``Experiment`` names datasets, recipes, a number of seeds and the training
``Settings``; every (dataset, recipe, seed) is one run. A run is identified by
the hash of everything that defines it (``run_id``), so a results store knows
which runs of a grid it already holds (``pending``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields

from ..catalog.table import as_catalog
from ..messages import expected
from ..training import data as datasets
from ..training.settings import Settings, Setup, set_fields
from .store import Store


@dataclass(frozen=True, init=False)
class Experiment:
    """A grid: every dataset x recipe x seed, trained with the same settings.

    Parameters
    ----------
    name : str
        The experiment's name in the results store and the report.
    datasets : tuple of str
        Bundled data set names (``recipes.training.data.names()``).
    recipes : tuple of str or None, default=None
        Recipe names; ``None`` takes, for each dataset, the recommended recipe
        of its problem and all its catalog alternatives and anti-patterns.
    seeds : int, default=5
        Runs per recipe and dataset, with seeds ``0 .. seeds-1``.
    settings : Settings, optional
        How every run is trained; the defaults of ``Settings`` when not given.
    goal : dict or None, default=None
        The target the report counts epochs to, e.g.
        ``{"metric": "accuracy", "value": 0.95}``; ``None``: automatic.
    claim, description : str
        What the experiment tests, and what its data is; shown in the report.
    **options
        Training settings by name (``epochs=30``, ``optimizer="sgd"``, ...),
        any field of ``Settings``; they override ``settings``.

    >>> e = Experiment("e", ("iris",), epochs=3)
    >>> e.settings.epochs, e.settings.optimizer
    (3, 'adam')
    """

    name: str
    datasets: tuple
    recipes: tuple | None
    seeds: int
    settings: Settings
    goal: dict | None
    claim: str
    description: str

    def __init__(self, name, datasets, recipes=None, seeds=5, settings=None, goal=None,
                 claim="", description="", **options):
        set_fields(self, name=name, datasets=tuple(datasets),
                   recipes=None if recipes is None else tuple(recipes), seeds=seeds,
                   settings=Settings.of(options, settings), goal=goal, claim=claim,
                   description=description)

    def with_options(self, **options):
        """A copy with the given fields or settings changed (None values are ignored).

        >>> e = Experiment("e", ("iris",)).with_options(seeds=2, epochs=3)
        >>> e.seeds, e.settings.epochs
        (2, 3)
        """
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        return Experiment(**{**current, **{k: v for k, v in options.items() if v is not None}})


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
    return [Setup(recipe=r, seed=s, settings=experiment.settings)
            for r in chosen for s in range(experiment.seeds)]


def run_config(experiment, dataset, setup, trainer):
    """Everything that defines one run, JSON-ready (stored with the run)."""
    return {"experiment": experiment.name, "dataset": dataset.name, "trainer": trainer,
            **setup.config(), "goal": experiment.goal, "claim": experiment.claim,
            "description": experiment.description}


def run_id(config):
    """A stable id: the hash of everything that defines the run."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def pending(experiment, out, trainer, catalog=None, data=None):
    """The runs of the grid not yet in the store: ``[(dataset, split, [setups])]``."""
    catalog = as_catalog(catalog)
    done = Store(out).finished()
    work = []
    for ds in (data or [datasets.load(n) for n in experiment.datasets]):
        todo = [s for s in setups(experiment, ds, catalog)
                if run_id(run_config(experiment, ds, s, trainer)) not in done]
        if todo:
            work.append((ds, datasets.split(ds), todo))
    return work


# How a dataset's pending setups are grouped into the units handed to a trainer.
# "dataset": all at once (the stacked trainer then runs two graphs side by
# side on two cores); "recipe": one unit per recipe (one Ray task each).
GROUP_BY = {"dataset": lambda s: None, "recipe": lambda s: s.recipe.name}


def groups(todo, by="recipe"):
    """Setups grouped by recipe (or not at all): the units handed to a trainer."""
    if by not in GROUP_BY:
        raise ValueError(expected(GROUP_BY, "by", by))
    found = {}
    for s in todo:
        found.setdefault(GROUP_BY[by](s), []).append(s)
    return list(found.values())
