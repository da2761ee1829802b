"""``check_model`` held against Keras 3's own warnings, over every output activation x loss pair.

    python benchmarks/check_vs_keras.py [--rows]

Builds one small model per output activation (``ACTIVATIONS``), number of output units
(1 or 3) and loss (``LOSSES``, with ``from_logits`` both ways where the loss takes it),
with labels of the form that loss takes (0/1 for one unit, one-hot rows or, for the sparse
loss, class indices for three), trains it one step, and records the warnings Keras gives
about the output and the loss (``KERAS_WARNINGS``: its softmax over one unit, its
categorical cross-entropies over one unit, and, on the TensorFlow backend,
``from_logits=True`` on a softmax or sigmoid output). Then it runs ``check_model`` on the
model and counts: the models Keras warns about, and of those the ones ``check_model``
flags (an error or a warning with a fix); the models Keras trains without a word that
``check_model`` flags, by finding. About 2 minutes on 2 cores. ``--rows`` prints every
model Keras warns about, or ``check_model`` flags. ``tests/test_check_vs_keras.py`` holds
one test per Keras warning and the classic mistakes of public Q&A.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import platform
import re
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from recipes.quiet import import_keras  # noqa: E402

keras = import_keras()

from recipes.diagnostics.check import check_model  # noqa: E402
from recipes.training.settings import current_backend  # noqa: E402

import docblock  # noqa: E402

ACTIVATIONS = ("linear", "sigmoid", "softmax", "relu", "tanh", "softplus", "exponential")
UNITS = (1, 3)
# Keras loss class -> from_logits settings it takes (None: no from_logits argument)
LOSSES = {
    "BinaryCrossentropy": (False, True), "BinaryFocalCrossentropy": (False, True),
    "CategoricalCrossentropy": (False, True), "CategoricalFocalCrossentropy": (False, True),
    "SparseCategoricalCrossentropy": (False, True), "MeanSquaredError": (None,),
    "Poisson": (None,),
}
# The warnings Keras 3 gives about an output layer and its loss, by where they come from.
KERAS_WARNINGS = {
    "ops/nn.py: softmax over an axis of size 1": r"softmax over axis -?\d+ of a tensor of shape",
    "losses/losses.py: categorical cross-entropy over one unit":
        r"In loss categorical(_focal)?_crossentropy, expected y_pred.shape",
    "backend/tensorflow/nn.py: from_logits=True on a softmax or sigmoid output":
        r"received `from_logits=True`, but the `output` argument was produced by",
}
N = 24
X = np.random.default_rng(0).normal(size=(N, 4)).astype("float32")


def labels(units, loss):
    """Labels in the form ``loss`` takes, or None where no form fits (sparse over one unit)."""
    if loss.startswith("Sparse"):
        return np.arange(N) % units if units > 1 else None
    if units == 1:
        return (np.arange(N) % 2).astype("float32")
    return np.eye(units, dtype="float32")[np.arange(N) % units]


def combos():
    for activation, units, (loss, settings) in itertools.product(ACTIVATIONS, UNITS,
                                                                  LOSSES.items()):
        for from_logits in settings:
            y = labels(units, loss)
            if y is not None:
                yield activation, units, loss, from_logits, y


def run_one(activation, units, loss, from_logits, y):
    """(Keras warnings said, check_model's errors and warnings) for one model."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inputs = keras.Input((4,))
        outputs = keras.layers.Dense(units, activation=activation)(inputs)
        model = keras.Model(inputs, outputs)
        kwargs = {} if from_logits is None else {"from_logits": from_logits}
        model.compile(optimizer="sgd", loss=getattr(keras.losses, loss)(**kwargs))
        model.fit(X, y, epochs=1, batch_size=N, verbose=0)
    said = sorted({name for name, pattern in KERAS_WARNINGS.items()
                   for w in caught if re.search(pattern, str(w.message))})
    result = check_model(model, y)
    flagged = sorted({f.code for f in result.findings
                      if f.severity in ("error", "warning") and f.fix})
    return said, flagged


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", action="store_true", help="print every model warned or flagged")
    docblock.add_argument(parser)
    args = parser.parse_args(argv)
    with docblock.recorded(args.doc, __file__):
        report(args)


def report(args):
    """Build and check every model, and print the counts."""
    start = time.perf_counter()
    table = [(c[:4], *run_one(*c)) for c in combos()]
    seconds = time.perf_counter() - start
    warned = [row for row in table if row[1]]
    silent = [row for row in table if not row[1]]
    caught = [row for row in warned if row[2]]
    beyond = [row for row in silent if row[2]]
    print(f"{datetime.date.today()}  {platform.node()}  {platform.machine()}  "
          f"Python {platform.python_version()}  Keras {keras.__version__} "
          f"({current_backend()} backend)")
    print(f"{len(table)} models ({len(ACTIVATIONS)} output activations x {len(UNITS)} unit counts "
          f"x {sum(map(len, LOSSES.values()))} losses, less sparse over one unit), "
          f"one training step each: {seconds:.0f} s")
    by_warning = Counter(w for row in warned for w in row[1])
    print(f"Keras warns about {len(warned)}: "
          + "; ".join(f"{w} {n}" for w, n in by_warning.most_common()))
    print(f"check_model flags {len(caught)} of those {len(warned)} (an error or a warning with "
          f"a fix)")
    missed = [row for row in warned if not row[2]]
    for (activation, units, loss, from_logits), said, _ in missed:
        print(f"  MISSED: {units} {activation} unit(s), {loss}(from_logits={from_logits}): {said}")
    by_code = Counter(code for row in beyond for code in row[2])
    print(f"Keras is silent about {len(silent)}; check_model flags {len(beyond)} of them: "
          + ", ".join(f"{code} {n}" for code, n in by_code.most_common()))
    if args.rows:
        for (activation, units, loss, from_logits), said, flagged in table:
            if said or flagged:
                logits = "" if from_logits is None else f"(from_logits={from_logits})"
                print(f"  {units} {activation:<12}{loss + logits:<52} Keras: "
                      f"{len(said)} warning(s)  check_model: {', '.join(flagged)}")


if __name__ == "__main__":
    main()
