"""A new training setting is one ``Settings`` field, its check (a row of
``settings.CHECKS``) and what it configures (a row of ``settings.APPLIES_TO``); every
trainer then gets it with no trainer code.

This test adds one without touching the package (Settings has since declared it
itself, #22; the test undoes the declaration to show the steps): label smoothing of the loss, as a
field of a ``Settings`` subclass plus the two rows. It shows the value reaching every
trainer (plain ``fit``, and the stacked trainer of each backend: TensorFlow, JAX and
PyTorch, each in a process of its own): it is in the loss of the model ``fit`` trains
and in the group key of each stacked trainer (so runs that differ in it never share a
chunk), and each stacked trainer, trained with it, matches plain ``fit`` trained with
it (measured: outputs within 1.8e-7, losses within 4.8e-7; asserted 1e-5), while the
smoothing changes the val loss by 0.056-0.059, far more than that tolerance. A setting
of a part that a stacked trainer writes out itself (here the model) is refused by name
when it is not at its default, instead of being ignored.
"""

import dataclasses
import importlib.util

import pytest
from on_backend import on_backend

from recipes import get
from recipes.training import settings

# The setting, as its author would add it (here in a subclass, to leave Settings as it is).
SETTING = """
import dataclasses
from recipes.training import settings


@dataclasses.dataclass(frozen=True)
class Smoothed(settings.Settings):
    label_smoothing: float = 0.0     # the field: its default keeps today's runs


CHECK = (lambda v: isinstance(v, float) and 0 <= v < 1, "a float in [0, 1)")
"""

CHILD = SETTING + """
import importlib, json
import numpy as np
from recipes.catalog import table as catalog
from recipes.training import data, members
from recipes.training.keras_fit import fit_keras
from recipes.training.settings import Setup
from recipes.training.trainers import trainer

settings.CHECKS["label_smoothing"] = CHECK
settings.APPLIES_TO["label_smoothing"] = "loss"

native = importlib.import_module(type(trainer("stacked").__self__).__module__)
s = data.split(data.load("digits"))
split = dataclasses.replace(s, X_train=s.X_train[:100], y_train=s.y_train[:100],
                            X_val=s.X_val[:50], y_val=s.y_val[:50])
recipe = catalog.get("multiclass_softmax_cce")
setups = [Setup(recipe, 0, Smoothed(label_smoothing=ls, epochs=2, hidden=(8,),
                                   optimizer="sgd", learning_rate=0.1)) for ls in (0.1, 0.0)]
got = native.train_stacked(setups, split, keep_outputs=True).traces
want = fit_keras(setups[:1], split)[0]


def worst(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


model = setups[0].build_model(split)
out = {
    "fit_loss": model.loss.get_config()["label_smoothing"],
    "chunks": [dict(c.key.loss[2])["label_smoothing"] for c in native.TRAINER.plan(setups, split)],
    "statuses": [t.status for t in got] + [want.status],
    "vs_fit": max(worst(got[0].outputs[p], want.outputs[p]) for p in ("train", "val")),
    "loss_vs_fit": max(worst(got[0].loss[p], want.loss[p]) for p in ("train", "val")),
    "smoothing_effect": worst(got[0].loss["val"], got[1].loss["val"]),
}
settings.APPLIES_TO["width_noise"] = "model"     # a model setting no stacked trainer writes out
Noisy = dataclasses.make_dataclass("Noisy", [("width_noise", float, 0.0)], bases=(Smoothed,),
                                   frozen=True)
out["refused"] = members.stackable(Setup(recipe, 0, Noisy(width_noise=0.5)))
out["default_ok"] = members.stackable(Setup(recipe, 0, Noisy()))
print(json.dumps(out))
"""

BACKENDS = [pytest.param(b, marks=pytest.mark.skipif(
    b != "tensorflow" and importlib.util.find_spec(b) is None, reason="pip install '.[backends]'"))
    for b in ("tensorflow", "jax", "torch")]


def test_the_setting_is_checked_where_it_is_declared(monkeypatch):
    scope = {}
    exec(SETTING, scope)
    monkeypatch.setitem(settings.CHECKS, "label_smoothing", scope["CHECK"])
    # Settings declares label_smoothing itself now (#22): undeclared here, to show the step
    monkeypatch.delitem(settings.APPLIES_TO, "label_smoothing")
    Smoothed = scope["Smoothed"]
    with pytest.raises(ValueError, match=r"Expected label_smoothing to be a float in \[0, 1\)\. "
                                         r"Received: label_smoothing=1\.5"):
        Smoothed(label_smoothing=1.5)
    setup = settings.Setup(get("multiclass_softmax_cce"), 0, Smoothed(label_smoothing=0.1))
    assert setup.config()["label_smoothing"] == 0.1      # part of the run's config and id
    assert setup.arguments("loss") == {}                 # configures nothing until declared
    monkeypatch.setitem(settings.APPLIES_TO, "label_smoothing", "loss")
    assert setup.arguments("loss") == {"label_smoothing": 0.1}
    assert dataclasses.replace(setup.settings, epochs=3).label_smoothing == 0.1


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_loss_setting_reaches_every_trainer(backend):
    got = on_backend(backend, CHILD)
    assert got["fit_loss"] == 0.1                        # plain fit's compiled loss
    assert got["chunks"] == [0.1, 0.0]                   # the stacked trainer's two groups
    assert got["statuses"] == ["ok", "ok", "ok"]
    assert got["vs_fit"] <= 1e-5 and got["loss_vs_fit"] <= 1e-5, got
    assert got["smoothing_effect"] > 1e-2, got           # far above the tolerance
    assert got["refused"].startswith("The stacked trainers do not implement the setting "
                                     "'width_noise' (it configures the model)")
    assert got["refused"].endswith("Received: width_noise=0.5")
    assert got["default_ok"] is None
