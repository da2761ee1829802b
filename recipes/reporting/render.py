"""Figures to PNG bytes: drawn in worker processes as soon as they are known, and kept
in a cache folder named by what they are drawn from.

A *plot* is a matplotlib Figure, or a function without arguments that returns one,
``functools.partial(plot_curves, curves_df, goals_df)``: a module-level function and
the numbers it draws. A partial travels to a worker process as numbers, not artists;
the worker builds the figure as well as drawing it. Its key (``plot_key``: the
function, a hash of its arguments' contents, the source of the function's package,
this module and the library versions) names its PNG in the cache, so a figure drawn
from the same numbers by the same code is read back instead of drawn again. A Figure
has no key: it is always drawn.

Drawing dominates a report's time; a figure is laid out and drawn once on an Agg
canvas and handed to Pillow as pixels (``savefig`` lays it out in a dry draw, draws it
again, and encodes a PNG that would be decoded again to reduce its colours).
"""

from __future__ import annotations

import functools
import gc
import hashlib
import io
import os
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..files import atomic_write

__all__ = ["DPI", "PNG_COLORS", "Renderer", "cores", "draw", "plot_key"]

# Colours kept in a figure's PNG: line plots of at most 10 recipes with light bands and
# anti-aliased edges look the same with 64; the file is about a third of the RGBA one.
# The fast octree palette keeps the tab10 line colours exact (median cut darkened them).
PNG_COLORS = 64
# zlib level of the PNGs: 9 takes five times as long for files 10% smaller.
PNG_LEVEL = 7
DPI = 100
# a PNG in a shared cache folder that no report used for this many days is deleted
PRUNE_DAYS = 30


def _png(fig, dpi=DPI):
    """The figure as PNG bytes at ``dpi``, reduced to a ``PNG_COLORS`` palette with
    Pillow (which matplotlib depends on)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(),
                             "raw", "RGBA", 0, 1)
    quantized = image.convert("RGB").quantize(PNG_COLORS, method=Image.Quantize.FASTOCTREE,
                                               dither=Image.Dither.NONE)
    out = io.BytesIO()
    quantized.save(out, format="png", compress_level=PNG_LEVEL)
    return out.getvalue()


def draw(plot, dpi=DPI):
    """PNG bytes of ``plot``: a Figure, or a function returning one (called here, in
    whichever process draws it)."""
    if not isinstance(plot, Figure):
        fig = plot()
        if not isinstance(fig, Figure):
            raise TypeError(f"{_name(plot)} returned a {type(fig).__name__}, not a "
                            f"matplotlib Figure")
        plot = fig
    return _png(plot, dpi)


def _name(plot):
    func = getattr(plot, "func", plot)
    return getattr(func, "__qualname__", repr(func))


def cores():
    """The CPU cores this process may run on (its affinity where the system says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every system
        return os.cpu_count() or 1


# --- the cache key --------------------------------------------------------------------

def _digest(obj, h):
    """Feed ``obj``'s contents to the hash ``h``; TypeError for what has no stable
    contents here (then the plot is not cached)."""
    if isinstance(obj, pd.DataFrame):
        h.update(repr(("frame", [str(c) for c in obj.columns],
                       [str(t) for t in obj.dtypes], obj.shape)).encode())
        h.update(pd.util.hash_pandas_object(obj, index=False).to_numpy().tobytes())
    elif isinstance(obj, pd.Series):
        h.update(repr(("series", str(obj.name), str(obj.dtype), len(obj))).encode())
        h.update(pd.util.hash_pandas_object(obj, index=False).to_numpy().tobytes())
    elif isinstance(obj, np.ndarray) and obj.dtype != object:
        h.update(repr(("array", str(obj.dtype), obj.shape)).encode())
        h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__}{len(obj)}(".encode())
        for item in obj:
            _digest(item, h)
        h.update(b")")
    elif isinstance(obj, dict):
        h.update(f"dict{len(obj)}(".encode())
        for k, v in obj.items():
            _digest(k, h)
            _digest(v, h)
        h.update(b")")
    elif obj is None or isinstance(obj, (str, bytes, bool, int, float, np.generic)):
        h.update(repr((type(obj).__name__, obj)).encode())
    elif callable(obj) and hasattr(obj, "__qualname__"):  # a module-level function
        h.update(f"function {obj.__module__}.{obj.__qualname__}".encode())
    else:
        raise TypeError(f"no stable contents to hash in a {type(obj).__name__}")


@functools.lru_cache(maxsize=None)
def _code(module):
    """What a plot's drawing depends on besides its numbers: the source of the package
    its function lives in (helpers included), this module, and the library versions."""
    import importlib
    import importlib.metadata as md

    import matplotlib

    h = hashlib.sha256()
    files = [Path(__file__)]
    path = getattr(importlib.import_module(module), "__file__", None)
    if path:
        files += sorted(Path(path).parent.glob("*.py"))
    for f in files:
        h.update(f.name.encode() + f.read_bytes())
    for lib in ("pillow", "numpy", "pandas"):
        try:
            h.update(f"{lib}={md.version(lib)}".encode())
        except md.PackageNotFoundError:
            h.update(f"{lib}=none".encode())
    h.update(f"matplotlib={matplotlib.__version__}".encode())
    return h.digest()


def plot_key(plot):
    """The cache key of a plot (hex), or None for one that is not cached: a Figure, a
    function that is not a ``functools.partial``, or arguments without stable contents
    (anything but DataFrames, Series, arrays, containers, plain values and functions,
    which are named; the source of the plot's package is in the key)."""
    if not isinstance(plot, functools.partial):
        return None
    func = plot.func
    h = hashlib.sha256(_code(func.__module__))
    try:
        _digest((func.__module__, func.__qualname__, plot.args, plot.keywords), h)
    except (TypeError, ValueError):
        return None
    return h.hexdigest()[:40]


# --- the renderer ---------------------------------------------------------------------

def _pool(workers):
    """A process pool whose workers start now (forked where the system can: they begin
    with matplotlib imported), before the caller starts any thread."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=gc.freeze)
    pool.submit(os.getpid)  # starts the workers
    return pool


def _draw_in_worker(plot):
    """``draw`` in a worker process, the garbage collector off while the figure is built
    and drawn (its many short-lived artists would trigger collections that scan the
    figure again and again), then one collection of what it left. The worker's
    inherited objects are frozen (``gc.freeze``), so no collection scans them."""
    gc.disable()
    try:
        return draw(plot)
    finally:
        gc.enable()
        gc.collect()


class Renderer:
    """PNG bytes of figures, drawn in ``workers`` processes (default: one per core; 1:
    in this process) from the moment they are submitted, read from and written to the
    ``cache`` folder when they have a key (``plot_key``). Use it as a context manager,
    or ``close()`` it. ``submit`` may be called from several threads."""

    def __init__(self, workers=None, cache=None):
        import multiprocessing

        workers = cores() if workers is None else int(workers)
        if multiprocessing.current_process().daemon:  # a pool's worker may start none
            workers = 1
        self.pool = _pool(workers) if workers > 1 else None
        self.cache = Path(cache) if cache is not None else None
        self.pending = {}   # path -> Future of PNG bytes, or the plot (drawn here, later)
        self.done = {}      # path -> PNG bytes
        self.keys = {}      # path -> cache key or None
        self.plots = {}     # path -> the plot submitted
        self.folders = {}   # path -> the cache folder of its PNG, where not ``cache``
        self.drawn = 0      # figures drawn (the others came from the cache)
        self.lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def submit(self, path, plot, cache=None):
        """Start drawing ``plot`` (a Figure or a function returning one) as ``path``; the
        plot already submitted as ``path`` is not drawn twice (another one replaces it).
        ``cache``: the folder its PNG is kept in instead of the renderer's (a folder
        shared by every report, for a figure that depends on no results)."""
        if not (isinstance(plot, Figure) or callable(plot)):
            raise TypeError(f"figure {path!r} is a {type(plot).__name__}, not a matplotlib "
                            f"Figure or a function returning one")
        with self.lock:
            if self.plots.get(path) is plot:
                return
            self.plots[path] = plot
            self.done.pop(path, None)
            self.folders.pop(path, None)
            if cache is not None:
                self.folders[path] = Path(cache)
        key = plot_key(plot)
        cached = self._read(path, key)
        with self.lock:
            self.keys[path] = key
            if cached is not None:
                self.done[path] = cached
            elif self.pool is not None:
                self.pending[path] = self.pool.submit(_draw_in_worker, plot)
            else:
                self.pending[path] = plot

    def _file(self, path, key):
        """Where the PNG of ``path`` drawn with ``key`` is cached (None: it is not)."""
        folder = self.folders.get(path, self.cache)
        return folder / f"{key}.png" if folder is not None and key else None

    def _read(self, path, key):
        f = self._file(path, key)
        if f is None:
            return None
        try:
            data = f.read_bytes()
        except OSError:  # not cached (or unreadable: drawn again)
            return None
        try:
            os.utime(f)     # in use: ``prune`` keeps it
        except OSError:
            pass
        return data

    def prune_shared(self, folder, days=PRUNE_DAYS):
        """Delete the PNGs in the cache ``folder`` (one shared by every report) that no
        plot submitted here uses and that no report has read or written for ``days``
        days: what an older version of the code drew. Returns how many were deleted.
        Another report still using one (the same code, reading it now) at worst draws it
        again."""
        folder = Path(folder)
        with self.lock:
            mine = {self._file(p, k).name for p, k in self.keys.items()
                    if self.folders.get(p, self.cache) == folder and k}
        cutoff = time.time() - days * 86400
        gone = 0
        for f in folder.glob("*.png"):
            try:
                if f.name not in mine and f.stat().st_mtime < cutoff:
                    f.unlink()
                    gone += 1
            except OSError:     # already gone, or not ours to delete
                pass
        return gone

    def results(self, progress=None):
        """``{path: PNG bytes}`` of every submitted plot, in submission order, once all
        are drawn; ``progress(path)`` is called as each is ready (cached ones first)."""
        from concurrent.futures import Future, as_completed

        progress = progress or (lambda path: None)
        for path in self.done:
            progress(path)
        futures = {f: p for p, f in self.pending.items() if isinstance(f, Future)}
        for future in as_completed(futures):
            self._finish(futures[future], future.result(), progress)
        for path, plot in list(self.pending.items()):
            if path not in self.done:
                self._finish(path, draw(plot), progress)
        self.pending.clear()
        return {p: self.done[p] for p in self.keys}

    def _finish(self, path, png, progress):
        self.done[path] = png
        self.drawn += 1
        f = self._file(path, self.keys[path])
        if f is not None:
            atomic_write(f, png)
        progress(path)

    def prune(self):
        """Delete the cache's PNGs that no submitted plot uses (older figures): the report
        folder's own cache, which one report at a time writes (``prune_shared`` for a
        folder every report shares)."""
        if self.cache is None or not self.cache.is_dir():
            return
        used = {f"{k}.png" for p, k in self.keys.items() if k and p not in self.folders}
        for f in self.cache.glob("*.png"):
            if f.name not in used:
                f.unlink(missing_ok=True)
