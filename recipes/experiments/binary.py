"""C1, C5, C7 — binary classification on breast cancer (569 tumours, 30 features).

Sigmoid + binary cross-entropy against sigmoid + MSE (C1: cross-entropy learns
faster), a linear output + MSE (C7: "probabilities" outside 0..1), the logits
form and a two-unit softmax (C5: the same model as one sigmoid unit).

    recipes run binary [--seeds N] [--epochs N] [--out DIR]
"""

from recipes import OPTIMIZER_CONDITIONS, Experiment

EXPERIMENT = Experiment(
    name="binary",
    datasets=("breast_cancer",),
    recipes=("binary_sigmoid_bce", "binary_sigmoid_mse", "binary_linear_mse",
             "binary_logits_bce", "binary_softmax2_cce"),
    conditions=OPTIMIZER_CONDITIONS,
    claim="C1: with a sigmoid output, cross-entropy learns faster than MSE. "
          "C5: a 2-unit softmax matches one sigmoid unit. C7: a linear output + MSE leaves 0..1.",
)
