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
from matplotlib.figure import Figure

from ..files import atomic_write
from ..results.store import Store
from .document import Document, slugify
from .figures import plot_condition_curves, plot_curves, plot_effects, plot_grad_norm, plot_tuning
from .formatting import fmt_value
from .stats import (TUNING, comparisons, curves, effects, goals, parse_config, prepare_runs,
                    select, summary, tuning)
from .words import (FAIRNESS_NOTE, METHODS_NOTE, claims_table, effects_table, margins_table,
                    problem_table, short, short_conditions, summary_table, tuning_sentences,
                    tuning_table, verdict, what_was_run)

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


def _progress(total, quiet):
    """A progress bar over the report's figures (to stderr; none when ``quiet``)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="report figures", unit="fig", disable=quiet or None,
                leave=False)


def write_report(results, runs=None, out="report", *, extras=None, appendix=None,
                 title="Output layer + loss recipes: experiment report", quiet=False):
    """Write ``out/report.md``, ``out/report.html`` (self-contained) and ``out/figures/*.png``.

    ``extras``: ``{(experiment, dataset) or "experiment / dataset": [(title, item), ...]}``
    added at the end of that comparison's section; ``appendix``: ``[(title, item), ...]``
    at the end of the report. An item is a matplotlib Figure, a Markdown string or a
    DataFrame. Everything is computed and rendered before any file is written, and each
    file is written to a temporary file then moved into place, so a failure leaves the
    previous report as it was. A progress bar over the figures goes to stderr unless
    ``quiet`` (and when stderr is not a terminal). Returns the path of ``report.md``.
    """
    out = Path(out)
    comps = comparisons(results, runs)  # prepared once, reused by the statistics below
    cur = curves(comps)
    known = {c.key for c in comps}
    for k in (extras or {}):
        key = k if isinstance(k, tuple) else None
        labels = {c.label for c in comps} | {f"{c.key[0]}/{c.key[1]}" for c in comps}
        if key not in known and k not in labels:
            raise KeyError(f"extras for unknown comparison {k!r}")
    summ = summary(comps)
    eff = effects(comps)
    gls = goals(comps)
    verdicts = verdict(comps, summary_df=summ, effects_df=eff)
    rns = prepare_runs(runs)

    doc = Document()
    doc.heading(1, title)
    _first_screen(doc, comps, summ, eff)
    tun = tuning(comps)
    shown = {(c.key[0] + TUNING, c.key[1]) for c in comps}  # tuning runs: in their section
    for comp in comps:
        if comp.key not in shown:
            _section(doc, comp, summ, eff, gls, cur, verdicts, extras, tun)
    _methods(doc, comps, rns)
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
        figures = 0  # figures are numbered 1, 2, 3, ... (text items take no number)
        for t, item in appendix:
            figures += isinstance(item, Figure)
            doc.item(t, item, f"appendix-{figures}-{slugify(t)}")

    figures = sum(isinstance(f, Figure) for f in doc.files.values())
    with _progress(figures, quiet) as bar:
        doc.render(progress=lambda path: bar.update())
    md = doc.to_markdown()
    page = doc.to_html(title)
    # Everything is rendered; now write, each file atomically.
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for rel, data in doc.files.items():
        atomic_write(out / rel, data)
    atomic_write(out / "report.html", page)
    atomic_write(out / "report.md", md)
    return out / "report.md"


def _first_screen(doc, comps, summ, eff):
    """The report's first screen: each claim's outcome under each condition, then per
    comparison the recipe to use, its score beside the trivial baseline, and links."""
    doc.heading(2, "Summary", anchor="summary")
    claims = claims_table(eff)
    if len(claims):
        doc.table(claims, caption="Claims, computed from the effects below: the outcome "
                  "of the first recipe against the second under each condition (better / "
                  "worse: the 95% CI excludes 0 and p ≤ 0.05; equivalent: the CI lies "
                  "inside the metric's margin, see [How to read the numbers](#methods)).")
    doc.table(problem_table(comps, summ, eff),
              caption="The recipe to use per comparison, its final mean over conditions "
              "and the trivial baseline (majority class or mean predictor). Diverged and "
              "failed runs are scored as the trivial baseline.")


def _section(doc, comp, summ, eff, gls, cur, verdicts, extras, tun=None):
    """One comparison's details: verdict, summary, effects, figures."""
    slug = slugify(comp.label)
    doc.heading(2, comp.label, anchor=slug)
    for key, word in (("claim", "Claim"), ("description", "Description")):
        for text in _texts(comp, key):
            doc.para(f"**{word}.** {text}")
    if len(comp.conditions) > 1:
        labels = short_conditions(comp.conditions)
        doc.para(f"**Conditions** ({len(labels)}, never pooled): "
                 + "; ".join(f"`{v or 'default'}`" for v in labels.values()) + ".")
    doc.heading(3, "Verdict")
    doc.bullets(verdicts.get(comp.key, []))
    g = select(gls, comp.key)
    goal_txt = ""
    if len(g) == 1 and g.iloc[0]["source"] != "none":
        r = g.iloc[0]
        goal_txt = (f" Goal: validation {r['metric']} {'≥' if r['higher_is_better'] else '≤'}"
                    f" {fmt_value(r['value'], r['metric'])} ({r['rule']}).")
    split = "test" if comp.split == "test" else "validation"
    doc.heading(3, "Summary")
    doc.table(summary_table(summ, comp.key),
              caption=f"Final {split} value: mean ± std over seeds." + goal_txt)
    doc.heading(3, "Effects against the recommended recipe")
    doc.table(effects_table(eff, comp.key),
              caption="Difference = recipe - recommended on the same seeds (pp: percentage "
              "points) [95% bootstrap CI]; p: sign-flip (smallest possible).")
    _tuning(doc, comp, tun)
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
    e = select(eff, comp.key)
    figs = []
    if len(e):
        figs.append(("Effect over the conditions", lambda: plot_effects(e), "effects"))
    if len(comp.conditions) == 1:
        figs.append(("Learning curves of the common metrics",
                     lambda: plot_curves(c, g, metrics=comp.metrics), "curves"))
    else:
        figs.append((f"Learning curves of {comp.primary}, per condition",
                     lambda: plot_condition_curves(c, comp.primary), "curves"))
    if len(c) and (c["metric"] == "grad_norm").any():
        figs.append(("Output-layer gradient norm (train, log scale)",
                     (lambda: plot_grad_norm(c)) if len(comp.conditions) == 1 else
                     (lambda: plot_condition_curves(c, "grad_norm", split="train", log=True)),
                     "grad-norm"))
    for fig_title, make, kind in figs:
        doc.figure(fig_title, make(), f"{slug}-{kind}")
    for i, (t, item) in enumerate(_lookup(extras, comp)):
        doc.item(t, item, f"{slug}-extra-{i + 1}-{slugify(t)}")


def _tuning(doc, comp, tun):
    """A tuned comparison's learning-rate choice: how, the chosen rates, the curves."""
    t = select(tun, comp.key) if tun is not None and len(tun) else None
    if t is None or not len(t):
        return
    doc.heading(3, "Learning-rate tuning")
    doc.bullets(tuning_sentences(t, split=comp.split))
    doc.table(tuning_table(t), caption="The learning rate chosen per recipe and its mean "
              "validation score over the tuning seeds (the tuning runs' own summary).")
    doc.figure("Learning-rate sensitivity", plot_tuning(t), f"{slugify(comp.label)}-tuning")


def _methods(doc, comps, rns):
    """How the numbers were made, said once: fairness, statistics, margins, what ran."""
    doc.heading(2, "How to read the numbers", anchor="methods")
    doc.para(f"**Fairness.** {FAIRNESS_NOTE}")
    doc.para(METHODS_NOTE)
    metrics = {m for c in comps for m in c.metrics}
    doc.table(margins_table(metrics), caption="Margins of practical equivalence.")
    doc.heading(2, "What was run")
    doc.table(what_was_run(comps))
    versions = _versions(rns)
    if versions:
        doc.para("Library versions (from the runs): "
                 + "; ".join(f"{lib} {', '.join(v)}" for lib, v in versions.items()) + ".")
    import matplotlib
    doc.para(f"Report made with numpy {np.__version__}, pandas {pd.__version__}, "
             f"matplotlib {matplotlib.__version__}.")


def _appendix(catalog=None, cache=None):
    """The appendix: loss surfaces (C2), the C6 table, gradient figures (C3). Needs
    TensorFlow unless its numbers are cached in ``cache`` (the results folder)."""
    from ..diagnostics.appendix import appendix

    return appendix(catalog, cache=cache)


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
    cache = None
    if isinstance(results, (str, os.PathLike)):
        store = Store(results, create=False)
        cache = Path(store.path).parent if hasattr(store, "path") else Path(results)
        results = store.history()
        if runs is None:
            runs = store.runs()
    elif runs is None:
        runs = _runs_of(results)
        if runs is None:
            raise ValueError("No runs table for these results: pass the results directory "
                             "instead of the DataFrame, or runs=Store(directory).runs()")
    extra = _appendix(catalog, cache) if appendix else None
    return write_report(results, runs, out, appendix=extra).with_name("report.html")
