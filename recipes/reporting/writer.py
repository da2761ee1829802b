"""Compose the report and write it: statistics, words and figures into one document.

``report`` is the front door: a results directory (or the tidy DataFrame that
``recipes.results.runner.compare`` and ``run`` return) in, ``report.md``,
a self-contained ``report.html`` and ``figures/*.png`` out; the ``recipes
report`` and ``recipes run`` commands call it too. ``write_report`` does the
composition from the two tables.

Time goes to drawing figures, so they are drawn in worker processes (``render``)
from the moment their numbers are known, while the rest is computed, and each PNG
is kept in ``OUT/cache/figures`` under a hash of its numbers and code: a second
report of the same results draws nothing. The numbers that depend on the catalog
and the installed libraries only (the appendix's gradients and surfaces, the backend
matrix) are cached once per user (``files.user_cache("catalog-numbers")``), and
computed beside the rest when they are not. A results directory is only read.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..files import atomic_write, user_cache
from ..results.store import Store
from .document import Document, slugify
from .figures import (plot_claims, plot_condition_curves, plot_curves, plot_effects,
                      plot_grad_norm, plot_reliability, plot_threshold_curves, plot_tuning)
from .formatting import fmt_value
from .render import Renderer
from .stats import (TUNING, check_results, check_runs, comparisons, contrasts, effects, goals,
                    parse_config, prepare_runs, prepared_curves, reliability, select, summary,
                    threshold_curves, tuning)
from .words import (CONTRASTS, FAIRNESS_NOTE, METHODS_NOTE, claim_cells, claim_columns,
                    claims_table, effects_table, margins_table, outcome_rules_table,
                    problem_table, recipe_to_use, shared_settings, short, short_conditions,
                    summary_table, tuning_sentences, tuning_table, verdict, what_was_run)

__all__ = ["report", "write_report", "CACHE"]

# The report's cache folder, inside the report folder: figures/<key>.png. Deleting it
# only makes the next report slower.
CACHE = "cache"
# Numbers that depend only on the catalog and the installed libraries (the appendix's
# gradients and surfaces, the backend matrix) are kept once per user, keyed by what
# they depend on, so a new report folder does not compute them again.
NUMBERS = "catalog-numbers"

# The last report's stages: wall seconds in this process ("beside: ..." ran in a thread
# beside the others; "wait: ..." is the time spent waiting for it), and how many
# figures were drawn or read from the cache. benchmarks/report.py prints them.
timings = {}


@contextlib.contextmanager
def _timed(stage):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


@contextlib.contextmanager
def _collector_paused():
    """The garbage collector paused while a report is made: the objects that exist before
    are frozen (``gc.freeze``: no collection scans them, and the drawing workers forked
    meanwhile do not touch them), and the report's own tables and artists are freed by
    reference counting as usual, its few cycles at the next collection after it. Saves
    the report's many collections that would each scan every imported module again."""
    enabled, frozen = gc.isenabled(), gc.get_freeze_count()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if not frozen:  # a caller that froze objects itself keeps them frozen
            gc.unfreeze()
        if enabled:
            gc.enable()


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
    for k in (comp.key, comp.label, f"{comp.key[0]} / {comp.key[1]}",
              f"{comp.key[0]}/{comp.key[1]}", list(comp.key)):
        try:
            if k in mapping:
                return mapping[k]
        except TypeError:
            continue
    return []


class _Progress:
    """One progress bar over the report (to stderr; none when ``quiet`` or when stderr
    is not a terminal): the stage, then a bar over the figures as they are drawn."""

    def __init__(self, quiet):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=None, desc="report", unit="fig", disable=quiet or None,
                        leave=False, bar_format="{desc}")

    def stage(self, text):
        self.bar.set_description_str(f"report: {text}")

    def figures(self, n):
        self.bar.bar_format = None
        self.bar.total = n
        self.bar.refresh()

    def figure(self, path=None):
        self.bar.update()

    def close(self):
        self.bar.close()


def check_out(out):
    """``out`` as a Path, checked to be a folder a report can be written in: it, or its
    nearest existing parent, is a folder. Raises NotADirectoryError naming the file in
    the way, before any work (nothing is written)."""
    out = Path(out)
    for at in (out, *out.parents):
        if at.exists():
            if not at.is_dir():
                where = "out" if at == out else f"the parent {str(at)!r} of out"
                raise NotADirectoryError(
                    f"Expected out to be a folder for the report (it is created when "
                    f"missing). Received: out={str(out)!r}, where {where} is a file; pass "
                    f"the path of a folder instead.")
            break
    return out


def _ready(thing):
    """A value, or what a function returns (work that ran beside the report)."""
    return thing() if callable(thing) else thing


def write_report(results, runs=None, out="report", *, extras=None, appendix=None,
                 backends=None, title="Output layer + loss recipes: experiment report",
                 quiet=False, renderer=None, cache=True, progress=None):
    """Write ``out/report.md``, ``out/report.html`` (self-contained) and ``out/figures/*.png``.

    ``extras``: ``{(experiment, dataset) or "experiment / dataset": [(title, item), ...]}``
    added at the end of that comparison's section; ``appendix``: ``[(title, item), ...]``
    at the end of the report. An item is a matplotlib Figure, a ``functools.partial``
    that returns one (drawn in a worker process and cached by its arguments), a Markdown
    string or a DataFrame. ``appendix`` may be a function returning that list, and
    ``backends`` the ``(paragraph, rows)`` of ``recipes.diagnostics.backends.section``
    or a function returning it: they are called once the rest is composed (work running
    beside the report). Everything is computed and rendered before any report file is
    written, and each file is written to a temporary file then moved into place, so a
    failure leaves the previous report as it was. Figures are drawn by ``renderer``
    (default: one worker process per core) and kept in ``out/cache/figures`` unless
    ``cache`` is False. A progress bar goes to stderr unless ``quiet`` (and when stderr
    is not a terminal; ``progress``: the bar of the caller's). Returns the path of
    ``report.md``.
    """
    out = check_out(out)
    own = renderer is None
    if own:
        renderer = Renderer(cache=out / CACHE / "figures" if cache else None)
    bar = progress or _Progress(quiet)
    try:
        doc = _compose(results, runs, extras, appendix, backends, title, renderer, bar)
        bar.stage("figures")
        bar.figures(len(doc.figures()))
        with _timed("wait: figures"):
            doc.render(progress=bar.figure)
        timings["figures drawn"] = renderer.drawn
        timings["figures from the cache"] = len(renderer.keys) - renderer.drawn
        bar.stage("writing")
        with _timed("write files"):
            md = doc.to_markdown()
            page = doc.to_html(title)
            # Everything is rendered; now write, each file atomically.
            (out / "figures").mkdir(parents=True, exist_ok=True)
            for rel, data in doc.files.items():
                atomic_write(out / rel, data)
            atomic_write(out / "report.html", page)
            atomic_write(out / "report.md", md)
            renderer.prune()
        timings["html bytes"] = len(page.encode("utf-8"))
    finally:
        if progress is None:
            bar.close()
        if own:
            renderer.close()
    return out / "report.md"


def _curve_plans(comp, gls):
    """The curve figures of one comparison's section, ``{kind: (title, plot, name)}``,
    each plot a ``functools.partial`` of a plotting function and its numbers: the
    comparison's results, turned into learning curves where the figure is drawn (only
    the figures need the curves, and a cached figure needs none)."""
    res = comp.res
    plans = {}
    if len(comp.conditions) == 1:  # the common metrics' validation and train curves
        drawn = res[res["metric"].isin(comp.metrics) & res["split"].isin(["val", "train"])]
        plans["curves"] = ("Learning curves of the common metrics",
                           functools.partial(_of_curves, plot_curves, drawn,
                                             select(gls, comp.key), metrics=comp.metrics))
    else:
        plans["curves"] = (f"Learning curves of {comp.primary}, per condition",
                           functools.partial(_of_curves, plot_condition_curves,
                                             _rows(res, comp.primary, "val"), comp.primary,
                                             labels=short_conditions(comp.settings())))
    if len(res) and (res["metric"] == "grad_norm").any():
        g = _rows(res, "grad_norm", "train")
        plans["grad-norm"] = (
            "Output-layer gradient norm (train, log scale)",
            functools.partial(_of_curves, plot_grad_norm, g) if len(comp.conditions) == 1
            else functools.partial(_of_curves, plot_condition_curves, g, "grad_norm",
                                   split="train", log=True,
                                   labels=short_conditions(comp.settings())))
    return _names(comp, plans)


def _of_curves(plot, results, *args, **kwargs):
    """``plot`` of the learning curves (``stats.curves``) of a comparison's prepared
    ``results`` (rows of its ``res``)."""
    return plot(prepared_curves(results), *args, **kwargs)


def _rows(results, metric, split):
    """The rows a one-metric figure draws: all it is sent, and all its key hashes."""
    return results[(results["metric"] == metric) & (results["split"] == split)]


def _effect_plans(comp, eff, tun):
    """The effect and tuning figures of one comparison's section (``_curve_plans``)."""
    plans = {}
    t = select(tun, comp.key) if tun is not None and len(tun) else None
    if t is not None and len(t):
        plans["tuning"] = ("Learning-rate sensitivity", functools.partial(plot_tuning, t))
    e = select(eff, comp.key)
    if len(e):  # the figure draws the primary metric's rows
        plans["effects"] = ("Effect over the conditions",
                            functools.partial(plot_effects, e[e["primary"].astype(bool)]))
    return _names(comp, plans)


def _decoded_plans(comp, rel, thr):
    """The decoded forms' figures of one comparison's section (#22 item 6): a reliability
    diagram where its runs were calibrated, threshold curves where they were thresholded
    (``_curve_plans``)."""
    plans = {}
    r, t = select(rel, comp.key), select(thr, comp.key)
    if len(r):
        plans["reliability"] = (
            "Reliability before and after calibration (test split, seeds pooled in the "
            "ECE's bins; the diagonal is perfect calibration)",
            functools.partial(plot_reliability, r))
    if len(t):
        plans["threshold-curves"] = (
            "Threshold curves: the tuned metric on the validation split against the "
            "cut-off; the marker is the mean tuned cut-off and the mean validation value "
            "at it, the bar its range over seeds",
            functools.partial(plot_threshold_curves, t))
    return _names(comp, plans)


def _names(comp, plans):
    slug = slugify(comp.label)
    return {kind: (title, plot, f"{slug}-{kind}") for kind, (title, plot) in plans.items()}


def _submit(renderer, comps, plan, *tables):
    """Start drawing ``plan``'s figures of every comparison; returns the plans by
    comparison key."""
    plans = {comp.key: plan(comp, *tables) for comp in comps}
    for p in plans.values():
        for _, plot, name in p.values():
            renderer.submit(f"figures/{name}.png", plot)
    return plans


def _compose(results, runs, extras, appendix, backends, title, renderer, bar):
    """The report as a Document whose figures are being drawn by ``renderer``."""
    bar.stage("statistics")
    start = time.perf_counter()
    comps = comparisons(results, runs)  # prepared once, reused by the statistics below
    known = {c.key for c in comps}
    for k in (extras or {}):
        key = k if isinstance(k, tuple) else None
        labels = {c.label for c in comps} | {f"{c.key[0]}/{c.key[1]}" for c in comps} | {
            f"{c.key[0]} / {c.key[1]}" for c in comps}
        if key not in known and k not in labels:
            raise KeyError(f"extras for unknown comparison {k!r}")
    shown = {(c.key[0] + TUNING, c.key[1]) for c in comps}  # tuning runs: in their section
    sections = [c for c in comps if c.key not in shown]
    # each figure is drawn from the moment its numbers are known, beside the rest
    gls = goals(comps)
    drawn = _submit(renderer, sections, _curve_plans, gls)
    eff = effects(comps)
    tun = tuning(comps)
    more = _submit(renderer, sections, _effect_plans, eff, tun)
    decoded = _submit(renderer, sections, _decoded_plans, reliability(comps),
                      threshold_curves(comps))
    plans = {key: {**drawn[key], **more[key], **decoded[key]} for key in drawn}
    timings["statistics for the figures"] = time.perf_counter() - start
    with _timed("summary and verdicts"):
        summ = summary(comps)
        verdicts = verdict(comps, summary_df=summ, effects_df=eff)
        rns = prepare_runs(runs)
    start = time.perf_counter()
    doc = Document(renderer)
    doc.heading(1, title)
    _first_screen(doc, comps, summ, eff)
    for comp in sections:
        _section(doc, comp, summ, eff, gls, verdicts, extras, tun, plans[comp.key])
    _methods(doc, comps, rns)
    all_bad = rns[rns["status"] == "failed"]
    if len(all_bad):
        doc.heading(2, "Failed runs")
        doc.table(pd.DataFrame({
            "experiment": all_bad["experiment"], "dataset": all_bad["dataset"],
            "recipe": all_bad["recipe"], "seed": all_bad["seed"],
            "error": [short(e, 400) if isinstance(e, str) else "" for e in all_bad["error"]],
        }))
    timings["compose"] = time.perf_counter() - start
    if backends is not None:
        bar.stage("backend matrix")
        with _timed("wait: backend matrix"):
            backends = _ready(backends)
        _backends(doc, *backends)
    if appendix is not None:
        bar.stage("appendix")
        with _timed("wait: appendix numbers"):
            appendix = _ready(appendix)
    if appendix:
        doc.heading(2, "Appendix")
        for t, item, name in _named(appendix):
            doc.item(t, item, name)
    return doc


def _named(appendix):
    """``(title, item, name)`` of the appendix's items: figures are numbered 1, 2, 3, ...
    (text items take no number)."""
    figures = 0
    out = []
    for t, item in appendix:
        figures += isinstance(item, (Figure, functools.partial))
        out.append((t, item, f"appendix-{figures}-{slugify(t)}"))
    return out


def _backends(doc, text, rows):
    """The backend matrix: where TensorFlow, JAX and PyTorch compute a recipe differently."""
    doc.heading(2, "Backends", anchor="backends")
    doc.para(text)
    if len(rows) > 1:
        doc.table(pd.DataFrame(rows[1:], columns=rows[0]),
                  caption="The (recipe, point) pairs where the backends disagree: loss and "
                  "dL/dz of unit 0 per backend.")


def _first_screen(doc, comps, summ, eff):
    """The report's first screen: per problem type the recipe to use, why (the measured
    evidence) and where it does not hold; then one figure of every claim's outcome and
    effect under every condition; then the claims in words and, per comparison, the
    recipe's score beside the trivial baseline, with links."""
    doc.heading(2, "Summary", anchor="summary")
    doc.table(recipe_to_use(comps, summ, eff),
              caption="The recipe to use per problem type, from the effects below (primary "
              "metric; effect = alternative - recipe to use, on the same seeds).")
    found = contrasts(comps, specs=CONTRASTS)
    cells = claim_cells(eff, found)
    if len(cells):
        shared = shared_settings(cells)
        doc.figure("Claims by condition: each cell the claim's outcome (colour) and effect "
                   "(text, with its unit); columns named by the settings that vary"
                   + (f"; every condition: {shared}" if shared else "") + ".",
                   functools.partial(plot_claims, cells, claim_columns(cells)), "claims")
    claims = claims_table(eff, found)
    if len(claims):
        doc.table(claims, caption="Claims, computed from the effects below: the outcome "
                  "of the first recipe against the second under each condition (better / "
                  "worse: the 95% CI excludes 0, p ≤ 0.05 and the whole CI lies beyond the "
                  "metric's margin; detectably better / worse: the same, but the CI reaches "
                  "inside the margin, so the difference may be negligible; equivalent: the "
                  "CI lies inside the margin; see [How to read the numbers](#methods)).")
    doc.table(problem_table(comps, summ, eff),
              caption="The recipe to use per comparison, its final mean over conditions "
              "and the trivial baseline (majority class or mean predictor), and every "
              "common metric on which that baseline does better than the recipe. Diverged "
              "and failed runs are scored as the trivial baseline.")


def _section(doc, comp, summ, eff, gls, verdicts, extras, tun, plans):
    """One comparison's details: verdict, summary, effects, figures (``plans``: its
    figures, ``_curve_plans`` and ``_effect_plans``, already being drawn)."""
    slug = slugify(comp.label)
    doc.heading(2, comp.label, anchor=slug)
    for key, word in (("claim", "Claim"), ("description", "Description")):
        for text in _texts(comp, key):
            doc.para(f"**{word}.** {text}")
    if len(comp.conditions) > 1:
        labels = short_conditions(comp.settings())
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
              caption="Difference = recipe - recommended on the same seeds, in the metric's "
              "unit (pp: percentage points) [95% bootstrap CI], its digits those the CI "
              "supports; p: sign-flip (in brackets, the smallest p these seeds allow).")
    _tuning(doc, comp, tun, plans.get("tuning"))
    bad = comp.runs[comp.runs["status"] != "ok"]
    if len(bad):
        doc.heading(3, "Runs that did not finish normally")
        doc.table(pd.DataFrame({
            "run": bad["run"], "recipe": bad["recipe"], "seed": bad["seed"],
            "status": bad["status"],
            "error": [short(e, 400) if isinstance(e, str) else "" for e in bad["error"]],
        }))
    doc.heading(3, "Figures")
    for kind in ("effects", "curves", "grad-norm", "reliability", "threshold-curves"):
        if kind in plans:
            doc.figure(*plans[kind])
    for i, (t, item) in enumerate(_lookup(extras, comp)):
        doc.item(t, item, f"{slug}-extra-{i + 1}-{slugify(t)}")


def _tuning(doc, comp, tun, plan):
    """A tuned comparison's learning-rate choice: how, the chosen rates, the curves."""
    t = select(tun, comp.key) if tun is not None and len(tun) else None
    if t is None or not len(t):
        return
    doc.heading(3, "Learning-rate tuning")
    doc.bullets(tuning_sentences(t, split=comp.split))
    doc.table(tuning_table(t), caption="The learning rate chosen per recipe and its mean "
              "validation score over the tuning seeds (the tuning runs' own summary).")
    doc.figure(*plan)


def _methods(doc, comps, rns):
    """How the numbers were made, said once: fairness, statistics, margins, what ran."""
    doc.heading(2, "How to read the numbers", anchor="methods")
    doc.para(f"**Fairness.** {FAIRNESS_NOTE}")
    doc.para(METHODS_NOTE)
    metrics = {m for c in comps for m in c.metrics}
    doc.table(margins_table(metrics), caption="Margins of practical equivalence, in each "
              "metric's unit.")
    doc.table(outcome_rules_table(), caption="The outcome of an effect: the first row, from "
              "the top, whose condition the 95% CI of the difference and its sign-flip p "
              "meet (the CI turned so that + is better).")
    doc.heading(2, "What was run")
    doc.table(what_was_run(comps))
    versions = _versions(rns)
    if versions:
        doc.para("Library versions (from the runs): "
                 + "; ".join(f"{lib} {', '.join(v)}" for lib, v in versions.items()) + ".")
    import matplotlib
    doc.para(f"Report made with numpy {np.__version__}, pandas {pd.__version__}, "
             f"matplotlib {matplotlib.__version__}.")


def _appendix(catalog, cache, older, renderer):
    """The appendix: loss surfaces (C2), the C6 table, gradient figures (C3), its
    figures handed to ``renderer`` at once. Needs TensorFlow unless its numbers are
    cached in ``cache`` (or in one of the ``older`` folders, only read)."""
    from ..diagnostics.appendix import appendix

    with _timed("beside: appendix numbers"):
        items = appendix(catalog, cache=cache, also=older, drawn=False)
    for _, item, name in _named(items):
        if isinstance(item, functools.partial):  # kept beside the numbers, once per user
            renderer.submit(f"figures/{name}.png", item, cache=Path(cache) / "figures")
    renderer.prune_shared(Path(cache) / "figures")   # what older versions of the code drew
    return items


def _check_backends(backends):
    """A bad backend name is the caller's error, raised before anything starts."""
    if isinstance(backends, (bool, type(None))):
        return
    from ..messages import expected
    from ..training.settings import BACKENDS

    for b in ([backends] if isinstance(backends, str) else backends):
        if b not in BACKENDS:
            raise ValueError(expected(BACKENDS, "backend", b))


def _backend_section(cache, older, catalog, backends):
    """``backends.section``: the matrix cached in ``cache`` (a copy of an ``older``
    folder's ``backend_matrix.json``, e.g. where ``recipes backends --out`` or an older
    report left one); computed on a cold cache, a process per backend. A matrix whose
    key does not match is computed again."""
    from ..diagnostics.backends import CACHE as MATRIX, section
    from ..training.settings import BACKENDS

    mine = Path(cache) / MATRIX
    theirs = [Path(f) / MATRIX for f in older if f is not None]
    theirs = [p for p in theirs if p.is_file()]
    if not mine.exists() and theirs:
        atomic_write(mine, theirs[0].read_bytes())
    chosen = BACKENDS if backends is True else (
        (backends,) if isinstance(backends, str) else tuple(backends))
    with _timed("beside: backend matrix"):
        try:
            return section(cache, catalog, chosen)
        except Exception as err:  # a broken backend install costs this section, not the report
            return (f"The backend matrix ({', '.join(chosen)}) could not be computed: "
                    f"{type(err).__name__}: {short(str(err), 400)}", [])


def _runs_of(results):
    """The runs table of a tidy frame read from a store (``attrs["store"]``), else None."""
    source = getattr(results, "attrs", {}).get("store")
    if source is None:
        return None
    runs = Store(source, create=False).runs()
    ids = set(results["run"].dropna()) if "run" in results.columns else set()
    return runs[runs["run"].isin(ids)].reset_index(drop=True)


def report(results, out="report", *, runs=None, appendix=True, catalog=None, backends=True,
           quiet=False):
    """Write the comparison report of a results directory or of a tidy results table.

    Writes ``out/report.md``, a self-contained ``out/report.html`` and
    ``out/figures/*.png``: the report the ``recipes report`` command writes. What
    it computes is kept in ``out/cache`` (figures by the numbers they draw, the
    appendix's numbers, the backend matrix): a second report of the same results
    draws and computes none of it again. The results are only read.

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
        imports TensorFlow unless its numbers are cached.
    catalog : Catalog or path, optional
        The catalog the appendix's gradient figures and the backend matrix are
        computed for (default: the bundled one).
    backends : bool or sequence of str, default True
        Add the "Backends" section: where TensorFlow, JAX and PyTorch compute a
        catalog row's loss or gradient differently (``recipes.diagnostics.backends``;
        True: every installed backend). On a cold cache it takes a process per
        backend (tens of seconds), computed beside the rest of the report.
    quiet : bool, default False
        No progress bar (there is none either when stderr is not a terminal).

    Returns
    -------
    Path
        The path of ``report.html``.

    Raises
    ------
    FileNotFoundError
        When ``results`` is a path that holds no results store.
    NotADirectoryError
        When ``out`` (or a parent of it) is a file; raised before any work.
    ValueError
        When ``results`` is a DataFrame that came from no store and ``runs``
        is not given, or ``results`` or ``runs`` is not such a table (a missing
        column, a value that is not a number, an observation given twice:
        ``stats.check_results``, ``stats.check_runs``); raised before any work.

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
    from concurrent.futures import ThreadPoolExecutor

    timings.clear()
    out = check_out(out)
    store = results_dir = None
    runs = check_runs(runs)
    if isinstance(results, (str, os.PathLike)):
        store = Store(results, create=False)
        results_dir = Path(store.path).parent if hasattr(store, "path") else Path(results)
    elif getattr(results, "attrs", {}).get("store") is not None:
        source = Path(results.attrs["store"])  # where an older report may have left caches
        results_dir = source if source.is_dir() else source.parent
    elif runs is None:
        raise ValueError("No runs table for these results: pass the results directory "
                         "instead of the DataFrame, or runs=Store(directory).runs()")
    if store is None:
        results = check_results(results)
    _check_backends(backends)
    cache = out / CACHE
    numbers, older = user_cache(NUMBERS), [cache, results_dir]
    # The drawing workers start first (forked before any thread), then the catalog's
    # numbers are read or computed beside the statistics, in one thread: the appendix,
    # then the backend matrix (two threads importing TensorFlow at once can deadlock).
    with _collector_paused(), Renderer(cache=cache / "figures") as renderer, \
            ThreadPoolExecutor(1, thread_name_prefix="report") as beside:
        extra = matrix = None
        if appendix:
            extra = beside.submit(_appendix, catalog, numbers, older, renderer).result
        if backends:
            matrix = beside.submit(_backend_section, numbers, older, catalog,
                                   backends).result
        bar = _Progress(quiet)
        try:
            bar.stage("reading the results")
            with _timed("read results"):
                if store is not None and runs is None:
                    results, runs = store.history_and_runs(compact=True)
                elif store is not None:
                    results = store.history(compact=True)
                elif runs is None:
                    runs = _runs_of(results)
            path = write_report(results, runs, out, appendix=extra, backends=matrix,
                                renderer=renderer, progress=bar)
        finally:
            bar.close()
    return path.with_name("report.html")
