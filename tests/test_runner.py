"""The grid runner: real training into a results store, resume, divergence, determinism."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from recipes.training import data

from recipes.catalog.table import get
from recipes.training import metrics
from recipes.results.grid import Experiment, pending
from recipes.results.runner import compare, run
from recipes.results.store import Store

ROOT = Path(__file__).resolve().parents[1]
TRAINERS = ["keras", "stacked"]

TINY = Experiment(name="tiny", datasets=("breast_cancer",),
                  recipes=("binary_sigmoid_bce", "binary_sigmoid_mse"), seeds=2, epochs=3)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """``tiny(trainer)``: (folder, results) of TINY run by ``trainer`` into a folder of its
    own, trained once per module (the tests below only read that folder, or train TINY
    again elsewhere to compare)."""
    done = {}

    def trained(trainer):
        if trainer not in done:
            out = tmp_path_factory.mktemp(f"tiny-{trainer}")
            done[trainer] = out, run(TINY, out, trainer=trainer, progress=False)
        return done[trainer]
    return trained


@pytest.mark.parametrize("trainer", TRAINERS)
def test_small_grid_end_to_end(tiny, trainer):
    out, results = tiny(trainer)
    runs = Store(out).runs()
    assert len(runs) == 4 and set(runs.status) == {"ok"} and set(runs.trainer) == {trainer}
    assert set(runs.recipe) == set(TINY.recipes) and sorted(runs.seed.unique()) == [0, 1]
    expected = set(metrics.COMMON["classes"]) | {"loss"}
    for split in ("train", "val"):
        got = set(results[results.split == split].metric)
        assert expected <= got
    assert {"grad_norm", "seconds"} <= set(results[results.split == "train"].metric)
    baseline = results.metric.str.startswith("baseline_")
    per_run = results[~baseline].groupby(["run", "split", "metric"]).epoch.apply(sorted)
    assert all(epochs == [1, 2, 3] for epochs in per_run)
    # the trivial baseline of each common metric, once per run (epoch 0, validation)
    assert set(results[baseline].metric) == {f"baseline_{m}" for m in metrics.names(
        get("binary_sigmoid_bce"), 2)}
    assert set(results[baseline].epoch) == {0} and set(results[baseline].split) == {"val"}
    final = results[(results.epoch == 3) & (results.split == "train") & (results.metric == "accuracy")]
    assert final.value.min() > 0.8  # it really trained
    config = runs.config.iloc[0]
    assert config["epochs"] == 3 and config["recipe"]["name"] in TINY.recipes
    assert {"tensorflow", "keras", "numpy"} <= set(runs.versions.iloc[0])


def test_finished_runs_are_skipped(tiny):
    out, _ = tiny("keras")
    before = Store(out).runs().set_index("run").finished_at
    assert len(before) == 4
    assert pending(TINY, out, "keras") == []
    run(TINY, out, trainer="keras", progress=False)
    after = Store(out).runs().set_index("run").finished_at
    assert before.equals(after)
    bigger = TINY.with_options(seeds=3)
    [(_, todo)] = pending(bigger, out, "keras")
    assert sorted((s.recipe.name, s.seed) for s, _ in todo) == [(r, 2) for r in sorted(TINY.recipes)]


@pytest.mark.parametrize("trainer", TRAINERS)
def test_same_seed_gives_the_same_history(tiny, tmp_path, trainer):
    _, a = tiny(trainer)
    b = run(TINY, tmp_path / "b", trainer=trainer, progress=False)
    keep = lambda df: df[df.metric != "seconds"].sort_values(["run", "epoch", "split", "metric"])
    np.testing.assert_array_equal(keep(a).value.to_numpy(), keep(b).value.to_numpy())
    seeds = keep(a).pivot_table(index=["recipe", "epoch", "split", "metric"], columns="seed", values="value")
    assert not np.allclose(seeds[0], seeds[1])  # different seeds really differ


@pytest.mark.parametrize("trainer", TRAINERS)
def test_a_diverging_run_is_recorded_and_the_grid_finishes(tmp_path, trainer):
    exp = Experiment(name="diverge", datasets=("diabetes",), seeds=1, epochs=3, optimizer="sgd",
                     learning_rate=0.5, recipes=("regression_linear_mse", "regression_linear_mae"))
    run(exp, tmp_path, trainer=trainer, progress=False)
    runs = Store(tmp_path).runs().set_index("recipe")
    assert runs.loc["regression_linear_mse", "status"] == "diverged"
    assert "non-finite" in runs.loc["regression_linear_mse", "error"]
    assert runs.loc["regression_linear_mae", "status"] == "ok"
    assert runs.loc["regression_linear_mae", "epochs"] == 3


KILLED = ("Experiment(name='killed', datasets=('breast_cancer', 'wine', 'iris'), recipes=("
          "'binary_sigmoid_bce', 'binary_sigmoid_mse', 'multiclass_softmax_cce'), seeds=2, epochs=4)")


@pytest.mark.parametrize("trainer", TRAINERS)
def test_resume_after_kill(tmp_path, trainer):
    """kill -9 mid-grid: every stored run is complete, none is redone, none duplicated."""
    out, total = tmp_path / "res", 8
    code = textwrap.dedent(f"""
        from recipes import Experiment, run
        run({KILLED}, {str(out)!r}, trainer={trainer!r}, progress=False)
    """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if (out / "results.sqlite").exists() and len(Store(out).finished()) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the grid finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    survived = Store(out).runs()
    assert 2 <= len(survived) < total
    rows = Store(out).history().groupby(["dataset", "run"]).size()
    assert all(g.nunique() == 1 for _, g in rows.groupby(level=0))  # every stored run complete
    first = survived.set_index("run").finished_at

    run(eval(KILLED), out, trainer=trainer, progress=False)
    runs = Store(out).runs()
    assert len(runs) == total and runs.run.is_unique
    assert runs.set_index("run").finished_at.loc[first.index].equals(first)  # not redone
    rows = Store(out).history().groupby(["dataset", "run"]).size()
    assert all(g.nunique() == 1 for _, g in rows.groupby(level=0))


def test_compare_on_users_arrays(tmp_path):
    ds = data.load("iris")
    results = compare(ds.X, ds.y, seeds=1, epochs=1, out=tmp_path, progress=False,
                      recipes=["multiclass_softmax_cce", "multiclass_softmax_mse"])
    assert set(results.problem) == {"multiclass"}
    assert set(results.recipe) == {"multiclass_softmax_cce", "multiclass_softmax_mse"}
    # every recipe of the problem when none is named (the two above are reused, not retrained)
    everything = compare(ds.X, ds.y, seeds=1, epochs=1, out=tmp_path, progress=False)
    from recipes import load_catalog
    assert set(everything.recipe) == {r.name for r in load_catalog().of("multiclass")}


def test_results_are_what_the_store_holds(tmp_path):
    """run() returns the store's rows of its runs (text as Categoricals), not those of
    another experiment or another grid in the same folder."""
    import pandas as pd

    from recipes.results.runner import load_results

    other = TINY.with_options(seeds=1, epochs=2)
    run(Experiment(name="other", datasets=("breast_cancer",), recipes=TINY.recipes[:1],
                   seeds=1, epochs=2), tmp_path, progress=False)
    run(other, tmp_path, progress=False)
    results = run(TINY, tmp_path, progress=False)
    stored = load_results(tmp_path, experiment="tiny")
    stored = stored[stored.epochs == 3].reset_index(drop=True)   # not the other grid's
    assert isinstance(results.recipe.dtype, pd.CategoricalDtype)
    assert results.run.nunique() == 4
    pd.testing.assert_frame_equal(results, stored, check_dtype=False, check_categorical=False)


def test_experiment_naming_no_recipe_for_a_dataset_is_an_error(tmp_path):
    exp = Experiment(name="bad", datasets=("diabetes",), recipes=("binary_sigmoid_bce",))
    with pytest.raises(ValueError, match="names no recipe for dataset 'diabetes'"):
        run(exp, tmp_path, trainer="keras", progress=False)


def test_unknown_trainer(tmp_path):
    with pytest.raises(ValueError, match=r"Expected one of \{.*\}. Received: trainer='torch'"):
        run(TINY, tmp_path, trainer="torch", progress=False)
