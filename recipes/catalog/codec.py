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

import numpy as np

from ..messages import expected


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


# --- probabilities: scores -> class probabilities, for common metrics ------

def _normalize(p):
    p = np.clip(p, 0.0, 1.0)
    total = p.sum(axis=-1, keepdims=True)
    uniform = np.full_like(p, 1.0 / p.shape[-1])
    return np.where(total > 0, p / np.where(total > 0, total, 1.0), uniform)


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
