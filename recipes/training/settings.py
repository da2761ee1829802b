"""What defines a training run: the settings shared by a grid and a single run.

``Settings`` is the one description of *how* a model is trained (epochs, batch
size, optimizer, learning rate, hidden widths, initial output scale). An
``Experiment`` grid, ``compare``, the command line and a single ``Setup`` all
use it, so a new training setting is added here and nowhere else: its default
is the field's default, its check a row of ``CHECKS``, what it configures a row of
``APPLIES_TO``; it becomes part of every run's config (and so of its run id),
``Experiment``/``compare`` accept it by name, and a setting of the model, the
optimizer or the loss reaches every trainer through ``Setup``.

``Setup`` is one run: a recipe, a seed, and the settings.

``backend`` is the Keras backend a run trains on (``BACKENDS``). Keras fixes
its backend when it is first imported, so a run whose backend is not this
process's is trained in a process of its own (``recipes.results.executors``).
Left out, it is this process's backend (``current_backend``). A TensorFlow
run's config leaves the backend out, so run ids from before the field existed
still name the same runs.

>>> s = Settings(epochs=5, backend="tensorflow")
>>> s.epochs, s.optimizer
(5, 'adam')
>>> Settings.names()
('epochs', 'batch_size', 'optimizer', 'learning_rate', 'hidden', 'output_scale', 'backend', 'backbone', 'label_smoothing', 'class_weight')
>>> Settings.of({"epoch": 3})
Traceback (most recent call last):
...
ValueError: Expected one of {'epochs', 'batch_size', 'optimizer', 'learning_rate', 'hidden', 'output_scale', 'backend', 'backbone', 'label_smoothing', 'class_weight'}. Received: setting='epoch'
>>> Settings(class_weight={1: 3, 0: 1}).class_weight
((0, 1.0), (1, 3.0))
"""

from __future__ import annotations

import json
import math
import numbers
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from ..catalog.table import Recipe
from ..messages import expected
from ..models.spec import OPTIMIZER_CLASSES

# The Keras backends a run can train on; a run's config names its backend unless it
# is DEFAULT_BACKEND (so the ids of runs recorded before the field existed hold).
BACKENDS = ("tensorflow", "jax", "torch")
DEFAULT_BACKEND = "tensorflow"


def current_backend():
    """The Keras backend of this process, without importing Keras when it is not yet
    imported: Keras' own rule (``KERAS_BACKEND``, else ``backend`` in
    ``$KERAS_HOME/keras.json`` or ``~/.keras/keras.json``, else TensorFlow)."""
    if "keras" in sys.modules and hasattr(sys.modules["keras"], "backend"):
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    try:
        return json.loads((home / "keras.json").read_text()).get("backend", DEFAULT_BACKEND)
    except (OSError, ValueError, AttributeError):
        return DEFAULT_BACKEND


def _count(v):
    """A whole number (a bool is not one)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _positive(v):
    """A finite real number above zero."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def _optimizer_object(v):
    """A Keras optimizer instance (told by its methods: no Keras import here)."""
    return not isinstance(v, str) and callable(getattr(v, "get_config", None)) \
        and callable(getattr(v, "apply_gradients", None))


def _optimizer_name(v):
    """An optimizer name in the case ``OPTIMIZER_CLASSES`` spells it (``"Adam"`` ->
    ``"adam"``); anything else unchanged, for the check to name it as given."""
    if isinstance(v, str) and v.strip().lower() in OPTIMIZER_CLASSES:
        return v.strip().lower()
    return v


# setting -> (check, what is allowed): every Settings is checked on creation
CHECKS = {
    "epochs": (lambda v: _count(v) and v >= 1, "a whole number >= 1"),
    "batch_size": (lambda v: _count(v) and v >= 1, "a whole number >= 1"),
    "optimizer": (lambda v: (isinstance(v, str) and v in OPTIMIZER_CLASSES)
                  or _optimizer_object(v),
                  f"one of {{{', '.join(map(repr, OPTIMIZER_CLASSES))}}} (an optimizer name, "
                  f"in any case) or a keras.optimizers.Optimizer"),
    "learning_rate": (_positive, "a finite number > 0"),
    "hidden": (lambda v: all(_count(w) and w >= 1 for w in v),
               "a sequence of layer widths, each a whole number >= 1"),
    "output_scale": (_positive, "a finite number > 0"),
    "backbone": (lambda v: v is None or callable(v),
                 "None (the MLP of hidden), a keras.Model with one input, or a function "
                 "returning one"),
    "label_smoothing": (lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool)
                        and 0 <= v < 1, "a number in [0, 1)"),
    "class_weight": (lambda v: v is None or v == "balanced" or isinstance(v, tuple),
                     "None, 'balanced' or a dict {class index: weight > 0}"),
}


# setting -> what it configures, where its value is passed by name: "model": an argument of
# ``build_model`` (and ``initial_weights``); "optimizer": of ``make_optimizer``; "loss": of
# the recipe's Keras loss class (``make_loss``); "trainer": read by each trainer itself;
# "process": where the run trains. Every trainer gets its model, optimizer and loss from
# ``Setup.build_model``, ``Setup.optimizer`` and ``Setup.loss``, so a new setting of the
# model, the optimizer or the loss reaches every trainer with no trainer code (a stacked
# trainer refuses a "model" or "trainer" setting it does not implement, unless it has its
# default value: ``recipes.training.members.IMPLEMENTED``).
APPLIES_TO = {
    "epochs": "trainer",
    "batch_size": "trainer",
    "optimizer": "optimizer",
    "learning_rate": "optimizer",
    "hidden": "model",
    "output_scale": "model",
    "backend": "process",
    "backbone": "model",
    "label_smoothing": "loss",
    "class_weight": "trainer",
}

# settings left out of a run's config (and so of its run id) and of its label at their
# default, so runs recorded before the setting existed keep their ids
OMITTED_AT_DEFAULT = {"backend": DEFAULT_BACKEND, "label_smoothing": 0.0, "class_weight": None}


# setting -> (which recipes it applies to, what they are): a Setup of any other recipe with
# the setting away from its default is refused (the loss has no such argument, or the
# recipe's target has no classes to weight)
CROSS_ENTROPY = frozenset({"binary_crossentropy", "categorical_crossentropy",
                           "binary_focal_crossentropy"})
RECIPE_CHECKS = {
    "label_smoothing": (lambda recipe: recipe.loss in CROSS_ENTROPY,
                        f"a recipe whose loss is one of {sorted(CROSS_ENTROPY)} (label "
                        f"smoothing is an argument of those Keras losses only)"),
    "class_weight": (lambda recipe: recipe.target == "classes",
                     "a recipe of one class per row (binary or multiclass); multi-label, "
                     "ordinal and regression targets would need per-row sample weights, "
                     "which are not implemented"),
}


def class_weight_value(value):
    """``class_weight`` in the form a Settings holds: None, "balanced", or a sorted tuple of
    ``(class index, weight)`` pairs from a dict (keys: whole numbers >= 0, or their
    digits as text, as a stored config writes them; weights: finite numbers > 0).
    Anything else is returned as given, for the check to name it."""
    if isinstance(value, Mapping):
        try:
            pairs = [(int(k), float(v)) for k, v in value.items()]
        except (TypeError, ValueError):
            return value
        keys_ok = all((_count(k) or (isinstance(k, str) and k.strip().isdigit()))
                      and int(k) >= 0 for k in value)
        if pairs and keys_ok and all(_positive(v) for _, v in pairs):
            return tuple(sorted(pairs))
    if isinstance(value, str) and value.strip().lower() == "balanced":
        return "balanced"
    return value


def class_weight_text(value):
    """``class_weight`` as short text: "none", "balanced" or "0:1,1:3"."""
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(f"{k}:{w:g}" for k, w in value)
    return str(value)

# fingerprint -> the live backbone (a model or a function) of every Settings whose config
# was taken in this process: a config names a backbone by its name and fingerprint
# (``recipes.models.build.describe_backbone``); this finds the object again, e.g. when an
# Experiment is rebuilt from its conditions' configs (``with_options``, ``tuning``).
BACKBONES = {}


def check_seeds(seeds):
    """``seeds`` as a tuple: an int n >= 1 gives ``0 .. n-1``; a sequence gives its
    distinct non-negative whole numbers, in order."""
    if _count(seeds):
        if seeds < 1:
            raise ValueError(f"Expected seeds >= 1 (the number of runs per recipe), or a list "
                             f"of seed values. Received: seeds={seeds!r}")
        return tuple(range(seeds))
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"Expected seeds as a whole number >= 1 or a list of seed values. "
                         f"Received: seeds={seeds!r}")
    values = tuple(seeds)
    bad = [v for v in values if not (_count(v) and v >= 0)]
    if not values or bad:
        raise ValueError(f"Expected a non-empty list of seed values, each a whole number >= 0. "
                         f"Received: seeds={list(values)!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"Expected distinct seed values (a repeated seed is the same run). "
                         f"Received: seeds={list(values)!r}")
    return tuple(int(v) for v in values)


@dataclass(frozen=True)
class Settings:
    """How a model is trained; every field is a setting a grid can vary.

    Parameters
    ----------
    epochs : int, default=20
        Passes over the training split.
    batch_size : int, default=32
        Examples per gradient step.
    optimizer : str or keras.optimizers.Optimizer, default="adam"
        A name from ``recipes.models.spec.OPTIMIZER_CLASSES`` (in any case: ``"Adam"``
        is ``"adam"``), or an optimizer instance for a trainer called directly. A
        grid (``grid``, ``Experiment``, ``compare``) records its runs by their
        settings (``config``), so it takes names only.
    learning_rate : float, default=1e-3
        Step size of the optimizer.
    hidden : tuple of int, default=(32,)
        Widths of the hidden ReLU layers.
    output_scale : float, default=1.0
        Factor on the output layer's initial weights; 10 starts the outputs
        saturated (the "loss is large" condition of claims C1 and C3).
    backend : {"tensorflow", "jax", "torch"}, optional
        The Keras backend the run trains on; None: this process's
        (``current_backend``). Another backend trains in a process of its own.
    backbone : keras.Model or callable, optional
        What the recipe's head goes on instead of the MLP of ``hidden`` (which it then
        replaces): a Keras model with one input (Sequential or functional), whose
        weights every seed starts from (``trainable=False`` layers stay frozen), or a
        function of no arguments returning one, called once per seed after
        ``keras.utils.set_random_seed(seed)`` (a fresh model per seed). A run's config
        records it by name and fingerprint (``recipes.models.build.describe_backbone``);
        the stacked trainers do not take it, so such runs train with plain ``fit``.
    label_smoothing : float, default=0.0
        The cross-entropy loss's ``label_smoothing`` (cross-entropy recipes only:
        ``RECIPE_CHECKS``).
    class_weight : None, "balanced" or dict, default=None
        Weights of the training rows by class, as Keras' ``fit(class_weight=)``: a dict
        {class index: weight}; "balanced" is ``n / (k * count_c)`` on the training
        split (scikit-learn's ``compute_class_weight``). Recipes with one class per
        row only (``RECIPE_CHECKS``).
    """

    epochs: int = 20
    batch_size: int = 32
    optimizer: object = "adam"
    learning_rate: float = 1e-3
    hidden: tuple = (32,)
    output_scale: float = 1.0
    backend: str | None = None
    backbone: object = None
    label_smoothing: float = 0.0
    class_weight: object = None

    def __post_init__(self):
        if isinstance(self.backbone, Mapping):   # a recorded config: the live backbone again
            object.__setattr__(self, "backbone", _live_backbone(self.backbone))
        backend = current_backend() if self.backend is None else self.backend
        if backend not in BACKENDS:
            raise ValueError(expected(BACKENDS, "backend", backend))
        object.__setattr__(self, "backend", backend)
        object.__setattr__(self, "optimizer", _optimizer_name(self.optimizer))
        object.__setattr__(self, "class_weight", class_weight_value(self.class_weight))
        for name in self.names():   # numpy scalars -> Python numbers: the same config and run id
            value = getattr(self, name)
            if isinstance(value, numbers.Number) and hasattr(value, "item"):
                object.__setattr__(self, name, value.item())
        if isinstance(self.hidden, (str, bytes)) or not hasattr(self.hidden, "__iter__"):
            raise ValueError(f"Expected hidden as a sequence of layer widths, e.g. (32,) or "
                             f"(64, 32). Received: hidden={self.hidden!r}")
        for name in self.names():   # each field that has a check (CHECKS)
            ok, allowed = CHECKS.get(name, (None, None))
            if ok is not None and not ok(getattr(self, name)):
                raise ValueError(f"Expected {name} to be {allowed}. "
                                 f"Received: {name}={getattr(self, name)!r}")

    @classmethod
    def names(cls):
        """The settings' names, in field order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def of(cls, options=None, base=None):
        """Settings from a mapping of names to values (``base``'s values for the rest).

        Unknown names raise ``ValueError`` naming the allowed ones; ``None``
        values keep the base value.
        """
        options = {k: v for k, v in (options or {}).items() if v is not None}
        for name in options:
            if name not in cls.names():
                raise ValueError(expected(cls.names(), "setting", name))
        if "hidden" in options and not isinstance(options["hidden"], (str, bytes)) \
                and hasattr(options["hidden"], "__iter__"):
            options["hidden"] = tuple(options["hidden"])
        return replace(base or cls(), **options)

    @classmethod
    def grid(cls, options=None, base=None, conditions=None):
        """The conditions a grid trains: every combination of the list-valued options.

        ``options``: settings by name; a list (or tuple) of values is an axis of
        the grid (for ``hidden``, a list of width tuples: ``[(32,), (64, 32)]``;
        a flat tuple of ints is one value). ``conditions``: an explicit list of
        settings mappings instead of (or besides) a product; each is applied over
        ``base`` and then crossed with the options' axes. Returns a tuple of
        distinct ``Settings`` in order.

        >>> [(s.optimizer, s.learning_rate) for s in Settings.grid(
        ...     {"optimizer": ["sgd", "adam"], "learning_rate": [0.01, 0.1]})]
        [('sgd', 0.01), ('sgd', 0.1), ('adam', 0.01), ('adam', 0.1)]
        >>> [s.output_scale for s in Settings.grid(conditions=[{}, {"output_scale": 10}])]
        [1.0, 10]
        """
        import itertools

        options = {k: v for k, v in (options or {}).items() if v is not None}
        conditions = _conditions(conditions)
        axes = {k: list(v) for k, v in options.items() if _is_axis(k, v)}
        for name, values in axes.items():
            if not values:
                raise ValueError(f"Expected at least one value for the axis {name!r}. "
                                 f"Received: {name}={values!r}")
        fixed = {k: v for k, v in options.items() if k not in axes}
        starts = [cls.of(c, base) for c in conditions] if conditions else [cls.of({}, base)]
        found = []
        for start in starts:
            for combo in itertools.product(*axes.values()):
                s = cls.of({**fixed, **dict(zip(axes, combo))}, start)
                if s not in found:
                    s.config()   # a grid's runs are recorded by their config: refuse what is not
                    found.append(s)
        return tuple(found)

    def config(self):
        """JSON-ready description: one key per setting (``hidden`` as a list, a backbone
        as its description, ``describe_backbone``; no backbone is left out, so the ids of
        runs recorded before the setting existed still name them).

        Raises ValueError for an optimizer instance (``_recorded_optimizer``): it has
        no name to record, so a run trained with it could not be told apart or resumed.
        """
        _recorded_optimizer(self.optimizer)
        config = {name: _RECORDED.get(name, _as_is)(getattr(self, name)) for name in self.names()}
        if config["backbone"] is None:   # the MLP: the ids of runs recorded before backbones hold
            del config["backbone"]
        return config

    def label(self, tuned=()):
        """A short text naming every setting, e.g. ``'adam lr=0.001 epochs=20 batch=32
        hidden=32 scale=1'``; settings in ``tuned`` read ``tuned``; the backend is shown
        when it is not ``DEFAULT_BACKEND``."""
        def show(name):
            if name in tuned:
                return "tuned"
            v = getattr(self, name)
            if name in _SHOWN:
                return _SHOWN[name](v)
            return ",".join(map(str, v)) if name == "hidden" else f"{v:g}" if isinstance(
                v, float) else str(v)
        hide = ({"optimizer"} | {n for n, v in OMITTED_AT_DEFAULT.items() if getattr(self, n) == v}
                | ({"backbone"} if self.backbone is None else {"hidden"}))
        return " ".join([show("optimizer")] + [f"{SHORT.get(n, n)}={show(n)}"
                                               for n in self.names() if n not in hide])


# The conditions that decide claims C1-C3 (shared/background.md, section 8): Adam rescales
# each parameter's step by its gradient size and so cancels most of the vanishing factor
# the claims are about; plain SGD does not. The default suite runs its claims under each.
OPTIMIZER_CONDITIONS = ({"optimizer": "adam", "learning_rate": 1e-3},
                        {"optimizer": "sgd", "learning_rate": 0.01},
                        {"optimizer": "sgd", "learning_rate": 0.1})

# short names in ``Settings.label`` (a setting not listed here shows its own name)
SHORT = {"learning_rate": "lr", "batch_size": "batch", "output_scale": "scale",
         "label_smoothing": "smoothing"}


def _backbone_config(backbone):
    """What a run's config records of ``backbone``: None, or its description
    (``describe_backbone``: name, fingerprint, layers, parameters); the live object is
    kept in ``BACKBONES`` under its fingerprint. Raises ValueError for a backbone that is
    not a Keras model with one input (or a function returning one)."""
    if backbone is None:
        return None
    from ..models.build import describe_backbone

    described = describe_backbone(backbone)
    BACKBONES.setdefault(described["fingerprint"], backbone)
    return described


def _live_backbone(recorded):
    """The backbone object a recorded config names (by fingerprint, ``BACKBONES``);
    ValueError when this process has not seen it."""
    found = BACKBONES.get(recorded.get("fingerprint"))
    if found is None:
        raise ValueError(f"Expected backbone as a keras.Model or a function returning one; a "
                         f"recorded backbone is found only in the process that described it. "
                         f"Received: backbone={recorded!r}")
    return found


def backbone_name(backbone):
    """A backbone's readable name: a recorded config's ``name``, a model's ``name``, a
    function's ``__name__``; ``"mlp"`` for None."""
    if backbone is None:
        return "mlp"
    if isinstance(backbone, Mapping):
        return str(backbone.get("name"))
    return str(getattr(backbone, "name", None) or getattr(backbone, "__name__", None)
               or type(backbone).__name__)



def _as_is(value):
    return value


# setting -> how a run's config records its value (JSON-ready), and how its label shows it;
# settings not listed are recorded as they are
_RECORDED = {
    "hidden": list,
    "backbone": _backbone_config,
    "class_weight": lambda v: {str(k): w for k, w in v} if isinstance(v, tuple) else v,
}
_SHOWN = {"backbone": backbone_name, "class_weight": class_weight_text}

def _conditions(conditions):
    """A grid's explicit conditions as a list of mappings: None stays None (one condition
    of the base settings); one mapping is one condition; an empty list is an error."""
    if conditions is None:
        return None
    if isinstance(conditions, Mapping):
        return [conditions]
    if isinstance(conditions, (str, bytes)) or not hasattr(conditions, "__iter__"):
        raise ValueError(f"Expected conditions as a list of settings mappings, e.g. "
                         f"[{{'optimizer': 'sgd'}}, {{'optimizer': 'adam'}}]. "
                         f"Received: conditions={conditions!r}")
    conditions = list(conditions)
    if not conditions:
        raise ValueError("Expected at least one condition in conditions; leave conditions out "
                         "(None) to train the base settings alone. Received: conditions=[]")
    bad = [c for c in conditions if not isinstance(c, Mapping)]
    if bad:
        raise ValueError(f"Expected each condition as a mapping of settings by name, e.g. "
                         f"{{'optimizer': 'sgd'}}. Received: conditions={conditions!r}")
    return conditions


def _recorded_optimizer(optimizer):
    """Raise ValueError unless ``optimizer`` is a name: what a run's config records.

    An optimizer object is refused, its message naming the string form when there is
    one (``optimizer='sgd', learning_rate=0.5``) and the hyperparameters that have none.
    """
    if isinstance(optimizer, str):
        return
    hint, extra = "", ""
    if _optimizer_object(optimizer):
        name = {cls: n for n, (_, cls) in OPTIMIZER_CLASSES.items()}.get(
            type(optimizer).__name__)
        config = optimizer.get_config()
        rate = config.get("learning_rate")
        if name in OPTIMIZER_CLASSES:
            hint = f"; pass optimizer={name!r}" + (
                f", learning_rate={rate:g}" if isinstance(rate, numbers.Real) else "")
            default = type(optimizer)().get_config()
            other = {k: v for k, v in config.items()
                     if k not in ("name", "learning_rate") and default.get(k) != v}
            if other:
                extra = (f" (its {', '.join(f'{k}={v!r}' for k, v in other.items())} has no "
                         f"setting: that would train without it)")
    raise ValueError(f"Expected an optimizer name, one of "
                     f"{{{', '.join(map(repr, OPTIMIZER_CLASSES))}}}: a grid records each run "
                     f"by its settings, and an optimizer object has no name to record{hint}"
                     f"{extra}. Received: optimizer={optimizer!r}")


def _is_axis(name, value):
    """A list-valued setting is an axis; for ``hidden`` only a list of sequences is."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        return False
    if name == "hidden":
        return bool(value) and all(isinstance(v, (list, tuple)) for v in value)
    return True


def condition(config, trainer=""):
    """The condition a run belongs to, from its stored config: the label of its
    settings, with a tuned setting shown as ``tuned``, and its trainer. Runs with
    different conditions are never pooled as seeds of one comparison.

    Returns ``{"condition": label, <setting>: value, ...}``; a config without
    settings (a hand-made run) gives NaN for all of them (a missing value, as
    pandas writes it).

    >>> condition({"epochs": 5, "optimizer": "sgd", "learning_rate": 0.1}, "keras")["condition"]
    'sgd epochs=5 batch=32 lr=0.1 hidden=32 scale=1 | keras'
    """
    config = config if isinstance(config, dict) else {}
    given = {k: config[k] for k in Settings.names() if k in config}
    if not given:
        return dict.fromkeys(("condition",) + Settings.names(), float("nan"))
    given.setdefault("backend", DEFAULT_BACKEND)   # a config without one is a TensorFlow run
    backbone = given.pop("backbone", None)
    given = {k: v for k, v in given.items()
             if not isinstance(v, (dict, list)) or k in ("hidden", "class_weight")}
    try:
        settings = Settings.of(given)
    except ValueError:   # recorded before a check refused it (optimizer='adamw2'): read as is
        settings = _as_recorded(given)
    tuned = (config.get("tune") or {}).get("setting")
    label = settings.label(tuned=(tuned,) if tuned else ())
    values = {k: (",".join(map(str, v)) if k == "hidden" else v)
              for k, v in settings.config().items()}
    values["backbone"] = backbone_name(backbone)
    if backbone is not None:    # another backbone is another condition, never pooled
        short = str(backbone.get("fingerprint"))[:6] if isinstance(backbone, Mapping) else ""
        label = (label.replace(f" hidden={values['hidden']}", "")
                 + f" backbone={values['backbone']}#{short}")
    values["class_weight"] = class_weight_text(settings.class_weight)
    return {"condition": f"{label} | {trainer}" if trainer else label, **values}



def _class_weight_of_text(text):
    if text == "none":
        return None
    if text == "balanced":
        return text
    return {k: float(w) for k, w in (pair.split(":") for pair in text.split(","))}


# setting -> its config value from the text ``condition`` writes for it in the tidy results
# (a backbone's name alone cannot name its model: the MLP's "mlp" is no backbone)
_FROM_TIDY = {
    "hidden": lambda text: [int(w) for w in str(text).split(",") if w],
    "class_weight": lambda text: _class_weight_of_text(str(text)),
    "backbone": lambda text: None if text == "mlp" else text,
}


def from_tidy(name, value):
    """The value a run's config holds for setting ``name``, given the value ``condition``
    shows for it in the tidy results (the inverse of its text forms).

    >>> from_tidy("hidden", "64,32"), from_tidy("class_weight", "0:1,1:3")
    ([64, 32], {'0': 1.0, '1': 3.0})
    >>> from_tidy("backbone", "mlp") is None, from_tidy("learning_rate", 0.1)
    (True, 0.1)
    """
    return _FROM_TIDY[name](value) if name in _FROM_TIDY else value

def _as_recorded(values):
    """Settings holding stored values as they are, unchecked: reading a store never fails
    on a run that a check added later would refuse."""
    settings = object.__new__(Settings)
    set_fields(settings, **{f.name: f.default for f in fields(Settings)} | values)
    return settings


def set_fields(obj, **values):
    """Set the fields of a frozen dataclass from its own ``__init__``."""
    for name, value in values.items():
        object.__setattr__(obj, name, value)


@dataclass(frozen=True, init=False)
class Setup:
    """One training run besides the data: a recipe, a seed and the training settings.

    Settings are given as a ``Settings`` or by name:
    ``Setup(recipe, 0, epochs=5)`` equals ``Setup(recipe, 0, Settings(epochs=5))``.
    """

    recipe: Recipe
    seed: int
    settings: Settings

    def __init__(self, recipe, seed, settings=None, **options):
        settings = Settings.of(options, settings)
        for name, (applies, allowed) in RECIPE_CHECKS.items():
            value = getattr(settings, name, OMITTED_AT_DEFAULT[name])
            if value != OMITTED_AT_DEFAULT[name] and not applies(recipe):
                raise ValueError(f"Expected {name} only for {allowed}. Received: "
                                 f"{name}={value!r} for recipe={recipe.name!r} "
                                 f"(loss {recipe.loss!r}, target {recipe.target!r})")
        set_fields(self, recipe=recipe, seed=seed, settings=settings)

    def config(self):
        """JSON-ready description (the recipe by its full row, so a user's edit is a new
        run); a setting of ``OMITTED_AT_DEFAULT`` (the backend, label smoothing, class
        weights) is left out at its default, so the ids of runs recorded before it was a
        setting still name them."""
        settings = self.settings.config()
        for name, default in OMITTED_AT_DEFAULT.items():
            if getattr(self.settings, name, default) == default:
                settings.pop(name, None)
        return {"recipe": self.recipe.describe(), "seed": self.seed, **settings}

    def arguments(self, part):
        """The settings that configure ``part`` (a value of ``APPLIES_TO``: "model",
        "optimizer", "loss", ...), as keyword arguments; a setting that does not apply to
        the recipe (``RECIPE_CHECKS``: it is then at its default) is left out.

        >>> from recipes import get
        >>> Setup(get("binary_sigmoid_bce"), 0, hidden=(8,)).arguments("model")
        {'hidden': (8,), 'output_scale': 1.0, 'backbone': None}
        """
        s = self.settings
        return {name: getattr(s, name) for name in s.names() if APPLIES_TO.get(name) == part
                and (name not in RECIPE_CHECKS or RECIPE_CHECKS[name][0](self.recipe))}

    def loss(self, **options):
        """The recipe's Keras loss with this run's loss settings (``make_loss``);
        ``options``: more keyword arguments of the loss (e.g. ``reduction="none"``)."""
        from ..models.build import make_loss

        return make_loss(self.recipe, **self.arguments("loss"), **options)

    def optimizer(self):
        """The Keras optimizer of this run's optimizer settings (``make_optimizer``): a new
        one for a name, the user's own instance as it is."""
        from ..models.build import make_optimizer

        return make_optimizer(**self.arguments("optimizer"))

    def build_model(self, split, compile=True):
        """The Keras model this run starts from (``recipes.models.build.build_model`` with
        the model settings), compiled with ``optimizer()``, ``loss()`` and the recipe's
        metrics unless ``compile=False``."""
        from ..models.build import build_model, make_metrics

        model = build_model(self.recipe, split.X_train.shape[1:], split.n, seed=self.seed,
                            compile=False, **self.arguments("model"))
        if compile:
            model.compile(optimizer=self.optimizer(), loss=self.loss(),
                          metrics=make_metrics(self.recipe))
        return model
