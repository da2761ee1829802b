"""Where a grid's chunks are trained: in this process, or as Ray tasks.

``runner.run`` turns the runs a store lacks into ``Task``s, one per chunk
(``runner.chunks``: setups of one recipe on one dataset, which the stacked
trainer trains in one graph), and hands them to an executor, a function of
``EXECUTORS``::

    executor(tasks, done, address=None)

It trains every task with ``runner.train_chunk``, which writes each run to the
results store as soon as its chunk is trained, and calls ``done(n)`` as ``n``
runs are written (the progress bar). Every executor keeps the store's resume
guarantees: a run is written in one transaction once its training finished,
so a chunk that finished is never redone, and a run killed midway is not
stored and is trained again by the next ``run``.

- ``local``: the chunks one after the other in this process (the default).
- ``ray``: one Ray task per chunk. Each task trains its chunk and writes its
  runs to the *same* store itself: the store is just a path (an SQLite file in
  WAL mode with a busy timeout, each write one short transaction), so tasks on
  one machine share it safely. Across machines, the results directory must be
  on a filesystem every node mounts at the same path (and ``recipes`` must be
  installed on every node). Without ``address`` a local Ray instance is
  started for the call and shut down afterwards; with one (``"auto"``,
  ``"ray://host:10001"``, ...) the tasks go to that cluster. A Ray session
  already started in this process (``ray.init``) is used as it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..export.tracking import MissingExtra, require  # noqa: F401  (MissingExtra: re-exported)
from ..results.runner import chunks, train_chunk, versions
from ..results.store import Store


@dataclass(frozen=True, eq=False)
class Task:
    """One chunk of a grid: what ``runner.train_chunk`` takes."""

    experiment: object
    dataset: object
    split: object
    setups: tuple
    trainer: str
    out: str

    def __len__(self):
        return len(self.setups)


def tasks(experiment, work, out, trainer, by="recipe"):
    """One ``Task`` per chunk of ``runner.pending``'s work (``by``: a key of ``runner.GROUP_BY``);
    ``out`` as an absolute store path (a task may run in another process, with another
    working directory)."""
    path = str(Store(out).path.resolve())
    return [Task(experiment, ds, split, tuple(chunk), trainer, path)
            for ds, split, todo in work for chunk in chunks(todo, by)]


# --- local ------------------------------------------------------------------

def local(tasks, done, address=None):
    """Train the tasks one after the other in this process."""
    if address is not None:
        raise ValueError(f"The local executor takes no address. Received: address={address!r} "
                         f"(did you mean --executor ray?)")
    env = versions() if tasks else {}
    for t in tasks:
        train_chunk(t.experiment, t.dataset, t.split, list(t.setups), t.trainer, t.out, env, done)


# --- ray ----------------------------------------------------------------------

def _train_task(experiment, dataset, split, setups, trainer, out):
    """The body of a Ray task (module-level, so workers import it by name)."""
    return train_chunk(experiment, dataset, split, list(setups), trainer, out)


def ray_executor(tasks, done, address=None, num_cpus=None):
    """One Ray task per chunk; ``done(len(chunk))`` as each task finishes.

    ``num_cpus``: CPUs of the local instance started when no Ray session is
    running and no ``address`` is given (default: all of this machine's).
    Each dataset's split is put in the object store once and shared by its
    tasks. When a task fails, or on Ctrl-C, the remaining tasks are cancelled
    (what they had written stays) and the error is raised.
    """
    ray = require("ray", "ray", "The ray executor")
    started = False
    if not ray.is_initialized():
        if address is None:
            ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False,
                     log_to_driver=True)
        else:
            ray.init(address=address)
        started = True
    try:
        if not tasks:
            return
        remote = ray.remote(_train_task)
        shared = {}  # id(obj) -> ObjectRef: one copy of each dataset and split

        def ref(obj):
            if id(obj) not in shared:
                shared[id(obj)] = ray.put(obj)
            return shared[id(obj)]

        size = {}
        for t in tasks:
            r = remote.remote(t.experiment, ref(t.dataset), ref(t.split), t.setups, t.trainer, t.out)
            size[r] = len(t)
        waiting = list(size)
        try:
            while waiting:
                ready, waiting = ray.wait(waiting, num_returns=1)
                for r in ready:
                    ray.get(r)  # raises the task's error here
                    done(size[r])
        except BaseException:
            for r in waiting:
                ray.cancel(r)
            raise
    finally:
        if started:
            ray.shutdown()


EXECUTORS = {"local": local, "ray": ray_executor}

# Executor -> how its tasks group setups (a key of runner.GROUP_BY). Locally one task per
# dataset lets the stacked trainer keep both cores busy (a run in flight is then
# any pending run of that dataset); on Ray, one task per recipe spreads the work.
CHUNKING = {"local": "dataset", "ray": "recipe"}


def executor_function(name):
    """The executor called ``name``; fails now if it is unknown or its extra is missing."""
    if callable(name):
        return name
    if name not in EXECUTORS:
        raise ValueError(f"Expected one of {set(EXECUTORS)}. Received: executor={name!r}")
    if name == "ray":
        require("ray", "ray", "The ray executor")
    return EXECUTORS[name]
