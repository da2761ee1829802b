"""Run test code in a Python process of another Keras backend (Keras fixes its backend
at import, so a JAX or PyTorch check cannot run in the test process)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import recipes

ROOT = Path(recipes.__file__).resolve().parent.parent


def on_backend(backend, code):
    """Run ``code`` with KERAS_BACKEND=``backend``; its last stdout line, parsed as JSON
    (the process must succeed: its stderr's end is the assertion message)."""
    env = dict(os.environ, KERAS_BACKEND=backend,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])
