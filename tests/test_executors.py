"""Executors: the Ray executor trains the same histories as the local one, into the same
kind of store, with the same resume guarantees (real Ray, a small local instance)."""

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import ray  # the [ray] extra is part of [test]: no skipping

from recipes.training import data
from recipes.cli import parser
from recipes.results.executors import EXECUTORS, Task, executor_function, ray_executor, tasks, train_group
from recipes.results.grid import Experiment, pending
from recipes.results.runner import run
from recipes.results.store import Store, StoreError

TINY = Experiment(name="tiny-ray", datasets=("breast_cancer",),
                  recipes=("binary_sigmoid_bce", "binary_sigmoid_mse"), seeds=2, epochs=2)
TRAINER = "keras"


@pytest.fixture(scope="module")
def ray_session():
    """One small local Ray instance for the module; the executor uses it as it is."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def without_clock(df):
    """The rows but the wall-clock ones, text as plain objects and integers as int64
    (``run`` returns Categoricals and int32, ``Store.history`` strings and int64: the same
    values)."""
    df = df.astype({c: object if not pd.api.types.is_numeric_dtype(df[c]) else "int64"
                    for c in df.columns if not pd.api.types.is_float_dtype(df[c])})
    return df[df.metric != "seconds"].sort_values(["run", "epoch", "split", "metric"],
                                                  ignore_index=True)


@pytest.mark.slow   # ~35-60 s on 2 cores: two Ray nodes each start TensorFlow workers
def test_two_node_cluster_survives_losing_a_node_mid_sweep(tmp_path):
    # A simulated cluster of two nodes (one CPU each). When the first task finishes, the
    # other node is killed: its task in flight dies and Ray retries it on the node left,
    # where train_group skips the runs already stored. The store ends with every run,
    # each once, with the histories the local executor trains. (Runs before the tests
    # that share one local Ray instance.)
    from ray.cluster_utils import Cluster

    exp = TINY.with_options(name="tiny-cluster", epochs=1, recipes=(
        "binary_sigmoid_bce", "binary_sigmoid_mse", "binary_softmax2_cce", "binary_logits_bce"))
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "_system_config": {
        "health_check_initial_delay_ms": 0, "health_check_period_ms": 500,
        "health_check_failure_threshold": 2}})   # notice the dead node within ~1 s
    worker = cluster.add_node(num_cpus=1)
    killed = []
    try:
        ray.init(address=cluster.address, log_to_driver=False)
        cluster.wait_for_nodes()
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
        todo = tasks(exp, pending(exp, tmp_path / "ray", TRAINER), tmp_path / "ray", TRAINER)

        def done(n):
            if not killed:
                cluster.remove_node(worker, allow_graceful=False)
                killed.append(n)

        ray_executor(todo, done)
        assert killed and len([n for n in ray.nodes() if n["Alive"]]) == 1
    finally:
        ray.shutdown()
        cluster.shutdown()
    runs = Store(tmp_path / "ray").runs()
    assert len(runs) == 8 and runs.run.is_unique and set(runs.status) == {"ok"}
    local = run(exp, tmp_path / "local", trainer=TRAINER, progress=False)
    a = without_clock(Store(tmp_path / "ray").history())
    b = without_clock(local)
    assert a.drop(columns="value").equals(b.drop(columns="value"))
    np.testing.assert_array_equal(a.value.to_numpy(), b.value.to_numpy())


def test_ray_trains_the_same_histories_as_local_and_resumes(tmp_path, ray_session):
    by_ray = run(TINY, tmp_path / "ray", trainer=TRAINER, executor="ray", progress=False)
    local = run(TINY, tmp_path / "local", trainer=TRAINER, progress=False)
    a, b = without_clock(by_ray), without_clock(local)
    assert len(a) and a.drop(columns="value").equals(b.drop(columns="value"))
    np.testing.assert_array_equal(a.value.to_numpy(), b.value.to_numpy())
    runs = Store(tmp_path / "ray").runs()
    assert len(runs) == 4 and set(runs.status) == {"ok"}
    assert {"tensorflow", "keras"} <= set(runs.versions.iloc[0])  # recorded by the worker

    before = runs.set_index("run").finished_at
    assert pending(TINY, tmp_path / "ray", TRAINER) == []
    again = run(TINY, tmp_path / "ray", trainer=TRAINER, executor="ray", progress=False)
    assert Store(tmp_path / "ray").runs().set_index("run").finished_at.equals(before)
    assert without_clock(again).equals(a)


def test_one_task_per_chunk_and_progress_as_tasks_finish(tmp_path, ray_session):
    exp = TINY.with_options(name="tiny-progress", epochs=1, seeds=1)
    todo = tasks(exp, pending(exp, tmp_path, TRAINER), tmp_path, TRAINER)
    assert [[s.recipe.name for s in t.setups] for t in todo] == [[r] for r in TINY.recipes]
    assert all(Path(t.out).is_absolute() for t in todo)
    done = []
    ray_executor(todo, done.append)
    assert done == [1, 1]
    assert len(Store(tmp_path).finished("ok")) == 2


def test_a_retried_chunk_trains_only_its_missing_runs(tmp_path):
    exp = TINY.with_options(name="tiny-retry", epochs=1, recipes=("binary_sigmoid_bce",))
    [(ds, pairs)] = pending(exp, tmp_path, TRAINER)
    chunk, splits = [s for s, _ in pairs], [sp for _, sp in pairs]
    assert train_group(exp, ds, splits[:1], chunk[:1], TRAINER, tmp_path) == 1
    written = []
    assert train_group(exp, ds, splits, chunk, TRAINER, tmp_path, done=written.append) == 1
    assert written == [1] and len(Store(tmp_path).finished()) == 2
    assert train_group(exp, ds, splits, chunk, TRAINER, tmp_path) == 0


def test_a_failing_task_raises_its_error_in_the_driver(tmp_path, ray_session):
    not_a_store = tmp_path / "notes.sqlite"
    not_a_store.write_text("not a database, but long enough to be read as one " * 20)
    ds = data.load("breast_cancer")
    task = Task(TINY, ds, (), (), TRAINER, str(not_a_store))
    with pytest.raises(StoreError, match="not a results store"):
        ray_executor([task], lambda n: None)


def test_executor_choice():
    assert set(EXECUTORS) == {"local", "ray"}
    with pytest.raises(ValueError, match="executor='dask'"):
        executor_function("dask")
    with pytest.raises(ValueError, match="takes no address"):
        EXECUTORS["local"]([], print, address="auto")
    args = parser().parse_args(["run", "binary", "--executor", "ray", "--address", "auto"])
    assert (args.executor, args.address) == ("ray", "auto")
    args = parser().parse_args(["run", "binary"])   # run's own default: local
    assert (args.executor, args.address) == (None, None)
    assert inspect.signature(run).parameters["executor"].default == "local"
