"""The words of the report: tables as text and verdict sentences.

``summary_table`` and ``paired_table`` turn the statistics into display tables
(strings, numbers formatted alike); ``verdict`` says in plain sentences what
the numbers show; ``FAIRNESS_NOTE`` and ``METHODS_NOTE`` state how recipes are
compared. No plotting here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..messages import plural
from .formatting import PERCENT_METRICS, fmt_epochs, fmt_group, fmt_value
from .stats import (CURVE_BAND, MIN_PAIRS, N_BOOT, comparisons, is_higher_better, paired,
                    select, summary)

__all__ = ["summary_table", "paired_table", "verdict", "FAIRNESS_NOTE", "METHODS_NOTE"]

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


def _diff_unit(metric):
    return " percentage points" if metric in PERCENT_METRICS else ""


def summary_table(summary_df, comparison=None):
    """The summary of one comparison as a wide display table (strings), one row per recipe."""
    s = select(summary_df, comparison)
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
            arrow = "↑" if is_higher_better(m) else "↓"
            head = f"{m}{' (%)' if m in PERCENT_METRICS else ''} {arrow}"
            if m not in g.index or g.loc[m, "n"] == 0:
                row[head] = "-"
                continue
            r = g.loc[m]
            mean, std, lo, hi = fmt_group([r["mean"], r["std"], r["ci_low"], r["ci_high"]], m)
            cell = mean if not np.isfinite(r["std"]) else f"{mean} ± {std}"
            if np.isfinite(r["ci_low"]):
                cell += f" [{lo}, {hi}]"
            row[head] = cell
        row["seeds"] = int(g.loc[primary, "n"]) if primary in g.index else 0
        if goal_metric is not None and goal_metric in g.index:
            row["epochs to goal"] = g.loc[goal_metric, "epochs_to_goal"]
        aulc_head = f"AULC {primary}{' (%)' if primary in PERCENT_METRICS else ''}"
        if primary in g.index and np.isfinite(g.loc[primary, "aulc"]):
            row[aulc_head] = fmt_group([g.loc[primary, "aulc"]], primary)[0]
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
    p = select(paired_df, comparison)
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
        mean, lo, hi = fmt_group([r["mean_diff"], r["ci_low"], r["ci_high"]], m)
        unit = " pp" if m in PERCENT_METRICS else ""
        diff = f"{'+' if r['mean_diff'] > 0 else ''}{mean}{unit}"
        if np.isfinite(r["ci_low"]):
            diff += f" [{lo}, {hi}]"
        outcome = r["outcome"] + (f" ({r['note']})" if r["note"] else "")
        out.append({
            "recipe": r["recipe"], "role": r["role"], "vs": r["baseline"],
            "metric": f"{m} {'↑' if is_higher_better(m) else '↓'}", "difference [95% CI]": diff,
            "won / lost / tied": f"{r['n_won']} / {r['n_lost']} / {r['n_tied']} of {r['n_pairs']}",
            "p (sign-flip)": f"{r['p_value']:.3g}" if np.isfinite(r["p_value"]) else "-",
            "outcome": outcome,
        })
    return pd.DataFrame(out)


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
    for comp in comparisons(results, runs):
        out[comp.key] = _verdict_one(comp, select(summary_df, comp.key),
                                     select(paired_df, comp.key))
    return out


def _verdict_one(comp, s, p):
    lines = []
    if not len(s):
        return ["No results were recorded for this comparison."]
    prim = comp.primary
    ps = s[(s["metric"] == prim) & (s["n"] > 0)]
    if len(ps) >= 2:
        higher = is_higher_better(prim)
        order = ps.sort_values("mean", ascending=not higher, kind="stable")

        def desc(r):
            pct = prim in PERCENT_METRICS
            mean, sd = fmt_group([r["mean"], r["std"]], prim)
            txt = mean + ("%" if pct else "")
            if np.isfinite(r["std"]):
                txt += f" ± {sd}{' points' if pct else ''}"
            return f"{r['recipe']} ({txt}, {plural(int(r['n']), 'seed')})"
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
            err = f" ({short(errs[0])})" if errs else ""
            lines.append(f"{c['n_failed']} of {c['n_runs']} runs of {recipe} failed{err}.")
    return lines


def short(text, n=160):
    """``text`` on one line, cut to ``n`` characters with ``...``."""
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
        sd, slo, shi = fmt_group([d, lo, hi], m)
        sd = ("+" if d > 0 else "") + sd
        return (f"No clear difference in validation {m} between {recipe} and {base}: "
                f"{recipe} minus {base} = {sd}{unit} (95% CI {slo} to {shi}; "
                f"{recipe} better on {int(r['n_won'])}/{n} seeds{tied}).")
    # clear: report magnitudes in the direction of the difference
    mag = [abs(d), min(abs(lo), abs(hi)), max(abs(lo), abs(hi))]
    smag, slo, shi = fmt_group(mag, m)
    updown = "higher" if d > 0 else "lower"
    if r["outcome"] == "better":
        return (f"{recipe} ended better than the recommended recipe {base}: {smag}{unit} "
                f"{updown} in validation {m} (95% CI {slo} to {shi}; better on "
                f"{int(r['n_won'])}/{n} seeds{tied}).")
    return (f"{recipe} ended {smag}{unit} {updown} in validation {m} than {base} "
            f"(95% CI {slo} to {shi}; worse on {int(r['n_lost'])}/{n} seeds{tied}).")


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
    """One row per comparison: problem, target, recipes, seeds, epochs, trainer, run status."""
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
