"""Guess the problem type of a set of labels, rank the candidates, and say why.

Like scikit-learn's ``type_of_target``, but its answers are the catalog's
problem types, chosen for picking a loss: one-hot rows are ``multiclass`` (not
multi-label), a float target with many integer values is a regression, counts
are told apart from measurements by the shape of their distribution, and
ordinal levels are read from an ordered pandas Categorical, from numbered or
numeric prefixes ("1. < HS Grad", "6-10 daily") and from graded vocabularies
("poor" < "fair" < "good", "strongly disagree" < ... < "strongly agree").

Pure numpy; pandas is imported only to read a ``.csv`` file or when the labels
are a pandas object. No TensorFlow, no scikit-learn: a command line can answer
at once.

How it works: the labels become a numpy array of one *kind* (booleans,
strings, categories or numbers) after the input checks; a few statistics
summarize them (``_Summary``); the first row of a rule table (``RULES_1D`` or
``RULES_2D``) whose test holds gives the answer, its reason and the ranking of
the other candidates; a table of evidence (``EVIDENCE``) says, for each
candidate, what in the values supports it.
"""

from __future__ import annotations

import itertools
import math
import numbers
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

from .codec import plain

PROBLEMS = ("binary", "multiclass", "multilabel", "regression",
            "bounded_regression", "count", "ordinal")


class InferenceError(ValueError):
    """The labels cannot be read, or no problem type fits them."""


@dataclass(frozen=True)
class Candidate:
    """One candidate problem type for some labels.

    ``problem``: one of ``PROBLEMS``. ``evidence``: what in the values supports
    it. ``order``: for ``ordinal``, the levels from lowest to highest that the
    encoding would use (``None`` when the values do not show an order, e.g.
    unknown string levels); ``None`` for the other problems.
    """

    problem: str
    evidence: str
    order: tuple | None = None

    def __str__(self):
        order = "" if self.order is None else " [" + " < ".join(map(repr, self.order)) + "]"
        return f"{self.problem}: {self.evidence}{order}"


@dataclass(frozen=True)
class Inference:
    """The inferred problem type of some labels, the ranked candidates, and why.

    ``problem``: one of ``PROBLEMS``, the best candidate. ``reason``: a
    sentence saying why. ``n``: the problem size (classes for binary,
    multiclass and ordinal; labels for multilabel; targets for the regressions
    and counts). ``classes``: the class labels in index order (sorted distinct
    labels; the categories of a pandas Categorical in their order; the column
    names or indices of one-hot rows; for ``ordinal``, the levels from lowest
    to highest), ``None`` for the other problems. ``onehot``: the labels are
    one-hot rows (turn them into indices with ``argmax``). ``alternatives``:
    the other candidates' problem types, best first: they fit the same labels
    if their meaning says so. ``candidates``: every candidate as a
    ``Candidate`` (problem, evidence, order), best first;
    ``candidates[0].problem == problem``.
    """

    problem: str
    reason: str
    n: int = 1
    classes: tuple | None = None
    onehot: bool = False
    alternatives: tuple = ()
    candidates: tuple = ()

    def __str__(self):
        return f"{self.problem}: {self.reason}"


def infer_problem(y, max_classes=20):
    """Infer the problem type of the labels ``y`` and rank the candidates.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        A list, tuple, numpy array, pandas Series, DataFrame or Categorical
        of numbers, booleans or strings (str, or bytes, kept as bytes in
        ``classes`` and named so in ``reason``), a scipy sparse matrix (read
        densely), or any object numpy converts with ``__array__``. A 2-D
        array with one column counts as 1-D.
    max_classes : int, default=20
        Integer labels with at most this many distinct values may be classes;
        with more, they are counts or a regression.

    Returns
    -------
    Inference
        ``problem`` (the best of ``candidates``) is one of:

        * ``'binary'``: exactly 2 distinct values of any kind (numbers,
          booleans, strings, -1/1), 1-D; where they are not whole numbers
          (0 and 0.5), a regression comes second.
        * ``'ordinal'``: an ordered pandas Categorical with more than 2
          categories; strings (or the categories of an unordered
          Categorical) that all start with a number ("1. < HS Grad",
          "2) ...", "01 - ...", "6-10 daily"), ordered by it; strings that
          are levels of a graded vocabulary (``SCALES``: poor < fair < good <
          very good < excellent, never < ... < always, low < medium < high,
          ...; any subset of a scale), or one stem with graded modifiers
          ("not at all" < "a little" < "somewhat" < "" < "very") or with its
          two poles ("strongly disagree" < "disagree" < "neutral" < "agree"
          < "strongly agree", "unlikely" < "likely"); or 3 to
          ``max_classes`` integer levels whose frequencies are far from
          uniform (chi-square test, 5 %) and change smoothly from one level
          to the next (permutation test of the number of changes of
          direction of the frequencies along the levels, 5 %: one peak, one
          valley or none; with 8 or more levels, also the permutation test of
          the squared steps between neighbouring frequencies, which noise
          does not defeat): nominal codes have no reason to put similar
          frequencies on neighbouring levels, scales do; or integer levels on
          a numeric scale (some negative, or with gaps between them and at
          least 5 rows per level) whose frequencies are far from uniform and
          change direction at most once; or 4 to ``max_classes`` integer
          levels far from uniform whose frequencies change direction at most
          once or are rarest at the two end levels (the tails of a scale):
          not significant for few levels, but more likely for a scale than
          for codes in an arbitrary order (likelihood ratio above 1), so
          multiclass comes second; or more than ``max_classes`` integer levels
          numbered from 1 with every level present and at least 5 rows per
          level on average, not count-shaped (income brackets 1-24).
          ``classes`` is then the order, lowest first.
        * ``'multiclass'``: 3 or more distinct strings or (unordered)
          categories that show no order; 3 to ``max_classes`` distinct
          integers; or one-hot rows (2-D, 0/1, each row sums to exactly 1),
          multi-label second (scikit-learn's ``type_of_target`` calls any 0/1
          matrix 'multilabel-indicator'); the same in another two-value code,
          each row holding the higher value once (-1/1 from
          ``label_binarize(..., neg_label=-1)``).
        * ``'multilabel'``: 2-D 0/1 labels whose rows do not all sum to 1;
          or 2-D whole numbers taking only two values, such as -1/1, whose
          rows do not all hold the higher value once: each column alone is
          binary (encode it as 0/1 for binary cross-entropy).
        * ``'count'``: non-negative integers with at most ``max_classes``
          distinct values that are *count-shaped*, or with gaps between them
          and fewer than 5 rows per value (too sparse for class codes) that
          reach down to 0 (including 0, or the lowest value less than one
          standard deviation above 0); with more than ``max_classes``
          distinct values, including 0 (unless the zeros sit below a gap and
          the other values lie *far from 0*), or without zeros but
          count-shaped and of an integer dtype (2-D: integer columns that
          all include 0). Far from 0: the lowest non-zero value 2 or more
          standard deviations above 0 (of the non-zero values; zeros
          followed by ones are the floor itself). Counts are bounded below
          by 0 and their variance grows with their mean, so they reach down
          toward 0; measurements (ages, weights) sit far above it, and a
          count there is close to a normal law, so regression serves it.
          Count-shaped: not far from 0, significantly right-skewed (skewness z-test,
          one-sided 1 %) and either at least as skewed as a Poisson law of
          the same mean (skewness >= coefficient of variation) and not
          underdispersed (Poisson dispersion test: (rows - 1) var/mean
          against a chi-square law, one-sided 1 %), or, with at least 5 rows
          per value, better described by a Poisson or negative binomial law
          than by free frequencies for each value (lower BIC). Poisson,
          negative binomial, zero-inflated and gamma laws meet this;
          symmetric laws, uniform class codes, a few imbalanced classes and
          bounded ratings or codes far from 0 (whose variance is far below
          their mean) do not. Also counts from their origin, 0 or 1, in J
          shape: 5 or more integer levels whose most frequent value is 0 or
          1 and whose frequencies fall all along above it, significantly
          (the permutation test below) and with a significant right skew;
          the shape of a count law with a small mean (geometric, Poisson
          below 2, zero-truncated counts such as group sizes, a birth order
          with a few zeros for missing), which a rating shows only when its
          mode is its first level, so ordinal comes second. Strings that
          are all cardinal number words ("two", "four", "six") rank count
          second, after the order of the words.
        * ``'bounded_regression'``: values within [0, 1] that are not all 0
          or 1 (1-D non-integer values, or 2-D columns).
        * ``'regression'``: any other numbers, 1-D or 2-D (multi-output);
          also integers with at most ``max_classes`` distinct values that
          leave gaps between them, are seen fewer than 5 times each (fewer
          than 2, or not count-shaped) and do not reach down to 0 (no 0, the
          lowest value one standard deviation or more above 0): a classifier
          needs several examples per class, and codes are consecutive
          (body weights of 15 people, waist sizes of 20 men); integers far
          from 0 (see count), where zeros below a gap are a separate code
          (a missing age coded 0); and 3 to ``max_classes`` consecutive
          integer levels starting at 2 or more whose frequencies show no
          order: codes start at 0 or 1, sums of item scores (3 to 12) do
          not, so ordinal comes second.

        ``candidates`` ranks every problem type that fits the values, best
        first, each with its evidence (and, for ``ordinal``, its order):
        3 to ``max_classes`` integer levels that are not too sparse for
        class codes rank ``ordinal`` first or second (``count`` comes right
        after an ordinal answer when the lowest value is the most frequent and the
        values are right-skewed), and more than ``max_classes`` integers
        without zeros rank ``ordinal`` second when every integer between the
        lowest and the highest is present, at least 2 rows each (level
        codes), unless they are numbered from 1 (then ordinal first);
        ``alternatives`` are the candidates after the first. ``reason``
        says why the first won; ``n``, ``classes`` and ``onehot`` are
        described in ``Inference``.

    Raises
    ------
    InferenceError
        If ``y`` is not an array of labels (None, a dict, a string, a scalar,
        a set), is empty, ragged, has 3 or more dimensions, mixes strings and
        numbers, holds missing values (NaN, None, pd.NA) or infinities, has
        only one distinct value (or, 2-D, no column that varies), or is 2-D
        integers some column of which is class codes on its own: a class
        problem (binary, multiclass, ordinal) on small integers (within
        -1..``max_classes``). The catalog regresses no class codes as numbers
        (that is its anti-pattern ``multiclass_index_regression``), and no
        recipe trains several class problems at once, so such labels are
        refused rather than read as several targets: infer each column
        alone (``infer_problem(y[:, j])``) and give the model one head per
        column.

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
    >>> infer_problem([[-1, 1, 1], [1, -1, 1], [-1, -1, 1]]).problem   # -1/1 multi-hot
    'multilabel'
    >>> infer_problem([0.2, 0.75, 0.5]).problem
    'bounded_regression'
    >>> infer_problem([2.5, -1.0, 7.25]).problem
    'regression'
    >>> infer_problem(list(range(40))).problem
    'count'
    >>> print(infer_problem([1, 3, 2, 3]).reason)
    3 distinct integer values from 1 to 3 (int64), at most max_classes=20: classes. If the levels are ordered, problem 'ordinal'.
    >>> infer_problem([0] * 30 + [1] * 12 + [2] * 6 + [3] * 3 + [5, 9]).problem
    'count'
    >>> weights = [191, 189, 193, 162, 189, 182, 211, 167, 176, 154, 169, 166, 154, 247, 193]
    >>> infer_problem(weights).alternatives
    ('count', 'multiclass')
    >>> found = infer_problem(['good', 'poor', 'excellent', 'fair', 'good'])
    >>> found.problem, found.classes
    ('ordinal', ('poor', 'fair', 'good', 'excellent'))
    >>> for candidate in found.candidates:
    ...     print(candidate)
    ordinal: the levels belong to the graded scale 'very poor' < 'poor' < 'fair' < 'good' < 'very good' < 'excellent' ['poor' < 'fair' < 'good' < 'excellent']
    multiclass: 4 distinct string labels
    >>> infer_problem(['3. Some College', '1. < HS Grad', '2. HS Grad']).classes
    ('1. < HS Grad', '2. HS Grad', '3. Some College')
    >>> print(infer_problem(['red', 'green', 'blue']).reason)
    3 distinct string labels (str): classes. If the levels are ordered, problem 'ordinal': pass pd.Categorical(y, categories=[lowest, ..., highest], ordered=True).
    >>> import pandas as pd
    >>> sizes = pd.Categorical(['S', 'L', 'M'], categories=['S', 'M', 'L'], ordered=True)
    >>> infer_problem(sizes)  # doctest: +NORMALIZE_WHITESPACE
    Inference(problem='ordinal', reason="ordered categorical with 3 levels 'S' < 'M' < 'L'.",
              n=3, classes=('S', 'M', 'L'), onehot=False, alternatives=('multiclass',),
              candidates=(Candidate(problem='ordinal', evidence="declared order 'S' < 'M' < 'L'",
                                    order=('S', 'M', 'L')),
                          Candidate(problem='multiclass', evidence='3 declared categories',
                                    order=None)))
    >>> infer_problem([1, float('nan'), 0])
    Traceback (most recent call last):
    ...
    recipes.catalog.infer.InferenceError: Expected labels without missing values (NaN, None or NA). Received: 1 missing value, the first at row 1.
    """
    _check_max_classes(max_classes)
    labels = _labels(y)
    summary = _summarize(labels, max_classes)
    if summary.k > 1:
        _check_columns(labels, summary, max_classes)
    rules = RULES_1D if labels.values.ndim == 1 else RULES_2D
    rule = next(r for r in rules if r.test(summary))
    ranking = (rule.problem,) + tuple(rule.alternatives(summary))
    candidates = tuple(Candidate(p, EVIDENCE[p](summary), summary.order if p == "ordinal"
                                 else None) for p in ranking)
    classes = summary.order if rule.problem == "ordinal" else summary.classes
    return Inference(
        problem=rule.problem,
        reason=rule.reason(summary),
        n=len(classes) if rule.problem in _CLASS_PROBLEMS else summary.k,
        classes=classes if rule.problem in _CLASS_PROBLEMS else None,
        onehot=summary.onehot,
        alternatives=ranking[1:],
        candidates=candidates,
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
    elif type(y).__module__.startswith("scipy.sparse") and hasattr(y, "toarray"):
        labels = _from_array(y.toarray())      # a sparse label matrix (scipy, no import here)
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
    if isinstance(y, np.ma.MaskedArray):
        try:
            y = plain(y)
        except ValueError as err:
            raise InferenceError(str(err)) from None
    if isinstance(y, np.ndarray) and y.dtype.kind not in _KINDS_OF_DTYPE and y.dtype != object:
        raise InferenceError(f"Expected labels as numbers, booleans or strings. Received: "
                             f"an array of dtype {y.dtype}")
    if isinstance(y, np.ndarray) and y.dtype != object:
        values = y
    else:
        values = _from_objects(_object_array(y))
    if values.ndim == 0:  # a numpy scalar array
        raise InferenceError(_not_array_message(y))
    _check_shape(values)
    return _Labels(values, _KINDS_OF_DTYPE[values.dtype.kind],
                   _TEXT_DTYPES.get(values.dtype.kind, str(values.dtype)))


def _object_array(y):
    """``y`` as an object array, raising on ragged rows."""
    try:
        values = np.array(y, dtype=object)
    except ValueError:
        values = None
    if values is not None and values.ndim == 0:
        raise InferenceError(_not_array_message(y))
    if values is None or any(isinstance(v, _SEQUENCES) for v in values.ravel()):
        raise InferenceError(_ragged_message(y, values))
    return values


_SEQUENCES = (list, tuple, np.ndarray, range)


def _ragged_message(y, values=None):
    """What is ragged in ``y``, read row by row: ``y`` itself, or, for an array-like that
    only converts (``__array__``, no iteration), the object array numpy made of it."""
    expected = "Expected rows of equal length (a 1-D list of labels or a 2-D table). Received: "
    try:
        y = list(y)
    except TypeError:
        if values is None:
            return expected + f"a {type(y).__name__} that numpy cannot turn into an array."
        y = list(values)
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
        return _strings(flat, values)
    if found.keys() == {"bool"}:
        return values.astype(bool)
    return np.array(values.tolist())


def _strings(flat, values):
    """Text labels as one numpy string array: str, or bytes kept as bytes (never mixed)."""
    is_bytes = np.fromiter((isinstance(v, bytes) for v in flat), bool, len(flat))
    if is_bytes.all():
        return values.astype(bytes)
    if is_bytes.any():
        first, second = sorted((int(np.flatnonzero(is_bytes)[0]),
                                int(np.flatnonzero(~is_bytes)[0])))
        raise InferenceError(
            "Expected labels of one kind: all str or all bytes. Received: str and bytes mixed, "
            f"{flat[first]!r} at row {_row(first, values)} and {flat[second]!r} at row "
            f"{_row(second, values)}; decode the bytes first (v.decode() for each).")
    return values.astype(str)


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
# How reasons name the dtype of text labels: numpy's '<U3' and '|S3' are str and bytes.
_TEXT_DTYPES = {"U": "str", "S": "bytes"}


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
    rows: int = 0         # rows (samples)
    two_valued: bool = False    # 2-D whole numbers taking exactly two values (0/1, -1/1, ...)
    one_high: bool = False      # two-valued 2-D rows that each hold the higher value once
    int_dtype: bool = False   # stored as integers (not whole floats)
    numeric: np.ndarray | None = None  # 1-D numbers as floats, for the shape statistics

    # The statistics below are computed only when a rule asks for them.

    @cached_property
    def rows_per_value(self):
        return self.rows / self.n

    @cached_property
    def consecutive(self):
        """Integer values with no gap between the lowest and the highest: codes."""
        return self.integral and self.hi - self.lo + 1 == self.n

    @cached_property
    def near_unique(self):
        """Fewer than 2 rows per value and gaps between the values: not codes."""
        return self.rows_per_value < 2 and not self.consecutive

    @cached_property
    def sparse_levels(self):
        """Gaps between the values and fewer than ``_ADEQUATE`` rows per value: not codes.

        A classifier needs several examples of each class; values that leave
        gaps between them and are seen only a few times each are readings of a
        quantity (waist sizes 31-38 and 46 in 20 rows), not class codes.
        """
        return self.integral and not self.consecutive and self.rows_per_value < _ADEQUATE

    @cached_property
    def shape(self):
        """Skewness, its z statistic and the coefficient of variation."""
        return _skewness(self.numeric)

    @cached_property
    def dispersion(self):
        """Index of dispersion var/mean (1 for a Poisson law) and the p-value of underdispersion.

        The classic Poisson dispersion test: (rows - 1) var/mean follows a
        chi-square law with rows - 1 degrees of freedom; the p-value is its
        lower tail (small when the values vary much less than counts do).
        """
        x = self.numeric
        mean = float(x.mean())
        if len(x) < 2 or mean <= 0:
            return math.inf, 1.0
        index = float(x.var(ddof=1)) / mean
        return index, _chi2_cdf((len(x) - 1) * index, len(x) - 1)

    @cached_property
    def right_skewed(self):
        """Significantly right-skewed (skewness z-test, one-sided 1 %)."""
        return self.shape[1] > _Z_1PCT

    @cached_property
    def count_shaped(self):
        """Non-negative integers, right-skewed like counts, not underdispersed, not far from 0."""
        skew, _, cv = self.shape
        return (self.integral and self.lo >= 0 and self.right_skewed and skew >= cv
                and self.dispersion[1] > _ONE_PCT and not self.far_from_zero)

    @cached_property
    def floor_distance(self):
        """How far the values sit above 0: the lowest non-zero value in standard deviations.

        Counts are bounded below by 0 and their spread grows with their mean
        (Poisson: variance = mean), so they reach down toward 0: a Poisson
        sample of mean m has its lowest value near sqrt(m) - z standard
        deviations above 0 (z about 2 to 3.5 for 20 to 5000 rows), below 2
        for every mean under about 16 to 30. Measurements of physical
        quantities (ages, weights, pulse) sit far from 0 relative to their
        spread. Zeros followed by ones are the floor itself (distance 0); zeros
        with a gap above them are a separate code (0 for a missing father's
        age, below ages 14 to 52): the distance is then that of the non-zero
        values, in their own standard deviations. Infinite when the non-zero
        values do not vary; 0 with negative values.
        """
        x = self.numeric[self.numeric != 0]
        if self.lo < 0 or len(x) < 2 or (self.lo == 0 and float(x.min()) <= 1):
            return 0.0
        sd = float(x.std())
        return float(x.min()) / sd if sd > 0 else math.inf

    @cached_property
    def far_from_zero(self):
        """The lowest non-zero value is ``_FAR`` or more standard deviations above 0.

        A count there is far from its floor: a count law of such a mean is
        close to a normal one (Poisson skewness 1/sqrt(mean) <= 0.25), so a
        regression serves it as well as a count loss does, and measurements
        look like this, counts seldom do. Regression comes first, count second.
        """
        return self.floor_distance >= _FAR

    @cached_property
    def near_floor(self):
        """The lowest non-zero value is less than one standard deviation above 0.

        With few rows the shape tests (skewness, dispersion) have little power;
        what is left is where the values sit: reaching down to within one
        standard deviation of 0, as counts of a small or moderate mean do.
        """
        return self.floor_distance < _NEAR

    @cached_property
    def count_law(self):
        """BIC of free frequencies minus BIC of the best count law (> 0: the count law wins).

        For a few non-negative integer levels: a Poisson (1 parameter) or
        negative binomial (2 parameters) law of the values against one free
        frequency per observed value (levels - 1 parameters), by the Bayesian
        information criterion. Class codes put arbitrary frequencies on their
        levels; counts follow a count law.
        """
        values, counts = np.unique(self.numeric, return_counts=True)
        rows = counts.sum()
        free = -2 * float((counts * np.log(counts / rows)).sum()) + (len(counts) - 1) * math.log(rows)
        law = min(-2 * loglik + k * math.log(rows) for loglik, k in _count_laws(values, counts))
        return free - law

    @cached_property
    def counts_evidence(self):
        """Right-skewed non-negative integers shaped like counts, by moments or by likelihood."""
        return self.count_shaped or (self.integral and self.lo >= 0 and self.right_skewed
                                     and not self.far_from_zero
                                     and self.rows_per_value >= _ADEQUATE and self.count_law > 0)

    @cached_property
    def turns(self):
        """Changes of direction of the frequencies along the levels (0 for monotone)."""
        _, counts = np.unique(self.numeric, return_counts=True)
        return int(_turns(counts[None, :].astype(float))[0])

    @cached_property
    def numbered_levels(self):
        """Every integer from 1 to the highest, at least ``_ADEQUATE`` rows each on average.

        Codes of ordered levels numbered from 1 (income brackets 1-24); a
        measurement in natural units seldom starts at exactly 1 and fills every
        integer, and counts that do are recognized by their shape first.
        """
        return self.consecutive and self.lo == 1 and self.rows_per_value >= _ADEQUATE

    @cached_property
    def level_codes(self):
        """Every integer from the lowest to the highest value, at least 2 rows each on average."""
        return self.consecutive and self.rows_per_value >= 2

    @cached_property
    def magnitudes(self):
        """Integer levels on a numeric scale rather than codes: negative, or with gaps.

        Gaps count only with at least ``_ADEQUATE`` rows per level: in fewer
        rows a rare class code may just not have been drawn.
        """
        return self.integral and (self.lo < 0 or (not self.consecutive
                                                  and self.rows_per_value >= _ADEQUATE))

    @cached_property
    def falls_from_lowest(self):
        """The lowest value is the most frequent and the values are right-skewed (J-shaped)."""
        _, counts = np.unique(self.numeric, return_counts=True)
        return self.lo >= 0 and self.right_skewed and int(counts.argmax()) == 0

    @cached_property
    def mode_at_origin(self):
        """Integer levels whose frequencies fall all along from 0 or 1: a count's J shape.

        Three things must hold. (1) The levels are ordered: their frequencies
        are far from uniform and monotone (or, below a mode at 1, rise from 0
        once), which the permutation test of ``smooth_levels`` finds
        significant (at 5 %, so 5 or more levels: a random order of K
        frequencies is monotone with probability 2/K!). (2) They fall from
        the most frequent level on, and the values are significantly
        right-skewed. (3) The most frequent level is the origin of a count: 0
        (events) or 1 (the members of a non-empty group, a zero-truncated
        count, or counts from 0 of a mean between 1 and 2, whose mode is 1:
        a Poisson law of mean 1.5 gives 0, 1, 2, 3 probabilities 0.22, 0.33,
        0.25, 0.13). A few zeros below a mode at 1 (a missing-value code below
        a birth order) leave it a count.

        Why count rather than ordinal, once (1) says ordered: a count law
        whose mean is small has its mode at its origin and probabilities
        that fall from there on (Poisson with mean below 1, every geometric
        law, negative binomial laws of size at most 1, and their
        zero-truncated forms), so such counts take this shape with
        probability near 1. A rating scale's mode can be any of its K
        levels, and a monotone profile falling from the first level is one
        of K unimodal shapes (1/6 for 6 levels): the shape is several times
        more likely for a count than for a scale (likelihood ratio above 1,
        the argument of ``peaked_levels``). Not a test of a count law's fit:
        real counts from 1 (travel group sizes) carry bumps (families of 4)
        that make free frequencies fit better, and the Poisson dispersion
        test reads counts from 1 as underdispersed because it assumes the
        origin at 0. Ordinal comes second.
        """
        values, counts = np.unique(self.numeric, return_counts=True)
        top = int(counts.argmax())
        falls = bool((np.diff(counts[top:]) <= 0).all())
        return (self.lo >= 0 and values[top] in (0, 1) and falls and self.smooth_levels
                and self.right_skewed)

    @cached_property
    def profile(self):
        """Frequencies of the distinct values in their order: (uniform p, smooth p)."""
        _, counts = np.unique(self.numeric, return_counts=True)
        return _uniform_p(counts), _smooth_p(counts)

    @cached_property
    def smooth_levels(self):
        """Integer levels whose frequencies are far from uniform and change smoothly.

        Smoothly: few changes of direction (``_smooth_p``) or, with
        ``_MANY_LEVELS`` or more levels, small steps between neighbours
        (``_steps_p``). With many levels and few rows per level, sampling
        noise alone turns the frequencies of a smooth profile up and down
        between neighbours (19 income brackets, 14 rows each), and the count
        of turns loses its power; the size of the steps keeps it.
        """
        uniform_p, smooth_p = self.profile
        return self.n >= 3 and uniform_p < _ALPHA and (
            smooth_p < _ALPHA or (self.n >= _MANY_LEVELS and self.steps_p < _ALPHA))

    @cached_property
    def steps_p(self):
        """P-value of the permutation test of small steps between neighbouring frequencies."""
        _, counts = np.unique(self.numeric, return_counts=True)
        return _steps_p(counts)

    @cached_property
    def peaked_levels(self):
        """4 or more integer levels, far from uniform, shaped like a scale.

        A scale is a quantity cut into levels: its frequencies rise to a peak
        and fall (or just rise, or fall, or dip once between two poles), and
        its rarest levels are its two ends, the tails. Nominal codes come in
        an arbitrary order, which turns at most once only with probability
        (2**K - 2)/K! (4 levels 58 %, 5 levels 25 %, 6 levels 8.6 %) and puts
        the two rarest levels at the ends only with probability 2/(K(K - 1))
        (17 %, 10 %, 6.7 %). So from 4 levels on, either shape is more likely
        for ordered levels than for codes (likelihood ratio above 1); with 3
        levels every order turns at most once and no evidence is left. Weaker
        than ``smooth_levels`` (not significant at 5 % for few levels), so it
        ranks ordinal first with multiclass right after.
        """
        return self.n >= 4 and self.profile[0] < _ALPHA and (self.turns <= 1 or self.tails)

    @cached_property
    def tails(self):
        """The two end levels are rarer than every level between them."""
        _, counts = np.unique(self.numeric, return_counts=True)
        return bool(max(counts[0], counts[-1]) < counts[1:-1].min())

    @cached_property
    def scale_levels(self):
        """Levels on a numeric scale (negative or with gaps) whose frequencies rise and fall once.

        Such levels are values, not codes, so an order is expected: a profile
        far from uniform with at most one change of direction (one peak, one
        valley, or monotone) is enough, without the permutation test.
        """
        return (self.n >= 3 and self.magnitudes and self.profile[0] < _ALPHA
                and self.turns <= 1)

    @cached_property
    def scale(self):
        """For string levels: (order, evidence) of the first ordering that fits, or None."""
        if not self.string_levels:
            return None
        return next((found for find in ORDERINGS if (found := find(self.classes))), None)

    @property
    def string_levels(self):
        return self.kind == "string" or (self.kind == "category" and not self.ordered and all(
            isinstance(c, str) for c in self.classes))

    @property
    def cardinal_words(self):
        """String levels that are all cardinal number words ("two", "four", "six").

        Cardinal numbers answer "how many": such a column counts something
        (cylinders, doors), so count is a candidate, right after the order
        the words carry (the labels are strings: ``problem='count'`` needs
        them converted to numbers first).
        """
        return self.string_levels and all(_normal(c) in CARDINALS for c in self.classes)

    @property
    def order(self):
        """The levels from lowest to highest an ordinal encoding would use, or None."""
        if self.kind == "category" and self.ordered:
            return self.classes
        if self.string_levels:
            return self.scale[0] if self.scale else None
        if self.kind == "number" and self.integral and self.k == 1:
            return self.classes
        return None


_ALPHA = 0.05          # the level of the tests that find ordered integer levels
_ONE_PCT = 0.01        # the level of the dispersion test of counts
_ADEQUATE = 5          # rows per level for a comparison of frequencies (as for chi-square)
_MANY_LEVELS = 8       # from here on noise adds turns; the size of the steps tests smoothness
_FAR = 2.0             # lowest non-zero value, in standard deviations: far from 0, a measurement
_NEAR = 1.0            # lowest non-zero value, in standard deviations: near 0, like counts
_Z_1PCT = 2.326        # one-sided 1 % point of the standard normal: skewness test


def _skewness(x):
    """Sample skewness g1, its z statistic under normality, and the coefficient of variation.

    The standard error of g1 for a normal sample of size n is
    sqrt(6 n (n - 1) / ((n - 2) (n + 1) (n + 3))).
    """
    n = len(x)
    mean = float(x.mean())
    d = x - mean
    m2 = float((d ** 2).mean())
    if n < 3 or m2 == 0:
        return 0.0, 0.0, math.inf
    g1 = float((d ** 3).mean()) / m2 ** 1.5
    se = math.sqrt(6.0 * n * (n - 1) / ((n - 2) * (n + 1) * (n + 3)))
    cv = math.sqrt(m2) / mean if mean > 0 else math.inf
    return g1, g1 / se, cv


def _chi2_cdf(stat, df):
    """P(chi-square with ``df`` degrees of freedom <= stat), Wilson-Hilferty cube-root approximation.

    Numpy only; good to about 1e-3 for 2 or more degrees of freedom.
    """
    if stat <= 0:
        return 0.0
    z = ((stat / df) ** (1 / 3) - (1 - 2 / (9 * df))) / math.sqrt(2 / (9 * df))
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _uniform_p(counts):
    """P-value of the chi-square test that all levels are equally frequent."""
    df = len(counts) - 1
    expected = counts.sum() / len(counts)
    stat = float(((counts - expected) ** 2).sum() / expected)
    if stat == 0:
        return 1.0
    return 1.0 - _chi2_cdf(stat, df)


_LGAMMA = np.vectorize(math.lgamma, otypes=[float])
# Sizes r of the negative binomial law searched for its maximum likelihood (log-spaced);
# for a given r the likelihood is largest at p = r / (r + mean).
_NB_SIZES = np.exp(np.linspace(math.log(0.02), math.log(1e4), 300))[:, None]


def _count_laws(values, counts):
    """(maximum log-likelihood, parameters) of a Poisson and a negative binomial law."""
    rows = counts.sum()
    mean = float((values * counts).sum() / rows)
    log_factorial = _LGAMMA(values + 1)
    poisson = float((counts * (values * math.log(mean) - mean - log_factorial)).sum())
    r = _NB_SIZES
    p = r / (r + mean)
    nb = (counts * (_LGAMMA(values + r) - _LGAMMA(r) - log_factorial + r * np.log(p)
                    + values * np.log1p(-p))).sum(axis=1)
    return (poisson, 1), (float(nb.max()), 2)


def _smooth_p(counts, draws=4000):
    """P-value of a permutation test that the frequencies change smoothly along the levels.

    The statistic is the number of changes of direction (turns) of the
    frequencies in the order of the levels: 0 for a monotone profile, 1 for
    one peak or one valley (a polarized scale, both ends frequent). Scales put
    similar frequencies on neighbouring levels, so their profile turns rarely.
    Under the null hypothesis the levels are nominal codes and any order of
    the frequencies is as likely; a random order of K distinct frequencies
    turns at most once with probability (2**K - 2)/K! (5 levels 25 %,
    6 levels 8.6 %, 7 levels 2.5 %, 8 levels 0.63 %). The p-value is the share
    of orders with at most the observed number of turns (all orders for up to
    7 levels; else ``draws`` random ones, seeded).
    """
    counts = np.asarray(counts, dtype=float)
    if len(counts) <= 7:
        orders = np.array(list(itertools.permutations(range(len(counts)))))
    else:
        rng = np.random.default_rng(0)
        orders = np.argsort(rng.random((draws, len(counts))), axis=1)
    turns = _turns(counts[orders])
    return float((turns <= _turns(counts[None, :])[0]).mean())


def _steps_p(counts, draws=4000):
    """P-value of a permutation test that neighbouring levels have similar frequencies.

    The statistic is the sum of squared differences between the frequencies
    of neighbouring levels (the numerator of von Neumann's ratio): small
    when the frequencies follow a smooth curve along the levels, as a
    quantity cut into brackets does, even when noise makes them zigzag.
    Under the null hypothesis the levels are nominal codes and every order
    of the frequencies is as likely; the p-value is the share of ``draws``
    random orders (seeded) whose statistic is at most the observed one.
    """
    counts = np.asarray(counts, dtype=float)
    rng = np.random.default_rng(0)
    orders = np.argsort(rng.random((draws, len(counts))), axis=1)
    steps = (np.diff(counts[orders], axis=1) ** 2).sum(axis=1)
    return float((steps <= (np.diff(counts) ** 2).sum()).mean())


def _turns(profiles):
    """Changes of direction along each row (a plateau continues the slope before it)."""
    signs = np.sign(np.diff(profiles, axis=1))
    for j in range(1, signs.shape[1]):     # a plateau continues the slope before it
        signs[:, j] = np.where(signs[:, j] == 0, signs[:, j - 1], signs[:, j])
    for j in range(signs.shape[1] - 2, -1, -1):   # a leading plateau takes the next slope
        signs[:, j] = np.where(signs[:, j] == 0, signs[:, j + 1], signs[:, j])
    return (signs[:, :-1] * signs[:, 1:] < 0).sum(axis=1)


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
    two_valued = (two_d and numeric is not None and len(distinct) == 2
                  and bool((distinct == np.round(distinct)).all()))
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
        two_valued=two_valued,
        one_high=two_valued and bool(((numeric == numeric.max()).sum(axis=1) == 1).all()),
        max_classes=max_classes,
        rows=values.shape[0],
        int_dtype=values.dtype.kind in "iu",
        numeric=numeric if numeric is not None and not two_d else None,
    )


def _check_columns(labels, s, max_classes):
    """2-D numbers that are not yes/no labels (0/1, -1/1): some column must vary, and no
    column may be class codes (``_as_codes``), which the catalog never regresses as numbers."""
    if s.kind != "number" or s.two_valued:
        return
    values, names = labels.values, _onehot_classes(labels)
    varying = [j for j in range(s.k) if np.unique(values[:, j]).size > 1]
    if not varying:
        raise InferenceError(
            f"Expected labels that vary. Received: {s.k} columns that each hold a single value "
            f"in all {s.rows} rows; there is nothing to learn.")
    if not s.integral:
        return
    read = {names[j]: _as_codes(values[:, j], max_classes) for j in varying}
    codes = {name: problem for name, problem in read.items() if problem is not None}
    if codes:
        shown = ", ".join(f"column {name!r}: {problem!r}" for name, problem in codes.items())
        raise InferenceError(
            "Expected 2-D labels that are one-hot or multi-hot rows, or several value targets. "
            f"Received: {s.k} columns of integers ({s.dtype}), of which {len(codes)} alone "
            f"read as class codes ({shown}); regressing class codes as numbers is the "
            "anti-pattern multiclass_index_regression. Each such column is a class problem of "
            "its own: infer it with infer_problem(y[:, j]) and give the model one output head "
            "(with its loss) per column.")


def _as_codes(column, max_classes):
    """The class problem a column of integers reads as alone, if its values are small like
    class codes (within -1..max_classes: codes start at 0 or 1, -1/1 for yes/no); else None."""
    if column.min() < -1 or column.max() > max_classes:
        return None
    problem = infer_problem(column, max_classes).problem
    return problem if problem in _CLASS_PROBLEMS else None


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


# --- the order of string levels --------------------------------------------------------
# Each finder takes the distinct levels and returns (order, evidence) or None.

def _text(level):
    """A level as text: bytes decoded (the level itself stays bytes), anything else by str."""
    return level.decode("utf-8", "replace") if isinstance(level, bytes) else str(level)


def _normal(level):
    """Lower case, '_' and '-' between words as spaces, single spaces, no final period."""
    text = re.sub(r"(?<=[a-z])[_-](?=[a-z])", " ", _text(level).lower().strip())
    return re.sub(r"\s+", " ", text).rstrip(".")


_LEADING_NUMBER = re.compile(
    r"^\s*[(\[]?\s*(?P<cmp>[<>]=?|under |over |less than |more than )?\s*"
    r"(?P<num>\d+(?:\.\d+)?)\s*(?P<sep>\+|[.)\]:=/-]|\s)\s*(?P<rest>.*)$", re.IGNORECASE)
_BELOW = ("<", "<=", "under ", "less than ")


def _by_leading_number(levels):
    """Levels that each start with a number and go on with a label: ordered by the number.

    Numbered prefixes ("1. < HS Grad", "2) HS Grad", "01 - ...") and ranges or
    amounts ("0 daily", "1-5 daily", "11+ daily", "<18", "65 and over") alike.
    Levels that are only numbers (codes kept as strings) do not count.
    """
    keys = []
    for level in levels:
        match = _LEADING_NUMBER.match(_text(level))
        if not match or not (match["rest"] or match["sep"] == "+"):
            return None
        cmp = (match["cmp"] or "").lower()
        keys.append((float(match["num"]), -1 if cmp in _BELOW else 1 if cmp or match["sep"] == "+"
                     else 0))
    if len(set(keys)) < len(keys):
        return None
    order = tuple(level for _, level in sorted(zip(keys, levels), key=lambda p: p[0]))
    return order, "every level starts with a number: ordered by it"


# Cardinal number words name how many: levels that are all such words are counts too.
CARDINALS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
             "ten", "eleven", "twelve")
# Graded vocabularies, lowest level first; '|' separates words for the same level.
SCALES = (
    ("very poor", "poor", "fair", "good", "very good", "excellent"),
    ("never", "rarely|seldom", "sometimes|occasionally", "often|frequently|usually", "always"),
    ("none", "mild|slight|minimal", "moderate", "severe", "very severe|extreme"),
    ("very low", "low", "medium|moderate|mid|middle|average|intermediate", "high", "very high"),
    ("bad", "medium|average|neutral|ok", "good"),
    ("too little|too few|too low|not enough", "about right|just right", "too much|too many|too high"),
    ("extra small|xs", "small|s", "medium|m", "large|l", "extra large|xl", "xxl"),
    CARDINALS,
    ("first|1st", "second|2nd", "third|3rd", "fourth|4th", "fifth|5th"),
    ("less than high school|no high school|primary|elementary",
     "high school|secondary|hs grad|high school graduate",
     "some college|associate|associate degree",
     "college|bachelor|bachelor's|bachelor's degree|bachelor's degree or higher|college graduate",
     "master|master's|graduate|postgraduate|advanced degree|doctorate|phd"),
    ("underweight", "normal", "overweight", "obese"),
    ("daily", "weekly", "monthly", "yearly"),
    ("fail", "pass", "merit", "distinction"),
    ("trivial", "minor", "major", "critical", "blocker"),
    ("light", "medium|moderate", "heavy"),
    ("lower", "middle", "upper"),
)


def _in_a_scale(levels):
    """Levels that all belong to one graded vocabulary of ``SCALES`` (any subset of it)."""
    names = [_normal(level) for level in levels]
    for scale in SCALES:
        rank = {word: i for i, words in enumerate(scale) for word in words.split("|")}
        ranks = [rank.get(name) for name in names]
        if None not in ranks and len(set(ranks)) == len(ranks):
            order = tuple(level for _, level in sorted(zip(ranks, levels), key=lambda p: p[0]))
            shown = " < ".join(repr(words.split("|")[0]) for words in scale)
            return order, f"the levels belong to the graded scale {shown}"
    return None


# Modifiers of degree, weakest first; a level without one has degree 3.
_DEGREES = (
    (0, ("not at all", "not")),
    (1, ("a little", "a bit", "slightly", "mildly", "barely")),
    (2, ("somewhat", "fairly", "moderately", "rather", "kind of", "sort of")),
    (4, ("very", "strongly", "highly", "quite", "really", "mostly")),
    (5, ("extremely", "completely", "totally", "absolutely", "very much", "entirely", "fully")),
)
_MODIFIER = {word: degree for degree, words in _DEGREES for word in words}
_NEUTRAL = re.compile(r"^(neutral|neither( .+ nor .+)?|undecided|indifferent|mixed|"
                      r"no opinion|no change|(about )?the same|same)$")
# Pairs of poles (negative, positive) that are not a word and its negation.
_POLES = (("oppose", "favor"), ("oppose", "support"), ("bad", "good"), ("negative", "positive"),
          ("low", "high"), ("weak", "strong"), ("worse", "better"), ("less", "more"),
          ("decrease", "increase"), ("dislike", "like"), ("disapprove", "approve"))
_NEGATIONS = ("un", "dis", "in", "im", "ir", "il", "non ", "non", "not ")


def _degree(name):
    """(stem, degree) of a level such as 'very likely' or 'not anxious at all'."""
    if name.startswith("not ") and name.endswith(" at all"):
        return name[4:-7], 0
    for word in sorted(_MODIFIER, key=len, reverse=True):
        if name.startswith(word + " "):
            return name[len(word) + 1:], _MODIFIER[word]
    return name, 3


def _negative_pole(a, b):
    """True if stem ``a`` is the negative pole of stem ``b``."""
    return (a, b) in _POLES or any(a == prefix + b for prefix in _NEGATIONS)


def _graded(levels):
    """One stem with modifiers of degree, or two poles of one stem, with a neutral middle.

    'not at all anxious' < 'a little anxious' < 'somewhat anxious' < 'very anxious';
    'strongly disagree' < 'disagree' < 'neither agree nor disagree' < 'agree'
    < 'strongly agree'; 'unlikely' < 'somewhat likely' < 'very likely'.
    """
    names = [_normal(level) for level in levels]
    neutral = [bool(_NEUTRAL.match(name)) for name in names]
    graded = [None if is_neutral else _degree(name) for name, is_neutral in zip(names, neutral)]
    stems = sorted({g[0] for g in graded if g})
    if len(stems) == 1 and not any(neutral):
        scores = [g[1] for g in graded]
        what = f"the modifiers of degree of {stems[0]!r}"
    elif len(stems) == 2 and (_negative_pole(*stems) or _negative_pole(*stems[::-1])):
        negative = stems[0] if _negative_pole(*stems) else stems[1]
        scores = [0 if g is None else -g[1] if g[0] == negative else g[1] for g in graded]
        positive = stems[1] if negative == stems[0] else stems[0]
        what = f"the poles {negative!r} and {positive!r} with modifiers of degree"
    else:
        return None
    if len(set(scores)) < len(scores):
        return None
    order = tuple(level for _, level in sorted(zip(scores, levels), key=lambda p: p[0]))
    return order, f"the levels are {what}"


ORDERINGS = (_by_leading_number, _in_a_scale, _graded)


# --- the rules: the first whose test holds gives the answer and the ranking --------

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


def _order(s):
    return " < ".join(repr(c) for c in s.order)


def _class_alternatives(s):
    ranking = ("ordinal", "count") if s.lo == 0 else ("ordinal",)
    return ranking + (() if s.consecutive else ("regression",))


def _count_hint(s):
    return " If they count events, problem 'count'." if s.lo == 0 else ""


_ORDER_HINT = ("If the levels are ordered, problem 'ordinal': pass "
               "pd.Categorical(y, categories=[lowest, ..., highest], ordered=True).")


def _small_integers(s):
    return s.kind == "number" and s.integral and s.n <= s.max_classes


def _count_fit(s):
    if s.count_shaped:
        return _shape(s)
    return (f"skewness z = {s.shape[1]:.1f}; a Poisson or negative binomial law fits better "
            f"than free class frequencies, BIC lower by {s.count_law:.1f}")


def _j_shape(s):
    values, counts = np.unique(s.numeric, return_counts=True)
    return (f"whose frequencies fall from {values[counts.argmax()]:g}, the most frequent value, "
            f"all along (smoothness "
            f"p = {s.profile[1]:.2g}, skewness z = {s.shape[1]:.1f}): the J shape of counts "
            "from their origin")


def _scale(s):
    return "negative levels" if s.lo < 0 else "gaps between the levels"


def _steps_text(s):
    if s.profile[1] < _ALPHA:
        return ""
    return f" in small steps between neighbours (steps p = {s.steps_p:.2g})"


def _ordinal_shape(s):
    """What in the frequencies of integer levels shows an order."""
    if s.smooth_levels:
        return "whose frequencies change smoothly from level to level" + _steps_text(s)
    if s.scale_levels:
        return f"on a numeric scale ({_scale(s)}) whose frequencies {_turned(s)}"
    return f"whose frequencies {_peaked(s)}, more likely for ordered levels than for codes"


def _peaked(s):
    if s.turns <= 1:
        return _turned(s)
    return "are rarest at the two end levels, like the tails of a scale"


def _turned(s):
    return ("change monotonically" if s.turns == 0 else
            "rise and fall once (one change of direction)")


RULES_1D = (
    _Rule("binary", lambda s: s.n == 2,
          lambda s: f"2 distinct values, {_values(s)} ({s.dtype}): two classes."
                    + (f" They are not whole numbers, as class codes are: if they are "
                       f"measurements, problem {_value_problem(s)!r}." if _fractions(s) else ""),
          lambda s: (_value_problem(s),) if _fractions(s) else ()),
    _Rule("ordinal", lambda s: s.kind == "category" and s.ordered,
          lambda s: f"ordered categorical with {s.n} levels {_levels(s)}.",
          lambda s: ("multiclass",)),
    _Rule("ordinal", lambda s: s.scale is not None,
          lambda s: f"{s.n} distinct {'categories' if s.kind == 'category' else 'string labels'}"
                    f" ({s.dtype}); {s.scale[1]}: ordered levels {_order(s)}. If they are "
                    "unordered classes, problem 'multiclass'."
                    + (" They are cardinal number words, which say how many: as numbers, "
                       "problem 'count'." if s.cardinal_words else ""),
          lambda s: ("count", "multiclass") if s.cardinal_words else ("multiclass",)),
    _Rule("multiclass", lambda s: s.kind == "category",
          lambda s: f"unordered categorical with {s.n} categories. If the levels are "
                    "ordered, problem 'ordinal' (make the Categorical ordered).",
          lambda s: ("ordinal",)),
    _Rule("multiclass", lambda s: s.kind == "string",
          lambda s: f"{s.n} distinct string labels ({s.dtype}): classes. {_ORDER_HINT}",
          lambda s: ("ordinal",)),
    _Rule("count", lambda s: _small_integers(s) and s.near_unique and _near_zero(s),
          lambda s: f"{s.n} distinct non-negative integer values {_range(s)} ({s.dtype}) in "
                    f"{s.rows} rows, nearly one per row and with gaps between them, "
                    f"{_near_zero_text(s)}: counts, not class codes. If they are measurements, "
                    "problem 'regression'.",
          lambda s: ("regression", "multiclass")),
    _Rule("regression", lambda s: _small_integers(s) and s.near_unique,
          lambda s: f"{s.n} distinct integer values {_range(s)} ({s.dtype}) in {s.rows} rows, "
                    f"nearly one per row and with gaps between them{_far_text(s)}: a "
                    "measurement, not class codes. If they are classes, problem 'multiclass'.",
          lambda s: ("count", "multiclass") if s.lo >= 0 else ("multiclass",)),
    _Rule("count", lambda s: _small_integers(s) and s.counts_evidence,
          lambda s: f"{s.n} distinct non-negative integer values {_range(s)} ({s.dtype}), "
                    f"right-skewed like counts ({_count_fit(s)}): counts. "
                    "If they are class codes, problem 'ordinal' or 'multiclass'.",
          lambda s: ("ordinal", "multiclass")),
    _Rule("count", lambda s: _small_integers(s) and s.sparse_levels and _near_zero(s),
          lambda s: f"{s.n} distinct non-negative integer values {_range(s)} ({s.dtype}) in "
                    f"{s.rows} rows, {s.rows_per_value:.1f} per value and with gaps between "
                    f"them, {_near_zero_text(s)}: too few rows per value for class codes, "
                    "counts. If they are measurements, problem 'regression'.",
          lambda s: ("regression", "multiclass")),
    _Rule("regression", lambda s: _small_integers(s) and s.sparse_levels,
          lambda s: f"{s.n} distinct integer values {_range(s)} ({s.dtype}) in {s.rows} rows, "
                    f"{s.rows_per_value:.1f} per value and with gaps between them{_far_text(s)}: "
                    "too few rows per value for class codes, a measurement. If they are classes, "
                    "problem 'multiclass'.",
          lambda s: ("count", "multiclass") if s.lo >= 0 else ("multiclass",)),
    _Rule("count", lambda s: _small_integers(s) and s.mode_at_origin,
          lambda s: f"{s.n} distinct non-negative integer values {_range(s)} ({s.dtype}) "
                    f"{_j_shape(s)}: counts. If they are the levels of a rating, problem "
                    "'ordinal'; if class codes, problem 'multiclass'.",
          lambda s: ("ordinal", "multiclass")),
    _Rule("ordinal", lambda s: _small_integers(s) and (s.smooth_levels or s.scale_levels
                                                       or s.peaked_levels),
          lambda s: f"{s.n} distinct integer values {_range(s)} ({s.dtype}) "
                    + _ordinal_shape(s) + ": ordered levels. If they are unordered classes, "
                    "problem 'multiclass'." + (" If they count events, problem 'count'."
                                               if s.falls_from_lowest else ""),
          lambda s: (("count", "multiclass") if s.falls_from_lowest else ("multiclass",))
          + tuple(p for p in _class_alternatives(s)[1:] if p != "count" or not s.falls_from_lowest)),
    _Rule("regression", lambda s: _small_integers(s) and s.consecutive and s.lo >= 2,
          lambda s: f"{s.n} distinct integer values {_range(s)} ({s.dtype}), every integer "
                    f"between them present but starting at {s.lo:g}, not at 0 or 1 where codes "
                    "start, and no order in their frequencies: values on a numeric scale (a sum "
                    "of item scores), a regression. If they are ordered levels, problem "
                    "'ordinal'; if classes, problem 'multiclass'.",
          lambda s: ("ordinal", "multiclass")),
    _Rule("multiclass", _small_integers,
          lambda s: f"{s.n} distinct integer values {_range(s)} ({s.dtype}), at most "
                    f"max_classes={s.max_classes}: classes. If the levels are ordered, "
                    f"problem 'ordinal'.{_count_hint(s)}",
          _class_alternatives),
    _Rule("count", lambda s: s.integral and s.lo == 0 and not s.far_from_zero,
          lambda s: f"{s.n} distinct non-negative integer values {_range(s)} ({s.dtype}), "
                    f"more than max_classes={s.max_classes} and including zeros: counts. "
                    "If they are measurements rather than counts, problem 'regression'.",
          lambda s: ("regression",)),
    _Rule("count", lambda s: s.integral and s.int_dtype and s.lo > 0 and s.count_shaped,
          lambda s: f"{s.n} distinct positive integer values {_range(s)} ({s.dtype}), more "
                    f"than max_classes={s.max_classes}, no zeros but right-skewed like counts "
                    f"({_shape(s)}): counts. If they are measurements, problem 'regression'.",
          lambda s: ("regression",)),
    _Rule("ordinal", lambda s: s.integral and s.numbered_levels and not s.count_shaped,
          lambda s: f"{s.n} distinct integer values {_range(s)} ({s.dtype}), more than "
                    f"max_classes={s.max_classes}, every integer from 1 to {s.hi:g} present "
                    f"({s.rows_per_value:.1f} rows per value): codes of ordered levels. If they "
                    "are a continuous quantity, problem 'regression'; if they count events, "
                    "problem 'count'.",
          lambda s: ("regression", "count")),
    _Rule("regression", lambda s: s.integral and s.lo == 0,
          lambda s: f"{s.n} distinct non-negative integer values {_range(s)} ({s.dtype}), more "
                    f"than max_classes={s.max_classes}; {_far_text(s)[2:]}: zeros that far below "
                    "the other values are a separate code (missing, not applicable), and the "
                    "others a measurement. If they count events, problem 'count'.",
          lambda s: ("count",)),
    _Rule("regression", lambda s: s.integral and s.lo > 0,
          lambda s: f"{s.n} distinct integer values {_range(s)} ({s.dtype}), more than "
                    f"max_classes={s.max_classes} and no zeros{_far_text(s)}: a continuous "
                    "quantity. "
                    + ("Every integer between them is present, several rows each, like "
                       "level codes: if they are ordered levels, problem 'ordinal'. "
                       if s.level_codes else "") + "If they count events, problem 'count'.",
          lambda s: ("ordinal", "count") if s.level_codes else ("count",)),
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

_MULTILABEL_HINT = (" If an example may carry several labels at once (these rows just happen "
                    "to hold one each), problem 'multilabel'.")

RULES_2D = (
    _Rule("multiclass", lambda s: s.onehot and s.k == 2,
          lambda s: f"one-hot rows: {s.k} columns of 0/1 and every row holds exactly one 1. "
                    "Two classes: the same as problem 'binary' on the second column."
                    + _MULTILABEL_HINT,
          lambda s: ("binary", "multilabel")),
    _Rule("multiclass", lambda s: s.onehot,
          lambda s: f"one-hot rows: {s.k} columns of 0/1 and every row holds exactly one 1: "
                    f"one class among {s.k} per example." + _MULTILABEL_HINT,
          lambda s: ("multilabel",)),
    _Rule("multilabel", lambda s: s.binary01,
          lambda s: f"{s.k} columns of 0/1 labels and rows holding no 1 or several 1s: "
                    "independent labels, not one-hot."),
    _Rule("multiclass", lambda s: s.two_valued and s.one_high,
          lambda s: f"{s.k} columns holding only the two values {s.lo:g} and {s.hi:g} "
                    f"({s.dtype}) and every row holding {s.hi:g} once: one-hot rows coded "
                    f"{s.lo:g}/{s.hi:g} (as label_binarize(..., neg_label={s.lo:g}) writes them), "
                    f"one class among {s.k} per example; the class indices are y.argmax(axis=1)."
                    + _MULTILABEL_HINT + " If they are amounts, problem 'regression'.",
          lambda s: (("binary",) if s.k == 2 else ()) + ("multilabel", "regression")),
    _Rule("multilabel", lambda s: s.two_valued,
          lambda s: f"{s.k} columns holding only the two values {s.lo:g} and {s.hi:g} "
                    f"({s.dtype}): each column alone is binary, so independent yes/no labels "
                    f"coded {s.lo:g}/{s.hi:g} (as label_binarize(..., neg_label={s.lo:g}) writes "
                    f"them), {s.hi:g} for yes; for binary cross-entropy encode them as 0/1, "
                    f"(y == {s.hi:g}).astype('float32'). If they are amounts, problem "
                    "'regression'.",
          lambda s: ("regression",)),
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


def _fractions(s):
    """Numbers that are not all whole: values rather than class codes."""
    return s.kind == "number" and not s.integral


def _value_problem(s):
    return "bounded_regression" if s.lo >= 0 and s.hi <= 1 else "regression"


def _near_zero(s):
    """Integers that reach down to 0: with zeros (not far below the rest), or near the floor."""
    return (s.lo == 0 and not s.far_from_zero) or s.near_floor


def _near_zero_text(s):
    if s.lo == 0:
        return "including zeros"
    return (f"the lowest {s.floor_distance:.2f} standard deviations above 0, near the floor of "
            "counts")


def _far_text(s):
    if not s.far_from_zero:
        return ""
    what = "the lowest non-zero value" if s.lo == 0 else "the lowest value"
    return (f", {what} {s.floor_distance:.1f} standard deviations above 0 (far from the "
            "floor of counts)")


def _shape(s):
    skew, z, cv = s.shape
    return (f"skewness {skew:.2f} >= coefficient of variation {cv:.2f}, z = {z:.1f}; "
            f"var/mean {s.dispersion[0]:.2f}")


# --- evidence: what in the values supports each candidate -------------------------

def _multiclass_evidence(s):
    if s.onehot:
        return f"one-hot rows: exactly one 1 in each of {s.rows} rows of {s.k} columns"
    if s.kind == "category":
        return f"{s.n} declared categories"
    if s.kind == "string":
        return f"{s.n} distinct string labels"
    if s.k > 1 and not s.binary01:
        return f"{s.k} columns, each row holding {s.hi:g} once: one class among {s.k}"
    if s.k > 1:
        return f"{s.k} columns of 0/1"
    return (f"{s.n} distinct integer values {_range(s)}"
            f"{', consecutive like codes' if s.consecutive else ''}, "
            f"{s.rows_per_value:.1f} rows per value")


def _ordinal_evidence(s):
    if s.kind == "category" and s.ordered:
        return f"declared order {_levels(s)}"
    if s.string_levels:
        return s.scale[1] if s.scale else (
            "no known order in the levels: pass "
            "pd.Categorical(y, categories=[lowest, ..., highest], ordered=True)")
    uniform_p, smooth_p = s.profile
    if s.smooth_levels:
        shown = "change smoothly along the levels" + _steps_text(s)
    elif s.scale_levels:
        shown = f"{_turned(s)} on a numeric scale ({_scale(s)})"
    elif s.peaked_levels:
        shown = f"{_peaked(s)}, more likely for ordered levels than for codes"
    elif s.numbered_levels and s.n > s.max_classes:
        shown = "fill every level from 1, several rows each, like codes of ordered levels"
    elif s.level_codes and s.n > s.max_classes:
        shown = "show no clear order, but every level between them is present, like level codes"
    else:
        shown = "show no clear order"
    return (f"{s.n} integer levels {_range(s)}; frequencies {shown} (uniform p = "
            f"{uniform_p:.2g}, {_plural(s.turns, 'turn')}, smoothness p = {smooth_p:.2g})")


def _count_evidence(s):
    if s.k > 1:
        return f"{s.k} columns of non-negative integers {_range(s)}"
    if s.kind != "number":
        return (f"cardinal number words {_order(s)}: they say how many (convert them to "
                "numbers)")
    zeros = "including zeros" if s.lo == 0 else "no zeros"
    skew, z, cv = s.shape
    if s.counts_evidence:
        shaped = f"right-skewed like counts ({_count_fit(s)})"
    elif s.n <= s.max_classes and s.mode_at_origin:
        return f"non-negative integers {_range(s)}, {zeros}, {_j_shape(s)}"
    elif s.far_from_zero:
        shaped = _far_text(s)[2:]
    else:
        shaped = (f"not skewed like counts (skewness {skew:.2f}, coefficient of variation "
                  f"{cv:.2f}, z = {z:.1f})")
    if s.n <= s.max_classes and s.falls_from_lowest:
        shaped += "; the lowest value is the most frequent"
    return f"non-negative integers {_range(s)}, {zeros}, {shaped}"


def _multilabel_evidence(s):
    if s.onehot:
        return f"{s.k} columns of 0/1, each row holding one 1 (multi-hot rows may hold any number)"
    if not s.binary01:
        return f"{s.k} columns each holding only the values {s.lo:g} and {s.hi:g}, each one binary"
    return f"{s.k} columns of 0/1 with rows holding no 1 or several 1s"


def _regression_evidence(s):
    if s.k > 1:
        return f"{s.k} columns of numbers {_range(s)}"
    kind = "integer" if s.integral else "non-integer"
    return (f"{s.n} distinct {kind} values {_range(s)} in {s.rows} rows "
            f"({s.rows_per_value:.1f} rows per value)")


EVIDENCE = {
    "binary": lambda s: (f"2 distinct values, {_values(s)}" if s.k == 1 else
                         f"2 one-hot columns {_values(s)}"),
    "multiclass": _multiclass_evidence,
    "multilabel": lambda s: _multilabel_evidence(s),
    "ordinal": _ordinal_evidence,
    "count": _count_evidence,
    "bounded_regression": lambda s: f"{s.n} distinct values {_range(s)}, all within [0, 1]",
    "regression": _regression_evidence,
}
# --- reading labels from a file -----------------------------------------------------

def _read_csv(path, target):
    import pandas as pd

    _check_table(path)
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InferenceError(f"Cannot read labels from {str(path)!r}: {err}") from None
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


def _check_table(path):
    """A CSV file must be UTF-8 text whose rows all have the header's number of cells
    (pandas would silently shift the columns of a longer row); errors name the row."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = csv.reader(f, strict=True)
            header = next(rows, None)
            if header is None:
                raise InferenceError(f"Cannot read labels from {str(path)!r}: the file is empty")
            for row in rows:
                if row and len(row) != len(header):
                    raise InferenceError(
                        f"Cannot read labels from {str(path)!r}, line {rows.line_num}: expected "
                        f"{len(header)} cells, as in the header {header}. Received "
                        f"{len(row)}: {row[:len(header) + 2]}")
    except UnicodeDecodeError as err:
        raise InferenceError(f"Cannot read labels from {str(path)!r}: it is not UTF-8 text "
                             f"(byte {err.start}: {err.reason}). Save it as UTF-8 CSV.") from None
    except csv.Error as err:
        raise InferenceError(f"Cannot read labels from {str(path)!r}, line {rows.line_num}: "
                             f"{err} (an unterminated quote?)") from None
    except IsADirectoryError:
        raise InferenceError(f"Cannot read labels from {str(path)!r}: it is a directory, "
                             f"not a file") from None


def _read_npy(path, target):
    if target is not None:
        raise InferenceError(f"Expected target=None for a .npy file (it holds only labels). "
                             f"Received: target={target!r}")
    if path.is_dir():
        raise InferenceError(f"Cannot read labels from {str(path)!r}: it is a directory, "
                             f"not a file")
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic != b"\x93NUMPY":
        raise InferenceError(f"Cannot read labels from {str(path)!r}: it is not a NumPy .npy "
                             f"file (written by numpy.save). Save the labels with numpy.save, "
                             f"or as a .csv file.")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise InferenceError(f"Cannot read labels from {str(path)!r}: it holds Python "
                                 f"objects, which are not loaded (allow_pickle=False: loading "
                                 f"them could run code). Save the labels as numbers or "
                                 f"strings.") from None
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
