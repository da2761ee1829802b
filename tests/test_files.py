"""Every file the package writes gets the permissions ``open()`` would give it: a new
file 0o666 less the umask, a replaced file its old mode (``recipes.files.atomic_write``)."""

import contextlib
import os
import stat

import pytest

import recipes
from recipes.cli import main
from recipes.export.model import export_model
from recipes.export.tracking import to_tensorboard
from recipes.files import atomic_write
from recipes.results.store import Store

UMASKS = (0o022, 0o027)


@contextlib.contextmanager
def umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _modes(folder):
    """{path relative to folder: permission bits} of every file under folder."""
    return {p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode)
            for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("modes") / "results"
    grid = recipes.Experiment("modes", datasets=("breast_cancer",),
                              recipes=("binary_sigmoid_bce", "binary_sigmoid_mse"),
                              seeds=2, epochs=1)
    recipes.run(grid, out, progress=False)
    return out


@pytest.mark.parametrize("mask", UMASKS, ids=oct)
def test_the_report_and_the_exports_get_the_permissions_of_the_umask(results, tmp_path, mask):
    with umask(mask):
        recipes.report(results, tmp_path / "report", appendix=False, backends=False, quiet=True)
        store = Store(results, create=False)
        store.export(tmp_path / "runs.csv")
        store.export(tmp_path / "runs.parquet")
        export_model("binary_sigmoid_bce", 30, 2, tmp_path / "model.keras")
        to_tensorboard(results, tmp_path / "tensorboard")
        assert main(["explain", "binary_sigmoid_bce", "--out", str(tmp_path / "g.png")]) == 0
    modes = _modes(tmp_path)
    assert {"report/report.html", "report/report.md", "runs.csv", "runs.parquet",
            "model.keras", "g.png"} <= set(modes)
    assert any(p.startswith("report/figures/") for p in modes)
    assert any(p.startswith("tensorboard/") for p in modes)
    wrong = {p: oct(m) for p, m in modes.items() if m != 0o666 & ~mask}
    assert not wrong, f"expected {oct(0o666 & ~mask)} under umask {oct(mask)}: {wrong}"


def test_a_replaced_file_keeps_its_mode_and_no_temporary_file_is_left(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old")
    target.chmod(0o640)
    with umask(0o022):
        atomic_write(target, "new")
        atomic_write(tmp_path / "fig.png", lambda p: open(p, "wb").write(b"png"))
        with pytest.raises(ZeroDivisionError):
            atomic_write(target, lambda p: 1 / 0)
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "fig.png").stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "report.md"]
