"""What a trainer returns for one run, and the pieces every trainer shares.

A trainer takes a list of ``Setup`` (one per run) that share one data
``Split`` and returns one ``Trace`` per setup. A trace holds raw outputs on
both splits after every epoch, the recipe's own loss, the output layer's
gradient norm and the wall time; the common metrics are computed from the
outputs afterwards, by one function for every trainer (``training.metrics``),
so no trainer can score a recipe differently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SPLITS = ("train", "val")


@dataclass
class Trace:
    """What one run produced; arrays have one entry per finished epoch."""

    outputs: dict = field(default_factory=dict)   # split -> (epochs, N, units) raw outputs;
                                                  # "test" (if any): (1, N, units), final epoch
    loss: dict = field(default_factory=dict)      # split -> (epochs,) the recipe's own loss
    grad_norm: np.ndarray = None                  # (epochs,) output-layer gradient norm
    seconds: np.ndarray = None                    # (epochs,) cumulative wall seconds
    status: str = "ok"                            # ok | diverged | failed
    error: str | None = None

    @property
    def epochs(self):
        return 0 if self.seconds is None else len(self.seconds)


def per_setup(split, n):
    """A trainer's ``split`` argument as one Split per setup: a trainer takes one Split
    shared by all setups, or a sequence with one Split per setup (each seed of a grid
    trains on its own split)."""
    splits = [split] * n if not isinstance(split, (list, tuple)) else list(split)
    if len(splits) != n:
        raise ValueError(f"Expected one split per setup ({n}). Received: {len(splits)} splits")
    return splits


def failed(error):
    """A trace for a run that raised before finishing."""
    return Trace(status="failed", error=error)


def batch_order(seed, epochs, n):
    """Per-epoch shuffles of ``n`` examples, shape (epochs, n); one stream per seed.

    Every trainer uses this, so a run sees its examples in the same order
    whichever trainer runs it.
    """
    rng = np.random.default_rng([seed, 0x5EED])
    return np.stack([rng.permutation(n) for _ in range(epochs)])


def targets(recipe, split):
    """Encoded training and validation targets for a recipe."""
    return (recipe.encode(split.y_train, split.classes), recipe.encode(split.y_val, split.classes))


def finite(*arrays):
    """True when every value of every array is finite."""
    return all(np.isfinite(np.asarray(a, dtype=np.float64)).all() for a in arrays)
