"""Figures of the diagnostics: computed numbers in, a matplotlib Figure out.

Built on ``matplotlib.figure.Figure`` without ``pyplot``, so no backend is
chosen and no figure is kept alive by a global registry.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..catalog.table import as_catalog
from .gradient import problem_gradients

__all__ = ["gradient_figure", "gradient_figures", "gradient_plots", "surface_figure"]


ROLE_STYLES = {"recommended": ("-", 2.6), "alternative": ("--", 1.6),
               "anti-pattern": (":", 2.0)}
SWEEP_LABELS = {"p_t": "p_t, predicted probability of the true class (log scale)",
                "error": "error = prediction - target"}


def _gapped(x, g):
    """Break the line where x changes sign (error sweeps skip zero), hide zeros on log axes."""
    g = np.where(g > 0, g, np.nan)
    cut = np.flatnonzero(np.diff(np.sign(x)) != 0) + 1
    return np.insert(x.astype(float), cut, np.nan), np.insert(g, cut, np.nan)


def gradient_figure(table, highlight=None, title=None):
    """|dL/dz| of the true unit against p_t (log-log) or the error, one line per recipe.

    ``table``: the output of ``gradients``/``problem_gradients`` (one problem
    or several). One panel per sweep kind present. Where the TensorFlow
    backend trains a different gradient (``tf_same`` false), that is drawn
    thin and grey-dotted beside the recipe's line.
    """
    sweeps = list(dict.fromkeys(table["sweep"]))
    fig = Figure(figsize=(max(7.5, 6.2 * len(sweeps)), 5.2), layout="constrained")
    axes = fig.subplots(1, len(sweeps), squeeze=False)
    names = list(dict.fromkeys(table["recipe"]))
    first = {str(n).split("_", 1)[0] for n in names}
    prefix = first.pop() + "_" if len(first) == 1 and all("_" in n for n in names) else ""
    handles = {}
    for ax, sweep in zip(axes[0], sweeps):
        part = table[table["sweep"] == sweep]
        for name, rows in part.groupby("recipe", sort=False):
            style, width = ROLE_STYLES.get(rows["role"].iloc[0], ("-", 1.5))
            if highlight is not None:
                width = width * (1.6 if name == highlight else 0.7)
            x, g = _gapped(rows["x"].to_numpy(), rows["autodiff"].abs().to_numpy())
            short = name[len(prefix):]
            line, = ax.plot(x, g, style, lw=width, color=_color(names.index(name)),
                            label=f"{short} ({rows['role'].iloc[0]})")
            handles.setdefault(line.get_label(), line)
            if not rows["tf_same"].all():
                x, g = _gapped(rows["x"].to_numpy(), rows["autodiff_tf"].abs().to_numpy())
                tf_line, = ax.plot(x, g, ":", lw=1.0, color=line.get_color(), alpha=0.7,
                                   label=f"{short}, as the TensorFlow backend trains it")
                handles.setdefault(tf_line.get_label(), tf_line)
        if sweep == "p_t":
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel(SWEEP_LABELS[sweep])
        ax.set_ylabel("|dL/dz| at the true unit" + (" (log scale)" if sweep == "p_t" else ""))
        ax.grid(True, which="major", alpha=0.3)
    labels = list(handles)
    per_col = 0.55 * 8 / 72 * max(map(len, labels)) + 0.7  # inches per legend column
    fig.legend(list(handles.values()), labels, loc="outside lower center", fontsize=8,
               frameon=False, ncols=max(1, min(len(labels), int(fig.get_figwidth() / per_col))))
    problems = ", ".join(dict.fromkeys(table["problem"]))
    key = f" (recipes named without '{prefix}')" if prefix else ""
    fig.suptitle((title or f"Gradient of the loss at the output pre-activation: {problems}")
                 + key, fontsize=11)
    return fig


def _color(i):
    from matplotlib import colormaps
    return colormaps["tab10"](i % 10)


def gradient_plots(catalog=None, tables=None):
    """One ``(title, plot)`` per problem type of the catalog, each plot a
    ``functools.partial`` of ``gradient_figure`` and its table: drawn when called (in
    the report, by a worker process). ``tables``: the ``problem_gradients`` tables by
    problem, when already computed."""
    import functools

    catalog = as_catalog(catalog)
    tables = tables or {p: problem_gradients(p, catalog) for p in catalog.problems}
    out = []
    for problem in catalog.problems:
        title = f"Gradients at the output pre-activation: {problem}"
        out.append((title, functools.partial(gradient_figure, tables[problem], title=title)))
    return out


def gradient_figures(catalog=None, tables=None):
    """One ``(title, Figure)`` per problem type of the catalog (``gradient_plots``,
    drawn)."""
    return [(title, plot()) for title, plot in gradient_plots(catalog, tables)]


def surface_figure(df):
    """The two loss surfaces of ``loss_surface`` side by side (filled contours)."""
    z1 = np.unique(df["z1"])
    z2 = np.unique(df["z2"])
    fig = Figure(figsize=(11.5, 4.8), layout="constrained")
    axes = fig.subplots(1, 2)
    panels = (("cce", "softmax + categorical cross-entropy"),
              ("mse", "softmax + MSE (mean over 3 classes)"))
    for ax, (col, title) in zip(axes, panels):
        grid = df.pivot(index="z2", columns="z1", values=col).loc[z2, z1].to_numpy()
        cs = ax.contourf(z1, z2, grid, levels=20, cmap="viridis")
        ax.contour(z1, z2, grid, levels=10, colors="white", linewidths=0.4, alpha=0.6)
        fig.colorbar(cs, ax=ax, label="loss")
        ax.set_title(title)
        ax.set_xlabel("z1: logit of the true class")
        ax.set_ylabel("z2: logit of another class (z3 = 0)")
    fig.suptitle("C2: where the loss is large (z1 low), MSE's surface is flat; "
                 "cross-entropy's keeps its slope")
    return fig
