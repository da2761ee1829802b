"""C2 on a CNN in the default suite (issue #21, section 4): the ``cnn`` experiment trains
softmax + cross-entropy and softmax + MSE under a small convolutional backbone on the
digits as 8x8x1 images, under the conditions that decide C2; the claims table carries the
architecture (the MLP, or the backbone's name) read from the effects' ``backbone`` column,
so C2 shows MLP and CNN apart. Tiny data, 1 epoch, real training."""

import pandas as pd
import pytest

import recipes
from recipes.experiments import load_experiment
from recipes.reporting import words
from recipes.training import data

keras = pytest.importorskip("keras")

C2 = next(c for c in words.CLAIMS if c[0] == "C2")
DIGITS = data.load("digits")
FLAT, LABELS = DIGITS.X[:150].astype("float32") / 16, DIGITS.y[:150]


def cnn():
    """A CNN on the 64 flat pixels (reshaped to 8x8x1), so one comparison holds both
    architectures on the same data."""
    return keras.Sequential([keras.Input((64,)), keras.layers.Reshape((8, 8, 1)),
                             keras.layers.Conv2D(4, 3, activation="relu"),
                             keras.layers.GlobalAveragePooling2D()], name="cnn")


def test_the_cnn_experiment_trains_c2_under_the_conditions_of_the_mlp_one():
    cnn_exp, mlp_exp = load_experiment("cnn"), load_experiment("multiclass")
    assert cnn_exp.datasets == ("digits_images",)
    assert {C2[2], C2[3]} <= set(cnn_exp.recipes)          # the pair C2 compares
    assert [(c.optimizer, c.learning_rate) for c in cnn_exp.conditions] == [
        (c.optimizer, c.learning_rate) for c in mlp_exp.conditions]
    described = [c.config()["backbone"] for c in cnn_exp.conditions]
    assert {d["name"] for d in described} == {"cnn"}
    assert "Conv2D" in described[0]["layers"] and described[0]["input"] == [8, 8, 1]
    assert len(cnn_exp.seeds) >= 6    # the fewest seeds whose sign-flip p can reach 0.05


def test_the_cnn_experiment_runs_and_its_claims_row_names_the_cnn(tmp_path):
    bundled = load_experiment("cnn")     # one condition of it, 1 seed, 1 epoch
    grid = recipes.Experiment("cnn", bundled.datasets, bundled.recipes, seeds=1, epochs=1,
                              conditions=[{"optimizer": "sgd", "learning_rate": 0.1}],
                              backbone=bundled.conditions[0].backbone)
    results = recipes.run(grid, out=tmp_path, progress=False)
    assert set(results["dataset"]) == {"digits_images"}
    assert set(results["backbone"]) == {"cnn"} and results["run"].nunique() == 2
    claims = words.claims_table(recipes.effects(results))
    row = claims[claims["claim"].str.startswith("C2")]
    assert list(row["architecture"]) == ["cnn"] and list(row["data"]) == ["cnn / digits_images"]


def test_the_claims_table_shows_c2_on_the_mlp_and_the_cnn_apart(tmp_path):
    results = recipes.compare(FLAT, LABELS, recipes=[C2[3], C2[2]], backbone=[None, cnn],
                              seeds=3, epochs=1, optimizer="sgd", learning_rate=0.1,
                              out=tmp_path, progress=False)
    assert set(results["backbone"]) == {"mlp", "cnn"}
    e = recipes.effects(results)
    claims = words.claims_table(e)
    c2 = claims[claims["claim"].str.startswith("C2")].set_index("architecture")
    assert sorted(c2.index) == ["MLP", "cnn"]
    assert c2["data"].nunique() == 1                        # one comparison, two architectures
    for arch, backbone in (("MLP", "mlp"), ("cnn", "cnn")):
        # each row says its own outcome, over its own condition only, read from its effects
        mine = e[(e["recipe"] == C2[2]) & (e["metric"] == "accuracy")
                 & (e["backbone"] == backbone)]
        assert len(mine) == 1
        held = int(mine["outcome"].iloc[0] == "worse")
        assert c2.loc[arch, "holds"] == ("supported: 1" if held else "not supported: 0") + \
            " of 1 condition"
        assert "backbone" not in c2.loc[arch, "outcome"]    # the architecture is its own column


def test_the_architecture_is_read_from_the_backbone_column_never_the_label():
    e = pd.DataFrame({"experiment": "x", "dataset": "d", "recipe": C2[2], "reference": C2[3],
                      "metric": "accuracy", "outcome": ["worse", "equivalent"],
                      "condition": ["same label", "other label"], "optimizer": "sgd",
                      "learning_rate": 0.1, "backbone": ["mlp", "resnet_tiny"],
                      "difference": [-0.2, 0.0], "primary": True})
    claims = words.claims_table(e)
    assert list(claims["architecture"]) == ["MLP", "resnet_tiny"]
    assert list(claims["holds"]) == ["supported: 1 of 1 condition",
                                     "not supported: 0 of 1 condition"]
    unknown = words.claims_table(e.drop(columns="backbone"))   # a table without the column
    assert list(unknown["architecture"]) == ["MLP"] and list(unknown["holds"]) == [
        "partly supported: 1 of 2 conditions"]
