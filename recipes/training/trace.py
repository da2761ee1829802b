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


def row_classes(y):
    """The class index of each row of encoded targets ``y``, by Keras' rule for
    ``fit(class_weight=)`` (``class_weight_to_sample_weights``): the argmax of one-hot
    rows, else the rounded value of a single column."""
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    return np.round(y).astype(np.int64)


def class_weights(setup, split):
    """The run's ``class_weight`` setting as the dict Keras' ``fit(class_weight=)`` takes,
    one weight for every class index ``0 .. split.n - 1`` (1.0 where not given), or None
    when the setting is None. "balanced" is ``n / (k * count_c)`` over the classes of the
    training split (scikit-learn's ``compute_class_weight``). Raises ValueError for a
    class index that is not one of the split's."""
    given = setup.settings.class_weight
    if given is None:
        return None
    n_classes = max(int(split.n), 2)
    if given == "balanced":
        from sklearn.utils.class_weight import compute_class_weight

        rows = row_classes(targets(setup.recipe, split)[0])
        present = np.unique(rows)
        given = zip(present.tolist(), compute_class_weight("balanced", classes=present, y=rows))
    weights = dict(given)
    bad = sorted(k for k in weights if not 0 <= k < n_classes)
    if bad:
        raise ValueError(f"Expected class_weight keys among the class indices "
                         f"{set(range(n_classes))}. Received: class_weight keys {bad}")
    return {c: float(weights.get(c, 1.0)) for c in range(n_classes)}


def row_weights(setup, split):
    """Each training row's weight, (N,) float32: its class's weight (``class_weights``),
    1.0 everywhere when the run has none."""
    y_train = targets(setup.recipe, split)[0]
    weights = class_weights(setup, split)
    if weights is None:
        return np.ones(len(y_train), np.float32)
    table = np.asarray([weights[c] for c in range(len(weights))], np.float32)
    return table[row_classes(y_train)]
