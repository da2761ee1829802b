"""Compare recipes fairly from tidy training histories, and write the report.

No TensorFlow here. Computing numbers and drawing them are separate steps (the
style of rliable): the statistics functions take the tidy tables and return
tidy DataFrames; the plot functions take those DataFrames and return a
matplotlib :class:`~matplotlib.figure.Figure` (built without ``pyplot``, so no
GUI backend or global figure state is involved).

Inputs
------
``results``: one observation per row, columns ``run, experiment, dataset,
problem, target, recipe, role, seed, trainer, epoch, split, metric, value``.
``runs``: one row per run, columns ``run, experiment, dataset, problem, target,
recipe, role, seed, trainer, status, error, epochs, seconds, config``.

A *comparison* is one ``(experiment, dataset)`` group; dictionaries returned
here (``verdict``) are keyed by that tuple.

Fairness
--------
Recipes are judged only on the *common metrics* of their target (the same
metrics, computed the same way, on held-out validation data, for every recipe
of a problem). A recipe's own ``loss`` is never used for a verdict: values of
different losses are not comparable.

Statistics (the choices, stated once)
-------------------------------------
* Final value of a run: the value at the run's last recorded epoch of that
  (split, metric). Non-finite final values (NaN/inf) are left out of means and
  counted as missing; whatever the status of the run (a diverged run whose
  metrics are still finite counts with those values).
* ``std``: sample standard deviation over seeds (``ddof=1``; NaN for one seed).
* CI of a mean: percentile bootstrap over seeds, ``N_BOOT`` (2000) resamples,
  2.5 and 97.5 percentiles, NaN with fewer than 2 seeds. The random generator
  is seeded from ``BOOTSTRAP_SEED`` and the group's name, so the numbers do not
  depend on row order and repeat exactly. With few seeds the percentile
  bootstrap is optimistic; read it with the won/lost counts and the p-value.
* Curves band: ``lower``/``upper`` are the 2.5 and 97.5 percentiles across
  seeds at each epoch (with 5 seeds that is close to min..max), see
  ``CURVE_BAND``.
* Goal: ``config["goal"] = {"metric": ..., "value": ...}`` when an experiment
  sets one; otherwise automatic, from all recipes alike: within 5% of the best
  final mean of the primary metric, i.e. ``0.95 * best`` when higher is better
  and ``1.05 * best`` when lower is better (if ``best <= 0``: 5% of the spread
  between best and worst). It never assumes which recipe wins.
* Epochs to goal: per seed, the first epoch whose validation value meets the
  goal (``>=`` / ``<=``); the mean over the seeds that reached it, with the
  count of seeds that did out of all runs of the recipe (failed runs count as
  not reached).
* AULC: per run, the mean over its epochs of the validation metric (normalized
  area under the learning curve; NaN if any epoch is non-finite), then the mean
  over seeds.
* Paired comparison: each non-recommended recipe minus the recommended recipe,
  joined on ``(seed, trainer)`` (several runs of one recipe on the same key are
  averaged first). Mean difference, bootstrap CI of the mean difference, seeds
  won/lost/tied, and the two-sided sign-flip permutation p-value of the mean
  difference (exact up to 16 pairs, else 20000 random sign flips). With ``n``
  pairs the smallest possible p is ``2 / 2**n``. A difference is called clear
  when its CI excludes 0 and there are at least ``MIN_PAIRS`` pairs.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..catalog.table import ROLES
from ..files import atomic_write
from ..training.metrics import COMMON as COMMON_METRICS
from ..training.metrics import HIGHER_IS_BETTER, PRIMARY

# Recorded per epoch but never a common metric.
NOT_COMMON = {"loss", "grad_norm", "seconds"}
# Shown as percentages.
PERCENT_METRICS = {"accuracy", "f1"}

N_BOOT = 2000
BOOTSTRAP_SEED = 2024
N_PERMUTATIONS = 20000
MIN_PAIRS = 3
AUTO_GOAL_FRACTION = 0.05
CURVE_BAND = "2.5-97.5 percentile across seeds"

KEY = ["experiment", "dataset"]

__all__ = [
    "HIGHER_IS_BETTER", "PRIMARY", "COMMON_METRICS", "curves", "final_values", "goals",
    "summary", "paired", "verdict", "plot_curves", "plot_final", "plot_paired",
    "plot_grad_norm", "write_report", "summary_table", "paired_table",
]


# --------------------------------------------------------------------- inputs
def _higher(metric):
    return metric in HIGHER_IS_BETTER


def _parse_config(config):
    if isinstance(config, dict):
        return config
    if config is None or (isinstance(config, float) and math.isnan(config)):
        return {}
    if isinstance(config, (str, bytes)):
        try:
            value = json.loads(config)
        except ValueError:
            return {"raw": config}
        return value if isinstance(value, dict) else {"raw": value}
    return {}


def _prepare_results(results):
    if results is None:
        results = pd.DataFrame()
    df = pd.DataFrame(results).copy()
    for col in ("run", "experiment", "dataset", "problem", "target", "recipe", "role",
                "seed", "trainer", "epoch", "split", "metric", "value"):
        if col not in df.columns:
            df[col] = np.nan
    # plain object columns: row selection on them is much faster than on Arrow strings
    for col in ("run", "experiment", "dataset", "problem", "target", "recipe", "role",
                "split", "metric"):
        df[col] = df[col].astype(object)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["epoch"] = pd.to_numeric(df["epoch"], errors="coerce")
    df["trainer"] = df["trainer"].fillna("").astype(str)
    if df["run"].isna().any():  # a run id is needed to tell runs apart
        fallback = (df["experiment"].astype(str) + "|" + df["dataset"].astype(str) + "|"
                    + df["recipe"].astype(str) + "|" + df["seed"].astype(str) + "|"
                    + df["trainer"])
        df["run"] = df["run"].where(df["run"].notna(), fallback)
    return df


def _prepare_runs(runs):
    cols = ["run", "experiment", "dataset", "problem", "target", "recipe", "role", "seed",
            "trainer", "status", "error", "epochs", "seconds", "config"]
    if runs is None:
        runs = pd.DataFrame(columns=cols)
    df = pd.DataFrame(runs).copy()
    for col in cols:
        if col not in df.columns:
            df[col] = np.nan
    df["config"] = [_parse_config(c) for c in df["config"]]
    df["status"] = df["status"].fillna("ok").astype(str)
    df["trainer"] = df["trainer"].fillna("").astype(str)
    df["seconds"] = pd.to_numeric(df["seconds"], errors="coerce")
    df["epochs"] = pd.to_numeric(df["epochs"], errors="coerce")
    return df


def _role_rank(role):
    return ROLES.index(role) if role in ROLES else len(ROLES)


class _Comparison:
    """What the statistics need to know about one (experiment, dataset) group."""

    def __init__(self, key, res, runs):
        self.key = key
        self.res = res
        self.runs = runs
        roles = {}
        for frame in (runs, res):  # results win over runs when both say
            if len(frame):
                pairs = frame[["recipe", "role"]].dropna().drop_duplicates("recipe")
                roles.update(dict(zip(pairs["recipe"], pairs["role"])))
        self.roles = roles
        self.recipes = sorted(roles, key=lambda r: (_role_rank(roles[r]), str(r)))
        self.recommended = [r for r in self.recipes if roles[r] == "recommended"]
        self.target = self._target()
        self.metrics = self._metrics()
        primary = PRIMARY.get(self.target)
        self.primary = primary if primary in self.metrics else (
            self.metrics[0] if self.metrics else primary)
        self.config = self._config()
        self._finals, self._counts = {}, {}

    @property
    def label(self):
        return f"{self.key[0]} / {self.key[1]}"

    def _target(self):
        for frame in (self.res, self.runs):
            if len(frame) and frame["target"].notna().any():
                rec = frame[frame["role"] == "recommended"]["target"].dropna()
                targets = rec if len(rec) else frame["target"].dropna()
                return str(targets.mode().iloc[0])
        return None

    def _metrics(self):
        val = self.res[(self.res["split"] == "val") & ~self.res["metric"].isin(NOT_COMMON)]
        present = list(dict.fromkeys(val["metric"].dropna()))
        if not present:  # no history at all (e.g. every run failed): the expected ones
            return list(COMMON_METRICS.get(self.target, ()))
        order = [m for m in COMMON_METRICS.get(self.target, ()) if m in present]
        return order + sorted(m for m in present if m not in order)

    def _config(self):
        merged = {}
        for config in self.runs["config"]:
            for k, v in config.items():
                merged.setdefault(k, v)
        return merged

    def common(self, metric):
        """True when every recipe with results has a finite value of ``metric``."""
        if not hasattr(self, "_common"):
            val = self.res[self.res["split"] == "val"]
            val = val[np.isfinite(val["value"])]
            with_results = set(self.res["recipe"].dropna().unique())
            finite = {m: set(g.unique()) for m, g in val.groupby("metric")["recipe"]}
            self._common = {m: bool(with_results) and with_results <= finite.get(m, set())
                            for m in self.metrics}
        return self._common.get(metric, False)

    def finals(self, split="val"):
        if split not in self._finals:
            self._finals[split] = _final(self.res, split)
        return self._finals[split]

    @property
    def goal(self):
        if not hasattr(self, "_goal"):
            self._goal = _goal(self, self.finals())
        return self._goal

    def status_counts(self, recipe):
        if recipe not in self._counts:
            self._counts[recipe] = self._status_counts(recipe)
        return self._counts[recipe]

    def _status_counts(self, recipe):
        runs = self.runs[self.runs["recipe"] == recipe]
        res_runs = set(self.res.loc[self.res["recipe"] == recipe, "run"].unique())
        n_runs = max(len(runs), len(res_runs | set(runs["run"].dropna().unique())))
        return {
            "n_runs": n_runs,
            "n_ok": int((runs["status"] == "ok").sum()) if len(runs) else len(res_runs),
            "n_diverged": int((runs["status"] == "diverged").sum()),
            "n_failed": int((runs["status"] == "failed").sum()),
        }

    def seconds_per_run(self, recipe):
        runs = self.runs[(self.runs["recipe"] == recipe) & (self.runs["status"] != "failed")]
        secs = runs["seconds"][np.isfinite(runs["seconds"])]
        if len(secs):
            return float(secs.mean())
        rows = self.res[(self.res["recipe"] == recipe) & (self.res["metric"] == "seconds")]
        if not len(rows):
            return np.nan
        last = rows.loc[rows.groupby("run")["epoch"].idxmax(), "value"]
        last = last[np.isfinite(last)]
        return float(last.mean()) if len(last) else np.nan


class _Comparisons(list):
    """Prepared comparisons; the public functions accept them in place of ``results``."""


def _comparisons(results, runs):
    if isinstance(results, _Comparisons):
        return results
    res = _prepare_results(results)
    rns = _prepare_runs(runs)
    parts = []
    for frame in (res, rns):
        parts.append({tuple(k): g for k, g in frame.groupby(KEY, sort=False)} if len(frame)
                     else {})
    keys = set(parts[0]) | set(parts[1])
    out = _Comparisons()
    for key in sorted(keys, key=lambda k: (str(k[0]), str(k[1]))):
        out.append(_Comparison(key, parts[0].get(key, res.iloc[0:0]),
                               parts[1].get(key, rns.iloc[0:0])))
    return out


def _rng(*parts):
    name = "|".join(str(p) for p in parts).encode()
    return np.random.default_rng([BOOTSTRAP_SEED, zlib.crc32(name)])


def _bootstrap_ci(x, rng, n_boot=N_BOOT):
    x = np.asarray(x, float)
    if len(x) < 2:
        return np.nan, np.nan
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    means = x[idx].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def _sign_flip_p(d, rng):
    """Two-sided sign-flip permutation p-value of the mean of paired differences."""
    d = np.asarray(d, float)
    n = len(d)
    if n == 0:
        return np.nan
    observed = abs(d.mean())
    if np.all(d == 0):
        return 1.0
    if n <= 16:
        signs = 1 - 2 * ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1)
        stats = np.abs((signs * d).mean(axis=1))
        return float(np.mean(stats >= observed - 1e-12))
    signs = rng.choice([-1.0, 1.0], size=(N_PERMUTATIONS, n))
    stats = np.abs((signs * d).mean(axis=1))
    return float((np.sum(stats >= observed - 1e-12) + 1) / (N_PERMUTATIONS + 1))


# ----------------------------------------------------------------- statistics
def curves(results):
    """Mean, std and a band across seeds per comparison, recipe, split, metric, epoch.

    Columns: ``experiment, dataset, target, recipe, role, split, metric, epoch,
    n, mean, std, lower, upper``. ``n`` counts seeds with a finite value;
    non-finite values are treated as missing. ``lower``/``upper``: the
    2.5-97.5 percentile interval across seeds (``CURVE_BAND``).
    """
    res = _prepare_results(results)
    cols = KEY + ["target", "recipe", "role", "split", "metric", "epoch"]
    if not len(res):
        out = pd.DataFrame(columns=cols + ["n", "mean", "std", "lower", "upper"])
        out.attrs["band"] = CURVE_BAND
        return out
    res = res.assign(value=res["value"].where(np.isfinite(res["value"])))
    res[["target", "role"]] = res[["target", "role"]].fillna("")
    g = res.groupby(cols, sort=True, dropna=False)["value"]
    out = pd.DataFrame({
        "n": g.count(), "mean": g.mean(), "std": g.std(ddof=1),
        "lower": g.quantile(0.025), "upper": g.quantile(0.975),
    }).reset_index()
    out["epoch"] = out["epoch"].astype(int)
    out.attrs["band"] = CURVE_BAND
    return out


def final_values(results, split="val"):
    """The value at each run's last recorded epoch, per run and metric."""
    return _final(_prepare_results(results), split)


def _final(res, split):
    res = res[res["split"] == split]
    cols = KEY + ["target", "recipe", "role", "seed", "trainer", "run", "metric"]
    if not len(res):
        return res.loc[:, cols + ["epoch", "value"]].reset_index(drop=True)
    idx = res.dropna(subset=["epoch"]).groupby(["run", "metric"])["epoch"].idxmax()
    return res.loc[idx, cols + ["epoch", "value"]].reset_index(drop=True)


def _auto_goal(comp, finals):
    metric = comp.primary
    if metric is None:
        return None
    f = finals[(finals["metric"] == metric) & np.isfinite(finals["value"])]
    means = f.groupby("recipe")["value"].mean()
    if not len(means):
        return None
    higher = _higher(metric)
    best = means.max() if higher else means.min()
    worst = means.min() if higher else means.max()
    if best > 0:
        value = best * (1 - AUTO_GOAL_FRACTION) if higher else best * (1 + AUTO_GOAL_FRACTION)
        rule = (f"within {AUTO_GOAL_FRACTION:.0%} of the best recipe's final mean, "
                f"{'0.95' if higher else '1.05'} × {_fmt_value(best, metric)}")
    else:
        spread = abs(worst - best)
        value = best - AUTO_GOAL_FRACTION * spread if higher else best + AUTO_GOAL_FRACTION * spread
        rule = f"best final mean {'minus' if higher else 'plus'} 5% of the best-worst spread"
    return {"metric": metric, "value": float(value), "source": "auto", "rule": rule}


def _goal(comp, finals):
    goal = comp.config.get("goal")
    if isinstance(goal, dict) and "value" in goal:
        metric = goal.get("metric", comp.primary)
        return {"metric": metric, "value": float(goal["value"]), "source": "config",
                "rule": "set by the experiment"}
    return _auto_goal(comp, finals)


def goals(results, runs=None):
    """The goal of each comparison: ``experiment, dataset, target, metric, value,
    higher_is_better, source ('config'|'auto'), rule``."""
    rows = []
    for comp in _comparisons(results, runs):
        goal = comp.goal
        if goal:
            rows.append({"experiment": comp.key[0], "dataset": comp.key[1],
                         "target": comp.target, "metric": goal["metric"],
                         "value": goal["value"], "higher_is_better": _higher(goal["metric"]),
                         "source": goal["source"], "rule": goal["rule"]})
    return pd.DataFrame(rows, columns=KEY + ["target", "metric", "value", "higher_is_better",
                                             "source", "rule"])


def _epochs_to_goal(res, recipe, goal):
    """Per run: first epoch meeting the goal (NaN = never); plus max epochs seen."""
    rows = res[(res["recipe"] == recipe) & (res["split"] == "val")
               & (res["metric"] == goal["metric"])].dropna(subset=["epoch"])
    if not len(rows):
        return pd.Series(dtype=float), np.nan
    value = rows["value"]
    ok = np.isfinite(value) & ((value >= goal["value"]) if _higher(goal["metric"])
                               else (value <= goal["value"]))
    first = rows[ok].groupby("run")["epoch"].min()
    per_run = first.reindex(rows["run"].unique())
    return per_run.astype(float), float(rows["epoch"].max())


def _fmt_epochs(x):
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _goal_text(mean_epochs, reached, total):
    if total == 0:
        return "no runs"
    if reached == 0:
        return f"not reached (0/{total})"
    if reached == total:
        return f"{_fmt_epochs(mean_epochs)} ({reached}/{total})"
    return f"{_fmt_epochs(mean_epochs)} ({reached}/{total} reached)"


def summary(results, runs=None, *, split="val", n_boot=N_BOOT):
    """Final-epoch statistics per comparison x recipe x metric (validation split).

    Columns: ``experiment, dataset, target, recipe, role, metric,
    higher_is_better, primary, common, n, mean, std, ci_low, ci_high, aulc,
    aulc_std, goal_metric, goal, goal_source, goal_reached, goal_runs,
    goal_epochs, epochs_to_goal, max_epochs, n_runs, n_ok, n_diverged,
    n_failed, seconds_per_run``. The goal columns are filled on the row of the
    goal metric only. ``goal_epochs``: mean first epoch over the seeds that
    reached the goal; ``epochs_to_goal``: the same as text, e.g. ``"6 (5/5)"``,
    ``"not reached (0/5)"``, ``"9 (3/5 reached)"``.
    """
    rows = []
    for comp in _comparisons(results, runs):
        res = comp.res[comp.res["split"] == split]
        finals = comp.finals(split)
        finals = finals[np.isfinite(finals["value"])]
        final_by = {k: g.to_numpy(float) for k, g in finals.groupby(["recipe", "metric"])["value"]}
        # AULC per run: mean over its epochs, NaN when any epoch is not finite
        by_run = res.assign(finite=np.isfinite(res["value"])).groupby(
            ["recipe", "metric", "run"])
        aulc_run = by_run["value"].mean().where(by_run["finite"].all())
        aulc_by = {k: g.dropna().to_numpy(float)
                   for k, g in aulc_run.groupby(level=["recipe", "metric"])}
        max_ep = res.groupby(["recipe", "metric"])["epoch"].max().to_dict()
        goal = comp.goal
        for recipe in comp.recipes:
            counts = comp.status_counts(recipe)
            seconds = comp.seconds_per_run(recipe)
            for metric in comp.metrics or [None]:
                x = final_by.get((recipe, metric), np.empty(0))
                lo, hi = _bootstrap_ci(x, _rng(*comp.key, recipe, metric, split), n_boot)
                aulc_runs = aulc_by.get((recipe, metric), np.empty(0))
                row = {
                    "experiment": comp.key[0], "dataset": comp.key[1], "target": comp.target,
                    "recipe": recipe, "role": comp.roles.get(recipe), "metric": metric,
                    "higher_is_better": _higher(metric), "primary": metric == comp.primary,
                    "common": comp.common(metric), "n": len(x),
                    "mean": float(x.mean()) if len(x) else np.nan,
                    "std": float(x.std(ddof=1)) if len(x) > 1 else np.nan,
                    "ci_low": lo, "ci_high": hi,
                    "aulc": float(aulc_runs.mean()) if len(aulc_runs) else np.nan,
                    "aulc_std": (float(aulc_runs.std(ddof=1)) if len(aulc_runs) > 1
                                 else np.nan),
                    "goal_metric": goal["metric"] if goal else None,
                    "goal": goal["value"] if goal else np.nan,
                    "goal_source": goal["source"] if goal else None,
                    "goal_reached": np.nan, "goal_runs": np.nan, "goal_epochs": np.nan,
                    "epochs_to_goal": "",
                    "max_epochs": float(max_ep.get((recipe, metric), np.nan)),
                    **counts, "seconds_per_run": seconds,
                }
                if goal and metric == goal["metric"]:
                    per_run, _ = _epochs_to_goal(comp.res, recipe, goal)
                    reached = per_run.dropna()
                    total = max(counts["n_runs"], len(per_run))
                    row.update(goal_reached=len(reached), goal_runs=total,
                               goal_epochs=float(reached.mean()) if len(reached) else np.nan,
                               epochs_to_goal=_goal_text(reached.mean(), len(reached), total))
                rows.append(row)
    cols = ["experiment", "dataset", "target", "recipe", "role", "metric", "higher_is_better",
            "primary", "common", "n", "mean", "std", "ci_low", "ci_high", "aulc", "aulc_std",
            "goal_metric", "goal", "goal_source", "goal_reached", "goal_runs", "goal_epochs",
            "epochs_to_goal", "max_epochs", "n_runs", "n_ok", "n_diverged", "n_failed",
            "seconds_per_run"]
    return pd.DataFrame(rows, columns=cols)


def _per_key(finals, recipe, metric):
    f = finals[(finals["recipe"] == recipe) & (finals["metric"] == metric)]
    f = f[np.isfinite(f["value"])]
    return f.groupby(["seed", "trainer"])["value"].mean()


def paired(results, runs=None, *, metrics=None, n_boot=N_BOOT):
    """Each alternative / anti-pattern minus the recommended recipe, on the same seeds.

    One row per comparison x recipe x baseline x metric. Columns:
    ``experiment, dataset, recipe, role, baseline, metric, higher_is_better,
    primary, n_pairs, mean_diff, ci_low, ci_high, n_won, n_lost, n_tied,
    p_value, outcome, note``. ``mean_diff`` = recipe - baseline; ``n_won``
    counts seeds where the recipe was better (direction of the metric).
    ``outcome``: 'better', 'worse', 'no clear difference', 'too few pairs' or
    'not compared' (then ``note`` says why, e.g. no runs of the recommended
    recipe).
    """
    rows = []
    for comp in _comparisons(results, runs):
        finals = comp.finals()
        use = [m for m in comp.metrics if metrics is None or m in metrics]
        others = [r for r in comp.recipes if comp.roles.get(r) != "recommended"]
        base_row = {"experiment": comp.key[0], "dataset": comp.key[1]}
        if not comp.recommended:
            for recipe in others:
                rows.append({**base_row, "recipe": recipe, "role": comp.roles.get(recipe),
                             "baseline": None, "outcome": "not compared",
                             "note": "no recommended recipe in this comparison"})
            continue
        for base in comp.recommended:
            has_base = bool(len(finals[(finals["recipe"] == base)
                                       & np.isfinite(finals["value"])]))
            for recipe in others:
                row0 = {**base_row, "recipe": recipe, "role": comp.roles.get(recipe),
                        "baseline": base}
                if not has_base:
                    c = comp.status_counts(base)
                    why = (f"recommended recipe {base} has no completed runs "
                           f"({c['n_failed']} failed, {c['n_diverged']} diverged)"
                           if c["n_runs"] else f"recommended recipe {base} has no runs")
                    rows.append({**row0, "outcome": "not compared", "note": why})
                    continue
                for metric in use:
                    a = _per_key(finals, recipe, metric)
                    b = _per_key(finals, base, metric)
                    joined = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner")
                    d = (joined["a"] - joined["b"]).to_numpy(float)
                    higher = _higher(metric)
                    sign = np.sign(d) if higher else -np.sign(d)
                    rng = _rng(*comp.key, recipe, base, metric, "paired")
                    lo, hi = _bootstrap_ci(d, rng, n_boot)
                    n = len(d)
                    if n == 0:
                        outcome, note = "not compared", "no seeds in common"
                    elif n < MIN_PAIRS:
                        outcome, note = "too few pairs", f"only {n} paired seed(s)"
                    elif lo <= 0 <= hi:
                        outcome, note = "no clear difference", ""
                    else:
                        outcome = "better" if (d.mean() > 0) == higher else "worse"
                        note = ""
                    rows.append({
                        **row0, "metric": metric, "higher_is_better": higher,
                        "primary": metric == comp.primary, "n_pairs": n,
                        "mean_diff": float(d.mean()) if n else np.nan,
                        "ci_low": lo, "ci_high": hi,
                        "n_won": int((sign > 0).sum()), "n_lost": int((sign < 0).sum()),
                        "n_tied": int((sign == 0).sum()),
                        "p_value": _sign_flip_p(d, rng) if n else np.nan,
                        "outcome": outcome, "note": note,
                    })
    cols = ["experiment", "dataset", "recipe", "role", "baseline", "metric", "higher_is_better",
            "primary", "n_pairs", "mean_diff", "ci_low", "ci_high", "n_won", "n_lost", "n_tied",
            "p_value", "outcome", "note"]
    return pd.DataFrame(rows, columns=cols)


# ----------------------------------------------------------------- formatting
def _decimals(x, sig=3):
    if not np.isfinite(x) or x == 0:
        return 0
    return int(min(8, max(0, sig - 1 - math.floor(math.log10(abs(x))))))


def _fmt_group(values, metric, sig=3):
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


def _fmt_value(x, metric):
    """One value: '95%' / '93.1%' for accuracy and f1, 3 significant digits otherwise."""
    if metric in PERCENT_METRICS:
        s = f"{100 * x:.1f}"
        return (s[:-2] if s.endswith(".0") else s) + "%"
    return _fmt_group([x], metric)[0]


def _diff_unit(metric):
    return " percentage points" if metric in PERCENT_METRICS else ""


def _plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_table(summary_df, comparison=None):
    """The summary of one comparison as a wide display table (strings), one row per recipe."""
    s = _select(summary_df, comparison)
    if not len(s):
        return pd.DataFrame()
    metrics = list(dict.fromkeys(s["metric"]))
    primary = s.loc[s["primary"], "metric"]
    primary = primary.iloc[0] if len(primary) else metrics[0]
    gm = s["goal_metric"].dropna()
    goal_metric = gm.iloc[0] if len(gm) else None
    out = []
    for recipe, g in s.groupby("recipe", sort=False):
        g = g.set_index("metric")
        first = g.iloc[0]
        row = {"recipe": recipe, "role": first["role"]}
        for m in metrics:
            head = f"{m}{' (%)' if m in PERCENT_METRICS else ''} {'↑' if _higher(m) else '↓'}"
            if m not in g.index or g.loc[m, "n"] == 0:
                row[head] = "-"
                continue
            r = g.loc[m]
            mean, std, lo, hi = _fmt_group([r["mean"], r["std"], r["ci_low"], r["ci_high"]], m)
            cell = mean if not np.isfinite(r["std"]) else f"{mean} ± {std}"
            if np.isfinite(r["ci_low"]):
                cell += f" [{lo}, {hi}]"
            row[head] = cell
        row["seeds"] = int(g.loc[primary, "n"]) if primary in g.index else 0
        if goal_metric is not None and goal_metric in g.index:
            row["epochs to goal"] = g.loc[goal_metric, "epochs_to_goal"]
        aulc_head = f"AULC {primary}{' (%)' if primary in PERCENT_METRICS else ''}"
        if primary in g.index and np.isfinite(g.loc[primary, "aulc"]):
            row[aulc_head] = _fmt_group([g.loc[primary, "aulc"]], primary)[0]
        else:
            row[aulc_head] = "-"
        row["diverged / failed"] = (f"{int(first['n_diverged'])} / {int(first['n_failed'])}"
                                    f" of {int(first['n_runs'])}")
        sec = first["seconds_per_run"]
        row["s / run"] = f"{sec:.2f}" if np.isfinite(sec) else "-"
        out.append(row)
    return pd.DataFrame(out)


def paired_table(paired_df, comparison=None):
    """The paired comparison of one comparison as a display table (strings)."""
    p = _select(paired_df, comparison)
    if not len(p):
        return pd.DataFrame()
    out = []
    for _, r in p.iterrows():
        if r["outcome"] == "not compared" and not isinstance(r.get("metric"), str):
            out.append({"recipe": r["recipe"], "role": r["role"], "vs": r["baseline"] or "-",
                        "metric": "-", "difference [95% CI]": "-", "won / lost / tied": "-",
                        "p (sign-flip)": "-", "outcome": f"not compared: {r['note']}"})
            continue
        m = r["metric"]
        mean, lo, hi = _fmt_group([r["mean_diff"], r["ci_low"], r["ci_high"]], m)
        unit = " pp" if m in PERCENT_METRICS else ""
        diff = f"{'+' if r['mean_diff'] > 0 else ''}{mean}{unit}"
        if np.isfinite(r["ci_low"]):
            diff += f" [{lo}, {hi}]"
        outcome = r["outcome"] + (f" ({r['note']})" if r["note"] else "")
        out.append({
            "recipe": r["recipe"], "role": r["role"], "vs": r["baseline"],
            "metric": f"{m} {'↑' if _higher(m) else '↓'}", "difference [95% CI]": diff,
            "won / lost / tied": f"{r['n_won']} / {r['n_lost']} / {r['n_tied']} of {r['n_pairs']}",
            "p (sign-flip)": f"{r['p_value']:.3g}" if np.isfinite(r["p_value"]) else "-",
            "outcome": outcome,
        })
    return pd.DataFrame(out)


def _select(df, comparison):
    if df is None or not len(df):
        return pd.DataFrame() if df is None else df
    if comparison is None:
        keys = df[KEY].drop_duplicates()
        if len(keys) > 1:
            raise ValueError("several comparisons in the table: pass comparison=(experiment, dataset)")
        return df
    exp, ds = _norm_key(comparison, df[KEY].drop_duplicates().itertuples(index=False))
    return df[(df["experiment"] == exp) & (df["dataset"] == ds)]


def _norm_key(key, known):
    """Accept (experiment, dataset) or 'experiment / dataset'."""
    known = [tuple(k) for k in known]
    if isinstance(key, str):
        for k in known:
            if key in (f"{k[0]} / {k[1]}", f"{k[0]}/{k[1]}"):
                return k
        if key in [k[0] for k in known]:
            return next(k for k in known if k[0] == key)
        raise KeyError(f"unknown comparison {key!r}")
    return tuple(key)


# ------------------------------------------------------------------- verdict
def verdict(results, runs=None, *, summary_df=None, paired_df=None):
    """Plain-words findings per comparison, computed from the numbers.

    Returns ``{(experiment, dataset): [sentence, ...]}``: the best and worst
    final value of the primary metric, who reached the goal and when, each
    non-recommended recipe against the recommended one (better / worse / no
    clear difference), the other common metrics in brief, and runs that
    diverged or failed.
    """
    if summary_df is None:
        summary_df = summary(results, runs)
    if paired_df is None:
        paired_df = paired(results, runs)
    out = {}
    for comp in _comparisons(results, runs):
        out[comp.key] = _verdict_one(comp, _select(summary_df, comp.key),
                                     _select(paired_df, comp.key))
    return out


def _verdict_one(comp, s, p):
    lines = []
    if not len(s):
        return ["No results were recorded for this comparison."]
    prim = comp.primary
    ps = s[(s["metric"] == prim) & (s["n"] > 0)]
    if len(ps) >= 2:
        higher = _higher(prim)
        order = ps.sort_values("mean", ascending=not higher, kind="stable")

        def desc(r):
            pct = prim in PERCENT_METRICS
            mean, sd = _fmt_group([r["mean"], r["std"]], prim)
            txt = mean + ("%" if pct else "")
            if np.isfinite(r["std"]):
                txt += f" ± {sd}{' points' if pct else ''}"
            return f"{r['recipe']} ({txt}, {_plural(int(r['n']), 'seed')})"
        lines.append(f"Final validation {prim}, best first: "
                     + "; ".join(desc(r) for _, r in order.iterrows()) + ".")
    # goal
    gs = s[(s["metric"] == s["goal_metric"]) & s["goal_runs"].notna()]
    if len(gs):
        g0 = gs.iloc[0]
        gm, gv = g0["goal_metric"], g0["goal"]
        if g0["goal_source"] == "auto":
            rule = comp.goal["rule"]
            lines.append(f"Goal (automatic: {rule}): validation {gm} "
                         f"{'at least' if _higher(gm) else 'at most'} {_fmt_value(gv, gm)}.")
        if _higher(gm):
            what = (f"{_fmt_value(gv, gm)} validation {gm}" if gm in PERCENT_METRICS
                    else f"a validation {gm} of {_fmt_value(gv, gm)}")
            reach = f"reached {what}"
        else:
            reach = f"got validation {gm} down to {_fmt_value(gv, gm)}"
        clauses = []
        for i, (_, r) in enumerate(gs.iterrows()):
            k, n = int(r["goal_reached"]), int(r["goal_runs"])
            max_ep = r["max_epochs"]
            in_ep = f"in {_plural(int(max_ep), 'epoch')}" if np.isfinite(max_ep) else ""
            verb = reach if i == 0 else ("reached it" if _higher(gm) else "got there")
            if r["n_runs"] and not np.isfinite(max_ep):
                clauses.append(f"{r['recipe']} has no training history to judge "
                               f"({int(r['n_failed'])} of {int(r['n_runs'])} runs failed)")
            elif k == n:
                ep = _fmt_epochs(r["goal_epochs"])
                avg = "" if float(r["goal_epochs"]).is_integer() else " on average"
                clauses.append(f"{r['recipe']} {verb} in {ep} "
                               f"epoch{'' if ep == '1' else 's'}{avg} ({k}/{n} seeds)")
            elif k == 0:
                never = (f"never {reach}" if i == 0 else "never did")
                clauses.append(f"{r['recipe']} {never} {in_ep} (0/{n} seeds)")
            else:
                ep = _fmt_epochs(r["goal_epochs"])
                clauses.append(f"{r['recipe']} {verb} on {k}/{n} seeds, in {ep} "
                               f"epoch{'' if ep == '1' else 's'} on average "
                               f"(never on the other {n - k} {in_ep})")
        lines.append("; ".join(clauses) + ".")
    # paired
    if len(p):
        whole = p[p["outcome"].eq("not compared") & p["metric"].isna()]
        for note in dict.fromkeys(whole["note"]):
            lines.append(f"No paired comparison: {note}.")
        for _, r in p[p["outcome"].eq("not compared") & p["metric"].eq(prim)].iterrows():
            lines.append(f"{r['recipe']} and {r['baseline']} have no seeds with a final "
                         f"validation {prim} in common; not compared.")
        pp = p[(p["metric"] == prim) & (p["outcome"] != "not compared")]
        for _, r in pp.iterrows():
            lines.append(_paired_sentence(r))
        for (recipe, base), g in p[(p["metric"] != prim) & p["metric"].notna()
                                   & p["outcome"].isin(["better", "worse",
                                                        "no clear difference"])].groupby(
                ["recipe", "baseline"], sort=False):
            parts = []
            for word, label in (("worse", "worse in"), ("better", "better in"),
                                ("no clear difference", "not clearly different in")):
                ms = list(g.loc[g["outcome"] == word, "metric"])
                if ms:
                    parts.append(f"{label} {_join(ms)}")
            lines.append(f"On the other common metrics, {recipe} was {_join(parts)} "
                         f"compared with {base}.")
    # divergence / failure
    for recipe in comp.recipes:
        c = comp.status_counts(recipe)
        if c["n_diverged"]:
            lines.append(f"{c['n_diverged']} of {c['n_runs']} runs of {recipe} diverged.")
        if c["n_failed"]:
            errs = comp.runs[(comp.runs["recipe"] == recipe) & (comp.runs["status"] == "failed")]
            errs = [str(e) for e in errs["error"].dropna().unique() if str(e).strip()]
            err = f" ({_short(errs[0])})" if errs else ""
            lines.append(f"{c['n_failed']} of {c['n_runs']} runs of {recipe} failed{err}.")
    return lines


def _short(text, n=160):
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _join(items):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _paired_sentence(r):
    m, recipe, base = r["metric"], r["recipe"], r["baseline"]
    n = int(r["n_pairs"])
    if r["outcome"] == "too few pairs":
        return (f"Too few paired seeds ({n}) to compare {recipe} with {base} "
                f"in validation {m}.")
    d, lo, hi = r["mean_diff"], r["ci_low"], r["ci_high"]
    unit = _diff_unit(m)
    tied = f", tied on {int(r['n_tied'])}" if r["n_tied"] else ""
    tied += f"; sign-flip p = {r['p_value']:.2g}" if np.isfinite(r["p_value"]) else ""
    if r["outcome"] == "no clear difference":
        sd, slo, shi = _fmt_group([d, lo, hi], m)
        sd = ("+" if d > 0 else "") + sd
        return (f"No clear difference in validation {m} between {recipe} and {base}: "
                f"{recipe} minus {base} = {sd}{unit} (95% CI {slo} to {shi}; "
                f"{recipe} better on {int(r['n_won'])}/{n} seeds{tied}).")
    # clear: report magnitudes in the direction of the difference
    mag = [abs(d), min(abs(lo), abs(hi)), max(abs(lo), abs(hi))]
    smag, slo, shi = _fmt_group(mag, m)
    updown = "higher" if d > 0 else "lower"
    if r["outcome"] == "better":
        return (f"{recipe} ended better than the recommended recipe {base}: {smag}{unit} "
                f"{updown} in validation {m} (95% CI {slo} to {shi}; better on "
                f"{int(r['n_won'])}/{n} seeds{tied}).")
    return (f"{recipe} ended {smag}{unit} {updown} in validation {m} than {base} "
            f"(95% CI {slo} to {shi}; worse on {int(r['n_lost'])}/{n} seeds{tied}).")


# --------------------------------------------------------------------- plots
def _colors(recipes):
    from matplotlib import colormaps
    cmap = colormaps["tab10"]
    return {r: cmap(i % 10) for i, r in enumerate(recipes)}


def _recipe_order(df):
    pairs = df[["recipe", "role"]].drop_duplicates("recipe")
    return [r for r, _ in sorted(zip(pairs["recipe"], pairs["role"]),
                                 key=lambda t: (_role_rank(t[1]), str(t[0])))]


def _grid(n, width=4.2, height=3.2):
    ncols = min(3, max(1, n))
    nrows = max(1, math.ceil(n / ncols))
    fig = Figure(figsize=(width * ncols, height * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _empty(text):
    fig = Figure(figsize=(5, 2))
    ax = fig.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center")
    return fig


def _title(df):
    keys = df[KEY].drop_duplicates()
    return f"{keys.iloc[0, 0]} / {keys.iloc[0, 1]}" if len(keys) == 1 else ""


def plot_curves(curves_df, goals_df=None, *, comparison=None, metrics=None,
                splits=("val", "train")):
    """Learning curves: one panel per metric; validation solid, train dashed;
    a band across seeds (``lower``..``upper``) per recipe; the goal as a
    horizontal line. ``metrics`` defaults to the common metrics of the target."""
    c = _select(curves_df, comparison)
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
    g = _select(goals_df, comparison) if goals_df is not None and len(goals_df) else None
    fig, axes = _grid(len(metrics))
    for ax, metric in zip(axes, metrics):
        for recipe in recipes:
            for split in splits:
                d = c[(c["recipe"] == recipe) & (c["split"] == split) & (c["metric"] == metric)]
                d = d.sort_values("epoch")
                if not len(d):
                    continue
                ls = "-" if split == "val" else "--"
                ax.plot(d["epoch"], d["mean"], ls=ls, color=colors[recipe],
                        lw=1.8 if split == "val" else 1.1)
                ax.fill_between(d["epoch"], d["lower"], d["upper"], color=colors[recipe],
                                alpha=0.18 if split == "val" else 0.07, lw=0)
        if g is not None and len(g):
            for _, row in g[g["metric"] == metric].iterrows():
                ax.axhline(row["value"], color="0.3", lw=1, ls=":")
                ax.annotate(f"goal ({row['source']})", (0.01, row["value"]),
                            xycoords=("axes fraction", "data"), fontsize=7, color="0.3",
                            va="bottom")
        ax.set_title(f"{metric} ({'higher' if _higher(metric) else 'lower'} is better)",
                     fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    _legend(fig, recipes, c, colors, splits=splits)
    fig.suptitle(f"Learning curves, mean and {CURVE_BAND}: {_title(c)}", fontsize=11)
    return fig


def _legend(fig, recipes, df, colors, splits=()):
    from matplotlib.lines import Line2D
    roles = dict(zip(df["recipe"], df["role"]))
    handles = [Line2D([], [], color=colors[r], lw=2, label=f"{r} ({roles.get(r) or '?'})")
               for r in recipes]
    if "val" in splits:
        handles.append(Line2D([], [], color="k", ls="-", label="validation"))
    if "train" in splits:
        handles.append(Line2D([], [], color="k", ls="--", label="train"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(handles)),
               fontsize=8, frameon=False)


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
    s = _select(summary_df, comparison)
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
        unit = " (%)" if metric in PERCENT_METRICS else ""
        _rows(ax, recipes, f"{metric}{unit} ({'higher' if _higher(metric) else 'lower'} is better)")
    fig.suptitle(f"Final validation value, mean and 95% bootstrap CI: {_title(s)}", fontsize=11)
    return fig


def plot_paired(paired_df, *, comparison=None, metrics=None):
    """Paired differences (recipe - recommended) with 95% bootstrap CI; 0 marked."""
    p = _select(paired_df, comparison)
    p = p[p["metric"].notna() & p["n_pairs"].fillna(0).gt(0)] if len(p) else p
    if not len(p):
        return _empty("no paired comparison")
    metrics = metrics or list(dict.fromkeys(p["metric"]))
    labels = list(dict.fromkeys(p["recipe"] + " - " + p["baseline"]))
    colors = {"better": "tab:green", "worse": "tab:red"}
    fig, axes = _grid(len(metrics), width=4.2, height=0.45 * len(labels) + 1.4)
    for ax, metric in zip(axes, metrics):
        d = p[p["metric"] == metric]
        scale = 100 if metric in PERCENT_METRICS else 1
        for _, r in d.iterrows():
            y = labels.index(f"{r['recipe']} - {r['baseline']}")
            _dot(ax, r["mean_diff"], y, r["ci_low"], r["ci_high"], scale,
                 colors.get(r["outcome"], "0.4"))
        ax.axvline(0, color="k", lw=0.8)
        unit = " (pp)" if metric in PERCENT_METRICS else ""
        _rows(ax, labels, f"{metric}{unit}: {'higher' if _higher(metric) else 'lower'} is better")
    fig.suptitle(f"Paired difference vs recommended (green better, red worse): {_title(p)}",
                 fontsize=11)
    return fig


def plot_grad_norm(curves_df, *, comparison=None, metric="grad_norm", split="train"):
    """Gradient norm of the output layer per epoch (log y), band across seeds."""
    c = _select(curves_df, comparison)
    c = c[(c["metric"] == metric) & (c["split"] == split)] if len(c) else c
    if not len(c):
        return _empty(f"no {metric}")
    recipes = _recipe_order(c)
    colors = _colors(recipes)
    fig = Figure(figsize=(6.5, 4.2), layout="constrained")
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
    fig.suptitle(f"Output-layer gradient norm: {_title(c)}", fontsize=11)
    return fig


# -------------------------------------------------------------------- report
def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _slug(text):
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower() or "x"


def _md_cell(x):
    s = "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)
    return " ".join(s.split()).replace("|", "\\|")


def _markdown_table(df):
    if df is None or not len(df):
        return "_(none)_"
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(_md_cell(c) for c in cols) + " |",
             "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return "\n".join(lines)


def _inline_html(text):
    t = html.escape(text)
    t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
    t = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", t)
    t = re.sub(r"\[([^\]]+)\]\((#[^)\s]*|https?://[^)\s]+)\)", r'<a href="\2">\1</a>', t)
    return t


def _markdown_to_html(md):
    """A tiny Markdown subset for injected text: headings, lists, code, paragraphs."""
    out, para, items, code = [], [], [], None

    def flush():
        if para:
            out.append(f"<p>{_inline_html(' '.join(para))}</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in str(md).splitlines():
        if code is not None:
            if line.strip().startswith("```"):
                out.append(f"<pre>{html.escape(chr(10).join(code))}</pre>")
                code = None
            else:
                code.append(line)
            continue
        s = line.strip()
        if s.startswith("```"):
            flush()
            code = []
        elif not s:
            flush()
        elif m := re.match(r"(#{1,6})\s+(.*)", s):
            flush()
            level = min(6, len(m.group(1)) + 2)
            out.append(f"<h{level}>{_inline_html(m.group(2))}</h{level}>")
        elif s.startswith(("- ", "* ")):
            if para:
                flush()
            items.append(s[2:])
        elif s.startswith("|"):
            flush()
            out.append(f"<pre>{html.escape(s)}</pre>")
        else:
            para.append(s)
    if code is not None:
        out.append(f"<pre>{html.escape(chr(10).join(code))}</pre>")
    flush()
    return "\n".join(out)


def _demote_headings(md, by=3):
    """Injected Markdown sits under level-3 headings: shift its headings down."""
    out, fence = [], False
    for line in str(md).splitlines():
        if line.strip().startswith("```"):
            fence = not fence
        elif not fence and (m := re.match(r"(#{1,6})(\s.*)", line)):
            line = "#" * min(6, len(m.group(1)) + by) + m.group(2)
        out.append(line)
    return "\n".join(out)


class _Doc:
    """Blocks rendered to both Markdown and HTML."""

    def __init__(self):
        self.blocks = []
        self.files = {}  # relative path -> bytes

    def heading(self, level, text, anchor=None):
        self.blocks.append(("h", level, text, anchor))

    def para(self, text):
        self.blocks.append(("p", text))

    def bullets(self, items):
        self.blocks.append(("ul", list(items)))

    def table(self, df, caption=None):
        self.blocks.append(("table", df, caption))

    def code(self, text):
        self.blocks.append(("code", text))

    def markdown(self, text):
        self.blocks.append(("md", text))

    def figure(self, title, fig, name):
        if not isinstance(fig, Figure):
            raise TypeError(f"figure {title!r} is a {type(fig).__name__}, not a matplotlib Figure")
        rel = f"figures/{name}.png"
        self.files[rel] = fig  # drawn to PNG bytes by render()
        self.blocks.append(("fig", title, rel))

    def render(self):
        """Draw every figure to PNG, on all cores: drawing dominates a report's time."""
        pending = {rel: f for rel, f in self.files.items() if isinstance(f, Figure)}
        workers = min(len(pending), os.cpu_count() or 1)
        if workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                pngs = list(pool.map(_png, pending.values(), chunksize=2))
        else:
            pngs = [_png(f) for f in pending.values()]
        self.files.update(zip(pending, pngs))

    def item(self, title, thing, name):
        """An injected section: Figure, Markdown text or a DataFrame."""
        if isinstance(thing, Figure):
            self.figure(title, thing, name)
        elif isinstance(thing, str):
            self.heading(4, title)
            self.markdown(thing)
        elif isinstance(thing, pd.DataFrame):
            self.heading(4, title)
            self.table(thing)
        else:
            raise TypeError(f"section {title!r}: expected a Figure, a Markdown string or a "
                            f"DataFrame, got {type(thing).__name__}")

    def to_markdown(self):
        parts = []
        for b in self.blocks:
            kind = b[0]
            if kind == "h":
                parts.append("#" * b[1] + " " + b[2])
            elif kind == "p":
                parts.append(b[1])
            elif kind == "ul":
                parts.append("\n".join(f"- {i}" for i in b[1]))
            elif kind == "table":
                parts.append((f"{b[2]}\n\n" if b[2] else "") + _markdown_table(b[1]))
            elif kind == "code":
                parts.append(f"```\n{b[1]}\n```")
            elif kind == "md":
                parts.append(_demote_headings(b[1]))
            elif kind == "fig":
                parts.append(f"**{b[1]}**\n\n![{b[1]}]({b[2]})")
        return "\n\n".join(parts) + "\n"

    def to_html(self, title):
        body = []
        for b in self.blocks:
            kind = b[0]
            if kind == "h":
                anchor = f' id="{html.escape(b[3])}"' if b[3] else ""
                body.append(f"<h{b[1]}{anchor}>{_inline_html(b[2])}</h{b[1]}>")
            elif kind == "p":
                body.append(f"<p>{_inline_html(b[1])}</p>")
            elif kind == "ul":
                body.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in b[1])
                            + "</ul>")
            elif kind == "table":
                cap = f"<p class='caption'>{_inline_html(b[2])}</p>" if b[2] else ""
                tab = (b[1].to_html(index=False, escape=True, na_rep="", border=0,
                                    classes="tab") if b[1] is not None and len(b[1])
                       else "<p><i>(none)</i></p>")
                body.append(cap + tab)
            elif kind == "code":
                body.append(f"<pre>{html.escape(b[1])}</pre>")
            elif kind == "md":
                body.append(_markdown_to_html(b[1]))
            elif kind == "fig":
                data = base64.b64encode(self.files[b[2]]).decode("ascii")
                body.append(f"<figure><img alt=\"{html.escape(b[1])}\" "
                            f"src=\"data:image/png;base64,{data}\"><figcaption>"
                            f"{html.escape(b[1])}</figcaption></figure>")
        return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
                + "\n".join(body) + "\n</body></html>\n")


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1200px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #444}h2{border-bottom:1px solid #bbb;margin-top:2em}
table.tab{border-collapse:collapse;font-size:0.85em;margin:0.5em 0 1em}
table.tab th,table.tab td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
table.tab th{background:#f0f0f0}table.tab tr:nth-child(even) td{background:#fafafa}
figure{margin:1em 0}figure img{max-width:100%;height:auto}figcaption{font-size:0.85em;color:#555}
pre{background:#f6f6f6;padding:0.6em;overflow-x:auto;font-size:0.85em}
.caption{font-size:0.85em;color:#555;margin-bottom:0.2em}code{background:#f3f3f3;padding:0 3px}
"""

FAIRNESS_NOTE = (
    "Recipes are compared only on the common metrics of their problem, computed the same "
    "way for every recipe on held-out validation data. Each recipe's own loss is recorded "
    "but never compared: values of different losses are not comparable."
)

METHODS_NOTE = (
    f"Final value: the validation value at a run's last epoch. Mean ± std over seeds "
    f"(sample std), [95% percentile bootstrap CI of the mean, {N_BOOT} resamples over seeds, "
    f"fixed random seed]. Epochs to goal: mean over the seeds that reached the goal of the "
    f"first epoch at which the validation value met it, with (seeds that reached it / runs). "
    f"AULC: mean over epochs of the validation value (normalized area under the learning "
    f"curve), averaged over seeds. Paired table: recipe minus the recommended recipe on the "
    f"same seeds, bootstrap CI of the mean difference, seeds won / lost / tied, and the "
    f"two-sided sign-flip permutation p-value (with n seeds the smallest possible p is "
    f"2/2^n). A difference is called clear when its CI excludes 0 with at least {MIN_PAIRS} "
    f"paired seeds. Curves show the mean and the {CURVE_BAND}; validation solid, train dashed."
)


def _versions(runs):
    found = {}
    for _, r in runs.iterrows():
        sources = [r["config"].get("versions")]
        if "versions" in runs.columns:
            sources.append(_parse_config(r["versions"]))
        for v in sources:
            if isinstance(v, dict):
                for lib, ver in v.items():
                    found.setdefault(str(lib), set()).add(str(ver))
    return {lib: sorted(vers) for lib, vers in sorted(found.items())}


def _compact_seeds(seeds):
    try:
        s = sorted({int(x) for x in seeds})
    except (TypeError, ValueError):
        return ", ".join(sorted({str(x) for x in seeds}))
    if not s:
        return "-"
    if s == list(range(s[0], s[-1] + 1)) and len(s) > 2:
        return f"{len(s)} ({s[0]}..{s[-1]})"
    return f"{len(s)} ({', '.join(map(str, s))})"


def _what_was_run(comps):
    rows = []
    for comp in comps:
        seeds = set(comp.res["seed"].dropna()) | set(comp.runs["seed"].dropna())
        trainers = sorted({t for t in set(comp.res["trainer"]) | set(comp.runs["trainer"]) if t})
        ep = comp.res["epoch"].dropna()
        if len(comp.runs) and comp.runs["epochs"].notna().any():
            ep = comp.runs["epochs"].dropna()
        epochs = ("-" if not len(ep) else str(int(ep.max())) if ep.min() == ep.max()
                  else f"{int(ep.min())}-{int(ep.max())}")
        status = comp.runs["status"].value_counts()
        problems = sorted({str(p) for p in set(comp.res["problem"].dropna())
                           | set(comp.runs["problem"].dropna())})
        rows.append({
            "experiment": comp.key[0], "dataset": comp.key[1], "problem": ", ".join(problems),
            "target": comp.target, "recipes": ", ".join(comp.recipes),
            "seeds": _compact_seeds(seeds), "epochs": epochs,
            "trainer": ", ".join(trainers) or "-",
            "runs ok / diverged / failed": (f"{status.get('ok', 0)} / {status.get('diverged', 0)}"
                                            f" / {status.get('failed', 0)}")
            if len(comp.runs) else "-",
        })
    return pd.DataFrame(rows)


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
    comps = _comparisons(results, runs)  # prepared once, reused by the statistics below
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
    rns = _prepare_runs(runs)

    doc = _Doc()
    doc.heading(1, title)
    doc.para(f"**Fairness.** {FAIRNESS_NOTE}")
    doc.heading(2, "What was run")
    doc.table(_what_was_run(comps))
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
            f"[{c.label}](#{_slug(c.label)})" for c in comps) + ".")

    for comp in comps:
        slug = _slug(comp.label)
        doc.heading(2, comp.label, anchor=slug)
        for key, word in (("claim", "Claim"), ("description", "Description")):
            for text in _texts(comp, key):
                doc.para(f"**{word}.** {text}")
        doc.heading(3, "Verdict")
        doc.bullets(verdicts.get(comp.key, []))
        g = _select(gls, comp.key)
        goal_txt = ""
        if len(g):
            r = g.iloc[0]
            goal_txt = (f" Goal: validation {r['metric']} {'≥' if r['higher_is_better'] else '≤'}"
                        f" {_fmt_value(r['value'], r['metric'])} ({r['rule']}).")
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
                "error": [_short(e, 400) if isinstance(e, str) else "" for e in bad["error"]],
            }))
        doc.heading(3, "Figures")
        c = _select(cur, comp.key)
        figs = [("Learning curves of the common metrics",
                 lambda: plot_curves(c, g, metrics=comp.metrics), "curves"),
                ("Final validation values",
                 lambda: plot_final(_select(summ, comp.key)), "final")]
        if len(_select(pair, comp.key)) and _select(pair, comp.key)["n_pairs"].fillna(0).gt(0).any():
            figs.append(("Paired differences against the recommended recipe",
                         lambda: plot_paired(_select(pair, comp.key)), "paired"))
        if len(c) and (c["metric"] == "grad_norm").any():
            figs.append(("Output-layer gradient norm (train, log scale)",
                         lambda: plot_grad_norm(c), "grad-norm"))
        for fig_title, make, kind in figs:
            fig = make()
            doc.figure(fig_title, fig, f"{slug}-{kind}")
        for i, (t, item) in enumerate(_lookup(extras, comp)):
            doc.item(t, item, f"{slug}-extra-{i + 1}-{_slug(t)}")

    all_bad = rns[rns["status"] == "failed"]
    if len(all_bad):
        doc.heading(2, "Failed runs")
        doc.table(pd.DataFrame({
            "experiment": all_bad["experiment"], "dataset": all_bad["dataset"],
            "recipe": all_bad["recipe"], "seed": all_bad["seed"],
            "error": [_short(e, 400) if isinstance(e, str) else "" for e in all_bad["error"]],
        }))
    if appendix:
        doc.heading(2, "Appendix")
        for i, (t, item) in enumerate(appendix):
            doc.item(t, item, f"appendix-{i + 1}-{_slug(t)}")

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
