"""Time the stacked trainer against plain Keras and scikit-learn on one grid.

    python benchmarks/grid.py [--seeds 10] [--keras-seeds 3] [--memory-runs 1000]
                              [--xla-cache DIR] [--sweep SEEDS] [--flops]

The grid: scikit-learn's digits (standardized 75/25 split), a 64-32-10 MLP
(``hidden=(32,)``), 20 epochs, batches of 32, Adam at 1e-3, recipe
``multiclass_softmax_cce``, one run per seed. Contenders, per model:

* keras:   ``recipes.training.keras_fit.fit_keras`` (one ``model.fit`` per run; on
           ``--keras-seeds`` seeds to keep it short);
* stacked: ``recipes.training.stacked_tensorflow.fit_stacked`` on all ``--seeds`` seeds; first call
           (tracing + XLA compilation + training) and later calls with fresh
           seeds of the same shapes (compiled function reused; median of 3);
* stacked jax / torch: ``recipes.training.stacked_jax.fit_stacked`` (Keras' stateless
           model and optimizer under ``jax.vmap``) and ``stacked_torch.fit_stacked``
           (batched eager PyTorch, nothing compiled) on the same seeds, timed the same
           way, each in a process of its backend (when it is installed);
* sklearn: ``MLPClassifier(hidden_layer_sizes=(32,), max_iter=20, batch_size=32,
           solver="adam", learning_rate_init=1e-3)``, the same work.

Each contender runs in its own subprocess (TensorFlow fixes its thread pools at
start-up, and peak RSS is per process), as does the memory check: a grid of
``--memory-runs`` digits runs through ``fit_stacked`` with its peak RSS
(``resource.getrusage``). ``benchmarks/suite.py`` times the default suite.

``--sweep SEEDS``: all-in cost per run of a sweep through ``recipes.run`` (the
local executor and a fresh results store), timed from the child process's start
(imports, tracing, compiling or loading compiled code, training, metrics, storage):
every bundled table data set (the MLP's) x every catalog recipe of its problem x optimizer {adam,
sgd} x 3 learning rates x output_scale {1, 10} x SEEDS seeds (564 runs per seed:
18 seeds = 10,152 runs). Run twice: with an empty compilation cache, then with
the cache the first run filled. Prints peak RSS too.

``--flops``: the compiled trainer's achieved GFLOP/s on digits at K = 8 ... 64
members (``stacked_tensorflow.flops_per_run``) beside a measured float32 matmul peak (numpy
and TensorFlow, 2048 x 2048) on the same machine.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import subprocess
import sys
import time
import warnings

import docblock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RECIPE, HIDDEN, EPOCHS, BATCH, LR = "multiclass_softmax_cce", (32,), 20, 32, 1e-3


def _split():
    from recipes.training import data
    return data.split(data.load("digits"))


def _setups(seeds):
    from recipes.catalog import table as catalog
    from recipes.training.settings import Setup

    recipe = catalog.get(RECIPE)
    return [Setup(recipe, int(s), epochs=EPOCHS, batch_size=BATCH, optimizer="adam",
                  learning_rate=LR, hidden=HIDDEN) for s in seeds]


def _rss_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: KiB


def _accuracy(traces, split):
    from recipes.catalog import table as catalog
    recipe = catalog.get(RECIPE)
    accs = [float((recipe.decode(t.outputs["val"][-1], split.classes) == split.y_val).mean())
            for t in traces if t.status == "ok"]
    return sum(accs) / max(len(accs), 1)


# --- parts (each runs in its own process) ----------------------------------------------

def part_keras(args):
    from recipes.training.keras_fit import fit_keras

    split = _split()
    setups = _setups(range(args.keras_seeds))
    fit_keras(_setups([999])[:1], split)        # warm-up: TensorFlow start-up not counted
    start = time.perf_counter()
    traces = fit_keras(setups, split)
    total = time.perf_counter() - start
    return {"per_model": total / len(setups), "models": len(setups),
            "accuracy": _accuracy(traces, split)}


def _compiled_calls(fit, n, split):
    """Three calls of ``fit`` on ``n`` fresh seeds of the same shapes (no tracing, no
    compiling): sorted wall seconds and sorted process CPU seconds (all threads; less
    sensitive than wall time to other work on the machine)."""
    wall, cpu = [], []
    for rep in range(1, 4):
        start, start_cpu = time.perf_counter(), time.process_time()
        fit(_setups(range(rep * 10000, rep * 10000 + n)), split)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return sorted(wall), sorted(cpu)


def part_stacked(args):
    from recipes.training import stacked_tensorflow as stacked
    from recipes.training import threads, xla_cache
    if args.xla_cache:
        xla_cache.persistent_cache(args.xla_cache)
    threads.configure_threads()   # before anything starts TensorFlow's runtime
    split = _split()
    trainer = stacked.TRAINER
    trainer.jit = "auto"      # what "auto" would choose for this grid, before any compiling
    auto = [c.key.jit for c in trainer.plan(_setups(range(args.seeds)), split)]
    trainer.jit = {"xla": True, "plain": False, "auto": "auto"}[args.graph]
    import tensorflow as tf  # noqa: F401  (start-up not counted)

    n = args.seeds
    start = time.perf_counter()
    traces = trainer.fit(_setups(range(n)), split)
    first = time.perf_counter() - start
    traces_before = stacked.TRACE_COUNT
    runs, cpu = _compiled_calls(trainer.fit, n, split)
    assert stacked.TRACE_COUNT == traces_before, "the compiled function was not reused"
    return {"first": first, "per_model": runs[1] / n, "per_model_first": first / n,
            "cpu_per_model": cpu[1] / n,
            "compile": max(first - runs[1], 0.0), "models": n,
            "chunks": [len(c.members) for c in trainer.plan(_setups(range(n)), split)],
            "statuses": sorted({t.status for t in traces}), "accuracy": _accuracy(traces, split),
            "threads": {"intra": tf.config.threading.get_intra_op_parallelism_threads(),
                        "inter": tf.config.threading.get_inter_op_parallelism_threads()},
            "workers": trainer.workers, "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "xla": auto}


def part_stacked_native(args, backend):
    """The stacked trainer native to ``backend`` (``stacked_jax``: Keras' stateless model
    and optimizer under ``jax.vmap``; ``stacked_torch``: batched eager PyTorch) on the same
    grid, under KERAS_BACKEND=backend."""
    import importlib

    import keras

    from recipes.models import build  # noqa: F401  (Keras on this backend: start-up not counted)

    assert keras.backend.backend() == backend, keras.backend.backend()
    from recipes.training import xla_cache

    native = importlib.import_module(f"recipes.training.stacked_{backend}")
    if args.xla_cache and backend == "jax":   # JAX's "jax" subfolder
        xla_cache.persistent_jax_cache(args.xla_cache)
    split = _split()
    n = args.seeds
    start = time.perf_counter()
    traces = native.fit_stacked(_setups(range(n)), split)
    first = time.perf_counter() - start
    traces_before = getattr(native, "TRACE_COUNT", None)
    runs, cpu = _compiled_calls(native.fit_stacked, n, split)
    assert getattr(native, "TRACE_COUNT", None) == traces_before, "a compiled function was not reused"
    return {"first": first, "per_model": runs[1] / n, "per_model_first": first / n,
            "cpu_per_model": cpu[1] / n,
            "compile": max(first - runs[1], 0.0), "models": n,
            "statuses": sorted({t.status for t in traces}), "accuracy": _accuracy(traces, split),
            "workers": native.TRAINER.workers,
            "version": importlib.import_module(backend).__version__}


def part_sklearn(args):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    split = _split()
    seeds = range(args.seeds)
    accs = []
    start = time.perf_counter()
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)   # max_iter=20 on purpose
            clf = MLPClassifier(hidden_layer_sizes=HIDDEN, max_iter=EPOCHS, batch_size=BATCH,
                                solver="adam", learning_rate_init=LR, random_state=seed)
            clf.fit(split.X_train, split.y_train)
        accs.append(float((clf.predict(split.X_val) == split.y_val).mean()))
    total = time.perf_counter() - start
    return {"per_model": total / len(seeds), "models": len(seeds),
            "accuracy": sum(accs) / len(accs)}


def part_memory(args):
    from recipes.training import stacked_tensorflow as stacked
    from recipes.training import threads, xla_cache
    if args.xla_cache:
        xla_cache.persistent_cache(args.xla_cache)
    threads.configure_threads()
    split = _split()
    import tensorflow as tf  # noqa: F401

    before = _rss_mb()
    setups = _setups(range(args.memory_runs))
    start = time.perf_counter()
    traces = stacked.fit_stacked(setups, split)
    total = time.perf_counter() - start
    kept = sum(t.outputs[s].nbytes for t in traces if t.status == "ok" for s in t.outputs)
    return {"runs": len(traces), "seconds": total, "per_model": total / len(traces),
            "rss_before_mb": before, "peak_rss_mb": _rss_mb(), "trace_outputs_mb": kept / 2**20,
            "chunks": len(stacked.TRAINER.plan(setups, split)),
            "statuses": sorted({t.status for t in traces})}


SWEEP_LR = {"adam": [3e-4, 1e-3, 3e-3], "sgd": [0.01, 0.03, 0.1]}


def part_sweep(args):
    start = time.perf_counter()
    import tempfile

    if args.xla_cache:
        os.environ["RECIPES_CACHE_DIR"] = args.xla_cache
    import recipes
    from recipes.training import data

    conditions = [{"optimizer": opt, "learning_rate": lr, "output_scale": scale}
                  for opt, rates in SWEEP_LR.items() for lr in rates for scale in (1, 10)]
    tables = [n for n in data.names() if data.load(n).X.ndim == 2]   # the MLP's data sets
    experiment = recipes.Experiment("sweep", tables, seeds=args.sweep,
                                    conditions=conditions)
    import threading

    from recipes.results import executors

    # peak RSS while training and storing (sampled); the process's peak (getrusage) also
    # covers run()'s read-back of its tidy results at the end (~280 rows per run)
    peak, training, trained = [0.0], threading.Event(), [0.0]

    def sample():
        while training.is_set():
            with open("/proc/self/statm") as f:
                peak[0] = max(peak[0], int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20)
            time.sleep(0.2)

    local = executors.EXECUTORS["local"]

    def sampled(*a, **kw):
        training.set()
        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            return local(*a, **kw)
        finally:
            training.clear()
            thread.join()
            trained[0] = time.perf_counter()

    with tempfile.TemporaryDirectory() as out:
        executors.EXECUTORS["local"] = sampled     # so the run groups its tasks as "local"
        results = recipes.run(experiment, out, progress=False)
        total = time.perf_counter() - start
        import sqlite3
        with sqlite3.connect(os.path.join(out, "results.sqlite")) as con:
            n, = con.execute("SELECT COUNT(*) FROM runs").fetchone()
    return {"runs": n, "seconds": total, "per_run": total / n, "peak_rss_mb": _rss_mb(),
            "training_rss_mb": peak[0], "rows": len(results),
            "results_mb": results.memory_usage(deep=True).sum() / 2**20,
            "read_back_s": start + total - trained[0]}


def part_flops(args):
    import numpy as np

    from recipes.training import stacked_tensorflow as stacked
    from recipes.training import threads
    threads.configure_threads()
    import tensorflow as tf

    n = 2048
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    peaks = {}
    for name, mm in (("numpy", lambda: a @ a), ("tensorflow", lambda: tf.matmul(ta, ta).numpy())):
        ta = tf.constant(a)
        mm()
        times = []
        for _ in range(5):
            t = time.perf_counter()
            mm()
            times.append(time.perf_counter() - t)
        peaks[name] = 2 * n ** 3 / min(times) / 1e9
    split = _split()
    stacked.TRAINER.jit = True
    out = {"peak_gflops": peaks, "trainer": {}}
    for k in (8, 16, 32, 64):
        stacked.TRAINER.cap = k
        setups = _setups(range(k))
        stacked.fit_stacked(setups, split)      # compile (or load) once for this K
        times = []
        for rep in range(3):
            fresh = _setups(range(1000 * (rep + 1), 1000 * (rep + 1) + k))
            t = time.perf_counter()
            stacked.fit_stacked(fresh, split)
            times.append(time.perf_counter() - t)
        plan = stacked.TRAINER.plan(setups, split)
        flops = stacked.flops_per_run(plan[0].key, 64, len(split.X_train), len(split.X_val))
        chunks = len(plan)
        out["trainer"][k] = {"per_model": min(times) / k, "gflops": flops * k / min(times) / 1e9,
                             "chunks": chunks}
    return out


# the stacked trainers of the other backends, each timed in a process of its backend
NATIVE = ("jax", "torch")
PARTS = {"keras": part_keras, "sweep": part_sweep, "flops": part_flops, "stacked": part_stacked,
         "sklearn": part_sklearn, "memory": part_memory,
         **{f"stacked_{b}": functools.partial(part_stacked_native, backend=b) for b in NATIVE}}
# the Keras backend of each part's process (default: TensorFlow)
BACKEND = {f"stacked_{b}": b for b in NATIVE}


# --- driver ------------------------------------------------------------------------------

def _run_part(name, args):
    name, _, graph = name.partition(":")
    cmd = [sys.executable, os.path.abspath(__file__), "--part", name,
           "--seeds", str(args.seeds), "--keras-seeds", str(args.keras_seeds),
           "--memory-runs", str(args.memory_runs), "--graph", graph or "auto",
           "--sweep", str(args.sweep)]
    if args.xla_cache:
        cmd += ["--xla-cache", args.xla_cache]
    env = dict(os.environ, KERAS_BACKEND=BACKEND.get(name, "tensorflow"))
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        sys.stderr.write(out.stderr[-3000:])
        raise SystemExit(f"part {name!r} failed (exit {out.returncode})")
    return json.loads(lines[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=10, help="runs in the stacked grid (default 10)")
    p.add_argument("--keras-seeds", type=int, default=3,
                   help="runs timed with plain fit (default 3)")
    p.add_argument("--memory-runs", type=int, default=1000,
                   help="runs in the memory check (0 to skip; default 1000)")
    p.add_argument("--xla-cache", default=None, help="persistent XLA cache directory (optional)")
    p.add_argument("--sweep", type=int, default=0, metavar="SEEDS",
                   help="also time a sweep over every bundled data set (564 runs per seed; "
                        "18 seeds = 10,152 runs), cold and warm compilation cache")
    p.add_argument("--flops", action="store_true",
                   help="also print achieved GFLOP/s beside a measured matmul peak")
    p.add_argument("--skip-contenders", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--part", choices=sorted(PARTS), help=argparse.SUPPRESS)
    p.add_argument("--graph", choices=("xla", "plain", "auto"), default="auto",
                   help=argparse.SUPPRESS)
    docblock.add_argument(p)
    args = p.parse_args(argv)

    if args.part:   # child process: one measurement, printed as JSON
        print(json.dumps(PARTS[args.part](args)))
        return
    key = "-".join(k for k, on in (("flops", args.flops), ("sweep", args.sweep)) if on) or None
    with docblock.recorded(args.doc, __file__, key):
        report(args)


def report(args):
    """Every trainer on the digits grid (and the FLOP rates, the sweep, the memory check
    that ``args`` asks for), each measured in a child process, printed."""
    cpu = os.cpu_count()
    print(f"digits, 64-32-10 MLP, {EPOCHS} epochs, batch {BATCH}, adam {LR}, {RECIPE}; "
          f"{cpu} CPU cores; load average {os.getloadavg()[0]:.2f}", flush=True)
    if args.xla_cache is None:      # the contenders compile, as a first run would
        import tempfile
        args.xla_cache = tempfile.mkdtemp(prefix="recipes-bench-cache-")
    names = ("stacked:xla", "stacked:plain", "keras", "sklearn") + tuple(
        f"stacked_{b}" for b in NATIVE if importlib.util.find_spec(b))
    res = {name: _run_part(name, args) for name in names}
    st, pl, ke, sk = res["stacked:xla"], res["stacked:plain"], res["keras"], res["sklearn"]
    native = {b: res[f"stacked_{b}"] for b in NATIVE if f"stacked_{b}" in res}
    rows = [
        ("keras fit_keras", ke["models"], ke["per_model"], ke["accuracy"]),
        ("sklearn MLPClassifier", sk["models"], sk["per_model"], sk["accuracy"]),
        ("stacked XLA, incl. compile", st["models"], st["per_model_first"], st["accuracy"]),
        ("stacked XLA, compiled", st["models"], st["per_model"], st["accuracy"]),
        ("stacked plain, incl. trace", pl["models"], pl["per_model_first"], pl["accuracy"]),
        ("stacked plain, traced", pl["models"], pl["per_model"], pl["accuracy"]),
    ] + [row for b, r in native.items() for row in (
        (f"stacked {b}, first call", r["models"], r["per_model_first"], r["accuracy"]),
        (f"stacked {b}, later calls", r["models"], r["per_model"], r["accuracy"]))]
    print(f"\n{'trainer':26s} {'models':>6s} {'ms/model':>10s} {'val acc':>8s}")
    for name, n, per, acc in rows:
        print(f"{name:26s} {n:6d} {1000 * per:10.1f} {acc:8.3f}")
    print(f"\nstacked: chunks {st['chunks']}, threads {st['threads']}, workers {st['workers']}, "
          f"XLA_FLAGS '{st['xla_flags']}'")
    print(f"first call (start-up, tracing, compiling, training) minus a compiled call: XLA "
          f"{st['compile']:.2f} s, plain graph {pl['compile']:.2f} s; JIT='auto' would pick "
          f"{'XLA' if all(st['xla']) else 'the plain graph'} for {st['models']} runs")
    for b, r in native.items():
        print(f"{b} stacked ({b} {r['version']}, workers {r['workers']}): first call minus a "
              f"later call {r['compile']:.2f} s; {b} / TensorFlow XLA: "
              f"{r['per_model'] / st['per_model']:.2f}x later calls, "
              f"{r['per_model_first'] / st['per_model_first']:.2f}x first call; CPU time per "
              f"model (all threads), later calls: TensorFlow XLA "
              f"{1000 * st['cpu_per_model']:.1f} ms, {b} {1000 * r['cpu_per_model']:.1f} ms")
    for other, r in (("keras", ke), ("sklearn", sk)):
        print(f"{other}/stacked: {r['per_model'] / st['per_model']:6.1f}x compiled, "
              f"{r['per_model'] / st['per_model_first']:6.1f}x incl. compile")
    targets = {"<= 25 ms/model (compiled)": 1000 * st["per_model"] <= 25,
               ">= 80x faster than plain fit": ke["per_model"] / st["per_model"] >= 80,
               ">= 6x faster than sklearn": sk["per_model"] / st["per_model"] >= 6}
    print("targets: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in targets.items()))

    if args.flops:
        f = _run_part("flops", args)
        peak = max(f["peak_gflops"].values())
        print("\nmatmul peak (2048 x 2048 float32): " + ", ".join(
            f"{k} {v:.1f} GFLOP/s" for k, v in f["peak_gflops"].items()))
        for k, r in f["trainer"].items():
            print(f"stacked XLA, {k:>2} runs per call ({r['chunks']} chunks on {r['chunks']} threads): "
                  f"{1000 * r['per_model']:6.1f} "
                  f"ms/model, {r['gflops']:6.1f} GFLOP/s = {r['gflops'] / peak:5.1%} of the peak")

    if args.sweep:
        cache = __import__("tempfile").mkdtemp(prefix="recipes-sweep-cache-")
        rows = []
        for label in ("empty cache", "warm cache"):
            r = _run_part("sweep", argparse.Namespace(**{**vars(args), "xla_cache": cache}))
            rows.append((label, r))
        print(f"\nsweep: every bundled data set x recipe x {{adam, sgd}} x 3 learning rates "
              f"x output_scale {{1, 10}} x {args.sweep} seeds, recipes.run end to end")
        for label, r in rows:
            print(f"  {label:12s} {r['runs']:6d} runs {r['seconds']:7.1f} s  "
                  f"{1000 * r['per_run']:6.1f} ms/run all-in  peak RSS {r['peak_rss_mb']:6.0f} MB "
                  f"({r['training_rss_mb']:.0f} MB while training and storing; run() returned "
                  f"{r['rows']:,} rows in {r['results_mb']:.0f} MB, read back in "
                  f"{r['read_back_s']:.1f} s)")
        best = rows[-1][1]["per_run"]
        print(f"  all-in (warm) / compiled kernel: {best / st['per_model']:.1f}x; "
              f"sklearn / all-in: {sk['per_model'] / best:.1f}x; "
              f"plain fit / all-in: {ke['per_model'] / best:.0f}x; "
              f"target <= 40 ms/run: {'met' if best <= 0.040 else 'MISSED'}")

    if args.memory_runs:
        m = _run_part("memory", args)
        print(f"\nmemory: {m['runs']} digits runs in {m['chunks']} chunks, {m['seconds']:.1f} s "
              f"({1000 * m['per_model']:.1f} ms/model incl. compile), peak RSS "
              f"{m['peak_rss_mb']:.0f} MB (after start-up {m['rss_before_mb']:.0f} MB; "
              f"outputs kept in traces {m['trace_outputs_mb']:.0f} MB), statuses {m['statuses']}")


if __name__ == "__main__":
    main()
