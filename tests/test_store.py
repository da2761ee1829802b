"""The results store: schema, round trips, errors, and crash safety (real signals)."""

import math
import os
import re
import pickle
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from recipes import load_results as load
from recipes.results.store import HISTORY_READ, KEY_COLUMNS, RUNS_READ, Store, StoreError

ROOT = Path(__file__).resolve().parents[1]
EPOCHS, METRICS = 50, ("loss", "accuracy", "auc", "mse")
ROWS = EPOCHS * 2 * len(METRICS)  # history rows per run

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")


def make_run(i, **kw):
    run = dict(run=f"r{i}", experiment="e1", dataset="iris", problem="multiclass",
               target="species", recipe="softmax_cce", role="baseline", seed=i, trainer="keras",
               status="ok", error=None, epochs=EPOCHS, seconds=1.5,
               config={"lr": 0.01, "seed": i}, versions={"keras": "3.3.3"})
    return {**run, **kw}


def make_history(epochs=EPOCHS):
    return [(e, split, m, e / 10 + len(m)) for e in range(1, epochs + 1)
            for split in ("train", "val") for m in METRICS]


def grid(path, n, pause=0.0):
    """The resumable loop an experiment runs: skip finished runs, write the rest."""
    store = Store(path)
    done = store.finished()
    for i in range(n):
        if f"r{i}" not in done:
            store.write(make_run(i), make_history())
            time.sleep(pause)


def child(code):
    """A Python process that has this test module's helpers imported."""
    prelude = (f"import signal, sys, time; sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]\n"
               "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
               "from test_store import *\n")
    return subprocess.Popen([sys.executable, "-c", prelude + code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def assert_complete(store, expected_ids=None):
    """Every stored run has its full history, and nothing is stored twice."""
    df = store.history()
    assert not df.duplicated(["run", "epoch", "split", "metric"]).any()
    counts = df.groupby("run").size()
    assert set(counts.index) == store.finished()
    assert (counts == ROWS).all(), counts[counts != ROWS]
    if expected_ids is not None:
        assert store.finished() == expected_ids


# --- round trips -----------------------------------------------------------

def test_write_then_read(tmp_path):
    store = Store(tmp_path / "results")
    assert (tmp_path / "results" / "results.sqlite").is_file()
    store.write(make_run(0), make_history())
    store.write(make_run(1, status="diverged", error="loss is NaN at epoch 3", epochs=3),
                make_history(3))

    runs = store.runs()
    assert list(runs.columns) == list(RUNS_READ)   # the table, plus each run's condition
    assert list(runs.run) == ["r0", "r1"]
    assert runs.config[0] == {"lr": 0.01, "seed": 0}
    assert runs.finished_at[0].endswith("+00:00")

    df = store.history()
    assert list(df.columns) == list(HISTORY_READ)
    assert len(df) == ROWS + 3 * 2 * len(METRICS)
    row = df[(df.run == "r0") & (df.epoch == 2) & (df.split == "val") & (df.metric == "auc")]
    assert row.value.item() == pytest.approx(2 / 10 + 3)
    assert (df[df.run == "r1"][list(KEY_COLUMNS)].iloc[0] ==
            pd.Series(make_run(1))[list(KEY_COLUMNS)]).all()
    assert store.finished() == {"r0", "r1"}
    assert_frame_equal(load(tmp_path / "results"), df)


def assert_frame_equal(a, b):
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                                  check_dtype=False)


def test_compact_history_holds_the_same_rows(tmp_path, monkeypatch):
    """``history(compact=True)`` (what run and compare return): the same rows and values,
    text as Categoricals; read in several batches here, as a large store is."""
    from recipes.results import store as store_module

    store = Store(tmp_path)
    for i in range(3):
        store.write(make_run(i), make_history(3) + [(4, "val", "loss", math.nan)])
    monkeypatch.setattr(store_module, "READ_BATCH", 7)
    full, compact = store.history(), store.history(compact=True)
    assert list(compact.columns) == list(HISTORY_READ) and len(compact) == len(full)
    assert isinstance(compact.metric.dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(compact, full, check_dtype=False, check_categorical=False)
    assert compact.memory_usage(deep=True).sum() < full.memory_usage(deep=True).sum()
    chosen = store.history(ids=["r2", "r0"], split="val", compact=True)
    pd.testing.assert_frame_equal(
        chosen, full[full.run.isin(["r0", "r2"]) & (full.split == "val")].reset_index(drop=True),
        check_dtype=False, check_categorical=False)


def test_nan_is_null_on_disk_and_nan_when_read(tmp_path):
    store = Store(tmp_path)
    store.write(make_run(0, status="diverged", error="NaN loss"),
                [(1, "train", "loss", 0.5), (2, "train", "loss", float("nan")),
                 (3, "train", "loss", math.inf), (3, "val", "loss", None)])
    with sqlite3.connect(store.path) as con:
        raw = con.execute("SELECT epoch, split, value FROM history ORDER BY epoch, split").fetchall()
    assert raw == [(1, "train", 0.5), (2, "train", None), (3, "train", math.inf), (3, "val", None)]
    values = store.history().value
    assert values.dtype == "float64"
    assert values.isna().tolist() == [False, True, False, True]
    assert values[2] == math.inf


def test_all_nan_history_is_still_float(tmp_path):
    store = Store(tmp_path)
    store.write(make_run(0, status="diverged", error="NaN"), [(1, "train", "loss", math.nan)])
    assert store.history().value.dtype == "float64"


def test_history_from_dataframe(tmp_path):
    store = Store(tmp_path)
    frame = pd.DataFrame(make_history(), columns=["epoch", "split", "metric", "value"])
    store.write(make_run(0), frame)  # numpy ints and floats are fine
    assert len(store.history(run="r0")) == ROWS


def test_failed_run_without_history(tmp_path):
    store = Store(tmp_path)
    store.write(make_run(0, status="failed", error="OOM", epochs=0))
    assert store.finished("failed") == {"r0"}
    assert store.runs().error[0] == "OOM"
    assert store.history().empty


def test_filters(tmp_path):
    store = Store(tmp_path)
    for i in range(4):
        store.write(make_run(i, experiment=f"e{i % 2}", dataset=["iris", "wine"][i // 2]),
                    make_history(2))
    assert set(store.history(experiment="e0").run) == {"r0", "r2"}
    assert set(store.history(experiment="e1", dataset="wine").run) == {"r3"}
    assert set(store.history(dataset=["iris", "wine"], seed=[0, 3]).run) == {"r0", "r3"}
    assert set(store.history(split="val", metric="auc").metric) == {"auc"}
    assert len(store.history(epoch=2, run="r1")) == 2 * len(METRICS)
    assert list(store.runs(dataset="wine").run) == ["r2", "r3"]
    assert load(tmp_path, experiment="nope").empty
    with pytest.raises(StoreError, match="Expected one of .*Received: colour='red'"):
        store.history(colour="red")


# --- the rules a write follows ---------------------------------------------

def test_duplicate_run_raises_unless_replace(tmp_path):
    store = Store(tmp_path)
    store.write(make_run(0), make_history())
    with pytest.raises(StoreError, match="Run 'r0' is already in .*replace=True"):
        store.write(make_run(0), make_history(1))
    assert len(store.history()) == ROWS  # untouched
    store.write(make_run(0, seconds=9.0), make_history(1), replace=True)
    assert len(store.history()) == 2 * len(METRICS)
    assert store.runs().seconds.tolist() == [9.0]


def test_forget_and_finished_by_status(tmp_path):
    store = Store(tmp_path)
    store.write(make_run(0), make_history(2))
    store.write(make_run(1, status="failed", error="boom"), make_history(1))
    store.write(make_run(2, status="diverged", error="inf loss"), make_history(1))
    assert store.finished() == {"r0", "r1", "r2"}
    assert store.finished("failed", "diverged") == {"r1", "r2"}
    assert store.forget(store.finished("failed")) == 1  # "retry failed"
    assert store.finished() == {"r0", "r2"}
    assert set(store.history().run) == {"r0", "r2"}
    assert store.forget("r0") == 1 and store.forget(["missing"]) == 0


@pytest.mark.parametrize("fields, match", [
    ({"status": "crashed"}, "Expected one of {'ok', 'diverged', 'failed'}. Received: status='crashed'"),
    ({"colour": "red"}, "unknown run fields \\['colour'\\]"),
    ({"error": "why?"}, "an 'ok' run has error=None"),
    ({"run": ""}, "non-empty 'run' id"),
])
def test_invalid_run_is_refused(tmp_path, fields, match):
    store = Store(tmp_path)
    with pytest.raises(StoreError, match=match):
        store.write(make_run(0, **fields), make_history(1))
    assert store.finished() == set()


@pytest.mark.parametrize("as_frame", [False, True], ids=["tuples", "dataframe"])
@pytest.mark.parametrize("row, match", [
    ((6, "holdout", "loss", 1.0), "Received: split='holdout' (run 'r0')"),
    ((float("nan"), "train", "loss", 1.0),
     "Run 'r0': expected epochs as whole numbers >= 0. Received: epoch=nan"),
    ((2.5, "train", "loss", 1.0), "whole numbers >= 0. Received: epoch=2.5"),
    ((-1, "train", "loss", 1.0), "whole numbers >= 0. Received: epoch=-1"),
    (("six", "train", "loss", 1.0), "whole numbers >= 0. Received: epoch='six'"),
])
def test_a_bad_history_row_is_named_and_nothing_is_written(tmp_path, row, match, as_frame):
    store = Store(tmp_path)
    rows = make_history(5) + [row]
    history = pd.DataFrame(rows, columns=["epoch", "split", "metric", "value"]) if as_frame \
        else rows
    with pytest.raises(StoreError, match=re.escape(match)):
        store.write(make_run(0), history)
    assert store.finished() == set() and store.history().empty


def test_bad_history_row_leaves_no_partial_run(tmp_path):
    store = Store(tmp_path)
    rows = make_history(5) + [(6, "holdout", "loss", 1.0)]   # splits: train, val, test
    with pytest.raises(StoreError, match="Received: split='holdout'"):
        store.write(make_run(0), rows)
    with pytest.raises(sqlite3.IntegrityError):  # the same (epoch, split, metric) twice
        store.write(make_run(0), make_history(2) + make_history(1))
    assert store.finished() == set() and store.history().empty


# --- export ----------------------------------------------------------------

@pytest.mark.parametrize("suffix, read", [(".csv", pd.read_csv), (".parquet", pd.read_parquet)])
def test_export_round_trip(tmp_path, suffix, read):
    store = Store(tmp_path)
    store.write(make_run(0), make_history(3) + [(4, "val", "loss", math.nan)])
    store.write(make_run(1, experiment="e2"), make_history(2))
    out = store.export(tmp_path / "out" / f"tidy{suffix}")
    assert_frame_equal(read(out), store.history())
    assert read(out).value.isna().sum() == 1
    assert_frame_equal(read(store.export(tmp_path / f"e2{suffix}", experiment="e2")),
                       store.history(experiment="e2"))


def test_export_rejects_other_formats(tmp_path):
    with pytest.raises(ValueError, match=r"Expected one of \{'.csv', '.parquet'\}. Received: .*x.json"):
        Store(tmp_path).export(tmp_path / "x.json")


def test_interrupted_export_keeps_the_old_file(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.write(make_run(0), make_history(2))
    out = store.export(tmp_path / "tidy.csv")
    before = out.read_text()

    def half_then_ctrl_c(self, path, **kw):
        Path(path).write_text("run,expe")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        store.export(out)
    assert out.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir() if "tidy" in p.name) == ["tidy.csv"]


# --- opening ---------------------------------------------------------------

def test_directory_or_sqlite_file(tmp_path):
    Store(tmp_path / "a" / "b").write(make_run(0), make_history(1))
    file = tmp_path / "a" / "b" / "results.sqlite"
    assert Store(file).finished() == {"r0"}
    assert Store(tmp_path / "other.sqlite").path == tmp_path / "other.sqlite"
    store = pickle.loads(pickle.dumps(Store(file)))  # plain path: ships to worker processes
    assert store.finished() == {"r0"}


def test_not_a_results_store(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not SQLite at all " * 100)
    with pytest.raises(StoreError, match=re.escape(f"{text} is not a results store")):
        Store(text)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE runs (id INTEGER, name TEXT)")
    con.close()
    with pytest.raises(StoreError, match=re.escape(f"{other} is not a results store: table 'runs'")):
        Store(other)
    with pytest.raises(FileNotFoundError, match="No results store at .*missing"):
        load(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()


# --- crashes and concurrency (real processes, real signals) ----------------

@posix_only
def test_kill_9_mid_grid_then_resume(tmp_path):
    n = 40
    proc = child(f"grid({str(tmp_path)!r}, {n}, pause=0.02)")
    deadline = time.monotonic() + 10
    while not ((tmp_path / "results.sqlite").exists() and len(Store(tmp_path).finished()) >= 2):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    store = Store(tmp_path)
    done = store.finished()
    assert 2 <= len(done) < n
    assert_complete(store)
    grid(tmp_path, n)  # resume: writes only the runs that are not finished
    assert_complete(store, {f"r{i}" for i in range(n)})


@posix_only
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_signal_in_the_middle_of_a_write(tmp_path, sig):
    code = f"""
def slow():
    for k, row in enumerate(make_history()):
        if k == ROWS // 2:
            print("half written", flush=True)
            time.sleep(30)
        yield row
store = Store({str(tmp_path)!r})
store.write(make_run(0), make_history())
store.write(make_run(1), slow())
"""
    proc = child(code)
    assert proc.stdout.readline() == "half written\n", proc.stderr.read()
    assert Store(tmp_path).finished() == {"r0"}  # readers never see a run in flight
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == -sig
    if sig == signal.SIGINT:
        assert "KeyboardInterrupt" in err

    store = Store(tmp_path)
    assert_complete(store, {"r0"})
    store.write(make_run(1), make_history())  # resume
    assert_complete(store, {"r0", "r1"})


@posix_only
def test_several_processes_write_one_store(tmp_path):
    code = """
store = Store({path!r})
for i in range({start}, 60, 3):
    store.write(make_run(i), make_history())
"""
    procs = [child(code.format(path=str(tmp_path / "new"), start=k)) for k in range(3)]
    for proc in procs:
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    assert_complete(Store(tmp_path / "new"), {f"r{i}" for i in range(60)})


# --- integrity: reading never writes, clear errors, retries, shared grids -----

def test_reading_never_creates_a_store(tmp_path):
    with pytest.raises(FileNotFoundError, match="No results store at .*typo"):
        Store(tmp_path / "typo", create=False)
    assert not (tmp_path / "typo").exists()
    empty = tmp_path / "empty" / "results.sqlite"
    empty.parent.mkdir()
    empty.touch()
    with pytest.raises(StoreError, match=re.escape(f"{empty} is not a results store: it is an empty file")):
        load(empty.parent)
    assert empty.stat().st_size == 0 and sorted(p.name for p in empty.parent.iterdir()) == [
        "results.sqlite"]


def test_report_of_a_mistyped_folder_keeps_the_good_report(tmp_path, capsys):
    from recipes.cli import main

    good = tmp_path / "report"
    good.mkdir()
    (good / "report.md").write_text("the good report")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "results.sqlite").touch()
    for results in ("resluts", "empty"):
        assert main(["report", str(tmp_path / results), "--out", str(good)]) == 2
        assert "results" in capsys.readouterr().err
    assert (good / "report.md").read_text() == "the good report"
    assert not (tmp_path / "resluts").exists()


def test_a_read_only_store_is_read_and_refuses_writes(tmp_path):
    store = Store(tmp_path)
    store.write(make_run(0), make_history(2))
    store.write(make_run(1, status="failed", error="OOM"))
    before = store.path.read_bytes()
    reader = Store(tmp_path, create=False)
    assert reader.finished() == {"r0", "r1"} and len(reader.history()) == 2 * 2 * len(METRICS)
    with pytest.raises(StoreError, match=f"Cannot write the results store {re.escape(str(store.path))}: it is read-only"):
        reader.write(make_run(2), make_history(1))
    assert store.path.read_bytes() == before


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="needs POSIX permissions that bind the user (not root)")
def test_a_store_that_cannot_be_written_is_found_before_training(tmp_path):
    Store(tmp_path).write(make_run(0), make_history(1))
    for p in (tmp_path, tmp_path / "results.sqlite"):
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        with pytest.raises(StoreError, match="is read-only"):
            Store(tmp_path)
        assert load(tmp_path).run.unique().tolist() == ["r0"]   # an archive can be read
    finally:
        tmp_path.chmod(0o755)


def test_a_damaged_store_names_the_file(tmp_path):
    store = Store(tmp_path)
    for i in range(20):
        store.write(make_run(i), make_history())
    with sqlite3.connect(store.path) as con:   # move the runs from the WAL into the file
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    size = (tmp_path / "results.sqlite").stat().st_size
    with open(tmp_path / "results.sqlite", "r+b") as f:   # garbage in the middle
        f.seek(size // 3)
        f.write(b"\xde\xad\xbe\xef" * (size // 12))
    with pytest.raises(StoreError, match=re.escape(str(tmp_path / "results.sqlite"))
                       + ".*(damaged|not a results store)"):
        load(tmp_path)


def test_a_failed_run_is_retried_a_diverged_run_is_kept(tmp_path):
    store = Store(tmp_path)
    store.write(make_run(0, status="failed", error="ResourceExhaustedError: OOM"))
    store.write(make_run(1, status="diverged", error="loss is NaN"), make_history(2))
    assert store.kept() == {"r1"}                   # what a grid run skips
    store.write(make_run(0), make_history(2))        # the retry replaces the failed run
    assert store.runs().set_index("run").status.to_dict() == {"r0": "ok", "r1": "diverged"}
    assert store.write(make_run(0, seconds=7.0), make_history(1), skip=True) is False
    assert store.runs().set_index("run").seconds["r0"] == 1.5   # a result is never overwritten


def test_claims_share_a_grid_between_processes(tmp_path):
    import socket

    store = Store(tmp_path)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        them = f"{socket.gethostname()}:{other.pid}"
        assert store.claim(["r0", "r1"], by=them) == ["r0", "r1"]
        store.write(make_run(2), make_history(1))
        assert store.claimed() == {"r0", "r1"}
        assert store.claim(["r0", "r1", "r2", "r3"]) == ["r3"]   # theirs, and a result, skipped
        store.write(make_run(3), make_history(1))                 # releases our claim
        assert store.claimed(by_others=False) == {"r0", "r1"}
    finally:
        other.kill()
        other.wait()
    assert store.claimed() == set()            # a dead process's claims lapse
    assert store.claim(["r0", "r1"]) == ["r0", "r1"]


def test_runs_on_other_data_or_settings_are_other_conditions(tmp_path):
    store = Store(tmp_path)
    configs = [({"epochs": 5, "data": "aaaa1111"}, "keras"), ({"epochs": 8, "data": "aaaa1111"}, "keras"),
               ({"epochs": 5, "data": "aaaa1111"}, "stacked"), ({"epochs": 5, "data": "bbbb2222"}, "keras")]
    for i, (config, trainer) in enumerate(configs):
        store.write(make_run(i, config=config, trainer=trainer), make_history(1))
    labels = store.runs().set_index("run").condition
    assert labels.nunique() == 4
    assert "data aaaa1111" in labels["r0"] and "data bbbb2222" in labels["r3"]
    assert set(store.history().groupby("run").condition.first()) == set(labels)


def test_a_second_process_waits_for_runs_another_is_training(tmp_path):
    """``run`` leaves runs claimed by a live process to it, waits, and returns them."""
    import socket
    import threading

    from recipes import load_catalog
    from recipes.results.grid import Experiment, run_config, run_id, setups
    from recipes.results.runner import run
    from recipes.training import data

    exp = Experiment("shared", ("iris",), recipes=("multiclass_softmax_cce",), seeds=2, epochs=1)
    ds = data.load("iris")
    ids = [run_id(run_config(exp, ds, s, "keras")) for s in setups(exp, ds, load_catalog())]
    store = Store(tmp_path)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert store.claim(ids, by=f"{socket.gethostname()}:{other.pid}") == ids

        def the_other_process_finishes():
            time.sleep(1.5)
            for i, run_ in enumerate(ids):
                store.write(make_run(i, run=run_, experiment="shared", config={"epochs": 1}),
                            make_history(1))

        writer = threading.Thread(target=the_other_process_finishes)
        writer.start()
        start = time.time()
        results = run(exp, tmp_path, trainer="keras", progress=False)
        writer.join()
    finally:
        other.kill()
        other.wait()
    assert time.time() - start >= 1.0                      # it waited
    assert set(results.run) == set(ids)                    # and returned the other's runs
    assert set(store.runs().seconds) == {1.5}              # which it did not train again


def test_the_next_grid_run_retries_failed_runs_only(tmp_path):
    from recipes import load_catalog
    from recipes.results.grid import Experiment, pending, run_config, run_id, setups
    from recipes.training import data

    exp = Experiment("retry", ("iris",), recipes=("multiclass_softmax_cce",), seeds=3, epochs=1)
    ds = data.load("iris")
    ids = [run_id(run_config(exp, ds, s, "keras")) for s in setups(exp, ds, load_catalog())]
    store = Store(tmp_path)
    for i, (status, error) in enumerate([("ok", None), ("diverged", "NaN loss"),
                                         ("failed", "ResourceExhaustedError: OOM")]):
        store.write(make_run(i, run=ids[i], status=status, error=error),
                    None if status == "failed" else make_history(1))
    ((_, todo),) = pending(exp, tmp_path, "keras")
    assert [s.seed for s, _ in todo] == [2]


# --- processes sharing a grid, archives, a store that contradicts itself ------------

def test_a_store_being_created_by_another_process_is_waited_for(tmp_path):
    """SQLite refuses a switch to WAL at once ("database is locked", no busy wait) while
    another connection holds the new file's write lock, as when two processes create
    one store at the same moment; the store waits for it as for any locked write."""
    import threading

    file = tmp_path / "results.sqlite"
    other = sqlite3.connect(file, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")    # the other process, mid-way through creating it
    with pytest.raises(sqlite3.OperationalError, match="locked"):   # what SQLite does
        sqlite3.connect(file, timeout=5, isolation_level=None).execute(
            "PRAGMA journal_mode = WAL")
    release = threading.Timer(0.5, lambda: other.execute("ROLLBACK"))
    start = time.monotonic()
    release.start()
    try:
        store = Store(file)
    finally:
        release.join()
        other.close()
    assert time.monotonic() - start >= 0.5
    assert store.finished() == set()
    assert sqlite3.connect(file).execute("PRAGMA journal_mode").fetchone() == ("wal",)


TWO_PROCESSES = """
import sys, time
from pathlib import Path
import recipes
from recipes.quiet import import_keras
from recipes.training import data
import_keras()
iris = data.load("iris")
print("ready", flush=True)
while not Path(sys.argv[1], "go").exists():   # both start the same compare at once
    time.sleep(0.01)
df = recipes.compare(iris.X[::5], iris.y[::5], seeds=2, epochs=1, trainer="keras",
                     recipes=["multiclass_softmax_cce", "multiclass_softmax_mse"],
                     out=Path(sys.argv[1], "results"), progress=False)
print("runs", sorted(df.run.unique()), flush=True)
"""


def test_two_processes_running_one_compare_both_return_the_whole_grid(tmp_path):
    """Started together, each process claims or waits for the other's runs, and both
    return the whole grid (4 runs), each trained once."""
    procs = [subprocess.Popen([sys.executable, "-c", TWO_PROCESSES, str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        (tmp_path / "go").touch()
        outs = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    for proc, (out, err) in zip(procs, outs):
        assert proc.returncode == 0, err
    store = Store(tmp_path / "results", create=False)
    ids = sorted(store.finished("ok"))
    assert len(ids) == 4 and store.finished() == set(ids)
    assert [out.strip() for out, _ in outs] == [f"runs {ids}"] * 2
    assert any("waiting for" in err for _, err in outs)   # one waited for the other


def test_a_read_only_archive_whose_wal_holds_runs_is_read_whole(tmp_path):
    """An archive copied without its -shm file, whose -wal file holds runs the main file
    lacks, in a folder the reader cannot write (so SQLite cannot read the WAL in place):
    every run is read, and the archive is left as it was."""
    from read_only import POSIX, read_only_folder, unprivileged

    if not POSIX:
        pytest.skip("needs POSIX permissions")
    store = Store(tmp_path)
    for i in range(2):
        store.write(make_run(i), make_history(2))
    store._connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")   # r0, r1 into the file
    for i in range(2, 4):
        store.write(make_run(i), make_history(2))   # r2, r3 in the WAL only (store stays open)
    wal = tmp_path / "results.sqlite-wal"
    with read_only_folder([store.path, wal]) as archive:
        with sqlite3.connect(f"{(archive / 'results.sqlite').as_uri()}?immutable=1",
                             uri=True) as con:   # what the file alone holds
            assert con.execute("SELECT count(*) FROM runs").fetchone() == (2,)
        con.close()
        read = unprivileged(lambda: (sorted(load(archive).run.unique()),
                                     sorted(Store(archive, create=False).finished())))
        assert read == ([f"r{i}" for i in range(4)],) * 2
        assert sorted(p.name for p in archive.iterdir()) == ["results.sqlite",
                                                             "results.sqlite-wal"]


def test_a_result_without_history_is_named_by_report_and_trained_again(tmp_path, capsys):
    """A run stored as ok with no history (a store that contradicts itself) is named by
    ``recipes report`` and left out of it, and the next ``run`` trains it again."""
    from recipes.cli import main
    from recipes.results.grid import Experiment
    from recipes.results.runner import run

    exp = Experiment("hollow", ("iris",), recipes=("multiclass_softmax_cce",), seeds=2, epochs=1)
    ids = sorted(run(exp, tmp_path, trainer="keras", progress=False).run.unique())
    with sqlite3.connect(tmp_path / "results.sqlite") as con:
        con.execute("DELETE FROM history WHERE run = ?", (ids[0],))
    con.close()
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "report")]) == 0
    err = capsys.readouterr().err
    assert re.search(rf"contradicts itself: 1 run stored as finished .*without any history.*"
                     rf"{ids[0]} \(hollow: iris/multiclass_softmax_cce seed \d, ok\).*"
                     rf"trains them again", err), err
    assert ids[1] not in err
    store = Store(tmp_path, create=False)
    assert store.kept() == {ids[1]} and store.results_without_history().run.tolist() == ids[:1]
    again = run(exp, tmp_path, trainer="keras", progress=False)
    assert sorted(again.run.unique()) == ids and sorted(load(tmp_path).run.unique()) == ids
    assert Store(tmp_path).kept() == set(ids) and Store(tmp_path).results_without_history().empty
    with pytest.raises(StoreError, match="an 'ok' run is a result and needs its history"):
        Store(tmp_path).write(make_run(9, status="ok"))   # never written so


@posix_only
def test_a_suspended_process_holding_runs_is_named_and_given_up_on(tmp_path, capfd):
    """``run`` says on stderr which process and runs it waits for, and gives up after
    ``wait_limit`` seconds with an error naming them and saying what to do."""
    from recipes import load_catalog
    from recipes.results.grid import Experiment, run_config, run_id, setups
    from recipes.results.runner import run
    from recipes.training import data

    exp = Experiment("held", ("iris",), recipes=("multiclass_softmax_cce",), seeds=2, epochs=1)
    ds = data.load("iris")
    ids = [run_id(run_config(exp, ds, s, "keras")) for s in setups(exp, ds, load_catalog())]
    Store(tmp_path)
    holder = child(f"print(Store({str(tmp_path)!r}).claim({ids!r}), flush=True)\n"
                   f"time.sleep(300)")
    try:
        assert holder.stdout.readline().strip() == repr(ids)
        os.kill(holder.pid, signal.SIGSTOP)
        start = time.monotonic()
        with pytest.raises(TimeoutError, match=(
                rf"Gave up waiting for 2 runs of 'held' in .*results.sqlite: none finished in "
                rf"2 s. process {holder.pid} on \S+ (\(stopped\) )?holds 2 runs \(iris/"
                rf"multiclass_softmax_cce seed 0, iris/multiclass_softmax_cce seed 1\). "
                rf"Resume that process \(kill -CONT PID\).*or end it.*then run again")):
            run(exp, tmp_path, trainer="keras", progress=False, wait_limit=2)
        assert 2 <= time.monotonic() - start < 60
        err = capfd.readouterr().err
        assert f"waiting for 2 runs of 'held'" in err and f"process {holder.pid}" in err
    finally:
        holder.kill()   # SIGKILL ends a stopped process too
        holder.wait()
    assert Store(tmp_path).finished() == set()   # it trained nothing it did not hold


def test_a_grid_whose_executor_stores_nothing_is_an_error_not_an_empty_result(tmp_path):
    from recipes.results.grid import Experiment
    from recipes.results.runner import run

    exp = Experiment("lost", ("iris",), recipes=("multiclass_softmax_cce",), seeds=1, epochs=1)
    with pytest.raises(RuntimeError, match=r"Twice, none of the 1 runs of 'lost' handed to "
                                           r"the trainer was stored .*iris/multiclass_softmax_cce"):
        run(exp, tmp_path, progress=False,
            executor=lambda tasks, done, address=None: None)   # trains nothing
