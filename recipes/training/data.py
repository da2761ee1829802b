"""Real datasets that ship with installed packages, and train/validation splits.

Nothing is downloaded: every set comes from scikit-learn's or statsmodels'
bundled files. Each set is tagged with a catalog problem type, so an experiment
can train every recipe of that problem on it. ``from_arrays`` wraps a user's own
arrays the same way.

No TensorFlow here. statsmodels is imported only by the loaders that need it.

>>> ds = load("iris")
>>> ds.problem, ds.X.shape, ds.classes
('multiclass', (150, 4), (0, 1, 2))
>>> s = split(ds, val_fraction=0.2, seed=0)
>>> s.X_train.shape, s.X_val.shape, s.n
((120, 4), (30, 4), 3)
"""

from __future__ import annotations

import functools
import hashlib
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..catalog.codec import class_labels, ordered_levels, plain
from ..catalog.table import CLASS_TARGETS, as_catalog, load_catalog
from ..messages import expected


@dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled dataset tagged with its catalog problem type.

    ``X``: float64 features, shape (N, d), or images (N, h, w, c) (``digits_images``)
    for a backbone that takes them (the default MLP takes only (N, d)). ``y``: labels,
    1-D for class problems and single-target regression, 2-D (N, L) for multi-label and
    multi-target.
    ``classes``: the class labels in index order for class problems; the label
    names in column order for multi-label sets; None for regression.
    ``derived``: True when the labels were derived from a real set (not
    collected as such). ``target``: the kind of target (``Recipe.target``) of the
    catalog the set was made with; None: the bundled catalog's for ``problem``.
    """

    name: str
    problem: str
    X: np.ndarray
    y: np.ndarray
    classes: tuple | None
    description: str
    source: str
    derived: bool = False
    target: str | None = None

    @functools.cached_property
    def fingerprint(self):
        """A hash of the data itself: X's and y's bytes, shapes and dtypes, the problem and
        the class order. Part of every run's identity, so a results folder never answers
        for other data under the same name."""
        digest = hashlib.sha1(f"{self.problem}|{self.classes!r}".encode())
        for a in (self.X, self.y):
            a = np.ascontiguousarray(a)
            digest.update(f"|{a.dtype.str}{a.shape}|".encode())
            digest.update("\x1f".join(map(repr, a.ravel().tolist())).encode()
                          if a.dtype == object else a.tobytes())
        return digest.hexdigest()[:16]

    def __repr__(self):
        return (f"Dataset(name={self.name!r}, problem={self.problem!r}, X={self.X.shape}, "
                f"y={self.y.shape}, classes={self.classes!r}, source={self.source!r})")


@dataclass(frozen=True, eq=False)
class Split:
    """A train/validation(/test) split with features standardized by the train statistics.

    ``n``: the problem size a recipe needs (``recipe.n_units(n)``): the number of
    classes for class problems (2 for binary), of labels for multi-label, of
    targets for regression (1 for 1-D targets). ``mean``/``std``: the train
    statistics used (apply them to new data as ``(X - mean) / std``).
    ``y_mean``/``y_std``: for unbounded real targets (``SCALED_TARGETS``), the
    train statistics the targets were standardized with, so an MSE of 1.0 means
    "no better than predicting the mean"; None for every other target, whose
    values carry meaning (classes, 0..1 proportions, counts). ``X_test``/``y_test``:
    the held-out test rows, or None (no test split, or one kept hidden from tuning).
    """

    X_train: np.ndarray
    X_val: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    classes: tuple | None
    n: int
    problem: str
    name: str
    mean: np.ndarray = field(repr=False, default=None)
    std: np.ndarray = field(repr=False, default=None)
    y_mean: np.ndarray = field(repr=False, default=None)
    y_std: np.ndarray = field(repr=False, default=None)
    X_test: np.ndarray = field(repr=False, default=None)
    y_test: np.ndarray = field(repr=False, default=None)

    def __repr__(self):
        return (f"Split(name={self.name!r}, problem={self.problem!r}, n={self.n}, "
                f"train={self.X_train.shape}, val={self.X_val.shape})")


# --- loaders -------------------------------------------------------------------

def _frozen(a):
    a = np.array(a)  # a private copy: cached datasets are shared
    a.setflags(write=False)
    return a


def _make(name, problem, X, y, classes, description, source, derived=False, target=None):
    X = np.asarray(X)   # a user's integer X (token ids) stays integer; all else float64
    X, y = _frozen(X if source == "user" and X.dtype.kind in "iu" else X.astype(np.float64)), \
        _frozen(y)
    return Dataset(name=name, problem=problem, X=X, y=y,
                   classes=None if classes is None else tuple(classes),
                   description=description, source=source, derived=derived, target=target)


def _bundled(X, y, classes, description, source, derived=False):
    """A loader's arrays and text; ``_load`` adds the name and problem from DATASETS."""
    return dict(X=X, y=y, classes=classes, description=description, source=source,
                derived=derived)


def _sklearn(fn_name):
    import sklearn.datasets

    return getattr(sklearn.datasets, fn_name)()


def _breast_cancer():
    b = _sklearn("load_breast_cancer")
    X, y = b.data, b.target.astype(np.int64)
    return _bundled(X, y, (0, 1),
                    f"Breast Cancer Wisconsin (diagnostic) from scikit-learn: {X.shape[0]} tumours "
                    f"x {X.shape[1]} cell-nucleus features, label 0 = malignant, 1 = benign.",
                    "sklearn.datasets.load_breast_cancer")


def _digits():
    b = _sklearn("load_digits")
    X, y = b.data, b.target.astype(np.int64)
    return _bundled(X, y, range(10),
                    f"Handwritten digits from scikit-learn (UCI optdigits test part): {X.shape[0]} "
                    f"8x8 images ({X.shape[1]} pixel features, 0..16), 10 classes 0..9.",
                    "sklearn.datasets.load_digits")


def _digits_images():
    b = _sklearn("load_digits")
    X, y = b.images[..., None] / 16.0, b.target.astype(np.int64)
    return _bundled(X, y, range(10),
                    f"Handwritten digits from scikit-learn (UCI optdigits test part) as images: "
                    f"{X.shape[0]} 8x8x1 images (pixels 0..16 divided by 16, so 0..1; never "
                    f"standardized), 10 classes 0..9: the digits set for a convolutional "
                    f"backbone.",
                    "sklearn.datasets.load_digits")


def _wine():
    b = _sklearn("load_wine")
    X, y = b.data, b.target.astype(np.int64)
    return _bundled(X, y, (0, 1, 2),
                    f"Wine recognition data from scikit-learn (UCI): {X.shape[0]} wines x "
                    f"{X.shape[1]} chemical measurements, 3 cultivars 0..2.",
                    "sklearn.datasets.load_wine")


def _iris():
    b = _sklearn("load_iris")
    X, y = b.data, b.target.astype(np.int64)
    return _bundled(X, y, (0, 1, 2),
                    f"Fisher's iris data from scikit-learn: {X.shape[0]} flowers x {X.shape[1]} "
                    f"measurements, 3 species 0..2 (setosa, versicolor, virginica).",
                    "sklearn.datasets.load_iris")


# Attributes of a digit 0..9, one column each: (name, rule).
DIGIT_ATTRIBUTES = (
    ("even", lambda d: d % 2 == 0),
    ("greater_than_4", lambda d: d > 4),
    ("prime", lambda d: np.isin(d, (2, 3, 5, 7))),
)


def _digit_attributes():
    b = _sklearn("load_digits")
    X, d = b.data, b.target
    y = np.stack([rule(d) for _, rule in DIGIT_ATTRIBUTES], axis=1).astype(np.int64)
    return _bundled(X, y, (n for n, _ in DIGIT_ATTRIBUTES),
                    f"Multi-label set derived from scikit-learn's digits: {X.shape[0]} 8x8 images "
                    f"({X.shape[1]} pixel features), 3 labels per image: the digit is even, "
                    f"greater than 4, prime.",
                    "sklearn.datasets.load_digits", derived=True)


# The imbalanced binary sets (#22 item 5): one digit against the rest of scikit-learn's
# digits (about 10% positives), and the same with its positives subsampled to RARE_POSITIVES
# rows (about 3%), drawn with RandomState(0), so the set is the same in every process.
RARE_DIGIT = 8           # the hardest digit to tell from the rest by a linear model
RARE_POSITIVES = 50


def _one_digit(positives=None):
    """Digits as ``RARE_DIGIT`` (1) against every other digit (0); ``positives``: keep
    that many of its images (all when None) and every other image."""
    b = _sklearn("load_digits")
    X, y = b.data, (b.target == RARE_DIGIT).astype(np.int64)
    total = int(y.sum())
    rows = np.arange(len(y))
    if positives is not None:
        kept = np.random.RandomState(0).choice(np.flatnonzero(y == 1), positives, replace=False)
        rows = np.sort(np.concatenate([np.flatnonzero(y == 0), kept]))
    X, y = X[rows], y[rows]
    share = f"{int(y.sum())} positives of {len(y)} ({y.mean():.1%})"
    sub = ("" if positives is None else f"; {positives} of the {total} images of "
           f"{RARE_DIGIT} kept (RandomState(0)), every other image kept")
    return _bundled(X, y, (0, 1),
                    f"Imbalanced binary set derived from scikit-learn's digits: {len(y)} 8x8 "
                    f"images ({X.shape[1]} pixel features), label 1 = the digit "
                    f"{RARE_DIGIT}, 0 = any other digit: {share}{sub}.",
                    "sklearn.datasets.load_digits", derived=True)


def _diabetes():
    b = _sklearn("load_diabetes")
    X, y = b.data, b.target.astype(np.float64)
    return _bundled(X, y, None,
                    f"Diabetes data (Efron et al. 2004) from scikit-learn: {X.shape[0]} patients x "
                    f"{X.shape[1]} baseline variables (centred and scaled by scikit-learn), target a disease-progression score "
                    f"({y.min():g}..{y.max():g}) one year later.",
                    "sklearn.datasets.load_diabetes")


def _star98():
    from statsmodels.datasets import star98

    d = star98.load_pandas()
    above, below = d.data["NABOVE"].to_numpy(float), d.data["NBELOW"].to_numpy(float)
    X, y = d.exog.to_numpy(np.float64), above / (above + below)
    return _bundled(X, y, None,
                    f"California STAR 1998 test results from statsmodels: {X.shape[0]} school "
                    f"districts x {X.shape[1]} covariates, target the proportion of students "
                    f"scoring above the national math median, NABOVE / (NABOVE + NBELOW).",
                    "statsmodels.datasets.star98")


RANDHIE_ROWS = 4000


def _randhie():
    from statsmodels.datasets import randhie

    d = randhie.load_pandas()
    total = len(d.data)
    rows = np.sort(np.random.RandomState(0).choice(total, RANDHIE_ROWS, replace=False))
    X = d.exog.to_numpy(np.float64)[rows]
    visits = d.data["mdvis"].to_numpy()[rows]
    y = np.rint(visits).astype(np.int64)
    assert np.array_equal(y, visits), "randhie mdvis is expected to hold whole numbers"
    return _bundled(X, y, None,
                    f"RAND Health Insurance Experiment from statsmodels: {RANDHIE_ROWS} of {total} "
                    f"person-years (subsampled with RandomState(0) to keep runs fast) x "
                    f"{X.shape[1]} covariates, target the number of outpatient doctor visits (mdvis, "
                    f"{y.min()}..{y.max()}).",
                    "statsmodels.datasets.randhie")


def _fair():
    from statsmodels.datasets import fair

    d = fair.load_pandas().data
    cols = [c for c in d.columns if c not in ("rate_marriage", "affairs")]
    X = d[cols].to_numpy(np.float64)
    y = d["rate_marriage"].to_numpy().astype(np.int64)
    return _bundled(X, y, (1, 2, 3, 4, 5),
                    f"Fair's 1978 affairs survey (Redbook, 1974) from statsmodels: {X.shape[0]} "
                    f"women x {X.shape[1]} variables ({', '.join(cols)}), target the self-rated "
                    f"marriage, 1 (very poor) .. 5 (very good).",
                    "statsmodels.datasets.fair")


# name -> (loader, catalog problem type)
DATASETS = {
    "breast_cancer": (_breast_cancer, "binary"),
    "digits": (_digits, "multiclass"),
    "digits_images": (_digits_images, "multiclass"),
    "wine": (_wine, "multiclass"),
    "iris": (_iris, "multiclass"),
    "digit_attributes": (_digit_attributes, "multilabel"),
    "digit8": (_one_digit, "binary"),
    "digit8_rare": (functools.partial(_one_digit, RARE_POSITIVES), "binary"),
    "diabetes": (_diabetes, "regression"),
    "star98": (_star98, "bounded_regression"),
    "randhie": (_randhie, "count"),
    "fair": (_fair, "ordinal"),
}


def names():
    """The names of the bundled datasets."""
    return tuple(DATASETS)


@functools.lru_cache(maxsize=None)
def _load(name):
    loader, problem = DATASETS[name]
    return _make(name, problem, **loader())


def load(name):
    """The bundled dataset called ``name`` (its arrays are read-only and shared)."""
    if name not in DATASETS:
        raise ValueError(expected(DATASETS, "name", name))
    return _load(name)


# --- users' data -------------------------------------------------------------------

def _target(problem, catalog=None):
    """The recommended recipe of ``problem`` in ``catalog`` (None: the bundled one)."""
    catalog = load_catalog() if catalog is None else as_catalog(catalog)
    if problem not in catalog.problems:
        raise ValueError(expected(catalog.problems, "problem", problem))
    return catalog.select(problem)


def target_of(dataset):
    """The target kind of a dataset (``Recipe.target``): the one it was made with, else
    that of the bundled catalog's recipe for its problem."""
    return dataset.target or _target(dataset.problem).target


MIN_ROWS = 6   # fewer rows leave under 2 validation rows at the default val_fraction (0.25)


def _is_pandas(obj):
    return type(obj).__module__.split(".")[0] == "pandas"


def _features(X):
    """Check features: at least 2-D (samples first), real numbers, finite; integers kept
    as integers, anything else as float64."""
    if type(X).__module__.startswith("scipy.sparse"):
        raise ValueError(f"Expected X as a dense array. Received: X is a scipy sparse matrix "
                         f"({type(X).__name__}, shape {getattr(X, 'shape', '?')}); pass "
                         f"X.toarray().")
    if _is_pandas(X) and hasattr(X, "columns"):
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        bad = {str(c): str(t) for c, t in X.dtypes.items()
               if not (is_numeric_dtype(t) or is_bool_dtype(t))}
        if bad:   # a DataFrame: name its non-numeric columns
            raise ValueError(f"Expected numeric feature columns. Received non-numeric columns "
                             f"of X: {bad}; encode them as numbers (e.g. pd.get_dummies) first.")
    X = plain(X, "X")   # (a ragged list raises ValueError in plain; see below)
    if X.dtype.kind == "c":
        raise ValueError(f"Expected real features. Received: complex X (dtype={X.dtype}); "
                         f"pass X.real and X.imag as separate columns, or np.abs(X).")
    if X.dtype == object and X.ndim == 2:
        X = _numbers_only(X)
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"Expected X to be numeric. Received: X.dtype={X.dtype}")
    if X.ndim < 2:
        raise ValueError(f"Expected X with at least 2 dimensions: (samples, features), or "
                         f"(samples, ...) for a backbone (images, token sequences). "
                         f"Received: X.shape={X.shape}")
    if 0 in X.shape:
        raise ValueError(f"Expected at least one sample and one feature. Received: X.shape={X.shape}")
    if X.dtype.kind in "iu":   # integers (token ids for an Embedding) stay integers
        return X
    X = X.astype(np.float64)
    if not np.isfinite(X).all():
        at = tuple(int(i) for i in np.argwhere(~np.isfinite(X))[0])
        raise ValueError(f"Expected finite X. Received: X[{', '.join(map(str, at))}]="
                         f"{float(X[at])} ({int((~np.isfinite(X)).sum())} non-finite values)")
    return X


def _is_missing(v):
    """None, NaN, pandas' NA or NaT: a missing value."""
    return v is None or (isinstance(v, float) and v != v) or type(v).__name__ in ("NAType",
                                                                                  "NaTType")


def _numbers_only(X):
    """An object array of features as float64 (e.g. a DataFrame of nullable Int64
    columns); raises ValueError at its first missing value (pd.NA, None; by row and
    column) or its first entry that is not a number."""
    for (r, c), v in np.ndenumerate(X):
        if _is_missing(v):
            what = "pd.NA" if type(v).__name__ == "NAType" else repr(v)
            raise ValueError(f"Expected X without missing values. Received: X holds {what} at "
                             f"row {r}, column {c}; fill or drop missing values first (e.g. "
                             f"X.fillna(...) or X.dropna()).")
        if not isinstance(v, (int, float, np.number, np.bool_)):
            raise ValueError(f"Expected X to be numeric. Received: X[{r}, {c}]={v!r} "
                             f"({type(v).__name__})")
    return X.astype(np.float64)


def _aligned(X, y):
    """``y`` in the row order of ``X``: when both are pandas objects, rows are paired by
    index, not by position. The same labels in another order reorder ``y``; labels on
    one side only (or repeated labels in indexes that differ) are an error."""
    if not (_is_pandas(X) and _is_pandas(y) and hasattr(X, "index") and hasattr(y, "index")):
        return y
    xi, yi = X.index, y.index
    if xi.equals(yi):
        return y
    if xi.has_duplicates or yi.has_duplicates:
        raise ValueError("Expected X and y with the same index, or indexes without repeated "
                         "labels (pandas X and y are paired by index). Received: indexes that "
                         "differ and repeat labels; align them (y.loc[X.index]) or "
                         "reset_index(drop=True) both.")
    only_x, only_y = xi.difference(yi, sort=False), yi.difference(xi, sort=False)
    if len(only_x) or len(only_y):
        raise ValueError(f"Expected y's index to hold the labels of X's index (pandas X and y "
                         f"are paired by index). Received: {len(only_x)} labels of X's index "
                         f"not in y's (e.g. {only_x[:3].tolist()}) and {len(only_y)} of y's "
                         f"not in X's (e.g. {only_y[:3].tolist()}); select the same rows in "
                         f"both, or pass y.to_numpy() to pair by position.")
    return y.loc[xi]


def _describe(name, X, classes, target):
    """A user dataset's description; for class problems, its classes in index order."""
    each = f"{X.shape[1]} features" if X.ndim == 2 else f"examples of shape {X.shape[1:]}"
    text = f"User data {name!r}: {X.shape[0]} samples x {each}."
    if classes is None or target not in CLASS_TARGETS:
        return text
    shown = [repr(c) for c in classes[:20]] + (["..."] if len(classes) > 20 else [])
    order = (" < ".join(shown) + " (lowest first)") if target == "ordered" else ", ".join(shown)
    return f"{text} {len(classes)} classes in index order: {order}."


def from_arrays(X, y, problem, name="user", classes=None, catalog=None):
    """Wrap a user's arrays as a Dataset of catalog problem type ``problem``.

    ``X``: finite real features, at least ``MIN_ROWS`` rows: a table ``(n, d)``, or any
    rank a backbone takes (images ``(n, h, w, c)``, integer token ids ``(n, t)``);
    integer X stays integer, and only a 2-D float table is standardized (``split``). ``y``: 1-D labels for
    class problems (a (N, 1) column is flattened, a one-hot matrix read as class
    indices), 2-D 0/1 for multi-label, 1-D or 2-D values for regression. ``classes``:
    class labels in index order (default: the levels of an ordered Categorical, else the
    sorted distinct labels). ``catalog``: where ``problem`` is defined (None: the
    bundled catalog), so a user's own problem type works. Labels are checked by the
    problem's recommended recipe (``encode``), so a bad label gives the same error
    training would. Masked entries are an error, never a label. A pandas ``X`` and ``y``
    are paired by index (``_aligned``). The description names the classes in index
    order.
    """
    recipe = _target(problem, catalog)
    y = _aligned(X, y)
    try:
        X = _features(X)
    except ValueError as e:
        if "inhomogeneous" not in str(e) and "sequence" not in str(e):
            raise
        raise ValueError(f"Expected X as a 2-D numeric array. Received an irregular "
                         f"array: {e}") from None
    levels = ordered_levels(y)
    y = plain(y, "y")
    if y.ndim == 0 or len(y) != len(X):
        raise ValueError(f"Expected len(y) == len(X) == {len(X)}. Received: y.shape={y.shape}")
    if recipe.target in CLASS_TARGETS:
        if y.dtype.kind == "c":
            raise ValueError(f"Expected real or named class labels. Received: y.dtype={y.dtype}")
        y, found = class_labels(y, classes if classes is not None else levels)
        classes = tuple(found.tolist())
    elif recipe.target == "labels":
        if y.ndim != 2:
            raise ValueError(f"Expected a 2-D 0/1 label matrix (samples, labels) for problem "
                             f"{problem!r}. Received: y.shape={y.shape}")
    else:
        if y.ndim not in (1, 2):
            raise ValueError(f"Expected 1-D or 2-D targets. Received: y.shape={y.shape}")
        if y.dtype == object or not np.issubdtype(y.dtype, np.number) or y.dtype.kind == "c":
            raise ValueError(f"Expected real numeric targets for problem {problem!r}. "
                             f"Received: y.dtype={y.dtype}")
        if not np.isfinite(y.astype(np.float64)).all():
            rows = np.flatnonzero(~np.isfinite(y.astype(np.float64)).reshape(len(y), -1).any(1))
            raise ValueError(f"Expected finite targets. Received NaN or inf at rows "
                             f"{rows[:5].tolist()}")
    recipe.encode(y, classes)  # raises on labels the problem's recipes cannot take
    if X.shape[0] < MIN_ROWS:
        raise ValueError(f"Expected at least {MIN_ROWS} rows, to split into train and validation "
                         f"parts. Received: X.shape={X.shape}")
    return _make(name, problem, X, y, classes, _describe(name, X, classes, recipe.target),
                 "user", derived=False, target=recipe.target)


# --- splits ------------------------------------------------------------------------

def problem_size(dataset):
    """``n`` for ``recipe.n_units(n)``: classes, labels or targets of the dataset."""
    target = target_of(dataset)
    if target in CLASS_TARGETS:
        return len(dataset.classes)
    y = np.asarray(dataset.y)
    return 1 if y.ndim == 1 else y.shape[1]


# Targets standardized by split(): unbounded real values only.
SCALED_TARGETS = {"values"}


def split(dataset, val_fraction=0.25, seed=0, test_fraction=0.0, show_test=True):
    """Split ``dataset`` into train, validation and (optionally) test parts.

    The test rows (``test_fraction`` of all rows) are carved out first, always
    with the same seed (0), so every run of a dataset is scored on the same test
    rows and no run, of any seed, ever trains or is tuned on them. The remaining
    rows are split into train and validation with ``seed``: each seed of an
    experiment sees its own train/validation split, so the spread over seeds
    includes data variation, not only initialization. ``show_test=False`` leaves
    the test rows out of the split entirely (``X_test`` is None): what a tuning
    run gets.

    Class problems (binary, multiclass, ordinal) are stratified on the label; a
    class with fewer than 2 examples makes stratification impossible and falls
    back to a plain random split, with a warning. A 2-D float table of features
    becomes float32, standardized with the train mean and std (constant train
    columns: std 1); so do regression targets (``SCALED_TARGETS``). Any other X
    (images, integer token ids, an integer table) is passed as it is (floats as
    float32, integers unchanged), with ``mean`` and ``std`` None.
    """
    if not 0.0 < float(val_fraction) < 1.0:
        raise ValueError(f"Expected 0 < val_fraction < 1. Received: val_fraction={val_fraction!r}")
    if not 0.0 <= float(test_fraction) < 1.0 - float(val_fraction):
        raise ValueError(f"Expected 0 <= test_fraction < 1 - val_fraction. "
                         f"Received: test_fraction={test_fraction!r}")
    target = target_of(dataset)
    X, y = np.asarray(dataset.X), np.asarray(dataset.y)
    table = X.ndim == 2 and X.dtype.kind not in "iu"
    X = X.astype(np.float64) if table else X
    rows, test = np.arange(len(X)), None
    fractions = (float(val_fraction), float(test_fraction))
    if test_fraction > 0:
        rows, test = _cut(dataset, rows, test_fraction, 0, target, "test", fractions)
    train, val = _cut(dataset, rows, val_fraction / (1.0 - test_fraction), seed, target,
                      "validation", fractions)
    mean, std = _moments(X[train]) if table else (None, None)
    scale = (lambda part: _standardize(X[part], mean, std).astype(np.float32)) if table else (
        lambda part: X[part] if X.dtype.kind in "iu" else X[part].astype(np.float32))
    y_mean, y_std = _moments(y[train]) if target in SCALED_TARGETS else (None, None)
    scale_y = (lambda part: y[part]) if y_mean is None else (
        lambda part: _standardize(y[part], y_mean, y_std))
    shown = test is not None and show_test
    return Split(X_train=scale(train), X_val=scale(val), y_train=scale_y(train), y_val=scale_y(val),
                 classes=dataset.classes, n=problem_size(dataset), problem=dataset.problem,
                 name=dataset.name, mean=mean, std=std, y_mean=y_mean, y_std=y_std,
                 X_test=scale(test) if shown else None, y_test=scale_y(test) if shown else None)


def _cut(dataset, rows, fraction, seed, target, part="validation", fractions=None):
    """``rows`` cut in two, the second part (the ``part`` split) ``fraction`` of them;
    stratified for classes. ``fractions``: the split's (val_fraction, test_fraction), to
    say how many rows a stratified split needs when there are too few."""
    from sklearn.model_selection import train_test_split

    y = np.asarray(dataset.y)[rows]
    stratify = None
    if target in CLASS_TARGETS:
        values, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2:
            stratify = y
        else:
            warnings.warn(f"Dataset {dataset.name!r}: class {values[counts.argmin()]!r} has "
                          f"{counts.min()} example(s); the split is not stratified.",
                          stacklevel=3)
    try:
        return train_test_split(rows, test_size=fraction, random_state=seed, stratify=stratify)
    except ValueError as e:  # too few rows for a stratified split of this size
        if stratify is None:
            raise ValueError(f"Cannot split dataset {dataset.name!r} ({len(rows)} rows) with a "
                             f"part of {fraction:.3g}: {e}") from None
        raise ValueError(_too_few(dataset, len(rows), fraction, part, len(values),
                                  fractions or (fraction, 0.0))) from None


# split -> the setting that sizes it, and what it is
SPLIT_SETTINGS = {
    "test": ("test_fraction", "the held-out test split (a tuned experiment, tune=..., holds "
                              "out test_fraction=0.2 of the rows by default)"),
    "validation": ("val_fraction", "the validation split"),
}


def _too_few(dataset, rows, fraction, part, k, fractions):
    """Why a stratified cut of ``rows`` rows failed: which split, the rows it got and the
    rows it needs (each side of every cut holds at least one row per class: ``k``)."""
    got = math.ceil(fraction * rows)
    setting, what = SPLIT_SETTINGS[part]
    need = _rows_needed(k, *fractions)
    return (f"Cannot split dataset {dataset.name!r}: {what} got {got} of the {rows} rows it "
            f"is cut from ({setting}={fractions[part == 'test']:g}), and a stratified split "
            f"needs at least {k} rows on each side of every cut (one per class, {k} classes)"
            f"; the other side keeps {rows - got}. Expected "
            f"{f'at least {need} rows in all' if need else 'more rows'}: add rows, merge rare "
            f"classes (fewer classes), or change {setting}"
            f"{' (or leave tune out: no test split)' if part == 'test' else ''}.")


def _rows_needed(k, val_fraction, test_fraction):
    """The fewest rows whose test and validation cuts (sizes as scikit-learn's
    ``train_test_split``: the split's part rounded up) leave ``k`` rows on every side."""
    def enough(n):
        test = math.ceil(test_fraction * n) if test_fraction > 0 else 0
        rest = n - test
        val = math.ceil(val_fraction / (1.0 - test_fraction) * rest)
        return (test_fraction == 0 or test >= k) and val >= k and rest - val >= k

    return next((n for n in range(2 * k, 10 ** 6) if enough(n)), None)


def _moments(a):
    """Mean and std over rows; constant columns get std 1. Computed on values divided by
    each column's largest magnitude, so that values near the float64 limit (1e300)
    do not overflow to inf (which would standardize every feature to 0)."""
    a = np.asarray(a, dtype=np.float64)
    big = np.abs(a).max(axis=0) if len(a) else np.ones(a.shape[1:])
    big = np.where(big > 0, big, 1.0)
    small = a / big
    std = small.std(axis=0) * big
    return small.mean(axis=0) * big, np.where(np.ptp(small, axis=0) == 0, 1.0, std)


def _standardize(a, mean, std):
    """``(a - mean) / std``, as ``a / std - mean / std`` (no overflow for huge values)."""
    return np.asarray(a, dtype=np.float64) / std - mean / std
