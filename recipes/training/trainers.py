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
    except that a setup the stacked trainer of its backend cannot take (a setting it does
    not implement at other than its default, a backbone on a backend whose stacked trainer
    takes only the MLP, or a backbone layer it does not take: ``members.refusal``) falls
    back to plain ``fit``, ``"keras"``. A run records this trainer (its config and run id).
    """
    if check(name) != "stacked":
        return name
    from .members import refusal

    return "stacked" if refusal(setup) is None else "keras"


def fallback_reason(setup):
    """One line saying why ``setup`` trains with plain ``fit`` instead of the stacked
    trainer (None when it does not), naming the setting, or the backbone and its layer."""
    from .members import refusal

    reason = refusal(setup)
    return None if reason is None else f"{reason}; training them with plain fit (trainer 'keras')"


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
