"""The reference trainer: one plain Keras ``model.fit`` per run.

Takes ``Setup``s sharing one data ``Split`` and returns one ``Trace`` per
setup (``recipes.training.trace``). ``fit_keras`` is the reference path: one plain ``model.fit`` per run
(``iter_keras`` yields each trace as soon as its run ends). The
stacked trainer (``recipes.training.stacked``) trains many runs in one compiled graph
and must match it.
"""

from __future__ import annotations

import time
import traceback

import numpy as np

from ..quiet import import_tensorflow
from .trace import SPLITS, Trace, batch_order, failed, finite, per_setup, targets


# --- the reference trainer: plain Keras ----------------------------------------

def _epoch_batches(x, y, order, batch_size):
    import_tensorflow()
    import tensorflow as tf

    per_epoch = [tf.data.Dataset.from_tensor_slices((x[o], y[o])).batch(batch_size) for o in order]
    data = per_epoch[0]
    for d in per_epoch[1:]:
        data = data.concatenate(d)
    return data


def _grad_norm(model, loss_fn, x, y):
    import_tensorflow()
    import tensorflow as tf

    head = model.get_layer("head").trainable_weights
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=False))
    grads = tape.gradient(loss, head)
    return float(tf.linalg.global_norm(grads).numpy())


def _fit_one(setup, split):
    import_tensorflow()
    import keras

    from ..models.build import make_loss

    recipe = setup.recipe
    y_train, y_val = targets(recipe, split)
    keras.utils.set_random_seed(setup.seed)
    model = setup.build_model(split)
    loss_fn = make_loss(recipe)
    epochs, batch_size = setup.settings.epochs, setup.settings.batch_size
    order = batch_order(setup.seed, epochs, len(y_train))
    steps = int(np.ceil(len(y_train) / batch_size))
    data = _epoch_batches(split.X_train, y_train, order, batch_size)
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

    model.fit(data, epochs=epochs, steps_per_epoch=steps, shuffle=False, verbose=0,
              callbacks=[Record()])
    trace.outputs = {s: np.stack(v) for s, v in trace.outputs.items()}
    if split.X_test is not None:   # the test split: final outputs only
        trace.outputs["test"] = model(split.X_test, training=False).numpy()[None]
    trace.loss = {s: np.asarray(v) for s, v in trace.loss.items()}
    trace.grad_norm, trace.seconds = np.asarray(grads), np.asarray(seconds)
    return trace


def iter_keras(setups, split):
    """Train each setup with its own ``model.fit``, yielding its trace as soon as it is
    done (so a runner can store it at once); a failing run does not stop the others.
    ``split``: one Split for all setups, or one per setup."""
    setups = list(setups)
    for setup, own in zip(setups, per_setup(split, len(setups))):
        try:
            yield _fit_one(setup, own)
        except KeyboardInterrupt:
            raise
        except Exception as err:  # recorded as a failed run; the grid carries on
            yield failed(f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=3)}")


def fit_keras(setups, split):
    """The traces of ``iter_keras`` as a list, in the order of ``setups``."""
    return list(iter_keras(setups, split))
