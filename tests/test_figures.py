"""Every figure the report draws, from small hand-made tables with the suite's long recipe
names and condition labels: no text outside the figure, no two labels overlapping
(tests/figure_checks.py), units as in the tables."""

import numpy as np
import pandas as pd
import pytest

from figure_checks import MIN_TEXT_PX, PAGE_WIDTH, check_legible, check_text
from recipes.reporting import figures, stats, words
from recipes.training.settings import condition

# the multiclass suite's recipes: one recommended, five to compare
RECIPES = {"multiclass_softmax_cce": "recommended", "multiclass_ovr_sigmoid_bce": "alternative",
           "multiclass_index_regression": "anti-pattern", "multiclass_linear_mse": "anti-pattern",
           "multiclass_softmax_bce": "anti-pattern", "multiclass_softmax_mse": "anti-pattern"}
CONDITIONS = ({"optimizer": "adam", "learning_rate": 0.001}, {"optimizer": "sgd", "learning_rate": 0.01},
              {"optimizer": "sgd", "learning_rate": 0.1})
# the saturated suite's grid: 18 conditions, three backends named, 3 recipes
EIGHTEEN = tuple({**c, "output_scale": scale, "backend": backend} for c in CONDITIONS
               for scale in (1.0, 30.0) for backend in ("tensorflow", "jax", "torch"))
THREE = dict(list(RECIPES.items())[:1] + [("multiclass_logits_cce", "alternative"),
                                          ("multiclass_softmax_mse", "anti-pattern")])
EPOCHS, SEEDS = 4, 3


def _tables(exp, configs, recipes):
    """Tidy results and runs: accuracy rises to a level set by the recipe and condition."""
    rng = np.random.default_rng(0)
    rows, runs = [], []
    for c, config in enumerate(configs):
        config = {**config, "epochs": EPOCHS}
        label = condition(config, "stacked")
        for r, (recipe, role) in enumerate(recipes.items()):
            for seed in range(SEEDS):
                run = f"{exp}|{c}|{recipe}|{seed}"
                key = dict(run=run, experiment=exp, dataset="digits", problem="multiclass",
                           target="classes", recipe=recipe, role=role, seed=seed,
                           trainer="stacked", condition=label["condition"],
                           learning_rate=config["learning_rate"])
                runs.append(dict(key, status="ok", epochs=EPOCHS, seconds=1.0, config=config))
                rows += [dict(key, epoch=0, split="val", metric="baseline_accuracy", value=0.1),
                         dict(key, epoch=0, split="val", metric="baseline_log_loss",
                              value=2.3)]
                top = 0.95 - 0.12 * r - 0.1 * c
                for epoch in range(1, EPOCHS + 1):
                    acc = top * (1 - 0.5 ** epoch) + rng.normal(0, 0.01)
                    for split, shift in (("val", 0.0), ("train", 0.01)):
                        rows += [dict(key, epoch=epoch, split=split, metric="accuracy",
                                      value=acc + shift),
                                 dict(key, epoch=epoch, split=split, metric="log_loss",
                                      value=-np.log(max(acc + shift, 1e-3)))]
                    rows.append(dict(key, epoch=epoch, split="train", metric="grad_norm",
                                     value=10.0 ** (-r) / epoch))
    return pd.DataFrame(rows), pd.DataFrame(runs)


@pytest.fixture(scope="module")
def tables():
    parts = [_tables("multiclass", CONDITIONS, RECIPES),
             _tables("single", CONDITIONS[:1], RECIPES),
             _tables("saturated", EIGHTEEN, THREE)]
    results = pd.concat([p[0] for p in parts], ignore_index=True)
    runs = pd.concat([p[1] for p in parts], ignore_index=True)
    comps = stats.comparisons(results, runs)
    return {"curves": stats.curves(comps), "effects": stats.effects(comps),
            "goals": stats.goals(comps)}


MANY, ONE, SAT = ("multiclass", "digits"), ("single", "digits"), ("saturated", "digits")

def _claims(cells):
    """The claims figure of ``cells`` as the report draws it."""
    return figures.plot_claims(cells, words.claim_columns(cells))


# every figure the report draws: name -> how it is drawn from the tables
FIGURES = {
    "effects": lambda t: figures.plot_effects(t["effects"], comparison=MANY),
    "condition_curves": lambda t: figures.plot_condition_curves(t["curves"], "accuracy",
                                                                comparison=MANY),
    "condition_grad_norm": lambda t: figures.plot_condition_curves(
        t["curves"], "grad_norm", comparison=MANY, split="train", log=True),
    "curves": lambda t: figures.plot_curves(t["curves"], t["goals"], comparison=ONE),
    "grad_norm": lambda t: figures.plot_grad_norm(t["curves"], comparison=ONE),
    "effects_one_condition": lambda t: figures.plot_effects(t["effects"], comparison=ONE),
    "effects_eighteen_conditions": lambda t: figures.plot_effects(t["effects"], comparison=SAT),
    "curves_eighteen_conditions": lambda t: figures.plot_condition_curves(
        t["curves"], "accuracy", comparison=SAT),
    "grad_norm_eighteen_conditions": lambda t: figures.plot_condition_curves(
        t["curves"], "grad_norm", comparison=SAT, split="train", log=True),
    "claims": lambda t: _claims(words.claim_cells(t["effects"])),
}


@pytest.mark.parametrize("name", FIGURES)
def test_report_figures_have_no_clipped_or_overlapping_text(tables, name):
    fig = FIGURES[name](tables)
    assert check_text(fig) > 5


def test_accuracy_is_drawn_in_percent_like_the_tables(tables):
    fig = figures.plot_curves(tables["curves"], comparison=ONE, metrics=["accuracy"])
    ax = [a for a in fig.axes if a.get_visible()][0]
    ys = np.concatenate([np.asarray(line.get_ydata(), float) for line in ax.get_lines()])
    ys = ys[np.isfinite(ys)]
    assert ys.max() > 50 and ys.max() <= 100 and "%" in ax.get_title()


def test_condition_panels_are_named_by_the_settings_that_vary(tables):
    """Panel titles and tick labels are the conditions' short labels, read from the
    setting columns the statistics carry (never parsed out of the labels)."""
    from recipes.reporting.words import short_conditions

    c, e = tables["curves"], tables["effects"]
    assert {"learning_rate", "backend", "tuned"} <= set(c.columns)
    titles = lambda fig: [a.get_title() for a in fig.axes if a.get_title()]  # noqa: E731
    fig = figures.plot_condition_curves(c, "accuracy", comparison=MANY)
    assert titles(fig) == ["adam lr=0.001", "sgd lr=0.01", "sgd lr=0.1"]
    saturated = stats.select(e, SAT)
    shown = set(short_conditions(saturated).values())
    assert len(shown) == 18 and "adam lr=0.001 scale=1 backend=tensorflow" in shown
    # the labels the report passes win over the frame's own
    fig = figures.plot_condition_curves(c, "accuracy", comparison=MANY, labels={
        cond: f"c{i}" for i, cond in enumerate(sorted(stats.select(c, MANY)["condition"]
                                                      .unique()))})
    assert titles(fig) == ["c0", "c1", "c2"]


def test_tuning_figure(tables):
    import test_tuning_report as tr

    rows, runs = [], []  # the tuning runs of tests/test_tuning_report.py, two conditions
    for (opt, recipe), accs in tr.TUNE.items():
        for lr, acc in zip(tr.RATES, accs):
            for seed in (1000, 1001, 1002):
                tr._add(rows, runs, tr.EXP + stats.TUNING, opt, recipe, lr, seed,
                        0.9 if acc is None else acc, False)
    tun = stats.tuning(pd.DataFrame(rows), pd.DataFrame(runs))
    EXP, DS = tr.EXP, tr.DS
    assert check_text(figures.plot_tuning(tun, comparison=(EXP, DS))) > 5


def test_appendix_surface_figure():
    from recipes.diagnostics.figures import surface_figure
    from recipes.diagnostics.surface import loss_surface

    assert check_text(surface_figure(loss_surface(n=11))) > 5


def test_appendix_gradient_figure_with_many_recipes():
    from recipes.diagnostics.figures import gradient_figure

    rows = []
    p = np.geomspace(1e-4, 1.0, 30)
    for i, (recipe, role) in enumerate(RECIPES.items()):
        for sweep, x in (("p_t", p), ("error", np.linspace(-2, 2, 9))):
            rows += [dict(problem="multiclass", recipe=recipe, role=role, sweep=sweep, x=v,
                          autodiff=(i + 1) * (1 - v if sweep == "p_t" else v),
                          autodiff_tf=0.5 * (1 - v), tf_same=i != 4) for v in x]
    assert check_text(gradient_figure(pd.DataFrame(rows))) > 5


def test_the_check_finds_clipped_and_overlapping_text():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    ax = fig.subplots()
    ax.set_title("a title far too long to fit inside a figure three inches wide")
    with pytest.raises(AssertionError, match="outside"):
        check_text(fig)
    fig = Figure(figsize=(3, 2), layout="constrained")
    ax = fig.subplots()
    ax.set_xticks([0.5, 0.51], ["0.66200", "0.66250"])
    with pytest.raises(AssertionError, match="overlapping"):
        check_text(fig)


def test_appendix_numbers_are_read_back_from_the_results_folder(tmp_path):
    import pickle

    from recipes.diagnostics import appendix as ap
    from recipes.files import atomic_write

    catalog = ap.as_catalog(None)
    marker = {"surface": "stored surface", "gradients": {}}
    atomic_write(tmp_path / ap.CACHE_NAME,
                 pickle.dumps({"key": ap._cache_key(catalog), "numbers": marker}))
    assert ap.appendix_numbers(catalog, cache=tmp_path) == marker  # no TensorFlow work
    # a cache made for another catalog (or other code, other versions) is not used
    atomic_write(tmp_path / ap.CACHE_NAME, pickle.dumps({"key": "other", "numbers": marker}))
    assert ap._cache_key(catalog) != "other"


@pytest.mark.parametrize("name", FIGURES)
def test_report_figures_are_legible_at_page_width(tables, name):
    """Shown at the page's width (1200 px), no figure's text renders below 8 px: many
    conditions wrap into panels, never shrink the figure's text."""
    from figure_checks import check_legible

    assert check_legible(FIGURES[name](tables)) >= 8


def test_the_claims_figure_is_claims_by_conditions_grouped_by_the_settings_that_vary(tables):
    """Rows: the claims (C2 and C9 on the saturated grid, C2 and C4 on the others);
    columns: the conditions named by the settings that vary only, split into one panel
    per output scale (18 conditions, at most 9 a panel); each cell coloured by its
    outcome and carrying its effect with its unit."""
    from matplotlib.colors import to_rgb

    cells = words.claim_cells(tables["effects"])
    assert set(cells["claim"].str.split(" \\(").str[0]) == {
        "C2 cross-entropy vs MSE", "C4 one-hot vs index", "C9 softmax vs logits"}
    assert cells["effect"].str.endswith(" pp").all()
    fig = _claims(cells)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in panels] == ["scale=1", "scale=30"]
    ticks = [t.get_text() for ax in panels for t in ax.get_xticklabels()]
    assert len(ticks) == 18 and "adam\nlr=0.001\nbackend=jax" in ticks
    assert not any("epochs" in t or "scale" in t or "stacked" in t for t in ticks)
    assert "epochs=4 batch=32" in words.shared_settings(cells)
    first = panels[0]
    texts = {t.get_text() for t in first.texts}
    sat = cells[(cells["experiment"] == "saturated") & (cells["condition"].isin(
        cells.loc[cells["output_scale"] == 1.0, "condition"]))]
    assert set(sat["effect"]) <= texts
    colours = {tuple(round(c, 3) for c in p.get_facecolor()[:3]) for p in first.patches}
    assert colours <= {tuple(round(c, 3) for c in figures._tint(col))
                       for col in figures.OUTCOME_COLORS.values()}


def test_a_claims_figure_of_few_conditions_is_one_panel():
    """Three conditions: one panel, its columns named by optimizer and learning rate."""
    parts = [_tables("multiclass", CONDITIONS, RECIPES)]
    comps = stats.comparisons(parts[0][0], parts[0][1])
    fig = _claims(words.claim_cells(stats.effects(comps)))
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 1
    assert [t.get_text() for t in panels[0].get_xticklabels()] == [
        "adam\nlr=0.001", "sgd\nlr=0.01", "sgd\nlr=0.1"]


# --- the decoded forms' figures (#22 item 6): the reliability diagram and the threshold
# curves, from runs that recorded their decoding as the imbalanced suite's do: four binary
# recipes under six conditions (optimizer and rate x class_weight), so the panels wrap
PAGE_PX, MIN_TICK_PX = PAGE_WIDTH, MIN_TEXT_PX
DECODED_RECIPES = {"binary_sigmoid_bce": "recommended", "binary_logits_bce": "alternative",
                   "binary_softmax2_cce": "alternative", "binary_sigmoid_focal": "alternative"}
WEIGHTED = tuple({**c, "class_weight": w} for c in CONDITIONS for w in ("none", "balanced"))
CUTS = [round(0.02 * k, 2) for k in range(1, 50)]


def _recorded_decoding(rng, skill):
    """What one run records of its decoding (``config["decoded"]``): reliability bins of
    the raw and calibrated test outputs, and the F1 threshold curves of both forms."""
    def bins(spread):
        count = rng.integers(0, 40, 15) * (np.arange(15) >= 7)
        conf = count * (np.arange(15) + 0.5) / 15
        return {"count": count.tolist(), "confidence": conf.tolist(),
                "correct": np.minimum(count, np.round(conf * rng.uniform(1 - spread, 1 + spread))
                                      ).astype(int).tolist()}

    curve = lambda peak: [float(skill * np.exp(-((c - peak) / 0.3) ** 2)) for c in CUTS]  # noqa: E731
    picks = {"thresholded": rng.uniform(0.3, 0.7), "calibrated+thresholded": rng.uniform(0.2, 0.6)}
    return {"reliability": {"raw": bins(0.2), "calibrated": bins(0.05)},
            "threshold_curve": {f: {"cut": CUTS, "value": [curve(p)]} for f, p in picks.items()},
            "threshold": {f: {"metric": "f1", "threshold": p, "score": skill}
                          for f, p in picks.items()}}


@pytest.fixture(scope="module")
def decoded():
    rng = np.random.default_rng(1)
    rows, runs = [], []
    for c, config in enumerate(WEIGHTED):
        config = {**config, "epochs": 2}
        label = condition(config, "stacked")["condition"]
        for r, (recipe, role) in enumerate(DECODED_RECIPES.items()):
            for seed in range(SEEDS):
                key = dict(run=f"{c}|{recipe}|{seed}", experiment="imbalanced",
                           dataset="digit8_rare", problem="binary", target="classes",
                           recipe=recipe, role=role, seed=seed, trainer="stacked",
                           condition=label, learning_rate=config["learning_rate"])
                skill = 0.9 - 0.05 * r - 0.02 * c
                runs.append(dict(key, status="ok", epochs=2, seconds=1.0, config={
                    **config, "decoded": _recorded_decoding(rng, skill)}))
                rows += [dict(key, epoch=e, split="val", metric="accuracy", value=skill)
                         for e in (1, 2)]
    res, runs = pd.DataFrame(rows), pd.DataFrame(runs)
    return {"reliability": stats.reliability(res, runs),
            "threshold_curves": stats.threshold_curves(res, runs)}


@pytest.mark.parametrize("kind", ["reliability", "threshold_curves"])
def test_decoded_figures_wrap_into_panels_legible_at_page_width(decoded, kind):
    """24 panels (6 conditions x 4 recipes): no clipped or overlapping text, two panels a
    row at most, so the figure is never wider than the page and its tick labels keep 8 px
    or more at 1200 px; each panel names its recipe and its condition."""
    from recipes.reporting.render import DPI

    fig = getattr(figures, f"plot_{kind}")(decoded[kind], comparison=("imbalanced", "digit8_rare"))
    axes = [a for a in fig.axes if a.get_visible()]
    assert len(axes) == len(WEIGHTED) * len(DECODED_RECIPES) and check_text(fig) > 24
    columns = len({round(a.get_position().x0, 3) for a in axes})
    assert columns == figures.DECODED_COLUMNS and fig.get_figwidth() * DPI <= PAGE_PX
    ticks = [t.get_fontsize() for a in axes for t in a.get_xticklabels() + a.get_yticklabels()
             if t.get_text()]
    assert min(ticks) * DPI / 72 >= MIN_TICK_PX and check_legible(fig, DPI) >= MIN_TEXT_PX
    titles = {a.get_title() for a in axes}
    assert len(titles) == len(axes) and all("class_weight=" in t for t in titles)


def test_the_goal_s_label_lies_on_no_curve(tables):
    """The goal line's label ("goal (config)") is drawn where no curve can run through
    it: here the goal is the leading recipe's first validation mean, so the curves start
    at its height at the panel's left edge (where the label was once written, on the
    data). The label's drawn box meets no recipe's drawn line; the goal line is drawn."""
    from matplotlib.colors import to_hex

    from figure_checks import visible_texts

    curves = stats.select(tables["curves"], ONE)
    val = curves[(curves["metric"] == "accuracy") & (curves["split"] == "val")]
    start = float(val.loc[val["epoch"] == val["epoch"].min(), "mean"].max())
    goals = stats.select(tables["goals"], ONE).assign(metric="accuracy", value=start,
                                                      source="config")
    fig = figures.plot_curves(tables["curves"], goals, comparison=ONE, metrics=["accuracy"])
    texts = visible_texts(fig)
    labels = [box for t, box in texts if t.get_text() == "goal (config)"]
    assert len(labels) == 1, [t.get_text() for t, _ in texts]
    ax = [a for a in fig.axes if a.get_visible()][0]
    goal_lines = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert [line.get_ydata()[0] for line in goal_lines] == [pytest.approx(start * 100)]
    curve_lines = [line for line in ax.get_lines() if line.get_linestyle() != ":"]
    assert len(curve_lines) == 2 * len(RECIPES)
    crossed = []
    for line in curve_lines:
        pad = line.get_linewidth() * fig.dpi / 72 / 2   # the line as drawn, its width
        path = line.get_transform().transform_path(line.get_path())
        if path.intersects_bbox(labels[0].padded(pad), filled=False):
            crossed.append((to_hex(line.get_color()), line.get_linestyle()))
    assert not crossed, f"curves through the goal's label: {crossed}"
