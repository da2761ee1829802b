"""#22 item 3 in comparisons: ``compare(..., calibrate=True, threshold="f1")`` fits both
on each run's final validation outputs, scores the held-out test split, and records the
forms in the tidy results' ``decoding`` column."""

import json
import sqlite3

import numpy as np
import pytest

from recipes import compare
from recipes.results.grid import Experiment, run_config, run_id
from recipes.results.store import Store
from recipes.training import data

RECIPES = ["binary_logits_bce", "binary_softmax2_cce"]


@pytest.fixture(scope="module")
def cancer():
    ds = data.load("breast_cancer")
    return ds.X[:300, :6], np.asarray(ds.y)[:300]


@pytest.fixture(scope="module")
def decoded(cancer, tmp_path_factory):
    out = tmp_path_factory.mktemp("decoding")
    X, y = cancer
    res = compare(X, y, recipes=RECIPES, seeds=2, epochs=2, out=out, progress=False,
                  trainer="keras", calibrate=True, threshold="f1")
    return out, res


def test_compare_records_every_decoding_on_the_test_split(decoded):
    out, res = decoded
    test = res[res["split"].astype(str) == "test"]
    forms = test.groupby(test["recipe"].astype(str))["decoding"].agg(lambda d: set(map(str, d)))
    # a threshold applies only to the one-unit recipe; both are calibrated
    assert forms["binary_logits_bce"] == {"raw", "calibrated", "thresholded",
                                          "calibrated+thresholded"}
    assert forms["binary_softmax2_cce"] == {"raw", "calibrated"}
    assert set(res.loc[res["split"].astype(str) != "test", "decoding"].astype(str)) == {"raw"}
    runs = Store(out, create=False).runs()
    for config in runs["config"]:
        fitted = config["decoded"]
        assert fitted["calibration"]["method"] == "temperature"
        assert config["decoding"]["calibrate"] == "temperature"
    # calibrated forms keep the labels of a temperature-scaled run
    v = test.assign(decoding=test["decoding"].astype(str), metric=test["metric"].astype(str))
    acc = v[v["metric"] == "accuracy"].pivot_table(index="run", columns="decoding",
                                                   values="value")
    assert np.allclose(acc["raw"], acc["calibrated"])


def test_decoding_is_part_of_the_run_identity():
    ds = data.load("breast_cancer")
    plain = Experiment("e", ("breast_cancer",), seeds=1, test_fraction=0.2)
    tuned = Experiment("e", ("breast_cancer",), seeds=1, threshold="f1")
    from recipes.catalog.table import get
    from recipes.training.settings import Setup
    setup = Setup(recipe=get("binary_logits_bce"), seed=0, settings=plain.conditions[0])
    assert run_id(run_config(plain, ds, setup, "keras")) != run_id(
        run_config(tuned, ds, setup, "keras"))
    assert "decoding" not in run_config(plain, ds, setup, "keras")   # old ids unchanged
    assert tuned.test_fraction == 0.2


def test_resume_trains_nothing_and_reads_the_same(decoded, cancer):
    out, res = decoded
    X, y = cancer
    before = Store(out, create=False).runs()["finished_at"].tolist()
    again = compare(X, y, recipes=RECIPES, seeds=2, epochs=2, out=out, progress=False,
                    trainer="keras", calibrate=True, threshold="f1")
    assert Store(out, create=False).runs()["finished_at"].tolist() == before
    assert len(again) == len(res)


def test_effects_compare_raw_and_decoded_forms(decoded):
    from recipes.reporting.stats import summary

    _, res = decoded
    table = summary(res, split="test")
    names = set(table["recipe"])
    assert {"binary_logits_bce", "binary_logits_bce (calibrated)",
            "binary_logits_bce (thresholded)", "binary_softmax2_cce (calibrated)"} <= names


def test_an_old_store_without_decoded_rows_is_read_read_only(tmp_path):
    """A store written before the ``decoded`` table existed (its schema as main wrote it)
    is read as raw rows, and reading it creates nothing."""
    path = tmp_path / "results.sqlite"
    Store(tmp_path)   # today's schema, then remove what this change added
    con = sqlite3.connect(path)
    con.execute("DROP TABLE decoded")
    config = {"experiment": "old", "epochs": 1}
    con.execute("INSERT INTO runs VALUES ('r1','old','d','binary','classes','x','recommended',"
                "0,'keras','ok',NULL,1,0.1,?, '{}', '2026-01-01')", (json.dumps(config),))
    con.execute("INSERT INTO history VALUES ('r1', 1, 'val', 'accuracy', 0.5)")
    con.commit()
    con.close()
    df = Store(tmp_path, create=False).history()
    assert df["decoding"].tolist() == ["raw"] and df["value"].tolist() == [0.5]
    names = {n for (n,) in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "decoded" not in names
    Store(tmp_path)   # opened for writing: the table is added, the old rows kept
    assert len(Store(tmp_path, create=False).history(decoding="raw")) == 1


def test_the_command_line_passes_calibrate_and_threshold(capsys):
    from recipes.cli import parser

    args = parser().parse_args(["run", "binary", "--calibrate", "--threshold", "f1"])
    assert (args.calibrate, args.threshold) == (True, "f1")
    e = Experiment("e", ("breast_cancer",)).with_options(calibrate=args.calibrate,
                                                         threshold=args.threshold)
    assert (e.calibrate, e.threshold, e.test_fraction) == ("temperature", "f1", 0.2)
    assert parser().parse_args(["run", "binary", "--calibrate", "vector"]).calibrate == "vector"
    with pytest.raises(SystemExit):
        parser().parse_args(["run", "binary", "--calibrate", "isotonic2"])
    assert "isotonic2" in capsys.readouterr().err
