"""check_model held against Keras 3 itself, and against the classic mistakes of public Q&A.

``KERAS_WARNINGS``: every output-layer/loss mismatch for which the installed Keras 3 warns,
found by reading its source (``keras/src/losses/losses.py``, ``keras/src/ops/nn.py``,
``keras/src/backend/*/nn.py``; the other warnings there are about arguments, not about the
output and the loss). Each row is the smallest compiled model that makes Keras warn, its
labels, the warning (a regex) and the finding ``check_model`` must give. The test trains the
model one step and asserts that Keras warns, so a row whose warning Keras dropped fails
instead of testing nothing; then it asserts the finding, an error or a warning with a fix.

``QA_MISTAKES``: mistakes asked about again and again in public questions, each with its
source; some of them Keras trains without a word.

``benchmarks/check_vs_keras.py`` measures the agreement over every activation x loss pair.
"""

import os
import re
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from recipes.catalog.table import load_catalog  # noqa: E402
from recipes.diagnostics.check import CHECKS, check_model  # noqa: E402
from recipes.training.settings import current_backend  # noqa: E402

CATALOG = load_catalog()
N = 24
X = np.random.default_rng(0).normal(size=(N, 4)).astype("float32")
Y_BIN = (np.arange(N) % 2).astype("float32")
Y_IDX = np.arange(N) % 3
Y_ONEHOT = np.eye(3, dtype="float32")[Y_IDX]
Y_MULTI = np.stack([np.arange(N) % 2, (np.arange(N) // 2) % 2, np.arange(N) % 3 == 0],
                   axis=1).astype("float32")
TF_ONLY = "TensorFlow backend only (keras/src/backend/tensorflow/nn.py _get_logits)"


def model(units, activation, loss, head=None):
    """Dense(8, relu) -> Dense(units, activation) [-> head layer], compiled with ``loss``."""
    inputs = keras.Input((4,))
    x = keras.layers.Dense(8, activation="relu")(inputs)
    x = keras.layers.Dense(units, activation=activation)(x)
    m = keras.Model(inputs, head(x) if head is not None else x)
    m.compile(optimizer="adam", loss=loss)
    return m


def cce(**kw):
    return keras.losses.CategoricalCrossentropy(**kw)


class SigmoidHead(keras.layers.Layer):
    """A custom output layer that applies a sigmoid in its code."""

    def call(self, x):
        return keras.ops.sigmoid(x)


# (where Keras warns, make model, labels, warning regex, finding code, backends or None)
KERAS_WARNINGS = [
    ("ops/nn.py softmax: softmax over an axis of size 1",
     lambda: model(1, "softmax", "binary_crossentropy"), Y_BIN,
     r"softmax over axis -1 of a tensor of shape \(\w+, 1\)", "softmax-one-unit", None),
    ("losses/losses.py categorical_crossentropy: y_pred.shape[-1] == 1 (sigmoid)",
     lambda: model(1, "sigmoid", "categorical_crossentropy"), Y_BIN,
     r"In loss categorical_crossentropy, expected y_pred.shape to be \(batch_size, num_classes\)",
     "categorical-one-unit", None),
    ("losses/losses.py categorical_crossentropy: y_pred.shape[-1] == 1 (logits)",
     lambda: model(1, "linear", cce(from_logits=True)), Y_BIN,
     r"In loss categorical_crossentropy, expected", "categorical-one-unit", None),
    ("losses/losses.py categorical_focal_crossentropy: y_pred.shape[-1] == 1",
     lambda: model(1, "sigmoid", "categorical_focal_crossentropy"), Y_BIN,
     r"In loss categorical_focal_crossentropy, expected", "categorical-one-unit", None),
    ("losses/losses.py categorical_focal_crossentropy(from_logits=True) -> ops.softmax "
     "over one unit",
     lambda: model(1, "linear", keras.losses.CategoricalFocalCrossentropy(from_logits=True)),
     Y_BIN, r"softmax over axis -1 of a tensor of shape \(\w+, 1\)", "categorical-one-unit",
     None),
    ("backend/tensorflow/nn.py binary_crossentropy: from_logits=True on a Sigmoid output",
     lambda: model(1, "sigmoid", keras.losses.BinaryCrossentropy(from_logits=True)), Y_BIN,
     r"`binary_crossentropy` received `from_logits=True`, but the `output` argument was "
     r"produced by a Sigmoid activation", "logits-twice", ("tensorflow",)),
    ("backend/tensorflow/nn.py categorical_crossentropy: from_logits=True on a Softmax output",
     lambda: model(3, "softmax", cce(from_logits=True)), Y_ONEHOT,
     r"`categorical_crossentropy` received `from_logits=True`", "logits-twice",
     ("tensorflow",)),
    ("backend/tensorflow/nn.py sparse_categorical_crossentropy: from_logits=True on a Softmax "
     "output",
     lambda: model(3, "softmax", keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
     Y_IDX, r"`sparse_categorical_crossentropy` received `from_logits=True`", "logits-twice",
     ("tensorflow",)),
    ("backend/tensorflow/nn.py categorical_crossentropy: from_logits=True after a Softmax layer",
     lambda: model(3, "linear", cce(from_logits=True), head=keras.layers.Softmax()), Y_ONEHOT,
     r"`categorical_crossentropy` received `from_logits=True`", "logits-twice",
     ("tensorflow",)),
    ("backend/tensorflow/nn.py binary_crossentropy: from_logits=True on a softmax output",
     lambda: model(3, "softmax", keras.losses.BinaryCrossentropy(from_logits=True)), Y_ONEHOT,
     r"`binary_crossentropy` received `from_logits=True`", "logits-twice", ("tensorflow",)),
]


def keras_warnings(make, y):
    """The model and the warnings Keras gives while building and training it one step."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = make()
        m.fit(X, y, epochs=1, batch_size=N, verbose=0)
    return m, [str(w.message) for w in caught]


def assert_flagged(result, code):
    found = [f for f in result.findings if f.code == code]
    assert found, f"{code} not found in:\n{result}"
    f = found[0]
    assert f.severity in ("error", "warning") and f.severity == CHECKS[code][0], str(result)
    assert f.explanation and f.fix and f.recipe in CATALOG.names and f.recipe in f.fix


@pytest.mark.parametrize("make, y, warning, code, backends",
                         [row[1:] for row in KERAS_WARNINGS], ids=[r[0] for r in KERAS_WARNINGS])
def test_every_keras_warning_is_a_finding(make, y, warning, code, backends):
    if backends is not None and current_backend() not in backends:
        pytest.skip(TF_ONLY)
    m, said = keras_warnings(make, y)
    assert any(re.search(warning, w) for w in said), said
    assert_flagged(check_model(m, y), code)


@pytest.mark.parametrize("activation, loss", [("sigmoid", "categorical_crossentropy"),
                                              ("linear", cce(from_logits=True))])
def test_categorical_loss_over_one_unit_is_zero_whatever_the_model_predicts(activation, loss):
    """Why 'categorical-one-unit' is an error: the loss Keras trains on is 0 for every example."""
    m = model(1, activation, loss)
    direct = keras.losses.get(m.loss) if isinstance(m.loss, str) else m.loss
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # Keras' own warning: the test above
        history = m.fit(X, Y_BIN, epochs=3, batch_size=8, verbose=0)
        per_example = direct(Y_BIN[:, None], m.predict(X, verbose=0))
    assert max(history.history["loss"]) < 1e-6
    assert float(keras.ops.max(per_example)) < 1e-6


# The classic mistakes of public Q&A: (question or issue it comes from, make model, labels,
# finding code). Pages found with a search of public questions and GitHub issues; where the
# question is read on a mirror site, the mirror's address is given with the original title.
QA_MISTAKES = [
    ("Data Science SE, 'The sum of multi-class prediction is not 1 using tensorflow and keras?' "
     "(geeksmental.com/question/the-sum-of-multi-class-prediction-is-not-1-using-tensorflow-"
     "and-keras): Dense(4, sigmoid) with categorical_crossentropy on one-hot classes",
     lambda: model(3, "sigmoid", "categorical_crossentropy"), Y_ONEHOT, "not-a-distribution"),
    ("Stack Overflow 49990816, 'Sigmoid activation for multi-class classification?' "
     "(kiwix mirror of stackoverflow.com/questions/49990816): sigmoids are not guaranteed to "
     "sum to 1, softmax is", lambda: model(3, "sigmoid", "sparse_categorical_crossentropy"),
     Y_IDX, "not-a-distribution"),
    ("ru.stackoverflow, 'Why does the Sigmoid activation function work, but ReLU does not?' "
     "(panteravb.com/q/why-does-the-sigmoid-activation-function-work-but-relu-does-not): "
     "Dense(1, relu) with binary_crossentropy on 0/1 labels, stuck at 50%",
     lambda: model(1, "relu", "binary_crossentropy"), Y_BIN, "missing-from-logits"),
    ("same question, the relu output with a squared error on 0/1 labels",
     lambda: model(1, "relu", "mse"), Y_BIN, "floored-output"),
    ("tensorflow/tensorflow#25514 (fchollet: wrap the op as "
     "tf.keras.layers.Lambda(nn.log_softmax_v2)) and gmalivenko/onnx2keras#107 ('Convert "
     "softmax lambda to keras layer'): a softmax applied in a Lambda layer",
     lambda: model(3, "linear", "categorical_crossentropy",
                   head=keras.layers.Lambda(keras.ops.softmax)), Y_ONEHOT, "hidden-activation"),
    ("same, the activation applied in the call() of a custom layer",
     lambda: model(3, "linear", "binary_crossentropy", head=SigmoidHead()), Y_MULTI,
     "hidden-activation"),
    ("Cross Validated 565956, 'Confused with binary cross-entropy vs categorical "
     "cross-entropy': one output neuron with categorical_crossentropy predicts only class 0; "
     "keras-team/keras#17029 and #17102 (the loss of a single class is always 0)",
     lambda: model(1, "sigmoid", "categorical_crossentropy"), Y_BIN, "categorical-one-unit"),
    ("Stack Overflow 42081257, 'Why binary_crossentropy and categorical_crossentropy give "
     "different performances for the same problem?' (newbetuts.com mirror): binary "
     "cross-entropy on a softmax over 10 classes, accuracy far too high",
     lambda: model(3, "softmax", "binary_crossentropy"), Y_ONEHOT, "bce-on-softmax"),
    ("Stack Overflow 44164749, 'How does Keras handle multilabel classification?' (newbetuts.com "
     "mirror): a softmax with categorical_crossentropy on multi-hot rows",
     lambda: model(3, "softmax", "categorical_crossentropy"), Y_MULTI, "multilabel-softmax"),
    ("'Why does a binary Keras CNN always predict 1?' (geek-questions.imtqy.com/articles/1270335"
     "): Dense(1) + Activation('softmax') with binary_crossentropy",
     lambda: model(1, "linear", "binary_crossentropy", head=keras.layers.Activation("softmax")),
     Y_BIN, "softmax-one-unit"),
    ("tensorflow/tensorflow#50190 and keras-team/keras-io#494: "
     "SparseCategoricalCrossentropy(from_logits=True) on a softmax output",
     lambda: model(3, "softmax", keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
     Y_IDX, "logits-twice"),
]


@pytest.mark.parametrize("make, y, code", [row[1:] for row in QA_MISTAKES],
                         ids=[row[0][:60] for row in QA_MISTAKES])
def test_classic_mistake_is_flagged(make, y, code):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = make()
    assert_flagged(check_model(m, y), code)


def test_a_hidden_activation_says_how_to_make_it_readable():
    m = model(3, "linear", "categorical_crossentropy", head=keras.layers.Lambda(keras.ops.softmax))
    result = check_model(m, Y_ONEHOT)
    (f,) = [f for f in result.findings if f.code == "hidden-activation"]
    assert "cannot be confirmed" in f.message and "Lambda" in f.message
    assert "keras.layers.Activation('softmax')" in f.fix and "self.activation" in f.fix
    assert result.warnings and "No problems found" not in str(result)
