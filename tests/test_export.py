"""Exports, read back with each tool's own reader: MLflow runs, TensorBoard event files,
and .keras model files loaded by a fresh Python process that never imports recipes."""

import contextlib
import io
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from recipes.catalog import table as catalog_module
from recipes.cli import main
from recipes.export.model import export_model
from recipes.export.tracking import params, run_dirs, to_mlflow, to_tensorboard
from recipes.results.grid import Experiment, run_config
from recipes.models.spec import loss_spec
from recipes.results.store import Store
from recipes.training.settings import Setup

import mlflow  # noqa: E402  (the [mlflow] extra is part of [test]: no skipping)

# MLflow's SQL store warns about SQLAlchemy deprecations that are not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*")

ROOT = Path(__file__).resolve().parents[1]
CATALOG = catalog_module.load_catalog()

# Two hand-made runs with known values: an ok run, and a diverged one with a NaN loss.
RUNS = {
    "ok": dict(recipe="multiclass_softmax_cce", dataset="iris", seed=0, status="ok", error=None,
               finished_at="2024-05-01T12:00:00+00:00", seconds=1.5,
               history={("train", "loss"): [1.0, 0.5, 0.25], ("val", "loss"): [1.1, 0.6, 0.3],
                        ("val", "accuracy"): [0.5, 0.75, 1.0], ("train", "seconds"): [0.5, 1.0, 1.5]}),
    "bad": dict(recipe="multiclass_softmax_mse", dataset="iris", seed=1, status="diverged",
                error="non-finite loss or outputs at epoch 2", finished_at="2024-05-01T13:00:00+00:00",
                seconds=2.0, history={("train", "loss"): [2.0, float("nan")],
                                      ("val", "accuracy"): [0.25, 0.0], ("train", "seconds"): [1.0, 2.0]}),
}


def write_run(store, key, experiment="exp", **changes):
    spec = {**RUNS[key], **changes}
    recipe = CATALOG.get(spec["recipe"])
    setup = Setup(recipe=recipe, seed=spec["seed"], epochs=3, learning_rate=0.01, hidden=(16, 8))
    config = run_config(Experiment(experiment, (spec["dataset"],),
                                   goal={"metric": "accuracy", "value": 0.9}),
                        SimpleNamespace(name=spec["dataset"]), setup, "keras")
    rid = f"{key}-{experiment}-{spec['seed']}"
    history = [(e + 1, split, metric, v) for (split, metric), values in spec["history"].items()
               for e, v in enumerate(values)]
    store.write({"run": rid, "experiment": experiment, "dataset": spec["dataset"],
                 "problem": recipe.problem, "target": recipe.target, "recipe": recipe.name,
                 "role": recipe.role, "seed": spec["seed"], "trainer": "keras",
                 "status": spec["status"], "error": spec["error"], "epochs": len(history),
                 "seconds": spec["seconds"], "config": config, "versions": {"keras": "3"},
                 "finished_at": spec["finished_at"]}, history)
    return rid


@pytest.fixture
def results(tmp_path):
    store = Store(tmp_path / "results")
    ids = {key: write_run(store, key) for key in RUNS}
    return SimpleNamespace(path=tmp_path / "results", store=store, ids=ids)


@pytest.fixture
def tracking(tmp_path):
    """A tmp MLflow SQLite store as the global tracking URI (restored afterwards)."""
    before = mlflow.get_tracking_uri()
    uri = f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    (tmp_path / "mlflow").mkdir()
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(before)


def by_results_id(experiment="exp"):
    found = mlflow.search_runs(experiment_names=[experiment], output_format="list")
    return {r.data.tags["results_run_id"]: r for r in found}


# --- MLflow ------------------------------------------------------------------------

def test_mlflow_export_reads_back(results, tracking):
    done = to_mlflow(results.path, tracking_uri=tracking)
    assert (done["exported"], done["skipped"], list(done["experiments"])) == (2, 0, ["exp"])
    runs = by_results_id()
    assert set(runs) == set(results.ids.values())
    client = mlflow.MlflowClient(tracking)

    ok = runs[results.ids["ok"]]
    assert ok.info.status == "FINISHED" and ok.info.run_name == "iris/multiclass_softmax_cce/seed0"
    assert ok.data.params == {
        "experiment": "exp", "dataset": "iris", "trainer": "keras",
        "recipe": "multiclass_softmax_cce", "problem": "multiclass", "role": "recommended",
        "activation": "softmax", "loss": "categorical_crossentropy", "from_logits": "False",
        "encoding": "onehot", "units": "n", "decoding": "argmax", "target": "classes",
        "recipe_metrics": "categorical_accuracy", "seed": "0", "epochs": "3", "batch_size": "32",
        "optimizer": "adam", "learning_rate": "0.01", "hidden": "16,8", "output_scale": "1.0",
        "goal_metric": "accuracy", "goal_value": "0.9"}
    tags = {k: v for k, v in ok.data.tags.items() if not k.startswith("mlflow.")}
    assert tags == {"dataset": "iris", "recipe": "multiclass_softmax_cce", "seed": "0",
                    "role": "recommended", "problem": "multiclass", "trainer": "keras",
                    "status": "ok", "results_run_id": results.ids["ok"]}
    end = 1714564800000  # 2024-05-01T12:00:00Z in ms
    assert (ok.info.start_time, ok.info.end_time) == (end - 1500, end)
    loss = client.get_metric_history(ok.info.run_id, "train_loss")
    assert [(m.step, m.value) for m in loss] == [(1, 1.0), (2, 0.5), (3, 0.25)]
    assert [m.timestamp for m in loss] == [end - 1000, end - 500, end]
    acc = client.get_metric_history(ok.info.run_id, "val_accuracy")
    assert [(m.step, m.value) for m in acc] == [(1, 0.5), (2, 0.75), (3, 1.0)]
    assert set(ok.data.metrics) == {"train_loss", "val_loss", "val_accuracy", "train_seconds"}
    assert ok.data.metrics["val_accuracy"] == 1.0  # the latest value

    bad = runs[results.ids["bad"]]
    assert bad.info.status == "FAILED"
    assert bad.data.tags["status"] == "diverged"
    assert bad.data.tags["error"] == "non-finite loss or outputs at epoch 2"
    loss = client.get_metric_history(bad.info.run_id, "train_loss")
    assert [m.step for m in loss] == [1, 2] and loss[0].value == 2.0 and math.isnan(loss[1].value)


def test_mlflow_export_twice_adds_only_new_runs(results, tracking):
    to_mlflow(results.path, tracking_uri=tracking)
    again = to_mlflow(results.path, tracking_uri=tracking)
    assert (again["exported"], again["skipped"]) == (0, 2)
    assert len(mlflow.search_runs(experiment_names=["exp"], output_format="list")) == 2
    new = write_run(results.store, "ok", seed=5)
    more = to_mlflow(results.path, tracking_uri=tracking)
    assert (more["exported"], more["skipped"]) == (1, 2)
    runs = by_results_id()
    assert len(runs) == 3 and runs[new].data.params["seed"] == "5"


def test_mlflow_export_killed_midway_is_redone(results, tracking):
    """A run left RUNNING (the export was killed before terminating it) is replaced."""
    client = mlflow.MlflowClient(tracking)
    exp = client.create_experiment("exp")
    half = client.create_run(exp, tags={"results_run_id": results.ids["ok"]}).info.run_id
    done = to_mlflow(results.path, tracking_uri=tracking)
    assert (done["exported"], done["skipped"]) == (2, 0)
    runs = by_results_id()
    assert len(runs) == 2 and half not in {r.info.run_id for r in runs.values()}
    assert runs[results.ids["ok"]].info.status == "FINISHED"
    assert client.get_run(half).info.lifecycle_stage == "deleted"


def test_mlflow_experiments_follow_the_results_unless_named(results, tracking):
    other = write_run(results.store, "ok", experiment="exp2")
    to_mlflow(results.path, tracking_uri=tracking)
    assert set(by_results_id("exp2")) == {other} and len(by_results_id("exp")) == 2
    done = to_mlflow(results.path, tracking_uri=tracking, experiment="all-in-one")
    assert done["exported"] == 3 and len(by_results_id("all-in-one")) == 3
    only = to_mlflow(results.path, tracking_uri=tracking, experiment="iris-ok", status="ok")
    assert only["exported"] == 2 and {r.data.tags["status"] for r in by_results_id("iris-ok").values()} == {"ok"}


def test_mlflow_default_store_is_beside_the_results(results, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(results.path), "--to", "mlflow"]) == 0
    db = results.path / "mlflow.db"
    assert db.is_file() and f"sqlite:///{db}" in capsys.readouterr().out
    assert not (tmp_path / "mlruns").exists() and not (tmp_path / "mlflow.db").exists()
    client = mlflow.MlflowClient(f"sqlite:///{db}")
    exp = client.get_experiment_by_name("exp")
    assert len(client.search_runs([exp.experiment_id])) == 2
    assert exp.artifact_location == (results.path / "mlartifacts" / "exp").resolve().as_uri()
    assert main(["export", str(results.path), "--to", "mlflow"]) == 0
    assert "0 runs exported, 2 already there" in capsys.readouterr().out
    assert len(client.search_runs([exp.experiment_id])) == 2


# --- TensorBoard ---------------------------------------------------------------------

def read_events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    acc = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    acc.Reload()
    scalars = {tag: [(e.step, float(make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]
               for tag in acc.Tags()["tensors"]
               if acc.SummaryMetadata(tag).plugin_data.plugin_name == "scalars"}
    return acc, scalars


def test_tensorboard_event_files_read_back(results, tmp_path):
    from tensorboard.plugins.hparams import api_pb2, metadata

    logdir = tmp_path / "tb"
    done = to_tensorboard(results.path, logdir)
    assert (done["written"], done["skipped"]) == (2, 0)
    ok_dir = logdir / "exp" / "iris" / "multiclass_softmax_cce" / "seed0"
    acc, scalars = read_events(ok_dir)
    assert scalars["train/loss"] == [(1, 1.0), (2, 0.5), (3, 0.25)]
    assert scalars["val/loss"] == [(1, pytest.approx(1.1)), (2, pytest.approx(0.6)),
                                   (3, pytest.approx(0.3))]
    assert scalars["val/accuracy"] == [(1, 0.5), (2, 0.75), (3, 1.0)]
    end = 1714564800.0
    assert [e.wall_time for e in acc.Tensors("train/loss")] == [end - 1.0, end - 0.5, end]
    content = acc.PluginTagToContent(metadata.PLUGIN_NAME)
    start = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG])
    assert start.hparams["recipe"].string_value == "multiclass_softmax_cce"
    assert start.hparams["learning_rate"].number_value == 0.01
    assert start.hparams["from_logits"].bool_value is False
    assert start.hparams["hidden"].string_value == "16,8" and start.start_time_secs == end - 1.5
    end_info = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
    assert end_info.status == api_pb2.STATUS_SUCCESS

    acc, scalars = read_events(logdir / "exp" / "iris" / "multiclass_softmax_mse" / "seed1")
    assert scalars["train/loss"][0] == (1, 2.0) and math.isnan(scalars["train/loss"][1][1])
    end_info = metadata.parse_session_end_info_plugin_data(
        acc.PluginTagToContent(metadata.PLUGIN_NAME)[metadata.SESSION_END_INFO_TAG])
    assert end_info.status == api_pb2.STATUS_FAILURE


def test_tensorboard_export_twice_writes_only_new_runs(results, tmp_path, capsys):
    logdir = tmp_path / "tb"
    assert main(["export", str(results.path), "--to", "tensorboard", str(logdir)]) == 0
    assert "2 runs written" in capsys.readouterr().out
    assert main(["export", str(results.path), "--to", "tensorboard", str(logdir)]) == 0
    assert "0 runs written, 2 already there" in capsys.readouterr().out
    assert len(list(logdir.rglob("events.out.tfevents.*"))) == 2
    write_run(results.store, "ok", seed=3)
    assert to_tensorboard(results.path, logdir)["written"] == 1
    _, scalars = read_events(logdir / "exp" / "iris" / "multiclass_softmax_cce" / "seed3")
    assert scalars["val/accuracy"] == [(1, 0.5), (2, 0.75), (3, 1.0)]


def test_runs_that_would_share_a_log_directory_get_their_own(results):
    runs = results.store.runs()
    twin = runs[runs.run == results.ids["ok"]].assign(run="twin", trainer="stacked")
    import pandas as pd

    dirs = run_dirs(pd.concat([runs, twin], ignore_index=True))
    assert len(set(dirs.values())) == 3
    assert dirs["twin"].name == "seed0-stacked" and dirs[results.ids["ok"]].name == "seed0-keras"


def test_params_are_flat_and_typed(results):
    flat = params(results.store.runs().set_index("run").loc[results.ids["ok"]].to_dict() | {
        "run": results.ids["ok"]})
    assert flat["from_logits"] is False and flat["seed"] == 0 and flat["learning_rate"] == 0.01
    assert all(isinstance(v, (bool, int, float, str)) for v in flat.values())


def test_bad_export_arguments_are_one_line_errors(results, capsys):
    assert main(["export", str(results.path), "--to", "tensorboard"]) == 2
    assert "Expected --to mlflow or --to tensorboard DIR" in capsys.readouterr().err
    assert main(["export", str(results.path), "--to", "wandb"]) == 2
    assert main(["export", str(results.path / "nope"), "--to", "mlflow"]) == 2
    assert "No results store" in capsys.readouterr().err


def test_missing_extras_say_what_to_install(results, tmp_path):
    """In a process where mlflow, tensorboard and ray cannot be imported."""
    code = textwrap.dedent(f"""
        import sys
        for name in ("mlflow", "tensorboard", "ray"):
            sys.modules[name] = None
        from recipes.cli import main
        from recipes.export.tracking import MissingExtra, to_mlflow, to_tensorboard
        from recipes import Experiment, run
        for call in (lambda: to_mlflow({str(results.path)!r}),
                     lambda: to_tensorboard({str(results.path)!r}, {str(tmp_path / 'tb')!r}),
                     lambda: run(Experiment(name="x", datasets=("iris",)), {str(tmp_path / 'r')!r},
                                 executor="ray")):
            try:
                call()
            except MissingExtra as err:
                print(err)
        sys.exit(main(["export", {str(results.path)!r}, "--to", "mlflow"]))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    for line, extra in zip(lines, ("mlflow", "tensorboard", "ray")):
        assert f"pip install 'keras-loss-recipes[{extra}]'" in line
    assert "recipes export: error:" in proc.stderr and "[mlflow]" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


# --- .keras models -----------------------------------------------------------------------

CUSTOM_LOSS = [r.name for r in CATALOG.recipes if loss_spec(r)[0] != "keras.losses"]
BUILTIN = "binary_sigmoid_bce"

# One fresh process loads every exported file (starting Keras costs seconds): first each
# file plainly, then, after the argument "import-recipes", the files after it once
# `import recipes.models.build` has run. Each load's warnings are kept apart, per file.
LOADER = textwrap.dedent("""
    import json, sys, warnings
    import numpy as np
    import keras
    report = {"plain": {}, "after import": {}, "warnings": {}}

    def load(arg):
        path, _, how = arg.partition(":")
        try:
            model = keras.models.load_model(path, compile=how != "nocompile")
        except Exception as err:
            return {"error": f"{type(err).__name__}: {err}"}
        config = model.get_compile_config() if model.compiled else {}
        if not how:
            np.savez(path + ".weights.npz", *model.get_weights())
        return {"name": model.name, "compiled": bool(model.compiled),
                "loss": (config.get("loss") or {}).get("class_name"),
                "metrics": [m["class_name"] for m in config.get("metrics") or []],
                "units": int(model.output.shape[-1])}

    stage = "plain"
    for arg in sys.argv[1:]:
        if arg == "import-recipes":
            report["recipes imported"] = "recipes" in sys.modules
            import recipes.models.build
            stage = "after import"
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report[stage][arg] = load(arg)
        report["warnings"][f"{stage} {arg}"] = [str(w.message) for w in caught]
    report.setdefault("recipes imported", "recipes" in sys.modules)
    print(json.dumps(report))
""")


def load_elsewhere(cwd, *args):
    """Load .keras files (``PATH`` or ``PATH:nocompile``; those after ``"import-recipes"``
    once ``recipes.models.build`` is imported) in a fresh Python process that runs outside
    the repository and imports ``recipes`` only when asked; returns (report, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-W", "always", "-c", LOADER, *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1]), proc.stderr


def saved_weights(path):
    with np.load(str(path) + ".weights.npz") as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


def export_cli(*argv):
    """(exit status, what it printed) of ``recipes export-model ARGV``."""
    with contextlib.redirect_stdout(io.StringIO()) as said:
        code = main(["export-model", *map(str, argv)])
    return code, said.getvalue()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Each custom-loss recipe exported by the command (uncompiled) and compiled anyway, the
    built-in recipe exported by the command, and one fresh process's ``load_elsewhere``
    report of them all: plainly, then the compiled custom-loss files after
    ``import recipes.models.build``."""
    folder = tmp_path_factory.mktemp("export-model")
    plain, compiled, said = [], [], {}
    for name in CUSTOM_LOSS:
        out = folder / f"{name}.keras"
        said[name] = export_cli(name, "--input-shape", 30, "--n", 3, "--out", out,
                                "--hidden", 16, 8, "--seed", 4)
        plain.append(out)
        compiled.append(export_model(name, 30, 3, folder / f"{name}-compiled.keras",
                                     hidden=(16, 8), seed=4, compiled=True))
    builtin = folder / "bce.keras"
    said[BUILTIN] = export_cli(BUILTIN, "--input-shape", 30, "--n", 2, "--out", builtin)
    nocompile = [f"{c.path}:nocompile" for c in compiled]
    report, _ = load_elsewhere(folder, *plain, *(c.path for c in compiled), *nocompile, builtin,
                               "import-recipes", *(c.path for c in compiled))
    return SimpleNamespace(plain=plain, compiled=compiled, nocompile=nocompile, builtin=builtin,
                           said=said, report=report)


def test_custom_loss_recipes_export_models_that_load_plainly(exported):
    from recipes.models.build import initial_weights

    assert CUSTOM_LOSS == ["count_log_poisson"]  # update N below if the catalog grows
    report = exported.report
    assert report["recipes imported"] is False    # when the plain loads ran
    for name, p, forced, nc in zip(CUSTOM_LOSS, exported.plain, exported.compiled,
                                   exported.nocompile):
        code, said = exported.said[name]
        assert code == 0
        assert "uncompiled" in said and "import recipes.models.build" in said and name in said
        assert (forced.compiled and not forced.portable
                and "import recipes.models.build" in forced.note)
        c = str(forced.path)
        # the default file: loads plainly (uncompiled), with build_model's exact weights
        assert report["plain"][str(p)] == {"name": name, "compiled": False, "loss": None,
                                           "metrics": [], "units": 3}
        expected = initial_weights(name, 30, 3, hidden=(16, 8), seed=4)
        for got, want in zip(saved_weights(p), expected, strict=True):
            np.testing.assert_array_equal(got, want)
        # compiled with the project's loss class: plain Keras cannot rebuild it, except with
        # compile=False ...
        assert "LogPoisson" in report["plain"][c]["error"]
        assert report["plain"][nc]["compiled"] is False and report["plain"][nc]["units"] == 3
        # ... and after `import recipes.models.build` it loads compiled
        assert report["after import"][c]["compiled"] is True
        assert report["after import"][c]["loss"] == "LogPoisson"


def test_builtin_loss_recipe_exports_a_compiled_model_that_loads_plainly(exported):
    from recipes.models.build import initial_weights

    code, said = exported.said[BUILTIN]
    assert code == 0 and "compiled" in said
    report, out = exported.report, exported.builtin
    assert report["recipes imported"] is False
    assert report["plain"][str(out)] == {"name": BUILTIN, "compiled": True,
                                         "loss": "BinaryCrossentropy",
                                         "metrics": ["BinaryAccuracy", "AUC"], "units": 1}
    # optimizer variables were saved built
    assert not any("Skipping variable loading" in w for w in report["warnings"][f"plain {out}"])
    for got, want in zip(saved_weights(out), initial_weights(BUILTIN, 30, 2), strict=True):
        np.testing.assert_array_equal(got, want)


def test_export_model_errors(tmp_path, capsys):
    assert main(["export-model", BUILTIN, "--input-shape", "30", "--n", "3",
                 "--out", str(tmp_path / "m.keras")]) == 2
    assert "exactly 2 classes" in capsys.readouterr().err
    assert main(["export-model", BUILTIN, "--input-shape", "30", "--n", "2",
                 "--out", str(tmp_path / "m.h5")]) == 2
    assert "ending in .keras" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
