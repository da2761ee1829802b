"""How a recipe maps onto Keras objects, written as data (no TensorFlow).

``recipes.models`` instantiates these specs and ``keras_code`` prints them, so
the code ``recipes show`` prints is exactly what ``build_model`` builds.
A spec is ``(namespace, class name, keyword arguments)``; ``namespace`` is
``"keras.losses"``, ``"keras.metrics"`` or ``"recipes.models.build"`` (for the few
pieces the project registers itself).
"""

from __future__ import annotations

from ..catalog.table import Recipe

# catalog loss -> (namespace, class) ; from_logits is passed when the class takes it
LOSS_CLASSES = {
    "binary_crossentropy": ("keras.losses", "BinaryCrossentropy"),
    "binary_focal_crossentropy": ("keras.losses", "BinaryFocalCrossentropy"),
    "categorical_crossentropy": ("keras.losses", "CategoricalCrossentropy"),
    "categorical_focal_crossentropy": ("keras.losses", "CategoricalFocalCrossentropy"),
    "sparse_categorical_crossentropy": ("keras.losses", "SparseCategoricalCrossentropy"),
    "poisson": ("keras.losses", "Poisson"),
    "mse": ("keras.losses", "MeanSquaredError"),
    "mae": ("keras.losses", "MeanAbsoluteError"),
    "huber": ("keras.losses", "Huber"),
    "log_cosh": ("keras.losses", "LogCosh"),
}

# Losses whose logits form Keras lacks: the project registers its own class.
LOGITS_CLASSES = {
    "poisson": ("recipes.models.build", "LogPoisson"),
}

# catalog metric -> (class, kwargs when the output is probabilities, kwargs when logits)
METRIC_CLASSES = {
    "binary_accuracy": ("BinaryAccuracy", {}, {"threshold": 0.0}),
    "categorical_accuracy": ("CategoricalAccuracy", {}, {}),
    "sparse_categorical_accuracy": ("SparseCategoricalAccuracy", {}, {}),
    "auc": ("AUC", {}, {"from_logits": True}),
    "precision": ("Precision", {}, {"thresholds": 0.0}),
    "recall": ("Recall", {}, {"thresholds": 0.0}),
    "mae": ("MeanAbsoluteError", {}, {}),
    "mse": ("MeanSquaredError", {}, {}),
    "rmse": ("RootMeanSquaredError", {}, {}),
}

# optimizer name -> its Keras class: the optimizers a training setting may name
# (``recipes.training.settings.Settings`` checks names against it without Keras)
OPTIMIZER_CLASSES = {
    "adam": ("keras.optimizers", "Adam"),
    "sgd": ("keras.optimizers", "SGD"),
}

_TAKES_LOGITS = {"BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy",
                 "CategoricalFocalCrossentropy", "SparseCategoricalCrossentropy"}


def loss_spec(recipe: Recipe):
    if recipe.from_logits and recipe.loss in LOGITS_CLASSES:
        namespace, cls = LOGITS_CLASSES[recipe.loss]
        return namespace, cls, {}
    namespace, cls = LOSS_CLASSES[recipe.loss]
    kwargs = {"from_logits": recipe.from_logits} if cls in _TAKES_LOGITS else {}
    return namespace, cls, kwargs


def metric_specs(recipe: Recipe):
    specs = []
    for name in recipe.metrics:
        cls, plain, logits = METRIC_CLASSES[name]
        specs.append(("keras.metrics", cls, dict(logits if recipe.from_logits else plain)))
    return specs


def call_code(namespace, cls, kwargs):
    """A Keras constructor call as code: ``keras.losses.Poisson()``."""
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{namespace}.{cls}({args})"


_DECODE_CODE = {
    "threshold": "(scores >= 0.5).astype(int)  # multi-label: one threshold per label",
    "argmax": "scores.argmax(axis=-1)",
    "round": "np.clip(np.rint(scores[:, 0]), 0, n_classes - 1).astype(int)",
    "cumulative": "(scores >= 0.5).sum(axis=-1)  # the level: thresholds passed",
    "identity": "scores",
}

# link -> the scores (outputs after the link) from what the model predicts
_LINK_CODE = {
    "linear": "model.predict(x_new, verbose=0)",
    "sigmoid": "keras.activations.sigmoid(model.predict(x_new, verbose=0)).numpy()",
    "softmax": "keras.activations.softmax(model.predict(x_new, verbose=0)).numpy()",
    "exponential": "np.exp(model.predict(x_new, verbose=0))",
}

# encoding -> what the training targets look like, in one comment line
TARGET_WORDS = {
    "binary": "a 0/1 column",
    "onehot": "one-hot rows (keras.utils.to_categorical(y))",
    "index": "integer class indices",
    "number": "the class index as a number",
    "cumulative": "cumulative 0/1 rows, 1 where level > k",
    "multihot": "multi-hot 0/1 rows, one column per label",
    "value": "the values themselves",
}


def keras_code(recipe: Recipe, input_shape=(20,), n=None, hidden=(32,)):
    """Plain Keras code that builds and compiles this recipe's model, then predicts
    and decodes on stand-in inputs; it runs as printed.

    ``n`` is the problem size (classes, labels or targets); a sample size is
    used when omitted.
    """
    n = n if n is not None else {"1": 2, "n": 3, "n-1": 5}[recipe.units]
    units = recipe.n_units(n)
    shape = tuple(input_shape)
    lines = [
        "import keras",
        "import numpy as np",
        "",
        f"inputs = keras.Input(shape={shape!r})",
        "x = inputs",
    ]
    lines += [f'x = keras.layers.Dense({h}, activation="relu")(x)' for h in hidden]
    lines += [
        f'outputs = keras.layers.Dense({units}, activation="{recipe.activation}")(x)',
        "model = keras.Model(inputs, outputs)",
        "model.compile(",
        '    optimizer="adam",',
        f"    loss={call_code(*loss_spec(recipe))},",
        f"    metrics=[{', '.join(call_code(*m) for m in metric_specs(recipe))}],",
        ")",
        "",
        f"# Train with targets as {TARGET_WORDS[recipe.encoding]}:",
        "# model.fit(x_train, y_train, epochs=20, validation_split=0.2)",
        "",
        "# Predict, then decode (x_new: 4 random rows standing in for new inputs).",
        f"x_new = np.random.default_rng(0).normal(size=(4, {', '.join(map(str, shape))}))",
        f"scores = {_LINK_CODE[recipe.link]}",
    ]
    if recipe.decoding == "round":
        lines.append(f"n_classes = {n}")
    lines.append(f"pred = {_DECODE_CODE[recipe.decoding]}")
    if recipe.loss in LOGITS_CLASSES and recipe.from_logits:
        lines.insert(0, "import recipes.models.build  # registers " + loss_spec(recipe)[1])
    return "\n".join(lines)
