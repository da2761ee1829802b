"""Time the README's main job end to end: the default suite and its report.

    python benchmarks/suite.py [--experiment NAME] [--seeds N] [--keep DIR]

Runs ``recipes run all --no-report`` (or one experiment of the suite, ``--experiment
cnn``: its share of the suite's time) into a fresh results directory, then
``recipes report`` on it, each as its own process timed from outside (start-up,
imports, compiling, metrics, storage and writing included). Prints, per step and
in total: wall seconds, runs, seconds per run all-in, the step's CPU seconds (user +
system: on a shared machine the wall time depends on the load, the CPU time much less)
and its peak RSS (``os.wait4``'s usage of the child). The issue's budget: the whole
suite within 3 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docblock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def step(cmd):
    """(wall seconds, CPU seconds, peak RSS in MB) of one ``python -m recipes`` child
    process."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "recipes", *cmd], cwd=ROOT,
                             stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"recipes {' '.join(cmd)} failed (status {status})")
    return (time.perf_counter() - start, usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024)


def runs_in(results):
    with sqlite3.connect(os.path.join(results, "results.sqlite")) as con:
        return dict(con.execute("SELECT status, COUNT(*) FROM runs GROUP BY status"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, help="seeds per recipe (default: each experiment's)")
    p.add_argument("--keep", metavar="DIR", help="results directory to keep (default: a temporary one)")
    p.add_argument("--experiment", default="all", metavar="NAME",
                   help="time one experiment (a bundled name or a .py file) instead of all "
                        "(its block: benchmarks/suite.py#NAME)")
    docblock.add_argument(p)
    args = p.parse_args(argv)
    key = None if args.experiment == "all" else Path(args.experiment).stem
    with docblock.recorded(args.doc, __file__, key):
        report(args)


def report(args):
    """Train the suite (or ``args.experiment``), write its report, and print each step's
    time and peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or tmp
        train = ["run", args.experiment, "--out", out, "--no-report", "--quiet"]
        if args.seeds:
            train += ["--seeds", str(args.seeds)]
        steps = {f"train (recipes run {args.experiment} --no-report)": train,
                 "report (recipes report)": ["report", out, "--out", os.path.join(out, "report")]}
        results = {name: step(cmd) for name, cmd in steps.items()}
        statuses = runs_in(out)
    n = sum(statuses.values())
    print(f"runs: {n} ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))})")
    total = (sum(r[0] for r in results.values()), sum(r[1] for r in results.values()),
             max(r[2] for r in results.values()))
    for name, (seconds, cpu, rss) in [*results.items(), ("total, end to end", total)]:
        print(f"{name:40s} {seconds:7.1f} s  {1000 * seconds / n:7.1f} ms/run  "
              f"CPU {cpu:7.1f} s  peak RSS {rss:6.0f} MB")


if __name__ == "__main__":
    main()
