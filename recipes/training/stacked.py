"""Train many runs at once: weights stacked on a leading member axis, one compiled graph.

``fit_stacked(setups, split)`` has the contract of ``recipes.training.keras_fit.fit_keras``
(one ``Trace`` per setup, in order) and matches it run for run: every member
starts from ``models.initial_weights`` for its own seed (what ``build_model``
starts from), sees its examples in the order ``train.batch_order`` gives for its
seed (a per-member index tensor gathered inside the graph), and is updated by
the same Adam/SGD arithmetic Keras uses. What differs is only how the work is
laid out:

* **Chunks.** Setups that can share one graph (same hidden widths, head units
  and activation, loss spec, target encoding, optimizer class and
  hyperparameters, batch size, epochs) are grouped; a group is cut into chunks
  of at most ``max_members(...)`` members. Learning rate and ``output_scale``
  are per member (a learning-rate argument and the initial weights), so they do
  not split groups, and different recipes with the same head/loss/encoding share
  a chunk.
* **Weights** are tensors with a leading member axis ``K``: kernels ``(K, in,
  out)``, biases ``(K, out)``; layers are batched matmuls.
* **Loss.** Per member: the recipe's Keras loss (``make_loss(recipe)`` rebuilt
  with ``reduction="none"``) averaged over that member's batch exactly as Keras'
  ``sum_over_batch_size`` does; the objective is the SUM over members. Members
  share no parameters, so the gradient of the sum with respect to member ``k``'s
  weights is member ``k``'s own gradient (averaging instead would divide every
  member's gradient, hence SGD's learning rate, by ``K``).
* **Optimizer.** Adam and SGD (with or without momentum/Nesterov) are written
  out elementwise with Keras' own formulas and float32 casts, so each member's
  update equals the Keras optimizer's. Anything that would couple members or
  that is not written out is refused with ``ValueError`` before training:
  ``clipnorm`` (the norm would be taken over all members' slices of a stacked
  tensor), ``global_clipnorm`` (over all members' gradients), ``clipvalue``
  (refused too: the stacked trainer keeps one rule, no clipping), weight decay,
  EMA, AMSGrad, loss scaling, gradient accumulation, learning-rate schedules,
  other optimizer classes. Use ``fit_keras`` for those; ``stackable(setup)``
  tells beforehand. (Invalid values, e.g. a negative learning rate or seed, are
  "failed" runs, as in ``fit_keras``.)
* **One compiled function per chunk runs the whole training, all epochs**
  (a ``tf.function``, XLA-compiled or not, see ``JIT`` and ``use_xla``), and
  records per epoch, inside the graph:
  raw outputs on train and val (inference, after the epoch), the train loss as
  Keras logs it (the batch-size-weighted mean of the batch losses), the val loss
  (the loss on the val outputs), and the global norm of the head's gradient on
  the full training split. Data, index tensors, initial weights and learning
  rates are arguments, never captured constants, so one compiled function
  serves every chunk with the same configuration and shapes (``_FUNCTIONS``
  caches them across calls; ``TRACE_COUNT`` counts traces).

Loss paths, matched to the reference: the training loss and the gradient norm
see the activation's output directly, so Keras' TensorFlow backend computes
cross-entropies from the cached logits (as it does in ``model.fit`` and in an
eager ``model(x)``); the val loss is computed from the outputs as plain values
(``fit_keras`` passes numpy outputs), i.e. the clipped-probability form.

Divergence: a member whose epoch train loss or outputs (train or val) are not
finite gets status ``"diverged"`` and its history up to and including the first
non-finite epoch, exactly as ``fit_keras`` records it (its callback appends that
epoch, then stops). The other members are unaffected: nothing is shared across
members (a NaN member's loss enters the summed objective, but the derivative of a
sum with respect to each term is 1, so no NaN reaches another member's weights).

Failures: an exception while preparing or training a chunk gives ``"failed"``
traces for that chunk's setups; other chunks carry on. Configuration the
stacked trainer cannot reproduce (see Optimizer) raises ``ValueError`` up front.

Seconds: see ``iter_stacked`` (each chunk is charged the wall time since the
previous chunk finished, shared by its members and spread over epochs, so the
seconds of all runs of a call sum to its wall time, compiling included).
``fit_keras`` likewise counts its own tracing in the first epoch.

XLA or not (``JIT = "auto"``): XLA-compiled chunks train ~3x faster (digits:
~11 ms vs ~35 ms per run on 2 cores) but compile ~1 s per configuration and
shapes; "auto" compiles with XLA when the persistent compilation cache is on
(the default, see ``persistent_cache``: a compiled chunk function is then loaded
in ~0.3 s by every later process), when this process already compiled it, or
when the saved time should exceed the compile time (``use_xla``; ~100 digits
runs of one configuration); otherwise it runs the plain TensorFlow graph.
``configure_xla`` sets cheaper XLA compiler options.

Memory: runs are scored as their chunk finishes (``trace.scores`` in the worker
thread) and each trace keeps only its metrics and its final epoch's outputs, so
memory grows with the chunk, not with the number of runs. Per member the graph
returns ``4 * E * (N_train + N_val) * units`` bytes of outputs (E epochs), held
twice for a moment (the graph's buffer and the transposed result), plus the index
tensor ``4 * E * N_train`` and small weight/optimizer state. ``K`` is capped
(``max_members``) so that ``2 * K * 4 * E * (N_train + N_val) * units <=
MAX_CHUNK_BYTES`` and ``K <= MAX_MEMBERS`` (16: digits chunks hold 46 MB of
outputs); at most ``WORKERS`` chunks hold raw outputs at a time.
``train_stacked(..., keep_outputs=True)`` keeps every epoch's outputs instead
(what the equivalence tests against ``fit_keras`` compare).

Threads: see ``configure_threads``.
"""

from __future__ import annotations

import functools
import os
import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np

from ..files import user_cache
from ..quiet import import_keras, import_tensorflow, quiet_stderr
from .trace import Trace, batch_order, failed, per_setup, scores, targets

__all__ = [
    "AUTO_COST", "JIT", "MAX_CHUNK_BYTES", "MAX_MEMBERS", "MIN_SPLIT", "NotStackable",
    "StackedResult", "TRACE_COUNT", "WORKERS", "XLA_FLAGS", "CACHE", "cache_dir",
    "chunk_traces", "collect", "member_trace", "require_backend", "run_chunks",
    "configure_threads", "configure_xla", "fit_stacked", "flops_per_run", "iter_fit_stacked",
    "iter_stacked", "max_members", "persistent_cache", "publish_cache", "stackable",
    "train_stacked", "use_xla",
]

# Compile the whole training loop with XLA: True, False, or "auto" (``use_xla``).
JIT = "auto"
# "auto" cost model, measured on 2 cores (digits 64-32-10, 20 epochs, WORKERS=2):
# XLA compiles ~0.85 s longer than the plain graph (tracing is common to both),
# then trains ~1.16e-11 s faster per FLOP (about 12 vs 21 ms per digits run) and
# saves ~0.04 s of per-step overhead per call.
AUTO_COST = {"compile_s": 0.85, "per_flop_s": 1.16e-11, "per_call_s": 0.04}
# Largest chunk. With two workers, chunks of 8-16 are fastest per model on digits
# (11.8 ms) and 64 slowest (13.3 ms); tiny sets do not care.
MAX_MEMBERS = 16
# Budget for a chunk's recorded outputs (see the module docstring).
MAX_CHUNK_BYTES = 512 * 2**20
# Chunks trained at the same time (threads); a group is split into WORKERS chunks
# when each gets at least MIN_SPLIT members.
WORKERS = 2
MIN_SPLIT = 4

# Number of times a compiled training function has been traced (incremented in
# the Python body of the traced function, so it counts traces, not calls).
TRACE_COUNT = 0

# config -> tf.function; tf.function keeps one concrete (compiled) function per
# input shapes, so a cache hit with the same shapes neither retraces nor recompiles.
_FUNCTIONS = {}

_THREADS = {"configured": None}
_LOCK = threading.Lock()

# XLA compiler options for the CPU backend: LLVM's cheaper pipeline. Measured on
# 2 cores: compiling a digits chunk takes ~1.35 s instead of ~1.8 s, the compiled
# code runs as fast, and outputs are unchanged within float32 rounding. XLA
# reads XLA_FLAGS once, at its first compilation in the process, so
# ``configure_xla`` only helps if it runs before any XLA compilation.
XLA_FLAGS = ("--xla_backend_optimization_level=1", "--xla_llvm_disable_expensive_passes=true")


def configure_xla(flags=XLA_FLAGS):
    """Add ``flags`` to the XLA_FLAGS environment variable (those not already there,
    by name, so a user's own setting wins). Called by ``fit_stacked`` on first use."""
    current = os.environ.get("XLA_FLAGS", "")
    names = {f.split("=")[0] for f in current.split()}
    extra = [f for f in flags if f.split("=")[0] not in names]
    if extra:
        os.environ["XLA_FLAGS"] = " ".join([current] + extra).strip()


# --- the persistent compilation cache ---------------------------------------------------
#
# XLA-compiled chunk functions are kept on disk (TensorFlow's persistent XLA cache,
# ``TF_XLA_FLAGS=--tf_xla_persistent_cache_directory``), so a later process with the same
# graph and shapes loads the compiled code instead of compiling it (digits chunk: ~1.0 s
# to compile, ~0.3 s to load). Three things make that work and keep it safe:
#
# * Stable names. TensorFlow names traced functions (a tf.function, the bodies of its
#   while loops) with a process-wide counter, and those names are part of the XLA
#   program whose hash keys the cache, so every process would miss. ``_stable_names``
#   numbers a chunk function's trace from a base fixed by its configuration and shapes.
# * Atomic entries. TensorFlow writes entries in place; a process reading a file that
#   another is still writing would fail to parse it. So TensorFlow writes to a staging
#   folder of this process only (pre-filled with hard links to the shared entries), and
#   ``publish_cache`` links finished entries into the shared folder (an atomic create),
#   after each ``iter_stacked`` call and at exit.
# * One folder per TensorFlow, Keras, machine and XLA_FLAGS (``cache_dir``): an upgrade
#   starts a new folder and never reads an entry compiled by another version.
#
# On by default; RECIPES_XLA_CACHE=0 turns it off, RECIPES_CACHE_DIR moves it.

CACHE = os.environ.get("RECIPES_XLA_CACHE", "1").lower() not in ("0", "false", "off", "no")
CACHE_FLAG = "--tf_xla_persistent_cache_directory"
_CACHE = {"shared": None, "staging": None}


def _version(*names):
    from importlib import metadata

    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def cache_dir(root=None):
    """The folder of this process's compiled functions: ``root`` (default
    ``files.user_cache()``: $RECIPES_CACHE_DIR, else the user cache folder), then one
    subfolder per TensorFlow and Keras version, machine and XLA_FLAGS."""
    import hashlib
    import platform

    root = root or str(user_cache())
    tf = _version("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel",
                  "tf-nightly")
    flags = hashlib.sha1(os.environ.get("XLA_FLAGS", "").encode()).hexdigest()[:8]
    return os.path.join(root, f"xla-tf{tf}-keras{_version('keras')}-{platform.machine()}-{flags}")


def persistent_cache(directory=None):
    """Keep XLA's compiled chunk functions on disk across processes; returns the shared
    folder (None when TF_XLA_FLAGS already names a cache folder of the user's own).

    ``directory``: the root folder (default: see ``cache_dir``). Must be called before
    the process's first XLA compilation (``fit_stacked`` calls it on first use when
    ``CACHE`` is on). Safe when several processes share the folder (see above).
    TensorFlow may log a harmless "Error parsing text-format
    tensorflow.XlaSerializedCacheEntry" when it reads an entry.
    """
    import atexit
    import socket
    import tempfile

    if _CACHE["staging"] is not None:   # TensorFlow reads its flags once per process
        return _CACHE["shared"]
    current = os.environ.get("TF_XLA_FLAGS", "")
    if CACHE_FLAG in current:
        return None
    shared = cache_dir(directory)
    os.makedirs(shared, exist_ok=True)
    host = socket.gethostname().replace("-", "_")
    _remove_stale_staging(shared, host)
    staging = tempfile.mkdtemp(prefix=f".staging-{host}-{os.getpid()}-", dir=shared)
    for name in os.listdir(shared):
        if name.endswith(".pb"):
            try:
                os.link(os.path.join(shared, name), os.path.join(staging, name))
            except OSError:     # no hard links here: copy (readers see whole files only)
                _copy(os.path.join(shared, name), os.path.join(staging, name))
    flags = [f for f in current.split() if not f.startswith(CACHE_FLAG)]
    os.environ["TF_XLA_FLAGS"] = " ".join(flags + [f"{CACHE_FLAG}={staging}"])
    atexit.register(_close_cache)
    _CACHE.update(shared=shared, staging=staging)
    return shared


def _copy(src, dst):
    import shutil

    from ..files import atomic_write

    atomic_write(dst, lambda tmp: shutil.copyfile(src, tmp))


def publish_cache():
    """Link the entries this process compiled into the shared cache folder; returns
    how many. Each appears whole or not at all (``os.link`` creates the name atomically;
    a copy is renamed into place). An entry another process published first is kept."""
    shared, staging = _CACHE["shared"], _CACHE["staging"]
    if staging is None or not os.path.isdir(staging):
        return 0
    new = 0
    for name in os.listdir(staging):
        src, dst = os.path.join(staging, name), os.path.join(shared, name)
        if not name.endswith(".pb") or os.path.exists(dst):
            continue
        try:
            os.link(src, dst)
        except FileExistsError:
            continue
        except OSError:
            _copy(src, dst)
        new += 1
    return new


def _close_cache():
    import shutil

    try:
        publish_cache()
    finally:
        if _CACHE["staging"]:
            shutil.rmtree(_CACHE["staging"], ignore_errors=True)


def _remove_stale_staging(shared, host):
    """Remove staging folders of processes of this host that are gone (killed ones)."""
    import shutil

    for name in os.listdir(shared):
        parts = name.split("-")
        if not name.startswith(".staging-") or len(parts) < 4 or parts[1] != host:
            continue
        try:
            os.kill(int(parts[2]), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(shared, name), ignore_errors=True)
        except (ValueError, OSError):
            continue


_TRACE_LOCK = threading.Lock()
_STABLE = set()     # keys traced with stable names in this process


def _stable_names(key):
    """A context in which TensorFlow's name counter (``ops.uid``) counts from a base fixed
    by ``key`` (a string), so a trace of the same function gives the same XLA program in
    every process. Used once per key and process (names must stay unique in a process);
    holds a lock, so two traces never interleave their numbers."""
    import contextlib
    import hashlib
    import itertools

    from tensorflow.python.framework import ops

    @contextlib.contextmanager
    def stable():
        with _TRACE_LOCK:
            if key in _STABLE:
                yield
                return
            _STABLE.add(key)
            base = (1 + int(hashlib.sha1(key.encode()).hexdigest()[:8], 16)) << 24
            counter, real = itertools.count(base), ops.uid
            ops.uid = lambda: next(counter)
            try:
                yield
            finally:
                ops.uid = real

    return stable()


def configure_threads(intra=None, inter=None):
    """Set TensorFlow's thread pools once, before TensorFlow starts its runtime.

    Chosen: both pools as large as the cores this process may use (2 here).
    ``fit_stacked`` runs ``WORKERS`` (2) chunks at once on Python threads; measured
    on 2 cores (digits, 16 runs): XLA chunks overlap only with an intra-op pool of 2
    (intra=1: 18-22 ms per run instead of 10), and plain-graph chunks overlap only
    with an inter-op pool of 2 (inter=1: 41 ms per run instead of 23); larger pools
    would only oversubscribe the cores. TensorFlow's own default is the same on this
    machine, so a process that started TensorFlow before (e.g. built a Keras model
    or optimizer) keeps equivalent pools: then this returns False and changes nothing.
    Called by ``fit_stacked`` on first use.
    """
    import_tensorflow()
    import tensorflow as tf

    if _THREADS["configured"] is not None:
        return _THREADS["configured"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(intra or cores))
        tf.config.threading.set_inter_op_parallelism_threads(int(inter or cores))
        ok = True
    except RuntimeError:   # the runtime is already initialized: keep its pools
        ok = False
    _THREADS["configured"] = ok
    return ok


# --- what a member needs, and what members must share -------------------------------

_OPTIMIZER_OFF = {   # config key -> value meaning "off"
    "weight_decay": (None, 0, 0.0),
    "use_ema": (False,),
    "loss_scale_factor": (None, 1, 1.0),
    "gradient_accumulation_steps": (None, 1),
    "amsgrad": (False,),
}


def _optimizer_spec(setup):
    """``(kind, hyperparameters, learning_rate)`` from the Keras optimizer the setup names.

    Raises ValueError for configurations the stacked trainer cannot reproduce
    member by member. Building a Keras optimizer costs milliseconds, so specs of
    named optimizers are cached.
    """
    optimizer, learning_rate = setup.settings.optimizer, setup.settings.learning_rate
    if isinstance(optimizer, str):
        try:
            return _named_optimizer_spec(optimizer, learning_rate)
        except TypeError:      # an unhashable learning rate: make_optimizer will say why
            pass
    return _spec_of(optimizer, learning_rate)


@functools.lru_cache(maxsize=256)
def _named_optimizer_spec(name, learning_rate):
    return _spec_of(name, learning_rate)


class NotStackable(ValueError):
    """A setup the stacked trainer refuses: it would couple members, or is not implemented."""


def _spec_of(optimizer, learning_rate):
    import_keras()
    import keras

    from ..models.build import make_optimizer

    opt = make_optimizer(optimizer, learning_rate)
    cfg = opt.get_config()
    clip = {k: cfg.get(k) for k in ("clipnorm", "global_clipnorm", "clipvalue")
            if cfg.get(k) is not None}
    if clip:
        raise NotStackable(
            "The stacked trainer does not clip gradients: it trains many runs as slices of "
            "shared stacked tensors, so clipnorm would take one norm over every run's slice "
            "of a tensor and global_clipnorm one norm over all runs' gradients, coupling runs "
            "that must be independent (clipvalue is refused too, to keep one rule). Train "
            f"this setup with recipes.training.keras_fit.fit_keras instead. Received: {clip}")
    for key, off in _OPTIMIZER_OFF.items():
        if key in cfg and cfg[key] not in off:
            raise NotStackable(f"The stacked trainer does not implement {key}={cfg[key]!r} "
                             f"({type(opt).__name__}); use recipes.training.keras_fit.fit_keras.")
    lr = cfg.get("learning_rate")
    if not isinstance(lr, (int, float, np.floating)):
        raise NotStackable("The stacked trainer needs a constant learning rate; use "
                         f"recipes.training.keras_fit.fit_keras. Received: learning_rate={lr!r}")
    if _is_exactly(opt, keras.optimizers.Adam):
        hyper = (float(cfg["beta_1"]), float(cfg["beta_2"]), float(cfg["epsilon"]))
        return "adam", hyper, float(lr)
    if _is_exactly(opt, keras.optimizers.SGD):
        return "sgd", (float(cfg["momentum"]), bool(cfg["nesterov"])), float(lr)
    raise NotStackable(f"The stacked trainer implements keras.optimizers.Adam and SGD. "
                     f"Received: {type(opt).__name__}; use recipes.training.keras_fit.fit_keras.")


def _is_exactly(optimizer, cls):
    """Whether ``optimizer`` is a ``cls`` itself, not a user's subclass (which may change
    the update): on PyTorch, Keras makes every ``keras.optimizers.Adam`` or ``SGD`` an
    instance of its backend twin (``keras.src.backend.torch.optimizers``), which
    counts as the class itself."""
    kind = type(optimizer)
    return kind is cls or (kind.__module__.startswith("keras.src.backend.")
                           and kind.__bases__[-1] is cls)


def stackable(setup):
    """None if ``fit_stacked`` can train ``setup``, else the reason (a string).

    Only what the stacked trainer refuses counts (``NotStackable``); a setup that is
    invalid for any trainer (e.g. a negative learning rate) is None here and a
    "failed" run in both trainers.
    """
    try:
        _optimizer_spec(setup)
    except NotStackable as err:
        return str(err)
    except Exception:
        return None
    return None


@dataclass(frozen=True)
class _Config:
    """What members of one compiled graph must share (the cache key)."""

    hidden: tuple
    units: int
    activation: str
    loss: tuple          # (namespace, class, sorted kwargs) from recipes.models.spec.loss_spec
    encoding: str        # same encoding + same split -> same targets for every member
    optimizer: str
    hyper: tuple
    batch_size: int
    epochs: int
    jit: bool | None     # None until the group's size decides (use_xla)


def _config(setup, split):
    from ..models.spec import loss_spec

    recipe, s = setup.recipe, setup.settings
    kind, hyper, _ = _optimizer_spec(setup)
    ns, cls, kwargs = loss_spec(recipe)
    if isinstance(s.batch_size, bool) or int(s.batch_size) != s.batch_size or s.batch_size < 1:
        raise ValueError(f"Expected a positive integer batch_size. Received: {s.batch_size!r}")
    if isinstance(s.epochs, bool) or int(s.epochs) != s.epochs or s.epochs < 1:
        raise ValueError(f"Expected a positive integer epochs. Received: {s.epochs!r}")
    hidden = tuple(s.hidden)
    if any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1 for h in hidden):
        raise ValueError(f"Expected hidden to be a sequence of positive layer widths such as "
                         f"(32,). Received: hidden={s.hidden!r}")
    hidden = tuple(int(h) for h in hidden)
    # validates seed, output_scale and the head size now, so a bad value fails this run
    # alone (the weights are cached for training)
    _initial_weights(recipe, split.X_train.shape[1], split.n, hidden, setup.seed,
                     s.output_scale)
    return _Config(hidden=hidden, units=recipe.n_units(split.n),
                   activation=recipe.activation, loss=(ns, cls, tuple(sorted(kwargs.items()))),
                   encoding=recipe.encoding, optimizer=kind, hyper=hyper,
                   batch_size=int(s.batch_size), epochs=int(s.epochs), jit=None)


# (config with jit=True, K, n_train, n_val, features) compiled in this process
_COMPILED = set()


def flops_per_run(config, n_features, n_train, n_val):
    """Rough FLOPs of one run: 6 per weight per training example (forward and
    backward), 2 per weight per example for each epoch-end pass (outputs on train
    and val, the head-gradient pass on train)."""
    widths = (n_features,) + tuple(config.hidden) + (config.units,)
    weights = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    padded = -(-n_train // config.batch_size) * config.batch_size
    return config.epochs * weights * (6 * padded + 4 * n_train + 2 * n_val)


def use_xla(config, members, k, n_features, n_train, n_val):
    """Whether a group of ``members`` runs (chunks of ``k``) is compiled with XLA.

    ``JIT`` True/False decides. Under "auto": XLA when this process already
    compiled the function for these shapes, when a persistent XLA cache is set
    (``persistent_cache``: compiling once pays off over processes), or when the
    estimated training time saved (``AUTO_COST``) exceeds XLA's extra compile time.
    On digits (64-32-10, 20 epochs) the break-even is ~100 runs of one configuration;
    below that the plain TensorFlow graph finishes first.
    """
    from dataclasses import replace

    if JIT != "auto":
        return bool(JIT)
    if (replace(config, jit=True), k, n_train, n_val, n_features) in _COMPILED:
        return True
    if _CACHE["shared"] is not None or CACHE_FLAG in os.environ.get("TF_XLA_FLAGS", ""):
        return True
    saved = AUTO_COST["per_call_s"] + members * flops_per_run(
        config, n_features, n_train, n_val) * AUTO_COST["per_flop_s"]
    return saved > AUTO_COST["compile_s"]


def max_members(config, n_train, n_val, cap=None):
    """Chunk size cap for a configuration and split sizes (see the module docstring);
    ``cap``: the most members a chunk may have (default ``MAX_MEMBERS``)."""
    per_member = 2 * 4 * config.epochs * (n_train + n_val) * config.units
    return int(max(1, min(cap or MAX_MEMBERS, MAX_CHUNK_BYTES // max(per_member, 1))))


# --- the compiled training function ----------------------------------------------------

def _loss_none(recipe):
    """The recipe's loss object (``make_loss``) with reduction "none" (per-sample losses)."""
    from ..models.build import make_loss

    loss = make_loss(recipe)
    cfg = loss.get_config()
    cfg["reduction"] = "none"
    return type(loss).from_config(cfg)


class _QuietRetracing:
    """Drops TensorFlow's "triggered tf.function retracing" warning for this module's
    functions: each configuration is a new tf.function of the same Python code, which
    TensorFlow's heuristic reports as excessive retracing (TRACE_COUNT counts them)."""

    def filter(self, record):
        msg = record.getMessage()
        return not ("triggered tf.function retracing" in msg and "_build.<locals>.train" in msg)


def _build(config, recipe):
    """A tf.function training a chunk of members for ``config.epochs`` epochs.

    ``recipe``: any recipe with this config (they share activation and loss spec).
    """
    import_tensorflow()
    import keras
    import tensorflow as tf

    logger = tf.get_logger()
    if not any(isinstance(f, _QuietRetracing) for f in logger.filters):
        logger.addFilter(_QuietRetracing())
    loss_fn = _loss_none(recipe)
    head_act = keras.activations.get(config.activation)
    relu = keras.activations.get("relu")
    n_layers = len(config.hidden) + 1
    B, E = config.batch_size, config.epochs
    kind, hyper = config.optimizer, config.hyper

    def forward(ws, x):
        """Pre-activations of the head, (K, n, units); x is (K, n, d) or shared (n, d)."""
        h = x
        for i in range(n_layers):
            kernel, bias = ws[2 * i], ws[2 * i + 1]
            h = tf.matmul(h, kernel) if h.shape.rank == 3 else tf.einsum("nd,kdh->knh", h, kernel)
            h = h + bias[:, None, :]
            if i < n_layers - 1:
                h = relu(h)
        return h

    def per_sample(y, z):
        """Per-sample losses (K, n); the loss sees the activation op, so it takes the
        stable logits path exactly as Keras does on a model's output tensor."""
        K, n, u = z.shape
        out = head_act(tf.reshape(z, (K * n, u)))
        y = tf.reshape(y, (K * n,) + tuple(y.shape[2:]))
        return tf.reshape(loss_fn(y, out), (K, n))

    def member_mean(losses):
        # Keras "sum_over_batch_size": sum, then divide by the number of values.
        return tf.reduce_sum(losses, axis=1) / tf.cast(losses.shape[1], losses.dtype)

    def expand(v, like):       # (K,) -> broadcastable against a (K, ...) tensor
        return tf.reshape(v, (-1,) + (1,) * (like.shape.rank - 1))

    def update(ws, grads, slots, step, lr):
        """One optimizer step for every member, Keras' arithmetic elementwise."""
        if kind == "adam":
            beta_1, beta_2, eps = hyper
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
                new_w.append(w - (m * expand(alpha, m)) / (tf.sqrt(v) + epsilon))
                new_m.append(m)
                new_v.append(v)
            return new_w, [new_m, new_v]
        momentum, nesterov = hyper
        if momentum == 0:
            return [w - g * expand(lr, g) for w, g in zip(ws, grads)], slots
        mom = tf.constant(momentum, tf.float32)
        new_w, new_m = [], []
        for w, g, m in zip(ws, grads, slots[0]):
            glr = g * expand(lr, g)
            m = m * mom - glr
            new_w.append(w + (m * mom - glr) if nesterov else w + m)
            new_m.append(m)
        return new_w, [new_m]

    def train(x_train, y_train, x_val, y_val, order, valid, lr, ws):
        """``order``: (K, E, S*B) per-member example indices, each epoch padded to S full
        batches; ``valid``: (S*B,) True for real positions (the last batch may be short)."""
        global TRACE_COUNT
        TRACE_COUNT += 1
        K, _, padded = order.shape
        S = padded // B
        n_train = x_train.shape[-2]
        own = x_train.shape.rank == 3      # every member has its own split
        # The loop carries every member's parameters as one flat (K, P) tensor (and
        # the optimizer slots likewise): XLA's CPU code updates 2-D loop-carried
        # buffers several times faster than 3-D ones.
        shapes = [tuple(w.shape[1:]) for w in ws]
        sizes = [int(np.prod(sh)) for sh in shapes]
        bounds = np.cumsum([0] + sizes)

        def unpack(flat):
            return [tf.reshape(flat[:, a:b], (K,) + sh)
                    for a, b, sh in zip(bounds[:-1], bounds[1:], shapes)]

        def pack(tensors):
            return tf.concat([tf.reshape(t, (K, -1)) for t in tensors], axis=1)

        flat = pack(ws)
        if kind == "adam":
            slots = [[tf.zeros_like(flat)], [tf.zeros_like(flat)]]
        elif hyper[0] != 0:
            slots = [[tf.zeros_like(flat)]]
        else:
            slots = []
        y_train_k = y_train if own else tf.broadcast_to(y_train[None], (K,) + tuple(y_train.shape))
        y_val_k = y_val if own else tf.broadcast_to(y_val[None], (K,) + tuple(y_val.shape))

        def step(s, flat, slots, it, total, order_e):
            idx = tf.slice(order_e, [0, s * B], [K, B])
            ok = tf.slice(valid, [s * B], [B])                      # (B,)
            b = tf.reduce_sum(tf.cast(ok, tf.float32))              # real batch size
            dims = 1 if own else 0
            xb = tf.gather(x_train, idx, batch_dims=dims)
            yb = tf.gather(y_train, idx, batch_dims=dims)
            ws = unpack(flat)
            with tf.GradientTape() as tape:
                tape.watch(ws)
                losses = per_sample(yb, forward(ws, xb))
                losses = tf.where(ok[None, :], losses, tf.zeros_like(losses))
                # Keras "sum_over_batch_size" over the real batch; padding adds exact zeros.
                batch_loss = tf.reduce_sum(losses, axis=1) / b
                objective = tf.reduce_sum(batch_loss)   # SUM over members, never the mean
            grads = pack(tape.gradient(objective, ws))
            (flat,), slots = update([flat], [grads], slots, it, lr)
            # Keras' loss tracker: a Mean weighted by the batch size.
            return flat, slots, it + 1, total + batch_loss * b

        def epoch_body(e, flat, slots, it, tas):
            order_e = order[:, e, :]

            def body(s, flat, slots, it, total):
                flat, slots, it, total = step(s, flat, slots, it, total, order_e)
                return s + 1, flat, slots, it, total

            _, flat, slots, it, total = tf.while_loop(
                lambda s, *_: s < S, body,
                (tf.constant(0), flat, slots, it, tf.zeros((K,), tf.float32)))
            train_loss = total / tf.constant(float(n_train), tf.float32)
            ws = unpack(flat)

            # Epoch-end records, inference mode (the MLP has no dropout/batchnorm).
            head = ws[-2:]
            with tf.GradientTape() as tape:
                tape.watch(head)
                z_train = forward(ws[:-2] + head, x_train)
                objective = tf.reduce_sum(member_mean(per_sample(y_train_k, z_train)))
            gk, gb = tape.gradient(objective, head)
            grad_norm = tf.sqrt(tf.reduce_sum(tf.square(gk), axis=[1, 2])
                                + tf.reduce_sum(tf.square(gb), axis=1))
            z_val = forward(ws, x_val)
            val_loss = member_mean(per_sample(y_val_k, z_val))
            records = (head_act(z_train), head_act(z_val), train_loss, val_loss, grad_norm)
            tas = [ta.write(e, r) for ta, r in zip(tas, records)]
            return e + 1, flat, slots, it, tas

        tas = [tf.TensorArray(tf.float32, size=E, element_shape=s) for s in (
            (K, n_train, config.units), (K, x_val.shape[-2], config.units), (K,), (K,), (K,))]
        _, flat, _, _, tas = tf.while_loop(
            lambda e, *_: e < E, epoch_body,
            (tf.constant(0), flat, slots, tf.constant(0, tf.int64), tas))
        out_train, out_val, train_loss, val_loss, grad_norm = [ta.stack() for ta in tas]
        return {
            "out_train": tf.transpose(out_train, (1, 0, 2, 3)),   # (K, E, N, units)
            "out_val": tf.transpose(out_val, (1, 0, 2, 3)),
            "loss_train": tf.transpose(train_loss),               # (K, E)
            "loss_val": tf.transpose(val_loss),
            "grad_norm": tf.transpose(grad_norm),
            "weights": unpack(flat),
        }

    return tf.function(train, jit_compile=config.jit, reduce_retracing=False,
                       autograph=False)


def _function(config, recipe):
    with _LOCK:     # chunks of one group start together on the worker threads
        fn = _FUNCTIONS.get(config)
        if fn is None:
            fn = _FUNCTIONS[config] = _build(config, recipe)
    return fn


# --- chunks -> traces ------------------------------------------------------------------

@dataclass
class StackedResult:
    """``traces`` as ``fit_stacked`` returns them, and each run's final weights
    (``model.get_weights()`` order; None for failed runs)."""

    traces: list
    weights: list


# a chunk's fixed cost (per-step overhead of its loop, its call and scoring) in runs'
# worth of training: the chunk-size choice below trades it against padding
CHUNK_COST = 2


def _split(n, cap, workers):
    """``(sizes, K)``: how a group of ``n`` members is cut into chunks.

    All chunks of a group are compiled at one size ``K``, a power of two (or ``cap``),
    so that groups of different sizes share compiled functions (a new size costs a
    trace and a compile, ~0.3-1.2 s; a padding member costs one run's training, ~10-40
    ms on digits); smaller chunks are padded with dummy members (results discarded).
    ``K`` minimizes the trained slots plus ``CHUNK_COST`` per chunk, with at least
    ``workers`` chunks when each would get ``MIN_SPLIT`` members; sizes are as even as
    possible.
    """
    sizes = [1 << p for p in range(max(cap, 1).bit_length()) if 1 << p < cap] + [cap]
    if n >= workers * MIN_SPLIT:
        sizes = [k for k in sizes if -(-n // k) >= workers] or sizes[:1]
    k = min(sizes, key=lambda k: (-(-n // k) * (k + CHUNK_COST), -k))
    m = -(-n // k)
    return [n // m + (1 if j < n % m else 0) for j in range(m)], k


def _shapes(split):
    """(train rows, validation rows, features): members of one chunk share them."""
    return len(split.X_train), len(split.X_val), split.X_train.shape[1]


def _groups(setups, splits):
    """``{(config, split sizes): [setup index, ...]}`` in first-appearance order: setups
    that can share a chunk, since they share a configuration and split sizes (their
    splits may differ: each member then gets its own data). An invalid setup is a group
    of its own, keyed ``(("invalid", index, message), None)``."""
    groups = {}
    for i, (setup, split) in enumerate(zip(setups, splits)):
        try:
            key = (_config(setup, split), _shapes(split))
        except NotStackable:   # refused up front: the caller should use fit_keras
            raise
        except Exception as err:   # an invalid run fails alone, like in fit_keras
            key = (("invalid", i, f"{type(err).__name__}: {err}"), None)
        groups.setdefault(key, []).append(i)
    return groups


def _group(setups, splits):
    """Chunks: [(config, [setup index, ...], K), ...], ``_groups`` cut in order.

    ``K`` is the compiled chunk size (members + dummies, ``_split``). An invalid setup
    is a chunk of its own with an error-message key instead of a config.
    """
    from dataclasses import replace

    chunks = []
    for (key, shapes), members in _groups(setups, splits).items():
        if not isinstance(key, _Config):
            chunks.append((key, members, 1))
            continue
        n_train, n_val, d = shapes
        sizes, k = _split(len(members), max_members(key, n_train, n_val), WORKERS)
        key = replace(key, jit=use_xla(key, len(members), k, d, n_train, n_val))
        start = 0
        for size in sizes:
            chunks.append((key, members[start:start + size], k))
            start += size
    return chunks


_INITIAL = {}


def _initial_weights(recipe, d, n, hidden, seed, output_scale):
    """``models.initial_weights``, cached: the weights depend only on the layer widths,
    the seed and output_scale (seeded stateless initializers), not on the recipe's
    loss, so runs of different recipes with one architecture share them."""
    from ..models.build import initial_weights

    key = (d, hidden, recipe.n_units(n), seed, output_scale)
    if key not in _INITIAL:
        if len(_INITIAL) >= 8192:
            _INITIAL.clear()
        _INITIAL[key] = initial_weights(recipe, d, n, hidden=hidden, seed=seed,
                                        output_scale=output_scale)
    return _INITIAL[key]


def _stack_inputs(config, setups, splits):
    """The chunk's arguments. Members that share one Split share its arrays ((N, d));
    otherwise every member gets its own, stacked on a leading member axis ((K, N, d))."""
    split = splits[0]
    if all(s is split for s in splits):
        y_train, y_val = targets(setups[0].recipe, split)
        x_train, x_val = np.asarray(split.X_train, np.float32), np.asarray(split.X_val, np.float32)
    else:
        pairs = [targets(s.recipe, own) for s, own in zip(setups, splits)]
        y_train, y_val = (np.stack(part) for part in zip(*pairs))
        x_train = np.stack([np.asarray(s.X_train, np.float32) for s in splits])
        x_val = np.stack([np.asarray(s.X_val, np.float32) for s in splits])
    n_train = x_train.shape[-2]
    d = split.X_train.shape[1]
    per_member = [_initial_weights(s.recipe, d, split.n, config.hidden, s.seed,
                                   s.settings.output_scale) for s in setups]
    ws = [np.stack(layer) for layer in zip(*per_member)]
    B = config.batch_size
    padded = -(-n_train // B) * B
    order = np.zeros((len(setups), config.epochs, padded), dtype=np.int32)
    for k, s in enumerate(setups):
        order[k, :, :n_train] = batch_order(s.seed, config.epochs, n_train)
    valid = np.arange(padded) < n_train
    lr = np.asarray([_optimizer_spec(s)[2] for s in setups], dtype=np.float32)
    return x_train, y_train, x_val, y_val, order, valid, lr, ws


# XLA functions (``_call``'s keys) whose first call, which compiles them or loads them
# from the persistent cache, has run in this process
_LOADED = set()


def _call(fn, config, arrays, ws):
    """Run the chunk function; an XLA function's first trace gets stable names
    (``_stable_names``), so the persistent cache finds it in the next process, and its
    first call runs in ``quiet_stderr`` (loading from the cache logs harmless errors)."""
    import contextlib

    import_tensorflow()
    import tensorflow as tf

    args = [tf.constant(a) for a in arrays], [tf.constant(w) for w in ws]
    if not config.jit:
        return fn(*args[0], args[1])
    key = repr((config, [(a.shape, a.dtype.str) for a in arrays], [w.shape for w in ws]))
    with contextlib.nullcontext() if key in _LOADED else quiet_stderr():
        with _stable_names(key):
            fn.get_concrete_function(*args[0], args[1])
        out = fn(*args[0], args[1])
    _LOADED.add(key)
    return out


def _run_chunk(config, setups, splits, k=None, keep_outputs=False):
    """Train one chunk: (scored traces without seconds, final weights, wall seconds).

    ``k``: the compiled chunk size; the chunk is padded to it with copies of its
    first member, whose results are dropped. Each member's common metrics are computed
    here, from the chunk's outputs (``trace.scores``), and only the final epoch's outputs
    are kept (copies, so the chunk's arrays are freed), or every epoch's with
    ``keep_outputs``.
    """
    start = time.perf_counter()
    extra = (k or len(setups)) - len(setups)
    *arrays, ws = _stack_inputs(config, list(setups) + [setups[0]] * extra,
                                list(splits) + [splits[0]] * extra)
    fn = _function(config, setups[0].recipe)
    out = _call(fn, config, arrays, ws)
    if config.jit:
        _COMPILED.add((config, len(setups) + extra, arrays[0].shape[-2], arrays[2].shape[-2],
                       arrays[0].shape[-1]))
    res = {key: ([w.numpy() for w in v] if key == "weights" else v.numpy())
           for key, v in out.items()}
    del out
    final = res.pop("weights")
    recipe = setups[0].recipe     # the chunk's members share its activation

    def predict(x, members):
        return np.stack([_outputs([w[m] for w in final], x, recipe) for m in members])

    traces, weights = chunk_traces(config, res, setups, splits, final, predict, keep_outputs)
    return traces, weights, time.perf_counter() - start


def chunk_traces(config, res, setups, splits, final, predict, keep_outputs):
    """``(traces, final weights)`` of a trained chunk's members, shared by every
    backend's stacked trainer. ``res``: the per-epoch records, leading axis the members
    (``out_train``, ``out_val`` (K, E, N, units), ``loss_train``, ``loss_val``,
    ``grad_norm`` (K, E)); ``final``: the final weights, layer by layer, leading axis the
    members (numpy); ``predict(x, members)``: the outputs of the members (indices) whose
    test split is ``x``, (len(members), N, units), called once per test split. Members
    past ``len(setups)`` are padding.

    A member is cut at its first non-finite epoch (train loss or any output), as
    ``fit_keras`` records it, and marked diverged."""
    ok = (np.isfinite(res["loss_train"]) & np.isfinite(res["out_train"]).all(axis=(2, 3))
          & np.isfinite(res["out_val"]).all(axis=(2, 3)))
    by_test = {}    # the test split's final outputs: one call per split, for its members
    for m in range(len(setups)):
        if splits[m].X_test is not None:
            by_test.setdefault(id(splits[m].X_test), (splits[m].X_test, []))[1].append(m)
    tests = {m: out for x, members in by_test.values()
             for m, out in zip(members, predict(x, members))}
    traces, weights = [], []
    for m in range(len(setups)):
        bad = np.flatnonzero(~ok[m])
        epochs = config.epochs if bad.size == 0 else int(bad[0]) + 1
        outputs = {"train": res["out_train"][m, :epochs], "val": res["out_val"][m, :epochs]}
        if m in tests:
            outputs["test"] = tests[m][None]
        traces.append(member_trace(res, m, epochs, outputs, setups[m].recipe, splits[m],
                                   keep_outputs, diverged=bool(bad.size)))
        weights.append([w[m] for w in final])
    return traces, weights


def member_trace(res, m, epochs, outputs, recipe, split, keep_outputs, diverged):
    """The trace of member ``m`` of a chunk's arrays ``res`` (leading axis: members):
    its first ``epochs`` losses and gradient norms; its ``outputs`` kept whole
    (``keep_outputs``) or scored and cut to the last epoch; ``diverged``: it stopped at
    ``epochs`` on a non-finite value. Shared by every backend's stacked trainer."""
    trace = Trace(
        loss={"train": res["loss_train"][m, :epochs].astype(np.float64),
              "val": res["loss_val"][m, :epochs].astype(np.float64)},
        grad_norm=res["grad_norm"][m, :epochs].astype(np.float64))
    if keep_outputs:
        trace.outputs = outputs
    else:
        trace.metrics = scores(recipe, split, outputs)
        trace.outputs = {s: np.array(v[-1:]) for s, v in outputs.items()}
    if diverged:
        trace.status = "diverged"
        trace.error = f"non-finite loss or outputs at epoch {epochs}"
    return trace


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


def _guarded(run_chunk, key, chunk, k, splits, keep_outputs=False):
    """``run_chunk`` (a backend's chunk trainer) on one of ``_group``'s chunks, its
    failures recorded as failed runs so the grid carries on."""
    start = time.perf_counter()
    if not isinstance(key, _Config):    # a setup whose configuration is invalid
        return [failed(key[2])], [None], 0.0
    try:
        return run_chunk(key, chunk, splits, k, keep_outputs)
    except Exception as err:   # recorded as failed runs; the grid carries on
        msg = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=3)}"
        return [failed(msg) for _ in chunk], [None] * len(chunk), time.perf_counter() - start


def _start_order(chunks):
    """``_group``'s chunks in the order they start: each group's first chunk right after
    the previous group's first, so that one worker traces and compiles (or loads) the
    next configuration, a fixed cost of ~1 s, while the other trains the current one.
    Results are still yielded in setup order; at most one group's first chunk waits."""
    import itertools

    groups = [list(g) for _, g in itertools.groupby(chunks, key=lambda c: c[0])]
    order = groups[0][:1] if groups else []
    for i, group in enumerate(groups):
        order += groups[i + 1][:1] if i + 1 < len(groups) else []
        order += group[1:]
    return order


def _start():
    """First use in a process: thread pools, XLA options, the persistent cache."""
    configure_threads()
    configure_xla()
    if CACHE and JIT is not False:
        try:
            persistent_cache()
        except OSError:     # an unwritable cache folder: compile as if there were none
            pass


def iter_stacked(setups, split, keep_outputs=False):
    """Train ``setups`` on ``split`` in stacked chunks; yield ``(trace, final weights)``
    per setup, in order, each as soon as its chunk and every earlier setup's are done.

    ``split``: one Split for all setups, or one per setup (members of a chunk may
    train on different splits of the same sizes). Chunks run on ``WORKERS`` threads
    (TensorFlow releases the GIL while a compiled function runs, so two chunks can
    use two cores); each worker scores its chunk's outputs, so no more than
    ``WORKERS`` chunks of raw outputs are held at a time, and at most ``WORKERS + 1``
    chunks train ahead of the caller.

    Seconds: each chunk, in the order they finish, is charged the wall time since the
    previous one finished (the first: since this call started), shared equally by its
    members and spread evenly over its epochs: member seconds at epoch ``e`` are
    ``charge / members * e / epochs``. The seconds of all runs of a call add up to its
    wall time, and time spent outside the trainer (the caller storing runs between two
    chunks) counts too.
    """
    setups = list(setups)
    splits = per_setup(split, len(setups))
    _start()
    try:
        yield from run_chunks(_start_order(_group(setups, splits)), setups, splits,
                              _run_chunk, keep_outputs)
    finally:
        publish_cache()


def run_chunks(jobs, setups, splits, run_chunk, keep_outputs=False, workers=None):
    """Train the chunks ``jobs`` (``(key, members, k)``, as ``_group`` makes them) with
    the backend's ``run_chunk`` (``_guarded``: a failure fails only its chunk's runs) on
    ``workers`` threads (default ``WORKERS``); yield ``(trace, final weights)`` per setup,
    in setup order, each as soon as its chunk and every earlier setup's are done, with
    the seconds ``iter_stacked`` describes. Shared by every backend's stacked trainer."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    workers = workers or WORKERS
    last = time.perf_counter()
    jobs = iter(jobs)
    ready, weights, nxt, running = {}, {}, 0, {}
    pool = ThreadPoolExecutor(max_workers=workers)

    def submit():   # at most workers + 1 chunks trained ahead of the caller
        for key, members, k in jobs:
            running[pool.submit(_guarded, run_chunk, key, [setups[i] for i in members], k,
                                [splits[i] for i in members], keep_outputs)] = (key, members)
            if len(running) > workers:
                return

    try:
        submit()
        while running:
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                key, members = running.pop(future)
                got_t, got_w, _ = future.result()
                now = time.perf_counter()
                charge, last = now - last, now
                for i, t, w in zip(members, got_t, got_w):
                    if t.status != "failed":
                        t.seconds = charge / len(members) / key.epochs * np.arange(
                            1, len(t.loss["train"]) + 1)
                    ready[i], weights[i] = t, w
            submit()
            while nxt in ready:
                yield ready.pop(nxt), weights.pop(nxt)
                nxt += 1
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def train_stacked(setups, split, keep_outputs=False):
    """Train ``setups`` on ``split``: every trace and final weights, in order
    (``iter_stacked``). ``keep_outputs``: traces keep every epoch's raw outputs
    (``Trace.outputs``, 4 * epochs * rows * units bytes per run) instead of their
    scores and the final epoch's outputs."""
    return collect(iter_stacked(setups, split, keep_outputs))


def require_backend(backend, name):
    """RuntimeError unless Keras runs on ``backend``: a backend's own stacked trainer
    (``name``, e.g. "JAX") called in a process of another backend."""
    import keras

    if keras.backend.backend() != backend:
        raise RuntimeError(f"The {name} stacked trainer needs the {name} backend (set "
                           f"KERAS_BACKEND={backend} before Keras is imported). Received: "
                           f"Keras backend {keras.backend.backend()!r}")


def collect(pairs):
    """A ``StackedResult`` of ``(trace, final weights)`` pairs, in order: what every
    backend's ``train_stacked`` makes of its ``iter_stacked``."""
    traces, weights = [], []
    for trace, w in pairs:
        traces.append(trace)
        weights.append(w)
    return StackedResult(traces=traces, weights=weights)


def iter_fit_stacked(setups, split):
    """The stacked trainer as ``trainers.trainer("stacked")``: one scored Trace per setup,
    in order, each yielded as soon as it is ready (so a runner stores it at once)."""
    for trace, _ in iter_stacked(setups, split):
        yield trace


def fit_stacked(setups, split):
    """Like ``recipes.training.keras_fit.fit_keras``: one Trace per setup, in order, many runs
    per graph; the traces hold the common metrics and the final epoch's outputs."""
    return train_stacked(setups, split).traces
