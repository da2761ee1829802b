"""Writing files so that a reader never sees half of one: write a temporary file
beside the target, then rename it over the target (atomic on POSIX and Windows); and
the user cache folder where computed numbers that depend only on the installed
libraries are kept.

Every file the package writes goes through ``atomic_write``, so every one gets the
permissions ``open()`` would give it: a new file ``0o666`` less the umask, a replaced
file its old mode (``tempfile.mkstemp`` would make each one ``0o600``, readable by its
owner only).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

# os.open flags of a new temporary file: never an existing file, never through a link
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
    | getattr(os, "O_BINARY", 0)


def atomic_write(path, data):
    """Write ``data`` to ``path`` atomically and durably; returns the path.

    ``data``: bytes, a str (written as UTF-8), or a function that writes the
    file at the path it is given (e.g. ``lambda p: df.to_csv(p, index=False)``; the
    path ends in the target's suffix, so ``fig.savefig(p)`` and ``model.save(p)`` know
    the format). An interruption leaves either the old file or the new one, never a
    mix, and no temporary file behind. The file gets the mode ``open()`` would give:
    ``0o666`` less the umask for a new file, the old mode for a replaced one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary(path)
    try:
        if callable(data):
            os.close(fd)
            data(tmp)
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
                f.flush()
                os.fsync(f.fileno())
        if path.exists():   # after writing: an old mode may not allow it
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _temporary(path):
    """(file descriptor, path) of a new empty file beside ``path``, named
    ``.STEM.RANDOM.tmpSUFFIX``, created with mode 0o666 so that the umask applies."""
    for _ in range(100):
        tmp = path.with_name(f".{path.stem}.{os.urandom(4).hex()}.tmp{path.suffix}")
        try:
            return os.open(tmp, _NEW, 0o666), str(tmp)
        except FileExistsError:
            continue
    raise FileExistsError(f"No free temporary name beside {path}")


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
