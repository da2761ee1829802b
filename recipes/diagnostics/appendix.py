"""The report's appendix: C2 loss surfaces, the C6 table, C3 in words, gradient figures."""

from __future__ import annotations

import numpy as np

from ..catalog.table import as_catalog
from ..files import atomic_write
from .figures import gradient_plots, surface_figure
from .gradient import problem_gradients
from .surface import c6_table, loss_surface

# The cache of the appendix's numbers in a results folder (see ``appendix_numbers``).
CACHE_NAME = "appendix-cache.pkl"

__all__ = ["appendix", "appendix_numbers"]


def _markdown(df, digits=6):
    cols = list(df.columns)
    fmt = lambda v: f"{v:.{digits}g}" if isinstance(v, (float, np.floating)) else str(v)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


C3_TEXT = (
    "For softmax + cross-entropy the gradient at the logits is p - y (p_t - 1 for the true "
    "class), which tends to -1 as p_t -> 0. For softmax + MSE the true-class component "
    "vanishes as p_t -> 0. C3's -2 p_t (1 - p_t)² is the derivative of the true class's own "
    "squared error (1 - p_t)² with errors summed over classes and the other classes' terms "
    "dropped; Keras' MSE averages over the K classes and keeps every term, giving "
    "-2 p_t (1 - p_t)² / (K - 1) when the other classes share 1 - p_t equally (exactly C3 "
    "for K = 2).\n\n"
    "Backend notes (TensorFlow backend, measured): Keras 3's cross-entropies take the logits "
    "a Keras softmax/sigmoid caches on its output, whatever the loss, so binary_crossentropy "
    "on a softmax output trains one-vs-rest sigmoids on the softmax's logits; and the fused "
    "softmax cross-entropy back-propagates p - y even when a target row does not sum to 1 "
    "(multi-hot targets), which is not the gradient of the loss it reports. The gradient "
    "figures draw those as thin dotted lines where they differ from the textbook composition."
)


def _cache_key(catalog):
    """What the appendix's numbers depend on: the catalog's rows, the code that computes
    them, and the library versions that run it."""
    import hashlib
    import importlib.metadata as md
    from pathlib import Path

    h = hashlib.sha256()
    for recipe in catalog.recipes:
        h.update(repr(sorted(recipe.describe().items())).encode())
    here = Path(__file__).parent
    for name in ("gradient.py", "surface.py", "check.py"):
        h.update((here / name).read_bytes())
    for lib in ("keras", "tensorflow", "numpy", "pandas"):
        try:
            h.update(f"{lib}={md.version(lib)}".encode())
        except md.PackageNotFoundError:
            h.update(f"{lib}=none".encode())
    return h.hexdigest()


def _read(path, key):
    """The numbers cached at ``path`` under ``key``, or None."""
    import pickle

    try:
        stored = pickle.loads(path.read_bytes())
        if stored.get("key") == key:
            return stored["numbers"]
    except Exception:  # missing, unreadable or older: not used
        pass
    return None


def appendix_numbers(catalog=None, cache=None, also=()):
    """``{"surface": DataFrame, "gradients": {problem: DataFrame}}``: the numbers the
    appendix draws. The gradients take TensorFlow seconds per problem, so with ``cache``
    (a folder: the report's cache) they are read from ``cache/appendix-cache.pkl`` when
    its key (the catalog, this code, the library versions) matches, else computed and
    written there. ``also``: more folders whose cache is read, never written (a results
    folder where an older report kept it)."""
    import pickle
    from pathlib import Path

    catalog = as_catalog(catalog)
    key = _cache_key(catalog)
    path = Path(cache) / CACHE_NAME if cache is not None else None
    for folder in ([cache] if cache is not None else []) + [f for f in also if f is not None]:
        numbers = _read(Path(folder) / CACHE_NAME, key)
        if numbers is not None:
            if path is not None and Path(folder) / CACHE_NAME != path:
                atomic_write(path, pickle.dumps({"key": key, "numbers": numbers}))
            return numbers
    numbers = {"surface": loss_surface(),
               "gradients": {p: problem_gradients(p, catalog) for p in catalog.problems}}
    if path is not None:
        atomic_write(path, pickle.dumps({"key": key, "numbers": numbers}))
    return numbers


def appendix(catalog=None, cache=None, also=(), drawn=True):
    """``[(title, Figure or markdown str)]`` for the report: C2 surfaces, C6 table, C3,
    gradients. ``drawn=False``: each Figure is a ``functools.partial`` that returns it
    instead (the report draws those in worker processes and caches them by their
    numbers). ``cache``, ``also``: where the computed numbers are kept and looked for
    (``appendix_numbers``)."""
    import functools

    catalog = as_catalog(catalog)
    numbers = appendix_numbers(catalog, cache, also)
    table = c6_table()
    c6 = (_markdown(table) + "\n\nMSE prefers the first prediction ("
          f"{table['mse'][0]:.6g} < {table['mse'][1]:.6g}, Keras' mean over classes; sums "
          f"{table['sse'][0]:.6g} < {table['sse'][1]:.6g}); cross-entropy is the same for both "
          f"({table['cce'][0]:.6g}): it depends only on the true class's probability.")
    items = [
        ("C2: loss surfaces of softmax + cross-entropy and softmax + MSE",
         functools.partial(surface_figure, numbers["surface"])),
        ("C6: MSE ranks predictions by how the wrong mass is spread", c6),
        ("C3: the gradient at the true class's logit", C3_TEXT),
        *gradient_plots(catalog, numbers["gradients"]),
    ]
    if drawn:
        return [(t, item() if callable(item) else item) for t, item in items]
    return items
