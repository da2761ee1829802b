"""``infer_problem`` held against scikit-learn's ``type_of_target`` on scikit-learn's own table.

    python benchmarks/infer_vs_sklearn.py [--rows]

The table is ``EXAMPLES`` of ``sklearn/utils/tests/test_multiclass.py``, imported from the
installed scikit-learn (its wheel ships its tests), so new upstream cases are picked up;
where a wheel lacks the tests, a copy of its dense rows (scikit-learn 1.9.1) is used, and
the script says so. Every row gets one verdict:

* ``agree``: the answer is scikit-learn's (``SKLEARN_PROBLEMS``);
* ``candidate``: scikit-learn's answer is among the candidates, and the reason for the first
  one names it (``REASON_WORDS``);
* ``refused``: an ``InferenceError``, for one of ``REFUSALS``: nothing to learn (no labels,
  or one value), class codes in several columns (scikit-learn's 'multiclass-multioutput':
  no catalog recipe trains several class problems at once), or no labels at all
  (scikit-learn's 'unknown');
* ``miss``: anything else.

``--rows`` prints every row. ``tests/test_infer_vs_sklearn.py`` asserts the verdicts.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipes.catalog.infer import InferenceError, infer_problem  # noqa: E402

import docblock  # noqa: E402

# scikit-learn's answer -> the catalog problems that are the same answer
SKLEARN_PROBLEMS = {
    "binary": ("binary",),
    "multiclass": ("multiclass",),
    "multilabel-indicator": ("multilabel",),
    "continuous": ("regression", "bounded_regression"),
    "continuous-multioutput": ("regression", "bounded_regression"),
    "multiclass-multioutput": (),
    "unknown": (),
}
# Where scikit-learn's answer comes second, the reason for the first names it with these words.
REASON_WORDS = {
    "binary": ("'binary'",),
    "multiclass": ("class",),
    "multilabel": ("'multilabel'",),
    "regression": ("regression",),
    "bounded_regression": ("regression",),
}
# kind of refusal -> (words of the error message, scikit-learn answers it may stand for)
REFUSALS = {
    "nothing to learn": (("at least one label", "at least 2 distinct labels",
                          "labels that vary", "nothing to learn"), None),
    "class codes in several columns": (("read as class codes", "2-D labels to be numbers"),
                                       ("multiclass-multioutput",)),
    "not labels": (("Expected",), ("unknown",)),
}

# Dense rows of EXAMPLES in scikit-learn 1.9.1 (sklearn/utils/tests/test_multiclass.py), for
# a wheel without its tests; the sparse rows repeat them in scipy containers.
FALLBACK = {
    "multilabel-indicator": [[[0, 1], [1, 0]], [[0, 1]], [[-1, 1], [1, -1]],
                             np.array([[-1, 1], [1, -1]]), np.array([[-3, 3], [3, -3]])],
    "multiclass": [[1, 0, 2, 2, 1, 4, 2, 4, 4, 4], np.array([1, 0, 2]),
                   np.array([1, 0, 2], dtype=np.int8), np.array([1, 0, 2], dtype=np.uint8),
                   np.array([1, 0, 2], dtype=float), np.array([1, 0, 2], dtype=np.float32),
                   np.array([[1], [0], [2]]), [0, 1, 2], ["a", "b", "c"],
                   np.array(["a", "b", "c"]), np.array(["a", "b", "c"], dtype=object)],
    "multiclass-multioutput": [[[1, 0, 2, 2], [1, 4, 2, 4]], [["a", "b"], ["c", "d"]],
                               np.array([[1, 0, 2, 2], [1, 4, 2, 4]]),
                               np.array([[1, 0, 2, 2], [1, 4, 2, 4]], dtype=float),
                               np.array([["a", "b"], ["c", "d"]], dtype=object),
                               np.array([[1, 0, 2]])],
    "binary": [[0, 1], [1, 1], [], [0], np.array([0, 1, 1, 1, 0, 0, 0, 1, 1, 1]),
               np.array([0, 1, 1, 1, 0, 0, 0, 1, 1, 1], dtype=bool),
               np.array([0, 1, 1, 1, 0, 0, 0, 1, 1, 1], dtype=float), np.array([[0], [1]]),
               [1, -1], [3, 5], ["a"], ["a", "b"], ["abc", "def"], np.array(["abc", "def"]),
               np.array(["abc", "def"], dtype=object)],
    "continuous": [[1e-5], [0, 0.5], np.array([[0], [0.5]]),
                   np.array([[0], [0.5]], dtype=np.float32)],
    "continuous-multioutput": [np.array([[0, 0.5], [0.5, 0]]), np.array([[0, 0.5]])],
    "unknown": [[[]], np.array([[]], dtype=object), [()], [{1, 2, 3}, {1, 2}],
                [frozenset([1, 2, 3]), frozenset([1, 2])], [{0: "a", 1: "b"}, {0: "a"}],
                np.array(0), np.array([[], []]), np.array([[[0, 1], [2, 3]], [[4, 5], [6, 7]]])],
}


def sklearn_examples():
    """(EXAMPLES, where they come from): the installed scikit-learn's table, else the copy."""
    import sklearn

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from sklearn.utils.tests.test_multiclass import EXAMPLES
    except ImportError:
        return FALLBACK, (f"the copy of scikit-learn 1.9.1's dense rows (the installed "
                          f"scikit-learn {sklearn.__version__} ships no tests)")
    return EXAMPLES, (f"sklearn/utils/tests/test_multiclass.py EXAMPLES of the installed "
                      f"scikit-learn {sklearn.__version__}")


def rows():
    """(row id, scikit-learn's answer, y) for every row of the table."""
    examples, _ = sklearn_examples()
    for answer, ys in examples.items():
        for i, y in enumerate(ys):
            kind = type(y).__name__ + (f" {y.dtype}" if hasattr(y, "dtype") else "")
            yield f"{answer}[{i}] {kind}", answer, y


def verdict(answer, y):
    """(verdict, what infer_problem said) for one row whose scikit-learn answer is ``answer``."""
    same = SKLEARN_PROBLEMS[answer]
    try:
        found = infer_problem(y)
    except InferenceError as err:
        text = str(err)
        for kind, (words, answers) in REFUSALS.items():
            if any(w in text for w in words) and (answers is None or answer in answers):
                return "refused", f"{kind}: {text}"
        return "miss", f"refused: {text}"
    ranking = [c.problem for c in found.candidates]
    said = f"{' > '.join(ranking)}: {found.reason}"
    if found.problem in same:
        return "agree", said
    named = [p for p in same if p in ranking
             and any(w in found.reason for w in REASON_WORDS[p])]
    return ("candidate" if named else "miss"), said


def measure():
    """{verdict: count}, {(answer, verdict): count} and the rows' verdicts."""
    table = [(row, answer, *verdict(answer, y)) for row, answer, y in rows()]
    return (Counter(v for _, _, v, _ in table), Counter((a, v) for _, a, v, _ in table), table)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", action="store_true", help="print every row's verdict")
    docblock.add_argument(parser)
    args = parser.parse_args(argv)
    with docblock.recorded(args.doc, __file__):
        report(args)


def report(args):
    """Measure every row and print the counts (and, ``--rows``, each row)."""
    _, source = sklearn_examples()
    totals, by_answer, table = measure()
    print(f"{datetime.date.today()}  {platform.node()}  {platform.machine()}  "
          f"Python {platform.python_version()}")
    print(f"table: {source}, {len(table)} rows")
    for answer in SKLEARN_PROBLEMS:
        counts = {v: n for (a, v), n in by_answer.items() if a == answer}
        if counts:
            print(f"  {answer:<24}" + ", ".join(f"{v} {n}" for v, n in sorted(counts.items())))
    print("total: " + ", ".join(f"{v} {totals[v]}" for v in ("agree", "candidate", "refused",
                                                              "miss")))
    refusals = Counter(said.split(":")[0] for _, _, v, said in table if v == "refused")
    print("refused: " + ", ".join(f"{kind} {n}" for kind, n in refusals.most_common()))
    if args.rows:
        for row, answer, v, said in table:
            print(f"{v:<10}{row:<44}{said[:110]}")


if __name__ == "__main__":
    main()
