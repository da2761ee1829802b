"""One description of a run: every training setting lives in Settings and flows everywhere."""

import dataclasses
import json

import numpy as np
import pytest
from sklearn.datasets import load_iris

import recipes
from recipes.models.build import initial_weights
from recipes.results.grid import Experiment, run_config, run_id, setups
from recipes.results.store import Store
from recipes.training import data
from recipes.training.settings import APPLIES_TO, Settings, Setup


def bb():
    """A backbone on iris' 4 features (a function: a fresh model per seed)."""
    import keras

    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)], name="bb")


# A value different from the default, for every setting.
CHANGED = {"epochs": 2, "batch_size": 16, "optimizer": "sgd", "learning_rate": 0.05,
           "hidden": (8,), "output_scale": 2.0, "backend": "torch", "backbone": bb,
           "label_smoothing": 0.1, "class_weight": "balanced"}


def recorded(name, value):
    """What a run's config holds for ``value`` of setting ``name``."""
    if name == "backbone":
        from recipes.models.build import describe_backbone
        return describe_backbone(value)
    return list(value) if isinstance(value, tuple) else value


def test_every_setting_has_a_changed_value_here():
    # A new Settings field must get a value in CHANGED, so every test below covers it.
    assert set(CHANGED) == set(Settings.names())


@pytest.mark.parametrize("name", Settings.names())
def test_a_setting_given_by_name_reaches_experiment_setup_and_run_config(name):
    value = CHANGED[name]
    exp = Experiment("e", ("iris",), recipes=("multiclass_softmax_cce",), seeds=1,
                     **{name: value})
    assert getattr(exp.conditions[0], name) == value and len(exp.conditions) == 1
    [setup] = setups(exp, data.load("iris"), recipes.load_catalog())
    assert getattr(setup.settings, name) == value
    assert setup == Setup(setup.recipe, 0, **{name: value})
    config = run_config(exp, data.load("iris"), setup, "keras")
    assert config[name] == recorded(name, value)


@pytest.mark.parametrize("name", Settings.names())
def test_changing_a_setting_changes_the_run_id(name):
    ds, catalog = data.load("iris"), recipes.load_catalog()

    def the_id(**options):
        exp = Experiment("e", ("iris",), recipes=("multiclass_softmax_cce",), seeds=1, **options)
        return run_id(run_config(exp, ds, setups(exp, ds, catalog)[0], "keras"))

    assert the_id() != the_id(**{name: CHANGED[name]})


@pytest.mark.parametrize("name", Settings.names())
def test_with_options_changes_a_setting(name):
    exp = Experiment("e", ("iris",)).with_options(**{name: CHANGED[name]}, seeds=None)
    assert getattr(exp.conditions[0], name) == CHANGED[name] and exp.seeds == tuple(range(10))


def test_compare_accepts_every_setting_and_records_it(tmp_path):
    X, y = load_iris(return_X_y=True)
    X, y = X[::3], y[::3]
    # another backend trains in a process of its own: tests/test_backends.py covers it
    options = {k: v for k, v in CHANGED.items() if k != "backend"} | {"epochs": 1}
    recipes.compare(X, y, recipes=["multiclass_softmax_cce"], seeds=1, out=tmp_path,
                    progress=False, trainer="keras", **options)
    [config] = Store(tmp_path).runs()["config"]
    for name, value in options.items():
        assert config[name] == recorded(name, value)


def test_experiment_has_no_field_that_repeats_a_setting():
    fields = {f.name for f in dataclasses.fields(Experiment)}
    assert not fields & set(Settings.names())
    assert "conditions" in fields


@pytest.mark.parametrize("where", [
    lambda: Settings.of({"epoch": 3}),
    lambda: Experiment("e", ("iris",), epoch=3),
    lambda: recipes.compare(np.zeros((8, 2)), [0, 1] * 4, epoch=3),
])
def test_an_unknown_setting_names_the_allowed_ones(where):
    with pytest.raises(ValueError, match=r"Expected one of \{'epochs', 'batch_size'.*"
                                         r"Received: setting='epoch'"):
        where()


# Run ids pinned, so that a change of what defines a run is a decision, never an accident:
# an existing results store resumes only while they hold. (They changed once, when each
# seed got its own data split: the "split" entry of a run's config; and again when a run's
# identity took in a fingerprint of its data, the "data" entry, so that a folder holding
# runs on other data under the same name never answers for this data.)
KNOWN_IDS = [
    (dict(name="saturated", datasets=("breast_cancer",), recipes=("binary_sigmoid_bce",),
          output_scale=10.0, goal={"metric": "accuracy", "value": 0.9}, claim="C1"),
     "stacked", ["8cfa816a3ef0e3ff", "f813ba5bfeabb0cb"]),
    (dict(name="e", datasets=("iris",), recipes=("multiclass_softmax_cce",), seeds=1, epochs=3,
          batch_size=16, optimizer="sgd", learning_rate=0.1, hidden=(8, 4)),
     "keras", ["ae4fff6b5e246340"]),
]


@pytest.mark.parametrize("spec, trainer, ids", KNOWN_IDS)
def test_run_ids_are_stable(spec, trainer, ids):
    exp = Experiment(**spec)
    ds = data.load(exp.datasets[0])
    got = [run_id(run_config(exp, ds, s, trainer))
           for s in setups(exp, ds, recipes.load_catalog())]
    assert got[: len(ids)] == ids


def test_a_run_id_changes_with_its_data():
    """Same experiment, recipe, seed and settings on other data (or the same data with
    another class order) is another run."""
    exp = Experiment("compare", ("compare",), recipes=("multiclass_softmax_cce",), seeds=1)
    iris, wine = data.load("iris"), data.load("wine")
    ids = []
    for ds in (data.from_arrays(iris.X, iris.y, "multiclass", name="compare"),
               data.from_arrays(wine.X, wine.y, "multiclass", name="compare"),
               data.from_arrays(iris.X, iris.y, "multiclass", name="compare", classes=(2, 1, 0)),
               data.from_arrays(iris.X.copy(), list(iris.y), "multiclass", name="compare")):
        (setup,) = setups(exp, ds, recipes.load_catalog())
        ids.append(run_id(run_config(exp, ds, setup, "stacked")))
    assert len(set(ids[:3])) == 3 and ids[3] == ids[0]   # the same data again: the same run


def test_settings_config_is_json_ready():
    assert json.loads(json.dumps(Settings().config())) == {
        "epochs": 20, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.001,
        "hidden": [32], "output_scale": 1.0, "backend": "tensorflow",
        "label_smoothing": 0.0, "class_weight": None}


# setting -> what its CHANGED value looks like in the compiled model Setup.build_model
# builds, for the settings of the model and the optimizer (settings.APPLIES_TO)
IN_THE_MODEL = {
    "hidden": lambda m, setup, split: m.get_layer("hidden_0").units == 8,
    "output_scale": lambda m, setup, split: np.array_equal(
        m.get_weights()[-2], initial_weights(setup.recipe, 4, 3, seed=0, output_scale=2.0)[-2]),
    "optimizer": lambda m, setup, split: type(m.optimizer).__name__ == "SGD",
    "learning_rate": lambda m, setup, split: np.isclose(float(m.optimizer.learning_rate), 0.05),
    "backbone": lambda m, setup, split: m.name == "bb_multiclass_softmax_cce",
}


def test_every_setting_says_what_it_configures():
    # a new Settings field gets a row in APPLIES_TO, so it reaches the trainers (or is
    # read by them on purpose: "trainer", "process")
    assert set(APPLIES_TO) == set(Settings.names())
    assert set(APPLIES_TO.values()) <= {"model", "optimizer", "loss", "trainer", "process"}
    assert set(IN_THE_MODEL) == {n for n, part in APPLIES_TO.items()
                                 if part in ("model", "optimizer")}


@pytest.mark.parametrize("name", sorted(IN_THE_MODEL))
def test_a_model_or_optimizer_setting_reaches_the_model_setup_builds(name):
    split = data.split(data.load("iris"))
    setup = Setup(recipes.get("multiclass_softmax_cce"), 0, **{name: CHANGED[name]})
    model = setup.build_model(split)
    assert IN_THE_MODEL[name](model, setup, split)
    assert not IN_THE_MODEL[name](Setup(setup.recipe, 0).build_model(split), setup, split)
    assert model.loss.get_config() == setup.loss().get_config()
