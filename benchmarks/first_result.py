"""Time a user's first ``compare()`` of 20 runs in a fresh process, after ``import recipes``.

    python benchmarks/first_result.py [--cache DIR] [--repeat N]
    KERAS_BACKEND=jax python benchmarks/first_result.py   # the same on JAX

Runs the same child process twice with one compilation cache folder (default: a new
temporary one): the first finds it empty (a first run on this machine), the second
finds what the first compiled. Each child times ``recipes.compare`` on digits with two
recipes x 10 seeds (20 runs), the backend's import included (``import recipes`` does not
import it), and prints how that time splits: importing Keras and its backend
(TensorFlow, or the one KERAS_BACKEND names), then
``compare`` itself (tracing, compiling or loading compiled code, training, storing,
reading the results back). It also says whether any line reached stderr (TensorFlow's
log lines must not).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import docblock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHILD = """
import json, sys, tempfile, time
import recipes
from sklearn.datasets import load_digits
X, y = load_digits(return_X_y=True)
start = time.perf_counter()
from recipes.quiet import import_keras
import_keras()     # what compare() would import first; timed apart
imported = time.perf_counter()
with tempfile.TemporaryDirectory() as out:
    df = recipes.compare(X, y, recipes=["multiclass_softmax_cce", "multiclass_softmax_mse"],
                         seeds=10, out=out, progress=False)
end = time.perf_counter()
print(json.dumps({"seconds": end - start, "import": imported - start, "compare": end - imported,
                  "runs": int(df["run"].nunique())}))
"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", help="compilation cache folder (default: a new temporary one)")
    p.add_argument("--repeat", type=int, default=1,
                   help="warm-cache children to run (default 1; the load of a shared machine "
                        "moves single timings)")
    docblock.add_argument(p)
    args = p.parse_args(argv)
    with docblock.recorded(args.doc, __file__, os.environ.get("KERAS_BACKEND")):
        report(args)


def report(args):
    """Time the first compare() in fresh processes, empty then warm cache."""
    cache = args.cache or tempfile.mkdtemp(prefix="recipes-first-")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(RECIPES_CACHE_DIR=cache,
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")   # KERAS_BACKEND=jax to try JAX
    for label in ("empty cache",) + ("warm cache",) * args.repeat:
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                             env=env, cwd=ROOT)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if out.returncode or not lines:
            sys.stderr.write(out.stderr[-3000:])
            raise SystemExit(f"child failed (exit {out.returncode})")
        r = json.loads(lines[-1])
        noise = len(out.stderr.splitlines())
        print(f"{label:12s} first compare() of {r['runs']} runs: {r['seconds']:.2f} s after import "
              f"(Keras and its {backend} backend import {r['import']:.2f} s, "
              f"compare {r['compare']:.2f} s); "
              f"{noise} line(s) on stderr", flush=True)


if __name__ == "__main__":
    main()
