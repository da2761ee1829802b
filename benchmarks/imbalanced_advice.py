"""Measure what ``recipes show binary`` says about rare positives, and write it.

    python benchmarks/imbalanced_advice.py [--out DIR]

Trains the bundled experiment ``imbalanced`` in full into DIR (default: a temporary
folder; a folder that already holds its runs trains nothing more), computes each claim
about rare positives (``recipes.reporting.advice.measure``: the contrasts and outcome
rules of the report) and writes the package's measurements file
(``recipes.reporting.advice.MEASURED["binary"]``) in one atomic write, with this command,
the date (UTC) the last run finished, the machine (CPU model and cores), the library
versions that trained the runs and the fingerprint of the experiment's grid, which a
test checks against today's experiment. Prints the paragraph ``recipes show binary``
will print, and writes it into docs/imbalance.md between its markers
(``<!-- begin: benchmarks/imbalanced_advice.py -->`` ... ``<!-- end -->``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import tempfile
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "imbalance.md"
BEGIN, END = "<!-- begin: benchmarks/imbalanced_advice.py -->", "<!-- end -->"


def machine():
    """'CPU model, N cores' of this machine."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", help="results folder (default: a temporary one)")
    args = p.parse_args(argv)

    import recipes
    from recipes.experiments import load_experiment
    from recipes.files import atomic_write
    from recipes.reporting import advice
    from recipes.results.grid import grid_fingerprint
    from recipes.results.store import Store

    experiment = load_experiment(advice.EXPERIMENT)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or tmp
        recipes.run(experiment, out=out)
        results, runs = Store(out, create=False).history_and_runs()
    mine = runs[runs["experiment"] == advice.EXPERIMENT]
    trained = mine["versions"].iloc[0]
    provenance = {
        "command": "python benchmarks/imbalanced_advice.py",
        "date": str(mine["finished_at"].max()).replace("T", " ").replace("+00:00", " UTC"),
        "machine": machine(),
        "versions": ", ".join(f"{k} {v}" for k, v in sorted(trained.items())
                              if k in ("keras", "tensorflow", "numpy", "python")),
        "grid": grid_fingerprint(experiment),
        "seeds": len(experiment.seeds),
        "epochs": experiment.conditions[0].epochs,
    }
    measured = advice.measure(results, runs, provenance)
    atomic_write(advice.MEASURED["binary"], json.dumps(measured, indent=1) + "\n")
    text = advice.advice_text("binary", measured)
    if DOC.is_file():
        block = f"{BEGIN}\n{advice.doc_block(measured)}{END}"
        doc = DOC.read_text()
        new = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _: block, doc,
                     count=1, flags=re.S)
        if new != doc:
            atomic_write(DOC, new)
    print(text)


if __name__ == "__main__":
    main()
