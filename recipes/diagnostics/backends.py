"""The backend matrix: each catalog row's loss and gradient on every Keras backend.

Keras 3 runs on TensorFlow, JAX and PyTorch, and they do not compute every
recipe alike. The TensorFlow backend recovers the logits cached on a softmax or
sigmoid output and computes cross-entropies from them; JAX and PyTorch clip the
probabilities at ``epsilon`` (1e-7). So a confidently wrong probability output
keeps its gradient on TensorFlow and loses it on the others (the logits form,
``from_logits=True``, keeps it everywhere).

``matrix()`` measures it: for every catalog row, the loss value and the
gradient at the output pre-activation ``z`` (unit 0, and the norm over units),
at a *typical* point and a *saturated* one (``POINTS``), on each backend, in
float32 as a model trains, the activation's output handed to the loss as a Keras
model does. Each backend is computed in a process of its own (Keras fixes its
backend at import; ``python -m recipes.diagnostics.backends --worker``), this
process's backend in place. ``disagreements`` marks where the backends differ
beyond float tolerance (``RTOL``, ``ATOL``). ``section`` gives the report its
words and table; ``recipes backends`` prints the table.

The points, on unit 0 (the other units as ``gradient.gradients`` sets them):
classification rows have unit 0 a true class or label; *typical* predicts it
with probability 0.7, *saturated* puts its pre-activation 20 below (a
confidently wrong output: p about 2e-9). Regression and count rows have
*typical* an error of +0.5 and *saturated* a pre-activation of -20 (a
prediction far below the target).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..catalog.table import as_catalog
from ..extras import is_installed
from ..training.settings import BACKENDS, current_backend
from .gradient import (INVERSES, SIZE_BY_PROBLEM, SIZE_BY_TARGET, SWEEP_BY_ENCODING,
                       SWEEP_TARGETS, TARGET_ROWS, _scoring, loss_and_grad)

__all__ = ["POINTS", "RTOL", "ATOL", "compute", "disagreements", "matrix", "section",
           "table_text"]

# point -> (p_t of unit 0 for probability sweeps, error of unit 0 for error sweeps,
#           or None: the pre-activation of unit 0 is SATURATED_Z)
POINTS = {"typical": (0.7, 0.5), "saturated": (None, None)}
# the typical error where +0.5 leaves the target's range (0..1 targets sit at 0.7)
TYPICAL_ERROR = {"unit": -0.3}
SATURATED_Z = -20.0
# float32 tolerance between backends (relative, absolute)
RTOL, ATOL = 1e-3, 1e-6
CACHE = "backend_matrix.json"
timings = {}   # backend -> seconds the last matrix() took on it
VALUES = ("loss", "grad", "grad_norm")


def _inputs(recipe, point):
    """``(Z, Y)``: one row of pre-activations and dense targets for ``point``."""
    sweep = SWEEP_BY_ENCODING[recipe.encoding]
    n = SIZE_BY_PROBLEM.get(recipe.problem, SIZE_BY_TARGET[recipe.target])
    K = recipe.n_units(n)
    inverse = INVERSES[_scoring(recipe)]
    p_t, error = POINTS[point]
    if error is not None:
        error = TYPICAL_ERROR.get(recipe.target, error)
    if sweep == "p_t":
        Y = TARGET_ROWS[recipe.encoding](K)[None]
        Z = np.zeros((1, K))
        Z[0, 0] = SATURATED_Z if p_t is None else inverse(np.array([p_t]), K)[0]
    else:
        target = SWEEP_TARGETS[recipe.target]
        Y = np.full((1, K), target)
        Z = np.tile(inverse(np.array([target]), K), (1, K))
        Z[0, 0] = SATURATED_Z if error is None else inverse(np.array([target + error]), K)[0]
    return Z.astype(np.float32), Y.astype(np.float32)


def _one(recipe, point):
    """``{loss, grad, grad_norm}`` of ``recipe`` at ``point`` on this process's backend."""
    out, grad = loss_and_grad(recipe, *_inputs(recipe, point))
    return {"loss": float(out), "grad": float(grad[0, 0]),
            "grad_norm": float(np.sqrt(np.sum(np.square(grad, dtype=np.float64))))}


def compute(catalog=None):
    """The matrix's rows for this process's backend: a list of dicts (recipe, point,
    backend, loss, grad, grad_norm); a row that raises records its error."""
    catalog = as_catalog(catalog)
    backend = current_backend()
    rows = []
    for recipe in catalog:
        for point in POINTS:
            row = {"recipe": recipe.name, "point": point, "backend": backend}
            try:
                row.update(_one(recipe, point))
            except Exception as err:   # recorded: one bad row does not hide the others
                row.update(dict.fromkeys(VALUES, float("nan")),
                           error=f"{type(err).__name__}: {err}")
            rows.append(row)
    return rows


def available(backend):
    """True when the backend's library is installed (``pip install "jax[cpu]"``, ``torch``)."""
    return is_installed(backend)


def _elsewhere(backend, catalog):
    """``compute()`` in a new process whose Keras backend is ``backend`` (the catalog
    goes to it as a CSV of its rows)."""
    import csv

    from ..catalog.table import COLUMNS

    import recipes

    root = str(Path(recipes.__file__).resolve().parent.parent)
    env = dict(os.environ, KERAS_BACKEND=backend,
               PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryDirectory(prefix="recipes-backends-") as tmp:
        out, rows = Path(tmp) / "rows.json", Path(tmp) / "catalog.csv"
        with open(rows, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(r.describe() for r in catalog)
        args = [sys.executable, "-m", "recipes.diagnostics.backends", "--worker", str(out),
                "--catalog", str(rows)]
        done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=root)
        if done.returncode != 0:
            raise RuntimeError(f"The {backend} worker of the backend matrix failed (exit code "
                               f"{done.returncode}):\n{done.stderr[-3000:]}")
        return json.loads(out.read_text())


def _cache_key(catalog, backends):
    """What the cached matrix depends on: every row, the backends, this code, and the
    versions of Keras and of each backend's library."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return "?"

    libraries = {name: installed(name) for name in ("keras", *backends)}
    code = hashlib.sha1(Path(__file__).read_bytes()).hexdigest()
    text = json.dumps([[r.describe() for r in catalog], list(backends), libraries, code],
                      sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def matrix(catalog=None, backends=BACKENDS, out=None):
    """Every catalog row's loss and gradient at the output pre-activation, per backend.

    Parameters
    ----------
    catalog : Catalog, str, Path or None
        The catalog (None: the bundled one).
    backends : sequence of str, default=BACKENDS
        The Keras backends to compute on; one whose library is not installed is
        left out (listed in ``attrs["missing"]``).
    out : str or Path, optional
        A results folder: the matrix is cached there (``backend_matrix.json``) and
        read back while the catalog, the backends and the Keras version are the same.

    Returns
    -------
    pandas.DataFrame
        One row per recipe, point and backend: recipe, point, backend, loss, grad
        (dL/dz of unit 0), grad_norm (over every unit), error; ``attrs["missing"]``:
        the backends not installed.
    """
    for b in backends:
        if b not in BACKENDS:
            from ..messages import expected

            raise ValueError(expected(BACKENDS, "backend", b))
    catalog = as_catalog(catalog)
    have = [b for b in backends if available(b)]
    key = _cache_key(catalog, have)
    cache = Path(out) / CACHE if out is not None else None
    if cache is not None and cache.exists():
        try:
            saved = json.loads(cache.read_text())
        except ValueError:
            saved = {}
        if saved.get("key") == key:
            return _frame(saved["rows"], [b for b in backends if b not in have])
    rows = _compute_all(catalog, have)
    if cache is not None:
        from ..files import atomic_write

        cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(cache, json.dumps({"key": key, "rows": rows}))
    return _frame(rows, [b for b in backends if b not in have])


def _compute_all(catalog, backends):
    """Every backend's rows, in ``backends`` order: this process's backend here, the
    others each in a process of its own, all at once (``timings``: seconds each)."""
    from concurrent.futures import ThreadPoolExecutor

    here = current_backend()

    def one(b):
        start = time.perf_counter()
        rows = compute(catalog) if b == here else _elsewhere(b, catalog)
        timings[b] = time.perf_counter() - start
        return rows

    others = [b for b in backends if b != here]
    with ThreadPoolExecutor(max(1, len(others))) as pool:
        futures = {b: pool.submit(one, b) for b in others}
        mine = one(here) if here in backends else []
        return [row for b in backends
                for row in (mine if b == here else futures[b].result())]


def _frame(rows, missing):
    import pandas as pd

    df = pd.DataFrame(rows)
    if "error" not in df:
        df["error"] = None
    df.attrs["missing"] = list(missing)
    return df


def _differ(a, b):
    both_nan = np.isnan(a) & np.isnan(b)
    return ~(both_nan | np.isclose(a, b, rtol=RTOL, atol=ATOL))


def disagreements(df):
    """One row per recipe and point: each backend's loss and gradient side by side
    (``loss_<backend>``, ``grad_<backend>``) and ``disagree``: True when any two
    backends differ beyond ``RTOL``/``ATOL`` in the loss or in the gradient of any
    unit (its norm) -- computed from the numbers."""
    wide = df.pivot_table(index=["recipe", "point"], columns="backend",
                          values=list(VALUES), aggfunc="first", dropna=False)
    import pandas as pd

    backends = [b for b in BACKENDS if b in set(df["backend"])]
    out = pd.DataFrame(list(wide.index), columns=["recipe", "point"])
    flag = np.zeros(len(out), dtype=bool)
    for v in VALUES:
        for b in backends:
            out[f"{v}_{b}"] = wide[(v, b)].to_numpy(dtype=float)
        for i, a in enumerate(backends):
            for b in backends[i + 1:]:
                flag |= _differ(out[f"{v}_{a}"].to_numpy(), out[f"{v}_{b}"].to_numpy())
    out["disagree"] = flag
    order = {r: i for i, r in enumerate(dict.fromkeys(df["recipe"]))}
    points = {p: i for i, p in enumerate(POINTS)}
    out = out.sort_values(["recipe", "point"], key=lambda s: s.map(
        order if s.name == "recipe" else points)).reset_index(drop=True)
    return out


def _cells(r, backends):
    """One row of ``disagreements`` as text: recipe, point, each backend's loss, then
    each backend's dL/dz (4 significant digits; -0 shown as 0)."""
    return [r["recipe"], r["point"]] + [f"{r[f'{v}_{b}'] + 0.0:.4g}" for v in ("loss", "grad")
                                        for b in backends]


def table_text(df):
    """The matrix as a plain-text table (``recipes backends``): loss and dL/dz of unit 0
    per backend, ``<--`` where the backends disagree."""
    wide = disagreements(df)
    backends = [b for b in BACKENDS if f"loss_{b}" in wide]
    head = ["recipe", "point"] + [f"loss {b}" for b in backends] + \
        [f"dL/dz {b}" for b in backends] + [""]
    rows = [head]
    for _, r in wide.iterrows():
        rows.append(_cells(r, backends) + ["<-- backends differ" if r["disagree"] else ""])
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip() for row in rows]
    n = int(wide["disagree"].sum())
    lines.append(f"\n{n} of {len(wide)} (recipe, point) pairs differ between backends "
                 f"beyond rtol={RTOL:g}, atol={ATOL:g}.")
    if df.attrs.get("missing"):
        lines.append(f"Not installed, left out: {', '.join(df.attrs['missing'])} "
                     f"(pip install \"keras-loss-recipes[backends]\").")
    return "\n".join(lines)


def section(out=None, catalog=None, backends=BACKENDS):
    """The report's backend section: ``(paragraph, table rows)``. The rows are the
    (recipe, point) pairs where the backends disagree, with each backend's loss and
    dL/dz of unit 0 (strings); the matrix is cached in ``out`` (``matrix``)."""
    df = matrix(catalog, backends, out)
    wide = disagreements(df)
    backends = [b for b in BACKENDS if f"loss_{b}" in wide]
    differ = wide[wide["disagree"]]
    recipes_differ = list(dict.fromkeys(differ["recipe"]))
    text = (f"Loss and gradient at the output pre-activation of every catalog row, computed "
            f"on {', '.join(backends)} at a typical and a saturated point (float32): "
            f"{len(recipes_differ)} of {wide['recipe'].nunique()} recipes differ between "
            f"backends beyond rtol={RTOL:g}. The TensorFlow backend computes cross-entropy "
            f"on a probability output from the logits it caches; JAX and PyTorch clip the "
            f"probabilities at 1e-7, so a saturated, confidently wrong output loses its "
            f"gradient there (the logits form keeps it on every backend).")
    if df.attrs.get("missing"):
        text += f" Not installed, left out: {', '.join(df.attrs['missing'])}."
    rows = [["recipe", "point"] + [f"loss {b}" for b in backends]
            + [f"dL/dz {b}" for b in backends]]
    for _, r in differ.iterrows():
        rows.append(_cells(r, backends))
    return text, rows


def _main(argv=None):
    import argparse

    p = argparse.ArgumentParser(prog="python -m recipes.diagnostics.backends")
    p.add_argument("--worker", required=True, help="write this backend's rows (JSON) here")
    p.add_argument("--catalog", default=None)
    args = p.parse_args(argv)
    Path(args.worker).write_text(json.dumps(compute(args.catalog)))


if __name__ == "__main__":
    _main()
