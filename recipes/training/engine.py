"""The chunk engine every stacked trainer runs on: which runs train together, in what
order, on how many threads, and how a trained chunk becomes one trace per run.

A stacked trainer trains many runs (``Setup``s) at once, as the members of one chunk:
weights with a leading member axis, one program for all of them. This module is the
part that does not depend on how a chunk is trained, and imports no TensorFlow, JAX
or PyTorch (numpy only). A backend's trainer is a ``StackedTrainer`` that says three
things: which setups may share a program (``group_key``), how its groups are cut into
chunks (``chunks``), and how one chunk trains (``run_chunk``). The engine does the rest:

1. **Groups.** ``group`` puts setups with the same key and split sizes together, in
   order of first appearance. A setup whose key cannot be computed (an invalid
   recipe size or seed) is a group of its own, keyed ``Invalid``, and becomes a
   "failed" run; ``NotStackable`` (a configuration the trainer refuses) is raised up
   front, before any training.
2. **Chunks.** A group is cut under a memory cap: ``max_members`` keeps each chunk's
   recorded outputs under ``MAX_CHUNK_BYTES`` and at most ``MAX_MEMBERS`` members.
   ``padded_chunks`` (compiled trainers) compiles every chunk at one size, a power of
   two, padding short chunks with copies of their first member; ``even_chunks``
   (eager trainers) cuts as few chunks as the cap allows, without padding.
3. **Scheduling.** ``run_chunks`` trains the chunks on ``WORKERS`` threads (the
   backends release the GIL while a compiled program runs), at most ``workers + 1``
   chunks ahead of the caller, and yields each run's trace in setup order as soon as
   its chunk and every earlier one are done. ``start_order`` starts each group's first
   chunk early, so one thread compiles the next configuration while another trains.
4. **The failure guard.** An exception in one chunk makes that chunk's runs "failed"
   (with the error text); the other chunks carry on (``guarded``).
5. **Traces.** ``chunk_traces`` turns a chunk's per-epoch records (leading axis: the
   members) into one ``Trace`` per member: cut at its first non-finite epoch and
   marked "diverged", scored as it finishes (``trace.scores``) and keeping only the
   final epoch's outputs unless ``keep_outputs``.

Seconds: each chunk, in the order chunks finish, is charged the wall time since the
previous one finished (the first: since the call started), shared equally by its
members and spread evenly over their epochs, so the seconds of all runs of a call add
up to its wall time (compiling included, and time the caller spends between chunks).

>>> cut(10, cap=64, workers=2)     # 10 members: 3 chunks compiled at size 4
([4, 3, 3], 4)
>>> cut(6, cap=64, workers=2)      # too few to split: one chunk, padded to 8
([6], 8)
"""

from __future__ import annotations

import itertools
import time
import traceback
from dataclasses import dataclass

import numpy as np

from .trace import Trace, failed, per_setup, scores

__all__ = [
    "CHUNK_COST", "MAX_CHUNK_BYTES", "MAX_MEMBERS", "MIN_SPLIT", "WORKERS", "Chunk",
    "Invalid", "NotStackable", "StackedResult", "StackedTrainer", "chunk_traces", "collect",
    "cut", "even_chunks", "group", "guarded", "max_members", "member_trace", "padded",
    "padded_chunks", "run_chunks", "shapes", "start_order",
]

# Largest chunk. With two workers, chunks of 8-16 are fastest per model on digits
# (11.8 ms) and 64 slowest (13.3 ms); tiny sets do not care.
MAX_MEMBERS = 16
# Budget for a chunk's recorded outputs: per member ``2 * 4 * epochs * (n_train + n_val)
# * units`` bytes (float32 outputs of every epoch, held twice for a moment).
MAX_CHUNK_BYTES = 512 * 2**20
# Chunks trained at the same time (threads); a group is split into WORKERS chunks
# when each gets at least MIN_SPLIT members.
WORKERS = 2
MIN_SPLIT = 4
# A chunk's fixed cost (per-step overhead of its loop, its call and scoring) in runs'
# worth of training: ``cut`` trades it against padding.
CHUNK_COST = 2


class NotStackable(ValueError):
    """A setup a stacked trainer refuses: it would couple members, or is not implemented.
    Raised before any training; ``recipes.training.keras_fit`` trains such setups."""


@dataclass(frozen=True)
class Invalid:
    """The group key of a setup whose configuration is invalid (``error``): it fails alone."""

    index: int
    error: str


@dataclass(frozen=True)
class Chunk:
    """Members that train as one program: ``key`` (the group's), ``members`` (setup
    indices, in order) and ``size``, the member count the program is built for (padded
    with copies of the first member; their results are dropped)."""

    key: object
    members: tuple
    size: int


@dataclass
class StackedResult:
    """``traces`` as ``fit`` returns them, and each run's final weights
    (``model.get_weights()`` order; None for failed runs)."""

    traces: list
    weights: list


# --- groups and chunks -----------------------------------------------------------------

def shapes(split):
    """(train rows, validation rows, features): the members of one chunk share them."""
    return len(split.X_train), len(split.X_val), split.X_train.shape[1]


def group(setups, splits, key):
    """``{(key, split shapes): [setup index, ...]}`` in first-appearance order.

    ``key(setup, split)``: what members of one program must share (hashable). Setups
    with equal keys and split sizes share a group, even on different splits (each
    member then gets its own data). ``NotStackable`` from ``key`` is raised; any other
    exception makes the setup a group of its own, keyed ``(Invalid(index, error), None)``.
    """
    groups = {}
    for i, (setup, split) in enumerate(zip(setups, splits)):
        try:
            k = (key(setup, split), shapes(split))
        except NotStackable:    # refused up front: the caller should use fit_keras
            raise
        except Exception as err:    # an invalid run fails alone, as in fit_keras
            k = (Invalid(i, f"{type(err).__name__}: {err}"), None)
        groups.setdefault(k, []).append(i)
    return groups


def max_members(config, n_train, n_val, cap=None):
    """The most members a chunk of ``config`` (anything with ``epochs`` and ``units``)
    may have on splits of ``n_train`` and ``n_val`` rows: at most ``cap`` (default
    ``MAX_MEMBERS``), and their recorded outputs within ``MAX_CHUNK_BYTES``."""
    per_member = 2 * 4 * config.epochs * (n_train + n_val) * config.units
    return int(max(1, min(cap or MAX_MEMBERS, MAX_CHUNK_BYTES // max(per_member, 1))))


def cut(n, cap, workers):
    """``(sizes, K)``: how a group of ``n`` members is cut into chunks compiled at size K.

    ``K`` is a power of two (or ``cap``), so that groups of different sizes share
    compiled programs (a new size costs a trace and a compile, ~0.3-1.2 s; a padding
    member one run's training, ~10-40 ms on digits). It minimizes the trained slots
    plus ``CHUNK_COST`` per chunk, with at least ``workers`` chunks when each would get
    ``MIN_SPLIT`` members; sizes are as even as possible.
    """
    sizes = [1 << p for p in range(max(cap, 1).bit_length()) if 1 << p < cap] + [cap]
    if n >= workers * MIN_SPLIT:
        sizes = [k for k in sizes if -(-n // k) >= workers] or sizes[:1]
    k = min(sizes, key=lambda k: (-(-n // k) * (k + CHUNK_COST), -k))
    m = -(-n // k)
    return [n // m + (1 if j < n % m else 0) for j in range(m)], k


def padded_chunks(groups, workers, cap=None, retag=None):
    """The groups cut by ``cut`` into chunks of one compiled size each, in order.

    ``cap``: the most members a chunk may have (``max_members``' cap);
    ``retag(key, members, K, shapes)``: the key the group's chunks carry (default: the
    group's own), e.g. the key with a choice that depends on the group's size."""
    chunks = []
    for (key, shape), members in groups.items():
        if isinstance(key, Invalid):
            chunks.append(Chunk(key, tuple(members), 1))
            continue
        n_train, n_val, _ = shape
        sizes, k = cut(len(members), max_members(key, n_train, n_val, cap), workers)
        key = retag(key, members, k, shape) if retag else key
        starts = itertools.accumulate([0] + sizes)
        chunks += [Chunk(key, tuple(members[a:a + size]), k) for a, size in zip(starts, sizes)]
    return chunks


def even_chunks(groups, cap=None):
    """The groups cut into as few chunks as ``max_members`` allows, of even sizes and
    unpadded (for trainers that compile nothing, so a chunk's size costs no compile)."""
    chunks = []
    for (key, shape), members in groups.items():
        if isinstance(key, Invalid):
            chunks.append(Chunk(key, tuple(members), 1))
            continue
        n_train, n_val, _ = shape
        count = -(-len(members) // max_members(key, n_train, n_val, cap))
        for part in np.array_split(np.asarray(members), count):
            chunks.append(Chunk(key, tuple(int(i) for i in part), len(part)))
    return chunks


def start_order(chunks):
    """``chunks`` in the order they start: each group's first chunk right after the
    previous group's first, so that one worker traces and compiles (or loads) the next
    configuration, a fixed cost of ~1 s, while another trains the current one. Results
    are still yielded in setup order; at most one group's first chunk waits."""
    groups = [list(g) for _, g in itertools.groupby(chunks, key=lambda c: c.key)]
    order = groups[0][:1] if groups else []
    for i, members in enumerate(groups):
        order += groups[i + 1][:1] if i + 1 < len(groups) else []
        order += members[1:]
    return order


def padded(items, size):
    """``items`` (a chunk's setups or splits) padded to ``size`` with copies of the first."""
    items = list(items)
    return items + [items[0]] * (size - len(items))


# --- training the chunks ---------------------------------------------------------------

def guarded(run_chunk, chunk, setups, splits, keep_outputs=False):
    """``run_chunk(key, setups, splits, size, keep_outputs) -> (traces, weights)`` on one
    chunk, with its failures recorded as failed runs so the grid carries on. Returns
    ``(traces, weights)``, one each per member."""
    if isinstance(chunk.key, Invalid):
        return [failed(chunk.key.error)], [None]
    try:
        return run_chunk(chunk.key, setups, splits, chunk.size, keep_outputs)
    except Exception as err:    # recorded as failed runs; the grid carries on
        msg = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=3)}"
        return [failed(msg) for _ in setups], [None] * len(setups)


def run_chunks(chunks, setups, splits, run_chunk, keep_outputs=False, workers=None):
    """Train ``chunks`` with ``run_chunk`` (see ``guarded``) on ``workers`` threads
    (default ``WORKERS``); yield ``(trace, final weights)`` per setup, in setup order,
    each as soon as its chunk and every earlier setup's are done, with the seconds the
    module docstring describes. At most ``workers + 1`` chunks train ahead of the caller."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    workers = workers or WORKERS
    last = time.perf_counter()
    chunks = iter(chunks)
    ready, weights, nxt, running = {}, {}, 0, {}
    pool = ThreadPoolExecutor(max_workers=workers)

    def submit():
        for chunk in chunks:
            running[pool.submit(guarded, run_chunk, chunk, [setups[i] for i in chunk.members],
                                [splits[i] for i in chunk.members], keep_outputs)] = chunk
            if len(running) > workers:
                return

    try:
        submit()
        while running:
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                members = running.pop(future).members
                got_t, got_w = future.result()
                now = time.perf_counter()
                charge, last = now - last, now
                for i, t, w in zip(members, got_t, got_w):
                    if t.status != "failed":
                        t.seconds = charge / len(members) / setups[i].settings.epochs * \
                            np.arange(1, len(t.loss["train"]) + 1)
                    ready[i], weights[i] = t, w
            submit()
            while nxt in ready:
                yield ready.pop(nxt), weights.pop(nxt)
                nxt += 1
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def collect(pairs):
    """A ``StackedResult`` of ``(trace, final weights)`` pairs, in order."""
    traces, weights = [], []
    for trace, w in pairs:
        traces.append(trace)
        weights.append(w)
    return StackedResult(traces=traces, weights=weights)


# --- a trained chunk -> traces ---------------------------------------------------------

def chunk_traces(res, setups, splits, final, predict, keep_outputs):
    """``(traces, final weights)`` of a trained chunk's members.

    ``res``: the per-epoch records, leading axis the members (``out_train``, ``out_val``
    (K, E, N, units), ``loss_train``, ``loss_val``, ``grad_norm`` (K, E)); ``final``: the
    final weights, layer by layer, leading axis the members (numpy); ``predict(x,
    members)``: the outputs of the members (indices) whose test split is ``x``,
    (len(members), N, units), called once per test split. Members past ``len(setups)``
    are padding.

    A member is cut at its first non-finite epoch (train loss or any output), as
    ``fit_keras`` records it, and marked diverged."""
    epochs = res["loss_train"].shape[1]
    ok = (np.isfinite(res["loss_train"]) & np.isfinite(res["out_train"]).all(axis=(2, 3))
          & np.isfinite(res["out_val"]).all(axis=(2, 3)))
    by_test = {}    # the test split's final outputs: one call per split, for its members
    for m in range(len(setups)):
        if splits[m].X_test is not None:
            by_test.setdefault(id(splits[m].X_test), (splits[m].X_test, []))[1].append(m)
    tests = {m: out for x, members in by_test.values()
             for m, out in zip(members, predict(x, members))}
    traces, weights = [], []
    for m in range(len(setups)):
        bad = np.flatnonzero(~ok[m])
        kept = epochs if bad.size == 0 else int(bad[0]) + 1
        outputs = {"train": res["out_train"][m, :kept], "val": res["out_val"][m, :kept]}
        if m in tests:
            outputs["test"] = tests[m][None]
        traces.append(member_trace(res, m, kept, outputs, setups[m].recipe, splits[m],
                                   keep_outputs, diverged=bool(bad.size)))
        weights.append([w[m] for w in final])
    return traces, weights


def member_trace(res, m, epochs, outputs, recipe, split, keep_outputs, diverged):
    """The trace of member ``m`` of a chunk's arrays ``res`` (leading axis: members):
    its first ``epochs`` losses and gradient norms; its ``outputs`` kept whole
    (``keep_outputs``) or scored and cut to the last epoch; ``diverged``: it stopped at
    ``epochs`` on a non-finite value."""
    trace = Trace(
        loss={"train": res["loss_train"][m, :epochs].astype(np.float64),
              "val": res["loss_val"][m, :epochs].astype(np.float64)},
        grad_norm=res["grad_norm"][m, :epochs].astype(np.float64))
    if keep_outputs:
        trace.outputs = outputs
    else:
        trace.metrics = scores(recipe, split, outputs)
        trace.outputs = {s: np.array(v[-1:]) for s, v in outputs.items()}
    if diverged:
        trace.status = "diverged"
        trace.error = f"non-finite loss or outputs at epoch {epochs}"
    return trace


# --- a backend's trainer ---------------------------------------------------------------

class StackedTrainer:
    """A backend's stacked trainer: the engine, plus what the backend says.

    Subclasses implement ``group_key`` and ``run_chunk`` and may override ``chunks``
    (default: ``padded_chunks`` then ``start_order``), ``start`` (first thing in every
    call, e.g. check the backend, configure the runtime) and ``finish`` (last thing,
    also after an error). ``workers`` and ``cap`` (the largest chunk) may be set on an
    instance. Every trainer has the same public methods: ``plan``, ``iter_train``,
    ``train``, ``iter_fit`` and ``fit``.
    """

    workers = WORKERS
    cap = MAX_MEMBERS

    def group_key(self, setup, split):
        """What members of one program must share (hashable; with ``epochs`` and
        ``units``, for ``max_members``). Raise ``NotStackable`` to refuse the setup."""
        raise NotImplementedError

    def run_chunk(self, key, setups, splits, size, keep_outputs):
        """Train one chunk of ``setups`` (its real members; pad to ``size`` with
        ``padded``): ``(traces without seconds, final weights)``, one each per setup
        (usually ``chunk_traces``)."""
        raise NotImplementedError

    def chunks(self, groups):
        """The chunks of ``group``'s groups, in the order they start."""
        return start_order(padded_chunks(groups, self.workers, self.cap))

    def start(self):
        """Called first in every ``iter_train``, before any setup is looked at."""

    def finish(self):
        """Called last in every ``iter_train``, also when it stops early."""

    def plan(self, setups, split):
        """The chunks ``setups`` train in (``Chunk``s: key, setup indices, size), in the
        order they start; ``split``: one Split, or one per setup."""
        setups = list(setups)
        return self.chunks(group(setups, per_setup(split, len(setups)), self.group_key))

    def iter_train(self, setups, split, keep_outputs=False):
        """Train ``setups`` on ``split`` (one Split, or one per setup); yield ``(trace,
        final weights)`` per setup, in order, each as soon as its chunk and every earlier
        setup's are done. ``keep_outputs``: traces keep every epoch's raw outputs
        (4 * epochs * rows * units bytes per run) instead of their scores and the final
        epoch's outputs."""
        setups = list(setups)
        splits = per_setup(split, len(setups))
        self.start()
        try:
            yield from run_chunks(self.plan(setups, splits), setups, splits, self.run_chunk,
                                  keep_outputs, self.workers)
        finally:
            self.finish()

    def train(self, setups, split, keep_outputs=False):
        """Every trace and final weights of ``iter_train``, in order (``StackedResult``)."""
        return collect(self.iter_train(setups, split, keep_outputs))

    def iter_fit(self, setups, split):
        """The trainer as ``trainers.trainer("stacked")``: one scored Trace per setup, in
        order, each yielded as soon as it is ready (so a runner stores it at once)."""
        for trace, _ in self.iter_train(setups, split):
            yield trace

    def fit(self, setups, split):
        """One Trace per setup, in order (``fit_keras``'s contract), many runs per chunk;
        the traces hold the common metrics and the final epoch's outputs."""
        return self.train(setups, split).traces
