"""Time the stacked trainer against plain ``fit`` on a CNN backbone, per backend.

    python benchmarks/backbone.py [--seeds 8] [--rates 4] [--fit-runs 4] [--epochs 10]
                                  [--backends tensorflow,jax,torch] [--doc FILE]

The sweep (issue #21 section 3): scikit-learn's digits as 8x8x1 images (pixels / 16,
not standardized; the 60/20/20 split of ``recipes.training.data.split``, seed 0), the
backbone ``Conv2D(8, 3, relu) -> MaxPooling2D -> Flatten -> Dense(32, relu)`` (a
function, so each seed builds its own), recipe ``multiclass_softmax_cce``, Adam,
``--epochs`` epochs in batches of 32, ``--seeds`` seeds x ``--rates`` learning rates
(1e-3, 3e-3, 1e-2, 3e-2, ...): 32 runs by default.

Per backend, in a process of its own (``KERAS_BACKEND``), one after the other:

* stacked: ``trainer("stacked")`` on every run of the sweep, one call, timed whole
  (building each member's start, tracing, compiling, training, scoring), and the same
  call again (the compiled program reused);
* plain fit: ``fit_keras`` (one ``model.fit`` per run) on the first ``--fit-runs`` runs.

It prints ms per run of each, the ratio (plain fit / stacked) and the mean validation
accuracy of the runs plain fit trained, by either trainer (they match), as a table.
Where the stacked trainer of a backend does not take the backbone (``members.refusal``)
the row says so and the sweep trains with plain fit there. ``--doc FILE`` also writes
the table into the block ``<!-- begin: benchmarks/backbone.py -->`` ... ``<!-- end -->``
of FILE, with the command, UTC date and machine (``benchmarks/docblock.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import docblock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RECIPE, BATCH = "multiclass_softmax_cce", 32
RATES = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)


def cnn():
    """The benchmark's backbone, a fresh model per call."""
    import keras

    L = keras.layers
    return keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(8, 3, activation="relu"),
                             L.MaxPooling2D(), L.Flatten(), L.Dense(32, activation="relu")],
                            name="cnn")


def _split():
    from sklearn.datasets import load_digits

    from recipes.training import data

    digits = load_digits()
    x = (digits.images[:, :, :, None] / 16).astype("float32")
    return data.split(data.from_arrays(x, digits.target, "multiclass"), seed=0)


def _setups(args):
    from recipes.catalog import table as catalog
    from recipes.training.settings import Setup

    recipe = catalog.get(RECIPE)
    return [Setup(recipe, seed, epochs=args.epochs, batch_size=BATCH, optimizer="adam",
                  learning_rate=lr, backbone=cnn)
            for lr in RATES[:args.rates] for seed in range(args.seeds)]


def _accuracy(traces, split):
    import numpy as np

    ok = [t for t in traces if t.status == "ok"]
    return float(np.mean([np.mean(t.outputs["val"][-1].argmax(-1) == split.y_val)
                          for t in ok])) if ok else float("nan")


def part(args):
    """One backend's numbers (this process's backend), as a dict."""
    from recipes.training.keras_fit import fit_keras
    from recipes.training.members import refusal
    from recipes.training.settings import current_backend
    from recipes.training.trainers import trainer

    split = _split()
    setups = _setups(args)
    out = {"backend": current_backend(), "runs": len(setups), "refusal": refusal(setups[0])}
    if out["refusal"] is None:
        fit = trainer("stacked")
        for name in ("stacked_first", "stacked_reused"):
            start = time.perf_counter()
            traces = list(fit(setups, split))
            out[name] = (time.perf_counter() - start) / len(setups) * 1e3
            out["statuses"] = sorted({t.status for t in traces})
            out["error"] = next((t.error for t in traces if t.status == "failed"), None)
        # on the runs plain fit trains below, so the two columns are the same runs
        out["stacked_accuracy"] = _accuracy(traces[:args.fit_runs], split)
    chosen = setups[:args.fit_runs]
    start = time.perf_counter()
    traces = fit_keras(chosen, split)
    out["fit"] = (time.perf_counter() - start) / len(chosen) * 1e3
    out["fit_runs"] = len(chosen)
    out["fit_accuracy"] = _accuracy(traces, split)
    return out


def _run(backend, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--part", "--seeds", str(args.seeds),
           "--rates", str(args.rates), "--fit-runs", str(args.fit_runs),
           "--epochs", str(args.epochs)]
    env = dict(os.environ, KERAS_BACKEND=backend)
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode != 0:
        return {"backend": backend, "error": done.stderr.strip()[-1000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows):
    """The results as a Markdown table, and one line per backend on the ratio."""
    lines = ["| backend | runs | stacked, first call (ms/run) | stacked, reused (ms/run) "
             "| plain fit (ms/run) | plain fit / stacked first | val. accuracy stacked / fit |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("error"):
            lines.append(f"| {r['backend']} | failed: {r['error']} | | | | | |")
            continue
        if r["refusal"]:
            lines.append(f"| {r['backend']} | {r['runs']} | falls back: {r['refusal']} | | "
                         f"{r['fit']:.0f} | 1 | - / {r['fit_accuracy']:.3f} |")
            continue
        lines.append(f"| {r['backend']} | {r['runs']} | {r['stacked_first']:.0f} | "
                     f"{r['stacked_reused']:.0f} | {r['fit']:.0f} ({r['fit_runs']} runs) | "
                     f"**{r['fit'] / r['stacked_first']:.1f}x** | "
                     f"{r['stacked_accuracy']:.3f} / {r['fit_accuracy']:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--rates", type=int, default=4, choices=range(1, len(RATES) + 1))
    parser.add_argument("--fit-runs", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--part", action="store_true", help=argparse.SUPPRESS)
    docblock.add_argument(parser)
    args = parser.parse_args(argv)
    if args.part:
        print(json.dumps(part(args)))
        return
    with docblock.recorded(args.doc, __file__, fence=None):   # a wrong --doc fails first
        rows = []
        for backend in args.backends.split(","):
            rows.append(_run(backend, args))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        load = os.getloadavg()
        print(f"Load average (1, 5, 15 min) at the end: {load[0]:.1f}, {load[1]:.1f}, "
              f"{load[2]:.1f}.\n")
        print(table(rows))


if __name__ == "__main__":
    main()
