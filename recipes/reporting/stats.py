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

Conditions
----------
Runs with different training settings are different *conditions* (the
``condition`` column: a readable label of every setting, e.g. ``'sgd epochs=20
batch=32 lr=0.01 hidden=32 scale=1 | stacked'``). Every statistic below is computed
per comparison AND condition: runs of different conditions are never pooled as
extra seeds. Tables without a ``condition`` column are one condition ``""``. What a
condition is, is read from the runs' configs and the results' setting columns, never
from its label: ``summary``, ``effects`` and ``tuning`` carry one column per setting
(``SETTING_COLUMNS``), as the tidy results do.

Recipes are catalog rows, not names: where one comparison holds runs of several
rows of one recipe name (another loss, a user's edited catalog), each row is its
own recipe, labelled ``name (row <fingerprint>)`` (the ``recipe_row`` column the
store adds, else the row each run's config holds; ``catalog.table.row_fingerprint``).
A comparison never holds two runs of one recipe, condition, seed and trainer:
such runs (differing in something no label shows, or whose rows are unknown) are
an error naming them, never pooled as one seed.

Statistics (the choices, stated once)
-------------------------------------
* Scoring split: ``test`` when the comparison has a test split (a tuned
  experiment: the split that tuning never saw), else ``val``.
* Final value of a run: the value at the run's last recorded epoch of that
  (split, metric).
* Diverged and failed runs are never dropped and never scored from NaN
  outputs: a run whose status is ``diverged`` or ``failed`` is scored as the
  trivial baseline of its seed (the ``baseline_<metric>`` rows the run
  records: majority class, or mean / median predictor, from the run's train
  split; a failed run, which records nothing, takes the baseline of another
  run on the same seed). It counts against its recipe, and the report says
  "k of n diverged". Only when no baseline was recorded at all (a hand-made
  table) is such a run left out, and counted. An ``ok`` run whose final value is
  not finite is never scored as a number either: when the metric applies to its
  recipe (some run of the recipe has a finite value of it, and the primary
  metric always applies) it is left out and counted (``n_not_finite``), and the
  report shows it beside the diverged and failed runs; a metric that applies to
  no run of a recipe (log-loss without probabilities) is missing ("n/a").
* ``std``: sample standard deviation over seeds (``ddof=1``; NaN for one seed).
* CI of a mean: percentile bootstrap over seeds, ``N_BOOT`` (2000) resamples,
  2.5 and 97.5 percentiles, NaN with fewer than 2 seeds. The random generator
  is seeded from the values themselves (their sorted bytes), so the same
  values give the same interval in any report, any process, any row order.
  With few seeds the percentile bootstrap is optimistic; read it with the
  won/lost counts and the p-value.
* Curves band: ``lower``/``upper`` are the 2.5 and 97.5 percentiles across
  seeds at each epoch, see ``CURVE_BAND``.
* Goal, per condition: ``config["goal"] = {"metric": ..., "value": ...}``
  when an experiment sets one; otherwise automatic, from all recipes alike:
  within 5% of the best final mean of the primary metric, i.e. ``0.95 *
  best`` when higher is better and ``1.05 * best`` when lower is better (if
  ``best <= 0``: 5% of the spread between best and worst). An automatic goal
  that the trivial baseline already meets is not a goal: there is then none.
* Epochs to goal: per seed, the first epoch whose validation value meets the
  goal; the mean over the seeds that reached it, with the count of seeds that
  did out of all runs of the recipe (failed runs count as not reached).
* AULC: per run, the mean over its epochs of the validation metric (normalized
  area under the learning curve; NaN if any epoch is non-finite), then the mean
  over seeds.
* Effects (``effects``): each non-recommended recipe minus the recommended
  recipe (the *reference*), joined on ``(seed, trainer)`` within one
  condition. Differences within float noise (``numpy.isclose`` with
  ``rtol=NOISE_RTOL``) count as 0 and as ties. Mean difference, bootstrap CI
  of the mean difference, seeds won/lost/tied, and the exact two-sided
  sign-flip p-value of the mean difference (all ``2**n`` sign patterns up to
  16 pairs, else ``N_PERMUTATIONS`` random ones seeded from the values). With
  ``n`` non-zero differences the smallest possible p is ``2 / 2**n``
  (``p_min``). Outcome, in this order:

  - ``inconclusive`` with fewer than ``MIN_PAIRS`` paired seeds;
  - else the first of ``OUTCOME_RULES`` the CI and p meet (``outcome_of``):
    ``equivalent`` when the CI lies inside ``[-margin, +margin]``, the metric's
    margin of practical equivalence (``MARGINS``); ``better`` / ``worse`` when the
    CI excludes 0, ``p <= ALPHA`` and the whole CI lies beyond the margin (a
    difference that matters); ``detectably better`` / ``detectably worse`` when
    the CI excludes 0 and ``p <= ALPHA`` but reaches inside the margin (it may be
    negligible); ``inconclusive`` otherwise; the note says when ``p_min > ALPHA``,
    i.e. when there are too few seeds for any difference to be clear.
* Learning-rate tuning (``tuning``): a tuned experiment's tuning runs (experiment
  ``"<name> (tuning)"``) scored like any run on the validation split, per
  recipe, condition and learning rate: mean, std, min/max and bootstrap CI
  over the tuning seeds; the chosen rate is the one the final runs used.

Speed: each statistic is computed for all rows of a comparison at once
(grouped pandas operations); the bootstrap resamples all samples of one length
in one array operation, each from its own value-seeded generator, so a batched
interval equals the one-sample one.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass, field
from itertools import product

import numpy as np
import pandas as pd

from ..catalog.table import ROLES, row_fingerprint
from ..messages import expected, plural
from ..training.metrics import COMMON as COMMON_METRICS
from ..training.metrics import HIGHER_IS_BETTER, PRIMARY
from ..training.settings import Settings
from ..training.settings import condition as condition_of
from ..training.settings import from_tidy
from .formatting import fmt_epochs, fmt_value

__all__ = [
    "HIGHER_IS_BETTER", "PRIMARY", "COMMON_METRICS", "MARGINS", "OUTCOME_RULES", "OUTCOMES",
    "MAY_BE_NEGLIGIBLE", "SETTING_COLUMNS", "curves", "goals", "summary", "paired", "effects",
    "outcome_of", "tuning", "TUNING", "label_of", "Contrast", "contrasts", "contrast_rows",
    "reliability", "threshold_curves",
]

# Recorded per epoch but never a common metric.
NOT_COMMON = {"loss", "grad_norm", "seconds"}
BASELINE = "baseline_"   # the trivial baseline's rows: metric "baseline_<name>"
N_BOOT = 2000
BOOTSTRAP_SEED = 2024
N_PERMUTATIONS = 20000
EXACT_PAIRS = 16         # up to this many pairs the sign-flip p is exact
BATCH_ELEMENTS = 4_000_000  # numbers per array operation of the batched bootstrap
MIN_PAIRS = 3
ALPHA = 0.05
NOISE_RTOL = 1e-6        # paired values this close are equal (float noise, never a win)
AUTO_GOAL_FRACTION = 0.05
CURVE_BAND = "2.5-97.5 percentile across seeds"
KEY = ["experiment", "dataset"]
SCORED_AS_BASELINE = ("diverged", "failed")
TUNING = " (tuning)"     # the suffix of a tuned experiment's tuning runs
TUNED_SETTING = "learning_rate"
NO_ROWS = np.empty(0, dtype=int)  # no positions: selects nothing
ZERO_COUNTS = {"n_runs": 0, "n_ok": 0, "n_diverged": 0, "n_failed": 0}

# Margin of practical equivalence per metric: (size, what it is relative to).
# "absolute": in the metric's own unit (0.01 accuracy = 1 percentage point);
# "baseline": a fraction of the trivial baseline's value (for metrics whose
# scale depends on the data, such as MSE); without a recorded baseline, of the
# reference recipe's mean. A metric not listed uses DEFAULT_MARGIN.
MARGINS = {
    "accuracy": (0.01, "absolute"),
    "balanced_accuracy": (0.01, "absolute"),
    "f1": (0.01, "absolute"),
    "pr_auc": (0.01, "absolute"),
    "log_loss": (0.01, "absolute"),
    "brier": (0.01, "absolute"),
    "ece": (0.01, "absolute"),
    "out_of_range": (0.01, "absolute"),
    "mse": (0.01, "baseline"),
    "mae": (0.01, "baseline"),
    "poisson_deviance": (0.01, "baseline"),
}
DEFAULT_MARGIN = (0.01, "baseline")

# An effect's outcome: the first rule whose test holds, in this order; the report prints
# the table. A test reads the 95% CI of the difference turned so that + is better (``lo``,
# ``hi``: for a lower-is-better metric, minus the CI), the metric's margin of practical
# equivalence ``m`` (NaN when unknown: no interval is then inside it or beyond it) and
# ``clear``: the CI excludes 0 and p <= ALPHA. "better" / "worse" say a difference that
# matters; a clear difference whose CI reaches inside the margin is only "detectably"
# better or worse: it may be negligible. Fewer than MIN_PAIRS paired seeds are
# inconclusive before any rule.
OUTCOME_RULES = (
    ("equivalent", lambda lo, hi, m, clear: -m <= lo and hi <= m,
     "the whole CI lies inside ± the margin (even when the difference is detectable: "
     "it is negligible)"),
    ("better", lambda lo, hi, m, clear: clear and lo > m,
     "the CI excludes 0, p ≤ 0.05, and the whole CI lies beyond the margin, on the good "
     "side: a difference that matters"),
    ("worse", lambda lo, hi, m, clear: clear and hi < -m,
     "the CI excludes 0, p ≤ 0.05, and the whole CI lies beyond the margin, on the bad "
     "side: a difference that matters"),
    ("detectably better", lambda lo, hi, m, clear: clear and lo > 0,
     "the CI excludes 0 and p ≤ 0.05, but the CI reaches inside the margin: a detectable "
     "difference that may be negligible"),
    ("detectably worse", lambda lo, hi, m, clear: clear and hi < 0,
     "the CI excludes 0 and p ≤ 0.05, but the CI reaches inside the margin: a detectable "
     "difference that may be negligible"),
    ("inconclusive", lambda lo, hi, m, clear: True,
     "otherwise: the CI includes 0, or p > 0.05 (too few seeds when the smallest "
     "possible p exceeds 0.05)"),
)
OUTCOMES = tuple(outcome for outcome, _, _ in OUTCOME_RULES)
# the outcomes of a detectable difference that may be negligible (its CI reaches inside
# the margin)
MAY_BE_NEGLIGIBLE = ("detectably better", "detectably worse")
# outcome -> the outcome of the other recipe of the pair (what the reference did)
FLIP = {"better": "worse", "worse": "better", "detectably better": "detectably worse",
        "detectably worse": "detectably better", "equivalent": "equivalent",
        "inconclusive": "inconclusive"}

# The columns that say what a condition is, as the tidy results do: one per training
# setting (the fields of ``Settings``), the settings tuned per recipe, and the trainer.
SETTINGS = Settings.names()
SETTING_COLUMNS = SETTINGS + ("tuned", "trainer")


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


# A tidy results frame (what ``recipes.load_results``, ``run`` and ``compare`` return):
# the columns every statistic reads, and those filled when absent (a run id from the
# row's key, the problem and target unknown, no trainer, one condition).
RESULTS_COLUMNS = ("experiment", "dataset", "recipe", "role", "seed", "epoch", "split",
                   "metric", "value")
RESULTS_FILLED = ("run", "problem", "target", "trainer", "condition")
# One observation per row: a frame holding a key twice holds duplicated results.
OBSERVATION = ("run", "epoch", "split", "metric")
# A runs table (``Store(dir).runs()``): the columns read, and the statuses a run may have.
RUNS_COLUMNS = ("run", "experiment", "dataset", "recipe", "seed", "status")
STATUSES = ("ok", "diverged", "failed")
SOURCES = "recipes.load_results, recipes.run and recipes.compare"


def check_results(results, name="results"):
    """``results`` as a DataFrame of the tidy results, checked once for what every
    statistic needs: the columns ``RESULTS_COLUMNS`` (``RESULTS_FILLED`` may be absent),
    numeric ``epoch`` and ``value``. ``None`` is no results (an empty frame).

    Returns the frame (the same object when it already is a DataFrame).

    Raises
    ------
    ValueError
        When ``results`` is a path (read it with ``recipes.load_results``) or not a
        table, lacks a column (the message names the missing and the expected ones),
        or holds an epoch or value that is not a number.
    """
    if results is None:
        return pd.DataFrame(columns=list(RESULTS_COLUMNS))
    if isinstance(results, (str, bytes)) or hasattr(results, "__fspath__"):
        raise ValueError(f"Expected {name} as the tidy results frame that {SOURCES} return. "
                         f"Received: {name}={str(results)!r}, a path; read a results folder "
                         f"with recipes.load_results({str(results)!r}) first.")
    if not isinstance(results, pd.DataFrame):
        try:
            results = pd.DataFrame(results)
        except (TypeError, ValueError) as err:
            raise ValueError(f"Expected {name} as the tidy results frame that {SOURCES} "
                             f"return. Received: {type(results).__name__} ({err})") from None
    _require(results, RESULTS_COLUMNS, name, f"the tidy results that {SOURCES} return",
             RESULTS_FILLED)
    for col in ("epoch", "value"):
        _numbers(results[col], name, col)
    return results


def check_runs(runs, name="runs"):
    """``runs`` as a DataFrame of the runs table (``Store(dir).runs()``), checked: the
    columns ``RUNS_COLUMNS``, one row per run, and each status one of ``STATUSES`` (a
    missing status is read as ``ok``). ``None``: no runs table. Raises ValueError naming
    what is wrong."""
    if runs is None:
        return None
    if isinstance(runs, (str, bytes)) or hasattr(runs, "__fspath__"):
        raise ValueError(f"Expected {name} as a runs table. Received: {name}={str(runs)!r}, "
                         f"a path; read it with Store({str(runs)!r}, create=False).runs().")
    runs = pd.DataFrame(runs)
    _require(runs, RUNS_COLUMNS, name, "the runs table that Store(folder).runs() returns")
    twice = runs["run"][runs["run"].notna() & runs["run"].duplicated()]
    if len(twice):
        raise ValueError(f"Expected one row per run in {name}. Received: "
                         f"{plural(len(twice), 'duplicated run')}, e.g. run={twice.iloc[0]!r}; "
                         f"the same runs concatenated twice? Keep one copy: "
                         f"{name}.drop_duplicates('run').")
    status = runs["status"].dropna()
    bad = status[~status.isin(STATUSES)]
    if len(bad):
        raise ValueError(f"{expected(STATUSES, f'{name}.status', bad.iloc[0])} (row "
                         f"{bad.index[0]!r}, run {runs.loc[bad.index[0], 'run']!r}; "
                         f"{plural(len(bad), 'row')} with another status)")
    return runs


def _require(frame, columns, name, what, optional=()):
    """Raise ValueError when ``frame`` lacks any of ``columns``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        also = f" (and optionally {list(optional)})" if optional else ""
        raise ValueError(f"Expected {what}, with the columns {list(columns)}{also}. "
                         f"Received: {name} without {missing} (its columns: "
                         f"{[str(c) for c in frame.columns]}).")


def _numbers(column, name, col):
    """Raise ValueError when ``column`` holds a value that is not a number (missing ones
    are allowed: NaN is how a store keeps a metric that has no value)."""
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return
    numbers = pd.to_numeric(column, errors="coerce")
    bad = numbers.isna() & column.notna()
    if bad.any():
        at = bad.to_numpy().nonzero()[0]
        raise ValueError(f"Expected numbers in {name}[{col!r}]. Received: "
                         f"{column.iloc[at[0]]!r} at row {column.index[at[0]]!r} "
                         f"({plural(len(at), 'value')} that are not numbers).")


def _check_observations(df, name="results"):
    """Raise ValueError when a (run, epoch, split, metric) holds more than one row: the
    same results twice, which every statistic would count twice."""
    twice = df.duplicated(list(OBSERVATION), keep=False).to_numpy()
    if not twice.any():
        return
    sizes = df.loc[twice, list(OBSERVATION)].groupby(list(OBSERVATION), dropna=False,
                                                      sort=False).size()
    example = dict(zip(OBSERVATION, sizes.index[0]))
    shown = " ".join(f"{c}={_shown(v)!r}" for c, v in example.items())
    extra = int(sizes.sum() - len(sizes))
    raise ValueError(f"Expected one row per {', '.join(OBSERVATION)}. Received: {name} "
                     f"holding {plural(extra, 'duplicated observation')}, e.g. {shown} "
                     f"({sizes.iloc[0]} rows); the same results concatenated twice? "
                     f"Keep one copy: {name}.drop_duplicates({list(OBSERVATION)}).")


def _shown(value):
    """A numpy scalar as the plain Python value (its repr in a message reads ``1``, not
    ``np.int64(1)``); anything else as it is."""
    return value.item() if isinstance(value, np.generic) else value


def _prepare_results(results):
    df = check_results(results).copy()
    for col in RESULTS_FILLED:
        if col not in df.columns:
            df[col] = np.nan
    df["trainer"] = df["trainer"].astype(object).fillna("").astype(str).astype(object)
    df["condition"] = pd.Series(_labels(df.get("condition"), len(df)), index=df.index,
                                dtype=object)
    if df["run"].isna().any():  # a run id is needed to tell runs apart
        fallback = (df["experiment"].astype(str) + "|" + df["dataset"].astype(str) + "|"
                    + df["condition"].astype(str) + "|" + df["recipe"].astype(str) + "|"
                    + df["seed"].astype(str) + "|" + df["trainer"])
        df["run"] = df["run"].astype(object).where(df["run"].notna(), fallback)
    _check_observations(_decoded_apart(df))  # before the text columns become objects
    # plain object columns: row selection on them is much faster than on Arrow strings
    for col in ("run", "experiment", "dataset", "problem", "target", "recipe", "role",
                "split", "metric"):
        df[col] = df[col].astype(object)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["epoch"] = pd.to_numeric(df["epoch"], errors="coerce")
    return df


def _decoded_apart(df):
    """The results with each decoded form (#22 item 3: a ``decoding`` column other than
    "raw") compared as a recipe of its own: ``recipe`` reads ``name (calibrated)`` and
    ``run`` ``id|calibrated`` on those rows, so effects compare a recipe's raw and decoded
    forms, and recipes with each other after decoding. Frames without the column, or with
    raw rows only, are returned as they are (changed in place otherwise)."""
    if "decoding" not in df.columns:
        return df
    form = df["decoding"].astype(object)
    other = (form.notna() & (form != "raw")).to_numpy()
    if other.any():
        for col in ("recipe", "run"):
            df[col] = df[col].astype(object)
        tail = form[other].astype(str)
        df.loc[other, "recipe"] = df.loc[other, "recipe"].astype(str) + " (" + tail + ")"
        df.loc[other, "run"] = df.loc[other, "run"].astype(str) + "|" + tail
    return df


def prepare_runs(runs):
    """The runs table with every expected column, ``config`` parsed, types fixed."""
    cols = ["run", "experiment", "dataset", "problem", "target", "recipe", "role", "seed",
            "trainer", "status", "error", "epochs", "seconds", "config"]
    runs = check_runs(runs)
    if runs is None:
        runs = pd.DataFrame(columns=cols)
    df = runs.copy()
    for col in cols:
        if col not in df.columns:
            df[col] = np.nan
    df["config"] = [parse_config(c) for c in df["config"]]
    df["status"] = df["status"].fillna("ok").astype(str)
    df["trainer"] = df["trainer"].astype(object).fillna("").astype(str)
    if "condition" not in df.columns:
        df["condition"] = [condition_of(c, t)["condition"]
                           for c, t in zip(df["config"], df["trainer"])]
    df["condition"] = _labels(df["condition"], len(df))
    df["seconds"] = pd.to_numeric(df["seconds"], errors="coerce")
    df["epochs"] = pd.to_numeric(df["epochs"], errors="coerce")
    return df


def _labels(column, n):
    """A condition column as plain strings; missing -> ``""`` (one unnamed condition)."""
    if column is None:
        return [""] * n
    codes, uniques = pd.factorize(pd.Series(column, dtype=object))  # few distinct labels
    labels = [u if isinstance(u, str) else "" for u in uniques] + [""]  # code -1: missing
    return np.array(labels, dtype=object)[codes]


def _baseline_rows(metric):
    """Boolean array: the rows whose metric is a trivial baseline's (``BASELINE``...),
    tested once per distinct metric name rather than once per row."""
    codes, names = pd.factorize(pd.Series(metric, dtype=object))
    is_base = np.array([isinstance(n, str) and n.startswith(BASELINE) for n in names] + [False])
    return is_base[codes]  # code -1 (missing) -> the appended False


def label_of(key):
    """A comparison's name as the report prints it: ``'experiment / dataset'``, or the
    one word when both are the same (``compare`` without a name calls its experiment and
    its data ``compare``: never ``'compare / compare'``).

    >>> label_of(("binary", "breast_cancer")), label_of(("compare", "compare"))
    ('binary / breast_cancer', 'compare')
    """
    exp, ds = (str(k) for k in key)
    return exp if exp == ds else f"{exp} / {ds}"


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
        self.conditions = sorted(set(res["condition"]) | set(runs["condition"]))
        self.target = self._target()
        self.metrics = self._metrics()
        primary = PRIMARY.get(self.target)
        self.primary = primary if primary in self.metrics else (
            self.metrics[0] if self.metrics else primary)
        self.config = self._config()
        self.split = "test" if ((res["split"] == "test")
                                & ~_baseline_rows(res["metric"])).any() else "val"
        self._finals, self._counts, self._goals, self._scores = {}, {}, {}, {}
        self._baselines, self._seconds = {}, {}
        self._means = {}
        self._result_runs = self._settings = None

    @property
    def label(self):
        return label_of(self.key)

    def _target(self):
        for frame in (self.res, self.runs):
            if len(frame) and frame["target"].notna().any():
                rec = frame[frame["role"] == "recommended"]["target"].dropna()
                targets = rec if len(rec) else frame["target"].dropna()
                return str(targets.mode().iloc[0])
        return None

    def _metrics(self):
        val = self.res[(self.res["split"] == "val") & ~self.res["metric"].isin(NOT_COMMON)
                       & ~_baseline_rows(self.res["metric"])]
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

    def settings(self):
        """What each condition is: one row per condition, ``condition`` and
        ``SETTING_COLUMNS`` (``_condition_settings``), read from the runs' configs and
        the results' own setting columns, never from the label. Computed once."""
        if self._settings is None:
            self._settings = _condition_settings(_run_settings(self.res, self.runs),
                                                 self.conditions)
        return self._settings

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

    def baseline(self, metric, split=None, condition=None):
        """Mean trivial-baseline value of ``metric`` over the runs (NaN when none recorded)."""
        if condition is not None:
            return self.baselines(split).get((condition, metric), np.nan)
        f = self.finals(split or self.split)
        f = f[f["metric"] == BASELINE + str(metric)]
        v = f["value"][np.isfinite(f["value"])]
        return float(v.mean()) if len(v) else np.nan

    def baselines(self, split=None):
        """``{(condition, metric): mean trivial-baseline value}`` over each condition's runs
        (finite values only), every condition and metric at once."""
        split = split or self.split
        if split not in self._baselines:
            f = self.finals(split)
            f = f[_baseline_rows(f["metric"]) & np.isfinite(f["value"])]
            self._baselines[split] = {
                (c, m[len(BASELINE):]): float(g.to_numpy(float).mean())
                for (c, m), g in f.groupby(["condition", "metric"], sort=False)["value"]}
        return self._baselines[split]

    def recipe_means(self, metric, split="val"):
        """``{condition: Series of recipe -> mean final value}`` of ``metric`` (finite
        values, as recorded: the automatic goal's input), every condition at once."""
        if (metric, split) not in self._means:
            f = self.finals(split)
            f = f[(f["metric"] == metric) & np.isfinite(f["value"])]
            means = f.groupby(["condition", "recipe"])["value"].mean()
            self._means[metric, split] = {c: g.droplevel("condition")
                                          for c, g in means.groupby(level="condition")}
        return self._means[metric, split]

    def scores(self, split=None):
        """One scored final value per run and metric: ``run, recipe, condition, seed,
        trainer, status, metric, value, substituted, applies, not_finite``. Diverged and
        failed runs take their seed's trivial baseline (``substituted``); an ok run without
        a finite value of a metric that ``applies`` to its recipe is ``not_finite`` (its
        value stays NaN: never scored); see the module notes."""
        split = split or self.split
        if split not in self._scores:
            self._scores[split] = self._score(split)
        return self._scores[split]

    def _score(self, split):
        f = self.finals(split)
        base = f[_baseline_rows(f["metric"])]
        f = f[f["metric"].isin(self.metrics)]
        cols = ["run", "recipe", "condition", "seed", "trainer"]
        every = pd.concat([self.runs[cols + ["status"]], f[cols].assign(status="ok")])
        every = every.drop_duplicates("run").reset_index(drop=True)
        grid = every.merge(pd.DataFrame({"metric": self.metrics}), how="cross")
        own = f.set_index(["run", "metric"])["value"]
        grid["value"] = own.reindex(pd.MultiIndex.from_frame(grid[["run", "metric"]])).to_numpy()
        bad = grid["status"].isin(SCORED_AS_BASELINE).to_numpy()
        if bad.any():
            b = base.assign(metric=base["metric"].str[len(BASELINE):])
            by_run = b.groupby(["run", "metric"])["value"].mean()
            by_seed = b.groupby(["seed", "metric"])["value"].mean()
            sub = grid.loc[bad]
            v = by_run.reindex(pd.MultiIndex.from_frame(sub[["run", "metric"]])).to_numpy()
            seed = by_seed.reindex(pd.MultiIndex.from_frame(sub[["seed", "metric"]])).to_numpy()
            grid.loc[bad, "value"] = np.where(np.isfinite(v), v, seed)
        finite = np.isfinite(grid["value"].to_numpy(float))
        grid["substituted"] = bad & finite
        grid["applies"] = self._applies(grid, finite & ~bad)
        grid["not_finite"] = grid["applies"].to_numpy() & ~finite & ~bad
        return grid

    def _applies(self, grid, own):
        """Per row of a scores grid: does the metric apply to the row's recipe? It does
        when some run of the recipe has its own finite value of it (``own``), and the
        primary metric always does. A metric that applies to no run of a recipe (log-loss
        of a recipe without probabilities) is n/a, not a run without a value."""
        pairs = pd.MultiIndex.from_frame(grid[["recipe", "metric"]])
        return pairs.isin(pairs[own]) | (grid["metric"] == self.primary).to_numpy()

    def goal(self, condition=""):
        if condition not in self._goals:
            self._goals[condition] = _goal(self, condition)
        return self._goals[condition]

    def status_counts(self, recipe, condition=None):
        """``n_runs, n_ok, n_diverged, n_failed`` of a recipe (in one condition, or in all)."""
        cols = ("recipe",) if condition is None else ("recipe", "condition")
        if cols not in self._counts:
            self._counts[cols] = self._counts_by(list(cols))
        key = recipe if condition is None else (recipe, condition)
        return self._counts[cols].get(key, dict(ZERO_COUNTS))

    def result_runs(self):
        """The distinct ``(run, recipe, condition)`` of the results (one row per run of a
        store's results), computed once: counting runs need not scan every history row."""
        if self._result_runs is None:
            self._result_runs = self.res[["run", "recipe", "condition"]].drop_duplicates()
        return self._result_runs

    def _counts_by(self, cols):
        """``status_counts`` of every group of ``cols`` (recipe, or recipe and condition)
        at once: ``{group: counts}``. A run counts when listed in the runs table or seen
        in the results; ok runs are the runs table's, or, without one, those seen. A
        comparison has a few hundred runs at most: counted in plain Python, which is
        faster than grouping frames that small. Groups with a missing key are left out."""
        listed = {}   # group -> rows in the runs table, and of them ok, diverged, failed
        for group, status in zip(_groups(self.runs, cols), self.runs["status"]):
            if group is not None:
                n = listed.setdefault(group, [0, 0, 0, 0])
                n[0] += 1
                n[1:] = [n[1] + (status == "ok"), n[2] + (status == "diverged"),
                         n[3] + (status == "failed")]
        res = self.result_runs()
        in_results = {(g, r) for g, r in zip(_groups(res, cols), res["run"]) if g is not None}
        seen = in_results | {(g, r) for g, r in zip(_groups(self.runs, cols), self.runs["run"])
                             if g is not None and not _is_missing(r)}
        res_runs, seen_runs = _tally(in_results), _tally(seen)
        out = {}
        for group in listed.keys() | seen_runs.keys():
            rows, ok, diverged, failed = listed.get(group, (0, 0, 0, 0))
            out[group] = {"n_runs": max(rows, seen_runs.get(group, 0)),
                          "n_ok": int(ok if rows else res_runs.get(group, 0)),
                          "n_diverged": int(diverged), "n_failed": int(failed)}
        return out

    def seconds_per_run(self, recipe):
        """Mean seconds per run of a recipe (its finished runs; else its ``seconds`` rows)."""
        if recipe not in self._seconds:
            self._seconds[recipe] = self._seconds_per_run(recipe)
        return self._seconds[recipe]

    def _seconds_per_run(self, recipe):
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


def _config_settings(config, trainer):
    """A run's settings from its stored config (``training.settings.condition``: NaN for
    each when the config holds none) and the setting it was tuned on (NaN when none)."""
    values = condition_of(config, trainer)
    tune = config.get("tune") if isinstance(config, dict) else None
    tuned = tune.get("setting") if isinstance(tune, dict) else None
    return {**{name: values[name] for name in SETTINGS}, "tuned": tuned or np.nan}


def _run_settings(res, runs):
    """One row per run: ``run, condition, trainer``, each setting (``SETTINGS``) and
    ``tuned``: from the run's config where it holds the settings, else from the results'
    own setting columns (NaN where neither says)."""
    cols = ["run", "condition", "trainer"]
    configs = pd.DataFrame([_config_settings(c, t) for c, t in zip(runs["config"],
                                                                    runs["trainer"])],
                           columns=list(SETTINGS) + ["tuned"], index=runs.index, dtype=object)
    own = res.loc[~res["run"].duplicated(), cols + [c for c in SETTINGS if c in res.columns]]
    # as objects: a whole number stays one where another source has no value (no NaN upcast)
    both = pd.concat([pd.concat([runs[cols], configs], axis=1).astype(object),
                      own.astype(object)], ignore_index=True)
    return both.groupby("run", sort=False).first().reset_index()   # first non-missing value


def _condition_settings(per_run, conditions):
    """What each of ``conditions`` is, from its runs' settings (``_run_settings``): one row
    per condition, ``condition`` and ``SETTING_COLUMNS``. A setting all runs of a condition
    share is its value; one whose runs differ can only be tuned (every other setting is
    part of the condition): its value is NaN, and ``tuned`` names it beside the settings
    the configs say were tuned, or whose label is the label of a tuned comparison of these
    settings (``_label_of``: results without configs, where every recipe chose the same
    rate) (``", "``-joined, "" when none). ``trainer``: the runs' trainer (NaN when they
    differ)."""
    rows = {}
    for cond, g in per_run.groupby("condition", sort=False):
        tuned = set(g["tuned"].dropna())
        row = {}
        for name in SETTINGS + ("trainer",):
            values = pd.unique(g[name].dropna())
            if len(values) > 1 and name in SETTINGS:
                tuned.add(name)
            row[name] = _shown(values[0]) if len(values) == 1 else np.nan
        if TUNED_SETTING not in tuned and _label_of(row, TUNED_SETTING) == cond:
            tuned.add(TUNED_SETTING)
        row.update({name: np.nan for name in tuned})
        row["tuned"] = ", ".join(name for name in SETTINGS if name in tuned)
        rows[cond] = row
    empty = dict.fromkeys(SETTINGS, np.nan) | {"tuned": "", "trainer": np.nan}
    out = pd.DataFrame([{"condition": c, **rows.get(c, empty)} for c in conditions],
                       columns=["condition", *SETTING_COLUMNS])
    return out.infer_objects()


def _is_missing(value):
    """None or NaN: a key pandas would not group."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _groups(frame, cols):
    """Each row's group of ``cols``: the value (one column) or the tuple of values;
    None where one is missing."""
    values = zip(*(frame[c].tolist() for c in cols))
    return [None if any(_is_missing(v) for v in vs) else (vs if len(cols) > 1 else vs[0])
            for vs in values]


def _tally(pairs):
    """``{group: how many distinct runs}`` of ``(group, run)`` pairs."""
    counts = {}
    for group, _ in pairs:
        counts[group] = counts.get(group, 0) + 1
    return counts


class _Comparisons(list):
    """Prepared comparisons; the public functions accept them in place of ``results``."""


def comparisons(results, runs):
    """The ``(experiment, dataset)`` groups of the two tables, prepared once, in name order.
    Runs of different catalog rows of one recipe name are named apart (``_rows_apart``);
    runs that would still be pooled as one seed are an error (``_one_run_per_seed``)."""
    if isinstance(results, _Comparisons):
        return results
    res = _prepare_results(results)
    rns = prepare_runs(runs)
    per_run = _per_run(res, rns)
    labels = _rows_apart(per_run)
    for frame in (res, rns, per_run) if labels else ():
        frame["recipe"] = frame["run"].map(labels).fillna(frame["recipe"]).astype(object)
    _one_run_per_seed(per_run, rns)
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


# A run's key in a comparison: runs of one key are the same seed of the same recipe.
SEED_KEY = KEY + ["condition", "recipe", "seed", "trainer"]
ROW = "recipe_row"   # a run's catalog row fingerprint (the store's column of it)


def _per_run(res, rns):
    """One row per run of either table: ``run``, ``SEED_KEY`` and ``recipe_row``, the
    fingerprint of its recipe's catalog row (the tables' column of it, else the row the
    run's config holds; NaN where unknown). Runs without an id are left out."""
    cols = ["run"] + SEED_KEY
    rows = rns[ROW] if ROW in rns.columns else pd.Series(
        [row_fingerprint(c.get("recipe")) for c in rns["config"]], index=rns.index, dtype=object)
    found = pd.concat([rns[cols].assign(**{ROW: rows}),
                       res[cols + [ROW] if ROW in res.columns else cols].drop_duplicates("run")])
    found = found[found["run"].notna()]
    known = found.dropna(subset=[ROW]).drop_duplicates("run").set_index("run")[ROW]
    found = found.drop_duplicates("run").reset_index(drop=True)
    found[ROW] = found["run"].map(known)
    return found


def _rows_apart(per_run):
    """``{run: recipe label}`` for the runs of a recipe name that holds runs of several
    catalog rows in one comparison (another loss, a user's edited catalog): they are
    different recipes, labelled ``name (row <fingerprint>)`` (``row ?`` where the row is
    unknown). Names with one row keep their name (no entry)."""
    if per_run[ROW].isna().all():
        return {}
    fp = per_run[ROW].fillna("?")
    groups = [per_run[c].astype(str) for c in KEY + ["recipe"]]
    several = (fp.groupby(groups).transform("nunique") > 1).to_numpy()
    return {run: f"{name} (row {f})" for run, name, f in zip(
        per_run["run"][several], per_run["recipe"][several], fp[several])}


def _one_run_per_seed(per_run, rns):
    """Raise ValueError when one comparison holds several runs of one recipe, condition,
    seed and trainer: a statistic would pool them as one seed (or pair more runs than
    seeds). Names what differs between them where the runs' configs say."""
    twice = per_run.duplicated(SEED_KEY, keep=False).to_numpy()
    if not twice.any():
        return
    groups = per_run[twice].groupby([per_run[c][twice].astype(str) for c in SEED_KEY],
                                    sort=False)
    _, g = next(iter(groups))
    r = g.iloc[0]
    configs = dict(zip(rns["run"], rns["config"]))
    seen = [configs.get(run) or {} for run in g["run"]]
    differ = sorted({k for c in seen for k in c if any(
        json.dumps(c.get(k), sort_keys=True, default=str)
        != json.dumps(o.get(k), sort_keys=True, default=str) for o in seen)})
    why = (f"; their configs differ in {differ}" if differ else
           "; the results do not say how they differ (pass runs=Store(folder).runs())"
           if not any(seen) else "")
    more = f", and {plural(len(groups) - 1, 'more such seed')}" if len(groups) > 1 else ""
    raise ValueError(
        f"Expected one run per recipe, condition, seed and trainer of a comparison (the runs "
        f"paired as one seed). Received: {len(g)} runs of {r['recipe']!r} with seed "
        f"{_shown(r['seed'])!r} in {r['experiment']} / {r['dataset']} under the condition "
        f"{r['condition'] or 'default'!r} (runs {g['run'].tolist()}){why}{more}. Keep the "
        f"runs of one grid (the frame recipes.run or recipes.compare returns), or select "
        f"them: results[results['run'].isin(ids)].")


def _value_rng(x):
    """A generator seeded from the values themselves (sorted), so the same values give
    the same draws in any process and any row order."""
    data = np.sort(np.asarray(x, np.float64)).tobytes()
    return np.random.default_rng([BOOTSTRAP_SEED, zlib.crc32(data), len(data)])


def _bootstrap_ci(x, n_boot=N_BOOT):
    """The 95% percentile-bootstrap CI of the mean of ``x`` (NaN, NaN with under 2 values)."""
    lo, hi = _bootstrap_cis([x], n_boot)
    return float(lo[0]), float(hi[0])


def _by_length(samples, min_len=1):
    """``{n: [(position, sorted sample), ...]}`` for the samples with ``n >= min_len``."""
    out = {}
    for i, x in enumerate(samples):
        x = np.sort(np.asarray(x, np.float64))
        if len(x) >= min_len:
            out.setdefault(len(x), []).append((i, x))
    return out


def _chunks(items, per_item):
    """``items`` in consecutive chunks of about ``BATCH_ELEMENTS / per_item`` each."""
    step = max(1, BATCH_ELEMENTS // max(1, per_item))
    return (items[i:i + step] for i in range(0, len(items), step))


def _bootstrap_cis(samples, n_boot=N_BOOT):
    """The bootstrap CIs of many samples at once: arrays ``lo``, ``hi`` (one per sample).

    Samples of one length are resampled together (one array operation per chunk);
    each sample still draws its indices from its own generator seeded from its
    values (``_value_rng``), so every interval equals the one-sample
    computation, whatever else is in the batch."""
    lo = np.full(len(samples), np.nan)
    hi = np.full(len(samples), np.nan)
    for n, items in _by_length(samples, 2).items():
        for part in _chunks(items, n_boot * n):
            pos = [i for i, _ in part]
            x = np.stack([v for _, v in part])                               # (G, n)
            idx = np.stack([_value_rng(v).integers(0, n, size=(n_boot, n)) for _, v in part])
            means = x[np.arange(len(part))[:, None, None], idx].mean(axis=2)  # (G, n_boot)
            lo[pos], hi[pos] = np.percentile(means, [2.5, 97.5], axis=1)
    return lo, hi


def _sign_flip_p(d):
    """Two-sided sign-flip permutation p-value of the mean of paired differences:
    exact (every sign pattern) up to ``EXACT_PAIRS`` pairs, else random flips
    seeded from ``d``."""
    return float(_sign_flip_ps([d])[0])


def _sign_flip_ps(samples):
    """``_sign_flip_p`` of many samples at once (an array, one p per sample): the
    exact ones of one length share one array operation per chunk."""
    p = np.full(len(samples), np.nan)
    for n, items in _by_length(samples).items():
        exact = []
        for i, d in items:
            if np.all(d == 0):
                p[i] = 1.0
            elif n > EXACT_PAIRS:
                p[i] = _random_flip_p(d)
            else:
                exact.append((i, d))
        if not exact:
            continue
        signs = 1 - 2 * ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1)     # (2**n, n)
        for part in _chunks(exact, 2 ** n * n):
            pos = [i for i, _ in part]
            d = np.stack([v for _, v in part])                                  # (G, n)
            observed = np.abs(d.mean(axis=1)) - _tolerance(d)
            stats = np.abs((signs[None] * d[:, None, :]).mean(axis=2))          # (G, 2**n)
            p[pos] = np.mean(stats >= observed[:, None], axis=1)
    return p


def _tolerance(d):
    """Per row of ``d``: the slack under which a permuted mean counts as extreme."""
    return 1e-12 * np.maximum(1.0, np.abs(d).max(axis=-1))


def _random_flip_p(d):
    """The sign-flip p of a sorted sample of more than ``EXACT_PAIRS`` differences."""
    observed = abs(d.mean())
    signs = _value_rng(d).choice([-1.0, 1.0], size=(N_PERMUTATIONS, len(d)))
    stats = np.abs((signs * d).mean(axis=1))
    return float((np.sum(stats >= observed - _tolerance(d)) + 1) / (N_PERMUTATIONS + 1))


def min_p(n):
    """The smallest two-sided sign-flip p-value ``n`` non-zero paired differences allow."""
    return min(1.0, 2.0 / 2 ** n) if n else np.nan


def curves(results):
    """Mean, std and a band across seeds per comparison, condition, recipe, split, metric,
    epoch. ``results``: the tidy results, or their prepared ``comparisons``.

    Columns: ``experiment, dataset, condition, target, recipe, role, split,
    metric, epoch, n, mean, std, lower, upper``, and, from prepared
    ``comparisons``, each condition's settings (``SETTING_COLUMNS``, after
    ``condition``). ``n`` counts seeds with a finite value; non-finite values are
    treated as missing. ``lower``/``upper``: the 2.5-97.5 percentile interval
    across seeds (``CURVE_BAND``). The trivial baselines' rows are not curves and
    are left out.
    """
    if not isinstance(results, _Comparisons):
        return prepared_curves(_prepare_results(results))
    if not results:
        return prepared_curves(_prepare_results(None))
    parts = [_with_settings(prepared_curves(c.res), c.settings()) for c in results]
    out = pd.concat(parts, ignore_index=True)
    out.attrs["band"] = CURVE_BAND
    return out


def _with_settings(frame, settings):
    """``frame`` (one comparison's rows) with its conditions' settings (``settings``: one
    row per condition) after its ``condition`` column."""
    out = frame.merge(settings, on="condition", how="left", validate="many_to_one")
    at = list(frame.columns).index("condition") + 1
    cols = list(frame.columns[:at]) + list(SETTING_COLUMNS) + list(frame.columns[at:])
    return out[cols]


def prepared_curves(res):
    """``curves`` of results already prepared (rows of a comparison's ``res``)."""
    res = res[~_baseline_rows(res["metric"])]
    cols = KEY + ["condition", "target", "recipe", "role", "split", "metric", "epoch"]
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
    cols = KEY + ["condition", "target", "recipe", "role", "seed", "trainer", "run", "metric"]
    if not len(res):
        return res.loc[:, cols + ["epoch", "value"]].reset_index(drop=True)
    idx = res.dropna(subset=["epoch"]).groupby(["run", "metric"])["epoch"].idxmax()
    return res.loc[idx, cols + ["epoch", "value"]].reset_index(drop=True)


def _auto_goal(comp, condition):
    metric = comp.primary
    if metric is None:
        return None
    means = comp.recipe_means(metric).get(condition, pd.Series(dtype=float))
    if not len(means):
        return None
    higher = is_higher_better(metric)
    leader = means.idxmax() if higher else means.idxmin()
    best = means[leader]
    worst = means.min() if higher else means.max()
    if best > 0:
        value = best * (1 - AUTO_GOAL_FRACTION) if higher else best * (1 + AUTO_GOAL_FRACTION)
        rule = (f"within {AUTO_GOAL_FRACTION:.0%} of the best recipe's final mean, "
                f"{'0.95' if higher else '1.05'} × {fmt_value(best, metric)}, the final "
                f"validation mean of {leader}")
    else:
        spread = abs(worst - best)
        value = best - AUTO_GOAL_FRACTION * spread if higher else best + AUTO_GOAL_FRACTION * spread
        rule = f"best final mean {'minus' if higher else 'plus'} 5% of the best-worst spread"
    base = comp.baseline(metric, "val", condition)
    if np.isfinite(base) and (value <= base if higher else value >= base):
        return {"metric": metric, "value": np.nan, "source": "none",
                "rule": (f"no goal: the automatic goal ({rule}: {fmt_value(value, metric)}) "
                         f"is no better than the trivial baseline's "
                         f"{fmt_value(base, metric)}")}
    return {"metric": metric, "value": float(value), "source": "auto", "rule": rule}


def _goal(comp, condition):
    goal = comp.config.get("goal")
    if isinstance(goal, dict) and "value" in goal:
        metric = goal.get("metric", comp.primary)
        return {"metric": metric, "value": float(goal["value"]), "source": "config",
                "rule": "set by the experiment"}
    return _auto_goal(comp, condition)


def goals(results, runs=None):
    """The goal of each comparison and condition: ``experiment, dataset, condition,
    target, metric, value, higher_is_better, source ('config'|'auto'|'none'), rule``.
    ``source`` 'none' (value NaN): the automatic goal would not beat the trivial
    baseline, so there is no goal; ``rule`` says why."""
    rows = []
    for comp in comparisons(results, runs):
        for cond in comp.conditions:
            goal = comp.goal(cond)
            if goal:
                rows.append({"experiment": comp.key[0], "dataset": comp.key[1],
                             "condition": cond, "target": comp.target,
                             "metric": goal["metric"], "value": goal["value"],
                             "higher_is_better": is_higher_better(goal["metric"]),
                             "source": goal["source"], "rule": goal["rule"]})
    return pd.DataFrame(rows, columns=KEY + ["condition", "target", "metric", "value",
                                             "higher_is_better", "source", "rule"])


def _goal_text(mean_epochs, reached, total):
    if total == 0:
        return "no runs"
    if reached == 0:
        return f"not reached (0/{total})"
    if reached == total:
        return f"{fmt_epochs(mean_epochs)} ({reached}/{total})"
    return f"{fmt_epochs(mean_epochs)} ({reached}/{total} reached)"


SUMMARY_COLUMNS = [
    "experiment", "dataset", "condition", *SETTING_COLUMNS, "split", "target", "recipe",
    "role", "metric",
    "higher_is_better", "primary", "common", "n", "mean", "std", "ci_low", "ci_high",
    "baseline", "aulc", "aulc_std", "goal_metric", "goal", "goal_source", "goal_reached",
    "goal_runs", "goal_epochs", "epochs_to_goal", "max_epochs", "n_runs", "n_ok",
    "n_diverged", "n_failed", "n_substituted", "n_not_finite", "seconds_per_run"]


def summary(results, runs=None, *, split=None, n_boot=N_BOOT):
    """Final-epoch statistics per comparison x condition x recipe x metric.

    Columns: ``SUMMARY_COLUMNS``. ``split``: the scoring split (default: each
    comparison's, ``test`` for a tuned one, else ``val``). ``n``: runs scored;
    diverged and failed runs are scored as the trivial baseline
    (``n_substituted`` of them; see the module notes); ``n_not_finite``: ok runs
    left out for want of a finite value (module notes). ``baseline``: the trivial
    baseline's mean value. AULC and the goal are on the validation curves. The
    goal columns are filled on the row of the goal metric only.
    ``goal_epochs``: mean first epoch over the seeds that reached the goal;
    ``epochs_to_goal``: the same as text, e.g. ``"6 (5/5)"``, ``"not reached
    (0/5)"``, ``"9 (3/5 reached)"``.
    """
    rows, samples = [], []
    for comp in comparisons(results, runs):
        use = split or comp.split
        scores = comp.scores(use)
        not_finite = scores.groupby(["condition", "recipe", "metric"])["not_finite"].sum()
        scores = scores[np.isfinite(scores["value"].to_numpy(float))]
        final_value = scores["value"].to_numpy(float)
        final_sub = scores["substituted"].to_numpy(bool)
        final_by = _positions(scores, ["condition", "recipe", "metric"])
        val = comp.res[comp.res["split"] == "val"]
        # AULC per run: mean over its epochs, NaN when any epoch is not finite
        by_run = val.assign(finite=np.isfinite(val["value"])).groupby(
            ["condition", "recipe", "metric", "run"])
        aulc_run = by_run["value"].mean().where(by_run["finite"].all()).dropna().reset_index()
        aulc_value = aulc_run["value"].to_numpy(float)
        aulc_by = _positions(aulc_run, ["condition", "recipe", "metric"])
        max_ep = val.groupby(["condition", "recipe", "metric"])["epoch"].max().to_dict()
        goals = {cond: comp.goal(cond) for cond in comp.conditions}
        settings = comp.settings().set_index("condition").to_dict("index")
        goal_rows = val[val["metric"].isin({g["metric"] for g in goals.values() if g})]
        goal_rows = dict(tuple(goal_rows.groupby("condition", sort=False)))
        for cond in comp.conditions:
            goal = goals[cond]
            scored = goal and np.isfinite(goal["value"])
            progress = (_goal_progress(goal_rows.get(cond, val.iloc[0:0]), goal) if scored
                        else {})
            for recipe in comp.recipes:
                counts = comp.status_counts(recipe, cond)
                if not counts["n_runs"]:
                    continue
                seconds = comp.seconds_per_run(recipe)
                for metric in comp.metrics or [None]:
                    at = final_by.get((cond, recipe, metric), NO_ROWS)
                    x = final_value[at]
                    aulc_runs = aulc_value[aulc_by.get((cond, recipe, metric), NO_ROWS)]
                    samples.append(x)
                    row = {
                        "experiment": comp.key[0], "dataset": comp.key[1],
                        "condition": cond, **settings[cond], "split": use,
                        "target": comp.target,
                        "recipe": recipe, "role": comp.roles.get(recipe), "metric": metric,
                        "higher_is_better": is_higher_better(metric),
                        "primary": metric == comp.primary,
                        "common": comp.common(metric), "n": len(x),
                        "mean": float(x.mean()) if len(x) else np.nan,
                        "std": float(x.std(ddof=1)) if len(x) > 1 else np.nan,
                        "baseline": comp.baseline(metric, use, cond),
                        "aulc": float(aulc_runs.mean()) if len(aulc_runs) else np.nan,
                        "aulc_std": (float(aulc_runs.std(ddof=1)) if len(aulc_runs) > 1
                                     else np.nan),
                        "goal_metric": goal["metric"] if goal else None,
                        "goal": goal["value"] if goal else np.nan,
                        "goal_source": goal["source"] if goal else None,
                        "goal_reached": np.nan, "goal_runs": np.nan, "goal_epochs": np.nan,
                        "epochs_to_goal": "",
                        "max_epochs": float(max_ep.get((cond, recipe, metric), np.nan)),
                        **counts,
                        "n_substituted": int(final_sub[at].sum()),
                        "n_not_finite": int(not_finite.get((cond, recipe, metric), 0)),
                        "seconds_per_run": seconds,
                    }
                    if scored and metric == goal["metric"]:
                        seen, reached, mean = progress.get(recipe, (0, 0, np.nan))
                        total = max(counts["n_runs"], seen)
                        row.update(goal_reached=reached, goal_runs=total, goal_epochs=mean,
                                   epochs_to_goal=_goal_text(mean, reached, total))
                    rows.append(row)
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    out["ci_low"], out["ci_high"] = _bootstrap_cis(samples, n_boot)
    return out


def _positions(frame, by):
    """``{group key: row positions}`` of ``frame`` grouped ``by`` (positions ascending)."""
    if not len(frame):
        return {}
    return frame.groupby(by, sort=False).indices


def _goal_progress(val, goal):
    """Per recipe of one condition's validation rows, all recipes at once: ``(runs with
    a curve of the goal metric, runs that met the goal, the mean over those of the first
    epoch that met it)``."""
    rows = val[val["metric"] == goal["metric"]].dropna(subset=["epoch"])
    value = rows["value"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(value) & ((value >= goal["value"]) if is_higher_better(goal["metric"])
                                   else (value <= goal["value"]))
    first = rows[ok].groupby(["recipe", "run"])["epoch"].min().astype(float)
    by = first.groupby(level="recipe")
    reached, mean = by.size(), by.mean()
    seen = rows.groupby("recipe")["run"].nunique()
    return {r: (int(n), int(reached.get(r, 0)), float(mean.get(r, np.nan)))
            for r, n in seen.items()}


def margin_of(metric, baseline=np.nan, reference=np.nan, margins=None):
    """The margin of practical equivalence of ``metric`` (``MARGINS``), in its unit."""
    size, kind = (margins or MARGINS).get(metric, DEFAULT_MARGIN)
    if kind == "absolute":
        return float(size)
    scale = baseline if np.isfinite(baseline) and baseline != 0 else reference
    return float(size * abs(scale)) if np.isfinite(scale) else np.nan


def outcome_of(ci_low, ci_high, p, margin, higher_is_better=True):
    """The outcome of an effect of at least ``MIN_PAIRS`` paired seeds: the first of
    ``OUTCOME_RULES`` that its 95% CI ``[ci_low, ci_high]`` of the difference (recipe -
    reference, in the metric's unit), its sign-flip ``p`` and the metric's ``margin`` of
    practical equivalence meet. Returns one of ``OUTCOMES``.

    >>> outcome_of(0.65, 0.75, 0.002, 0.01)            # +70 pp, all beyond the 1 pp margin
    'better'
    >>> outcome_of(0.005, 0.023, 0.002, 0.01)          # +1.4 pp [0.5, 2.3]
    'detectably better'
    >>> outcome_of(-0.012, -0.005, 0.004, 0.01)        # -0.84 pp [-1.2, -0.5]
    'detectably worse'
    >>> outcome_of(0.02, 0.03, 0.03, 0.01, higher_is_better=False)   # a loss went up
    'worse'
    >>> outcome_of(-0.004, 0.006, 0.5, 0.01), outcome_of(-0.004, 0.016, 0.5, 0.01)
    ('equivalent', 'inconclusive')
    """
    lo, hi = (ci_low, ci_high) if higher_is_better else (-ci_high, -ci_low)
    clear = bool((lo > 0 or hi < 0) and p <= ALPHA)
    return next(outcome for outcome, holds, _ in OUTCOME_RULES
                if holds(lo, hi, margin, clear))


def _outcome(d, lo, hi, p, higher, margin):
    """(outcome, note) of paired differences ``d`` by the rules of the module notes."""
    n = len(d)
    nonzero = int(np.count_nonzero(d))
    if n < MIN_PAIRS:
        return "inconclusive", f"only {plural(n, 'paired seed')}"
    outcome = outcome_of(lo, hi, p, margin, higher)
    if outcome == "inconclusive" and min_p(nonzero) > ALPHA:
        return outcome, (f"{plural(nonzero, 'seed')} {'differs' if nonzero == 1 else 'differ'}"
                         f": the smallest possible p is {min_p(nonzero):.3g} > {ALPHA}")
    return outcome, ""


EFFECT_COLUMNS = [
    "experiment", "dataset", "condition", *SETTING_COLUMNS, "split", "recipe", "role",
    "reference", "metric",
    "higher_is_better", "primary", "n_runs", "n_diverged", "n_failed", "n_not_finite",
    "ref_runs", "ref_diverged", "ref_failed", "ref_not_finite", "n_paired", "difference",
    "ci_low", "ci_high", "won", "lost", "tied", "p", "p_min", "margin", "baseline", "outcome",
    "note"]


def effects(results, runs=None, *, margins=None, n_boot=N_BOOT):
    """The effect of choosing each recipe instead of the recommended one, per condition.

    Parameters
    ----------
    results : DataFrame
        The tidy results (``recipes.load_results``, or what ``compare`` and
        ``run`` return), with their ``condition`` column; without one, all runs
        are one condition.
    runs : DataFrame, optional
        The runs table (``Store(dir).runs()``): statuses, so that diverged and
        failed runs are counted and scored as the trivial baseline.
    margins : dict, optional
        ``{metric: (size, "absolute" | "baseline")}`` in place of ``MARGINS``,
        the margins of practical equivalence.
    n_boot : int, default=2000
        Bootstrap resamples per interval.

    Returns
    -------
    DataFrame
        One row per comparison x condition x recipe x reference recipe x metric,
        the reference being the comparison's recommended recipe. Its columns
        (``EFFECT_COLUMNS``), in order:

        ``experiment``, ``dataset``
            The comparison.
        ``condition``
            A readable label of the condition, for display only: its settings are
            the columns that follow; no code needs to parse it.
        one column per training setting (``SETTINGS``: the fields of ``Settings``,
        ``epochs, batch_size, optimizer, learning_rate, hidden, output_scale,
        backend`` today)
            The condition's value of the setting, as the tidy results hold it
            (``hidden`` as text, ``"64,32"``), read from the runs' configs or the
            results' own setting columns; NaN where neither says, and for a tuned
            setting (its value differs between recipes).
        ``tuned``
            The settings tuned per recipe in this condition (``"learning_rate"``
            in a tuned comparison), ``""`` when none.
        ``trainer``
            The trainer the condition's runs trained with.
        ``split``
            The scoring split: ``test`` in a tuned comparison, else ``val``.
        ``recipe``, ``role``, ``reference``
            The recipe, its catalog role, and the recommended recipe it is
            compared with.
        ``metric``, ``higher_is_better``, ``primary``
            The common metric, its direction, and whether it is the comparison's
            primary metric.
        ``n_runs``, ``n_diverged``, ``n_failed``, ``n_not_finite``
            The recipe's runs in the condition, those that diverged or failed (scored
            as the trivial baseline of their seed), and the ok runs without a finite
            value of the metric (left out of the pairs, said in the note).
        ``ref_runs``, ``ref_diverged``, ``ref_failed``, ``ref_not_finite``
            The same counts for the reference.
        ``n_paired``
            Seeds paired on ``(seed, trainer)``.
        ``difference``, ``ci_low``, ``ci_high``
            Recipe minus reference, mean over the paired seeds, in the metric's
            unit (a share as a fraction: 0.01 is 1 percentage point), and its 95%
            bootstrap CI (NaN with fewer than 2 pairs).
        ``won``, ``lost``, ``tied``
            Seeds on which the recipe was better, worse (in the metric's direction),
            or equal up to float noise.
        ``p``, ``p_min``
            The exact sign-flip p of the mean difference, and the smallest p these
            seeds allow (NaN when every seed is tied: no sign to flip).
        ``margin``
            The metric's margin of practical equivalence, in its unit.
        ``baseline``
            The trivial baseline's mean value of the metric.
        ``outcome``
            One of ``OUTCOMES``, by ``OUTCOME_RULES``.
        ``note``
            Why an outcome is inconclusive, and runs left out; ``""`` otherwise.

        A metric that applies to neither recipe of a pair (no run of it has a
        finite value) gets no row.

    Raises
    ------
    ValueError
        When ``results`` or ``runs`` is not such a table (``check_results``,
        ``check_runs``: a missing column, a value that is not a number, an
        observation or run given twice).

    Examples
    --------
    Two learning rates, six seeds each: the effect of each carries its settings.

    >>> import pandas as pd
    >>> import recipes
    >>> rows = [dict(run=f"{recipe} {lr} {seed}", experiment="e", dataset="d",
    ...              recipe=recipe, role=role, seed=seed, epoch=5, split="val",
    ...              metric="accuracy", value=0.9 + 0.01 * seed - drop,
    ...              condition=f"sgd lr={lr}", optimizer="sgd", learning_rate=lr)
    ...         for lr, loss in ((0.01, 0.3), (0.1, 0.0))
    ...         for recipe, role, drop in (("binary_sigmoid_bce", "recommended", 0.0),
    ...                                    ("binary_sigmoid_mse", "anti-pattern", loss))
    ...         for seed in range(6)]
    >>> e = recipes.effects(pd.DataFrame(rows))
    >>> e[["optimizer", "learning_rate", "recipe", "difference", "outcome"]].round(3)
      optimizer  learning_rate              recipe  difference     outcome
    0       sgd           0.01  binary_sigmoid_mse        -0.3       worse
    1       sgd           0.10  binary_sigmoid_mse         0.0  equivalent
    >>> e[e["learning_rate"] == 0.01]["outcome"].tolist()
    ['worse']
    >>> [c for c in e.columns if c in recipes.Settings.names()] == list(recipes.Settings.names())
    True
    """
    parts, samples = [], []
    for comp in comparisons(results, runs):
        frame, diffs = _paired_differences(comp, margins)
        parts.append(frame)
        samples += diffs
    if not samples:
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    e = pd.concat(parts, ignore_index=True)
    e["ci_low"], e["ci_high"] = _bootstrap_cis(samples, n_boot)
    e["p"] = _sign_flip_ps(samples)
    e["outcome"], e["note"] = zip(*[
        _outcome(d, lo, hi, p, higher, margin) for d, lo, hi, p, higher, margin in zip(
            samples, e["ci_low"], e["ci_high"], e["p"], e["higher_is_better"], e["margin"])])
    e["note"] = [_with_unscored(note, r) for note, r in zip(e["note"], e.to_dict("records"))]
    return e[EFFECT_COLUMNS]


def _with_unscored(note, row):
    """An effect's note, with the runs left out for want of a finite value said."""
    parts = [note] if note else []
    for prefix, column in (("n", "recipe"), ("ref", "reference")):
        k = row[f"{prefix}_not_finite"]
        if k:
            parts.append(f"{k} of {row[f'{prefix}_runs']} runs of {row[column]} have no "
                         f"finite {row['metric']} (left out)")
    return "; ".join(parts)


def _paired_differences(comp, margins=None):
    """One comparison's effect rows without the interval, p and outcome, and the paired
    differences of each row (a list of arrays, in row order), all rows at once."""
    others = [r for r in comp.recipes if r not in comp.recommended]
    keys = pd.DataFrame(list(product(comp.conditions, comp.recommended, others, comp.metrics)),
                        columns=["condition", "reference", "recipe", "metric"])
    # one value per (condition, recipe, metric, seed, trainer); does the metric apply:
    # a run has a finite value of it, or an ok run has none where it applies?
    scores = comp.scores()
    v = scores.groupby(["condition", "recipe", "metric", "seed", "trainer"])[
        "value"].mean().reset_index()
    applies = scores.loc[np.isfinite(scores["value"].to_numpy(float))
                         | scores["not_finite"].to_numpy(bool),
                         ["condition", "recipe", "metric"]].drop_duplicates()
    not_finite = scores.groupby(["condition", "recipe", "metric"])["not_finite"].sum()
    keys = keys.merge(applies, on=["condition", "recipe", "metric"]).merge(
        applies.rename(columns={"recipe": "reference"}), on=["condition", "reference", "metric"])
    keys = keys.sort_values(["condition", "reference", "recipe", "metric"], kind="stable",
                            key=_order_of(comp)).reset_index(drop=True)
    if not len(keys):
        return pd.DataFrame(columns=EFFECT_COLUMNS), []
    keys["row"] = np.arange(len(keys))
    pairs = (keys.merge(v.rename(columns={"value": "a"}), on=["condition", "recipe", "metric"])
             .merge(v.rename(columns={"recipe": "reference", "value": "b"}),
                    on=["condition", "reference", "metric", "seed", "trainer"]))
    a, b = pairs["a"].to_numpy(float), pairs["b"].to_numpy(float)
    pairs = pairs[np.isfinite(a) & np.isfinite(b)].sort_values("row", kind="stable")
    a, b = pairs["a"].to_numpy(float), pairs["b"].to_numpy(float)
    d = np.where(np.isclose(a, b, rtol=NOISE_RTOL, atol=0.0), 0.0, a - b)
    ends = np.searchsorted(pairs["row"].to_numpy(), np.arange(1, len(keys)))
    diffs, refs = np.split(d, ends), np.split(b, ends)
    higher = keys["metric"].map(is_higher_better).astype(bool).to_numpy()
    rows = pairs["row"].to_numpy()
    sign = np.sign(d) * np.where(higher[rows], 1.0, -1.0)
    count = lambda mask: np.bincount(rows[mask], minlength=len(keys)).astype(int)  # noqa: E731
    base = comp.baselines()
    e = keys.drop(columns="row").assign(
        experiment=comp.key[0], dataset=comp.key[1], split=comp.split,
        role=keys["recipe"].map(comp.roles), higher_is_better=higher,
        primary=(keys["metric"] == comp.primary).to_numpy(),
        n_paired=[len(x) for x in diffs],
        difference=[float(x.mean()) if len(x) else np.nan for x in diffs],
        won=count(sign > 0), lost=count(sign < 0), tied=count(sign == 0),
        p_min=[min_p(int(np.count_nonzero(x))) for x in diffs],
        baseline=[base.get((c, m), np.nan) for c, m in zip(keys["condition"], keys["metric"])])
    e["margin"] = [margin_of(m, bl, float(r.mean()) if len(r) else np.nan, margins)
                   for m, bl, r in zip(e["metric"], e["baseline"], refs)]
    e = e.merge(comp.settings(), on="condition", how="left", validate="many_to_one")
    for prefix, column in (("n", "recipe"), ("ref", "reference")):
        counts = [comp.status_counts(r, c) for r, c in zip(e[column], e["condition"])]
        e[f"{prefix}_runs"] = [c["n_runs"] for c in counts]
        e[f"{prefix}_diverged"] = [c["n_diverged"] for c in counts]
        e[f"{prefix}_failed"] = [c["n_failed"] for c in counts]
        e[f"{prefix}_not_finite"] = [int(not_finite.get((c, r, m), 0)) for c, r, m in zip(
            e["condition"], e[column], e["metric"])]
    return e, diffs


def _order_of(comp):
    """A ``sort_values`` key: each column in the comparison's order (conditions, recipes
    by role, metrics common first)."""
    orders = {"condition": comp.conditions, "reference": comp.recipes, "recipe": comp.recipes,
              "metric": comp.metrics}
    return lambda col: col.map({v: i for i, v in enumerate(orders[col.name])})


def paired(results, runs=None, *, metrics=None, n_boot=N_BOOT):
    """``effects`` under the older column names (``baseline`` for the reference recipe,
    ``mean_diff``, ``n_pairs``, ``n_won``, ``n_lost``, ``n_tied``, ``p_value``),
    optionally restricted to ``metrics``."""
    e = effects(results, runs, n_boot=n_boot)
    if metrics is not None:
        e = e[e["metric"].isin(metrics)]
    e = e.drop(columns=["baseline"]).rename(columns={
        "reference": "baseline", "difference": "mean_diff", "n_paired": "n_pairs",
        "won": "n_won", "lost": "n_lost", "tied": "n_tied", "p": "p_value"})
    return e.reset_index(drop=True)


def select(df, comparison):
    """The rows of one comparison; ``comparison=None`` when the table holds only one."""
    if df is None or not len(df):
        return pd.DataFrame() if df is None else df
    if comparison is None:
        keys = df[KEY].drop_duplicates()
        if len(keys) > 1:
            raise ValueError("several comparisons in the table: pass comparison=(experiment, dataset)")
        return df
    exp, ds = _norm_key(comparison, df)
    return df[(df["experiment"] == exp) & (df["dataset"] == ds)]


def _norm_key(key, df):
    """Accept (experiment, dataset) or 'experiment / dataset' (one of ``df``'s)."""
    if isinstance(key, str):
        known = [tuple(k) for k in df[KEY].drop_duplicates().itertuples(index=False)]
        for k in known:
            if key in (label_of(k), f"{k[0]} / {k[1]}", f"{k[0]}/{k[1]}"):
                return k
        if key in [k[0] for k in known]:
            return next(k for k in known if k[0] == key)
        raise KeyError(f"unknown comparison {key!r}")
    return tuple(key)


@dataclass(frozen=True)
class Contrast:
    """Two cells of one comparison to compare on the same seeds, possibly across
    conditions: ``recipe`` under the conditions whose settings include ``settings``
    against ``reference`` under those with ``reference_settings`` (tidy values, as the
    setting columns hold them: ``{"class_weight": "balanced"}``), every other setting
    equal, on ``metric``. ``key``: what the caller names it by (a claim)."""

    key: str
    metric: str
    recipe: str
    reference: str
    settings: dict = field(default_factory=dict)
    reference_settings: dict = field(default_factory=dict)


CONTRAST_COLUMNS = [
    "experiment", "dataset", "key", "condition", "reference_condition", *SETTING_COLUMNS,
    "split", "recipe", "reference", "metric", "higher_is_better", "n_paired", "mean",
    "reference_mean", "difference",
    "ci_low", "ci_high", "won", "lost", "tied", "p", "p_min", "margin", "baseline", "outcome",
    "note"]


def contrasts(results, runs=None, specs=(), *, margins=None, n_boot=N_BOOT):
    """The paired effect of each ``Contrast`` of ``specs`` in each comparison that holds
    both of its cells: ``effects`` compares recipes within a condition; a contrast also
    compares one condition with another (weighted against unweighted classes), on the
    same seeds (each seed has the same split and start in every condition), with the
    same statistics and outcome rules as ``effects``.

    Returns a DataFrame (``CONTRAST_COLUMNS``): one row per comparison, contrast and
    pair of conditions (the settings columns are the recipe's condition's), scored on
    the comparison's split; ``mean`` and ``reference_mean`` are the two cells' means
    over the paired seeds. A comparison lacking either cell gets no row; a cell whose
    runs all lack a finite value pairs no seed and reads "inconclusive".
    """
    rows, samples = [], []
    for comp in comparisons(results, runs):
        for spec in specs:
            for row, d in _contrast_rows(comp, spec, margins):
                rows.append(row)
                samples.append(d)
    if not rows:
        return pd.DataFrame(columns=CONTRAST_COLUMNS)
    e = pd.DataFrame(rows)
    e["ci_low"], e["ci_high"] = _bootstrap_cis(samples, n_boot)
    e["p"] = _sign_flip_ps(samples)
    e["outcome"], e["note"] = zip(*[
        _outcome(d, lo, hi, p, higher, margin) for d, lo, hi, p, higher, margin in zip(
            samples, e["ci_low"], e["ci_high"], e["p"], e["higher_is_better"], e["margin"])])
    return e[CONTRAST_COLUMNS]


def contrast_rows(contrasts_df, spec):
    """The rows of ``contrasts_df`` (what ``contrasts`` returns) that the ``Contrast``
    ``spec`` made: its key, metric, recipe and reference."""
    c = contrasts_df
    return c[(c["key"] == spec.key) & (c["metric"] == spec.metric)
             & (c["recipe"] == spec.recipe) & (c["reference"] == spec.reference)]


def _same(a, b):
    """Two setting values are the same: both missing, or equal as text."""
    return (_is_missing(a) and _is_missing(b)) or str(a) == str(b)


def _contrast_rows(comp, spec, margins):
    """``(row, paired differences)`` of ``spec`` for each pair of ``comp``'s conditions
    that match its two cells and agree on every other setting."""
    named = set(spec.settings) | set(spec.reference_settings)
    others = [c for c in SETTING_COLUMNS if c not in named]
    conds = comp.settings().to_dict("records")
    scores = comp.scores()
    scores = scores[scores["metric"] == spec.metric]
    matches = lambda r, want: all(_same(r.get(k), v) for k, v in want.items())  # noqa: E731
    for a in (r for r in conds if matches(r, spec.settings)):
        for b in (r for r in conds if matches(r, spec.reference_settings)
                  and all(_same(r.get(k), a.get(k)) for k in others)):
            cells = [scores[(scores["condition"] == c["condition"]) & (scores["recipe"] == name)]
                     for c, name in ((a, spec.recipe), (b, spec.reference))]
            if not all(len(c) for c in cells):
                continue
            pairs = cells[0].merge(cells[1], on=["seed", "trainer"], suffixes=("_a", "_b"))
            va, vb = pairs["value_a"].to_numpy(float), pairs["value_b"].to_numpy(float)
            keep = np.isfinite(va) & np.isfinite(vb)
            va, vb = va[keep], vb[keep]
            d = np.where(np.isclose(va, vb, rtol=NOISE_RTOL, atol=0.0), 0.0, va - vb)
            higher = is_higher_better(spec.metric)
            sign = np.sign(d) * (1.0 if higher else -1.0)
            base = comp.baselines().get((b["condition"], spec.metric), np.nan)
            row = {**{k: a.get(k) for k in SETTING_COLUMNS},
                   "experiment": comp.key[0], "dataset": comp.key[1], "key": spec.key,
                   "condition": a["condition"], "reference_condition": b["condition"],
                   "split": comp.split, "recipe": spec.recipe, "reference": spec.reference,
                   "metric": spec.metric, "higher_is_better": higher, "n_paired": len(d),
                   "mean": float(va.mean()) if len(va) else np.nan,
                   "reference_mean": float(vb.mean()) if len(vb) else np.nan,
                   "difference": float(d.mean()) if len(d) else np.nan,
                   "won": int((sign > 0).sum()), "lost": int((sign < 0).sum()),
                   "tied": int((sign == 0).sum()), "p_min": min_p(int(np.count_nonzero(d))),
                   "margin": margin_of(spec.metric, base,
                                       float(vb.mean()) if len(vb) else np.nan, margins),
                   "baseline": base}
            yield row, d


RELIABILITY_COLUMNS = ["experiment", "dataset", "condition", "recipe", "form", "bin",
                       "lower", "upper", "count", "confidence", "accuracy", "runs", "ece"]


def reliability(results, runs=None):
    """The reliability diagram of each calibrated recipe, per comparison and condition
    (#22 item 6): the test rows of all its runs pooled in the ECE's equal-width bins of
    the top-class confidence (``training.metrics.reliability``, recorded by each run
    that was calibrated), before (``form`` "raw") and after ("calibrated") calibration.

    Returns a DataFrame (``RELIABILITY_COLUMNS``): one row per bin with rows in it:
    its edges ``lower``/``upper``, ``count`` (test rows of every run), the mean
    ``confidence`` and ``accuracy`` (share of top-class predictions that are right) of
    those rows, ``runs`` pooled, and ``ece`` of the pooled rows (the same for every bin
    of one form), then the condition's setting columns (``SETTING_COLUMNS``). Empty when
    no run recorded the bins (no calibration asked)."""
    rows, comps = [], comparisons(results, runs)
    for comp in comps:
        for run in comp.runs.to_dict("records"):
            bins = _decoded_of(run).get("reliability") or {}
            for form, b in bins.items():
                rows += [{"experiment": comp.key[0], "dataset": comp.key[1],
                          "condition": run["condition"], "recipe": run["recipe"],
                          "form": form, "bin": k, "n": n, "conf": c, "right": r}
                         for k, (n, c, r) in enumerate(zip(b["count"], b["confidence"],
                                                           b["correct"]))]
    if not rows:
        return pd.DataFrame(columns=RELIABILITY_COLUMNS)
    df = pd.DataFrame(rows)
    keys = ["experiment", "dataset", "condition", "recipe", "form"]
    width = 1.0 / (df["bin"].max() + 1)
    g = df.groupby(keys + ["bin"], sort=False).agg(
        count=("n", "sum"), conf=("conf", "sum"), right=("right", "sum"),
        runs=("n", "size")).reset_index()
    total = g.groupby(keys, sort=False)["count"].transform("sum")
    gap = (g["right"] - g["conf"]).abs()
    g["ece"] = gap.groupby([g[k] for k in keys], sort=False).transform("sum") / total
    g = g[g["count"] > 0].copy()
    g["lower"], g["upper"] = g["bin"] * width, (g["bin"] + 1) * width
    g["confidence"], g["accuracy"] = g["conf"] / g["count"], g["right"] / g["count"]
    return _with_condition_settings(g[RELIABILITY_COLUMNS].reset_index(drop=True), comps)


THRESHOLD_COLUMNS = ["experiment", "dataset", "condition", "recipe", "form", "metric",
                     "label", "cut", "mean", "lower", "upper", "runs", "chosen",
                     "chosen_low", "chosen_high", "chosen_score"]


def threshold_curves(results, runs=None):
    """The threshold curve of each thresholded recipe, per comparison and condition
    (#22 item 6): the tuned metric on the validation rows at each fixed cut-off
    (``decisions.thresholds.threshold_curve``, recorded by each run), mean and 2.5-97.5
    percentiles over the runs (``CURVE_BAND``), per decoded ``form`` ("thresholded":
    raw outputs; "calibrated+thresholded") and ``label`` (0 for a binary recipe).
    ``chosen``: the mean over runs of the cut-off each tuned (``chosen_low`` /
    ``chosen_high``: the lowest and highest), ``chosen_score`` the mean validation value
    at it. A cost metric is named ``cost``. Then the condition's setting columns
    (``SETTING_COLUMNS``). Empty when no run recorded a curve."""
    rows, comps = [], comparisons(results, runs)
    for comp in comps:
        for run in comp.runs.to_dict("records"):
            decoded = _decoded_of(run)
            for form, curve in (decoded.get("threshold_curve") or {}).items():
                tuned = (decoded.get("threshold") or {}).get(form) or {}
                metric = tuned.get("metric")
                chosen, score = (_per_label(tuned.get(k)) for k in ("threshold", "score"))
                for label, values in enumerate(curve["value"]):
                    rows += [{"experiment": comp.key[0], "dataset": comp.key[1],
                              "condition": run["condition"], "recipe": run["recipe"],
                              "form": form, "label": label,
                              "metric": metric if isinstance(metric, str) else "cost",
                              "run": run["run"], "cut": c, "value": v,
                              "picked": chosen[label] if label < len(chosen) else np.nan,
                              "picked_score": score[label] if label < len(score) else np.nan}
                             for c, v in zip(curve["cut"], values)]
    if not rows:
        return pd.DataFrame(columns=THRESHOLD_COLUMNS)
    df = pd.DataFrame(rows)
    keys = ["experiment", "dataset", "condition", "recipe", "form", "metric", "label"]
    out = df.groupby(keys + ["cut"], sort=False)["value"].agg(
        mean="mean", lower=lambda v: np.percentile(v, 2.5),
        upper=lambda v: np.percentile(v, 97.5), runs="size").reset_index()
    picks = df.drop_duplicates(keys + ["run"]).groupby(keys, sort=False).agg(
        chosen=("picked", "mean"), chosen_low=("picked", "min"),
        chosen_high=("picked", "max"), chosen_score=("picked_score", "mean")).reset_index()
    return _with_condition_settings(out.merge(picks, on=keys)[THRESHOLD_COLUMNS], comps)


def _with_condition_settings(df, comps):
    """``df`` (rows of ``comps``, with ``experiment, dataset, condition``) with each
    condition's setting columns (``SETTING_COLUMNS``, as ``effects`` carries them), so
    the figures name conditions by the settings that vary (``words.short_conditions``)."""
    settings = pd.concat([c.settings().assign(experiment=c.key[0], dataset=c.key[1])
                          for c in comps], ignore_index=True)
    return df.merge(settings, on=["experiment", "dataset", "condition"], how="left")


def _decoded_of(run):
    """A run's recorded decoding (its config's ``"decoded"``), ``{}`` when none."""
    config = run.get("config")
    decoded = config.get("decoded") if isinstance(config, dict) else None
    return decoded if isinstance(decoded, dict) else {}


def _per_label(value):
    """A threshold or score as a list per label (a number is one label's)."""
    if value is None:
        return []
    return [float(v) for v in value] if isinstance(value, list) else [float(value)]


TUNING_COLUMNS = [
    "experiment", "dataset", "condition", *SETTING_COLUMNS, "recipe", "role", "metric",
    "higher_is_better", "n", "n_runs", "n_diverged", "n_failed", "mean", "std", "ci_low",
    "ci_high", "min", "max", "chosen", "chosen_by"]


def tuning(results, runs=None, *, n_boot=N_BOOT):
    """Each tuned comparison's learning-rate sensitivity, from its tuning runs.

    A tuned experiment ``name`` trains its tuning runs as experiment ``name
    (tuning)`` (``TUNING``): every recipe and condition at each learning rate of
    the tuning grid, on tuning seeds. This is their final validation value of
    the comparison's primary metric per recipe, condition and learning rate,
    scored as everywhere else (a diverged or failed run counts as the trivial
    baseline of its seed).

    Returns
    -------
    DataFrame
        One row per tuned comparison x condition x recipe x learning rate
        (``TUNING_COLUMNS``). ``experiment`` is the tuned experiment (without
        the suffix) and ``condition`` its condition (``_tuned_conditions``: the
        learning rate reads ``lr=tuned``), so the rows join the tuned comparison's
        own tables; the setting columns (``SETTING_COLUMNS``) are the condition's,
        with ``tuned`` naming the learning rate and ``learning_rate`` the row's.
        ``n``: tuning seeds scored, of ``n_runs``; ``mean``, ``std`` (sample)
        and ``min``/``max`` over them; ``ci_low``/``ci_high``: the 95% bootstrap
        CI of the mean. ``chosen``: the rate the final runs trained with
        (``chosen_by`` 'final runs'); without final runs, the rate the tuning
        rule picks (``chosen_by`` 'tuning rule': the best mean over the tuning
        seeds, a rate with a diverged or failed run never, ties to the smaller).
    """
    comps = comparisons(results, runs)
    finals = {c.key: c for c in comps}
    parts = [_tuning_of(c, finals.get((c.key[0][:-len(TUNING)], c.key[1])))
             for c in comps if str(c.key[0]).endswith(TUNING)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=TUNING_COLUMNS)
    t = pd.concat(parts, ignore_index=True)
    samples = t.pop("values").tolist()
    t["ci_low"], t["ci_high"] = _bootstrap_cis(samples, n_boot)
    return t[TUNING_COLUMNS]


def _tuned_conditions(comp, final):
    """``{condition of the tuning runs: (condition of the tuned comparison, its settings)}``.
    A tuning condition (one learning rate) is the tuned comparison's condition of the same
    other settings and trainer: its label where the final runs (``final``) have such a
    condition, else the label ``training.settings.condition`` gives those settings with
    the rate tuned; settings as ``SETTING_COLUMNS``, the learning rate NaN and tuned."""
    others = [c for c in SETTING_COLUMNS if c not in (TUNED_SETTING, "tuned")]
    key = lambda row: tuple(None if _is_missing(row[c]) else row[c] for c in others)  # noqa: E731
    known = {}
    for row in (final.settings().to_dict("records") if final is not None else ()):
        known.setdefault(key(row), row["condition"])
    out, rates = {}, {}
    for row in comp.settings().to_dict("records"):
        settings = {c: row[c] for c in SETTING_COLUMNS} | {TUNED_SETTING: np.nan,
                                                            "tuned": TUNED_SETTING}
        label = known.get(key(row)) or _tuned_label(row)
        rate = None if _is_missing(row[TUNED_SETTING]) else row[TUNED_SETTING]
        if (label, rate) in rates:
            raise ValueError(_untold(comp, rates[label, rate], row["condition"]))
        rates[label, rate] = row["condition"]
        out[row["condition"]] = (label, settings)
    return out


def _untold(comp, first, second):
    """The message when two tuning conditions have the same known settings and rate."""
    return (f"Expected each condition of the tuning runs of {comp.label} to say its settings "
            f"(the runs' configs, or the results' columns {list(SETTINGS)}), so that its "
            f"learning rate joins the tuned comparison's condition. Received: the "
            f"conditions {first!r} and {second!r}, whose known settings and learning rate "
            f"are the same; pass runs=Store(folder).runs(), or the frame "
            f"recipes.load_results returns (it has the setting columns).")


def _tuned_label(row):
    """The condition label of a tuned comparison whose other settings are ``row``'s
    (``_label_of`` with the learning rate tuned); ``row["condition"]`` itself when the
    row knows no setting (a hand-made table)."""
    return _label_of(row, TUNED_SETTING) or row["condition"]


def _label_of(row, tuned=None):
    """The condition label ``training.settings.condition`` gives the settings of ``row``
    (a mapping of ``SETTINGS`` and ``trainer``), the setting ``tuned`` reading ``tuned``;
    None when the row knows no setting."""
    config = {c: from_tidy(c, row[c]) for c in SETTINGS if not _is_missing(row.get(c))}
    config = {c: v for c, v in config.items() if v is not None}
    if not config:
        return None
    trainer = "" if _is_missing(row.get("trainer")) else row["trainer"]
    tune = {"tune": {"setting": tuned}} if tuned else {}
    return condition_of(config | tune, trainer)["condition"]


def _learning_rates(comp):
    """``{run: learning rate}`` of a comparison's runs: from their configs, else from the
    results' ``learning_rate`` column."""
    rates = {}
    if "learning_rate" in comp.res.columns:
        rates.update(comp.res.drop_duplicates("run").set_index("run")["learning_rate"].dropna())
    for run, config in zip(comp.runs["run"], comp.runs["config"]):
        if isinstance(config, dict) and TUNED_SETTING in config:
            rates[run] = config[TUNED_SETTING]
    return {run: float(v) for run, v in rates.items()}


def _tuning_of(comp, final):
    """The sensitivity rows of one tuning comparison (with each row's seed ``values``)."""
    metric = comp.primary
    s = comp.scores("val")
    s = s[s["metric"] == metric]
    tuned = _tuned_conditions(comp, final)
    s = s.assign(learning_rate=s["run"].map(_learning_rates(comp)),
                 condition=s["condition"].map(lambda c: tuned[c][0]))
    settings = {label: values for label, values in tuned.values()}
    s = s[np.isfinite(s["learning_rate"].to_numpy(float))]
    rows = []
    for (cond, recipe, lr), g in s.groupby(["condition", "recipe", "learning_rate"], sort=True):
        v = g["value"].to_numpy(float)
        v = v[np.isfinite(v)]
        rows.append({
            "experiment": comp.key[0][:-len(TUNING)], "dataset": comp.key[1],
            "condition": cond, **settings[cond], "recipe": recipe, "role": comp.roles.get(recipe),
            "metric": metric, "higher_is_better": is_higher_better(metric),
            "learning_rate": lr, "n": len(v), "n_runs": len(g),
            "n_diverged": int((g["status"] == "diverged").sum()),
            "n_failed": int((g["status"] == "failed").sum()),
            "mean": float(v.mean()) if len(v) else np.nan,
            "std": float(v.std(ddof=1)) if len(v) > 1 else np.nan,
            "min": float(v.min()) if len(v) else np.nan,
            "max": float(v.max()) if len(v) else np.nan, "values": v})
    t = pd.DataFrame(rows)
    if not len(t):
        return t
    t["recipe_rank"] = t["recipe"].map({r: i for i, r in enumerate(comp.recipes)})
    t = t.sort_values(["condition", "recipe_rank", "learning_rate"], kind="stable")
    used = _rates_used(final) if final is not None else {}
    t["chosen_by"] = ["final runs" if (c, r) in used else "tuning rule"
                      for c, r in zip(t["condition"], t["recipe"])]
    t["chosen"] = False
    for (cond, recipe), g in t.groupby(["condition", "recipe"], sort=False):
        lr = used.get((cond, recipe), _tuning_rule(g))
        t.loc[g.index, "chosen"] = np.isclose(g["learning_rate"], lr, rtol=1e-9, atol=0)
    return t.drop(columns="recipe_rank").reset_index(drop=True)


def _rates_used(final):
    """``{(condition, recipe): learning rate}`` the final runs of a tuned comparison used
    (the most common one, should runs disagree)."""
    rates = _learning_rates(final)
    runs = pd.concat([final.runs[["run", "condition", "recipe"]],
                      final.res[["run", "condition", "recipe"]]]).drop_duplicates("run")
    runs = runs.assign(lr=runs["run"].map(rates)).dropna(subset=["lr"])
    return {k: float(g.mode().iloc[0]) for k, g in runs.groupby(["condition", "recipe"])["lr"]}


def _tuning_rule(rows):
    """The learning rate the tuner picks among one recipe's rows: best mean, never one
    with a diverged or failed run, the smaller on ties (``recipes.results.runner``)."""
    sign = 1.0 if rows["higher_is_better"].iloc[0] else -1.0
    bad = (rows["n_diverged"] + rows["n_failed"]) > 0
    score = (sign * rows["mean"]).where(~bad & np.isfinite(rows["mean"]), -np.inf)
    best = rows[score == score.max()]
    return float(best["learning_rate"].min())
