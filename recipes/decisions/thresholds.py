"""Tuned thresholds: the cut-off that best serves a metric or a cost, on validation rows.

A binary or multi-label recipe decodes a label as 1 when its score (the probability,
after the link of a logits recipe) is at least a threshold, 0.5 by default. With rare
positives, or errors of unequal cost, another cut-off serves better. ``tune_threshold``
picks it on validation outputs, one per label; ``recipe.decode(outputs,
threshold=tuned.threshold)`` applies it to new outputs.

What is optimized, per label (each label on its own: a multi-label macro F1 is the
mean of the labels' F1, so tuning each label maximizes it):

- ``metric="f1"``: F1 of the positive class (class index 1), as scikit-learn's
  ``f1_score``; ``"balanced_accuracy"``: the mean of the two recalls, as
  ``balanced_accuracy_score`` (``METRICS``);
- ``metric={"cost_fp": a, "cost_fn": b}``: the mean cost per row,
  ``(a * false positives + b * false negatives) / rows``, minimized (only the ratio
  ``a / b`` matters);
- ``metric=f``: a callable ``f(y_true, y_pred) -> float`` on 0/1 arrays of one label,
  maximized (called once per candidate cut-off).

Candidates: the midpoints between consecutive distinct validation scores, and beyond
the lowest and the highest (towards the ends of the score range: all rows 1, no row 1),
so every distinct decision the validation rows allow is tried once. Ties (cut-offs
whose value equals the best) go to the cut-off nearest the default 0.5, the lower of
two equally near: a tuned threshold leaves 0.5 only for a strictly better value.

Refused: fewer than ``MIN_RARE`` validation rows of the rare class of a label (its
rarer value, 0 or 1), where the best cut-off would fit noise; pass ``min_rare`` to set
another minimum.

>>> import numpy as np
>>> from recipes.catalog.table import get
>>> r = get("binary_sigmoid_bce")
>>> scores = np.repeat([0.1, 0.3, 0.35, 0.8], 10)
>>> y = np.repeat([0, 1, 0, 1], 10)
>>> tuned = tune_threshold(r, scores, y, metric="f1")
>>> tuned.threshold, tuned.score, tuned.default_score
(0.2, 0.8, 0.6666666666666666)
>>> r.decode([0.25, 0.15], threshold=tuned.threshold).tolist()
[1, 0]
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from ..catalog import codec
from ..catalog.table import load_catalog
from ..messages import expected
from . import inputs

# the fewest validation rows of the rare class, per label, that a threshold is tuned on
MIN_RARE = 10

COST_KEYS = ("cost_fp", "cost_fn")


def _f1(tp, fp, fn, tn):
    return 2 * tp / np.maximum(2 * tp + fp + fn, 1)


def _balanced_accuracy(tp, fp, fn, tn):
    return (tp / np.maximum(tp + fn, 1) + tn / np.maximum(tn + fp, 1)) / 2


@dataclass(frozen=True)
class Metric:
    """What a threshold is tuned for. ``reads``: ``"counts"``, the confusion counts
    ``(tp, fp, fn, tn)`` of every candidate cut-off at once (arrays), or ``"labels"``,
    ``(y_true, y_pred)`` of one cut-off (0/1 arrays)."""

    value: Callable       # what it reads -> the value(s)
    better: str           # "higher" or "lower"
    reads: str = "counts"


# metric name -> its value from the confusion counts of every candidate cut-off
METRICS = {
    "f1": Metric(_f1, "higher"),
    "balanced_accuracy": Metric(_balanced_accuracy, "higher"),
}


@dataclass(frozen=True)
class TunedThreshold:
    """A tuned threshold, with what it was tuned for; plain values only.

    ``recipe``: the recipe's name. ``metric``: ``"f1"``, ``"balanced_accuracy"``, the
    cost dict, or ``"callable:NAME"``. ``better``: ``"higher"`` or ``"lower"`` (a
    cost). ``threshold``: a float for a one-unit recipe, else a list of floats, one per
    label (what ``recipe.decode(..., threshold=...)`` takes). ``score`` and
    ``default_score``: the metric on the validation rows at the threshold and at 0.5
    (a float, or a list per label). ``rows``: the validation rows. ``rare``: the rows
    of the rare class (per label).
    """

    recipe: str
    metric: object
    better: str
    threshold: object
    score: object
    default_score: object
    rows: int
    rare: object

    def to_dict(self):
        """The fields as a dict of plain values (JSON-ready)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        """The TunedThreshold ``to_dict`` wrote; a ValueError when a field is missing
        or unknown."""
        fields = set(cls.__dataclass_fields__)
        if not isinstance(data, dict) or set(data) != fields:
            got = sorted(data) if isinstance(data, dict) else data
            raise ValueError(f"TunedThreshold.from_dict: expected the keys {sorted(fields)}. "
                             f"Received: {got!r}")
        return cls(**data)


def _objective(metric):
    """``(name to record, Metric)`` for the ``metric`` argument; a ValueError if invalid."""
    if callable(metric):
        return f"callable:{getattr(metric, '__qualname__', type(metric).__name__)}", \
            Metric(metric, "higher", "labels")
    if isinstance(metric, dict):
        return _cost(metric)
    if isinstance(metric, str) and metric in METRICS:
        return metric, METRICS[metric]
    raise ValueError("tune_threshold: " + expected(METRICS, "metric", metric)
                     + "; or a cost {'cost_fp': ..., 'cost_fn': ...}, or a callable "
                     "(y_true, y_pred) -> float to maximize")


def _cost(metric):
    """The mean cost per row of a ``{"cost_fp": a, "cost_fn": b}`` metric, minimized."""
    ok = set(metric) == set(COST_KEYS) and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v) and v > 0
        for v in metric.values())
    if not ok:
        raise ValueError("tune_threshold: expected a cost as {'cost_fp': a, 'cost_fn': b}, "
                         "the positive cost of one false positive and of one false negative. "
                         f"Received: metric={metric!r}")
    a, b = float(metric["cost_fp"]), float(metric["cost_fn"])

    def mean_cost(tp, fp, fn, tn):
        return (a * fp + b * fn) / (tp + fp + fn + tn)

    return {"cost_fp": a, "cost_fn": b}, Metric(mean_cost, "lower")


def candidates(scores, bounds):
    """The cut-offs worth trying on one label's ``scores``: one per distinct decision.

    Midpoints between consecutive distinct scores, plus one below the lowest and one
    above the highest, each strictly inside ``bounds`` (the range of the scores; an
    unbounded end is taken 1 beyond the scores). A cut-off ``c`` decides ``score >= c``,
    so each sits above the lower score of its pair (the upper one where the two are
    adjacent floats). Returns a sorted float64 array.

    >>> candidates(np.array([0.2, 0.6, 0.6, 0.9]), (0.0, 1.0)).tolist()
    [0.1, 0.4, 0.75, 0.95]
    """
    distinct = np.unique(scores)
    lo = bounds[0] if np.isfinite(bounds[0]) else distinct[0] - 1.0
    hi = bounds[1] if np.isfinite(bounds[1]) else distinct[-1] + 1.0
    edges = np.unique(np.concatenate([[lo], distinct, [hi]]))
    lower, upper = edges[:-1], edges[1:]
    mid = lower + (upper - lower) / 2
    cuts = np.where(mid > lower, mid, upper)
    return cuts[(cuts > bounds[0]) & (cuts < bounds[1])]


def _counts(truth, scores, cuts):
    """Confusion counts ``(tp, fp, fn, tn)`` of deciding ``score >= cut``, for every cut."""
    pos, neg = np.sort(scores[truth == 1]), np.sort(scores[truth == 0])
    tp = len(pos) - np.searchsorted(pos, cuts, side="left")
    fp = len(neg) - np.searchsorted(neg, cuts, side="left")
    return tp, fp, len(pos) - tp, len(neg) - fp


def _values(objective, truth, scores, cuts):
    """The objective at every cut: from the counts, or by calling a callable metric."""
    if objective.reads == "counts":
        return np.asarray(objective.value(*_counts(truth, scores, cuts)), dtype=np.float64)
    values = []
    for cut in cuts:
        v = objective.value(truth, (scores >= cut).astype(np.int64))
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
            raise ValueError(f"tune_threshold: expected metric(y_true, y_pred) to return a "
                             f"finite number. Received: {v!r}")
        values.append(float(v))
    return np.array(values)


def _best(values, cuts, better):
    """The index of the best value, ties to the cut nearest the default (then lower)."""
    signed = values if better == "higher" else -values
    ties = np.flatnonzero(np.isclose(signed, signed.max(), rtol=1e-12, atol=1e-12))
    return ties[np.argmin(np.abs(cuts[ties] - codec.DEFAULT_THRESHOLD))]


def _check_rare(truth, min_rare, classes, who):
    """Rows of the rare value per label; a ValueError where a label has too few.
    ``classes``: the two classes of a binary recipe, None for multi-label."""
    ones = truth.sum(axis=0)
    rare = np.minimum(ones, len(truth) - ones)
    short = np.flatnonzero(rare < min_rare)
    if short.size:
        if classes is not None:   # one binary label: name the rare class
            cls = classes[1] if ones[0] <= len(truth) - ones[0] else classes[0]
            cls = cls.item() if hasattr(cls, "item") else cls
            where = f"the rare class {cls!r} has {int(rare[0])} of {len(truth)} rows"
        else:
            where = (f"label(s) {short.tolist()} have {rare[short].tolist()} rows of their "
                     f"rarer value (0 or 1), of {len(truth)}")
        raise ValueError(f"{who} needs at least min_rare={min_rare} validation rows of each "
                         f"class, per label, to tune a threshold on; {where}. A cut-off "
                         f"tuned on so few rows fits noise: keep the default threshold "
                         f"{codec.DEFAULT_THRESHOLD}, or tune on more validation rows.")
    return rare


def tune_threshold(recipe, outputs, y, metric="f1", *, classes=None, min_rare=MIN_RARE):
    """Tune the decision threshold of a binary or multi-label recipe on validation rows.

    Parameters
    ----------
    recipe : Recipe or str
        A recipe decoded by threshold: binary with one output unit, or multi-label
        (a name is looked up in the bundled catalog).
    outputs : array-like of shape (rows, units)
        The model's raw outputs on validation rows (what ``recipe.decode`` takes;
        calibrated outputs too).
    y : array-like
        The labels of those rows: two classes (binary), or a 0/1 matrix (multi-label).
    metric : str, dict or callable, default="f1"
        ``"f1"`` or ``"balanced_accuracy"`` (``METRICS``), maximized; a cost
        ``{"cost_fp": a, "cost_fn": b}``, whose mean per row is minimized; or a
        callable ``(y_true, y_pred) -> float`` on one label's 0/1 arrays, maximized.
    classes : list, optional
        Binary: the two class labels, the positive one (index 1) last; default: the
        sorted distinct labels of ``y``.
    min_rare : int, default=MIN_RARE
        The fewest validation rows of the rare class, per label, to tune on.

    Returns
    -------
    TunedThreshold
        ``threshold`` (a float, or one per label) for ``recipe.decode(...,
        threshold=...)``; ``score`` and ``default_score``: the metric at it and at 0.5
        on the validation rows; ``metric``, ``better``, ``rows``, ``rare``;
        ``to_dict()`` as plain values.

    Raises
    ------
    ValueError
        A recipe not decoded by threshold; an unknown metric name or a bad cost; too
        few rows of a rare class; outputs of the wrong shape or range; labels the
        outputs do not score.

    Examples
    --------
    >>> import numpy as np
    >>> from recipes.catalog.table import get
    >>> scores = np.repeat([0.1, 0.3, 0.35, 0.8], 10)
    >>> y = np.repeat([0, 1, 0, 1], 10)
    >>> tune_threshold(get("binary_sigmoid_bce"), scores, y,
    ...                metric={"cost_fp": 5, "cost_fn": 1}).threshold
    0.575
    """
    who = "tune_threshold"
    recipe, name, objective, truth, classes, scores = _scored(recipe, outputs, y, metric,
                                                              classes, who)
    if isinstance(min_rare, bool) or not isinstance(min_rare, numbers.Integral) or min_rare < 1:
        raise ValueError(f"{who}: expected min_rare as an integer >= 1. "
                         f"Received: min_rare={min_rare!r}")
    rows = len(truth)
    rare = _check_rare(truth, int(min_rare), classes, who)
    found = [_tune(truth[:, j], scores[:, j], objective, recipe.output_range)
             for j in range(scores.shape[1])]
    one = scores.shape[1] == 1
    pick = (lambda values: values[0]) if one else list   # one unit: a number, else a list
    return TunedThreshold(
        recipe=recipe.name, metric=name, better=objective.better,
        threshold=pick([f[0] for f in found]), score=pick([f[1] for f in found]),
        default_score=pick([f[2] for f in found]), rows=int(rows),
        rare=pick([int(r) for r in rare]))


def _scored(recipe, outputs, y, metric, classes, who, unit_scores=False):
    """What ``tune_threshold`` and ``threshold_curve`` (``who``) read, each argument
    checked: ``(recipe, metric name, objective, truth (rows, labels), class labels,
    scores (rows, labels))``. The recipe must be decoded by a threshold, and with
    ``unit_scores`` have its scores in 0..1."""
    recipe = inputs.as_recipe(recipe, who)

    def takes(r):
        return r.decoding == "threshold" and (
            not unit_scores or tuple(r.output_range) == (0.0, 1.0))

    if not takes(recipe):
        names = ", ".join(repr(r.name) for r in load_catalog() if takes(r))
        kind = "a threshold on scores in 0..1" if unit_scores else "a threshold"
        its_range = f", scores in {list(recipe.output_range)}" if unit_scores else ""
        raise ValueError(f"{who} needs a recipe decoded by {kind}, one of {{{names}}}. "
                         f"Received: recipe={recipe.name!r} (decoding {recipe.decoding!r}"
                         f"{its_range})")
    name, objective = _objective(metric)
    out = inputs.outputs_of(recipe, outputs, who, fit=True)
    truth, classes = inputs.truth_of(recipe, y, classes, out.shape[1], who)
    truth = truth.reshape(inputs.rows_of(truth, out, who), -1)
    return recipe, name, objective, truth, classes, recipe.scores(out)


def _tune(truth, scores, objective, bounds):
    """``(cut-off, its value, the value at the default)`` for one label."""
    cuts = candidates(scores, bounds)
    values = _values(objective, truth, scores, cuts)
    i = _best(values, cuts, objective.better)
    default = _values(objective, truth, scores, np.array([codec.DEFAULT_THRESHOLD]))[0]
    return float(cuts[i]), float(values[i]), float(default)


# the cut-offs a threshold curve is drawn at: 0.02, 0.04, ..., 0.98 of the score range
CURVE_CUTS = tuple(round(0.02 * i, 2) for i in range(1, 50))


def threshold_curve(recipe, outputs, y, metric="f1", *, classes=None, cuts=CURVE_CUTS):
    """The value of ``metric`` (what ``tune_threshold`` takes) at each cut-off of ``cuts``
    on the outputs of a binary or multi-label recipe with scores in 0..1: the numbers of
    a threshold curve. Returns ``{"cut": list of cuts, "value": one list of values per
    label}`` (plain floats). Raises ValueError as ``tune_threshold`` does for its
    arguments, and for a recipe whose scores are not in 0..1.

    >>> from recipes.catalog.table import get
    >>> c = threshold_curve(get("binary_sigmoid_bce"), [0.2, 0.6, 0.9], [0, 1, 1],
    ...                     cuts=(0.1, 0.5, 0.95))
    >>> c["value"]
    [[0.8, 1.0, 0.0]]
    """
    _, _, objective, truth, _, scores = _scored(recipe, outputs, y, metric, classes,
                                                "threshold_curve", unit_scores=True)
    cuts = np.asarray(cuts, dtype=np.float64)
    values = [_values(objective, truth[:, j], scores[:, j], cuts).tolist()
              for j in range(scores.shape[1])]
    return {"cut": cuts.tolist(), "value": values}
