"""Common metrics: equal to scikit-learn's on one run, vectorized over leading axes."""

import zlib

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_poisson_deviance,
    mean_squared_error,
)

from recipes.catalog import codec
from recipes.training import metrics as M
from recipes.catalog.table import get, load_catalog

N = 200
RECIPES = list(load_catalog())


def _size(recipe):
    return 2 if recipe.problem == "binary" else 4


def _labels(recipe, rng, n, rows=N):
    """Random labels of the recipe's target, and classes for class targets."""
    t = recipe.target
    if t in ("classes", "ordered"):
        return rng.integers(0, n, rows), tuple(range(n))
    if t == "labels":
        y = (rng.random((rows, n)) < 0.4).astype(int)
        y[:, -1] = 0  # a label without positives: exercises f1's zero_division
        return y, None
    if t == "counts":
        return rng.poisson(2.0, (rows, n)), None
    if t == "unit":
        return rng.random((rows, n)), None
    return rng.normal(size=(rows, n)), None


def _outputs(recipe, rng, n, lead=(), rows=N):
    """Random raw model outputs: the recipe's activation applied to logits."""
    z = rng.normal(scale=2.0, size=lead + (rows, recipe.n_units(n)))
    return codec.NUMPY_ACTIVATIONS[recipe.activation](z)


# --- agreement with scikit-learn on one run -------------------------------------

def test_multiclass_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    r = get("multiclass_softmax_cce")
    y = rng.integers(0, 5, N)
    z = rng.normal(size=(N, 5))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    m = M.common_metrics(r, M.truth(r, y, range(5)), p)
    labels = list(range(5))
    assert m["accuracy"] == pytest.approx(accuracy_score(y, p.argmax(axis=1)))
    assert m["log_loss"] == pytest.approx(log_loss(y, p, labels=labels))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p, labels=labels))
    assert m["out_of_range"] == 0.0
    assert m["accuracy"].shape == ()


def test_binary_metrics_match_sklearn_and_brier_is_unscaled():
    rng = np.random.default_rng(1)
    r = get("binary_sigmoid_bce")
    y = rng.integers(0, 2, N)
    p1 = rng.uniform(0.01, 0.99, N)
    m = M.common_metrics(r, M.truth(r, y, (0, 1)), p1[:, None])
    assert m["accuracy"] == pytest.approx(accuracy_score(y, (p1 >= 0.5).astype(int)))
    assert m["log_loss"] == pytest.approx(log_loss(y, p1))
    # one definition for every class problem: sum over both classes (0..2) ...
    assert m["brier"] == pytest.approx(brier_score_loss(y, p1, scale_by_half=False))
    # ... which is twice scikit-learn's default binary Brier score
    assert m["brier"] == pytest.approx(2 * brier_score_loss(y, p1))


def test_string_labels_and_logits_recipe():
    rng = np.random.default_rng(2)
    r = get("multiclass_logits_cce")
    names = np.array(["cat", "dog", "eel"])
    y = names[rng.integers(0, 3, N)]
    z = rng.normal(size=(N, 3))
    p = codec.softmax(z)
    t = M.truth(r, y, names)
    assert t.dtype == np.int64 and t.shape == (N,)
    m = M.common_metrics(r, t, z)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, names[z.argmax(axis=1)]))
    assert m["log_loss"] == pytest.approx(log_loss(y, p, labels=names))


def test_ordinal_metrics_match_sklearn():
    rng = np.random.default_rng(3)
    r = get("ordinal_softmax_cce")
    y = rng.integers(1, 6, N)  # levels 1..5
    p = codec.softmax(rng.normal(size=(N, 5)))
    m = M.common_metrics(r, M.truth(r, y, (1, 2, 3, 4, 5)), p)
    pred = p.argmax(axis=1) + 1
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["mae"] == pytest.approx(mean_absolute_error(y, pred))
    assert m["log_loss"] == pytest.approx(log_loss(y, p, labels=[1, 2, 3, 4, 5]))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p, labels=[1, 2, 3, 4, 5]))


def test_multilabel_metrics_match_sklearn():
    rng = np.random.default_rng(4)
    r = get("multilabel_sigmoid_bce")
    y = (rng.random((N, 4)) < 0.3).astype(int)
    y[:, 3] = 0
    p = rng.uniform(0.01, 0.99, (N, 4))
    p[:, 3] = 0.2  # label 3: no positives, none predicted -> F1 counts 1.0
    y[:, 2] = 0  # label 2: no positives but some predicted -> F1 0.0
    m = M.common_metrics(r, M.truth(r, y), p)
    pred = (p >= 0.5).astype(int)
    assert m["accuracy"] == pytest.approx(accuracy_score(y.ravel(), pred.ravel()))
    assert m["f1"] == pytest.approx(f1_score(y, pred, average="macro", zero_division=1.0))
    assert m["log_loss"] == pytest.approx(np.mean([log_loss(y[:, j], p[:, j], labels=[0, 1])
                                                   for j in range(4)]))


def test_f1_zero_division_cases():
    r = get("multilabel_sigmoid_bce")
    y = np.array([[1, 0, 0, 1], [0, 0, 0, 1], [1, 0, 1, 0]])
    p = np.array([[0.9, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]])
    # labels: 0 half found (2/3), 1 nothing to find (1.0), 2 missed (0.0), 3 missed (0.0)
    m = M.common_metrics(r, M.truth(r, y), p)
    assert m["f1"] == pytest.approx((2 / 3 + 1.0 + 0.0 + 0.0) / 4)
    assert m["f1"] == pytest.approx(f1_score(y, (p >= 0.5).astype(int), average="macro",
                                             zero_division=1.0))


def test_single_label_multilabel():
    rng = np.random.default_rng(5)
    r = get("multilabel_sigmoid_bce")
    y = rng.integers(0, 2, (N, 1))
    p = rng.uniform(0.01, 0.99, (N, 1))
    m = M.common_metrics(r, M.truth(r, y), p)
    assert m["log_loss"] == pytest.approx(log_loss(y[:, 0], p[:, 0]))
    assert m["f1"] == pytest.approx(f1_score(y[:, 0], (p[:, 0] >= 0.5).astype(int)))


@pytest.mark.parametrize("name", ["regression_linear_mse", "bounded_linear_mse"])
def test_value_metrics_match_sklearn(name):
    rng = np.random.default_rng(6)
    r = get(name)
    y = rng.random((N, 3))
    out = rng.normal(0.5, 0.6, (N, 3))
    m = M.common_metrics(r, M.truth(r, y), out)
    assert m["mse"] == pytest.approx(mean_squared_error(y, out))
    assert m["mae"] == pytest.approx(mean_absolute_error(y, out))
    if "out_of_range" in m:
        assert m["out_of_range"] == pytest.approx(np.mean((out < 0) | (out > 1)))


def test_poisson_deviance_matches_sklearn_and_nan_when_undefined():
    rng = np.random.default_rng(7)
    r = get("count_log_poisson")  # raw outputs are log-rates
    y = rng.poisson(3.0, N)
    z = rng.normal(1.0, 0.5, N)
    m = M.common_metrics(r, M.truth(r, y), z[:, None])
    assert m["poisson_deviance"] == pytest.approx(mean_poisson_deviance(y, np.exp(z)))
    assert m["mse"] == pytest.approx(mean_squared_error(y, np.exp(z)))
    lin = get("count_linear_mse")
    out = np.stack([np.exp(z), np.where(np.arange(N) == 5, -0.1, np.exp(z))])[..., None]
    dev = M.common_metrics(lin, M.truth(lin, y), out)["poisson_deviance"]
    assert dev[0] == pytest.approx(mean_poisson_deviance(y, np.exp(z)))
    assert np.isnan(dev[1])  # one negative prediction: undefined for that run only


def test_log_loss_clips_probabilities():
    r = get("multiclass_softmax_cce")
    p = np.array([[1.0, 0.0], [0.0, 1.0]])
    m = M.common_metrics(r, np.array([1, 1]), p)
    assert m["log_loss"] == pytest.approx(-np.log(M.EPSILON) / 2)


# --- ECE ------------------------------------------------------------------------------

def test_ece_hand_computed():
    r = get("multiclass_softmax_cce")
    p = np.array([[0.90, 0.05, 0.05],   # correct, conf 0.90: bin (13/15, 14/15]
                  [0.30, 0.62, 0.08],   # true 0: wrong, conf 0.62: bin (9/15, 10/15]
                  [0.65, 0.25, 0.10],   # correct, conf 0.65: bin (9/15, 10/15]
                  [0.95, 0.03, 0.02]])  # true 2: wrong, conf 0.95: bin (14/15, 1]
    y = np.array([0, 0, 0, 2])
    # bins: |1 - .9| * 1/4 + |0.5 - 0.635| * 2/4 + |0 - .95| * 1/4 = 0.33
    ece = M.common_metrics(r, y, p)["ece"]
    assert ece == pytest.approx(0.33)
    assert M.common_metrics(r, y, np.stack([p, p[[3, 2, 1, 0]]]))["ece"][0] == pytest.approx(0.33)


def test_ece_perfectly_calibrated_is_zero():
    r = get("binary_sigmoid_bce")
    # four samples at confidence 0.75 with three correct
    m = M.common_metrics(r, np.array([1, 1, 1, 0]), np.full((4, 1), 0.75))
    assert m["ece"] == pytest.approx(0.0)


# --- not applicable, out of range --------------------------------------------------

@pytest.mark.parametrize("name", ["multiclass_index_regression", "ordinal_index_regression"])
def test_round_recipes_get_nan_probability_metrics(name):
    r = get(name)
    assert r.proba(np.zeros((3, 1))) is None
    y = np.array([0, 2, 2, 2])
    out = np.array([[0.1], [1.4], [2.6], [5.0]])
    m = M.common_metrics(r, y, out, n=3)
    for k in set(M.COMMON[r.target]) & M.NEEDS_PROBABILITIES:
        assert np.isnan(m[k]), k
    assert m["accuracy"] == pytest.approx(0.75)  # predicted 0, 1, 2, 2 (5.0 clipped to n - 1)
    if "mae" in m:
        assert m["mae"] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="pass n"):
        M.common_metrics(r, y, out)


def test_out_of_range_on_linear_output():
    r = get("binary_linear_mse")
    out = np.array([[-0.2], [0.5], [1.3], [0.9]])
    m = M.common_metrics(r, np.array([0, 1, 1, 1]), out)
    assert m["out_of_range"] == pytest.approx(0.5)
    r = get("multiclass_linear_mse")
    out = np.array([[1.2, -0.1, 0.0], [0.3, 0.3, 0.4]])
    assert M.common_metrics(r, np.array([0, 2]), out)["out_of_range"] == pytest.approx(2 / 6)
    # a logits recipe's scores are probabilities whatever the raw outputs
    r = get("binary_logits_bce")
    logits = np.array([[-9.0], [0.5], [7.0], [0.9]])
    assert M.common_metrics(r, np.array([0, 1, 1, 1]), logits)["out_of_range"] == 0.0


def test_shape_errors():
    r = get("multiclass_softmax_cce")
    with pytest.raises(ValueError, match="N = len"):
        M.common_metrics(r, np.array([0, 1, 2]), np.full((4, 3), 1 / 3))
    with pytest.raises(ValueError, match="class indices"):
        M.common_metrics(r, np.array([0, 1, 3]), np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match="output unit"):
        M.common_metrics(get("multiclass_index_regression"), np.array([0, 1]),
                         np.zeros((2, 3)), n=3)


# --- vectorized over leading axes == a loop over runs ----------------------------

@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r.name)
def test_common_metrics_per_recipe(recipe):
    rng = np.random.default_rng(zlib.crc32(recipe.name.encode()))
    n = _size(recipe)
    y, classes = _labels(recipe, rng, n)
    t = M.truth(recipe, y, classes)
    out = _outputs(recipe, rng, n, lead=(3, 4))
    m = M.common_metrics(recipe, t, out, n=n)
    assert tuple(m) == M.names(recipe, n)
    for k, v in m.items():
        assert v.shape == (3, 4), k
        if recipe.proba(out[0, 0]) is None and k in M.NEEDS_PROBABILITIES:
            assert np.isnan(v).all(), k  # documented: not applicable
        elif k == "poisson_deviance":  # documented: NaN exactly where a prediction <= 0
            undefined = (recipe.decode(out) <= 0).any(axis=(-2, -1))
            assert np.array_equal(np.isnan(v), undefined) and np.isfinite(v[~undefined]).all()
        else:
            assert np.isfinite(v).all(), k
    # the vectorized result equals a loop over single runs
    for i in range(3):
        for j in range(4):
            single = M.common_metrics(recipe, t, out[i, j], n=n)
            for k in m:
                np.testing.assert_allclose(single[k], m[k][i, j], rtol=1e-12, err_msg=k)


def test_tables_are_consistent():
    targets = {r.target for r in RECIPES}
    assert targets <= set(M.COMMON) and set(M.PRIMARY) == set(M.COMMON)
    for target, names in M.COMMON.items():
        assert M.PRIMARY[target] in names
    assert M.HIGHER_IS_BETTER == {"accuracy", "balanced_accuracy", "f1", "pr_auc"}
    assert M.higher_is_better("f1") and not M.higher_is_better("mse")


def test_truth_forms():
    rng = np.random.default_rng(8)
    r = get("multilabel_sigmoid_bce")
    assert M.truth(r, rng.integers(0, 2, (5, 3))).dtype == np.int64
    with pytest.raises(ValueError, match="0/1"):
        M.truth(r, np.array([[0, 2]]))
    v = M.truth(get("regression_linear_mse"), np.arange(5.0))
    assert v.shape == (5, 1) and v.dtype == np.float64
    with pytest.raises(ValueError, match="not among the classes"):
        M.truth(get("multiclass_softmax_cce"), [0, 7], classes=(0, 1, 2))


def test_many_runs_at_once():
    rng = np.random.default_rng(9)
    r = get("multiclass_softmax_cce")
    out = codec.softmax(rng.normal(size=(10, 20, 450, 10)))
    y = rng.integers(0, 10, 450)
    m = M.common_metrics(r, y, out)
    assert m["ece"].shape == (10, 20)
    one = M.common_metrics(r, y, out[3, 7])
    assert all(np.isclose(m[k][3, 7], one[k]) for k in m)


# --- balanced accuracy, binary F1 and PR-AUC, non-finite outputs, baselines -----------

def test_balanced_accuracy_matches_sklearn_on_imbalanced_data():
    rng = np.random.default_rng(10)
    r = get("multiclass_softmax_cce")
    y = rng.choice(4, N, p=[0.7, 0.2, 0.1, 0.0])  # class 3 never occurs
    p = codec.softmax(rng.normal(size=(2, N, 4)))
    m = M.common_metrics(r, M.truth(r, y, range(4)), p)
    for i in range(2):
        assert m["balanced_accuracy"][i] == pytest.approx(
            balanced_accuracy_score(y, p[i].argmax(axis=1)))


@pytest.mark.parametrize("name", ["binary_sigmoid_bce", "binary_softmax2_cce",
                                  "binary_linear_mse"])
def test_binary_f1_and_pr_auc_match_sklearn(name):
    rng = np.random.default_rng(11)
    r = get(name)
    y = (rng.random(N) < 0.1).astype(int)  # 10% positives
    out = _outputs(r, rng, 2, lead=(3,))
    out[1] = np.round(out[1], 1)  # many tied scores
    m = M.common_metrics(r, M.truth(r, y, (0, 1)), out)
    assert M.names(r, 2) == tuple(m) and m["pr_auc"].shape == (3,)
    for i in range(3):
        pred = r.decode(out[i], 2)
        p1 = r.proba(out[i])[:, 1]
        assert m["f1"][i] == pytest.approx(f1_score(y, pred, zero_division=1.0))
        assert m["pr_auc"][i] == pytest.approx(average_precision_score(y, p1))


def test_multiclass_has_no_binary_metrics():
    r = get("multiclass_softmax_cce")
    assert "pr_auc" not in M.common_metrics(r, np.array([0, 1, 2]), np.full((3, 3), 1 / 3))


def test_non_finite_outputs_are_never_scored():
    r = get("binary_sigmoid_bce")
    y = np.array([0, 1, 1, 0])
    good = np.array([[0.1], [0.9], [0.8], [0.2]])
    bad = good.copy()
    bad[2, 0] = np.nan  # NaN would decode to class 0 and score 0.75 accuracy
    m = M.common_metrics(r, y, np.stack([good, bad, np.full((4, 1), np.inf)]))
    for k, v in m.items():
        assert v[0] == pytest.approx(M.common_metrics(r, y, good)[k]), k
        assert np.isnan(v[1:]).all(), k


def test_baselines_majority_class_and_prior():
    train = np.array([0] * 95 + [1] * 5)
    ev = np.array([0] * 18 + [1] * 2)
    b = M.baselines("binary", train, ev)
    assert tuple(b) == M.names(get("binary_sigmoid_bce"), 2)
    assert b["accuracy"] == pytest.approx(0.9) and b["balanced_accuracy"] == 0.5
    assert b["f1"] == 0.0 and b["pr_auc"] == pytest.approx(0.1)  # constant score: P / N
    p = np.tile([0.95, 0.05], (20, 1))
    assert b["log_loss"] == pytest.approx(log_loss(ev, p))
    assert b["brier"] == pytest.approx(brier_score_loss(ev, p[:, 1], scale_by_half=False))
    assert b["ece"] == pytest.approx(abs(0.9 - 0.95)) and b["out_of_range"] == 0.0
    # the baseline equals common_metrics of a model that outputs the prior for every example
    r = get("binary_sigmoid_bce")
    assert b == pytest.approx({k: float(v) for k, v in M.common_metrics(
        r, ev, np.full((20, 1), 0.05)).items()})


def test_baselines_mean_and_median_predictors():
    train = np.array([0.0, 1.0, 2.0, 10.0])
    ev = np.array([1.0, 3.0])
    b = M.baselines("regression", train, ev)
    assert b["mse"] == pytest.approx(mean_squared_error(ev, [3.25, 3.25]))  # train mean
    assert b["mae"] == pytest.approx(mean_absolute_error(ev, [1.5, 1.5]))   # train median
    c = M.baselines("count", np.array([0, 1, 2, 5]), np.array([1, 3]))
    assert c["poisson_deviance"] == pytest.approx(mean_poisson_deviance([1, 3], [2.0, 2.0]))
    lab = M.baselines("multilabel", np.array([[1, 0], [1, 0], [0, 1]]),
                      np.array([[1, 0], [0, 1]]))
    assert lab["accuracy"] == pytest.approx(0.5)
    assert lab["f1"] == pytest.approx(f1_score([[1, 0], [0, 1]], [[1, 0], [1, 0]],
                                               average="macro", zero_division=1.0))
    o = M.baselines("ordinal", np.array([0, 1, 1, 2]), np.array([0, 1, 2]), n=3)
    assert o["accuracy"] == pytest.approx(1 / 3) and o["mae"] == pytest.approx(2 / 3)
