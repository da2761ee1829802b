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

>>> import_tensorflow().__name__  # doctest: +SKIP
'tensorflow'
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile
import threading

__all__ = ["NOISE", "import_keras", "import_tensorflow", "quiet_stderr"]

# The start-up lines TensorFlow and absl write while TensorFlow is imported.
NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\)"
    r"|^[IW]\d{4} [\d:.]+\s+\d+ \S+\.cc:\d+\]"        # absl's "I0000 00:00:... port.cc:153]"
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


def _quiet_import(name):
    """Module ``name``, imported once with its start-up log lines dropped."""
    if name in sys.modules:
        return sys.modules[name]
    for key, value in ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    with quiet_stderr():
        return importlib.import_module(name)


def import_tensorflow():
    """TensorFlow, imported once with its start-up log lines dropped (other lines kept)."""
    return _quiet_import("tensorflow")


def import_keras():
    """Keras, imported once with its backend's start-up log lines dropped (TensorFlow's
    under the TensorFlow backend; another backend's library is not imported here)."""
    return _quiet_import("keras")
