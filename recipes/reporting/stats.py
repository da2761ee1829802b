"""The statistics of a comparison: numbers in, tidy DataFrames out.

No plotting and no TensorFlow here: only numpy, pandas and the earlier stages
(the catalog's roles, the training metrics). The functions take the tidy
tables and return tidy DataFrames; ``recipes.reporting.words`` turns them into
text and ``recipes.reporting.figures`` draws them.

Inputs
------
``results``: one observation per row, columns ``run, experiment, dataset,
problem, target, recipe, role, seed, trainer, epoch, split, metric, value``.
``runs``: one row per run, columns ``run, experiment, dataset, problem, target,
recipe, role, seed, trainer, status, error, epochs, seconds, config``.

A *comparison* is one ``(experiment, dataset)`` group (``KEY``).

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

import json
import math
import zlib

import numpy as np
import pandas as pd

from ..catalog.table import ROLES
from ..training.metrics import COMMON as COMMON_METRICS
from ..training.metrics import HIGHER_IS_BETTER, PRIMARY
from .formatting import fmt_epochs, fmt_value

__all__ = [
    "HIGHER_IS_BETTER", "PRIMARY", "COMMON_METRICS", "curves", "goals",
    "summary", "paired",
]

# Recorded per epoch but never a common metric.
NOT_COMMON = {"loss", "grad_norm", "seconds"}
N_BOOT = 2000
BOOTSTRAP_SEED = 2024
N_PERMUTATIONS = 20000
MIN_PAIRS = 3
AUTO_GOAL_FRACTION = 0.05
CURVE_BAND = "2.5-97.5 percentile across seeds"
KEY = ["experiment", "dataset"]


def is_higher_better(metric):
    """True when a larger value of ``metric`` is better (accuracy, f1)."""
    return metric in HIGHER_IS_BETTER


def parse_config(config):
    """A run's ``config`` as a dict, whether stored as a dict, JSON text or nothing."""
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


def prepare_runs(runs):
    """The runs table with every expected column, ``config`` parsed, types fixed."""
    cols = ["run", "experiment", "dataset", "problem", "target", "recipe", "role", "seed",
            "trainer", "status", "error", "epochs", "seconds", "config"]
    if runs is None:
        runs = pd.DataFrame(columns=cols)
    df = pd.DataFrame(runs).copy()
    for col in cols:
        if col not in df.columns:
            df[col] = np.nan
    df["config"] = [parse_config(c) for c in df["config"]]
    df["status"] = df["status"].fillna("ok").astype(str)
    df["trainer"] = df["trainer"].fillna("").astype(str)
    df["seconds"] = pd.to_numeric(df["seconds"], errors="coerce")
    df["epochs"] = pd.to_numeric(df["epochs"], errors="coerce")
    return df


def role_rank(role):
    """Sort key of a recipe role: the catalog's order of ``ROLES``, unknown roles last."""
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
        self.recipes = sorted(roles, key=lambda r: (role_rank(roles[r]), str(r)))
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


def comparisons(results, runs):
    """The ``(experiment, dataset)`` groups of the two tables, prepared once, in name order."""
    if isinstance(results, _Comparisons):
        return results
    res = _prepare_results(results)
    rns = prepare_runs(runs)
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
    higher = is_higher_better(metric)
    best = means.max() if higher else means.min()
    worst = means.min() if higher else means.max()
    if best > 0:
        value = best * (1 - AUTO_GOAL_FRACTION) if higher else best * (1 + AUTO_GOAL_FRACTION)
        rule = (f"within {AUTO_GOAL_FRACTION:.0%} of the best recipe's final mean, "
                f"{'0.95' if higher else '1.05'} × {fmt_value(best, metric)}")
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
    for comp in comparisons(results, runs):
        goal = comp.goal
        if goal:
            rows.append({"experiment": comp.key[0], "dataset": comp.key[1],
                         "target": comp.target, "metric": goal["metric"],
                         "value": goal["value"],
                         "higher_is_better": is_higher_better(goal["metric"]),
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
    ok = np.isfinite(value) & ((value >= goal["value"]) if is_higher_better(goal["metric"])
                               else (value <= goal["value"]))
    first = rows[ok].groupby("run")["epoch"].min()
    per_run = first.reindex(rows["run"].unique())
    return per_run.astype(float), float(rows["epoch"].max())


def _goal_text(mean_epochs, reached, total):
    if total == 0:
        return "no runs"
    if reached == 0:
        return f"not reached (0/{total})"
    if reached == total:
        return f"{fmt_epochs(mean_epochs)} ({reached}/{total})"
    return f"{fmt_epochs(mean_epochs)} ({reached}/{total} reached)"


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
    for comp in comparisons(results, runs):
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
                    "higher_is_better": is_higher_better(metric), "primary": metric == comp.primary,
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
    for comp in comparisons(results, runs):
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
                    higher = is_higher_better(metric)
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


def select(df, comparison):
    """The rows of one comparison; ``comparison=None`` when the table holds only one."""
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
