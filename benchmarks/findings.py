"""Print what a results store found: the report's claims table, as Markdown.

    python benchmarks/findings.py RESULTS [--doc README.md]

Reads the results directory (only read; e.g. the default suite's, ``python
benchmarks/suite.py --keep RESULTS``), computes ``recipes.effects``, the contrasts (``stats.contrasts``) and the claims table
the report opens with (``recipes.reporting.words.claims_table``: each claim's outcome
under each condition, per data set and architecture), and prints it with the number of
runs, diverged and failed. With ``--doc FILE`` it also writes that into its block of
FILE (``benchmarks/docblock.py``), so the results quoted in the README are the ones a
run produced.
"""

from __future__ import annotations

import argparse
import os
import sys

import docblock


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", help="a results directory (only read)")
    docblock.add_argument(p)
    args = p.parse_args(argv)
    if not os.path.isfile(os.path.join(args.results, "results.sqlite")):
        raise SystemExit(f"No results store at {os.path.join(args.results, 'results.sqlite')}")
    with docblock.recorded(args.doc, __file__, fence=None):
        report(args)


def report(args):
    """Print the claims table of the results in ``args.results`` and its run counts."""
    import recipes
    from recipes.reporting.stats import contrasts
    from recipes.reporting.words import CONTRASTS, claims_table
    from recipes.results.store import Store

    results, runs = Store(args.results, create=False).history_and_runs()   # decoded rows too
    statuses = runs["status"].value_counts()
    experiments = sorted(results["experiment"].astype(str).unique())
    print(f"{len(runs):,} runs ({', '.join(f'{k} {v:,}' for k, v in statuses.items())}) of "
          f"{', '.join(experiments)}.\n")
    table = claims_table(recipes.effects(results), contrasts(results, runs, specs=CONTRASTS))
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(str(v).replace("|", "/") for v in row) + " |")


if __name__ == "__main__":
    sys.exit(main())
