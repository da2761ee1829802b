"""Bad input, in the style of scikit-learn's estimator checks: tables, not one-off tests.

``BAD_INPUTS``: ``(case id, make(tmp_path), exception type, regex)``. ``make`` builds the
bad input and passes it on; it must raise the exception, and the message must match the
regex: the bad value, where it came from (argument, file, row, column) and what is
allowed. ``RIGHT_ANSWERS``: ``(case id, make(tmp_path), expected)``: input that looks
odd but has one right answer, which ``make`` must return. To add a case, add a row.

Most cases need no training; the few that do (at the end) use tiny data and 1 epoch.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import recipes
from recipes.catalog.infer import InferenceError, read_labels
from recipes.catalog.table import CatalogError, default_path, load_catalog
from recipes.results.grid import Experiment
from recipes.training import data
from recipes.training.settings import Settings

RNG = np.random.RandomState(0)
X = RNG.normal(size=(24, 3))
BINARY, MULTICLASS = recipes.get("binary_sigmoid_bce"), recipes.get("multiclass_softmax_cce")
SIZES = pd.Categorical(list("SMLXSMLX" * 3), categories=list("SMLX"), ordered=True)


def write(tmp, name, content, mode="w", **kw):
    """A file under tmp with this content; returns its path."""
    path = Path(tmp) / name
    if "b" not in mode:
        kw.setdefault("encoding", "utf-8")
    with open(path, mode, **kw) as f:
        f.write(content)
    return path


def compare(X_, y, **kw):
    """``compare`` up to the first training step: every check before training runs."""
    return recipes.compare(X_, y, out=kw.pop("out", "unused-results"), progress=False, **kw)


def bundled_catalog_text():
    return Path(default_path()).read_text(encoding="utf-8")


def with_rate_row(tmp):
    """A user's catalog: the bundled one plus a row for a new problem type, 'rate'."""
    text = bundled_catalog_text().rstrip("\n")
    row = next(line for line in text.splitlines()
               if line.startswith("bounded_regression,bounded_sigmoid_bce,"))
    return write(tmp, "mine.csv", text + "\n" + row.replace(
        "bounded_regression,bounded_sigmoid_bce", "rate,rate_sigmoid_bce") + "\n")


def masked(values, mask):
    return np.ma.array(values, mask=mask)


BAD_INPUTS = [
    # --- labels
    ("labels/masked-entry", lambda t: BINARY.encode(masked([0, 1, 0, 1, 0, 9], [0] * 5 + [1])),
     ValueError, r"without masked entries.*1 masked entries, at rows \[5\]"),
    ("labels/masked-entry-compare", lambda t: compare(X[:6], masked([0, 1] * 3, [0] * 5 + [1]),
                                                      problem="binary"),
     ValueError, r"masked entries, at rows \[5\]"),
    ("labels/masked-entry-infer", lambda t: recipes.infer_problem(masked([0, 1, 2], [0, 1, 0])),
     InferenceError, r"masked entries, at rows \[1\]"),
    ("labels/fractions-to-binary", lambda t: BINARY.encode(np.array([0, 0.5, 0, 0.5])),
     ValueError, r"Received fractions in y: \[0.5\] \(at rows \[1, 3\]\).*bounded_regression"),
    ("labels/fractions-compare", lambda t: compare(X[:8], [0, 0.5] * 4, problem="binary"),
     ValueError, r"fractions in y: \[0.5\]"),
    ("labels/inf-is-no-class", lambda t: MULTICLASS.encode(np.array([0, 1, np.inf, 1])),
     ValueError, r"finite class labels. Received: y\[2\]=inf"),
    ("labels/nan-is-no-class", lambda t: data.from_arrays(X[:8], [0, 1, np.nan, 1] * 2, "binary"),
     ValueError, r"Received: y\[2\]=nan"),
    ("labels/decode-nan-outputs", lambda t: MULTICLASS.decode(np.array([[0.1, 0.2, 0.7],
                                                                        [np.nan] * 3])),
     ValueError, r"multiclass_softmax_cce.*non-finite outputs.*first at row 1"),
    ("labels/decode-nan-binary", lambda t: BINARY.decode(np.array([[np.nan], [0.3]])),
     ValueError, r"non-finite outputs"),
    ("labels/classes-an-int", lambda t: MULTICLASS.encode([0, 1, 2], classes=3),
     ValueError, r"classes as a list of the class labels.*Received: classes=3"),
    ("labels/classes-repeated", lambda t: MULTICLASS.encode([0, 1, 2], classes=[0, 1, 1, 2]),
     ValueError, r"distinct classes. Received: classes=\[0, 1, 1, 2\]"),
    ("labels/matrix-not-onehot", lambda t: MULTICLASS.encode(np.array([[1, 1], [0, 1]])),
     ValueError, r"not one-hot"),
    ("labels/onehot-wrong-classes", lambda t: MULTICLASS.encode(np.eye(3), classes=[0, 1]),
     ValueError, r"one class per one-hot column: 3 classes. Received: classes=\[0, 1\]"),
    ("labels/complex", lambda t: recipes.infer_problem(np.array([1 + 1j, 2])),
     InferenceError, r"numbers, booleans or strings. Received: an array of dtype complex128"),
    ("labels/unknown-class", lambda t: MULTICLASS.encode([0, 5], classes=[0, 1]),
     ValueError, r"Labels not among the classes.*Received: labels=\['5'\]"),
    ("labels/none-is-no-class", lambda t: data.from_arrays(X[:8], ["a", "b", None, "b"] * 2, "binary"),
     ValueError, r"no missing labels. Received: y\[2\]=None \(2 missing, at rows \[2, 6\]\)"),
    ("labels/mixed-types-unsortable", lambda t: MULTICLASS.encode(np.array([1, "a", 2.5], dtype=object)),
     ValueError, r"class labels of one type. Received y mixing \['float', 'int', 'str'\]"),
    ("labels/one-class-for-binary", lambda t: data.from_arrays(X[:8], [1] * 8, "binary"),
     ValueError, r"needs exactly 2 classes. Received: 1 classes"),
    ("labels/regression-inf", lambda t: data.from_arrays(X[:8], [1.0] * 7 + [np.inf], "regression"),
     ValueError, r"finite targets. Received NaN or inf at rows \[7\]"),
    # --- arguments
    ("args/seeds-zero", lambda t: compare(X, [0, 1] * 12, seeds=0),
     ValueError, r"seeds >= 1.*Received: seeds=0"),
    ("args/seeds-negative", lambda t: Experiment("e", ("iris",), seeds=-3),
     ValueError, r"Received: seeds=-3"),
    ("args/seeds-float", lambda t: Experiment("e", ("iris",), seeds=2.5),
     ValueError, r"whole number >= 1 or a list of seed values. Received: seeds=2.5"),
    ("args/seeds-repeated", lambda t: Experiment("e", ("iris",), seeds=[1, 1]),
     ValueError, r"distinct seed values.*Received: seeds=\[1, 1\]"),
    ("args/seeds-empty", lambda t: Experiment("e", ("iris",), seeds=[]),
     ValueError, r"non-empty list of seed values"),
    ("args/epochs-zero", lambda t: compare(X, [0, 1] * 12, epochs=0),
     ValueError, r"epochs to be a whole number >= 1. Received: epochs=0"),
    ("args/epochs-fraction", lambda t: Settings(epochs=2.5),
     ValueError, r"Received: epochs=2.5"),
    ("args/epochs-bool", lambda t: Settings(epochs=True),
     ValueError, r"Received: epochs=True"),
    ("args/batch-zero", lambda t: Settings(batch_size=0), ValueError, r"Received: batch_size=0"),
    ("args/learning-rate-negative", lambda t: Experiment("e", ("iris",), learning_rate=-0.1),
     ValueError, r"learning_rate to be a finite number > 0. Received: learning_rate=-0.1"),
    ("args/learning-rate-nan", lambda t: Settings(learning_rate=float("nan")),
     ValueError, r"Received: learning_rate=nan"),
    ("args/hidden-negative", lambda t: Settings(hidden=(32, -4)),
     ValueError, r"each a whole number >= 1. Received: hidden=\(32, -4\)"),
    ("args/hidden-a-string", lambda t: Settings.of({"hidden": "32"}),
     ValueError, r"hidden as a sequence of layer widths.*Received: hidden='32'"),
    ("args/output-scale-inf", lambda t: Settings(output_scale=float("inf")),
     ValueError, r"Received: output_scale=inf"),
    ("args/val-fraction", lambda t: Experiment("e", ("iris",), val_fraction=1.5),
     ValueError, r"0 < val_fraction < 1. Received: val_fraction=1.5"),
    ("args/test-fraction", lambda t: Experiment("e", ("iris",), val_fraction=0.5, test_fraction=0.6),
     ValueError, r"test_fraction < 1 - val_fraction = 0.5. Received: test_fraction=0.6"),
    ("args/recipes-not-names", lambda t: Experiment("e", ("iris",), recipes=[3]),
     ValueError, r"recipes as a list of names \(strings\). Received: recipes=\[3\]"),
    ("args/no-datasets", lambda t: Experiment("e", ()),
     ValueError, r"at least one dataset"),
    ("args/complex-X", lambda t: compare(X + 1j, [0, 1] * 12),
     ValueError, r"real features. Received: complex X \(dtype=complex128\)"),
    ("args/two-rows", lambda t: compare(X[:2], [0, 1]),
     ValueError, r"at least 6 rows.*Received: X.shape=\(2, 3\)"),
    ("args/three-rows", lambda t: data.from_arrays(X[:3], [0, 1, 0], "binary"),
     ValueError, r"at least 6 rows"),
    ("args/nan-X", lambda t: data.from_arrays(np.where(np.eye(8, 3) > 0, np.nan, 0), [0, 1] * 4,
                                              "binary"),
     ValueError, r"finite X. Received: X\[0, 0\]=nan"),
    ("args/masked-X", lambda t: data.from_arrays(masked(X[:8], np.eye(8, 3)), [0, 1] * 4, "binary"),
     ValueError, r"X without masked entries.*at rows \[0, 1, 2\]"),
    ("args/dataframe-text-column", lambda t: data.from_arrays(
        pd.DataFrame({"a": range(8), "colour": list("rgbrgbrg")}), [0, 1] * 4, "binary"),
     ValueError, r"non-numeric columns of X: \{'colour': "),
    ("args/ragged-X", lambda t: data.from_arrays([[1, 2], [3]] * 4, [0, 1] * 4, "binary"),
     ValueError, r"2-D numeric array. Received an irregular array"),
    ("args/unknown-problem", lambda t: compare(X, [0, 1] * 12, problem="rate"),
     ValueError, r"Expected one of \{.*'binary'.*\}. Received: problem='rate'"),
    ("args/unknown-trainer", lambda t: recipes.run(Experiment("e", ("iris",)), Path(t) / "r",
                                                    trainer="torch", progress=False),
     ValueError, r"Received: trainer='torch'"),
    # --- files
    ("files/csv-row-too-long", lambda t: read_labels(write(t, "y.csv", "a,y\n1,0\n2,1,5\n3,0\n"), "y"),
     InferenceError, r"y.csv', line 3: expected 2 cells, as in the header \['a', 'y'\]. Received 3"),
    ("files/csv-row-too-short", lambda t: read_labels(write(t, "y.csv", "a,y\n1,0\n2\n"), "y"),
     InferenceError, r"y.csv', line 3: expected 2 cells"),
    ("files/csv-binary", lambda t: read_labels(write(t, "y.csv", bytes(range(256)), "wb"), "y"),
     InferenceError, r"y.csv': it is not UTF-8 text \(byte \d+"),
    ("files/csv-latin-1", lambda t: read_labels(write(t, "y.csv", "n,y\nJos\xe9,1\n".encode("latin-1"),
                                                      "wb"), "y"),
     InferenceError, r"y.csv': it is not UTF-8 text.*Save it as UTF-8"),
    ("files/csv-unterminated-quote", lambda t: read_labels(write(t, "y.csv", 'a,y\n"1,0\n2,1\n'), "y"),
     InferenceError, r"y.csv', line \d: .*unterminated quote"),
    ("files/csv-a-directory", lambda t: read_labels(os.makedirs(Path(t) / "y.csv") or Path(t) / "y.csv",
                                                    "y"),
     InferenceError, r"y.csv': it is a directory, not a file"),
    ("files/csv-empty", lambda t: read_labels(write(t, "y.csv", ""), "y"),
     InferenceError, r"y.csv': the file is empty"),
    ("files/csv-missing-column", lambda t: read_labels(write(t, "y.csv", "a,b\n1,2\n"), "y"),
     InferenceError, r"not found: \['y'\]. Available columns: \['a', 'b'\]"),
    ("files/npy-is-text", lambda t: read_labels(write(t, "y.npy", "0\n1\n0\n")),
     InferenceError, r"y.npy': it is not a NumPy .npy file"),
    ("files/npy-a-directory", lambda t: read_labels(os.makedirs(Path(t) / "y.npy") or Path(t) / "y.npy"),
     InferenceError, r"y.npy': it is a directory"),
    ("files/catalog-a-directory", lambda t: load_catalog(t),
     CatalogError, r"Catalog file is a directory, not a file"),
    ("files/catalog-latin-1", lambda t: load_catalog(write(
        t, "c.csv", bundled_catalog_text().replace("Chollet", "Chollet\xe9").encode("latin-1"), "wb")),
     CatalogError, r"c.csv: not UTF-8 text"),
    ("files/catalog-unterminated-quote", lambda t: load_catalog(write(
        t, "c.csv", bundled_catalog_text() + 'binary,x,alternative,"sigmoid\n')),
     CatalogError, r"c.csv: .*unterminated quote"),
    ("files/report-of-a-missing-folder", lambda t: recipes.report(Path(t) / "typo", Path(t) / "rep"),
     FileNotFoundError, r"No results store at .*typo"),
]

# (case id, make(tmp_path), expected value)
RIGHT_ANSWERS = [
    ("labels/ordered-categorical-keeps-its-order",
     lambda t: data.from_arrays(X, SIZES, "ordinal").classes, ("S", "M", "L", "X")),
    ("labels/ordered-categorical-encode",
     lambda t: recipes.get("ordinal_cumulative_bce").encode(SIZES[:4]).tolist(),
     [[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]]),
    ("labels/onehot-to-binary-recipe",
     lambda t: BINARY.encode(np.eye(2)[[0, 1, 1, 0, 1, 0, 0, 1, 1]]).shape, (9, 1)),
    ("labels/onehot-to-multiclass-recipe",
     lambda t: MULTICLASS.encode(np.eye(3)[[2, 0, 1]]).tolist(), np.eye(3)[[2, 0, 1]].tolist()),
    ("labels/fractions-with-explicit-classes",
     lambda t: BINARY.encode([0, 0.5, 0.5], classes=[0, 0.5]).ravel().tolist(), [0, 1, 1]),
    ("labels/16-float-values-in-20-rows-offer-regression",
     lambda t: "regression" in [c.problem for c in recipes.infer_problem(
         np.round(np.random.RandomState(1).normal(70, 10, 20), 1)[[*range(16), 0, 1, 2, 3]]
     ).candidates], True),
    ("args/numpy-numbers-give-the-same-run",
     lambda t: Settings(epochs=np.int64(5), learning_rate=np.float32(0.5)).config()
     == Settings(epochs=5, learning_rate=0.5).config(), True),
    ("args/recipes-as-one-string",
     lambda t: Experiment("e", ("iris",), recipes="binary_sigmoid_bce").recipes,
     ("binary_sigmoid_bce",)),
    ("args/datasets-as-one-string", lambda t: Experiment("e", "iris").datasets, ("iris",)),
    ("args/huge-X-is-standardized", lambda t: bool(np.isclose(data.split(
        data.from_arrays(X * 1e300, [0, 1] * 12, "binary"), 0.25, 0).X_train.std(axis=0),
        1, atol=1e-3).all()), True),
    ("files/catalog-with-byte-order-mark", lambda t: len(load_catalog(write(
        t, "c.csv", bundled_catalog_text(), encoding="utf-8-sig")).recipes),
     len(load_catalog().recipes)),
    ("files/csv-with-byte-order-mark",
     lambda t: read_labels(write(t, "y.csv", "y\n1\n0\n", encoding="utf-8-sig"), "y").tolist(), [1, 0]),
    ("catalogs/new-problem-type-in-a-user-catalog",
     lambda t: data.split(data.from_arrays(X, RNG.uniform(size=24), "rate",
                                           catalog=with_rate_row(t)), 0.25, 0).n, 1),
]


@pytest.mark.parametrize("make, error, match", [c[1:] for c in BAD_INPUTS],
                         ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_gets_a_clear_error(tmp_path, make, error, match):
    with pytest.raises(error, match=match):
        make(tmp_path)


@pytest.mark.parametrize("make, expected", [c[1:] for c in RIGHT_ANSWERS],
                         ids=[c[0] for c in RIGHT_ANSWERS])
def test_odd_input_gets_the_right_answer(tmp_path, make, expected):
    assert make(tmp_path) == expected


def test_case_ids_are_unique():
    ids = [c[0] for c in BAD_INPUTS + RIGHT_ANSWERS]
    assert len(ids) == len(set(ids))


# --- models (Keras, no training) ----------------------------------------------------

def _model(loss, built=True, units=3):
    import keras

    layers = ([keras.Input((4,))] if built else []) + [keras.layers.Dense(units, activation="softmax")]
    model = keras.Sequential(layers)
    if loss is not None:
        model.compile(loss=loss)
    return model


def _custom_loss(y_true, y_pred):
    import keras

    return keras.ops.mean((y_true - y_pred) ** 2)


LABELS = np.array([0, 1, 2, 1, 0, 2])
MODEL_CASES = [
    ("models/unbuilt-sequential", lambda: recipes.check_model(_model("mse", built=False), LABELS),
     ValueError, r"Expected a built model: model '.*' has no inputs or outputs yet.*keras.Input"),
    ("models/uncompiled", lambda: recipes.check_model(_model(None), LABELS),
     ValueError, r"Expected a compiled model"),
    ("models/two-losses-one-output",
     lambda: recipes.check_model(_model(["mse", "mae"]), LABELS),
     ValueError, r"one loss for the single output. Received: \['mse', 'mae'\]"),
    # --- engine: build_head's backbones; build_model's own arguments (Keras takes these)
    ("models/head-on-a-sequential-without-input-shape",
     lambda: recipes.build_head(MULTICLASS, _model(None, built=False), 3),
     ValueError, r"Expected a backbone with a known input shape.*Give it one.*keras.Input"
                 r".*Received: backbone='.*' \(Sequential\) with no input shape"),
    ("models/learning-rate-infinite",
     lambda: recipes.build_model(MULTICLASS, 4, 3, learning_rate=float("inf")),
     ValueError, r"learning_rate to be a finite number > 0. Received: learning_rate=inf"),
    ("models/output-scale-infinite",
     lambda: recipes.build_model(MULTICLASS, 4, 3, output_scale=float("inf")),
     ValueError, r"output_scale to be a finite number > 0. Received: output_scale=inf"),
]


@pytest.mark.parametrize("make, error, match", [c[1:] for c in MODEL_CASES],
                         ids=[c[0] for c in MODEL_CASES])
def test_bad_model_gets_a_clear_error(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_model_files(tmp_path):
    text = write(tmp_path, "m.keras", "not a model")
    with pytest.raises(ValueError, match=r"m.keras': it is not a .keras file"):
        recipes.check_model(text, LABELS)


def test_a_custom_loss_is_reported_as_not_checked():
    check = recipes.check_model(_model(_custom_loss), LABELS)
    assert "Could not check the loss '_custom_loss'" in check.summary()
    assert "No problems found" not in str(check) and "NOT confirmed" in str(check)


def test_a_one_element_loss_list_is_read_as_its_loss():
    check = recipes.check_model(_model(["sparse_categorical_crossentropy"]), LABELS)
    assert check.model.loss_name == "sparse_categorical_crossentropy" and check.ok


# --- security: a name runs only a bundled experiment ---------------------------------

def test_run_by_name_never_runs_code_from_the_working_directory(tmp_path, monkeypatch):
    from recipes.cli import load_experiment, main

    marker = tmp_path / "ran"
    evil = f"open({str(marker)!r}, 'w').write('x')\n"
    (tmp_path / "experiments").mkdir()
    for name in ("binary", "evil"):
        write(tmp_path / "experiments", f"{name}.py", evil)
    monkeypatch.chdir(tmp_path)
    assert load_experiment("binary").name == "binary"       # the bundled one
    assert main(["run", "evil", "--out", str(tmp_path / "r"), "--no-report"]) == 2
    assert not marker.exists()
    with pytest.raises(ValueError, match="must define EXPERIMENT"):   # a path: the user's file
        load_experiment(str(tmp_path / "experiments" / "evil.py"))
    assert marker.exists()


# --- cases that train: tiny data, 1 epoch --------------------------------------------

def test_results_answer_for_the_data_asked(tmp_path):
    """A compare of other data into the same folder trains it, and reads back only it."""
    iris, wine = data.load("iris"), data.load("wine")
    kw = dict(recipes=["multiclass_softmax_cce"], seeds=1, epochs=1, trainer="keras",
              out=tmp_path, progress=False)
    first = recipes.compare(wine.X[::6], wine.y[::6], **kw)
    second = recipes.compare(iris.X[::5], iris.y[::5], **kw)
    assert set(first.run).isdisjoint(second.run)
    assert len(recipes.load_results(tmp_path).groupby("condition").run.nunique()) == 2
    again = recipes.compare(iris.X[::5], iris.y[::5], **kw)     # nothing new: no training
    assert set(again.run) == set(second.run)


def test_a_user_catalog_problem_trains_and_all_diverged_is_reported(tmp_path):
    catalog = with_rate_row(tmp_path)
    y = 1 / (1 + np.exp(-X[:, 0]))
    rate = recipes.compare(X, y, problem="rate", catalog=catalog, seeds=1, epochs=1,
                           trainer="keras", out=tmp_path / "rate", progress=False)
    assert set(rate.recipe) == {"rate_sigmoid_bce"} and set(rate.problem) == {"rate"}
    diverged = recipes.compare(X, X[:, 0] * 50, problem="regression", seeds=2, epochs=2,
                               recipes=["regression_linear_mse"], optimizer="sgd",
                               learning_rate=1e6, trainer="keras", out=tmp_path / "div",
                               progress=False)
    runs = recipes.results.store.Store(tmp_path / "div", create=False).runs()
    assert set(runs.status) == {"diverged"}
    page = recipes.report(tmp_path / "div", tmp_path / "report", appendix=False)
    text = (tmp_path / "report" / "report.md").read_text()
    assert page.is_file() and "2 of 2 runs of regression_linear_mse diverged" in text
    assert len(diverged)


# --- a backend whose library is not installed: refused before any work --------------

def test_an_experiment_on_a_backend_that_is_not_installed_is_refused_before_any_work(
        tmp_path, monkeypatch):
    import sys

    from recipes.cli import main
    from recipes.extras import MissingExtra

    monkeypatch.setitem(sys.modules, "jax", None)   # as if JAX were not installed
    exp = Experiment(name="e", datasets=("breast_cancer",), recipes=("binary_sigmoid_bce",),
                     seeds=1, epochs=1, backend=["tensorflow", "jax"])
    with pytest.raises(MissingExtra, match=r"'e'.*jax backend.*pip install "
                                           r"'keras-loss-recipes\[jax\]'.*--backend tensorflow"):
        recipes.run(exp, tmp_path / "res", progress=False)
    assert not (tmp_path / "res").exists()
    # the command line checks every experiment of the suite first: nothing is trained
    assert main(["run", "all", "--out", str(tmp_path / "all"), "--quiet"]) == 2
    assert not (tmp_path / "all").exists()
