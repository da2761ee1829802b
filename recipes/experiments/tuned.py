"""C1, C2 once each recipe is tuned — the fair protocol for comparing training choices.

Each recipe gets its own learning rate, chosen from a log grid by its mean
validation score over tuning seeds, trained again on fresh seeds and scored on a
test split that no tuning run saw (DeepOBS; Hui & Belkin, ICLR 2021, found square
loss competitive with cross-entropy once tuned). Plain SGD, where the untuned
comparison is most lopsided.

    recipes run tuned [--seeds N] [--epochs N] [--out DIR]
"""

from recipes import Experiment

EXPERIMENT = Experiment(
    name="tuned",
    datasets=("breast_cancer", "digits"),
    recipes=("binary_sigmoid_bce", "binary_sigmoid_mse",
             "multiclass_softmax_cce", "multiclass_softmax_mse"),
    optimizer="sgd",
    tune="learning_rate",
    tune_grid=(1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0),
    claim="Tuned: with its own tuned learning rate, does MSE still trail cross-entropy on a "
          "sigmoid or softmax output under SGD?",
)
