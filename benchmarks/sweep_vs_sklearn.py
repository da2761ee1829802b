"""A 200-run learning-rate sweep of digits, all-in, against scikit-learn's MLPClassifier.

    python benchmarks/sweep_vs_sklearn.py [--repeat 3] [--cache empty|warm] [--doc FILE]
    python benchmarks/sweep_vs_sklearn.py --part recipes|sklearn|startup|engine
                                                  # one part, in this process

Issue #21 section 5's MLP target: the sweep runs in one fresh process per side, timed
from outside as a whole process (interpreter start, imports, loading the data,
tracing and compiling, training, scoring, storing): the all-in cost a user pays for a
small sweep. The two sides do the same runs:

* recipes: ``recipes.run`` of an ``Experiment`` on the bundled digits (standardized,
  75/25 split per seed), recipe ``multiclass_softmax_cce``, ``hidden=(32,)``, 20
  epochs, batches of 32, Adam at each of ``LEARNING_RATES`` (20 rates, 1e-4 to 1e-1)
  x 10 seeds = 200 runs, the stacked trainer (the default), into a fresh results
  folder, every epoch scored and stored as ``recipes.run`` always does;
* sklearn: ``MLPClassifier(hidden_layer_sizes=(32,), max_iter=20, batch_size=32,
  solver="adam", learning_rate_init=rate, alpha=0, n_iter_no_change=20,
  random_state=seed)`` on the same split of each seed (``n_iter_no_change=20``: all 20
  epochs, as the stacked runs; ``alpha=0``: no L2 penalty, as the Keras model),
  scored on its validation split.

``--cache empty`` (default): each recipes process gets an empty compilation cache
(``RECIPES_CACHE_DIR``), so compiling is included, as for a first sweep on a machine.
``--cache warm``: one cache shared by the recipes processes, filled by an uncounted
first one. The sides alternate (recipes, sklearn, recipes, ...) ``--repeat`` times, and
each pair's ratio sklearn / recipes is printed with the median, so a shared machine's
drifting load moves both sides of a pair alike. Target: wall ratio >= 5.

Where the recipes side's time goes, per pair, from two more processes: ``startup`` only
starts Python, imports ``recipes`` and Keras on TensorFlow and loads digits, the floor
no sweep goes under; ``engine`` also trains and scores the same 200 runs with the
stacked trainer (compiling included) but stores nothing, the floor of any sweep that
trains these runs. Both are printed against the 5x budget (scikit-learn's time / 5);
what the recipes side takes beyond ``engine`` is its bookkeeping (the grid, storing every
epoch's scores, reading them back). The CPU
seconds of each process (user + system, all threads; ``os.wait4``) are printed too:
on a loaded machine they move less than wall time. ``--doc FILE`` also writes what is
printed into the block ``<!-- begin: benchmarks/sweep_vs_sklearn.py -->`` of the Markdown
file FILE, with the command, UTC date and machine (``benchmarks/docblock.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import docblock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPE, HIDDEN, EPOCHS, BATCH, SEEDS = "multiclass_softmax_cce", (32,), 20, 32, 10
LEARNING_RATES = tuple(float(f"{1e-4 * 1000 ** (i / 19):.3g}") for i in range(20))
RUNS = len(LEARNING_RATES) * SEEDS
TARGET = 5.0


def sweep():
    """The recipes side's Experiment: one recipe, 20 learning rates x 10 seeds."""
    import recipes

    return recipes.Experiment("sweep", ("digits",), recipes=(RECIPE,), seeds=SEEDS,
                              epochs=EPOCHS, batch_size=BATCH, hidden=HIDDEN,
                              optimizer="adam", learning_rate=list(LEARNING_RATES))


def part_recipes():
    """The sweep through ``recipes.run``; returns the runs stored and their statuses."""
    import sqlite3

    import recipes

    experiment = sweep()
    with tempfile.TemporaryDirectory() as out:
        recipes.run(experiment, out, progress=False)
        with sqlite3.connect(os.path.join(out, "results.sqlite")) as con:
            statuses = dict(con.execute("SELECT status, COUNT(*) FROM runs GROUP BY status"))
    return {"runs": sum(statuses.values()), "statuses": statuses}


def part_startup():
    """What every sweep pays before its first run: Python, ``recipes``, Keras on
    TensorFlow (``KERAS_BACKEND``), the digits data."""
    import recipes  # noqa: F401
    from recipes.quiet import import_keras
    from recipes.training import data

    start = time.perf_counter()
    import_keras()
    keras_s = time.perf_counter() - start
    return {"rows": len(data.load("digits").y), "keras_s": keras_s}


def part_engine():
    """``part_startup``, then the recipes side's runs trained and scored by the stacked
    trainer (``recipes.training.trainers``), each on its seed's split, nothing stored."""
    import recipes
    from recipes.results.grid import setups
    from recipes.training import data
    from recipes.training.trainers import trainer

    experiment = sweep()
    digits = data.load("digits")
    todo = setups(experiment, digits, recipes.load_catalog())
    splits = {seed: experiment.split_of(digits, seed) for seed in experiment.seeds}
    traces = list(trainer("stacked")(todo, [splits[s.seed] for s in todo]))
    return {"runs": len(traces), "ok": sum(t.status == "ok" for t in traces)}


def part_sklearn():
    """The same runs with scikit-learn's MLPClassifier; returns the runs and mean val
    accuracy."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from recipes.training import data

    digits = data.load("digits")
    accs = []
    for seed in range(SEEDS):
        split = data.split(digits, seed=seed)
        for rate in LEARNING_RATES:
            clf = MLPClassifier(hidden_layer_sizes=HIDDEN, max_iter=EPOCHS, batch_size=BATCH,
                                solver="adam", learning_rate_init=rate, alpha=0.0,
                                n_iter_no_change=EPOCHS, random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)   # max_iter on purpose
                clf.fit(split.X_train, split.y_train)
            accs.append(float((clf.predict(split.X_val) == split.y_val).mean()))
    return {"runs": len(accs), "val_accuracy": sum(accs) / len(accs)}


PARTS = {"recipes": part_recipes, "sklearn": part_sklearn, "startup": part_startup,
         "engine": part_engine}


def timed(part, env):
    """(wall seconds, CPU seconds (user + system, all threads), JSON answer) of one child
    process running ``part``."""
    cmd = [sys.executable, os.path.abspath(__file__), "--part", part]
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, text=True, cwd=ROOT, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        stdout.seek(0)
        stderr.seek(0)
        lines = [ln for ln in stdout.read().splitlines() if ln.startswith("{")]
        if status or not lines:
            sys.stderr.write(stderr.read()[-3000:])
            raise SystemExit(f"part {part!r} failed (wait status {status})")
    return seconds, usage.ru_utime + usage.ru_stime, json.loads(lines[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3, help="pairs of processes (default 3)")
    p.add_argument("--cache", choices=("empty", "warm"), default="empty",
                   help="the recipes processes' compilation cache (default: empty)")
    p.add_argument("--part", choices=sorted(PARTS), help="run one side in this process")
    docblock.add_argument(p)
    args = p.parse_args(argv)
    if args.part:
        print(json.dumps(PARTS[args.part]()))
        return
    with docblock.recorded(args.doc, __file__):
        compare(args)


def compare(args):
    """Run the pairs of processes and print each pair's times and ratios, then the median."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               KERAS_BACKEND="tensorflow")
    shared = tempfile.mkdtemp(prefix="recipes-sweep-cache-")
    if args.cache == "warm":
        timed("recipes", dict(env, RECIPES_CACHE_DIR=shared))     # fills the cache; not counted
    print(f"{RUNS}-run learning-rate sweep of digits ({len(LEARNING_RATES)} rates x {SEEDS} "
          f"seeds, 64-{HIDDEN[0]}-10, {EPOCHS} epochs, batch {BATCH}, adam), one process each, "
          f"all-in; {args.cache} compilation cache; {os.cpu_count()} CPU cores; load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    ratios, cpu_ratios = [], []
    def cache():   # each process that trains: its own empty cache, or the shared warm one
        return dict(env, RECIPES_CACHE_DIR=shared if args.cache == "warm"
                    else tempfile.mkdtemp(prefix="recipes-sweep-cache-"))

    for i in range(args.repeat):
        ours, ours_cpu, r = timed("recipes", cache())
        theirs, theirs_cpu, s = timed("sklearn", env)
        startup, _, u = timed("startup", env)
        engine, _, e = timed("engine", cache())
        ratios.append(theirs / ours)
        cpu_ratios.append(theirs_cpu / ours_cpu)
        print(f"pair {i + 1}: recipes {1000 * ours / r['runs']:6.1f} ms/run wall, "
              f"{1000 * ours_cpu / r['runs']:6.1f} CPU ({r['runs']} runs, {r['statuses']}); "
              f"sklearn {1000 * theirs / s['runs']:6.1f} ms/run wall, "
              f"{1000 * theirs_cpu / s['runs']:6.1f} CPU ({s['runs']} runs, val accuracy "
              f"{s['val_accuracy']:.3f}); sklearn / recipes {theirs / ours:.2f}x wall, "
              f"{theirs_cpu / ours_cpu:.2f}x CPU", flush=True)
        budget = theirs / TARGET
        print(f"        {TARGET:g}x budget {budget:.1f} s; recipes {ours:.1f} s = start-up "
              f"{startup:.1f} s ({100 * startup / budget:.0f}% of the budget: Python, imports "
              f"(Keras and TensorFlow {u['keras_s']:.1f} s), digits) + training and scoring "
              f"{engine - startup:.1f} s (compiling included; start-up + training "
              f"{engine:.1f} s = {100 * engine / budget:.0f}% of the budget, {e['ok']} of "
              f"{e['runs']} ok) + bookkeeping {ours - engine:.1f} s (recipes minus engine: "
              f"two processes, so noisy)", flush=True)
    ratio = statistics.median(ratios)
    print(f"median sklearn / recipes: {ratio:.2f}x wall (target >= {TARGET:g}x: "
          f"{'met' if ratio >= TARGET else 'MISSED'}), {statistics.median(cpu_ratios):.2f}x CPU; "
          f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
