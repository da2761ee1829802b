"""Writing files so that a reader never sees half of one: write a temporary file
beside the target, then rename it over the target (atomic on POSIX and Windows); and
the user cache folder where computed numbers that depend only on the installed
libraries are kept."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def atomic_write(path, data):
    """Write ``data`` to ``path`` atomically and durably; returns the path.

    ``data``: bytes, a str (written as UTF-8), or a function that writes the
    file at the path it is given (e.g. ``lambda p: df.to_csv(p, index=False)``).
    An interruption leaves either the old file or the new one, never a mix, and
    no temporary file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if callable(data):
            os.close(fd)
            data(tmp)
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def user_cache(*parts):
    """The user's cache folder for this package, joined with ``parts`` (not created):
    $RECIPES_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on
    macOS, %LOCALAPPDATA% on Windows, then ``keras-loss-recipes``. What lies there is
    keyed by the versions it was computed with, so deleting it only costs time."""
    root = os.environ.get("RECIPES_CACHE_DIR")
    if not root:
        home = os.path.expanduser("~")
        if sys.platform == "darwin":
            base = os.path.join(home, "Library", "Caches")
        elif os.name == "nt":
            base = os.environ.get("LOCALAPPDATA") or home
        else:
            base = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
        root = os.path.join(base, "keras-loss-recipes")
    return Path(root, *parts)
