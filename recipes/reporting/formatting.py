"""How a metric's value is written: percentages for accuracy and f1, the same
decimals across numbers shown side by side, epochs without a trailing ``.0``.

Imports only numpy, so the statistics (goal rules), the words and the figures
all write numbers alike.

>>> fmt_value(0.95, "accuracy"), fmt_value(0.123456, "mse")
('95%', '0.123')
>>> fmt_group([0.5, 0.0123], "log_loss")
['0.500', '0.012']
>>> fmt_epochs(3.0), fmt_epochs(14 / 3)
('3', '4.7')
"""

from __future__ import annotations

import math

import numpy as np

# Shown as percentages.
PERCENT_METRICS = {"accuracy", "balanced_accuracy", "f1"}


def _decimals(x, sig=3):
    if not np.isfinite(x) or x == 0:
        return 0
    return int(min(8, max(0, sig - 1 - math.floor(math.log10(abs(x))))))


def fmt_group(values, metric, sig=3):
    """Format numbers alike (same decimals); percentages for accuracy / f1."""
    vals = [float(v) for v in values]
    finite = [abs(v) for v in vals if np.isfinite(v)]
    ref = max(finite) if finite else 0.0
    if metric in PERCENT_METRICS:
        vals = [100 * v for v in vals]
        dec = max(1, _decimals(100 * ref, 2))
        return [f"{v:.{dec}f}" if np.isfinite(v) else "-" for v in vals]
    if 0 < ref < 1e-4 or ref >= 1e6:
        return [f"{v:.2e}" if np.isfinite(v) else "-" for v in vals]
    dec = _decimals(ref, sig)
    return [f"{v:.{dec}f}" if np.isfinite(v) else "-" for v in vals]


def fmt_value(x, metric):
    """One value: '95%' / '93.1%' for accuracy and f1, 3 significant digits otherwise."""
    if metric in PERCENT_METRICS:
        s = f"{100 * x:.1f}"
        return (s[:-2] if s.endswith(".0") else s) + "%"
    return fmt_group([x], metric)[0]


def fmt_epochs(x):
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s
