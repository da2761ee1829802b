"""The reference trainer: one plain Keras ``model.fit`` per run.

Takes ``Setup``s sharing one data ``Split`` and returns one ``Trace`` per
setup (``recipes.training.trace``). ``fit_keras`` is the reference path: one plain ``model.fit`` per run
(``iter_keras`` yields each trace as soon as its run ends). The
stacked trainers (``recipes.training.engine``) train many runs in one compiled program
and must match it.

It runs on every Keras backend: the batches come from ``tf.data`` on TensorFlow
(what the stacked trainer is checked against) and from a Python generator
elsewhere, in the same order, and the gradient norm of the output layer is taken
by the backend's own autodiff (``value_and_grad``).
"""

from __future__ import annotations

import time
import traceback

import numpy as np

from ..quiet import import_tensorflow
from .trace import (SPLITS, Trace, batch_order, class_weights, failed, finite, per_setup,
                    targets)


# --- autodiff on every backend ------------------------------------------------------

def _tf_value_and_grad(fn, values):
    import tensorflow as tf

    values = [tf.convert_to_tensor(v) for v in values]
    with tf.GradientTape() as tape:
        tape.watch(values)
        out = fn(*values)
    return out, tape.gradient(out, values)


def _jax_value_and_grad(fn, values):
    import jax

    return jax.value_and_grad(lambda vs: fn(*vs))(list(values))


def _torch_value_and_grad(fn, values):
    import torch

    values = [torch.as_tensor(v).detach().requires_grad_(True) for v in values]
    out = fn(*values)
    return out, list(torch.autograd.grad(out, values, allow_unused=True))


# backend -> value_and_grad(fn, values) -> (fn(*values), [d fn / d value, ...])
VALUE_AND_GRAD = {"tensorflow": _tf_value_and_grad, "jax": _jax_value_and_grad,
                  "torch": _torch_value_and_grad}


def value_and_grad(fn, values):
    """``(fn(*values), gradients)`` of a scalar function by this process's backend,
    as numpy: ``values`` are arrays (or backend tensors); a value ``fn`` does not
    depend on gets a zero gradient."""
    import keras

    backend = keras.backend.backend()
    if backend not in VALUE_AND_GRAD:
        raise ValueError(f"Keras backend {backend!r} has no autodiff here. Expected one of "
                         f"{sorted(VALUE_AND_GRAD)}. Received: KERAS_BACKEND={backend!r}")
    out, grads = VALUE_AND_GRAD[backend](fn, values)
    numpy = keras.ops.convert_to_numpy
    return numpy(out), [np.zeros(np.shape(numpy(v))) if g is None else numpy(g)
                        for v, g in zip(values, grads)]


# --- the reference trainer: plain Keras ----------------------------------------

def _tf_batches(x, y, order, batch_size):
    import_tensorflow()
    import tensorflow as tf

    per_epoch = [tf.data.Dataset.from_tensor_slices((x[o], y[o])).batch(batch_size) for o in order]
    data = per_epoch[0]
    for d in per_epoch[1:]:
        data = data.concatenate(d)
    return data


def _python_batches(x, y, order, batch_size, class_weight=None):
    """The batches of ``_tf_batches``, in the same order, from a generator (any backend).
    Keras' generator adapter takes no ``class_weight``: given one, each batch carries the
    sample weights Keras' own ``class_weight_to_sample_weights`` makes of it (what
    ``fit(class_weight=)`` does with arrays)."""
    from keras.src.trainers.data_adapters.data_adapter_utils import (
        class_weight_to_sample_weights)

    for o in order:
        for start in range(0, len(o), batch_size):
            idx = o[start:start + batch_size]
            if class_weight is None:
                yield x[idx], y[idx]
            else:
                yield x[idx], y[idx], class_weight_to_sample_weights(y[idx], class_weight)


def _epoch_batches(x, y, order, batch_size):
    """The training batches of an unweighted run (``_fit_data``)."""
    return _fit_data(x, y, order, batch_size, None)[0]


def _fit_data(x, y, order, batch_size, class_weight):
    """``(batches, class_weight argument of fit)``: TensorFlow's ``fit`` takes
    ``class_weight`` with ``tf.data``; elsewhere the batches carry it
    (``_python_batches``) and ``fit`` gets None."""
    import keras

    if keras.backend.backend() == "tensorflow":
        return _tf_batches(x, y, order, batch_size), class_weight
    return _python_batches(x, y, order, batch_size, class_weight), None


def _tf_grad_norm(model, loss_fn, x, y):
    import_tensorflow()
    import tensorflow as tf

    head = model.get_layer("head").trainable_weights
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=False))
    grads = tape.gradient(loss, head)
    return float(tf.linalg.global_norm(grads).numpy())


def _stateless_grad_norm(model, loss_fn, x, y):
    """``_tf_grad_norm`` on any backend: a stateless call whose head weights are the
    differentiated inputs (``value_and_grad``)."""
    from keras import ops

    head = model.get_layer("head").trainable_weights
    at = {v.path: i for i, v in enumerate(head)}
    x = ops.convert_to_tensor(x)

    def loss(*head_values):
        trainable = [head_values[at[v.path]] if v.path in at else v.value
                     for v in model.trainable_variables]
        # every non-trainable variable, a Dropout's seed-generator state included (not a
        # "weight", but stateless_call takes it)
        out, _ = model.stateless_call(trainable, [v.value for v in model.non_trainable_variables],
                                      x, training=False)
        return loss_fn(y, out)

    _, grads = value_and_grad(loss, [v.value for v in head])
    return float(np.sqrt(sum(np.sum(np.square(g, dtype=np.float64)) for g in grads)))


def _grad_norm(model, loss_fn, x, y):
    """The global norm of the loss's gradient on the output layer's weights."""
    import keras

    tensorflow = keras.backend.backend() == "tensorflow"
    return (_tf_grad_norm if tensorflow else _stateless_grad_norm)(model, loss_fn, x, y)


def _fit_one(setup, split):
    import_tensorflow()
    import keras

    recipe = setup.recipe
    y_train, y_val = targets(recipe, split)
    keras.utils.set_random_seed(setup.seed)
    model = setup.build_model(split)
    loss_fn = setup.loss()
    epochs, batch_size = setup.settings.epochs, setup.settings.batch_size
    order = batch_order(setup.seed, epochs, len(y_train))
    steps = int(np.ceil(len(y_train) / batch_size))
    data, class_weight = _fit_data(split.X_train, y_train, order, batch_size,
                                   class_weights(setup, split))
    trace = Trace(outputs={s: [] for s in SPLITS}, loss={s: [] for s in SPLITS})
    grads, seconds = [], []
    start = time.perf_counter()

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            # tensors, so the loss sees the activation and uses its stable logits form
            tensors = {"train": model(split.X_train, training=False),
                       "val": model(split.X_val, training=False)}
            out = {s: keras.ops.convert_to_numpy(t) for s, t in tensors.items()}
            for s in SPLITS:
                trace.outputs[s].append(out[s])
            trace.loss["train"].append(float(logs["loss"]))
            trace.loss["val"].append(float(keras.ops.convert_to_numpy(
                loss_fn(y_val, tensors["val"]))))
            grads.append(_grad_norm(model, loss_fn, split.X_train, y_train))
            seconds.append(time.perf_counter() - start)
            if not finite(logs["loss"], out["train"], out["val"]):
                trace.status = "diverged"
                trace.error = f"non-finite loss or outputs at epoch {epoch + 1}"
                model.stop_training = True

    model.fit(data, epochs=epochs, steps_per_epoch=steps, shuffle=False, verbose=0,
              callbacks=[Record()], class_weight=class_weight)
    trace.outputs = {s: np.stack(v) for s, v in trace.outputs.items()}
    if split.X_test is not None:   # the test split: final outputs only
        trace.outputs["test"] = keras.ops.convert_to_numpy(
            model(split.X_test, training=False))[None]
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
