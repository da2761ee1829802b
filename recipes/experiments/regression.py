"""Regression: diabetes progression (442 patients, 10 features), and proportions
in 0..1: California schools scoring above the national median (statsmodels
star98, 303 districts).

Linear + MSE against MAE and Huber; for proportions sigmoid + binary
cross-entropy (fractional logit) against sigmoid + MSE and an unbounded linear
output.

    recipes run regression [--seeds N] [--epochs N] [--out DIR]
"""

from recipes import Experiment

EXPERIMENT = Experiment(
    name="regression",
    datasets=("diabetes", "star98"),
    epochs=30,
    description="diabetes: the targets are standardized with the train mean and std, so a "
                "validation MSE of 1.0 is no better than predicting the mean. star98: the "
                "targets are proportions in 0..1, used as they are (not standardized).",
    claim="Regression to any value: a linear output. Values in 0..1: a sigmoid output with "
          "MSE or binary cross-entropy.",
)
