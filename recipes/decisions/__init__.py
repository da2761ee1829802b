"""Between training and results, decisions: what is decided from a trained model's outputs.

Fitted on validation outputs only, then applied to new outputs (as scikit-learn's
``CalibratedClassifierCV`` and ``TunedThresholdClassifierCV``), with parameters that
are plain floats and lists, so that they can be stored with a run:

- ``calibration``: ``calibrate`` (temperature scaling, fitted by log-loss);
- ``thresholds``: ``tune_threshold`` (a cut-off per label, for a metric or a cost);
- ``inputs``: the checks both make on a recipe, its outputs and the labels.

numpy and scipy; no TensorFlow.
"""
