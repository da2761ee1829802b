"""Gradients at the output pre-activation: autodiff beside the closed forms.

``gradients`` differentiates a recipe's Keras loss with respect to the output
pre-activation ``z``, through the output activation, and tabulates it against
the predicted probability of the true class (or the error, for regressions and
counts), beside the closed form from ``FORMULAS`` (keyed by (activation or
link, loss)). Where the TensorFlow backend trains another gradient than the
textbook composition, ``TF_NOTES`` says why. ``explain`` puts one recipe's
gradient into words and a short table.

TensorFlow, Keras and pandas are imported only by the functions that need them.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..quiet import import_tensorflow
from ..catalog import codec
from ..catalog.table import as_catalog
from .check import SPARSE_LOSSES

__all__ = ["FORMULAS", "Formula", "explain", "gradients", "problem_gradients"]


@dataclass(frozen=True)
class Formula:
    """A closed form of dL/dz for an (activation or link, loss) pair.

    ``grad(z, p, y, K, config)``: the whole gradient vector, arrays of shape
    (B, K): ``z`` pre-activations, ``p`` predictions, ``y`` dense targets,
    ``K`` output units, ``config`` the Keras loss's config (gamma, delta).
    ``simplified``: optional (words, fn(p_t, K)) of a textbook simplification.
    """

    words: str
    grad: Callable | None
    simplified: tuple | None = None
    note: str = ""


def _softmax_mse(z, p, y, K, cfg):
    e = p - y
    return (2.0 / K) * p * (e - (e * p).sum(axis=-1, keepdims=True))


def _softmax_bce(z, p, y, K, cfg):
    w = (p - y) / (1.0 - p)
    return (w - p * w.sum(axis=-1, keepdims=True)) / K


def _sigmoid_focal(z, p, y, K, cfg):
    gamma = cfg.get("gamma", 2.0)
    q = np.where(y == 1, p, 1.0 - p)
    sign = np.where(y == 1, 1.0, -1.0)
    return sign * (1.0 - q) ** gamma * (gamma * q * np.log(q) + q - 1.0) / K


# (activation or link, catalog loss) -> closed form. Keras' reductions: BCE,
# MSE, MAE, Huber, Poisson average over the last axis (hence 1/K); the
# categorical cross-entropies sum over classes (no 1/K).
FORMULAS = {
    ("sigmoid", "binary_crossentropy"): Formula(
        "(p - y) / units: prediction minus target (canonical Bernoulli pair; Keras averages "
        "BCE over the units)", lambda z, p, y, K, c: (p - y) / K),
    ("softmax", "categorical_crossentropy"): Formula(
        "p * sum(y) - y, i.e. p - y for one-hot y (canonical categorical pair; Keras sums "
        "cross-entropy over the classes, so no 1/units)",
        lambda z, p, y, K, c: p * y.sum(axis=-1, keepdims=True) - y),
    ("softmax", "sparse_categorical_crossentropy"): Formula(
        "p - onehot(y) (canonical categorical pair, integer labels)",
        lambda z, p, y, K, c: p * y.sum(axis=-1, keepdims=True) - y),
    ("linear", "mse"): Formula(
        "2 (prediction - target) / units (canonical Gaussian pair; Keras' MSE has no 1/2)",
        lambda z, p, y, K, c: 2.0 * (p - y) / K),
    ("linear", "mae"): Formula(
        "sign(prediction - target) / units: constant size", lambda z, p, y, K, c: np.sign(p - y) / K),
    ("linear", "huber"): Formula(
        "clip(prediction - target, -delta, delta) / units (delta = 1)",
        lambda z, p, y, K, c: np.clip(p - y, -c.get("delta", 1.0), c.get("delta", 1.0)) / K),
    ("linear", "log_cosh"): Formula(
        "tanh(prediction - target) / units", lambda z, p, y, K, c: np.tanh(p - y) / K),
    ("exponential", "poisson"): Formula(
        "(rate - count) / units with rate = exp(z): prediction minus target (canonical "
        "Poisson pair)", lambda z, p, y, K, c: (p - y) / K,
        note="Keras' Poisson adds eps=1e-7 inside the log (exact gradient "
             "(rate - count*rate/(rate+eps))/units): near zero error the relative gap to the "
             "canonical form exceeds 1e-5; the logits form (LogPoisson) has no eps."),
    ("softplus", "poisson"): Formula(
        "(1 - count/rate) sigmoid(z) / units with rate = softplus(z)",
        lambda z, p, y, K, c: (1.0 - y / p) * codec.sigmoid(z) / K,
        note="Not the canonical link: the error is scaled by sigmoid(z)/rate."),
    ("sigmoid", "mse"): Formula(
        "2 (p - y) p (1 - p) / units: the error times the sigmoid's slope, which vanishes "
        "when the output saturates",
        lambda z, p, y, K, c: 2.0 * (p - y) * p * (1.0 - p) / K),
    ("softmax", "mse"): Formula(
        "(2/units) p_i [(p_i - y_i) - sum_j (p_j - y_j) p_j] (exact, every class's term)",
        _softmax_mse,
        simplified=("C3: -2 p_t (1 - p_t)^2",
                    lambda pt, K: -2.0 * pt * (1.0 - pt) ** 2),
        note="C3's -2 p_t (1 - p_t)^2 is the derivative of the true class's own term "
             "(1 - p_t)^2 alone: squared errors summed (not averaged) over classes and the "
             "other classes' terms dropped. Keras averages over the K classes and keeps every "
             "term: for one-hot y the true-class component is -(2/K) p_t [(1 - p_t)^2 + "
             "sum_{j!=t} p_j^2], which with the other classes sharing 1 - p_t equally is "
             "-2 p_t (1 - p_t)^2 / (K - 1): exactly C3 for K = 2, C3/2 for K = 3. Both vanish "
             "as p_t -> 0."),
    ("softmax", "binary_crossentropy"): Formula(
        "(1/units) sum_j (p_j - y_j)/(1 - p_j) (delta_ij - p_i) (BCE on softmax probabilities)",
        _softmax_bce),
    ("sigmoid", "binary_focal_crossentropy"): Formula(
        "s (1 - q)^gamma (gamma q log q + q - 1) / units with q = p if y = 1 else 1 - p, "
        "s = +1 if y = 1 else -1 (0/1 targets, gamma = 2, no class balancing)",
        _sigmoid_focal,
        note="The modulating factor (1 - q)^gamma shrinks the gradient of easy examples."),
}

# (activation or link, loss) -> why the TensorFlow backend trains another gradient
# than the textbook composition, where it does (``tf_same`` false).
TF_NOTES = {
    ("softmax", "binary_crossentropy"):
        "The TensorFlow backend trains something else: binary_crossentropy takes the logits "
        "a Keras softmax caches on its output and applies a sigmoid to them, so the gradient "
        "is (sigmoid(z) - y)/units, one-vs-rest sigmoids (autodiff_tf).",
    ("softmax", "categorical_crossentropy"):
        "The TensorFlow backend trains something else: its fused "
        "softmax_cross_entropy_with_logits back-propagates p - y, the gradient only when each "
        "target row sums to 1 (TensorFlow documents that the gradient is incorrect "
        "otherwise); with multi-hot targets the loss reported is -sum y log p but the "
        "gradient trained is p - y (autodiff_tf).",
}

# What each target encoding sweeps: 'p_t' (the true unit's predicted probability,
# others at z = 0) or 'error' (prediction - target of unit 0, others exact).
SWEEP_BY_ENCODING = {
    "binary": "p_t", "onehot": "p_t", "index": "p_t", "multihot": "p_t",
    "cumulative": "p_t", "number": "error", "value": "error",
}
# Dense target rows for the p_t sweeps (the swept unit 0 is a true class/label).
TARGET_ROWS = {
    "binary": lambda K: np.ones(K),
    "onehot": lambda K: np.eye(K)[0],
    "index": lambda K: np.eye(K)[0],
    "multihot": lambda K: np.r_[1.0, 1.0, np.zeros(K - 2)] if K >= 2 else np.ones(K),
    "cumulative": lambda K: (np.arange(K) < 2).astype(float),
}
# Target values of the error sweeps, by catalog target.
SWEEP_TARGETS = {"values": 2.0, "unit": 0.7, "counts": 3.0, "classes": 1.0, "ordered": 1.0}
# Default problem size n of a sweep.
SIZE_BY_PROBLEM = {"binary": 2}
SIZE_BY_TARGET = {"classes": 3, "ordered": 4, "labels": 3, "values": 1, "unit": 1, "counts": 1}

P_POINTS = np.unique(np.r_[np.logspace(-4, -1, 13), np.linspace(0.1, 0.99, 30), 0.999])
ERROR_POINTS = {
    "values": np.r_[np.linspace(-3, -0.25, 12), np.linspace(0.25, 3, 12)],
    "unit": np.r_[np.linspace(-0.69, -0.1, 8), np.linspace(0.1, 0.29, 5)],
    "counts": np.r_[np.linspace(-2.9, -0.25, 12), np.linspace(0.25, 3, 12)],
    "classes": np.r_[np.linspace(-2, -0.25, 8), np.linspace(0.25, 2, 8)],
    "ordered": np.r_[np.linspace(-2, -0.25, 8), np.linspace(0.25, 2, 8)],
}

# Inverse of each scoring function: prediction -> pre-activation (others at 0 for softmax).
INVERSES = {
    "linear": lambda s, K: s,
    "sigmoid": lambda s, K: np.log(s) - np.log1p(-s),
    "softmax": lambda s, K: np.log(s * (K - 1)) - np.log1p(-s),
    "exponential": lambda s, K: np.log(s),
    "softplus": lambda s, K: np.log(np.expm1(s)),
    "tanh": lambda s, K: np.arctanh(s),
}

RTOL = 1e-5


@contextlib.contextmanager
def _float64():
    import_tensorflow()
    import keras

    old = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        yield
    finally:
        keras.config.set_floatx(old)


def _scoring(recipe):
    """The function from z to the prediction: the link for from_logits recipes."""
    return recipe.link if recipe.from_logits else recipe.activation


def _autodiff(recipe, Z, Y, fused):
    """dL/dz per example: the recipe's Keras loss through its Keras activation.

    ``fused=False`` hands the loss a plain copy of the activation's output (no
    cached logits), as the JAX and PyTorch backends see it. On those backends both
    are the same (``recipes.training.keras_fit.value_and_grad``; JAX in 64 bits).
    """
    import_tensorflow()
    import keras

    if keras.backend.backend() != "tensorflow":
        return _autodiff_any(recipe, Z, Y)
    import tensorflow as tf

    from ..models.build import make_loss

    with _float64():
        loss = make_loss(recipe)
        activation = keras.activations.get(recipe.activation)
        z = tf.constant(Z, dtype=tf.float64)
        sparse = recipe.loss in SPARSE_LOSSES
        y = tf.constant(Y.argmax(axis=-1).astype("int32")) if sparse else tf.constant(Y)
        with tf.GradientTape() as tape:
            tape.watch(z)
            out = activation(z)
            if not fused:
                out = tf.identity(out)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = loss(y, out)
        grad = tape.gradient(value, z).numpy()
    return grad * len(Z)   # undo the mean over the batch


@contextlib.contextmanager
def _x64():
    """64-bit floats on the JAX backend for the duration (JAX computes in 32 bits
    unless ``jax_enable_x64`` is on); nothing elsewhere."""
    import keras

    if keras.backend.backend() != "jax":
        yield
        return
    import jax

    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", old)


def loss_and_grad(recipe, Z, Y, dtype=None):
    """``(loss, dL/dZ)`` of ``recipe``'s loss on ``activation(Z)`` against ``Y``, by this
    process's Keras backend, as a Keras model hands its output to the loss."""
    import keras

    from ..models.build import make_loss
    from ..training.keras_fit import value_and_grad

    loss = make_loss(recipe)
    activation = keras.activations.get(recipe.activation)
    sparse = recipe.loss in SPARSE_LOSSES
    y = keras.ops.convert_to_tensor(Y.argmax(axis=-1).astype("int32") if sparse else Y)

    def value(z):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return loss(y, activation(z))

    out, [grad] = value_and_grad(value, [keras.ops.convert_to_tensor(Z, dtype)])
    return out, grad


def _autodiff_any(recipe, Z, Y):
    """``_autodiff`` on any Keras backend (no cached logits off TensorFlow)."""
    with _float64(), _x64():
        _, grad = loss_and_grad(recipe, Z, Y, "float64")
    return grad * len(Z)


def _sweep_points(recipe, sweep, points):
    if points is not None:
        return np.atleast_1d(np.asarray(points, dtype=np.float64))
    return P_POINTS if sweep == "p_t" else ERROR_POINTS[recipe.target]


def _close(a, b):
    return np.isclose(a, b, rtol=RTOL, atol=1e-12)


def gradients(recipe, points=None, n=None, catalog=None):
    """dL/dz of a recipe's Keras loss at the output pre-activation, by autodiff.

    Classification recipes sweep ``p_t``, the predicted probability of a true
    class (or label) on output unit 0, with the other units' pre-activations at
    0 (so for a softmax the other classes share ``1 - p_t`` equally);
    regression and count recipes sweep the ``error`` prediction - target of
    unit 0.

    Parameters
    ----------
    recipe : Recipe or str
        The recipe, or its name in ``catalog``.
    points : array-like, optional
        The values swept (default ``P_POINTS`` for ``p_t``, ``ERROR_POINTS``
        for errors); ``p_t`` values must lie strictly between 0 and 1.
    n : int, optional
        The problem size (default: 2 classes for binary, 3 classes or labels,
        4 ordinal levels, 1 target).
    catalog : Catalog, str, Path or None
        Where a recipe name is looked up.

    Returns
    -------
    pandas.DataFrame
        One row per point. Columns: recipe, problem, role, activation, loss,
        from_logits, units, sweep, x (the swept value), p_t (prediction of
        unit 0), target, z (its pre-activation), ``autodiff`` (dL/dz_0 of the
        loss fed the activation's output as a plain tensor: the textbook
        composition, what the JAX and PyTorch backends compute),
        ``autodiff_tf`` (the same as a Keras model trains on the TensorFlow
        backend, which recovers cached logits), ``formula`` (from
        ``FORMULAS``, NaN where there is none), ``agree`` (formula vs autodiff
        within relative 1e-5; NA without formula), ``tf_same`` (autodiff_tf vs
        autodiff), ``simplified`` (a textbook simplification, e.g. C3),
        ``form`` and ``note``.
    """
    import pandas as pd

    from ..models.build import make_loss

    recipe = as_catalog(catalog).get(recipe)  # a Recipe passes through
    sweep = SWEEP_BY_ENCODING[recipe.encoding]
    n = n if n is not None else SIZE_BY_PROBLEM.get(recipe.problem, SIZE_BY_TARGET[recipe.target])
    K = recipe.n_units(n)
    f = _scoring(recipe)
    inverse = INVERSES[f]
    x = _sweep_points(recipe, sweep, points)
    B = len(x)
    if sweep == "p_t":
        if not ((x > 0) & (x < 1)).all():
            raise ValueError(f"Expected points (p_t values) strictly between 0 and 1. "
                             f"Received: {x[(x <= 0) | (x >= 1)][:5].tolist()}")
        Y = np.tile(TARGET_ROWS[recipe.encoding](K), (B, 1))
        Z = np.zeros((B, K))
        with np.errstate(divide="ignore", invalid="ignore"):
            Z[:, 0] = inverse(x, K)
    else:
        target = SWEEP_TARGETS[recipe.target]
        Y = np.full((B, K), target)
        Z = np.tile(inverse(np.array([target]), K), (B, K))
        with np.errstate(divide="ignore", invalid="ignore"):
            Z[:, 0] = inverse(target + x, K)
    if not np.isfinite(Z).all():
        raise ValueError(f"Recipe {recipe.name!r}: some points give predictions its {f} output "
                         f"cannot produce. Received: {x[~np.isfinite(Z[:, 0])][:5].tolist()}")
    P = codec.NUMPY_ACTIVATIONS[f](Z)
    auto = _autodiff(recipe, Z, Y, fused=False)[:, 0]
    auto_tf = _autodiff(recipe, Z, Y, fused=True)[:, 0]
    formula = FORMULAS.get((f, recipe.loss))
    config = make_loss(recipe).get_config()
    if formula is not None and formula.grad is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            exact = formula.grad(Z, P, Y, K, config)[:, 0]
        agree = pd.array(_close(auto, exact), dtype="boolean")
    else:
        exact = np.full(B, np.nan)
        agree = pd.array([pd.NA] * B, dtype="boolean")
    simplified = (formula.simplified[1](P[:, 0], K) if formula is not None and
                  formula.simplified else np.full(B, np.nan))
    note = formula.note if formula is not None else \
        f"No closed form in FORMULAS for ({f}, {recipe.loss}): autodiff only."
    tf_same = _close(auto_tf, auto)
    if not tf_same.all():
        note = " ".join(filter(None, [note, TF_NOTES.get(
            (f, recipe.loss), "The TensorFlow backend trains another gradient (autodiff_tf).")]))
    return pd.DataFrame({
        "recipe": recipe.name, "problem": recipe.problem, "role": recipe.role,
        "activation": recipe.activation, "loss": recipe.loss, "from_logits": recipe.from_logits,
        "units": K, "sweep": sweep, "x": x, "p_t": P[:, 0], "target": Y[:, 0], "z": Z[:, 0],
        "autodiff": auto, "autodiff_tf": auto_tf, "formula": exact, "agree": agree,
        "tf_same": tf_same, "simplified": simplified,
        "form": formula.words if formula is not None else "",
        "simplified_form": formula.simplified[0] if formula is not None and formula.simplified
        else "", "note": note,
    })


def problem_gradients(problem, catalog=None, **kwargs):
    """``gradients`` of every recipe of a problem, concatenated."""
    import pandas as pd

    catalog = as_catalog(catalog)
    return pd.concat([gradients(r, **kwargs) for r in catalog.of(problem)], ignore_index=True)


EXPLAIN_P = (0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99)


def explain(recipe, catalog=None):
    """A recipe's gradient in words and a short autodiff-vs-formula table (text)."""
    catalog = as_catalog(catalog)
    recipe = catalog.get(recipe)
    sweep = SWEEP_BY_ENCODING[recipe.encoding]
    points = EXPLAIN_P if sweep == "p_t" else ERROR_POINTS[recipe.target][::3]
    t = gradients(recipe, points=points, catalog=catalog)
    f = _scoring(recipe)
    formula = FORMULAS.get((f, recipe.loss))
    lines = [f"Gradient of the loss at the output pre-activation z ({t['units'].iloc[0]} unit(s); "
             f"{'z is the output itself: the loss applies ' + f if recipe.from_logits else 'through the ' + f + ' output'}):",
             f"  formula: {formula.words if formula else 'none in FORMULAS (autodiff only)'}"]
    if formula is not None and formula.simplified:
        lines.append(f"  simplified: {formula.simplified[0]}")
    note = t["note"].iloc[0]
    if note:
        lines.append(f"  note: {note}")
    cols = ["x", "autodiff", "formula", "agree"] + \
        (["simplified"] if formula is not None and formula.simplified else []) + \
        ([] if t["tf_same"].all() else ["autodiff_tf"])
    header = {"x": "p_t" if sweep == "p_t" else "error"}
    rows = [[header.get(c, c) for c in cols]]
    for _, r in t.iterrows():
        rows.append([_fmt(r[c]) for c in cols])
    widths = [max(len(row[i]) for row in rows) for i in range(len(cols))]
    lines.append("")
    lines += ["  " + "  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in rows]
    if not t["tf_same"].all():
        lines.append("  autodiff_tf: the gradient a Keras model trains on the TensorFlow backend.")
    return "\n".join(lines)


def _fmt(v):
    import pandas as pd

    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return "-"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "NO"
    return f"{v:.6g}"
