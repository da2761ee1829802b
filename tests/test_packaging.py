"""A non-editable install ships the repository's catalog.csv, byte for byte, and the
bundled experiments: the installed ``recipes`` command trains and reports from any folder."""

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _source(tmp_path):
    """A copy of what a source distribution holds (no tests, no .git, no .venv)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "catalog.csv"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "recipes", src / "recipes", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    return src


def test_package_catalog_is_a_link_to_the_root_file():
    link = ROOT / "recipes" / "catalog.csv"
    assert link.is_symlink() and link.resolve() == (ROOT / "catalog.csv").resolve()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel built from a copy of what a source distribution holds (built once: both
    installs below install it, as ``pip install SOURCE`` would after building it)."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "-w", str(wheels),
                    str(_source(tmp_path))], check=True, capture_output=True)
    built, = wheels.glob("keras_loss_recipes-*.whl")
    return built


def test_non_editable_install_finds_the_same_catalog(tmp_path, wheel):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-index", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    installed = site / "recipes" / "catalog.csv"
    assert installed.is_file() and not installed.is_symlink()
    # the measurements `recipes show binary` prints ship too (recipes.reporting.advice)
    assert (site / "recipes" / "experiments" / "imbalanced.measured.json").is_file()
    code = ("import recipes, recipes.catalog.table as c; "
            "print(c.default_path()); print(len(recipes.load_catalog()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, text=True,
                         capture_output=True, env={"PYTHONPATH": str(site), "PATH": ""}).stdout
    path, rows = out.split()
    assert Path(path) == installed
    assert installed.read_bytes() == (ROOT / "catalog.csv").read_bytes()
    assert int(rows) == len(__import__("recipes").load_catalog())


def test_a_wheel_installed_in_a_fresh_environment_runs_a_bundled_experiment(tmp_path, wheel):
    """Install the wheel (no -e) into a new virtual environment whose only other
    packages are this one's (a .pth file: nothing downloaded), then run the installed
    ``recipes`` console script from a folder that is not the repository."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    scripts = Path(sysconfig.get_path("scripts", vars={"base": str(venv)}))
    python = scripts / Path(sys.executable).name
    fresh_site = Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True).stdout.strip())
    # the dependencies: this environment's packages, after the fresh one's own
    (fresh_site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    where = subprocess.run([python, "-c", "import recipes; print(recipes.__file__)"],
                           cwd=elsewhere, env=env, check=True, capture_output=True, text=True)
    assert Path(where.stdout.strip()).is_relative_to(fresh_site), where.stdout
    assert not (fresh_site / "recipes" / "experiments" / "multilabel.py").is_symlink()

    recipes = scripts / "recipes"
    done = subprocess.run([recipes, "run", "multilabel", "--seeds", "2", "--epochs", "1",
                           "--out", "R", "--quiet"], cwd=elsewhere, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    report = elsewhere / "R" / "report"
    assert (report / "report.html").stat().st_size > 0 and (report / "report.md").is_file()
    with sqlite3.connect(elsewhere / "R" / "results.sqlite") as con:
        runs = con.execute("SELECT experiment, status, COUNT(*) FROM runs "
                           "GROUP BY experiment, status").fetchall()
    assert runs == [("multilabel", "ok", 8)]      # 4 recipes x 2 seeds, each trained
    assert "multilabel" in (report / "report.md").read_text()
