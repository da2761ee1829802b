"""The bundled experiments, and the loader of an experiment by name or from a script.

Each module of this package (``binary.py``, ``multiclass.py``, ...) is one bundled
experiment: it declares ``EXPERIMENT = recipes.Experiment(...)`` and nothing else.
They ship inside the package, so ``recipes run NAME`` works from any folder after any
install. A name is looked up only here (``names``), never in the working directory:
running a command in a folder must not run code found there. A user's own script runs
only when its path (ending in ``.py``) is given.

>>> names()
('beyond', 'binary', 'cnn', 'imbalanced', 'multiclass', 'multilabel', 'regression', 'saturated', 'tuned')
>>> load_experiment("binary").name
'binary'
>>> load_experiment("binry")
Traceback (most recent call last):
...
ValueError: Expected one of {'beyond', 'binary', 'cnn', 'imbalanced', 'multiclass', 'multilabel', \
'regression', 'saturated', 'tuned'}. Received: experiment='binry' (or pass the path of a script ending in .py)
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from pathlib import Path

from ..messages import expected

__all__ = ["ALL", "load_experiment", "load_experiments", "names"]

# The word that names every bundled experiment at once (``recipes run all``).
ALL = "all"
_SCRIPT = " (or pass the path of a script ending in .py)"


def names():
    """The names of the bundled experiments, sorted: a tuple of str (the modules of this
    package, those starting with an underscore left out)."""
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__)
                        if not m.ispkg and not m.name.startswith("_")))


def load_experiment(what):
    """One experiment: the bundled one named ``what`` (see ``names``), or the
    ``EXPERIMENT`` of the user's script at the path ``what`` when it ends in ``.py``.

    Returns the ``recipes.Experiment``. Raises ValueError naming the choices for an
    unknown name, FileNotFoundError for a script path that is not a file, and
    ValueError when a script defines no ``EXPERIMENT`` Experiment.
    """
    path = Path(what)
    if path.suffix == ".py":
        if not path.is_file():
            raise FileNotFoundError(f"No experiment script at {path}")
        spec = importlib.util.spec_from_file_location(f"experiment_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return _experiment_of(module, path)
    if what not in names():
        raise ValueError(expected(names(), "experiment", what) + _SCRIPT)
    return _experiment_of(importlib.import_module(f"{__name__}.{what}"), f"{what}.py")


def load_experiments(what):
    """The experiments ``what`` names: every bundled one, in name order, for ``ALL``;
    else ``[load_experiment(what)]``. Returns a list of ``recipes.Experiment``.
    Raises as ``load_experiment``, the choices naming ``ALL`` too.

    >>> [e.name for e in load_experiments("all")][:2]
    ['beyond', 'binary']
    """
    if what == ALL:
        return [load_experiment(name) for name in names()]
    if Path(what).suffix != ".py" and what not in names():
        raise ValueError(expected((ALL, *names()), "experiment", what) + _SCRIPT)
    return [load_experiment(what)]


def _experiment_of(module, where):
    """The ``EXPERIMENT`` of a loaded script ``module``; ValueError naming the script
    ``where`` when it has none or it is not an Experiment."""
    from ..results.grid import Experiment

    found = getattr(module, "EXPERIMENT", None)
    if not isinstance(found, Experiment):
        raise ValueError(f"{where}: an experiment script must define EXPERIMENT = "
                         f"Experiment(...). Received: EXPERIMENT={found!r}")
    return found
