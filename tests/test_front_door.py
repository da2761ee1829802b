"""`import recipes` is the one front door, light to import; the package's stages import one way."""

import ast
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import recipes

PACKAGE = Path(recipes.__file__).parent
ROOT = PACKAGE.parent

# The public API, by name (issue: one front door).
PUBLIC = ["load_catalog", "select", "get", "infer_problem", "build_model", "build_head",
          "compare", "run", "report", "effects", "load_results", "check_model", "gradients",
          "calibrate", "tune_threshold"]

# The stages in the order data flows; a module may import only its own stage and those before.
STAGES = ["messages", "files", "quiet", "extras", "catalog", "models", "training", "decisions",
          "results", "diagnostics", "reporting", "export", "cli", "__main__"]


def _python(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_function_is_reached_from_the_front_door(name):
    assert callable(getattr(recipes, name))
    assert name in recipes.__all__ and name in dir(recipes)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'compre'"):
        recipes.compre


def test_import_recipes_loads_neither_tensorflow_nor_matplotlib():
    code = ("import sys, recipes; recipes.select('binary'); recipes.infer_problem([0, 1]); "
            "print(sorted(m for m in ('tensorflow', 'keras', 'matplotlib') if m in sys.modules))")
    assert _python(code) == "[]"


def test_keras_names_load_on_first_use_without_tensorflow_log_lines():
    code = ("import sys, recipes; before = 'keras' in sys.modules; recipes.build_model; "
            "print(before, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False True"
    assert out.stderr == "", f"TensorFlow's start-up lines reached stderr:\n{out.stderr}"


def test_quiet_import_drops_only_the_start_up_lines():
    # What TensorFlow 2.21 writes to fd 2 from C++, and a warning that must still show.
    code = ("import os, warnings; from recipes.quiet import quiet_stderr\n"
            "with quiet_stderr():\n"
            "    os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called"
            " are written to STDERR\\n')\n"
            "    os.write(2, b'I0000 00:00:1796169443.029126   18606 port.cc:153] oneDNN custom"
            " operations are on.\\n')\n"
            "    warnings.warn('this one matters')\n"
            "print('done')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr
    assert "absl" not in out.stderr and "oneDNN" not in out.stderr
    assert "UserWarning: this one matters" in out.stderr


@pytest.mark.parametrize("name", PUBLIC)
def test_public_functions_document_every_parameter_and_what_they_return(name):
    fn = getattr(recipes, name)
    doc = inspect.getdoc(fn) or ""
    assert re.search(r"Parameters\n-+\n", doc), f"{name}: no Parameters section"
    assert re.search(r"Returns\n-+\n", doc), f"{name}: no Returns section"
    section = doc.split("Parameters", 1)[1]
    section = re.split(r"\n(Returns|Raises|Examples)\n-+\n", section)[0]
    for p in inspect.signature(fn).parameters.values():
        label = {p.VAR_KEYWORD: "**" + p.name, p.VAR_POSITIONAL: "*" + p.name}.get(p.kind, p.name)
        assert re.search(rf"(^|, ){re.escape(label)}\b", section, re.M), \
            f"{name}: parameter {label!r} is not documented"


# --- the layout -----------------------------------------------------------------------

def _module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """Every recipes module a file imports, at the top or inside a function."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            subs = [f"{target}.{a.name}" for a in node.names]
            # "from pkg import module" imports that module; "from pkg import name", pkg itself
            targets = [s if _is_module(s) else target for s in subs]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        found |= {t for t in targets if t.split(".")[0] == "recipes" and _is_module(t)}
    return found


def _is_module(dotted):
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _stage(module):
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 else -1


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_stage():
    for path in MODULES:
        name = _module_name(path)
        if name != "recipes":
            assert name.split(".")[1] in STAGES, f"{name} is in no stage of STAGES"


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != "__init__.py"
                                  or p.parent != PACKAGE], ids=lambda p: _module_name(p))
def test_modules_import_only_their_stage_and_the_ones_before(path):
    name = _module_name(path)
    for target in _imports(path):
        if target == "recipes":
            continue
        assert _stage(target) <= _stage(name), f"{name} imports {target}, a later stage"


def test_no_import_cycles():
    graph = {_module_name(p): {t for t in _imports(p) if t != "recipes"} for p in MODULES}
    graph.pop("recipes")
    state = {}

    def visit(node, trail):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", "import cycle: " + " -> ".join(trail + [node])
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, trail + [node])
        state[node] = "done"

    for node in sorted(graph):
        visit(node, [])


def test_experiments_use_only_the_front_door():
    for path in sorted((ROOT / "experiments").glob("*.py")):
        tree = ast.parse(path.read_text())
        used = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        used |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert {m for m in used if m and m.startswith("recipes")} <= {"recipes"}, path.name


def test_a_reader_that_stops_early_gets_no_traceback():
    # ``recipes list | head -1``: the reader is gone before the command writes;
    # the command stops quietly, with SIGPIPE's exit status as Unix tools do.
    read_end, write_end = os.pipe()
    os.close(read_end)
    child = subprocess.run([sys.executable, "-m", "recipes", "list"], cwd=ROOT,
                           stdout=write_end, stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    assert child.returncode == 141
    assert child.stderr == "", child.stderr


def test_training_from_the_command_line_prints_no_tensorflow_log_lines(tmp_path):
    script = tmp_path / "tiny.py"
    script.write_text("import recipes\nEXPERIMENT = recipes.Experiment(name='tiny', "
                      "datasets=('breast_cancer',), recipes=('binary_sigmoid_bce',), "
                      "seeds=1, epochs=1)\n")
    out = subprocess.run([sys.executable, "-m", "recipes", "run", str(script), "--out",
                          str(tmp_path / "res"), "--no-report", "--quiet"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stderr == "", f"log lines reached stderr:\n{out.stderr[:2000]}"
