"""The report's appendix: C2 loss surfaces, the C6 table, C3 in words, gradient figures."""

from __future__ import annotations

import numpy as np

from .figures import gradient_figures, surface_figure
from .surface import c6_table, loss_surface

__all__ = ["appendix"]


def _markdown(df, digits=6):
    cols = list(df.columns)
    fmt = lambda v: f"{v:.{digits}g}" if isinstance(v, (float, np.floating)) else str(v)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


C3_TEXT = (
    "For softmax + cross-entropy the gradient at the logits is p - y (p_t - 1 for the true "
    "class), which tends to -1 as p_t -> 0. For softmax + MSE the true-class component "
    "vanishes as p_t -> 0. C3's -2 p_t (1 - p_t)^2 is the derivative of the true class's own "
    "squared error (1 - p_t)^2 with errors summed over classes and the other classes' terms "
    "dropped; Keras' MSE averages over the K classes and keeps every term, giving "
    "-2 p_t (1 - p_t)^2 / (K - 1) when the other classes share 1 - p_t equally (exactly C3 "
    "for K = 2).\n\n"
    "Backend notes (TensorFlow backend, measured): Keras 3's cross-entropies take the logits "
    "a Keras softmax/sigmoid caches on its output, whatever the loss, so binary_crossentropy "
    "on a softmax output trains one-vs-rest sigmoids on the softmax's logits; and the fused "
    "softmax cross-entropy back-propagates p - y even when a target row does not sum to 1 "
    "(multi-hot targets), which is not the gradient of the loss it reports. The gradient "
    "figures draw those as thin dotted lines where they differ from the textbook composition."
)


def appendix(catalog=None):
    """``[(title, Figure or markdown str)]`` for the report: C2 surfaces, C6 table, C3, gradients."""
    table = c6_table()
    c6 = (_markdown(table) + "\n\nMSE prefers the first prediction ("
          f"{table['mse'][0]:.6g} < {table['mse'][1]:.6g}, Keras' mean over classes; sums "
          f"{table['sse'][0]:.6g} < {table['sse'][1]:.6g}); cross-entropy is the same for both "
          f"({table['cce'][0]:.6g}): it depends only on the true class's probability.")
    return [
        ("C2: loss surfaces of softmax + cross-entropy and softmax + MSE",
         surface_figure(loss_surface())),
        ("C6: MSE ranks predictions by how the wrong mass is spread", c6),
        ("C3: the gradient at the true class's logit", C3_TEXT),
        *gradient_figures(catalog),
    ]
