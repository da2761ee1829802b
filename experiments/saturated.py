"""C1, C3 "when the loss is large" — the same pairs started from a saturated output.

The output layer's initial weights are scaled by 10 (output_scale=10), so
sigmoid and softmax outputs start pinned near 0 or 1 and many are confidently
wrong. With MSE the gradient carries a sigmoid'(z) or p(1-p) factor that is
nearly zero there; with cross-entropy it is p - y. Does MSE stall where
cross-entropy recovers?

    recipes run saturated [--seeds N] [--epochs N] [--out DIR]
"""

from recipes import Experiment

EXPERIMENT = Experiment(
    name="saturated",
    datasets=("breast_cancer", "digits"),
    recipes=("binary_sigmoid_bce", "binary_sigmoid_mse",
             "multiclass_softmax_cce", "multiclass_softmax_mse"),
    output_scale=10.0,
    goal={"metric": "accuracy", "value": 0.9},
    claim="C1/C3: from a saturated start, MSE's gradient vanishes on confidently wrong "
          "outputs while cross-entropy's stays p - y.",
)
