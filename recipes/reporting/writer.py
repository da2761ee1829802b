"""Compose the report and write it: statistics, words and figures into one document.

``report`` is the front door: a results directory (or the tidy DataFrame that
``recipes.results.runner.compare`` and ``run`` return) in, ``report.md``,
a self-contained ``report.html`` and ``figures/*.png`` out; the ``recipes
report`` and ``recipes run`` commands call it too. ``write_report`` does the
composition from the two tables.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..files import atomic_write
from ..results.store import Store
from .document import Document, slugify
from .figures import plot_curves, plot_final, plot_grad_norm, plot_paired
from .formatting import fmt_value
from .stats import comparisons, curves, goals, paired, parse_config, prepare_runs, select, summary
from .words import (FAIRNESS_NOTE, METHODS_NOTE, paired_table, short, summary_table, verdict,
                    what_was_run)

__all__ = ["report", "write_report"]


def _versions(runs):
    found = {}
    for _, r in runs.iterrows():
        sources = [r["config"].get("versions")]
        if "versions" in runs.columns:
            sources.append(parse_config(r["versions"]))
        for v in sources:
            if isinstance(v, dict):
                for lib, ver in v.items():
                    found.setdefault(str(lib), set()).add(str(ver))
    return {lib: sorted(vers) for lib, vers in sorted(found.items())}


def _texts(comp, key):
    vals = []
    for config in comp.runs["config"]:
        v = config.get(key)
        if isinstance(v, str) and v.strip() and v.strip() not in vals:
            vals.append(v.strip())
    return vals


def _lookup(mapping, comp):
    if not mapping:
        return []
    for k in (comp.key, comp.label, f"{comp.key[0]}/{comp.key[1]}", list(comp.key)):
        try:
            if k in mapping:
                return mapping[k]
        except TypeError:
            continue
    return []


def write_report(results, runs=None, out="report", *, extras=None, appendix=None,
                 title="Output layer + loss recipes: experiment report"):
    """Write ``out/report.md``, ``out/report.html`` (self-contained) and ``out/figures/*.png``.

    ``extras``: ``{(experiment, dataset) or "experiment / dataset": [(title, item), ...]}``
    added at the end of that comparison's section; ``appendix``: ``[(title, item), ...]``
    at the end of the report. An item is a matplotlib Figure, a Markdown string or a
    DataFrame. Everything is computed and rendered before any file is written, and each
    file is written to a temporary file then moved into place, so a failure leaves the
    previous report as it was. Returns the path of ``report.md``.
    """
    out = Path(out)
    cur = curves(results)
    comps = comparisons(results, runs)  # prepared once, reused by the statistics below
    known = {c.key for c in comps}
    for k in (extras or {}):
        key = k if isinstance(k, tuple) else None
        labels = {c.label for c in comps} | {f"{c.key[0]}/{c.key[1]}" for c in comps}
        if key not in known and k not in labels:
            raise KeyError(f"extras for unknown comparison {k!r}")
    summ = summary(comps)
    pair = paired(comps)
    gls = goals(comps)
    verdicts = verdict(comps, summary_df=summ, paired_df=pair)
    rns = prepare_runs(runs)

    doc = Document()
    doc.heading(1, title)
    doc.para(f"**Fairness.** {FAIRNESS_NOTE}")
    doc.heading(2, "What was run")
    doc.table(what_was_run(comps))
    versions = _versions(rns)
    if versions:
        doc.para("Library versions (from the runs): "
                 + "; ".join(f"{lib} {', '.join(v)}" for lib, v in versions.items()) + ".")
    import matplotlib
    doc.para(f"Report made with numpy {np.__version__}, pandas {pd.__version__}, "
             f"matplotlib {matplotlib.__version__}.")
    doc.heading(2, "How to read the numbers")
    doc.para(METHODS_NOTE)
    if comps:
        doc.para("Comparisons: " + ", ".join(
            f"[{c.label}](#{slugify(c.label)})" for c in comps) + ".")

    for comp in comps:
        slug = slugify(comp.label)
        doc.heading(2, comp.label, anchor=slug)
        for key, word in (("claim", "Claim"), ("description", "Description")):
            for text in _texts(comp, key):
                doc.para(f"**{word}.** {text}")
        doc.heading(3, "Verdict")
        doc.bullets(verdicts.get(comp.key, []))
        g = select(gls, comp.key)
        goal_txt = ""
        if len(g):
            r = g.iloc[0]
            goal_txt = (f" Goal: validation {r['metric']} {'≥' if r['higher_is_better'] else '≤'}"
                        f" {fmt_value(r['value'], r['metric'])} ({r['rule']}).")
        doc.heading(3, "Summary")
        doc.table(summary_table(summ, comp.key),
                  caption="Final validation value: mean ± std over seeds [95% bootstrap CI]."
                  + goal_txt)
        doc.heading(3, "Paired against the recommended recipe")
        doc.table(paired_table(pair, comp.key),
                  caption="Difference = recipe - recommended, same seeds; pp = percentage "
                  "points; won = seeds where the recipe was better.")
        bad = comp.runs[comp.runs["status"] != "ok"]
        if len(bad):
            doc.heading(3, "Runs that did not finish normally")
            doc.table(pd.DataFrame({
                "run": bad["run"], "recipe": bad["recipe"], "seed": bad["seed"],
                "status": bad["status"],
                "error": [short(e, 400) if isinstance(e, str) else "" for e in bad["error"]],
            }))
        doc.heading(3, "Figures")
        c = select(cur, comp.key)
        figs = [("Learning curves of the common metrics",
                 lambda: plot_curves(c, g, metrics=comp.metrics), "curves"),
                ("Final validation values",
                 lambda: plot_final(select(summ, comp.key)), "final")]
        if len(select(pair, comp.key)) and select(pair, comp.key)["n_pairs"].fillna(0).gt(0).any():
            figs.append(("Paired differences against the recommended recipe",
                         lambda: plot_paired(select(pair, comp.key)), "paired"))
        if len(c) and (c["metric"] == "grad_norm").any():
            figs.append(("Output-layer gradient norm (train, log scale)",
                         lambda: plot_grad_norm(c), "grad-norm"))
        for fig_title, make, kind in figs:
            fig = make()
            doc.figure(fig_title, fig, f"{slug}-{kind}")
        for i, (t, item) in enumerate(_lookup(extras, comp)):
            doc.item(t, item, f"{slug}-extra-{i + 1}-{slugify(t)}")

    all_bad = rns[rns["status"] == "failed"]
    if len(all_bad):
        doc.heading(2, "Failed runs")
        doc.table(pd.DataFrame({
            "experiment": all_bad["experiment"], "dataset": all_bad["dataset"],
            "recipe": all_bad["recipe"], "seed": all_bad["seed"],
            "error": [short(e, 400) if isinstance(e, str) else "" for e in all_bad["error"]],
        }))
    if appendix:
        doc.heading(2, "Appendix")
        for i, (t, item) in enumerate(appendix):
            doc.item(t, item, f"appendix-{i + 1}-{slugify(t)}")

    doc.render()
    md = doc.to_markdown()
    page = doc.to_html(title)
    # Everything is rendered; now write, each file atomically.
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for rel, data in doc.files.items():
        atomic_write(out / rel, data)
    atomic_write(out / "report.html", page)
    atomic_write(out / "report.md", md)
    return out / "report.md"


def _appendix(catalog=None):
    """The appendix: loss surfaces (C2), the C6 table, gradient figures (C3). Needs TensorFlow."""
    from ..diagnostics.appendix import appendix

    return appendix(catalog)


def _runs_of(results):
    """The runs table of a tidy frame read from a store (``attrs["store"]``), else None."""
    source = getattr(results, "attrs", {}).get("store")
    if source is None:
        return None
    runs = Store(source, create=False).runs()
    ids = set(results["run"].dropna()) if "run" in results.columns else set()
    return runs[runs["run"].isin(ids)].reset_index(drop=True)


def report(results, out="report", *, runs=None, appendix=True, catalog=None):
    """Write the comparison report of a results directory or of a tidy results table.

    Writes ``out/report.md``, a self-contained ``out/report.html`` and
    ``out/figures/*.png``: the report the ``recipes report`` command writes.

    Parameters
    ----------
    results : str, Path or DataFrame
        A results directory (or its ``.sqlite`` file), read without ever
        creating a store; or the tidy DataFrame that
        ``recipes.results.runner.compare`` or ``run`` return.
    out : str or Path, default "report"
        The report directory; created when the report is written.
    runs : DataFrame, optional
        The runs table (``Store(...).runs()``). By default it is read from the
        results directory, or, for a DataFrame, from the store the frame came
        from (``results.attrs["store"]``), restricted to the frame's runs.
    appendix : bool, default True
        Add the appendix (loss surfaces, the C6 table, gradient figures); it
        imports TensorFlow.
    catalog : Catalog or path, optional
        The catalog the appendix's gradient figures are drawn for (default:
        the bundled one).

    Returns
    -------
    Path
        The path of ``report.html``.

    Raises
    ------
    FileNotFoundError
        When ``results`` is a path that holds no results store.
    ValueError
        When ``results`` is a DataFrame that came from no store and ``runs``
        is not given.

    Examples
    --------
    >>> from recipes.results.runner import compare  # doctest: +SKIP
    >>> results = compare(X, y, seeds=5, epochs=20, out="my_results")  # doctest: +SKIP
    >>> report(results, "my_report")  # doctest: +SKIP
    PosixPath('my_report/report.html')

    Nothing is created when there is nothing to read:

    >>> report("no-such-results")
    Traceback (most recent call last):
    ...
    FileNotFoundError: No results store at no-such-results/results.sqlite
    """
    if isinstance(results, (str, os.PathLike)):
        store = Store(results, create=False)
        results = store.history()
        if runs is None:
            runs = store.runs()
    elif runs is None:
        runs = _runs_of(results)
        if runs is None:
            raise ValueError("No runs table for these results: pass the results directory "
                             "instead of the DataFrame, or runs=Store(directory).runs()")
    extra = _appendix(catalog) if appendix else None
    return write_report(results, runs, out, appendix=extra).with_name("report.html")
