"""Score ``recipes.infer_problem`` on real target columns labelled from their documentation.

    python benchmarks/infer.py [--misses] [--check | --holdout]

Prints top-1 accuracy (the answer is the documented type) and top-2 accuracy
(the documented type is among the first two candidates) per true type and
overall. ``--misses`` also lists every column whose answer is not its
documented type, with the ranking. ``--check`` scores the separate check columns
instead (labelled before any inference ran on them, never used to choose a rule).
``--holdout`` scores the held-out columns (labelled before any inference ran on
them, run once before and once after the second pass of rule changes, never used
to choose or tune a rule).
The columns: ``benchmarks/infer_columns.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import docblock  # noqa: E402
from infer_columns import CHECK_COLUMNS, COLUMNS, HOLDOUT_COLUMNS, run, score  # noqa: E402

ORDER = ("binary", "multiclass", "multilabel", "regression", "bounded_regression", "count",
         "ordinal", "overall")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the columns missed at top-1")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--check", action="store_true",
                       help="score the check columns (kept out of the benchmark) instead")
    which.add_argument("--holdout", action="store_true",
                       help="score the held-out columns (never used to choose a rule) instead")
    docblock.add_argument(parser)
    args = parser.parse_args(argv)
    key = "check" if args.check else "holdout" if args.holdout else "benchmark"
    with docblock.recorded(args.doc, __file__, key):
        return report(args)


def report(args):
    """Score the column set ``args`` names and print the table (and the misses)."""
    columns = CHECK_COLUMNS if args.check else HOLDOUT_COLUMNS if args.holdout else COLUMNS
    results = run(columns)
    table = score(results)
    print(f"{'type':<20}{'columns':>8}{'top-1':>8}{'top-2':>8}")
    for key in ORDER:
        if key in table:
            n, top1, top2 = table[key]
            print(f"{key:<20}{n:>8}{top1 / n:>8.0%}{top2 / n:>8.0%}")
    if args.misses:
        print("\nmissed at top-1:")
        for column, found in results:
            ranked = [c.problem for c in found.candidates]
            if ranked[0] != column.truth:
                print(f"  {column.name} (documented: {column.truth}): {' > '.join(ranked)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
