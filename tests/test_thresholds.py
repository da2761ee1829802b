"""Tuned thresholds: known best cut-offs on hand-made outputs, checked against scikit-learn.

Refusals are in tests/test_bad_input.py ("decisions/").
"""

import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score

import recipes
from recipes.decisions.thresholds import TunedThreshold, candidates

# Hand-made validation scores, 10 rows at each: negatives at 0.1 and 0.35, positives at
# 0.3 and 0.8. Candidate cut-offs: 0.05 (all 1), 0.2, 0.325, 0.575, 0.9 (no 1).
SCORES = np.repeat([0.1, 0.3, 0.35, 0.8], 10)
Y = np.repeat([0, 1, 0, 1], 10)
# Skewed: 10 positives at 0.45 among 30 negatives at 0.2 and 10 at 0.6.
SKEW_SCORES = np.repeat([0.2, 0.45, 0.6], [30, 10, 10])
SKEW_Y = np.repeat([0, 1, 0], [30, 10, 10])
COST_15 = {"cost_fp": 1, "cost_fn": 5}
COST_51 = {"cost_fp": 5, "cost_fn": 1}

# (case id, scores, labels, metric, the best threshold, its value): worked out by hand
KNOWN = [
    # f1 at 0.2: tp 20, fp 10, fn 0 -> 0.8; at 0.575: 20/30; at 0.05: 40/60
    ("f1", SCORES, Y, "f1", 0.2, 0.8),
    # balanced accuracy 0.75 at both 0.2 and 0.575: the tie goes to the one nearer 0.5
    ("balanced-accuracy-tie-goes-near-0.5", SCORES, Y, "balanced_accuracy", 0.575, 0.75),
    # mean cost: 0.2 -> 10 fp = 10/40; 0.05 -> 20 fp; 0.575 -> 10 fn = 50/40
    ("cost-fn-dear", SCORES, Y, COST_15, 0.2, 0.25),
    # 0.575 -> 10 fn = 10/40; 0.9 -> 20 fn; 0.2 -> 10 fp = 50/40
    ("cost-fp-dear", SCORES, Y, COST_51, 0.575, 0.25),
    # accuracy 30/40 at both 0.2 and 0.575, as a callable
    ("callable-tie-goes-near-0.5", SCORES, Y, accuracy_score, 0.575, 0.75),
    # f1 at 0.325: tp 10, fp 10 (the 0.6 negatives) -> 20/30; at 0.1: 20/60; above: 0
    ("skewed-f1", SKEW_SCORES, SKEW_Y, "f1", 0.325, 2 / 3),
    # balanced accuracy at 0.325: (1 + 30/40) / 2; at 0.525: (0 + 30/40) / 2; ends: 0.5
    ("skewed-balanced-accuracy", SKEW_SCORES, SKEW_Y, "balanced_accuracy", 0.325, 0.875),
    # costs 1:5, mean per row: 0.1 -> 40 fp = 40/50; 0.325 -> 10 fp = 10/50;
    # 0.525 -> 10 fp + 10 fn x 5 = 60/50; 0.8 -> 10 fn x 5 = 50/50
    ("skewed-cost", SKEW_SCORES, SKEW_Y, COST_15, 0.325, 0.2),
]


@pytest.mark.parametrize("scores, y, metric, threshold, value", [c[1:] for c in KNOWN],
                         ids=[c[0] for c in KNOWN])
def test_the_known_best_threshold_is_found(scores, y, metric, threshold, value):
    tuned = recipes.tune_threshold("binary_sigmoid_bce", scores, y, metric=metric)
    assert tuned.threshold == pytest.approx(threshold)
    assert tuned.score == pytest.approx(value)


@pytest.mark.parametrize("scores, y, metric, threshold, value", [c[1:] for c in KNOWN],
                         ids=[c[0] for c in KNOWN])
def test_a_logits_recipe_finds_the_same_threshold_on_its_probabilities(scores, y, metric,
                                                                       threshold, value):
    logits = np.log(scores / (1 - scores))
    tuned = recipes.tune_threshold("binary_logits_bce", logits, y, metric=metric)
    assert tuned.threshold == pytest.approx(threshold) and tuned.score == pytest.approx(value)


# metric -> its value from labels by scikit-learn (a cost: the mean cost, from the
# confusion matrix)
SKLEARN = {
    "f1": f1_score,
    "balanced_accuracy": balanced_accuracy_score,
    "cost": lambda y, p: (np.array([[0, 1], [5, 0]]) * confusion_matrix(y, p, labels=[0, 1])
                          ).sum() / len(y),
}


@pytest.mark.parametrize("name", list(SKLEARN))
@pytest.mark.parametrize("seed", range(2))
def test_the_best_value_is_the_best_any_cut_off_gives_by_scikit_learn(name, seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(60) < 0.3).astype(int)
    y[:12] = 1                                           # at least MIN_RARE positives
    scores = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0.01, 0.99).round(2)   # with ties
    metric = COST_15 if name == "cost" else name
    tuned = recipes.tune_threshold("binary_sigmoid_bce", scores, y, metric=metric)
    pred = recipes.get("binary_sigmoid_bce").decode(scores, threshold=tuned.threshold)
    assert tuned.score == pytest.approx(SKLEARN[name](y, pred))
    every = [SKLEARN[name](y, (scores >= c).astype(int))
             for c in candidates(scores, (0.0, 1.0))]
    best = min(every) if name == "cost" else max(every)
    assert tuned.score == pytest.approx(best)
    # and no cut-off on a grid does better
    grid = [SKLEARN[name](y, (scores >= c).astype(int)) for c in np.linspace(0.005, 0.995, 100)]
    assert (min(grid) >= best - 1e-12) if name == "cost" else (max(grid) <= best + 1e-12)


def test_the_default_score_is_the_metric_at_one_half():
    tuned = recipes.tune_threshold("binary_sigmoid_bce", SCORES, Y, metric="f1")
    assert tuned.default_score == pytest.approx(f1_score(Y, (SCORES >= 0.5).astype(int)))


def test_multi_label_gets_one_threshold_per_label_each_tuned_alone():
    scores = np.stack([SCORES, SKEW_SCORES[:40], SCORES[::-1]], axis=1)
    y = np.stack([Y, SKEW_Y[:40], Y[::-1]], axis=1)
    for metric in ("f1", "balanced_accuracy", COST_51):
        tuned = recipes.tune_threshold("multilabel_sigmoid_bce", scores, y, metric=metric)
        alone = [recipes.tune_threshold("binary_sigmoid_bce", scores[:, j], y[:, j],
                                        metric=metric) for j in range(3)]
        assert tuned.threshold == [a.threshold for a in alone]
        assert tuned.score == [a.score for a in alone]
        pred = recipes.get("multilabel_sigmoid_bce").decode(scores, threshold=tuned.threshold)
        assert pred.shape == y.shape
        assert tuned.rare == [20, 10, 20]
        assert TunedThreshold.from_dict(json.loads(json.dumps(tuned.to_dict()))) == tuned


def test_class_labels_are_read_with_the_positive_class_last():
    words = np.where(Y == 1, "spam", "ham")
    by_words = recipes.tune_threshold("binary_sigmoid_bce", SCORES, words)
    assert by_words.threshold == recipes.tune_threshold("binary_sigmoid_bce", SCORES, Y).threshold
    # the positive class named explicitly: "ham" is now class index 1, as 0 of Y is
    flipped = recipes.tune_threshold("binary_sigmoid_bce", 1 - SCORES, words,
                                     classes=["spam", "ham"])
    assert flipped == recipes.tune_threshold("binary_sigmoid_bce", 1 - SCORES, 1 - Y)
    assert (flipped.threshold, flipped.score) == (pytest.approx(0.425), pytest.approx(0.8))


def test_candidates_cover_every_distinct_decision_inside_the_range():
    s = np.array([0.0, 0.2, 0.2, 1.0])          # saturated ends: no cut-off at 0 or 1
    assert candidates(s, (0.0, 1.0)).tolist() == pytest.approx([0.1, 0.6])
    adjacent = np.array([0.5, np.nextafter(0.5, 1)])
    cuts = candidates(adjacent, (0.0, 1.0))
    assert [(adjacent >= c).sum() for c in cuts] == [2, 1, 0]   # each decision once
    assert candidates(np.array([-3.0, 2.0]), (-np.inf, np.inf)).tolist() == [-3.5, -0.5, 2.5]


def test_a_linear_output_is_tuned_on_its_own_scale():
    # binary_linear_mse decodes its raw scores, which leave 0..1
    scores = np.repeat([-0.5, 0.4, 0.45, 1.5], 10)
    tuned = recipes.tune_threshold("binary_linear_mse", scores, Y)
    assert tuned.threshold == pytest.approx(-0.05)


def test_a_stored_threshold_round_trips_and_decodes():
    tuned = recipes.tune_threshold("binary_sigmoid_bce", SCORES, Y, metric=COST_15)
    stored = json.loads(json.dumps(tuned.to_dict()))
    assert stored["metric"] == {"cost_fp": 1.0, "cost_fn": 5.0} and stored["better"] == "lower"
    again = TunedThreshold.from_dict(stored)
    assert again == tuned
    assert recipes.get("binary_sigmoid_bce").decode(SCORES, threshold=again.threshold).sum() == 30


def test_a_callable_is_recorded_by_name():
    tuned = recipes.tune_threshold("binary_sigmoid_bce", SCORES, Y, metric=accuracy_score)
    assert tuned.metric == "callable:accuracy_score" and tuned.better == "higher"


def test_the_minimum_of_rare_rows_can_be_set():
    few = np.repeat([0.2, 0.7, 0.9], [40, 2, 5])
    y = np.repeat([0, 0, 1], [40, 2, 5])
    tuned = recipes.tune_threshold("binary_sigmoid_bce", few, y, min_rare=5)
    assert (tuned.rare, tuned.rows, tuned.threshold, tuned.score) == (5, 47, 0.8, 1.0)


def test_thresholds_are_tuned_on_calibrated_outputs_too():
    logits = np.log(SCORES / (1 - SCORES)) * 3
    cal = recipes.calibrate("binary_logits_bce", logits, Y)
    tuned = recipes.tune_threshold("binary_logits_bce", cal(logits), Y)
    pred = recipes.get("binary_logits_bce").decode(cal(logits), threshold=tuned.threshold)
    assert f1_score(Y, pred) == pytest.approx(0.8) == tuned.score
