"""The trainers, by name: ``trainer("stacked")`` or ``trainer("keras")``.

A trainer is a function ``(setups, split) -> traces``, one ``Trace`` per setup
in order (a generator may yield each as soon as its run ends, so that a runner
stores it at once). Each is imported on first use (both import Keras).

``"keras"`` is the reference: one plain ``model.fit`` per run, on any backend. The
stacked trainer trains many runs at once and has one implementation per Keras backend
(``STACKED``), each a ``recipes.training.engine.StackedTrainer`` checked against
``"keras"`` on its backend: TensorFlow's (``stacked_tensorflow``, the arithmetic written
out in one XLA graph), JAX's (``stacked_jax``, Keras' stateless model and optimizer under
``jax.vmap``) and PyTorch's (``stacked_torch``, batched eager tensors and autograd).
"""

from __future__ import annotations

import importlib

from ..messages import expected
from .settings import current_backend

# name -> "module:function" ("stacked": see STACKED)
TRAINERS = {"stacked": None,
            "keras": "recipes.training.keras_fit:iter_keras"}
DEFAULT_TRAINER = "stacked"
# backend -> the stacked trainer native to it
STACKED = {"tensorflow": "recipes.training.stacked_tensorflow:iter_fit_stacked",
           "jax": "recipes.training.stacked_jax:iter_fit_stacked",
           "torch": "recipes.training.stacked_torch:iter_fit_stacked"}


def check(name):
    """``name`` if it names a trainer (a key of ``TRAINERS``), else ValueError.

    >>> check("stacked")
    'stacked'
    """
    if name not in TRAINERS:
        raise ValueError(expected(TRAINERS, "trainer", name))
    return name


def trainer_of(name, setup):
    """The trainer that trains ``setup`` when trainer ``name`` is asked for: ``name``,
    except that a setup the stacked trainers cannot take (a setting they do not
    implement at other than its default, e.g. a ``backbone``:
    ``members.unimplemented``) falls back to plain ``fit``, ``"keras"``. A run
    records this trainer (its config and run id).
    """
    if check(name) != "stacked":
        return name
    from .members import unimplemented

    return "stacked" if unimplemented(setup.settings) is None else "keras"


def fallback_reason(setup):
    """One line saying why ``setup`` trains with plain ``fit`` instead of the stacked
    trainer (None when it does not), naming the backbone or the setting."""
    from .members import unimplemented
    from .settings import APPLIES_TO, backbone_name

    found = unimplemented(setup.settings)
    if found is None:
        return None
    name, value = found
    if name == "backbone":
        return (f"the stacked trainer takes only the MLP backbone (hidden=); training runs "
                f"of backbone {backbone_name(value)!r} with plain fit (trainer 'keras')")
    return (f"the stacked trainer does not implement the setting {name!r} (it configures "
            f"the {APPLIES_TO.get(name, 'unknown part')}); training runs of {name}={value!r} "
            f"with plain fit (trainer 'keras')")


def trainer(name):
    """The trainer function called ``name`` (a key of ``TRAINERS``) on this process's
    backend: for ``"stacked"``, the backend's own stacked trainer."""
    backend = current_backend()
    target = TRAINERS[check(name)]
    if target is None:
        if backend not in STACKED:
            raise ValueError(expected(STACKED, "backend", backend))
        target = STACKED[backend]
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)
