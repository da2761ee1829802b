"""The README is a front page (issue #24 item 5): its two commands, a tour whose Python runs
as written, links to docs/ that exist; and no number in the README or docs/ is typed by
hand: each measured number sits in a block written by the script that measures it
(``benchmarks/docblock.py``), which says the command, date and machine."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]

_spec = importlib.util.spec_from_file_location("docblock", ROOT / "benchmarks" / "docblock.py")
docblock = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(docblock)

INSTALL_AND_RUN = ('python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[backends]" '
                   '&& recipes run all --out results')
INSTALL_AND_TEST = ('python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" '
                    '&& python -m pytest -q -n auto --maxprocesses 4 --dist loadfile')
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
# a measured quantity: a time, a memory size or a rate (the numbers that go stale); a
# target or a budget ("at most 25 ms", "within 3 minutes") is no measurement
MEASURED = re.compile(r"(?<!at most )(?<!within )(?<![\w.])\d[\d,]*(\.\d+)?\s?"
                      r"(ms|s|seconds|minutes|MB|GB|GFLOP/s)\b")


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def _outside_blocks_and_code(text):
    return FENCE.sub("", docblock.BLOCK.sub("", text))


def test_the_readme_is_a_front_page_with_its_two_commands():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    bash = [body.strip() for lang, body in FENCE.findall(text) if lang == "bash"]
    assert bash[:2] == [INSTALL_AND_RUN, INSTALL_AND_TEST]
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    # .ci/run runs the README's test command (pip quieter: -q)
    assert ci.replace("pip install -q ", "pip install ") == INSTALL_AND_TEST


def test_the_readme_links_every_doc_and_every_link_resolves():
    linked = set()
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            path = (page.parent / target).resolve()
            assert path.exists(), f"{page.name} links to {target}, which does not exist"
            if page == README:
                linked.add(path)
    assert set(DOCS) <= linked, f"docs not linked from the README: {set(DOCS) - linked}"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_number_block_has_its_markers_a_source_script_and_a_header(page):
    text = page.read_text(encoding="utf-8")
    blocks = list(docblock.BLOCK.finditer(text))
    assert text.count("<!-- begin:") == len(blocks) == text.count("<!-- end -->")
    for m in blocks:
        where = f"{page.name}, block {m.group(0).splitlines()[0]}"
        assert "<!-- begin:" not in m.group("body"), f"{where}: a block inside a block"
        assert (ROOT / m.group("source")).is_file(), f"{where}: no script {m.group('source')}"
        assert m.group("source").startswith("benchmarks/"), where
        head = docblock.HEADER.match(m.group("body"))
        assert head, f"{where}: the first line must say the Command, Date and Machine"
        assert m.group("source") in head.group("command"), where
        date = head.group("date")
        assert docblock.GENERATED.fullmatch(date) or date.startswith(docblock.STALE), \
            f"{where}: Date {date!r} is neither written by a script nor marked stale"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_no_measured_number_outside_a_block(page):
    stray = [m.group(0) for m in MEASURED.finditer(
        _outside_blocks_and_code(page.read_text(encoding="utf-8")))]
    assert not stray, (f"{page.name}: measured numbers outside a generated block (move them "
                       f"into the block of the script that measures them): {stray}")


def test_a_script_writes_its_block_and_refuses_a_document_without_one(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# Inference\n\n<!-- begin: benchmarks/infer.py#holdout -->\nSTALE-NUMBERS\n"
                   "<!-- end -->\n\nafter\n")
    run = [sys.executable, str(ROOT / "benchmarks" / "infer.py"), "--holdout"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(run + ["--doc", str(doc)], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    text = doc.read_text()
    block = next(docblock.BLOCK.finditer(text))
    head = docblock.HEADER.match(block.group("body"))
    assert head and head.group("command") == "python benchmarks/infer.py --holdout"
    assert "cores" in head.group("machine") and "UTC" in head.group("date")
    assert out.stdout.strip() in block.group("body") and "STALE-NUMBERS" not in text
    assert text.startswith("# Inference\n\n") and text.endswith("<!-- end -->\n\nafter\n")
    bare = tmp_path / "bare.md"
    bare.write_text("no block here\n")
    out = subprocess.run(run + ["--doc", str(bare)], capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert "Expected a block <!-- begin: benchmarks/infer.py#holdout --> ... <!-- end -->" \
        in out.stderr
    assert bare.read_text() == "no block here\n"      # refused: nothing written


def test_docblock_lists_the_command_that_regenerates_each_stale_block(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(
        "<!-- begin: benchmarks/infer.py -->\nCommand: `python benchmarks/infer.py` · "
        "Date: 2026-12-07 06:57 UTC · Machine: AMD EPYC, 2 cores\n\nnumbers\n<!-- end -->\n"
        "<!-- begin: benchmarks/grid.py#flops-sweep -->\nCommand: `python benchmarks/grid.py "
        "--sweep 18 --flops` · Date: stale, recorded by hand before 2026-12-07 · Machine: "
        "2 cores\n\nold numbers\n<!-- end -->\n")
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "docblock.py"), str(doc)],
                         capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout == (f"{doc}: <!-- begin: benchmarks/grid.py#flops-sweep -->\n"
                          f"    python benchmarks/grid.py --sweep 18 --flops --doc {doc}\n")


def test_suite_times_one_experiment_into_its_own_block(tmp_path):
    """``benchmarks/suite.py --experiment FILE --doc DOC``: one experiment's share of the
    suite (here a tiny one: 2 runs, 1 epoch) in the block ``suite.py#<its name>``, with
    wall and CPU seconds per step; the whole suite's block is left as it was."""
    (tmp_path / "tiny.py").write_text(
        "import recipes\nEXPERIMENT = recipes.Experiment(name='tiny', datasets=('iris',), "
        "recipes=('multiclass_softmax_cce',), seeds=2, epochs=1)\n")
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- begin: benchmarks/suite.py -->\nWHOLE\n<!-- end -->\n"
                   "<!-- begin: benchmarks/suite.py#tiny -->\n<!-- end -->\n")
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "suite.py"), "--experiment",
                          str(tmp_path / "tiny.py"), "--doc", str(doc)],
                         capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-3000:]
    whole, tiny = (m.group("body") for m in docblock.BLOCK.finditer(doc.read_text()))
    assert whole == "WHOLE\n"
    assert docblock.HEADER.match(tiny).group("command").endswith("--experiment " +
                                                                 str(tmp_path / "tiny.py"))
    assert "runs: 2 (ok 2)" in tiny
    assert re.search(r"^total, end to end +[\d.]+ s .* CPU +[\d.]+ s  peak RSS +\d+ MB$",
                     tiny, re.M), tiny


def test_the_readme_python_runs_as_written(tmp_path):
    """Every ``python`` block of the README, in order, as one script in an empty folder;
    what it prints is what the tour's comments say (the CNN and the frozen backbone are
    an axis of their own, the sigmoid + MSE model is flagged)."""
    text = README.read_text(encoding="utf-8")
    code = "\n".join(body for lang, body in FENCE.findall(text) if lang == "python")
    assert "backbone=" in code and "check_model" in code and "calibrate" in code
    script = tmp_path / "tour.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-4000:]
    printed = out.stdout.splitlines()
    assert printed[0] == "multiclass_softmax_cce softmax categorical_crossentropy onehot"
    assert printed[1].startswith("ordinal - ") and "graded scale" in printed[1]
    assert "['cnn', 'frozen_features']" in printed, out.stdout
    assert "an anti-pattern" in out.stdout, out.stdout
    assert (tmp_path / "my_report" / "report.html").is_file()


def test_findings_writes_the_claims_table_of_a_results_folder(tmp_path):
    """``benchmarks/findings.py RESULTS --doc FILE``: the results block holds the claims
    table of those results (tiny real runs: C1's pair, 3 seeds, 1 epoch)."""
    import recipes

    recipes.compare(*_breast_cancer(), recipes=["binary_sigmoid_bce", "binary_sigmoid_mse"],
                    seeds=3, epochs=1, out=tmp_path / "results", progress=False)
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- begin: benchmarks/findings.py -->\n<!-- end -->\n")
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "findings.py"),
                          str(tmp_path / "results"), "--doc", str(doc)],
                         capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    body = next(docblock.BLOCK.finditer(doc.read_text())).group("body")
    assert docblock.HEADER.match(body)
    assert "6 runs (ok 6) of compare." in body
    assert "| claim | data | architecture | metric | outcome | holds |" in body
    # the data column's label is the report's (stats.label_of) to choose
    assert re.search(r"^\| C1: sigmoid output: cross-entropy beats MSE \| [^|]+ \| MLP \| "
                     r"accuracy \|", body, re.M), body


def _breast_cancer():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    return X[:200], y[:200]
