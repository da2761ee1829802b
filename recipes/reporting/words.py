"""The words of the report: tables as text and verdict sentences.

``recipe_to_use`` (per problem type, the recipe to use, why and where it
does not hold) opens the report, then ``claim_cells`` (each claim's effect
under each condition, drawn by ``figures.plot_claims``), ``claims_table``
and ``problem_table`` (per comparison, the recipe to use);
``summary_table`` and ``effects_table`` turn the statistics into display
tables (strings, numbers formatted alike); ``verdict`` says in plain
sentences what the numbers show. Every outcome is read from
``recipes.reporting.stats.effects``; nothing here decides one. No plotting.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..catalog.infer import PROBLEMS
from ..messages import plural, support
from ..training.metrics import ECE_BINS
from ..training.settings import SHORT, backbone_name
from .formatting import (PERCENT_METRICS, diff_unit, effect_parts, fmt_effect, fmt_epochs,
                         fmt_group, fmt_value, unit)
from .stats import (ALPHA, CURVE_BAND, FLIP, MARGINS, MAY_BE_NEGLIGIBLE, MIN_PAIRS, N_BOOT,
                    NOISE_RTOL, OUTCOME_RULES, SETTING_COLUMNS, SETTINGS, TUNING, Contrast,
                    comparisons, contrast_rows, effects, is_higher_better, label_of,
                    margin_of, select, summary)

__all__ = ["summary_table", "effects_table", "claims_table", "problem_table", "margins_table",
           "recipe_to_use", "where_text", "claim_cells", "claim_columns", "condition_tokens",
           "shared_settings", "architecture",
           "outcome_rules_table", "tuning_table", "tuning_sentences", "verdict",
           "short_conditions", "CLAIMS", "CONTRAST_CLAIMS", "CONTRASTS",
           "FAIRNESS_NOTE", "METHODS_NOTE", "TUNING"]

FAIRNESS_NOTE = (
    "Recipes are compared only on the common metrics of their problem, computed the same "
    "way for every recipe on held-out data (the test split of a tuned comparison, which "
    "tuning never saw; otherwise the validation split). Each recipe's own loss is recorded "
    "but never compared: values of different losses are not comparable."
)

METHODS_NOTE = (
    f"Each seed trains on its own train/validation split, so the spread across seeds "
    f"includes data variation as well as initialization. Runs with different settings are "
    f"different conditions and are never pooled. Final value: a run's value at its last "
    f"epoch. A run that diverged or failed is scored as the trivial baseline of its seed "
    f"(majority class; mean predictor, or median for MAE, learned from that seed's train "
    f"split): it counts against its recipe and is never dropped or scored from NaN outputs. "
    f"Mean ± std over seeds (sample std). Effects: recipe minus the recommended recipe on "
    f"the same seeds within one condition; 95% percentile bootstrap CI of the mean "
    f"difference ({N_BOOT} resamples, seeded from the values, so equal numbers give equal "
    f"intervals); seeds won / lost / tied (values equal up to a relative {NOISE_RTOL:g} "
    f"are ties: float noise is never a win); exact two-sided sign-flip p (with n differing "
    f"seeds the smallest possible p is 2/2ⁿ). Outcome: inconclusive with fewer than "
    f"{MIN_PAIRS} paired seeds, else the first rule of the outcome table below that the CI "
    f"and p meet (p ≤ {ALPHA}): \"better\" and \"worse\" only when the whole CI lies "
    f"beyond the metric's margin of practical equivalence, a difference that matters; a "
    f"detectable difference whose CI reaches inside the margin is \"detectably\" better "
    f"or worse, and may be negligible. Differences are in each metric's unit (pp: "
    f"percentage points), their digits matched to the width of their CI. An automatic goal "
    f"(95% of the best recipe's final validation mean) that the trivial baseline already "
    f"meets is no goal. Curves show the mean and the {CURVE_BAND}. "
    f"ECE: expected calibration error over {ECE_BINS} equal-width bins of the top-class "
    f"confidence, the bins' mean |accuracy - confidence| weighted by their share of rows "
    f"(Guo et al., 2017)."
)

# The words that open every claim about rare positives (the imbalanced experiment's), the
# ones ``recipes show binary`` states (``advice.claims``).
RARE_POSITIVES = "rare positives"
# Claims of the source notes the experiments test: the recipe compared with the
# reference recipe, on which metric, what the claim expects, and short names of the two.
CLAIMS = (
    ("C1", "sigmoid output: cross-entropy beats MSE", "binary_sigmoid_mse",
     "binary_sigmoid_bce", "accuracy", "worse", ("MSE", "cross-entropy")),
    ("C2", "softmax output: cross-entropy beats MSE", "multiclass_softmax_mse",
     "multiclass_softmax_cce", "accuracy", "worse", ("MSE", "cross-entropy")),
    ("C4", "one-hot classes beat a class index regressed as a number",
     "multiclass_index_regression", "multiclass_softmax_cce", "accuracy", "worse",
     ("index", "one-hot")),
    ("C5", "a 2-unit softmax matches one sigmoid unit", "binary_softmax2_cce",
     "binary_sigmoid_bce", "accuracy", "equivalent", ("softmax", "sigmoid")),
    ("C7", "a linear output + MSE leaves 0..1", "binary_linear_mse", "binary_sigmoid_bce",
     "out_of_range", "worse", ("linear", "sigmoid")),
    ("C7", "a linear output + MSE leaves 0..1", "multiclass_linear_mse",
     "multiclass_softmax_cce", "out_of_range", "worse", ("linear", "softmax")),
    ("C9", "the logits form equals the fused activation", "binary_logits_bce",
     "binary_sigmoid_bce", "accuracy", "equivalent", ("logits", "sigmoid")),
    ("C9", "the logits form equals the fused activation", "multiclass_logits_cce",
     "multiclass_softmax_cce", "accuracy", "equivalent", ("logits", "softmax")),
    # rare positives (#22 item 5, experiment imbalanced)
    ("C13", f"{RARE_POSITIVES}: focal loss is less calibrated than cross-entropy",
     "binary_sigmoid_focal", "binary_sigmoid_bce", "ece", "worse", ("focal", "cross-entropy")),
)
# Claims across conditions (#22 item 5, experiment imbalanced): a recipe under some
# settings against a reference under others, on the same seeds (``stats.contrasts``):
# (id, text, contrast, the outcome the claim expects, short names of the two cells).
_BCE, _TUNED = "binary_sigmoid_bce", "binary_sigmoid_bce (calibrated+thresholded)"
_BALANCED, _UNWEIGHTED = {"class_weight": "balanced"}, {"class_weight": "none"}
_WEIGHTS_BUY = f"{RARE_POSITIVES}: balanced class weights buy F1 and balanced accuracy"
_WEIGHTS_COST = f"{RARE_POSITIVES}: balanced class weights cost calibration"
_TUNED_MATCHES = (f"{RARE_POSITIVES}: a threshold tuned on the calibrated unweighted model "
                  f"gets the weighted model's F1 with calibrated probabilities")
CONTRAST_CLAIMS = tuple(
    (cid, text, Contrast(cid, metric, recipe, reference, settings, reference_settings),
     expect, names)
    for cid, text, metric, expect, (recipe, settings), (reference, reference_settings), names
    in (
        ("C10", _WEIGHTS_BUY, "f1", "better", (_BCE, _BALANCED), (_BCE, _UNWEIGHTED),
         ("balanced", "unweighted")),
        ("C10", _WEIGHTS_BUY, "balanced_accuracy", "better", (_BCE, _BALANCED),
         (_BCE, _UNWEIGHTED), ("balanced", "unweighted")),
        ("C11", _WEIGHTS_COST, "ece", "worse", (_BCE, _BALANCED), (_BCE, _UNWEIGHTED),
         ("balanced", "unweighted")),
        ("C11", _WEIGHTS_COST, "log_loss", "worse", (_BCE, _BALANCED), (_BCE, _UNWEIGHTED),
         ("balanced", "unweighted")),
        ("C12", _TUNED_MATCHES, "f1", "equivalent", (_TUNED, _UNWEIGHTED), (_BCE, _BALANCED),
         ("unweighted calibrated+threshold", "balanced")),
        ("C12", _TUNED_MATCHES, "ece", "better", (_TUNED, _UNWEIGHTED), (_BCE, _BALANCED),
         ("unweighted calibrated+threshold", "balanced")),
    ))
# what ``stats.contrasts`` computes for them
CONTRASTS = tuple(contrast for _, _, contrast, _, _ in CONTRAST_CLAIMS)
# The outcomes in the order a sentence names them: differences that matter first.
PHRASE_ORDER = ("better", "worse", "detectably better", "detectably worse", "equivalent",
                "inconclusive")
# Settings shown first in a condition's short label, before the others in field order.
SHOWN_FIRST = ("optimizer",)
# Shown when no setting varies among a comparison's conditions.
WHEN_NONE_VARIES = ("optimizer", "learning_rate")
# The order a condition's settings are named in: SHOWN_FIRST, the other settings in field
# order, then the trainer.
TOKEN_ORDER = (*SHOWN_FIRST, *(n for n in SETTINGS if n not in SHOWN_FIRST), "trainer")


def _tuned_names(tuned):
    """The settings a ``tuned`` column value names (``"learning_rate"``; several are
    joined by ``", "``), as a set."""
    return set(tuned.split(", ")) - {""} if isinstance(tuned, str) else set()


def _setting_token(name, value, tuned):
    """One setting of a condition as its short label writes it (``sgd``, ``lr=0.01``,
    ``lr=tuned``, ``| stacked``), or None when the value is unknown."""
    if name == "trainer":
        return f"| {value}" if isinstance(value, str) and value else None
    if name in tuned:
        text = "tuned"
    elif _is_missing(value):
        return None
    else:
        text = f"{value:g}" if isinstance(value, float) else str(value)
    return text if name in SHOWN_FIRST and text != "tuned" else f"{SHORT.get(name, name)}={text}"


def condition_tokens(conditions):
    """``{condition: {setting: token}}``: every setting of each condition as its short
    label writes it (``_setting_token``: ``sgd``, ``lr=0.01``, ``| stacked``; None when
    unknown), in the order short labels name them, read from the setting columns.
    ``conditions``: a frame with a ``condition`` column and the setting columns."""
    rows = conditions.drop_duplicates("condition").to_dict("records")
    return {r["condition"]: {n: _setting_token(n, r.get(n), _tuned_names(r.get("tuned")))
                             for n in TOKEN_ORDER} for r in rows}


def varying_settings(tokens):
    """The settings whose token differs between the conditions of ``tokens``
    (``condition_tokens``), in ``TOKEN_ORDER``."""
    return [n for n in TOKEN_ORDER if len({t[n] for t in tokens.values()}) > 1]


def claim_columns(conditions):
    """``{condition: {setting: token}}`` of only the settings that vary among
    ``conditions`` (``condition_tokens``, ``varying_settings``): what names the claims
    figure's columns (``figures.plot_claims``); the others are ``shared_settings``."""
    tokens = condition_tokens(conditions)
    vary = varying_settings(tokens)
    return {c: {n: t[n] for n in vary} for c, t in tokens.items()}


def shared_settings(conditions):
    """The settings every condition of ``conditions`` shares, as one text (``'epochs=20
    batch=32 hidden=32 | stacked'``; "" when none is known): said once, where the
    conditions are named by the settings that vary."""
    tokens = condition_tokens(conditions)
    vary = set(varying_settings(tokens))
    first = next(iter(tokens.values()), {})
    return " ".join(first[n] for n in TOKEN_ORDER if n not in vary and first.get(n))


def short_conditions(conditions):
    """``{condition: short label}``: each condition named by the settings that vary among
    ``conditions`` only (the optimizer and learning rate when none does), read from the
    setting columns (``stats.SETTING_COLUMNS``), never from the labels.

    ``conditions``: a frame with a ``condition`` column and the setting columns (what
    ``stats.effects``, ``summary`` and ``tuning`` return, or a comparison's
    ``settings()``), or a sequence of labels. A condition whose settings are unknown (a
    hand-made table, a label alone) keeps its label (``""``: the unnamed condition), as
    do conditions whose short labels would be the same.

    >>> short_conditions(pd.DataFrame({"condition": ["c1", "c2"], "epochs": [5, 5],
    ...     "optimizer": ["adam", "sgd"], "learning_rate": [0.001, 0.1]}))
    {'c1': 'adam lr=0.001', 'c2': 'sgd lr=0.1'}
    >>> short_conditions(pd.DataFrame({"condition": ["tf", "jax"], "optimizer": "sgd",
    ...     "backend": ["tensorflow", "jax"], "learning_rate": [0.1, float("nan")],
    ...     "tuned": ["", "learning_rate"]}))
    {'tf': 'lr=0.1 backend=tensorflow', 'jax': 'lr=tuned backend=jax'}
    >>> short_conditions(["sgd", "adam"])
    {'sgd': 'sgd', 'adam': 'adam'}
    """
    if not isinstance(conditions, pd.DataFrame):
        conditions = pd.DataFrame({"condition": list(conditions)})
    tokens = condition_tokens(conditions)
    named = {c: t for c, t in tokens.items() if any(t[n] for n in SETTINGS)}
    vary = varying_settings(named) or list(WHEN_NONE_VARIES)
    out = {c: " ".join(t[n] for n in vary if t[n]) if c in named else c
           for c, t in tokens.items()}
    seen = pd.Series(list(out.values())).value_counts()
    return {c: label if seen[label] == 1 else c for c, label in out.items()}


def _pp(x, metric, signed=False):
    """A number of ``metric``'s scale as text with the unit of a difference: '1.0 pp'."""
    v = fmt_group([x], metric)[0]
    sign = "+" if signed and x > 0 else ""
    return f"{sign}{v} {diff_unit(metric)}".rstrip()


def _range(values, metric):
    """'12-70 pp' (magnitudes) or '12 pp' for one value, always with the unit."""
    mags = sorted({abs(v) for v in values})
    lo, hi = fmt_group([mags[0], mags[-1]], metric)
    text = lo if lo == hi else f"{lo}-{hi}"
    return f"{text} {diff_unit(metric)}".rstrip()


def _conditions_text(conds, short):
    named = [short.get(c, c) for c in conds]
    if not any(named):
        return ""
    return ", ".join(n or "default" for n in named)


def _outcome_phrase(rows, short, flip=False):
    """'better under sgd lr=0.01, sgd lr=0.1 (by 2-3 pp); detectably better under sgd
    lr=1 (by 0.8 pp, may be negligible); equivalent under adam lr=0.001'."""
    parts = []
    for word in PHRASE_ORDER:
        g = rows[rows["outcome"].map(FLIP if flip else (lambda o: o)) == word]
        if not len(g):
            continue
        where = _conditions_text(g["condition"], short)
        text = word + (f" under {where}" if where else "")
        if word in ("better", "worse"):
            text += f" (by {_range(g['difference'], g['metric'].iloc[0])})"
        elif word in MAY_BE_NEGLIGIBLE:
            text += f" (by {_range(g['difference'], g['metric'].iloc[0])}, may be negligible)"
        parts.append(text)
    return "; ".join(parts) if parts else "not compared"


def _holds(g, expect):
    """'partly supported: 1 of 3 conditions' (``messages.support``: all, some or none of
    them show the expected outcome), and how many more showed the expected direction only
    detectably (their CI reaching inside the margin)."""
    k = int((g["outcome"] == expect).sum())
    text = f"{support(k, len(g))}: {k} of {plural(len(g), 'condition')}"
    near = (g["outcome"] == f"detectably {expect}").sum()
    return text + (f" (and {near} detectably, may be negligible)" if near else "")


# The name the claims table gives the default MLP (``hidden=``), whose ``backbone`` column
# reads ``backbone_name(None)``; any other backbone is named as its column says.
MLP = "MLP"


def architecture(backbone):
    """The architecture a run's ``backbone`` column names, as the claims table shows it:
    ``MLP`` for the default MLP (``backbone_name(None)``) or an unknown value (a
    hand-made table without the column), else the backbone's own name.

    >>> architecture("mlp"), architecture("cnn"), architecture(float("nan"))
    ('MLP', 'cnn', 'MLP')
    """
    return MLP if _is_missing(backbone) or backbone == backbone_name(None) else str(backbone)


def _by_architecture(e):
    """``e`` with an ``architecture`` column read from its ``backbone`` column."""
    column = e["backbone"] if "backbone" in e.columns else pd.Series(np.nan, index=e.index)
    return e.assign(architecture=column.map(architecture))


CLAIM_COLUMNS = ["claim", "data", "architecture", "metric", "outcome", "holds"]


def claims_table(effects_df, contrasts_df=None):
    """Each claim (``CLAIMS``) with its outcome under each condition, per comparison and
    architecture (``architecture``: the default MLP, or a backbone by name, from the
    ``backbone`` column of ``effects``, so a claim on a CNN is a row of its own), read
    from ``effects``; then each claim across conditions (``CONTRAST_CLAIMS``) read from
    ``contrasts_df`` (``stats.contrasts(..., specs=CONTRASTS)``; None: none). Tuning runs
    are left out (the tuned comparison is the result). A claim holds where the outcome is
    the one it expects; a difference only detectable (its CI reaching inside the margin)
    is counted apart; the ``holds`` column says "supported", "partly supported" or "not
    supported" (``messages.support``). When no claim's recipes were run, every recipe against the
    recommended one on the primary metric instead.

    Returns a DataFrame with the columns ``CLAIM_COLUMNS``."""
    e = _by_architecture(_without_tuning(effects_df))
    rows = []
    for cid, text, recipe, ref, metric, expect, (a, b) in CLAIMS:
        hit = e[(e["recipe"] == recipe) & (e["reference"] == ref) & (e["metric"] == metric)]
        for (exp, ds, arch), g in hit.groupby(["experiment", "dataset", "architecture"],
                                              sort=False):
            short = short_conditions(g)
            rows.append({"claim": f"{cid}: {text}", "data": label_of((exp, ds)),
                         "architecture": arch, "metric": metric,
                         "outcome": f"{b} vs {a}: " + _outcome_phrase(g, short, flip=True),
                         "holds": _holds(g, expect)})
    rows += _contrast_claims(contrasts_df)
    if not rows:
        for (exp, ds, arch, recipe, ref), g in e[e["primary"].astype(bool)].groupby(
                ["experiment", "dataset", "architecture", "recipe", "reference"], sort=False):
            short = short_conditions(g)
            rows.append({"claim": f"{recipe} vs {ref}", "data": label_of((exp, ds)),
                         "architecture": arch, "metric": g["metric"].iloc[0],
                         "outcome": _outcome_phrase(g, short), "holds": "-"})
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


# --- the first screen: the recipe to use per problem type, and why --------------------

# Alternatives named in a "why" cell (the largest losses first) or in a "where it does not
# hold" cell; the others are counted.
MAX_WHY = 3
# Terms (a setting's value, or two together) a set of conditions is named by before it
# is only counted ("4 of 18 conditions").
MAX_TERMS = 3
LOSES = ("worse", "detectably worse")
WINS = ("better", "detectably better")


def _universe(rows):
    """``{(experiment, dataset, condition): {column: token}}`` of effect ``rows``: each
    condition of each comparison by its data and its settings' tokens."""
    out = {}
    for key, g in rows.groupby(["experiment", "dataset"], sort=False):
        data = label_of(key)
        for cond, tokens in condition_tokens(g).items():
            out[(*key, cond)] = {"data": data, **tokens}
    return out


def where_text(subset, universe):
    """The conditions ``subset`` (keys of ``universe``, ``_universe``) named by the
    settings (and data) that pick exactly them out of ``universe``: ``'under sgd'``,
    ``'under adam scale=30, sgd lr=0.01'``; ``'in every condition'`` for all of them;
    counted (``'in 4 of 18 conditions'``) where more than ``MAX_TERMS`` terms of one or
    two settings would be needed.

    >>> u = {i: {"data": "d", "optimizer": o, "learning_rate": lr} for i, (o, lr) in
    ...      enumerate([("adam", "lr=0.001"), ("sgd", "lr=0.01"), ("sgd", "lr=0.1")])}
    >>> where_text({1, 2}, u), where_text({0, 1, 2}, u), where_text({1}, u)
    ('under sgd', 'in every condition', 'under lr=0.01')
    """
    subset = set(subset)
    if subset >= set(universe):
        return "in every condition"
    columns = [c for c in ["data", *TOKEN_ORDER]
               if len({str(t.get(c)) for t in universe.values()}) > 1]
    values = {c: list(dict.fromkeys(t.get(c) for t in universe.values())) for c in columns}
    single = [((c, v),) for c in columns for v in values[c] if v]
    terms = single + [a + b for i, a in enumerate(single) for b in single[i + 1:]
                      if a[0][0] != b[0][0]]
    picks, left = [], set(subset)
    while left and len(picks) < MAX_TERMS:
        best = None
        for term in terms:
            hit = {k for k, t in universe.items() if all(t.get(c) == v for c, v in term)}
            if hit and hit <= subset and (best is None or len(hit & left) > best[0]):
                best = (len(hit & left), term, hit)
        if best is None or not best[0]:
            break
        picks.append(best[1])
        left -= best[2]
    if left:
        return f"in {len(subset)} of {plural(len(universe), 'condition')}"
    return "under " + ", ".join(" ".join(v for _, v in term) for term in picks)


def _alias(recipe, reference):
    """``recipe`` without the problem word it shares with ``reference``
    (``multiclass_softmax_mse`` -> ``softmax_mse``)."""
    word = str(reference).split("_", 1)[0] + "_"
    return recipe[len(word):] if str(recipe).startswith(word) else str(recipe)


def _problem_of(comp):
    return ", ".join(sorted({str(p) for p in comp.runs["problem"].dropna()})) or str(
        comp.target)


def _why(primary, use, universe):
    """The measured reason to use ``use``: the alternatives that lose to it on the
    primary metric, the largest losses first, by how much and where."""
    lose = primary[primary["outcome"].isin(LOSES)]
    if not len(lose):
        few = primary["p_min"].dropna()
        if len(few) and (few > ALPHA).all():
            return (f"no alternative loses clearly: too few seeds (the smallest p they "
                    f"allow is {few.min():.2g} > {ALPHA})")
        return "no alternative loses to it in any condition"
    parts = []
    order = lose.assign(size=lose["difference"].abs()).groupby("recipe", sort=False)[
        "size"].max().sort_values(ascending=False).index
    for recipe in order[:MAX_WHY]:
        g = lose[lose["recipe"] == recipe]
        mine = primary[primary["recipe"] == recipe]
        where = where_text(set(_keys(g)), {k: universe[k] for k in _keys(mine)})
        parts.append(f"{_alias(recipe, use)} by {_range(g['difference'], g['metric'].iloc[0])}"
                     f" {where}")
    more = len(order) - MAX_WHY
    return (f"{lose['metric'].iloc[0]}: " + "; ".join(parts).replace(" by ", " loses by ", 1)
            + (f"; {more} more lose less" if more > 0 else ""))


def _keys(rows):
    return list(zip(rows["experiment"], rows["dataset"], rows["condition"]))


def _not_holding(primary, use, universe, caveats):
    """Where ``use`` is not the one to use: the alternatives better than it (where, by how
    much), where the losers stop losing, and ``caveats`` (the trivial baseline)."""
    parts = list(caveats)
    wins = primary[primary["outcome"].isin(WINS)]
    for recipe, g in wins.groupby("recipe", sort=False):
        mine = primary[primary["recipe"] == recipe]
        metric = g["metric"].iloc[0]
        parts.append(f"{_alias(recipe, use)} better by {_range(g['difference'], metric)} "
                     + where_text(set(_keys(g)), {k: universe[k] for k in _keys(mine)}))
    losers = primary[primary["outcome"].isin(LOSES)]["recipe"].unique()
    for recipe in losers:
        mine = primary[primary["recipe"] == recipe]
        level = mine[~mine["outcome"].isin(LOSES + WINS)]
        if len(level):
            parts.append(f"{_alias(recipe, use)} as good "
                         + where_text(set(_keys(level)), {k: universe[k] for k in _keys(mine)}))
    more = len(parts) - MAX_WHY
    return ("; ".join(parts[:MAX_WHY]) + (f"; {more} more" if more > 0 else "")
            or "holds in every condition run")


def recipe_to_use(comps, summary_df, effects_df):
    """The report's first table: one row per problem type (in ``PROBLEMS`` order), the
    recipe to use, the
    measured reason (which alternatives lose to it on the primary metric, by how much,
    under which conditions), where it does not hold (alternatives better somewhere, the
    conditions where the losers are as good, a trivial baseline as good), and links to
    the comparisons it is read from. Tuning runs are left out. Returns a DataFrame of
    strings (Markdown links), empty when no comparison has a recommended recipe."""
    groups = {}
    for comp in comps:
        if comp.key[0].endswith(TUNING) or not comp.recommended:
            continue
        groups.setdefault(_problem_of(comp), []).append(comp)
    rows = []
    order = sorted(groups, key=lambda p: (PROBLEMS.index(p) if p in PROBLEMS
                                          else len(PROBLEMS), p))
    for problem, group in ((p, groups[p]) for p in order):
        use = list(dict.fromkeys(c.recommended[0] for c in group))
        keys = [c.key for c in group]
        e = effects_df[pd.Series(list(zip(effects_df["experiment"], effects_df["dataset"])),
                                 index=effects_df.index).isin(keys)] if len(effects_df) \
            else effects_df
        primary = e[e["primary"].astype(bool) & e["reference"].isin(use)] if len(e) else e
        universe = _universe(primary) if len(primary) else {}
        caveats = []
        for comp in group:
            s = select(summary_df, comp.key)
            mine = s[(s["recipe"] == comp.recommended[0]) & s["primary"].astype(bool)]
            why = _caveat(mine, comp.primary)
            if why:
                caveats.append(f"{comp.label}: {why}")
        rows.append({
            "problem": problem, "recipe to use": ", ".join(use),
            "why (measured)": _why(primary, use[0], universe) if len(primary)
            else "no alternative was run",
            "where it does not hold": _not_holding(primary, use[0], universe, caveats)
            if len(primary) else "; ".join(caveats) or "-",
            "details": ", ".join(f"[{c.label}](#{_slug(c.label)})" for c in group),
        })
    return pd.DataFrame(rows, columns=["problem", "recipe to use", "why (measured)",
                                       "where it does not hold", "details"])


CELL_COLUMNS = ["claim", "experiment", "dataset", "condition", *SETTING_COLUMNS, "metric",
                "difference", "ci_low", "ci_high", "outcome", "effect"]


def claim_cells(effects_df, contrasts_df=None):
    """Each claim's effect under each condition, turned the way the claim reads (the
    reference recipe first: ``cross-entropy vs MSE``, + is the first recipe's gain), one
    row per claim, comparison and condition (``CELL_COLUMNS``): the claim as a row label
    with its metric and data, the condition and its setting columns, the outcome, and
    the effect as text with its unit (``'+18.6 pp'``). Claims are ``CLAIMS``, read from
    ``effects_df``, then ``CONTRAST_CLAIMS``, read from ``contrasts_df``
    (``stats.contrasts``; None: none), each in the column of its first cell's condition
    (``balanced vs unweighted`` under the balanced condition); when no claim's recipes
    ran, the recommended recipe against each other one on the primary metric. Tuning
    runs are left out. What ``figures.plot_claims`` draws."""
    e = _without_tuning(effects_df)
    parts = []
    for cid, _, recipe, ref, metric, _, (a, b) in CLAIMS:
        hit = e[(e["recipe"] == recipe) & (e["reference"] == ref) & (e["metric"] == metric)]
        parts.append(_flipped(hit.assign(claim=f"{cid} {b} vs {a}")))
    parts = [p for p in parts + _contrast_cells(contrasts_df) if len(p)]
    if not parts:
        prim = e[e["primary"].astype(bool)]
        parts = [_flipped(prim.assign(claim=[f"{r} vs {_alias(x, r)}" for x, r in
                                             zip(prim["recipe"], prim["reference"])]))]
    cells = pd.concat(parts, ignore_index=True)
    if not len(cells):
        return pd.DataFrame(columns=CELL_COLUMNS)
    arrow = cells["higher_is_better"].map({True: "↑", False: "↓"}).fillna("")
    cells["claim"] = (cells["claim"] + " (" + cells["metric"] + " " + arrow + "): "
                      + [label_of(k) for k in zip(cells["experiment"], cells["dataset"])])
    cells["effect"] = [effect_parts(d, lo, hi, m)[0] for d, lo, hi, m in zip(
        cells["difference"], cells["ci_low"], cells["ci_high"], cells["metric"])]
    return cells[CELL_COLUMNS].reset_index(drop=True)


def _flipped(rows):
    """Effect ``rows`` turned to read reference first: the difference, its CI and the
    outcome seen from the reference recipe."""
    return rows.assign(difference=-rows["difference"], ci_low=-rows["ci_high"],
                       ci_high=-rows["ci_low"], outcome=rows["outcome"].map(FLIP))


def _without_tuning(df):
    """``df`` (effects or contrasts) without the tuning runs' rows: the tuned comparison
    is the result."""
    return df[~df["experiment"].astype(str).str.endswith(TUNING)]


def _contrast_hits(contrasts_df):
    """Each of ``CONTRAST_CLAIMS`` with its rows of ``stats.contrasts``
    (``stats.contrast_rows``; tuning runs left out):
    ``(claim, rows)`` pairs, none when ``contrasts_df`` is None or empty."""
    if contrasts_df is None or not len(contrasts_df):
        return []
    c = _by_architecture(_without_tuning(contrasts_df))
    return [(claim, contrast_rows(c, claim[2])) for claim in CONTRAST_CLAIMS]


def _contrast_cells(contrasts_df):
    """The claims figure's cells of ``CONTRAST_CLAIMS`` from ``stats.contrasts`` (read as
    they are: the first cell against the second), a frame per claim."""
    return [hit.assign(claim=f"{cid} {a} vs {b}")
            for (cid, _, _, _, (a, b)), hit in _contrast_hits(contrasts_df)]


def _contrast_claims(contrasts_df):
    """The claims table's rows of ``CONTRAST_CLAIMS``, read from ``stats.contrasts``."""
    rows = []
    for (cid, text, contrast, expect, (a, b)), hit in _contrast_hits(contrasts_df):
        for (exp, ds, arch), g in hit.groupby(["experiment", "dataset", "architecture"],
                                              sort=False):
            rows.append({"claim": f"{cid}: {text}", "data": label_of((exp, ds)),
                         "architecture": arch, "metric": contrast.metric,
                         "outcome": f"{a} vs {b}: " + _outcome_phrase(g, short_conditions(g)),
                         "holds": _holds(g, expect)})
    return rows


def problem_table(comps, summary_df, effects_df):
    """One row per comparison: the recipe to use, its score next to the trivial
    baseline, every common metric on which the trivial baseline does better than it,
    the alternatives that beat it (if any) and a link to the details."""
    rows = []
    for comp in comps:
        if comp.key[0].endswith(TUNING):
            continue
        everything = select(summary_df, comp.key)
        e = select(effects_df, comp.key)
        s = everything[everything["primary"]] if len(everything) else everything
        use = comp.recommended[0] if comp.recommended else "-"
        mine = s[s["recipe"] == use] if len(s) else s
        prim = comp.primary
        short = short_conditions(comp.settings())
        beaten = _beaten_by(e[e["primary"].astype(bool)] if len(e) else e, short)
        bad = s[(s["n_diverged"] + s["n_failed"]) > 0] if len(s) else s
        rows.append({
            "problem": ", ".join(sorted({str(p) for p in comp.runs["problem"].dropna()}))
            or str(comp.target),
            "data": f"[{comp.label}](#{_slug(comp.label)})",
            "recipe to use": use + "".join(f" ({w})" for w in
                                           [_caveat(mine, prim), beaten and f"beaten by {beaten}"]
                                           if w),
            f"{prim}": _span(mine["mean"], prim) if len(mine) else "-",
            "trivial baseline": _span(s["baseline"], prim) if len(s) else "-",
            "trivial baseline does better on": _baseline_better(
                everything[everything["recipe"] == use] if len(everything) else everything,
                short, len(comp.conditions)) or "none",
            "diverged or failed": ", ".join(
                f"{r['recipe']} {int(r['n_diverged'] + r['n_failed'])} of {int(r['n_runs'])}"
                for _, r in bad.iterrows()) or "none",
        })
    return pd.DataFrame(rows)


def _beaten_by(primary, short):
    """The recipes better than the recommended one on the primary metric, and where:
    'r under c' where the whole CI lies beyond the margin, 'r detectably under c, may be
    negligible' where it reaches inside; "" when none."""
    parts = []
    for word, how in (("better", ""), ("detectably better", " detectably")):
        rows = primary[primary["outcome"] == word] if len(primary) else primary
        for r, g in (rows.groupby("recipe", sort=False) if len(rows) else ()):
            where = _conditions_text(g["condition"], short) or "all"
            parts.append(f"{r}{how} under {where}" + (", may be negligible" if how else ""))
    return "; ".join(parts)


def _baseline_better(mine, short, n_conditions):
    """Every metric on which the trivial baseline's mean is better than the recipe's
    (``mine``: its summary rows, every metric and condition), with both values:
    'accuracy (40.1% vs 42.1%)', and the conditions where not in all; "" when none."""
    parts = []
    for metric, g in (mine.groupby("metric", sort=False) if len(mine) else ()):
        sign = 1 if is_higher_better(metric) else -1
        gap = sign * (g["baseline"] - g["mean"])
        worse = g[(gap > NOISE_RTOL * g["baseline"].abs()).to_numpy()]
        if not len(worse):
            continue
        where = (f" under {_conditions_text(worse['condition'], short)}"
                 if len(worse) < n_conditions else "")
        shown = "" if metric in PERCENT_METRICS or not unit(metric) else f" {unit(metric)}"
        parts.append(f"{metric}{where} ({_span(worse['mean'], metric)} vs "
                     f"{_span(worse['baseline'], metric)}{shown})")
    return "; ".join(parts)


def _caveat(mine, metric):
    """Why the recommended recipe's rows (one per condition) do not back it, or "":
    every run diverged or failed, or it did no better than the trivial baseline."""
    if not len(mine):
        return "no runs"
    lost = (mine["n_diverged"] + mine["n_failed"]).sum()
    if lost == mine["n_runs"].sum():
        return f"all {int(lost)} runs diverged or failed"
    sign = 1 if is_higher_better(metric) else -1
    known = np.isfinite(mine["baseline"].to_numpy(float))
    beats = (sign * (mine["mean"] - mine["baseline"]) > 0).to_numpy()
    if known.any() and not beats[known].any():
        return "no better than the trivial baseline"
    return ""


def _span(values, metric):
    v = [x for x in values if np.isfinite(x)]
    if not v:
        return "-"
    lo, hi = min(v), max(v)
    return fmt_value(lo, metric) if np.isclose(lo, hi) else (
        f"{fmt_value(lo, metric)}-{fmt_value(hi, metric)}")


def _slug(text):
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower() or "x"


def margins_table(metrics=None):
    """The margins of practical equivalence (``MARGINS``) as a display table, each with
    the metric's unit."""
    rows = []
    for m, (size, kind) in MARGINS.items():
        if metrics is not None and m not in metrics:
            continue
        what = (f"± {_pp(size, m)}" if kind == "absolute"
                else f"± {size:.0%} of the trivial baseline's value")
        rows.append({"metric": m, "unit": unit(m), "margin: equivalent when the CI lies "
                     "within": what})
    return pd.DataFrame(rows)


def outcome_rules_table():
    """How an effect's outcome is decided (``stats.OUTCOME_RULES``), as a display table:
    the first row whose condition the effect meets, from the top."""
    rows = [{"outcome": "inconclusive", "when": f"fewer than {MIN_PAIRS} paired seeds"}]
    rows += [{"outcome": outcome, "when": when} for outcome, _, when in OUTCOME_RULES]
    return pd.DataFrame(rows)


def summary_table(summary_df, comparison=None):
    """The summary of one comparison as a display table (strings): one row per condition
    and recipe, then the trivial baseline of each condition."""
    s = select(summary_df, comparison)
    if not len(s):
        return pd.DataFrame()
    metrics = list(dict.fromkeys(s["metric"]))
    primary = s.loc[s["primary"], "metric"]
    primary = primary.iloc[0] if len(primary) else metrics[0]
    short = short_conditions(s)
    several = len(short) > 1
    # ok runs without a finite final value: shown beside the diverged and failed ones
    unscored = bool((s.loc[s["primary"].astype(bool), "n_not_finite"] > 0).any())
    lost = "diverged / failed / no value" if unscored else "diverged / failed"
    out = []
    for cond, recipes in _by_condition_and_recipe(s).items():
        for recipe, g in recipes.items():
            first = next(iter(g.values()))
            row = {"recipe": recipe, "role": first["role"]}
            if several:
                row["condition"] = short[cond]
            for m in metrics:
                r = g.get(m)
                if r is None or r["n"] == 0:
                    row[_head(m)] = "-"
                    continue
                mean, std = fmt_group([r["mean"], r["std"]], m)
                row[_head(m)] = mean if not np.isfinite(r["std"]) else f"{mean} ± {std}"
            row["seeds"] = str(int(g[primary]["n"]) if primary in g else 0)
            if first["goal_metric"] in g and g[first["goal_metric"]]["epochs_to_goal"]:
                row["epochs to goal"] = g[first["goal_metric"]]["epochs_to_goal"]
            counts = [first["n_diverged"], first["n_failed"]] + (
                [g[primary]["n_not_finite"] if primary in g else 0] if unscored else [])
            row[lost] = " / ".join(str(int(k)) for k in counts) + f" of {int(first['n_runs'])}"
            out.append(row)
        base = {}  # each metric's baseline, from the condition's first row of the metric
        for g in recipes.values():
            for m, r in g.items():
                base.setdefault(m, r["baseline"])
        if pd.notna(pd.Series(list(base.values()), dtype=float)).any():
            row = {"recipe": "trivial baseline", "role": "constant"}
            if several:
                row["condition"] = short[cond]
            row.update({_head(m): fmt_group([base.get(m, np.nan)], m)[0] for m in metrics})
            out.append(row)
    return pd.DataFrame(out).fillna("")


SUMMARY_SHOWN = ["condition", "recipe", "role", "metric", "n", "mean", "std", "baseline",
                 "goal_metric", "epochs_to_goal", "n_diverged", "n_failed", "n_not_finite",
                 "n_runs"]


def _by_condition_and_recipe(s):
    """``{condition: {recipe: {metric: row}}}`` of summary rows (plain dicts of the
    ``SUMMARY_SHOWN`` columns), each level in order of first appearance, a metric's
    first row kept: read once, as dicts, rather than indexing a frame per cell."""
    out = {}
    for r in s[SUMMARY_SHOWN].to_dict("records"):
        if _is_missing(r["condition"]) or _is_missing(r["recipe"]):
            continue  # not a group (pandas' groupby leaves them out too)
        out.setdefault(r["condition"], {}).setdefault(r["recipe"], {}).setdefault(
            r["metric"], r)
    return out


def _is_missing(value):
    return value is None or (isinstance(value, float) and np.isnan(value))


def _head(m):
    """A metric's column head: its name, unit and direction, 'log_loss (nats) ↓'."""
    return f"{m}{f' ({unit(m)})' if unit(m) else ''} {'↑' if is_higher_better(m) else '↓'}"


def effects_table(effects_df, comparison=None, *, primary_only=True):
    """The effects of one comparison as a display table (strings)."""
    e = select(effects_df, comparison)
    if primary_only and len(e):
        e = e[e["primary"].astype(bool)]
    if not len(e):
        return pd.DataFrame()
    short = short_conditions(e)
    several = len(short) > 1
    out = []
    for _, r in e.iterrows():
        m = r["metric"]
        row = {"recipe": r["recipe"]}
        if several:
            row["condition"] = short[r["condition"]]
        row.update({
            "metric": f"{m} {'↑' if r['higher_is_better'] else '↓'}",
            "difference [95% CI]": (fmt_effect(r["difference"], r["ci_low"], r["ci_high"], m)
                                    if r["n_paired"] else NO_PAIRS),
            "won / lost / tied": f"{r['won']} / {r['lost']} / {r['tied']}",
            "p (min)": _p_text(r),
            "outcome": _outcome_text(r),
        })
        out.append(row)
    return pd.DataFrame(out)


NO_PAIRS = "— (no paired seeds)"


def _p_text(r):
    """An effect's sign-flip p and, in brackets, the smallest p its seeds allow; where
    one is undefined, why: '— (no paired seeds)', '1 (all seeds tied)'."""
    if not r["n_paired"] or not np.isfinite(r["p"]):
        return NO_PAIRS
    if not np.isfinite(r["p_min"]):
        return f"{r['p']:.2g} (all seeds tied)"
    return f"{r['p']:.2g} ({r['p_min']:.2g})"


def _outcome_text(r):
    """An effect's outcome as the report says it: a detectable difference whose CI reaches
    inside the margin says so; the note follows."""
    text = r["outcome"]
    if text in MAY_BE_NEGLIGIBLE:
        text += (f", may be negligible (the CI reaches inside ± {_pp(r['margin'], r['metric'])})"
                 if np.isfinite(r["margin"]) else ", may be negligible (no margin known)")
    return text + (f": {r['note']}" if r["note"] else "")


def verdict(results, runs=None, *, summary_df=None, effects_df=None):
    """Plain-words findings per comparison, read from the numbers.

    Returns ``{(experiment, dataset): [sentence, ...]}``: the final primary
    metric best first (one condition) and who reached the goal; each
    non-recommended recipe against the recommended one under every condition
    (from ``effects``); the other common metrics in brief; runs that diverged
    or failed, and how they were scored.
    """
    if summary_df is None:
        summary_df = summary(results, runs)
    if effects_df is None:
        effects_df = effects(results, runs)
    out = {}
    for comp in comparisons(results, runs):
        out[comp.key] = _verdict_one(comp, select(summary_df, comp.key),
                                     select(effects_df, comp.key))
    return out


def _verdict_one(comp, s, e):
    if not len(s):
        return ["No results were recorded for this comparison."]
    lines = []
    if len(comp.conditions) == 1:
        lines += _best_first(comp, s) + _goal_sentences(comp, s)
    for note in _not_compared(comp, e):
        lines.append(note)
    labels = short_conditions(comp.settings())
    prim = e[e["primary"]] if len(e) else e
    for (recipe, ref), g in (prim.groupby(["recipe", "reference"], sort=False) if len(prim)
                             else []):
        split = "validation" if g["split"].iloc[0] == "val" else g["split"].iloc[0]
        head = f"{recipe} vs {ref}, {split} {g['metric'].iloc[0]}: "
        lines.append(head + (_effect_detail(g.iloc[0]) if len(g) == 1
                             else _outcome_phrase(g, labels) + "."))
    clear = ("worse", "detectably worse", "better", "detectably better")
    others = e[~e["primary"] & e["outcome"].isin(clear)] if len(e) else e
    for recipe, g in (others.groupby("recipe", sort=False) if len(others) else []):
        n_cond = len(comp.conditions)
        parts = []
        for word in clear:
            counts = g[g["outcome"] == word].groupby("metric", sort=False).size()
            if len(counts):
                parts.append(f"{word} in " + _join(
                    m + ("" if n_cond == 1 else f" ({k} of {n_cond} conditions)")
                    for m, k in counts.items()))
        lines.append(f"On the other common metrics, {recipe} was {_join(parts)}.")
    for recipe in comp.recipes:
        c = comp.status_counts(recipe)
        scored = s[(s["recipe"] == recipe) & s["primary"]]["n_substituted"].sum()
        how = (" (scored as the trivial baseline)" if scored
               else " (no baseline recorded: left out)")
        if c["n_diverged"]:
            lines.append(f"{c['n_diverged']} of {c['n_runs']} runs of {recipe} diverged{how}.")
        if c["n_failed"]:
            errs = comp.runs[(comp.runs["recipe"] == recipe) & (comp.runs["status"] == "failed")]
            errs = [str(x) for x in errs["error"].dropna().unique() if str(x).strip()]
            err = f" ({short(errs[0])})" if errs else ""
            lines.append(f"{c['n_failed']} of {c['n_runs']} runs of {recipe} failed{err}{how}.")
        mine = s[(s["recipe"] == recipe) & s["primary"]]
        unscored = int(mine["n_not_finite"].sum())
        if unscored:
            split = "validation" if mine["split"].iloc[0] == "val" else mine["split"].iloc[0]
            lines.append(f"{unscored} of {c['n_runs']} runs of {recipe} finished without a "
                         f"finite final {split} {mine['metric'].iloc[0]} (left out, never "
                         f"scored as a number).")
    return lines


def _best_first(comp, s):
    prim = comp.primary
    ps = s[(s["metric"] == prim) & (s["n"] > 0)]
    if len(ps) < 2:
        return []
    order = ps.sort_values("mean", ascending=not is_higher_better(prim), kind="stable")

    def desc(r):
        pct = prim in PERCENT_METRICS
        mean, sd = fmt_group([r["mean"], r["std"]], prim)
        txt = mean + ("%" if pct else "")
        if np.isfinite(r["std"]):
            txt += f" ± {sd}{' points' if pct else ''}"
        txt += f" {unit(prim)}" if unit(prim) and not pct else ""
        return f"{r['recipe']} ({txt}, {plural(int(r['n']), 'seed')})"
    split = "validation" if ps["split"].iloc[0] == "val" else ps["split"].iloc[0]
    text = (f"Final {split} {prim}, best first: "
            + "; ".join(desc(r) for _, r in order.iterrows()))
    base = ps["baseline"].dropna()
    if len(base):
        text += f"; trivial baseline {fmt_value(base.iloc[0], prim)}"
    return [text + "."]


def _goal_sentences(comp, s):
    gs = s[(s["metric"] == s["goal_metric"]) & s["goal_runs"].notna()]
    g0 = s.iloc[0]
    if g0["goal_source"] == "none":
        return [comp.goal(g0["condition"])["rule"][0].upper()
                + comp.goal(g0["condition"])["rule"][1:] + "."]
    if not len(gs):
        return []
    lines = []
    g0 = gs.iloc[0]
    gm, gv = g0["goal_metric"], g0["goal"]
    if g0["goal_source"] == "auto":
        rule = comp.goal(g0["condition"])["rule"]
        lines.append(f"Goal (automatic: {rule}): validation {gm} "
                     f"{'at least' if is_higher_better(gm) else 'at most'} "
                     f"{fmt_value(gv, gm)}.")
    if is_higher_better(gm):
        what = (f"{fmt_value(gv, gm)} validation {gm}" if gm in PERCENT_METRICS
                else f"a validation {gm} of {fmt_value(gv, gm)}")
        reach = f"reached {what}"
    else:
        reach = f"got validation {gm} down to {fmt_value(gv, gm)}"
    clauses = []
    for i, (_, r) in enumerate(gs.iterrows()):
        k, n = int(r["goal_reached"]), int(r["goal_runs"])
        max_ep = r["max_epochs"]
        in_ep = f"in {plural(int(max_ep), 'epoch')}" if np.isfinite(max_ep) else ""
        verb = reach if i == 0 else ("reached it" if is_higher_better(gm) else "got there")
        if r["n_runs"] and not np.isfinite(max_ep):
            clauses.append(f"{r['recipe']} has no training history to judge "
                           f"({int(r['n_failed'])} of {int(r['n_runs'])} runs failed)")
        elif k == n:
            ep = fmt_epochs(r["goal_epochs"])
            avg = "" if float(r["goal_epochs"]).is_integer() else " on average"
            clauses.append(f"{r['recipe']} {verb} in {ep} "
                           f"epoch{'' if ep == '1' else 's'}{avg} ({k}/{n} seeds)")
        elif k == 0:
            never = (f"never {reach}" if i == 0 else "never did")
            clauses.append(f"{r['recipe']} {never} {in_ep} (0/{n} seeds)")
        else:
            ep = fmt_epochs(r["goal_epochs"])
            clauses.append(f"{r['recipe']} {verb} on {k}/{n} seeds, in {ep} "
                           f"epoch{'' if ep == '1' else 's'} on average "
                           f"(never on the other {n - k} {in_ep})")
    lines.append("; ".join(clauses) + ".")
    return lines


def _not_compared(comp, e):
    """Why there is no effect at all, when there is none."""
    if len(e) or len(comp.recipes) < 2:
        return []
    if not comp.recommended:
        return ["No paired comparison: no recommended recipe in this comparison."]
    base = comp.recommended[0]
    c = comp.status_counts(base)
    why = (f"recommended recipe {base} has no completed runs ({c['n_failed']} failed, "
           f"{c['n_diverged']} diverged)" if c["n_runs"] else
           f"recommended recipe {base} has no runs")
    return [f"No paired comparison: {why}."]


def _effect_detail(r):
    """One effect in words: the outcome, the difference with its unit, its CI, seeds
    and p."""
    m, n = r["metric"], int(r["n_paired"])
    if n == 0:
        return "no seeds in common; not compared."
    diff, lo, hi = effect_parts(r["difference"], r["ci_low"], r["ci_high"], m)
    ci = f" (95% CI {lo} to {hi})" if lo else ""
    tied = f", tied on {r['tied']}" if r["tied"] else ""
    note = f"; {r['note']}" if r["note"] else ""
    outcome = r["outcome"] + (", may be negligible" if r["outcome"] in MAY_BE_NEGLIGIBLE
                              else "")
    return (f"{outcome}: {diff}{ci}; better on {r['won']}/{n} seeds, worse on "
            f"{r['lost']}/{n}{tied}; sign-flip p = {r['p']:.2g}{note}.")


def short(text, n=160):
    """``text`` on one line, cut to ``n`` characters with ``...``."""
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _join(items):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


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


def what_was_run(comps):
    """One row per comparison: problem, target, recipes, seeds, epochs, trainer, run status,
    and, where any run trained a backbone, each backbone with its layers and parameters."""
    rows = []
    for comp in comps:
        seeds = set(comp.res["seed"].dropna()) | set(comp.runs["seed"].dropna())
        trainers = sorted({t for t in set(comp.res["trainer"]) | set(comp.runs["trainer"]) if t})
        status = comp.runs["status"].value_counts()
        problems = sorted({str(p) for p in set(comp.res["problem"].dropna())
                           | set(comp.runs["problem"].dropna())})
        rows.append({
            "experiment": comp.key[0], "dataset": comp.key[1], "problem": ", ".join(problems),
            "target": comp.target, "recipes": ", ".join(comp.recipes),
            "conditions": len(comp.conditions),
            "seeds": _compact_seeds(seeds), "epochs": _epochs(comp),
            "trainer": ", ".join(trainers) or "-",
            "runs ok / diverged / failed": (f"{status.get('ok', 0)} / {status.get('diverged', 0)}"
                                            f" / {status.get('failed', 0)}")
            if len(comp.runs) else "-",
        })
        named = _backbones(comp)
        if named:
            rows[-1]["backbones"] = named
    table = pd.DataFrame(rows)
    if "backbones" in table:
        table["backbones"] = table["backbones"].fillna("mlp")
    return table


def _backbones(comp):
    """The backbones a comparison's runs trained, from their configs: ``'cnn: Conv2D,
    GlobalAveragePooling2D (40 parameters); mlp'`` (``mlp``: the MLP of ``hidden``);
    "" when every run trained the MLP."""
    configs = comp.runs["config"] if "config" in comp.runs else []
    found = {}
    for config in configs:
        b = config.get("backbone") if isinstance(config, dict) else None
        if isinstance(b, dict):
            found[b.get("fingerprint")] = (f"{b.get('name')}: {', '.join(b.get('layers', []))} "
                                           f"({b.get('parameters', '?'):,} parameters)")
        else:
            found[None] = "mlp"
    if set(found) <= {None}:
        return ""
    return "; ".join(sorted(found.values()))


def _epochs(comp):
    """The epochs a comparison's runs were set to train (its conditions' ``epochs``
    setting: ``"20"``, ``"5, 20"``), not the epochs they finished (a diverged run stops
    early); for a table without the setting, the most epochs a run recorded."""
    configured = comp.settings()["epochs"].dropna()
    if len(configured):
        return ", ".join(fmt_epochs(float(x)) for x in sorted(set(configured)))
    done = comp.runs["epochs"].dropna() if len(comp.runs) else comp.runs["epochs"]
    done = done if len(done) else comp.res["epoch"].dropna()
    return fmt_epochs(float(done.max())) if len(done) else "-"


def _rate(x):
    """A learning rate as text: ``0.003``, ``1``."""
    return f"{x:g}"


def _near_best(rows, chosen):
    """The learning rates without a diverged or failed tuning run whose mean lies within
    the metric's margin of the chosen one's (``'0.1-1'``; a comma list when they are not
    neighbours in the grid)."""
    m = rows["metric"].iloc[0]
    margin = margin_of(m, reference=float(chosen["mean"]))
    gap = (rows["mean"] - chosen["mean"]).abs().to_numpy(float)
    ok = ((rows["n_diverged"] + rows["n_failed"]) == 0).to_numpy()
    near = ok & (gap <= margin + 1e-12)
    rates = rows["learning_rate"].to_numpy(float)
    picked = rates[near]
    if not len(picked):
        return "-"
    first, last = np.flatnonzero(near)[[0, -1]]
    if near[first:last + 1].all() and len(picked) > 1:
        return f"{_rate(picked[0])}-{_rate(picked[-1])}"
    return ", ".join(map(_rate, picked))


def tuning_table(tuning_df, comparison=None):
    """A tuned comparison's learning-rate choice as a display table (strings), from
    ``stats.tuning``: per condition and recipe the chosen rate (and whether it lies at an
    edge of the grid), its mean validation score ± std over the tuning seeds, the rates
    within the metric's margin of it (how flat the optimum is) and the tuning runs that
    diverged or failed."""
    t = select(tuning_df, comparison)
    if not len(t):
        return pd.DataFrame()
    m = t["metric"].iloc[0]
    short = short_conditions(t)
    margin = MARGINS.get(m, (np.nan, ""))
    within = (f"{_pp(margin[0], m)}" if margin[1] == "absolute"
              else f"{margin[0]:.0%}" if margin[1] else "the margin")
    out = []
    for (cond, recipe), g in t.groupby(["condition", "recipe"], sort=False):
        g = g.sort_values("learning_rate")
        chosen = g[g["chosen"].astype(bool)]
        row = {"recipe": recipe}
        if len(short) > 1:
            row["condition"] = short[cond]
        if not len(chosen):
            row["chosen learning rate"] = "-"
            out.append(row)
            continue
        c = chosen.iloc[0]
        lr = _rate(c["learning_rate"])
        edge = ("" if len(g) < 2 else " (smallest in the grid)" if c["learning_rate"] ==
                g["learning_rate"].min() else " (largest in the grid)"
                if c["learning_rate"] == g["learning_rate"].max() else "")
        mean, std = fmt_group([c["mean"], c["std"]], m)
        bad = g[(g["n_diverged"] + g["n_failed"]) > 0]
        row.update({
            "chosen learning rate": lr + edge,
            f"validation {_head(m)}, mean ± std": (mean if not np.isfinite(c["std"])
                                             else f"{mean} ± {std}") + f" ({int(c['n'])} seeds)",
            f"rates within {within} of it": _near_best(g, c),
            "diverged or failed": ", ".join(
                f"lr={_rate(r['learning_rate'])}: {int(r['n_diverged'] + r['n_failed'])} of "
                f"{int(r['n_runs'])}" for _, r in bad.iterrows()) or "none",
        })
        out.append(row)
    return pd.DataFrame(out).fillna("")


def tuning_sentences(tuning_df, comparison=None, *, split="test"):
    """How a tuned comparison chose its learning rates, in sentences read from
    ``stats.tuning``: the grid, the seeds, the rule, where the final numbers come from,
    and each chosen rate that lies at an edge of the grid."""
    t = select(tuning_df, comparison)
    if not len(t):
        return []
    m = t["metric"].iloc[0]
    grid = sorted(set(t["learning_rate"]))
    seeds = int(t["n_runs"].max())
    by = set(t["chosen_by"])
    where = ("the test split, which no tuning run saw" if split == "test"
             else f"the {split} split")
    lines = [f"Each recipe's learning rate was chosen per condition from the grid "
             f"{', '.join(map(_rate, grid))} by its mean validation {m} over "
             f"{plural(seeds, 'tuning seed')} (each with its own data split; a rate with a "
             f"diverged or failed tuning run is never chosen), then trained again on fresh "
             f"seeds; the tables above score those runs on {where}."]
    if "tuning rule" in by:
        lines.append("Some recipes have no final runs: their rate is the one the tuning "
                     "rule picks.")
    short = short_conditions(t)
    edges = {}
    for (cond, recipe), g in t.groupby(["condition", "recipe"], sort=False):
        c = g[g["chosen"].astype(bool)]
        if not len(c) or len(g) < 2:
            continue
        lr = c["learning_rate"].iloc[0]
        side = ("largest" if lr == g["learning_rate"].max() else "smallest"
                if lr == g["learning_rate"].min() else None)
        if side:
            under = f" under {short[cond]}" if len(short) > 1 and short[cond] else ""
            edges.setdefault(side, []).append(f"{recipe}{under} ({_rate(lr)})")
    for side, who in edges.items():
        lines.append(f"The rate chosen for {_join(who)} is the {side} in the grid: a "
                     f"{'larger' if side == 'largest' else 'smaller'} one might do better.")
    return lines
