"""The stacked trainer against the reference (``fit_keras``), with real training.

Small and fast on purpose: real datasets cut to a few hundred training rows,
a 16-unit hidden layer, 3 epochs, 3 seeds. Batches of 32 over 300 rows leave a
short last batch (12), so the batch-size-weighted epoch loss is exercised too.

Measured agreement with fit_keras (13 recipes x SGD/Adam x XLA/plain graph,
3 epochs): outputs within 2e-7 typically and 1.4e-6 at worst (Poisson, SGD),
losses and gradient norms within 2.4e-6 relative, final weights within 6e-8,
the same decoded predictions. The asserted tolerances are the brief's: 1e-5
for SGD, 1e-4 for Adam.
"""

import dataclasses

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from recipes.catalog import table as catalog

from recipes.training import data

from recipes.training import engine, stacked_tensorflow, xla_cache  # noqa: E402
from recipes.models.build import build_model  # noqa: E402
from recipes.training.members import Config, stackable  # noqa: E402
from recipes.training.stacked_tensorflow import TRAINER, fit_stacked, train_stacked  # noqa: E402

from recipes.training.keras_fit import _epoch_batches, fit_keras  # noqa: E402
from recipes.training.settings import Setup  # noqa: E402
from recipes.training.trace import batch_order, targets  # noqa: E402

EPOCHS, HIDDEN, SEEDS = 3, (16,), (0, 1, 2)
OPTIMIZERS = {"sgd": 0.05, "adam": 1e-3}
TOL = {"sgd": 1e-5, "adam": 1e-4}


def small(name, n_train=300, n_val=200):
    s = data.split(data.load(name))
    return dataclasses.replace(s, X_train=s.X_train[:n_train], y_train=s.y_train[:n_train],
                               X_val=s.X_val[:n_val], y_val=s.y_val[:n_val])


@pytest.fixture(scope="module")
def splits():
    return {name: small(name) for name in ("digits", "breast_cancer", "randhie")}


def full(setups, split):
    """Stacked traces that keep every epoch's raw outputs, to compare with fit_keras's."""
    return train_stacked(setups, split, keep_outputs=True).traces


def setups_for(recipe, optimizer, seeds=SEEDS, **kw):
    return [Setup(catalog.get(recipe), seed, epochs=EPOCHS, hidden=HIDDEN, optimizer=optimizer,
                  learning_rate=OPTIMIZERS[optimizer], **kw) for seed in seeds]


def assert_same_run(got, want, tol):
    assert got.status == want.status, (got.error, want.error)
    assert got.epochs == want.epochs
    for split in ("train", "val"):
        np.testing.assert_allclose(got.outputs[split], want.outputs[split], rtol=tol, atol=tol)
        np.testing.assert_allclose(got.loss[split], want.loss[split], rtol=tol, atol=tol)
    np.testing.assert_allclose(got.grad_norm, want.grad_norm, rtol=tol, atol=tol)


# sigmoid, softmax, linear + from_logits, sparse index targets, exponential + Poisson;
# both optimizers and both graph kinds (XLA: ~1.3 s to compile a case, plain: ~0.4 s).
CASES = [
    ("breast_cancer", "binary_sigmoid_bce", "adam", True),
    ("digits", "multiclass_softmax_cce", "adam", True),
    ("digits", "multiclass_logits_cce", "adam", True),
    ("digits", "multiclass_softmax_sparse_cce", "adam", True),
    ("randhie", "count_exp_poisson", "adam", True),
    ("digits", "multiclass_softmax_sparse_cce", "sgd", True),
    ("breast_cancer", "binary_sigmoid_bce", "sgd", False),
    ("digits", "multiclass_softmax_sparse_cce", "sgd", False),
    ("randhie", "count_exp_poisson", "sgd", False),
    ("digits", "multiclass_softmax_cce", "adam", False),
]


@pytest.mark.parametrize("dataset,recipe,optimizer,jit", CASES)
def test_each_member_matches_fit_keras(splits, monkeypatch, dataset, recipe, optimizer, jit):
    # K = 3 members in one graph. Had the per-member losses been averaged instead of
    # summed, every member's step would shrink by 3 and this comparison would fail.
    monkeypatch.setattr(TRAINER, "jit", jit)
    split = splits[dataset]
    setups = setups_for(recipe, optimizer)
    got, want = full(setups, split), fit_keras(setups, split)
    for g, w, s in zip(got, want, setups):
        assert g.status == "ok"
        assert_same_run(g, w, TOL[optimizer])
        r = s.recipe
        pred_g = r.decode(g.outputs["val"][-1], split.classes)
        pred_w = r.decode(w.outputs["val"][-1], split.classes)
        if r.decoding == "identity":     # values (counts): no labels to agree on
            np.testing.assert_allclose(pred_g, pred_w, rtol=TOL[optimizer], atol=TOL[optimizer])
        else:                            # the same predicted labels, hence the same accuracy
            np.testing.assert_array_equal(pred_g, pred_w)
        assert g.outputs["train"].shape == (EPOCHS, len(split.X_train), r.n_units(split.n))
        assert g.seconds.shape == (EPOCHS,) and np.all(np.diff(g.seconds) > 0) and g.seconds[0] > 0
    # members with different seeds (initial weights and shuffles) differ
    assert np.abs(got[0].outputs["val"][-1] - got[1].outputs["val"][-1]).max() > 1e-3


def reference_model(setup, split):
    """The model fit_keras trains for ``setup`` (same build, data order and batches)."""
    y_train, _ = targets(setup.recipe, split)
    s = setup.settings
    model = build_model(setup.recipe, split.X_train.shape[1:], split.n, hidden=s.hidden,
                        seed=setup.seed, optimizer=s.optimizer,
                        learning_rate=s.learning_rate, output_scale=s.output_scale)
    order = batch_order(setup.seed, s.epochs, len(y_train))
    steps = -(-len(y_train) // s.batch_size)
    model.fit(_epoch_batches(split.X_train, y_train, order, s.batch_size),
              epochs=s.epochs, steps_per_epoch=steps, verbose=0, shuffle=False)
    return model


def test_weights_match_and_member_exports_as_plain_keras_model(splits, monkeypatch):
    monkeypatch.setattr(TRAINER, "jit", True)
    split = splits["digits"]
    setups = setups_for("multiclass_softmax_cce", "adam")
    result = train_stacked(setups, split)
    want = reference_model(setups[1], split).get_weights()
    got = result.weights[1]
    assert [w.shape for w in got] == [w.shape for w in want]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)
    model = setups[1].build_model(split)   # a member's weights in a plain Keras model
    model.set_weights(got)
    assert isinstance(model, keras.Model)
    assert model.get_layer("head").activation.__name__ == "softmax"
    np.testing.assert_allclose(model.predict(split.X_val, verbose=0),
                               result.traces[1].outputs["val"][-1], rtol=1e-6, atol=1e-6)
    assert model.optimizer is not None and model.loss is not None   # compiled like build_model


def test_one_member_diverges_others_finish(splits):
    # Regression on raw diabetes scores: SGD at 0.5 explodes in the first epoch,
    # 1e-3 trains. All three share one chunk (the learning rate is per member).
    split = small("diabetes", 200, 100)
    setups = [Setup(catalog.get("regression_linear_mse"), seed, epochs=4, hidden=HIDDEN,
                    optimizer="sgd", learning_rate=lr)
              for seed, lr in ((0, 1e-3), (1, 0.5), (2, 1e-3))]
    assert len(TRAINER.plan(setups, split)) == 1
    got, want = full(setups, split), fit_keras(setups, split)
    assert [t.status for t in got] == ["ok", "diverged", "ok"] == [t.status for t in want]
    assert got[1].epochs == want[1].epochs < 4
    assert "non-finite" in got[1].error
    assert not np.isfinite(got[1].loss["train"][-1])
    for i in (0, 2):
        assert_same_run(got[i], want[i], 1e-5)


@pytest.mark.parametrize("clip", [{"clipnorm": 1.0}, {"global_clipnorm": 1.0}, {"clipvalue": 0.5}])
def test_gradient_clipping_is_refused(splits, clip):
    setup = Setup(catalog.get("multiclass_softmax_cce"), 0, epochs=EPOCHS, hidden=HIDDEN,
                  optimizer=keras.optimizers.SGD(learning_rate=0.01, **clip))
    with pytest.raises(ValueError, match="clip.*coupling runs"):
        fit_stacked([setup], splits["digits"])
    assert "clip" in stackable(setup)
    assert stackable(setups_for("multiclass_softmax_cce", "adam")[0]) is None


def test_compiled_function_is_reused_and_order_kept(splits):
    split = splits["digits"]
    a = setups_for("multiclass_softmax_cce", "adam")
    b = setups_for("multiclass_logits_cce", "adam")
    alone = full(a, split) + full(b, split)   # compiles at most once each
    before = stacked_tensorflow.TRACE_COUNT
    # other seeds and learning rates, interleaved: same two graphs, no new trace
    mixed = [dataclasses.replace(s, seed=s.seed + 10, learning_rate=2e-3) for s in a + b]
    fit_stacked(mixed, split)
    again = full([a[0], b[0], a[1], b[1], a[2], b[2]], split)
    assert stacked_tensorflow.TRACE_COUNT == before
    for got, want in zip(again, [alone[0], alone[3], alone[1], alone[4], alone[2], alone[5]]):
        assert_same_run(got, want, 1e-6)


def test_failures_stay_in_their_chunk(splits, monkeypatch):
    split = splits["digits"]
    bad = Setup(catalog.get("binary_sigmoid_bce"), 0, epochs=EPOCHS, hidden=HIDDEN)  # 10 classes
    good = setups_for("multiclass_softmax_cce", "adam")[0]
    with pytest.raises(ValueError, match="hidden"):    # invalid settings never reach a trainer
        Setup(catalog.get("multiclass_softmax_cce"), 0, epochs=EPOCHS, hidden=(0,))
    with pytest.raises(ValueError, match="learning_rate"):
        dataclasses.replace(good, learning_rate=-1.0)
    bad_seed = dataclasses.replace(good, seed=-3)
    traces = fit_stacked([bad, good, bad_seed], split)
    assert [t.status for t in traces] == ["failed", "ok", "failed"]
    assert "2 classes" in traces[0].error and "seed" in traces[2].error
    assert fit_keras([bad], split)[0].status == "failed"

    real = TRAINER.run_chunk

    def boom(config, *args, **kw):
        if config.activation == "linear":
            raise RuntimeError("boom")
        return real(config, *args, **kw)

    monkeypatch.setattr(TRAINER, "run_chunk", boom)
    traces = fit_stacked(setups_for("multiclass_logits_cce", "adam", seeds=(0, 1)) + [good], split)
    assert [t.status for t in traces] == ["failed", "failed", "ok"]
    assert "boom" in traces[0].error


def test_chunking_is_bounded_and_even():
    sizes, k = engine.cut(1000, 64, 2)
    assert sum(sizes) == 1000 and max(sizes) <= k == 64 and max(sizes) - min(sizes) <= 1
    assert len(sizes) == 16
    assert engine.cut(10, 64, 2) == ([4, 3, 3], 4)  # two workers or more, one size
    assert engine.cut(6, 64, 2) == ([6], 8)         # too few to split
    assert engine.cut(7, 64, 2) == ([7], 8)         # 6 and 7 share one compiled size
    assert engine.cut(30, 12, 2) == ([8, 8, 7, 7], 8)    # padding kept small
    for n in range(1, 200):    # K: a power of two or the cap; padding below one chunk
        sizes, k = engine.cut(n, 12, 2)
        assert sum(sizes) == n and max(sizes) <= k and (k == 12 or k & (k - 1) == 0)
        assert len(sizes) * k - n < k
    config = Config((32,), 10, "softmax", (), "onehot", "adam", (), 32, 20, True)
    cap = engine.max_members(config, 1347, 450)
    assert 1 <= cap <= engine.MAX_MEMBERS
    assert cap * 2 * 4 * 20 * (1347 + 450) * 10 <= engine.MAX_CHUNK_BYTES


def test_auto_picks_xla_only_when_it_pays_off(monkeypatch):
    monkeypatch.setattr(TRAINER, "jit", "auto")
    monkeypatch.setattr(xla_cache, "active", lambda: False)    # no persistent cache
    config = Config((32,), 10, "softmax", (), "onehot", "adam", (), 32, 20, None)
    digits = dict(n_features=64, n_train=1347, n_val=450)
    assert not TRAINER.use_xla(config, 10, 5, **digits)        # compile would dominate
    assert TRAINER.use_xla(config, 1000, 16, **digits)         # compile amortized
    monkeypatch.setattr(stacked_tensorflow, "_COMPILED", {
        (dataclasses.replace(config, jit=True), 5, 1347, 450, 64)})
    assert TRAINER.use_xla(config, 10, 5, **digits)            # already compiled here
    monkeypatch.setattr(TRAINER, "jit", False)
    assert not TRAINER.use_xla(config, 1000, 16, **digits)


@pytest.mark.parametrize("recipe,optimizer,jit", [
    ("multiclass_softmax_cce", "adam", False), ("multiclass_softmax_sparse_cce", "sgd", True)])
def test_members_with_their_own_splits_match_fit_keras(monkeypatch, recipe, optimizer, jit):
    # Each seed of a grid trains on its own split; members of one graph then get their
    # own data (a leading member axis on the inputs), with the test outputs of their split.
    monkeypatch.setattr(TRAINER, "jit", jit)
    ds = data.load("digits")
    own = [data.split(ds, 0.25, seed, test_fraction=0.2) for seed in SEEDS]
    setups = setups_for(recipe, optimizer)
    got, want = full(setups, own), fit_keras(setups, own)
    assert len(TRAINER.plan(setups, own)) == 1          # one chunk for the three splits
    for g, w in zip(got, want):
        assert_same_run(g, w, TOL[optimizer])
        np.testing.assert_allclose(g.outputs["test"], w.outputs["test"], rtol=TOL[optimizer],
                                   atol=TOL[optimizer])
    assert not np.allclose(got[0].outputs["test"], got[1].outputs["test"])


def test_compiling_and_loading_from_the_cache_print_no_log_lines(tmp_path):
    # A first process compiles into an empty persistent cache, a second loads from it;
    # TensorFlow's C++ log lines (XLA start-up, cache-entry parsing, cpu_aot_loader)
    # reach neither one's stderr, with no TF_CPP_MIN_LOG_LEVEL of the user's.
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    code = ("import tempfile, recipes\n"
            "from recipes.training import data\n"
            "ds = data.load('breast_cancer')\n"
            "with tempfile.TemporaryDirectory() as out:\n"
            "    df = recipes.compare(ds.X, ds.y, recipes=['binary_sigmoid_bce'], seeds=2,\n"
            "                         epochs=2, out=out, progress=False)\n"
            "print(df.run.nunique())")
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_XLA_FLAGS")}
    env.update(RECIPES_CACHE_DIR=str(tmp_path), PYTHONPATH=str(root))
    for _ in ("compile", "load"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, cwd=root)
        assert out.returncode == 0 and out.stdout.strip() == "2", out.stderr
        assert out.stderr == "", f"log lines reached stderr:\n{out.stderr[:2000]}"
    assert list(tmp_path.rglob("*.pb")), "nothing was compiled into the cache"
