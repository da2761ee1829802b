"""Regression: diabetes progression (442 patients, 10 features), and proportions
in 0..1: California schools scoring above the national median (statsmodels
star98, 303 districts).

Linear + MSE against MAE and Huber; for proportions sigmoid + binary
cross-entropy (fractional logit) against sigmoid + MSE and an unbounded linear
output.

    python experiments/regression.py --seeds 5 --epochs 30 --out results
    recipes run regression
"""

from recipes.cli import script
from recipes.results.runner import Experiment

EXPERIMENT = Experiment(
    name="regression",
    datasets=("diabetes", "star98"),
    epochs=30,
    description="Diabetes targets are standardized with the train mean and std, so a "
                "validation MSE of 1.0 is no better than predicting the mean.",
    claim="Regression to any value: a linear output. Values in 0..1: a sigmoid output with "
          "MSE or binary cross-entropy.",
)

if __name__ == "__main__":
    script(EXPERIMENT)
