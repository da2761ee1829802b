"""What a grid is: an ``Experiment`` and the runs it expands to.

An ``Experiment`` names datasets, recipes, a number of seeds and the training
``Settings``; every (dataset, recipe, seed) is one run. A run is identified by
the hash of everything that defines it (``run_id``): the experiment, the
recipe's full row, the seed, the settings, the trainer, and a fingerprint of the
data (``Dataset.fingerprint``), so a results store knows which runs of a grid it
already holds (``pending``) and never answers for other data or settings.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from dataclasses import dataclass, fields

from ..catalog.table import as_catalog
from ..messages import expected
from ..training import data as datasets
from ..training import metrics
from ..training.settings import Settings, Setup, check_seeds, set_fields
from ..training.trainers import trainer_of
from .decoded import applies, calibration_method, threshold_metric
from .store import Store


# A tuned comparison's learning-rate grid (log-spaced, half a decade apart) and seeds.
TUNE_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
TUNE_SEEDS = 3
TUNE_SEED_BASE = 1000      # tuning runs use seeds 1000, 1001, ...: fresh data splits too
TUNABLE = ("learning_rate",)
TEST_FRACTION = 0.2        # the held-out test split of a tuned experiment


@dataclass(frozen=True, init=False)
class Experiment:
    """A grid: every dataset x condition x recipe x seed.

    Parameters
    ----------
    name : str
        The experiment's name in the results store and the report.
    datasets : tuple of str
        Bundled data set names (``recipes.training.data.names()``).
    recipes : tuple of str or None, default=None
        Recipe names (one string is one name); ``None`` takes, for each dataset, the
        recommended recipe of its problem and all its catalog alternatives and
        anti-patterns. An empty list (of any list-valued argument) is an error.
    seeds : int or sequence of int, default=10
        ``n`` runs per recipe, condition and dataset, with seeds ``0 .. n-1``
        (or these seed values). A seed fixes the initial weights, the order of
        the examples and the train/validation split.
    settings : Settings, optional
        The base training settings (``Settings()`` when not given).
    conditions : list of dict, optional
        An explicit list of settings (each applied over ``settings``) instead
        of one base; crossed with the list-valued ``options``.
    tune : {"learning_rate"} or None, default=None
        Tune each recipe's learning rate per condition: every value of
        ``tune_grid`` is trained on ``tune_seeds`` tuning seeds and scored on
        validation; the best (mean validation value of the primary metric) is
        trained again on the experiment's seeds and scored on a test split
        (``test_fraction``) that no tuning run ever sees.
    tune_grid : sequence of float, default=TUNE_GRID
        The learning rates tried.
    tune_seeds : int, default=3
        Tuning runs per learning rate.
    val_fraction : float, default=0.25
        Share of the (non-test) rows used for validation.
    test_fraction : float, optional
        Share of all rows held out as a test split, the same rows for every
        run; default 0.2 when tuning, else 0 (no test split).
    goal : dict or None, default=None
        The target the report counts epochs to, e.g.
        ``{"metric": "accuracy", "value": 0.95}``; ``None``: automatic. Checked here
        (``check_goal``: a common metric, a value it can take) and, before any
        training, against the metrics each dataset's recipes report.
    claim, description : str
        What the experiment tests, and what its data is; shown in the report.
    calibrate : bool or str, default=False
        Decode each run's test outputs calibrated too (#22 item 3): True is temperature
        scaling, or a method name of ``recipes.decisions.calibration.METHODS``. Fitted on
        the run's final validation outputs only (``results.decoded.decoded_metrics``).
        Applies to the class recipes a calibration keeps the labels of
        (``decisions.calibrate`` accepts them); other runs record the raw form only.
    threshold : str, dict or None, default=None
        Tune the decision threshold on each run's final validation outputs for this
        metric ("f1", "balanced_accuracy") or cost ``{"cost_fp": a, "cost_fn": b}``
        (``decisions.tune_threshold``), and score the test split with it. Applies to
        recipes decoded by a threshold (binary with one unit, multi-label); other runs
        record the raw form only. With ``calibrate`` or ``threshold``, the test split
        defaults to ``test_fraction=0.2`` and the tidy results hold the rows of each
        decoded form (column ``decoding``: raw, calibrated, thresholded,
        calibrated+thresholded). Both are part of a run's identity.
    tuned : dict, optional
        Set by ``run`` for the final runs of a tuned experiment:
        ``{(recipe, condition index): chosen learning rate}``.
    **options
        Training settings by name (``epochs=30``, ``optimizer="sgd"``, ...),
        any field of ``Settings``. A list of values is an axis of the grid:
        ``optimizer=["sgd", "adam"], learning_rate=[0.01, 0.1]`` is four
        conditions.

    >>> e = Experiment("e", ("iris",), epochs=3, optimizer=["sgd", "adam"])
    >>> [c.optimizer for c in e.conditions], e.conditions[0].epochs, e.seeds
    (['sgd', 'adam'], 3, (0, 1, 2, 3, 4, 5, 6, 7, 8, 9))
    """

    name: str
    datasets: tuple
    recipes: tuple | None
    seeds: tuple
    conditions: tuple
    tune: str | None
    tune_grid: tuple
    tune_seeds: int
    val_fraction: float
    test_fraction: float
    goal: dict | None
    claim: str
    description: str
    tuned: dict | None
    calibrate: str | None
    threshold: str | dict | None

    def __init__(self, name, datasets, recipes=None, seeds=10, settings=None, conditions=None,
                 tune=None, tune_grid=TUNE_GRID, tune_seeds=TUNE_SEEDS, val_fraction=0.25,
                 test_fraction=None, goal=None, claim="", description="", tuned=None,
                 calibrate=False, threshold=None, **options):
        if tune is not None and tune not in TUNABLE:
            raise ValueError(expected(TUNABLE, "tune", tune))
        calibrate, threshold = calibration_method(calibrate), threshold_metric(threshold)
        decodes = calibrate is not None or threshold is not None
        if test_fraction is None:
            test_fraction = TEST_FRACTION if tune or decodes else 0.0
        _check_fractions(val_fraction, test_fraction)
        if decodes and not test_fraction:
            raise ValueError(f"Expected test_fraction > 0 with calibrate or threshold (the "
                             f"decoded forms are scored on a test split the fitting never "
                             f"sees). Received: test_fraction={test_fraction!r}")
        seeds = check_seeds(seeds)
        datasets = _names(datasets, "datasets", "dataset")
        recipes = _names(recipes, "recipes", "recipe",
                         "; leave recipes out (None) to take all of the problem's recipes")
        tune_grid = _rates(tune_grid)
        check_goal(goal)
        grid = Settings.grid(options, settings, conditions)
        if tune and tuned is None and len({getattr(c, tune) for c in grid}) > 1:
            raise ValueError(f"Expected one {tune} per condition when tune={tune!r} (the "
                             f"tuning grid is tune_grid). Received: {tune}="
                             f"{sorted({getattr(c, tune) for c in grid})}")
        set_fields(self, name=name, datasets=datasets, recipes=recipes, seeds=seeds,
                   conditions=grid, tune=tune,
                   tune_grid=tune_grid, tune_seeds=tune_seeds,
                   val_fraction=val_fraction, test_fraction=test_fraction, goal=goal,
                   claim=claim, description=description, tuned=tuned,
                   calibrate=calibrate, threshold=threshold)

    def with_options(self, **options):
        """A copy with the given fields changed, or every condition's settings changed
        (None values are ignored). Turning ``tune`` on replaces each condition's
        learning rate: conditions that differed only in it become one.

        >>> e = Experiment("e", ("iris",), optimizer=["sgd", "adam"]).with_options(
        ...     seeds=2, epochs=3)
        >>> e.seeds, [(c.optimizer, c.epochs) for c in e.conditions]
        ((0, 1), [('sgd', 3), ('adam', 3)])
        """
        options = {k: v for k, v in options.items() if v is not None}
        own = {f.name for f in fields(self)}
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        settings = {k: v for k, v in options.items() if k not in own}
        current["conditions"] = [c.config() for c in current["conditions"]]
        if options.get("tune") and not self.tune:
            first = self.conditions[0].learning_rate
            current["conditions"] = list({str(c | {options["tune"]: first}): c | {
                options["tune"]: first} for c in current["conditions"]}.values())
            current["test_fraction"] = None if not self.test_fraction else self.test_fraction
        if (options.get("calibrate") or options.get("threshold")) and not self.test_fraction:
            current["test_fraction"] = None   # decoding holds out the default test split
        return Experiment(**{**current, **{k: v for k, v in options.items() if k in own},
                             **settings})

    def tuning(self):
        """The tuning grid of a tuned experiment: every condition with each learning rate
        of ``tune_grid``, on fresh seeds, its test split hidden."""
        return Experiment(
            f"{self.name} (tuning)", self.datasets, self.recipes,
            seeds=range(TUNE_SEED_BASE, TUNE_SEED_BASE + self.tune_seeds),
            conditions=[c.config() for c in self.conditions], learning_rate=list(self.tune_grid),
            val_fraction=self.val_fraction, test_fraction=self.test_fraction,
            claim=f"Learning-rate tuning for {self.name!r}", description=self.description)

    def split_of(self, dataset, seed, show_test=True):
        """The data split a run of this experiment with ``seed`` trains on."""
        return datasets.split(dataset, self.val_fraction, seed, self.test_fraction, show_test)


def _names(values, what, noun, default=""):
    """Names as a tuple: one name (a string) is one name, never read letter by letter;
    None stays None. An empty list is an error (``default`` says what None gives)."""
    if values is None:
        return None
    if isinstance(values, str):
        return (values,)
    if not hasattr(values, "__iter__"):
        raise ValueError(f"Expected {what} as a list of names. Received: {what}={values!r}")
    given, values = values, tuple(values)
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise ValueError(f"Expected {what} as a list of names (strings). "
                         f"Received: {what}={list(values)!r}")
    if not values:
        raise ValueError(f"Expected at least one {noun} in {what}{default}. "
                         f"Received: {what}={given!r}")
    return values


def _rates(values):
    """``tune_grid`` as a tuple of learning rates (each a finite number > 0), not empty."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"Expected tune_grid as a list of learning rates, e.g. [0.01, 0.1]. "
                         f"Received: tune_grid={values!r}")
    values = tuple(values)
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, numbers.Real)
           or not math.isfinite(v) or v <= 0]
    if not values or bad:
        raise ValueError(f"Expected tune_grid as a non-empty list of learning rates, each a "
                         f"finite number > 0. Received: tune_grid={list(values)!r}")
    return values


GOAL_KEYS = ("metric", "value")


def check_goal(goal, allowed=tuple(metrics.RANGES), where=""):
    """Raise ValueError unless ``goal`` is None or ``{"metric": name, "value": number}``:
    a metric among ``allowed`` (left out: the problem's primary metric) and a value it
    can take (``metrics.RANGES``); its direction is the metric's
    (``metrics.higher_is_better``). ``where`` names the data the metrics are those of."""
    if goal is None:
        return
    if not isinstance(goal, dict) or "value" not in goal:
        raise ValueError(f"Expected goal as a dict {{'metric': name, 'value': number}}, e.g. "
                         f"{{'metric': 'accuracy', 'value': 0.9}}. Received: goal={goal!r}")
    for key in goal:
        if key not in GOAL_KEYS:
            raise ValueError(expected(GOAL_KEYS, "goal key", key))
    metric = goal.get("metric")
    if metric is not None and metric not in allowed:
        raise ValueError(expected(allowed, "goal['metric']", metric)
                         + f" (a goal names a metric the report compares{where})")
    value = goal["value"]
    low, high = metrics.RANGES.get(metric, (-math.inf, math.inf))
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"Expected goal['value'] to be a finite number in [{low:g}, {high:g}]"
                         f" (the values {metric or 'the metric'} takes; "
                         f"{'higher' if metrics.higher_is_better(metric) else 'lower'} is "
                         f"better). Received: goal['value']={value!r}")


def _check_fractions(val_fraction, test_fraction):
    """0 < val_fraction < 1 and 0 <= test_fraction < 1 - val_fraction."""
    try:
        val, test = float(val_fraction), float(test_fraction)
    except (TypeError, ValueError):
        val = test = float("nan")
    if not 0.0 < val < 1.0:
        raise ValueError(f"Expected 0 < val_fraction < 1. Received: val_fraction={val_fraction!r}")
    if not 0.0 <= test < 1.0 - val:
        raise ValueError(f"Expected 0 <= test_fraction < 1 - val_fraction = {1.0 - val:g}. "
                         f"Received: test_fraction={test_fraction!r}")


def setups(experiment, dataset, catalog):
    """The setups of one dataset's part of the grid: condition x recipe x seed."""
    problem = dataset.problem
    if experiment.recipes is None:
        chosen = list(catalog.of(problem))
    else:
        chosen = [r for r in map(catalog.get, experiment.recipes) if r.problem == problem]
    if not chosen:
        raise ValueError(f"Experiment {experiment.name!r} names no recipe for dataset "
                         f"{dataset.name!r} (problem {problem!r}). Expected some of "
                         f"{[r.name for r in catalog.of(problem)]}. Received: {list(experiment.recipes)}")
    _check_goal_of(experiment, dataset, chosen)
    _check_decoding(experiment, dataset, chosen)
    for condition in experiment.conditions:
        _check_backbone_input(condition, dataset)
    out = []
    for i, condition in enumerate(experiment.conditions):
        for r in chosen:
            settings = condition
            if experiment.tuned is not None:
                settings = Settings.of({"learning_rate": experiment.tuned[(r.name, i)]},
                                       condition)
            out += [Setup(recipe=r, seed=s, settings=settings) for s in experiment.seeds]
    return out


def _check_backbone_input(settings, dataset):
    """Raise ValueError unless the examples of ``dataset.X`` fit the input of ``settings``'
    backbone (its recorded ``input`` shape; None is any size), or, without a backbone, that
    X is a table (n, features) for the default MLP: before any training."""
    backbone = settings.config().get("backbone")
    if backbone is None:
        if dataset.X.ndim != 2:
            raise ValueError(f"Expected X as a table of shape (n, features) for the default "
                             f"MLP (hidden=); images or sequences need a backbone= that takes "
                             f"them. Received: X.shape={tuple(dataset.X.shape)} in dataset "
                             f"{dataset.name!r}")
        return
    want, got = tuple(backbone["input"]), tuple(dataset.X.shape[1:])
    if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
        raise ValueError(f"Expected X with examples of shape {want} (the input of backbone "
                         f"{backbone['name']!r}; None is any size). Received: X.shape="
                         f"{tuple(dataset.X.shape)} in dataset {dataset.name!r}")


def _check_goal_of(experiment, dataset, chosen):
    """``check_goal`` against the metrics every recipe in ``chosen`` reports on ``dataset``
    (a goal without a metric is on the primary metric)."""
    goal = experiment.goal
    if goal is None:
        return
    n = datasets.problem_size(dataset)
    reported = [m for m in metrics.names(chosen[0], n)
                if all(m in metrics.names(r, n) for r in chosen)]
    if goal.get("metric") is None:
        goal = {**goal, "metric": metrics.PRIMARY[chosen[0].target]}
    check_goal(goal, reported, f" for dataset {dataset.name!r} (problem {dataset.problem!r})")


def run_config(experiment, dataset, setup, trainer):
    """Everything that defines one run, JSON-ready (stored with the run); ``trainer``: the
    one asked for, recorded as the one that trains the run (``trainers.trainer_of``: a
    setup the stacked trainer cannot take trains with plain fit, ``"keras"``)."""
    trainer = trainer_of(trainer, setup)
    config = {"experiment": experiment.name, "dataset": dataset.name,
              "data": getattr(dataset, "fingerprint", None), "trainer": trainer,
              **setup.config(), "goal": experiment.goal, "claim": experiment.claim,
              "description": experiment.description,
              "split": {"val": experiment.val_fraction, "test": experiment.test_fraction,
                        "by": "seed"}}
    decoding = decoding_of(experiment, setup.recipe)
    if decoding is not None:
        config["decoding"] = decoding
    if experiment.tune is not None:
        config["tune"] = {"setting": experiment.tune, "grid": list(experiment.tune_grid),
                          "seeds": experiment.tune_seeds}
    return config


def decoding_of(experiment, recipe):
    """``{"calibrate": method or None, "threshold": metric or None}``: the decoded forms a
    run of ``recipe`` in ``experiment`` records (``decoded.applies``), None when none."""
    calibrate, threshold = applies(recipe, experiment.calibrate, experiment.threshold)
    if calibrate is None and threshold is None:
        return None
    return {"calibrate": calibrate, "threshold": threshold}


def _check_decoding(experiment, dataset, chosen):
    """Raise ValueError when ``calibrate`` or ``threshold`` applies to none of the recipes
    ``chosen`` for ``dataset`` (before any training); recipes it does not apply to among
    others record their raw form only."""
    for key, at in (("calibrate", 0), ("threshold", 1)):
        value = getattr(experiment, key)
        if value is not None and all(
                applies(r, experiment.calibrate, experiment.threshold)[at] is None
                for r in chosen):
            what = ("class recipes a calibration keeps the labels of" if at == 0 else
                    "recipes decoded by a threshold (binary with one unit, multi-label)")
            raise ValueError(f"Expected {key} with recipes it applies to ({what}). Received: "
                             f"{key}={value!r} for dataset {dataset.name!r}, whose recipes "
                             f"{[r.name for r in chosen]} it applies to none of")


def run_id(config):
    """A stable id: the hash of everything that defines the run."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def grid_fingerprint(experiment, trainer="stacked", catalog=None):
    """A hash of every run ``experiment`` defines (the sorted ``run_id`` of each of its
    setups, on its bundled data, with ``trainer``): it changes when the experiment, its
    data, its recipes' catalog rows or its settings change. Measurements stored with it
    (``recipes.reporting.advice``) are checked against today's experiment by it."""
    catalog = as_catalog(catalog)
    ids = sorted(run_id(run_config(experiment, ds, s, trainer))
                 for ds in (datasets.load(n) for n in experiment.datasets)
                 for s in setups(experiment, ds, catalog))
    return hashlib.sha1("|".join(ids).encode()).hexdigest()[:16]


def pending(experiment, out, trainer, catalog=None, data=None, show_test=True, skip=()):
    """The runs of the grid the store holds no result of (``Store.kept``: a ``failed`` run,
    or one stored as a result without history, is trained again), less the ids in
    ``skip``: ``[(dataset, [(setup, split)])]``, one entry per dataset; each seed trains
    on its own split (one Split object per seed)."""
    catalog = as_catalog(catalog)
    done = Store(out).kept() | set(skip)
    work = []
    for ds in (data or [datasets.load(n) for n in experiment.datasets]):
        todo = [s for s in setups(experiment, ds, catalog)
                if run_id(run_config(experiment, ds, s, trainer)) not in done]
        splits = {seed: experiment.split_of(ds, seed, show_test)
                  for seed in dict.fromkeys(s.seed for s in todo)}
        if todo:
            work.append((ds, [(s, splits[s.seed]) for s in todo]))
    return work


# How a dataset's pending (setup, split) pairs are grouped into the units handed to a
# trainer. "dataset": all at once (the stacked trainer then runs two graphs side by
# side on two cores); "recipe": one unit per recipe (one Ray task each).
GROUP_BY = {"dataset": lambda s: None, "recipe": lambda s: s.recipe.name}


def groups(todo, by="recipe"):
    """``(setup, split)`` pairs grouped by recipe (or not at all): the units handed to a
    trainer."""
    if by not in GROUP_BY:
        raise ValueError(expected(GROUP_BY, "by", by))
    found = {}
    for pair in todo:
        found.setdefault(GROUP_BY[by](pair[0]), []).append(pair)
    return list(found.values())
