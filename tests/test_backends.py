"""Every Keras backend: TensorFlow here, JAX and PyTorch in processes of their own.

Keras fixes its backend at import, so each JAX or PyTorch check runs in a subprocess
with KERAS_BACKEND set, on tiny data (one process per backend and test).
"""

import importlib.util
import sys

import numpy as np
import pytest
from on_backend import on_backend
from sklearn.datasets import load_iris

import recipes
from recipes.catalog.table import Catalog
from recipes.diagnostics.backends import disagreements, matrix
from recipes.results.store import Store
from recipes.training import stacked_tensorflow
from recipes.training.settings import BACKENDS, Settings, Setup, condition
from recipes.training.trainers import STACKED, trainer

OTHERS = [b for b in ("jax", "torch") if importlib.util.find_spec(b) is not None]
needs_others = pytest.mark.skipif(len(OTHERS) < 2, reason="pip install '.[backends]'")


def test_backend_is_a_setting_checked_by_name():
    with pytest.raises(ValueError, match=r"Expected one of \{'tensorflow', 'jax', 'torch'\}. "
                                         r"Received: backend='numpy'"):
        Settings(backend="numpy")
    recipe = recipes.get("binary_sigmoid_bce")
    # a TensorFlow run's config leaves the backend out (its run id is the same as before)
    assert "backend" not in Setup(recipe, 0, backend="tensorflow").config()
    assert Setup(recipe, 0, backend="jax").config()["backend"] == "jax"
    assert condition({"epochs": 2})["backend"] == "tensorflow"
    assert "backend=torch" in condition({"epochs": 2, "backend": "torch"})["condition"]


def test_every_backend_has_a_stacked_trainer_and_another_is_refused_by_name(monkeypatch):
    assert set(STACKED) == set(BACKENDS) == {"tensorflow", "jax", "torch"}
    assert trainer("stacked") == stacked_tensorflow.TRAINER.iter_fit   # this process's
    monkeypatch.setenv("KERAS_BACKEND", "numpy")
    monkeypatch.delitem(sys.modules, "keras", raising=False)   # the backend comes from the env
    with pytest.raises(ValueError, match=r"Expected one of \{'tensorflow', 'jax', 'torch'\}. "
                                         r"Received: backend='numpy'"):
        trainer("stacked")


@needs_others
def test_compare_across_backends_trains_each_in_its_own_process(tmp_path):
    # TensorFlow, this process's backend, trains in place as in every other test
    X, y = load_iris(return_X_y=True)
    df = recipes.compare(X[::5], y[::5], recipes=["multiclass_softmax_cce"], seeds=1,
                         epochs=2, out=tmp_path, progress=False, backend=["jax", "torch"])
    runs = Store(tmp_path).runs()
    assert set(runs["backend"]) == {"jax", "torch"}
    assert (runs["status"] == "ok").all()
    assert runs.set_index("backend")["trainer"].to_dict() == {"jax": "stacked", "torch": "stacked"}
    by = runs.set_index("backend")
    assert by.loc["jax", "versions"]["backend"] == "jax" and "jax" in by.loc["jax", "versions"]
    assert by.loc["torch", "versions"]["backend"] == "torch"
    # one condition per backend, never pooled; every backend has results
    assert df.groupby("backend")["condition"].nunique().eq(1).all()
    assert df["condition"].nunique() == 2
    assert set(df.query("metric == 'loss' and split == 'val'")["backend"]) == set(runs["backend"])


@pytest.mark.parametrize("backend", OTHERS)
def test_the_api_works_on_every_backend(backend, tmp_path):
    got = on_backend(backend, f"""
        import json, warnings, numpy as np, keras, recipes
        from recipes.export.model import export_model
        out = {{"backend": keras.backend.backend()}}
        g = recipes.gradients("multiclass_softmax_mse")
        out["gradients_agree"] = bool(g["agree"].all())
        y = np.arange(12) % 3
        m = recipes.build_model("multiclass_softmax_cce", 4, 3, hidden=(4,))
        found = {{f.code: f.severity for f in recipes.check_model(m, y).findings}}
        out["clipped"] = found.get("backend-dependent")
        i = keras.Input((4,))
        head = recipes.build_head("multiclass_softmax_cce", keras.Model(i, keras.layers.Dense(5)(i)), 3)
        out["head"] = list(head.output_shape)
        export_model("binary_sigmoid_bce", input_shape=4, n_outputs=2, out={str(tmp_path)!r} + "/m.keras")
        out["loaded"] = list(keras.models.load_model({str(tmp_path)!r} + "/m.keras").output_shape)
        print(json.dumps(out))
    """)
    assert got == {"backend": backend, "gradients_agree": True, "clipped": "warning",
                   "head": [None, 3], "loaded": [None, 1]}


@needs_others
def test_the_backend_matrix_marks_where_backends_disagree(tmp_path):
    catalog = Catalog([recipes.get(n) for n in ("binary_sigmoid_bce", "binary_logits_bce")])
    df = matrix(catalog, ("tensorflow", "jax"), out=tmp_path)
    wide = disagreements(df).set_index(["recipe", "point"])
    # TensorFlow recovers the logits: loss |z| = 20 and gradient -1; JAX clips at 1e-7
    sat = wide.loc[("binary_sigmoid_bce", "saturated")]
    assert sat["disagree"] and np.isclose(sat["loss_tensorflow"], 20, rtol=1e-3)
    assert np.isclose(sat["loss_jax"], -np.log(1e-7), rtol=1e-3) and sat["grad_jax"] == 0
    assert np.isclose(sat["grad_tensorflow"], -1, rtol=1e-3)
    assert not wide.loc[("binary_logits_bce", "saturated"), "disagree"]
    assert not wide.xs("typical", level="point")["disagree"].any()
    # cached in the results folder: read back without a subprocess
    assert (tmp_path / "backend_matrix.json").exists()
    assert matrix(catalog, ("tensorflow", "jax"), out=tmp_path).equals(df)


def test_the_catalog_notes_where_a_recipe_depends_on_the_backend():
    catalog = recipes.load_catalog()
    noted = {r.name for r in catalog if r.backend_note}
    assert {"binary_sigmoid_bce", "multiclass_softmax_cce", "multiclass_softmax_bce"} <= noted
    assert not noted & {r.name for r in catalog if r.from_logits}
