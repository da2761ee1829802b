"""Import TensorFlow without its start-up log lines.

TensorFlow 2.21 writes C++ log lines to file descriptor 2 while it is imported
(``WARNING: All log messages before absl::InitializeLog() ...``, ``oneDNN custom
operations are on ...``, ``This TensorFlow binary is optimized ...``);
``TF_CPP_MIN_LOG_LEVEL`` no longer hides them, because absl logs them before
reading it. ``import_tensorflow`` imports TensorFlow with file descriptor 2
sent to a temporary file, then writes back every line that is not one of
those (``NOISE``), so a warning that matters still reaches the user. Every
module that uses TensorFlow or Keras calls it before its first import of either.

>>> import_tensorflow().__name__  # doctest: +SKIP
'tensorflow'
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

__all__ = ["NOISE", "import_keras", "import_tensorflow", "quiet_stderr"]

# The start-up lines TensorFlow and absl write while TensorFlow is imported.
NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\)"
    r"|^[IW]\d{4} [\d:.]+\s+\d+ \S+\.cc:\d+\]"        # absl's "I0000 00:00:... port.cc:153]"
    r"|^To enable the following instructions:"        # 2nd line of cpu_feature_guard
    r"|oneDNN custom operations are on"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|TF-TRT Warning|could not open file to read NUMA node")

# TensorFlow's own Python-side logging: errors only. Set before TensorFlow is imported.
ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2"}


@contextlib.contextmanager
def quiet_stderr(keep=lambda line: not NOISE.search(line)):
    """Send file descriptor 2 (C and Python alike) to a temporary file for the block,
    then write back the lines ``keep`` accepts."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreter): nothing to hide
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines = sink.read().decode("utf-8", "replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if keep(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def import_tensorflow():
    """TensorFlow, imported once with its start-up log lines dropped (other lines kept)."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    for key, value in ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    with quiet_stderr():
        import tensorflow
    return tensorflow


def import_keras():
    """Keras, imported once with its backend's start-up log lines dropped (TensorFlow
    is imported only where it is the Keras backend)."""
    if "keras" in sys.modules:
        return sys.modules["keras"]
    for key, value in ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    with quiet_stderr():
        import keras
    return keras
