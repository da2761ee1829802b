"""Bundled datasets, splits and users' arrays."""

import dataclasses

import numpy as np
import pytest

from recipes.training import data
from recipes.catalog.table import load_catalog

CATALOG = load_catalog()
REQUIRED = {
    "breast_cancer": "binary", "digits": "multiclass", "wine": "multiclass",
    "iris": "multiclass", "digit_attributes": "multilabel", "diabetes": "regression",
    "star98": "bounded_regression", "randhie": "count", "fair": "ordinal",
    "digits_images": "multiclass",
}
IMAGES = {"digits_images"}   # (n, h, w, c): for a backbone that takes images, never scaled

# labels computed from a real set's labels (not collected as such)
DERIVED = {"digit_attributes", "digit8", "digit8_rare"}


def test_required_datasets_are_listed():
    assert set(REQUIRED) <= set(data.names())
    for name, problem in REQUIRED.items():
        assert data.DATASETS[name][1] == problem


@pytest.mark.parametrize("name", data.names())
def test_dataset_loads(name):
    ds = data.load(name)
    assert ds.name == name and ds.problem == data.DATASETS[name][1]
    assert ds.problem in CATALOG.problems
    assert ds.X.dtype == np.float64 and len(ds.y) == len(ds.X)
    assert ds.X.ndim == (4 if name in IMAGES else 2)
    assert np.isfinite(ds.X).all()
    assert not np.isnan(np.asarray(ds.y, dtype=float)).any()
    recipe = CATALOG.select(ds.problem)
    targets = recipe.encode(ds.y, ds.classes)  # the labels fit the recommended recipe
    assert len(targets) == len(ds.X)
    if recipe.target in ("classes", "ordered"):
        assert ds.y.ndim == 1 and set(np.unique(ds.y).tolist()) == set(ds.classes)
    elif recipe.target == "labels":
        assert ds.y.ndim == 2 and len(ds.classes) == ds.y.shape[1]
    else:
        assert ds.classes is None
    assert ds.source.startswith(("sklearn.datasets.", "statsmodels.datasets."))
    assert str(len(ds.X)) in ds.description
    assert ds.derived == (name in DERIVED)
    assert data.load(name) is ds  # cached
    with pytest.raises(ValueError):
        ds.X[0, 0] = 1.0  # shared arrays are read-only
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.name = "other"


def test_dataset_specifics():
    digits, attrs = data.load("digits"), data.load("digit_attributes")
    assert digits.X.shape == (1797, 64) and digits.classes == tuple(range(10))
    assert np.array_equal(attrs.X, digits.X)
    d = digits.y
    expected = np.stack([d % 2 == 0, d > 4, np.isin(d, (2, 3, 5, 7))], axis=1)
    assert np.array_equal(attrs.y, expected.astype(int))
    eights, rare = data.load("digit8"), data.load("digit8_rare")
    assert np.array_equal(eights.y, (d == 8).astype(int)) and eights.y.sum() == 174
    assert rare.X.shape == (1797 - 174 + 50, 64) and rare.y.sum() == 50   # 3.0% positives
    assert np.array_equal(rare.X[rare.y == 0], digits.X[d != 8])
    assert all((digits.X[d == 8] == x).all(1).any() for x in rare.X[rare.y == 1])
    star = data.load("star98")
    assert star.X.shape == (303, 20) and ((star.y > 0) & (star.y < 1)).all()
    rand = data.load("randhie")
    assert rand.X.shape == (4000, 9) and rand.y.dtype.kind == "i" and rand.y.min() >= 0
    assert "RandomState(0)" in rand.description
    fair = data.load("fair")
    assert fair.classes == (1, 2, 3, 4, 5) and fair.y.dtype.kind == "i"
    assert fair.X.shape == (6366, 7)
    assert data.load("breast_cancer").X.shape == (569, 30)
    assert data.load("wine").X.shape == (178, 13)
    assert data.load("diabetes").y.dtype == np.float64


def test_digits_images_are_the_digits_as_8x8x1_images_in_0_to_1_never_standardized():
    images, flat = data.load("digits_images"), data.load("digits")
    assert images.X.shape == (1797, 8, 8, 1) and images.classes == flat.classes
    np.testing.assert_array_equal(images.X.reshape(1797, 64) * 16, flat.X)
    np.testing.assert_array_equal(images.y, flat.y)
    s = data.split(images, seed=0)
    assert s.X_train.shape[1:] == (8, 8, 1) and s.mean is None and s.std is None
    assert 0 <= s.X_train.min() and s.X_train.max() <= 1


def test_unknown_name():
    with pytest.raises(ValueError, match=r"Expected one of \{.*'digits'.*\}. Received: name='mnist'"):
        data.load("mnist")


# --- split -----------------------------------------------------------------------

@pytest.mark.parametrize("name", data.names())
def test_split_shapes_and_size(name):
    ds = data.load(name)
    s = data.split(ds, val_fraction=0.25, seed=0)
    assert s.X_train.dtype == np.float32 and s.X_val.dtype == np.float32
    assert len(s.X_train) + len(s.X_val) == len(ds.X)
    assert len(s.X_val) == int(np.ceil(0.25 * len(ds.X)))
    assert len(s.y_train) == len(s.X_train) and len(s.y_val) == len(s.X_val)
    assert s.problem == ds.problem and s.name == name and s.classes == ds.classes
    recipe = CATALOG.select(ds.problem)
    assert recipe.n_units(s.n) >= 1
    expected_n = {"breast_cancer": 2, "digits": 10, "wine": 3, "iris": 3,
                  "digit_attributes": 3, "diabetes": 1, "star98": 1, "randhie": 1, "fair": 5,
                  "digits_images": 10}
    if name in expected_n:
        assert s.n == expected_n[name]


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "fair"])
def test_split_is_stratified(name):
    ds = data.load(name)
    s = data.split(ds, val_fraction=0.25, seed=3)
    for c in ds.classes:
        expected = np.mean(ds.y == c) * len(s.y_val)
        assert abs(np.sum(s.y_val == c) - expected) <= 1, c


def test_split_is_deterministic():
    ds = data.load("wine")
    a, b, c = data.split(ds, seed=1), data.split(ds, seed=1), data.split(ds, seed=2)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.X_train, c.X_train)


def test_standardization_uses_train_statistics_only():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    X[:, 2] = 7.0  # constant column
    ds = data.from_arrays(X, rng.normal(size=400), "regression")
    s = data.split(ds, val_fraction=0.25, seed=0)
    np.testing.assert_allclose(s.X_train[:, :2].mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(s.X_train[:, :2].std(axis=0), 1.0, atol=1e-5)
    assert s.std[2] == 1.0 and (s.X_train[:, 2] == 0).all() and (s.X_val[:, 2] == 0).all()
    # validation rows are scaled with the train mean/std, not their own
    y_val = s.y_val * s.y_std + s.y_mean
    val_rows = np.isclose(ds.y[:, None], y_val[None]).any(1)
    train = X[~val_rows]
    np.testing.assert_allclose(s.mean, train.mean(axis=0))
    expected = (X[val_rows][:, :2] - train[:, :2].mean(axis=0)) / train[:, :2].std(axis=0)
    order = np.argsort(ds.y[val_rows])
    np.testing.assert_allclose(s.X_val[np.argsort(s.y_val), :2], expected[order], rtol=1e-5,
                               atol=1e-5)
    assert abs(s.X_val[:, :2].mean()) > 1e-6  # not re-centred on itself
    # regression targets too: train statistics, so MSE 1.0 = predicting the train mean
    np.testing.assert_allclose([s.y_train.mean(), s.y_train.std()], [0.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(s.y_mean, ds.y[~val_rows].mean())
    assert abs(s.y_val.mean()) > 1e-6


@pytest.mark.parametrize("name", ["breast_cancer", "star98", "randhie", "digit_attributes"])
def test_targets_with_meaning_are_not_rescaled(name):
    ds = data.load(name)
    s = data.split(ds)
    assert s.y_mean is None and s.y_std is None
    assert set(np.unique(s.y_train)) <= set(np.unique(ds.y))


def test_split_bad_fraction():
    with pytest.raises(ValueError, match="val_fraction"):
        data.split(data.load("iris"), val_fraction=1.5)


def test_split_falls_back_when_a_class_is_singleton():
    X = np.arange(20.0).reshape(10, 2)
    ds = data.from_arrays(X, [0] * 5 + [1] * 4 + [2], "multiclass")
    with pytest.warns(UserWarning, match="not stratified"):
        s = data.split(ds, val_fraction=0.3)
    assert len(s.y_val) == 3 and s.n == 3


# --- from_arrays -----------------------------------------------------------------

def test_from_arrays_ok():
    X = np.arange(12).reshape(6, 2)
    ds = data.from_arrays(X, ["b", "a", "b", "a", "b", "a"], "binary", name="mine")
    # integer X stays integer (token ids for an Embedding backbone; issue #21), floats float64
    assert ds.classes == ("a", "b") and ds.X.dtype.kind == "i" and ds.source == "user"
    assert data.from_arrays(X * 0.5, [0, 1] * 3, "binary").X.dtype == np.float64
    ds = data.from_arrays(X, np.eye(3)[[0, 1, 2, 0, 1, 2]], "multilabel")
    assert ds.y.shape == (6, 3) and ds.classes is None
    ds = data.from_arrays(X, [[0], [1], [2], [0], [1], [2]], "ordinal", classes=(0, 1, 2))
    assert ds.y.shape == (6,)
    assert data.split(ds, val_fraction=0.5).n == 3


@pytest.mark.parametrize("X, y, problem, match", [
    (np.arange(4.0), [0, 1, 0, 1], "binary", r"2-D .*X.shape=\(4,\)"),
    ([[1.0, np.nan], [2.0, 3.0]], [0, 1], "binary", r"finite X. Received: X\[0, 1\]=nan"),
    ([["a", "b"], ["c", "d"]], [0, 1], "binary", "numeric"),
    (np.ones((3, 2)), [0, 1], "binary", r"len\(y\) == len\(X\) == 3"),
    (np.ones((3, 2)), [0, 1, 2], "binary", "exactly 2 classes"),
    (np.ones((2, 2)), [[0, 2], [1, 0]], "multilabel", r"0/1 labels"),
    (np.ones((2, 2)), [0, 1], "multilabel", "2-D 0/1 label matrix"),
    (np.ones((2, 2)), [0.5, 1.5], "bounded_regression", "within 0..1"),
    (np.ones((2, 2)), [1, -1], "count", "non-negative integer counts"),
    (np.ones((2, 2)), [1.0, np.nan], "regression", "NaN or inf"),
    (np.ones((2, 2)), ["x", "y"], "regression", "numeric targets"),
    (np.ones((2, 2)), [0, 3], "multiclass", "not among the classes"),
    (np.ones((2, 2)), [0, 1], "binnary", r"Expected one of .*Received: problem='binnary'"),
])
def test_from_arrays_errors(X, y, problem, match):
    classes = (0, 1, 2) if problem == "multiclass" else None
    with pytest.raises(ValueError, match=match):
        data.from_arrays(X, y, problem, classes=classes)
