"""The model check: a compiled Keras model against the labels it trains on.

``check_model`` reads a compiled model's output layer (units, activation), its
loss (class, ``from_logits``) and its metrics (``read_model``), infers the
problem type of the labels it trains on (``recipes.catalog.infer``), and runs
every rule of ``CHECKS`` against both. Each finding cites the actual values,
says why it matters, and names the catalog recipe that fixes it. The rules are
tables rather than branches on recipe names.

Keras is imported only by the functions that read a model; nothing here
imports matplotlib.

Keras 3 facts the checks rely on (TensorFlow backend, measured with Keras 3.15):

* plain ``'accuracy'`` is resolved from the *shapes* of labels and outputs
  (one output unit: binary accuracy; 1-D labels: sparse categorical accuracy;
  otherwise categorical accuracy), no longer from the loss as in tf.keras 2;
* the cross-entropy functions of the TensorFlow backend take the logits that a
  Keras ``softmax``/``sigmoid`` activation caches on its output, whatever the
  loss: ``binary_crossentropy`` on a Keras softmax output computes a *sigmoid*
  cross-entropy on the softmax's logits, and a cross-entropy with
  ``from_logits=True`` on such an output quietly uses the real logits (with a
  warning). JAX and PyTorch backends only clip probabilities.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..quiet import import_tensorflow
from ..catalog.infer import infer_problem, read_labels
from ..catalog.table import CLASS_TARGETS, LOSSES, OUTPUT_RANGES, Recipe, as_catalog
from ..messages import expected, plural
from ..models.spec import LOGITS_CLASSES, LOSS_CLASSES, TARGET_WORDS, loss_spec
from ..training.settings import current_backend

__all__ = ["CHECKS", "Check", "Finding", "LabelFacts", "ModelFacts", "check_model", "read_model"]

SEVERITIES = ("error", "warning", "info")
EPSILON = 1e-7          # keras.config.epsilon(): Keras clips probabilities to [eps, 1 - eps]


# Output activations and the range of their values; the catalog's table plus
# activations users put on output layers that the catalog never uses.
RANGES = {
    **OUTPUT_RANGES,
    "relu": (0.0, np.inf),
    "relu6": (0.0, 6.0),
    "elu": (-1.0, np.inf),
    "selu": (-1.7581, np.inf),
    "gelu": (-0.17, np.inf),
    "silu": (-0.2785, np.inf),
    "swish": (-0.2785, np.inf),
    "mish": (-0.3089, np.inf),
    "leaky_relu": (-np.inf, np.inf),
    "prelu": (-np.inf, np.inf),
    "hard_sigmoid": (0.0, 1.0),
    "hard_silu": (-0.375, np.inf),
    "softsign": (-1.0, 1.0),
    "hard_tanh": (-1.0, 1.0),
    "log_softmax": (-np.inf, 0.0),
    "log_sigmoid": (-np.inf, 0.0),
}

# Keras layers that are nothing but an activation -> its name.
ACTIVATION_LAYERS = {
    "Softmax": "softmax", "ReLU": "relu", "LeakyReLU": "leaky_relu", "ELU": "elu",
    "PReLU": "prelu",
}

# Names Keras gives a loss (class, function or string alias) -> catalog loss.
LOSS_NAMES = {
    **{cls: loss for loss, (_, cls) in LOSS_CLASSES.items()},
    **{loss: loss for loss in LOSSES},
    "mean_squared_error": "mse", "mean_absolute_error": "mae", "logcosh": "log_cosh",
    "huber_loss": "huber",
}
# Classes that are the logits form of a catalog loss (from_logits is implied).
LOGITS_LOSS_NAMES = {cls: loss for loss, (_, cls) in LOGITS_CLASSES.items()}

SPARSE_LOSSES = ("sparse_categorical_crossentropy",)
BINARY_LOSSES = ("binary_crossentropy", "binary_focal_crossentropy")
# Losses over one-hot rows that normalize the outputs over the units (a softmax of
# logits, or probabilities divided by their sum); with the sparse form, those that need
# one probability distribution over the units.
CATEGORICAL_LOSSES = ("categorical_crossentropy", "categorical_focal_crossentropy")
DISTRIBUTION_LOSSES = (*CATEGORICAL_LOSSES, *SPARSE_LOSSES)
# Output activations whose gradient is 0 below their floor: a unit pushed there stops learning.
FLOORED = ("relu", "relu6")

# Names Keras gives a metric -> what the metric measures. Kinds:
#   binary_accuracy: thresholds every unit and compares it with its own 0/1 target
#   categorical_accuracy: argmax of the output == argmax of a one-hot label row
#   sparse_categorical_accuracy: argmax of the output == an integer label
#   per_unit: ranks or thresholds every unit as a 0/1 label (AUC, precision, recall)
#   regression: compares values (mae, mse, ...)
#   loss: a loss used as a metric
METRIC_KINDS = {
    "BinaryAccuracy": "binary_accuracy", "binary_accuracy": "binary_accuracy",
    "CategoricalAccuracy": "categorical_accuracy", "categorical_accuracy": "categorical_accuracy",
    "TopKCategoricalAccuracy": "categorical_accuracy",
    "top_k_categorical_accuracy": "categorical_accuracy",
    "SparseCategoricalAccuracy": "sparse_categorical_accuracy",
    "sparse_categorical_accuracy": "sparse_categorical_accuracy",
    "SparseTopKCategoricalAccuracy": "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy": "sparse_categorical_accuracy",
    "AUC": "per_unit", "Precision": "per_unit", "Recall": "per_unit", "F1Score": "per_unit",
    "FBetaScore": "per_unit", "PrecisionAtRecall": "per_unit", "RecallAtPrecision": "per_unit",
    "SensitivityAtSpecificity": "per_unit", "SpecificityAtSensitivity": "per_unit",
    "TruePositives": "per_unit", "TrueNegatives": "per_unit", "FalsePositives": "per_unit",
    "FalseNegatives": "per_unit",
    "MeanAbsoluteError": "regression", "mean_absolute_error": "regression", "mae": "regression",
    "MeanSquaredError": "regression", "mean_squared_error": "regression", "mse": "regression",
    "RootMeanSquaredError": "regression", "rmse": "regression",
    "MeanAbsolutePercentageError": "regression", "mean_absolute_percentage_error": "regression",
    "MeanSquaredLogarithmicError": "regression", "mean_squared_logarithmic_error": "regression",
    "LogCoshError": "regression", "R2Score": "regression", "CosineSimilarity": "regression",
    "BinaryCrossentropy": "loss", "CategoricalCrossentropy": "loss",
    "SparseCategoricalCrossentropy": "loss", "Poisson": "loss", "KLDivergence": "loss",
    "binary_crossentropy": "loss", "categorical_crossentropy": "loss",
    "sparse_categorical_crossentropy": "loss", "poisson": "loss",
}
# Canonical Keras names of the resolved accuracies.
_ACCURACY_NAMES = {"binary_accuracy": "BinaryAccuracy", "categorical_accuracy": "CategoricalAccuracy",
                   "sparse_categorical_accuracy": "SparseCategoricalAccuracy"}

# What a label array looks like to Keras.
FORMS = {
    "index": "integer class indices (1-D)",
    "onehot": "one-hot rows",
    "multihot": "multi-hot 0/1 rows",
    "values": "numeric targets",
    "labels": "class labels that still have to be encoded (strings, booleans or categories)",
}

# Catalog targets whose labels are values.
VALUE_TARGETS = ("values", "unit", "counts")


@dataclass(frozen=True)
class Finding:
    """One problem (or remark) about a model and its labels.

    ``severity``: 'error' (the model will not train or report correctly),
    'warning' (it trains, badly or misleadingly) or 'info'. ``code``: a short
    id (a key of ``CHECKS``). ``message``: what is wrong, with the actual
    values. ``explanation``: why it matters. ``fix``: the catalog recipe that
    fixes it and how; empty for 'info' (a remark is no mistake, so a model with
    only remarks gets no fix line). ``recipe``: that recipe's name.
    """

    severity: str
    code: str
    message: str
    explanation: str = ""
    fix: str = ""
    recipe: str | None = None

    def __str__(self):
        lines = [f"{self.severity.upper():<7} [{self.code}] {self.message}"]
        if self.explanation:
            lines.append(f"        why: {self.explanation}")
        if self.fix:
            lines.append(f"        fix: {self.fix}")
        return "\n".join(lines)


@dataclass(frozen=True)
class MetricFacts:
    """A compiled metric: as declared, and what Keras makes of it."""

    declared: str            # as passed to compile ('accuracy', 'AUC', ...)
    name: str                # the Keras class or function it resolves to
    kind: str                # a value of METRIC_KINDS, or 'other'
    reads_logits: bool       # configured for logits (threshold 0 / from_logits=True)
    threshold: float | None  # decision threshold, where the metric has one
    by_shape: bool = False   # plain 'accuracy' resolved by Keras from the shapes


@dataclass(frozen=True)
class ModelFacts:
    """What ``check_model`` read from a compiled model."""

    name: str
    units: int
    activation: str               # output activation ('linear' when none; 'unknown')
    loss: str | None              # catalog loss name (None: not in the catalog)
    loss_name: str                # the loss as Keras names it
    from_logits: bool
    metrics: tuple = ()           # MetricFacts
    output_layer: str = ""

    @property
    def activation_range(self):
        return RANGES.get(self.activation, (-np.inf, np.inf))

    @property
    def link(self):
        """The function that turns outputs into predictions (the loss's, if from_logits)."""
        if self.from_logits and self.loss in LOSSES and LOSSES[self.loss].link:
            return LOSSES[self.loss].link
        return self.activation

    @property
    def prediction_range(self):
        """Range of the predictions after the link."""
        return RANGES.get(self.link, (-np.inf, np.inf))

    def describe(self):
        logits = f" (from_logits={self.from_logits})" if self.loss in LOSSES and \
            LOSSES[self.loss].link else ""
        metrics = ", ".join(m.declared if m.declared == m.name else f"{m.declared} -> {m.name}"
                            for m in self.metrics) or "none"
        return (f"{self.units} output unit(s), {self.activation} activation, loss "
                f"{self.loss_name}{logits}; metrics: {metrics}")


@dataclass(frozen=True)
class LabelFacts:
    """What ``check_model`` read from the labels."""

    problem: str
    reason: str
    n: int                      # classes, labels or targets
    form: str                   # a key of FORMS
    shape: tuple
    lo: float = math.nan
    hi: float = math.nan
    integral: bool = False
    classes: tuple | None = None
    inferred: str = ""          # what infer_problem said, before the model's loss chose
    ones_per_row: tuple = ()    # multihot: (mean, max) ones per row
    cumulative: bool = False    # multihot rows that are all 1s then 0s (ordinal targets)

    @property
    def width(self):
        """Target columns Keras sees (1 for 1-D labels)."""
        return 1 if len(self.shape) == 1 else self.shape[1]

    @property
    def numeric(self):
        return self.form != "labels"

    def describe(self):
        rng = f", values {self.lo:g}..{self.hi:g}" if self.numeric else ""
        chosen = (f" (the labels read as {self.inferred!r}; the model's loss fits "
                  f"{self.problem!r}, which the labels also allow)"
                  if self.inferred and self.inferred != self.problem else "")
        return (f"{self.problem}, n={self.n}: {FORMS[self.form]}, shape {self.shape}{rng}. "
                f"{self.reason}{chosen}")


@dataclass
class Check:
    """The result of ``check_model``: the facts read and the findings."""

    model: ModelFacts
    labels: LabelFacts
    recommended: Recipe
    matched: Recipe | None
    findings: list = field(default_factory=list)

    @property
    def ok(self):
        """True when no finding is an error."""
        return not self.errors

    @property
    def errors(self):
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self):
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def codes(self):
        return [f.code for f in self.findings]

    @property
    def unchecked(self):
        """What could not be read, so was not checked: ``["the loss 'custom'", ...]``."""
        m, out = self.model, []
        if m.loss is None:
            out.append(f"the loss {m.loss_name!r}")
        if m.activation == "unknown":
            out.append(f"the output activation of {m.output_layer}")
        return out

    def summary(self):
        if self.unchecked and not self.errors and not self.warnings:
            return (f"Could not check {' or '.join(self.unchecked)}: not one the catalog knows, "
                    f"so the checks that need it were skipped and this model is NOT confirmed "
                    f"to fit these {self.labels.problem} labels. Recommended recipe: "
                    f"{self.recommended.name} (see: recipes show {self.recommended.name}).")
        if not self.errors and not self.warnings:
            what = (f"it is catalog recipe {self.matched.name} ({self.matched.role})"
                    if self.matched else f"the recommended recipe is {self.recommended.name}")
            return (f"No problems found: a {self.model.units}-unit {self.model.activation} output "
                    f"with {self.model.loss_name} fits these {self.labels.problem} labels; {what}.")
        return (f"{plural(len(self.errors), 'error')}, {plural(len(self.warnings), 'warning')}. "
                f"Recommended recipe for {self.labels.problem!r}: {self.recommended.name} "
                f"(see: recipes show {self.recommended.name}).")

    def __str__(self):
        order = {s: i for i, s in enumerate(SEVERITIES)}
        lines = [f"Model {self.model.name!r}: {self.model.describe()}",
                 f"Labels: {self.labels.describe()}", ""]
        for f in sorted(self.findings, key=lambda f: order[f.severity]):
            lines += [str(f), ""]
        lines.append(self.summary())
        return "\n".join(lines)


# --- reading the model ----------------------------------------------------------

def _load(model):
    import_tensorflow()
    import keras

    from ..models import build as models  # noqa: F401  (registers LogPoisson for loading)

    if isinstance(model, keras.Model):
        return model
    if not isinstance(model, (str, Path)):
        raise ValueError(f"Expected a compiled keras.Model or a path to a saved .keras file. "
                         f"Received: model={model!r:.80}")
    path = Path(model)
    if not path.is_file():
        raise FileNotFoundError(f"Model file not found. Received: {str(path)!r}")
    if path.suffix not in (".keras", ".h5"):
        raise ValueError(f"Expected a model saved with model.save('NAME.keras'). "
                         f"Received: {str(path)!r}")
    if path.suffix == ".keras":
        import zipfile

        if not zipfile.is_zipfile(path):
            raise ValueError(f"Cannot load a Keras model from {str(path)!r}: it is not a .keras "
                             f"file (the zip archive model.save('NAME.keras') writes).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # optimizer-variable notices of saved models
            return keras.models.load_model(path)
    except (OSError, ValueError, TypeError, KeyError) as err:
        raise ValueError(f"Cannot load a Keras model from {str(path)!r}: {err}") from None


def _function_name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def _output_layer(model):
    try:
        return model.outputs[0]._keras_history[0]
    except (AttributeError, IndexError, TypeError):
        return model.layers[-1]


def _activation_of(layer):
    """The activation a layer applies last (unwrapping Activation layers)."""
    cls = type(layer).__name__
    if cls in ACTIVATION_LAYERS:
        return ACTIVATION_LAYERS[cls]
    fn = getattr(layer, "activation", None)
    if fn is None:
        return "unknown"
    name = _function_name(fn)
    return {"exp": "exponential"}.get(name, name)


def _serialized_name(obj):
    """(name, config) of a compile-config entry: a string, a serialized dict or an object."""
    if isinstance(obj, str):
        return obj, {}
    if isinstance(obj, dict):
        if obj.get("class_name") == "function":
            return str(obj.get("config")), {}
        return obj.get("class_name", "?"), obj.get("config") or {}
    if callable(obj) and not hasattr(obj, "get_config"):
        return _function_name(obj), {}
    try:
        config = obj.get_config()
    except (AttributeError, NotImplementedError, TypeError):
        config = {}
    return type(obj).__name__, config


def _read_loss(entry, units, label_rank, label_width):
    """(catalog loss or None, Keras name, from_logits)."""
    import_tensorflow()
    import keras

    name, config = _serialized_name(entry)
    if name in LOGITS_LOSS_NAMES:
        return LOGITS_LOSS_NAMES[name], name, True
    if isinstance(entry, str) and name.lower() in ("crossentropy", "ce"):
        # Keras resolves it from the shapes, like 'accuracy'.
        kind = _shape_rule(units, label_rank, label_width)
        loss = {"binary_accuracy": "binary_crossentropy",
                "sparse_categorical_accuracy": "sparse_categorical_crossentropy",
                "categorical_accuracy": "categorical_crossentropy"}[kind]
        return loss, f"{name} -> {loss}", False
    if isinstance(entry, str) and name not in LOSS_NAMES:
        try:
            name = _serialized_name(keras.losses.get(name))[0]
        except (ValueError, TypeError):
            pass
    return LOSS_NAMES.get(name), name, bool(config.get("from_logits", False))


def _shape_rule(units, label_rank, label_width):
    """How Keras 3 resolves plain 'accuracy' (compile_utils.is_binary_or_sparse_categorical)."""
    if units == 1:
        return "binary_accuracy"
    if label_rank < 2 or label_width == 1:
        return "sparse_categorical_accuracy"
    return "categorical_accuracy"


def _read_metric(entry, units, label_rank, label_width):
    import_tensorflow()
    import keras

    name, config = _serialized_name(entry)
    if isinstance(entry, str) and name.lower() in ("accuracy", "acc"):
        kind = _shape_rule(units, label_rank, label_width)
        return MetricFacts(name, _ACCURACY_NAMES[kind], kind, False, 0.5 if
                           kind == "binary_accuracy" else None, by_shape=True)
    if isinstance(entry, str) and name not in METRIC_KINDS:
        try:
            name, config = _serialized_name(keras.metrics.get(name))
        except (ValueError, TypeError):
            pass
    kind = METRIC_KINDS.get(name, "other")
    threshold = config.get("threshold", config.get("thresholds"))
    if isinstance(threshold, (list, tuple)):
        threshold = threshold[0] if len(threshold) == 1 else None
    if threshold is None and name in ("BinaryAccuracy", "binary_accuracy", "Precision", "Recall"):
        threshold = 0.5
    reads_logits = bool(config.get("from_logits", False)) or (threshold is not None and threshold <= 0)
    declared = entry if isinstance(entry, str) else name
    return MetricFacts(declared, name, kind, reads_logits, threshold)


def _rank_and_width(y):
    """The label rank and width Keras sees, which resolve plain 'accuracy' and 'crossentropy'."""
    shaped = _label_shape(y) if not _is_categorical(y) else np.asarray(y, dtype=object)
    return shaped.ndim, (1 if shaped.ndim == 1 else shaped.shape[1])


def _label_shape(y):
    values = np.asarray(y) if not hasattr(y, "to_numpy") else y.to_numpy()
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    return values


def read_model(model, label_rank=1, label_width=1):
    """``ModelFacts`` of a compiled model (or a saved .keras path).

    ``label_rank``/``label_width`` describe the labels, which Keras needs to
    resolve plain 'accuracy' and 'crossentropy'.
    """
    model = _load(model)
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if not outputs:
        raise ValueError(f"Expected a built model: model {model.name!r} has no inputs or outputs "
                         f"yet (a Sequential without keras.Input). Start it with "
                         f"keras.Input(shape=...), or call model.build((None, n_features)).")
    if len(model.outputs) != 1:
        raise ValueError(f"Expected a model with one output. Received: {len(model.outputs)} "
                         f"outputs ({[t.name for t in model.outputs]}); check each head separately.")
    config = model.get_compile_config() if model.compiled else None
    if not config or config.get("loss") is None:
        raise ValueError(f"Expected a compiled model (model.compile(loss=..., metrics=...)). "
                         f"Received: model {model.name!r} without a loss.")
    loss = config["loss"]
    if isinstance(loss, (list, tuple)) and len(loss) == 1:   # Keras accepts [loss] too
        loss = loss[0]
    elif isinstance(loss, dict) and "class_name" not in loss and len(loss) == 1:
        loss = next(iter(loss.values()))
    if isinstance(loss, (list, tuple)) or (isinstance(loss, dict) and "class_name" not in loss):
        raise ValueError(f"Expected one loss for the single output. Received: {loss!r:.120}")
    config = {**config, "loss": loss}
    units = int(model.outputs[0].shape[-1])
    layer = _output_layer(model)
    loss, loss_name, from_logits = _read_loss(config["loss"], units, label_rank, label_width)
    metrics = config.get("metrics") or []
    if isinstance(metrics, dict):
        metrics = [m for ms in metrics.values() for m in (ms if isinstance(ms, list) else [ms])]
    return ModelFacts(
        name=model.name, units=units, activation=_activation_of(layer), loss=loss,
        loss_name=loss_name, from_logits=from_logits,
        metrics=tuple(_read_metric(m, units, label_rank, label_width) for m in metrics),
        output_layer=f"{type(layer).__name__} {getattr(layer, 'name', '')!r}",
    )


# --- reading the labels ------------------------------------------------------------

def _is_categorical(y):
    dtype = getattr(y, "dtype", None)
    return type(dtype).__name__ == "CategoricalDtype"


# Label forms: the first rule whose test holds. Each test gets (values, one-hot rows, target).
FORM_RULES = (
    ("labels", lambda v, onehot, t: v.dtype.kind not in "biuf"),
    ("onehot", lambda v, onehot, t: v.ndim == 2 and onehot),
    ("multihot", lambda v, onehot, t: v.ndim == 2 and np.isin(v, (0, 1)).all()),
    ("values", lambda v, onehot, t: v.ndim == 2),
    ("index", lambda v, onehot, t: t in CLASS_TARGETS and (v == np.round(v)).all()),
    ("labels", lambda v, onehot, t: t in CLASS_TARGETS and v.dtype.kind == "b"),
    ("values", lambda v, onehot, t: True),
)


def _choose_problem(inference, loss, catalog):
    """The inferred problem, or an alternative the labels allow whose recipes use ``loss``."""
    for problem in (inference.problem,) + tuple(inference.alternatives):
        if problem in catalog.problems and any(r.loss == loss for r in catalog.of(problem)):
            return problem
    return inference.problem


def read_labels_facts(y, model_facts=None, catalog=None, problem=None):
    """``LabelFacts`` of the labels ``y`` (for a model, whose loss settles ambiguous cases)."""
    catalog = as_catalog(catalog)
    classification = model_facts is not None and model_facts.loss in LOSSES and \
        LOSSES[model_facts.loss].needs == "probability"
    max_classes = max(20, model_facts.units) if classification else 20
    inference = infer_problem(y, max_classes=max_classes)
    chosen = problem or (_choose_problem(inference, model_facts.loss, catalog)
                         if model_facts is not None else inference.problem)
    if chosen not in catalog.problems:
        raise ValueError(expected(catalog.problems, "problem", chosen))
    target = catalog.select(chosen).target
    values = _label_values(y)
    if target in CLASS_TARGETS:
        n = len(inference.classes) if inference.classes else len(np.unique(values))
    else:
        n = 1 if values.ndim == 1 else values.shape[1]
    return LabelFacts(problem=chosen, reason=inference.reason, n=int(n),
                      classes=inference.classes, inferred=inference.problem,
                      **_value_facts(values, inference.onehot, target))


def _label_values(y):
    """The labels as one numpy array: (n, 1) flattened, objects as numbers or strings."""
    if _is_categorical(y):
        return np.asarray(y, dtype=object)
    values = _label_shape(y)
    if values.dtype == object:
        try:
            values = values.astype(float)
        except (TypeError, ValueError):
            values = values.astype(str)
    return values


def _value_facts(values, onehot, target):
    """The fields of ``LabelFacts`` that describe the values: form, shape, range, rows."""
    form = next(name for name, test in FORM_RULES if test(values, onehot, target))
    numeric = form != "labels"
    data = values.astype(float) if numeric else None
    ones, cumulative = (), False
    if form == "multihot":
        per_row = data.sum(axis=1)
        ones = (float(per_row.mean()), int(per_row.max()))
        cumulative = bool((np.diff(data, axis=1) <= 0).all())
    return dict(form=form, shape=tuple(values.shape),
                lo=float(data.min()) if numeric else math.nan,
                hi=float(data.max()) if numeric else math.nan,
                integral=bool(numeric and (data == np.round(data)).all()),
                ones_per_row=ones, cumulative=cumulative)


# --- labels that only need the recipe's encoding --------------------------------------

@dataclass(frozen=True)
class Encoding:
    """Labels as given (``raw``) and as the model's catalog recipe trains on them."""

    recipe: Recipe
    raw: LabelFacts
    targets: np.ndarray
    call: str            # the code that encodes them


def _recipe_of(model_facts, problem, n, catalog):
    """The catalog recipe of ``problem`` the model is (activation, loss, from_logits, units)."""
    m = model_facts
    for r in catalog.of(problem):
        if (r.activation, r.loss, r.from_logits) == (m.activation, m.loss, m.from_logits) \
                and _units_of(r, n) == m.units:
            return r
    return None


def _units_of(recipe, n):
    try:
        return recipe.n_units(n)
    except ValueError:
        return None


def _encoding(model_facts, labels, y, catalog):
    """``Encoding`` when the model is a catalog recipe and ``y`` differs from what that
    recipe trains on, but its encoding turns them into it; None otherwise."""
    recipe = _recipe_of(model_facts, labels.problem, labels.n, catalog)
    if recipe is None:
        return None
    classes = labels.classes if len(labels.shape) == 1 else None   # in the inferred order
    try:
        targets = recipe.encode(y, classes)
    except (ValueError, TypeError):
        return None
    raw, encoded = _label_values(y), _label_shape(targets)
    if raw.shape == encoded.shape and raw.dtype.kind in "biuf" and \
            np.array_equal(raw.astype(float), encoded.astype(float)):
        return None
    order = "" if _same_targets(recipe, y, targets) else f", classes={list(classes)!r}"
    return Encoding(recipe, labels, targets, f"recipes.get({recipe.name!r}).encode(y{order})")


def _same_targets(recipe, y, targets):
    """``recipe.encode(y)`` with its default class order gives ``targets``."""
    try:
        default = recipe.encode(y)
    except (ValueError, TypeError):
        return False
    return default.shape == targets.shape and np.array_equal(default, targets)


def _encoded_facts(encoding, catalog):
    """``LabelFacts`` of the encoded labels: the problem, size and classes read from the
    labels as given; form, shape and range from the targets."""
    target = catalog.select(encoding.raw.problem).target
    values = _label_shape(encoding.targets)
    return replace(encoding.raw, **_value_facts(values, encoding.recipe.encoding == "onehot",
                                                target))


# --- the checks ----------------------------------------------------------------------

@dataclass
class _Context:
    model: ModelFacts
    labels: LabelFacts
    catalog: object
    encoding: Encoding | None = None     # the labels as given, when they needed encoding
    findings: list = field(default_factory=list)

    @property
    def target(self):
        return self.catalog.select(self.labels.problem).target

    @property
    def recipes(self):
        """The problem's recipes: recommended, alternatives, then anti-patterns."""
        return self.catalog.of(self.labels.problem)

    @property
    def is_class(self):
        return self.target in CLASS_TARGETS

    @property
    def is_value(self):
        return self.target in VALUE_TARGETS

    def units_of(self, recipe):
        return _units_of(recipe, self.labels.n)

    def fix(self, how, *wants):
        """``(recipe, text)``: the first good recipe of the problem matching one of ``wants``."""
        good = [r for r in self.recipes if r.role != "anti-pattern"]
        for want in wants:
            for r in good:
                if all(getattr(r, k) == v for k, v in want.items()):
                    return r, f"recipe {r.name}: {how} ({_code(r, self.units_of(r))})"
        r = self.recipes[0]
        return r, f"recipe {r.name}: {how} ({_code(r, self.units_of(r))})"


def _code(recipe, units):
    namespace, cls, kwargs = loss_spec(recipe)
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return (f"Dense({units if units is not None else recipe.units}, activation="
            f"'{recipe.activation}') + {namespace}.{cls}({args}), labels as {recipe.encoding}; "
            f"see: recipes show {recipe.name}")


def _range_text(lo, hi):
    fmt = lambda v: "inf" if v == np.inf else "-inf" if v == -np.inf else f"{v:g}"
    return f"[{fmt(lo)}, {fmt(hi)}]"


def _check_encoding(ctx):
    e = ctx.encoding
    if e is None:
        return None
    return (f"The labels are {FORMS[e.raw.form]} (shape {e.raw.shape}); this model is catalog "
            f"recipe {e.recipe.name}, which trains on {TARGET_WORDS[e.recipe.encoding]}: fit "
            f"it on {e.call} (shape {e.targets.shape}), not on the labels as they are. The "
            "checks below read the labels so encoded.",
            "As they are, Keras cannot train on them: it raises an error at fit, or computes a "
            "loss that means nothing.", "", e.recipe)


def _check_readable(ctx):
    m = ctx.model
    if m.loss is None:
        return (f"The loss {m.loss_name!r} is not one the catalog knows.",
                "Checks that need the loss were skipped.", "", None)
    return None


def _check_hidden_activation(ctx):
    m = ctx.model
    if m.activation != "unknown":
        return None
    best = ctx.recipes[0]
    act = best.activation
    return (f"The output layer is {m.output_layer}, which records no activation: the output "
            f"cannot be confirmed to fit {m.loss_name} and these {ctx.labels.problem} labels.",
            "Whatever it computes (a softmax, a sigmoid, nothing) is hidden in its code, so the "
            "checks that need the output activation (probabilities or logits, the output range, "
            "a softmax over one unit, an activation applied twice) were skipped.",
            f"recipe {best.name}: make the activation readable: end the model in "
            f"keras.layers.Activation('{act}') after {m.output_layer} (which then computes only "
            f"the scores), or in Dense(..., activation='{act}'); a custom layer can keep its "
            f"activation in self.activation ({_code(best, ctx.units_of(best))})", best)


def _check_softmax_one_unit(ctx):
    m = ctx.model
    if m.activation == "softmax" and m.units == 1:
        recipe, fix = ctx.fix("one sigmoid unit, or a softmax over one unit per class",
                              {"activation": "sigmoid", "units": "1"}, {"activation": "softmax"})
        return ("The output layer is a softmax over 1 unit: softmax divides each unit by the "
                "sum over the units, so it outputs exactly 1.0 for every example.",
                "The output cannot depend on the input, so the loss never changes and the model "
                "never learns (every example is predicted as the positive class).",
                fix, recipe)


def _check_categorical_one_unit(ctx):
    m = ctx.model
    if m.loss not in CATEGORICAL_LOSSES or m.units != 1:
        return None
    recipe, fix = ctx.fix("binary cross-entropy on one sigmoid unit, or one output unit per "
                          "class with one-hot labels",
                          {"activation": "sigmoid", "loss": "binary_crossentropy", "units": "1"},
                          {"loss": m.loss}, {})
    return (f"{m.loss_name} over a single output unit: the loss normalizes the outputs over the "
            "units (a softmax of logits, or probabilities divided by their sum), which over one "
            "unit is always 1, so the loss is 0 (up to 1e-7) for every example, whatever the "
            "model predicts.",
            "A loss that is 0 for every prediction says nothing about the labels: the model "
            "never learns them. Keras 3 warns at fit ('expected y_pred.shape to be (batch_size, "
            "num_classes) with num_classes > 1').", fix, recipe)


def _allowed_units(ctx):
    m, y = ctx.model, ctx.labels
    if m.loss in SPARSE_LOSSES and ctx.is_class:
        return None        # checked against the label range below
    if y.form in ("onehot", "multihot", "values") and len(y.shape) == 2:
        return {y.width}
    if y.form == "labels":
        return {u for u in map(ctx.units_of, ctx.recipes) if u is not None}
    if ctx.is_class and y.form == "index" and m.units > 1:
        return None        # integer labels on a multi-unit output: sparse-labels-dense-loss
    return {1}


def _check_units(ctx):
    m, y = ctx.model, ctx.labels
    if m.loss in SPARSE_LOSSES and ctx.is_class and y.form == "index":
        seen = max(y.n, int(y.hi) + 1)
        if m.units < y.n:
            recipe, fix = ctx.fix(f"one output unit per class ({y.n})", {"loss": m.loss}, {})
            return ("error", f"The output has {m.units} unit(s) but the labels hold {y.n} "
                             f"classes.", "A softmax over fewer units than classes cannot "
                             "represent every class.", fix, recipe)
        if m.units > seen:
            recipe, fix = ctx.fix(f"one output unit per class ({y.n})", {"loss": m.loss}, {})
            return ("warning", f"The output has {m.units} units but the labels use only "
                               f"{y.n} classes (indices up to {y.hi:g}).",
                    "Extra units are classes that never occur: harmless if some classes are "
                    "missing from these labels, otherwise a sign the model was built for "
                    "other data.", fix, recipe)
        return None
    allowed = _allowed_units(ctx)
    if allowed is None or m.units in allowed:
        return None
    want = sorted(allowed)
    recipe, fix = ctx.fix(f"{' or '.join(map(str, want))} output unit(s)",
                          *({"units": rule} for rule in ("1", "n", "n-1")
                            if any(ctx.units_of(r) == want[0] and r.units == rule
                                   for r in ctx.recipes)))
    what = (f"{y.width} target column(s)" if len(y.shape) == 2 or y.form != "labels"
            else f"{y.n} classes")
    return ("error", f"The output has {m.units} unit(s) but the labels ({FORMS[y.form]}, shape "
                     f"{y.shape}) call for {' or '.join(map(str, want))}: {what}.",
            "Keras compares every output unit with its own target column: it raises a shape "
            "error at fit, or, where the shapes happen to broadcast, computes a loss that "
            "means nothing.", fix, recipe)


def _check_logits_twice(ctx):
    m = ctx.model
    if not m.from_logits or m.activation in ("linear", "unknown"):
        return None
    link = LOSSES[m.loss].link if m.loss in LOSSES else "its activation"
    recipe, fix = ctx.fix("a linear output with from_logits=True, or keep the activation "
                          "and set from_logits=False",
                          {"loss": m.loss, "from_logits": True, "activation": "linear"},
                          {"from_logits": True, "activation": "linear"})
    tf_note = (" On the TensorFlow backend Keras happens to recover the logits a Keras "
               f"{m.activation} layer caches on its output (with a warning), so training may "
               "look fine here; it is wrong on the JAX and PyTorch backends, for activations "
               "applied any other way, and whenever the outputs are decoded by applying the "
               f"{link} again." if m.activation in ("softmax", "sigmoid") and
               m.loss in LOSSES and LOSSES[m.loss].link in ("softmax", "sigmoid") else "")
    return (f"The loss {m.loss_name}(from_logits=True) applies {link} itself, but the output "
            f"layer already applies {m.activation}: the loss sees {link}({m.activation}(z)).",
            f"{m.activation} squashes the scores into {_range_text(*m.activation_range)}, "
            f"so the {link} the loss applies on top can never become confident: the loss stays "
            f"high and the gradients are distorted.{tf_note}", fix, recipe)


def _check_missing_from_logits(ctx):
    m = ctx.model
    if m.loss not in LOSSES or LOSSES[m.loss].needs != "probability" or m.from_logits:
        return None
    lo, hi = m.activation_range
    if m.activation == "unknown" or (lo >= 0 and hi <= 1):
        return None
    recipe, fix = ctx.fix("keep the linear output and set from_logits=True (or end in the "
                          "loss's activation)",
                          {"loss": m.loss, "from_logits": True},
                          {"from_logits": True, "activation": "linear"}, {})
    return (f"The loss {m.loss_name} expects probabilities in [0, 1], but the output activation "
            f"is {m.activation} (outputs in {_range_text(lo, hi)}) and from_logits=False.",
            f"Keras clips the outputs to [{EPSILON:g}, 1 - {EPSILON:g}] before taking logs: "
            f"every output outside that interval gets a zero gradient and a loss of about "
            f"{-math.log(EPSILON):.1f}, so a large part of the network stops learning.",
            fix, recipe)


def _check_not_a_distribution(ctx):
    m = ctx.model
    if m.loss not in DISTRIBUTION_LOSSES or m.from_logits or m.units < 2 \
            or m.activation in ("softmax", "unknown"):
        return None
    lo, hi = m.activation_range
    if lo < 0 or hi > 1:
        return None        # not probabilities at all: missing-from-logits
    recipe, fix = ctx.fix("a softmax over the units (or, for independent yes/no labels, "
                          "binary cross-entropy on the sigmoids)",
                          {"activation": "softmax", "loss": m.loss}, {"activation": "softmax"},
                          {"activation": m.activation, "loss": "binary_crossentropy"}, {})
    return (f"{m.loss_name} on {m.units} {m.activation} units: the loss expects one probability "
            f"distribution over the units, but {m.activation} scores each unit on its own, so "
            f"the outputs do not sum to 1.",
            f"Keras quietly divides the outputs by their sum before the loss (the TensorFlow "
            f"backend instead applies a softmax to the logits the {m.activation} layer caches), "
            f"so the model trains, but predict() returns {m.activation} scores that are no class "
            "probabilities, and the loss differs across backends.", fix, recipe)


def _check_poisson_negative(ctx):
    m = ctx.model
    if m.loss not in LOSSES or LOSSES[m.loss].needs != "positive" or m.from_logits:
        return None
    lo, hi = m.activation_range
    if m.activation == "unknown" or lo >= 0:
        return None
    recipe, fix = ctx.fix("an exponential (or softplus) output, or a linear log-rate with "
                          "the logits form of the Poisson loss",
                          {"loss": m.loss, "activation": "exponential"}, {"loss": m.loss})
    return (f"The Poisson loss y_pred - y * log(y_pred + eps) needs a positive rate, but the "
            f"{m.activation} output can be negative (outputs in {_range_text(lo, hi)}).",
            "The log of a negative prediction is NaN: the loss turns NaN as soon as one output "
            "goes below zero (about half of a linear layer's outputs do at initialization) "
            "and the weights are ruined.", fix, recipe)


def _check_sparse_labels_dense_loss(ctx):
    m, y = ctx.model, ctx.labels
    if not (ctx.is_class and y.form == "index" and m.units > 1 and m.loss in LOSSES
            and m.loss not in SPARSE_LOSSES):
        return None
    recipe, fix = ctx.fix("integer labels with the sparse loss, or one-hot encode the labels "
                          "(recipe.encode(y) or keras.utils.to_categorical)",
                          {"loss": "sparse_categorical_crossentropy"}
                          if m.loss == "categorical_crossentropy" else {"loss": m.loss},
                          {"loss": m.loss}, {})
    return (f"The labels are integer class indices (1-D, {y.lo:g}..{y.hi:g}) but "
            f"{m.loss_name} compares each of the {m.units} output units with its own target "
            f"column: it needs one-hot rows of width {m.units}.",
            "Keras raises a shape error at fit ('target and output must have the same rank'), "
            "or, where the shapes happen to broadcast, trains on a meaningless loss.", fix, recipe)


def _check_onehot_labels_sparse_loss(ctx):
    m, y = ctx.model, ctx.labels
    if m.loss not in SPARSE_LOSSES or len(y.shape) != 2:
        return None
    recipe, fix = ctx.fix("the categorical (non-sparse) loss for one-hot rows, or pass "
                          "y.argmax(axis=1)", {"loss": "categorical_crossentropy",
                                               "encoding": "onehot"}, {})
    return (f"{m.loss_name} expects one integer class index per example, but the labels are "
            f"{FORMS[y.form]} of width {y.width} (shape {y.shape}).",
            "Keras raises a shape error at fit ('output must have rank target.ndim - 1').",
            fix, recipe)


def _check_sparse_label_range(ctx):
    m, y = ctx.model, ctx.labels
    if m.loss not in SPARSE_LOSSES or len(y.shape) != 1:
        return None
    if y.form == "labels":
        recipe, fix = ctx.fix("encode the labels as indices 0..n-1 (recipe.encode(y))",
                              {"loss": m.loss}, {})
        return (f"{m.loss_name} takes integer class indices, but the labels are "
                f"{FORMS[y.form]} ({y.n} classes).", "They cannot be fed to the loss as they "
                "are; an encoding decides which output unit is which class.", fix, recipe)
    if y.integral and y.lo >= 0 and y.hi < m.units:
        return None
    recipe, fix = ctx.fix(f"map the labels to 0..{m.units - 1} (recipe.encode(y) maps the "
                          "sorted distinct labels to indices)", {"loss": m.loss}, {})
    what = ("non-integer labels" if not y.integral else f"labels from {y.lo:g} to {y.hi:g}")
    return (f"{m.loss_name} takes class indices 0..{m.units - 1} for {m.units} output units, "
            f"but these are {what}.",
            "On CPU, TensorFlow stops fit with an InvalidArgumentError; on GPU and under XLA "
            "(jit_compile=True) the out-of-range rows silently give a NaN loss and training "
            "goes on with NaN weights. Check label ranges before training.", fix, recipe)


def _check_target_range(ctx):
    m, y = ctx.model, ctx.labels
    if m.loss not in LOSSES or m.loss in SPARSE_LOSSES or not y.numeric:
        return None
    if ctx.is_class and y.form == "index" and m.units > 1:
        return None        # the labels need one-hot encoding first: sparse-labels-dense-loss
    needs = LOSSES[m.loss].needs
    if needs == "probability" and (y.lo < 0 or y.hi > 1):
        recipe, fix = ctx.fix("targets within [0, 1]: class labels encoded as 0/1 "
                              "(recipe.encode(y)), multi-hot rows in -1/1 mapped with "
                              "(y > 0).astype('float32')", {"loss": m.loss}, {})
        return (f"{m.loss_name} needs targets within [0, 1], but the labels range from "
                f"{y.lo:g} to {y.hi:g}.",
                "Cross-entropy with a target above 1 or below 0 is unbounded below: the loss "
                "goes negative and keeps rewarding extreme outputs instead of the right ones.",
                fix, recipe)
    if needs == "positive" and y.lo < 0:
        recipe, fix = ctx.fix("a loss for signed values", {})
        return (f"{m.loss_name} models non-negative counts, but the targets go down to "
                f"{y.lo:g}.", "A Poisson rate cannot fit negative targets.", fix, recipe)
    return None


def _check_bce_on_softmax(ctx):
    m = ctx.model
    if not (m.loss in BINARY_LOSSES and m.activation == "softmax" and m.units > 1):
        return None
    recipe, fix = ctx.fix("softmax with categorical cross-entropy (or independent sigmoids "
                          "if the outputs really are separate yes/no labels)",
                          {"activation": "softmax", "loss": "categorical_crossentropy"},
                          {"activation": "sigmoid", "loss": "binary_crossentropy"}, {})
    k = m.units
    return (f"{m.loss_name} on a {k}-unit softmax: the loss scores each unit as an independent "
            f"yes/no label, but softmax units compete for one unit of probability mass.",
            f"Keras averages the per-unit binary cross-entropy over the {k} units, and binary "
            f"accuracy (named explicitly, or plain 'accuracy' in tf.keras 2, which resolved it "
            f"from the loss) counts every unit separately: predicting 'no' for every unit "
            f"already scores {(k - 1) / k:.0%} with {k} classes, so the reported accuracy looks "
            f"far too high. On the TensorFlow backend, Keras 3 also takes the logits a Keras "
            f"softmax caches on its output and applies a sigmoid to them, so it trains "
            f"one-vs-rest sigmoids while predict() returns softmax probabilities.", fix, recipe)


def _check_multilabel_softmax(ctx):
    m, y = ctx.model, ctx.labels
    if ctx.target != "labels" or m.link != "softmax":
        return None
    recipe, fix = ctx.fix("one sigmoid per label with binary cross-entropy, each label "
                          "decoded with its own threshold",
                          {"activation": "sigmoid", "loss": "binary_crossentropy"}, {})
    per_row = (f" (up to {y.ones_per_row[1]} true labels per row, {y.ones_per_row[0]:.2f} on "
               "average)" if y.ones_per_row else "")
    return (f"The labels are multi-label{per_row} but the output is a softmax over "
            f"{m.units} units.",
            "Softmax makes the labels compete for one unit of probability mass: two true "
            "labels can each reach at most 0.5, and a softmax output is decoded with argmax, "
            "which returns one label per example.", fix, recipe)


def _check_floored_output(ctx):
    m = ctx.model
    if not (ctx.is_class or ctx.target == "labels") or m.activation not in FLOORED:
        return None
    if m.loss in LOSSES and LOSSES[m.loss].needs == "probability":
        return None        # a cross-entropy on it: missing-from-logits
    recipe, fix = ctx.fix("a sigmoid (or softmax) output with cross-entropy", {})
    return (f"The output activation is {m.activation} for {ctx.labels.problem} labels: its "
            "gradient is 0 below 0, so an output the loss pushes down toward a 0 target can "
            "fall below 0 and stop learning, and a unit whose input is negative for every "
            "example is dead: it predicts 0 for everything.",
            f"Class targets need a bounded output read as a probability (sigmoid or softmax) "
            f"and cross-entropy; {m.activation} is unbounded above and flat below 0.",
            fix, recipe)


def _check_output_range(ctx):
    m, y = ctx.model, ctx.labels
    if not ctx.is_value or not y.numeric or m.activation == "unknown":
        return None
    lo, hi = m.prediction_range
    if lo <= y.lo and y.hi <= hi:
        return None
    recipe, fix = ctx.fix("an output whose range covers the targets (or rescale the targets "
                          "into the output's range)", {})
    return (f"The targets range from {y.lo:g} to {y.hi:g}, but the {m.link} output can only "
            f"produce values in {_range_text(lo, hi)}.",
            "Targets outside the output's range can never be reached: the loss pushes the "
            "output into saturation, where its gradient vanishes, and predictions pile up at "
            "the bound.", fix, recipe)


# Metric rules: (kind, test(ctx, metric), what is wrong). The first match wins.
def _class_one_of_n(ctx):
    """Outputs are one-of-n class scores (not independent labels or thresholds)."""
    m, y = ctx.model, ctx.labels
    return ctx.is_class and m.units > 1 and not (y.problem == "ordinal" and m.units < y.n)


METRIC_RULES = (
    (("binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "per_unit"),
     lambda ctx, mt: ctx.is_value,
     "an accuracy-type metric on {problem} targets: it thresholds or argmaxes real values and "
     "counts exact matches, which means nothing for a regression"),
    (("binary_accuracy",),
     lambda ctx, mt: _class_one_of_n(ctx),
     "binary accuracy on {units} one-of-{n} class outputs counts each unit separately: "
     "predicting 'no' for every unit already scores {floor:.0%}, so it looks far too high"),
    (("categorical_accuracy", "sparse_categorical_accuracy"),
     lambda ctx, mt: ctx.target == "labels",
     "{name} on multi-label targets compares only the top-scored label (argmax) with one true "
     "label; the other labels are ignored"),
    (("categorical_accuracy", "sparse_categorical_accuracy"),
     lambda ctx, mt: ctx.model.units == 1,
     "{name} takes the argmax over a single output unit, which is always 0: it reports the "
     "share of class 0, whatever the model predicts"),
    (("categorical_accuracy",),
     lambda ctx, mt: len(ctx.labels.shape) == 1 and ctx.labels.numeric,
     "{name} needs one-hot label rows, but the labels are 1-D integers: use sparse "
     "categorical accuracy"),
    (("sparse_categorical_accuracy",),
     lambda ctx, mt: len(ctx.labels.shape) == 2,
     "{name} needs integer labels, but the labels are {form}: use categorical accuracy"),
)


def _check_metrics(ctx):
    m, y = ctx.model, ctx.labels
    found = []
    matched = _matching_recipe(ctx)
    good = matched if matched is not None and matched.role != "anti-pattern" else ctx.recipes[0]
    for mt in m.metrics:
        rule = next((r for r in METRIC_RULES if mt.kind in r[0] and r[1](ctx, mt)), None)
        resolved = (f" (plain {mt.declared!r}, which Keras 3 resolves from the shapes to "
                    f"{mt.name})" if mt.by_shape else "")
        if rule is not None:
            what = rule[2].format(problem=y.problem, units=m.units, n=y.n, name=mt.name,
                                  form=FORMS[y.form], floor=(m.units - 1) / m.units)
            found.append(("error", f"Metric {mt.declared!r}{resolved}: {what}.",
                          "A metric that does not fit the task reports numbers that look "
                          "meaningful but are not; model selection and early stopping on it "
                          "go wrong.",
                          f"recipe {good.name} reports {', '.join(good.metrics)}", good))
            continue
        if mt.kind in ("binary_accuracy", "per_unit") and m.from_logits and not mt.reads_logits:
            logits_recipe = ctx.fix("", {"from_logits": True})[0]
            at = (f"at {mt.threshold:g}" if mt.threshold is not None
                  else "as probabilities in 0..1")
            found.append(("warning", f"Metric {mt.declared!r}{resolved} reads the outputs {at}, "
                                     "but the outputs are logits (from_logits=True).",
                          "A logit of 0.5 is a probability of 0.62, and AUC's thresholds "
                          "spread over 0..1 miss most logits.",
                          "BinaryAccuracy(threshold=0.0), AUC(from_logits=True), "
                          f"Precision(thresholds=0.0), as recipe {logits_recipe.name} does",
                          logits_recipe))
            continue
        if mt.by_shape:
            fixed = ", ".join(good.metrics)
            found.append(Finding(
                "info", "plain-accuracy", f"Metric {mt.declared!r} is resolved by Keras 3 from "
                f"the shapes of labels and outputs; here to {mt.name}, which fits.",
                "tf.keras 2 resolved it from the loss instead (binary accuracy under "
                "binary_crossentropy), so the same code reports different numbers across "
                f"versions; naming the metric ({fixed}, as recipe {good.name} does) keeps them "
                "equal.", "", good.name))
    return found


def _matching_recipe(ctx):
    return _recipe_of(ctx.model, ctx.labels.problem, ctx.labels.n, ctx.catalog)


def _cumulative_note(ctx):
    return (" The label rows are cumulative (1s, then 0s): if they encode ordered levels, this "
            "is the ordinal recipe with cumulative targets." if ctx.labels.cumulative else "")


def _check_anti_pattern(ctx):
    r = _matching_recipe(ctx)
    if r is None or r.role != "anti-pattern":
        return None
    best = ctx.recipes[0]
    return (f"The model is catalog recipe {r.name}, an anti-pattern for {r.problem!r}.",
            r.rationale, f"recipe {best.name} ({_code(best, ctx.units_of(best))})", best)


def _check_recipe(ctx):
    m = ctx.model
    r = _matching_recipe(ctx)
    best = ctx.recipes[0]
    if r is None:
        return (f"No catalog recipe for {ctx.labels.problem!r} uses a {m.units}-unit "
                f"{m.activation} output with {m.loss_name}"
                f"{' (from_logits)' if m.from_logits else ''}.",
                f"The recommended recipe is {best.name} ({_code(best, ctx.units_of(best))}).",
                "", best)
    if r.role != "anti-pattern":
        return (f"The model is catalog recipe {r.name} ({r.role}).",
                r.rationale + _cumulative_note(ctx), "", r)
    return None


# --- backend-dependent pairs ----------------------------------------------------------

# Backends that compute a cross-entropy on a Keras softmax/sigmoid output from the logits
# the layer caches (``_get_logits``); the others clip the probabilities at EPSILON.
LOGITS_RECOVERING = ("tensorflow",)


def _probability_ce(m):
    """The model's output is the activation its cross-entropy loss would apply itself."""
    return (m.loss in LOSSES and LOSSES[m.loss].needs == "probability"
            and m.activation in ("softmax", "sigmoid") and LOSSES[m.loss].link == m.activation)


def _backend_logits_twice(m, here):
    """from_logits=True on a probability output: fixed on TensorFlow, wrong elsewhere."""
    if not (m.from_logits and _probability_ce(m)):
        return None
    fixed = here in LOGITS_RECOVERING
    return ("warning",
            f"This model trains differently on each Keras backend (this process: {here}): "
            f"{m.loss_name}(from_logits=True) on a {m.activation} output is "
            f"{'quietly repaired here' if fixed else 'wrong here'}.",
            f"The TensorFlow backend recovers the logits a Keras {m.activation} layer caches on "
            f"its output, so there the loss is right (with a warning); JAX and PyTorch apply "
            f"the {m.activation} a second time, with no warning: the loss stays high and a "
            f"confidently wrong output gets almost no gradient. A model that trains well on "
            f"TensorFlow can fail on the others.")


def _backend_clipped(m, here):
    """A probability output with from_logits=False: right everywhere, but its gradient at a
    saturated output exists only where the backend recovers the logits."""
    if m.from_logits or not _probability_ce(m):
        return None
    fixed = here in LOGITS_RECOVERING
    return ("info" if fixed else "warning",
            f"On the {here} backend, {m.loss_name} on a {m.activation} output "
            f"{'is computed from the cached logits' if fixed else 'clips the probabilities'}; "
            f"the backends differ where the output saturates.",
            f"TensorFlow computes this cross-entropy from the logits the {m.activation} layer "
            f"caches, so a confidently wrong output keeps the gradient p - y; JAX and PyTorch "
            f"clip the probabilities to [{EPSILON:g}, 1 - {EPSILON:g}], so there the loss "
            f"stops at {-math.log(EPSILON):.1f} and the gradient is 0, and a saturated output "
            f"stalls as with MSE (`recipes backends` shows the numbers). A linear output with "
            f"from_logits=True trains alike on every backend.")


# rules (model facts, this process's backend) -> None or (severity, message, explanation)
BACKEND_RULES = (_backend_logits_twice, _backend_clipped)


def _check_backend(ctx):
    """Where the model's loss/activation pair behaves differently across Keras backends."""
    m = ctx.model
    here = current_backend()
    found = []
    for rule in BACKEND_RULES:
        result = rule(m, here)
        if result is None:
            continue
        if result[0] == "info":        # a remark: the explanation names the logits form
            found.append((*result, "", None))
            continue
        recipe, fix = ctx.fix("a linear output with from_logits=True (the logits form)",
                              {"loss": m.loss, "from_logits": True, "activation": "linear"},
                              {"from_logits": True, "activation": "linear"})
        found.append((*result, fix, recipe))
    return found or None


# code -> (default severity, check). A check returns None, or a tuple
# (message, explanation, fix, recipe) / (severity, message, explanation, fix, recipe),
# or a Finding (for a code of its own: the metric check's 'plain-accuracy' info), or a
# list of those. Run in this order.
CHECKS = {
    "encoding": ("info", _check_encoding),
    "unreadable": ("info", _check_readable),
    "hidden-activation": ("warning", _check_hidden_activation),
    "softmax-one-unit": ("error", _check_softmax_one_unit),
    "categorical-one-unit": ("error", _check_categorical_one_unit),
    "units-mismatch": ("error", _check_units),
    "logits-twice": ("error", _check_logits_twice),
    "missing-from-logits": ("error", _check_missing_from_logits),
    "not-a-distribution": ("warning", _check_not_a_distribution),
    "poisson-negative": ("error", _check_poisson_negative),
    "sparse-labels-dense-loss": ("error", _check_sparse_labels_dense_loss),
    "onehot-labels-sparse-loss": ("error", _check_onehot_labels_sparse_loss),
    "sparse-label-range": ("error", _check_sparse_label_range),
    "target-range": ("error", _check_target_range),
    "bce-on-softmax": ("error", _check_bce_on_softmax),
    "multilabel-softmax": ("error", _check_multilabel_softmax),
    "output-range": ("error", _check_output_range),
    "floored-output": ("warning", _check_floored_output),
    "metric-mismatch": ("error", _check_metrics),
    "anti-pattern": ("warning", _check_anti_pattern),
    "backend-dependent": ("warning", _check_backend),
    "recipe": ("info", _check_recipe),
}


def _as_finding(code, severity, result):
    if isinstance(result, Finding):
        return result
    if len(result) == 5:
        severity, *result = result
    message, explanation, fix, recipe = result
    return Finding(severity, code, message, explanation, fix,
                   recipe.name if isinstance(recipe, Recipe) else recipe)


def check_model(model, y, catalog=None, problem=None):
    """Check a compiled Keras model against the labels it trains on.

    Every rule of ``CHECKS`` runs against the model's output layer, loss and
    metrics and the labels' problem type; each finding cites the values seen,
    says why it matters and names the catalog recipe that fixes it. Where the
    model is a catalog recipe and the labels only need that recipe's encoding
    (integer classes for a one-hot recipe, strings, -1/1 for a 0/1 column),
    one 'encoding' remark says so, with the call that encodes them, and the
    rules read the labels so encoded.

    Parameters
    ----------
    model : keras.Model or str or Path
        A compiled model, or a path to a saved ``.keras`` file.
    y : array-like, or str or Path
        The labels, in any form ``infer_problem`` accepts (class labels,
        integer indices, one-hot or multi-hot rows, values), or the path of a
        file that holds them: a ``.npy`` array or a ``.csv`` file of one
        column (``read_labels``; for one column of several, pass
        ``read_labels(path, target=...)``).
    catalog : Catalog, str, Path or None
        The catalog whose recipes are the fixes (None: the bundled one).
    problem : str, optional
        The problem type, instead of inferring it from ``y``. Where the labels
        allow several problem types, the one whose recipes use the model's
        loss is checked.

    Returns
    -------
    Check
        ``.findings`` (``Finding`` objects: severity, code, message, fix),
        ``.ok`` (no errors); ``str(check)`` prints them.

    Raises
    ------
    ValueError, FileNotFoundError
        For a model or labels that cannot be read (``InferenceError``, a
        ``ValueError``, for labels, a label file of another kind included).
    """
    catalog = as_catalog(catalog)
    model = _load(model)
    if isinstance(y, (str, Path)):
        y = read_labels(y)
    facts = read_model(model, *_rank_and_width(y))
    labels = read_labels_facts(y, facts, catalog, problem)
    encoding = _encoding(facts, labels, y, catalog)
    if encoding is not None:
        labels = _encoded_facts(encoding, catalog)
        facts = read_model(model, *_rank_and_width(encoding.targets))
    ctx = _Context(facts, labels, catalog, encoding)
    for code, (severity, check) in CHECKS.items():
        result = check(ctx)
        if result is None:
            continue
        for item in (result if isinstance(result, list) else [result]):
            ctx.findings.append(_as_finding(code, severity, item))
    return Check(facts, labels, catalog.select(labels.problem), _matching_recipe(ctx),
                 ctx.findings)
