"""How a metric's value is written: percentages for shares (accuracy, f1, ...), the same
decimals across numbers shown side by side, every difference with its unit, an effect's
digits matched to the width of its interval, epochs without a trailing ``.0``.

Imports only numpy and the metrics' table of units (``training.metrics.UNITS``), so the
statistics (goal rules), the words and the figures all write numbers alike.

>>> fmt_value(0.95, "accuracy"), fmt_value(0.123456, "mse")
('95%', '0.123')
>>> fmt_group([0.5, 0.0123], "log_loss")
['0.500', '0.012']
>>> fmt_diff(-0.0084, "accuracy"), fmt_diff(0.012, "log_loss")
('-0.840 pp', '+0.0120 nats')
>>> fmt_effect(7.2e-05, 0.0, 0.000216, "mse")
'+0.00007 target units² [0, 0.00022]'
>>> fmt_effect(0.014, 0.005, 0.023, "accuracy")
'+1.4 pp [0.5, 2.3]'
>>> fmt_epochs(3.0), fmt_epochs(14 / 3)
('3', '4.7')
"""

from __future__ import annotations

import math

import numpy as np

from ..training.metrics import UNITS

# Shown as percentages: the shares of 0..1 (``UNITS``); their differences in points.
PERCENT_METRICS = frozenset(m for m, u in UNITS.items() if u == "%")
MAX_DECIMALS = 10
# An interval narrower than this share of its bounds is float noise (equal differences
# summed in another order): shown as no interval, not with MAX_DECIMALS digits.
INTERVAL_RTOL = 1e-9


def _decimals(x, sig=3):
    if not np.isfinite(x) or x == 0:
        return 0
    return int(min(8, max(0, sig - 1 - math.floor(math.log10(abs(x))))))


def scale(metric):
    """The factor from a value of ``metric`` to its shown number (100 for a share)."""
    return 100 if metric in PERCENT_METRICS else 1


def unit(metric):
    """The unit a value of ``metric`` is written in (``UNITS``; "" for a metric not listed)."""
    return UNITS.get(metric, "")


def diff_unit(metric):
    """The unit a difference of two values of ``metric`` is written in: percentage points
    (``pp``) for a share, else the metric's own unit."""
    return "pp" if metric in PERCENT_METRICS else unit(metric)


def _with_unit(text, metric):
    u = diff_unit(metric)
    return f"{text} {u}" if u else text


def fmt_group(values, metric, sig=3):
    """Format numbers alike (same decimals); percentages for shares (``PERCENT_METRICS``)."""
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
    """One value: '95%' / '93.1%' for a share, 3 significant digits otherwise."""
    if metric in PERCENT_METRICS:
        s = f"{100 * x:.1f}"
        return (s[:-2] if s.endswith(".0") else s) + "%"
    return fmt_group([x], metric)[0]


def _fixed(x, dec, signed=False):
    """``x`` with ``dec`` decimals; a number that rounds to zero is ``0`` (no sign, no
    trailing zeros: never ``-0.000``)."""
    text = f"{x:.{dec}f}"
    if float(text) == 0:
        return "0"
    return f"+{text}" if signed and x > 0 else text


def effect_decimals(values, low=np.nan, high=np.nan):
    """Decimals that show a difference and its interval ``[low, high]`` (numbers as shown):
    two significant digits of the interval's width, so the digits shown are the digits
    the interval supports; without an interval (one seed, or all differences equal, up
    to float noise: a width within ``INTERVAL_RTOL`` of the bounds),
    three significant digits of the largest number."""
    width = high - low
    if np.isfinite(width) and width > INTERVAL_RTOL * max(abs(low), abs(high)):
        return int(min(MAX_DECIMALS, max(0, 1 - math.floor(math.log10(width)))))
    finite = [abs(v) for v in values if np.isfinite(v) and v != 0]
    return _decimals(max(finite), 3) if finite else 0


def fmt_diff(x, metric, decimals=None):
    """A signed difference of two values of ``metric`` with its unit: '+1.4 pp',
    '-0.012 nats'; ``decimals`` default: three significant digits."""
    x = float(x) * scale(metric)
    if not np.isfinite(x):
        return "-"
    dec = effect_decimals([x]) if decimals is None else decimals
    return _with_unit(_fixed(x, dec, signed=True), metric)


def effect_parts(difference, low, high, metric):
    """An effect's numbers as text, the digits matched to the interval's width
    (``effect_decimals``): ``(signed difference with its unit, low, high)``; the
    bounds are ``""`` without an interval, and all three ``"-"`` without a difference."""
    d, lo, hi = (float(v) * scale(metric) for v in (difference, low, high))
    if not np.isfinite(d):
        return "-", "-", "-"
    dec = effect_decimals([d, lo, hi], lo, hi)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return _with_unit(_fixed(d, dec, signed=True), metric), "", ""
    return _with_unit(_fixed(d, dec, signed=True), metric), _fixed(lo, dec), _fixed(hi, dec)


def fmt_effect(difference, low, high, metric):
    """An effect as text: the signed difference with its unit, then its interval, the
    digits matched to the interval's width: '+1.4 pp [0.5, 2.3]'; without an interval,
    the difference alone ('+18.2 pp')."""
    d, lo, hi = effect_parts(difference, low, high, metric)
    return f"{d} [{lo}, {hi}]" if lo else d


def fmt_epochs(x):
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s
