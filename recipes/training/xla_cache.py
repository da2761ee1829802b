"""XLA for the compiled stacked trainers (TensorFlow's and JAX's): cheaper compiler
options, and persistent compilation caches, so a later process loads a compiled chunk
program instead of compiling it.

``configure_xla`` sets cheaper XLA compiler options. ``persistent_cache`` keeps
TensorFlow's XLA-compiled chunk functions on disk (``TF_XLA_FLAGS=
--tf_xla_persistent_cache_directory``; a digits chunk: ~1.0 s to compile, ~0.3 s to
load). Three things make that work and keep it safe:

* Stable names. TensorFlow names traced functions (a tf.function, the bodies of its
  while loops) with a process-wide counter, and those names are part of the XLA program
  whose hash keys the cache, so every process would miss. ``stable_names`` numbers a
  chunk function's trace from a base fixed by its configuration and shapes.
* Atomic entries. TensorFlow writes entries in place; a process reading a file that
  another is still writing would fail to parse it. So TensorFlow writes to a staging
  folder of this process only (pre-filled with hard links to the shared entries), and
  ``publish_cache`` links finished entries into the shared folder (an atomic create),
  after each training call and at exit.
* One folder per TensorFlow, Keras, machine and XLA_FLAGS (``cache_dir``): an upgrade
  starts a new folder and never reads an entry compiled by another version.

``persistent_jax_cache`` turns on JAX's own persistent cache, in the folder ``jax``
beside TensorFlow's.

On by default (``CACHE``); RECIPES_XLA_CACHE=0 turns it off, RECIPES_CACHE_DIR moves it.
Nothing here imports TensorFlow or JAX until a function that needs it is called.
"""

from __future__ import annotations

import contextlib
import os
import threading

from ..files import user_cache

__all__ = ["CACHE", "CACHE_FLAG", "XLA_FLAGS", "active", "cache_dir", "configure_xla",
           "persistent_cache", "persistent_jax_cache", "publish_cache", "stable_names"]


# XLA compiler options for the CPU backend: LLVM's cheaper pipeline. Measured on
# 2 cores: compiling a digits chunk takes ~1.35 s instead of ~1.8 s, the compiled
# code runs as fast, and outputs are unchanged within float32 rounding. XLA
# reads XLA_FLAGS once, at its first compilation in the process, so
# ``configure_xla`` only helps if it runs before any XLA compilation.
XLA_FLAGS = ("--xla_backend_optimization_level=1", "--xla_llvm_disable_expensive_passes=true")


def configure_xla(flags=XLA_FLAGS):
    """Add ``flags`` to the XLA_FLAGS environment variable (those not already there,
    by name, so a user's own setting wins). Called by the compiled stacked trainers on
    first use."""
    current = os.environ.get("XLA_FLAGS", "")
    names = {f.split("=")[0] for f in current.split()}
    extra = [f for f in flags if f.split("=")[0] not in names]
    if extra:
        os.environ["XLA_FLAGS"] = " ".join([current] + extra).strip()


# the persistent caches: on unless RECIPES_XLA_CACHE is 0, false, off or no
CACHE = os.environ.get("RECIPES_XLA_CACHE", "1").lower() not in ("0", "false", "off", "no")
CACHE_FLAG = "--tf_xla_persistent_cache_directory"
_CACHE = {"shared": None, "staging": None}


def _version(*names):
    from importlib import metadata

    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def cache_dir(root=None):
    """The folder of this process's compiled functions: ``root`` (default
    ``files.user_cache()``: $RECIPES_CACHE_DIR, else the user cache folder), then one
    subfolder per TensorFlow and Keras version, machine and XLA_FLAGS."""
    import hashlib
    import platform

    root = root or str(user_cache())
    tf = _version("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel",
                  "tf-nightly")
    flags = hashlib.sha1(os.environ.get("XLA_FLAGS", "").encode()).hexdigest()[:8]
    return os.path.join(root, f"xla-tf{tf}-keras{_version('keras')}-{platform.machine()}-{flags}")


def persistent_cache(directory=None):
    """Keep XLA's compiled chunk functions on disk across processes; returns the shared
    folder (None when TF_XLA_FLAGS already names a cache folder of the user's own).

    ``directory``: the root folder (default: see ``cache_dir``). Must be called before
    the process's first XLA compilation (the TensorFlow stacked trainer calls it on first
    use when ``CACHE`` is on). Safe when several processes share the folder (see above).
    TensorFlow may log a harmless "Error parsing text-format
    tensorflow.XlaSerializedCacheEntry" when it reads an entry.
    """
    import atexit
    import socket
    import tempfile

    if _CACHE["staging"] is not None:   # TensorFlow reads its flags once per process
        return _CACHE["shared"]
    current = os.environ.get("TF_XLA_FLAGS", "")
    if CACHE_FLAG in current:
        return None
    shared = cache_dir(directory)
    os.makedirs(shared, exist_ok=True)
    host = socket.gethostname().replace("-", "_")
    _remove_stale_staging(shared, host)
    staging = tempfile.mkdtemp(prefix=f".staging-{host}-{os.getpid()}-", dir=shared)
    for name in os.listdir(shared):
        if name.endswith(".pb"):
            try:
                os.link(os.path.join(shared, name), os.path.join(staging, name))
            except OSError:     # no hard links here: copy (readers see whole files only)
                _copy(os.path.join(shared, name), os.path.join(staging, name))
    flags = [f for f in current.split() if not f.startswith(CACHE_FLAG)]
    os.environ["TF_XLA_FLAGS"] = " ".join(flags + [f"{CACHE_FLAG}={staging}"])
    atexit.register(_close_cache)
    _CACHE.update(shared=shared, staging=staging)
    return shared


def _copy(src, dst):
    import shutil

    from ..files import atomic_write

    atomic_write(dst, lambda tmp: shutil.copyfile(src, tmp))


def publish_cache():
    """Link the entries this process compiled into the shared cache folder; returns
    how many. Each appears whole or not at all (``os.link`` creates the name atomically;
    a copy is renamed into place). An entry another process published first is kept."""
    shared, staging = _CACHE["shared"], _CACHE["staging"]
    if staging is None or not os.path.isdir(staging):
        return 0
    new = 0
    for name in os.listdir(staging):
        src, dst = os.path.join(staging, name), os.path.join(shared, name)
        if not name.endswith(".pb") or os.path.exists(dst):
            continue
        try:
            os.link(src, dst)
        except FileExistsError:
            continue
        except OSError:
            _copy(src, dst)
        new += 1
    return new


def _close_cache():
    import shutil

    try:
        publish_cache()
    finally:
        if _CACHE["staging"]:
            shutil.rmtree(_CACHE["staging"], ignore_errors=True)


def _remove_stale_staging(shared, host):
    """Remove staging folders of processes of this host that are gone (killed ones)."""
    import shutil

    for name in os.listdir(shared):
        parts = name.split("-")
        if not name.startswith(".staging-") or len(parts) < 4 or parts[1] != host:
            continue
        try:
            os.kill(int(parts[2]), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(shared, name), ignore_errors=True)
        except (ValueError, OSError):
            continue


def active():
    """Whether TensorFlow's persistent XLA cache is on in this process (ours, or a
    folder the user named in TF_XLA_FLAGS)."""
    return _CACHE["shared"] is not None or CACHE_FLAG in os.environ.get("TF_XLA_FLAGS", "")


_TRACE_LOCK = threading.Lock()
_STABLE = set()     # keys traced with stable names in this process


@contextlib.contextmanager
def stable_names(key):
    """A context in which TensorFlow's name counter (``ops.uid``) counts from a base fixed
    by ``key`` (a string), so a trace of the same function gives the same XLA program in
    every process. Used once per key and process (names must stay unique in a process);
    holds a lock, so two traces never interleave their numbers."""
    import hashlib
    import itertools

    from tensorflow.python.framework import ops

    with _TRACE_LOCK:
        if key in _STABLE:
            yield
            return
        _STABLE.add(key)
        base = (1 + int(hashlib.sha1(key.encode()).hexdigest()[:8], 16)) << 24
        counter, real = itertools.count(base), ops.uid
        ops.uid = lambda: next(counter)
        try:
            yield
        finally:
            ops.uid = real


# --- JAX ---------------------------------------------------------------------------------

# JAX's persistent cache: its size limit (least recently used entries go first), and the
# shortest compile worth storing (a digits chunk compiles in ~1-2 s; Keras' eager ops in
# milliseconds)
JAX_CACHE_BYTES = 2 * 2**30
JAX_MIN_COMPILE_S = 0.3


def persistent_jax_cache(directory=None):
    """Keep JAX's compiled chunk functions on disk across processes (JAX's persistent
    compilation cache, in the folder ``jax`` beside TensorFlow's, see ``cache_dir``);
    returns the folder, or None when the user set one of their own
    (``jax_compilation_cache_dir``).

    JAX keys entries by the program, its compile options, the XLA flags and the JAX
    version, so one folder serves every version. Reads and writes hold a file lock
    (set by a size limit, ``jax_compilation_cache_max_size``, of ``JAX_CACHE_BYTES``
    unless the user set one), so processes sharing the folder never read a half-written
    entry. Functions that compile in under ``JAX_MIN_COMPILE_S`` are not stored.
    """
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    if jax.config.jax_compilation_cache_dir:
        return None
    folder = os.path.join(os.path.dirname(cache_dir(directory)), "jax")
    os.makedirs(folder, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", folder)
    if jax.config.jax_compilation_cache_max_size == -1:
        jax.config.update("jax_compilation_cache_max_size", JAX_CACHE_BYTES)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", JAX_MIN_COMPILE_S)
    compilation_cache.reset_cache()     # JAX decides at its first compilation whether to use it
    return folder
