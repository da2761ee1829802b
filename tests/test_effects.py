"""recipes.effects on hand-made results with known numbers: outcomes, margins, float
noise, diverged seeds, conditions never pooled, reproducible intervals."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import recipes
from recipes.reporting import figures, stats, words

REF, ALT = "binary_sigmoid_bce", "binary_sigmoid_mse"
SEEDS = range(6)
BASE = 0.60  # the trivial baseline's accuracy on every seed
REF_ACC = [0.90, 0.92, 0.91, 0.93, 0.89, 0.94]


def _tables(arms, statuses=None, exp="e", ds="d"):
    """``arms``: {(condition, recipe): per-seed final accuracy}; the reference recipe is
    recommended. Each run records epochs 1-2 of validation accuracy and its baseline."""
    statuses = statuses or {}
    rows, runs = [], []
    for (cond, recipe), accs in arms.items():
        role = "recommended" if recipe == REF else "anti-pattern"
        for seed, acc in zip(SEEDS, accs):
            run = f"{exp}|{ds}|{cond}|{recipe}|{seed}"
            status = statuses.get((cond, recipe, seed), "ok")
            key = dict(run=run, experiment=exp, dataset=ds, problem="binary", target="classes",
                       recipe=recipe, role=role, seed=seed, trainer="stacked", condition=cond)
            runs.append(dict(key, status=status, epochs=2, seconds=1.0, config=None))
            if status == "failed":
                continue
            rows += [dict(key, epoch=1, split="val", metric="accuracy", value=acc / 2),
                     dict(key, epoch=2, split="val", metric="accuracy", value=acc),
                     dict(key, epoch=0, split="val", metric="baseline_accuracy", value=BASE)]
    return pd.DataFrame(rows), pd.DataFrame(runs)


def _one(e, recipe=ALT, condition="c"):
    r = e[(e["recipe"] == recipe) & (e["condition"] == condition) & (e["metric"] == "accuracy")]
    assert len(r) == 1
    return r.iloc[0]


@pytest.mark.parametrize("shift, outcome", [
    ([+0.05] * 6, "better"),
    ([-0.05] * 6, "worse"),
    ([0.001, -0.002, 0.0, 0.002, -0.001, 0.001], "equivalent"),  # inside the 1 pp margin
    ([0.05, -0.06, 0.04, -0.05, 0.06, -0.04], "inconclusive"),
])
def test_outcomes_from_known_numbers(shift, outcome):
    alt = [a + s for a, s in zip(REF_ACC, shift)]
    e = recipes.effects(*_tables({("c", REF): REF_ACC, ("c", ALT): alt}))
    r = _one(e)
    assert r["reference"] == REF and r["n_paired"] == 6 and r["outcome"] == outcome
    assert r["difference"] == pytest.approx(np.mean(shift))
    assert r["ci_low"] <= r["difference"] <= r["ci_high"]
    assert r["margin"] == 0.01 and r["baseline"] == pytest.approx(BASE)
    assert r["p_min"] == pytest.approx(2 / 2 ** np.count_nonzero(shift))  # ties cannot flip
    if outcome in ("better", "worse"):
        assert r["p"] == pytest.approx(2 / 64)  # exact: only the all-same-sign patterns
        assert (r["won"], r["lost"]) == ((6, 0) if outcome == "better" else (0, 6))


def test_float_noise_is_a_tie_never_a_win():
    alt = [a + 1e-9 for a in REF_ACC]  # a logits form and its fused twin
    r = _one(recipes.effects(*_tables({("c", REF): REF_ACC, ("c", ALT): alt})))
    assert (r["won"], r["lost"], r["tied"]) == (0, 0, 6)
    assert r["difference"] == 0.0 and r["outcome"] == "equivalent" and r["p"] == 1.0


def test_few_seeds_are_never_clear():
    res, runs = _tables({("c", REF): REF_ACC, ("c", ALT): [a - 0.2 for a in REF_ACC]})
    keep = res["seed"] < 4
    r = _one(recipes.effects(res[keep], runs[runs["seed"] < 4]))
    assert r["lost"] == 4 and r["p"] == pytest.approx(0.125)
    assert r["outcome"] == "inconclusive"
    assert r["note"] == "4 seeds differ: the smallest possible p is 0.125 > 0.05"


def test_diverged_and_failed_seeds_are_scored_as_the_baseline():
    alt = [0.95] * 6
    alt[1] = alt[2] = np.nan  # diverged: NaN outputs, so NaN metrics
    statuses = {("c", ALT, 1): "diverged", ("c", ALT, 2): "diverged", ("c", ALT, 3): "failed"}
    res, runs = _tables({("c", REF): REF_ACC, ("c", ALT): alt}, statuses)
    r = _one(recipes.effects(res, runs))
    assert (r["n_runs"], r["n_diverged"], r["n_failed"], r["n_paired"]) == (6, 2, 1, 6)
    scored = np.array([0.95, BASE, BASE, BASE, 0.95, 0.95])
    assert r["difference"] == pytest.approx(np.mean(scored - REF_ACC))
    s = stats.summary(res, runs)
    s = s[(s["recipe"] == ALT)].iloc[0]
    assert (s["n"], s["n_substituted"]) == (6, 3) and s["mean"] == pytest.approx(scored.mean())
    text = " ".join(words.verdict(res, runs)[("e", "d")])
    assert "2 of 6 runs of binary_sigmoid_mse diverged (scored as the trivial baseline)." in text


def test_conditions_are_never_pooled():
    arms = {("sgd", REF): REF_ACC, ("sgd", ALT): [a - 0.3 for a in REF_ACC],
            ("adam", REF): REF_ACC, ("adam", ALT): REF_ACC}
    res, runs = _tables(arms)
    e = recipes.effects(res, runs)
    assert _one(e, condition="sgd")["outcome"] == "worse"
    assert _one(e, condition="adam")["outcome"] == "equivalent"
    assert set(e["n_paired"]) == {6}  # six seeds each, not twelve
    s = stats.summary(res, runs)
    assert set(s["n"]) == {6} and len(s) == 4
    # the claims table says where the claim holds, computed from the same rows
    claims = words.claims_table(e)
    c1 = claims[claims["claim"].str.startswith("C1")].iloc[0]
    assert c1["outcome"] == ("cross-entropy vs MSE: better under sgd (by 30.0 pp); "
                             "equivalent under adam")
    assert c1["holds"] == "partly supported: 1 of 2 conditions"
    fig = figures.plot_effects(e)
    assert isinstance(fig, Figure) and len([a for a in fig.axes if a.get_visible()]) == 1


def test_identical_inputs_give_identical_intervals():
    alt = [a - 0.03 + 0.01 * (i % 3) for i, a in enumerate(REF_ACC)]
    a = recipes.effects(*_tables({("c", REF): REF_ACC, ("c", ALT): alt}))
    # the same numbers under other names and in another row order
    res, runs = _tables({("x", REF): REF_ACC, ("x", ALT): alt}, exp="other", ds="data")
    b = recipes.effects(res.sample(frac=1.0, random_state=1), runs)
    cols = ["difference", "ci_low", "ci_high", "p"]
    assert a[cols].to_numpy().tolist() == b[cols].to_numpy().tolist()
    # and in a fresh process
    code = ("from recipes.reporting.stats import _bootstrap_ci; "
            f"print(repr(_bootstrap_ci({[x - y for x, y in zip(alt, REF_ACC)]})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(recipes.__file__).parents[1], check=True).stdout
    assert eval(out) == stats._bootstrap_ci(np.subtract(alt, REF_ACC))


def test_an_automatic_goal_below_the_trivial_baseline_is_no_goal():
    # 95% positives: the majority class scores 0.95; recipes at 0.96-0.97
    res, runs = _tables({("c", REF): [0.97] * 6, ("c", ALT): [0.96] * 6})
    res.loc[res["metric"] == "baseline_accuracy", "value"] = 0.95
    g = stats.goals(res, runs).iloc[0]
    assert g["source"] == "none" and np.isnan(g["value"])
    assert "no better than the trivial baseline's 95%" in g["rule"]
    s = stats.summary(res, runs)
    assert (s["epochs_to_goal"] == "").all() and s["baseline"].to_numpy() == pytest.approx(0.95)


def test_batched_intervals_and_p_equal_one_sample_at_a_time(monkeypatch):
    """The batched bootstrap and sign-flip test give each sample exactly what the plain
    one-sample computation gives, whatever else is in the batch and however it is cut."""
    rng = np.random.default_rng(7)
    samples = [rng.normal(size=n) for n in (0, 1, 2, 5, 5, 5, 10, 17)] + [np.zeros(4)]

    def plain_ci(x):  # the textbook computation, one sample
        x = np.sort(x)
        idx = stats._value_rng(x).integers(0, len(x), size=(stats.N_BOOT, len(x)))
        return tuple(np.percentile(x[idx].mean(axis=1), [2.5, 97.5]))

    def plain_p(d):  # every sign pattern, one sample
        d = np.sort(d)
        signs = 1 - 2 * ((np.arange(2 ** len(d))[:, None] >> np.arange(len(d))) & 1)
        tol = 1e-12 * max(1.0, np.abs(d).max())
        return np.mean(np.abs((signs * d).mean(axis=1)) >= abs(d.mean()) - tol)

    monkeypatch.setattr(stats, "BATCH_ELEMENTS", 3 * stats.N_BOOT * 5)  # cut into chunks
    lo, hi = stats._bootstrap_cis(samples)
    p = stats._sign_flip_ps(samples)
    for i, x in enumerate(samples):
        if len(x) < 2:
            assert np.isnan(lo[i]) and np.isnan(hi[i])
        else:
            assert (lo[i], hi[i]) == plain_ci(x)
        if len(x) == 0:
            assert np.isnan(p[i])
        elif not x.any():
            assert p[i] == 1.0
        elif len(x) <= stats.EXACT_PAIRS:
            assert p[i] == plain_p(x)
        else:
            assert 0 < p[i] <= 1 and p[i] == stats._sign_flip_p(x[::-1])


@pytest.mark.parametrize("ref, statuses, caveat", [
    (REF_ACC, {}, None),
    ([np.nan] * 6, {("c", REF, s): "diverged" for s in SEEDS}, "all 6 runs diverged or failed"),
    ([BASE - 0.1] * 6, {}, "no better than the trivial baseline"),
])
def test_the_recipe_to_use_says_when_its_own_runs_do_not_back_it(ref, statuses, caveat):
    res, runs = _tables({("c", REF): ref, ("c", ALT): [0.5] * 6}, statuses)
    comps = stats.comparisons(res, runs)
    table = words.problem_table(comps, stats.summary(res, runs), recipes.effects(res, runs))
    use = table["recipe to use"].iloc[0]
    assert use.startswith(REF)
    assert (use == REF) if caveat is None else (f"({caveat})" in use), use


def test_an_ok_run_without_a_finite_value_is_counted_and_shown_never_dropped_silently():
    alt = [a - 0.05 for a in REF_ACC]
    alt[1] = np.nan  # an ok run whose final accuracy is NaN
    res, runs = _tables({("c", REF): REF_ACC, ("c", ALT): alt})
    # log-loss applies to REF only (ALT has no finite value of it on any seed): n/a, not counted
    ll = res[res["metric"] == "accuracy"].assign(metric="log_loss")
    ll["value"] = np.where(ll["recipe"] == REF, 0.3, np.nan)
    res = pd.concat([res, ll], ignore_index=True)
    e = recipes.effects(res, runs)
    r = _one(e)
    assert (r["n_runs"], r["n_not_finite"], r["ref_not_finite"], r["n_paired"]) == (6, 1, 0, 5)
    assert r["won"] + r["lost"] + r["tied"] == 5  # never scored as a number
    assert "1 of 6 runs of binary_sigmoid_mse have no finite accuracy (left out)" in r["note"]
    assert not (e["metric"] == "log_loss").any()
    s = stats.summary(res, runs).set_index(["recipe", "metric"])
    assert (s.loc[(ALT, "accuracy"), "n"], s.loc[(ALT, "accuracy"), "n_not_finite"]) == (5, 1)
    assert s.loc[(ALT, "log_loss"), "n_not_finite"] == 0
    # the report: beside the diverged and failed runs, and in words
    table = words.summary_table(stats.summary(res, runs)).set_index("recipe")
    assert table.loc[ALT, "diverged / failed / no value"] == "0 / 0 / 1 of 6"
    assert table.loc[REF, "diverged / failed / no value"] == "0 / 0 / 0 of 6"
    text = " ".join(words.verdict(res, runs)[("e", "d")])
    assert ("1 of 6 runs of binary_sigmoid_mse finished without a finite final validation "
            "accuracy (left out, never scored as a number).") in text


def test_a_recipe_whose_ok_runs_all_lack_the_primary_metric_still_gets_its_row():
    res, runs = _tables({("c", REF): REF_ACC, ("c", ALT): [np.nan] * 6})
    r = _one(recipes.effects(res, runs))
    assert (r["n_paired"], r["n_not_finite"], r["outcome"]) == (0, 6, "inconclusive")


def test_two_catalog_rows_of_one_name_are_two_recipes_never_pooled_as_seeds(tmp_path):
    """A user's edited catalog row (another loss) trained into the same folder: its runs
    are another recipe, labelled with the row's fingerprint, never extra runs of a seed."""
    from recipes.catalog.table import default_path, load_catalog
    from recipes.results.store import Store

    bundled = Path(default_path()).read_text(encoding="utf-8")
    row = "binary,binary_sigmoid_mse,anti-pattern,sigmoid,mse,"
    mine = tmp_path / "mine.csv"
    mine.write_text(bundled.replace(row, row.replace(",mse,", ",huber,")), encoding="utf-8")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    kw = dict(recipes=[REF, ALT], seeds=3, epochs=1, out=tmp_path / "r", progress=False)
    for catalog in (None, mine):
        assert recipes.compare(X, y, catalog=catalog, **kw).groupby("recipe").run.nunique(
        ).to_dict() == {REF: 3, ALT: 3}
    labels = {f"{ALT} (row {load_catalog(c).get(ALT).fingerprint})" for c in (None, mine)}
    results = recipes.load_results(tmp_path / "r")
    runs = Store(tmp_path / "r", create=False).runs()
    assert results.run.nunique() == 9   # the reference's 3 runs are shared
    for res, rns in ((results, None), (results, runs),   # the row: in the frame, or the configs
                     (results.drop(columns="recipe_row"), runs.drop(columns="recipe_row"))):
        e = recipes.effects(res, rns)
        e = e[e["primary"]]
        assert set(e["recipe"]) == labels and set(e["reference"]) == {REF}
        assert set(e["n_runs"]) == set(e["n_paired"]) == {3}   # never more pairs than seeds
        s = stats.summary(res, rns)
        assert set(s.loc[s["primary"], "recipe"]) == labels | {REF} and set(s["n"]) == {3}
    # without the row anywhere, the runs cannot be told apart: a clear error, not a pool
    with pytest.raises(ValueError, match=r"2 runs of 'binary_sigmoid_mse' with seed 0 in "
                                         r"compare / compare .*the results do not say how"):
        recipes.effects(results.drop(columns="recipe_row"))


def test_runs_that_differ_beyond_their_condition_are_an_error_not_extra_seeds():
    res, runs = _tables({("c", REF): REF_ACC, ("c", ALT): REF_ACC})
    again, again_runs = _tables({("c", ALT): REF_ACC})
    again["run"] += "-v2"
    again_runs["run"] += "-v2"
    runs["config"] = [{"claim": "first"}] * len(runs)
    again_runs["config"] = [{"claim": "second"}] * len(again_runs)
    with pytest.raises(ValueError, match=r"one run per recipe, condition, seed and trainer.*"
                                         r"Received: 2 runs of 'binary_sigmoid_mse' with seed 0 "
                                         r"in e / d under the condition 'c' \(runs "
                                         r"\['e\|d\|c\|binary_sigmoid_mse\|0', '.*-v2'\]\); their "
                                         r"configs differ in \['claim'\], and 5 more such seeds"):
        recipes.effects(pd.concat([res, again]), pd.concat([runs, again_runs]))


# --- the words match the size: a difference that matters, or one merely detectable ------

M = 0.01   # the margin of accuracy: 1 percentage point


@pytest.mark.parametrize("ci, p, margin, higher, word", [
    ((0.65, 0.75), 0.002, M, True, "better"),                  # +70 pp, all beyond the margin
    ((0.012, 0.03), 0.03, M, True, "better"),                  # just beyond it
    ((-0.03, -0.012), 0.03, M, True, "worse"),
    ((0.005, 0.023), 0.002, M, True, "detectably better"),      # +1.4 pp [0.5, 2.3]
    ((-0.012, -0.005), 0.004, M, True, "detectably worse"),     # -0.84 pp [-1.2, -0.5]
    ((0.001, 0.009), 0.03, M, True, "equivalent"),             # detectable yet negligible
    ((-0.004, 0.006), 0.5, M, True, "equivalent"),
    ((-0.004, 0.016), 0.5, M, True, "inconclusive"),           # includes 0, reaches past m
    ((0.02, 0.05), 0.125, M, True, "inconclusive"),            # beyond, but p > 0.05
    ((0.02, 0.03), 0.03, M, False, "worse"),                   # a loss went up
    ((-0.03, -0.02), 0.03, M, False, "better"),
    ((-0.03, -0.005), 0.03, M, False, "detectably better"),
    ((0.02, 0.03), 0.03, np.nan, True, "detectably better"),   # no margin known: size unknown
    ((-0.002, 0.002), 0.9, np.nan, True, "inconclusive"),
])
def test_the_outcome_word_follows_the_interval_against_the_margin(ci, p, margin, higher, word):
    assert stats.outcome_of(*ci, p, margin, higher) == word


@pytest.mark.parametrize("shift, outcome", [
    ([0.005, 0.02, 0.01, 0.015, 0.008, 0.025], "detectably better"),   # CI reaches inside 1 pp
    ([0.25, 0.3, 0.28, 0.32, 0.27, 0.29], "better"),
    ([-0.005, -0.02, -0.01, -0.015, -0.008, -0.025], "detectably worse"),
])
def test_effects_say_apart_a_difference_that_matters_from_one_merely_detectable(shift, outcome):
    alt = [a + s for a, s in zip(REF_ACC, shift)]
    e = recipes.effects(*_tables({("c", REF): REF_ACC, ("c", ALT): alt}))
    r = _one(e)
    assert r["p"] <= stats.ALPHA and (r["ci_low"] > 0 or r["ci_high"] < 0)   # detectable
    assert r["outcome"] == outcome
    assert (r["ci_low"] > M or r["ci_high"] < -M) == (outcome in ("better", "worse"))
    table = words.effects_table(e).iloc[0]
    if outcome.startswith("detectably"):
        assert table["outcome"] == (f"{outcome}, may be negligible (the CI reaches inside "
                                    f"± 1.0 pp)")


# --- effects carry their settings: one column per setting, nothing parses a label -------

def _with_settings(res, runs, settings):
    """The tables with ``settings`` ({condition: {setting: value}}) as the runs' configs."""
    runs = runs.assign(config=[dict(settings[c]) for c in runs["condition"]])
    return res, runs


def test_effects_have_one_column_per_setting_read_from_the_configs_never_the_label():
    # labels that say nothing (and one that lies): the settings come from the configs
    arms = {("A", REF): REF_ACC, ("A", ALT): [a - 0.3 for a in REF_ACC],
            ("lr=0.5 backend=jax", REF): REF_ACC, ("lr=0.5 backend=jax", ALT): REF_ACC}
    settings = {"A": {"optimizer": "sgd", "learning_rate": 0.01, "epochs": 7},
                "lr=0.5 backend=jax": {"optimizer": "sgd", "learning_rate": 0.1, "epochs": 7}}
    e = recipes.effects(*_with_settings(*_tables(arms), settings))
    for name in recipes.Settings.names():
        assert name in e.columns
    assert e.columns.get_loc("condition") < e.columns.get_loc("learning_rate") < \
        e.columns.get_loc("recipe")
    assert e["learning_rate"].dtype == float and e["epochs"].dtype.kind == "i"
    assert set(e["learning_rate"]) == {0.01, 0.1} and set(e["backend"]) == {"tensorflow"}
    assert set(e["optimizer"]) == {"sgd"} and set(e["hidden"]) == {"32"}
    assert set(e["tuned"]) == {""} and set(e["trainer"]) == {"stacked"}
    # filter with pandas, no label in sight
    slow = e[(e["learning_rate"] == 0.01) & e["primary"]].iloc[0]
    assert slow["outcome"] == "worse" and slow["condition"] == "A"
    # the report's short labels are read from the same columns
    assert words.short_conditions(e) == {"A": "lr=0.01", "lr=0.5 backend=jax": "lr=0.1"}
    s = stats.summary(*_with_settings(*_tables(arms), settings))
    assert set(s["learning_rate"]) == {0.01, 0.1} and set(s["epochs"]) == {7}


def test_setting_columns_of_the_results_and_a_tuned_setting():
    arms = {("c", REF): REF_ACC, ("c", ALT): [a - 0.05 for a in REF_ACC]}
    res, runs = _tables(arms)
    # the results' own setting columns (recipes.load_results), no config at all
    rate = {REF: 0.3, ALT: 0.03}   # tuned: each recipe trained at its own rate
    res = res.assign(optimizer="sgd", learning_rate=res["recipe"].map(rate), batch_size=16)
    e = recipes.effects(res)
    assert set(e["optimizer"]) == {"sgd"} and set(e["batch_size"]) == {16}
    assert e["learning_rate"].isna().all() and set(e["tuned"]) == {"learning_rate"}
    assert e["epochs"].isna().all()   # nothing says: missing, never guessed
    # a config that says the rate was tuned, though both recipes chose the same one
    runs = runs.assign(config=[{"optimizer": "sgd", "learning_rate": 0.1,
                                "tune": {"setting": "learning_rate"}}] * len(runs))
    e = recipes.effects(_tables(arms)[0], runs)
    assert e["learning_rate"].isna().all() and set(e["tuned"]) == {"learning_rate"}
    assert words.short_conditions(e) == {"c": "sgd lr=tuned"}
    # the results alone (recipes.load_results) of a tuned condition whose recipes all chose
    # one rate: its label is that of a tuned comparison of these settings
    from recipes.training.settings import condition

    config = {"optimizer": "sgd", "learning_rate": 0.1, "tune": {"setting": "learning_rate"}}
    label = condition(config, "stacked")
    res, _ = _tables({(label["condition"], REF): REF_ACC, (label["condition"], ALT): REF_ACC})
    e = recipes.effects(res.assign(**{n: label[n] for n in recipes.Settings.names()}))
    assert e["learning_rate"].isna().all() and set(e["tuned"]) == {"learning_rate"}
    assert set(e["hidden"]) == {"32"} and set(e["optimizer"]) == {"sgd"}
    untuned = condition({"optimizer": "sgd", "learning_rate": 0.1}, "stacked")
    res, _ = _tables({(untuned["condition"], REF): REF_ACC, (untuned["condition"], ALT): REF_ACC})
    e = recipes.effects(res.assign(**{n: untuned[n] for n in recipes.Settings.names()}))
    assert set(e["learning_rate"]) == {0.1} and set(e["tuned"]) == {""}


def test_no_report_code_parses_a_condition_label():
    """The report reads settings from their columns: no line of recipes/reporting takes a
    setting back out of a condition's text (a ``lr=``, ``scale=``, ``backend=`` ... text
    searched for, matched or split out)."""
    import re

    from recipes.training.settings import SHORT

    names = "|".join(re.escape(SHORT.get(n, n)) for n in recipes.Settings.names())
    literal = re.compile(rf"""["'][^"']*\b({names})=""")
    parsing = re.compile(r"startswith|endswith|re\.(sub|search|match|findall|split)|"
                         r"\.split\(|\.partition\(|\.find\(|\.index\(")
    found = [f"{path.name}:{i}: {line.strip()}"
             for path in sorted(Path(stats.__file__).parent.glob("*.py"))
             for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if literal.search(line) and parsing.search(line)]
    assert not found, found
