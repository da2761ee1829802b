"""Run grids into a results store and return their tidy results.

``run(experiment, out)`` trains every run of the grid that the store at
``out`` does not hold yet, and writes each finished run in one transaction,
so an interrupted grid resumes where it stopped. ``compare(X, y)`` does the
same for a user's own arrays. ``load_results(out)`` reads a store back.
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import numpy as np

from ..catalog.infer import InferenceError, infer_problem
from ..catalog.table import as_catalog
from ..extras import MissingExtra, installed
from ..messages import plural
from ..training import data as datasets
from ..training import metrics
from ..training.trainers import DEFAULT_TRAINER
from ..training.trainers import trainer as trainer_function
from .executors import GROUPING, executor_function, executor_name, tasks
from .grid import Experiment, pending, run_config, run_id, setups
from .store import Store

WAIT = 1.0   # seconds between looks at runs another process is training
# seconds ``run`` waits for runs another process holds while none of them finishes (a
# suspended or stuck process); then it gives up with a TimeoutError naming that process
WAIT_LIMIT = 3600.0


def run(experiment, out="results", trainer=DEFAULT_TRAINER, catalog=None, progress=True,
        data=None, executor="local", address=None, wait_limit=None):
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
    wait_limit : float, optional
        Runs of the grid that another process is training into ``out`` are left to it
        and waited for (saying on stderr which process and runs); when none of them
        finishes for this many seconds (default ``WAIT_LIMIT``, an hour), ``run`` gives up.

    Returns
    -------
    pandas.DataFrame
        The experiment's tidy results, one observation per row (columns
        ``recipes.results.store.HISTORY_READ``): what ``load_results(out)`` holds for
        these runs, with text columns as Categoricals (``Store.history(compact=True)``:
        ~80 bytes a row, so a 10,000-run sweep's 2.8 million rows take ~0.2 GB). Pass it
        to ``recipes.report``.

    Raises
    ------
    TimeoutError
        When runs another process holds did not finish within ``wait_limit`` (it names
        the process and the runs, and says what to do).
    """
    trainer_function(trainer)  # fail on an unknown trainer (or executor) before any work
    execute = executor_function(executor)
    wait_limit = _seconds(WAIT_LIMIT if wait_limit is None else wait_limit, "wait_limit")
    check_backends(experiment)
    catalog = as_catalog(catalog)
    data = data or [datasets.load(n) for n in experiment.datasets]
    ids = []
    if experiment.tune is not None:
        tuning = experiment.tuning()
        ids += _train(tuning, out, trainer, catalog, data, execute, address, progress,
                      wait_limit, show_test=False)
        experiment = experiment.with_options(tuned=_choose(experiment, tuning, out, trainer,
                                                           catalog, data))
    ids += _train(experiment, out, trainer, catalog, data, execute, address, progress,
                  wait_limit)
    return Store(out).history(experiment=list(dict.fromkeys(
        [experiment.name] + ([tuning.name] if experiment.tune else []))), ids=ids, compact=True)


# The pip extra that installs each Keras backend's library.
BACKEND_EXTRAS = {"tensorflow": None, "jax": "jax", "torch": "backends"}


def check_backends(experiment):
    """Raise ``MissingExtra`` unless every Keras backend the experiment trains on is
    installed (run before any work, so a grid does not stop half way)."""
    for b in dict.fromkeys(c.backend for c in experiment.conditions):
        if BACKEND_EXTRAS[b]:
            try:
                installed(b, BACKEND_EXTRAS[b], f"Experiment {experiment.name!r}, whose "
                          f"conditions include the {b} backend,")
            except MissingExtra as err:
                raise MissingExtra(f"{err}; or leave that backend out (backend='tensorflow'; "
                                   f"recipes run --backend tensorflow)") from None


def _seconds(value, name):
    """``value`` as a float number of seconds > 0; else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not np.isfinite(value) or value <= 0:
        raise ValueError(f"Expected {name} as a finite number of seconds > 0. "
                         f"Received: {name}={value!r}")
    return float(value)


def _train(experiment, out, trainer, catalog, data, execute, address, progress, wait_limit,
           show_test=True):
    """Train the grid's missing runs; returns the run ids of the whole grid, every one of
    them stored when it returns.

    Runs another process is training into the same store (``Store.claimants``) are
    left to it, and waited for (``_Wait``); a run that failed here is not retried in
    this call. Each look at the store reads the claims first, then what is stored, so
    a run another process claimed after this one looked is found by the next look:
    the grid is done when every run is stored and none is held by another process."""
    names = {run_id(run_config(experiment, ds, s, trainer)): f"{ds.name}/{s.recipe.name} "
             f"seed {s.seed}" for ds in data for s in setups(experiment, ds, catalog)}
    store, tried = Store(out), set()   # opening the store checks that it can be written
    wait, stalled = _Wait(experiment.name, store, names, wait_limit), 0
    while True:
        others = store.claimants()
        work = pending(experiment, out, trainer, catalog, data, show_test,
                       skip=tried | set(others))
        if work:
            _execute(experiment, work, out, trainer, execute, address, progress)
            ours = _ids(experiment, work, trainer)
            before, tried = tried, tried | (ours & store.finished())
            # nothing stored and nobody else holds them: once may be a race with a process
            # that died holding them; twice, the executor or trainer dropped them
            stalled = stalled + 1 if tried == before and not ours & store.claimed() else 0
            if stalled == 2:
                raise RuntimeError(
                    f"Twice, none of the {len(ours)} runs of {experiment.name!r} handed to "
                    f"the trainer was stored in {store.path}, and no other process holds "
                    f"them (e.g. {', '.join(sorted(names[r] for r in ours)[:3])}): stopping "
                    f"rather than training them again. The executor or trainer returned "
                    f"without writing its runs.")
            continue
        kept = store.kept()
        held = {r: who for r, who in others.items() if r in names and r not in kept}
        if not held:
            break
        wait(held)
        time.sleep(WAIT)      # another process is training some of these runs
    return list(names)


class _Wait:
    """Waiting for runs of a grid that other processes hold: each call with the held runs
    (``{run id: claimant}``) says on stderr what it waits for when the processes holding
    them changed, and raises ``TimeoutError`` once ``limit`` seconds passed without a
    change in the held runs (none finished, none claimed: a suspended or stuck process)."""

    def __init__(self, experiment, store, names, limit):
        self.experiment, self.store, self.names, self.limit = experiment, store, names, limit
        self.held, self.since = {}, None

    def __call__(self, held):
        now = time.monotonic()
        if held != self.held:
            said, self.held, self.since = set(self.held.values()), dict(held), now
            if set(held.values()) != said:
                print(f"recipes: waiting for {plural(len(held), 'run')} of "
                      f"{self.experiment!r} that another process is training into "
                      f"{self.store.path}: {self._who(held)}. Giving up after "
                      f"{self.limit:g} s in which none of them finishes.",
                      file=sys.stderr, flush=True)
        elif now - self.since > self.limit:
            raise TimeoutError(
                f"Gave up waiting for {plural(len(held), 'run')} of {self.experiment!r} in "
                f"{self.store.path}: none finished in {self.limit:g} s. {self._who(held)}. "
                f"Resume that process (kill -CONT PID) if it is suspended, or end it (kill "
                f"PID) if it is stuck, then run again: the runs it never stored are trained "
                f"then. To wait longer, pass wait_limit (recipes run --wait-limit SECONDS).")

    def _who(self, held):
        """``process 123 on host (stopped) holds 2 runs: a, b``, one clause per process."""
        by = {}
        for run, who in held.items():
            by.setdefault(who, []).append(self.names[run])
        parts = []
        for who, runs in sorted(by.items()):
            host, _, pid = who.rpartition(":")
            runs = sorted(runs)
            shown = ", ".join(runs[:5]) + (f" and {len(runs) - 5} more" if len(runs) > 5 else "")
            parts.append(f"process {pid} on {host}{_state(host, pid)} holds "
                         f"{plural(len(runs), 'run')} ({shown})")
        return "; ".join(parts)


def _state(host, pid):
    """`` (stopped)`` when ``pid`` is a process of this machine that is suspended (SIGSTOP,
    Ctrl-Z; read from /proc where there is one), else ``""``."""
    if host != socket.gethostname():
        return ""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return " (stopped)" if stat.rpartition(")")[2].split()[:1] in (["T"], ["t"]) else ""


def _ids(experiment, work, trainer):
    return {run_id(run_config(experiment, ds, s, trainer)) for ds, todo in work for s, _ in todo}


def _execute(experiment, work, out, trainer, execute, address, progress):
    todo = tasks(experiment, work, out, trainer, by=GROUPING.get(executor_name(execute), "recipe"))
    bar = _bar(sum(len(t.setups) for t in todo), experiment.name, progress)
    try:
        execute(todo, bar.update, address=address)
    finally:
        bar.close()


def _choose(experiment, tuning, out, trainer, catalog, data):
    """``{(recipe, condition index): learning rate}``: per recipe and condition, the rate of
    ``tune_grid`` with the best mean final validation value of the recipe's primary
    metric over the tuning seeds. A rate with a diverged or failed tuning run scores
    worst; when every rate does, the smallest is taken."""
    history = Store(out).history(experiment=tuning.name, split="val")
    final = history.sort_values("epoch").groupby(["run", "metric"])["value"].last()
    scores = {}
    for ds in data:
        for s in setups(tuning, ds, catalog):
            metric = metrics.PRIMARY[s.recipe.target]
            value = final.get((run_id(run_config(tuning, ds, s, trainer)), metric), np.nan)
            sign = 1.0 if metrics.higher_is_better(metric) else -1.0
            base = s.settings.config() | {"learning_rate": None}
            index = [c.config() | {"learning_rate": None} for c in experiment.conditions
                     ].index(base)
            key = (s.recipe.name, index)
            scores.setdefault(key, {}).setdefault(s.settings.learning_rate, []).append(
                sign * value if np.isfinite(value) else -np.inf)
    return {key: max(sorted(by_rate), key=lambda lr: float(np.mean(by_rate[lr])))
            for key, by_rate in scores.items()}


def _bar(total, name, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=name, unit="run", disable=not enabled or total == 0,
                file=sys.stderr, leave=True)


def compare(X, y, recipes=None, problem=None, seeds=10, out="results",
            trainer=DEFAULT_TRAINER, catalog=None, name="compare", progress=True,
            executor="local", address=None, goal=None, conditions=None, tune=None,
            wait_limit=None, calibrate=False, threshold=None, **settings):
    """Train recipes side by side on your own data and return the tidy results.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), or (n_samples, ...) for a backbone
        Features: a 2-D float table is standardized with the training split's
        statistics; any other X (images ``(n, h, w, c)``, integer token ids ``(n, t)``,
        an integer table) is passed to the model as it is, integers kept integers.
    y : array-like
        Labels, as ``recipes.infer_problem`` reads them. With a DataFrame ``X`` and a
        pandas ``y``, rows are paired by index (``recipes.training.data.from_arrays``).
    recipes : str or list of str, optional
        Recipe names (one string is one name); None takes the recommended recipe of
        the problem and its catalog alternatives and anti-patterns.
    problem : str, optional
        The problem type; inferred from ``y`` when not given. Class labels take the
        order the inference finds for the problem (``low < medium < high`` for an
        ordinal problem, whatever the alphabet says); the report's description of
        the data names the classes in that order.
    seeds : int, default=10
        Runs per recipe and condition; each seed has its own train/validation split.
    out : str or Path, default="results"
        The results directory; runs it already holds are not trained again.
    trainer, catalog, progress, executor, address, wait_limit
        As for ``run``.
    name : str, default="compare"
        The experiment (and dataset) name in the store and the report.
    goal : dict, optional
        ``{"metric": ..., "value": ...}`` the report counts epochs to.
    conditions : list of dict, optional
        Explicit settings, one condition each (see ``Experiment``).
    tune : {"learning_rate"}, optional
        Tune each recipe's learning rate on validation data and report on a
        held-out test split (see ``Experiment``).
    calibrate, threshold : optional
        Also score each run's test split calibrated and/or with a threshold tuned on its
        validation outputs; the rows carry the form in the ``decoding`` column (see
        ``Experiment``).
    **settings
        Training settings, the fields of ``recipes.Settings``: ``epochs``,
        ``batch_size``, ``optimizer``, ``learning_rate``, ``hidden``,
        ``output_scale``, ``backend``, ``backbone`` (a Keras model or a function
        returning one, under the recipe's head: see ``Settings``). A list of values is
        an axis of the grid:
        ``optimizer=["sgd", "adam"], learning_rate=[0.01, 0.1]`` trains four
        conditions, compared separately and never pooled.

    Returns
    -------
    pandas.DataFrame
        The tidy results (see ``run``); write a report with ``recipes.report``.
    """
    found = infer_problem(y) if problem is None else _advice(y)
    problem = found.problem if problem is None else problem
    ds = datasets.from_arrays(X, y, problem, name=name, catalog=catalog,
                              classes=class_order(found, problem))
    experiment = Experiment(name=name, datasets=(ds.name,), recipes=recipes, seeds=seeds,
                            goal=goal, conditions=conditions, tune=tune,
                            calibrate=calibrate, threshold=threshold,
                            description=ds.description, **settings)
    return run(experiment, out, trainer, catalog, progress, data=[ds], executor=executor,
               address=address, wait_limit=wait_limit)


def _advice(y):
    """``infer_problem(y)``, or None where it cannot read labels that the problem the caller
    named may still take (``from_arrays`` checks them for that problem)."""
    try:
        return infer_problem(y)
    except InferenceError:
        return None


def class_order(found, problem):
    """The class labels in index order that the inference ``found`` decided for ``problem``:
    the order of its candidate for that problem (``Candidate.order``: the levels of an
    ordinal problem, lowest first), whether inferred or named by the caller; None (the
    default order: ordered Categorical levels, else sorted labels) when it has none.

    >>> found = infer_problem(["low", "medium", "high"] * 3)
    >>> class_order(found, "ordinal"), class_order(found, "multiclass")
    (('low', 'medium', 'high'), None)
    """
    if found is None:
        return None
    return next((c.order for c in found.candidates if c.problem == problem), None)


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
