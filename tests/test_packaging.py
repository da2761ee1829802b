"""A non-editable install ships the repository's catalog.csv, byte for byte."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_package_catalog_is_a_link_to_the_root_file():
    link = ROOT / "recipes" / "catalog.csv"
    assert link.is_symlink() and link.resolve() == (ROOT / "catalog.csv").resolve()


def test_non_editable_install_finds_the_same_catalog(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "catalog.csv"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "recipes", src / "recipes", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(site), str(src)],
                   check=True, capture_output=True)
    installed = site / "recipes" / "catalog.csv"
    assert installed.is_file() and not installed.is_symlink()
    code = ("import recipes, recipes.catalog.table as c; "
            "print(c.default_path()); print(len(recipes.load_catalog()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, text=True,
                         capture_output=True, env={"PYTHONPATH": str(site), "PATH": ""}).stdout
    path, rows = out.split()
    assert Path(path) == installed
    assert installed.read_bytes() == (ROOT / "catalog.csv").read_bytes()
    assert int(rows) == len(__import__("recipes").load_catalog())
