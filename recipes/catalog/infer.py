"""Guess the problem type of a set of labels, and say why.

Like scikit-learn's ``type_of_target``, but its answers are the catalog's
problem types, chosen for picking a loss: one-hot rows are ``multiclass`` (not
multi-label), a float target with many integer values is a regression, counts
are told apart from measurements, and an ordered pandas Categorical is
``ordinal``.

Pure numpy; pandas is imported only to read a ``.csv`` file or when the labels
are a pandas object. No TensorFlow, no scikit-learn: a command line can answer
at once.

How it works: the labels become a numpy array of one *kind* (booleans,
strings, categories or numbers) after the input checks; a few statistics
summarize them (``_Summary``); the first row of a rule table (``RULES_1D`` or
``RULES_2D``) whose test holds gives the answer and its reason.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

PROBLEMS = ("binary", "multiclass", "multilabel", "regression",
            "bounded_regression", "count", "ordinal")


class InferenceError(ValueError):
    """The labels cannot be read, or no problem type fits them."""


@dataclass(frozen=True)
class Inference:
    """The inferred problem type of some labels, and why.

    ``problem``: one of ``PROBLEMS``. ``reason``: a sentence saying why.
    ``n``: the problem size (classes for binary, multiclass and ordinal; labels
    for multilabel; targets for the regressions and counts). ``classes``: the
    class labels in index order (sorted distinct labels; the categories of a
    pandas Categorical in their order; the column names or indices of one-hot
    rows), ``None`` for the other problems. ``onehot``: the labels are one-hot
    rows (turn them into indices with ``argmax``). ``alternatives``: other
    problem types that fit the same labels if their meaning says so.
    """

    problem: str
    reason: str
    n: int = 1
    classes: tuple | None = None
    onehot: bool = False
    alternatives: tuple = ()

    def __str__(self):
        return f"{self.problem}: {self.reason}"


def infer_problem(y, max_classes=20):
    """Infer the problem type of the labels ``y``.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        A list, tuple, numpy array, pandas Series, DataFrame or Categorical
        of numbers, booleans or strings. A 2-D array with one column counts
        as 1-D.
    max_classes : int, default=20
        Integer labels with at most this many distinct values are classes;
        with more, they are counts (if they include 0) or a regression.

    Returns
    -------
    Inference
        ``problem`` is one of:

        * ``'binary'``: exactly 2 distinct values of any kind (numbers,
          booleans, strings, -1/1), 1-D.
        * ``'multiclass'``: 3 or more distinct strings or (unordered)
          categories; 3 to ``max_classes`` distinct integers; or one-hot rows
          (2-D, 0/1, each row sums to exactly 1).
        * ``'ordinal'``: an ordered pandas Categorical with more than 2
          categories.
        * ``'multilabel'``: 2-D 0/1 labels whose rows do not all sum to 1.
        * ``'count'``: non-negative integer values with more than
          ``max_classes`` distinct values, including 0 (2-D: integer columns
          that all include 0).
        * ``'bounded_regression'``: values within [0, 1] that are not all 0
          or 1 (1-D non-integer values, or 2-D columns).
        * ``'regression'``: any other numbers, 1-D or 2-D (multi-output).

        ``reason`` says why; ``n``, ``classes``, ``onehot`` and
        ``alternatives`` are described in ``Inference``.

    Raises
    ------
    InferenceError
        If ``y`` is not an array of labels (None, a dict, a string, a scalar,
        a set), is empty, ragged, has 3 or more dimensions, mixes strings and
        numbers, holds missing values (NaN, None, pd.NA) or infinities, or has
        only one distinct value.

    Examples
    --------
    >>> from recipes.catalog.infer import infer_problem
    >>> infer_problem([1, 0, 1, 1]).problem
    'binary'
    >>> infer_problem(['cat', 'dog', 'bird', 'dog']).classes
    ('bird', 'cat', 'dog')
    >>> infer_problem([[1, 0, 0], [0, 0, 1], [0, 1, 0]]).problem
    'multiclass'
    >>> infer_problem([[1, 0, 1], [0, 0, 1], [0, 1, 0]]).problem
    'multilabel'
    >>> infer_problem([0.2, 0.75, 0.5]).problem
    'bounded_regression'
    >>> infer_problem([2.5, -1.0, 7.25]).problem
    'regression'
    >>> infer_problem(list(range(40))).problem
    'count'
    >>> print(infer_problem([1, 3, 2, 3]).reason)
    3 distinct integer values from 1 to 3 (int64), at most max_classes=20: classes. If the levels are ordered, problem 'ordinal'.
    >>> import pandas as pd
    >>> sizes = pd.Categorical(['S', 'L', 'M'], categories=['S', 'M', 'L'], ordered=True)
    >>> infer_problem(sizes)
    Inference(problem='ordinal', reason="ordered categorical with 3 levels 'S' < 'M' < 'L'.", n=3, classes=('S', 'M', 'L'), onehot=False, alternatives=('multiclass',))
    >>> infer_problem([1, float('nan'), 0])
    Traceback (most recent call last):
    ...
    recipes.catalog.infer.InferenceError: Expected labels without missing values (NaN, None or NA). Received: 1 missing value, the first at row 1.
    """
    _check_max_classes(max_classes)
    labels = _labels(y)
    summary = _summarize(labels, max_classes)
    rules = RULES_1D if labels.values.ndim == 1 else RULES_2D
    rule = next(r for r in rules if r.test(summary))
    return Inference(
        problem=rule.problem,
        reason=rule.reason(summary),
        n=summary.n if rule.problem in _CLASS_PROBLEMS else summary.k,
        classes=summary.classes if rule.problem in _CLASS_PROBLEMS else None,
        onehot=summary.onehot,
        alternatives=rule.alternatives(summary),
    )


def _check_max_classes(max_classes):
    if isinstance(max_classes, bool) or not isinstance(max_classes, numbers.Integral) \
            or max_classes < 2:
        raise InferenceError(f"Expected an integer max_classes >= 2. "
                             f"Received: max_classes={max_classes!r}")


# --- the labels as one numpy array of one kind --------------------------------

@dataclass(frozen=True)
class _Labels:
    values: np.ndarray          # 1-D, or 2-D with 2 or more columns
    kind: str                   # "bool", "string", "number" or "category"
    dtype: str                  # the dtype as the user gave it, for reasons
    categories: tuple = ()      # kind "category": the declared categories, in order
    ordered: bool = False       # kind "category": an ordered Categorical
    columns: tuple | None = None  # 2-D: the column names of a DataFrame
    index: object = None        # a pandas index, to name rows in errors


def _labels(y):
    """Check and convert any accepted input into ``_Labels``."""
    if type(y).__module__.split(".")[0] == "pandas":
        labels = _from_pandas(y)
    else:
        labels = _from_array(y)
    labels = _squeeze(labels)
    _check_finite(labels)
    return labels


_NOT_ARRAYS = (str, bytes, dict, set, frozenset, type(None))


def _not_array_message(y):
    scalar = (isinstance(y, (str, bytes, numbers.Number, np.generic)) or y is None
              or (isinstance(y, np.ndarray) and y.ndim == 0))
    what = f"y={y!r}" if scalar else f"a {type(y).__name__}"
    hint = " (wrap a single label in a list)" if scalar and y is not None else ""
    return ("Expected an array-like of labels (list, tuple, numpy array, pandas Series or "
            f"DataFrame). Received: {what}{hint}.")


def _from_array(y):
    if isinstance(y, _NOT_ARRAYS):
        raise InferenceError(_not_array_message(y))
    if isinstance(y, np.ndarray) and y.dtype != object:
        values = y
    else:
        values = _from_objects(_object_array(y))
    if values.ndim == 0:  # a numpy scalar array
        raise InferenceError(_not_array_message(y))
    _check_shape(values)
    kind = _KINDS_OF_DTYPE[values.dtype.kind]
    return _Labels(values, kind, "str" if kind == "string" else str(values.dtype))


def _object_array(y):
    """``y`` as an object array, raising on ragged rows."""
    try:
        values = np.array(y, dtype=object)
    except ValueError:
        values = None
    if values is not None and values.ndim == 0:
        raise InferenceError(_not_array_message(y))
    if values is None or any(isinstance(v, _SEQUENCES) for v in values.ravel()):
        raise InferenceError(_ragged_message(y))
    return values


_SEQUENCES = (list, tuple, np.ndarray, range)


def _ragged_message(y):
    expected = "Expected rows of equal length (a 1-D list of labels or a 2-D table). Received: "
    lengths = [len(r) if isinstance(r, _SEQUENCES) else None for r in y]
    row = next((i for i, n in enumerate(lengths) if n != lengths[0]), None)
    if row is None:
        return expected + ("rows nested more than two levels deep, or ragged inside: "
                           f"row 0 is {y[0]!r:.60}.")

    def size(n):
        return "a single label" if n is None else _plural(n, "value")
    return expected + (f"ragged rows, row 0 has {size(lengths[0])} but row {row} has "
                       f"{size(lengths[row])}.")


# Python type -> kind; bool comes before numbers (a bool is an int).
_TYPE_KINDS = (
    ((bool, np.bool_), "bool"),
    ((numbers.Number,), "number"),
    ((str, bytes), "string"),
)


def _kind_of(v):
    return next((kind for types, kind in _TYPE_KINDS if isinstance(v, types)), "other")


def _is_missing(v):
    nan = isinstance(v, float) and v != v
    return v is None or nan or type(v).__name__ in ("NAType", "NaTType")


def _from_objects(values):
    """Object array -> array of one kind (bool, number or string)."""
    flat = values.ravel()
    missing = np.fromiter((_is_missing(v) for v in flat), bool, len(flat))
    if missing.any():
        raise InferenceError(_missing_message(missing.reshape(values.shape)))
    kinds = np.array([_kind_of(v) for v in flat], dtype=object)
    found = dict.fromkeys(kinds.tolist())
    if "other" in found:
        i = int(np.flatnonzero(kinds == "other")[0])
        raise InferenceError(
            "Expected labels that are numbers, strings or booleans. Received: "
            f"{flat[i]!r} ({type(flat[i]).__name__}) at row {_row(i, values)}.")
    if "string" in found and len(found) > 1:
        raise InferenceError(_mixed_message(flat, kinds, values))
    if len(flat) == 0:
        return np.asarray(values, dtype=float)
    if "string" in found:
        return values.astype(str)
    if found.keys() == {"bool"}:
        return values.astype(bool)
    return np.array(values.tolist())


def _mixed_message(flat, kinds, values):
    i = int(np.flatnonzero(kinds == "string")[0])
    j = int(np.flatnonzero(kinds != "string")[0])
    other = {"number": "numbers", "bool": "booleans"}[kinds[j]]
    first, second = sorted((i, j))
    return ("Expected labels of one kind: all strings, all numbers or all booleans. Received: "
            f"strings and {other} mixed, {flat[first]!r} at row {_row(first, values)} and "
            f"{flat[second]!r} at row {_row(second, values)}.")


def _row(flat_index, values):
    return flat_index // values.shape[1] if values.ndim == 2 else flat_index


_KINDS_OF_DTYPE = {"b": "bool", "i": "number", "u": "number", "f": "number",
                   "U": "string", "S": "string"}


def _check_shape(values):
    if values.ndim > 2:
        raise InferenceError(
            "Expected labels of shape (n_samples,) or (n_samples, n_outputs). "
            f"Received: an array of shape {values.shape}.")
    if values.size == 0:
        raise InferenceError(f"Expected at least one label. Received: an empty array of "
                             f"shape {values.shape}.")
    if values.dtype.kind not in _KINDS_OF_DTYPE:
        raise InferenceError(
            "Expected labels that are numbers, strings or booleans. "
            f"Received: an array of dtype {values.dtype}.")


def _squeeze(labels):
    """A 2-D array with one column is 1-D."""
    values = labels.values
    if values.ndim == 2 and values.shape[1] == 1:
        return _replace(labels, values=values[:, 0], columns=None)
    if values.ndim == 2 and labels.kind not in ("number", "bool"):
        raise InferenceError(
            "Expected 2-D labels to be numbers or booleans (one-hot, multi-hot or several "
            f"targets). Received: {labels.kind} labels of shape {values.shape}; "
            "pass one column of class labels.")
    return labels


def _replace(labels, **changes):
    return _Labels(**{**labels.__dict__, **changes})


def _check_finite(labels):
    values = labels.values
    if values.dtype.kind != "f":
        return
    nan = np.isnan(values)
    if nan.any():
        raise InferenceError(_missing_message(nan, labels.index, "NaN value"))
    inf = np.isinf(values)
    if inf.any():
        first = _first_row(inf)
        raise InferenceError(
            f"Expected finite values. Received: {_plural(int(inf.sum()), 'infinite value')}, "
            f"the first at row {first}{_label(first, labels.index)}.")


def _missing_message(mask, index=None, noun="missing value"):
    first = _first_row(mask)
    return ("Expected labels without missing values (NaN, None or NA). Received: "
            f"{_plural(int(mask.sum()), noun)}, the first at row {first}"
            f"{_label(first, index)}.")


def _first_row(mask):
    rows = mask.any(axis=1) if mask.ndim == 2 else mask
    return int(np.flatnonzero(rows)[0])


def _label(row, index):
    """The index label of a row, where a pandas index names rows otherwise."""
    if index is None or (index.dtype.kind in "iu" and index[row] == row):
        return ""
    return f" (index {index[row]!r})"


def _plural(count, noun):
    return f"{count} {noun}" + ("" if count == 1 else "s")


# --- pandas ---------------------------------------------------------------------

def _from_pandas(y):
    import pandas as pd

    if isinstance(y, pd.DataFrame):
        return _from_frame(y)
    if not isinstance(y, pd.Series):
        y = pd.Series(y)
    return _from_series(y)


def _from_series(s):
    import pandas as pd

    missing = s.isna().to_numpy()
    if missing.any():
        raise InferenceError(_missing_message(missing, s.index))
    if isinstance(s.dtype, pd.CategoricalDtype):
        return _from_categorical(s)
    labels = _from_array(s.to_numpy())
    return _replace(labels, dtype=str(s.dtype), index=s.index)


def _from_categorical(s):
    codes = s.cat.codes.to_numpy()
    _check_shape(codes)
    return _Labels(codes, "category", str(s.dtype), categories=tuple(s.cat.categories.tolist()),
                   ordered=bool(s.cat.ordered), index=s.index)


def _from_frame(df):
    if df.shape[1] == 1:
        return _from_series(df.iloc[:, 0])
    _check_shape(np.empty(df.shape))
    missing = df.isna().to_numpy()
    if missing.any():
        raise InferenceError(_missing_message(missing, df.index))
    columns = [_from_series(df[c]) for c in df.columns]
    bad = next((name for name, col in zip(df.columns, columns)
                if col.kind not in ("number", "bool")), None)
    if bad is not None:
        raise InferenceError(
            "Expected 2-D labels to be numbers or booleans (one-hot, multi-hot or several "
            f"targets). Received: column {bad!r} of dtype {df[bad].dtype}; pass one column "
            "of class labels.")
    values = np.column_stack([c.values for c in columns])
    dtypes = ", ".join(sorted({c.dtype for c in columns}))
    return _Labels(values, _KINDS_OF_DTYPE[values.dtype.kind], dtypes,
                   columns=tuple(df.columns.tolist()), index=df.index)


# --- statistics the rules read -----------------------------------------------------

@dataclass(frozen=True)
class _Summary:
    kind: str             # "bool", "string", "number" or "category"
    dtype: str
    k: int                # columns (1 for 1-D labels)
    n: int                # distinct values (categories declared, for categoricals)
    classes: tuple        # distinct values in index order
    ordered: bool
    integral: bool        # numbers that are all whole
    lo: float
    hi: float
    zero_columns: bool    # every column includes a 0
    binary01: bool        # every value is 0 or 1
    onehot: bool          # 2-D 0/1 rows that each sum to 1
    max_classes: int


def _summarize(labels, max_classes):
    values = labels.values
    distinct = np.unique(values)
    if len(distinct) < 2:
        raise InferenceError(_single_message(labels, distinct))
    classes = _classes(labels, distinct)
    numeric = values.astype(float) if labels.kind in ("number", "bool") else None
    binary01 = numeric is not None and bool(np.isin(numeric, (0.0, 1.0)).all())
    two_d = values.ndim == 2
    onehot = two_d and binary01 and bool((numeric.sum(axis=1) == 1).all())
    if onehot and numeric.any(axis=0).sum() < 2:
        raise InferenceError(_single_column_message(labels, numeric))
    return _Summary(
        kind=labels.kind, dtype=labels.dtype,
        k=values.shape[1] if two_d else 1,
        n=len(classes), classes=classes, ordered=labels.ordered,
        integral=numeric is not None and bool((numeric == np.round(numeric)).all()),
        lo=float(numeric.min()) if numeric is not None else np.nan,
        hi=float(numeric.max()) if numeric is not None else np.nan,
        zero_columns=numeric is not None and bool((numeric == 0).any(axis=0).all()),
        binary01=binary01,
        onehot=onehot,
        max_classes=max_classes,
    )


def _classes(labels, distinct):
    """The class labels in index order."""
    if labels.kind == "category":
        return labels.categories
    if labels.values.ndim == 2:
        return _onehot_classes(labels)
    return tuple(distinct.tolist())


def _single_column_message(labels, numeric):
    column = _onehot_classes(labels)[int(numeric.any(axis=0).argmax())]
    return ("Expected at least 2 distinct labels. Received: one-hot rows that all pick "
            f"the same column, {column!r}, in all {len(numeric)} rows; there is nothing to learn.")


def _onehot_classes(labels):
    k = labels.values.shape[1]
    return labels.columns if labels.columns is not None else tuple(range(k))


def _single_message(labels, distinct):
    value = labels.categories[distinct[0]] if labels.kind == "category" else distinct[0].item()
    return (f"Expected at least 2 distinct labels. Received: only the value {value!r}, "
            f"in all {labels.values.size} {'entries' if labels.values.ndim == 2 else 'rows'}; "
            "there is nothing to learn.")


# --- the rules: the first whose test holds gives the answer --------------------

@dataclass(frozen=True)
class _Rule:
    problem: str
    test: Callable
    reason: Callable
    alternatives: Callable = lambda s: ()


_CLASS_PROBLEMS = ("binary", "multiclass", "ordinal")


def _values(s):
    return " and ".join(repr(c) for c in s.classes)


def _range(s):
    return f"from {s.lo:g} to {s.hi:g}"


def _levels(s):
    return " < ".join(repr(c) for c in s.classes)


def _class_alternatives(s):
    return ("ordinal", "count") if s.lo == 0 else ("ordinal",)


def _count_hint(s):
    return " If they count events, problem 'count'." if s.lo == 0 else ""


RULES_1D = (
    _Rule("binary", lambda s: s.n == 2,
          lambda s: f"2 distinct values, {_values(s)} ({s.dtype}): two classes."),
    _Rule("ordinal", lambda s: s.kind == "category" and s.ordered,
          lambda s: f"ordered categorical with {s.n} levels {_levels(s)}.",
          lambda s: ("multiclass",)),
    _Rule("multiclass", lambda s: s.kind == "category",
          lambda s: f"unordered categorical with {s.n} categories. If the levels are "
                    "ordered, problem 'ordinal' (make the Categorical ordered).",
          lambda s: ("ordinal",)),
    _Rule("multiclass", lambda s: s.kind == "string",
          lambda s: f"{s.n} distinct string labels ({s.dtype}): classes. If the levels are "
                    "ordered, problem 'ordinal' (pass an ordered pandas Categorical).",
          lambda s: ("ordinal",)),
    _Rule("multiclass", lambda s: s.integral and s.n <= s.max_classes,
          lambda s: f"{s.n} distinct integer values {_range(s)} ({s.dtype}), at most "
                    f"max_classes={s.max_classes}: classes. If the levels are ordered, "
                    f"problem 'ordinal'.{_count_hint(s)}",
          _class_alternatives),
    _Rule("count", lambda s: s.integral and s.lo == 0,
          lambda s: f"{s.n} distinct non-negative integer values {_range(s)} ({s.dtype}), "
                    f"more than max_classes={s.max_classes} and including zeros: counts. "
                    "If they are measurements rather than counts, problem 'regression'.",
          lambda s: ("regression",)),
    _Rule("regression", lambda s: s.integral and s.lo > 0,
          lambda s: f"{s.n} distinct integer values {_range(s)} ({s.dtype}), more than "
                    f"max_classes={s.max_classes} and no zeros: a continuous quantity. "
                    "If they count events, problem 'count'.",
          lambda s: ("count",)),
    _Rule("regression", lambda s: s.integral,
          lambda s: f"{s.n} distinct integer values {_range(s)} ({s.dtype}), more than "
                    f"max_classes={s.max_classes} and some negative, so not counts: "
                    "a continuous quantity."),
    _Rule("bounded_regression", lambda s: s.lo >= 0 and s.hi <= 1,
          lambda s: f"{s.n} distinct non-integer values {_range(s)} ({s.dtype}), all "
                    "within [0, 1]: a proportion or probability. If values outside 0..1 "
                    "are possible, problem 'regression'.",
          lambda s: ("regression",)),
    _Rule("regression", lambda s: True,
          lambda s: f"{s.n} distinct non-integer values {_range(s)} ({s.dtype}): "
                    "a continuous quantity."),
)

RULES_2D = (
    _Rule("multiclass", lambda s: s.onehot and s.k == 2,
          lambda s: f"one-hot rows: {s.k} columns of 0/1 and every row holds exactly one 1. "
                    "Two classes: the same as problem 'binary' on the second column.",
          lambda s: ("binary",)),
    _Rule("multiclass", lambda s: s.onehot,
          lambda s: f"one-hot rows: {s.k} columns of 0/1 and every row holds exactly one 1: "
                    f"one class among {s.k} per example."),
    _Rule("multilabel", lambda s: s.binary01,
          lambda s: f"{s.k} columns of 0/1 labels and rows holding no 1 or several 1s: "
                    "independent labels, not one-hot."),
    _Rule("bounded_regression", lambda s: s.lo >= 0 and s.hi <= 1,
          lambda s: f"{s.k} columns of values within [0, 1] ({_range(s)}, not only 0/1): "
                    "proportions or probabilities. If values outside 0..1 are possible, "
                    "problem 'regression'.",
          lambda s: ("regression",)),
    _Rule("count", lambda s: s.integral and s.lo == 0 and s.zero_columns,
          lambda s: f"{s.k} columns of non-negative integers {_range(s)}, every column "
                    "including zeros: counts. If they are measurements rather than counts, "
                    "problem 'regression'.",
          lambda s: ("regression",)),
    _Rule("regression", lambda s: True,
          lambda s: f"{s.k} columns of numbers {_range(s)} ({s.dtype}): several continuous "
                    "targets." + (" If they count events, problem 'count'."
                                  if s.integral and s.lo >= 0 else ""),
          lambda s: ("count",) if s.integral and s.lo >= 0 else ()),
)


# --- reading labels from a file -----------------------------------------------------

def _read_csv(path, target):
    import pandas as pd

    frame = pd.read_csv(path)
    available = f"Available columns: {list(frame.columns)}"
    if target is None:
        if frame.shape[1] != 1:
            raise InferenceError(
                f"Expected a label column name (target=...) for {str(path)!r}, which has "
                f"{frame.shape[1]} columns. {available}")
        return frame.iloc[:, 0]
    names = [target] if isinstance(target, str) else list(target)
    missing = [t for t in names if t not in frame.columns]
    if missing:
        raise InferenceError(
            f"Expected label column(s) of {str(path)!r}. Received: target={target!r}, "
            f"not found: {missing}. {available}")
    return frame[target]


def _read_npy(path, target):
    if target is not None:
        raise InferenceError(f"Expected target=None for a .npy file (it holds only labels). "
                             f"Received: target={target!r}")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as err:
        raise InferenceError(f"Cannot read labels from {str(path)!r}: {err}") from None


READERS = {".csv": _read_csv, ".npy": _read_npy}


def read_labels(path, target=None):
    """Read labels from a ``.csv`` file (column ``target``) or a ``.npy`` array.

    ``target`` names the label column of a CSV file (a list of names gives a
    DataFrame, e.g. multi-label columns); it may be left out when the file has
    one column. Returns a pandas Series or DataFrame (CSV) or a numpy array.

    >>> read_labels('labels.txt')
    Traceback (most recent call last):
    ...
    recipes.catalog.infer.InferenceError: Expected a file ending in one of ['.csv', '.npy']. Received: path='labels.txt'
    """
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InferenceError(f"Expected a file ending in one of {list(READERS)}. "
                             f"Received: path={str(path)!r}")
    return reader(path, target)
