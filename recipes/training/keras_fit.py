"""Train recipes and record what happened, epoch by epoch.

A trainer takes a list of ``Setup`` (one per run: recipe, seed, optimizer ...)
that share one data ``Split`` and returns one ``Trace`` per setup. A trace
holds raw outputs on both splits after every epoch, the recipe's own loss, the
output layer's gradient norm and the wall time; the common metrics are
computed from the outputs afterwards, by one function for every trainer
(``recipes.metrics``), so no trainer can score a recipe differently.

``fit_keras`` is the reference path: one plain ``model.fit`` per run
(``iter_keras`` yields each trace as soon as its run ends). The
stacked trainer (``recipes.stacked``) trains many runs in one compiled graph
and must match it.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field

import numpy as np

from ..catalog.table import Recipe
from ..training.data import Split


@dataclass(frozen=True)
class Setup:
    """Everything that defines one training run besides the data."""

    recipe: Recipe
    seed: int
    epochs: int = 20
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    hidden: tuple = (32,)
    output_scale: float = 1.0

    def config(self):
        """JSON-ready description (the recipe by its full row, so a user's edit is a new run)."""
        return {
            "recipe": self.recipe.describe(), "seed": self.seed, "epochs": self.epochs,
            "batch_size": self.batch_size, "optimizer": self.optimizer,
            "learning_rate": self.learning_rate, "hidden": list(self.hidden),
            "output_scale": self.output_scale,
        }


SPLITS = ("train", "val")


@dataclass
class Trace:
    """What one run produced; arrays have one entry per finished epoch."""

    outputs: dict = field(default_factory=dict)   # split -> (epochs, N, units) raw outputs
    loss: dict = field(default_factory=dict)      # split -> (epochs,) the recipe's own loss
    grad_norm: np.ndarray = None                  # (epochs,) output-layer gradient norm
    seconds: np.ndarray = None                    # (epochs,) cumulative wall seconds
    status: str = "ok"                            # ok | diverged | failed
    error: str | None = None

    @property
    def epochs(self):
        return 0 if self.seconds is None else len(self.seconds)


def batch_order(seed, epochs, n):
    """Per-epoch shuffles of ``n`` examples, shape (epochs, n); one stream per seed.

    Every trainer uses this, so a run sees its examples in the same order
    whichever trainer runs it.
    """
    rng = np.random.default_rng([seed, 0x5EED])
    return np.stack([rng.permutation(n) for _ in range(epochs)])


def targets(recipe, split):
    """Encoded training and validation targets for a recipe."""
    return (recipe.encode(split.y_train, split.classes), recipe.encode(split.y_val, split.classes))


def finite(*arrays):
    return all(np.isfinite(np.asarray(a, dtype=np.float64)).all() for a in arrays)


# --- the reference trainer: plain Keras ----------------------------------------

def _epoch_batches(x, y, order, batch_size):
    import tensorflow as tf

    per_epoch = [tf.data.Dataset.from_tensor_slices((x[o], y[o])).batch(batch_size) for o in order]
    data = per_epoch[0]
    for d in per_epoch[1:]:
        data = data.concatenate(d)
    return data


def _grad_norm(model, loss_fn, x, y):
    import tensorflow as tf

    head = model.get_layer("head").trainable_weights
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=False))
    grads = tape.gradient(loss, head)
    return float(tf.linalg.global_norm(grads).numpy())


def _fit_one(setup, split):
    import keras

    from ..models.build import build_model, make_loss

    recipe = setup.recipe
    y_train, y_val = targets(recipe, split)
    keras.utils.set_random_seed(setup.seed)
    model = build_model(recipe, split.X_train.shape[1:], split.n, hidden=setup.hidden,
                        seed=setup.seed, optimizer=setup.optimizer,
                        learning_rate=setup.learning_rate, output_scale=setup.output_scale)
    loss_fn = make_loss(recipe)
    order = batch_order(setup.seed, setup.epochs, len(y_train))
    steps = int(np.ceil(len(y_train) / setup.batch_size))
    data = _epoch_batches(split.X_train, y_train, order, setup.batch_size)
    trace = Trace(outputs={s: [] for s in SPLITS}, loss={s: [] for s in SPLITS})
    grads, seconds = [], []
    start = time.perf_counter()

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            # tensors, so the loss sees the activation and uses its stable logits form
            tensors = {"train": model(split.X_train, training=False),
                       "val": model(split.X_val, training=False)}
            out = {s: t.numpy() for s, t in tensors.items()}
            for s in SPLITS:
                trace.outputs[s].append(out[s])
            trace.loss["train"].append(float(logs["loss"]))
            trace.loss["val"].append(float(loss_fn(y_val, tensors["val"])))
            grads.append(_grad_norm(model, loss_fn, split.X_train, y_train))
            seconds.append(time.perf_counter() - start)
            if not finite(logs["loss"], out["train"], out["val"]):
                trace.status = "diverged"
                trace.error = f"non-finite loss or outputs at epoch {epoch + 1}"
                model.stop_training = True

    model.fit(data, epochs=setup.epochs, steps_per_epoch=steps, shuffle=False, verbose=0,
              callbacks=[Record()])
    trace.outputs = {s: np.stack(v) for s, v in trace.outputs.items()}
    trace.loss = {s: np.asarray(v) for s, v in trace.loss.items()}
    trace.grad_norm, trace.seconds = np.asarray(grads), np.asarray(seconds)
    return trace


def failed(error):
    """A trace for a run that raised before finishing."""
    return Trace(status="failed", error=error)


def iter_keras(setups, split):
    """Train each setup with its own ``model.fit``, yielding its trace as soon as it is
    done (so a runner can store it at once); a failing run does not stop the others."""
    for setup in setups:
        try:
            yield _fit_one(setup, split)
        except KeyboardInterrupt:
            raise
        except Exception as err:  # recorded as a failed run; the grid carries on
            yield failed(f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=3)}")


def fit_keras(setups, split):
    """The traces of ``iter_keras`` as a list, in the order of ``setups``."""
    return list(iter_keras(setups, split))
