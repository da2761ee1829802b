"""Any Keras backbone under a recipe's head (issue #21, sections 2-3): a ``backbone``
setting (a model, or a function building one per seed) that is recorded by name and
fingerprint, is an axis of a grid never pooled, trains with the stacked trainer when
every layer is one it takes, and otherwise falls back to plain ``fit`` (trainer
"keras") with one line naming the layer. Tiny data, 1-2 epochs, real training."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import recipes
from recipes.reporting import stats, words
from recipes.results import executors
from recipes.results.store import Store
from recipes.training import data
from recipes.training.settings import Settings, Setup

keras = pytest.importorskip("keras")
from recipes.models.build import backbone_model, describe_backbone  # noqa: E402

RNG = np.random.RandomState(0)
TABLE = RNG.normal(size=(60, 5)).astype("float32")
TABLE_Y = (TABLE[:, 0] + TABLE[:, 1] > 0).astype(int)
DIGITS = load_digits()
IMAGES = (DIGITS.images[:120, :, :, None] / 16).astype("float32")
IMAGES_Y = DIGITS.target[:120]
QUICK = dict(seeds=1, epochs=1, progress=False)


def sequential():
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="relu")],
                            name="seq")


def functional():
    x = keras.Input((5,))
    h = keras.layers.Dense(4, activation="tanh")(x)
    return keras.Model(x, keras.layers.Concatenate()([x, h]), name="func")


def cnn():
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                             keras.layers.GlobalAveragePooling2D()], name="cnn")


def runs(out):
    return Store(out).runs()


def noisy():
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="relu"),
                             keras.layers.GaussianNoise(0.1, name="noise")], name="noisy")


@pytest.mark.parametrize("make", [sequential, functional], ids=["sequential", "functional"])
def test_a_backbone_model_trains_under_the_head_with_the_stacked_trainer(tmp_path, make,
                                                                         capsys, monkeypatch):
    monkeypatch.setattr(executors, "_SAID", set())
    backbone = make()
    df = recipes.compare(TABLE, TABLE_Y, recipes="binary_sigmoid_bce", backbone=backbone,
                         out=tmp_path, **QUICK)
    table = runs(tmp_path)
    assert list(table["status"]) == ["ok"] and list(table["trainer"]) == ["stacked"]
    assert set(df["backbone"]) == {backbone.name} and set(df["trainer"]) == {"stacked"}
    assert "plain fit" not in capsys.readouterr().err
    config = table["config"].iloc[0]
    assert config["backbone"]["name"] == backbone.name
    assert config["backbone"]["parameters"] == backbone.count_params()


def test_a_backbone_with_a_layer_the_stacked_trainer_does_not_take_falls_back(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(executors, "_SAID", set())
    recipes.compare(TABLE, TABLE_Y, recipes="binary_sigmoid_bce", backbone=noisy,
                    out=tmp_path, **QUICK)
    table = runs(tmp_path)
    assert list(table["status"]) == ["ok"] and list(table["trainer"]) == ["keras"]
    err = [line for line in capsys.readouterr().err.splitlines() if "plain fit" in line]
    assert len(err) == 1            # one line, naming the layer and its class
    assert "does not take layer 'noise' of backbone 'noisy'" in err[0]
    assert "Received: GaussianNoise; training them with plain fit (trainer 'keras')" in err[0]


def test_a_frozen_backbone_keeps_its_weights_and_the_original_is_never_touched(tmp_path):
    backbone = sequential()
    backbone.layers[0].trainable = False
    start = [w.copy() for w in backbone.get_weights()]
    split = data.split(data.from_arrays(TABLE, TABLE_Y, "binary"), seed=0)
    model = Setup(recipes.get("binary_sigmoid_bce"), 0, backbone=backbone).build_model(split)
    head = [w.copy() for w in model.get_layer("head").get_weights()]
    model.fit(split.X_train, TABLE_Y[:len(split.X_train)].astype("float32")[:, None],
              epochs=2, verbose=0)
    frozen = [np.asarray(v) for v in model.non_trainable_weights]
    assert len(frozen) == len(start) == 2                   # the clone is frozen too
    for got, want in zip(frozen, start):
        np.testing.assert_array_equal(got, want)            # frozen: did not move
    assert any(np.abs(a - b).max() > 0 for a, b in zip(model.get_layer("head").get_weights(),
                                                       head))   # the head did train
    recipes.compare(TABLE, TABLE_Y, recipes="binary_sigmoid_bce", backbone=backbone,
                    out=tmp_path, **QUICK)
    for got, want in zip(backbone.get_weights(), start):    # every run trains a clone
        np.testing.assert_array_equal(got, want)


def test_a_trainable_backbone_object_starts_every_seed_from_its_weights():
    backbone = sequential()
    a, b = backbone_model(backbone, 0), backbone_model(backbone, 3)
    assert a is not backbone and b is not a
    for x, y, z in zip(a.get_weights(), b.get_weights(), backbone.get_weights()):
        np.testing.assert_array_equal(x, z)
        np.testing.assert_array_equal(y, z)


def test_a_function_builds_a_fresh_model_per_seed():
    first, again, other = (backbone_model(sequential, s) for s in (0, 0, 1))
    assert first is not again
    for x, y in zip(first.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(x, y)                 # same seed, same start
    assert any(np.abs(x - y).max() > 0 for x, y in zip(first.get_weights(), other.get_weights()))


def test_the_fingerprint_is_of_the_configuration_and_weights_not_the_layer_names():
    one, two = sequential(), sequential()                   # auto-named dense_n differ
    assert one.layers[0].name != two.layers[0].name
    two.set_weights(one.get_weights())
    assert describe_backbone(one)["fingerprint"] == describe_backbone(two)["fingerprint"]
    two.set_weights([w + 1 for w in one.get_weights()])
    three = sequential()
    three.set_weights([w + 1 for w in one.get_weights()])
    assert describe_backbone(three)["fingerprint"] != describe_backbone(one)["fingerprint"]
    assert describe_backbone(sequential)["name"] == "sequential"


def test_a_function_backbone_is_built_once_to_describe_it_and_list_its_layers():
    """The run's record (``describe_backbone``) and the stacked trainers' layer check
    (``backbone_layers``, via ``members.refusal``) read one build of the function's
    seed-0 model: the function is called once for both."""
    from recipes.models.build import backbone_layers
    from recipes.training.members import refusal

    calls = []

    def counted():
        calls.append(1)
        return cnn()

    described = describe_backbone(counted)
    layers = backbone_layers(counted)
    setup = Setup(recipes.select("multiclass"), 0, backbone=counted, backend="torch")
    assert "does not take layer" in refusal(setup)
    assert len(calls) == 1
    assert described["layers"] == ["Conv2D", "GlobalAveragePooling2D"]
    assert [cls for _, cls, _ in layers] == ["InputLayer", "Conv2D", "GlobalAveragePooling2D"]


def test_an_embedding_backbone_trains_on_integer_token_ids(tmp_path):
    tokens = RNG.randint(0, 20, size=(60, 7))
    y = (tokens[:, 0] > 9).astype(int)
    ds = data.from_arrays(tokens, y, "binary")
    assert ds.X.dtype.kind == "i"                           # token ids stay integers
    split = data.split(ds, seed=0)
    assert split.X_train.dtype.kind == "i" and split.mean is None
    np.testing.assert_array_equal(np.sort(np.r_[split.X_train, split.X_val], axis=0),
                                  np.sort(tokens, axis=0))  # not standardized

    def embed():
        return keras.Sequential([keras.Input((7,), dtype="int32"),
                                 keras.layers.Embedding(20, 4),
                                 keras.layers.GlobalAveragePooling1D()], name="embed")

    recipes.compare(tokens, y, recipes="binary_sigmoid_bce", backbone=embed, out=tmp_path,
                    **QUICK)
    assert list(runs(tmp_path)["status"]) == ["ok"]


def test_a_cnn_trains_on_digit_images(tmp_path):
    df = recipes.compare(IMAGES, IMAGES_Y, recipes="multiclass_softmax_cce", backbone=cnn,
                         out=tmp_path, **QUICK)
    assert list(runs(tmp_path)["status"]) == ["ok"]
    assert set(df["backbone"]) == {"cnn"}


def test_only_a_2d_float_table_is_standardized():
    split = data.split(data.from_arrays(TABLE * 5 + 3, TABLE_Y, "binary"), seed=0)
    assert abs(float(split.X_train.mean())) < 1e-5 and split.mean is not None
    images = data.split(data.from_arrays(IMAGES, IMAGES_Y, "multiclass"), seed=0)
    assert images.X_train.shape[1:] == (8, 8, 1) and images.X_train.dtype == np.float32
    assert images.X_train.min() >= 0 and images.mean is None


def test_backbones_are_an_axis_never_pooled_and_mix_with_the_stacked_trainer(tmp_path):
    df = recipes.compare(TABLE, TABLE_Y, recipes="binary_sigmoid_bce",
                         backbone=[None, sequential(), functional()], out=tmp_path, **QUICK)
    table = runs(tmp_path)
    assert sorted(table["trainer"]) == ["stacked"] * 3     # one trainer, three groups
    found = df[["backbone", "trainer", "condition"]].drop_duplicates()
    assert sorted(found["backbone"]) == ["func", "mlp", "seq"]
    assert found["condition"].nunique() == 3
    comps = stats.comparisons(df, table)
    assert sum(len(c.conditions) for c in comps) == 3       # three conditions, not one pool
    [named] = words.what_was_run(comps)["backbones"]
    assert named == ("func: InputLayer, Dense, Concatenate (24 parameters); mlp; "
                     "seq: Dense (36 parameters)")


def test_a_backbone_function_trains_nothing_the_second_time(tmp_path):
    first = recipes.compare(IMAGES, IMAGES_Y, recipes="multiclass_softmax_cce", backbone=cnn,
                            out=tmp_path, **QUICK)
    before = runs(tmp_path)
    second = recipes.compare(IMAGES, IMAGES_Y, recipes="multiclass_softmax_cce", backbone=cnn,
                             out=tmp_path, **QUICK)
    after = runs(tmp_path)
    assert list(after["run"]) == list(before["run"])
    assert list(after["finished_at"]) == list(before["finished_at"])   # nothing trained again
    assert len(second) == len(first)


def test_the_settings_record_a_backbone_by_name_and_fingerprint():
    s = Settings(backbone=sequential)
    config = s.config()["backbone"]
    assert set(config) == {"name", "fingerprint", "input", "layers", "parameters"}
    assert config["input"] == [5]
    assert config["layers"] == ["Dense"] and config["parameters"] == 5 * 6 + 6
    assert Settings.of({"backbone": config}).backbone is sequential   # found again
    assert "backbone=sequential" in s.label() and "hidden" not in s.label()
