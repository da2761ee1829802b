"""A run's decoded forms (#22 item 3): raw, calibrated, thresholded, or both, scored on
a test split that neither the calibration nor the threshold saw.

``decoded_metrics`` fits the ``Calibrator`` (``recipes.decisions.calibrate``) and the
``TunedThreshold`` (``recipes.decisions.tune_threshold``) on a run's final validation
outputs and labels only, applies them to its final test outputs, and scores each form
with the common metrics (``training.metrics.common_metrics``, ``threshold=``). The rows
carry the form in a ``decoding`` column (``DECODINGS``), so one recipe's raw and decoded
forms compare, and recipes compare with each other after decoding. ECE is the common
metric's: 15 equal-width bins on the top-class confidence (Guo et al., 2017).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..decisions.calibration import METHODS, calibrate as fit_calibration
from ..decisions.thresholds import METRICS, _objective, threshold_curve, tune_threshold
from ..messages import expected
from ..training import metrics

DECODINGS = ("raw", "calibrated", "thresholded", "calibrated+thresholded")


def calibration_method(calibrate):
    """The calibration method ``calibrate`` asks for: None (False), "temperature" (True)
    or a name of ``METHODS``; ValueError for anything else."""
    if calibrate is False or calibrate is None:
        return None
    if calibrate is True:
        return "temperature"
    if isinstance(calibrate, str) and calibrate in METHODS:
        return calibrate
    raise ValueError(expected((False, True) + tuple(METHODS), "calibrate", calibrate))


def threshold_metric(threshold):
    """What ``threshold`` asks a run's threshold to be tuned for: None, a name of
    ``decisions.thresholds.METRICS`` or a cost dict (checked as ``tune_threshold`` checks
    it); a callable is refused, since a run's settings are recorded as JSON. ValueError
    for anything else.

    >>> threshold_metric("f1"), threshold_metric(None)
    ('f1', None)
    """
    if threshold is None:
        return None
    if isinstance(threshold, str) and threshold in METRICS:
        return threshold
    if not isinstance(threshold, dict):
        raise ValueError(expected(tuple(METRICS), "threshold", threshold)
                         + "; or a cost {'cost_fp': a, 'cost_fn': b} (a callable is not "
                           "taken here: a run's settings are recorded as JSON)")
    try:
        _objective(threshold)
    except ValueError as err:
        said = str(err).replace("tune_threshold: expected a cost as",
                                "Expected threshold as a cost", 1)
        raise ValueError(said.replace("Received: metric=", "Received: threshold=")) from None
    return dict(threshold)


def applies(recipe, calibrate, threshold):
    """``(calibration method or None, threshold metric or None)``: those of ``calibrate``
    (a method name or None) and ``threshold`` that apply to ``recipe``: a calibration to a
    class recipe whose labels it keeps (``METHODS[calibrate](recipe)`` accepts it), a
    threshold to a recipe decoded by one.

    >>> from recipes.catalog.table import get
    >>> applies(get("binary_sigmoid_bce"), "temperature", "f1")
    ('temperature', 'f1')
    >>> applies(get("multiclass_softmax_cce"), "temperature", "f1")
    ('temperature', None)
    """
    if calibrate is not None:
        try:
            METHODS[calibrate](recipe)
        except ValueError:
            calibrate = None
    if threshold is not None and recipe.decoding != "threshold":
        threshold = None
    return calibrate, threshold


def decoded_metrics(recipe, split, val_outputs, test_outputs, calibrate=False, threshold=None,
                    *, reliability=False):
    """The common metrics of a run's test outputs in each decoded form.

    ``val_outputs``/``test_outputs``: the run's raw outputs on ``split``'s validation and
    test rows (N, units), the final epoch. ``calibrate``: False, True (temperature
    scaling) or a method name; ``threshold``: None or what ``tune_threshold`` takes as
    ``metric`` ("f1", "balanced_accuracy", a cost dict). Both are fitted on the
    validation outputs and labels only: the test labels are read only to score.

    Returns ``(rows, fitted)``: rows with columns split ("test"), metric, value,
    decoding (``DECODINGS``: "raw" always, the others as asked); fitted: {"calibration":
    the Calibrator's ``to_dict()`` or None, "threshold": {decoding: the TunedThreshold's
    ``to_dict()``} ("thresholded": tuned on the raw outputs; "calibrated+thresholded": on
    the calibrated ones) or None}; with a threshold also "threshold_curve": {decoding:
    the metric at fixed cut-offs on the validation rows (``threshold_curve``): the
    numbers of the report's threshold curve, #22 item 6}. ``reliability=True`` with a
    calibration adds "reliability": {"raw"/"calibrated": the reliability bins of the test
    outputs (``metrics.reliability``, the ECE's bins)}: test scores for the report's
    reliability diagram, not fitted parameters.
    Raises ValueError for a split without test rows, an unknown ``calibrate``, or what
    ``calibrate``/``tune_threshold`` refuse (a recipe they do not apply to).
    """
    method = calibration_method(calibrate)
    if split.y_test is None:
        raise ValueError("Expected a split with test rows to score decoded forms on (the "
                         "calibration and the threshold are fitted on the validation rows). "
                         "Received: a split whose y_test is None")
    val, test = np.asarray(val_outputs), np.asarray(test_outputs)
    forms = {"raw": (val, test, None)}
    fitted = {"calibration": None, "threshold": None}
    if method is not None:
        calibrator = fit_calibration(recipe, val, split.y_val, method, classes=split.classes)
        fitted["calibration"] = calibrator.to_dict()
        forms["calibrated"] = (calibrator.apply(val), calibrator.apply(test), None)
    if threshold is not None:
        for name, (v, t, _) in list(forms.items()):
            tuned = tune_threshold(recipe, v, split.y_val, threshold, classes=split.classes)
            key = "thresholded" if name == "raw" else "calibrated+thresholded"
            fitted["threshold"] = {**(fitted["threshold"] or {}), key: tuned.to_dict()}
            fitted.setdefault("threshold_curve", {})[key] = threshold_curve(
                recipe, v, split.y_val, threshold, classes=split.classes)
            forms[key] = (v, t, tuned.threshold)
    truth = metrics.truth(recipe, split.y_test, split.classes)
    if reliability and method is not None:
        fitted["reliability"] = {name: metrics.reliability(recipe, truth, forms[name][1],
                                                           n=split.n)
                                 for name in ("raw", "calibrated")}
    rows = []
    for name in DECODINGS:
        if name in forms:
            _, t, cut = forms[name]
            with np.errstate(all="ignore"):
                scored = metrics.common_metrics(recipe, truth, t, n=split.n, threshold=cut)
            rows += [("test", m, float(v), name) for m, v in scored.items()]
    return pd.DataFrame(rows, columns=["split", "metric", "value", "decoding"]), fitted
