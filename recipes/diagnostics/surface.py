"""Loss surfaces (C2) and the C6 example: the numbers, no figures.

``loss_surface``: softmax + cross-entropy against softmax + MSE over two
logits. ``c6_table``: one label against two predictions that MSE ranks and
cross-entropy does not. pandas is imported only by the functions.
"""

from __future__ import annotations

import numpy as np

from ..catalog import codec
from .gradient import FORMULAS

__all__ = ["c6_table", "loss_surface"]


def loss_surface(n=61, span=6.0):
    """Softmax + CCE and softmax + MSE over two logits (C2).

    Three classes, true class 0: ``z1`` is the true class's logit, ``z2`` an
    other class's, ``z3 = 0``. ``cce`` = -log p_true, ``mse`` = Keras' MSE (mean
    over the 3 classes) against the one-hot row; ``grad_cce``/``grad_mse`` are
    the norms of their gradients with respect to (z1, z2) (from ``FORMULAS``).
    """
    import pandas as pd

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"Expected an integer n >= 2 grid points. Received: n={n!r}")
    if not span > 0:
        raise ValueError(f"Expected a positive span. Received: span={span!r}")
    grid = np.linspace(-span, span, n)
    z1, z2 = np.meshgrid(grid, grid, indexing="ij")
    Z = np.stack([z1.ravel(), z2.ravel(), np.zeros(z1.size)], axis=1)
    P = codec.softmax(Z)
    Y = np.tile(np.eye(3)[0], (len(Z), 1))
    cce = np.logaddexp.reduce(Z, axis=1) - Z[:, 0]
    mse = ((P - Y) ** 2).mean(axis=1)
    g_cce = FORMULAS[("softmax", "categorical_crossentropy")].grad(Z, P, Y, 3, {})[:, :2]
    g_mse = FORMULAS[("softmax", "mse")].grad(Z, P, Y, 3, {})[:, :2]
    return pd.DataFrame({"z1": Z[:, 0], "z2": Z[:, 1], "z3": 0.0, "p_true": P[:, 0],
                         "cce": cce, "mse": mse, "grad_cce": np.linalg.norm(g_cce, axis=1),
                         "grad_mse": np.linalg.norm(g_mse, axis=1)})


C6_LABEL = (1.0, 0.0, 0.0)
C6_PREDICTIONS = ((0.8, 0.1, 0.1), (0.8, 0.15, 0.05))


def c6_table():
    """C6: label [1, 0, 0] against [0.8, 0.1, 0.1] and [0.8, 0.15, 0.05].

    ``mse``: Keras' MSE (mean over the 3 classes); ``sse``: the sum of squared
    errors (the Brier score); ``cce``: categorical cross-entropy, -log 0.8 for
    both. MSE prefers the first (0.06/3 = 0.02 < 0.065/3 = 0.021667);
    cross-entropy sees only the true class's probability.
    """
    import pandas as pd

    y = np.array(C6_LABEL)
    rows = []
    for pred in C6_PREDICTIONS:
        p = np.array(pred)
        rows.append({"label": str(list(C6_LABEL)), "prediction": str(list(pred)),
                     "p_true": float(p[0]), "mse": float(((p - y) ** 2).mean()),
                     "sse": float(((p - y) ** 2).sum()), "cce": float(-np.log(p[y == 1][0]))})
    return pd.DataFrame(rows)
