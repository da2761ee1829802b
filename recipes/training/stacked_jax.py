"""The stacked trainer on the JAX backend: Keras' own stateless model and optimizer,
vectorized over runs with ``jax.vmap``.

``JaxTrainer`` is a ``recipes.training.engine.StackedTrainer`` (``fit_stacked``,
``iter_fit_stacked``, ...: the contract of the TensorFlow one,
``recipes.training.stacked_tensorflow``) and needs ``KERAS_BACKEND=jax``. Where the TensorFlow trainer writes the MLP, the loss reduction
and the Adam/SGD arithmetic out by hand, this one calls Keras for each of them, so a
run trains as in plain ``model.fit`` on JAX by construction:

* **One run** is a pure function of its weights, its optimizer variables and its data:
  ``model.stateless_call`` for the forward pass (the model ``Setup.build_model`` builds),
  the run's Keras loss (``Setup.loss``, reduction ``sum_over_batch_size``) on its
  output, ``jax.value_and_grad`` for the gradient and ``optimizer.stateless_apply`` for
  the update (the optimizer ``Setup.optimizer`` builds, so its options hold as they are). Batches are the rows ``trace.batch_order``
  gives for the run's seed, cut into batches of ``batch_size`` with a short last
  batch, as ``fit_keras`` feeds ``model.fit``; the epoch's train loss is the
  batch-size-weighted mean of the batch losses (Keras' loss tracker), the val loss
  the loss on the val outputs, and the gradient norm that of the loss on the full
  training split with respect to the output layer's weights (``fit_keras``'s
  ``_stateless_grad_norm``).
* **Backbones** (any model of ``members.STACKABLE_LAYERS``): the same, since
  ``stateless_call`` takes any Keras model. Each member carries its non-trainable
  variables too, updated by the call as ``model.fit`` updates them: BatchNormalization's
  moving statistics, and each Dropout's seed-generator state, which starts where the
  member's plain-fit run starts it (``members.initial_weights``: the model built after
  ``keras.utils.set_random_seed(seed)``), so every member draws its own masks, the ones
  its plain-fit run draws. Frozen layers' weights are non-trainable variables: the
  optimizer never sees them. Layers' extra losses (regularizers) are added to the batch
  loss as Keras' ``compute_loss`` adds them.
* **Many runs**: ``jax.vmap`` maps that function over a leading member axis of the
  weights, the optimizer variables (the learning rate is one of them, so members
  may differ in it), the batch order and, when members train on different splits,
  the data. All epochs run in one ``jax.jit``-compiled function (``lax.scan`` over
  epochs, and over the full batches within an epoch; the short last batch is one
  more step of its own shape).
* **Chunks**: setups are grouped and cut into chunks exactly as the TensorFlow
  trainer does (``members.config``: same hidden widths, head, loss, encoding,
  optimizer class and hyperparameters, batch size and epochs, and split sizes;
  ``engine.padded_chunks``: chunk sizes a power of two so groups share compiled
  functions, padded with copies of the first member whose results are dropped).
  ``NotStackable`` configurations are refused up front as there, so a grid trains the
  same runs on either backend.
* **Divergence, failures, seconds, memory**: the engine's (``recipes.training.engine``): a
  member with a non-finite epoch train loss or outputs is ``"diverged"`` with its
  history up to that epoch; an exception in a chunk makes its runs ``"failed"``; each
  chunk is charged the wall time since the previous one finished; runs are scored as
  their chunk finishes and keep their final epoch's outputs only (every epoch's with
  ``keep_outputs``).

Compiled functions are kept per configuration and shapes (``_COMPILED``;
``TRACE_COUNT`` counts traces). ``engine.WORKERS`` chunks train at once on Python threads
(JAX releases the GIL while compiled code runs). The first call in a process sets XLA's
cheaper compiler options (``xla_cache.configure_xla``: a digits chunk compiles in ~1.8 s
instead of ~3.2 s, runs as fast) and, when ``xla_cache.CACHE`` is on, JAX's persistent
compilation cache (``xla_cache.persistent_jax_cache``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from . import members, xla_cache
from .engine import StackedTrainer, chunk_traces, padded, padded_chunks

__all__ = ["JaxTrainer", "TRACE_COUNT", "TRAINER", "fit_stacked", "iter_fit_stacked",
           "iter_stacked", "train_stacked"]

# Number of times a chunk function has been traced (once per configuration and shapes).
TRACE_COUNT = 0

_COMPILED = {}      # (config, shapes) -> jax compiled function
_PARTS = {}         # (config, features) -> _Parts
_LOCK = threading.Lock()
_STARTED = []       # [True] once the XLA options and cache are set in this process


class JaxTrainer(StackedTrainer):
    """The stacked trainer on JAX (``recipes.training.engine.StackedTrainer``)."""

    def group_key(self, setup, split):
        return members.config(setup, split)

    def chunks(self, groups):
        """The TensorFlow trainer's chunks, in setup order (JAX always compiles)."""
        return padded_chunks(groups, self.workers, self.cap)

    def start(self):
        members.require_backend("jax", "JAX")
        if _STARTED:
            return
        _STARTED.append(True)
        xla_cache.configure_xla()
        if xla_cache.CACHE:
            try:
                xla_cache.persistent_jax_cache()
            except OSError:     # an unwritable cache folder: compile as if there were none
                pass

    def run_chunk(self, config, setups, splits, size, keep_outputs):
        """Train one chunk: its members' scored traces (without seconds) and final
        variables (trainable, then non-trainable)."""
        parts = _parts(config, setups[0], splits[0])
        arrays = _inputs(config, parts, padded(setups, size), padded(splits, size))
        own = arrays[0].ndim == splits[0].X_train.ndim + 1
        records, final = _compiled(config, parts, own, arrays)(*arrays)
        res = {key: np.asarray(v) for key, v in records.items()}
        final = [np.asarray(w) for w in final]
        del records
        return chunk_traces(res, setups, splits, final,
                            lambda x, which: _predict_test(parts, [w[which] for w in final], x),
                            keep_outputs)


# --- Keras pieces of a configuration -------------------------------------------------

@dataclass
class _Parts:
    """The Keras objects a chunk function is traced from: one model (its variables are
    never used, only its stateless call), the loss, one built optimizer, and how many of
    the model's variables are trainable (they come first)."""

    model: object
    loss: object
    optimizer: object
    trainable: int


def _parts(config, setup, split):
    """Keras objects for ``config``, built once per configuration (``setup``: any setup
    of it; they share architecture, loss and optimizer class and hyperparameters)."""
    key = (config, split.X_train.shape[1:])
    with _LOCK:
        if key not in _PARTS:
            model = setup.build_model(split, compile=False)  # only its stateless call
            optimizer = _fresh(setup.optimizer())
            optimizer.build(model.trainable_variables)
            _PARTS[key] = _Parts(model, setup.loss(), optimizer,
                                 len(model.trainable_variables))
        return _PARTS[key]


def _fresh(optimizer):
    """A new, unbuilt optimizer with ``optimizer``'s configuration (a user's instance is
    never built or changed here)."""
    return type(optimizer).from_config(optimizer.get_config())


_OPT_VALUES = {}


def _optimizer_values(config, parts, setup):
    """Initial optimizer variables of one member: the built optimizer's, with the
    member's learning rate (a fresh optimizer of the member's, built like the chunk's)."""
    key = (id(parts), members.optimizer_spec(setup)[2])
    with _LOCK:
        if key not in _OPT_VALUES:
            own = _fresh(setup.optimizer())
            own.build(parts.model.trainable_variables)
            if len(own.variables) != len(parts.optimizer.variables):
                raise ValueError(f"Expected the same optimizer variables for every member. "
                                 f"Received: {len(own.variables)} and "
                                 f"{len(parts.optimizer.variables)}")
            _OPT_VALUES[key] = [np.asarray(v.value) for v in own.variables]
        return _OPT_VALUES[key]


# --- the compiled chunk function ---------------------------------------------------------

def _build(parts, batch_size, own_data):
    """``train(x_train, y_train, x_val, y_val, w_train, order, variables, opt_vars)`` for
    a chunk, jitted; every argument but the data has a leading member axis, the data too
    when ``own_data`` (each member its own split). ``variables``: the model's trainable
    then non-trainable variables."""
    import jax
    import jax.numpy as jnp

    model, loss_fn, optimizer, T = parts.model, parts.loss, parts.optimizer, parts.trainable
    is_head = members.head_mask(model)
    B = batch_size

    def predict(ws, nts, x):
        out, _ = model.stateless_call(ws, nts, x, training=False)
        return out

    def batch_loss(ws, nts, xb, yb, wb):
        # the row weights as Keras' fit passes class weights: sample_weight of the loss;
        # the layers' own losses (regularizers) added as Keras' compute_loss adds them
        out, nts, extra = model.stateless_call(ws, nts, xb, training=True, return_losses=True)
        loss = loss_fn(yb, out, sample_weight=wb)
        for term in extra:
            loss = loss + jnp.sum(term.astype(loss.dtype))
        return loss, nts

    def step(ws, nts, ov, total, xb, yb, wb):
        (loss, nts), grads = jax.value_and_grad(batch_loss, has_aux=True)(ws, nts, xb, yb, wb)
        ws, ov = optimizer.stateless_apply(ov, grads, ws)
        # Keras' loss tracker: a float32 Mean weighted by the batch size
        return ws, nts, ov, total + loss * jnp.float32(xb.shape[0])

    def head_grad_norm(ws, nts, x, y):
        def loss(head_ws):
            return loss_fn(y, predict(members.with_head(ws, is_head, head_ws), nts, x))

        grads = jax.grad(loss)([w for w, h in zip(ws, is_head) if h])
        return jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in grads))

    def member(x_train, y_train, x_val, y_val, w_train, order, vs, ov):
        n_train = order.shape[-1]
        full, rest = divmod(n_train, B)

        def batch(carry, idx):
            ws, nts, ov, total = carry
            return step(ws, nts, ov, total, x_train[idx], y_train[idx], w_train[idx]), None

        def epoch(carry, order_e):
            ws, nts, ov = carry
            total = jnp.zeros((), jnp.float32)
            if full:
                (ws, nts, ov, total), _ = jax.lax.scan(
                    batch, (ws, nts, ov, total), order_e[:full * B].reshape(full, B))
            if rest:
                (ws, nts, ov, total), _ = batch((ws, nts, ov, total), order_e[full * B:])
            out_train, out_val = predict(ws, nts, x_train), predict(ws, nts, x_val)
            records = {"out_train": out_train, "out_val": out_val,
                       "loss_train": total / jnp.float32(n_train),
                       "loss_val": loss_fn(y_val, out_val),
                       "grad_norm": head_grad_norm(ws, nts, x_train, y_train)}
            return (ws, nts, ov), records

        (ws, nts, _), records = jax.lax.scan(epoch, (vs[:T], vs[T:], ov), order)
        return records, ws + nts       # records: (E, ...) each

    data_axis = 0 if own_data else None

    def train(x_train, y_train, x_val, y_val, w_train, order, vs, ov):
        global TRACE_COUNT
        TRACE_COUNT += 1
        return jax.vmap(member, in_axes=(data_axis,) * 5 + (0, 0, 0))(
            x_train, y_train, x_val, y_val, w_train, order, vs, ov)

    return jax.jit(train)


def _compiled(config, parts, own, arrays):
    """The chunk function compiled for these arrays' shapes (traced and compiled once,
    under a lock: Keras' stateless scopes are per thread, but one trace at a time keeps
    ``TRACE_COUNT`` and the cache simple). ``own``: every member has its own data."""
    import jax

    key = (config, own, tuple((a.shape, a.dtype.str) for a in jax.tree_util.tree_leaves(arrays)))
    with _LOCK:
        if key not in _COMPILED:
            fn = _build(parts, config.batch_size, own)
            _COMPILED[key] = fn.lower(*arrays).compile()
        return _COMPILED[key]


_PREDICT = {}


def _predict_test(parts, vs, x):
    """Every member's outputs on ``x`` (the test split), by the model's stateless call;
    ``vs``: its trainable then non-trainable variables (leading axis: the members)."""
    import jax

    T = parts.trainable
    with _LOCK:
        fn = _PREDICT.get(id(parts))
        if fn is None:
            fn = _PREDICT[id(parts)] = jax.jit(jax.vmap(
                lambda v, x: parts.model.stateless_call(v[:T], v[T:], x, training=False)[0],
                in_axes=(0, None)))
    return np.asarray(fn(vs, members.as_input(x)))


# --- a chunk's arguments -----------------------------------------------------------------

def _inputs(config, parts, setups, splits):
    """The chunk's arguments: data ((N, ...) shared, or (K, N, ...) per member), the batch
    order (K, E, N), the initial variables and optimizer variables (leading axis K)."""
    x_train, y_train, x_val, y_val, w_train, order, _, _, ws = members.stack_inputs(
        config, setups, splits)
    n_train = len(splits[0].X_train)
    opt = [np.stack(v) for v in zip(*(_optimizer_values(config, parts, s) for s in setups))]
    return [x_train, np.asarray(y_train), x_val, np.asarray(y_val), w_train,
            np.ascontiguousarray(order[:, :, :n_train]), list(ws), opt]


# this backend's trainer, and its methods under the module's names
# (``trainers.STACKED`` names iter_fit_stacked)
TRAINER = JaxTrainer()
iter_stacked = TRAINER.iter_train
train_stacked = TRAINER.train
iter_fit_stacked = TRAINER.iter_fit
fit_stacked = TRAINER.fit
