"""Tests of recipes.reporting on tables built by hand with known numbers."""

import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import recipes
from recipes.reporting import figures, stats, words, writer

# every public name of the report in one namespace, as the tests read them
report = SimpleNamespace(**{n: getattr(m, n) for m in (stats, words, figures, writer)
                            for n in m.__all__})

EXP, DS = "exp1", "toy"
KEY = (EXP, DS)

# validation accuracy per seed, epochs 1..5
REC = {0: [.50, .70, .90, .91, .92], 1: [.50, .80, .85, .92, .94],
       2: [.60, .85, .91, .95, .96], 3: [.70, .90, .95, .97, .98]}
ALT = {0: [.30, .40, .50, .60, .70], 1: [.30, .45, .55, .65, .75],
       2: [.35, .50, .60, .70, .80], 3: [.40, .55, .65, .75, .85]}
# a third recipe: seed 0 ok, seeds 1 and 2 diverge (NaN from epoch 3), seed 3 fails
BAD = {0: [.10, .15, .20, .25, .30], 1: [.10, .12, np.nan, np.nan, np.nan],
       2: [.10, .11, np.nan, np.nan, np.nan]}


def _rows(recipe, role, curves, target="classes", exp=EXP, ds=DS, extra_metrics=True):
    rows = []
    for seed, accs in curves.items():
        run = f"{exp}-{ds}-{recipe}-{seed}"
        base = dict(run=run, experiment=exp, dataset=ds, problem="multiclass", target=target,
                    recipe=recipe, role=role, seed=seed, trainer="keras")
        for epoch, acc in enumerate(accs, start=1):
            ll = -np.log(max(acc, 1e-3)) if np.isfinite(acc) else np.nan
            rows += [
                dict(base, epoch=epoch, split="val", metric="accuracy", value=acc),
                dict(base, epoch=epoch, split="train", metric="accuracy",
                     value=min(1.0, acc + 0.02) if np.isfinite(acc) else np.nan),
                dict(base, epoch=epoch, split="train", metric="loss", value=1.0 / epoch),
                dict(base, epoch=epoch, split="train", metric="grad_norm",
                     value=0.5 / epoch + 0.01 * seed),
                dict(base, epoch=epoch, split="train", metric="seconds", value=0.1 * epoch),
            ]
            if extra_metrics:
                rows.append(dict(base, epoch=epoch, split="val", metric="log_loss", value=ll))
    return rows


def _runs(recipe, role, seeds, statuses=None, errors=None, config=None, exp=EXP, ds=DS):
    statuses = statuses or {}
    errors = errors or {}
    return [dict(run=f"{exp}-{ds}-{recipe}-{s}", experiment=exp, dataset=ds,
                 problem="multiclass", target="classes", recipe=recipe, role=role, seed=s,
                 trainer="keras", status=statuses.get(s, "ok"), error=errors.get(s),
                 epochs=5, seconds=1.0 + 0.5 * s,
                 config=json.dumps(config) if config is not None else None)
            for s in seeds]


def make_tables(goal=0.9, rec_role="recommended", alt_role="anti-pattern", with_bad=True):
    config = {"claim": "Cross-entropy beats MSE on softmax outputs.",
              "versions": {"keras": "3.3.3", "tensorflow": "2.16.1"}}
    if goal is not None:
        config["goal"] = {"metric": "accuracy", "value": goal}
    rows = _rows("rec_cce", rec_role, REC) + _rows("alt_mse", alt_role, ALT)
    runs = (_runs("rec_cce", rec_role, REC, config=config)
            + _runs("alt_mse", alt_role, ALT, config=config))
    if with_bad:
        rows += _rows("bad_linear", "anti-pattern", BAD)
        runs += _runs("bad_linear", "anti-pattern", [0, 1, 2, 3],
                      statuses={1: "diverged", 2: "diverged", 3: "failed"},
                      errors={1: "loss became NaN", 3: "ValueError: boom"}, config=config)
    return pd.DataFrame(rows), pd.DataFrame(runs)


@pytest.fixture(scope="module")
def tables():
    return make_tables()


@pytest.fixture(scope="module")
def summ(tables):
    return report.summary(*tables)


def _row(df, recipe, metric="accuracy"):
    r = df[(df["recipe"] == recipe) & (df["metric"] == metric)]
    assert len(r) == 1
    return r.iloc[0]


def test_constants():
    assert report.HIGHER_IS_BETTER == {"accuracy", "balanced_accuracy", "f1", "pr_auc"}
    assert report.PRIMARY["classes"] == "accuracy" and report.PRIMARY["counts"] == "mse"


def test_summary_exact_values(summ):
    rec = _row(summ, "rec_cce")
    assert rec["n"] == 4
    assert rec["mean"] == pytest.approx(0.95)
    assert rec["std"] == pytest.approx(np.std([.92, .94, .96, .98], ddof=1))
    assert rec["std"] == pytest.approx(0.0258198889747)
    alt = _row(summ, "alt_mse")
    assert alt["mean"] == pytest.approx(0.775)
    assert alt["std"] == pytest.approx(0.0645497224368)
    # AULC: mean over epochs, then over seeds
    assert rec["aulc"] == pytest.approx(np.mean([.786, .802, .854, .9]))
    assert rec["aulc"] == pytest.approx(0.8355)
    assert alt["aulc"] == pytest.approx(np.mean([np.mean(v) for v in ALT.values()]))
    # only common metrics on the validation split; loss / grad_norm / seconds excluded
    assert set(summ["metric"]) == {"accuracy", "log_loss"}
    assert rec["primary"] and not _row(summ, "rec_cce", "log_loss")["primary"]
    assert rec["seconds_per_run"] == pytest.approx(np.mean([1.0, 1.5, 2.0, 2.5]))


def test_bootstrap_ci_brackets_mean_and_is_reproducible(tables, summ):
    for _, r in summ[summ["n"] >= 2].iterrows():
        assert r["ci_low"] <= r["mean"] <= r["ci_high"]
        assert r["ci_low"] < r["ci_high"]
    again = report.summary(*tables)
    pd.testing.assert_frame_equal(summ, again)
    # independent of row order
    shuffled = tables[0].sample(frac=1.0, random_state=3)
    pd.testing.assert_series_equal(
        summ.set_index(["recipe", "metric"])["ci_low"].sort_index(),
        report.summary(shuffled, tables[1]).set_index(["recipe", "metric"])["ci_low"].sort_index())
    rec = _row(summ, "rec_cce")
    assert rec["ci_low"] >= 0.92 and rec["ci_high"] <= 0.98


def test_epochs_to_goal(summ):
    rec = _row(summ, "rec_cce")
    assert rec["goal"] == 0.9 and rec["goal_source"] == "config"
    assert rec["goal_epochs"] == pytest.approx(3.0)  # epochs 3, 4, 3, 2
    assert rec["epochs_to_goal"] == "3 (4/4)"
    assert _row(summ, "alt_mse")["epochs_to_goal"] == "not reached (0/4)"
    # goal columns only on the goal metric
    assert _row(summ, "rec_cce", "log_loss")["epochs_to_goal"] == ""


def test_epochs_to_goal_partial():
    s = report.summary(*make_tables(goal=0.75))
    alt = _row(s, "alt_mse")
    assert alt["goal_reached"] == 3 and alt["goal_runs"] == 4
    assert alt["goal_epochs"] == pytest.approx(14 / 3)  # seeds 1, 2, 3 at epochs 5, 5, 4
    assert alt["epochs_to_goal"] == "4.7 (3/4 reached)"
    # failed runs count in the denominator
    bad = _row(s, "bad_linear")
    assert bad["goal_runs"] == 4 and bad["epochs_to_goal"] == "not reached (0/4)"


def test_automatic_goal_is_symmetric():
    res, runs = make_tables(goal=None)
    g = report.goals(res, runs)
    assert len(g) == 1 and g.iloc[0]["source"] == "auto"
    assert g.iloc[0]["metric"] == "accuracy"
    assert g.iloc[0]["value"] == pytest.approx(0.95 * 0.95)  # best final mean is rec_cce's
    # swap the roles: the goal does not depend on which recipe is recommended
    res2, runs2 = make_tables(goal=None, rec_role="anti-pattern", alt_role="recommended")
    assert report.goals(res2, runs2).iloc[0]["value"] == pytest.approx(0.9025)
    # lower is better: 1.05 x best
    res3 = res.copy()
    res3["target"] = "values"
    res3.loc[res3["metric"] == "accuracy", "metric"] = "mse"
    runs3 = runs.copy()
    runs3["config"] = None
    g3 = report.goals(res3, runs3)
    assert g3.iloc[0]["metric"] == "mse"
    best = min(np.mean([v[-1] for v in REC.values()]), np.mean([v[-1] for v in ALT.values()]),
               0.30)
    assert g3.iloc[0]["value"] == pytest.approx(1.05 * best)


def test_diverged_and_failed_counted(summ):
    bad = _row(summ, "bad_linear")
    assert (bad["n_runs"], bad["n_ok"], bad["n_diverged"], bad["n_failed"]) == (4, 1, 2, 1)
    assert bad["n"] == 1  # only the run with a finite final value
    assert bad["mean"] == pytest.approx(0.30)
    assert np.isnan(bad["std"]) and np.isnan(bad["ci_low"])


def test_paired(tables):
    p = report.paired(*tables)
    r = p[(p["recipe"] == "alt_mse") & (p["metric"] == "accuracy")].iloc[0]
    assert r["baseline"] == "rec_cce"
    assert r["n_pairs"] == 4
    assert r["mean_diff"] == pytest.approx(-0.175)  # -.22 -.19 -.16 -.13
    assert (r["n_won"], r["n_lost"], r["n_tied"]) == (0, 4, 0)
    assert r["ci_low"] <= -0.175 <= r["ci_high"] < 0
    assert r["p_value"] == pytest.approx(2 / 16)  # exact sign flip, all 4 the same sign
    # 4 seeds cannot give p <= 0.05 (the smallest possible p is 2/2^4): never "clear"
    assert r["p_min"] == pytest.approx(0.125) and r["outcome"] == "inconclusive"
    assert "smallest possible p is 0.125 > 0.05" in r["note"]
    # log_loss is lower-is-better: alt has higher log_loss -> lost too
    r2 = p[(p["recipe"] == "alt_mse") & (p["metric"] == "log_loss")].iloc[0]
    assert r2["mean_diff"] > 0 and r2["n_lost"] == 4
    # bad_linear has one paired seed only
    r3 = p[(p["recipe"] == "bad_linear") & (p["metric"] == "accuracy")].iloc[0]
    assert r3["n_pairs"] == 1 and r3["outcome"] == "inconclusive"
    assert r3["note"] == "only 1 paired seed"


def test_verdict_names_goal_reacher_and_loser(tables):
    v = report.verdict(*tables)
    assert set(v) == {KEY}
    text = " ".join(v[KEY])
    assert ("rec_cce reached 90% validation accuracy in 3 epochs (4/4 seeds); "
            "alt_mse never did in 5 epochs (0/4 seeds)") in text
    assert ("alt_mse vs rec_cce, validation accuracy: inconclusive: -17.5 pp (95% CI"
            in text)
    assert "worse on 4/4; sign-flip p = 0.12; 4 seeds differ: the smallest possible p is " \
           "0.125 > 0.05." in text
    # no baseline rows in this hand-made table: the diverged runs cannot be scored
    assert "2 of 4 runs of bad_linear diverged (no baseline recorded: left out)." in text
    assert "1 of 4 runs of bad_linear failed (ValueError: boom)" in text
    assert ("Final validation accuracy, best first: rec_cce (95.0% ± 2.6 points, 4 seeds); "
            "alt_mse (77.5% ± 6.5 points, 4 seeds); bad_linear (30.0%, 1 seed).") in text


def test_verdict_alternative_wins():
    # the same numbers, but the weaker recipe is now the recommended one
    res, runs = make_tables(rec_role="alternative", alt_role="recommended", with_bad=False)
    v = report.verdict(res, runs)[KEY]
    text = " ".join(v)
    assert "rec_cce vs alt_mse, validation accuracy: inconclusive: +17.5 pp" in text
    assert "better on 4/4 seeds" in text
    # goal sentence is ordered by role but its content comes from the numbers
    assert "alt_mse never reached 90% validation accuracy in 5 epochs (0/4 seeds)" in text
    assert "rec_cce reached it in 3 epochs (4/4 seeds)" in text


def test_verdict_no_clear_difference():
    twin = {s: [a + d for a in accs] for (s, accs), d in
            zip(REC.items(), [0.01, -0.01, 0.02, -0.02])}
    res = pd.DataFrame(_rows("rec_cce", "recommended", REC) + _rows("twin", "alternative", twin))
    runs = pd.DataFrame(_runs("rec_cce", "recommended", REC) + _runs("twin", "alternative", twin))
    p = report.paired(res, runs)
    r = p[(p["recipe"] == "twin") & (p["metric"] == "accuracy")].iloc[0]
    assert r["mean_diff"] == pytest.approx(0.0, abs=1e-12)
    assert (r["n_won"], r["n_lost"]) == (2, 2)
    assert r["outcome"] == "inconclusive"  # the CI reaches beyond the 1 pp margin
    text = " ".join(report.verdict(res, runs)[KEY])
    assert "twin vs rec_cce, validation accuracy: inconclusive: " in text
    assert "better:" not in text and "worse:" not in text


def test_recommended_without_runs():
    res, runs = make_tables(with_bad=False)
    res = res[res["recipe"] != "rec_cce"]
    runs = runs.copy()
    runs.loc[runs["recipe"] == "rec_cce", "status"] = "failed"
    runs.loc[runs["recipe"] == "rec_cce", "error"] = "RuntimeError: out of memory"
    p = report.paired(res, runs)
    assert not len(p)  # nothing to compare with
    text = " ".join(report.verdict(res, runs)[KEY])
    assert "No paired comparison: recommended recipe rec_cce has no completed runs" in text
    assert "4 of 4 runs of rec_cce failed (RuntimeError: out of memory)" in text
    s = report.summary(res, runs)
    assert _row(s, "rec_cce")["n"] == 0 and _row(s, "rec_cce")["n_failed"] == 4


def test_curves(tables):
    c = report.curves(tables[0])
    r = c[(c["recipe"] == "rec_cce") & (c["split"] == "val") & (c["metric"] == "accuracy")
          & (c["epoch"] == 2)].iloc[0]
    x = [REC[s][1] for s in range(4)]
    assert r["n"] == 4
    assert r["mean"] == pytest.approx(np.mean(x))
    assert r["std"] == pytest.approx(np.std(x, ddof=1))
    assert r["lower"] == pytest.approx(np.percentile(x, 2.5))
    assert r["upper"] == pytest.approx(np.percentile(x, 97.5))
    # diverged seeds are missing from epoch 3 on
    b = c[(c["recipe"] == "bad_linear") & (c["split"] == "val") & (c["metric"] == "accuracy")]
    assert list(b.sort_values("epoch")["n"]) == [3, 3, 1, 1, 1]


def test_plots_return_figures(tables, summ):
    res, runs = tables
    c = report.curves(res)
    g = report.goals(res, runs)
    p = report.paired(res, runs)
    figs = [report.plot_curves(c, g), report.plot_curves(c, g, comparison=KEY),
            report.plot_final(summ), report.plot_paired(p), report.plot_grad_norm(c)]
    for fig in figs:
        assert isinstance(fig, Figure)
    assert figs[-1].axes[0].get_yscale() == "log"
    assert len([ax for ax in figs[0].axes if ax.get_visible()]) == 2  # accuracy, log_loss


def test_write_report(tmp_path, tables):
    res, runs = tables
    extra = report.plot_grad_norm(report.curves(res))
    path = report.write_report(
        res, runs, tmp_path / "rep",
        extras={KEY: [("Gradient analysis", extra), ("Notes", "Some *notes* with `code`.")]},
        appendix=[("Appendix figure", extra), ("Appendix text", "# Heading\n\n- a\n- b")])
    assert path == tmp_path / "rep" / "report.md"
    md = path.read_text()
    page = (tmp_path / "rep" / "report.html").read_text()
    pngs = sorted((tmp_path / "rep" / "figures").glob("*.png"))
    assert len(pngs) >= 5
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"figures/{png.name}" in md
    # self-contained: every src= is a data: URI, no external stylesheet
    srcs = re.findall(r"""src\s*=\s*["']([^"']*)""", page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "<link" not in page and "http://" not in page and "https://" not in page
    for text in (md, page):
        assert "Cross-entropy beats MSE on softmax outputs." in text
        assert "losses are not comparable" in text
        assert "Gradient analysis" in text and "Appendix figure" in text
        assert "ValueError: boom" in text
        assert "keras 3.3.3" in text
    assert "alt_mse vs rec_cce, validation accuracy: inconclusive: -17.5 pp" in md
    # the first screen (claims, recipe to use) comes first; each verdict before its table
    assert md.index("## Summary") < md.index(f"## {EXP} / {DS}") < md.index("### Verdict") \
        < md.index("### Summary") < md.index("## How to read the numbers")
    assert "| rec_cce |" in md and "Margins of practical equivalence" in md
    assert "rec_cce vs alt_mse" not in md  # claims are read from effects, not written
    assert "| recipe | role |" in md
    assert not list((tmp_path / "rep").glob(".*.tmp*"))


def test_write_report_failure_keeps_old_report(tmp_path, tables):
    res, runs = tables
    path = report.write_report(res, runs, tmp_path)
    before = path.read_text()
    html_before = (tmp_path / "report.html").read_text()
    with pytest.raises(TypeError):
        report.write_report(res, runs, tmp_path, appendix=[("broken", object())])
    assert path.read_text() == before
    assert (tmp_path / "report.html").read_text() == html_before
    assert not list(tmp_path.glob(".*.tmp*"))


def test_stats_and_words_import_without_matplotlib():
    code = ("import sys, recipes.reporting, recipes.reporting.stats, recipes.reporting.words; "
            "print(sorted(m for m in ('matplotlib', 'tensorflow') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(recipes.__file__).parents[1], check=True)
    assert done.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """A tiny real comparison: 2 recipes x 2 seeds x 2 epochs on a third of iris."""
    from recipes.results.runner import compare
    from recipes.training import data

    out = tmp_path_factory.mktemp("compared") / "results"
    ds = data.load("iris")
    results = compare(ds.X[::3], ds.y[::3], seeds=2, epochs=2, out=out, progress=False,
                      recipes=["multiclass_softmax_cce", "multiclass_softmax_mse"])
    return out, results


def _files(folder):
    """The report's files (not its cache)."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).parts[0] != writer.CACHE}


def test_report_from_directory_and_from_compare_frame_are_the_same(tmp_path, compared):
    results_dir, results = compared
    assert results.attrs["store"] == str(results_dir)
    from_dir = writer.report(results_dir, tmp_path / "from-dir", backends=["tensorflow"])
    from_frame = writer.report(results, tmp_path / "from-frame", backends=["tensorflow"])
    assert from_dir == tmp_path / "from-dir" / "report.html"
    assert from_frame == tmp_path / "from-frame" / "report.html"
    a, b = _files(tmp_path / "from-dir"), _files(tmp_path / "from-frame")
    assert a.keys() == b.keys() and a == b
    md = a[Path("report.md")].decode()
    for title in ("## Appendix", "C2: loss surfaces", "C6: MSE ranks predictions",
                  "C3: the gradient at the true class's logit",
                  "Gradients at the output pre-activation: multiclass"):
        assert title in md
    # compare() without a name calls its experiment and data "compare": said once (#24)
    assert "multiclass_softmax_mse" in md and "## compare\n" in md
    assert "compare / compare" not in md


def test_report_of_a_frame_reads_only_its_runs(tmp_path, compared):
    results_dir, results = compared
    one = results[results["recipe"] == "multiclass_softmax_cce"]
    writer.report(one, tmp_path / "one", appendix=False)
    md = (tmp_path / "one" / "report.md").read_text()
    assert "multiclass_softmax_cce" in md and "multiclass_softmax_mse" not in md
    assert "Appendix" not in md


def test_report_of_a_frame_without_a_store_needs_runs(tmp_path, tables):
    res, runs = tables
    with pytest.raises(ValueError, match="pass the results directory"):
        writer.report(res, tmp_path / "rep", appendix=False)
    assert not (tmp_path / "rep").exists()
    path = writer.report(res, tmp_path / "rep", runs=runs, appendix=False)
    assert path.read_text().startswith("<!DOCTYPE html>")


def test_report_on_a_missing_directory_raises_and_creates_nothing(tmp_path):
    from recipes import cli

    with pytest.raises(FileNotFoundError, match="No results store"):
        writer.report(tmp_path / "missing", tmp_path / "out")
    assert cli.main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    assert not list(tmp_path.iterdir())


# --- speed: figures drawn in worker processes, cached by their numbers ---------------

def test_a_second_report_draws_no_figure_and_a_changed_table_redraws_its_own(tmp_path, tables):
    res, runs = tables
    out = tmp_path / "rep"
    report.write_report(res, runs, out)
    first = _files(out)
    drawn = writer.timings["figures drawn"]
    assert drawn >= 3 and writer.timings["figures from the cache"] == 0
    cached = sorted((out / writer.CACHE / "figures").glob("*.png"))
    assert len(cached) == drawn
    report.write_report(res, runs, out)
    assert writer.timings["figures drawn"] == 0
    assert writer.timings["figures from the cache"] == drawn
    assert _files(out) == first  # the same report, byte for byte
    # one recipe's curve moves: the figures drawn from it are drawn again, and the
    # cache keeps only what this report uses
    moved = res.assign(value=np.where((res["recipe"] == "alt_mse") & (res["epoch"] == 5)
                                      & (res["metric"] == "accuracy"), 0.5, res["value"]))
    report.write_report(moved, runs, out)
    assert 0 < writer.timings["figures drawn"] < drawn
    assert len(list((out / writer.CACHE / "figures").glob("*.png"))) == drawn


def test_a_figure_kept_in_a_shared_folder_is_read_back_by_another_report(tmp_path):
    import functools

    from recipes.reporting.render import Renderer

    df = pd.DataFrame({"epoch": [1, 2, 3], "mean": [0.1, 0.2, 0.3], "lower": [0.05, 0.1, 0.2],
                       "upper": [0.2, 0.3, 0.4], "recipe": ["a"] * 3, "role": ["recommended"] * 3,
                       "experiment": ["e"] * 3, "dataset": ["d"] * 3,
                       "metric": ["grad_norm"] * 3, "split": ["train"] * 3})
    plot = functools.partial(figures.plot_grad_norm, df)
    shared = tmp_path / "user" / "figures"
    with Renderer(workers=1, cache=tmp_path / "one") as first:
        first.submit("figures/g.png", plot, cache=shared)
        first.submit("figures/own.png", functools.partial(figures.plot_grad_norm, df.assign(
            mean=[0.2, 0.3, 0.4])))
        png = first.results()["figures/g.png"]
        first.prune()
    assert first.drawn == 2 and [p.read_bytes() for p in shared.glob("*.png")] == [png]
    assert len(list((tmp_path / "one").glob("*.png"))) == 1  # only its own figure
    with Renderer(workers=1, cache=tmp_path / "two") as second:  # a new report folder
        second.submit("figures/g.png", plot, cache=shared)
        assert second.results()["figures/g.png"] == png
        second.prune()
    assert second.drawn == 0 and len(list(shared.glob("*.png"))) == 1


def test_plot_key_follows_the_numbers_not_the_index():
    import functools

    from recipes.reporting.render import plot_key

    df = pd.DataFrame({"epoch": [1, 2, 3], "mean": [0.1, 0.2, 0.3], "recipe": ["a", "a", "b"]})
    key = plot_key(functools.partial(figures.plot_grad_norm, df))
    assert key == plot_key(functools.partial(figures.plot_grad_norm, df.set_index(
        pd.Index([7, 8, 9]))))
    assert key != plot_key(functools.partial(figures.plot_grad_norm, df.assign(mean=[0.1, 0.2, 0.4])))
    assert key != plot_key(functools.partial(figures.plot_grad_norm, df, metric="loss"))
    assert key != plot_key(functools.partial(figures.plot_curves, df))
    # a Figure, or arguments without stable contents, are drawn every time
    assert plot_key(Figure()) is None
    assert plot_key(functools.partial(figures.plot_grad_norm, object())) is None


def test_report_backends_section_cached_once_per_user_and_the_results_only_read(
        tmp_path, compared, monkeypatch):
    results_dir, _ = compared
    monkeypatch.setenv("RECIPES_CACHE_DIR", str(tmp_path / "user-cache"))
    before = {p.name: p.read_bytes() for p in results_dir.iterdir()
              if not p.name.startswith("results.sqlite-")}
    out = tmp_path / "rep"
    writer.report(results_dir, out, appendix=False, backends=["tensorflow"])
    md = (out / "report.md").read_text()
    assert "## Backends" in md and "computed on tensorflow" in md
    matrix = tmp_path / "user-cache" / writer.NUMBERS / "backend_matrix.json"
    stamp = matrix.stat().st_mtime_ns
    writer.report(results_dir, out, appendix=False, backends=["tensorflow"])
    assert matrix.stat().st_mtime_ns == stamp  # read back, not computed again
    assert (out / "report.md").read_text() == md
    writer.report(results_dir, tmp_path / "new", appendix=False, backends=["tensorflow"])
    assert matrix.stat().st_mtime_ns == stamp  # a new report folder reads it too
    assert (tmp_path / "new" / "report.md").read_text() == md
    after = {p.name: p.read_bytes() for p in results_dir.iterdir()
             if not p.name.startswith("results.sqlite-")}
    assert after == before  # nothing written into the results folder
    writer.report(results_dir, tmp_path / "none", appendix=False, backends=False)
    assert "## Backends" not in (tmp_path / "none" / "report.md").read_text()


def test_report_refuses_an_unknown_backend_before_anything_starts(tmp_path, compared):
    results_dir, _ = compared
    with pytest.raises(ValueError, match="'tensorflow', 'jax', 'torch'.*backend='jaxx'"):
        writer.report(results_dir, tmp_path / "rep", appendix=False, backends=["jaxx"])
    assert not (tmp_path / "rep").exists()


def test_a_shared_figure_folder_loses_only_what_no_report_used_for_a_month(tmp_path):
    import functools
    import os
    import time

    from recipes.reporting.render import PRUNE_DAYS, Renderer

    df = pd.DataFrame({"epoch": [1, 2], "mean": [0.1, 0.2], "lower": [0.05, 0.1],
                       "upper": [0.2, 0.3], "recipe": ["a"] * 2, "role": ["recommended"] * 2,
                       "experiment": ["e"] * 2, "dataset": ["d"] * 2,
                       "metric": ["grad_norm"] * 2, "split": ["train"] * 2})
    shared = tmp_path / "user" / "figures"
    with Renderer(workers=1, cache=tmp_path / "rep") as first:
        first.submit("figures/g.png", functools.partial(figures.plot_grad_norm, df), cache=shared)
        first.results()
    (used,) = shared.glob("*.png")
    stale, recent = shared / "0ld.png", shared / "n3w.png"    # drawn by older code
    for f in (stale, recent):
        f.write_bytes(b"png")
    old = time.time() - (PRUNE_DAYS + 1) * 86400
    for f in (stale, used):
        os.utime(f, (old, old))
    with Renderer(workers=1, cache=tmp_path / "rep") as second:
        second.submit("figures/g.png", functools.partial(figures.plot_grad_norm, df), cache=shared)
        assert second.prune_shared(shared) == 1
        second.results()
    # the stale one is gone; the one this report uses stays (and is marked used), as does
    # the one another report used recently
    assert sorted(f.name for f in shared.glob("*.png")) == sorted([used.name, recent.name])
    assert used.stat().st_mtime > old + 86400 and second.drawn == 0


# --- numbers a reader can read: units, no nan, digits the interval supports -------------

def test_every_effect_has_its_unit_and_no_undefined_number_reads_nan(tmp_path):
    """A recipe tied with the recommended one on every seed has a sign-flip p of 1 and no
    smallest p (no sign to flip): the report says why instead of printing nan."""
    res, runs = make_tables(with_bad=True)
    twin = pd.DataFrame(_rows("twin_logits", "alternative", REC))
    res = pd.concat([res, twin], ignore_index=True)
    runs = pd.concat([runs, pd.DataFrame(_runs("twin_logits", "alternative", REC))],
                     ignore_index=True)
    e = report.effects(res, runs)
    table = report.effects_table(e, KEY, primary_only=False).set_index(["recipe", "metric"])
    tied = table.loc[("twin_logits", "accuracy ↑")]
    assert tied["p (min)"] == "1 (all seeds tied)"
    assert tied["difference [95% CI]"] == "0 pp [0, 0]"
    assert table.loc[("alt_mse", "accuracy ↑"), "difference [95% CI]"] == (
        "-17.5 pp [-20.5, -14.5]")
    assert table.loc[("alt_mse", "log_loss ↓"), "difference [95% CI]"].split(" [")[0].endswith(
        " nats")
    for cell in table["difference [95% CI]"]:
        assert cell.split(" [")[0].split(" ", 1)[1] in ("pp", "nats"), cell
    md = report.write_report(res, runs, tmp_path / "rep").read_text()
    assert not re.search(r"\bnan\b", md), re.findall(r".{60}\bnan\b.{20}", md)  # a float's nan
    assert "| twin_logits | accuracy ↑ | 0 pp [0, 0] | 0 / 0 / 4 | 1 (all seeds tied) |" in md


def _values(recipe, role, finals, metric="mse", baseline=None, target="values",
            problem="regression", extra=None):
    """Hand-made runs of one epoch: ``finals``: {seed: value of ``metric``}; ``extra``:
    {metric: {seed: value}}; ``baseline``: the trivial baseline's value of each metric."""
    rows = []
    for seed, v in finals.items():
        key = dict(run=f"{EXP}-{DS}-{recipe}-{seed}", experiment=EXP, dataset=DS,
                   problem=problem, target=target, recipe=recipe, role=role, seed=seed,
                   trainer="keras")
        for m, value in {metric: v, **{m: x[seed] for m, x in (extra or {}).items()}}.items():
            rows.append(dict(key, epoch=1, split="val", metric=m, value=value))
        for m, value in (baseline or {}).items():
            rows.append(dict(key, epoch=0, split="val", metric=f"baseline_{m}", value=value))
    return rows


def test_an_effect_s_digits_follow_its_interval_never_scientific_notation():
    ref = {s: 0.5 + 0.01 * s for s in range(6)}
    tiny = [0.0, 0.0001, 0.0002, 0.0, 0.000132, 0.0]   # mean 7.2e-05
    alt = {s: v + d for (s, v), d in zip(ref.items(), tiny)}
    res = pd.DataFrame(_values("linear_mse", "recommended", ref)
                       + _values("linear_mae", "alternative", alt))
    runs = pd.DataFrame([dict(run=r, experiment=EXP, dataset=DS, recipe=rec, seed=s,
                              status="ok", config=None)
                         for r, rec, s in res[["run", "recipe", "seed"]].drop_duplicates()
                         .itertuples(index=False)])
    e = report.effects(res, runs)
    r = e.iloc[0]
    assert r["difference"] == pytest.approx(7.2e-05) and 0 < r["ci_high"] - r["ci_low"] < 1e-3
    cell = report.effects_table(e, KEY)["difference [95% CI]"].iloc[0]
    assert "e-0" not in cell and "0.000000" not in cell
    # two significant digits of the interval's width: 1e-4 to 1e-3 wide -> 5 decimals
    low, high = cell.split("[")[1].rstrip("]").split(", ")
    assert cell.startswith("+0.00007 target units² [") and len(high.split(".")[1]) == 5
    assert float(low) == pytest.approx(r["ci_low"], abs=5e-6)


def test_the_recipe_to_use_row_shows_every_metric_the_trivial_baseline_does_better_on():
    """An ordinal recipe chosen by its MAE can be less accurate than the majority class:
    its row says so, with both numbers."""
    base = {"accuracy": 0.421, "mae": 1.10, "balanced_accuracy": 0.2}
    kw = dict(metric="mae", target="ordered", problem="ordinal", baseline=base)
    ref = _values("ordinal_cumulative_bce", "recommended", {s: 0.80 for s in range(4)},
                  extra={"accuracy": {s: 0.401 for s in range(4)},
                         "balanced_accuracy": {s: 0.35 for s in range(4)}}, **kw)
    alt = _values("ordinal_softmax_cce", "alternative", {s: 0.85 for s in range(4)},
                  extra={"accuracy": {s: 0.45 for s in range(4)},
                         "balanced_accuracy": {s: 0.3 for s in range(4)}}, **kw)
    res = pd.DataFrame(ref + alt)
    runs = pd.DataFrame([dict(run=r, experiment=EXP, dataset=DS, recipe=rec, seed=s,
                              problem="ordinal", status="ok", config=None)
                         for r, rec, s in res[["run", "recipe", "seed"]].drop_duplicates()
                         .itertuples(index=False)])
    comps = stats.comparisons(res, runs)
    row = words.problem_table(comps, report.summary(res, runs), report.effects(res, runs)).iloc[0]
    assert row["recipe to use"] == "ordinal_cumulative_bce" and row["mae"] == "0.800"
    assert row["trivial baseline does better on"] == "accuracy (40.1% vs 42.1%)"


def test_what_was_run_lists_the_epochs_set_not_those_diverged_runs_finished():
    res, runs = make_tables()
    runs = runs.assign(config=[json.dumps({"epochs": 20, "optimizer": "adam"})] * len(runs))
    runs.loc[runs["status"] != "ok", "epochs"] = 2    # stopped early
    table = words.what_was_run(stats.comparisons(res, runs))
    assert table["epochs"].tolist() == ["20"]
    # a hand-made table that says no setting: the most epochs a run recorded, never a range
    assert words.what_was_run(stats.comparisons(*make_tables()))["epochs"].tolist() == ["5"]


# --- the page a reader opens: HTML without raw Markdown (#24) ---------------------------

def test_the_html_turns_every_markdown_link_and_bold_into_html(tmp_path, tables):
    """Every table cell, caption and paragraph of the HTML reads its Markdown: a link
    becomes an <a href> to an anchor the page has, bold becomes <b>; no `](` or `**`
    survives, in the tables (the recipe to use links each comparison) or elsewhere."""
    res, runs = tables
    writer.write_report(res, runs, tmp_path / "rep",
                        appendix=[("Notes", "| a | b |\n|---|---|\n| **x** | [up](#summary) |")])
    page = (tmp_path / "rep" / "report.html").read_text()
    assert "](" not in page and "**" not in page, re.findall(r".{40}(?:\]\(|\*\*).{40}", page)
    hrefs = re.findall(r'<a href="#([^"]+)"', page)
    assert f"{EXP}-{DS}" in hrefs and "summary" in hrefs
    ids = set(re.findall(r'id="([^"]+)"', page))
    assert set(hrefs) <= ids, set(hrefs) - ids
    assert "<b>x</b>" in page


def test_a_comparison_whose_experiment_and_data_share_a_name_is_named_once(tmp_path):
    """compare() without a name calls both its experiment and its data "compare": the
    report names it "compare", never "compare / compare" (#24 item 6)."""
    res, runs = make_tables()
    res, runs = (t.assign(experiment="compare", dataset="compare") for t in (res, runs))
    md = writer.write_report(res, runs, tmp_path / "rep").read_text()
    page = (tmp_path / "rep" / "report.html").read_text()
    assert "## compare\n" in md and '<h2 id="compare">compare</h2>' in page
    assert "compare / compare" not in md + page


# --- the first screen: the recipe to use per problem type, and why (#24 item 1) ---------

def _conditioned(spec, seeds=range(6), exp=EXP, ds=DS):
    """Runs of one epoch under two conditions: ``spec``: {recipe: (role, {optimizer:
    offset})}, each seed's accuracy 0.9 + 0.005 * seed + offset."""
    from recipes.training.settings import condition

    configs = {"adam": {"optimizer": "adam", "learning_rate": 0.001, "epochs": 1},
               "sgd": {"optimizer": "sgd", "learning_rate": 0.01, "epochs": 1}}
    rows, runs = [], []
    for recipe, (role, offsets) in spec.items():
        for opt, config in configs.items():
            label = condition(config, "stacked")["condition"]
            for seed in seeds:
                key = dict(run=f"{exp}|{ds}|{recipe}|{opt}|{seed}", experiment=exp, dataset=ds,
                           problem="multiclass", target="classes", recipe=recipe, role=role,
                           seed=seed, trainer="stacked", condition=label,
                           learning_rate=config["learning_rate"])
                runs.append(dict(key, status="ok", epochs=1, seconds=1.0, config=config))
                rows += [dict(key, epoch=0, split="val", metric="baseline_accuracy", value=0.1),
                         dict(key, epoch=1, split="val", metric="accuracy",
                              value=0.9 + 0.005 * seed + offsets[opt])]
    return pd.DataFrame(rows), pd.DataFrame(runs)


def test_the_recipe_to_use_per_problem_type_says_why_and_where_it_does_not_hold():
    """One row per problem type: the recommended recipe, the alternatives that lose to it
    with how much and where (named by the setting that picks those conditions out, never
    listed one by one), where they stop losing, and links to the comparisons."""
    parts = [_conditioned({
        "multiclass_softmax_cce": ("recommended", {"adam": 0, "sgd": 0}),
        "multiclass_softmax_mse": ("anti-pattern", {"adam": 0.0005, "sgd": -0.2}),
        "multiclass_index_regression": ("anti-pattern", {"adam": -0.5, "sgd": -0.5}),
        "multiclass_logits_cce": ("alternative", {"adam": 0, "sgd": 0.1})}, ds=d)
        for d in ("digits", "wine")]
    res = pd.concat([p[0] for p in parts], ignore_index=True)
    runs = pd.concat([p[1] for p in parts], ignore_index=True)
    comps = stats.comparisons(res, runs)
    table = words.recipe_to_use(comps, stats.summary(comps), stats.effects(comps))
    assert len(table) == 1
    row = table.iloc[0]
    assert row["problem"] == "multiclass" and row["recipe to use"] == "multiclass_softmax_cce"
    assert row["why (measured)"] == ("accuracy: index_regression loses by 50.0 pp in every "
                                     "condition; softmax_mse by 20.0 pp under sgd")
    assert row["where it does not hold"] == ("logits_cce better by 10.0 pp under sgd; "
                                             "softmax_mse as good under adam")
    assert row["details"] == "[exp1 / digits](#exp1-digits), [exp1 / wine](#exp1-wine)"


def test_a_set_of_conditions_is_named_by_the_settings_that_pick_it_out():
    from itertools import product

    universe = {i: {"data": d, "optimizer": o, "output_scale": f"scale={s}"}
                for i, (d, o, s) in enumerate(product(("digits", "wine"), ("adam", "sgd"),
                                                       (1, 30)))}
    pick = lambda f: {k for k, t in universe.items() if f(t)}  # noqa: E731
    assert words.where_text(pick(lambda t: t["optimizer"] == "sgd"), universe) == "under sgd"
    assert words.where_text(pick(lambda t: t["output_scale"] == "scale=30"
                                 and t["optimizer"] == "adam"), universe) == \
        "under adam scale=30"
    assert words.where_text(pick(lambda t: t["data"] == "wine" or t["optimizer"] == "sgd"),
                            universe) == "under wine, sgd"
    assert words.where_text({0, 3, 5, 6}, universe) == "in 4 of 8 conditions"


def test_an_interval_of_float_noise_is_shown_as_no_interval():
    """Equal differences summed in another order leave an interval a few 1e-17 wide: the
    effect keeps three significant digits ('-1.40 pp'), not ten decimals
    ('-1.3986013986 pp', drawn in the claims figure of a 3-seed run)."""
    from recipes.reporting.formatting import effect_parts

    d = -0.013986013986013986
    assert effect_parts(d, d - 1e-17, d + 2e-18, "accuracy") == ("-1.40 pp", "-1.40", "-1.40")
    assert effect_parts(0.014, 0.005, 0.023, "accuracy") == ("+1.4 pp", "0.5", "2.3")
