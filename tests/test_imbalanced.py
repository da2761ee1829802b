"""The imbalanced experiment and what the report says about it (#22 items 5 and 6):
claims across conditions computed from the numbers, the figures, ``recipes show
binary``'s advice, and the bundled experiment end to end on tiny real runs."""

import re

import pandas as pd
import pytest

from recipes.reporting import stats, words

BCE = "binary_sigmoid_bce"
SEEDS = range(6)


def _weighted_tables(f1, ece):
    """Hand-made results of ``BCE`` under class_weight none and balanced: ``f1`` and
    ``ece`` map each of the two to its per-seed final validation values."""
    rows, runs = [], []
    for weight in ("none", "balanced"):
        cond = f"adam class_weight={weight}"
        for seed in SEEDS:
            key = dict(run=f"{weight}|{seed}", experiment="imbalanced", dataset="d",
                       problem="binary", target="classes", recipe=BCE, role="recommended",
                       seed=seed, trainer="stacked", condition=cond, optimizer="adam",
                       learning_rate=0.001, class_weight=weight)
            runs.append(dict(key, status="ok", epochs=1, seconds=1.0, config=None))
            rows += [dict(key, epoch=1, split="val", metric=m, value=v[weight][seed])
                     for m, v in (("f1", f1), ("ece", ece), ("accuracy", f1))]
    return pd.DataFrame(rows), pd.DataFrame(runs)


def _claim(table, cid, metric):
    row = table[table["claim"].str.startswith(cid) & (table["metric"] == metric)]
    assert len(row) == 1, table
    return row.iloc[0]


LOW = [0.60, 0.62, 0.61, 0.63, 0.59, 0.64]
HIGH = [v + 0.1 for v in LOW]
CALIBRATED = [0.01, 0.012, 0.011, 0.009, 0.01, 0.013]
OFF = [v + 0.05 for v in CALIBRATED]


@pytest.mark.parametrize("f1_balanced, ece_balanced, f1_holds, ece_holds", [
    (HIGH, OFF, "supported: 1 of 1 condition", "supported: 1 of 1 condition"),
    (LOW, CALIBRATED, "not supported: 0 of 1 condition", "not supported: 0 of 1 condition"),
    ([v - 0.1 for v in LOW], [v - 0.005 for v in CALIBRATED],
     "not supported: 0 of 1 condition", "not supported: 0 of 1 condition"),
])
def test_weight_claims_are_computed_from_the_numbers(f1_balanced, ece_balanced, f1_holds,
                                                     ece_holds):
    res, runs = _weighted_tables({"none": LOW, "balanced": f1_balanced},
                                 {"none": CALIBRATED, "balanced": ece_balanced})
    c = stats.contrasts(res, runs, specs=words.CONTRASTS)
    f1 = c[(c["key"] == "C10") & (c["metric"] == "f1")].iloc[0]
    assert f1["difference"] == pytest.approx(pd.Series(f1_balanced).mean() - pd.Series(LOW).mean())
    assert f1["n_paired"] == 6 and f1["condition"] != f1["reference_condition"]
    table = words.claims_table(stats.effects(res, runs), c)
    assert _claim(table, "C10", "f1")["holds"] == f1_holds
    assert _claim(table, "C11", "ece")["holds"] == ece_holds
    assert _claim(table, "C10", "f1")["outcome"].startswith("balanced vs unweighted: ")
    # C12 needs the calibrated+thresholded form, which these runs lack: no row, no claim
    assert not table["claim"].str.startswith("C12").any()
    # the claims figure draws the same contrasts, read as the claim reads, with their unit
    cells = words.claim_cells(stats.effects(res, runs), c)
    c10 = cells[cells["claim"].str.startswith("C10 balanced vs unweighted (f1")].iloc[0]
    assert c10["difference"] == pytest.approx(f1["difference"])
    assert c10["outcome"] == f1["outcome"] and c10["effect"].endswith(" pp")
    assert c10["class_weight"] == "balanced"


def test_a_contrast_never_pairs_conditions_that_differ_in_another_setting():
    res, runs = _weighted_tables({"none": LOW, "balanced": HIGH},
                                 {"none": CALIBRATED, "balanced": OFF})
    res.loc[res["class_weight"] == "balanced", "optimizer"] = "sgd"
    runs.loc[runs["class_weight"] == "balanced", "optimizer"] = "sgd"
    assert not len(stats.contrasts(res, runs, specs=words.CONTRASTS))


def test_reliability_bins_give_the_ece_and_the_curve_gives_scikit_learns_f1():
    import numpy as np
    from sklearn.metrics import f1_score

    from recipes import get
    from recipes.decisions.thresholds import threshold_curve
    from recipes.training import metrics

    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.1).astype(int)
    logits = rng.normal(2.5 * y - 1.5, 1.2)[:, None]
    for name, out in (("binary_logits_bce", logits), ("binary_sigmoid_bce",
                                                      1 / (1 + np.exp(-logits)))):
        recipe = get(name)
        t = metrics.truth(recipe, y, (0, 1))
        bins = metrics.reliability(recipe, t, out)
        assert sum(bins["count"]) == 300 and len(bins["count"]) == metrics.ECE_BINS
        gap = np.abs(np.subtract(bins["correct"], bins["confidence"])).sum() / 300
        assert gap == pytest.approx(metrics.common_metrics(recipe, t, out)["ece"])
        curve = threshold_curve(recipe, out, y, "f1")
        p = recipe.proba(out)[:, 1]
        assert curve["value"][0] == pytest.approx(
            [f1_score(y, p >= c, zero_division=0.0) for c in curve["cut"]])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The bundled imbalanced experiment, really trained: 3 seeds, 2 epochs."""
    import recipes
    from recipes.experiments import load_experiment
    from recipes.results.store import Store

    out = tmp_path_factory.mktemp("imbalanced")
    grid = load_experiment("imbalanced").with_options(seeds=3, epochs=2)
    results = recipes.run(grid, out=out)
    return out, results, Store(out).runs()


def test_the_experiment_runs_end_to_end_and_the_report_shows_its_claims_and_figures(tiny):
    from recipes.reporting.writer import report

    out, results, runs = tiny
    assert set(results["dataset"]) == {"digit8", "digit8_rare"}
    assert set(results["class_weight"]) == {"none", "balanced"}
    assert set(results["decoding"]) == {"raw", "calibrated", "thresholded",
                                        "calibrated+thresholded"}
    test = results[results["split"] == "test"]
    assert {"pr_auc", "f1", "balanced_accuracy", "log_loss", "ece"} <= set(test["metric"])
    assert (runs["status"] == "ok").all() and len(runs) == 2 * 2 * 2 * 3
    # a report reads the store as history_and_runs: the decoded rows too (C12 needs them)
    from recipes.results.store import Store
    read, _ = Store(out).history_and_runs(compact=True)
    assert len(read) == len(Store(out).history()) and set(read["decoding"]) == set(
        results["decoding"])
    report(out, out=out / "report", appendix=False, backends=False)
    text = (out / "report" / "report.md").read_text()
    for cid in ("C10", "C11", "C12", "C13"):
        assert f"| {cid}: rare positives" in text
    for name in ("digit8-reliability", "digit8-threshold-curves",
                 "digit8-rare-reliability", "digit8-rare-threshold-curves"):
        assert (out / "report" / "figures" / f"imbalanced-{name}.png").is_file()


PAGE_PX, MIN_PX = 1200, 8


def _smallest_tick_px(fig):
    """The smallest tick label of ``fig`` in pixels once its PNG (the report's DPI) is
    shown at most ``PAGE_PX`` wide."""
    from recipes.reporting.render import DPI

    shown = min(1.0, PAGE_PX / (fig.get_figwidth() * DPI))
    sizes = [t.get_fontsize() for ax in fig.axes if ax.get_visible()
             for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
    return min(sizes) * DPI / 72 * shown


@pytest.mark.parametrize("kind", ["reliability", "threshold_curves"])
def test_the_decoded_figures_are_legible_at_page_width(tiny, kind):
    from figure_checks import check_text
    from recipes.reporting import figures

    _, results, runs = tiny
    numbers = getattr(stats, kind)(results, runs)
    assert set(numbers["condition"].map(lambda c: "class_weight=balanced" in c)) == {True, False}
    for dataset in ("digit8", "digit8_rare"):
        plot = getattr(figures, f"plot_{kind}")
        fig = plot(numbers, comparison=("imbalanced", dataset))
        assert len([a for a in fig.axes if a.get_visible()]) == 4   # 2 conditions x 2 recipes
        assert check_text(fig) > 10 and _smallest_tick_px(fig) >= MIN_PX
    if kind == "reliability":   # the pooled bins give each form's ECE, lower once calibrated
        ece = numbers.groupby(["dataset", "condition", "recipe", "form"])["ece"].first()
        assert (ece.xs("calibrated", level="form") < ece.xs("raw", level="form")).mean() > 0.5
    else:                       # every tuned cut-off lies on the curve's range
        assert ((numbers["chosen_low"] > 0) & (numbers["chosen_high"] < 1)).all()


def test_the_shipped_measurements_are_those_of_todays_experiment():
    """The numbers ``recipes show binary`` prints come from a file written by
    benchmarks/imbalanced_advice.py; its grid fingerprint is today's experiment's, so a
    change to the experiment, its data, recipes or settings fails here until the file is
    regenerated."""
    from recipes.experiments import load_experiment
    from recipes.reporting import advice
    from recipes.results.grid import grid_fingerprint

    measured = advice.load("binary")
    assert measured["provenance"]["grid"] == grid_fingerprint(load_experiment("imbalanced"))
    stated = {(cid, c.metric) for cid, _, c, _, _ in advice.claims()}
    assert {(r["claim"], r["metric"]) for r in measured["claims"]} == stated
    assert {"C10", "C11", "C12", "C13"} == {cid for cid, _ in stated}


def test_show_binary_prints_the_measured_advice_with_its_numbers_date_and_machine():
    import subprocess
    import sys

    from recipes.reporting import advice

    measured = advice.load("binary")
    out = subprocess.run([sys.executable, "-m", "recipes", "show", "binary"],
                         capture_output=True, text=True, check=True).stdout
    text = " ".join(out.split())   # the advice is wrapped to the terminal's lines
    assert "Rare positives: what the measurements say" in text
    p = measured["provenance"]
    for part in (p["date"], p["machine"], p["command"], p["grid"]):
        assert part in text
    for r in measured["claims"]:
        if r["unit"] == "%":
            assert f"{100 * r['mean']:.1f}% vs {100 * r['reference_mean']:.1f}%" in text
            assert f"({100 * r['difference']:+.1f} pp, 95% CI" in text
    shown = subprocess.run([sys.executable, "-m", "recipes", "show", "multiclass"],
                           capture_output=True, text=True, check=True).stdout
    assert "Rare positives" not in shown   # only the problems with measurements


def test_the_advice_is_measured_from_the_results(tiny):
    from recipes.reporting import advice

    _, results, runs = tiny
    provenance = {"command": "test", "date": "today", "machine": "here", "versions": "",
                  "grid": "g", "seeds": 3, "epochs": 2}
    measured = advice.measure(results, runs, provenance)
    rows = measured["claims"]
    assert {r["dataset"] for r in rows} == {"digit8", "digit8_rare"}
    assert measured["datasets"]["digit8_rare"]["positives"] == pytest.approx(50 / 1673)
    f1 = [r for r in rows if r["claim"] == "C10" and r["metric"] == "f1"]
    for r in f1:   # the two cells' test means, read back from the results
        cell = results[(results["dataset"] == r["dataset"]) & (results["split"] == "test")
                       & (results["metric"] == "f1") & (results["decoding"] == "raw")
                       & (results["recipe"] == BCE)]
        means = cell.groupby("class_weight", observed=True)["value"].mean()
        assert (r["mean"], r["reference_mean"]) == pytest.approx(
            (means["balanced"], means["none"]))
        assert r["holds"] == (r["outcome"] == "better")
    text = advice.advice_text("binary", measured)
    assert "3 seeds x 2 epochs" in " ".join(text.split())
    assert advice.advice_text("regression") == ""


def test_the_docs_block_is_the_shipped_advice():
    from pathlib import Path

    from recipes.reporting import advice

    doc = (Path(__file__).resolve().parent.parent / "docs" / "imbalance.md").read_text()
    block = doc.split("<!-- begin: benchmarks/imbalanced_advice.py -->")[1].split(
        "<!-- end -->")[0]
    assert block == "\n" + advice.doc_block()
    # the first line as the docs' generated number blocks have it (benchmarks/docblock.py)
    assert re.match(r"Command: `python benchmarks/imbalanced_advice\.py` · Date: "
                    r"\d{4}-\d\d-\d\d \d\d:\d\d UTC · Machine: .+\n\n```text\n", block[1:])


def test_the_experiment_is_in_the_default_suite():
    """``recipes run all`` runs every bundled experiment: the imbalanced one with its two
    data sets, two recipes and the class-weight axis, decoded both ways."""
    from recipes.experiments import ALL, load_experiments

    found = {e.name: e for e in load_experiments(ALL)}
    assert "imbalanced" in found
    grid = found["imbalanced"]
    assert (grid.calibrate, grid.threshold) == ("temperature", "f1")   # True reads as temperature
    assert {c.class_weight for c in grid.conditions} == {None, "balanced"}
