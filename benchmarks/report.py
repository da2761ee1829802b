"""Time writing the default suite's report: cold, with the figures cold, and warm.

    python benchmarks/report.py RESULTS [--repeat N]

RESULTS: a results directory of the default suite (``python benchmarks/suite.py --keep
DIR`` makes one). It is only read: its ``results.sqlite`` is copied into a temporary
folder first, so no cache an older report left beside it is used. Each report is
written by a fresh Python process (imports included), timed from outside; CPU is the
user + system time of that process and of everything it waited for (its drawing
workers, the backend matrix's processes). Three reports, one after the other:

cold          an empty report folder and an empty user cache (RECIPES_CACHE_DIR points
              to a new folder): the appendix's numbers (TensorFlow), the backend
              matrix (a process per backend) and every figure are computed and drawn:
              a user's very first report;
figures cold  the appendix's numbers and figures and the backend matrix in the user
              cache (from the cold report), none of the results' figures: what a report
              of new results costs, e.g. the default suite's report on a machine that
              has written any report before;
warm          a second report of the same results into the same folder: every figure
              read from the report's cache.

For each: wall seconds, CPU seconds, the load average before it (the machine may be
shared), the stages as the report timed them (wall seconds in the report's process;
"beside: ..." ran in a thread beside the others, "wait: ..." is the time spent waiting
for it), the figures drawn or read from the cache, and the size of report.html. The
issue's budget: at most 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import docblock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = """
import json, sys, time
start = time.perf_counter()
from recipes.reporting import writer
imported = time.perf_counter()
writer.report(sys.argv[1], sys.argv[2])
done = time.perf_counter()
print(json.dumps({"import": imported - start, "report": done - imported,
                  "timings": writer.timings}))
"""


def one(results, out, cache):
    """(wall s, CPU s, what the child printed) of one report in a fresh process whose
    user cache folder is ``cache``."""
    env = dict(os.environ, RECIPES_CACHE_DIR=cache, PYTHONPATH=os.pathsep.join(
        filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", CHILD, results, out], cwd=ROOT,
                                 env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)  # its usage, and its children's
        wall = time.perf_counter() - start
        stdout.seek(0)
        stderr.seek(0)
        if status != 0:
            raise SystemExit(f"the report failed (status {status}):\n{stderr.read()[-3000:]}")
        found = json.loads(stdout.read().strip().splitlines()[-1])
    return wall, usage.ru_utime + usage.ru_stime, found


def show(name, wall, cpu, load, found):
    t = found["timings"]
    print(f"\n{name}: {wall:.1f} s wall, {cpu:.1f} s CPU (load average before: {load:.1f}); "
          f"{int(t.get('figures drawn', 0))} figures drawn, "
          f"{int(t.get('figures from the cache', 0))} from the cache; report.html "
          f"{t.get('html bytes', 0) / 1e6:.2f} MB")
    print(f"  {'imports':34s} {found['import']:6.2f} s")
    for stage, seconds in t.items():
        if not stage.startswith(("figures ", "html ")):
            print(f"  {stage:34s} {seconds:6.2f} s")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", help="a results directory of the default suite (only read)")
    p.add_argument("--repeat", type=int, default=1, help="warm reports to time (default 1)")
    docblock.add_argument(p)
    args = p.parse_args(argv)
    with docblock.recorded(args.doc, __file__):
        report(args)


def report(args):
    """Time a cold, a figures-cold and warm reports of a copy of the results."""
    source = os.path.join(args.results, "results.sqlite")
    if not os.path.isfile(source):
        raise SystemExit(f"No results store at {source}")
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        results, out = os.path.join(tmp, "results"), os.path.join(tmp, "report")
        cache = os.path.join(tmp, "user-cache")  # the catalog's numbers, once per user
        os.mkdir(results)
        for suffix in ("", "-wal"):  # a store and its committed write-ahead log
            if os.path.isfile(source + suffix):
                shutil.copyfile(source + suffix, os.path.join(results, "results.sqlite" + suffix))
        print(f"cores: {len(os.sched_getaffinity(0))}; results: {args.results} (copied)")
        runs = [("cold (no cache)", lambda: shutil.rmtree(out, ignore_errors=True)
                 or shutil.rmtree(cache, ignore_errors=True)),
                ("figures cold (appendix and backend matrix cached per user)",
                 lambda: shutil.rmtree(os.path.join(out, "cache", "figures"))),
                *[("warm (second report, same results)", lambda: None)] * args.repeat]
        for name, prepare in runs:
            prepare()
            load = os.getloadavg()[0]
            wall, cpu, found = one(results, out, cache)
            show(name, wall, cpu, load, found)


if __name__ == "__main__":
    main()
