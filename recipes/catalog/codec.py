"""Labels to training targets, and raw network outputs back to labels.

Pure numpy, no TensorFlow. Every rule is a row of a table keyed by the name
the catalog uses (its ``encoding`` and ``decoding`` columns), so a catalog row
picks its rules by name and no code branches on recipe names.

Class labels are first mapped to indices ``0..n-1`` in the order of
``classes`` (by default the sorted distinct labels, like scikit-learn's
``LabelEncoder``); encoders then turn indices into the target shape a loss
expects, and decoders turn outputs back into indices (or labels).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..messages import expected, plural


def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softplus(z):
    z = np.asarray(z, dtype=np.float64)
    return np.logaddexp(0.0, z)


# Output activations as numpy functions: used to apply a link at decode time
# (from_logits recipes) and by tests that check output ranges.
NUMPY_ACTIVATIONS = {
    "linear": lambda z: np.asarray(z, dtype=np.float64),
    "sigmoid": sigmoid,
    "softmax": softmax,
    "exponential": lambda z: np.exp(np.asarray(z, dtype=np.float64)),
    "softplus": softplus,
    "tanh": lambda z: np.tanh(np.asarray(z, dtype=np.float64)),
}


# --- encoders: (indices or values, n) -> training targets -------------------

def _binary(i, n):
    if n != 2:
        raise ValueError(
            f"The 'binary' encoding needs exactly 2 classes. Received: {n} classes; "
            "use a multiclass recipe (onehot or index encoding) instead."
        )
    return i.reshape(-1, 1).astype("float32")


def _onehot(i, n):
    return np.eye(n, dtype="float32")[i]


def _index(i, n):
    return i.astype("int32")


def _number(i, n):
    return i.reshape(-1, 1).astype("float32")


def _cumulative(i, n):
    return (i[:, None] > np.arange(n - 1)[None, :]).astype("float32")


def _matrix(y, n):
    y = np.asarray(y, dtype="float32")
    return y.reshape(len(y), -1)


# name -> (function, what it consumes: "indices" or "matrix")
ENCODERS = {
    "binary": (_binary, "indices"),
    "onehot": (_onehot, "indices"),
    "index": (_index, "indices"),
    "number": (_number, "indices"),
    "cumulative": (_cumulative, "indices"),
    "multihot": (_matrix, "matrix"),
    "value": (_matrix, "matrix"),
}


# --- decoders: scores (outputs after the link) -> indices or values ---------

def _threshold(s, n, t):
    hits = (s >= np.asarray(t)).astype("int64")
    return hits[..., 0] if s.shape[-1] == 1 else hits


def _argmax(s, n, t):
    return s.argmax(axis=-1)


def _round(s, n, t):
    return np.clip(np.rint(s[..., 0]), 0, n - 1).astype("int64")


def _count_above(s, n, t):
    return (s >= np.asarray(t)).sum(axis=-1).astype("int64")


def _identity(s, n, t):
    return s


# name -> (function, what it returns: "indices", "matrix" or "values")
DECODERS = {
    "threshold": (_threshold, "indices"),
    "argmax": (_argmax, "indices"),
    "round": (_round, "indices"),
    "cumulative": (_count_above, "indices"),
    "identity": (_identity, "values"),
}

# decodings that compare each unit's score with a threshold; the others take none
THRESHOLDED = ("threshold", "cumulative")
DEFAULT_THRESHOLD = 0.5


def thresholds(decoding, threshold, units, bounds, who):
    """The threshold a decoder gets: ``DEFAULT_THRESHOLD`` for None, else ``threshold`` checked.

    ``threshold``: one number, or one per output unit (``units`` of them), each finite and
    strictly inside ``bounds`` (the range of the scores: 0..1 for probabilities). Raises
    ValueError for a bad one, or for any threshold given to a decoding not in ``THRESHOLDED``.

    >>> thresholds("threshold", [0.2, 0.7], 2, (0.0, 1.0), "r").tolist()
    [0.2, 0.7]
    """
    if threshold is None:
        return DEFAULT_THRESHOLD
    if decoding not in THRESHOLDED:
        raise ValueError(f"{who} decodes by {decoding!r}, which takes no threshold. "
                         f"Expected threshold=None (thresholds apply to the decodings "
                         f"{set(THRESHOLDED)}). Received: threshold={threshold!r}")
    try:
        t = np.asarray(threshold, dtype=np.float64)
    except (TypeError, ValueError):
        t = None
    if t is None or t.ndim > 1 or (t.ndim == 1 and t.size != units):
        raise ValueError(f"{who}: expected one threshold, or one per output unit ({units}). "
                         f"Received: threshold={threshold!r}")
    lo, hi = bounds
    bad = ~np.isfinite(t) | (t <= lo) | (t >= hi)
    if bad.any():
        raise ValueError(f"{who}: expected thresholds strictly between {lo:g} and {hi:g} (the "
                         f"range of its scores). Received: threshold={threshold!r}")
    return t


# --- probabilities: scores -> class probabilities, for common metrics ------

def _normalize(p):
    """``p`` clipped to 0..1, each row divided by its sum; a row summing to 0 is uniform."""
    p = np.clip(p, 0.0, 1.0)
    total = p.sum(axis=-1, keepdims=True)
    positive = total > 0
    if positive.all():      # the usual case: no uniform rows to build (same values)
        return p / total
    uniform = np.full_like(p, 1.0 / p.shape[-1])
    return np.where(positive, p / np.where(positive, total, 1.0), uniform)


def _two_columns(s):
    p = np.clip(s[..., 0], 0.0, 1.0)
    return np.stack([1.0 - p, p], axis=-1)


def _from_cumulative(s):
    q = np.clip(s, 0.0, 1.0)
    ones = np.ones(q.shape[:-1] + (1,))
    zeros = np.zeros(q.shape[:-1] + (1,))
    above = np.concatenate([ones, q, zeros], axis=-1)
    return _normalize(np.maximum(above[..., :-1] - above[..., 1:], 0.0))


# decoding -> how to read class probabilities off its scores; scores that do
# not sum to one (one-vs-rest sigmoids, linear outputs) are clipped to 0..1 and
# renormalized. None: the recipe gives no probabilities (a class index number).
PROBABILITIES = {
    "threshold": lambda s: _two_columns(s) if s.shape[-1] == 1 else np.clip(s, 0.0, 1.0),
    "argmax": _normalize,
    "round": None,
    "cumulative": _from_cumulative,
    "identity": lambda s: s,
}


def ordered_levels(y):
    """The levels of an ordered pandas Categorical (or Series of one), in their order;
    None for anything else."""
    dtype = getattr(y, "dtype", None)
    if getattr(dtype, "ordered", False) and getattr(dtype, "categories", None) is not None:
        return tuple(dtype.categories.tolist())
    return None


def plain(values, name="y"):
    """``values`` as a numpy array; a masked array with masked entries is an error
    (a masked entry has no label: its hidden value would become one)."""
    mask = np.ma.getmaskarray(values) if isinstance(values, np.ma.MaskedArray) else None
    if mask is not None and mask.any():
        rows = np.flatnonzero(mask.reshape(len(mask), -1).any(axis=1))
        raise ValueError(f"Expected {name} without masked entries. Received: a masked array "
                         f"with {int(mask.sum())} masked entries, at rows {rows[:5].tolist()}; "
                         f"drop those rows or fill them (np.ma.filled) first.")
    return np.asarray(values.data if mask is not None else values)


def class_labels(y, classes=None, name="y"):
    """Check class labels and give ``(labels as a 1-D array, classes)``.

    ``classes``: the labels in index order; by default the levels of an ordered
    Categorical, else the sorted distinct labels. A (n, 1) column is flattened; a
    one-hot matrix (0/1, one 1 per row) gives its column indices (its columns are the
    classes). Without ``classes``, non-finite labels and fractions are an error: {0,
    0.5} are proportions, not two classes.
    """
    levels = ordered_levels(y)
    if classes is not None and (isinstance(classes, (str, bytes, numbers.Number))
                                or not hasattr(classes, "__len__")):
        raise ValueError(f"Expected classes as a list of the class labels in index order, "
                         f"e.g. classes=[0, 1, 2]. Received: classes={classes!r}")
    y = plain(y, name)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2:
        y = _from_onehot(y, classes, name)
        classes = range(y.max() + 1 if classes is None else len(classes)) \
            if classes is None else classes
    if y.ndim != 1:
        raise ValueError(f"Expected {name} as 1-D class labels (or a one-hot matrix). "
                         f"Received: {name}.shape={y.shape}")
    if classes is None and levels is not None:
        classes = levels
    if y.dtype == object:
        _no_missing(y, name)
    if classes is None:
        if y.dtype.kind in "fc":
            _whole_numbers(y, name)
        try:
            classes = classes_of(y)
        except TypeError:   # e.g. 1 and "a": no sorted order
            kinds = sorted({type(v).__name__ for v in y.tolist()})
            raise ValueError(f"Expected class labels of one type. Received {name} mixing "
                             f"{kinds}; convert them to one type, or pass classes=[...] "
                             f"in index order.") from None
    classes = np.asarray(list(classes))
    if len(set(classes.tolist())) != len(classes):
        raise ValueError(f"Expected distinct classes. Received: classes={classes.tolist()!r}")
    return y, classes


def _no_missing(y, name):
    """Object labels must not hold None or NaN (a missing label is no class)."""
    missing = np.array([v is None or (isinstance(v, float) and v != v) for v in y.tolist()],
                       dtype=bool)
    if missing.any():
        rows = np.flatnonzero(missing)
        raise ValueError(f"Expected no missing labels. Received: {name}[{rows[0]}]="
                         f"{y[rows[0]]!r} ({rows.size} missing, at rows {rows[:5].tolist()}); "
                         f"drop those rows first.")


def _whole_numbers(y, name):
    """Float labels read as classes must be finite whole numbers."""
    finite = np.isfinite(y)
    if not finite.all():
        rows = np.flatnonzero(~finite)
        raise ValueError(f"Expected finite class labels. Received: {name}[{rows[0]}]="
                         f"{float(y[rows[0]])} ({rows.size} NaN or inf labels, at rows "
                         f"{rows[:5].tolist()})")
    frac = y != np.round(y)
    if frac.any():
        values = sorted(set(y[frac].tolist()))[:5]
        raise ValueError(
            f"Expected class labels (whole numbers or names). Received fractions in {name}: "
            f"{values} (at rows {np.flatnonzero(frac)[:5].tolist()}). Proportions in 0..1 are a "
            f"bounded_regression problem; to use them as class labels anyway, pass "
            f"classes=[...] explicitly.")


def _from_onehot(y, classes, name):
    """Column indices of a one-hot matrix; any other matrix is an error."""
    zero_one = np.isin(y, (0, 1))
    bad = ~zero_one.all(axis=1)
    if zero_one.all():
        bad = np.asarray(y, dtype=float).sum(axis=1) != 1
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise ValueError(f"Expected {name} as 1-D class labels, or a one-hot matrix (0/1, one 1 "
                         f"per row). Received: a matrix of shape {y.shape} that is not one-hot: "
                         f"row {r} is {y[r].tolist()} ({plural(int(bad.sum()), 'row')} not "
                         f"one-hot)")
    if classes is not None and len(classes) != y.shape[1]:
        raise ValueError(f"Expected one class per one-hot column: {y.shape[1]} classes. "
                         f"Received: classes={list(classes)!r}")
    return np.asarray(y, dtype=float).argmax(axis=1)


def check_outputs(scores, who):
    """Class decoding needs finite outputs: a NaN output has no class."""
    bad = ~np.isfinite(scores)
    if bad.any():
        rows = np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))
        raise ValueError(f"{who}: cannot decode non-finite outputs (NaN or inf) to labels: "
                         f"{rows.size} rows, the first at row {rows[0]} (the model diverged, "
                         f"or its inputs hold NaN). Expected finite outputs.")


def classes_of(y):
    """The distinct labels of ``y`` in sorted order (the default class order)."""
    return np.unique(np.asarray(y).ravel())


def to_indices(y, classes):
    """Map labels to their positions in ``classes``; unknown labels are an error."""
    y = np.asarray(y).ravel()
    classes = np.asarray(classes)
    order = np.argsort(classes, kind="stable")
    pos = np.searchsorted(classes[order], y)
    pos = np.clip(pos, 0, len(classes) - 1)
    idx = order[pos]
    bad = classes[idx] != y
    if bad.any():
        unknown = sorted({str(v) for v in y[bad]})[:5]
        raise ValueError(
            "Labels not among the classes. " + expected(classes.tolist(), "labels", unknown)
            + f" (at rows {np.flatnonzero(bad)[:5].tolist()})"
        )
    return idx.astype("int64")
