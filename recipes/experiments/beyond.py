"""Problem types beyond the source table: counts and ordinal levels.

Counts: doctor visits in the RAND Health Insurance Experiment (statsmodels
randhie, 4000 of 20190 people): exponential output + Poisson loss against its
logits form, softplus + Poisson and linear + MSE.
Ordinal: self-rated marriage happiness 1..5 (statsmodels fair, 6366 women):
cumulative sigmoids against softmax and the level regressed as a number.

    recipes run beyond [--seeds N] [--epochs N] [--out DIR]
"""

from recipes import Experiment

EXPERIMENT = Experiment(
    name="beyond",
    datasets=("randhie", "fair"),
    claim="Counts: the canonical log link (exponential + Poisson) never predicts a negative "
          "count. Ordinal: cumulative sigmoids use the order of the levels.",
)
