"""Import TensorFlow without its start-up log lines.

TensorFlow 2.21 writes C++ log lines to file descriptor 2 while it is imported
(``WARNING: All log messages before absl::InitializeLog() ...``, ``oneDNN custom
operations are on ...``, ``This TensorFlow binary is optimized ...``);
``TF_CPP_MIN_LOG_LEVEL`` no longer hides them, because absl logs them before
reading it. ``import_tensorflow`` imports TensorFlow with file descriptor 2
sent to a temporary file, then writes back every line that is not one of
those (``NOISE``), so a warning that matters still reaches the user. Every
module that uses TensorFlow or Keras calls it (or ``import_keras``) before its first
import of either.

TensorFlow logs at run time too: loading a compiled function from the persistent XLA
cache writes an "Error parsing text-format tensorflow.XlaSerializedCacheEntry" line
and two ``cpu_aot_loader`` lines about the pseudo-features ``+prefer-no-scatter`` and
``+prefer-no-gather`` (tuning hints, not instructions the CPU lacks). The stacked
trainer runs each compiled function's first call in this process inside
``quiet_stderr``, which drops those lines too. ``quiet_stderr`` may be entered by
several threads at once: the first one in sends file descriptor 2 to the file, the
last one out restores it and writes the kept lines back (Python's own stderr output
in the meantime, e.g. a progress bar, comes out then).

A command (``recipes run``, ``report``, ``backends``, ...) may start TensorFlow anywhere:
in a module that imports it, in a library that imports it for its own use (TensorBoard),
in a child process, or when it loads a compiled function. ``quiet_command`` covers the
whole of a command instead: file descriptor 2 goes through a filter process that drops
the ``NOISE`` lines and passes every other line on at once, while Python's own
``sys.stderr`` (progress bars, warnings, error messages) writes to the terminal directly.
The filter is a process, not a thread, so that a fatal error TensorFlow writes just
before it aborts still reaches the terminal.

>>> import_tensorflow().__name__  # doctest: +SKIP
'tensorflow'
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import threading

__all__ = ["NOISE", "import_keras", "import_tensorflow", "quiet_command", "quiet_stderr"]

# The start-up lines TensorFlow and absl write while TensorFlow is imported.
NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\)"
    r"|^[IW]\d{4} [\d:.]+\s+\d+ \S+\.(cc|h):\d+\]"   # absl's "I0000 00:00:... port.cc:153]"
    r"|^To enable the following instructions:"        # 2nd line of cpu_feature_guard
    r"|oneDNN custom operations are on"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|TF-TRT Warning|could not open file to read NUMA node"
    # loading from the persistent XLA cache (a real missing CPU feature is still shown)
    r"|^E\d{4} [\d:.]+\s+\d+ text_format\.cc:\d+\] Error parsing text-format "
    r"tensorflow\.XlaSerializedCacheEntry"
    r"|^E\d{4} [\d:.]+\s+\d+ cpu_aot_loader\.cc:\d+\] Loading XLA:CPU AOT result\. "
    r"Target machine feature \+prefer-no-(scatter|gather) is not")

# TensorFlow's own Python-side logging: errors only. Set before TensorFlow is imported.
ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2"}


_REDIRECT = {"depth": 0, "saved": None, "sink": None}
_LOCK = threading.Lock()


def _noise_free(line):
    return not NOISE.search(line)


@contextlib.contextmanager
def quiet_stderr(keep=_noise_free):
    """Send file descriptor 2 (C and Python alike) to a temporary file for the block,
    then write back the lines ``keep`` accepts. Threads may overlap their blocks: the
    lines are filtered when the last block ends, by that block's ``keep``."""
    with _LOCK:
        if _REDIRECT["depth"] == 0:
            try:
                sys.stderr.flush()
                saved = os.dup(2)
            except (OSError, ValueError):  # no real stderr (embedded interpreter)
                saved = None
            sink = None
            if saved is not None:
                sink = tempfile.TemporaryFile()
                os.dup2(sink.fileno(), 2)
            _REDIRECT.update(saved=saved, sink=sink)
        _REDIRECT["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _REDIRECT["depth"] -= 1
            if _REDIRECT["depth"] == 0:
                _restore(_REDIRECT.pop("saved"), _REDIRECT.pop("sink"), keep)


def _restore(saved, sink, keep):
    """Point file descriptor 2 back at ``saved`` and write the kept lines of ``sink``."""
    if saved is None:
        return
    with sink:
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(saved, 2)
        os.close(saved)
        sink.seek(0)
        lines = sink.read().decode("utf-8", "replace").splitlines(keepends=True)
    kept = "".join(line for line in lines if keep(line))
    if kept:
        sys.stderr.write(kept)
        sys.stderr.flush()


# Optional imports made while TensorFlow and Keras are imported, for features this library
# never uses, deferred to those features' first use: (importing module, imported module)
# -> the names the importer binds to it, each with the modules that copy that name at
# their own import. JAX costs a third of importing Keras on TensorFlow on 2 cores, and two
# modules import it there: TensorFlow Lite's util (``from jax import jit as _jit``, for
# ``TFLiteConverter.experimental_from_jax``; bound to ``LAZY["_jit"]`` instead), and Keras'
# Orbax checkpoint callback (a shim that adds ``jax.monitoring.record_scalar`` to JAX
# versions older than Keras supports; binds nothing). Under the JAX backend, Keras imports
# JAX itself first and nothing is deferred.
DEFERRED = {
    ("tensorflow.lite.python.util", "jax"): {
        "_jit": ("tensorflow.lite.python.util", "tensorflow.lite.python.lite")},
    ("keras.src.callbacks.orbax_checkpoint", "jax"): {},
}


def _lazy_jit(*args, **kwargs):
    """``jax.jit``, imported at the first call (TensorFlow Lite's ``_jit``)."""
    from jax import jit

    return jit(*args, **kwargs)


LAZY = {"_jit": _lazy_jit}   # what each deferred name is bound to when its module is installed


class _Defer:
    """A meta path finder that refuses the imports of ``DEFERRED`` (an ImportError, which
    their importers expect: the library may be absent) while TensorFlow is imported."""

    def find_spec(self, fullname, path=None, target=None):
        frame = sys._getframe(1)
        while frame is not None:     # the importing module's frame, above importlib's
            importer = frame.f_globals.get("__name__")
            if (importer, fullname) in DEFERRED:
                raise ImportError(f"{fullname} is imported at first use ({__name__}.DEFERRED)")
            if importer and not importer.startswith(("importlib", "_frozen_importlib")):
                return None
            frame = frame.f_back
        return None


@contextlib.contextmanager
def _deferring():
    """Refuse ``DEFERRED``'s imports for the block; after it, bind each deferred name to
    its lazy form (``LAZY``) where the deferred module is installed, so the feature works
    as before, importing it at first use."""
    finder = _Defer()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
    for (_, deferred), names in DEFERRED.items():
        if names and importlib.util.find_spec(deferred) is None:
            continue    # not installed: the importer's fallback (None) stays
        for name, modules in names.items():
            for module in filter(None, map(sys.modules.get, modules)):
                if getattr(module, name, None) is None:
                    setattr(module, name, LAZY[name])


def _quiet_import(name):
    """Module ``name``, imported once with its start-up log lines dropped (and
    ``DEFERRED``'s imports left to first use)."""
    if name in sys.modules:
        return sys.modules[name]
    for key, value in ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    with quiet_stderr(), _deferring():
        return importlib.import_module(name)


def import_tensorflow():
    """TensorFlow, imported once with its start-up log lines dropped (other lines kept)."""
    return _quiet_import("tensorflow")


def import_keras():
    """Keras, imported once with its backend's start-up log lines dropped (TensorFlow's
    under the TensorFlow backend; another backend's library is not imported here)."""
    return _quiet_import("keras")


# The filter process of ``quiet_command``: copies its standard input to its standard
# output line by line, leaving out the lines that match the pattern (argv[1]); a line is
# written as soon as it is complete, the rest at the end. It ignores Ctrl-C (the command
# handles it) and ends when every writer has closed the pipe.
_FILTER = """\
import os, re, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
noise, rest, out = re.compile(sys.argv[1]), b"", sys.stdout.buffer
while True:
    chunk = os.read(0, 65536)
    lines = (rest + chunk).splitlines(keepends=True)
    rest = lines.pop() if chunk and lines and lines[-1][-1:] not in b"\\r\\n" else b""
    out.write(b"".join(l for l in lines if not noise.search(l.decode("utf-8", "replace"))))
    out.flush()
    if not chunk:
        break
"""

_COMMAND = {"depth": 0}


def _stderr_is_fd2():
    """True when Python's ``sys.stderr`` writes to file descriptor 2 (not in a notebook)."""
    try:
        return sys.stderr is not None and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


@contextlib.contextmanager
def quiet_command():
    """For the block (a whole command): TensorFlow's log level (``ENVIRONMENT``, unless
    the user set it) and file descriptor 2 sent through a filter process that drops the
    ``NOISE`` lines, whoever writes them (TensorFlow, XLA, absl, a child process);
    ``sys.stderr`` writes to the terminal directly meanwhile. Nested blocks share the
    outer one's filter. Without a real file descriptor 2 (an embedded interpreter)
    only the environment is set."""
    for key, value in ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    with _LOCK:
        outer = _COMMAND["depth"] == 0
        _COMMAND["depth"] += 1
    try:
        if outer and _stderr_is_fd2():
            with _filtered_fd2():
                yield
        else:
            yield
    finally:
        with _LOCK:
            _COMMAND["depth"] -= 1


@contextlib.contextmanager
def _filtered_fd2():
    """File descriptor 2 through the ``_FILTER`` process, ``sys.stderr`` on the original."""
    sys.stderr.flush()
    original = os.dup(2)
    try:
        child = subprocess.Popen([sys.executable, "-I", "-S", "-c", _FILTER, NOISE.pattern],
                                 stdin=subprocess.PIPE, stdout=original, stderr=original)
    except OSError:              # no process can be started: unfiltered
        child = None
    if child is None:
        os.close(original)
        yield
        return
    python_stderr = sys.stderr
    sys.stderr = open(os.dup(original), "w", buffering=1, encoding=python_stderr.encoding,
                      errors=python_stderr.errors)
    os.dup2(child.stdin.fileno(), 2)
    child.stdin.close()          # fd 2 (and children's copies) now hold the pipe
    try:
        yield
    finally:
        sys.stderr.flush()       # left open: a logging handler made meanwhile may hold it
        _DIRECT.append(sys.stderr)
        sys.stderr = python_stderr
        os.dup2(original, 2)     # closes this process's end of the pipe
        os.close(original)
        try:                     # the last lines; a child still writing keeps it running
            child.wait(timeout=2)
        except subprocess.TimeoutExpired:
            _LEFT_RUNNING.append(child)


# filter processes that outlived their command (a child process still holds the pipe),
# and the direct sys.stderr objects of finished commands (on the terminal, kept open)
_LEFT_RUNNING, _DIRECT = [], []
