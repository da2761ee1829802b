"""Tests of ``recipes.catalog.infer``: every answer, every error, and reading label files."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from recipes.catalog.table import load_catalog
from recipes.catalog.infer import (PROBLEMS, Candidate, Inference, InferenceError, infer_problem,
                                   read_labels)

RNG = np.random.default_rng(0)


def _ordered(values, categories):
    return pd.Categorical(values, categories=categories, ordered=True)


# problem -> labels that must be inferred as that problem.
EXAMPLES = {
    "binary": [
        [0, 1, 1, 0],
        [-1, 1, 1],
        [0.0, 1.0, 1.0],
        [0.25, 0.5, 0.5],                       # 2 distinct values of any kind
        ["spam", "ham", "spam"],
        [True, False, True],
        np.array([3, 7, 3], dtype=np.uint8),
        np.array([[0], [1], [1]]),              # one column is 1-D
        pd.Series([True, False], dtype="boolean"),
        pd.Series([1, 0, 1], dtype="Int64"),
        pd.Series(["yes", "no"], dtype="string"),
        pd.Series(["yes", "no"], dtype=object),
        _ordered(["lo", "hi"], ["lo", "hi"]),   # an ordered pair is still binary
        pd.DataFrame({"y": [0, 1, 1]}),
    ],
    "multiclass": [
        [1, 2, 3, 2],
        np.arange(20),                          # max_classes distinct integers
        [0.0, 1.0, 2.0, 2.0],                   # float dtype, few integer values
        ["cat", "dog", "bird"],
        np.array(["a", "b", "c"], dtype=object),
        pd.Series(["a", "b", "c"], dtype="string"),
        pd.Categorical(["x", "y", "z"]),
        pd.Series([-1, 0, 1]),
        [[1, 0, 0], [0, 0, 1], [0, 1, 0]],      # one-hot
        np.eye(4, dtype=bool),
        [[1, 0], [0, 1], [0, 1]],               # two one-hot columns
        [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],  # a column never hot
        pd.DataFrame({"cat": [1, 0, 0], "dog": [0, 1, 0], "bird": [0, 0, 1]}),
    ],
    "ordinal": [
        _ordered(["S", "L", "M"], ["S", "M", "L"]),
        pd.Series(_ordered(["lo", "hi"], ["lo", "mid", "hi"])),  # counts declared levels
        _ordered([1, 3, 2], [1, 2, 3]),
    ],
    "multilabel": [
        [[1, 0, 1], [0, 0, 1], [0, 1, 0]],
        [[0, 0], [1, 1], [0, 1]],
        np.array([[True, True, False], [False, False, False]]),
        [[1.0, 1.0], [0.0, 1.0]],
        pd.DataFrame({"even": [1, 0, 1], "prime": [0, 1, 1]}),
    ],
    "count": [
        np.arange(0, 78),                       # doctor visits 0..77
        np.arange(0, 30).astype(float),
        pd.Series(np.arange(0, 30), dtype="Int64"),
        [[0, 3], [5, 0], [2, 1]],
    ],
    "bounded_regression": [
        [0.2, 0.75, 0.5],
        [0.0, 0.5, 1.0],
        RNG.uniform(size=50),
        pd.Series([0.1, 0.2, 0.3], dtype="Float64"),
        [[0.2, 0.3], [0.9, 1.0]],
    ],
    "regression": [
        [2.5, -1.0, 7.25],
        np.arange(25, 347, dtype=float),        # many integer floats without zeros
        np.arange(1, 40),                       # many integers without zeros
        np.arange(-5, 40),                      # negative: not counts
        RNG.normal(size=100),
        [0.5, 1.5, 0.25],                       # crosses 1
        [[1, 3], [5, 2], [4, 4]],               # integers, no zeros
        [[0.5, -2.0], [1.5, 3.0]],
        pd.DataFrame({"weight": [191.0, 189.0], "waist": [36.0, 37.0]}),
    ],
}

# (bad labels, a fragment of the error message)
ERRORS = [
    ([1, np.nan, np.nan], "2 missing values, the first at row 1"),
    (np.array([1.0, 2.0, np.nan, np.nan, np.nan]), "3 NaN values, the first at row 2"),
    (np.array([[0.0, 1.0], [1.0, np.nan]]), "1 NaN value, the first at row 1"),
    ([None, "a", "b"], "1 missing value, the first at row 0"),
    (["a", np.nan, "b"], "1 missing value, the first at row 1"),
    (pd.Series([1, None, 2], dtype="Int64"), "1 missing value, the first at row 1"),
    (pd.Series(["a", None]), "missing value"),
    (pd.Series([pd.NA, "x"], dtype="string"), "first at row 0"),
    (pd.Series([True, None], dtype="boolean"), "missing value"),
    (pd.Series([1.0, 2.0, np.nan], index=["r1", "r2", "r3"]), "row 2 (index 'r3')"),
    (pd.DataFrame({"a": [1.0, 2.0, None], "b": [0, 1, 0]}), "first at row 2"),
    ([1.0, np.inf, 2.0], "Expected finite values. Received: 1 infinite value, the first at row 1"),
    ([[1, 0], [-np.inf, 1]], "infinite value"),
    ([], "Expected at least one label. Received: an empty array of shape (0,)"),
    ([[]], "empty array"),
    (np.zeros((0, 3)), "empty array"),
    (pd.Series([], dtype=float), "empty array"),
    (pd.DataFrame(), "empty array"),
    ([1, 1, 1], "Expected at least 2 distinct labels. Received: only the value 1"),
    (["a"], "only the value 'a'"),
    ([[1, 0], [1, 0]], "one-hot rows that all pick the same column, 0"),
    (pd.DataFrame({"a": [0, 0], "b": [1, 1]}), "the same column, 'b', in all 2 rows"),
    ([[0, 0], [0, 0]], "only the value 0"),                 # 2-D, a single value
    ([[1], [1]], "only the value 1"),
    (pd.Categorical(["a", "a"], categories=["a", "b"]), "only the value 'a'"),
    ([[1, 2], [3]], "ragged rows, row 0 has 2 values but row 1 has 1 value"),
    ([1, [2, 3]], "row 0 has a single label but row 1 has 2 values"),
    ([[[1], [2, 3]]], "rows nested more than two levels deep"),
    (np.zeros((2, 2, 2)), "Received: an array of shape (2, 2, 2)"),
    ([[[1, 2]], [[3, 4]]], "(n_samples,) or (n_samples, n_outputs)"),
    (["a", 1, "b"], "strings and numbers mixed, 'a' at row 0 and 1 at row 1"),
    (np.array([1, "a"], dtype=object), "strings and numbers mixed"),
    (pd.Series([True, "a"]), "strings and booleans mixed"),
    ([["a", "b"], ["c", "d"]], "Expected 2-D labels to be numbers or booleans"),
    (pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), "column 'b'"),
    ([{"a": 1}, {"b": 2}], "Received: {'a': 1} (dict) at row 0"),
    (np.array([1 + 2j, 3]), "dtype complex128"),
    (np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]"), "dtype datetime64"),
    (None, "Expected an array-like of labels"),
    ({"a": 1}, "Received: a dict"),
    ({1, 2}, "Received: a set"),
    ("abc", "Received: y='abc' (wrap a single label in a list)"),
    (3, "Received: y=3"),
    (np.float64(2.0), "Received: y=np.float64(2.0)"),
    (np.array(3), "Received: y=array(3)"),
    ((v for v in [1, 2]), "Received: a generator"),
]


@pytest.mark.parametrize(
    "problem, y", [(p, y) for p, ys in EXAMPLES.items() for y in ys],
    ids=[f"{p}-{i}" for p, ys in EXAMPLES.items() for i in range(len(ys))])
def test_examples(problem, y):
    got = infer_problem(y)
    assert got.problem == problem, got.reason
    assert got.reason.endswith(".") and len(got.reason) > 20
    assert got.n >= 1
    assert (got.classes is None) == (problem not in ("binary", "multiclass", "ordinal"))
    assert problem not in got.alternatives


@pytest.mark.parametrize("y, message", ERRORS, ids=[m for _, m in ERRORS])
def test_errors(y, message):
    with pytest.raises(InferenceError) as err:
        infer_problem(y)
    assert message in str(err.value)
    assert str(err.value).startswith("Expected")
    assert "Received" in str(err.value)


def test_every_catalog_problem_is_an_answer():
    assert set(PROBLEMS) == set(load_catalog().problems)
    assert set(EXAMPLES) == set(PROBLEMS)


def test_error_is_a_value_error():
    assert issubclass(InferenceError, ValueError)


# --- sizes and classes -------------------------------------------------------

@pytest.mark.parametrize("y, n, classes", [
    ([0, 1, 1], 2, (0, 1)),
    (["spam", "ham"], 2, ("ham", "spam")),
    ([True, False], 2, (False, True)),
    ([3, 1, 2, 3], 3, (1, 2, 3)),
    (["b", "c", "a"], 3, ("a", "b", "c")),
    (np.eye(3), 3, (0, 1, 2)),
    (pd.DataFrame({"cat": [1, 0], "dog": [0, 1], "owl": [0, 0]}), 3, ("cat", "dog", "owl")),
    (_ordered(["lo", "hi"], ["lo", "mid", "hi"]), 3, ("lo", "mid", "hi")),
    (pd.Categorical(["b", "a", "c"], categories=["c", "b", "a"]), 3, ("c", "b", "a")),
    ([[1, 0, 1], [0, 1, 1]], 3, None),
    ([0.1, 0.3, 0.2], 1, None),
    ([[0.5, -2.0], [1.5, 3.0]], 2, None),
])
def test_size_and_classes(y, n, classes):
    got = infer_problem(y)
    assert (got.n, got.classes) == (n, classes)


def test_classes_are_plain_python_values():
    got = infer_problem(np.array([2, 0, 1], dtype=np.int32))
    assert got.classes == (0, 1, 2) and all(type(c) is int for c in got.classes)


def test_onehot_flag():
    assert infer_problem(np.eye(3)).onehot
    assert not infer_problem([0, 1, 2]).onehot
    assert not infer_problem([[1, 1], [0, 1]]).onehot


def test_inference_is_frozen_and_prints_its_reason():
    got = infer_problem([0, 1])
    assert isinstance(got, Inference)
    with pytest.raises(AttributeError):
        got.problem = "multiclass"
    assert str(got) == f"binary: {got.reason}"


# --- the rules that beat type_of_target ----------------------------------------

def test_diabetes_like_target_is_regression_and_mentions_count():
    y = RNG.choice(np.arange(25, 347), size=442).astype(float)
    got = infer_problem(y)
    assert got.problem == "regression"
    assert "no zeros" in got.reason and "'count'" in got.reason
    assert got.alternatives == ("count",)


def test_counts_mention_regression():
    got = infer_problem(np.arange(0, 78))
    assert got.problem == "count"
    assert "including zeros" in got.reason and "'regression'" in got.reason


def test_few_integers_mention_ordinal():
    got = infer_problem([1, 2, 3, 3])
    assert "'ordinal'" in got.reason and got.alternatives == ("ordinal",)
    assert infer_problem([0, 1, 2]).alternatives == ("ordinal", "count")


def test_max_classes_moves_the_line():
    y = np.arange(0, 10)
    assert infer_problem(y).problem == "multiclass"
    assert infer_problem(y, max_classes=5).problem == "count"
    assert infer_problem(y + 1, max_classes=5).problem == "regression"
    assert infer_problem(np.arange(21)).problem == "count"


@pytest.mark.parametrize("bad", [1, 0, 2.5, True, "20", None])
def test_bad_max_classes(bad):
    with pytest.raises(InferenceError, match="max_classes"):
        infer_problem([0, 1, 2], max_classes=bad)


def test_one_hot_is_multiclass_where_type_of_target_says_multilabel():
    y = np.eye(5)[RNG.integers(0, 5, size=40)]
    assert infer_problem(y).problem == "multiclass"
    y[0] = 0                                   # a row without a label
    assert infer_problem(y).problem == "multilabel"


def test_reasons_name_counts_ranges_and_dtypes():
    y = np.arange(25, 239, dtype=float)
    assert "214 distinct integer values from 25 to 238 (float64)" in infer_problem(y).reason
    assert "3 distinct string labels" in infer_problem(["a", "b", "c"]).reason
    assert "(Int64)" in infer_problem(pd.Series([1, 2, 3], dtype="Int64")).reason
    assert "'lo' < 'mid' < 'hi'" in infer_problem(_ordered(["lo"] * 2 + ["hi"],
                                                           ["lo", "mid", "hi"])).reason


# --- real data shipped with the dependencies -----------------------------------

def test_sklearn_datasets():
    from sklearn import datasets
    assert infer_problem(datasets.load_diabetes().target).problem == "regression"
    assert infer_problem(datasets.load_breast_cancer().target).problem == "binary"
    assert infer_problem(datasets.load_digits().target).n == 10
    assert infer_problem(datasets.load_linnerud().target).problem == "regression"


def test_randhie_doctor_visits_are_counts():
    import statsmodels.api as sm
    got = infer_problem(sm.datasets.randhie.load_pandas().data["mdvis"])
    assert got.problem == "count"


# --- read_labels ------------------------------------------------------------------

def test_read_csv_one_column(tmp_path):
    path = tmp_path / "y.csv"
    path.write_text("label\ncat\ndog\nbird\n")
    assert infer_problem(read_labels(path)).problem == "multiclass"


def test_read_csv_named_column_and_columns(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,even,prime\n0.5,1,0\n0.1,0,1\n0.7,1,1\n")
    assert infer_problem(read_labels(path, target="even")).problem == "binary"
    assert infer_problem(read_labels(str(path), ["even", "prime"])).problem == "multilabel"


def test_read_csv_missing_values_are_reported(tmp_path):
    path = tmp_path / "y.csv"
    path.write_text("y,x\n1,0\n,1\n2,1\n")
    with pytest.raises(InferenceError, match="1 missing value, the first at row 1"):
        infer_problem(read_labels(path, "y"))


def test_read_csv_needs_a_target_with_several_columns(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,y\n1,2\n")
    with pytest.raises(InferenceError, match=r"target=.*2 columns.*\['x', 'y'\]"):
        read_labels(path)


def test_read_csv_unknown_column(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,y\n1,2\n")
    with pytest.raises(InferenceError) as err:
        read_labels(path, target="label")
    assert "'label'" in str(err.value) and "['x', 'y']" in str(err.value)
    assert str(path) in str(err.value)


def test_read_npy(tmp_path):
    path = tmp_path / "y.npy"
    np.save(path, np.eye(3)[[0, 1, 2, 1]])
    assert infer_problem(read_labels(path)).problem == "multiclass"
    with pytest.raises(InferenceError, match="target=None"):
        read_labels(path, target="y")


def test_read_npy_refuses_pickles(tmp_path):
    path = tmp_path / "y.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InferenceError, match="allow_pickle"):
        read_labels(path)


@pytest.mark.parametrize("name", ["y.txt", "y.parquet", "y"])
def test_read_other_extensions(tmp_path, name):
    with pytest.raises(InferenceError, match=r"\['.csv', '.npy'\]"):
        read_labels(tmp_path / name)


def test_read_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_labels(tmp_path / "absent.csv")


# --- speed: no TensorFlow, no scikit-learn ---------------------------------------

def test_imports_stay_light():
    code = ("import sys, recipes.catalog.infer as m; m.infer_problem([0, 1]); "
            "heavy = ('tensorflow', 'keras', 'sklearn', 'pandas'); "
            "print(sorted(k for k in heavy if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- ranked candidates (issue 15) -----------------------------------------------------

def _skewed_counts(high, size, seed, zeros=True):
    """Negative binomial counts: mode at the low end and a long right tail."""
    rng = np.random.default_rng(seed)
    y = rng.negative_binomial(1, 0.4, size=size)
    return np.minimum(y, high) if zeros else 10 + np.minimum(rng.negative_binomial(2, 0.08, size),
                                                            high - 10)


LINNERUD_WEIGHT = [191.0, 189, 193, 162, 189, 182, 211, 167, 176, 154,
                   169, 166, 154, 247, 193, 202, 176, 157, 156, 138]

# (labels, the ranking's first problems, best first), one block per answer.
RANKINGS = [
    # counts: recognized by their shape, with zeros or without
    (_skewed_counts(9, 400, 0), ("count",)),                          # doctor visits 0-9
    (_skewed_counts(19, 300, 1), ("count",)),                         # articles 0-19
    (_skewed_counts(70, 300, 2, zeros=False), ("count", "regression")),  # counts 10-70
    # integer measurements in small samples
    (np.array([115, 120, 123, 127, 131, 134, 138, 141, 145, 149, 152, 155, 158, 161, 164]),
     ("regression",)),                                                # 15 body weights
    (LINNERUD_WEIGHT, ("regression",)),                               # 16 values in 20 rows
    # ordinal: graded vocabularies, degree modifiers, numbered prefixes
    (["good", "poor", "excellent", "fair", "very good"], ("ordinal", "multiclass")),
    (["never", "often", "rarely", "always", "sometimes"], ("ordinal", "multiclass")),
    (["low", "high", "medium", "low"], ("ordinal", "multiclass")),
    (["mild", "severe", "moderate"], ("ordinal", "multiclass")),
    (["Strongly agree", "Disagree", "Strongly Disagree", "Agree", "Neutral"],
     ("ordinal", "multiclass")),
    (["Bad", "Medium", "Good", "Good"], ("ordinal", "multiclass")),
    (["Too Little", "About Right", "Too Much"], ("ordinal", "multiclass")),
    (["1. < HS Grad", "3. Some College", "2. HS Grad", "5. Advanced Degree"],
     ("ordinal", "multiclass")),
    (["2) two", "10) ten", "1) one"], ("ordinal", "multiclass")),
    (["01 - low", "02 - mid", "03 - top"], ("ordinal", "multiclass")),
    # short integer rating scales: ordinal at least second (first with one peak)
    (np.random.default_rng(3).choice([1, 2, 3, 4, 5], 300, p=[.05, .15, .3, .35, .15]),
     ("ordinal", "multiclass")),
    (np.random.default_rng(5).choice([1, 2, 3, 4, 5], 300, p=[.3, .1, .25, .05, .3]),
     ("multiclass", "ordinal")),                                     # three turns
    (np.random.default_rng(4).choice(np.arange(1, 8), 500, p=[.05, .1, .15, .3, .2, .15, .05]),
     ("ordinal", "multiclass")),
    # unknown strings, one-hot, digit labels
    (["red", "green", "blue"], ("multiclass", "ordinal")),
    (np.eye(4)[[0, 1, 2, 3, 1]], ("multiclass",)),
]


@pytest.mark.parametrize("y, ranking", RANKINGS, ids=[f"rank-{i}" for i in range(len(RANKINGS))])
def test_rankings(y, ranking):
    got = infer_problem(y)
    problems = tuple(c.problem for c in got.candidates)
    assert problems[:len(ranking)] == ranking, [str(c) for c in got.candidates]
    assert got.problem == problems[0] and got.alternatives == problems[1:]
    assert len(set(problems)) == len(problems) and set(problems) <= set(PROBLEMS)
    assert all(c.evidence for c in got.candidates)


@pytest.mark.parametrize("problem, y", [(p, y) for p, ys in EXAMPLES.items() for y in ys],
                         ids=[f"cand-{p}-{i}" for p, ys in EXAMPLES.items() for i in range(len(ys))])
def test_candidates_agree_with_the_answer(problem, y):
    got = infer_problem(y)
    assert got.candidates[0].problem == got.problem
    assert tuple(c.problem for c in got.candidates[1:]) == got.alternatives
    for candidate in got.candidates:
        assert isinstance(candidate, Candidate) and candidate.evidence
        assert (candidate.order is None) or candidate.problem == "ordinal"


@pytest.mark.parametrize("y, order", [
    (["good", "poor", "excellent", "fair"], ("poor", "fair", "good", "excellent")),
    (["High", "low", "Medium"], ("low", "Medium", "High")),
    (["strongly agree", "agree", "disagree", "strongly disagree"],
     ("strongly disagree", "disagree", "agree", "strongly agree")),
    (["very likely", "somewhat likely", "unlikely"],
     ("unlikely", "somewhat likely", "very likely")),
    (["a little anxious", "very anxious", "not anxious at all", "somewhat anxious"],
     ("not anxious at all", "a little anxious", "somewhat anxious", "very anxious")),
    (["11+ daily", "0 daily", "6-10 daily", "1-5 daily"],
     ("0 daily", "1-5 daily", "6-10 daily", "11+ daily")),
    (["2. HS Grad", "1. < HS Grad", "4. College Grad", "3. Some College"],
     ("1. < HS Grad", "2. HS Grad", "3. Some College", "4. College Grad")),
    (pd.Categorical(["good", "bad", "medium"]), ("bad", "medium", "good")),  # unordered
])
def test_ordinal_strings_give_their_order(y, order):
    got = infer_problem(y)
    assert got.problem == "ordinal", got.reason
    assert got.classes == order and got.candidates[0].order == order and got.n == len(order)
    assert got.alternatives == ("multiclass",)


def test_unknown_strings_hint_how_to_pass_the_order():
    got = infer_problem(["north", "south", "east", "west"])
    assert got.problem == "multiclass" and got.alternatives == ("ordinal",)
    assert "pd.Categorical(y, categories=[lowest, ..., highest], ordered=True)" in got.reason
    assert got.candidates[1].order is None
    assert "pd.Categorical" in got.candidates[1].evidence


def test_string_codes_that_are_only_numbers_are_not_ordered_by_prefix():
    assert infer_problem(["10001", "10002", "20003"]).problem == "multiclass"


def test_issue_counts_and_measurements():
    visits = _skewed_counts(9, 400, 0)
    assert visits.min() == 0 and visits.max() == 9
    assert "right-skewed like counts" in infer_problem(visits).reason
    weights = infer_problem(LINNERUD_WEIGHT)
    assert weights.alternatives == ("count", "multiclass")
    assert "nearly one per row" in weights.reason


def test_consecutive_codes_stay_classes():
    assert infer_problem(np.arange(20)).problem == "multiclass"
    assert infer_problem(np.repeat(np.arange(1, 6), [10, 12, 11, 9, 10])).problem == "multiclass"


def test_digits_stay_multiclass_not_count():
    from sklearn import datasets
    got = infer_problem(datasets.load_digits().target)
    assert got.problem == "multiclass" and got.alternatives[0] == "ordinal"


def test_imbalanced_few_classes_are_not_counts():
    y = np.repeat([0, 1, 2], [700, 200, 100])       # binomial-like, not count-shaped
    assert infer_problem(y).problem == "multiclass"


def test_ordered_categorical_candidate_carries_the_declared_order():
    got = infer_problem(_ordered(["S", "L", "M"], ["S", "M", "L"]))
    assert got.candidates[0] == Candidate("ordinal", "declared order 'S' < 'M' < 'L'",
                                          ("S", "M", "L"))


def test_cli_infer_prints_the_ranking(tmp_path, capsys):
    from recipes.cli import main
    path = tmp_path / "y.csv"
    path.write_text("health\ngood\npoor\nexcellent\nfair\ngood\n")
    assert main(["infer", str(path)]) == 0
    out = capsys.readouterr().out
    assert "problem: ordinal" in out
    assert "1. ordinal" in out and "2. multiclass" in out
    assert "order: 'poor' < 'fair' < 'good' < 'excellent'" in out


# --- the ranking by evidence (issue 15, second pass) ------------------------------------

def test_poisson_counts_are_counts_by_likelihood():
    y = np.repeat(np.arange(9), [613, 998, 960, 635, 292, 100, 26, 4, 1])   # chronic conditions
    got = infer_problem(y)
    assert got.problem == "count" and "BIC lower by" in got.reason
    assert got.alternatives[0] == "ordinal"


def test_poisson_samples_are_counts():
    rng = np.random.default_rng(7)
    for lam in (0.5, 1.5, 3.0):
        assert infer_problem(rng.poisson(lam, 1000)).problem == "count", lam


def test_monotone_and_polarized_scales_are_ordinal():
    rating = np.repeat(np.arange(1, 6), [99, 348, 993, 2242, 2684])        # rises all along
    party = np.repeat(np.arange(7), [200, 180, 108, 37, 94, 150, 175])     # one valley
    for y in (rating, party):
        got = infer_problem(y)
        assert got.problem == "ordinal" and got.alternatives[0] == "multiclass", got.reason


def test_a_single_peak_on_four_or_more_codes_ranks_ordinal_first():
    religious = np.repeat(np.arange(1, 5), [1021, 2267, 2422, 656])
    got = infer_problem(religious)
    assert got.problem == "ordinal" and got.alternatives == ("multiclass",)
    assert "more likely for ordered levels" in got.reason


def test_codes_rarest_at_both_ends_rank_ordinal_first():
    left_right = np.repeat(np.arange(1, 8), [16, 103, 147, 256, 170, 218, 34])   # 3 turns
    got = infer_problem(left_right)
    assert got.problem == "ordinal" and got.alternatives == ("multiclass",)
    assert "tails of a scale" in got.reason and "tails of a scale" in got.candidates[0].evidence


def test_three_codes_show_no_order():
    peaked = np.repeat([1, 2, 3], [100, 700, 200])     # every order of 3 turns at most once
    assert infer_problem(peaked).problem == "multiclass"
    assert infer_problem(peaked).alternatives[0] == "ordinal"


def test_codes_whose_frequencies_turn_often_stay_classes():
    husband = np.repeat(np.arange(1, 7), [229, 1308, 490, 2030, 1779, 530])   # 3 turns
    assert infer_problem(husband).problem == "multiclass"
    assert infer_problem(husband).alternatives[0] == "ordinal"


def test_levels_on_a_numeric_scale_are_ordinal():
    risk = np.repeat(np.arange(-2, 4), [3, 22, 67, 54, 32, 27])             # signed rating
    years = np.repeat([9, 12, 14, 16, 17, 20], [48, 2084, 2277, 1117, 510, 330])
    for y in (risk, years):
        got = infer_problem(y)
        assert got.problem == "ordinal" and "numeric scale" in got.reason


def test_underdispersed_measurement_is_not_counted():
    waist = [31, 32] + [33] * 4 + [34] * 3 + [35] * 2 + [36] * 3 + [37] * 3 + [38] * 2 + [46]
    got = infer_problem(waist)
    assert got.problem == "regression" and "too few rows per value" in got.reason
    assert got.alternatives[-1] == "multiclass"


def test_sparse_values_with_gaps_are_not_class_codes():
    subcommittees = [0] * 3 + [2] * 2 + [3] * 2 + [4] * 3 + [5] * 6 + [6] + [7] * 2 + [13]
    got = infer_problem(subcommittees)
    assert got.problem == "count" and got.alternatives == ("regression", "multiclass")
    airflow = [50] * 5 + [56] + [58] * 6 + [62] * 5 + [70, 75, 80, 80]
    assert infer_problem(airflow).problem == "regression"
    few_codes = [1, 2, 4, 1, 2, 4, 1, 2]                # gaps, but fewer than 5 rows per value
    assert infer_problem(few_codes).problem == "count"  # and within 1 sd of 0: like counts
    assert infer_problem([11, 12, 14, 11, 12, 14, 11, 12]).problem == "regression"
    many_rows = np.repeat([1, 2, 4], [30, 20, 10])       # enough rows per value: codes
    assert infer_problem(many_rows).problem != "regression"


def test_nearly_unique_integers_with_zeros_are_counts():
    bills = [0, 2, 9, 9, 25, 40, 41, 54, 60, 69, 72, 75, 98, 101, 101, 158, 168, 196, 233, 542]
    got = infer_problem(bills)
    assert got.problem == "count" and got.alternatives[0] == "regression"


def test_group_sizes_falling_from_one_are_counts():
    sizes = np.repeat(np.arange(1, 7), [456, 232, 80, 60, 8, 4])   # travel group sizes
    got = infer_problem(sizes)
    assert got.problem == "count" and got.alternatives == ("ordinal", "multiclass")
    assert "J shape" in got.reason and "J shape" in got.candidates[0].evidence


def test_counts_with_their_mode_at_the_origin_are_counts():
    rng = np.random.default_rng(2)
    geometric = rng.geometric(0.5, 500)                        # from 1, falling all along
    assert geometric.min() == 1 and infer_problem(geometric).problem == "count"
    truncated = rng.poisson(1.0, 2000)
    truncated = truncated[truncated > 0][:500]                 # zero-truncated Poisson
    assert infer_problem(truncated).problem == "count"


def test_a_falling_profile_away_from_the_origin_stays_ordinal():
    levels = np.repeat(np.arange(3, 9), [456, 232, 80, 60, 8, 4])   # falls, but from 3
    got = infer_problem(levels)
    assert got.problem == "ordinal" and got.alternatives[0] == "count"
    peaked = np.repeat(np.arange(1, 8), [109, 317, 236, 160, 67, 36, 19])   # mode at 2
    assert infer_problem(peaked).problem == "ordinal"


def test_many_level_codes_numbered_from_one_are_ordinal():
    income = np.repeat(np.arange(1, 25), np.arange(10, 58, 2))
    got = infer_problem(income)
    assert got.problem == "ordinal" and got.alternatives == ("regression", "count")
    assert got.classes == tuple(range(1, 25))


def test_many_levels_not_numbered_from_one_stay_a_quantity():
    ages = np.repeat(np.arange(18, 42), np.arange(10, 58, 2))     # every age, several rows
    got = infer_problem(ages)
    assert got.problem == "regression" and got.alternatives == ("ordinal", "count")
    assert infer_problem(np.arange(1, 40)).problem == "regression"    # one row per value


def test_turning_points_statistic():
    from recipes.catalog.infer import _smooth_p
    assert _smooth_p([1, 2, 3, 4, 5]) == pytest.approx(2 / 120)            # monotone
    assert _smooth_p([1, 3, 5, 4, 2]) == pytest.approx(30 / 120)           # one turn


# --- second pass (issue 15): each rule with the values that meet it and the values it leaves ---
# Each row: labels, the ranking of the candidates expected (first ones), and what the row shows.

_MOTHERS_AGES = np.repeat(np.arange(14, 46), [3, 3, 7, 12, 10, 16, 18, 12, 13, 13, 13, 15, 8,
                                              3, 9, 7, 7, 5, 6, 3, 1, 2, 2, 0, 0, 0, 0, 0, 0,
                                              0, 0, 1])
_FATHERS_AGES = np.concatenate([np.zeros(60, int), np.repeat(np.arange(16, 52), np.r_[
    np.arange(4, 40, 2), np.arange(36, 0, -2)])])
_BIRTH_ORDER = np.repeat([0, 1, 2, 3, 5, 6, 7, 8, 9, 10], [4, 2033, 1585, 835, 109, 37, 23,
                                                            6, 4, 4])
_INCOME_BRACKETS = np.repeat(np.arange(1, 20), [6, 3, 6, 5, 7, 12, 16, 12, 17, 24, 35, 29, 32,
                                                15, 17, 14, 8, 4, 3])
_SUM_SCORE = np.repeat(np.arange(3, 13), [35, 23, 36, 29, 36, 26, 22, 21, 15, 22])

SECOND_PASS = [
    # far from 0 (lowest value >= 2 sd above 0): a measurement, count second
    (_MOTHERS_AGES, ("regression", "count"), "right-skewed integer ages 14-45: far from 0"),
    (_MOTHERS_AGES * 6, ("regression", "count"), "weights in pounds: far from 0"),
    # ...but the same shape reaching down to 0 stays a count
    (_MOTHERS_AGES - 14, ("count", "regression"), "the same values from 0: counts"),
    # zeros below a gap are a separate code; zeros followed by ones are the floor
    (_FATHERS_AGES, ("regression", "count"), "ages with 0 for missing"),
    (np.concatenate([_FATHERS_AGES, [1, 2, 3]]), ("count", "regression"),
     "the same with 1, 2, 3 present: zeros are the floor"),
    # few rows, gaps: reaching within 1 sd of 0 reads as counts, else a measurement
    ([1, 3, 4, 6, 9, 9, 10, 11, 12, 13, 15, 15, 16, 17, 17, 2, 4, 12, 8, 14],
     ("count", "regression"), "chin-ups of 20 men: within 1 sd of 0"),
    ([31, 33, 34, 36, 39, 39, 40, 41, 42, 43, 45, 45, 46, 47, 47, 32, 34, 42, 38, 44],
     ("regression", "count"), "the same plus 30: far from 0"),
    # J shape from a mode at 1 with a few zeros (missing) below it
    (_BIRTH_ORDER, ("count", "ordinal"), "birth order 1.. with 4 zeros: count"),
    (_BIRTH_ORDER + 2, ("ordinal",), "the same from 2: no count origin, ordinal"),
    # many levels: the size of the steps shows the order that noise hides from the turns
    (_INCOME_BRACKETS, ("ordinal", "multiclass"), "19 noisy income brackets"),
    (np.repeat(np.arange(19), 30), ("multiclass",), "19 uniform codes stay classes"),
    # consecutive levels from 2 or more with no order in their frequencies: a sum score
    (_SUM_SCORE, ("regression", "ordinal", "multiclass"), "a 3-12 sum score"),
    (_SUM_SCORE - 2, ("multiclass", "ordinal"), "the same from 1: codes"),
    # cardinal number words count something; ordinal words do not
    (["four"] * 9 + ["six"] * 3 + ["eight", "two", "five"], ("ordinal", "count", "multiclass"),
     "cylinders as number words"),
    (["first", "second", "third", "first"], ("ordinal", "multiclass"), "ordinal words"),
]


@pytest.mark.parametrize("y, ranking, shows", SECOND_PASS, ids=[r[2] for r in SECOND_PASS])
def test_second_pass_rules(y, ranking, shows):
    got = infer_problem(y)
    assert tuple(c.problem for c in got.candidates)[:len(ranking)] == ranking, got.reason


def test_distance_from_zero_statistic():
    from recipes.catalog.infer import _labels, _summarize

    def distance(y):
        return _summarize(_labels(y), 20).floor_distance
    assert distance([10, 12, 14]) == pytest.approx(10 / np.std([10, 12, 14]))
    assert distance([0, 0, 10, 12, 14]) == pytest.approx(10 / np.std([10, 12, 14]))  # gap
    assert distance([0, 1, 10, 12, 14]) == 0.0      # zeros followed by ones: the floor
    assert distance([-1, 10, 12]) == 0.0


def test_step_statistic():
    from recipes.catalog.infer import _steps_p
    assert _steps_p([1, 2, 3, 4, 5, 6, 7, 8, 9]) < 0.01        # smooth
    assert _steps_p([9, 1, 8, 2, 7, 3, 6, 4, 5]) > 0.9         # zigzag
