"""C2, C4, C7 — multiclass classification on digits (1797 8x8 images, 10 classes)
and wine (178 wines, 3 cultivars).

Softmax + categorical cross-entropy against softmax + MSE (C2: flat MSE
surface where the loss is large), the class index regressed as a number (C4:
an invented order), one-vs-rest sigmoids, a linear output + MSE (C7) and
binary cross-entropy on a softmax.

    recipes run multiclass [--seeds N] [--epochs N] [--out DIR]
"""

from recipes import OPTIMIZER_CONDITIONS, Experiment

EXPERIMENT = Experiment(
    name="multiclass",
    datasets=("digits", "wine"),
    recipes=("multiclass_softmax_cce", "multiclass_softmax_mse", "multiclass_index_regression",
             "multiclass_ovr_sigmoid_bce", "multiclass_linear_mse", "multiclass_softmax_bce"),
    conditions=OPTIMIZER_CONDITIONS,
    claim="C2: softmax + MSE learns slower than softmax + cross-entropy. "
          "C4: a class index regressed as a number does worse than one-hot targets.",
)
