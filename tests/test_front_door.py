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
import recipes.experiments

PACKAGE = Path(recipes.__file__).parent
ROOT = PACKAGE.parent

# The public API, by name (issue: one front door).
PUBLIC = ["load_catalog", "select", "get", "infer_problem", "build_model", "build_head",
          "compare", "run", "report", "effects", "load_results", "check_model", "gradients",
          "calibrate", "tune_threshold"]

# The stages in the order data flows; a module may import only its own stage and those before.
STAGES = ["messages", "files", "quiet", "extras", "catalog", "models", "training", "decisions",
          "results", "experiments", "diagnostics", "reporting", "export", "cli", "__main__"]


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


# One process for the tests of Keras' first use (starting TensorFlow costs seconds): it
# looks Keras up through the front door, then reports on the imports that deferred.
FIRST_USE = """\
import importlib.util, sys, recipes
before = 'keras' in sys.modules
recipes.build_model
print(before, 'keras' in sys.modules)
print('jax' in sys.modules)
jit = sys.modules['tensorflow.lite.python.lite']._jit
print(jit is sys.modules['tensorflow.lite.python.util']._jit, jit is None,
      importlib.util.find_spec('jax') is None)
if jit is not None:
    print(int(jit(lambda x: x * 2)(3)), 'jax' in sys.modules)
"""


@pytest.fixture(scope="module")
def first_use():
    """(stdout lines, stderr) of ``FIRST_USE`` in a fresh process on TensorFlow."""
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    out = subprocess.run([sys.executable, "-c", FIRST_USE], capture_output=True, text=True,
                         cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines(), out.stderr


def test_keras_names_load_on_first_use_without_tensorflow_log_lines(first_use):
    lines, stderr = first_use
    assert lines[0] == "False True"
    assert stderr == "", f"TensorFlow's start-up lines reached stderr:\n{stderr}"


def test_keras_on_tensorflow_leaves_jax_to_its_first_use(first_use):
    # TensorFlow Lite and Keras' Orbax callback import JAX while Keras starts on
    # TensorFlow (a third of the import time); recipes.quiet defers it. TFLite's
    # _jit, its only use, is then a function that imports JAX when called, in both
    # modules that hold it (None where JAX is not installed, as TFLite leaves it).
    lines, _ = first_use
    assert lines[1] == "False"
    same, none, absent = lines[2].split()
    assert same == "True" and none == absent
    if absent == "False":
        assert lines[3] == "6 True"


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
    scripts = sorted(p for p in (PACKAGE / "experiments").glob("*.py") if p.name != "__init__.py")
    assert [p.stem for p in scripts] == list(recipes.experiments.names())
    for path in scripts:
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


# --- no TensorFlow log line from any command that starts TensorFlow -------------------

# What TensorFlow, absl and XLA write to the terminal (the examples: the absl
# pre-init warning, the oneDNN line, an XLA persistent cache entry's parse error).
LOG_LINE = re.compile(r"^[WEIF]\d{4} |absl::InitializeLog|oneDNN|cuda|TF-TRT|tensorflow/", re.M)

TINY = ("import recipes\nEXPERIMENT = recipes.Experiment(name='tiny', datasets=('breast_cancer',), "
        "recipes=('binary_sigmoid_bce',), seeds=2, epochs=1)\n")

# command -> its arguments ({dir}: the module's folder, {case}: a folder of the case's own)
TF_COMMANDS = {
    "run": ["run", "{dir}/tiny.py", "--out", "{case}/results", "--quiet", "--no-report"],
    "backends": ["backends", "--backend", "tensorflow"],
    "explain": ["explain", "binary_sigmoid_bce", "--out", "{case}/g.png"],
    "check": ["check", "{dir}/model.keras", "--labels", "{dir}/y.npy"],
    "export-tensorboard": ["export", "{dir}/results", "--to", "tensorboard", "{case}/tb"],
    "export-model": ["export-model", "binary_sigmoid_bce", "--input-shape", "30", "--n", "2",
                     "--out", "{case}/m.keras"],
}

# Running the command the way the console script does (recipes.cli:main), then saying
# whether TensorFlow was started.
MAIN = ("import sys; from recipes.cli import main; code = main(sys.argv[1:]); "
        "print('\\nTENSORFLOW STARTED' if 'tensorflow' in sys.modules else '', flush=True); "
        "sys.exit(code)")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A folder with a tiny trained results store, a saved model and its labels."""
    import numpy as np

    from recipes.export.model import export_model

    folder = tmp_path_factory.mktemp("tf-commands")
    (folder / "tiny.py").write_text(TINY)
    recipes.run(recipes.experiments.load_experiment(str(folder / "tiny.py")),
                folder / "results", progress=False)
    export_model("binary_sigmoid_bce", 30, 2, folder / "model.keras")
    np.save(folder / "y.npy", np.array([0, 1] * 10))
    return folder


# Every command at TensorFlow's own default log level "0" (TF_CPP_MIN_LOG_LEVEL only ever
# removes lines, so this is the most TensorFlow can print: here as on a machine whose
# TensorFlow logs at start-up); and training in a plain user environment (no
# TF_CPP_MIN_LOG_LEVEL at all, not the one conftest sets). `recipes report` is not one
# here: with the user cache warm it imports no TensorFlow (measured), and what it computes
# on a cold cache runs under the same quiet_command.
CASES = [(name, "0") for name in TF_COMMANDS] + [("run", None)]


@pytest.mark.parametrize("name,level", CASES, ids=lambda v: str(v))
def test_a_command_that_starts_tensorflow_prints_no_tensorflow_log_line(trained, tmp_path,
                                                                         name, level):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    argv = [a.format(dir=trained, case=tmp_path) for a in TF_COMMANDS[name]]
    out = subprocess.run([sys.executable, "-c", MAIN, *argv], capture_output=True, text=True,
                         cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("TENSORFLOW STARTED"), "the case must start TensorFlow"
    for stream, text in (("stderr", out.stderr), ("stdout", out.stdout)):
        assert not LOG_LINE.search(text), f"log lines reached {stream}:\n{text[:3000]}"
    assert out.stderr == ""


def test_the_filter_drops_tensorflow_lines_of_the_process_and_its_children_only():
    """quiet_command: C-level writes to fd 2, by this process or a child, lose their
    TensorFlow log lines; the others, and Python's own stderr, reach the terminal whole."""
    code = ("import os, subprocess, sys\n"
            "from recipes.quiet import quiet_command\n"
            "with quiet_command():\n"
            "    os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called"
            " are written to STDERR\\nI0000 00:00:1796616492.541550   21295 "
            "device_compiler.h:208] Compiled cluster using XLA!\\nkept from C\\n')\n"
            "    os.write(2, b'E0000 00:00:1796169443.029126   18606 text_format.cc:378] Error"
            " parsing text-format tensorflow.XlaSerializedCacheEntry: 1:5: x\\npartial')\n"
            "    os.write(2, b' line\\n')\n"
            "    subprocess.run([sys.executable, '-c', 'import os; os.write(2, b\"I0000 "
            "00:00:1.5   7 cpu_feature_guard.cc:227] This TensorFlow binary\\\\nkept from a "
            "child\\\\n\")'])\n"
            "    print('kept from Python', file=sys.stderr)\n"
            "print('done')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout == "done\n", out.stderr
    assert sorted(out.stderr.splitlines()) == ["kept from C", "kept from Python",
                                               "kept from a child", "partial line"], out.stderr
