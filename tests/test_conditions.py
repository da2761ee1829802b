"""Conditions are a grid axis, runs record them, and they are never pooled; tuning never
sees the test split."""

import numpy as np
import pytest
from sklearn.datasets import load_iris

import recipes
from recipes.results.grid import Experiment, pending, setups
from recipes.results.store import Store
from recipes.training import data
from recipes.training.settings import Settings

RECIPES = ["multiclass_softmax_cce", "multiclass_softmax_mse"]


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X[::2], y[::2]


@pytest.mark.parametrize("options, conditions, expected", [
    ({}, None, [{}]),
    ({"optimizer": ["sgd", "adam"]}, None, [{"optimizer": "sgd"}, {"optimizer": "adam"}]),
    ({"optimizer": ["sgd", "adam"], "learning_rate": [0.01, 0.1]}, None,
     [{"optimizer": o, "learning_rate": lr} for o in ("sgd", "adam") for lr in (0.01, 0.1)]),
    ({"hidden": [(8,), (16, 8)]}, None, [{"hidden": (8,)}, {"hidden": (16, 8)}]),
    ({"hidden": (16, 8)}, None, [{"hidden": (16, 8)}]),          # one value, not an axis
    ({"epochs": 3}, [{"output_scale": 1.0}, {"output_scale": 10.0, "optimizer": "sgd"}],
     [{"epochs": 3}, {"epochs": 3, "output_scale": 10.0, "optimizer": "sgd"}]),
    ({"learning_rate": [0.1, 0.1]}, None, [{"learning_rate": 0.1}]),   # duplicates once
])
def test_list_valued_settings_are_axes(options, conditions, expected):
    exp = Experiment("e", ("iris",), conditions=conditions, **options)
    assert exp.conditions == tuple(Settings(**e) for e in expected)


def test_every_condition_recipe_and_seed_is_a_run():
    exp = Experiment("e", ("iris",), recipes=RECIPES, seeds=3,
                     optimizer=["sgd", "adam"], output_scale=[1.0, 10.0])
    runs = setups(exp, data.load("iris"), recipes.load_catalog())
    assert len(runs) == 4 * 2 * 3
    assert len({(s.recipe.name, s.seed, s.settings) for s in runs}) == len(runs)


def test_each_seed_has_its_own_split_and_test_rows_are_fixed():
    ds = data.load("wine")
    a, b = (data.split(ds, 0.25, seed, 0.2) for seed in (0, 1))
    assert not np.array_equal(a.X_val, b.X_val)
    np.testing.assert_allclose(a.X_test * a.std + a.mean, b.X_test * b.std + b.mean, rtol=1e-5)
    hidden = data.split(ds, 0.25, 0, 0.2, show_test=False)
    assert hidden.X_test is None and len(hidden.X_train) == len(a.X_train)
    n = len(ds.y)
    assert len(a.X_test) == round(0.2 * n) and len(a.X_train) + len(a.X_val) + len(a.X_test) == n


def test_pending_work_has_one_split_per_seed(tmp_path):
    exp = Experiment("e", ("iris",), recipes=RECIPES, seeds=3, optimizer=["sgd", "adam"])
    [(_, todo)] = pending(exp, tmp_path, "keras")
    assert len(todo) == 3 * 2 * 2
    by_seed = {}
    for setup, split in todo:
        by_seed.setdefault(setup.seed, set()).add(id(split))
    assert sorted(by_seed) == [0, 1, 2] and all(len(ids) == 1 for ids in by_seed.values())
    assert len({next(iter(ids)) for ids in by_seed.values()}) == 3   # one split per seed


def test_conditions_are_recorded_and_never_pooled(tmp_path, iris):
    X, y = iris
    df = recipes.compare(X, y, recipes=RECIPES, seeds=2, epochs=2, out=tmp_path,
                         progress=False, optimizer=["sgd", "adam"], learning_rate=[0.01, 0.1])
    runs = Store(tmp_path).runs()
    assert runs["condition"].nunique() == 4 and len(runs) == 4 * 2 * 2
    per = runs.groupby(["condition", "recipe"])["seed"].apply(sorted)
    assert all(seeds == [0, 1] for seeds in per)          # 2 seeds each, never 4 or 8
    for column in ("condition", "optimizer", "learning_rate"):
        assert df[column].notna().all()
    assert set(df["optimizer"]) == {"sgd", "adam"} and set(df["learning_rate"]) == {0.01, 0.1}
    # a second call with other settings returns only its own runs, never both sets mixed
    again = recipes.compare(X, y, recipes=RECIPES, seeds=2, epochs=3, out=tmp_path,
                            progress=False)
    assert set(again["epochs"]) == {3} and again["run"].nunique() == 2 * 2


def test_tuning_never_reads_the_test_split(tmp_path, monkeypatch):
    seen = []
    original = Experiment.split_of

    def spy(self, dataset, seed, show_test=True):
        split = original(self, dataset, seed, show_test)
        seen.append((self.name, seed, split.X_test is not None))
        return split

    monkeypatch.setattr(Experiment, "split_of", spy)
    exp = Experiment("t", ("iris",), recipes=RECIPES, seeds=2, epochs=2, optimizer="sgd",
                     tune="learning_rate", tune_grid=(0.01, 0.3), tune_seeds=2)
    df = recipes.run(exp, out=tmp_path, progress=False)
    tuning = [s for s in seen if s[0] == "t (tuning)"]
    final = [s for s in seen if s[0] == "t"]
    assert tuning and not any(shown for _, _, shown in tuning)
    assert final and all(shown for _, _, shown in final)
    assert {seed for _, seed, _ in tuning}.isdisjoint({seed for _, seed, _ in final})
    tuning_rows = df[df["experiment"] == "t (tuning)"]
    assert set(tuning_rows["split"]) == {"train", "val"}
    finals = df[df["experiment"] == "t"]
    assert "test" in set(finals["split"])
    assert set(finals["condition"]) == {"sgd epochs=2 batch=32 lr=tuned hidden=32 scale=1 | stacked"}
    assert set(finals["learning_rate"]) <= {0.01, 0.3}


def test_tuning_picks_the_best_mean_validation_score(tmp_path):
    exp = Experiment("t", ("iris",), recipes=RECIPES[:1], seeds=1, epochs=2, optimizer="sgd",
                     tune="learning_rate", tune_grid=(1e-4, 0.3), tune_seeds=2)
    df = recipes.run(exp, out=tmp_path, progress=False)
    val = df[(df["experiment"] == "t (tuning)") & (df["split"] == "val")
             & (df["metric"] == "accuracy")]
    last = val[val["epoch"] == val["epoch"].max()]
    best = last.groupby("learning_rate")["value"].mean().idxmax()
    assert set(df.loc[df["experiment"] == "t", "learning_rate"]) == {best}


def test_tuning_with_a_learning_rate_axis_is_refused():
    with pytest.raises(ValueError, match="Expected one learning_rate per condition"):
        Experiment("t", ("iris",), tune="learning_rate", learning_rate=[0.01, 0.1])
    with pytest.raises(ValueError, match=r"Expected one of \{'learning_rate'\}. Received: tune='lr'"):
        Experiment("t", ("iris",), tune="lr")
