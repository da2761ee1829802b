"""C2 on a CNN — softmax + cross-entropy against softmax + MSE on the digits as 8x8x1
images, under a small convolutional backbone instead of the default MLP.

The same conditions as ``multiclass`` (Adam 1e-3, SGD 0.01 and 0.1: the ones that decide
C2), so the claims table shows C2 on both architectures side by side. Six seeds: the
fewest with which a sign-flip p can reach 0.05 (2/2⁶ = 0.031; with 5 it stays at or
above 0.0625).

    recipes run cnn [--seeds N] [--epochs N] [--out DIR]
"""

from recipes import OPTIMIZER_CONDITIONS, Experiment


def cnn():
    """A fresh small CNN for 8x8x1 images (one per seed): two 3x3 convolutions of 8 and 16
    ReLU filters, global average pooling; the recipe's head goes on top."""
    import keras

    return keras.Sequential([keras.Input((8, 8, 1)),
                             keras.layers.Conv2D(8, 3, activation="relu"),
                             keras.layers.Conv2D(16, 3, activation="relu"),
                             keras.layers.GlobalAveragePooling2D()], name="cnn")


EXPERIMENT = Experiment(
    name="cnn",
    datasets=("digits_images",),
    recipes=("multiclass_softmax_cce", "multiclass_softmax_mse"),
    conditions=OPTIMIZER_CONDITIONS,
    backbone=cnn,
    seeds=6,
    claim="C2 on a CNN: does softmax + MSE trail softmax + cross-entropy under a "
          "convolutional backbone as it does under the MLP?",
)
