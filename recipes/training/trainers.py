"""The trainers, by name: ``trainer("stacked")`` or ``trainer("keras")``.

A trainer is a function ``(setups, split) -> traces``, one ``Trace`` per setup
in order (a generator may yield each as soon as its run ends, so that a runner
stores it at once). Each is imported on first use (both import Keras).

The stacked trainer has one implementation per Keras backend (``STACKED``):
TensorFlow's (``stacked``, the arithmetic written out in one XLA graph) and JAX's
(``stacked_jax``, Keras' stateless model and optimizer under ``jax.vmap``). On a
backend without one (PyTorch), ``"stacked"`` falls back to the plain Keras path (``"keras"``,
``model.fit``, which runs on every backend) with one warning per process, and the
runs are recorded as ``"keras"`` runs (``effective``), so a result never claims a
trainer that did not train it.
"""

from __future__ import annotations

import importlib
import warnings

from ..messages import expected
from .settings import current_backend

# name -> "module:function"
TRAINERS = {"stacked": "recipes.training.stacked:iter_fit_stacked",
            "keras": "recipes.training.keras_fit:iter_keras"}
DEFAULT_TRAINER = "stacked"
# backend -> the stacked trainer native to it; a backend not listed trains "stacked"
# setups with "keras"
STACKED = {"tensorflow": "recipes.training.stacked:iter_fit_stacked",
           "jax": "recipes.training.stacked_jax:iter_fit_stacked"}
FALLBACK = "keras"
_WARNED = set()


class FallbackWarning(UserWarning):
    """A trainer that has no implementation on this backend was replaced."""


def effective(name, backend=None):
    """The trainer that really trains ``name``'s runs on ``backend`` (default: this
    process's): ``name`` itself, or ``FALLBACK`` for ``"stacked"`` on a backend without
    a stacked trainer (see ``STACKED``).

    >>> effective("stacked", "torch"), effective("stacked", "jax"), effective("keras", "jax")
    ('keras', 'stacked', 'keras')
    """
    if name not in TRAINERS:
        raise ValueError(expected(TRAINERS, "trainer", name))
    backend = backend or current_backend()
    return FALLBACK if name == "stacked" and backend not in STACKED else name


def fallback_message(backend):
    """The one message of a stacked run falling back to plain Keras on ``backend``."""
    return (f"The stacked trainer has no {backend} implementation (it has "
            f"{' and '.join(STACKED)}); the {backend} runs train with plain Keras model.fit "
            f"(trainer {FALLBACK!r}) and are recorded as {FALLBACK!r} runs.")


def warn_fallback(name, backend):
    """Warn once per process and backend when ``name`` falls back on ``backend``."""
    if effective(name, backend) != name and backend not in _WARNED:
        _WARNED.add(backend)
        warnings.warn(fallback_message(backend), FallbackWarning, stacklevel=3)


def trainer(name):
    """The trainer function called ``name`` (a key of ``TRAINERS``) on this process's
    backend: the backend's own stacked trainer for ``"stacked"``, or the plain Keras
    path where it has none (warned once)."""
    backend = current_backend()
    warn_fallback(name, backend)
    name = effective(name, backend)
    target = STACKED[backend] if name == "stacked" else TRAINERS[name]
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)
