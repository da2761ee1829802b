"""Bad input, in the style of scikit-learn's estimator checks: tables, not one-off tests.

``BAD_INPUTS``: ``(case id, make(tmp_path), exception type, regex)``. ``make`` builds the
bad input and passes it on; it must raise the exception, and the message must match the
regex: the bad value, where it came from (argument, file, row, column) and what is
allowed. ``RIGHT_ANSWERS``: ``(case id, make(tmp_path), expected)``: input that looks
odd but has one right answer, which ``make`` must return. To add a case, add a row.

Most cases need no training; the few that do (at the end) use tiny data and 1 epoch.
"""

import os
import re
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import recipes
from recipes.catalog.infer import InferenceError, read_labels
from recipes.catalog.table import CatalogError, as_catalog, default_path, load_catalog
from recipes.experiments import load_experiment, load_experiments
from recipes.export.tracking import to_mlflow, to_tensorboard
from recipes.results.grid import Experiment, decoding_of, setups
from recipes.results import runner
from recipes.results.store import Store, StoreError
from recipes.training import data, metrics
from recipes.training.settings import Settings, Setup, condition
from recipes.decisions.thresholds import threshold_curve
from recipes.reporting.advice import load as load_advice
from recipes.reporting.advice import measure as measure_advice
from recipes.training.trace import class_weights

RNG = np.random.RandomState(0)
X = RNG.normal(size=(24, 3))
BINARY, MULTICLASS = recipes.get("binary_sigmoid_bce"), recipes.get("multiclass_softmax_cce")
SIZES = pd.Categorical(list("SMLXSMLX" * 3), categories=list("SMLX"), ordered=True)
LEVELS = np.array(["low", "medium", "high"] * 10)


def write(tmp, name, content, mode="w", **kw):
    """A file under tmp with this content; returns its path."""
    path = Path(tmp) / name
    if "b" not in mode:
        kw.setdefault("encoding", "utf-8")
    with open(path, mode, **kw) as f:
        f.write(content)
    return path


def two_inputs(one=False):
    """A Keras model with two inputs (or, ``one``, only the first: 5 features)."""
    import keras

    a, b = keras.Input((5,)), keras.Input((2,))
    if one:
        return keras.Model(a, keras.layers.Dense(2)(a), name="two")
    return keras.Model([a, b], keras.layers.Concatenate()([a, b]), name="two")


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


def sgd(learning_rate, **kw):
    """A keras.optimizers.SGD instance (Keras imported only by the rows that use it)."""
    import keras

    return keras.optimizers.SGD(learning_rate=learning_rate, **kw)


def scipy_sparse():
    import scipy.sparse

    return scipy.sparse
class ArrayOnly:
    """An array-like that numpy converts (``__array__``) but that cannot be iterated."""

    def __init__(self, data):
        self.data = data

    def __array__(self, dtype=None, copy=None):
        return self.data
# --- reading results (effects, report, decode): the helpers of the rows at the end of
# the tables

def results_frame():
    """Hand-made tidy results of two recipes x 3 seeds, one epoch each, and their runs."""
    rows, runs = [], []
    for recipe, role, acc in (("binary_sigmoid_bce", "recommended", 0.9),
                              ("binary_sigmoid_mse", "anti-pattern", 0.8)):
        for seed in range(3):
            key = dict(run=f"{recipe}-{seed}", experiment="e", dataset="d", problem="binary",
                       target="classes", recipe=recipe, role=role, seed=seed, trainer="keras")
            runs.append(dict(key, status="ok", config=None))
            rows += [dict(key, epoch=1, split="val", metric="accuracy", value=acc + seed / 100),
                     dict(key, epoch=0, split="val", metric="baseline_accuracy", value=0.6)]
    return pd.DataFrame(rows), pd.DataFrame(runs)


RESULTS, RUNS = results_frame()


def with_text_value(frame, row, text):
    """``frame`` with the value at ``row`` replaced by ``text`` (not a number)."""
    values = frame["value"].astype(object)
    values.iloc[row] = text
    return frame.assign(value=values)


# --- results store helpers (issue #20 round two: the store) ---------------------------

def a_store(tmp, runs=2):
    """A results folder under tmp holding runs r0, r1, ... (2 epochs of history each), all
    in its file (none left in the WAL)."""
    store = Store(Path(tmp) / "results")
    for i in range(runs):
        store.write({"run": f"r{i}", "experiment": "e", "dataset": "iris", "recipe": "softmax",
                     "seed": i, "trainer": "keras", "status": "ok", "epochs": 2, "seconds": 1.0,
                     "config": {"epochs": 2}, "versions": {"keras": "3"}},
                    [(e, s, "loss", 1.0 / e) for e in (1, 2) for s in ("train", "val")])
    store._connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store.path.parent


def damaged(tmp, column, value=None):
    """A results folder whose run r0 has ``column`` set to ``value`` (NULL) by hand."""
    folder = a_store(tmp)
    con = sqlite3.connect(folder / "results.sqlite")
    with con:
        con.execute(f"UPDATE runs SET {column} = ? WHERE run = 'r0'", (value,))
    con.close()
    return folder


def write_to_a_full_disk(store):
    """Write a run to ``store`` when its file may not grow (``PRAGMA max_page_count``:
    SQLite then answers SQLITE_FULL, as on a full disk)."""
    con = store._connect()
    (pages,) = con.execute("PRAGMA page_count").fetchone()
    con.execute(f"PRAGMA max_page_count = {pages}")
    store.write({"run": "big", "status": "ok", "config": {}, "versions": {}},
                [(e, "train", f"m{m}", 0.5) for e in range(1, 200) for m in range(50)])


def after_a_full_disk(tmp):
    """(the runs stored, the integrity check) once a write failed on a full disk."""
    store = Store(a_store(tmp, runs=1))
    with pytest.raises(StoreError):
        write_to_a_full_disk(store)
    con = sqlite3.connect(store.path)
    found = store.finished(), con.execute("PRAGMA integrity_check").fetchone()[0]
    con.close()
    return found


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
    # --- decisions: calibration, thresholds, decode's threshold (tests/test_calibration.py,
    # tests/test_thresholds.py test what they fit)
    ("decisions/calibrate-a-regression-recipe",
     lambda t: recipes.calibrate("regression_linear_mse", X[:, :1], X[:, 0]), ValueError,
     r"calibrate needs a class recipe, one of \{'binary', 'multiclass', 'multilabel', "
     r"'ordinal'\}. Received: recipe='regression_linear_mse'"),
    ("decisions/calibrate-a-count-recipe",
     lambda t: recipes.calibrate(recipes.get("count_exp_poisson"), [[1.0]] * 4, [1, 2, 0, 1]),
     ValueError,
     r"calibrate needs a class recipe, one of \{.*\}. Received: recipe='count_exp_poisson'"),
    ("decisions/calibrate-unknown-method",
     lambda t: recipes.calibrate(BINARY, [0.2, 0.8], [0, 1], method="platt"),
     ValueError, r"Expected one of \{'temperature', 'vector'\}. Received: method='platt'"),
    ("decisions/calibrate-vector-on-an-argmax",
     lambda t: recipes.calibrate(MULTICLASS, np.eye(3), [0, 1, 2], method="vector"),
     ValueError, r"can change the argmax.*Expected one of \{'threshold', 'cumulative'\}. "
                 r"Received: decoding='argmax'"),
    ("decisions/calibrate-linear-scores",
     lambda t: recipes.calibrate("binary_linear_mse", [0.2, 0.8], [0, 1]), ValueError,
     r"neither logits nor probabilities.*Expected one of \{'sigmoid', 'softmax'\}. "
     r"Received: activation='linear'"),
    ("decisions/calibrate-sigmoids-decoded-by-argmax",
     lambda t: recipes.calibrate("multiclass_ovr_sigmoid_bce", np.eye(3) * 0.8, [0, 1, 2]),
     ValueError, r"can change the labels.*Received: decoding='argmax'"),
    ("decisions/calibrate-a-softmax-decoded-by-threshold",
     lambda t: recipes.calibrate("multilabel_softmax_cce", np.eye(2), np.eye(2)),
     ValueError, r"Expected one of \{'argmax'\}. Received: decoding='threshold'"),
    ("decisions/calibrate-logits-as-probabilities",
     lambda t: recipes.calibrate(BINARY, [[0.3], [-2.0], [3.0]], [0, 1, 1]), ValueError,
     r"sigmoid output, values within 0..1. Received: outputs\[1, 0\]=-2 \(2 values outside\)"
     r".*from_logits=True"),
    ("decisions/calibrate-softmax-rows-off-one",
     lambda t: recipes.calibrate(MULTICLASS, [[0.5, 0.3, 0.1], [0.2, 0.2, 0.6]], [0, 2]),
     ValueError, r"rows sum to 1. Received: row 0 sums to 0.9 \(1 row\(s\) off"),
    ("decisions/calibrate-wrong-units",
     lambda t: recipes.calibrate(BINARY, np.full((4, 3), 0.5), [0, 1, 0, 1]),
     ValueError, r"1 output unit\(s\) for n=2. Received: outputs with 3 unit\(s\)"),
    ("decisions/calibrate-3-d-outputs",
     lambda t: recipes.calibrate(MULTICLASS, np.full((2, 4, 3), 1 / 3), [0, 1, 2, 1]),
     ValueError, r"expected outputs of shape \(rows, units\).*Received: outputs.shape=\(2, 4, 3\)"),
    ("decisions/calibrate-rows-and-labels-differ",
     lambda t: recipes.calibrate(BINARY, [0.2, 0.8, 0.6], [0, 1]),
     ValueError, r"one row of outputs per label. Received: 3 rows of outputs and 2 labels"),
    ("decisions/calibrate-a-class-the-outputs-lack",
     lambda t: recipes.calibrate(BINARY, [0.2, 0.8, 0.6], [0, 1, 2]),
     ValueError, r"score 2 classes. Received: y with 3 classes \[0, 1, 2\]; pass classes="),
    ("decisions/calibrate-a-label-not-among-the-classes",
     lambda t: recipes.calibrate(BINARY, [0.2, 0.8, 0.6], ["a", "b", "c"], classes=["a", "b"]),
     ValueError, r"Expected one of \{'a', 'b'\}. Received: labels=\['c'\]"),
    ("decisions/calibrate-fewer-string-classes-than-outputs",
     lambda t: recipes.calibrate(MULTICLASS, np.full((2, 3), 1 / 3), ["cat", "dog"]),
     ValueError, r"score 3 classes. Received: y with 2 classes \['cat', 'dog'\]"),
    ("decisions/calibrate-multilabel-not-0-1",
     lambda t: recipes.calibrate("multilabel_sigmoid_bce", np.full((2, 2), 0.5), [[0, 2], [1, 0]]),
     ValueError, r"expects 0/1 labels. Received values \[2\]"),
    ("decisions/calibrate-multilabel-columns",
     lambda t: recipes.calibrate("multilabel_sigmoid_bce", np.full((2, 3), 0.5), [[0, 1], [1, 0]]),
     ValueError, r"one 0/1 column per output unit \(3\). Received: y.shape=\(2, 2\)"),
    ("decisions/apply-before-fit",
     lambda t: __import__("recipes.decisions.calibration", fromlist=["METHODS"]
                          ).METHODS["temperature"](BINARY).apply([0.5]),
     ValueError, r"not fitted. Call fit\(outputs, y\) first"),
    ("decisions/apply-other-units",
     lambda t: recipes.calibrate("multilabel_logits_bce", [[1.0, -1.0], [-1.0, 1.0], [2.0, 1.0]],
                                 [[1, 0], [0, 1], [0, 1]]).apply(np.zeros((2, 3))),
     ValueError, r"fitted on outputs with 2 unit\(s\). Received: outputs.shape=\(2, 3\)"),
    ("decisions/stored-calibrator-unknown-method",
     lambda t: recipes.Calibrator.from_dict({"method": "isotonic", "recipe": "binary_sigmoid_bce",
                                             "units": 1, "parameters": {}}),
     ValueError, r"Expected one of \{'temperature', 'vector'\}. Received: method='isotonic'"),
    ("decisions/stored-calibrator-bad-temperature",
     lambda t: recipes.Calibrator.from_dict({"method": "temperature", "units": 1,
                                             "recipe": "binary_sigmoid_bce",
                                             "parameters": {"temperature": -2}}),
     ValueError, r"expected parameters \{'temperature': a positive number\}"),
    ("decisions/threshold-for-an-argmax-recipe",
     lambda t: recipes.tune_threshold(MULTICLASS, np.eye(3), [0, 1, 2]), ValueError,
     r"tune_threshold needs a recipe decoded by a threshold, one of \{'binary_sigmoid_bce', .*\}. "
     r"Received: recipe='multiclass_softmax_cce' \(decoding 'argmax'\)"),
    ("decisions/threshold-for-a-count-recipe",
     lambda t: recipes.tune_threshold("count_exp_poisson", [[1.0]] * 2, [1, 2]), ValueError,
     r"Received: recipe='count_exp_poisson' \(decoding 'identity'\)"),
    ("decisions/threshold-unknown-metric",
     lambda t: recipes.tune_threshold(BINARY, [0.2, 0.8], [0, 1], metric="auc"), ValueError,
     r"Expected one of \{'f1', 'balanced_accuracy'\}. Received: metric='auc'; or a cost"),
    ("decisions/threshold-cost-without-both-costs",
     lambda t: recipes.tune_threshold(BINARY, [0.2, 0.8], [0, 1], metric={"cost_fp": 1}),
     ValueError,
     r"expected a cost as \{'cost_fp': a, 'cost_fn': b\}.*Received: metric=\{'cost_fp': 1\}"),
    ("decisions/threshold-cost-not-positive",
     lambda t: recipes.tune_threshold(BINARY, [0.2, 0.8], [0, 1],
                                      metric={"cost_fp": 1, "cost_fn": 0}),
     ValueError, r"Received: metric=\{'cost_fp': 1, 'cost_fn': 0\}"),
    ("decisions/threshold-too-few-rare-rows",
     lambda t: recipes.tune_threshold(BINARY, np.linspace(0, 1, 40), np.r_[[0] * 36, [1] * 4]),
     ValueError, r"needs at least min_rare=10 validation rows of each class.*the rare class 1 has "
                 r"4 of 40 rows.*fits noise"),
    ("decisions/threshold-too-few-rare-rows-of-a-label",
     lambda t: recipes.tune_threshold("multilabel_sigmoid_bce", np.full((40, 3), 0.5),
                                      np.c_[[0, 1] * 20, [1] * 37 + [0] * 3, [0] * 40]),
     ValueError, r"label\(s\) \[1, 2\] have \[3, 0\] rows of their rarer value"),
    ("decisions/threshold-wrong-shape",
     lambda t: recipes.tune_threshold(BINARY, np.full((40, 2), 0.5), [0, 1] * 20),
     ValueError, r"1 output unit\(s\) for n=2. Received: outputs with 2 unit\(s\)"),
    ("decisions/threshold-bad-min-rare",
     lambda t: recipes.tune_threshold(BINARY, [0.2, 0.8], [0, 1], min_rare=0),
     ValueError, r"min_rare as an integer >= 1. Received: min_rare=0"),
    ("decisions/threshold-callable-returns-no-number",
     lambda t: recipes.tune_threshold(BINARY, np.linspace(0, 1, 40), [0, 1] * 20,
                                      metric=lambda y, p: "good"),
     ValueError, r"metric\(y_true, y_pred\) to return a finite number. Received: 'good'"),
    ("decisions/decode-threshold-on-an-argmax",
     lambda t: MULTICLASS.decode(np.eye(3), threshold=0.3), ValueError,
     r"decodes by 'argmax', which takes no threshold.*Received: threshold=0.3"),
    ("decisions/decode-threshold-outside-0-1",
     lambda t: BINARY.decode([[0.3]], threshold=1.5), ValueError,
     r"strictly between 0 and 1.*Received: threshold=1.5"),
    ("decisions/decode-threshold-nan",
     lambda t: BINARY.decode([[0.3]], threshold=float("nan")), ValueError,
     r"strictly between 0 and 1.*Received: threshold=nan"),
    ("decisions/decode-one-threshold-per-label",
     lambda t: recipes.get("multilabel_sigmoid_bce").decode([[0.3, 0.6]],
                                                            threshold=[0.5, 0.5, 0.5]),
     ValueError, r"one per output unit \(2\). Received: threshold=\[0.5, 0.5, 0.5\]"),
    ("decisions/decode-threshold-a-word",
     lambda t: BINARY.decode([[0.3]], threshold="high"), ValueError,
     r"one threshold, or one per output unit \(1\). Received: threshold='high'"),
    # --- inputs (issue #20, round two): compare/Experiment arguments and user arrays,
    # refused before any training
    ("inputs/optimizer-instance", lambda t: compare(X, [0, 1] * 12, optimizer=sgd(0.5)),
     ValueError, r"Expected an optimizer name, one of \{'adam', 'sgd'\}.*pass optimizer='sgd', "
                 r"learning_rate=0.5. Received: optimizer=<"),
    ("inputs/optimizer-instance-with-momentum",
     lambda t: Experiment("e", ("iris",), optimizer=sgd(0.1, momentum=0.9)),
     ValueError, r"optimizer='sgd', learning_rate=0.1 \(its momentum=0.9 has no setting"),
    ("inputs/optimizer-instance-in-base-settings",
     lambda t: Experiment("e", ("iris",), settings=Settings(optimizer=sgd(0.5))),
     ValueError, r"Expected an optimizer name"),
    ("inputs/optimizer-unknown-name", lambda t: compare(X, [0, 1] * 12, optimizer="adamw2"),
     ValueError, r"optimizer to be one of \{'adam', 'sgd'\}.*Received: optimizer='adamw2'"),
    ("inputs/optimizer-unknown-in-an-axis",
     lambda t: Experiment("e", ("iris",), optimizer=["sgd", "rmsprop"]),
     ValueError, r"Received: optimizer='rmsprop'"),
    ("inputs/recipes-empty", lambda t: compare(X, [0, 1] * 12, recipes=[]),
     ValueError, r"at least one recipe in recipes; leave recipes out \(None\).*Received: recipes=\[\]"),
    ("inputs/conditions-empty", lambda t: compare(X, [0, 1] * 12, conditions=[]),
     ValueError, r"at least one condition in conditions.*Received: conditions=\[\]"),
    ("inputs/datasets-empty-list", lambda t: Experiment("e", []),
     ValueError, r"at least one dataset in datasets. Received: datasets=\[\]"),
    ("inputs/tune-grid-empty", lambda t: Experiment("e", ("iris",), tune="learning_rate",
                                                    tune_grid=[]),
     ValueError, r"tune_grid as a non-empty list of learning rates.*Received: tune_grid=\[\]"),
    ("inputs/goal-misspelled-metric",
     lambda t: compare(X, [0, 1] * 12, goal={"metric": "acuracy", "value": 0.9}),
     ValueError, r"Expected one of \{'accuracy', .*\}. Received: goal\['metric'\]='acuracy'"),
    ("inputs/goal-metric-of-another-problem",
     lambda t: compare(X, [0, 1] * 12, goal={"metric": "mse", "value": 0.5}, out=Path(t) / "r"),
     ValueError, r"Expected one of \{'accuracy'.*'pr_auc'\}. Received: goal\['metric'\]='mse' "
                 r"\(.* for dataset 'compare' \(problem 'binary'\)\)"),
    ("inputs/goal-value-out-of-range",
     lambda t: Experiment("e", ("iris",), goal={"metric": "accuracy", "value": 90}),
     ValueError, r"goal\['value'\] to be a finite number in \[0, 1\].*Received: goal\['value'\]=90"),
    ("inputs/goal-without-value", lambda t: Experiment("e", ("iris",), goal={"metric": "mse"}),
     ValueError, r"goal as a dict \{'metric': name, 'value': number\}"),
    ("inputs/goal-unknown-key",
     lambda t: Experiment("e", ("iris",), goal={"metric": "mse", "value": 1, "target": 2}),
     ValueError, r"Expected one of \{'metric', 'value'\}. Received: goal key='target'"),
    ("inputs/index-labels-mismatched", lambda t: data.from_arrays(
        pd.DataFrame(X, index=range(100, 124)), pd.Series([0, 1] * 12, index=range(80, 104)),
        "binary"),
     ValueError, r"paired by index.*20 labels of X's index not in y's \(e.g. \[104, 105, 106\]\) "
                 r"and 20 of y's not in X's \(e.g. \[80, 81, 82\]\)"),
    ("inputs/recipes-one-string-compare",   # read as one name, not letter by letter
     lambda t: compare(X, [0, 1] * 12, recipes="multiclass_softmax_cce"),
     ValueError, r"names no recipe for dataset 'compare' \(problem 'binary'\).*"
                 r"Received: \['multiclass_softmax_cce'\]"),
    ("inputs/sparse-X", lambda t: compare(scipy_sparse().csr_matrix(X), [0, 1] * 12),
     ValueError, r"X is a scipy sparse matrix \(csr_matrix, shape \(24, 3\)\); pass X.toarray\(\)"),
    ("inputs/pd-NA-in-X", lambda t: compare(pd.DataFrame(
        {"a": pd.array([1, None] + [2] * 22, dtype="Int64"), "b": X[:, 1]}), [0, 1] * 12),
     ValueError, r"X holds pd.NA at row 1, column 0; fill or drop missing values"),
    ("inputs/tune-test-split-too-small",
     lambda t: compare(X[:10], [0, 1, 2, 0, 1, 2, 0, 1, 2, 0], tune="learning_rate",
                       out=Path(t) / "r"),
     ValueError, r"the held-out test split \(a tuned experiment.*got 2 of the 10 rows.*3 classes"
                 r".*Expected at least 11 rows in all: add rows.*fewer classes.*test_fraction"),
    ("inputs/onehot-row-with-two-ones",
     lambda t: MULTICLASS.encode(np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1], [1, 1, 0]])),
     ValueError, r"not one-hot: row 2 is \[0, 1, 1\] \(2 rows not one-hot\)"),
    # --- peers (issue 23): labels infer_problem and check_model refuse, and say why
    ("peers/class-code-columns", lambda t: recipes.infer_problem(np.stack(
        [np.arange(30) % 3, np.arange(30) % 4], axis=1)),
     InferenceError, r"2 columns of integers.*column 0: 'multiclass', column 1: 'multiclass'.*"
                     r"infer_problem\(y\[:, j\]\)"),
    ("peers/class-code-columns-of-a-frame", lambda t: recipes.infer_problem(pd.DataFrame(
        {"species": np.arange(30) % 3, "weight": np.linspace(2000, 6000, 30).round()})),
     InferenceError, r"of which 1 alone read as class codes \(column 'species': 'multiclass'\)"),
    ("peers/no-column-varies", lambda t: recipes.infer_problem([[1, 0, 2], [1, 0, 2]]),
     InferenceError, r"3 columns that each hold a single value in all 2 rows"),
    ("peers/str-and-bytes-mixed", lambda t: recipes.infer_problem([b"a", "b", b"a"]),
     InferenceError, r"str and bytes mixed, b'a' at row 0 and 'b' at row 1"),
    ("peers/ragged-behind-array-interface", lambda t: recipes.infer_problem(
        ArrayOnly(np.array([[1, 2], [3]], dtype=object))),
     InferenceError, r"ragged rows, row 0 has 2 values but row 1 has 1 value"),
    ("peers/check-labels-of-another-kind-of-file", lambda t: recipes.check_model(
        _model("categorical_crossentropy"), write(t, "y.txt", "0\n1\n2\n")),
     InferenceError,
     r"Expected a file ending in one of \['.csv', '.npy'\]. Received: path='.*y.txt'"),
    ("peers/check-labels-file-missing", lambda t: recipes.check_model(
        _model("categorical_crossentropy"), Path(t) / "y.npy"),
     FileNotFoundError, r"y.npy"),
    # --- reading results (effects, report, decode)
    ("reading/effects-metric-column-renamed",
     lambda t: recipes.effects(RESULTS.rename(columns={"metric": "name"}), RUNS),
     ValueError, r"recipes.load_results, recipes.run and recipes.compare return, with the "
                 r"columns \['experiment', .*'metric', 'value'\].*Received: results without "
                 r"\['metric'\] \(its columns: \[.*'name'"),
    ("reading/report-without-value",
     lambda t: recipes.report(RESULTS.drop(columns="value"), Path(t) / "rep", runs=RUNS),
     ValueError, r"Received: results without \['value'\]"),
    ("reading/summary-without-value", lambda t: recipes.reporting.stats.summary(
        RESULTS.drop(columns="value"), RUNS), ValueError, r"Received: results without \['value'\]"),
    ("reading/effects-of-a-path", lambda t: recipes.effects(str(t)),
     ValueError, r"a path; read a results folder with recipes.load_results\("),
    ("reading/effects-value-not-a-number",
     lambda t: recipes.effects(with_text_value(RESULTS, 3, "n/a"), RUNS),
     ValueError, r"numbers in results\['value'\]. Received: 'n/a' at row 3 \(1 value"),
    ("reading/effects-duplicated-observations",
     lambda t: recipes.effects(pd.concat([RESULTS, RESULTS]), RUNS),
     ValueError, r"12 duplicated observations, e.g. run='binary_sigmoid_bce-0' epoch=1 "
                 r"split='val' metric='accuracy' \(2 rows\); the same results concatenated "
                 r"twice\? Keep one copy: results.drop_duplicates"),
    ("reading/effects-duplicated-runs", lambda t: recipes.effects(RESULTS, pd.concat([RUNS, RUNS])),
     ValueError, r"6 duplicated runs, e.g. run='binary_sigmoid_bce-0'; the same runs "
                 r"concatenated twice"),
    ("reading/runs-without-status", lambda t: recipes.effects(RESULTS, RUNS.drop(columns="status")),
     ValueError, r"the runs table that Store\(folder\).runs\(\) returns.*Received: runs "
                 r"without \['status'\]"),
    ("reading/runs-unknown-status", lambda t: recipes.effects(RESULTS, RUNS.assign(status="crashed")),
     ValueError, r"Expected one of \{'ok', 'diverged', 'failed'\}. Received: "
                 r"runs.status='crashed' \(row 0, run 'binary_sigmoid_bce-0'; 6 rows"),
    ("reading/report-into-a-file", lambda t: recipes.report(RESULTS, write(t, "taken.txt", "x"),
                                                            runs=RUNS),
     NotADirectoryError, r"out to be a folder.*taken.txt', where out is a file"),
    ("reading/report-below-a-file", lambda t: recipes.report(
        RESULTS, write(t, "taken.txt", "x") / "rep", runs=RUNS),
     NotADirectoryError, r"rep', where the parent '.*taken.txt' of out is a file"),
    ("reading/decode-binary-three-units", lambda t: BINARY.decode(np.zeros((5, 3))),
     ValueError, r"'binary_sigmoid_bce' expects outputs of shape \(rows, 1\): its units rule "
                 r"is '1'.*Received: outputs.shape=\(5, 3\)"),
    ("reading/decode-more-units-than-class-names",
     lambda t: MULTICLASS.decode(np.eye(3), classes=["a", "b"]),
     ValueError, r"'multiclass_softmax_cce' expects outputs of shape \(rows, 2\) for 2 classes.*"
                 r"Received: outputs.shape=\(3, 3\): 3 units but 2 class names were given "
                 r"\(classes=\['a', 'b'\]\)"),
    ("reading/decode-one-column-for-softmax", lambda t: MULTICLASS.decode(np.zeros(5)),
     ValueError, r"\(rows, k\) with k >= 2.*Received: outputs.shape=\(5,\) \(read as one "
                 r"unit per row\)"),
    # --- packaging: the bundled experiments and their loader (recipes.experiments) ---
    ("experiments/unknown-name", lambda t: load_experiment("binry"), ValueError,
     r"Expected one of \{'beyond', 'binary', .*'tuned'\}. Received: experiment='binry' "
     r"\(or pass the path of a script ending in .py\)"),
    ("experiments/unknown-name-or-all", lambda t: load_experiments("al"), ValueError,
     r"Expected one of \{'all', 'beyond', .*\}. Received: experiment='al'"),
    ("experiments/missing-script", lambda t: load_experiment(str(Path(t) / "mine.py")),
     FileNotFoundError, r"No experiment script at .*mine.py"),
    ("experiments/script-without-an-experiment", lambda t: load_experiment(
        str(write(t, "mine.py", "EXPERIMENT = 3\n"))), ValueError,
     r"mine.py: an experiment script must define EXPERIMENT = Experiment\(...\). "
     r"Received: EXPERIMENT=3"),
    # --- results store and its export (issue #20 round two: the store)
    ("store/null-versions-names-the-run", lambda t: recipes.report(
        damaged(t, "versions"), Path(t) / "rep", appendix=False, backends=False),
     StoreError, r"results.sqlite is damaged: run 'r0' has versions=NULL in the runs table "
                 r"\(expected a JSON object.*forget\(\['r0'\]\)"),
    ("store/bad-json-config-names-the-run", lambda t: recipes.load_results(
        damaged(t, "config", "{not json")), StoreError, r"run 'r0' has config='\{not json'"),
    ("store/full-disk-is-not-damage", lambda t: write_to_a_full_disk(Store(a_store(t, runs=1))),
     StoreError, r"results.sqlite: the disk is full \(database or disk is full\), on the disk "
                 r"of .*results \(or of .*\)\. The store is intact.*Free space on that disk"),
    ("store/run-without-versions", lambda t: Store(t).write(
        {"run": "r", "status": "failed", "config": {}, "versions": None}),
     StoreError, r"Run 'r': expected versions as a dict \(or its JSON text\). Received: versions=None"),
    ("args/wait-limit-zero", lambda t: recipes.run(Experiment("e", ("iris",)), Path(t) / "r",
                                                   wait_limit=0, progress=False),
     ValueError, r"wait_limit as a finite number of seconds > 0. Received: wait_limit=0"),
    ("export/tensorboard-onto-a-file", lambda t: to_tensorboard(a_store(t), write(t, "logs", "x")),
     NotADirectoryError, r"TensorBoard event files under .*logs: it is a file, expected a folder"),
    ("export/mlflow-under-a-file", lambda t: to_mlflow(
        a_store(t), tracking_uri=f"sqlite:///{write(t, 'f', 'x')}/mlflow.db"),
     NotADirectoryError, r"Cannot write the MLflow store .*f/mlflow.db.*: .*f is a file, expected "
                         r"a folder.*--tracking-uri sqlite:///OTHER/FOLDER/mlflow.db"),
    # --- backbones (issue #21, section 2)
    ("backbone/not-a-model", lambda t: Settings(backbone=3), ValueError,
     r"Expected backbone to be None \(the MLP of hidden\), a keras.Model with one input, or "
     r"a function returning one. Received: backbone=3"),
    ("backbone/function-returns-no-model", lambda t: Settings(backbone=lambda: 3).config(),
     ValueError, r"Expected the backbone function .*<lambda> to return a keras.Model. "
                 r"Received: 3"),
    ("backbone/two-inputs", lambda t: Experiment("e", ("iris",), backbone=two_inputs()),
     ValueError, r"Expected a backbone with one input \(the features X\). Received: "
                 r"backbone='two' with 2 inputs"),
    ("backbone/x-shape", lambda t: compare(X, [0, 1] * 12, backbone=two_inputs(one=True)),
     ValueError, r"Expected X with examples of shape \(5,\) \(the input of backbone 'two'; "
                 r"None is any size\). Received: X.shape=\(24, 3\)"),
    # --- imbalance settings (issue #22 item 4: class_weight, label_smoothing)
    ("imbalance/smoothing-one", lambda t: Settings(label_smoothing=1.0), ValueError,
     r"Expected label_smoothing to be a number in \[0, 1\)\. Received: label_smoothing=1\.0"),
    ("imbalance/smoothing-not-cross-entropy", lambda t: Setup(
        recipes.get("regression_linear_mse"), 0, label_smoothing=0.1), ValueError,
     r"Expected label_smoothing only for a recipe whose loss is one of \['binary_crossentropy'"
     r".*Received: label_smoothing=0\.1 for recipe='regression_linear_mse' \(loss 'mse'"),
    ("imbalance/smoothing-sparse-cce", lambda t: Setup(
        recipes.get("multiclass_softmax_sparse_cce"), 0, label_smoothing=0.1), ValueError,
     r"Received: label_smoothing=0\.1 for recipe='multiclass_softmax_sparse_cce'"),
    ("imbalance/class-weight-unknown-word", lambda t: Settings(class_weight="balance"),
     ValueError, r"Expected class_weight to be None, 'balanced' or a dict \{class index: "
                 r"weight > 0\}\. Received: class_weight='balance'"),
    ("imbalance/class-weight-negative", lambda t: Settings(class_weight={0: -1.0}),
     ValueError, r"Received: class_weight=\{0: -1\.0\}"),
    ("imbalance/class-weight-label-key", lambda t: Settings(class_weight={"cat": 2.0}),
     ValueError, r"Received: class_weight=\{'cat': 2\.0\}"),
    ("imbalance/class-weight-multilabel", lambda t: Setup(
        recipes.get("multilabel_sigmoid_bce"), 0, class_weight="balanced"), ValueError,
     r"Expected class_weight only for a recipe of one class per row.*per-row sample weights, "
     r"which are not implemented.*Received: class_weight='balanced' for "
     r"recipe='multilabel_sigmoid_bce'"),
    ("imbalance/class-weight-key-past-the-classes", lambda t: class_weights(
        Setup(MULTICLASS, 0, class_weight={5: 2.0}), data.split(data.load("iris"))),
     ValueError, r"Expected class_weight keys among the class indices \{0, 1, 2\}\. "
                 r"Received: class_weight keys \[5\]"),
    # --- decoding in comparisons (issue #22 item 3: calibrate=, threshold=)
    ("decoding/calibrate-unknown-method",
     lambda t: Experiment("e", ("iris",), calibrate="isotonic2"), ValueError,
     r"Expected one of \{False, True, 'temperature', 'vector'\}\. Received: "
     r"calibrate='isotonic2'"),
    ("decoding/threshold-unknown-metric", lambda t: Experiment("e", ("iris",), threshold="f2"),
     ValueError, r"Expected one of \{'f1', 'balanced_accuracy'\}\. Received: threshold='f2'"),
    ("decoding/threshold-callable", lambda t: Experiment("e", ("iris",), threshold=len),
     ValueError, r"Received: threshold=<built-in function len>.*recorded as JSON"),
    ("decoding/threshold-bad-cost",
     lambda t: Experiment("e", ("iris",), threshold={"cost_fp": 1}), ValueError,
     r"Expected threshold as a cost \{'cost_fp': a, 'cost_fn': b\}.*Received: "
     r"threshold=\{'cost_fp': 1\}"),
    ("decoding/no-test-split", lambda t: Experiment("e", ("iris",), calibrate=True,
                                                    test_fraction=0), ValueError,
     r"Expected test_fraction > 0 with calibrate or threshold.*Received: test_fraction=0"),
    ("decoding/threshold-for-argmax-recipes-only", lambda t: setups(Experiment(
        "e", ("iris",), recipes=["multiclass_softmax_cce"], threshold="f1"),
        data.load("iris"), as_catalog(None)), ValueError,
     r"Expected threshold with recipes it applies to \(recipes decoded by a threshold.*"
     r"Received: threshold='f1' for dataset 'iris', whose recipes \['multiclass_softmax_cce'\]"),
    # --- the CNN experiment (issue #21 section 4): images need a backbone that takes them
    ("cnn/images-under-the-default-mlp", lambda t: setups(Experiment(
        "e", ("digits_images",), recipes=["multiclass_softmax_cce"]),
        data.load("digits_images"), as_catalog(None)), ValueError,
     r"Expected X as a table of shape \(n, features\) for the default MLP \(hidden=\); "
     r"images or sequences need a backbone= that takes them\. Received: "
     r"X.shape=\(1797, 8, 8, 1\) in dataset 'digits_images'"),
    ("cnn/compare-images-without-backbone", lambda t: compare(
        data.load("digits_images").X[:40], data.load("digits_images").y[:40]), ValueError,
     r"Expected X as a table of shape \(n, features\) for the default MLP.*Received: "
     r"X.shape=\(40, 8, 8, 1\) in dataset 'compare'"),
    ("cnn/unknown-dataset-names-digits-images", lambda t: data.load("digit_images"),
     ValueError, r"Expected one of \{.*'digits_images'.*\}\. Received: name='digit_images'"),
    # --- rare positives (issue #22 items 5 and 6: figure numbers, advice)
    ("rare-positives/threshold-curve-of-an-argmax-recipe", lambda t: threshold_curve(
        MULTICLASS, np.eye(3)[[0, 1, 2, 0]], [0, 1, 2, 0]), ValueError,
     r"threshold_curve needs a recipe decoded by a threshold on scores in 0\.\.1, one of "
     r"\{'binary_sigmoid_bce', .*\}\. Received: recipe='multiclass_softmax_cce' \(decoding "
     r"'argmax'"),
    ("rare-positives/threshold-curve-unknown-metric", lambda t: threshold_curve(
        BINARY, [0.2, 0.7], [0, 1], metric="f2"), ValueError,
     r"Expected one of \{'f1', 'balanced_accuracy'\}.*Received: metric='f2'"),
    ("rare-positives/reliability-without-probabilities", lambda t: metrics.reliability(
        recipes.get("multiclass_index_regression"), np.array([0, 1, 2]), [[0.0], [1.0], [2.0]],
        n=3), ValueError,
     r"Expected a class recipe with probabilities for a reliability diagram\. "
     r"Received: recipe='multiclass_index_regression'"),
    ("rare-positives/advice-from-results-without-the-experiment",
     lambda t: measure_advice(RESULTS, RUNS, {}), ValueError,
     r"Expected results of experiment 'imbalanced' with the cells of claim C10 .*"
     r"Received: none"),
    ("rare-positives/damaged-measurements-file", lambda t: load_advice(
        "binary", t / "m.json") if (t / "m.json").write_text('{"claims": [') else None,
     ValueError, r"Expected the JSON written by benchmarks/imbalanced_advice\.py in "
     r".*m\.json\. Received: Expecting value: line 1"),
    ("rare-positives/measurements-file-without-its-parts", lambda t: load_advice(
        "binary", t / "m.json") if (t / "m.json").write_text('{"claims": []}') else None,
     ValueError, r"Expected an object with \['provenance', 'datasets', 'claims'\] in .*m\.json "
     r"\(rerun benchmarks/imbalanced_advice\.py\)\. Received: without \['provenance', "
     r"'datasets'\]"),
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
    # --- decisions: calibration, thresholds, decode's threshold
    ("decisions/decode-thresholds-as-an-array",
     lambda t: recipes.get("multilabel_sigmoid_bce").decode(
         [[0.3, 0.6]], threshold=np.array([0.2, 0.7])).tolist(), [[1, 0]]),
    ("decisions/decode-threshold-on-a-linear-output-leaves-0-1",
     lambda t: recipes.get("binary_linear_mse").decode([[-0.2], [0.1]], threshold=-0.5).tolist(),
     [1, 1]),
    ("decisions/calibrate-integer-labels-missing-a-class",
     lambda t: recipes.calibrate(MULTICLASS, np.eye(3)[[0, 1, 0, 1]] * 0.7 + 0.1,
                                 [0, 1, 1, 1]).units, 3),
    ("decisions/tune-threshold-on-a-1-d-output",
     lambda t: recipes.tune_threshold(BINARY, np.repeat([0.1, 0.3, 0.35, 0.8], 10),
                                      np.repeat([0, 1, 0, 1], 10)).threshold, 0.2),
    # --- inputs (issue #20, round two)
    ("inputs/ordinal-strings-keep-the-inferred-order",   # not the alphabet: high < low < medium
     lambda t: runner.class_order(recipes.infer_problem(LEVELS), "ordinal"),
     ("low", "medium", "high")),
    ("inputs/optimizer-name-in-any-case",
     lambda t: Settings(optimizer=" Adam").config() == Settings(optimizer="adam").config(), True),
    ("inputs/index-labels-reordered-pair-by-index", lambda t: data.from_arrays(
        pd.DataFrame(X, index=range(100, 124)),
        pd.Series([0, 1] * 12, index=range(100, 124)).iloc[::-1], "binary").y.tolist(),
     [0, 1] * 12),
    ("inputs/one-condition-as-a-mapping", lambda t: [c.optimizer for c in Experiment(
        "e", ("iris",), conditions={"optimizer": "sgd"}).conditions], ["sgd"]),
    ("inputs/every-common-metric-has-a-goal-range",
     lambda t: set(metrics.RANGES) == {m for ms in metrics.COMMON.values() for m in ms}
     | set(metrics.BINARY), True),
    ("inputs/nullable-int-columns-are-numbers", lambda t: data.from_arrays(pd.DataFrame(
        {"a": pd.array(range(8), dtype="Int64"), "b": X[:8, 0]}), [0, 1] * 4, "binary").X[:, 0]
     .tolist(), list(range(8))),
    ("inputs/a-stored-run-with-a-name-no-longer-accepted-is-read",
     lambda t: condition({"optimizer": "adamw2", "epochs": 2}, "keras")["optimizer"], "adamw2"),
    # --- peers (issue 23): odd labels with one right answer
    ("peers/bytes-labels-are-named-bytes",
     lambda t: (lambda f: (f.classes, f.reason))(recipes.infer_problem(np.array([b"a", b"b"]))),
     ((b"a", b"b"), "2 distinct values, b'a' and b'b' (bytes): two classes.")),
    ("peers/a-list-of-bytes-stays-bytes",
     lambda t: recipes.infer_problem([b"a", b"b", b"a"]).classes, (b"a", b"b")),
    ("peers/plus-minus-one-multi-hot-is-multilabel",
     lambda t: [c.problem for c in recipes.infer_problem(
         np.array([[1, -1, 1], [-1, -1, 1], [1, 1, -1], [-1, 1, -1]])).candidates],
     ["multilabel", "regression"]),
    ("peers/a-scipy-sparse-indicator-matrix",
     lambda t: recipes.infer_problem(__import__("scipy.sparse").sparse.csr_matrix(
         np.array([[1, 0, 1], [0, 0, 1], [0, 1, 0]]))).problem, "multilabel"),
    ("peers/check-labels-from-a-npy-path",
     lambda t: recipes.check_model(_model("categorical_crossentropy"), np.save(
         Path(t) / "y.npy", LABELS) or Path(t) / "y.npy").labels.shape, (6, 3)),
    # --- results store (issue #20 round two: the store)
    ("store/full-disk-keeps-every-stored-run", after_a_full_disk, ({"r0"}, "ok")),
    # --- decoding in comparisons (issue #22 item 3): recipes a setting does not apply to
    # record the raw form only
    ("decoding/threshold-skips-an-argmax-recipe", lambda t: decoding_of(Experiment(
        "e", ("iris",), calibrate=True, threshold="f1"), recipes.get("multiclass_softmax_cce")),
     {"calibrate": "temperature", "threshold": None}),
    ("decoding/nothing-for-a-regression-recipe", lambda t: decoding_of(Experiment(
        "e", ("iris",), calibrate=True, threshold="f1"), recipes.get("regression_linear_mse")),
     None),
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


# --- reading results: a report refused writes nothing; decode of every catalog row --

@pytest.mark.parametrize("bad", ["no value column", "out is a file"])
def test_a_refused_report_writes_nothing(tmp_path, bad):
    out = tmp_path / "rep" if bad == "no value column" else write(tmp_path, "rep", "mine")
    results = RESULTS.drop(columns="value") if bad == "no value column" else RESULTS
    with pytest.raises((ValueError, NotADirectoryError)):
        recipes.report(results, out, runs=RUNS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ([] if bad == "no value column"
                                                          else ["rep"])
    assert bad == "no value column" or out.read_text() == "mine"


@pytest.mark.parametrize("recipe", load_catalog().recipes, ids=lambda r: r.name)
def test_decode_refuses_outputs_that_do_not_fit_the_recipe(recipe):
    """Every catalog row (a new row is tested too): outputs of its units decode; another
    width, or a single number, is an error naming the recipe, the units and the shape."""
    n = 2 if recipe.problem == "binary" else 3
    k = recipe.units_for(n)[0]
    outputs = np.random.RandomState(0).uniform(0.1, 0.9, size=(5, k))
    assert len(recipe.decode(outputs, classes=n)) == 5
    for shape in [(5, k + 1), (5, 0)] + ([(5, k - 1)] if k > 1 else []):
        with pytest.raises(ValueError, match=rf"Recipe '{recipe.name}' expects outputs of "
                                             rf"shape \(rows, {k}\).*Received: outputs.shape="
                                             rf"\({shape[0]}, {shape[1]}\)"):
            recipe.decode(np.zeros(shape), classes=n)
    with pytest.raises(ValueError, match=r"Received: outputs.shape=\(\)"):
        recipe.decode(np.float64(0.5), classes=n)
    least, most = recipe.units_for()   # without the classes: what every problem allows
    wrong = [(5, least - 1)] + ([(5, most + 1)] if most is not None else [])
    for shape in wrong:
        with pytest.raises(ValueError, match=rf"Recipe '{recipe.name}' expects outputs of "
                                             rf"shape \(rows, .*\(5, {shape[1]}\)"):
            recipe.scores(np.zeros(shape))   # what proba and the common metrics read


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
    from recipes.cli import main

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


@pytest.mark.parametrize("argv, option, registry", [
    (["run", "binary", "--trainer", "nope"], "--trainer", "recipes.training.trainers:TRAINERS"),
    (["run", "binary", "--executor", "nope"], "--executor", "recipes.results.executors:EXECUTORS"),
    (["run", "binary", "--tune", "nope"], "--tune", "recipes.results.grid:TUNABLE"),
    (["run", "binary", "--backend", "nope"], "--backend", "recipes.training.settings:BACKENDS"),
    (["backends", "--backend", "nope"], "--backend", "recipes.training.settings:BACKENDS"),
])
def test_the_command_line_takes_its_choices_from_the_library(argv, option, registry, capsys):
    import importlib

    from recipes.cli import main

    module, name = registry.split(":")
    allowed = ", ".join(map(repr, getattr(importlib.import_module(module), name)))
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert (f"argument {option}: invalid choice: 'nope' (choose from {allowed})"
            in capsys.readouterr().err)



@pytest.mark.parametrize("option", ["--calibrate", "--threshold"])
def test_only_commands_that_train_take_decoding_options(option, capsys):
    from recipes.cli import main

    with pytest.raises(SystemExit) as stop:   # recipes backends trains nothing to decode
        main(["backends", option, "f1"])
    assert stop.value.code == 2 and f"unrecognized arguments: {option}" in capsys.readouterr().err

def test_building_the_command_line_imports_no_registry_it_does_not_need():
    import subprocess
    import sys

    code = ("import sys; from recipes.cli import parser; parser().parse_args(['list']); "
            "print(sorted(m for m in ('pandas', 'tensorflow', 'recipes.results.grid') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


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


# --- inputs (issue #20, round two): a case that trains (tiny data, 1 epoch) ----------

def test_compare_trains_on_the_inferred_order_and_reports_it(tmp_path):
    """Ordinal strings train in the order the inference finds (low < medium < high), not
    the alphabet's (high < low < medium): the runs are those of the same labels with that
    order declared, and the report names the classes in that order."""
    X30 = np.random.RandomState(1).normal(size=(30, 3))
    kw = dict(recipes=["ordinal_cumulative_bce"], seeds=1, epochs=1, trainer="keras",
              out=tmp_path / "r", progress=False)
    inferred = recipes.compare(X30, LEVELS.astype(object), **kw)
    declared = recipes.compare(X30, pd.Categorical(LEVELS, ["low", "medium", "high"], True), **kw)
    alphabet = recipes.compare(X30, pd.Categorical(LEVELS, sorted(set(LEVELS)), True), **kw)
    assert len(set(inferred.run)) == 1 and set(declared.run) == set(inferred.run)
    assert set(alphabet.run).isdisjoint(inferred.run)
    runs = recipes.results.store.Store(tmp_path / "r", create=False).runs()
    described = {r: c["description"] for r, c in zip(runs["run"], runs["config"])}
    assert "3 classes in index order: 'low' < 'medium' < 'high'" in described[inferred.run[0]]
    recipes.report(inferred, tmp_path / "report", appendix=False, backends=False)
    assert "'low' < 'medium' < 'high'" in (tmp_path / "report" / "report.md").read_text()


# --- results store: read-only folders, Ctrl-C (issue #20 round two: the store) --------

def test_mlflow_export_of_a_read_only_folder_is_refused_before_any_work(tmp_path):
    """The default MLflow store lies beside the results: in a read-only folder (one that
    binds the process, root included: ``read_only.unprivileged``) the export says so at
    once and how to write the MLflow store elsewhere."""
    import contextlib
    import io

    import recipes.export.tracking  # noqa: F401  (imported before dropping privileges)
    from read_only import POSIX, read_only_folder, unprivileged
    from recipes.cli import main

    if not POSIX:
        pytest.skip("needs POSIX permissions")

    def export(folder):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(["export", str(folder), "--to", "mlflow"])
        return code, err.getvalue()

    with read_only_folder([a_store(tmp_path) / "results.sqlite"]) as archive:
        code, err = unprivileged(export, archive)
        assert sorted(p.name for p in archive.iterdir()) == ["results.sqlite"]
    assert code == 2, err
    assert re.search(r"Cannot write the MLflow store .*archive/mlflow.db \(tracking URI "
                     r"sqlite:///.*\): the folder .*archive is read-only\. The results .* are "
                     r"only read .*--tracking-uri sqlite:///OTHER/FOLDER/mlflow.db", err), err


def interrupted(*args, **kwargs):
    raise KeyboardInterrupt


def test_ctrl_c_in_a_report_says_that_nothing_was_changed(tmp_path, monkeypatch, capsys):
    """A report only reads: Ctrl-C in one says so, not "finished runs are kept"."""
    import recipes.reporting.writer as writer
    from recipes.cli import main

    monkeypatch.setattr(writer, "write_report", interrupted)   # inside report(), after reading
    folder = a_store(tmp_path)
    good = tmp_path / "report"
    good.mkdir()
    (good / "report.md").write_text("the good report")
    before = (folder / "results.sqlite").read_bytes()
    assert main(["report", str(folder), "--out", str(good)]) == 130
    err = capsys.readouterr().err
    assert "recipes report: interrupted; the results were only read (nothing in them " \
           "changed) and no report file was written part way" in err and "resume" not in err
    assert (good / "report.md").read_text() == "the good report"
    assert (folder / "results.sqlite").read_bytes() == before


def test_ctrl_c_in_an_export_keeps_no_run_part_way(tmp_path, monkeypatch, capsys):
    """A TensorBoard export interrupted inside a run's event file leaves no file that the
    next export would take as that run written; the next export writes every run."""
    import tensorboard.plugins.scalar.summary_v2 as scalars

    from recipes.cli import main

    folder, logs = a_store(tmp_path), tmp_path / "tb"
    calls = []

    def scalar_then_ctrl_c(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:   # in the first run's event file
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    real = scalars.scalar_pb
    monkeypatch.setattr(scalars, "scalar_pb", scalar_then_ctrl_c)
    assert main(["export", str(folder), "--to", "tensorboard", str(logs)]) == 130
    err = capsys.readouterr().err
    assert "recipes export: interrupted; the runs exported so far are kept" in err
    assert not list(logs.rglob("events.out.tfevents.*"))
    monkeypatch.setattr(scalars, "scalar_pb", real)
    assert main(["export", str(folder), "--to", "tensorboard", str(logs)]) == 0
    assert "tensorboard: 2 runs written, 0 already there" in capsys.readouterr().out
    assert len(list(logs.rglob("events.out.tfevents.*"))) == 2
