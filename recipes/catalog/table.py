"""Read, validate and query the recipe catalog (``catalog.csv``).

No TensorFlow here: listing, selecting and validating recipes must stay fast.

The rules a row must obey are tables below (``OUTPUT_RANGES``, ``LOSSES``,
``ENCODINGS``, ``KERAS_METRICS``, ...). Validation reads those tables, so adding a
recipe that uses known pieces needs only a new CSV row, and adding a new
piece means adding one table entry.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import numbers
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from ..messages import expected
from . import codec

COLUMNS = (
    "problem", "name", "role", "activation", "loss", "from_logits", "encoding",
    "units", "metrics", "decoding", "target", "rationale", "reference",
)

# Optional columns: a catalog may leave them out (they default to ""). Notes only: they
# are not part of a recipe's identity (``describe``, hence no run id, includes them).
# backend_note: where the recipe behaves differently on the TensorFlow, JAX and PyTorch
# backends (``recipes backends`` measures it).
OPTIONAL_COLUMNS = ("backend_note",)

ROLES = ("recommended", "alternative", "anti-pattern")

# What the labels of a problem are, and what ``n`` (its size) counts.
TARGETS = {
    "classes": "one label per example among n classes",
    "ordered": "one level per example among n ordered levels",
    "labels": "several 0/1 labels per example; n = number of labels",
    "values": "real values; n = number of targets",
    "unit": "real values within 0..1; n = number of targets",
    "counts": "non-negative integer counts; n = number of targets",
}

# Targets whose labels are classes (one per example), not values or label sets.
CLASS_TARGETS = ("classes", "ordered")

# Output activation -> the range of its values.
OUTPUT_RANGES = {
    "linear": (-np.inf, np.inf),
    "sigmoid": (0.0, 1.0),
    "softmax": (0.0, 1.0),
    "exponential": (0.0, np.inf),
    "softplus": (0.0, np.inf),
    "tanh": (-1.0, 1.0),
}


@dataclass(frozen=True)
class Loss:
    needs: str            # what the prediction must be: "probability", "positive" or "any"
    link: str | None      # activation the loss applies itself when from_logits=True
    encodings: tuple      # target encodings it accepts
    targets: tuple        # problem targets it makes sense for


_ALL_TARGETS = tuple(TARGETS)
_DENSE = ("binary", "onehot", "number", "cumulative", "multihot", "value")

LOSSES = {
    "binary_crossentropy": Loss("probability", "sigmoid",
                                ("binary", "onehot", "cumulative", "multihot", "value"),
                                ("classes", "ordered", "labels", "unit")),
    "binary_focal_crossentropy": Loss("probability", "sigmoid",
                                      ("binary", "cumulative", "multihot"),
                                      ("classes", "ordered", "labels")),
    "categorical_crossentropy": Loss("probability", "softmax", ("onehot", "multihot"),
                                     ("classes", "ordered", "labels")),
    "categorical_focal_crossentropy": Loss("probability", "softmax", ("onehot",),
                                           ("classes", "ordered")),
    "sparse_categorical_crossentropy": Loss("probability", "softmax", ("index",),
                                            ("classes", "ordered")),
    "poisson": Loss("positive", "exponential", ("value",), ("counts",)),
    "mse": Loss("any", None, _DENSE, _ALL_TARGETS),
    "mae": Loss("any", None, _DENSE, _ALL_TARGETS),
    "huber": Loss("any", None, _DENSE, _ALL_TARGETS),
    "log_cosh": Loss("any", None, _DENSE, _ALL_TARGETS),
}


@dataclass(frozen=True)
class Encoding:
    targets: tuple        # problem targets it can encode
    units: tuple          # output-units rules it fits
    decodings: tuple      # decoding rules that read its outputs back


ENCODINGS = {
    "binary": Encoding(("classes",), ("1",), ("threshold",)),
    "onehot": Encoding(("classes", "ordered"), ("n",), ("argmax",)),
    "index": Encoding(("classes", "ordered"), ("n",), ("argmax",)),
    "number": Encoding(("classes", "ordered"), ("1",), ("round",)),
    "cumulative": Encoding(("ordered",), ("n-1",), ("cumulative",)),
    "multihot": Encoding(("labels",), ("n",), ("threshold",)),
    "value": Encoding(("values", "unit", "counts"), ("n",), ("identity",)),
}
assert {e for e in ENCODINGS} == set(codec.ENCODERS)

# Output-units rule -> units for a problem of size n, and the rule in words.
UNITS = {"1": lambda n: 1, "n": lambda n: n, "n-1": lambda n: n - 1}
UNITS_IN_WORDS = {"1": "one unit whatever n", "n": "one unit per class, label or target",
                  "n-1": "one unit per level above the lowest"}
assert set(UNITS_IN_WORDS) == set(UNITS)
# What n counts, per target: the words of a decode error.
SIZE_NOUNS = {"classes": "classes", "ordered": "levels", "labels": "labels",
              "values": "targets", "unit": "targets", "counts": "targets"}
assert set(SIZE_NOUNS) == set(TARGETS)

# Keras metric identifier -> encodings it reads correctly. Plain "accuracy" is
# deliberately absent: Keras guesses which accuracy it means (Keras 3 from the
# output and label shapes, tf.keras 2 from the loss), and a guess can be wrong.
_PER_UNIT = ("binary", "cumulative", "multihot")
KERAS_METRICS = {
    "binary_accuracy": _PER_UNIT,
    "categorical_accuracy": ("onehot",),
    "sparse_categorical_accuracy": ("index",),
    "auc": _PER_UNIT,
    "precision": _PER_UNIT,
    "recall": _PER_UNIT,
    "mae": ("number", "value"),
    "mse": ("number", "value"),
    "rmse": ("number", "value"),
}

BOOLEANS = {"true": True, "false": False}
FINGERPRINT = 6   # hex characters of a row's fingerprint (``row_fingerprint``)
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogError(ValueError):
    """A catalog file, or a query against it, is invalid."""


@dataclass(frozen=True)
class Recipe:
    """One catalog row: an output layer, its loss, and how labels go in and out."""

    problem: str
    name: str
    role: str
    activation: str
    loss: str
    from_logits: bool
    encoding: str
    units: str
    metrics: tuple
    decoding: str
    target: str
    rationale: str
    reference: str
    backend_note: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)
    source: str = field(default="", compare=False)

    @property
    def link(self):
        """Activation applied to raw outputs before decoding ("linear" if none)."""
        return LOSSES[self.loss].link if self.from_logits else "linear"

    @property
    def output_range(self):
        """Range of the decoded scores (after the link)."""
        return OUTPUT_RANGES[self.link if self.from_logits else self.activation]

    def n_units(self, n):
        """Output units for a problem of size ``n`` (classes, labels or targets)."""
        if int(n) != n or n < 1:
            raise ValueError(f"Expected a problem size n >= 1. Received: n={n!r}")
        units = UNITS[self.units](int(n))
        if units < 1 or (self.activation == "softmax" and units < 2):
            raise ValueError(
                f"Recipe {self.name!r} gives {units} output unit(s) for n={n}; "
                f"{self.activation!r} needs at least {2 if self.activation == 'softmax' else 1}. "
                f"Expected n >= {2 if self.units != '1' else 1}."
            )
        return units

    def size(self, y, classes=None):
        """The problem size ``n`` implied by labels ``y`` (or by ``classes``)."""
        if codec.ENCODERS[self.encoding][1] == "indices":
            return len(codec.classes_of(y) if classes is None else classes)
        y = np.asarray(y)
        return 1 if y.ndim == 1 else y.shape[1]

    def encode(self, y, classes=None):
        """Labels -> the training targets this recipe's loss expects."""
        fn, consumes = codec.ENCODERS[self.encoding]
        if consumes == "indices":
            y, classes = codec.class_labels(y, classes)
            return fn(codec.to_indices(y, classes), len(classes))
        targets = fn(codec.plain(y), None)
        _check_values(self, targets)
        return targets

    def units_for(self, n=None):
        """``(least, most)`` output units of this recipe for a problem of size ``n``:
        ``UNITS[units](n)`` both when ``n`` is known; else ``most`` is None (any number)
        unless the rule gives one unit whatever ``n``, and ``least`` is the units of the
        smallest problem (2 classes for class labels; a softmax needs 2 units)."""
        if n is not None:
            k = UNITS[self.units](int(n))
            return k, k
        if self.units == "1":
            return 1, 1
        smallest = 2 if codec.ENCODERS[self.encoding][1] == "indices" else 1
        least = UNITS[self.units](smallest)
        return max(least, 2) if self.activation == "softmax" else least, None

    def check_outputs(self, outputs, n=None, classes=None):
        """Raw outputs as a float array of shape ``(rows, units)`` (or ``(..., rows,
        units)``: leading axes, e.g. runs and epochs, are kept; one column may be given
        as a 1-D array), checked against the units this recipe has for a problem of
        size ``n`` (``units_for``). ``classes``: the class names ``n`` came from, named
        in the error. Raises ValueError naming the recipe, the expected units and the
        received shape."""
        out = np.asarray(outputs, dtype=np.float64)
        shape = out.shape
        out = out.reshape(-1, 1) if out.ndim == 1 else out
        least, most = self.units_for(n)
        width = out.shape[-1] if out.ndim else None
        if width is not None and least <= width and (most is None or width <= most):
            return out
        noun = SIZE_NOUNS.get(self.target, "classes")
        want = (f"(rows, {least})" + (f" for {n} {noun}" if n is not None else "")
                if least == most else f"(rows, k) with k >= {least}")
        got = f"outputs.shape={shape}" + (" (read as one unit per row)" if len(shape) == 1
                                          else "")
        named = classes is not None and not isinstance(classes, numbers.Integral)
        if width is not None and named:
            got += f": {width} units but {n} class names were given (classes={list(classes)!r})"
        elif width is not None and n is not None:
            got += f": {width} units for classes={n!r}"
        raise ValueError(f"Recipe {self.name!r} expects outputs of shape {want}: its units "
                         f"rule is {self.units!r} ({UNITS_IN_WORDS[self.units]}). "
                         f"Received: {got}.")

    def scores(self, outputs):
        """Raw outputs -> probabilities or values (applies the link if from_logits).
        Raises ValueError when their shape does not fit the recipe (``check_outputs``)."""
        return codec.NUMPY_ACTIVATIONS[self.link](self.check_outputs(outputs))

    def decode(self, outputs, classes=None, threshold=None):
        """Raw outputs -> predicted labels (or values).

        ``outputs``: shape ``(rows, units)``, the units this recipe has for the
        problem (``units_for``; leading axes are kept). ``classes``: the class
        labels in index order (or their number); without it, class predictions
        are indices. ``threshold``: for decodings that threshold scores
        (``codec.THRESHOLDED``), one number or one per output unit (one per label
        for multi-label recipes), strictly inside the range of the scores (0..1
        for probabilities); None is 0.5. A threshold given to any other decoding
        (argmax, rounding, values) is a ValueError. Outputs of another width (say,
        3 units for a one-unit recipe, or for 2 class names) or a single number
        are a ValueError naming the recipe, the expected units and the received
        shape.
        """
        fn, gives = codec.DECODERS[self.decoding]
        n = classes if isinstance(classes, (int, np.integer)) or classes is None else len(classes)
        if self.decoding == "round" and n is None:
            raise ValueError(
                f"Recipe {self.name!r} decodes by rounding to the nearest class index "
                "and needs the classes. Received: classes=None"
            )
        scores = codec.NUMPY_ACTIVATIONS[self.link](self.check_outputs(outputs, n, classes))
        threshold = codec.thresholds(self.decoding, threshold, scores.shape[-1],
                                     self.output_range, f"Recipe {self.name!r}")
        if gives != "values":
            codec.check_outputs(scores, f"Recipe {self.name!r}")
        pred = fn(scores, n, threshold)
        if gives == "indices" and classes is not None and not isinstance(classes, (int, np.integer)):
            return np.asarray(classes)[pred]
        return pred

    def proba(self, outputs):
        """Raw outputs -> class (or per-label) probabilities; None if the recipe has none."""
        fn = codec.PROBABILITIES[self.decoding]
        return None if fn is None else fn(self.scores(outputs))

    def describe(self):
        """The row as an ordered dict of strings, as in the CSV."""
        row = {c: getattr(self, c) for c in COLUMNS}
        row["from_logits"] = str(self.from_logits).lower()
        row["metrics"] = ";".join(self.metrics)
        return row

    @property
    def fingerprint(self):
        """A short hash of the row (``row_fingerprint`` of ``describe``): rows that share a
        name but differ in any cell (another loss, a user's edit) differ here."""
        return row_fingerprint(self.describe())


def row_fingerprint(row):
    """A short hex hash (``FINGERPRINT`` characters) of a catalog row given as the dict
    ``Recipe.describe`` returns (as a run's config stores it); None for anything else.

    >>> row = get("binary_sigmoid_bce").describe()
    >>> row_fingerprint(row) == row_fingerprint(dict(reversed(list(row.items()))))
    True
    >>> row_fingerprint(row) == row_fingerprint({**row, "loss": "mse"}), row_fingerprint(None)
    (False, None)
    """
    if not isinstance(row, dict):
        return None
    text = json.dumps(row, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:FINGERPRINT]


def _check_values(recipe, targets):
    t = recipe.target
    if not np.isfinite(targets).all():
        raise ValueError(f"Recipe {recipe.name!r}: targets contain NaN or inf.")
    if t == "labels" and not np.isin(targets, (0.0, 1.0)).all():
        bad = targets[~np.isin(targets, (0.0, 1.0))][:5].tolist()
        raise ValueError(f"Recipe {recipe.name!r} expects 0/1 labels. Received values {bad}")
    if t == "unit" and ((targets < 0).any() or (targets > 1).any()):
        raise ValueError(
            f"Recipe {recipe.name!r} expects targets within 0..1. "
            f"Received: min={targets.min():g}, max={targets.max():g}"
        )
    if t == "counts" and ((targets < 0).any() or (targets != np.round(targets)).any()):
        raise ValueError(
            f"Recipe {recipe.name!r} expects non-negative integer counts. "
            f"Received: min={targets.min():g}, non-integer values: "
            f"{int((targets != np.round(targets)).sum())}"
        )


# --- validation ------------------------------------------------------------

def _check_cells(row):
    """Errors of single cells: (column, message) pairs."""
    vocab = {
        "role": ROLES, "activation": OUTPUT_RANGES, "loss": LOSSES, "from_logits": BOOLEANS,
        "encoding": ENCODINGS, "units": UNITS, "decoding": codec.DECODERS, "target": TARGETS,
    }
    errors = [(c, "is empty") for c in COLUMNS if not row[c].strip()]
    for col, allowed in vocab.items():
        if row[col].strip() and row[col] not in allowed:
            errors.append((col, expected(allowed, col, row[col])))
    for col in ("problem", "name"):
        if row[col].strip() and not _IDENTIFIER.match(row[col]):
            errors.append((col, f"Expected lowercase letters, digits and '_' starting with a "
                                f"letter. Received: {col}={row[col]!r}"))
    for m in filter(None, row["metrics"].split(";")):
        if m not in KERAS_METRICS:
            hint = (" ('accuracy' is resolved by Keras, from the output shapes in Keras 3 and "
                    "from the loss in tf.keras 2; name the accuracy explicitly)"
                    if m == "accuracy" else "")
            errors.append(("metrics", expected(KERAS_METRICS, "metrics", m) + hint))
    return errors


# Contradictions between cells of one row: (columns, test, explanation). Each
# test gets a row whose cells are all known values and returns True when the
# row is contradictory.
def _range(r):
    return OUTPUT_RANGES[r["activation"]]


CONTRADICTIONS = [
    (("activation", "units"),
     lambda r: r["activation"] == "softmax" and r["units"] != "n",
     "softmax over a single unit always outputs 1.0, so the model never learns; use "
     "sigmoid with one unit, or softmax over n units"),
    (("from_logits", "activation"),
     lambda r: r["from_logits"] == "true" and r["activation"] != "linear",
     "from_logits=true means the loss applies the activation itself; with a squashing "
     "output it would be applied twice. Use activation 'linear' with from_logits=true"),
    (("from_logits", "loss"),
     lambda r: r["from_logits"] == "true" and LOSSES[r["loss"]].link is None,
     "this loss takes no logits: it has no activation to fuse"),
    (("activation", "loss", "from_logits"),
     lambda r: r["from_logits"] == "false" and LOSSES[r["loss"]].needs == "probability"
     and not (_range(r)[0] >= 0 and _range(r)[1] <= 1),
     "a probability loss needs outputs within 0..1; use sigmoid/softmax, or a linear "
     "output with from_logits=true"),
    (("activation", "loss", "from_logits"),
     lambda r: r["from_logits"] == "false" and LOSSES[r["loss"]].needs == "positive"
     and _range(r)[0] < 0,
     "this loss needs positive predictions; use exponential or softplus, or a linear "
     "output with from_logits=true"),
    (("encoding", "loss"),
     lambda r: r["encoding"] not in LOSSES[r["loss"]].encodings,
     "the loss does not accept targets in this encoding (sparse losses take class "
     "indices, the others take one column per output unit)"),
    (("target", "loss"),
     lambda r: r["target"] not in LOSSES[r["loss"]].targets,
     "the loss does not fit this kind of target"),
    (("encoding", "target"),
     lambda r: r["target"] not in ENCODINGS[r["encoding"]].targets,
     "this encoding cannot represent this kind of target"),
    (("encoding", "units"),
     lambda r: r["units"] not in ENCODINGS[r["encoding"]].units,
     "the number of output units does not match the width of the encoded targets"),
    (("encoding", "decoding"),
     lambda r: r["decoding"] not in ENCODINGS[r["encoding"]].decodings,
     "this decoding cannot read outputs trained on this encoding"),
    (("metrics", "encoding"),
     lambda r: any(r["encoding"] not in KERAS_METRICS[m]
                   for m in filter(None, r["metrics"].split(";"))),
     "a metric does not read targets in this encoding correctly"),
]


def _allowed_for(cols, row):
    """A hint listing values that would resolve a contradiction."""
    if cols == ("encoding", "loss"):
        return f"; allowed encodings for {row['loss']!r}: {list(LOSSES[row['loss']].encodings)}"
    if cols == ("encoding", "units"):
        return f"; allowed units for {row['encoding']!r}: {list(ENCODINGS[row['encoding']].units)}"
    if cols == ("encoding", "decoding"):
        return f"; allowed: {list(ENCODINGS[row['encoding']].decodings)}"
    if cols == ("metrics", "encoding"):
        ok = [m for m, enc in KERAS_METRICS.items() if row["encoding"] in enc]
        return f"; metrics that fit {row['encoding']!r}: {ok}"
    return ""


def _check_row(row):
    errors = _check_cells(row)
    if errors:
        return errors
    for cols, test, why in CONTRADICTIONS:
        if test(row):
            received = ", ".join(f"{c}={row[c]!r}" for c in cols)
            errors.append(("' and '".join(cols), f"{why}{_allowed_for(cols, row)}. Received: {received}"))
    return errors


def _check_table(rows, where):
    """Errors across rows: duplicate names, recommended count, target agreement."""
    errors = []
    seen = {}
    for line, row in rows:
        if row["name"] in seen:
            errors.append(f"{where}, line {line}, column 'name': duplicate recipe name "
                          f"{row['name']!r} (first on line {seen[row['name']]})")
        seen.setdefault(row["name"], line)
    problems = {}
    for line, row in rows:
        problems.setdefault(row["problem"], []).append((line, row))
    for problem, members in problems.items():
        rec = [line for line, r in members if r["role"] == "recommended"]
        if len(rec) != 1:
            lines = rec or [line for line, _ in members]
            errors.append(
                f"{where}, line {lines[0]}, column 'role': problem {problem!r} needs exactly one "
                f"'recommended' row. Received: {len(rec)} (lines {lines})")
        target = members[0][1]["target"]
        for line, r in members[1:]:
            if r["target"] != target:
                errors.append(
                    f"{where}, line {line}, column 'target': every row of problem {problem!r} "
                    f"must share one target. Expected: target={target!r} (line {members[0][0]}). "
                    f"Received: target={r['target']!r}")
    return errors


def _read(path):
    """The catalog's rows as ``(line, {column: cell})``. UTF-8 text, with or without the
    byte-order mark spreadsheet programs write; errors name the file and line."""
    try:
        return _rows(path)
    except UnicodeDecodeError as err:
        raise CatalogError(f"{path}: not UTF-8 text (byte {err.start}: {err.reason}). "
                           f"Expected a catalog saved as UTF-8 CSV.") from None
    except csv.Error as err:
        raise CatalogError(f"{path}: {err} (an unterminated quote?)") from None


def _rows(path):
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise CatalogError(f"{path}, line 1: the file is empty. "
                               f"Expected a header with columns {list(COLUMNS)}") from None
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise CatalogError(f"{path}, line 1: missing column(s) {missing}. "
                               f"Expected columns {list(COLUMNS)}. Received: {header}")
        rows = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise CatalogError(f"{path}, line {reader.line_num}: expected {len(header)} "
                                   f"cells as in the header. Received: {len(cells)}")
            rows.append((reader.line_num, dict(zip(header, (c.strip() for c in cells)))))
    return rows


def _recipe(line, row, where):
    return Recipe(
        problem=row["problem"], name=row["name"], role=row["role"],
        activation=row["activation"], loss=row["loss"],
        from_logits=BOOLEANS[row["from_logits"]], encoding=row["encoding"],
        units=row["units"], metrics=tuple(filter(None, row["metrics"].split(";"))),
        decoding=row["decoding"], target=row["target"], rationale=row["rationale"],
        reference=row["reference"], backend_note=row.get("backend_note", ""), line=line,
        source=where,
    )


# --- the catalog -------------------------------------------------------------

class Catalog:
    """An ordered, validated set of recipes."""

    def __init__(self, recipes, path=""):
        self.recipes = tuple(recipes)
        self.path = str(path)
        self._by_name = {r.name: r for r in self.recipes}

    def __iter__(self):
        return iter(self.recipes)

    def __len__(self):
        return len(self.recipes)

    @property
    def problems(self):
        return tuple(dict.fromkeys(r.problem for r in self.recipes))

    @property
    def names(self):
        return tuple(self._by_name)

    def get(self, name):
        """The recipe called ``name`` (a Recipe passes through unchanged)."""
        if isinstance(name, Recipe):
            return name
        if name not in self._by_name:
            close = difflib.get_close_matches(str(name), self.names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise CatalogError(expected(self.names, "name", name) + hint)
        return self._by_name[name]

    def of(self, problem):
        """All recipes of a problem type, the recommended one first."""
        self._check_problem(problem)
        rows = [r for r in self.recipes if r.problem == problem]
        return tuple(sorted(rows, key=lambda r: ROLES.index(r.role)))

    def select(self, problem):
        """The recommended recipe for a problem type."""
        return self.of(problem)[0]

    def alternatives(self, problem):
        """The non-recommended recipes (alternatives, then anti-patterns) of a problem."""
        return self.of(problem)[1:]

    def _check_problem(self, problem):
        if problem not in self.problems:
            close = difflib.get_close_matches(str(problem), self.problems, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise CatalogError(expected(self.problems, "problem", problem) + hint)


def default_path():
    """The catalog shipped with the package (the repository's catalog.csv)."""
    return resources.files("recipes") / "catalog.csv"


_cache = {}


def load_catalog(path=None):
    """Read and validate a catalog.

    Parameters
    ----------
    path : str or Path, optional
        A catalog CSV file; None loads the one bundled with the package.

    Returns
    -------
    Catalog
        The recipes, by name and by problem type (cached until the file changes).

    Raises
    ------
    CatalogError
        Listing every problem found, each with its file, line, column, the bad
        value and what is allowed.

    Examples
    --------
    >>> catalog = load_catalog()
    >>> catalog.select("multiclass").loss
    'categorical_crossentropy'
    """
    path = Path(str(default_path())) if path is None else Path(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "not found"
        raise CatalogError(f"Catalog file {what}. Received: path={str(path)!r}")
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key in _cache:
        return _cache[key]
    where = str(path)
    rows = _read(path)
    errors = [f"{where}, line {line}, column '{col}': {msg}"
              for line, row in rows for col, msg in _check_row(row)]
    errors += _check_table(rows, where)
    if not rows:
        errors.append(f"{where}: the catalog has no recipes")
    if errors:
        raise CatalogError(f"{len(errors)} problem(s) in the catalog:\n  " + "\n  ".join(errors))
    catalog = Catalog((_recipe(line, row, where) for line, row in rows), path)
    _cache[key] = catalog
    return catalog


def as_catalog(catalog=None):
    """A Catalog from ``catalog``: None (the bundled one), a path, or a Catalog as is."""
    if catalog is None or isinstance(catalog, (str, Path)):
        return load_catalog(catalog)
    return catalog


def select(problem, catalog=None):
    """The recommended recipe of a problem type.

    Parameters
    ----------
    problem : str
        A problem type of the catalog (``"binary"``, ``"multiclass"``, ...).
    catalog : Catalog, str, Path or None
        The catalog, a path to one, or None for the bundled one.

    Returns
    -------
    Recipe
        The problem's row with role ``recommended``.

    Examples
    --------
    >>> select("binary").name
    'binary_sigmoid_bce'
    """
    return as_catalog(catalog).select(problem)


def get(name, catalog=None):
    """The recipe called ``name``.

    Parameters
    ----------
    name : str
        A recipe name (``recipes list`` shows them all).
    catalog : Catalog, str, Path or None
        The catalog, a path to one, or None for the bundled one.

    Returns
    -------
    Recipe
        That row of the catalog.

    Examples
    --------
    >>> get("multiclass_softmax_mse").role
    'anti-pattern'
    """
    return as_catalog(catalog).get(name)
