"""A run's decoded forms (#22 item 3, the part built so far: ``results.decoded``): the
calibration and the threshold are fitted on validation rows only and scored on test
rows neither saw."""

import dataclasses

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from recipes import get
from recipes.results.decoded import DECODINGS, decoded_metrics
from recipes.training import data

RECIPE = get("binary_logits_bce")     # one linear unit: its outputs are logits


@pytest.fixture(scope="module")
def run():
    """A real model's outputs: a weak logistic regression (few features, little data) on
    breast cancer, its logits on the validation and test rows."""
    split = data.split(data.load("breast_cancer"), test_fraction=0.3)
    model = LogisticRegression(C=0.05).fit(split.X_train[:60, :3], split.y_train[:60])
    logits = {s: 3.0 * model.decision_function(x[:, :3])[:, None]   # over-confident
              for s, x in (("val", split.X_val), ("test", split.X_test))}
    return split, logits


def fit(split, logits):
    return decoded_metrics(RECIPE, split, logits["val"], logits["test"], calibrate=True,
                           threshold="f1")


def test_every_decoding_is_scored_on_test_and_its_parameters_kept(run):
    split, logits = run
    rows, fitted = fit(split, logits)
    assert tuple(rows["decoding"].unique()) == DECODINGS and set(rows["split"]) == {"test"}
    value = rows.set_index(["decoding", "metric"])["value"]
    assert value["calibrated", "ece"] < value["raw", "ece"]          # calibration helps ECE
    assert value["calibrated", "accuracy"] == value["raw", "accuracy"]   # and keeps labels
    assert fitted["calibration"]["method"] == "temperature"
    assert set(fitted["threshold"]) == {"thresholded", "calibrated+thresholded"}
    raw_only, fitted_raw = decoded_metrics(RECIPE, split, logits["val"], logits["test"])
    assert set(raw_only["decoding"]) == {"raw"} and fitted_raw == {"calibration": None,
                                                                   "threshold": None}


def test_tuning_never_reads_the_test_split(run):
    split, logits = run
    rows, fitted = fit(split, logits)
    rng = np.random.default_rng(0)
    shuffled_test = dataclasses.replace(split, y_test=rng.permutation(split.y_test))
    rows_t, fitted_t = fit(shuffled_test, logits)
    assert fitted_t == fitted                                  # identical fitted parameters
    assert not np.allclose(rows_t["value"], rows["value"])     # while the test scores move
    shuffled_val = dataclasses.replace(split, y_val=rng.permutation(split.y_val))
    _, fitted_v = fit(shuffled_val, logits)
    assert fitted_v["calibration"] != fitted["calibration"]
    assert fitted_v["threshold"] != fitted["threshold"]


@pytest.mark.parametrize("change, match", [
    ({"calibrate": "platt"}, r"Expected one of \{False, True, 'temperature', 'vector'\}\. "
                             r"Received: calibrate='platt'"),
    ({"split_without_test": True}, r"Received: a split whose y_test is None"),
])
def test_bad_decoding_arguments_are_refused(run, change, match):
    split, logits = run
    if change.pop("split_without_test", False):
        split = dataclasses.replace(split, X_test=None, y_test=None)
    with pytest.raises(ValueError, match=match):
        decoded_metrics(RECIPE, split, logits["val"], logits["test"], **change)
