"""Calibration: fitted on validation outputs by log-loss, never changing the decoded labels.

The overconfident models are real: scikit-learn logistic regressions fitted on digits,
their logits multiplied by 5. Refusals are in tests/test_bad_input.py ("decisions/").
"""

import json
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import recipes
from recipes.catalog import codec
from recipes.decisions.calibration import METHODS, Calibrator
from recipes.training import metrics

OVERCONFIDENCE = 5.0


def _targets(digit):
    """Each problem's labels, read off the digit."""
    return {
        "multiclass": digit,
        "binary": (digit % 2 == 0).astype(int),
        "multilabel": np.stack([digit % 2 == 0, digit > 4, np.isin(digit, [0, 6, 8, 9])],
                               axis=1).astype(int),
        "ordinal": digit // 4,                     # levels 0, 1, 2
    }


def _logits(problem, X_train, y_train, X):
    """Logits of logistic regressions fitted on the train rows, in the recipe's units."""
    fit = lambda target: LogisticRegression(max_iter=3000).fit(X_train, target)
    if problem == "multiclass":
        return fit(y_train).decision_function(X)
    if problem == "binary":
        return fit(y_train).decision_function(X)[:, None]
    if problem == "multilabel":
        return np.stack([fit(y_train[:, j]).decision_function(X) for j in range(3)], axis=1)
    return np.stack([fit((y_train > k).astype(int)).decision_function(X) for k in range(2)],
                    axis=1)                          # cumulative: "level > k"


@pytest.fixture(scope="module")
def digits():
    """``{problem: (val logits, val labels, test logits, test labels)}``, overconfident."""
    data = load_digits()
    X = StandardScaler().fit_transform(data.data)
    rest, X_test, d_rest, d_test = train_test_split(X, data.target, test_size=0.25,
                                                    random_state=0, stratify=data.target)
    X_train, X_val, d_train, d_val = train_test_split(rest, d_rest, test_size=1 / 3,
                                                      random_state=0, stratify=d_rest)
    train, val, test = _targets(d_train), _targets(d_val), _targets(d_test)
    out = {}
    for problem in train:
        z_val, z_test = (OVERCONFIDENCE * _logits(problem, X_train, train[problem], X_)
                         for X_ in (X_val, X_test))
        out[problem] = (z_val, val[problem], z_test, test[problem])
    return out


# how each recipe's raw outputs are made from the logits
FORMS = {
    "logits": lambda z: z,
    "sigmoid": codec.sigmoid,
    "softmax": codec.softmax,
    "two-unit softmax": lambda z: codec.softmax(np.concatenate([-z / 2, z / 2], axis=1)),
}

# (recipe, problem of its outputs, form of its outputs, method)
CASES = [
    ("multiclass_logits_cce", "multiclass", "logits", "temperature"),
    ("multiclass_softmax_cce", "multiclass", "softmax", "temperature"),
    ("binary_logits_bce", "binary", "logits", "temperature"),
    ("binary_sigmoid_bce", "binary", "sigmoid", "temperature"),
    ("binary_sigmoid_bce", "binary", "sigmoid", "vector"),
    ("binary_softmax2_cce", "binary", "two-unit softmax", "temperature"),
    ("multilabel_logits_bce", "multilabel", "logits", "temperature"),
    ("multilabel_sigmoid_bce", "multilabel", "sigmoid", "vector"),
    ("ordinal_cumulative_bce", "ordinal", "sigmoid", "temperature"),
    ("ordinal_cumulative_bce", "ordinal", "sigmoid", "vector"),
]


def _case(digits, name, problem, form):
    z_val, y_val, z_test, y_test = digits[problem]
    return recipes.get(name), FORMS[form](z_val), y_val, FORMS[form](z_test), y_test


def _log_loss(recipe, outputs, y):
    return float(metrics.common_metrics(recipe, metrics.truth(recipe, y), outputs)["log_loss"])


@pytest.mark.parametrize("name, problem, form, method", CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_calibration_keeps_the_decoded_labels_and_lowers_the_validation_log_loss(
        digits, name, problem, form, method):
    recipe, val, y_val, test, _ = _case(digits, name, problem, form)
    cal = recipes.calibrate(recipe, val, y_val, method=method)
    for raw in (val, test):
        assert np.array_equal(recipe.decode(cal.apply(raw)), recipe.decode(raw))
    before, after = _log_loss(recipe, val, y_val), _log_loss(recipe, cal(val), y_val)
    assert cal.log_loss == pytest.approx({"before": before, "after": after})
    assert after < 0.6 * before          # x5 logits: the log-loss falls by far more than noise
    assert all(t > 1 for t in np.atleast_1d(cal.temperatures))   # overconfident: softened


@pytest.mark.parametrize("name, problem, form", [("multiclass_logits_cce", "multiclass", "logits"),
                                                 ("binary_logits_bce", "binary", "logits"),
                                                 ("ordinal_cumulative_bce", "ordinal", "sigmoid")])
def test_held_out_expected_calibration_error_drops(digits, name, problem, form):
    recipe, val, y_val, test, y_test = _case(digits, name, problem, form)
    cal = recipes.calibrate(recipe, val, y_val)
    truth = metrics.truth(recipe, y_test)
    ece = lambda out: float(metrics.common_metrics(recipe, truth, out)["ece"])
    assert ece(cal(test)) < 0.7 * ece(test)


def test_a_probability_output_is_calibrated_through_its_logits(digits):
    # the same model as logits and as probabilities: the same temperature, the same result
    z_val, y_val, z_test, _ = digits["multiclass"]
    by_logits = recipes.calibrate("multiclass_logits_cce", z_val, y_val)
    by_probs = recipes.calibrate("multiclass_softmax_cce", codec.softmax(z_val), y_val)
    assert by_probs.parameters["temperature"] == pytest.approx(
        by_logits.parameters["temperature"], rel=1e-4)
    np.testing.assert_allclose(by_probs(codec.softmax(z_test)),
                               codec.softmax(by_logits(z_test)), atol=1e-6)


# (logit of every row, fraction of rows it is right about) -> T = logit / logit(fraction):
# the calibrated probability of every row is then the fraction right
KNOWN = [(4.0, 0.8), (6.0, 0.9), (1.0, 0.95)]


@pytest.mark.parametrize("logit, right", KNOWN)
def test_the_temperature_that_minimizes_log_loss_is_found(logit, right):
    rows = 100
    y = (np.arange(rows) < right * rows).astype(int)      # right on the first rows
    cal = recipes.calibrate("binary_logits_bce", np.full(rows, logit), y)
    expected = logit / np.log(right / (1 - right))
    assert cal.parameters["temperature"] == pytest.approx(expected, rel=1e-4)
    assert codec.sigmoid(cal.apply([logit]))[0] == pytest.approx(right, abs=1e-5)


def test_vector_gives_one_temperature_per_label_and_fits_at_least_as_well(digits):
    z_val, y_val, _, _ = digits["multilabel"]
    shared = recipes.calibrate("multilabel_logits_bce", z_val, y_val)
    per_label = recipes.calibrate("multilabel_logits_bce", z_val, y_val, method="vector")
    assert len(per_label.parameters["temperatures"]) == 3
    assert per_label.log_loss["after"] <= shared.log_loss["after"] + 1e-12
    # labels are separate Bernoullis: each temperature is that label's own fit
    for j, t in enumerate(per_label.parameters["temperatures"]):
        alone = recipes.calibrate("binary_logits_bce", z_val[:, j:j + 1], y_val[:, j])
        assert t == pytest.approx(alone.parameters["temperature"], rel=1e-3)


@pytest.mark.parametrize("method", list(METHODS))
def test_a_stored_calibrator_applies_the_same(digits, method):
    z_val, y_val, z_test, _ = digits["multilabel"]
    cal = recipes.calibrate("multilabel_logits_bce", z_val, y_val, method=method)
    stored = json.loads(json.dumps(cal.to_dict()))
    assert stored["method"] == method and stored["recipe"] == "multilabel_logits_bce"
    again = Calibrator.from_dict(stored)
    assert type(again) is type(cal) and again.parameters == cal.parameters
    np.testing.assert_array_equal(again.apply(z_test), cal.apply(z_test))


def test_apply_keeps_leading_axes_and_the_shape_given(digits):
    z_val, y_val, z_test, _ = digits["multiclass"]
    cal = recipes.calibrate("multiclass_logits_cce", z_val, y_val)
    runs = np.stack([z_test, 2 * z_test])
    out = cal.apply(runs)
    assert out.shape == runs.shape
    np.testing.assert_array_equal(out[1], cal.apply(2 * z_test))
    one_unit = recipes.calibrate("binary_sigmoid_bce", [0.9, 0.2, 0.7, 0.4], [1, 0, 0, 1])
    assert one_unit.apply(np.array([0.9, 0.1])).shape == (2,)


def test_saturated_probabilities_stay_finite_and_keep_their_labels():
    p = np.array([[1.0], [0.0], [1.0], [0.0], [1.0], [0.0], [0.7], [0.3]])
    cal = recipes.calibrate("binary_sigmoid_bce", p, [1, 0, 1, 0, 0, 1, 1, 0])
    out = cal.apply(p)
    assert np.isfinite(out).all() and ((out > 0) & (out < 1)).all()
    assert np.array_equal(recipes.get("binary_sigmoid_bce").decode(out),
                          recipes.get("binary_sigmoid_bce").decode(p))


def test_a_temperature_at_the_edge_of_its_range_is_reported():
    # outputs that separate the classes perfectly: the log-loss keeps falling as T -> 0
    with pytest.warns(UserWarning, match=r"fits no better than 0.01, the end of its range.*"
                                         r"separate the classes perfectly"):
        recipes.calibrate("binary_logits_bce", [2.0, 1.0, -1.0, -2.0], [1, 1, 0, 0])
    with pytest.warns(UserWarning, match=r"fits no better than 100, .*confidently wrong"):
        recipes.calibrate("binary_logits_bce", [2.0, 1.0, -1.0, -2.0], [0, 0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recipes.calibrate("binary_logits_bce", [2.0, 1.0, -1.0, -2.0], [1, 0, 1, 0])


def test_a_validation_set_without_one_class_is_read_by_index():
    # integer labels 0..2 of a 4-class output: class 3 is absent, not a shift of classes
    z = np.eye(4)[[0, 1, 2, 0, 1, 2]] * 3.0
    cal = recipes.calibrate("multiclass_logits_cce", z, [0, 1, 2, 0, 1, 1])
    explicit = recipes.calibrate("multiclass_logits_cce", z, [0, 1, 2, 0, 1, 1],
                                 classes=[0, 1, 2, 3])
    assert cal.parameters == explicit.parameters
