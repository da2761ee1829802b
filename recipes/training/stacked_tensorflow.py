"""The stacked trainer on TensorFlow: many runs as one compiled graph, the arithmetic
written out in TensorFlow ops.

``fit_stacked(setups, split)`` has the contract of ``recipes.training.keras_fit.fit_keras``
(one ``Trace`` per setup, in order) and matches it run for run: every member starts
from ``models.initial_weights`` for its own seed (what ``build_model`` starts from),
sees its examples in the order ``trace.batch_order`` gives for its seed (a per-member
index tensor gathered inside the graph), and is updated by the same Adam/SGD arithmetic
Keras uses. ``TensorFlowTrainer`` is a ``recipes.training.engine.StackedTrainer``: the
engine groups, chunks, schedules and scores; this module only says how one chunk trains:

* **Groups and chunks**: ``members.config`` (same hidden widths, head, loss, encoding,
  optimizer class and hyperparameters, batch size, epochs, split sizes), cut by
  ``engine.padded_chunks`` into chunks of one compiled size.
* **Weights** are tensors with a leading member axis ``K``: kernels ``(K, in, out)``,
  biases ``(K, out)``; layers are batched matmuls.
* **Loss.** Per member: the run's Keras loss (``Setup.loss``) with reduction "none",
  averaged over that member's batch exactly as Keras' ``sum_over_batch_size`` does; the
  objective is the SUM over members. Members share no parameters, so the gradient of the
  sum with respect to member ``k``'s weights is member ``k``'s own gradient (averaging
  instead would divide every member's gradient, hence SGD's learning rate, by ``K``).
* **Optimizer.** Adam and SGD (with or without momentum/Nesterov) written out
  elementwise with Keras' own formulas and float32 casts, so each member's update equals
  the Keras optimizer's (``members.optimizer_spec`` refuses the rest up front).
* **One compiled function per chunk runs the whole training, all epochs** (a
  ``tf.function``, XLA-compiled or not, see ``TensorFlowTrainer.use_xla``), and records
  per epoch, inside the graph: raw outputs on train and val (inference, after the
  epoch), the train loss as Keras logs it (the batch-size-weighted mean of the batch
  losses), the val loss (the loss on the val outputs), and the global norm of the
  head's gradient on the full training split. Data, index tensors, initial weights and
  learning rates are arguments, never captured constants, so one compiled function
  serves every chunk with the same configuration and shapes (``_FUNCTIONS`` caches them
  across calls; ``TRACE_COUNT`` counts traces).

Loss paths, matched to the reference: the training loss and the gradient norm see the
activation's output directly, so Keras' TensorFlow backend computes cross-entropies from
the cached logits (as it does in ``model.fit`` and in an eager ``model(x)``); the val
loss is computed from the outputs as plain values (``fit_keras`` passes numpy outputs),
i.e. the clipped-probability form.

Divergence, failures, seconds, memory: the engine's (``recipes.training.engine``). A
member with a non-finite epoch train loss or outputs is "diverged" with its history up
to that epoch, exactly as ``fit_keras`` records it; nothing is shared across members (a
NaN member's loss enters the summed objective, but the derivative of a sum with respect
to each term is 1, so no NaN reaches another member's weights). Per member the graph
returns ``4 * E * (N_train + N_val) * units`` bytes of outputs, held twice for a moment,
which ``engine.max_members`` caps.

XLA or not (``TensorFlowTrainer.jit``, default "auto"): XLA-compiled chunks train ~3x
faster (digits: ~11 ms vs ~35 ms per run on 2 cores) but compile ~1 s per configuration
and shapes; "auto" compiles with XLA when the persistent compilation cache is on (the
default, ``xla_cache.persistent_cache``: a compiled chunk function is then loaded in
~0.3 s by every later process), when this process already compiled it, or when the
saved time should exceed the compile time (~100 digits runs of one configuration);
otherwise it runs the plain TensorFlow graph. Threads: ``threads.configure_threads``.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from ..quiet import import_tensorflow, quiet_stderr
from . import members, xla_cache
from .engine import StackedTrainer, chunk_traces, padded, padded_chunks, start_order
from .threads import configure_threads

__all__ = ["AUTO_COST", "TRACE_COUNT", "TRAINER", "TensorFlowTrainer", "fit_stacked",
           "flops_per_run", "iter_fit_stacked", "iter_stacked", "train_stacked"]

# "auto" cost model, measured on 2 cores (digits 64-32-10, 20 epochs, WORKERS=2):
# XLA compiles ~0.85 s longer than the plain graph (tracing is common to both),
# then trains ~1.16e-11 s faster per FLOP (about 12 vs 21 ms per digits run) and
# saves ~0.04 s of per-step overhead per call.
AUTO_COST = {"compile_s": 0.85, "per_flop_s": 1.16e-11, "per_call_s": 0.04}

# Number of times a compiled training function has been traced (incremented in
# the Python body of the traced function, so it counts traces, not calls).
TRACE_COUNT = 0

# config -> tf.function; tf.function keeps one concrete (compiled) function per
# input shapes, so a cache hit with the same shapes neither retraces nor recompiles.
_FUNCTIONS = {}
_LOCK = threading.Lock()
# (config with jit=True, K, n_train, n_val, features) compiled in this process
_COMPILED = set()
# XLA functions (``_call``'s keys) whose first call, which compiles them or loads them
# from the persistent cache, has run in this process
_LOADED = set()


def flops_per_run(config, n_features, n_train, n_val):
    """Rough FLOPs of one run: 6 per weight per training example (forward and
    backward), 2 per weight per example for each epoch-end pass (outputs on train
    and val, the head-gradient pass on train)."""
    widths = (n_features,) + tuple(config.hidden) + (config.units,)
    weights = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    padded_rows = -(-n_train // config.batch_size) * config.batch_size
    return config.epochs * weights * (6 * padded_rows + 4 * n_train + 2 * n_val)


class TensorFlowTrainer(StackedTrainer):
    """The stacked trainer on TensorFlow (``recipes.training.engine.StackedTrainer``).

    ``jit``: compile each chunk's function with XLA: True, False, or "auto"
    (``use_xla``)."""

    def __init__(self, jit="auto"):
        self.jit = jit

    def group_key(self, setup, split):
        return members.config(setup, split)

    def chunks(self, groups):
        return start_order(padded_chunks(groups, self.workers, self.cap, retag=self._jit_key))

    def _jit_key(self, config, group, k, shapes):
        n_train, n_val, d = shapes
        return replace(config, jit=self.use_xla(config, len(group), k, d, n_train, n_val))

    def start(self):
        """Thread pools, XLA options and the persistent cache, before TensorFlow runs."""
        configure_threads()
        xla_cache.configure_xla()
        if xla_cache.CACHE and self.jit is not False:
            try:
                xla_cache.persistent_cache()
            except OSError:     # an unwritable cache folder: compile as if there were none
                pass

    def finish(self):
        xla_cache.publish_cache()

    def use_xla(self, config, n, k, n_features, n_train, n_val):
        """Whether a group of ``n`` runs (chunks of ``k``) is compiled with XLA.

        ``jit`` True/False decides. Under "auto": XLA when this process already
        compiled the function for these shapes, when a persistent XLA cache is set
        (``xla_cache.active``: compiling once pays off over processes), or when the
        estimated training time saved (``AUTO_COST``) exceeds XLA's extra compile time.
        On digits (64-32-10, 20 epochs) the break-even is ~100 runs of one
        configuration; below that the plain TensorFlow graph finishes first.

        A backbone's chunks, under "auto", compile with XLA exactly when Keras' own
        ``fit`` does (``_keras_fit_uses_xla``: not on a machine with CPUs only), so that
        each member runs its plain-fit run's kernels: XLA's stateless random numbers
        differ from TensorFlow's (other Dropout masks) and its fused reductions round
        BatchNormalization's statistics otherwise (docs/backends-stacking.md).
        """
        if self.jit != "auto":
            return bool(self.jit)
        if config.backbone:
            return _keras_fit_uses_xla()
        if (replace(config, jit=True), k, n_train, n_val, n_features) in _COMPILED:
            return True
        if xla_cache.active():
            return True
        saved = AUTO_COST["per_call_s"] + n * flops_per_run(
            config, n_features, n_train, n_val) * AUTO_COST["per_flop_s"]
        return saved > AUTO_COST["compile_s"]

    def run_chunk(self, config, setups, splits, size, keep_outputs):
        """Train one chunk: its members' scored traces (without seconds) and final weights.
        The chunk is padded to ``size`` members; the padding's results are dropped."""
        *arrays, ws = members.stack_inputs(config, padded(setups, size), padded(splits, size))
        out = _call(_function(config, setups[0], splits[0]), config, arrays, ws)
        if config.jit:
            _COMPILED.add((config, size, arrays[0].shape[-2], arrays[2].shape[-2],
                           arrays[0].shape[-1]))
        res = {key: ([w.numpy() for w in v] if key == "weights" else v.numpy())
               for key, v in out.items()}
        del out
        final = res.pop("weights")
        recipe = setups[0].recipe     # the chunk's members share its activation

        def predict(x, which):
            if config.backbone:
                model = _model(config, setups[0], splits[0])
                return np.stack([_backbone_outputs(model, [w[m] for w in final], x)
                                 for m in which])
            return np.stack([_outputs([w[m] for w in final], x, recipe) for m in which])

        return chunk_traces(res, setups, splits, final, predict, keep_outputs)


def _keras_fit_uses_xla():
    """Whether Keras' ``model.fit`` on TensorFlow compiles with XLA here: its
    ``jit_compile="auto"`` turns XLA off on machines with CPUs only."""
    import tensorflow as tf

    return any(d.device_type != "CPU" for d in tf.config.list_physical_devices())


def _function(config, setup, split):
    """The chunk function of ``config`` (``setup``, ``split``: any of it), built once:
    the MLP written out (``_Graph``), or a backbone's Keras model (``_BackboneGraph``)."""
    with _LOCK:     # chunks of one group start together on the worker threads
        fn = _FUNCTIONS.get(config)
        if fn is None:
            graph = (_BackboneGraph(config, _model(config, setup, split), setup.loss())
                     if config.backbone else _Graph(config, setup.loss(reduction="none")))
            fn = _FUNCTIONS[config] = graph.function()
    return fn


_MODELS = {}


def _model(config, setup, split):
    """The Keras model of a backbone configuration, built once (only its stateless call
    is used, never its variables)."""
    key = (config.backbone, config.input, config.units, config.activation)
    if key not in _MODELS:
        _MODELS[key] = setup.build_model(split, compile=False)
    return _MODELS[key]


def _call(fn, config, arrays, ws):
    """Run the chunk function; an XLA function's first trace gets stable names
    (``xla_cache.stable_names``), so the persistent cache finds it in the next process,
    and its first call runs in ``quiet_stderr`` (loading from the cache logs harmless
    errors)."""
    import contextlib

    import_tensorflow()
    import tensorflow as tf

    args = [tf.constant(a) for a in arrays], [tf.constant(w) for w in ws]
    if not config.jit:
        return fn(*args[0], args[1])
    key = repr((config, [(a.shape, a.dtype.str) for a in arrays], [w.shape for w in ws]))
    with contextlib.nullcontext() if key in _LOADED else quiet_stderr():
        with xla_cache.stable_names(key):
            fn.get_concrete_function(*args[0], args[1])
        out = fn(*args[0], args[1])
    _LOADED.add(key)
    return out


def _outputs(weights, x, recipe):
    """A member's outputs on ``x`` from its final weights: the MLP in numpy (float32)."""
    from ..catalog.codec import NUMPY_ACTIVATIONS

    h = np.asarray(x, np.float32)
    for i in range(0, len(weights), 2):
        h = h @ weights[i] + weights[i + 1]
        if i < len(weights) - 2:
            h = np.maximum(h, 0)
    with np.errstate(all="ignore"):
        return NUMPY_ACTIVATIONS[recipe.activation](h).astype(np.float32)


def _backbone_outputs(model, variables, x):
    """A member's outputs on ``x`` from its final variables (trainable, then
    non-trainable): the model's stateless call, in inference mode."""
    import keras

    T = len(model.trainable_variables)
    out, _ = model.stateless_call(variables[:T], variables[T:], members.as_input(x),
                                  training=False)
    return keras.ops.convert_to_numpy(out)


# --- the compiled training function ----------------------------------------------------

class _QuietRetracing:
    """Drops TensorFlow's "triggered tf.function retracing" warning for this module's
    functions: each configuration is a new tf.function of the same Python code, which
    TensorFlow's heuristic reports as excessive retracing (TRACE_COUNT counts them)."""

    def filter(self, record):
        msg = record.getMessage()
        return not ("triggered tf.function retracing" in msg and "_Graph.train" in msg)


class _Flat:
    """Every member's parameters as one flat (K, P) tensor and back: XLA's CPU code
    updates 2-D loop-carried buffers several times faster than 3-D ones."""

    def __init__(self, ws):
        self.K = ws[0].shape[0]
        self.shapes = [tuple(w.shape[1:]) for w in ws]
        self.bounds = np.cumsum([0] + [int(np.prod(sh)) for sh in self.shapes])

    def pack(self, tensors):
        import tensorflow as tf

        return tf.concat([tf.reshape(t, (self.K, -1)) for t in tensors], axis=1)

    def unpack(self, flat):
        import tensorflow as tf

        return [tf.reshape(flat[:, a:b], (self.K,) + sh)
                for a, b, sh in zip(self.bounds[:-1], self.bounds[1:], self.shapes)]


class _Chunk:
    """One call's tensors: data (shared (N, d) or per member (K, N, d)), targets, the
    per-member row order (K, E, S*B), ``valid`` (S*B,) and learning rates (K,)."""

    def __init__(self, x_train, y_train, x_val, y_val, w_train, order, valid, lr, batch_size,
                 example_rank=1):
        import tensorflow as tf

        self.K, _, padded_rows = order.shape
        self.S = padded_rows // batch_size
        # every member has its own split: X is (K, N) + one example's shape
        self.own = x_train.shape.rank == example_rank + 2
        self.x_train, self.y_train, self.x_val, self.y_val = x_train, y_train, x_val, y_val
        self.w_train = w_train      # each training row's weight (class_weight), (N,) or (K, N)
        self.order, self.valid, self.lr = order, valid, lr
        self.n_train = x_train.shape[1 if self.own else 0]
        shape = (self.K,)
        self.y_train_k = y_train if self.own else tf.broadcast_to(
            y_train[None], shape + tuple(y_train.shape))
        self.y_val_k = y_val if self.own else tf.broadcast_to(
            y_val[None], shape + tuple(y_val.shape))

    def member(self, data, k):
        """Member ``k``'s part of ``data``: its own (``data[k]``) or the shared one."""
        return data[k] if self.own else data


class _Graph:
    """The training function of one configuration, in TensorFlow ops: ``train`` trains
    a chunk of members for ``config.epochs`` epochs; ``function`` makes it a tf.function.

    ``loss``: the run's Keras loss with reduction "none" (any setup of the configuration
    gives the same one)."""

    def __init__(self, config, loss):
        import_tensorflow()
        import keras
        import tensorflow as tf

        logger = tf.get_logger()
        if not any(isinstance(f, _QuietRetracing) for f in logger.filters):
            logger.addFilter(_QuietRetracing())
        self.config, self.loss_fn = config, loss
        self.head_act = keras.activations.get(config.activation)
        self.relu = keras.activations.get("relu")
        self.n_layers = len(config.hidden) + 1

    def function(self):
        import tensorflow as tf

        return tf.function(self.train, jit_compile=self.config.jit, reduce_retracing=False,
                           autograph=False)

    # -- the model and its loss

    def forward(self, ws, x):
        """Pre-activations of the head, (K, n, units); x is (K, n, d) or shared (n, d)."""
        import tensorflow as tf

        h = x
        for i in range(self.n_layers):
            kernel, bias = ws[2 * i], ws[2 * i + 1]
            h = tf.matmul(h, kernel) if h.shape.rank == 3 else tf.einsum("nd,kdh->knh", h, kernel)
            h = h + bias[:, None, :]
            if i < self.n_layers - 1:
                h = self.relu(h)
        return h

    def per_sample(self, y, z):
        """Per-sample losses (K, n); the loss sees the activation op, so it takes the
        stable logits path exactly as Keras does on a model's output tensor."""
        import tensorflow as tf

        K, n, u = z.shape
        out = self.head_act(tf.reshape(z, (K * n, u)))
        y = tf.reshape(y, (K * n,) + tuple(y.shape[2:]))
        return tf.reshape(self.loss_fn(y, out), (K, n))

    @staticmethod
    def member_mean(losses):
        """Keras "sum_over_batch_size": sum, then divide by the number of values."""
        import tensorflow as tf

        return tf.reduce_sum(losses, axis=1) / tf.cast(losses.shape[1], losses.dtype)

    # -- the optimizer

    def slots(self, flat):
        """Fresh optimizer state for the flat parameters: Adam's two moments, SGD's
        momentum buffer, or none."""
        import tensorflow as tf

        count = 2 if self.config.optimizer == "adam" else (1 if self.config.hyper[0] != 0 else 0)
        return [[tf.zeros_like(flat)] for _ in range(count)]

    def update(self, ws, grads, slots, step, lr):
        """One optimizer step for every member, Keras' arithmetic elementwise."""
        kind = self.config.optimizer
        return (self._adam if kind == "adam" else self._sgd)(ws, grads, slots, step, lr)

    def _adam(self, ws, grads, slots, step, lr):
        import tensorflow as tf

        beta_1, beta_2, eps = self.config.hyper
        ms, vs = slots
        local_step = tf.cast(step + 1, tf.float32)
        b1p = tf.pow(tf.constant(beta_1, tf.float32), local_step)
        b2p = tf.pow(tf.constant(beta_2, tf.float32), local_step)
        alpha = lr * tf.sqrt(1 - b2p) / (1 - b1p)           # (K,)
        c1, c2 = tf.constant(1 - beta_1, tf.float32), tf.constant(1 - beta_2, tf.float32)
        epsilon = tf.constant(eps, tf.float32)
        new_w, new_m, new_v = [], [], []
        for w, g, m, v in zip(ws, grads, ms, vs):
            m = m + (g - m) * c1
            v = v + (tf.square(g) - v) * c2
            new_w.append(w - (m * _expand(alpha, m)) / (tf.sqrt(v) + epsilon))
            new_m.append(m)
            new_v.append(v)
        return new_w, [new_m, new_v]

    def _sgd(self, ws, grads, slots, step, lr):
        import tensorflow as tf

        momentum, nesterov = self.config.hyper
        if momentum == 0:
            return [w - g * _expand(lr, g) for w, g in zip(ws, grads)], slots
        mom = tf.constant(momentum, tf.float32)
        new_w, new_m = [], []
        for w, g, m in zip(ws, grads, slots[0]):
            glr = g * _expand(lr, g)
            m = m * mom - glr
            new_w.append(w + (m * mom - glr) if nesterov else w + m)
            new_m.append(m)
        return new_w, [new_m]

    # -- training

    def step(self, chunk, flat_ws, s, flat, slots, it, total, order_e):
        """One batch ``s`` for every member: the new flat weights, slots, step count and
        batch-size-weighted loss total (Keras' loss tracker)."""
        import tensorflow as tf

        B, K = self.config.batch_size, chunk.K
        idx = tf.slice(order_e, [0, s * B], [K, B])
        ok = tf.slice(chunk.valid, [s * B], [B])                     # (B,)
        b = tf.reduce_sum(tf.cast(ok, tf.float32))                  # real batch size
        dims = 1 if chunk.own else 0
        xb = tf.gather(chunk.x_train, idx, batch_dims=dims)
        yb = tf.gather(chunk.y_train, idx, batch_dims=dims)
        wb = tf.gather(chunk.w_train, idx, batch_dims=dims)           # (K, B)
        ws = flat_ws.unpack(flat)
        with tf.GradientTape() as tape:
            tape.watch(ws)
            losses = self.per_sample(yb, self.forward(ws, xb)) * wb
            losses = tf.where(ok[None, :], losses, tf.zeros_like(losses))
            # Keras "sum_over_batch_size" over the real batch (weighted rows, divided by
            # the batch size, not the weights' sum); padding adds exact zeros.
            batch_loss = tf.reduce_sum(losses, axis=1) / b
            objective = tf.reduce_sum(batch_loss)   # SUM over members, never the mean
        grads = flat_ws.pack(tape.gradient(objective, ws))
        (flat,), slots = self.update([flat], [grads], slots, it, chunk.lr)
        return flat, slots, it + 1, total + batch_loss * b

    def records(self, chunk, ws, total):
        """Epoch-end records, inference mode (the MLP has no dropout/batchnorm): outputs
        on train and val, train loss, val loss, the head's gradient norm on train."""
        import tensorflow as tf

        train_loss = total / tf.constant(float(chunk.n_train), tf.float32)
        head = ws[-2:]
        with tf.GradientTape() as tape:
            tape.watch(head)
            z_train = self.forward(ws[:-2] + head, chunk.x_train)
            objective = tf.reduce_sum(self.member_mean(self.per_sample(chunk.y_train_k, z_train)))
        gk, gb = tape.gradient(objective, head)
        grad_norm = tf.sqrt(tf.reduce_sum(tf.square(gk), axis=[1, 2])
                            + tf.reduce_sum(tf.square(gb), axis=1))
        z_val = self.forward(ws, chunk.x_val)
        val_loss = self.member_mean(self.per_sample(chunk.y_val_k, z_val))
        return self.head_act(z_train), self.head_act(z_val), train_loss, val_loss, grad_norm

    def epoch(self, chunk, flat_ws, e, flat, slots, it, tas):
        """Epoch ``e``: every batch in a while loop, then the epoch's records."""
        import tensorflow as tf

        order_e = chunk.order[:, e, :]

        def body(s, flat, slots, it, total):
            flat, slots, it, total = self.step(chunk, flat_ws, s, flat, slots, it, total,
                                               order_e)
            return s + 1, flat, slots, it, total

        _, flat, slots, it, total = tf.while_loop(
            lambda s, *_: s < chunk.S, body,
            (tf.constant(0), flat, slots, it, tf.zeros((chunk.K,), tf.float32)))
        records = self.records(chunk, flat_ws.unpack(flat), total)
        tas = [ta.write(e, r) for ta, r in zip(tas, records)]
        return e + 1, flat, slots, it, tas

    def train(self, x_train, y_train, x_val, y_val, w_train, order, valid, lr, ws):
        """``order``: (K, E, S*B) per-member example indices, each epoch padded to S full
        batches; ``valid``: (S*B,) True for real positions (the last batch may be short).
        Returns the per-epoch records, leading axis K, and the final weights."""
        import tensorflow as tf

        global TRACE_COUNT
        TRACE_COUNT += 1
        chunk = _Chunk(x_train, y_train, x_val, y_val, w_train, order, valid, lr,
                       self.config.batch_size)
        flat_ws = _Flat(ws)
        flat = flat_ws.pack(ws)
        K, E, units = chunk.K, self.config.epochs, self.config.units
        tas = [tf.TensorArray(tf.float32, size=E, element_shape=s) for s in (
            (K, chunk.n_train, units), (K, x_val.shape[-2], units), (K,), (K,), (K,))]
        _, flat, _, _, tas = tf.while_loop(
            lambda e, *_: e < E,
            lambda e, flat, slots, it, tas: self.epoch(chunk, flat_ws, e, flat, slots, it, tas),
            (tf.constant(0), flat, self.slots(flat), tf.constant(0, tf.int64), tas))
        return _members_records(tas, flat_ws.unpack(flat))


class _BackboneGraph:
    """The training function of a backbone configuration: Keras' own ``stateless_call``
    of the model, once per member, all members unrolled in one graph (K calls), so each
    member's forward pass, loss, BatchNormalization statistics and Dropout masks are
    exactly its plain-fit run's ops; ``tf.GradientTape`` for every member's gradient at
    once (the objective is the SUM of the members' losses); and ``_Graph``'s Adam/SGD
    arithmetic on the members' flat trainable variables (Keras' TensorFlow optimizer has
    no ``stateless_apply``). docs/backends-stacking.md says why this route.

    Batches are the rows ``trace.batch_order`` gives, with a short last batch of its own
    shape as ``model.fit`` has (padding rows would enter BatchNormalization's batch
    statistics and change the Dropout masks' shape). ``model``: the configuration's Keras
    model (only its stateless call is used); ``loss``: the run's Keras loss, reduction
    "sum_over_batch_size", with the rows' weights as ``sample_weight`` (class_weight)."""

    def __init__(self, config, model, loss):
        import_tensorflow()
        self.config, self.model, self.loss_fn = config, model, loss
        self.T = len(model.trainable_variables)
        self.is_head = members.head_mask(model)
        self.optimizer = _Graph(config, None)       # its update and slots

    def function(self):
        import tensorflow as tf

        return tf.function(self.train, jit_compile=self.config.jit, reduce_retracing=False,
                           autograph=False)

    def member_loss(self, ws, nts, x, y, w):
        """One member's batch loss (its Keras loss, plus the layers' own losses as
        Keras' ``compute_loss`` adds them) and its updated non-trainable variables."""
        import tensorflow as tf

        out, nts, extra = self.model.stateless_call(ws, nts, x, training=True,
                                                    return_losses=True)
        loss = self.loss_fn(y, out, sample_weight=w)
        for term in extra:
            loss = loss + tf.reduce_sum(tf.cast(term, loss.dtype))
        return loss, nts

    def step(self, chunk, flat_ws, flat, nts, slots, it, total, idx):
        """One batch for every member (``idx`` (K, b): each member's rows): new flat
        weights, non-trainable variables, slots, step count and loss total."""
        import tensorflow as tf

        K = idx.shape[0]
        mine, nts_k = _per_member(flat_ws.unpack(flat), K), _per_member(nts, K)
        with tf.GradientTape() as tape:
            tape.watch(mine)
            losses, new_nts = [], []
            for k in range(K):
                data = [chunk.member(a, k) for a in (chunk.x_train, chunk.y_train,
                                                     chunk.w_train)]
                x, y, w = (tf.gather(a, idx[k]) for a in data)
                loss, nt = self.member_loss(mine[k], nts_k[k], x, y, w)
                losses.append(loss)
                new_nts.append(nt)
            objective = tf.add_n(losses)    # SUM over members, never the mean
        grads = tape.gradient(objective, mine)
        grads = flat_ws.pack([tf.stack(g) for g in zip(*grads)])
        (flat,), slots = self.optimizer.update([flat], [grads], slots, it, chunk.lr)
        nts = [tf.stack(v) for v in zip(*new_nts)] if nts else nts
        b = tf.cast(tf.shape(idx)[1], tf.float32)
        return flat, nts, slots, it + 1, total + tf.stack(losses) * b

    def records(self, chunk, ws, nts):
        """Epoch-end records per member, inference mode: outputs on train and val, val
        loss, the head's gradient norm on train (``keras_fit._tf_grad_norm``)."""
        import tensorflow as tf

        K = chunk.K
        mine, nts_k = _per_member(ws, K), _per_member(nts, K)
        out_train, out_val, val_loss, grad_norm = [], [], [], []
        for k in range(K):
            x, y = chunk.member(chunk.x_train, k), chunk.member(chunk.y_train, k)
            head = [w for w, h in zip(mine[k], self.is_head) if h]
            with tf.GradientTape() as tape:     # the head's variables are mine[k]'s own
                tape.watch(head)
                out, _ = self.model.stateless_call(mine[k], nts_k[k], x, training=False)
                loss = self.loss_fn(y, out)
            grad_norm.append(tf.linalg.global_norm(tape.gradient(loss, head)))
            val, _ = self.model.stateless_call(mine[k], nts_k[k],
                                               chunk.member(chunk.x_val, k), training=False)
            val_loss.append(self.loss_fn(chunk.member(chunk.y_val, k), val))
            out_train.append(out)
            out_val.append(val)
        return (tf.stack(out_train), tf.stack(out_val), tf.stack(val_loss),
                tf.stack(grad_norm))

    def epoch(self, chunk, flat_ws, e, flat, nts, slots, it, tas):
        """Epoch ``e``: the full batches in a while loop, the short last batch as one more
        step of its own shape, then the epoch's records."""
        import tensorflow as tf

        B, n = self.config.batch_size, chunk.n_train
        full, rest = divmod(n, B)
        order_e = chunk.order[:, e, :n]

        def body(s, flat, nts, slots, it, total):
            idx = tf.slice(order_e, [0, s * B], [chunk.K, B])
            return (s + 1,) + self.step(chunk, flat_ws, flat, nts, slots, it, total, idx)

        total = tf.zeros((chunk.K,), tf.float32)
        if full:
            _, flat, nts, slots, it, total = tf.while_loop(
                lambda s, *_: s < full, body, (tf.constant(0), flat, nts, slots, it, total))
        if rest:
            flat, nts, slots, it, total = self.step(chunk, flat_ws, flat, nts, slots, it,
                                                    total, order_e[:, full * B:])
        out_train, out_val, val_loss, grad_norm = self.records(chunk, flat_ws.unpack(flat),
                                                               nts)
        train_loss = total / tf.constant(float(n), tf.float32)
        records = (out_train, out_val, train_loss, val_loss, grad_norm)
        tas = [ta.write(e, r) for ta, r in zip(tas, records)]
        return e + 1, flat, nts, slots, it, tas

    def train(self, x_train, y_train, x_val, y_val, w_train, order, valid, lr, ws):
        """``_Graph.train``'s arguments and results; ``ws``: the members' trainable then
        non-trainable variables; ``valid`` is unused (the last batch is short)."""
        import tensorflow as tf

        global TRACE_COUNT
        TRACE_COUNT += 1
        chunk = _Chunk(x_train, y_train, x_val, y_val, w_train, order, valid, lr,
                       self.config.batch_size, len(self.config.input[0]))
        flat_ws = _Flat(ws[:self.T])
        flat, nts = flat_ws.pack(ws[:self.T]), list(ws[self.T:])
        K, E, units = chunk.K, self.config.epochs, self.config.units
        n_val = x_val.shape[1 if chunk.own else 0]
        tas = [tf.TensorArray(tf.float32, size=E, element_shape=s) for s in (
            (K, chunk.n_train, units), (K, n_val, units), (K,), (K,), (K,))]
        _, flat, nts, _, _, tas = tf.while_loop(
            lambda e, *_: e < E,
            lambda e, flat, nts, slots, it, tas: self.epoch(chunk, flat_ws, e, flat, nts,
                                                            slots, it, tas),
            (tf.constant(0), flat, nts, self.optimizer.slots(flat), tf.constant(0, tf.int64),
             tas))
        return _members_records(tas, flat_ws.unpack(flat) + nts)


def _expand(v, like):
    """(K,) -> broadcastable against a (K, ...) tensor."""
    import tensorflow as tf

    return tf.reshape(v, (-1,) + (1,) * (like.shape.rank - 1))


def _per_member(variables, K):
    """Stacked ``variables`` (each with leading axis K) as K lists, member by member:
    ``[[v[k] for v in variables] for k in range(K)]`` (empty lists for none)."""
    import tensorflow as tf

    if not variables:
        return [[] for _ in range(K)]
    return [list(vs) for vs in zip(*(tf.unstack(v) for v in variables))]


def _members_records(tas, weights):
    """What a chunk's program returns: the epochs' TensorArrays ``tas`` (train outputs,
    validation outputs, train loss, validation loss, gradient norm, each stacked by epoch)
    turned member-first, and the members' final ``weights``."""
    import tensorflow as tf

    out_train, out_val, train_loss, val_loss, grad_norm = [ta.stack() for ta in tas]
    return {
        "out_train": tf.transpose(out_train, (1, 0, 2, 3)),   # (K, E, N, units)
        "out_val": tf.transpose(out_val, (1, 0, 2, 3)),
        "loss_train": tf.transpose(train_loss),               # (K, E)
        "loss_val": tf.transpose(val_loss),
        "grad_norm": tf.transpose(grad_norm),
        "weights": weights,
    }


# this backend's trainer, and its methods under the module's names
# (``trainers.STACKED`` names iter_fit_stacked)
TRAINER = TensorFlowTrainer()
iter_stacked = TRAINER.iter_train
train_stacked = TRAINER.train
iter_fit_stacked = TRAINER.iter_fit
fit_stacked = TRAINER.fit
