"""The report of a tuned comparison: chosen learning rates and sensitivity curves, from a
hand-made table of tuning runs with known numbers."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from recipes.reporting import figures, stats, words, writer
from recipes.training.settings import condition

REF, ALT = "binary_sigmoid_bce", "binary_sigmoid_mse"
EXP, DS = "t", "d"
RATES = (0.01, 0.1, 1.0)
BASE = 0.6  # the trivial baseline on every seed
# tuning: validation accuracy per (optimizer, recipe, learning rate), the same on seeds
# 1000-1002; None: diverged on seed 1000 (NaN outputs), 0.95 on the others
TUNE = {("sgd", REF): (0.80, 0.90, 0.91), ("sgd", ALT): (0.50, 0.70, None),
        ("adam", REF): (0.90, 0.90, 0.50), ("adam", ALT): (0.85, 0.88, 0.87)}
# the final runs exist for sgd only, with the rates the tuner chose
FINAL = {("sgd", REF): 1.0, ("sgd", ALT): 0.1}


def _config(optimizer, lr, tuned):
    config = {"optimizer": optimizer, "learning_rate": lr, "epochs": 2}
    return config | ({"tune": {"setting": "learning_rate"}} if tuned else {})


def _add(rows, runs, exp, optimizer, recipe, lr, seed, acc, tuned):
    config = _config(optimizer, lr, tuned)
    run = f"{exp}|{optimizer}|{recipe}|{lr}|{seed}"
    status = "ok" if np.isfinite(acc) else "diverged"
    key = dict(run=run, experiment=exp, dataset=DS, problem="binary", target="classes",
               recipe=recipe, role="recommended" if recipe == REF else "anti-pattern",
               seed=seed, trainer="stacked", condition=condition(config, "stacked")["condition"],
               learning_rate=lr)
    runs.append(dict(key, status=status, epochs=2, seconds=1.0, config=config))
    split = "test" if tuned else "val"
    rows += [dict(key, epoch=2, split="val", metric="accuracy", value=acc),
             dict(key, epoch=0, split="val", metric="baseline_accuracy", value=BASE)]
    if tuned:
        rows += [dict(key, epoch=2, split=split, metric="accuracy", value=acc),
                 dict(key, epoch=0, split=split, metric="baseline_accuracy", value=BASE)]


@pytest.fixture(scope="module")
def tables():
    rows, runs = [], []
    for (opt, recipe), accs in TUNE.items():
        for lr, acc in zip(RATES, accs):
            for seed in (1000, 1001, 1002):
                value = 0.95 if acc is None else acc
                value = np.nan if acc is None and seed == 1000 else value
                _add(rows, runs, EXP + stats.TUNING, opt, recipe, lr, seed, value, False)
    for (opt, recipe), lr in FINAL.items():
        for seed in range(3):
            _add(rows, runs, EXP, opt, recipe, lr, seed, 0.9 + 0.01 * seed, True)
    return pd.DataFrame(rows), pd.DataFrame(runs)


@pytest.fixture(scope="module")
def tun(tables):
    return stats.tuning(*tables)


def _curve(t, optimizer, recipe):
    return t[t["condition"].str.startswith(optimizer) & (t["recipe"] == recipe)]


def test_sensitivity_rows(tables, tun):
    assert len(tun) == len(TUNE) * len(RATES)
    assert set(tun["experiment"]) == {EXP} and set(tun["metric"]) == {"accuracy"}
    # the tuning runs' conditions read lr=tuned: they join the tuned comparison's
    final = set(tables[0].loc[tables[0]["experiment"] == EXP, "condition"])
    assert set(tun.loc[tun["condition"].str.startswith("sgd"), "condition"]) == final
    assert all("lr=tuned" in c for c in tun["condition"])
    ref = _curve(tun, "sgd", REF)
    assert ref["learning_rate"].tolist() == list(RATES)
    assert ref["mean"].to_numpy() == pytest.approx([0.80, 0.90, 0.91])
    assert (ref["n"] == 3).all() and (ref["ci_low"] <= ref["mean"]).all()
    # a diverged tuning run is scored as the trivial baseline and counted
    alt = _curve(tun, "sgd", ALT).set_index("learning_rate")
    assert alt.loc[1.0, "mean"] == pytest.approx((BASE + 0.95 + 0.95) / 3)
    assert (alt.loc[1.0, "n_diverged"], alt.loc[1.0, "n_runs"]) == (1, 3)
    assert (alt.loc[1.0, "min"], alt.loc[1.0, "max"]) == (BASE, 0.95)


@pytest.mark.parametrize("optimizer, recipe, rate, by", [
    ("sgd", REF, 1.0, "final runs"),
    ("sgd", ALT, 0.1, "final runs"),
    ("adam", REF, 0.01, "tuning rule"),  # a tie: the smaller rate
    ("adam", ALT, 0.1, "tuning rule"),
])
def test_chosen_rate(tun, optimizer, recipe, rate, by):
    c = _curve(tun, optimizer, recipe)
    assert c.loc[c["chosen"], "learning_rate"].tolist() == [rate]
    assert set(c["chosen_by"]) == {by}


def test_a_diverged_rate_is_never_the_rule_s_choice(tun):
    alt = _curve(tun, "sgd", ALT).drop(columns="chosen")
    # its substituted mean (0.83) beats 0.70, yet a rate with a diverged run scores worst
    assert stats._tuning_rule(alt) == 0.1


def test_tuning_table_and_sentences(tun):
    table = words.tuning_table(tun, (EXP, DS)).set_index(["condition", "recipe"])
    assert table.loc[("sgd", REF), "chosen learning rate"] == "1 (largest in the grid)"
    assert table.loc[("sgd", ALT), "chosen learning rate"] == "0.1"
    assert table.loc[("adam", REF), "chosen learning rate"] == "0.01 (smallest in the grid)"
    within = [c for c in table.columns if c.startswith("rates within")]
    assert within == ["rates within 1.0 pp of it"]
    assert table.loc[("sgd", REF), within[0]] == "0.1-1"  # 0.90 vs 0.91
    assert table.loc[("adam", REF), within[0]] == "0.01-0.1"
    assert table.loc[("sgd", ALT), within[0]] == "0.1"  # 1 scores higher but diverged once
    assert table.loc[("sgd", ALT), "diverged or failed"] == "lr=1: 1 of 3"
    assert table.loc[("sgd", REF), "validation accuracy (%) ↑, mean ± std"] == (
        "91.0 ± 0.0 (3 seeds)")
    text = " ".join(words.tuning_sentences(tun, (EXP, DS)))
    assert "from the grid 0.01, 0.1, 1 by its mean validation accuracy over 3 tuning seeds" \
        in text
    assert "the test split, which no tuning run saw" in text
    assert f"The rate chosen for {REF} under sgd (1) is the largest" in text
    assert "Some recipes have no final runs" in text


def _inside(fig):
    """Everything drawn (titles, tick labels, legend) lies inside the figure, and the
    legend overlaps no panel."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    tight = fig.get_tightbbox(renderer)  # inches
    width, height = fig.get_size_inches()
    assert tight.x0 >= -0.01 and tight.y0 >= -0.01
    assert tight.x1 <= width + 0.01 and tight.y1 <= height + 0.01
    for legend in fig.legends:
        lb = legend.get_window_extent(renderer)
        assert not any(lb.overlaps(ax.get_window_extent(renderer)) for ax in fig.axes
                       if ax.get_visible())


def test_plot_tuning(tun):
    fig = figures.plot_tuning(tun, comparison=(EXP, DS))
    assert isinstance(fig, Figure)
    panels = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title() for a in panels] == ["adam", "sgd"]
    assert all(a.get_xscale() == "log" for a in panels)
    assert panels[0].get_ylabel() == "validation accuracy (%)"
    # the points are in percent
    ys = np.concatenate([np.asarray(ln.get_ydata(), float) for ln in panels[1].get_lines()])
    assert 91.0 in np.round(ys, 6) and ys.max() <= 100
    _inside(fig)
    assert "no tuning runs" in figures.plot_tuning(tun.iloc[0:0]).axes[0].texts[0].get_text()


def test_report_shows_tuning_in_the_tuned_section(tmp_path, tables):
    md = writer.write_report(*tables, tmp_path / "rep").read_text()
    section = md[md.index(f"## {EXP} / {DS}"):md.index("## How to read the numbers")]
    assert "### Learning-rate tuning" in section and "rates within 1.0 pp of it" in section
    assert "figures/t-d-tuning.png" in section
    assert (tmp_path / "rep/figures/t-d-tuning.png").exists()
    assert f"## {EXP}{stats.TUNING} / {DS}" not in md  # no separate section


def test_the_automatic_goal_of_a_tuned_comparison_names_the_number_it_cites(tmp_path, tables):
    """A tuned comparison is scored on its test split, its goal on the validation curves:
    the goal's 95% of the best final mean cites a validation mean, which the report says,
    with the recipe it belongs to, where it cites it."""
    res, runs = tables
    res = res.copy()
    final = (res["experiment"] == EXP) & (res["metric"] == "accuracy")
    res.loc[final & (res["split"] == "test"), "value"] -= 0.05
    res.loc[final & (res["split"] == "val") & (res["recipe"] == ALT), "value"] -= 0.02
    md = writer.write_report(res, runs, tmp_path / "rep").read_text()
    section = md[md.index(f"## {EXP} / {DS}"):md.index("## How to read the numbers")]
    best = np.mean([0.90, 0.91, 0.92])   # REF's final validation mean; its test mean: 86%
    assert (f"0.95 × {best:.0%}, the final validation mean of {REF}" in section
            and f"≥ {0.95 * best:.1%}" in section), section
    assert f"| {REF} | recommended | 86.0 ± 1.0 |" in section


def test_tuning_from_the_results_alone_reads_their_setting_columns(tables, tun):
    """recipes.load_results gives one column per setting and no runs table: the tuning
    rows are the same. Without those columns, conditions the settings cannot tell apart
    are an error (never pooled, never parsed out of the labels)."""
    res, runs = tables
    settings = {r: condition(c, "stacked") for r, c in zip(runs["run"], runs["config"])}
    loaded = res.assign(**{name: res["run"].map(lambda r: settings[r][name])
                           for name in ("optimizer", "epochs", "batch_size", "hidden",
                                        "output_scale", "backend")})
    alone = stats.tuning(loaded)
    cols = ["condition", "recipe", "learning_rate", "optimizer", "epochs", "tuned"]
    pd.testing.assert_frame_equal(alone[cols], tun[cols])
    # (without the runs table a diverged run is not known as one: left out, not substituted)
    assert (alone["mean"] == tun["mean"]).sum() == len(tun) - 1
    assert set(alone["tuned"]) == {"learning_rate"} and set(alone["optimizer"]) == {"sgd", "adam"}
    with pytest.raises(ValueError, match=r"Expected each condition of the tuning runs of "
                                         r"t \(tuning\) / d to say its settings.*Received: the "
                                         r"conditions '.*' and '.*', whose known settings"):
        stats.tuning(res)   # the learning rate alone: adam and sgd look alike
