"""The ``recipes`` command line.

Each subcommand is a ``(help, add_arguments, run)`` entry of ``COMMANDS``.
Catalog commands (list, show, infer) never import TensorFlow; the others
import what they need inside their ``run`` function.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
from pathlib import Path

from .catalog.table import OUTPUT_RANGES, Catalog, CatalogError, load_catalog
from .experiments import ALL, load_experiments, names as experiment_names
from .files import atomic_write
from .messages import plural
from .quiet import quiet_command


def _table(rows, columns):
    """Plain aligned text table."""
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    line = lambda cells: "  ".join(str(v).ljust(w) for v, w in zip(cells, widths)).rstrip()
    return "\n".join([line(columns), line("-" * w for w in widths)]
                     + [line(r[c] for c in columns) for r in rows])


# --- list -----------------------------------------------------------------

def _add_list(p):
    p.add_argument("--problem", help="only this problem type")


def _run_list(args, catalog: Catalog):
    rows = catalog.of(args.problem) if args.problem else catalog.recipes
    columns = ["problem", "name", "role", "activation", "loss", "from_logits", "encoding", "units"]
    print(_table([r.describe() for r in rows], columns))
    return 0


# --- show -----------------------------------------------------------------

def _add_show(p):
    p.add_argument("what", help="a recipe name or a problem type")
    p.add_argument("--n", type=int, help="problem size for the generated code (classes, labels, targets)")


def _describe(recipe, why=True):
    row = recipe.describe()
    keys = ["problem", "role", "activation", "loss", "from_logits", "encoding", "units",
            "metrics", "decoding", "target", "reference"]
    lo, hi = OUTPUT_RANGES[recipe.activation]
    lines = [f"{recipe.name}  ({recipe.role})", ""]
    lines += [f"  {k:<12} {row[k]}" for k in keys]
    lines.append(f"  {'range':<12} outputs in [{lo:g}, {hi:g}]")
    if why:
        lines += ["", f"  Why: {recipe.rationale}"]
    return "\n".join(lines)


def _pair(recipe):
    return (f"{recipe.activation} + {recipe.loss}"
            f"{', from_logits' if recipe.from_logits else ''}")


# role -> (opening line, label of the recommended recipe, label of this recipe's rationale)
ADVICE = {
    "anti-pattern": ("Do not use {name}: it is an anti-pattern for {problem!r}.",
                     "Use instead", "Why not"),
    "alternative": ("{name} is an alternative for {problem!r}; prefer the recommended "
                    "recipe unless the reason below applies.", "Recommended", "Why it is listed"),
}


def _advice(recipe, catalog):
    """What to use instead of an alternative or an anti-pattern, and why: said before any code."""
    if recipe.role not in ADVICE:
        return ""
    opening, instead, why = ADVICE[recipe.role]
    best = catalog.select(recipe.problem)
    return "\n".join([
        opening.format(name=recipe.name, problem=recipe.problem),
        f"  {instead}: {best.name} ({_pair(best)}). {best.rationale}",
        f"  {why}: {recipe.rationale}",
        f"  See: recipes show {best.name}",
        "",
        ""])


def _run_show(args, catalog: Catalog):
    from .models.spec import keras_code
    from .reporting.advice import advice_text

    if args.what in catalog.problems:
        recipe = catalog.select(args.what)
        print(f"Problem {args.what!r}: the recommended recipe is {recipe.name}.\n")
    elif args.what in catalog.names:
        recipe = catalog.get(args.what)
    else:
        known = catalog.problems + catalog.names
        close = difflib.get_close_matches(args.what, known, n=3)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise CatalogError(f"Expected a problem type {list(catalog.problems)} or a recipe name "
                           f"(see 'recipes list'). Received: {args.what!r}.{hint}")
    advice = _advice(recipe, catalog)
    print(advice + _describe(recipe, why=not advice))
    code_title = {"anti-pattern": "Keras code of this anti-pattern (to recognize it, not to copy)",
                  "alternative": "Keras code"}.get(recipe.role, "Keras code")
    print(f"\n{code_title}:\n")
    print("\n".join("    " + l if l else "" for l in keras_code(recipe, n=args.n).splitlines()))
    others = [r for r in catalog.of(recipe.problem) if r.name != recipe.name]
    if others:
        print(f"\nOther recipes for {recipe.problem!r}:")
        for r in others:
            print(f"  - {r.name} ({r.role}): {r.activation} + {r.loss}"
                  f"{' (from_logits)' if r.from_logits else ''}. {r.rationale}")
    measured = advice_text(recipe.problem)
    if measured:
        print(f"\n{measured}")
    return 0


# --- infer ----------------------------------------------------------------

def _add_infer(p):
    p.add_argument("file", help="labels: a .csv file (with --target) or a .npy array")
    p.add_argument("--target", help="the label column of a CSV file")
    p.add_argument("--max-classes", type=int, default=20,
                   help="most distinct integer values still read as classes (default 20)")


def _run_infer(args, catalog: Catalog):
    from .catalog.infer import infer_problem, read_labels

    found = infer_problem(read_labels(args.file, args.target), max_classes=args.max_classes)
    print(f"problem: {found.problem}")
    print(f"why:     {found.reason}")
    if found.problem in catalog.problems:
        recipe = catalog.select(found.problem)
        print(f"recipe:  {recipe.name} ({recipe.activation} + {recipe.loss}"
              f"{', from_logits' if recipe.from_logits else ''}; labels as {recipe.encoding})")
        print(f"         see: recipes show {recipe.name}")
    else:
        print(f"recipe:  none: the catalog has no recipe for {found.problem!r}")
    print("candidates, best first:")
    for rank, candidate in enumerate(found.candidates, 1):
        recipe = (f" -> {catalog.select(candidate.problem).name}"
                  if candidate.problem in catalog.problems else "")
        print(f"  {rank}. {candidate.problem}{recipe}: {candidate.evidence}")
        if candidate.order is not None:
            print(f"     order: {' < '.join(repr(level) for level in candidate.order)}")
    return 0


# --- run and report ----------------------------------------------------------

class Registry:
    """The names in a library registry ``"module:NAME"`` (a dict's keys or a tuple), as
    argparse ``choices``. The module is imported the first time argparse checks a value or
    prints help, so building the parser (``recipes list``) imports nothing heavy, while
    the command accepts exactly what the library does.

    >>> "keras" in Registry("recipes.training.trainers:TRAINERS")
    True
    >>> list(Registry("recipes.training.settings:BACKENDS"))
    ['tensorflow', 'jax', 'torch']
    """

    def __init__(self, target):
        self.target = target

    def names(self):
        """The registry's names, in its order: a tuple of str."""
        module, name = self.target.split(":")
        return tuple(getattr(importlib.import_module(module), name))

    def __iter__(self):
        return iter(self.names())

    def __contains__(self, value):
        return value in self.names()


BACKENDS = Registry("recipes.training.settings:BACKENDS")
TRAINERS = Registry("recipes.training.trainers:TRAINERS")
EXECUTORS = Registry("recipes.results.executors:EXECUTORS")
TUNABLE = Registry("recipes.results.grid:TUNABLE")
CALIBRATIONS = Registry("recipes.decisions.calibration:METHODS")
THRESHOLD_METRICS = Registry("recipes.decisions.thresholds:METRICS")


def _add_run_options(p):
    p.add_argument("--seeds", type=int, help="seeds per recipe (default: the experiment's)")
    p.add_argument("--epochs", type=int, help="epochs per run (default: the experiment's)")
    p.add_argument("--tune", choices=TUNABLE, metavar="SETTING",
                   help="tune this setting (one of %(choices)s) of each recipe on validation "
                        "data and report on a held-out test split (default: the experiment's "
                        "choice)")
    p.add_argument("--calibrate", nargs="?", const=True, choices=CALIBRATIONS,
                   metavar="METHOD",
                   help="also score each run's test split calibrated on its validation "
                        "outputs (one of %(choices)s; no METHOD: temperature); class recipes "
                        "only, the others record the raw form (default: the experiment's)")
    p.add_argument("--threshold", choices=THRESHOLD_METRICS, metavar="METRIC",
                   help="also score each run's test split with a decision threshold tuned "
                        "for this metric (one of %(choices)s) on its validation outputs; "
                        "recipes decoded by a threshold only (default: the experiment's)")
    p.add_argument("--backend", action="append", metavar="NAME", choices=BACKENDS,
                   help="train on this Keras backend (one of %(choices)s; repeat for several; "
                        "each runs in its own process); replaces the experiment's backends "
                        "(default: the experiment's)")
    p.add_argument("--out", default="results", help="results directory (default: results)")
    p.add_argument("--trainer", choices=TRAINERS, metavar="NAME",
                   help="one of %(choices)s. stacked: many runs in one compiled graph "
                        "(the default); keras: plain model.fit")
    p.add_argument("--report", default=None, metavar="DIR",
                   help="where to write the report (default: OUT/report)")
    p.add_argument("--no-report", action="store_true", help="train only")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--wait-limit", type=float, default=None, metavar="SECONDS",
                   help="runs another process is training into --out are waited for; give up "
                        "when none of them finishes for this long (default: "
                        "recipes.results.runner.WAIT_LIMIT)")
    p.add_argument("--executor", choices=EXECUTORS, metavar="NAME",
                   help="one of %(choices)s. local: train in this process (the default); "
                        "ray: one Ray task per chunk (pip install 'keras-loss-recipes[ray]')")
    p.add_argument("--address", default=None,
                   help="with --executor ray: the Ray cluster to use (e.g. auto, ray://HOST:10001); "
                        "default: start a local Ray instance. Across machines, --out must be on a "
                        "filesystem every node shares")


def _add_run(p):
    p.add_argument("experiment", metavar="EXPERIMENT",
                   help=f"{ALL!r} (every bundled experiment), a bundled experiment "
                        f"({', '.join(experiment_names())}), or the path of your own script "
                        f"ending in .py")
    _add_run_options(p)


def _train(experiments, args, catalog):
    from .results.runner import check_backends, run

    experiments = [exp.with_options(seeds=args.seeds, epochs=args.epochs, tune=args.tune,
                                    calibrate=args.calibrate, threshold=args.threshold,
                                    backend=args.backend) for exp in experiments]
    # the options given; the others take run's defaults (one home for each)
    given = {k: v for k, v in (("trainer", args.trainer), ("executor", args.executor))
             if v is not None}
    for exp in experiments:   # before any training: a suite does not stop half way
        check_backends(exp)
    for exp in experiments:
        run(exp, args.out, catalog=catalog, progress=not args.quiet, address=args.address,
            wait_limit=args.wait_limit, **given)
    if not args.no_report:
        from .reporting.writer import report

        out = report(args.out, args.report or Path(args.out) / "report")
        print(f"report: {out}")
    return 0


def _run_run(args, catalog: Catalog):
    return _train(load_experiments(args.experiment), args, catalog)


def _add_report(p):
    p.add_argument("results", help="a results directory (from 'recipes run')")
    p.add_argument("--out", default="report", help="report directory (default: report)")


def _run_report(args, catalog: Catalog):
    from .reporting.writer import report
    from .results.store import Store

    store = Store(args.results, create=False)
    hollow = store.results_without_history()
    if hollow.empty:
        print(f"report: {report(args.results, args.out)}")
        return 0
    _warn_hollow(store, hollow)
    history, runs = store.history_and_runs(compact=True)
    runs = runs[~runs["run"].isin(set(hollow["run"]))].reset_index(drop=True)
    print(f"report: {report(history, args.out, runs=runs)}")
    return 0


def _warn_hollow(store, hollow):
    """Name, on stderr, the runs stored as results without any history (left out of the
    report: there is nothing to score them by)."""
    shown = [f"{r.run} ({r.experiment}: {r.dataset}/{r.recipe} seed {r.seed}, {r.status})"
             for r in hollow.itertuples()]
    print(f"recipes report: warning: {store.path} contradicts itself: "
          f"{plural(len(shown), 'run')} stored as finished (ok or diverged) without any "
          f"history, left out of the report: {'; '.join(shown[:10])}"
          f"{f'; and {len(shown) - 10} more' if len(shown) > 10 else ''}. "
          f"The next 'recipes run' (or run/compare) of their grid trains them again.",
          file=sys.stderr)


# --- check and explain (recipes.diagnostics) -----------------------------------

def _add_check(p):
    p.add_argument("model", help="a saved Keras model (NAME.keras), compiled")
    p.add_argument("--labels", required=True, metavar="FILE",
                   help="the training labels: a .csv file (with --target) or a .npy array")
    p.add_argument("--target", nargs="+", metavar="COL",
                   help="the label column(s) of a CSV file (several for multi-label)")
    p.add_argument("--problem", help="the problem type, instead of inferring it from the labels")


def _run_check(args, catalog: Catalog):
    from .diagnostics.check import check_model
    from .catalog.infer import read_labels

    target = args.target[0] if args.target and len(args.target) == 1 else args.target
    result = check_model(args.model, read_labels(args.labels, target), catalog=catalog,
                         problem=args.problem)
    print(result)
    return 0 if result.ok else 1


def _add_explain(p):
    p.add_argument("name", help="a recipe name (see 'recipes list')")
    p.add_argument("--out", metavar="FIG.png",
                   help="save a figure of |dL/dz| for every recipe of the problem")


def _run_explain(args, catalog: Catalog):
    from .diagnostics.figures import gradient_figure
    from .diagnostics.gradient import explain, problem_gradients

    recipe = catalog.get(args.name)
    print(_describe(recipe))
    print()
    print(explain(recipe, catalog))
    if args.out:
        fig = gradient_figure(problem_gradients(recipe.problem, catalog), highlight=recipe.name)
        atomic_write(args.out, lambda tmp: fig.savefig(tmp, dpi=120))
        print(f"\nfigure: {args.out}")
    return 0


# --- backends (recipes.diagnostics.backends) -------------------------------------

def _add_backends(p):
    p.add_argument("--backend", action="append", metavar="NAME", choices=BACKENDS,
                   help="a Keras backend to compute on (repeat; default: every one of "
                        "%(choices)s)")
    p.add_argument("--out", metavar="DIR", help="a results folder to cache the matrix in")


def _run_backends(args, catalog: Catalog):
    from .diagnostics.backends import disagreements, matrix, table_text

    df = matrix(catalog, tuple(args.backend or BACKENDS), args.out)
    print(table_text(df))
    notes = [r for r in catalog if r.backend_note and r.name in set(
        disagreements(df).query("disagree")["recipe"])]
    if notes:
        print("\nbackend notes (catalog.csv):")
        for r in notes:
            print(f"  {r.name}: {r.backend_note}")
    return 0


# --- export and export-model (recipes.export) -----------------------------------

def _add_export(p):
    p.add_argument("results", help="a results directory (from 'recipes run')")
    p.add_argument("--to", nargs="+", required=True, metavar=("KIND", "DIR"),
                   help="'mlflow', or 'tensorboard DIR' (event files under DIR)")
    p.add_argument("--tracking-uri", metavar="URI",
                   help="MLflow tracking URI (default: sqlite:///RESULTS/mlflow.db, no server)")
    p.add_argument("--experiment", metavar="NAME",
                   help="MLflow experiment for every run (default: one per results experiment)")


def _run_export(args, catalog: Catalog):
    from .export.tracking import to_mlflow, to_tensorboard

    kind, rest = args.to[0], args.to[1:]
    if kind == "mlflow" and not rest:
        done = to_mlflow(args.results, tracking_uri=args.tracking_uri, experiment=args.experiment)
        print(f"mlflow: {done['exported']} runs exported, {done['skipped']} already there; "
              f"experiments {sorted(done['experiments'])} at {done['tracking_uri']}")
        if args.tracking_uri is None:
            print(f"  browse: mlflow ui --backend-store-uri {done['tracking_uri']}")
    elif kind == "tensorboard" and len(rest) == 1:
        if args.tracking_uri or args.experiment:
            raise ValueError("--tracking-uri and --experiment are MLflow options; "
                             "use them with --to mlflow")
        done = to_tensorboard(args.results, rest[0])
        print(f"tensorboard: {done['written']} runs written, {done['skipped']} already there, "
              f"under {done['logdir']}")
        print(f"  browse: tensorboard --logdir {done['logdir']}")
    else:
        raise ValueError(f"Expected --to mlflow or --to tensorboard DIR. "
                         f"Received: --to {' '.join(args.to)}")
    return 0


def _add_export_model(p):
    p.add_argument("name", help="a recipe name (see 'recipes list')")
    p.add_argument("--input-shape", type=int, required=True, metavar="D", help="number of input features")
    p.add_argument("--n", type=int, required=True,
                   help="problem size: classes (2 for binary), labels, targets or levels")
    p.add_argument("--out", required=True, metavar="FILE.keras", help="where to save the model")
    p.add_argument("--hidden", type=int, nargs="+", default=[32], metavar="UNITS",
                   help="hidden layer widths (default: 32)")
    p.add_argument("--seed", type=int, default=0, help="weight initialization seed (default: 0)")
    p.add_argument("--optimizer", default="adam", help="optimizer (default: adam)")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="learning rate (default: 0.001)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--compiled", dest="compiled", action="store_const", const=True,
                      help="compile even when the loss is this project's own class "
                           "(then load it after `import recipes.models.build`)")
    mode.add_argument("--uncompiled", dest="compiled", action="store_const", const=False,
                      help="save the architecture and weights only")


def _run_export_model(args, catalog: Catalog):
    from .export.model import export_model

    done = export_model(catalog.get(args.name), args.input_shape, args.n, args.out,
                        hidden=args.hidden, seed=args.seed, optimizer=args.optimizer,
                        learning_rate=args.learning_rate, compiled=args.compiled)
    print(f"model: {done.path}  ({done.recipe}, {'compiled' if done.compiled else 'uncompiled'}, "
          f"untrained)")
    print(f"  {done.note}")
    return 0


COMMANDS = {
    "list": ("list the catalog's recipes", _add_list, _run_list),
    "show": ("show a recipe (or a problem's recommended recipe), its code and alternatives",
             _add_show, _run_show),
    "infer": ("infer the problem type of labels and name the recipe for it", _add_infer, _run_infer),
    "run": ("train an experiment's grid (or 'all') into a results store and write its report",
            _add_run, _run_run),
    "report": ("write the comparison report of a results directory", _add_report, _run_report),
    "check": ("check a saved model's output layer, loss and metrics against its labels",
              _add_check, _run_check),
    "explain": ("show a recipe's gradient at the output pre-activation, autodiff vs formula",
                _add_explain, _run_explain),
    "backends": ("each recipe's loss and gradient on TensorFlow, JAX and PyTorch, and where "
                 "they differ", _add_backends, _run_backends),
    "export": ("export a results store's runs to MLflow or TensorBoard", _add_export, _run_export),
    "export-model": ("save a recipe's generated (untrained) model as a .keras file",
                     _add_export_model, _run_export_model),
}


def parser():
    p = argparse.ArgumentParser(
        prog="recipes",
        description="Pair a network's output layer with its loss: catalog, experiments, reports.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_, add, _) in COMMANDS.items():
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.add_argument("--catalog", metavar="PATH", help="a catalog CSV to use instead of the bundled one")
        add(sp)
    return p


def _guard(command, action):
    """Run ``action``; known errors become one line on stderr and an exit status."""
    try:
        return action()
    except BrokenPipeError:
        # The reader closed the pipe (``recipes list | head``): stop quietly, as
        # Unix tools do, and keep Python from complaining when it flushes stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (CatalogError, ValueError, OSError) as err:
        print(f"recipes {command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        left = INTERRUPTED.get(command)
        print(f"recipes {command}: interrupted{'; ' + left if left else ''}", file=sys.stderr)
        return 130


# What Ctrl-C leaves behind, for the commands that read or write a results store.
INTERRUPTED = {
    "run": "finished runs are kept, run again to resume",
    "report": "the results were only read (nothing in them changed) and no report file was "
              "written part way (a report already in the folder is kept); run again to "
              "write the report",
    "export": "the runs exported so far are kept (none part way); export again to add the rest",
}


def main(argv=None):
    """Run the ``recipes`` command ``argv`` (default: the process's arguments); returns
    its exit status. Any command may start TensorFlow (or a child process that does), so
    each runs inside ``quiet.quiet_command``: no TensorFlow log line reaches the terminal."""
    args = parser().parse_args(argv)
    with quiet_command():
        return _guard(args.command,
                      lambda: COMMANDS[args.command][2](args, load_catalog(args.catalog)))


if __name__ == "__main__":
    sys.exit(main())
