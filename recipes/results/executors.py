"""Where a grid's groups of runs are trained: in this process, or as Ray tasks.

``runner.run`` turns the runs a store lacks into ``Task``s, one per group
(``grid.groups``: setups of one dataset, or of one recipe on one dataset), and
hands them to an executor, a function of ``EXECUTORS``::

    executor(tasks, done, address=None)

It trains every task with ``train_group``, which writes each run to the
results store as soon as its trainer returns it, and calls ``done(n)`` as
``n`` runs are written (the progress bar). Every executor keeps the store's
resume guarantees: a run is written in one transaction once its training
finished, so a run that finished is never redone, and a run killed midway is
not stored and is trained again by the next ``run``.

- ``local``: the tasks one after the other in this process (the default).
- ``ray``: one Ray task per group. Each task trains its group and writes its
  runs to the *same* store itself: the store is just a path (an SQLite file in
  WAL mode with a busy timeout, each write one short transaction), so tasks on
  one machine share it safely. Across machines, the results directory must be
  on a filesystem every node mounts at the same path (and ``recipes`` must be
  installed on every node). Without ``address`` a local Ray instance is
  started for the call and shut down afterwards; with one (``"auto"``,
  ``"ray://host:10001"``, ...) the tasks go to that cluster. A Ray session
  already started in this process (``ray.init``) is used as it is.

Backends: every task holds runs of one Keras backend (``Settings.backend``).
Keras fixes its backend when it is first imported, so a task whose backend is not
this process's is trained in a fresh Python process with ``KERAS_BACKEND`` set
(``train_elsewhere``: ``python -m recipes.results.executors TASKS``; the local executor
sends all of a backend's tasks to one such process), which writes its runs to the same
store; its progress comes back one line per run.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..extras import require
from ..messages import expected
from ..training.settings import current_backend
from ..training.trainers import check, fallback_reason, trainer_of
from ..training.trainers import trainer as trainer_function
from .grid import groups, run_config, run_id
from .records import record, versions
from .store import Store


@dataclass(frozen=True, eq=False)
class Task:
    """One group of a grid: what ``train_group`` takes."""

    experiment: object
    dataset: object
    setups: tuple
    splits: tuple     # one Split per setup (shared by the setups of one seed)
    trainer: str
    out: str

    def __len__(self):
        return len(self.setups)

    @property
    def backend(self):
        """The Keras backend of the task's runs (one per task; this process's when empty)."""
        return self.setups[0].settings.backend if self.setups else current_backend()


def _by_backend(group):
    """A group of ``(setup, split)`` pairs cut into one group per backend."""
    found = {}
    for pair in group:
        found.setdefault(pair[0].settings.backend, []).append(pair)
    return list(found.values())


def tasks(experiment, work, out, trainer, by="recipe"):
    """One ``Task`` per group of ``grid.pending``'s work (``by``: a key of ``grid.GROUP_BY``);
    ``out`` as an absolute store path (a task may run in another process, with another
    working directory)."""
    path = str(Store(out).path.resolve())
    return [Task(experiment, ds, tuple(s for s, _ in group), tuple(sp for _, sp in group),
                 trainer, path)
            for ds, todo in work for whole in groups(todo, by) for group in _by_backend(whole)]


def train_group(experiment, dataset, splits, setups, trainer, out, env=None, done=None):
    """Train one group of setups (each on its split, one per setup) and write each run
    to the store at ``out`` as soon as the trainer returns it; the unit an executor runs.

    Only the runs this process claims are trained (``Store.claim``: no result stored,
    no live claim of another process), so a retried group (a Ray task whose worker
    died) or a second process running the same grid never trains a run twice; a run
    another process stored meanwhile is kept as it is (``write(skip=True)``). ``env``:
    the ``versions()`` to record (computed here when None, i.e. in the process that
    trains). ``done(1)`` is called after each write. Returns the number of runs written.
    """
    trainer_function(trainer)   # fails on an unknown trainer before any work
    trainer = check(trainer)
    store = Store(out)
    ids = [run_id(run_config(experiment, dataset, s, trainer)) for s in setups]
    mine = store.claim(ids)
    chosen = set(mine)
    pairs = [(s, sp) for s, sp, i in zip(setups, splits, ids) if i in chosen]
    if not pairs:
        return 0
    written = 0
    try:
        env = versions() if env is None else env
        for name, part in _by_trainer(pairs, trainer):
            setups, splits = [s for s, _ in part], [sp for _, sp in part]
            for setup, split, trace in zip(setups, splits,
                                           trainer_function(name)(setups, splits)):
                written += store.write(*record(experiment, dataset, split, setup, trace,
                                               trainer, env), skip=True)
                if done is not None:
                    done(1)
    finally:
        store.release(mine)
    return written


_SAID = set()   # the fallback lines this process has printed


def _by_trainer(pairs, trainer):
    """``(trainer name, pairs)`` per trainer that trains ``pairs`` when ``trainer`` is
    asked for (``trainer_of``), in order of first appearance; each reason for falling
    back to plain fit is said once per process on stderr."""
    found = {}
    for pair in pairs:
        name = trainer_of(trainer, pair[0])
        if name != trainer:
            line = fallback_reason(pair[0])
            if line and line not in _SAID:
                _SAID.add(line)
                print(f"recipes: {line}", file=sys.stderr, flush=True)
        found.setdefault(name, []).append(pair)
    return list(found.items())


# --- another backend: another process ---------------------------------------------

def train_elsewhere(tasks, done=None):
    """Train ``tasks`` (one task, or a list of tasks of one backend) in one new Python
    process whose Keras backend is theirs, one task after the other (a process start,
    importing Keras and the backend, costs seconds: one per backend, not per task).

    The tasks go to the worker as a pickle in a temporary file; the worker writes their
    runs to their stores and prints one line per run written, which calls ``done(1)``
    here. A worker that fails raises ``RuntimeError`` with the end of its error output.
    Returns the number of runs written.
    """
    import recipes

    tasks = [tasks] if isinstance(tasks, Task) else list(tasks)
    backends = {t.backend for t in tasks}
    if len(backends) != 1:
        raise ValueError(f"Expected the tasks of one backend. Received: backends={sorted(backends)}")
    task = tasks[0]
    root = str(Path(recipes.__file__).resolve().parent.parent)
    env = dict(os.environ, KERAS_BACKEND=task.backend,
               PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    written = 0
    with tempfile.TemporaryDirectory(prefix="recipes-task-") as tmp:
        path, log = Path(tmp) / "task.pickle", Path(tmp) / "stderr.txt"
        path.write_bytes(pickle.dumps(tasks))
        with open(log, "w") as err:
            proc = subprocess.Popen([sys.executable, "-m", "recipes.results.executors",
                                     str(path)], stdout=subprocess.PIPE, stderr=err, text=True,
                                    env=env, cwd=root)
            for line in proc.stdout:
                if line.startswith(_DONE):
                    written += 1
                    if done is not None:
                        done(1)
            code = proc.wait()
        if code != 0:
            tail = log.read_text()[-3000:]
            raise RuntimeError(f"The {task.backend} worker training {sum(map(len, tasks))} runs "
                               f"of {task.experiment.name!r} failed (exit code {code}):\n{tail}")
    return written


_DONE = "recipes: run written"


def train_task(task, env=None, done=None):
    """Train one task here when its backend is this process's, else in a process of
    its own (``train_elsewhere``); returns the number of runs written."""
    if task.backend != current_backend():
        return train_elsewhere(task, done)
    return train_group(task.experiment, task.dataset, list(task.splits), list(task.setups),
                       task.trainer, task.out, env, done)


def _worker(path):
    """``python -m recipes.results.executors TASKS``: train a pickled list of tasks, one
    line per run."""
    tasks = pickle.loads(Path(path).read_bytes())
    for task in tasks:
        if task.backend != current_backend():
            raise SystemExit(f"Expected KERAS_BACKEND={task.backend!r} for this task. "
                             f"Received: {current_backend()!r}")
    for task in tasks:
        train_group(task.experiment, task.dataset, list(task.splits), list(task.setups),
                    task.trainer, task.out, done=lambda n: print(_DONE, flush=True))


# --- local ------------------------------------------------------------------

def local(tasks, done, address=None):
    """Train the tasks one after the other: this process's backend's here, then each
    other backend's in one process of its own (``train_elsewhere``)."""
    if address is not None:
        raise ValueError(f"The local executor takes no address. Received: address={address!r} "
                         f"(did you mean --executor ray?)")
    here = current_backend()
    env = versions() if any(t.backend == here for t in tasks) else {}
    elsewhere = {}
    for t in tasks:
        if t.backend == here:
            train_task(t, env, done)
        else:
            elsewhere.setdefault(t.backend, []).append(t)
    for backend_tasks in elsewhere.values():
        train_elsewhere(backend_tasks, done)


# --- ray ----------------------------------------------------------------------

def _train_task(experiment, dataset, setups, trainer, out, *splits):
    """The body of a Ray task (module-level, so workers import it by name). The splits
    come last, as arguments of their own, so that Ray resolves each reference."""
    return train_task(Task(experiment, dataset, tuple(setups), tuple(splits), trainer, out))


def ray_executor(tasks, done, address=None, num_cpus=None):
    """One Ray task per group; ``done(len(group))`` as each task finishes.

    ``num_cpus``: CPUs of the local instance started when no Ray session is
    running and no ``address`` is given (default: all of this machine's).
    Each dataset and each split is put in the object store once and shared by
    its tasks. When a task fails, or on Ctrl-C, the remaining tasks are cancelled
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
            r = remote.remote(t.experiment, ref(t.dataset), t.setups, t.trainer, t.out,
                              *[ref(s) for s in t.splits])
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

# Executor -> how its tasks group setups (a key of grid.GROUP_BY). Locally one task per
# dataset lets the stacked trainer keep both cores busy (a run in flight is then
# any pending run of that dataset); on Ray, one task per recipe spreads the work.
GROUPING = {"local": "dataset", "ray": "recipe"}


def executor_name(function):
    """The name of an executor function in ``EXECUTORS`` (None for a user's own)."""
    return next((n for n, f in EXECUTORS.items() if f is function), None)


def executor_function(name):
    """The executor called ``name``; fails now if it is unknown or its extra is missing."""
    if callable(name):
        return name
    if name not in EXECUTORS:
        raise ValueError(expected(EXECUTORS, "executor", name))
    if name == "ray":
        require("ray", "ray", "The ray executor")
    return EXECUTORS[name]


if __name__ == "__main__":
    _worker(sys.argv[1])
