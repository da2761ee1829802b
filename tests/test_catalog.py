"""The catalog: its content, its validation errors, and queries against it."""

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from recipes import CatalogError, get, load_catalog, select
from recipes.catalog.table import COLUMNS, CONTRADICTIONS, ROLES

ROOT = Path(__file__).resolve().parents[1]
CATALOG = load_catalog(ROOT / "catalog.csv")

# --- content ----------------------------------------------------------------

# background.md section 1 plus what the source notes discuss: (problem, activation, loss, from_logits)
REQUIRED = {
    "binary sigmoid+BCE": ("binary", "sigmoid", "binary_crossentropy", False, "recommended"),
    "multiclass softmax+CE": ("multiclass", "softmax", "categorical_crossentropy", False, "recommended"),
    "multilabel sigmoid+BCE": ("multilabel", "sigmoid", "binary_crossentropy", False, "recommended"),
    "regression linear+MSE": ("regression", "linear", "mse", False, "recommended"),
    "0..1 sigmoid+BCE": ("bounded_regression", "sigmoid", "binary_crossentropy", False, None),
    "0..1 sigmoid+MSE": ("bounded_regression", "sigmoid", "mse", False, None),
    "binary sigmoid+MSE": ("binary", "sigmoid", "mse", False, "anti-pattern"),
    "multiclass softmax+MSE": ("multiclass", "softmax", "mse", False, "anti-pattern"),
    "binary 2-unit softmax": ("binary", "softmax", "categorical_crossentropy", False, None),
    "multiclass one-vs-rest": ("multiclass", "sigmoid", "binary_crossentropy", False, None),
    "multilabel softmax+CE": ("multilabel", "softmax", "categorical_crossentropy", False, "anti-pattern"),
    "classification linear+MSE": ("multiclass", "linear", "mse", False, "anti-pattern"),
    "binary logits": ("binary", "linear", "binary_crossentropy", True, None),
    "multiclass logits": ("multiclass", "linear", "categorical_crossentropy", True, None),
    "multilabel logits": ("multilabel", "linear", "binary_crossentropy", True, None),
    "counts": ("count", "exponential", "poisson", False, "recommended"),
}


@pytest.mark.parametrize("case", REQUIRED, ids=str)
def test_catalog_holds_the_pairings_the_notes_discuss(case):
    problem, activation, loss, logits, role = REQUIRED[case]
    hits = [r for r in CATALOG.of(problem)
            if (r.activation, r.loss, r.from_logits) == (activation, loss, logits)]
    assert hits, f"no {case} row"
    if role:
        assert hits[0].role == role


def test_class_index_as_a_number_is_an_anti_pattern():
    row = get("multiclass_index_regression", CATALOG)
    assert (row.activation, row.loss, row.encoding, row.units) == ("linear", "mse", "number", "1")
    assert row.role == "anti-pattern"


def test_problem_types_beyond_the_source_table():
    beyond = set(CATALOG.problems) - {"binary", "multiclass", "multilabel", "regression",
                                      "bounded_regression"}
    assert len(beyond) >= 2


@pytest.mark.parametrize("problem", CATALOG.problems)
def test_exactly_one_recommended_recipe_per_problem(problem):
    roles = [r.role for r in CATALOG.of(problem)]
    assert roles.count("recommended") == 1
    assert select(problem, CATALOG).role == "recommended"
    assert all(r.role != "recommended" for r in CATALOG.alternatives(problem))


@pytest.mark.parametrize("recipe", list(CATALOG), ids=lambda r: r.name)
def test_every_row_is_complete(recipe):
    assert recipe.role in ROLES
    assert recipe.rationale.endswith(".") and len(recipe.rationale) > 30
    assert recipe.reference
    assert recipe.line >= 2


def test_bundled_catalog_is_the_root_file():
    from recipes.catalog.table import default_path

    assert Path(str(default_path())).read_bytes() == (ROOT / "catalog.csv").read_bytes()


def test_queries():
    assert get("binary_sigmoid_bce", CATALOG).problem == "binary"
    assert get(get("binary_sigmoid_bce", CATALOG)) is not None
    assert [r.name for r in CATALOG.of("binary")][0] == "binary_sigmoid_bce"
    with pytest.raises(CatalogError, match=r"Expected one of \{.*'multiclass'.*\}. Received: problem='multi-class'"):
        select("multi-class", CATALOG)
    with pytest.raises(CatalogError, match=r"Received: name='binary_sigmoid_bc'.*Did you mean 'binary_sigmoid_bce'"):
        get("binary_sigmoid_bc", CATALOG)


# --- validation errors --------------------------------------------------------

def _rows():
    return list(csv.DictReader(io.StringIO((ROOT / "catalog.csv").read_text())))


def _write(tmp_path, rows, columns=COLUMNS):
    path = tmp_path / "mine.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def _line_of(name):
    return 2 + [r["name"] for r in _rows()].index(name)


def _edit(tmp_path, recipe, cells):
    rows = _rows()
    for r in rows:
        if r["name"] == recipe:
            r.update(cells)
    return _write(tmp_path, rows)


# case -> (recipe to edit, cells to set, fragments the error must contain)
ERRORS = {
    "unknown activation": ("binary_sigmoid_bce", {"activation": "sigmoidd"},
                           ["column 'activation'", "Expected one of {", "'sigmoid'",
                            "Received: activation='sigmoidd'"]),
    "unknown loss": ("binary_sigmoid_bce", {"loss": "bce"},
                     ["column 'loss'", "'binary_crossentropy'", "Received: loss='bce'"]),
    "bad role": ("binary_sigmoid_bce", {"role": "best"}, ["column 'role'", "Received: role='best'"]),
    "bad from_logits": ("binary_sigmoid_bce", {"from_logits": "yes"},
                        ["column 'from_logits'", "'true', 'false'", "Received: from_logits='yes'"]),
    "bad units": ("binary_sigmoid_bce", {"units": "2"}, ["column 'units'", "'n-1'", "Received: units='2'"]),
    "bad encoding": ("binary_sigmoid_bce", {"encoding": "one-hot"}, ["column 'encoding'", "'onehot'"]),
    "bad decoding": ("binary_sigmoid_bce", {"decoding": "max"}, ["column 'decoding'", "'argmax'"]),
    "bad target": ("binary_sigmoid_bce", {"target": "class"}, ["column 'target'", "'classes'"]),
    "bad metric": ("binary_sigmoid_bce", {"metrics": "binary_accuracy;f2"},
                   ["column 'metrics'", "Received: metrics='f2'"]),
    "ambiguous accuracy": ("binary_sigmoid_bce", {"metrics": "accuracy"},
                           ["Received: metrics='accuracy'", "name the accuracy explicitly"]),
    "empty cell": ("binary_sigmoid_bce", {"rationale": ""}, ["column 'rationale': is empty"]),
    "bad name": ("binary_sigmoid_bce", {"name": "Binary BCE"}, ["column 'name'", "Received: name='Binary BCE'"]),
    # contradictions between cells
    "softmax on one unit": ("binary_sigmoid_bce", {"activation": "softmax"},
                            ["'activation' and 'units'", "softmax over a single unit always outputs 1.0",
                             "Received: activation='softmax', units='1'"]),
    "logits with a squashing output": ("binary_sigmoid_bce", {"from_logits": "true"},
                                       ["'from_logits' and 'activation'", "applied twice"]),
    "logits with a loss that takes none": ("binary_linear_mse", {"from_logits": "true"},
                                           ["'from_logits' and 'loss'", "takes no logits"]),
    "linear output under a probability loss": ("binary_sigmoid_bce", {"activation": "linear"},
                                               ["probability loss needs outputs within 0..1",
                                                "Received: activation='linear', loss='binary_crossentropy', from_logits='false'"]),
    "negative rates for poisson": ("count_exp_poisson", {"activation": "linear"},
                                   ["needs positive predictions"]),
    "sparse encoding with a dense loss": ("multiclass_softmax_sparse_cce", {"loss": "categorical_crossentropy"},
                                          ["'encoding' and 'loss'", "does not accept targets in this encoding", "allowed encodings for 'categorical_crossentropy'",
                                           "Received: encoding='index', loss='categorical_crossentropy'"]),
    "dense encoding with the sparse loss": ("multiclass_softmax_cce", {"loss": "sparse_categorical_crossentropy"},
                                            ["'encoding' and 'loss'", "Received: encoding='onehot'"]),
    "probability loss on unbounded values": ("regression_linear_mse",
                                             {"activation": "sigmoid", "loss": "binary_crossentropy"},
                                             ["'target' and 'loss'", "does not fit this kind of target", "Received: target='values'"]),
    "encoding cannot hold the target": ("multilabel_sigmoid_bce", {"encoding": "onehot", "decoding": "argmax"},
                                        ["'encoding' and 'target'", "cannot represent this kind of target", "Received: encoding='onehot', target='labels'"]),
    "units do not match the encoding": ("multilabel_sigmoid_bce", {"units": "n-1"},
                                        ["'encoding' and 'units'", "does not match the width", "allowed units for 'multihot': ['n']"]),
    "decoding cannot read the encoding": ("multiclass_softmax_cce", {"decoding": "threshold"},
                                          ["'encoding' and 'decoding'", "cannot read outputs trained", "allowed: ['argmax']"]),
    "metric misreads the encoding": ("multiclass_softmax_cce", {"metrics": "binary_accuracy"},
                                     ["'metrics' and 'encoding'", "does not read targets in this encoding", "'categorical_accuracy'"]),
    # across rows
    "duplicate name": ("binary_logits_bce", {"name": "binary_sigmoid_bce"},
                       ["column 'name': duplicate recipe name 'binary_sigmoid_bce' (first on line 2)"]),
    "two recommended": ("binary_logits_bce", {"role": "recommended"},
                        ["problem 'binary' needs exactly one 'recommended' row. Received: 2"]),
    "no recommended": ("binary_sigmoid_bce", {"role": "alternative"},
                       ["problem 'binary' needs exactly one 'recommended' row. Received: 0"]),
    "problem rows disagree on target": ("regression_linear_mae", {"target": "counts"},
                                        ["column 'target': every row of problem 'regression' must share one target"]),
}


@pytest.mark.parametrize("case", ERRORS)
def test_validation_error(tmp_path, case):
    name, cells, fragments = ERRORS[case]
    path = _edit(tmp_path, name, cells)
    with pytest.raises(CatalogError) as err:
        load_catalog(path)
    msg = str(err.value)
    assert str(path) in msg
    assert f"line {_line_of(name)}" in msg or "duplicate" in case or "recommended" in case
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in:\n{msg}"


def test_every_contradiction_rule_has_a_test_case():
    fragments = [f for _, _, fs in ERRORS.values() for f in fs]
    for cols, _, why in CONTRADICTIONS:
        assert any(f in why for f in fragments), f"no ERRORS case for the rule on {cols}: {why}"


def test_all_errors_reported_at_once(tmp_path):
    rows = _rows()
    rows[0]["activation"] = "sigmoidd"
    rows[3]["loss"] = "nope"
    with pytest.raises(CatalogError, match=r"^2 problem\(s\)") as err:
        load_catalog(_write(tmp_path, rows))
    assert "line 2" in str(err.value) and "line 5" in str(err.value)


def test_missing_column(tmp_path):
    path = _write(tmp_path, _rows(), [c for c in COLUMNS if c != "decoding"])
    with pytest.raises(CatalogError, match=r"line 1: missing column\(s\) \['decoding'\]"):
        load_catalog(path)


def test_wrong_number_of_cells(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text(",".join(COLUMNS) + "\nbinary,x,recommended\n")
    with pytest.raises(CatalogError, match=r"line 2: expected 13 cells as in the header. Received: 3"):
        load_catalog(path)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CatalogError, match="line 1: the file is empty"):
        load_catalog(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text(",".join(COLUMNS) + "\n")
    with pytest.raises(CatalogError, match="has no recipes"):
        load_catalog(tmp_path / "header.csv")
    with pytest.raises(CatalogError, match="Catalog file not found. Received: path="):
        load_catalog(tmp_path / "nope.csv")


def test_a_users_row_works_with_no_code_change(tmp_path):
    rows = _rows()
    rows.append(dict(rows[0], name="binary_sigmoid_huber", role="alternative", loss="huber",
                     metrics="binary_accuracy", rationale="Huber through a sigmoid, for a test."))
    catalog = load_catalog(_write(tmp_path, rows))
    recipe = catalog.get("binary_sigmoid_huber")
    assert recipe in catalog.alternatives("binary")
    assert recipe.encode(["no", "yes", "yes"]).ravel().tolist() == [0, 1, 1]


# --- encode / decode without a model ------------------------------------------

def test_string_labels_round_trip_through_classes():
    recipe = select("multiclass", CATALOG)
    y = np.array(["cat", "dog", "emu", "dog"])
    targets = recipe.encode(y)
    assert targets.shape == (4, 3)
    assert recipe.decode(targets, classes=["cat", "dog", "emu"]).tolist() == y.tolist()


def test_unknown_label_is_an_error():
    with pytest.raises(ValueError, match=r"Expected one of \{'a', 'b'\}. Received: labels=\['c'\]"):
        select("binary", CATALOG).encode(["a", "c"], classes=["a", "b"])


def test_binary_encoding_needs_two_classes():
    with pytest.raises(ValueError, match="needs exactly 2 classes. Received: 3 classes"):
        select("binary", CATALOG).encode([0, 1, 2])


def test_per_label_thresholds():
    recipe = select("multilabel", CATALOG)
    scores = np.array([[0.6, 0.2], [0.3, 0.9]])
    assert recipe.decode(scores, threshold=[0.5, 0.1]).tolist() == [[1, 1], [0, 1]]


@pytest.mark.parametrize("target,values,match", [
    ("multilabel", [[0, 2]], "expects 0/1 labels"),
    ("bounded_regression", [[1.5]], "expects targets within 0..1"),
    ("count", [[-1.0]], "expects non-negative integer counts"),
    ("count", [[1.5]], "non-integer values: 1"),
    ("regression", [[np.nan]], "NaN or inf"),
])
def test_targets_outside_the_recipes_domain(target, values, match):
    with pytest.raises(ValueError, match=match):
        select(target, CATALOG).encode(np.array(values, dtype=float))


def test_softmax_needs_two_units():
    with pytest.raises(ValueError, match="gives 1 output unit"):
        get("binary_softmax2_cce", CATALOG).n_units(1)


# --- recipes show -------------------------------------------------------------------

@pytest.mark.parametrize("name", ["multiclass_softmax_mse", "binary_softmax2_cce"])
def test_show_says_what_to_use_instead_and_why_before_any_code(name, capsys):
    from recipes.cli import main

    assert main(["show", name]) == 0
    out = capsys.readouterr().out
    recipe, best = get(name), select(get(name).problem)
    head = out.split("Keras code")[0]
    assert best.name in head and best.rationale in head and recipe.rationale in head
    first = out.splitlines()[0]
    assert (first.startswith("Do not use") if recipe.role == "anti-pattern"
            else "alternative" in first)


def test_show_on_the_recommended_recipe_gives_no_advice(capsys):
    from recipes.cli import main

    assert main(["show", "binary"]) == 0
    out = capsys.readouterr().out
    assert "Use instead" not in out and "Recommended:" not in out and "Why:" in out
