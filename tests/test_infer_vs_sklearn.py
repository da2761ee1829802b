"""infer_problem held against scikit-learn's type_of_target, on scikit-learn's own table.

Each row is a row of ``EXAMPLES`` in ``sklearn/utils/tests/test_multiclass.py`` of the
installed scikit-learn (imported from the wheel, which ships its tests, so new upstream rows
are picked up; ``benchmarks/infer_vs_sklearn.py`` falls back to a copy of scikit-learn
1.9.1's dense rows where a wheel lacks them), named ``answer[index] container dtype`` after
its place in that table. Where scikit-learn answers binary, multiclass,
multilabel-indicator, continuous or continuous-multioutput, ``infer_problem`` agrees, or
ranks scikit-learn's answer among its candidates with a reason that names it, or refuses
labels with nothing to learn (empty, one value, no column that varies), as it always has.
scikit-learn's multiclass-multioutput (class codes in several columns) and unknown are
refused with a clear error. ``python benchmarks/infer_vs_sklearn.py`` prints the counts.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from infer_vs_sklearn import (FALLBACK, SKLEARN_PROBLEMS, rows,  # noqa: E402
                              sklearn_examples, verdict)

from recipes.catalog.infer import infer_problem  # noqa: E402

ROWS = list(rows())
NAMED = ("binary", "multiclass", "multilabel-indicator", "continuous", "continuous-multioutput")
# scikit-learn's answer -> the verdicts allowed
ALLOWED = {**{answer: ("agree", "candidate", "refused: nothing to learn") for answer in NAMED},
           "multiclass-multioutput": ("refused: class codes in several columns",
                                      "refused: nothing to learn"),
           "unknown": ("refused",)}


@pytest.mark.parametrize("answer, y", [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_row(answer, y):
    got, said = verdict(answer, y)
    full = got if got != "refused" else f"refused: {said.split(':')[0]}"
    assert any(full.startswith(a) for a in ALLOWED[answer]), f"{full}: {said}"


def test_the_table_is_the_installed_one_and_covers_every_answer():
    examples, source = sklearn_examples()
    import sklearn.utils.tests.test_multiclass as upstream

    assert examples is upstream.EXAMPLES and "installed scikit-learn" in source
    assert set(examples) == set(SKLEARN_PROBLEMS)
    assert set(FALLBACK) == set(SKLEARN_PROBLEMS)


def test_most_rows_agree_and_none_is_missed():
    verdicts = [verdict(answer, y)[0] for _, answer, y in ROWS]
    assert "miss" not in verdicts
    # what the rules reach on scikit-learn 1.9.1 (benchmarks/infer_vs_sklearn.py): a floor
    assert verdicts.count("agree") >= 42 and verdicts.count("candidate") >= 69


def test_plus_minus_one_multi_hot_rows_are_multilabel_as_in_sklearn():
    from sklearn.preprocessing import MultiLabelBinarizer
    from sklearn.utils.multiclass import type_of_target

    y = MultiLabelBinarizer().fit_transform([[0, 2], [1], [2], [0, 1, 2], [1]] * 4) * 2 - 1
    assert type_of_target(y) == "multilabel-indicator"
    found = infer_problem(y)
    assert found.problem == "multilabel" and "each column alone is binary" in found.reason
    assert "(y == 1).astype('float32')" in found.reason


def test_plus_minus_one_hot_rows_rank_like_zero_one_one_hot_rows():
    from sklearn.preprocessing import label_binarize

    y = label_binarize([0, 1, 2, 1, 0, 2] * 4, classes=[0, 1, 2], neg_label=-1)
    ranking = [c.problem for c in infer_problem(y).candidates]
    zero_one = [c.problem for c in infer_problem((y + 1) // 2).candidates]
    assert ranking[:2] == zero_one[:2] == ["multiclass", "multilabel"]
