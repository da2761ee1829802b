"""The checks that calibration and threshold tuning make on what they are given.

A recipe (a ``Recipe`` or a catalog name), a model's raw outputs (as ``recipe.decode``
takes them) and the labels of the same rows. Each check raises a ValueError that names
the bad value and what is allowed, so nothing is fitted on outputs that the recipe
would read differently.

>>> from recipes.catalog.table import get
>>> r = get("binary_sigmoid_bce")
>>> t, classes = truth_of(r, ["no", "yes", "no"], None, 1, "fit")
>>> t.tolist(), classes.tolist()
([0, 1, 0], ['no', 'yes'])
"""

from __future__ import annotations

import numpy as np

from ..catalog import codec
from ..catalog.table import CLASS_TARGETS, OUTPUT_RANGES, Recipe, get, load_catalog
from ..training import metrics

# catalog targets whose outputs are decisions: one class per row, or 0/1 labels
DECISION_TARGETS = CLASS_TARGETS + ("labels",)

# how far a softmax output's row may sum from 1 (float32 outputs sum within ~1e-6)
SOFTMAX_SUM_TOLERANCE = 1e-3


def as_recipe(recipe, who):
    """``recipe`` as a Recipe: a Recipe as is, a name from the bundled catalog."""
    if isinstance(recipe, Recipe):
        return recipe
    if isinstance(recipe, str):
        return get(recipe)
    raise TypeError(f"{who}: expected a Recipe or a recipe name. Received: recipe={recipe!r}")


def class_recipe(recipe, who):
    """``recipe`` as a Recipe whose target is classes or labels; a ValueError otherwise."""
    recipe = as_recipe(recipe, who)
    if recipe.target not in DECISION_TARGETS:
        problems = ", ".join(repr(p) for p in dict.fromkeys(
            r.problem for r in load_catalog() if r.target in DECISION_TARGETS))
        raise ValueError(f"{who} needs a class recipe, one of {{{problems}}}. Received: "
                         f"recipe={recipe.name!r} (problem {recipe.problem!r}, whose outputs "
                         f"are values, not class scores)")
    return recipe


def outputs_of(recipe, outputs, who, fit=False):
    """Raw outputs as a float64 array ``(..., rows, units)``; a 1-D array is one unit.

    ``fit``: the outputs a fit reads, which must be 2-D ``(rows, units)``. Checked:
    finite values within the range of the recipe's output activation (a probability
    output holds no logits), softmax rows that sum to 1.
    """
    out = np.asarray(codec.plain(outputs, "outputs"), dtype=np.float64)
    if out.ndim == 1:
        out = out[:, None]
    if out.ndim == 0 or (fit and out.ndim != 2):
        raise ValueError(f"{who}: expected outputs of shape (rows, units), one row per label "
                         f"of y. Received: outputs.shape={np.shape(outputs)}")
    codec.check_outputs(out, who)
    lo, hi = OUTPUT_RANGES[recipe.activation]
    outside = (out < lo) | (out > hi)
    if outside.any():
        at = tuple(int(i) for i in np.argwhere(outside)[0])
        raise ValueError(
            f"{who}: recipe {recipe.name!r} has a {recipe.activation} output, values within "
            f"{lo:g}..{hi:g}. Received: outputs[{', '.join(map(str, at))}]={out[at]:g} "
            f"({int(outside.sum())} values outside); logits go with the recipe's logits form "
            f"(from_logits=True).")
    if recipe.activation == "softmax":
        sums = out.sum(axis=-1)
        off = np.abs(sums - 1.0) > SOFTMAX_SUM_TOLERANCE
        if off.any():
            at = tuple(int(i) for i in np.argwhere(off)[0])
            row = at[0] if len(at) == 1 else at
            raise ValueError(f"{who}: recipe {recipe.name!r} has a softmax output, whose rows "
                             f"sum to 1. Received: row {row} sums to {sums[at]:g} "
                             f"({int(off.sum())} row(s) off by more than "
                             f"{SOFTMAX_SUM_TOLERANCE:g})")
    return out


def truth_of(recipe, y, classes, units, who):
    """``(truth, classes)``: labels ``y`` of a class recipe as ``metrics.truth`` gives
    them, checked against the ``units`` of its outputs, and the classes in output order
    (None for labels targets).

    Class targets: indices into ``classes``, whose number must be the number of classes
    the outputs have. Without ``classes``, the sorted distinct labels of ``y``; when ``y``
    holds fewer (a class absent from the validation rows), integer labels within
    ``0..n-1`` are read as class indices, and anything else needs ``classes``. Labels
    targets: a 0/1 matrix with one column per unit.
    """
    if recipe.target == "labels":
        t = metrics.truth(recipe, codec.plain(y, "y"))
        if t.shape[1] != units:
            raise ValueError(f"{who}: expected y with one 0/1 column per output unit "
                             f"({units}). Received: y.shape={np.shape(y)}")
        return t, None
    n = metrics.problem_size(recipe, units, None)
    labels, found = codec.class_labels(y, classes)
    if classes is not None and len(found) != n:
        raise ValueError(f"{who}: the {units} output unit(s) of recipe {recipe.name!r} score "
                         f"{n} classes. Expected {n} classes. Received: "
                         f"classes={list(classes)!r}")
    if classes is None and len(found) != n:
        found = _default_classes(recipe, found, n, units, who)
    return codec.to_indices(labels, found), np.asarray(found)


def _default_classes(recipe, found, n, units, who):
    """The classes of labels that hold fewer or more classes than the outputs score."""
    whole = found.dtype.kind in "iu" or (found.dtype.kind == "f" and
                                         (found == np.round(found)).all())
    if len(found) < n and whole and found.min() >= 0 and found.max() < n:
        return np.arange(n)
    raise ValueError(f"{who}: the {units} output unit(s) of recipe {recipe.name!r} score {n} "
                     f"classes. Received: y with {len(found)} classes "
                     f"{found[:10].tolist()}; pass classes=[...], the {n} labels in the "
                     f"order of the outputs.")


def rows_of(t, out, who):
    """The number of rows, the same in the labels and the outputs."""
    if len(t) != len(out):
        raise ValueError(f"{who}: expected one row of outputs per label. Received: "
                         f"{len(out)} rows of outputs and {len(t)} labels")
    return len(t)
