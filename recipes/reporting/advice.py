"""What the measurements say to a user with rare positives (#22 item 6), with the numbers:
``recipes show binary`` prints ``advice_text("binary")``.

The numbers are read from a file shipped with the package (``MEASURED``), never typed
by hand: ``python benchmarks/imbalanced_advice.py`` trains the bundled experiment
``imbalanced`` in full (or reads a results folder that holds it) and writes, for each
claim of ``CLAIMS``, its two cells' test means, their paired difference, its 95% CI and
its outcome (``stats.contrasts``, the rules of the report), beside the command, the date,
the machine, the library versions and the fingerprint of the experiment's grid
(``results.grid.grid_fingerprint``). A test recomputes that fingerprint: a change to the
experiment, its data, its recipes' catalog rows or its settings fails the tests until the
file is regenerated, so no number printed belongs to another experiment. The date and
machine are printed beside the numbers.

Reading the file and writing the text need only the standard library (``recipes show``
imports no pandas and no TensorFlow); ``measure`` imports the statistics when the script
calls it.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from ..messages import support

# problem type -> the shipped measurements that speak to it
MEASURED = {"binary": Path(__file__).resolve().parent.parent / "experiments"
            / "imbalanced.measured.json"}
EXPERIMENT = "imbalanced"
WIDTH = 100   # characters per line of the printed advice

NAMES = {"f1": "F1", "balanced_accuracy": "balanced accuracy", "ece": "ECE",
         "log_loss": "log-loss", "pr_auc": "PR-AUC"}


def claims():
    """The claims the advice states, as the report's claims table words them:
    ``(id, text, stats.Contrast, expected outcome, short names of the two cells)``, each of
    ``words.CONTRAST_CLAIMS``, then each of ``words.CLAIMS`` about rare positives
    (``words.RARE_POSITIVES``) as a contrast within each condition."""
    from .stats import Contrast
    from .words import CLAIMS as WITHIN
    from .words import CONTRAST_CLAIMS, RARE_POSITIVES

    within = [(cid, text, Contrast(cid, metric, recipe, reference), expect, names)
              for cid, text, recipe, reference, metric, expect, names in WITHIN
              if text.startswith(RARE_POSITIVES)]
    return [*CONTRAST_CLAIMS, *within]


def measure(results, runs, provenance):
    """The measurements ``advice_text`` reads, from the imbalanced experiment's
    ``results`` and ``runs`` (a results store's tables): a JSON-ready dict with
    ``provenance`` (command, date, machine, versions, grid fingerprint, seeds, epochs),
    each dataset's rows and share of positives, and per claim (``claims``), dataset and
    condition the two cells' test means, the paired difference, its CI, the outcome and
    whether it is the one the claim expects. Raises ValueError when a claim has no row
    (the results lack the experiment or one of its cells)."""
    from ..training import data
    from ..training.metrics import UNITS
    from .stats import contrast_rows
    from .stats import contrasts as paired
    from .words import short_conditions

    stated = claims()
    found = paired(results, runs, specs=[c for _, _, c, _, _ in stated])
    found = found[found["experiment"] == EXPERIMENT]
    short = short_conditions(found) if len(found) else {}
    rows = []
    for cid, text, spec, expect, (a, b) in stated:
        hit = contrast_rows(found, spec)
        if not len(hit):
            raise ValueError(f"Expected results of experiment {EXPERIMENT!r} with the cells "
                             f"of claim {cid} ({text}, {spec.metric}). Received: none")
        for r in hit.to_dict("records"):
            within = r["condition"] == r["reference_condition"]
            rows.append({"claim": cid, "text": text, "a": a, "b": b, "metric": spec.metric,
                         "unit": UNITS[spec.metric], "dataset": r["dataset"],
                         "condition": short.get(r["condition"], "") if within else "",
                         "mean": r["mean"], "reference_mean": r["reference_mean"],
                         "difference": r["difference"], "ci": [r["ci_low"], r["ci_high"]],
                         "seeds": int(r["n_paired"]), "outcome": r["outcome"],
                         "expected": expect, "holds": r["outcome"] == expect})
    sets = {}
    for name in dict.fromkeys(r["dataset"] for r in rows):
        y = data.load(name).y
        sets[name] = {"rows": int(len(y)), "positives": float(y.mean())}
    return {"provenance": provenance, "datasets": sets, "claims": rows}


# what a measurements file holds (``measure`` writes them)
PARTS = ("provenance", "datasets", "claims")


def load(problem, path=None):
    """The shipped measurements for ``problem`` (``MEASURED``; ``path``: another file),
    or None when there are none (another problem, or a file missing from a stripped
    install). Raises ValueError naming the file when it is not a JSON object with
    ``PARTS`` (a damaged or hand-edited file), never printing part of it as advice."""
    path = MEASURED.get(problem) if path is None else Path(path)
    if path is None or not path.is_file():
        return None
    try:
        measured = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"Expected the JSON written by benchmarks/imbalanced_advice.py in "
                         f"{path}. Received: {e}") from None
    missing = [k for k in PARTS if not isinstance(measured, dict) or k not in measured]
    if missing:
        raise ValueError(f"Expected an object with {list(PARTS)} in {path} (rerun "
                         f"benchmarks/imbalanced_advice.py). Received: without {missing}")
    return measured


def _value(v, unit):
    return f"{100 * v:.1f}%" if unit == "%" else f"{v:.3f} {unit}"


def _diff(v, unit):
    return f"{100 * v:+.1f} pp" if unit == "%" else f"{v:+.3f} {unit}"


def _ci(ci, unit):
    scale = 100 if unit == "%" else 1
    digits = 1 if unit == "%" else 3
    return f"[{scale * ci[0]:+.{digits}f}, {scale * ci[1]:+.{digits}f}]"


def _claim_line(rows, sets):
    """One claim on one metric, every dataset (and condition): means, difference, CI,
    outcome."""
    first = rows[0]
    parts = []
    for r in rows:
        share = sets[r["dataset"]]["positives"]
        unit = r["unit"]
        where = f", {r['condition']}" if r["condition"] else ""
        parts.append(f"at {100 * share:.1f}% positives{where}: {_value(r['mean'], unit)} vs "
                     f"{_value(r['reference_mean'], unit)} ({_diff(r['difference'], unit)}, "
                     f"95% CI {_ci(r['ci'], unit)}, {r['outcome']})")
    word = support(sum(r["holds"] for r in rows), len(rows))
    metric = NAMES.get(first["metric"], first["metric"])
    return (f"  - {first['claim']}: {first['text']}. {metric}, {first['a']} vs {first['b']}"
            f" ({word}; expected {first['expected']}): " + "; ".join(parts) + ".")


def advice_text(problem, measured=None):
    """The paragraph ``recipes show PROBLEM`` prints for rare positives: what the
    measurements say, with their numbers, seeds, date, machine and command; ``""``
    when ``problem`` has no shipped measurements. ``measured``: the dict ``measure``
    returns (default: the shipped file, ``load``)."""
    measured = load(problem) if measured is None else measured
    if not measured:
        return ""
    p, sets, rows = measured["provenance"], measured["datasets"], measured["claims"]
    shares = " and ".join(f"{100 * s['positives']:.1f}%" for s in sets.values())
    lines = [f"Rare positives: what the measurements say (the bundled experiment "
             f"{EXPERIMENT!r}, `recipes run {EXPERIMENT}`: {', '.join(sets)} at {shares} "
             f"positives, {p['seeds']} seeds x {p['epochs']} epochs, each form scored on a "
             f"held-out test split; first value vs second, paired by seed):"]
    groups = {}
    for r in rows:
        groups.setdefault((r["claim"], r["metric"]), []).append(r)
    lines += [_claim_line(g, sets) for g in groups.values()]
    lines += ["  To measure it on your data: recipes.compare(X, y, class_weight=[None, "
              "'balanced'], calibrate=True, threshold='f1'); by hand: recipes.calibrate, "
              "recipes.tune_threshold (fitted on validation rows).",
              f"  Measured {p['date']} on {p['machine']} ({p['versions']}) by `{p['command']}`"
              f" (experiment grid {p['grid']})."]
    return "\n".join(textwrap.fill(line, WIDTH, subsequent_indent="    ",
                                   break_long_words=False, break_on_hyphens=False)
                     for line in lines)


def doc_block(measured=None):
    """The text docs/imbalance.md holds between its markers (``<!-- begin:
    benchmarks/imbalanced_advice.py -->`` ... ``<!-- end -->``): a first line naming the
    command, date (to the minute) and machine of the measurements, in the form the
    docs' generated number blocks use (``Command: `...` · Date: ... UTC · Machine:
    ...``), then ``advice_text("binary", measured)`` as a fenced text block.
    ``measured``: as ``advice_text``."""
    measured = load("binary") if measured is None else measured
    p = measured["provenance"]
    minute = p["date"][:16] + " UTC"   # "2026-12-07 07:11:39 UTC" -> "2026-12-07 07:11 UTC"
    return (f"Command: `{p['command']}` · Date: {minute} · Machine: {p['machine']}\n\n"
            f"```text\n{advice_text('binary', measured)}\n```\n")
