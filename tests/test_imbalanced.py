"""The imbalanced experiment and what the report says about it (#22 items 5 and 6):
claims across conditions computed from the numbers, the figures, ``recipes show
binary``'s advice, and the bundled experiment end to end on tiny real runs."""

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
