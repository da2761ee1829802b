"""The inference benchmark: real columns labelled from their documentation (issue 15).

The columns and their labels are in ``benchmarks/infer_columns.py``; the same
run prints per-type numbers with ``python benchmarks/infer.py``.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from infer_columns import CHECK_COLUMNS, COLUMNS, HOLDOUT_COLUMNS, run, score  # noqa: E402

from recipes.catalog.infer import PROBLEMS  # noqa: E402

# The issue asks for top-1 >= 0.90 and top-2 >= 0.98. Both are reached (97 and 101 of 102);
# these floors are what the rules reach today (see the README), kept so that a change that
# makes them worse fails.
TOP1_FLOOR = 0.95
TOP2_FLOOR = 0.99


@pytest.fixture(scope="module")
def results():
    return run(COLUMNS)


def test_the_benchmark_is_large_and_mixed():
    assert len(COLUMNS) >= 60
    assert {c.truth for c in COLUMNS} == set(PROBLEMS)
    assert len({c.name for c in COLUMNS}) == len(COLUMNS)
    assert all(c.note for c in COLUMNS)


def test_the_check_columns_stay_apart_from_the_benchmark():
    # labelled before any inference ran on them; scored by ``benchmarks/infer.py --check`` only
    assert not {c.name for c in CHECK_COLUMNS} & {c.name for c in COLUMNS}
    assert len({c.name for c in CHECK_COLUMNS}) == len(CHECK_COLUMNS)
    assert all(c.note and c.truth in PROBLEMS for c in CHECK_COLUMNS)


def test_the_holdout_columns_stay_apart_from_the_rest():
    # labelled before any inference ran on them; scored by ``benchmarks/infer.py --holdout``
    # only, never a floor here: a floor would make them a target to tune the rules on
    names = {c.name for c in HOLDOUT_COLUMNS}
    assert len(HOLDOUT_COLUMNS) >= 25 and len(names) == len(HOLDOUT_COLUMNS)
    assert not names & ({c.name for c in COLUMNS} | {c.name for c in CHECK_COLUMNS})
    assert all(c.note and c.truth in PROBLEMS for c in HOLDOUT_COLUMNS)


def test_overall_accuracy(results):
    n, top1, top2 = score(results)["overall"]
    print(f"top-1 {top1 / n:.2f}, top-2 {top2 / n:.2f} on {n} columns")
    assert top1 / n >= TOP1_FLOOR
    assert top2 / n >= TOP2_FLOOR


def test_issue_target_top2(results):
    n, _, top2 = score(results)["overall"]
    assert top2 / n >= 0.98


def test_issue_target_top1(results):
    n, top1, _ = score(results)["overall"]
    assert top1 / n >= 0.90


def test_every_type_is_found_at_least_once(results):
    table = score(results)
    for problem in PROBLEMS:
        assert table[problem][1] >= 1, problem
