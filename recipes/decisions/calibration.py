"""Calibrated probabilities: temperature scaling, fitted on validation outputs.

A model trained to a low loss can still be overconfident: its top-class probability
higher than its accuracy (Guo et al., On Calibration of Modern Neural Networks, ICML
2017). Temperature scaling divides the logits by a temperature ``T > 0`` fitted on
validation rows; ``T > 1`` softens overconfident outputs, ``T < 1`` sharpens
underconfident ones. The fit minimizes the validation log-loss (the recipe's own, as
``metrics.common_metrics`` computes and reports it, probabilities clipped at 1e-7), not
the ECE: ECE depends on its bins and jumps as rows cross their edges, a brittle
objective; log-loss is a proper scoring rule. ``T`` is searched in 0.01..100
(``scipy.optimize.minimize_scalar`` on ``log T``, bounded); where an end of that range
fits as well as the optimum (validation rows separated perfectly, or all confidently
wrong), the fit warns.

Methods (``METHODS``, name -> class):

- ``"temperature"``: one temperature for every output unit (``TemperatureScaling``);
- ``"vector"``: one temperature per output unit, per class or per label
  (``VectorScaling``). This is not Guo's vector scaling, which adds a bias per class:
  a bias, or a different temperature per class, can change which class has the
  largest logit. So ``"vector"`` is allowed only where each unit is decoded on its
  own (decodings ``PER_UNIT``: binary with one unit, multi-label, cumulative
  ordinal), where a positive temperature keeps every unit's side of 0.5; for
  recipes decoded by argmax (multiclass) it is refused.

Logits and probability outputs: a logits recipe's outputs are divided as they are. A
probability output is read as logits first and returned in its own form, so a
calibrated output is what the recipe's ``decode``, ``proba`` and the common metrics
read: ``log p / T`` through a softmax, ``log(p / (1 - p)) / T`` through a sigmoid
(``LOGIT_FORMS``). Probabilities are clipped first (``CLIP``, ``TINY``), so an output of
exactly 0 or 1 has a finite logit. The decoded labels never change: a positive
temperature keeps the order of the logits of a row (the argmax) and their signs (each
unit's side of 0.5). Two pairings where floating point or the softmax would break
that are refused (``LOGIT_FORMS``): sigmoid units decoded by argmax (one-vs-rest), and
a softmax decoded by a threshold per unit.

>>> import numpy as np
>>> from recipes.catalog.table import get
>>> r = get("multiclass_logits_cce")
>>> z = np.array([[8.0, 0.0, 0.0], [0.0, 8.0, 0.0], [0.0, 0.0, 8.0], [8.0, 0.0, 0.0]])
>>> cal = calibrate(r, z, [0, 1, 2, 1])
>>> round(cal.parameters["temperature"], 2), cal.apply(z)[0].round(2).tolist()
(4.46, [1.79, 0.0, 0.0])
>>> r.proba(cal.apply(z))[0].round(2).tolist()      # 3 of 4 right: 0.75 on the top class
[0.75, 0.12, 0.12]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import optimize

from ..catalog import codec
from ..catalog.table import get
from ..messages import expected
from ..training import metrics
from . import inputs

# sigmoid outputs are clipped to [CLIP, 1 - CLIP] before their log-odds are taken: 1 - CLIP
# is the largest float64 below 1, so an output of exactly 0 or 1 has a finite logit, the
# same distance (36.7) from 0 for both. Softmax outputs are clipped below at the smallest
# normal float64 only: log p is exact for every other positive p.
CLIP = 2.0 ** -53
TINY = np.finfo(np.float64).tiny


def _log_odds(p):
    p = np.clip(p, CLIP, 1.0 - CLIP)
    return np.log(p) - np.log1p(-p)


def _log(p):
    return np.log(np.clip(p, TINY, 1.0))


@dataclass(frozen=True)
class LogitForm:
    to_logits: Callable    # probability outputs -> logits
    from_logits: Callable  # logits -> probability outputs
    keeps: tuple           # decodings whose decoded labels a temperature never changes


# the function that turns a recipe's logits into probabilities (its activation, or the
# link of a logits recipe) -> how its outputs are read as logits, and the decodings a
# temperature keeps. A sigmoid keeps each unit's side of 0.5 (threshold, cumulative),
# but not an argmax across units: it rounds every logit above 36.7 to exactly 1.0, so
# a temperature below 1 ties units that the argmax told apart (measured: one-vs-rest
# sigmoids on digits, T = 0.05, changed the argmax of test rows). A softmax keeps the
# argmax (its largest unit stays the only one at exp(0)), but not a threshold per unit:
# a temperature moves every unit of a softmax, and can move one across 0.5.
LOGIT_FORMS = {
    "sigmoid": LogitForm(_log_odds, codec.sigmoid, ("threshold", "cumulative")),
    "softmax": LogitForm(_log, codec.softmax, ("argmax",)),
}

# decodings that read each output unit on its own: one temperature per unit keeps them
PER_UNIT = ("threshold", "cumulative")

# the search range of log T: temperatures 0.01 .. 100
LOG_T_BOUNDS = (float(np.log(1e-2)), float(np.log(1e2)))


def _form_name(recipe):
    return recipe.link if recipe.from_logits else recipe.activation


class Calibrator:
    """Temperatures fitted on validation outputs of one recipe, applied to new outputs.

    Use ``calibrate`` (or a subclass of ``METHODS``) to make one, ``from_dict`` to
    rebuild a stored one. Attributes: ``method``; ``recipe`` (a Recipe); ``units``
    (output units, once fitted); ``temperatures`` (float64 array, one per unit, once
    fitted); ``log_loss`` (``{"before": ..., "after": ...}``, the recipe's log-loss on
    the fitting rows, without and with the temperatures); ``parameters`` (the fitted
    temperatures as plain floats).
    """

    method = None
    allowed_decodings = None  # None: every decoding the logit form keeps

    def __init__(self, recipe):
        who = "calibrate"
        self.recipe = inputs.class_recipe(recipe, who)
        self.form = _logit_form(self.recipe, who)
        allowed = self.allowed_decodings
        if allowed is not None and self.recipe.decoding not in allowed:
            raise ValueError(
                f"{who}(method={self.method!r}): one temperature per unit can change the "
                f"argmax of recipe {self.recipe.name!r}, whose units compete; use "
                f"method='temperature'. " + expected(allowed, "decoding", self.recipe.decoding))
        self.units = None
        self.temperatures = None
        self.log_loss = None

    def fit(self, outputs, y, classes=None):
        """Fit the temperatures on validation rows by minimizing the recipe's log-loss.

        ``outputs``: the model's raw outputs on the validation rows, ``(rows, units)``.
        ``y``: their labels (class labels, or a 0/1 matrix for multi-label).
        ``classes``: the class labels in output order (default: see
        ``inputs.truth_of``). Returns self. Raises ValueError for outputs of the wrong
        shape or range, and for labels the outputs do not score. Warns when an end of
        the temperature's range (0.01 or 100) fits as well as the optimum: outputs that
        separate the validation rows perfectly, or are all confidently wrong.
        """
        who = "calibrate"
        out = inputs.outputs_of(self.recipe, outputs, who, fit=True)
        t, _ = inputs.truth_of(self.recipe, y, classes, out.shape[1], who)
        inputs.rows_of(t, out, who)
        n = None if self.recipe.target == "labels" else metrics.problem_size(
            self.recipe, out.shape[1], None)
        z = self._to_logits(out)

        def loss(temperatures):
            scaled = self._from_logits(z / temperatures)
            return float(metrics.common_metrics(self.recipe, t, scaled, n=n)["log_loss"])

        temperatures = np.broadcast_to(self._search(loss, out.shape[1]), (out.shape[1],))
        self.units = out.shape[1]
        self.temperatures = np.array(temperatures, dtype=np.float64)
        self.log_loss = {"before": loss(np.ones(1)), "after": loss(self.temperatures)}
        return self

    def apply(self, outputs):
        """New raw outputs, calibrated: the same shape and form (logits or
        probabilities) as given, float64. ``outputs``: ``(..., rows, units)``, any
        leading axes (runs, epochs). Raises ValueError before ``fit``, and for outputs
        with another number of units or out of the activation's range."""
        who = "Calibrator.apply"
        if self.temperatures is None:
            raise ValueError(f"{who}: this {self.method!r} calibrator is not fitted. "
                             f"Call fit(outputs, y) first, or calibrate(...).")
        given = np.shape(outputs)
        out = inputs.outputs_of(self.recipe, outputs, who)
        if out.shape[-1] != self.units:
            raise ValueError(f"{who}: fitted on outputs with {self.units} unit(s). "
                             f"Received: outputs.shape={given}")
        return self._from_logits(self._to_logits(out) / self.temperatures).reshape(given)

    __call__ = apply

    def _to_logits(self, out):
        return out if self.recipe.from_logits else self.form.to_logits(out)

    def _from_logits(self, z):
        return z if self.recipe.from_logits else self.form.from_logits(z)

    def _search(self, loss, units):
        raise NotImplementedError

    @property
    def parameters(self):
        raise NotImplementedError

    def _set(self, parameters, units):
        raise NotImplementedError

    def to_dict(self):
        """The calibrator as plain values (JSON-ready): ``method``, ``recipe`` (its name),
        ``units``, ``parameters`` and ``log_loss``. Raises ValueError before ``fit``."""
        if self.temperatures is None:
            raise ValueError(f"Calibrator.to_dict: this {self.method!r} calibrator is not "
                             f"fitted; there is nothing to store yet.")
        return {"method": self.method, "recipe": self.recipe.name, "units": self.units,
                "parameters": self.parameters, "log_loss": dict(self.log_loss)}

    @staticmethod
    def from_dict(data, catalog=None):
        """The calibrator ``to_dict`` wrote, ready to ``apply``. ``catalog``: where its
        recipe is looked up (None: the bundled one). Raises ValueError for an unknown
        method and for missing or invalid values."""
        who = "Calibrator.from_dict"
        missing = [k for k in ("method", "recipe", "units", "parameters") if k not in data]
        if missing:
            raise ValueError(f"{who}: expected the keys method, recipe, units, parameters. "
                             f"Received: a dict without {missing}")
        if data["method"] not in METHODS:
            raise ValueError(f"{who}: " + expected(METHODS, "method", data["method"]))
        units = data["units"]
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"{who}: expected units as a positive integer. "
                             f"Received: units={units!r}")
        calibrator = METHODS[data["method"]](get(data["recipe"], catalog))
        calibrator._set(data["parameters"], int(units))
        calibrator.units = int(units)
        calibrator.log_loss = dict(data.get("log_loss") or {}) or None
        return calibrator

    def __repr__(self):
        fitted = self.parameters if self.temperatures is not None else "not fitted"
        return f"{type(self).__name__}(recipe={self.recipe.name!r}, {fitted})"


class TemperatureScaling(Calibrator):
    """One temperature for every output unit: ``parameters = {"temperature": T}``."""

    method = "temperature"

    def _search(self, loss, units):
        found = optimize.minimize_scalar(lambda s: loss(np.exp([s])), bounds=LOG_T_BOUNDS,
                                         method="bounded", options={"xatol": 1e-5})
        _warn_if_undetermined(loss, found.fun, np.exp(found.x))
        return np.exp([found.x])

    @property
    def parameters(self):
        return {"temperature": float(self.temperatures[0])}

    def _set(self, parameters, units):
        t = _temperatures(parameters, "temperature", 1)
        self.temperatures = np.full(units, t[0])


class VectorScaling(Calibrator):
    """One temperature per output unit (class or label), for recipes whose units are
    decoded one by one: ``parameters = {"temperatures": [T_1, ..., T_units]}``. Starts
    from the shared temperature and keeps it where per-unit ones do not fit better."""

    method = "vector"
    allowed_decodings = PER_UNIT

    def _search(self, loss, units):
        start = TemperatureScaling._search(self, loss, units)
        if units == 1:
            return start
        found = optimize.minimize(lambda s: loss(np.exp(s)), np.full(units, np.log(start[0])),
                                  method="L-BFGS-B", bounds=[LOG_T_BOUNDS] * units)
        better = found.fun < loss(np.full(units, start[0]))
        return np.exp(found.x) if better else np.full(units, start[0])

    @property
    def parameters(self):
        return {"temperatures": [float(t) for t in self.temperatures]}

    def _set(self, parameters, units):
        self.temperatures = _temperatures(parameters, "temperatures", units)


# method name -> its class
METHODS = {"temperature": TemperatureScaling, "vector": VectorScaling}


def _temperatures(parameters, key, count):
    """Stored temperatures, checked: ``count`` finite positive numbers under ``key``."""
    value = parameters.get(key) if isinstance(parameters, dict) else None
    t = np.atleast_1d(np.asarray(value, dtype=object))
    ok = (value is not None and t.ndim == 1 and t.size == count
          and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                  and np.isfinite(float(v)) and float(v) > 0 for v in t))
    if not ok:
        what = "a positive number" if count == 1 else f"a list of {count} positive numbers"
        raise ValueError(f"Calibrator.from_dict: expected parameters {{{key!r}: {what}}}. "
                         f"Received: parameters={parameters!r}")
    return t.astype(np.float64)


def _logit_form(recipe, who):
    """How the recipe's outputs are read as logits; a ValueError where none fits, or
    where a temperature could change the decoded labels."""
    name = _form_name(recipe)
    if name not in LOGIT_FORMS:
        raise ValueError(f"{who}: recipe {recipe.name!r} outputs neither logits nor "
                         f"probabilities, so it has no temperature. "
                         + expected(LOGIT_FORMS, "activation", name))
    form = LOGIT_FORMS[name]
    if recipe.decoding not in form.keeps:
        raise ValueError(f"{who}: a temperature on a {name} output can change the labels "
                         f"recipe {recipe.name!r} decodes by {recipe.decoding!r} (see "
                         f"LOGIT_FORMS), so it is not calibrated. "
                         + expected(form.keeps, "decoding", recipe.decoding))
    return form


def _warn_if_undetermined(loss, best, temperature):
    """Warn when an end of the search range fits as well as the temperature found: the
    log-loss keeps falling towards that end (or is flat there, past the clip of its
    probabilities), so the temperature is set by the range, not by the data."""
    for edge in np.exp(LOG_T_BOUNDS):
        if loss(np.array([edge])) <= best + 1e-12:
            why = ("separate the classes perfectly (the log-loss keeps falling as T -> 0)"
                   if edge < 1 else "are confidently wrong, or carry no information "
                   "(the log-loss keeps falling as T grows)")
            warnings.warn(f"calibrate: the temperature {temperature:.3g} fits no better than "
                          f"{edge:g}, the end of its range 0.01..100: the validation outputs "
                          f"{why}. Check them, or calibrate on more rows.", stacklevel=5)
            return


def calibrate(recipe, outputs, y, method="temperature", *, classes=None):
    """Fit a calibration of a class recipe's outputs on validation rows.

    Parameters
    ----------
    recipe : Recipe or str
        A class recipe (binary, multiclass, multi-label, ordinal) whose outputs are
        logits or probabilities; a name is looked up in the bundled catalog.
    outputs : array-like of shape (rows, units)
        The model's raw outputs on validation rows (what ``recipe.decode`` takes).
    y : array-like
        The labels of those rows: class labels, or a 0/1 matrix for multi-label.
    method : {"temperature", "vector"}, default="temperature"
        One temperature for all units, or one per unit (``METHODS``; "vector" only
        for recipes that decode each unit on its own: binary, multi-label, ordinal
        cumulative).
    classes : list, optional
        The class labels in output order; default: the sorted distinct labels of ``y``.

    Returns
    -------
    Calibrator
        Fitted: ``apply(outputs)`` (or calling it) calibrates new outputs, in the form
        they came in; ``parameters`` holds the temperature(s) as floats; ``log_loss``
        the validation log-loss before and after; ``to_dict()`` the whole as plain
        values.

    Raises
    ------
    ValueError
        An unknown method; a recipe that is not a class recipe, has no logits, or
        whose decoded labels the method could change; outputs of the wrong shape or
        range; labels the outputs do not score.

    Examples
    --------
    >>> import numpy as np
    >>> from recipes.catalog.table import get
    >>> cal = calibrate(get("binary_sigmoid_bce"), [0.99, 0.01, 0.99, 0.01, 0.99],
    ...                 [1, 0, 1, 0, 0])
    >>> round(cal.parameters["temperature"], 2), cal.log_loss["after"] < cal.log_loss["before"]
    (3.31, True)
    >>> cal.apply([0.99, 0.01]).round(3).tolist()         # 4 of 5 right: 0.8
    [0.8, 0.2]
    """
    if method not in METHODS:
        raise ValueError("calibrate: " + expected(METHODS, "method", method))
    return METHODS[method](recipe).fit(outputs, y, classes)
