"""What a trainer returns for one run, and the pieces every trainer shares.

A trainer takes a list of ``Setup`` (one per run) that share one data
``Split`` and returns one ``Trace`` per setup. A trace holds the recipe's own
loss, the output layer's gradient norm and the wall time per epoch, and the
common metrics on every split, computed from the raw outputs by one function
for every trainer (``scores``, i.e. ``training.metrics``), so no trainer can
score a recipe differently.

A trainer may score the outputs as it goes (``Trace.metrics``; the stacked
trainer does, chunk by chunk, and keeps only the final epoch's outputs, so its
memory grows with the chunk, not the number of runs), or leave every epoch's
raw outputs in ``Trace.outputs`` to be scored when the run is recorded
(``Trace.common_metrics``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SPLITS = ("train", "val")


@dataclass
class Trace:
    """What one run produced; arrays have one entry per finished epoch."""

    outputs: dict = field(default_factory=dict)   # split -> (epochs, N, units) raw outputs,
                                                  # or (1, N, units), the final epoch only, when
                                                  # ``metrics`` holds the scores;
                                                  # "test" (if any): (1, N, units), final epoch
    metrics: dict = field(default_factory=dict)   # split -> {metric: (epochs,) values}, "test":
                                                  # (1,); empty: score ``outputs`` when recorded
    loss: dict = field(default_factory=dict)      # split -> (epochs,) the recipe's own loss
    grad_norm: np.ndarray = None                  # (epochs,) output-layer gradient norm
    seconds: np.ndarray = None                    # (epochs,) cumulative wall seconds
    status: str = "ok"                            # ok | diverged | failed
    error: str | None = None

    @property
    def epochs(self):
        return 0 if self.seconds is None else len(self.seconds)

    def common_metrics(self, recipe, split):
        """``{split: {metric: values}}``: ``metrics`` if the trainer scored the run as it
        trained, else ``scores`` of every epoch's ``outputs``."""
        return self.metrics or scores(recipe, split, self.outputs)


def scores(recipe, split, outputs):
    """The common metrics (``training.metrics.common_metrics``) of raw outputs.

    ``outputs``: split name -> raw outputs shaped ``(..., N, units)`` on that split of
    the data ``split`` (any leading axes, e.g. epochs). Returns ``{split name: {metric:
    values shaped (...)}}``; NaN outputs give NaN or meaningless values, never an error
    (a diverged run's last epoch).
    """
    from . import metrics

    ys = {"train": split.y_train, "val": split.y_val, "test": split.y_test}
    out = {}
    for name, values in outputs.items():
        truth = metrics.truth(recipe, ys[name], split.classes)
        with np.errstate(all="ignore"):
            out[name] = metrics.common_metrics(recipe, truth, values, n=split.n)
    return out


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
