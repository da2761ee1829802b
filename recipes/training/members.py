"""What the members of a stacked chunk must share, and what each one brings: the part
of the stacked trainers that is Keras but no particular backend.

* ``config(setup, split)`` is the group key of every backend's stacked trainer
  (``recipes.training.engine.group``): hidden widths, head units and activation, loss
  (class and arguments, the run's loss settings included), target encoding, optimizer
  class and hyperparameters, batch size and epochs. Learning rate and ``output_scale``
  are per member (an argument of the chunk's program and its initial weights), so they
  do not split groups, and different recipes with the same head, loss and encoding
  share a chunk.
* ``optimizer_spec`` reads the run's Keras optimizer (``Setup.optimizer``) into what a
  stacked trainer writes out: Adam or SGD (with or without momentum/Nesterov) and
  their hyperparameters. Anything that would couple members or that is not written out
  is refused with ``NotStackable`` before training: ``clipnorm`` (the norm would be
  taken over all members' slices of a stacked tensor), ``global_clipnorm`` (over all
  members' gradients), ``clipvalue`` (refused too: one rule, no clipping), weight decay,
  EMA, AMSGrad, loss scaling, gradient accumulation, learning-rate schedules, other
  optimizer classes. So is a setting the stacked trainers do not implement
  (``IMPLEMENTED``) at a value other than its default. ``stackable(setup)`` tells
  beforehand. (Invalid values, e.g. a negative seed, are "failed" runs, as in
  ``fit_keras``.)
* ``stack_inputs`` lays a chunk's arguments out with a leading member axis: data
  (shared, or one split per member; of any rank, integer token ids kept integers),
  targets, each member's batch order (``trace.batch_order`` for its seed), its learning
  rate and its initial variables (``initial_weights``: for the MLP,
  ``models.initial_weights`` for its seed; for a backbone, the model's trainable then
  non-trainable variables as the plain-fit run of its seed builds them).
* **Backbones** (issue #21 section 3): a ``backbone`` setting trains stacked when its
  backend's stacked trainer takes backbones (``BACKBONE_BACKENDS``) and every layer of
  it is in ``STACKABLE_LAYERS``; otherwise ``refusal`` says why, naming the layer, and
  the run trains with plain ``fit`` (``trainers.trainer_of``). A backbone's group key
  holds its fingerprint (configuration, starting weights, ``trainable`` flags) and the
  shape and dtype of one example of X.

Keras is imported on first use, on whichever backend this process runs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields

import numpy as np

from ..quiet import import_keras
from .engine import NotStackable
from .settings import APPLIES_TO
from .trace import batch_order, row_weights, targets

__all__ = ["BACKBONE_BACKENDS", "IMPLEMENTED", "STACKABLE_LAYERS", "Config", "NotStackable",
           "as_input", "config", "head_mask", "initial_weights", "optimizer_spec", "refusal",
           "require_backend", "stack_inputs", "stackable", "unimplemented",
           "unstackable_layer", "with_head"]

# The settings every stacked trainer implements itself. A setting of the loss or the
# optimizer (``settings.APPLIES_TO``) reaches them through the loss object and
# ``optimizer_spec``; any other setting is refused unless it has its default value.
# ``backbone`` is implemented where ``BACKBONE_BACKENDS`` says, for the layers of
# ``STACKABLE_LAYERS`` (``refusal``).
IMPLEMENTED = frozenset({"epochs", "batch_size", "hidden", "output_scale", "backend",
                         "class_weight", "backbone"})

# The Keras layer classes (``keras.layers``, the class itself: a user's subclass may
# change the call) a stacked trainer takes in a backbone, each member with its own
# variables, including non-trainable ones (BatchNormalization's moving statistics,
# Dropout's seed-generator state) and frozen layers. Models (Sequential, functional)
# are containers: their layers count.
STACKABLE_LAYERS = frozenset({
    "InputLayer", "Dense", "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D",
    "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Flatten",
    "Reshape", "Embedding", "BatchNormalization", "LayerNormalization", "Dropout",
    "Activation", "ReLU", "Concatenate", "Add", "GRU", "GRUCell", "LSTM", "LSTMCell",
})
_CONTAINERS = frozenset({"Sequential", "Functional"})

# backend -> the layers of STACKABLE_LAYERS its stacked trainer takes in a backbone (a
# backend not here takes only the MLP): JAX and TensorFlow train any backbone through
# Keras' own ``stateless_call`` (docs/backends-stacking.md says how and why). Not
# Embedding on TensorFlow: there Keras' optimizers apply its sparse (IndexedSlices)
# gradient to the rows of the batch only (Adam's moments of other rows do not decay),
# which the stacked trainer's dense update does not reproduce (measured: outputs 0.053
# apart after 2 epochs with Adam; identical with plain SGD).
# On PyTorch (``torch.func.vmap`` over ``stateless_call``) the layers measured to run
# under vmap and match plain fit: not Keras' PyTorch convolutions ("NYI:
# Tensor.clone(memory_format) inside vmap ... (got ChannelsLast)"), nor Dropout (vmap
# draws other masks than each member's own seed state), nor the pooling layers used
# only after a convolution (not measured).
BACKBONE_BACKENDS = {"jax": STACKABLE_LAYERS,
                     "tensorflow": STACKABLE_LAYERS - {"Embedding"},
                     "torch": STACKABLE_LAYERS - {
                         "Conv1D", "Conv2D", "Dropout", "MaxPooling1D", "MaxPooling2D",
                         "AveragePooling1D", "AveragePooling2D", "GlobalMaxPooling1D",
                         "GlobalMaxPooling2D", "GlobalAveragePooling2D"}}


@dataclass(frozen=True)
class Config:
    """What the members of one compiled chunk share: a stacked trainer's group key."""

    hidden: tuple
    units: int
    activation: str
    loss: tuple          # (namespace, class, sorted keyword arguments) of the run's loss
    encoding: str        # same encoding + same split -> same targets for every member
    optimizer: str       # "adam" or "sgd"
    hyper: tuple         # its hyperparameters (optimizer_spec)
    batch_size: int
    epochs: int
    jit: bool | None = None     # TensorFlow: XLA-compiled (decided per group); else None
    class_weight: object = None  # the setting: same split + same setting -> same row weights
    backbone: str | None = None  # a backbone's fingerprint (None: the MLP of ``hidden``)
    input: tuple = ()            # a backbone's example: (shape of one row of X, dtype)


def config(setup, split):
    """The ``Config`` of ``setup`` on ``split``; raises ``NotStackable`` for a setup no
    stacked trainer can train, and ValueError for an invalid one (a head size the recipe
    cannot take, a negative seed): that run fails alone."""
    from ..models.spec import loss_spec

    recipe, s = setup.recipe, setup.settings
    _refuse_unimplemented(s)
    reason = refusal(setup)
    if reason is not None:
        raise NotStackable(f"{reason}; train this setup with "
                           f"recipes.training.keras_fit.fit_keras")
    kind, hyper, _ = optimizer_spec(setup)
    namespace, cls, kwargs = loss_spec(recipe)
    kwargs = {**kwargs, **setup.arguments("loss")}
    # checks the seed and the head size now, so a bad value fails this run alone (the
    # weights are cached for training)
    initial_weights(setup, split)
    backbone = _backbone_key(setup, split)
    return Config(hidden=() if backbone else tuple(int(h) for h in s.hidden),
                  units=recipe.n_units(split.n), activation=recipe.activation,
                  loss=(namespace, cls, tuple(sorted(kwargs.items()))),
                  encoding=recipe.encoding, optimizer=kind, hyper=hyper,
                  batch_size=s.batch_size, epochs=s.epochs, class_weight=s.class_weight,
                  **backbone)


def _backbone_key(setup, split):
    """The Config fields of a backbone run: its fingerprint and X's example shape and
    dtype (``{}`` for the MLP)."""
    if setup.settings.backbone is None:
        return {}
    from ..models.build import describe_backbone

    x = as_input(split.X_train[:1])
    return {"backbone": describe_backbone(setup.settings.backbone)["fingerprint"],
            "input": (tuple(x.shape[1:]), x.dtype.str)}


def unimplemented(settings):
    """The first setting of ``settings`` the stacked trainers do not implement
    (``IMPLEMENTED``; a loss or optimizer setting reaches them through its object) at a
    value other than its default, as ``(name, value)``; None when there is none."""
    defaults = {f.name: f.default for f in fields(settings)}
    for name in settings.names():
        generic = APPLIES_TO.get(name) in ("loss", "optimizer")
        if not (generic or name in IMPLEMENTED) and getattr(settings, name) != defaults[name]:
            return name, getattr(settings, name)
    return None


def unstackable_layer(backbone, backend):
    """The first layer of ``backbone`` (a model or a function returning one) that the
    stacked trainer of ``backend`` does not take, as ``(layer name, class name)``; None
    when it takes them all (``BACKBONE_BACKENDS``, ``STACKABLE_LAYERS``)."""
    from ..models.build import backbone_layers

    allowed = BACKBONE_BACKENDS.get(backend, frozenset())
    for name, cls, module in backbone_layers(backbone):
        keras_own = module.startswith("keras.")
        if not (keras_own and (cls in allowed or cls in _CONTAINERS)):
            return name, cls if keras_own else f"{module}.{cls}"
    return None


def refusal(setup):
    """Why the stacked trainer of ``setup``'s backend cannot take it, in one line: a
    setting it does not implement at other than its default (``unimplemented``), a
    backbone on a backend whose stacked trainer takes only the MLP, or a backbone layer
    it does not take (named); None when it can. A backbone it cannot even build is
    None here, and a failed run in every trainer."""
    from .settings import APPLIES_TO, backbone_name

    s = setup.settings
    found = unimplemented(s)
    if found is not None:
        name, value = found
        return (f"the stacked trainer does not implement the setting {name!r} (it "
                f"configures the {APPLIES_TO.get(name, 'unknown part')}): {name}={value!r}")
    if s.backbone is None:
        return None
    if s.backend not in BACKBONE_BACKENDS:
        return (f"the stacked trainer on {s.backend} takes only the MLP backbone (hidden=), "
                f"not backbone {backbone_name(s.backbone)!r}")
    try:
        layer = unstackable_layer(s.backbone, s.backend)
    except ValueError:
        return None
    if layer is None:
        return None
    return (f"the stacked trainer on {s.backend} does not take layer {layer[0]!r} of "
            f"backbone {backbone_name(s.backbone)!r}: expected layers of "
            f"{{{', '.join(sorted(BACKBONE_BACKENDS[s.backend]))}}}. Received: {layer[1]}")


def _refuse_unimplemented(settings):
    found = unimplemented(settings)
    if found is not None:
        name, value = found
        raise NotStackable(
            f"The stacked trainers do not implement the setting {name!r} (it configures "
            f"the {APPLIES_TO.get(name, 'unknown part')}); train this setup with "
            f"recipes.training.keras_fit.fit_keras. Received: {name}={value!r}")


# --- the optimizer -----------------------------------------------------------------------

_OPTIMIZER_OFF = {   # config key -> value meaning "off"
    "weight_decay": (None, 0, 0.0),
    "use_ema": (False,),
    "loss_scale_factor": (None, 1, 1.0),
    "gradient_accumulation_steps": (None, 1),
    "amsgrad": (False,),
}


def optimizer_spec(setup):
    """``(kind, hyperparameters, learning_rate)`` of the Keras optimizer ``setup`` trains
    with (``Setup.optimizer``): ``("adam", (beta_1, beta_2, epsilon), lr)`` or
    ``("sgd", (momentum, nesterov), lr)``.

    Raises ``NotStackable`` for configurations a stacked trainer cannot reproduce member
    by member. Building a Keras optimizer costs milliseconds, so the specs of named
    optimizers are cached.
    """
    options = setup.arguments("optimizer")
    if isinstance(setup.settings.optimizer, str):
        try:
            return _named_spec(tuple(sorted(options.items())))
        except TypeError:      # an unhashable value: make_optimizer will say why
            pass
    return _spec_of(options)


@functools.lru_cache(maxsize=256)
def _named_spec(options):
    return _spec_of(dict(options))


def _spec_of(options):
    import_keras()
    import keras

    from ..models.build import make_optimizer

    opt = make_optimizer(**options)
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
    """None if the stacked trainers can train ``setup``, else the reason (a string).

    Only what the stacked trainers refuse counts (``NotStackable``); a setup that is
    invalid for any trainer is None here and a "failed" run in every trainer.
    """
    try:
        _refuse_unimplemented(setup.settings)
        optimizer_spec(setup)
    except NotStackable as err:
        return str(err)
    except Exception:
        return None
    return refusal(setup)


# --- a chunk's arguments -------------------------------------------------------------------

_INITIAL = {}


def initial_weights(setup, split):
    """The variables ``setup``'s run starts from on ``split``, cached. For the MLP,
    ``models.initial_weights``: they depend only on the layer widths, the seed and the
    model settings (seeded stateless initializers), not on the recipe's loss, so runs of
    different recipes with one architecture share them. For a backbone, ``_backbone_start``:
    the model's trainable then non-trainable variables."""
    from ..models.build import initial_weights as compute

    model = setup.arguments("model")
    units = setup.recipe.n_units(split.n)
    if model.get("backbone") is not None:
        backbone = _backbone_key(setup, split)
        key = (backbone["backbone"], backbone["input"], units, setup.seed,
               tuple(sorted((k, v) for k, v in model.items() if k not in ("backbone", "hidden"))))
    else:
        key = (split.X_train.shape[1], units, setup.seed, tuple(sorted(model.items())))
    if key not in _INITIAL:
        if len(_INITIAL) >= 8192:
            _INITIAL.clear()
        _INITIAL[key] = (_backbone_start(setup, split) if model.get("backbone") is not None
                         else compute(setup.recipe, split.X_train.shape[1], split.n,
                                      seed=setup.seed, **model))
    return _INITIAL[key]


def _backbone_start(setup, split):
    """A backbone run's starting variables, as its plain-fit run (``keras_fit``) builds
    them: ``keras.utils.set_random_seed(seed)``, then ``Setup.build_model``; its
    trainable variables, then its non-trainable ones (BatchNormalization's moving
    statistics, frozen layers' weights, each Dropout's seed-generator state), numpy."""
    import_keras()
    import keras

    keras.utils.set_random_seed(setup.seed)
    model = setup.build_model(split, compile=False)
    return [np.array(keras.ops.convert_to_numpy(v.value))
            for v in model.trainable_variables + model.non_trainable_variables]


def head_mask(model):
    """For each trainable variable of ``model``, in order, whether it is the output
    layer's (``"head"``): the variables a stacked trainer takes the gradient norm of, as
    ``keras_fit`` does."""
    head = {v.path for v in model.get_layer("head").trainable_weights}
    return [v.path in head for v in model.trainable_variables]


def with_head(variables, is_head, head):
    """``variables`` with the head's ones (``is_head``, from ``head_mask``) replaced, in
    order, by ``head``: the full list a stateless call takes, with the head's variables
    the ones a gradient is taken against."""
    it = iter(head)
    return [next(it) if h else v for v, h in zip(variables, is_head)]


def as_input(x):
    """X as a stacked trainer feeds it: float32 for floating-point data, any other dtype
    (integer token ids) as it is; any rank."""
    x = np.asarray(x)
    return x.astype(np.float32) if x.dtype.kind == "f" else x


def stack_inputs(config, setups, splits):
    """A chunk's arguments: ``(x_train, y_train, x_val, y_val, w_train, order, valid, lr,
    weights)``. Members that share one Split share its arrays ((N, d)); otherwise every
    member gets its own, stacked on a leading member axis ((K, N, d)). ``w_train``: each
    training row's weight in the loss (``trace.row_weights``: its class weight, else 1),
    (N,) or (K, N) like ``y_train``; a member's batch loss is the weighted sum over the
    batch divided by the batch size, as Keras' "sum_over_batch_size". ``order``: (K, E,
    S*B) each member's row order per epoch, padded to S full batches of ``batch_size``
    with ``valid`` (S*B,) False past the real rows; ``lr``: (K,); weights: variable by
    variable (``initial_weights``), leading axis K. X keeps its rank (``as_input``):
    (N, ...) shared or (K, N, ...)."""
    split = splits[0]
    shared = all(s is split for s in splits)
    if shared:
        y_train, y_val = targets(setups[0].recipe, split)
        w_train = row_weights(setups[0], split)
        x_train, x_val = as_input(split.X_train), as_input(split.X_val)
    else:
        pairs = [targets(s.recipe, own) for s, own in zip(setups, splits)]
        y_train, y_val = (np.stack(part) for part in zip(*pairs))
        w_train = np.stack([row_weights(s, own) for s, own in zip(setups, splits)])
        x_train = np.stack([as_input(s.X_train) for s in splits])
        x_val = np.stack([as_input(s.X_val) for s in splits])
    n_train = len(split.X_train)
    per_member = [initial_weights(s, own) for s, own in zip(setups, splits)]
    ws = [np.stack(layer) for layer in zip(*per_member)]
    B = config.batch_size
    padded = -(-n_train // B) * B
    order = np.zeros((len(setups), config.epochs, padded), dtype=np.int32)
    for k, s in enumerate(setups):
        order[k, :, :n_train] = batch_order(s.seed, config.epochs, n_train)
    valid = np.arange(padded) < n_train
    lr = np.asarray([optimizer_spec(s)[2] for s in setups], dtype=np.float32)
    return x_train, y_train, x_val, y_val, w_train, order, valid, lr, ws


def require_backend(backend, name):
    """RuntimeError unless Keras runs on ``backend``: a backend's own stacked trainer
    (``name``, e.g. "JAX") called in a process of another backend."""
    import keras

    if keras.backend.backend() != backend:
        raise RuntimeError(f"The {name} stacked trainer needs the {name} backend (set "
                           f"KERAS_BACKEND={backend} before Keras is imported). Received: "
                           f"Keras backend {keras.backend.backend()!r}")
