"""benchmarks/sweep_vs_sklearn.py's --doc: its numbers go into their block of a Markdown
file, with the command, date and machine; a file without the block is refused before any
measuring and left as it was."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import sweep_vs_sklearn  # noqa: E402

BEGIN = "<!-- begin: benchmarks/sweep_vs_sklearn.py -->"


def test_a_doc_without_the_block_is_refused_before_measuring(tmp_path):
    doc = tmp_path / "page.md"
    doc.write_text("# numbers\n\nno markers here\n")
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sweep_vs_sklearn.py"),
                          "--doc", str(doc)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert f"Expected a block {BEGIN} ... <!-- end -->" in out.stderr
    assert "pair 1" not in out.stdout                  # nothing was measured
    assert doc.read_text() == "# numbers\n\nno markers here\n"


def test_the_numbers_go_into_their_block_with_command_date_and_machine(tmp_path, monkeypatch):
    doc = tmp_path / "page.md"
    doc.write_text(f"# numbers\n\n{BEGIN}\nold\n<!-- end -->\n\nkept\n")
    # the two child processes' (wall s, CPU s, answer): recipes 10 s, sklearn 50 s
    answers = {"recipes": (10.0, 8.0, {"runs": 200, "statuses": {"ok": 200}}),
               "sklearn": (50.0, 40.0, {"runs": 200, "val_accuracy": 0.9}),
               "startup": (4.0, 3.5, {"rows": 1797, "keras_s": 3.2}),
               "engine": (8.5, 9.0, {"runs": 200, "ok": 200})}
    monkeypatch.setattr(sweep_vs_sklearn, "timed", lambda part, env: answers[part])
    monkeypatch.delenv("KERAS_BACKEND", raising=False)     # else the command names it
    monkeypatch.setattr(sys, "argv", ["benchmarks/sweep_vs_sklearn.py", "--repeat", "1",
                                      "--doc", str(doc)])
    sweep_vs_sklearn.main(sys.argv[1:])
    text = doc.read_text()
    assert "old" not in text and text.endswith("<!-- end -->\n\nkept\n")
    head = text.split(BEGIN + "\n", 1)[1].splitlines()[0]
    assert head.startswith("Command: `python benchmarks/sweep_vs_sklearn.py --repeat 1` · Date: ")
    assert " UTC · Machine: " in head and "cores" in head
    assert "median sklearn / recipes: 5.00x wall (target >= 5x: met), 5.00x CPU" in text
    assert "recipes   50.0 ms/run wall" in text
    assert ("5x budget 10.0 s; recipes 10.0 s = start-up 4.0 s (40% of the budget: Python, "
            "imports (Keras and TensorFlow 3.2 s), digits) + training and scoring 4.5 s "
            "(compiling included; start-up + training 8.5 s = 85% of the budget, 200 of 200 "
            "ok) + bookkeeping 1.5 s (recipes minus engine: two processes, so noisy)") in text
