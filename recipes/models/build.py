"""Build and compile Keras models from recipes.

Everything recipe-specific comes from data: the output layer from the catalog
row (``recipe.activation``, ``recipe.n_units``), the loss and metrics from the
specs in ``recipes.spec`` (the same specs ``keras_code`` prints), and the
optimizer from ``OPTIMIZERS``. No code here branches on a recipe's name.

Weights are initialized deterministically from a run seed: every Dense layer
gets seeded Keras initializers whose seed is derived from the run seed and the
layer's index (``layer_seed``). Keras 3 initializers with an integer seed are
stateless (the same seed and shape give the same values on every call, in every
model, whatever the global random state), so ``initial_weights`` can compute
the exact weights ``build_model`` starts from without building a model.

Importing this module registers ``LogPoisson`` with Keras, so models that use
it load with plain ``keras.models.load_model``.
"""

from __future__ import annotations

import hashlib
import json
import sys

from ..quiet import import_keras

import_keras()  # quietly: TensorFlow's start-up lines dropped (on another backend, no TensorFlow)

import keras  # noqa: E402
import numpy as np
from keras import ops

from ..catalog import codec
from ..catalog.table import get
from ..messages import expected
from .spec import OPTIMIZER_CLASSES, loss_spec, metric_specs

__all__ = [
    "LogPoisson", "OPTIMIZERS", "backbone_layers", "backbone_model", "build_head", "build_model",
    "describe_backbone", "initial_weights",
    "initializers", "layer_seed", "make_loss", "make_metrics", "make_optimizer",
]


@keras.saving.register_keras_serializable(package="recipes")
class LogPoisson(keras.losses.Loss):
    """Poisson loss on the log-rate ``z`` (the from_logits form of Poisson).

    ``loss = mean(exp(z) - y * z)`` over the last axis: the negative Poisson
    log-likelihood without the ``log(y!)`` term, as ``tf.nn.log_poisson_loss``
    computes it. Its gradient with respect to ``z`` is ``exp(z) - y``
    (prediction minus target), and it never takes the log of a prediction.
    """

    def __init__(self, reduction="sum_over_batch_size", name="log_poisson", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        return ops.mean(ops.exp(y_pred) - y_true * y_pred, axis=-1)


# --- specs -> objects ----------------------------------------------------------

# Namespaces a spec may name (see recipes.spec).
NAMESPACES = {
    "keras.losses": keras.losses,
    "keras.metrics": keras.metrics,
    "recipes.models.build": sys.modules[__name__],
}


def _instantiate(namespace, cls, kwargs):
    if namespace not in NAMESPACES:
        raise ValueError(expected(NAMESPACES, "namespace", namespace))
    return getattr(NAMESPACES[namespace], cls)(**kwargs)


def make_loss(recipe, catalog=None, **options):
    """The recipe's Keras loss object (from ``recipes.models.spec.loss_spec``);
    ``options``: keyword arguments of the loss class besides the spec's (e.g.
    ``reduction="none"``, ``label_smoothing=0.1``), which win over the spec's."""
    namespace, cls, kwargs = loss_spec(get(recipe, catalog))
    return _instantiate(namespace, cls, {**kwargs, **options})


def make_metrics(recipe, catalog=None):
    """The recipe's Keras metric objects (from ``recipes.models.spec.metric_specs``)."""
    return [_instantiate(*spec) for spec in metric_specs(get(recipe, catalog))]


# name -> optimizer class (``recipes.models.spec.OPTIMIZER_CLASSES``)
OPTIMIZERS = {name: getattr(keras.optimizers, cls) for name, (_, cls) in OPTIMIZER_CLASSES.items()}


def make_optimizer(optimizer="adam", learning_rate=1e-3):
    """An optimizer by name (``OPTIMIZERS``); an Optimizer instance passes through."""
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer
    if optimizer not in OPTIMIZERS:
        raise ValueError(expected(OPTIMIZERS, "optimizer", optimizer))
    if not _finite_positive(learning_rate):    # Keras itself takes -1 and inf silently
        raise ValueError(f"Expected learning_rate to be a finite number > 0. "
                         f"Received: learning_rate={learning_rate!r}")
    return OPTIMIZERS[optimizer](learning_rate=float(learning_rate))


def _finite_positive(value):
    """A real number above 0 and finite (a bool is not a number here)."""
    return (isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
            and bool(np.isfinite(value)) and value > 0)


# --- initialization -------------------------------------------------------------

def layer_seed(seed, index):
    """The seed of Dense layer ``index`` (0 = first hidden layer) for run ``seed``."""
    return int(seed) * 1009 + int(index)


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(
            f"Expected a non-negative integer seed (weights must be reproducible). "
            f"Received: seed={seed!r}"
        )


def initializers(seed, n_layers, output_scale=1.0):
    """Seeded ``(kernel_initializer, bias_initializer)`` pairs for ``n_layers`` Dense layers.

    The last pair is the output layer's: ``VarianceScaling(scale=output_scale**2,
    mode="fan_avg", distribution="uniform")``, which is Glorot uniform for
    ``output_scale=1`` and, for larger values, an output layer whose
    pre-activations are ``output_scale`` times larger (a deliberately
    saturating output). The others are hidden layers: Glorot uniform. Biases
    start at zero. Layer ``i`` is seeded with ``layer_seed(seed, i)``.
    """
    _check_seed(seed)
    if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)) or n_layers < 1:
        raise ValueError(f"Expected n_layers >= 1 (the output layer counts). Received: n_layers={n_layers!r}")
    if not _finite_positive(output_scale):
        raise ValueError(f"Expected output_scale to be a finite number > 0. "
                         f"Received: output_scale={output_scale!r}")
    pairs = [(keras.initializers.GlorotUniform(seed=layer_seed(seed, i)), keras.initializers.Zeros())
             for i in range(n_layers - 1)]
    out = keras.initializers.VarianceScaling(
        scale=float(output_scale) ** 2, mode="fan_avg", distribution="uniform",
        seed=layer_seed(seed, n_layers - 1))
    return pairs + [(out, keras.initializers.Zeros())]


def _input_dim(input_shape, name="input_shape"):
    shape = (input_shape,) if isinstance(input_shape, (int, np.integer)) else input_shape
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if (shape is None or len(shape) != 1 or isinstance(shape[0], bool)
            or not isinstance(shape[0], (int, np.integer)) or shape[0] < 1):
        raise ValueError(
            f"Expected {name} to be a positive int or a 1-tuple of features such as (20,); "
            "for images or sequences put the recipe's head on a backbone with build_head(). "
            f"Received: {name}={input_shape!r}"
        )
    return int(shape[0])


def _hidden(hidden):
    try:
        hidden = tuple(hidden)
    except TypeError:
        hidden = None
    if hidden is None or any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1
                             for h in hidden):
        raise ValueError(f"Expected hidden to be a sequence of positive layer widths such as (32,). "
                         f"Received: hidden={hidden!r}")
    return tuple(int(h) for h in hidden)


def _units(recipe, n_outputs):
    """Output units for problem size ``n_outputs``, checked against the encoding."""
    units = recipe.n_units(n_outputs)   # raises for sizes the units rule cannot take
    encoder, consumes = codec.ENCODERS[recipe.encoding]
    if consumes == "indices":
        # The encoder decides which class counts it supports (binary: exactly 2).
        try:
            encoder(np.zeros(0, dtype="int64"), int(n_outputs))
        except ValueError as err:
            raise ValueError(f"Recipe {recipe.name!r}: {err} Received: n_outputs={n_outputs!r}") from None
    return units


def initial_weights(recipe, input_dim, n_outputs, hidden=(32,), seed=0, output_scale=1.0,
                    catalog=None, backbone=None):
    """The weights ``build_model`` starts from, as ``model.get_weights()`` lists them.

    Computed by calling the seeded initializers directly (no model is built):
    ``[kernel_0, bias_0, ..., kernel_head, bias_head]``, float32 numpy arrays. Only for
    the MLP of ``hidden``: a ``backbone`` raises ValueError.
    """
    if backbone is not None:
        raise ValueError(f"Expected backbone=None: initial_weights computes the weights of the "
                         f"MLP of hidden; build a backbone's model with build_model. Received: "
                         f"backbone={backbone!r}")
    recipe = get(recipe, catalog)
    widths = (_input_dim(input_dim, "input_dim"),) + _hidden(hidden) + (_units(recipe, n_outputs),)
    inits = initializers(seed, len(widths) - 1, output_scale)
    weights = []
    for (kernel, bias), fan_in, fan_out in zip(inits, widths[:-1], widths[1:]):
        weights.append(np.asarray(kernel((fan_in, fan_out), dtype="float32")))
        weights.append(np.asarray(bias((fan_out,), dtype="float32")))
    return weights


# --- models ----------------------------------------------------------------------

def _head(recipe, n_outputs, init):
    kernel, bias = init
    return keras.layers.Dense(_units(recipe, n_outputs), activation=recipe.activation,
                              kernel_initializer=kernel, bias_initializer=bias, name="head")


def _compile(model, recipe, optimizer, learning_rate):
    model.compile(optimizer=make_optimizer(optimizer, learning_rate),
                  loss=make_loss(recipe), metrics=make_metrics(recipe))
    return model


def build_model(recipe, input_shape, n_outputs, hidden=(32,), seed=0, optimizer="adam",
                learning_rate=1e-3, output_scale=1.0, compile=True, catalog=None, backbone=None):
    """A compiled MLP ending in the recipe's output layer.

    Layers: ``Input -> Dense(h, relu) for h in hidden -> Dense(units,
    recipe.activation, name="head")``, initialized by ``initializers(seed, ...)``.
    With a ``backbone``, the head goes on ``backbone_model(backbone, seed)`` instead
    (``build_head``; ``hidden`` is then unused) and ``input_shape`` is the shape of one
    example, checked against the backbone's input.

    Parameters
    ----------
    recipe : Recipe or str
        The recipe, or its name in ``catalog``.
    input_shape : int or tuple of one int
        The number of input features, ``d`` or ``(d,)``.
    n_outputs : int
        The problem size n: classes (2 for binary), labels, targets or levels;
        the head has ``recipe.n_units(n)`` units.
    hidden : tuple of int, default=(32,)
        Widths of the hidden ReLU layers.
    seed : int, default=0
        Seeds every layer's initializer, so the same seed gives the same weights.
    optimizer : str or keras.optimizers.Optimizer, default="adam"
        A name in ``OPTIMIZERS``, or an optimizer instance (which then ignores
        ``learning_rate``).
    learning_rate : float, default=1e-3
        The optimizer's learning rate.
    output_scale : float, default=1.0
        Factor on the output layer's initial weights (10: a saturated start).
    compile : bool, default=True
        Compile with the recipe's loss and metrics; False returns the bare model.
    catalog : Catalog, str, Path or None
        Where a recipe name is looked up (None: the bundled catalog).
    backbone : keras.Model or callable, optional
        What the head goes on instead of the MLP (see ``backbone_model``).

    Returns
    -------
    keras.Model
        The model, compiled unless ``compile=False``.

    Examples
    --------
    >>> import recipes
    >>> model = recipes.build_model("multiclass_softmax_cce", input_shape=4, n_outputs=3)
    >>> model.output_shape, model.get_layer("head").activation.__name__
    ((None, 3), 'softmax')
    """
    recipe = get(recipe, catalog)
    if backbone is not None:
        fresh = backbone_model(backbone, seed, input_shape)
        return build_head(recipe, fresh, n_outputs, seed=seed, output_scale=output_scale,
                          optimizer=optimizer, learning_rate=learning_rate, compile=compile)
    dim = _input_dim(input_shape)
    hidden = _hidden(hidden)
    _units(recipe, n_outputs)   # fail on a bad size before building anything
    if compile:
        make_optimizer(optimizer, learning_rate)   # fail before building anything
    inits = initializers(seed, len(hidden) + 1, output_scale)
    inputs = keras.Input(shape=(dim,), name="features")
    x = inputs
    for i, (h, (kernel, bias)) in enumerate(zip(hidden, inits)):
        x = keras.layers.Dense(h, activation="relu", kernel_initializer=kernel,
                               bias_initializer=bias, name=f"hidden_{i}")(x)
    outputs = _head(recipe, n_outputs, inits[-1])(x)
    model = keras.Model(inputs, outputs, name=recipe.name)
    return _compile(model, recipe, optimizer, learning_rate) if compile else model


def build_head(recipe, backbone, n_outputs, seed=0, output_scale=1.0, optimizer="adam",
               learning_rate=1e-3, compile=True, catalog=None):
    """Put the recipe's output layer on a Keras backbone model (one output tensor).

    A backbone output with more than two dimensions (e.g. conv feature maps) is
    flattened first. The backbone keeps its weights (the head model shares them).

    Parameters
    ----------
    recipe : Recipe or str
        The recipe, or its name in ``catalog``.
    backbone : keras.Model
        Any Keras model with one output tensor: a functional model (the head model takes
        its inputs as they are, a tensor, list or dict), or a ``keras.Sequential`` or
        other model whose input shape is known (it was given a ``keras.Input`` or an
        ``input_shape``, was built, or was called once; it is called on new inputs of
        that shape, any batch size).
    n_outputs : int
        The problem size n (classes, labels, targets or levels).
    seed : int, default=0
        Seeds the head as the output layer of ``initializers(seed, 1, output_scale)``.
    output_scale : float, default=1.0
        Factor on the head's initial weights.
    optimizer : str or keras.optimizers.Optimizer, default="adam"
        As for ``build_model``.
    learning_rate : float, default=1e-3
        The optimizer's learning rate.
    compile : bool, default=True
        Compile with the recipe's loss and metrics.
    catalog : Catalog, str, Path or None
        Where a recipe name is looked up.

    Returns
    -------
    keras.Model
        ``backbone``'s inputs to the recipe's head, named ``"head"``.

    Raises
    ------
    ValueError
        ``backbone`` is not a Keras model, has no known input shape (a Sequential never
        built or called: the message says how to give it one) or more than one output.
    """
    recipe = get(recipe, catalog)
    if not isinstance(backbone, keras.Model):
        raise ValueError(f"Expected backbone to be a keras.Model. Received: backbone={backbone!r}")
    inputs, outputs = _backbone_graph(backbone)
    if len(outputs) != 1:
        raise ValueError(f"Expected a backbone with one output tensor. "
                         f"Received: {len(outputs)} outputs")
    _units(recipe, n_outputs)
    if compile:
        make_optimizer(optimizer, learning_rate)
    x = outputs[0]
    if len(x.shape) > 2:
        x = keras.layers.Flatten(name="head_flatten")(x)
    outputs = _head(recipe, n_outputs, initializers(seed, 1, output_scale)[-1])(x)
    model = keras.Model(inputs, outputs, name=f"{backbone.name}_{recipe.name}")
    return _compile(model, recipe, optimizer, learning_rate) if compile else model


def _backbone_graph(backbone):
    """``(inputs, outputs)``: the symbolic tensors a head model is built between.

    A functional model gives its own: ``backbone.input`` keeps its input structure (a
    tensor, list or dict), so the head model is called the way the backbone was. Any
    other model (a ``keras.Sequential``, which has no ``input`` even once built) is
    called on new ``keras.Input``s shaped like its inputs, without their batch size (a
    Sequential called once on a batch of 2 records inputs of batch size 2).
    """
    try:
        return backbone.input, backbone.outputs
    except AttributeError:
        pass
    try:
        known = backbone.inputs
    except AttributeError:
        known = None
    if not known:
        raise ValueError(
            f"Expected a backbone with a known input shape: the head goes on its output, "
            f"which a model that was never built or called does not have. Give it one, "
            f"e.g. keras.Sequential([keras.Input(shape=(...)), ...]), or call "
            f"backbone.build((None, ...)) first. Received: backbone={backbone.name!r} "
            f"({type(backbone).__name__}) with no input shape")
    inputs = [keras.Input(shape=tuple(t.shape[1:]), dtype=t.dtype) for t in known]
    out = backbone(inputs[0] if len(inputs) == 1 else inputs)
    return (inputs[0] if len(inputs) == 1 else inputs), keras.tree.flatten(out)


# --- backbones --------------------------------------------------------------------

def _backbone_of(backbone, seed):
    """The Keras model ``backbone`` gives for ``seed``: a function is called (no
    arguments) after ``keras.utils.set_random_seed(seed)``; a model is itself."""
    if isinstance(backbone, keras.Model):
        return backbone
    if not callable(backbone):
        raise ValueError(f"Expected backbone to be a keras.Model or a function returning one. "
                         f"Received: backbone={backbone!r}")
    keras.utils.set_random_seed(int(seed))
    model = backbone()
    if not isinstance(model, keras.Model):
        raise ValueError(f"Expected the backbone function {_qualname(backbone)} to return a "
                         f"keras.Model. Received: {model!r}")
    return model


def _qualname(function):
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"


def _input_shapes(model):
    """The input shapes of ``model`` without the batch axis; ValueError when it has no
    known input shape (see ``_backbone_graph``) or more than one input."""
    try:
        inputs = model.inputs
    except AttributeError:
        inputs = None
    if not inputs:
        _backbone_graph(model)    # raises, saying how to give it an input shape
    inputs = keras.tree.flatten(inputs)
    if len(inputs) != 1:
        raise ValueError(f"Expected a backbone with one input (the features X). Received: "
                         f"backbone={model.name!r} with {len(inputs)} inputs")
    return tuple(inputs[0].shape[1:])


def backbone_model(backbone, seed=0, input_shape=None):
    """A fresh Keras model of ``backbone`` for a run of ``seed``, that no other run shares.

    A model is cloned (``keras.models.clone_model``) and given its own weights as they are
    now, and each layer's ``trainable`` flag, so every seed starts from them and a frozen
    layer stays frozen; a function is called after ``keras.utils.set_random_seed(seed)``.
    ``input_shape``: the shape of one example of X, checked against the backbone's input
    (None is any size). Raises ValueError for anything but a Keras model with one input
    (or a function returning one), or a shape that does not match.
    """
    if not isinstance(backbone, keras.Model):
        return _checked(_backbone_of(backbone, seed), input_shape)
    _checked(backbone, input_shape)
    clone = keras.models.clone_model(backbone)
    clone.set_weights(backbone.get_weights())
    for theirs, mine in zip(_all_layers(backbone), _all_layers(clone)):
        mine.trainable = theirs.trainable
    return clone


def _all_layers(model):
    return list(model._flatten_layers(include_self=True, recursive=True))


def _checked(model, input_shape):
    """``model``, once its one input takes examples of ``input_shape``."""
    shape = _input_shapes(model)
    if input_shape is not None:
        given = tuple(int(d) for d in ((input_shape,) if isinstance(input_shape, (int, np.integer))
                                        else input_shape))
        if len(given) != len(shape) or any(w is not None and w != g for w, g in zip(shape, given)):
            raise ValueError(f"Expected X with examples of shape {shape} (the input of backbone "
                             f"{model.name!r}; None is any size). Received: X examples of shape "
                             f"{given}")
    return model


def _canonical(model):
    """``model.get_config()`` as JSON with every layer name replaced by its position: the
    same architecture built twice (auto-named ``dense`` and ``dense_1``) reads the same."""
    names = {layer.name: f"layer{i}" for i, layer in enumerate(_all_layers(model))}

    def walk(v):
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        return names.get(v, v) if isinstance(v, str) else v

    return json.dumps(walk(model.get_config()), sort_keys=True, default=str)


_DESCRIBED = {}


def describe_backbone(backbone):
    """What a run's config records of ``backbone``: ``{"name", "fingerprint", "input",
    "layers", "parameters"}`` (``input``: the shape of one example, None for any size).
    The fingerprint is the SHA-256 of the model's configuration (layer names left out)
    and its starting weights; for a function, of its qualified name and the model it
    returns for seed 0. Cached per object (``_described``: a function is called once).
    Raises ValueError as ``backbone_model`` does."""
    return dict(_described(backbone)[0])


def backbone_layers(backbone):
    """Every layer of ``backbone``'s model (a function's, for seed 0), nested models'
    layers included, as ``(name, class name, class module)`` in order; cached per object
    with ``describe_backbone``'s record (``_described``). Raises ValueError as
    ``backbone_model`` does."""
    return list(_described(backbone)[1])


def _described(backbone):
    """``(describe_backbone's record, backbone_layers' list)`` of ``backbone``, both from
    one build of its seed-0 model, cached per object: a function is called once."""
    key = id(backbone)
    if key in _DESCRIBED and _DESCRIBED[key][0] is backbone:
        return _DESCRIBED[key][1:]
    model = _checked(_backbone_of(backbone, 0), None)
    digest = hashlib.sha256()
    if not isinstance(backbone, keras.Model):
        digest.update(_qualname(backbone).encode())
    digest.update(_canonical(model).encode())
    for w in model.get_weights():
        digest.update(str((w.shape, w.dtype.str)).encode())
        digest.update(np.ascontiguousarray(w).tobytes())
    name = backbone.name if isinstance(backbone, keras.Model) else getattr(
        backbone, "__name__", type(backbone).__name__)
    described = {"name": str(name), "fingerprint": digest.hexdigest(),
                 "input": list(_input_shapes(model)),
                 "layers": [type(layer).__name__ for layer in model.layers],
                 "parameters": int(model.count_params())}
    layers = [(layer.name, type(layer).__name__, type(layer).__module__)
              for layer in _all_layers(model)[1:]]
    _DESCRIBED[key] = (backbone, described, layers)
    return described, layers
