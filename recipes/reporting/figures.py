"""Figures: computed numbers (the DataFrames of ``recipes.reporting.stats``) in,
a matplotlib :class:`~matplotlib.figure.Figure` out.

Figures are built without ``pyplot``, so no GUI backend or global figure state
is involved; nothing here computes a statistic.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator

from .formatting import PERCENT_METRICS, diff_unit, unit
from .stats import (COMMON_METRICS, CURVE_BAND, KEY, NOT_COMMON, is_higher_better, label_of,
                    role_rank, select)

__all__ = ["plot_curves", "plot_final", "plot_paired", "plot_grad_norm", "plot_effects",
           "plot_condition_curves", "plot_reliability", "plot_threshold_curves"]

def _colors(recipes):
    from matplotlib import colormaps
    cmap = colormaps["tab10"]
    return {r: cmap(i % 10) for i, r in enumerate(recipes)}


def _recipe_order(df):
    pairs = df[["recipe", "role"]].drop_duplicates("recipe")
    return [r for r, _ in sorted(zip(pairs["recipe"], pairs["role"]),
                                 key=lambda t: (role_rank(t[1]), str(t[0])))]


# A figure's width on the report's page (document.CSS: 1200 px) in inches at render.DPI:
# a wider PNG is scaled down in the browser, and its text with it.
PAGE_INCHES = 12.0
# How a goal is drawn across a learning-curve panel; its label ("goal (auto)") is in the
# figure's legend, where no curve can run through it.
GOAL_LINE = dict(color="0.3", lw=1, ls=":")
# Conditions on one panel of the effect figure: more wrap onto further panels, so tick
# labels keep their size at the page's width.
MAX_CONDITIONS_PER_PANEL = 9


def _chunks(items, size):
    """``items`` cut into as few runs of at most ``size`` as possible, of equal length
    (the last one at most one shorter)."""
    items = list(items)
    n = max(1, math.ceil(len(items) / size))
    per = math.ceil(len(items) / n)
    return [items[i:i + per] for i in range(0, len(items), per)] or [items]


def _grid(n, width=4.2, height=3.2, ncols=3):
    ncols = min(ncols, max(1, n))
    nrows = max(1, math.ceil(n / ncols))
    fig = Figure(figsize=(width * ncols, height * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _panel_title(condition, width=26):
    """A condition's label as a panel title or tick label, wrapped between settings onto
    lines of about ``width`` characters, so it fits a narrow panel ("default" for the
    unnamed condition)."""
    import textwrap

    return "\n".join(textwrap.wrap(condition, width, break_long_words=False)) \
        if condition else "default"


def _prefix(names):
    """The first ``_``-separated word all recipe names share (their problem, e.g.
    ``multiclass_``), or ``""``."""
    names = [str(n) for n in names]
    first = {n.split("_", 1)[0] for n in names}
    if len(first) == 1 and all("_" in n for n in names):
        return first.pop() + "_"
    return ""


def _aliases(df, also=()):
    """Recipe -> its name without the shared problem word (``multiclass_softmax_mse`` ->
    ``softmax_mse``): labels short enough for a panel title or a legend row. ``also``:
    more names (a reference recipe) that share the prefix."""
    names = list(dict.fromkeys([*df["recipe"], *also]))
    prefix = _prefix(names)
    return {n: n[len(prefix):] for n in names}


def _alias_key(df, also=()):
    """The key to the aliases, for a figure's title: the dropped prefix."""
    prefix = _prefix(list(dict.fromkeys([*df["recipe"], *also])))
    return f" (recipes named without '{prefix}')" if prefix else ""


def _suptitle(fig, text, fontsize=10):
    """A figure title wrapped to the figure's width (about 0.55 em per character)."""
    import textwrap

    chars = max(20, int(fig.get_figwidth() * 72 / (0.55 * fontsize)))
    fig.suptitle("\n".join(textwrap.wrap(text, chars)), fontsize=fontsize)


def _fit_legend(fig, handles, fontsize=8):
    """A legend below the panels, as many columns as fit the figure's width."""
    longest = max(len(h.get_label()) for h in handles)
    per_col = 0.55 * fontsize / 72 * longest + 0.7  # inches: text plus the line sample
    ncols = max(1, min(len(handles), int(fig.get_figwidth() / per_col)))
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, fontsize=fontsize,
               frameon=False)


def _scale(metric):
    """Shares are drawn in % like the tables; the unit for a label (``formatting.unit``)."""
    return (100 if metric in PERCENT_METRICS else 1), _unit(unit(metric))


def _unit(text):
    """A unit as an axis label writes it after the metric: `` (pp)``, or nothing."""
    return f" ({text})" if text else ""


def _empty(text):
    fig = Figure(figsize=(5, 2))
    ax = fig.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center")
    return fig


def _title(df):
    keys = df[KEY].drop_duplicates()
    return label_of(keys.iloc[0]) if len(keys) == 1 else ""


def plot_curves(curves_df, goals_df=None, *, comparison=None, metrics=None,
                splits=("val", "train")):
    """Learning curves: one panel per metric; validation solid, train dashed;
    a band across seeds (``lower``..``upper``) per recipe; the goal as a
    horizontal line, labelled in the legend. ``metrics`` defaults to the common metrics
    of the target."""
    c = select(curves_df, comparison)
    if not len(c):
        return _empty("no curves")
    if metrics is None:
        target = c["target"].dropna()
        target = target.iloc[0] if len(target) else None
        present = list(dict.fromkeys(c.loc[~c["metric"].isin(NOT_COMMON), "metric"]))
        order = [m for m in COMMON_METRICS.get(target, ()) if m in present]
        metrics = order + sorted(m for m in present if m not in order)
    if not metrics:
        return _empty("no common metrics")
    recipes = _recipe_order(c)
    colors = _colors(recipes)
    g = select(goals_df, comparison) if goals_df is not None and len(goals_df) else None
    fig, axes = _grid(len(metrics))
    goals = {}  # the goal lines' labels, in order: named in the legend, not on the data
    for ax, metric in zip(axes, metrics):
        scale, suffix = _scale(metric)
        for recipe in recipes:
            for split in splits:
                d = c[(c["recipe"] == recipe) & (c["split"] == split) & (c["metric"] == metric)]
                d = d.sort_values("epoch")
                if not len(d):
                    continue
                ls = "-" if split == "val" else "--"
                ax.plot(d["epoch"], d["mean"] * scale, ls=ls, color=colors[recipe],
                        lw=1.8 if split == "val" else 1.1)
                ax.fill_between(d["epoch"], d["lower"] * scale, d["upper"] * scale,
                                color=colors[recipe], alpha=0.18 if split == "val" else 0.07,
                                lw=0)
        if g is not None and len(g):
            for _, row in g[g["metric"] == metric].iterrows():
                if np.isfinite(row["value"]):
                    ax.axhline(row["value"] * scale, **GOAL_LINE)
                    goals[f"goal ({row['source']})"] = None
        better = "higher" if is_higher_better(metric) else "lower"
        ax.set_title(f"{metric}{suffix} ({better} is better)", fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    _legend(fig, recipes, c, colors, splits=splits, goals=goals)
    _suptitle(fig, f"Learning curves, mean and {CURVE_BAND}: {_title(c)}{_alias_key(c)}")
    return fig


def _legend(fig, recipes, df, colors, splits=(), goals=()):
    """The figure's legend below its panels: a line per recipe, the line styles of
    ``splits``, and a goal line per label in ``goals`` (drawn as ``GOAL_LINE``)."""
    from matplotlib.lines import Line2D
    roles = dict(zip(df["recipe"], df["role"]))
    alias = _aliases(df)
    handles = [Line2D([], [], color=colors[r], lw=2, label=f"{alias[r]} ({roles.get(r) or '?'})")
               for r in recipes]
    if "val" in splits:
        handles.append(Line2D([], [], color="k", ls="-", label="validation"))
    if "train" in splits:
        handles.append(Line2D([], [], color="k", ls="--", label="train"))
    handles += [Line2D([], [], label=label, **GOAL_LINE) for label in goals]
    _fit_legend(fig, handles)


def _dot(ax, value, y, lo, hi, scale, color):
    """A point with its CI as a horizontal error bar (a bare point when the CI is unknown)."""
    if np.isfinite(lo):
        ax.errorbar(value * scale, y, xerr=[[(value - lo) * scale], [(hi - value) * scale]],
                    fmt="o", color=color, capsize=3)
    else:
        ax.plot(value * scale, y, "o", color=color)


def _rows(ax, labels, title):
    """One row per label, top to bottom, under a panel title."""
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="x")


def plot_final(summary_df, *, comparison=None, metrics=None):
    """Final validation value per recipe: mean (dot) and 95% bootstrap CI (bar);
    one panel per metric."""
    s = select(summary_df, comparison)
    if not len(s):
        return _empty("no summary")
    metrics = metrics or list(dict.fromkeys(s["metric"]))
    recipes = _recipe_order(s)
    colors = _colors(recipes)
    fig, axes = _grid(len(metrics), width=4.2, height=0.45 * len(recipes) + 1.4)
    for ax, metric in zip(axes, metrics):
        d = s[s["metric"] == metric].set_index("recipe")
        scale = 100 if metric in PERCENT_METRICS else 1
        for y, recipe in enumerate(recipes):
            if recipe in d.index and np.isfinite(d.loc[recipe, "mean"]):
                r = d.loc[recipe]
                _dot(ax, r["mean"], y, r["ci_low"], r["ci_high"], scale, colors[recipe])
        better = "higher" if is_higher_better(metric) else "lower"
        _rows(ax, recipes, f"{metric}{_unit(unit(metric))} ({better} is better)")
    fig.suptitle(f"Final validation value, mean and 95% bootstrap CI: {_title(s)}", fontsize=11)
    return fig


def plot_paired(paired_df, *, comparison=None, metrics=None):
    """Paired differences (recipe - recommended) with 95% bootstrap CI; 0 marked."""
    p = select(paired_df, comparison)
    p = p[p["metric"].notna() & p["n_pairs"].fillna(0).gt(0)] if len(p) else p
    if not len(p):
        return _empty("no paired comparison")
    metrics = metrics or list(dict.fromkeys(p["metric"]))
    labels = list(dict.fromkeys(p["recipe"] + " - " + p["baseline"]))
    colors = OUTCOME_COLORS
    fig, axes = _grid(len(metrics), width=4.2, height=0.45 * len(labels) + 1.4)
    for ax, metric in zip(axes, metrics):
        d = p[p["metric"] == metric]
        scale = 100 if metric in PERCENT_METRICS else 1
        for _, r in d.iterrows():
            y = labels.index(f"{r['recipe']} - {r['baseline']}")
            _dot(ax, r["mean_diff"], y, r["ci_low"], r["ci_high"], scale,
                 colors.get(r["outcome"], "0.4"))
        ax.axvline(0, color="k", lw=0.8)
        better = "higher" if is_higher_better(metric) else "lower"
        _rows(ax, labels, f"{metric}{_unit(diff_unit(metric))}: {better} is better")
    fig.suptitle(f"Paired difference vs recommended (green better, red worse): {_title(p)}",
                 fontsize=11)
    return fig


def plot_grad_norm(curves_df, *, comparison=None, metric="grad_norm", split="train"):
    """Gradient norm of the output layer per epoch (log y), band across seeds."""
    c = select(curves_df, comparison)
    c = c[(c["metric"] == metric) & (c["split"] == split)] if len(c) else c
    if not len(c):
        return _empty(f"no {metric}")
    if not (np.isfinite(c["mean"]) & (c["mean"] > 0)).any():   # a log scale needs one
        return _empty(f"no finite {metric}: every run diverged")
    recipes = _recipe_order(c)
    colors = _colors(recipes)
    fig = Figure(figsize=(7.5, 4.6), layout="constrained")
    ax = fig.subplots()
    for recipe in recipes:
        d = c[c["recipe"] == recipe].sort_values("epoch")
        pos = d["mean"] > 0
        ax.plot(d.loc[pos, "epoch"], d.loc[pos, "mean"], color=colors[recipe])
        lower = d["lower"].where(d["lower"] > 0)
        ax.fill_between(d["epoch"], lower, d["upper"], color=colors[recipe], alpha=0.18, lw=0)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(f"{metric} ({split})")
    ax.grid(alpha=0.3, which="both")
    _legend(fig, recipes, c, colors)
    _suptitle(fig, f"Output-layer gradient norm: {_title(c)}{_alias_key(c)}")
    return fig


# --- conditions: effects and curves over a comparison's condition grid -------------------

OUTCOME_COLORS = {"better": "tab:green", "detectably better": "yellowgreen",
                  "worse": "tab:red", "detectably worse": "lightcoral",
                  "equivalent": "tab:blue", "inconclusive": "0.45"}


def plot_effects(effects_df, *, comparison=None, metric=None):
    """Each recipe's effect (recipe - reference) over the comparison's conditions: the
    mean difference with its 95% bootstrap CI, one panel per recipe, one point per
    condition, coloured by outcome; the shaded band is the margin of practical
    equivalence. ``metric``: default the primary metric. Takes ``stats.effects``."""
    from .words import short_conditions

    e = select(effects_df, comparison)
    if len(e):
        e = e[e["metric"] == metric] if metric else e[e["primary"].astype(bool)]
    if not len(e):
        return _empty("no effects")
    metric = e["metric"].iloc[0]
    scale = 100 if metric in PERCENT_METRICS else 1
    short = short_conditions(e)
    conds = list(short)
    recipes = list(dict.fromkeys(e["recipe"]))
    alias = _aliases(e, also=e["reference"])
    # many conditions wrap onto panels of at most MAX_CONDITIONS_PER_PANEL each, every
    # panel a wrapped label per condition, as many side by side as fit the page's width
    parts = _chunks(conds, MAX_CONDITIONS_PER_PANEL)
    width = max(3.6, 1.1 * len(parts[0]) + 1.6)   # inches per panel
    panels = [(recipe, i, part) for recipe in recipes for i, part in enumerate(parts)]
    fig, axes = _grid(len(panels), width=width, height=3.0,
                      ncols=max(1, int(PAGE_INCHES // width)))
    for ax, (recipe, i, part) in zip(axes, panels):
        d = e[(e["recipe"] == recipe) & e["condition"].isin(part)]
        for _, r in d.iterrows():
            x = part.index(r["condition"])
            color = OUTCOME_COLORS.get(r["outcome"], "0.45")
            if np.isfinite(r["ci_low"]):
                ax.errorbar(x, r["difference"] * scale,
                            yerr=[[(r["difference"] - r["ci_low"]) * scale],
                                  [(r["ci_high"] - r["difference"]) * scale]],
                            fmt="o", color=color, capsize=3)
            else:
                ax.plot(x, r["difference"] * scale, "o", color=color)
        margin = d["margin"].dropna()
        if len(margin):
            ax.axhspan(-margin.max() * scale, margin.max() * scale, color="tab:blue",
                       alpha=0.1, lw=0)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xticks(range(len(part)), [_panel_title(short[c], 18) for c in part],
                      fontsize=7)
        ax.set_xlim(-0.5, len(part) - 0.5)
        reference = e.loc[e["recipe"] == recipe, "reference"].iloc[0]
        of = f" ({i + 1} of {len(parts)})" if len(parts) > 1 else ""
        ax.set_title(f"{alias[recipe]} - {alias[reference]}{of}", fontsize=8)
        ax.set_ylabel(f"{metric}{_unit(diff_unit(metric))}", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(alpha=0.3, axis="y")
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], color=c, marker="o", ls="", label=o)
               for o, c in OUTCOME_COLORS.items()]
    _fit_legend(fig, handles)
    better = "higher" if is_higher_better(metric) else "lower"
    _suptitle(fig, f"Effect vs the recommended recipe, {better} is better; band: margin of "
              f"equivalence: {_title(e)}{_alias_key(e, also=e['reference'])}")
    return fig


# More recipes than this in one panel become small multiples: each alternative against
# the recommended recipe, one row per alternative.
MAX_RECIPES_PER_PANEL = 3
# Panels per row of a figure with one panel per condition: more conditions wrap onto
# more rows, so a figure stays about a page wide and its labels legible.
MAX_COLUMNS = 4


def plot_condition_curves(curves_df, metric, *, comparison=None, split="val", log=False,
                          labels=None):
    """Learning curves of one metric, one panel per condition: mean and band across
    seeds per recipe. With more than ``MAX_RECIPES_PER_PANEL`` recipes, small
    multiples: one row per alternative, drawn against the recommended recipe (grey),
    one column per condition. ``log``: a log y scale (for gradient norms).
    ``labels``: ``{condition: panel title}`` (``words.short_conditions`` of the
    comparison's settings); default: the condition labels."""
    from .words import short_conditions

    c = select(curves_df, comparison)
    c = c[(c["metric"] == metric) & (c["split"] == split)] if len(c) else c
    if not len(c):
        return _empty(f"no {metric}")
    short = {cond: (labels or {}).get(cond, title)
             for cond, title in short_conditions(c).items()}
    recipes = _recipe_order(c)
    colors = _colors(recipes)
    scale, suffix = _scale(metric)
    alias = _aliases(c)
    if len(recipes) > MAX_RECIPES_PER_PANEL:
        rows = [[recipes[0], r] for r in recipes[1:]]
    else:
        rows = [recipes]
    ncols = len(short)
    wrap = min(ncols, MAX_COLUMNS) if len(rows) == 1 else ncols
    fig, axes = _grid(len(rows) * ncols, width=max(2.6, min(3.8, 10.5 / wrap)),
                      height=2.0 if len(rows) > 1 else 2.8, ncols=wrap)
    for i, group in enumerate(rows):
        for j, cond in enumerate(short):
            ax = axes[i * ncols + j]
            for k, recipe in enumerate(group):
                d = c[(c["condition"] == cond) & (c["recipe"] == recipe)].sort_values("epoch")
                if not len(d):
                    continue
                mean, lower, upper = (d[key] * scale for key in ("mean", "lower", "upper"))
                if log:
                    mean, lower = mean.where(mean > 0), lower.where(lower > 0)
                color = "0.35" if len(rows) > 1 and k == 0 else colors[recipe]
                ax.plot(d["epoch"], mean, color=color, lw=1.6)
                ax.fill_between(d["epoch"], lower, upper, color=color, alpha=0.18, lw=0)
            if log:
                if any(np.isfinite(line.get_ydata()).any() for line in ax.get_lines()):
                    ax.set_yscale("log")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if log:
                # no minor ticks: their labels (2x10^-1, 3x10^-1 ...) crowd, and the
                # marks alone cost a third of the figure's drawing
                ax.yaxis.set_minor_locator(NullLocator())
            else:
                ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
            ax.tick_params(which="both", labelsize=7)
            ax.grid(alpha=0.3)
            if i == 0:
                ax.set_title(_panel_title(short[cond]), fontsize=9)
            if i == len(rows) - 1:
                ax.set_xlabel("epoch", fontsize=8)
            if j == 0 and len(rows) > 1:
                ax.set_ylabel(alias[group[-1]], fontsize=8, color=colors[group[-1]])
    if len(rows) > 1:
        from matplotlib.lines import Line2D
        _fit_legend(fig, [Line2D([], [], color="0.35", lw=2,
                                 label=f"{alias[recipes[0]]} (recommended), in every row"),
                          Line2D([], [], color="k", lw=2,
                                 label="the row's recipe (name at the left)")])
    else:
        _legend(fig, recipes, c, colors)
    _suptitle(fig, f"{split} {metric}{suffix} per condition, mean and {CURVE_BAND}: "
              f"{_title(c)}{_alias_key(c)}")
    return fig


__all__ += ["plot_tuning"]


def plot_tuning(tuning_df, *, comparison=None):
    """Each recipe's learning-rate sensitivity curve: mean validation score over the
    tuning seeds against the learning rate (log scale), with its 95% bootstrap CI, one
    panel per condition; the chosen rate is ringed. Takes ``stats.tuning``."""
    import textwrap

    from matplotlib.lines import Line2D

    from .words import short_conditions

    t = select(tuning_df, comparison)
    if not len(t):
        return _empty("no tuning runs")
    metric = t["metric"].iloc[0]
    scale = 100 if metric in PERCENT_METRICS else 1
    short = short_conditions(t)
    recipes = _recipe_order(t)
    colors = _colors(recipes)
    fig, axes = _grid(len(short), width=max(4.2, 6.4 / len(short)), height=3.2)
    for ax, cond in zip(axes, short):
        for recipe in recipes:
            d = t[(t["condition"] == cond) & (t["recipe"] == recipe)].sort_values(
                "learning_rate")
            if not len(d):
                continue
            mean = d["mean"].to_numpy(float) * scale
            lo = np.where(np.isfinite(d["ci_low"]), d["ci_low"], d["mean"]) * scale
            hi = np.where(np.isfinite(d["ci_high"]), d["ci_high"], d["mean"]) * scale
            ax.errorbar(d["learning_rate"], mean, yerr=[mean - lo, hi - mean], fmt="o-",
                        color=colors[recipe], ms=4, lw=1.4, capsize=2)
            best = d[d["chosen"].astype(bool)]
            ax.plot(best["learning_rate"], best["mean"] * scale, "o", ms=12, mfc="none",
                    mec=colors[recipe], mew=2, clip_on=False)
        ax.set_xscale("log")
        ax.margins(x=0.08, y=0.08)
        ax.set_title(_panel_title(short[cond]), fontsize=9)
        ax.set_xlabel("learning rate", fontsize=8)
        ax.set_ylabel(f"validation {metric}{_unit(unit(metric))}", fontsize=8)
        ax.grid(alpha=0.3)
    roles = dict(zip(t["recipe"], t["role"]))
    handles = [Line2D([], [], color=colors[r], marker="o", lw=1.4, ms=4,
                      label=f"{r} ({roles.get(r) or '?'})") for r in recipes]
    handles.append(Line2D([], [], ls="", marker="o", ms=12, mfc="none", mec="k", mew=2,
                          label="chosen rate"))
    width = fig.get_figwidth()
    longest = max(len(h.get_label()) for h in handles)
    ncols = max(1, min(len(handles), int(width / (0.065 * longest + 0.6))))
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, fontsize=8,
               frameon=False)
    seeds = int(t["n_runs"].max())
    title = (f"Learning-rate sensitivity: mean validation {metric} over {seeds} tuning "
             f"seeds, 95% bootstrap CI, chosen rate ringed: {_title(t)}")
    fig.suptitle("\n".join(textwrap.wrap(title, int(width * 11))), fontsize=10)
    return fig


__all__ += ["plot_claims"]

# Conditions (columns) on one panel of the claims figure: more are split into panels by
# the setting that keeps each panel within it, so cells and labels keep their size.
MAX_CLAIM_COLUMNS = 9
# A claim's row label is wrapped onto lines of about this many characters.
CLAIM_LABEL_CHARS = 38
CELL_FONT = 8        # points: the effect in a cell, and the condition labels
LABEL_FONT = 9       # points: the claims' row labels


def _tint(color, amount=0.45):
    """``color`` mixed with white: a cell's background that black text reads on."""
    from matplotlib.colors import to_rgb

    return tuple(1 - amount * (1 - c) for c in to_rgb(color))


def _setting_order(value):
    """Sort key of a setting's value: numbers by size, then text, then unknown."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not (
            isinstance(value, float) and math.isnan(value)):
        return (0, float(value), "")
    return (2, 0.0, "") if value is None or (isinstance(value, float) and
                                             math.isnan(value)) else (1, 0.0, str(value))


def _claim_panels(cells, tokens, vary):
    """The claims figure's panels: ``(setting, [(title, [condition, ...])])``, the setting
    that splits them (None: not split by one); ``tokens``: ``{condition: {setting:
    token}}`` of the settings ``vary``. One panel while the
    conditions fit ``MAX_CLAIM_COLUMNS``; else one per value of the varying setting that
    needs the fewest panels within it (its value the title), else equal runs."""
    raw = cells.drop_duplicates("condition").set_index("condition")

    def key(cond, first=None):
        names = ([first] if first else []) + [n for n in vary if n != first]
        return tuple(_setting_order(raw.at[cond, n] if n in raw.columns else None)
                     for n in names)

    conds = sorted(tokens, key=key)
    if len(conds) <= MAX_CLAIM_COLUMNS:
        return None, [("", conds)]
    best = None
    for n in vary:
        groups = {}
        for c in sorted(tokens, key=lambda c: key(c, n)):
            groups.setdefault(tokens[c][n], []).append(c)
        if max(map(len, groups.values())) <= MAX_CLAIM_COLUMNS and (
                best is None or len(groups) < len(best[1])):
            best = (n, groups)
    if best is None:
        parts = _chunks(conds, MAX_CLAIM_COLUMNS)
        return None, [(f"conditions {sum(map(len, parts[:i])) + 1}-"
                       f"{sum(map(len, parts[:i + 1]))} of {len(conds)}", p)
                      for i, p in enumerate(parts)]
    return best[0], [(str(value), group) for value, group in best[1].items()]


def plot_claims(cells, columns, *, title="Claims by condition"):
    """Claims (rows) by conditions (columns): each cell coloured by the claim's outcome
    under that condition and carrying its effect with its unit; the columns named by the
    settings that vary (one per line), sorted and grouped by them, split into panels by
    one of them when there are more than ``MAX_CLAIM_COLUMNS``. Takes
    ``words.claim_cells`` and ``words.claim_columns`` (``{condition: {setting: token}}``
    of the settings that vary); a claim not run under a condition leaves its cell blank.
    Returns the figure."""
    import textwrap

    from matplotlib.patches import Patch, Rectangle

    if not len(cells):
        return _empty("no claims")
    tokens = columns
    vary = list(next(iter(tokens.values()), {}))
    split, panels = _claim_panels(cells, tokens, vary)
    inner = [n for n in vary if n != split]   # the panel's title names ``split``
    claims = list(dict.fromkeys(cells["claim"]))
    rows = [[k for k in claims if cells[(cells["claim"] == k)
                                        & cells["condition"].isin(p)].shape[0]]
            for _, p in panels]
    lines = max(1, max(sum(1 for n in inner if tokens[c][n]) for c in tokens))
    heights = [0.42 * len(r) + 0.17 * lines + 0.35 for r in rows]
    fig = Figure(figsize=(PAGE_INCHES, sum(heights) + 1.1), layout="constrained")
    axes = fig.subplots(len(panels), 1, squeeze=False, height_ratios=heights).ravel()
    by = {(k, c): r for k, c, r in zip(cells["claim"], cells["condition"],
                                       cells.to_dict("records"))}
    label_inches = 0.55 * LABEL_FONT / 72 * CLAIM_LABEL_CHARS
    cell_chars = (PAGE_INCHES - label_inches) / max(len(p) for _, p in panels) / (
        0.6 * CELL_FONT / 72)
    for ax, (name, conds), shown in zip(axes, panels, rows):
        for y, claim in enumerate(shown):
            for x, cond in enumerate(conds):
                r = by.get((claim, cond))
                if r is None:
                    continue
                ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, lw=0.8, ec="white",
                                       fc=_tint(OUTCOME_COLORS.get(r["outcome"], "0.45"))))
                text = str(r["effect"])
                if len(text) > cell_chars:
                    text = text.replace(" ", "\n", 1)
                ax.text(x, y, text, ha="center", va="center", fontsize=CELL_FONT)
        for x in range(1, len(conds)):   # a line between groups of the first setting
            if inner and tokens[conds[x]][inner[0]] != tokens[conds[x - 1]][inner[0]]:
                ax.axvline(x - 0.5, color="0.3", lw=1.2)
        ax.set_xlim(-0.5, len(conds) - 0.5)
        ax.set_ylim(len(shown) - 0.5, -0.5)
        ax.xaxis.tick_top()
        ax.set_xticks(range(len(conds)), ["\n".join(tokens[c][n] for n in inner
                                                    if tokens[c][n]) or "default"
                                          for c in conds], fontsize=CELL_FONT)
        ax.set_yticks(range(len(shown)), ["\n".join(textwrap.wrap(k, CLAIM_LABEL_CHARS))
                                          for k in shown], fontsize=LABEL_FONT)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        if name:
            ax.set_title(name, fontsize=LABEL_FONT + 1, loc="left", fontweight="bold")
    handles = [Patch(fc=_tint(c), ec="0.6", label=o) for o, c in OUTCOME_COLORS.items()]
    _fit_legend(fig, handles, fontsize=CELL_FONT + 1)
    _suptitle(fig, f"{title}: the first recipe's value minus the second's (the metric's "
              f"arrow says which way is better), coloured by outcome")
    return fig


# #22 item 6: the decoded forms' figures. Panels 5 x 3.6 inches, at most DECODED_COLUMNS
# side by side: at the report's 100 dpi a row is at most 10 inches (1000 px), under the
# 1200 px page, so 8-point tick labels render at 11 px, never scaled down.
DECODED_COLUMNS = 2
DECODED_PANEL = (5.0, 3.6)
FORM_STYLES = {"raw": ("tab:orange", "o", "before calibration"),
               "calibrated": ("tab:blue", "s", "after calibration"),
               "thresholded": ("tab:orange", "o", "raw outputs"),
               "calibrated+thresholded": ("tab:blue", "s", "calibrated outputs")}


def _decoded_panels(df):
    """The (condition, recipe) pairs of ``df`` in condition then recipe-name order, each with
    its title: the condition's short label and the recipe without its problem word."""
    from .words import short_conditions

    short = short_conditions(df)
    alias = _aliases(df)
    order = {r: i for i, r in enumerate(sorted(df["recipe"].unique()))}
    pairs = df[["condition", "recipe"]].drop_duplicates()
    pairs = sorted(pairs.itertuples(index=False), key=lambda p: (short[p[0]], order[p[1]]))
    return [(c, r, f"{alias[r]}\n{_panel_title(short[c], 40)}") for c, r in pairs]


def _decoded_figure(n):
    """A grid of ``n`` panels of ``DECODED_PANEL``, ``DECODED_COLUMNS`` wide."""
    return _grid(n, *DECODED_PANEL, ncols=DECODED_COLUMNS)


def _form_legend(fig, forms, extra=()):
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=FORM_STYLES[f][0], marker=FORM_STYLES[f][1], ms=5,
                      label=FORM_STYLES[f][2]) for f in forms if f in FORM_STYLES]
    _fit_legend(fig, handles + list(extra))


def plot_reliability(reliability_df, *, comparison=None):
    """Reliability diagrams before and after calibration (#22 item 6): per condition and
    recipe, the accuracy of the top-class prediction against its mean confidence in each
    of the ECE's bins, the test rows of every seed pooled, the diagonal being perfect
    calibration; each panel names both ECEs. Takes ``stats.reliability``."""
    from matplotlib.lines import Line2D

    r = select(reliability_df, comparison)
    if not len(r):
        return _empty("no calibrated runs")
    panels = _decoded_panels(r)
    fig, axes = _decoded_figure(len(panels))
    low = float(r["lower"].min())
    for ax, (cond, recipe, title) in zip(axes, panels):
        d = r[(r["condition"] == cond) & (r["recipe"] == recipe)]
        eces = []
        for form in ("raw", "calibrated"):
            f = d[d["form"] == form].sort_values("bin")
            if not len(f):
                continue
            color, marker, _ = FORM_STYLES[form]
            ax.plot(f["confidence"] * 100, f["accuracy"] * 100, marker=marker, ms=4,
                    color=color, lw=1.4)
            eces.append(f"{form} {f['ece'].iloc[0] * 100:.1f}%")
        ax.plot([low * 100, 100], [low * 100, 100], ls="--", color="0.5", lw=1)
        ax.set_xlim(low * 100, 100)
        ax.set_ylim(min(low * 100, ax.get_ylim()[0]), 101)
        ax.set_title(f"{title}\nECE {', '.join(eces)}", fontsize=9)
        ax.set_xlabel("mean confidence of the top class (%)", fontsize=8)
        ax.set_ylabel("accuracy (%)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    diagonal = Line2D([], [], ls="--", color="0.5", label="perfect calibration")
    _form_legend(fig, ("raw", "calibrated"), (diagonal,))
    runs = int(r["runs"].max())
    _suptitle(fig, f"Reliability on the test split, {runs} seeds pooled in "
                   f"{int(round(1 / (r['upper'] - r['lower']).iloc[0]))} equal-width bins "
                   f"(as ECE): {_title(r)}")
    return fig


def plot_threshold_curves(threshold_df, *, comparison=None):
    """Threshold curves (#22 item 6): per condition and recipe, the metric the threshold
    was tuned for on the validation rows against the cut-off (mean over seeds and its
    2.5-97.5 percentile band), for the raw and the calibrated outputs; the tuned
    cut-offs are marked (mean, and the range over seeds as a bar), the default 0.5 is
    dotted. Takes ``stats.threshold_curves`` (the first label of a multi-label recipe:
    one panel per recipe and condition)."""
    from matplotlib.lines import Line2D

    t = select(threshold_df, comparison)
    t = t[t["label"] == 0] if len(t) else t
    if not len(t):
        return _empty("no thresholded runs")
    metric = str(t["metric"].iloc[0])
    scale, suffix = _scale(metric)
    panels = _decoded_panels(t)
    fig, axes = _decoded_figure(len(panels))
    for ax, (cond, recipe, title) in zip(axes, panels):
        d = t[(t["condition"] == cond) & (t["recipe"] == recipe)]
        for form in ("thresholded", "calibrated+thresholded"):
            f = d[d["form"] == form].sort_values("cut")
            if not len(f):
                continue
            color, marker, _ = FORM_STYLES[form]
            ax.plot(f["cut"], f["mean"] * scale, color=color, lw=1.4)
            ax.fill_between(f["cut"], f["lower"] * scale, f["upper"] * scale, color=color,
                            alpha=0.15, lw=0)
            first = f.iloc[0]
            y = first["chosen_score"] * scale
            ax.errorbar([first["chosen"]], [y], xerr=[[first["chosen"] - first["chosen_low"]],
                                                      [first["chosen_high"] - first["chosen"]]],
                        fmt=marker, ms=7, color=color, mec="k", capsize=3, zorder=3)
        ax.axvline(0.5, ls=":", color="0.4", lw=1)
        ax.set_xlim(0, 1)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("cut-off on the positive-class probability", fontsize=8)
        ax.set_ylabel(f"validation {metric}{suffix}", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    extra = (Line2D([], [], ls="", marker="o", ms=7, color="0.6", mec="k",
                    label="tuned cut-off (mean, range over seeds)"),
             Line2D([], [], ls=":", color="0.4", label="default 0.5"))
    _form_legend(fig, ("thresholded", "calibrated+thresholded"), extra)
    runs = int(t["runs"].max())
    _suptitle(fig, f"Threshold curves on the validation split: mean {metric} over {runs} "
                   f"seeds and the {CURVE_BAND}: {_title(t)}")
    return fig
