"""recipes.diagnostics: model checks, gradient formulas, loss surfaces, C3 and C6.

One deliberately broken model per finding (``CASES``); every recommended
recipe, built by ``build_model`` and given labels from a real data set, passes
clean; the gradient formulas agree with autodiff for every catalog recipe.
"""

import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import recipes
from recipes import cli
from recipes.training import data

from recipes.catalog.table import load_catalog  # noqa: E402
from recipes.diagnostics import figures, gradient  # noqa: E402
from recipes.diagnostics.appendix import appendix  # noqa: E402
from recipes.diagnostics.check import CHECKS, Check, check_model  # noqa: E402
from recipes.diagnostics.figures import gradient_figure, surface_figure  # noqa: E402
from recipes.diagnostics.gradient import FORMULAS, gradients  # noqa: E402
from recipes.diagnostics.surface import c6_table, loss_surface  # noqa: E402
from recipes.models.build import LogPoisson, build_model  # noqa: E402

CATALOG = load_catalog()
RNG = np.random.default_rng(0)
N = 90

Y_BIN = np.arange(N) % 2
Y_IDX = np.arange(N) % 3
Y_ONEHOT = np.eye(3, dtype="float32")[Y_IDX]
Y_MULTI = np.stack([np.arange(N) % 2, (np.arange(N) // 2) % 2, (np.arange(N) % 3 == 0)],
                   axis=1).astype("float32")
Y_REG = RNG.uniform(25, 346, N)                 # like sklearn's diabetes targets
Y_COUNT = RNG.poisson(3.0, N)


def model(units, activation, loss, metrics=(), hidden=8):
    inputs = keras.Input((4,))
    x = keras.layers.Dense(hidden, activation="relu")(inputs)
    outputs = keras.layers.Dense(units, activation=activation)(x)
    m = keras.Model(inputs, outputs)
    m.compile(optimizer="adam", loss=loss, metrics=list(metrics))
    return m


def custom_loss(y_true, y_pred):
    return keras.ops.mean(keras.ops.abs(y_true - y_pred), axis=-1)


def lambda_output(units, fn, loss, metrics=()):
    """A model whose output activation is hidden in a Lambda layer."""
    inputs = keras.Input((4,))
    x = keras.layers.Dense(units)(keras.layers.Dense(8, activation="relu")(inputs))
    m = keras.Model(inputs, keras.layers.Lambda(fn)(x))
    m.compile(optimizer="adam", loss=loss, metrics=list(metrics))
    return m


# finding code -> (model factory, labels): each model has exactly that mistake.
CASES = {
    "encoding": (lambda: model(3, "softmax", "categorical_crossentropy",
                               ["categorical_accuracy"]), Y_IDX),
    "unreadable": (lambda: model(1, "linear", custom_loss, ["mae"]), Y_REG),
    "hidden-activation": (lambda: lambda_output(3, keras.ops.softmax, "categorical_crossentropy",
                                                ["categorical_accuracy"]), Y_ONEHOT),
    "softmax-one-unit": (lambda: model(1, "softmax", "binary_crossentropy",
                                       ["binary_accuracy"]), Y_BIN),
    "categorical-one-unit": (lambda: model(1, "sigmoid", "categorical_crossentropy"), Y_BIN),
    "units-mismatch": (lambda: model(4, "softmax", "categorical_crossentropy",
                                     ["categorical_accuracy"]), Y_ONEHOT),
    "logits-twice": (lambda: model(3, "softmax", keras.losses.CategoricalCrossentropy(
        from_logits=True), ["categorical_accuracy"]), Y_ONEHOT),
    "missing-from-logits": (lambda: model(3, "linear", "categorical_crossentropy",
                                          ["categorical_accuracy"]), Y_ONEHOT),
    "not-a-distribution": (lambda: model(3, "sigmoid", "categorical_crossentropy",
                                         ["categorical_accuracy"]), Y_ONEHOT),
    "poisson-negative": (lambda: model(1, "linear", "poisson", ["mae"]), Y_COUNT),
    # no catalog recipe uses the categorical focal loss, so no encoding fits the labels
    "sparse-labels-dense-loss": (lambda: model(3, "softmax", "categorical_focal_crossentropy",
                                               ["sparse_categorical_accuracy"]), Y_IDX),
    # (a softmax model would be catalog recipe multiclass_softmax_sparse_cce: 'encoding')
    "onehot-labels-sparse-loss": (lambda: model(3, "linear", keras.losses.
                                                SparseCategoricalCrossentropy(from_logits=True),
                                                ["categorical_accuracy"]), Y_ONEHOT),
    # 4 classes for 3 units: no encoding fits them either (1..3 would only need encoding)
    "sparse-label-range": (lambda: model(3, "softmax", "sparse_categorical_crossentropy",
                                         ["sparse_categorical_accuracy"]), np.arange(N) % 4),
    # multi-hot rows in -1/1 (label_binarize(..., neg_label=-1)): the 0/1 encoding of
    # multi-hot rows keeps values as they are
    "target-range": (lambda: model(3, "sigmoid", "binary_crossentropy", ["binary_accuracy"]),
                     2 * Y_MULTI - 1),
    "bce-on-softmax": (lambda: model(3, "softmax", "binary_crossentropy",
                                     ["categorical_accuracy"]), Y_ONEHOT),
    "multilabel-softmax": (lambda: model(3, "softmax", "categorical_crossentropy",
                                         ["binary_accuracy"]), Y_MULTI),
    "output-range": (lambda: model(1, "sigmoid", "mse", ["mae"]), Y_REG),
    "floored-output": (lambda: model(1, "relu", "mse", ["binary_accuracy"]), Y_BIN),
    "metric-mismatch": (lambda: model(1, "linear", "mse", ["accuracy"]), Y_REG),
    "anti-pattern": (lambda: model(1, "sigmoid", "mse", ["binary_accuracy"]), Y_BIN),
    "recipe": (lambda: model(1, "linear", "mse", ["mae"]), Y_REG),
    # repaired on TensorFlow, wrong on JAX and PyTorch (tests/test_backends.py: per backend)
    "backend-dependent": (lambda: model(3, "softmax", keras.losses.CategoricalCrossentropy(
        from_logits=True), ["categorical_accuracy"]), Y_ONEHOT),
}

# More metric mistakes: (model factory, labels, words the message must contain).
METRIC_CASES = {
    "binary accuracy on one-of-n outputs": (
        lambda: model(3, "softmax", "categorical_crossentropy", ["binary_accuracy"]), Y_ONEHOT,
        "counts each unit separately"),
    "categorical accuracy on multi-label": (
        lambda: model(3, "sigmoid", "binary_crossentropy", ["categorical_accuracy"]), Y_MULTI,
        "multi-label"),
    "plain accuracy on multi-label (Keras 3 resolves it by shape)": (
        lambda: model(3, "sigmoid", "binary_crossentropy", ["accuracy"]), Y_MULTI,
        "resolves from the shapes to CategoricalAccuracy"),
    "sparse accuracy with one-hot labels": (
        lambda: model(3, "softmax", "categorical_crossentropy",
                      ["sparse_categorical_accuracy"]), Y_ONEHOT, "needs integer labels"),
    "AUC on regression": (lambda: model(1, "linear", "mse", [keras.metrics.AUC()]), Y_REG,
                          "regression"),
}


def test_every_check_has_a_case():
    assert set(CASES) == set(CHECKS)


@pytest.mark.parametrize("code", list(CASES))
def test_broken_model_is_found(code):
    factory, labels = CASES[code]
    result = check_model(factory(), labels)
    found = [f for f in result.findings if f.code == code]
    assert found, f"{code} not found in:\n{result}"
    finding = found[0]
    assert finding.severity == CHECKS[code][0]
    assert finding.message
    if finding.severity == "error":
        assert not result.ok
        assert finding.explanation and finding.fix
    assert all(not f.fix for f in result.findings if f.severity == "info"), str(result)
    if finding.recipe is not None:
        assert finding.recipe in CATALOG.names
        assert finding.recipe in finding.fix or not finding.fix
    assert code in str(result)


def test_findings_cite_values():
    result = check_model(CASES["output-range"][0](), Y_REG)
    (f,) = [f for f in result.findings if f.code == "output-range"]
    assert f"{Y_REG.max():g}" in f.message and "[0, 1]" in f.message
    assert f.recipe == "regression_linear_mse"
    result = check_model(CASES["sparse-label-range"][0](), np.arange(N) % 4)
    (f,) = [f for f in result.findings if f.code == "sparse-label-range"]
    assert "0 to 3" in f.message and "0..2" in f.message and "NaN" in f.explanation
    result = check_model(CASES["missing-from-logits"][0](), Y_ONEHOT)
    (f,) = [f for f in result.findings if f.code == "missing-from-logits"]
    assert f.recipe == "multiclass_logits_cce" and "from_logits=True" in f.fix


@pytest.mark.parametrize("case", list(METRIC_CASES))
def test_metric_mistakes(case):
    factory, labels, words = METRIC_CASES[case]
    result = check_model(factory(), labels)
    found = [f for f in result.findings if f.code == "metric-mismatch" and f.severity == "error"]
    assert found and any(words in f.message for f in found), str(result)


def test_threshold_on_logits_is_a_warning():
    m = model(1, "linear", keras.losses.BinaryCrossentropy(from_logits=True),
              ["binary_accuracy", keras.metrics.AUC(from_logits=True)])
    result = check_model(m, Y_BIN)
    found = [f for f in result.findings if f.code == "metric-mismatch"]
    assert [f.severity for f in found] == ["warning"] and "binary_accuracy" in found[0].message
    assert result.ok


def test_plain_accuracy_is_resolved_like_keras():
    # Keras 3 resolves 'accuracy' from the shapes, not from the loss: softmax + BCE on
    # one-hot rows gets categorical accuracy (tf.keras 2 gave binary accuracy).
    m = model(3, "softmax", "binary_crossentropy", ["accuracy"])
    result = check_model(m, Y_ONEHOT)
    (acc,) = result.model.metrics
    assert acc.name == "CategoricalAccuracy" and acc.by_shape
    assert "plain-accuracy" in result.codes and "metric-mismatch" not in result.codes
    x = RNG.normal(size=(N, 4)).astype("float32")
    m.fit(x, Y_ONEHOT, epochs=1, verbose=0)
    # what Keras itself built once it saw the data (private API: checked where present)
    built = [type(v).__name__ for v in getattr(m._compile_metrics, "metrics", [])]
    assert not built or built == [acc.name]
    assert "bce-on-softmax" in result.codes


# --- clean models: every recommended recipe on a real data set -----------------------

DATA = {"binary": "breast_cancer", "multiclass": "wine", "multilabel": "digit_attributes",
        "regression": "diabetes", "bounded_regression": "star98", "count": "randhie",
        "ordinal": "fair"}
RECOMMENDED = [r for r in CATALOG if r.role == "recommended"]


def _built(recipe):
    ds = data.load(DATA[recipe.problem])
    m = build_model(recipe, ds.X.shape[1], data.problem_size(ds))
    return m, ds


@pytest.mark.parametrize("recipe", RECOMMENDED, ids=lambda r: r.name)
def test_recommended_recipe_is_clean(recipe):
    m, ds = _built(recipe)
    result = check_model(m, recipe.encode(ds.y, ds.classes))
    assert result.ok and not result.warnings, str(result)
    assert str(result).splitlines()[-1].startswith("No problems found:")
    assert "fix:" not in str(result)          # a clean bill names nothing to fix


def test_raw_labels_are_clean():
    """The labels as they come (strings, categories, integers) pass where they fit."""
    fair = data.load("fair")
    recipe = CATALOG.get("ordinal_cumulative_bce")
    m = build_model(recipe, fair.X.shape[1], 5)
    levels = pd.Categorical(fair.y, categories=[1, 2, 3, 4, 5], ordered=True)
    result = check_model(m, levels)
    assert result.labels.problem == "ordinal" and result.ok and not result.warnings, str(result)
    assert result.matched.name == "ordinal_cumulative_bce"
    wine = data.load("wine")
    m = build_model("multiclass_softmax_sparse_cce", wine.X.shape[1], 3)
    assert check_model(m, wine.y).ok
    names = np.array(["barolo", "grignolino", "barbera"])[wine.y]
    assert check_model(build_model("multiclass_softmax_cce", wine.X.shape[1], 3), names).ok


def test_readme_snippet_gets_one_remark_and_no_fix():
    """README: fit on recipe.encode(y), then check_model(model, y) with the labels as they are."""
    y = np.arange(N) % 10
    recipe = recipes.select(recipes.infer_problem(y).problem)
    m = recipes.build_model(recipe, input_shape=(64,), n_outputs=10, hidden=(32,), seed=0)
    result = check_model(m, y)
    assert result.ok and not result.warnings, str(result)
    (note,) = [f for f in result.findings if f.code == "encoding"]
    assert "recipes.get('multiclass_softmax_cce').encode(y)" in note.message
    assert "(90, 10)" in note.message and "integer class indices" in note.message
    assert "fix:" not in str(result) and result.matched.name == recipe.name
    encoded = check_model(m, recipe.encode(y))
    assert [f.code for f in encoded.findings] == [c for c in result.codes if c != "encoding"]


ANTI_PATTERN_LABELS = {"indices": Y_IDX, "one-hot": Y_ONEHOT,
                       "strings": np.array(["ant", "bee", "cat"])[Y_IDX]}


def test_an_anti_pattern_gets_one_severity_whatever_the_label_format():
    found = {}
    for form, labels in ANTI_PATTERN_LABELS.items():
        result = check_model(model(3, "softmax", "mse", ["categorical_accuracy"]), labels)
        found[form] = [(f.code, f.severity) for f in result.findings if f.code != "encoding"]
        assert ("anti-pattern", "warning") in found[form], str(result)
    assert found["indices"] == found["one-hot"] == found["strings"]


def test_the_encoding_names_an_inferred_class_order():
    levels = np.array(["poor", "fair", "good", "excellent"])[np.arange(N) % 4]
    m = build_model("ordinal_cumulative_bce", 4, 4)
    result = check_model(m, levels)
    (note,) = [f for f in result.findings if f.code == "encoding"]
    assert "classes=['poor', 'fair', 'good', 'excellent']" in note.message
    assert result.ok and not result.warnings, str(result)


def test_labels_from_a_path(tmp_path):
    m = CASES["encoding"][0]()
    np.save(tmp_path / "y.npy", Y_IDX)
    pd.DataFrame({"species": Y_IDX}).to_csv(tmp_path / "y.csv", index=False)
    for path in (tmp_path / "y.npy", str(tmp_path / "y.csv")):
        result = check_model(m, path)
        assert result.labels.n == 3 and result.codes == check_model(m, Y_IDX).codes


def test_a_metric_fix_names_the_recipe_the_model_is():
    m = model(3, "softmax", "sparse_categorical_crossentropy", ["categorical_accuracy"])
    (f,) = [f for f in check_model(m, Y_IDX).findings if f.code == "metric-mismatch"]
    assert f.recipe == "multiclass_softmax_sparse_cce" and "sparse_categorical_accuracy" in f.fix


def test_count_labels_with_few_values_are_checked_as_counts():
    m = build_model("count_exp_poisson", 4, 1)
    result = check_model(m, Y_COUNT)     # few distinct values, but skewed like counts (issue 15)
    assert result.labels.inferred == "count" and result.labels.problem == "count"
    assert result.ok and not result.warnings, str(result)


def test_saved_model_path(tmp_path):
    m = build_model("count_log_poisson", 4, 1)     # a registered custom loss
    path = tmp_path / "model.keras"
    m.save(path)
    result = check_model(str(path), Y_COUNT)
    assert result.model.loss == "poisson" and result.model.from_logits
    assert result.matched.name == "count_log_poisson" and result.ok
    broken = CASES["bce-on-softmax"][0]()
    broken.save(tmp_path / "broken.keras")
    assert "bce-on-softmax" in check_model(tmp_path / "broken.keras", Y_ONEHOT).codes


def test_bad_input():
    with pytest.raises(FileNotFoundError):
        check_model("no_such_model.keras", Y_BIN)
    inputs = keras.Input((4,))
    uncompiled = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    with pytest.raises(ValueError, match="compiled"):
        check_model(uncompiled, Y_BIN)


# --- the CLI -------------------------------------------------------------------------

def test_cli_check_exit_codes(tmp_path, capsys):
    good = build_model("multiclass_softmax_cce", 4, 3)
    good.save(tmp_path / "good.keras")
    CASES["sparse-labels-dense-loss"][0]().save(tmp_path / "bad.keras")
    pd.DataFrame({"x": np.zeros(N), "species": Y_IDX}).to_csv(tmp_path / "y.csv", index=False)
    np.save(tmp_path / "onehot.npy", Y_ONEHOT)
    assert cli.main(["check", str(tmp_path / "good.keras"), "--labels",
                     str(tmp_path / "onehot.npy")]) == 0
    assert "No problems found" in capsys.readouterr().out
    assert cli.main(["check", str(tmp_path / "bad.keras"), "--labels", str(tmp_path / "y.csv"),
                     "--target", "species"]) == 1
    assert "sparse-labels-dense-loss" in capsys.readouterr().out
    assert cli.main(["check", str(tmp_path / "missing.keras"), "--labels",
                     str(tmp_path / "onehot.npy")]) == 2


def test_cli_explain(tmp_path, capsys):
    out = tmp_path / "fig.png"
    assert cli.main(["explain", "multiclass_softmax_mse", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "C3" in text and "agree" in text and out.stat().st_size > 10_000


# --- gradients -------------------------------------------------------------------------

@pytest.mark.parametrize("recipe", list(CATALOG), ids=lambda r: r.name)
def test_formula_agrees_with_autodiff(recipe):
    t = gradients(recipe)
    assert len(t) > 10 and np.isfinite(t["autodiff"]).all()
    has_formula = (gradient._scoring(recipe), recipe.loss) in FORMULAS
    if has_formula:
        assert t["agree"].all(), t[["x", "autodiff", "formula"]].to_string()
    else:
        assert t["formula"].isna().all() and "No closed form" in t["note"].iloc[0]
    # Where the TensorFlow backend trains something else, it is explained: the sigmoid
    # of the logits cached on a softmax output (binary_crossentropy), or p - y from the
    # fused softmax cross-entropy on targets that do not sum to 1.
    if not t["tf_same"].all():
        assert "TensorFlow backend trains something else" in t["note"].iloc[0]
        if recipe.loss == "binary_crossentropy":
            p = 1.0 / (1.0 + np.exp(-t["z"]))
            assert np.allclose(t["autodiff_tf"], (p - t["target"]) / t["units"], rtol=1e-6)
        else:
            assert recipe.encoding == "multihot"
            assert np.allclose(t["autodiff_tf"], t["p_t"] - t["target"], rtol=1e-6)


def test_reduction_constants():
    """1/units for mean-over-last-axis losses, none for the categorical cross-entropies."""
    for name, n in (("regression_linear_mse", 2), ("multilabel_sigmoid_bce", 4),
                    ("count_log_poisson", 3)):
        t = gradients(name, n=n)
        assert (t["units"] == n).all() and t["agree"].all()
    t = gradients("regression_linear_mse", points=[1.0], n=2)
    assert t["autodiff"].iloc[0] == pytest.approx(2 * 1.0 / 2)    # 2 e / units
    t = gradients("multiclass_softmax_cce", points=[0.25])
    assert t["autodiff"].iloc[0] == pytest.approx(0.25 - 1)       # p_t - 1, no 1/units
    t = gradients("binary_sigmoid_mse", points=[0.5])
    assert t["autodiff"].iloc[0] == pytest.approx(2 * (0.5 - 1) * 0.25)


def test_no_closed_form_gives_nan():
    from dataclasses import replace

    odd = replace(CATALOG.get("regression_linear_mse"), activation="softplus",
                  name="softplus_mse")
    t = gradients(odd, points=[-0.5, 0.5], catalog=CATALOG)
    assert t["formula"].isna().all() and t["agree"].isna().all()


def test_c3_softmax_mse_vanishes_while_ce_tends_to_minus_one():
    pts = [1e-4, 1e-3, 1e-2]
    mse = gradients("multiclass_softmax_mse", points=pts)
    ce = gradients("multiclass_softmax_cce", points=pts)
    assert (mse["autodiff"].abs().diff().dropna() > 0).all()       # grows with p_t
    assert abs(mse["autodiff"].iloc[0]) < 1e-3
    assert ce["autodiff"].to_numpy() == pytest.approx(np.array(pts) - 1, abs=1e-9)
    # C3 exactly: two classes (the other class holds 1 - p_t), Keras' mean over classes.
    for K in (2, 3, 5):
        t = gradients("multiclass_softmax_mse", points=[0.05, 0.3, 0.8], n=K)
        c3 = -2 * t["p_t"] * (1 - t["p_t"]) ** 2
        assert np.allclose(t["simplified"], c3)
        assert np.allclose(t["autodiff"], c3 / (K - 1), rtol=1e-9)


def test_gradient_points_are_checked():
    with pytest.raises(ValueError, match="between 0 and 1"):
        gradients("binary_sigmoid_bce", points=[0.0, 0.5])
    with pytest.raises(ValueError, match="cannot produce"):
        gradients("bounded_sigmoid_bce", points=[0.5])   # 0.7 + 0.5 > 1


def test_gradient_figure():
    t = gradient.problem_gradients("multiclass")
    fig = gradient_figure(t, highlight="multiclass_softmax_mse")
    assert len(fig.axes) == 2      # a p_t panel and an error panel (index regression)
    assert len(figures.gradient_figures()) == len(CATALOG.problems)


# --- surfaces and C6 ---------------------------------------------------------------------

def test_loss_surface_matches_keras():
    df = loss_surface(n=11, span=4)
    assert len(df) == 121 and (df["z3"] == 0).all()
    z = np.stack([df["z1"], df["z2"], df["z3"]], axis=1)
    p = keras.activations.softmax(keras.ops.convert_to_tensor(z)).numpy()
    y = np.tile([1.0, 0.0, 0.0], (len(z), 1))
    assert np.allclose(df["cce"], keras.losses.categorical_crossentropy(y, p).numpy(), atol=1e-5)
    assert np.allclose(df["mse"], keras.losses.mean_squared_error(y, p).numpy(), atol=1e-6)
    # C2: where the loss is large (true logit low, other logit high), MSE is flat.
    worst = df[(df["z1"] == -4) & (df["z2"] == 4)].iloc[0]
    assert worst["p_true"] < 1e-3 and worst["cce"] > 8
    assert worst["grad_cce"] > 1.0 and worst["grad_mse"] < worst["grad_cce"] / 50
    assert len(surface_figure(df).axes) == 4     # two panels and their colorbars


def test_c6_numbers():
    t = c6_table()
    assert t["mse"].tolist() == pytest.approx([0.06 / 3, 0.065 / 3], abs=1e-15)
    assert t["mse"][0] == pytest.approx(0.02) and t["mse"][1] == pytest.approx(0.0216666667)
    assert t["sse"].tolist() == pytest.approx([0.06, 0.065])
    assert t["cce"][0] == t["cce"][1] == pytest.approx(-np.log(0.8))
    y = np.array([[1.0, 0.0, 0.0]] * 2)
    p = np.array([[0.8, 0.1, 0.1], [0.8, 0.15, 0.05]])
    assert np.allclose(t["mse"], keras.losses.mean_squared_error(y, p).numpy())


def test_appendix():
    import matplotlib.figure

    items = appendix()
    assert all(isinstance(title, str) for title, _ in items)
    kinds = [type(body) for _, body in items]
    assert str in kinds and matplotlib.figure.Figure in kinds
    assert any("0.02" in body for _, body in items if isinstance(body, str))


def test_check_str_and_types():
    result = check_model(CASES["bce-on-softmax"][0](), Y_ONEHOT)
    assert isinstance(result, Check)
    text = str(result)
    assert text.startswith("Model ") and "ERROR" in text and "fix:" in text


# --- layout: one job per module, each as light as its job ---------------------------

ROOT = Path(__file__).resolve().parents[1]


def in_fresh_python(code):
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.mark.parametrize("module", ["recipes.diagnostics", "recipes.diagnostics.check",
                                    "recipes.diagnostics.gradient",
                                    "recipes.diagnostics.surface"])
def test_import_loads_neither_tensorflow_nor_matplotlib(module):
    heavy = ("tensorflow", "keras", "matplotlib")
    assert in_fresh_python(f"import sys, {module}; "
                           f"print(*[m for m in {heavy!r} if m in sys.modules])") == []


def test_figures_without_pyplot():
    assert in_fresh_python(
        "import sys\n"
        "from recipes.diagnostics.figures import surface_figure\n"
        "from recipes.diagnostics.surface import loss_surface\n"
        "fig = surface_figure(loss_surface(n=5))\n"
        "print(type(fig).__name__, 'matplotlib.pyplot' in sys.modules)") == ["Figure", "False"]
