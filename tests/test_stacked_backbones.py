"""Backbones in the stacked trainers (issue #21 section 3): each member of a stacked
chunk matches the same run trained alone by plain ``model.fit`` on the same backend,
per layer kind, with real training.

Keras fixes its backend at import, so each backend's cases run in one subprocess
(``on_backend``). A case is a backbone built around one layer kind, on tiny data of
the kind the layer takes (a table, 8x8x1 digit images, digit rows as 8-step sequences,
integer token ids), 2 epochs of 48 training rows in batches of 20 (a short last batch
of 8, as ``model.fit`` has it); a chunk of two members that differ in seed and learning
rate. Both members are compared with ``fit_keras`` (one ``model.fit`` each) on the same
seed, rate and split.

Dropout: each member draws its own masks, from the seed-generator state its plain-fit
run starts from (the model built after ``keras.utils.set_random_seed(seed)``), so the
match is as tight as for the other layers (measured on JAX: outputs within 2.3e-7), not
only statistical. The two members' masks differ, which the "members differ" check sees.

Tolerance: the same Keras ops in another order of float32 roundings (vmap, XLA
fusion). Measured on JAX over these cases: see ``TOL``.
"""

import importlib.util

import pytest
from on_backend import on_backend

TOL = 1e-5

BACKENDS = [pytest.param(b, marks=pytest.mark.skipif(importlib.util.find_spec(b) is None,
                                                     reason="pip install '.[backends]'"))
            for b in ("jax", "tensorflow", "torch")]

# case -> (data kind, recipe, optimizer): the backbone of each case is in CHILD
CASES = {
    "dense": ("table", "binary_sigmoid_bce", "adam"),
    "conv1d": ("sequences", "multiclass_softmax_cce", "adam"),
    "conv2d": ("images", "multiclass_softmax_cce", "sgd"),
    "pooling": ("images", "multiclass_softmax_sparse_cce", "adam"),
    "flatten": ("images", "multiclass_softmax_cce", "adam"),
    "embedding": ("tokens", "binary_sigmoid_bce", "adam"),
    "batch_normalization": ("table", "binary_sigmoid_bce", "adam"),
    "layer_normalization": ("table", "binary_sigmoid_bce", "sgd"),
    "dropout": ("table", "binary_sigmoid_bce", "adam"),
    "frozen": ("table", "binary_sigmoid_bce", "adam"),
    "gru": ("sequences", "multiclass_softmax_cce", "adam"),
    "lstm": ("sequences", "multiclass_softmax_cce", "adam"),
}

CHILD = """
import dataclasses, json, time
import numpy as np
import keras
from sklearn.datasets import load_digits
import recipes
import recipes.training.trainers
from recipes.catalog import table as catalog
from recipes.training import data, members
from recipes.training.keras_fit import fit_keras
from recipes.training.settings import Setup
from recipes.training.trainers import trainer
import importlib

L = keras.layers
CASES = {cases}
fit = trainer("stacked")
native = importlib.import_module(type(fit.__self__).__module__)
rng = np.random.RandomState(0)
digits = load_digits()
table = rng.normal(size=(96, 5)).astype("float32")
tokens = rng.randint(0, 20, size=(96, 7))
X = {{"table": (table, (table[:, 0] + table[:, 1] > 0).astype(int)),
      "images": ((digits.images[:96, :, :, None] / 16).astype("float32"), digits.target[:96]),
      "sequences": ((digits.images[:96] / 16).astype("float32"), digits.target[:96]),
      "tokens": (tokens, (tokens[:, 0] > 9).astype(int))}}
INPUT = {{"table": (5,), "images": (8, 8, 1), "sequences": (8, 8), "tokens": (7,)}}


def frozen():
    model = keras.Sequential([keras.Input((5,)), L.Dense(6, activation="relu"), L.Dense(4)],
                             name="frozen")
    model.layers[0].trainable = False
    return model


BACKBONES = {{
    "dense": lambda: [L.Dense(6, activation="relu")],
    "conv1d": lambda: [L.Conv1D(4, 3, activation="relu"), L.GlobalAveragePooling1D()],
    "conv2d": lambda: [L.Conv2D(4, 3, activation="relu"), L.GlobalMaxPooling2D()],
    "pooling": lambda: [L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(),
                        L.AveragePooling2D(2, padding="same"), L.Flatten()],
    "flatten": lambda: [L.Flatten(), L.Dense(6, activation="relu")],
    "embedding": lambda: [L.Embedding(20, 4), L.GlobalAveragePooling1D()],
    # no bias before BatchNormalization: its gradient is 0 up to rounding noise, which
    # Adam scales up to steps of the learning rate's size, so that bias (and the moving
    # mean it enters) would follow the noise (measured on TensorFlow: 9.4e-5 apart)
    "batch_normalization": lambda: [L.Dense(6, use_bias=False), L.BatchNormalization(),
                                    L.Activation("relu")],
    "layer_normalization": lambda: [L.Dense(6), L.LayerNormalization(), L.ReLU()],
    "dropout": lambda: [L.Dense(16, activation="relu"), L.Dropout(0.5)],
    "gru": lambda: [L.GRU(4)],
    "lstm": lambda: [L.LSTM(4)],
}}


def backbone_of(case, kind):
    if case == "frozen":
        return frozen()      # a model object: every seed starts from its weights
    def build():
        dtype = "int32" if kind == "tokens" else "float32"
        return keras.Sequential([keras.Input(INPUT[kind], dtype=dtype)] + BACKBONES[case](),
                                name=case)
    return build


def cut(s):
    return dataclasses.replace(s, X_train=s.X_train[:48], y_train=s.y_train[:48],
                               X_val=s.X_val[:24], y_val=s.y_val[:24])


out = {{}}
for case, (kind, recipe, optimizer) in CASES.items():
    x, y = X[kind]
    problem = catalog.get(recipe).problem
    split = cut(data.split(data.from_arrays(x, y, problem), seed=0, test_fraction=0.2))
    backbone = backbone_of(case, kind)
    rates = (1e-2, 3e-2) if optimizer == "adam" else (0.05, 0.1)
    setups = [Setup(catalog.get(recipe), seed, epochs=2, batch_size=20, optimizer=optimizer,
                    learning_rate=lr, backbone=backbone) for seed, lr in enumerate(rates)]
    t0 = time.perf_counter()
    try:
        result = native.train_stacked(setups, split, keep_outputs=True)
    except members.NotStackable as err:     # a layer this backend's trainer does not take
        out[case] = {{"refused": str(err), "trainer": recipes.training.trainers.trainer_of(
            "stacked", setups[0])}}
        continue
    t1 = time.perf_counter()
    got = result.traces
    want = fit_keras(setups, split)
    seconds = {{"stacked": t1 - t0, "fit": time.perf_counter() - t1}}
    diff = {{"outputs": 0.0, "loss": 0.0, "grad_norm": 0.0}}

    def worst(what, a, b, scale=1.0):
        diff[what] = max(diff[what], float((np.abs(a - b) / scale).max()))

    for g, w in zip(got, want):
        assert w.status == "ok", w.error
        assert g.status == "ok", g.error
        for part in ("train", "val", "test"):
            worst("outputs", g.outputs[part], w.outputs[part])
        for part in ("train", "val"):
            worst("loss", g.loss[part], w.loss[part])
        worst("grad_norm", g.grad_norm, w.grad_norm, np.maximum(w.grad_norm, 1))
    start = members.initial_weights(setups[0], split)
    n_trainable = len(setups[0].build_model(split, compile=False).trainable_variables)
    final = result.weights[0]
    out[case] = {{
        "trainer": native.__name__, "diff": diff, "seconds": seconds,
        "members_differ": bool(np.abs(got[0].outputs["val"] - got[1].outputs["val"]).max()
                               > 1e-3),
        "x_dtype": str(members.as_input(split.X_train).dtype),
        "chunks": len(native.TRAINER.plan(setups, split)),
        "non_trainable_moved": [bool(np.any(a != b)) for a, b in
                                zip(final[n_trainable:], start[n_trainable:])],
        "trainable_moved": [bool(np.any(a != b)) for a, b in
                            zip(final[:n_trainable], start[:n_trainable])],
    }}
print(json.dumps(out))
"""


@pytest.fixture(scope="module", params=BACKENDS)
def on(request):
    return request.param, on_backend(request.param, CHILD.format(cases=repr(CASES)))


# (backend, case) -> the layer its stacked trainer does not take (members.BACKBONE_BACKENDS):
# TensorFlow's optimizers update an Embedding's rows sparsely
# TensorFlow's optimizers update an Embedding's rows sparsely; PyTorch's convolutions and
# Dropout do not run as the plain-fit run's under torch.func.vmap
REFUSED = {("tensorflow", "embedding"): "Embedding", ("torch", "conv1d"): "Conv1D",
           ("torch", "conv2d"): "Conv2D", ("torch", "pooling"): "Conv2D",
           ("torch", "dropout"): "Dropout"}


@pytest.mark.parametrize("case", list(CASES))
def test_each_member_matches_plain_fit_on_the_same_backend(on, case):
    backend, got = on
    got = got[case]
    if (backend, case) in REFUSED:
        assert f"does not take layer '{REFUSED[backend, case].lower()}" in got["refused"]
        assert f"Received: {REFUSED[backend, case]};" in got["refused"]
        assert got["trainer"] == "keras"        # such runs train with plain fit
        return
    assert got["trainer"] == f"recipes.training.stacked_{backend}"
    assert got["chunks"] == 1                   # both members in one program
    assert got["members_differ"]                # each its own seed and rate
    for what, diff in got["diff"].items():
        assert diff <= TOL, (backend, case, what, diff)
    assert all(got["trainable_moved"])          # every trainable variable trained


def test_integer_token_ids_stay_integers(on):
    backend, got = on
    if (backend, "embedding") not in REFUSED:
        assert got["embedding"]["x_dtype"].startswith("int")
    assert got["dense"]["x_dtype"] == "float32"


def test_moving_statistics_move_and_frozen_weights_do_not(on):
    backend, got = on
    assert got["batch_normalization"]["non_trainable_moved"] == [True, True]   # mean, var
    assert got["frozen"]["non_trainable_moved"] == [False, False]   # frozen kernel, bias
    # Dropout's seed-generator state advances with every batch, as in model.fit
    if (backend, "dropout") not in REFUSED:
        assert got["dropout"]["non_trainable_moved"] == [True]


BENCHMARK = ["benchmarks/backbone.py", "--backends", "jax", "--seeds", "2", "--rates", "1",
             "--epochs", "1", "--fit-runs", "1"]


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="pip install '.[backends]'")
def test_the_backbone_benchmark_writes_its_block_and_refuses_a_document_without_one(tmp_path):
    import subprocess
    import sys

    from on_backend import ROOT

    plain = tmp_path / "plain.md"
    plain.write_text("# no block here\n")
    refused = subprocess.run([sys.executable, *BENCHMARK, "--doc", str(plain)], cwd=ROOT,
                             capture_output=True, text=True)
    assert refused.returncode != 0          # refused before measuring anything
    assert "Expected a block <!-- begin: benchmarks/backbone.py --> ... <!-- end -->" in \
        refused.stderr
    assert plain.read_text() == "# no block here\n"          # left as it was
    doc = tmp_path / "doc.md"
    doc.write_text("# Numbers\n\n<!-- begin: benchmarks/backbone.py -->\nold\n<!-- end -->\n"
                   "after\n")
    done = subprocess.run([sys.executable, *BENCHMARK, "--doc", str(doc)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    text = doc.read_text()
    assert "old" not in text and text.endswith("<!-- end -->\nafter\n")
    assert ("Command: `python benchmarks/backbone.py --backends jax --seeds 2 --rates 1 "
            "--epochs 1 --fit-runs 1` · Date: ") in text
    [row] = [line for line in text.splitlines() if line.startswith("| jax |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0] == "jax" and cells[1] == "2"                 # backend, runs
    assert all(float(c.split()[0]) > 0 for c in cells[2:5])     # ms per run, each way
    assert cells[4].endswith("(1 runs)")
    assert cells[5].startswith("**") and cells[5].endswith("x**")    # the ratio
    stacked, fit = cells[6].split(" / ")
    assert stacked == fit                   # the same run, either trainer: same accuracy
