"""Read-only folders that truly bind the process reading them, root included.

Root ignores file permissions, so a test that only ``chmod``s a folder proves nothing
when the suite runs as root. ``read_only_folder`` makes a folder every user can reach
but nobody (root aside) can write; ``unprivileged(fn)`` calls ``fn`` in a process those
permissions bind: this one when it is not root, else a forked child that drops to the
user ``nobody`` before calling it. Its result (or exception) comes back pickled.
"""

import os
import pickle
import shutil
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

NOBODY = 65534
POSIX = sys.platform != "win32"


@contextmanager
def read_only_folder(files=()):
    """A new folder holding copies of ``files`` (paths), made read-only (folder 555, files
    444) in a place every user can reach; removed afterwards."""
    top = Path(tempfile.mkdtemp(prefix="recipes-ro-"))
    top.chmod(0o755)
    folder = top / "archive"
    folder.mkdir()
    try:
        for f in files:
            shutil.copyfile(f, folder / Path(f).name)
            (folder / Path(f).name).chmod(0o444)
        folder.chmod(0o555)
        yield folder
    finally:
        folder.chmod(0o755)
        for f in folder.iterdir():
            f.chmod(stat.S_IRUSR | stat.S_IWUSR)
        shutil.rmtree(top)


def unprivileged(fn, *args):
    """``fn(*args)`` computed where folder permissions bind (see the module docstring);
    an exception it raises is raised here."""
    if os.geteuid() != 0:
        return fn(*args)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: drop root, compute, send the outcome, exit at once
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            outcome = ("value", fn(*args))
        except BaseException as err:   # noqa: B036 (sent to the parent)
            outcome = ("error", err)
        try:
            data = pickle.dumps(outcome)
        except Exception:
            data = pickle.dumps(("error", RuntimeError(repr(outcome[1]))))
        with os.fdopen(write, "wb") as f:
            f.write(data)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "error":
        raise value
    return value
