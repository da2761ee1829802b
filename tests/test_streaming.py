"""The stacked trainer scores runs as they train (bounded memory), and the scores equal
``recipes.training.metrics`` computed from every epoch's raw outputs, on every problem
type of the catalog."""

import dataclasses

import numpy as np
import pytest

pytest.importorskip("keras")

from recipes.catalog.table import as_catalog  # noqa: E402
from recipes.results.records import history  # noqa: E402
from recipes.training import data, metrics  # noqa: E402
from recipes.training.stacked_tensorflow import TRAINER  # noqa: E402
from recipes.training.settings import Setup  # noqa: E402

CATALOG = as_catalog(None)
# one bundled data set per problem type
DATASETS = {"binary": "breast_cancer", "multiclass": "wine", "multilabel": "digit_attributes",
            "regression": "diabetes", "bounded_regression": "star98", "count": "randhie",
            "ordinal": "fair"}
EPOCHS = 3
ROWS = {"train": 60, "val": 30, "test": 20}


def tiny_split(name, seed):
    s = data.split(data.load(name), 0.25, seed, test_fraction=0.2)
    cut = {}
    for part, n in ROWS.items():
        cut[f"X_{part}"], cut[f"y_{part}"] = getattr(s, f"X_{part}")[:n], getattr(s, f"y_{part}")[:n]
    return dataclasses.replace(s, **cut)


def test_every_problem_type_is_covered():
    assert set(DATASETS) == {r.problem for r in CATALOG}


@pytest.mark.parametrize("problem", sorted(DATASETS))
def test_streamed_metrics_equal_metrics_of_the_outputs(problem, monkeypatch):
    monkeypatch.setattr(TRAINER, "jit", False)     # the plain graph: cheapest to trace
    recipes = list(CATALOG.of(problem))[:3]
    if problem == "multiclass":                    # no probabilities: NaN metrics
        recipes.append(CATALOG.get("multiclass_index_regression"))
    splits = [tiny_split(DATASETS[problem], seed) for seed in (0, 1)]
    setups = [Setup(r, seed, epochs=EPOCHS, hidden=(8,), optimizer="sgd", learning_rate=0.05)
              for r in recipes for seed in (0, 1)]
    own = [splits[s.seed] for s in setups]
    full = TRAINER.train(setups, own, keep_outputs=True).traces
    streamed = TRAINER.fit(setups, own)
    for setup, split, f, s in zip(setups, own, full, streamed):
        assert s.status == f.status == "ok"
        ys = {"train": split.y_train, "val": split.y_val, "test": split.y_test}
        assert set(s.metrics) == set(f.outputs) == {"train", "val", "test"}
        for part, outputs in f.outputs.items():
            truth = metrics.truth(setup.recipe, ys[part], split.classes)
            with np.errstate(all="ignore"):
                want = metrics.common_metrics(setup.recipe, truth, outputs, n=split.n)
            assert list(s.metrics[part]) == list(metrics.names(setup.recipe, split.n))
            for name, values in want.items():
                assert s.metrics[part][name].shape == (len(outputs),)
                np.testing.assert_allclose(s.metrics[part][name], values, rtol=1e-5, atol=1e-6,
                                           err_msg=f"{setup.recipe.name} {part} {name}")
            # only the final epoch's outputs are kept
            assert s.outputs[part].shape == (1,) + outputs.shape[1:]
            np.testing.assert_allclose(s.outputs[part][0], outputs[-1], rtol=1e-5, atol=1e-6)
        # the stored history is the same either way (wall seconds aside)
        a, b = (history(setup, split, t) for t in (f, s))
        a, b = (h[h["metric"] != "seconds"].reset_index(drop=True) for h in (a, b))
        assert a[["epoch", "split", "metric"]].equals(b[["epoch", "split", "metric"]])
        np.testing.assert_allclose(a["value"], b["value"], rtol=1e-5, atol=1e-6)


def test_traces_stream_out_before_later_chunks_train(monkeypatch):
    # With one worker, the first run is yielded before the last chunks have trained: a
    # runner stores it at once, and memory holds one chunk's outputs, not every run's.
    monkeypatch.setattr(TRAINER, "jit", False)
    monkeypatch.setattr(TRAINER, "workers", 1)
    split = tiny_split("wine", 0)
    recipes = [CATALOG.get(n) for n in ("multiclass_softmax_cce", "multiclass_softmax_mse",
                                        "multiclass_linear_mse", "multiclass_ovr_sigmoid_bce")]
    setups = [Setup(r, seed, epochs=2, hidden=(8,)) for r in recipes for seed in (0, 1)]
    started = []
    real = TRAINER.run_chunk

    def counting(config, chunk, *args, **kw):
        started.append(len(chunk))
        return real(config, chunk, *args, **kw)

    monkeypatch.setattr(TRAINER, "run_chunk", counting)
    runs = TRAINER.iter_train(setups, split)
    first, _ = next(runs)
    assert first.status == "ok" and len(started) <= 2     # WORKERS + 1 ahead at most
    rest = [t for t, _ in runs]
    assert started == [2, 2, 2, 2] and len(rest) == 7
    assert all(t.outputs["train"].shape[0] == 1 for t in [first] + rest)
