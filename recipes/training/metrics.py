"""Common metrics: one yardstick for every recipe of a problem.

Losses of different recipes are not comparable (an MSE value and a
cross-entropy value measure different things), so experiments compare recipes
on the metrics below, computed the same way from each recipe's raw outputs on
held-out data. Everything is numpy and vectorized over leading axes: outputs
shaped ``(..., N, units)`` (for example ``(members, epochs, N, units)``) give
one value per run and epoch, shape ``(...)``, in one call with no Python loop
over runs, epochs or ECE bins. No TensorFlow; the definitions are scikit-learn's
(the tests check every metric against ``sklearn.metrics``), written in numpy so
that one call scores every run and epoch at once.

Definitions (``p``: probabilities from ``recipe.proba``, ``y``: the truth):

- ``accuracy``: fraction of samples whose decoded prediction (``recipe.decode``)
  equals the truth; for ``labels`` targets, the mean per-label accuracy over
  all (sample, label) cells (not scikit-learn's subset accuracy).
- ``balanced_accuracy`` (class targets): the mean over the classes present in
  the truth of each class's recall, as scikit-learn's
  ``balanced_accuracy_score``; a constant prediction scores ``1 / classes``
  however imbalanced the data.
- ``f1`` and ``pr_auc`` (two classes only, ``BINARY``): F1 of class index 1
  (the positive class: ``1`` of 0/1 labels) from the decoded predictions, as
  ``f1_score(zero_division=1.0)``; and the area under the precision-recall
  curve of the class-1 probability, as ``average_precision_score`` (NaN when
  the truth has no positive, or for a recipe without probabilities).
- ``log_loss``: mean over samples of ``-log p[true class]``; for ``labels``,
  the mean per-label binary log-loss. Probabilities are clipped to
  ``[1e-7, 1 - 1e-7]`` first (``EPSILON``, as Keras' backend epsilon), so one
  confident mistake costs at most ``-log(1e-7) = 16.1``. scikit-learn clips at
  the machine epsilon instead; both agree on probabilities inside the clip.
- ``brier``: mean over samples of ``sum_k (p_k - y_k)^2`` over all classes
  (range 0..2). This is scikit-learn's multiclass ``brier_score_loss``; for two
  classes it is ``brier_score_loss(..., scale_by_half=False)``, twice
  scikit-learn's default binary value ``mean((p_1 - y)^2)``. One definition for
  every class problem, so binary and multiclass values share a scale.
- ``ece``: expected calibration error with 15 equal-width bins ``(k/15, (k+1)/15]``
  of the top-class confidence ``max_k p_k``: ``sum_b (n_b / N) |acc_b - conf_b|``
  where ``acc_b`` is the accuracy of the top-class prediction ``argmax_k p_k``
  in the bin (Guo et al., On Calibration of Modern Neural Networks, ICML 2017).
  The top-class prediction equals the decoded one for argmax/threshold
  decodings (up to ties); for cumulative (ordinal) decoding it can differ.
- ``out_of_range``: fraction of scores (``recipe.scores``: outputs after the
  link) outside ``[0, 1]``, over all samples and units (claim C7: a linear
  output trained with MSE gives "probabilities" outside 0..1).
- ``mae`` for ``ordered`` targets: mean absolute difference, in levels, between
  the decoded level index and the true one.
- ``mse``, ``mae`` for value targets: mean over samples and targets of the
  squared / absolute error of the decoded values (scikit-learn's
  ``uniform_average`` over targets).
- ``f1`` (``labels``): macro F1 over labels of the decoded 0/1 predictions; a
  label with no true and no predicted positives scores 1.0 (nothing to find,
  nothing wrongly found), the same as scikit-learn's
  ``f1_score(average="macro", zero_division=1.0)``.
- ``poisson_deviance`` (``counts``): mean of ``2 (y log(y / mu) - y + mu)``
  (``y log y = 0`` at ``y = 0``), as scikit-learn's ``mean_poisson_deviance``;
  NaN for a run with any prediction ``mu <= 0``, where it is undefined.

Non-finite outputs -> NaN: a run (one leading index) with any NaN or inf among
its outputs is never scored from them; every metric of that run is NaN (a
diverged run; the report scores it as the trivial baseline, ``baselines``).

Trivial baselines: ``baselines`` gives, for the same metrics, the value of a
predictor that ignores the inputs (majority class; mean or median value).

Not applicable -> NaN: a recipe without probabilities (``recipe.proba``
returns None: a class index predicted as a number, decoding ``round``) gets NaN
for the metrics in ``NEEDS_PROBABILITIES`` (log_loss, brier, ece, and
out_of_range, whose scores are then class index numbers, not would-be
probabilities). Reports should show NaN as "n/a", not as a bad value.

>>> from recipes.catalog.table import get
>>> r = get("binary_sigmoid_bce")
>>> t = truth(r, [0, 1, 1], classes=(0, 1))
>>> m = common_metrics(r, t, [[-2.0], [3.0], [-1.0]])
>>> tuple(m) == names(r, 2), float(m["accuracy"])
(True, 0.6666666666666666)
"""

from __future__ import annotations

import math

import numpy as np

from ..catalog import codec
from ..catalog.table import CLASS_TARGETS

# catalog target -> the common metrics of its recipes, in report order
COMMON = {
    "classes": ("accuracy", "balanced_accuracy", "log_loss", "brier", "ece", "out_of_range"),
    "ordered": ("accuracy", "balanced_accuracy", "mae", "log_loss", "brier", "ece"),
    "labels": ("accuracy", "f1", "log_loss"),
    "values": ("mse", "mae"),
    "unit": ("mse", "mae", "out_of_range"),
    "counts": ("mse", "mae", "poisson_deviance"),
}

# the extra metrics of a two-class problem (target "classes" with 2 classes)
BINARY = ("f1", "pr_auc")

HIGHER_IS_BETTER = {"accuracy", "balanced_accuracy", "f1", "pr_auc"}

# every common metric -> the values it can take (lowest, highest); a goal outside is never met
RANGES = {"accuracy": (0.0, 1.0), "balanced_accuracy": (0.0, 1.0), "f1": (0.0, 1.0),
          "pr_auc": (0.0, 1.0), "ece": (0.0, 1.0), "out_of_range": (0.0, 1.0),
          "brier": (0.0, 2.0), "log_loss": (0.0, math.inf), "mse": (0.0, math.inf),
          "mae": (0.0, math.inf), "poisson_deviance": (0.0, math.inf)}

# every common metric -> the unit of its values, as a report writes it after a number: "%"
# for a share of 0..1 (shown as a percentage; a difference of two shares is in percentage
# points, "pp"), else the unit of the metric's own scale; "target units" are those of the
# target (levels for an ordinal target, counts for a count target)
UNITS = {"accuracy": "%", "balanced_accuracy": "%", "f1": "%", "pr_auc": "%", "ece": "%",
         "out_of_range": "%", "brier": "probability²", "log_loss": "nats",
         "mse": "target units²", "mae": "target units", "poisson_deviance": "counts"}

# the metric a report ranks recipes by, per target
PRIMARY = {
    "classes": "accuracy",
    "ordered": "mae",
    "labels": "f1",
    "values": "mse",
    "unit": "mse",
    "counts": "mse",
}

# metrics that are NaN (not applicable) for class recipes without probabilities
NEEDS_PROBABILITIES = frozenset({"log_loss", "brier", "ece", "out_of_range", "pr_auc"})

EPSILON = 1e-7
ECE_BINS = 15


def higher_is_better(metric):
    """True when larger values of ``metric`` are better."""
    return metric in HIGHER_IS_BETTER


def names(recipe, n=None):
    """The common metrics of ``recipe`` on a problem with ``n`` classes, in report order:
    ``COMMON[recipe.target]``, plus ``BINARY`` for a two-class ``classes`` target.

    >>> from recipes.catalog.table import get
    >>> names(get("binary_sigmoid_bce"), 2)[-2:]
    ('f1', 'pr_auc')
    """
    extra = BINARY if recipe.target == "classes" and n == 2 else ()
    return COMMON[recipe.target] + extra


def truth(recipe, y, classes=None):
    """Labels ``y`` -> the form ``common_metrics`` compares against.

    Class and ordered targets: class indices, int64 shape (N,), positions in
    ``classes`` (default: the sorted distinct labels). Labels targets: a 0/1
    int64 matrix (N, L). Value targets: float64 (N, k) (a 1-D ``y`` is one
    column).
    """
    if recipe.target in CLASS_TARGETS:
        classes = codec.classes_of(y) if classes is None else classes
        return codec.to_indices(y, classes)
    y = np.asarray(y)
    if recipe.target == "labels":
        y = y.reshape(len(y), -1)
        if not np.isin(y, (0, 1)).all():
            bad = y[~np.isin(y, (0, 1))][:5].tolist()
            raise ValueError(f"Recipe {recipe.name!r} expects 0/1 labels. Received values {bad}")
        return y.astype(np.int64)
    return np.asarray(y, dtype=np.float64).reshape(len(y), -1)


def problem_size(recipe, width, n):
    """The number of classes behind ``width`` output units (``n`` when given, checked
    against ``width``); a ValueError when they disagree, or when ``n`` is None and the
    recipe's units do not reveal it (a class index predicted as one number)."""
    if n is None:
        if recipe.units == "n":
            n = width
        elif recipe.units == "n-1":
            n = width + 1
        elif recipe.encoding == "binary":
            n = 2
        else:
            raise ValueError(
                f"Recipe {recipe.name!r} has {width} output unit(s) whatever the number of "
                f"classes; pass n (the number of classes). Received: n=None")
    units = recipe.n_units(n)
    if units != width:
        raise ValueError(f"Recipe {recipe.name!r} has {units} output unit(s) for n={n}. "
                         f"Received: outputs with {width} unit(s) on the last axis")
    return int(n)


def _check(recipe, t, outputs):
    out = np.asarray(outputs, dtype=np.float64)
    if out.ndim == 1:
        out = out[:, None]
    if out.shape[-2] != len(t):
        raise ValueError(f"Expected outputs shaped (..., N, units) with N = len(truth) = {len(t)}. "
                         f"Received: outputs.shape={out.shape}")
    return out


def _nan(lead):
    return np.full(lead, np.nan)


def _bin_of(conf, bins=ECE_BINS):
    """The ECE bin of each confidence: ``k`` for ``(k/bins, (k+1)/bins]`` (0 takes 0)."""
    return np.clip(np.ceil(conf * bins).astype(np.int64) - 1, 0, bins - 1)


def _ece(conf, correct, bins=ECE_BINS):
    """ECE over the last axis, vectorized over the leading ones (one bincount)."""
    lead, n = conf.shape[:-1], conf.shape[-1]
    runs = int(np.prod(lead, dtype=np.int64))
    b = _bin_of(conf, bins)
    slot = (np.arange(runs, dtype=np.int64)[:, None] * bins + b.reshape(runs, n)).ravel()
    gap = np.bincount(slot, weights=(correct - conf).ravel(), minlength=runs * bins)
    return (np.abs(gap.reshape(runs, bins)).sum(axis=-1) / n).reshape(lead)


def _balanced(correct, t, k):
    """Mean per-class recall over the classes present in ``t``: a weighted mean of
    ``correct`` over the last axis, each sample weighing 1 / (its class's count)."""
    counts = np.bincount(t, minlength=k)
    w = 1.0 / (counts[t] * np.count_nonzero(counts))
    return (correct * w).sum(axis=-1)


def _average_precision(score, positive):
    """Area under the precision-recall curve of ``score`` (last axis) for the 0/1
    ``positive``, as scikit-learn's ``average_precision_score``: the precision at
    each distinct threshold, weighted by the recall it adds. Vectorized over the
    leading axes (one sort)."""
    n_pos = positive.sum()
    if n_pos == 0:
        return _nan(score.shape[:-1])
    order = np.argsort(-score, axis=-1, kind="stable")
    s = np.take_along_axis(score, order, axis=-1)
    tp = np.cumsum(positive[order], axis=-1)
    seen = np.arange(1, score.shape[-1] + 1)
    # a threshold ends each block of tied scores
    last = np.concatenate([s[..., 1:] != s[..., :-1], np.ones(s.shape[:-1] + (1,), bool)],
                          axis=-1)
    at_end = np.where(last, tp, 0)
    before = np.concatenate([np.zeros(s.shape[:-1] + (1,)),
                             np.maximum.accumulate(at_end, axis=-1)[..., :-1]], axis=-1)
    return np.where(last, (tp - before) * tp / seen, 0.0).sum(axis=-1) / n_pos


def _f1(pred, t, axis):
    """F1 of the 0/1 predictions; 1.0 when there is nothing to find and nothing found."""
    tp = (pred * t).sum(axis=axis)
    fp = (pred * (1 - t)).sum(axis=axis)
    fn = ((1 - pred) * t).sum(axis=axis)
    den = 2 * tp + fp + fn
    return np.where(den > 0, 2 * tp / np.maximum(den, 1), 1.0)


def _class_metrics(t, pred, p, s, k):
    """Class metrics from decoded indices ``pred``, probabilities ``p`` and scores
    ``s`` (None when the recipe has no probabilities)."""
    lead = pred.shape[:-1]
    correct = (pred == t).astype(np.float64)
    res = {"accuracy": correct.mean(axis=-1),
           "balanced_accuracy": _balanced(correct, t, k),
           "mae": np.abs(pred - t).mean(axis=-1)}
    if k == 2:
        res["f1"] = _f1((pred == 1).astype(np.int64), (t == 1).astype(np.int64), -1)
    if p is None:
        res.update({m: _nan(lead) for m in NEEDS_PROBABILITIES})
        return res
    rows = np.arange(len(t))
    p_true = p[..., rows, t]
    res["log_loss"] = -np.log(np.clip(p_true, EPSILON, 1 - EPSILON)).mean(axis=-1)
    # sum_k (p_k - y_k)^2 = sum_k p_k^2 - 2 p_true + 1
    res["brier"] = (np.square(p).sum(axis=-1) - 2 * p_true + 1).mean(axis=-1)
    top = p.argmax(axis=-1)[..., None]   # the confidence is read at the argmax: one pass
    res["ece"] = _ece(np.take_along_axis(p, top, axis=-1)[..., 0],
                      (top[..., 0] == t).astype(np.float64))
    res["out_of_range"] = ((s < 0) | (s > 1)).mean(axis=(-2, -1))
    if k == 2:
        res["pr_auc"] = _average_precision(p[..., 1], (t == 1).astype(np.float64))
    return res


def _classes(recipe, t, out, n, threshold):
    k = problem_size(recipe, out.shape[-1], n)
    if t.size and (t.min() < 0 or t.max() >= k):
        raise ValueError(f"Expected class indices in [0, {k}). Received: min={t.min()}, max={t.max()}")
    pred = recipe.decode(out, k, threshold)
    p = recipe.proba(out)
    return _class_metrics(t, pred, p, None if p is None else recipe.scores(out), k), k


def _label_metrics(t, pred, p):
    res = {"accuracy": (pred == t).mean(axis=(-2, -1)),
           "f1": _f1(pred, t, -2).mean(axis=-1)}
    if p is None:
        res["log_loss"] = _nan(pred.shape[:-2])
        return res
    p = np.clip(p, EPSILON, 1 - EPSILON)
    res["log_loss"] = -(t * np.log(p) + (1 - t) * np.log1p(-p)).mean(axis=(-2, -1))
    return res


def _labels(recipe, t, out, threshold):
    t = t.reshape(len(t), -1)
    if out.shape[-1] != t.shape[-1]:
        raise ValueError(f"Expected {t.shape[-1]} output unit(s), one per label. "
                         f"Received: outputs.shape={out.shape}")
    pred = recipe.decode(out, None, threshold).reshape(out.shape).astype(np.int64)
    p = recipe.proba(out)
    if p is not None and t.shape[-1] == 1 and p.shape[-1] == 2:  # one label: [1 - p, p]
        p = p[..., 1:]
    return _label_metrics(t, pred, p)


def _value_metrics(t, pred, counts):
    err = pred - t
    res = {"mse": np.square(err).mean(axis=(-2, -1)),
           "mae": np.abs(err).mean(axis=(-2, -1)),
           "out_of_range": ((pred < 0) | (pred > 1)).mean(axis=(-2, -1))}
    if counts:
        positive = pred > 0
        mu = np.where(positive, pred, 1.0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ylogy = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0) / mu), 0.0)
            dev = (2 * (ylogy - t + mu)).mean(axis=(-2, -1))
        res["poisson_deviance"] = np.where(positive.all(axis=(-2, -1)), dev, np.nan)
    return res


def _values(recipe, t, out):
    t = t.reshape(len(t), -1)
    if out.shape[-1] != t.shape[-1]:
        raise ValueError(f"Expected {t.shape[-1]} output unit(s), one per target. "
                         f"Received: outputs.shape={out.shape}")
    pred = np.asarray(recipe.decode(out), dtype=np.float64).reshape(out.shape)
    return _value_metrics(t, pred, recipe.target == "counts")


def common_metrics(recipe, truth, outputs, *, n=None, threshold=None):
    """The metrics ``names(recipe, n)`` of raw outputs against the truth.

    ``truth``: from ``truth(recipe, y, classes)``, N samples. ``outputs``: the
    model's RAW outputs (before ``recipe.scores``), shape ``(..., N, units)``;
    every leading axis (runs, epochs, ...) is kept. Returns ``{metric: array of
    shape (...)}`` in ``names`` order (0-d arrays for one run). ``n``: the
    number of classes, needed only for class recipes whose unit count does not
    reveal it (a class index predicted as one number); the number of units
    is checked against it. ``threshold``: passed to ``recipe.decode`` (None: its
    default, 0.5 for the decodings that take one). A run
    with any non-finite output gets NaN for every metric.
    """
    t = np.asarray(truth)
    out = _check(recipe, t, outputs)
    finite = np.isfinite(out).all(axis=(-2, -1))
    if not finite.all():  # score zeros instead, then blank those runs out
        out = np.where(finite[..., None, None], out, 0.0)
    k = None
    if recipe.target in CLASS_TARGETS:
        res, k = _classes(recipe, t.astype(np.int64).ravel(), out, n, threshold)
    elif recipe.target == "labels":
        res = _labels(recipe, t.astype(np.int64), out, threshold)
    else:
        res = _values(recipe, t.astype(np.float64), out)
    return {m: np.where(finite, np.asarray(res[m], dtype=np.float64), np.nan)
            for m in names(recipe, k)}


def baselines(recipe_or_problem, truth_train, truth_eval, *, n=None):
    """The trivial baseline's value of each common metric on ``truth_eval``.

    The trivial baseline ignores the inputs and predicts one thing for every
    example, learned from the train split's truth only:

    - class and ordered targets: the train split's majority class (the lowest
      index on a tie), with the train class frequencies as its probabilities
      (so log-loss, Brier and ECE are those of the class prior);
    - labels: per label, the train majority (0 or 1), with the train frequency
      of 1 as its probability;
    - values, values in 0..1 and counts: the train mean for ``mse``,
      ``out_of_range`` and ``poisson_deviance`` (the constant that minimizes
      them), the train median for ``mae`` (the constant that minimizes it).

    ``recipe_or_problem``: a Recipe, or a problem type (``"binary"``, ...) for
    its recommended recipe. ``truth_train``, ``truth_eval``: from ``truth``.
    ``n``: the number of classes (default: the largest index seen + 1, at
    least 2). Returns ``{metric: float}`` with the keys of ``names``.

    >>> b = baselines("binary", [0, 0, 0, 1], [0, 1, 0, 0])
    >>> float(b["accuracy"]), float(b["balanced_accuracy"]), float(b["f1"])
    (0.75, 0.5, 0.0)
    """
    recipe = recipe_or_problem
    if isinstance(recipe, str):
        from ..catalog.table import select

        recipe = select(recipe)
    train, ev = np.asarray(truth_train), np.asarray(truth_eval)
    if recipe.target in CLASS_TARGETS:
        train, ev = train.astype(np.int64).ravel(), ev.astype(np.int64).ravel()
        k = n or max(2, int(max(train.max(initial=0), ev.max(initial=0))) + 1)
        prior = np.bincount(train, minlength=k) / max(len(train), 1)
        p = np.broadcast_to(prior, (len(ev), k))
        pred = np.full(len(ev), int(prior.argmax()))
        res = _class_metrics(ev, pred, p, p, k)
    elif recipe.target == "labels":
        train, ev = train.reshape(len(train), -1), ev.reshape(len(ev), -1).astype(np.int64)
        rate = train.mean(axis=0)
        pred = np.broadcast_to((rate > 0.5).astype(np.int64), ev.shape)
        res = _label_metrics(ev, pred, np.broadcast_to(rate, ev.shape))
        k = None
    else:
        train = np.asarray(train, np.float64).reshape(len(train), -1)
        ev = np.asarray(ev, np.float64).reshape(len(ev), -1)
        counts = recipe.target == "counts"
        res = _value_metrics(ev, np.broadcast_to(train.mean(axis=0), ev.shape), counts)
        res["mae"] = _value_metrics(ev, np.broadcast_to(np.median(train, axis=0), ev.shape),
                                    counts)["mae"]
        k = None
    return {m: float(res[m]) for m in names(recipe, k)}


def reliability(recipe, truth, outputs, *, n=None, bins=ECE_BINS):
    """The numbers of a reliability diagram of one run's outputs ``(N, units)`` of a class
    recipe with probabilities, in the bins of ``ece`` (``ECE_BINS`` equal-width bins of
    the top-class confidence): ``{"count": rows per bin, "confidence": the sum of their
    confidences, "correct": how many of them the top class gets right}``, lists of
    ``bins`` numbers. Sums, so runs pool by adding them; ``correct / count`` against
    ``confidence / count`` is the diagram, and ``sum |correct - confidence| / N`` its ECE.
    Raises ValueError for a recipe without probabilities or non-class targets.

    >>> from recipes.catalog.table import get
    >>> r = reliability(get("binary_sigmoid_bce"), truth(get("binary_sigmoid_bce"),
    ...                 [0, 1, 1], (0, 1)), [[0.1], [0.95], [0.4]], bins=5)
    >>> r["count"], r["correct"]
    ([0, 0, 1, 0, 2], [0, 0, 0, 0, 2])
    """
    out = _check(recipe, truth, outputs)
    p = recipe.proba(out) if recipe.target in CLASS_TARGETS else None
    if p is None:
        raise ValueError(f"Expected a class recipe with probabilities for a reliability "
                         f"diagram. Received: recipe={recipe.name!r}")
    problem_size(recipe, out.shape[-1], n)
    conf = p.max(axis=-1)
    b = _bin_of(conf, bins)
    correct = (p.argmax(axis=-1) == truth).astype(np.float64)
    return {"count": np.bincount(b, minlength=bins).tolist(),
            "confidence": np.bincount(b, weights=conf, minlength=bins).tolist(),
            "correct": np.bincount(b, weights=correct, minlength=bins).astype(int).tolist()}
