"""Hand a results store to the tracking tools users already have: MLflow and TensorBoard.

- ``to_mlflow(results)``: one MLflow run per run of a results store, with its
  settings as params, its per-epoch metrics (``train_loss``, ``val_accuracy``,
  ... with the epoch as step), tags naming it and its status. The default
  tracking URI is an SQLite file beside the results (``RESULTS/mlflow.db``):
  no server, no network. Runs already exported to an MLflow experiment (found
  by their ``results_run_id`` tag) are skipped, so exporting again adds only
  the new runs.
- ``to_tensorboard(results, logdir)``: event files per run under
  ``logdir/<experiment>/<dataset>/<recipe>/seed<k>/`` with one scalar per
  epoch and metric (tag ``split/metric``), and the run's settings for the
  HParams dashboard. Written with TensorBoard's own protos and event writer
  (no TensorFlow import); runs already written there are skipped.

MLflow and TensorBoard are optional extras (``pip install
'keras-loss-recipes[mlflow]'``, ``[tensorboard]``); without them these
functions raise ``MissingExtra`` saying what to install.
"""

from __future__ import annotations

import logging
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from ..extras import MissingExtra, require  # noqa: F401  (MissingExtra: re-exported)
from ..results.store import TIDY_COLUMNS, Store
from ..training.settings import Settings

__all__ = ["MissingExtra", "check_tracking_uri", "params", "require", "to_mlflow",
           "to_tensorboard"]


# --- what a run is, flattened -------------------------------------------------------

# recipe fields kept as params (the catalog's prose, rationale and reference, is left out);
# the recipe's name is "recipe" and its Keras metrics "recipe_metrics"
RECIPE_PARAMS = ("problem", "role", "activation", "loss", "from_logits", "encoding", "units",
                 "decoding", "target")
SETTINGS = ("seed",) + Settings.names()
TAGS = ("dataset", "recipe", "seed", "role", "problem", "trainer", "status")
MLFLOW_STATUS = {"ok": "FINISHED", "diverged": "FAILED", "failed": "FAILED"}
MAX_ERROR = 5000  # characters of error text kept in a tag


def params(run):
    """A run's settings as one flat dict of bools, numbers and strings.

    ``run``: a row of ``Store.runs()`` (its ``config`` parsed). Keys: experiment,
    dataset, trainer, recipe (the name), the recipe's catalog fields
    (``RECIPE_PARAMS``), recipe_metrics, ``SETTINGS`` (hidden as "64,32"), and
    goal_metric / goal_value when the experiment has a goal.
    """
    config = run["config"] or {}
    recipe = config.get("recipe") or {}
    flat = {"experiment": run["experiment"], "dataset": run["dataset"], "trainer": run["trainer"],
            "recipe": recipe.get("name", run["recipe"])}
    for key in RECIPE_PARAMS:
        if key in recipe:
            flat[key] = recipe[key]
    if "from_logits" in flat:
        flat["from_logits"] = str(flat["from_logits"]).lower() == "true"
    if "metrics" in recipe:
        flat["recipe_metrics"] = recipe["metrics"]
    for key in SETTINGS:
        if key in config:
            flat[key] = config[key]
    if "hidden" in flat:
        flat["hidden"] = ",".join(str(h) for h in flat["hidden"])
    for key, value in (config.get("goal") or {}).items():
        flat[f"goal_{key}"] = value
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in flat.items()}


def _tags(run):
    tags = {k: str(run[k]) for k in TAGS}
    tags["results_run_id"] = run["run"]
    if isinstance(run["error"], str) and run["error"]:
        tags["error"] = run["error"][:MAX_ERROR]
    return tags


def _times(run, history):
    """(start, end, {epoch: wall time}) in seconds since the epoch, from finished_at and
    the cumulative 'seconds' the run recorded per epoch."""
    try:
        end = datetime.fromisoformat(run["finished_at"]).astimezone(timezone.utc).timestamp()
    except (TypeError, ValueError):
        end = datetime.now(timezone.utc).timestamp()
    seconds = run["seconds"] if isinstance(run["seconds"], (int, float)) and math.isfinite(
        run["seconds"]) else 0.0
    start = end - seconds
    clock = history[(history.split == "train") & (history.metric == "seconds")]
    at = {int(e): start + (v if math.isfinite(v) else 0.0) for e, v in zip(clock.epoch, clock.value)}
    return start, end, at


def _load(results, filters):
    store = Store(results, create=False)
    runs = store.runs(**filters)
    history = store.history(**{k: v for k, v in filters.items() if k in TIDY_COLUMNS})
    history = history[history.run.isin(set(runs.run))]
    return store, runs, dict(tuple(history.groupby("run", sort=False)))


def _unwritable(path, folder):
    """``(OSError subclass, why)`` when ``path`` cannot be written, else None: a folder
    (``folder``) or a file, there or to be made. The first folder above it that exists
    must be a folder this user can write in (``os.access``, which also sees a read-only
    file system)."""
    path = Path(path).absolute()
    kind, other = ("folder", "file") if folder else ("file", "folder")
    if path.exists():
        if path.is_dir() != folder:
            return (NotADirectoryError if folder else IsADirectoryError), \
                f"it is a {other}, expected a {kind}"
        if not os.access(path, os.W_OK):
            return PermissionError, "it is read-only"
        if not folder and not os.access(path.parent, os.W_OK | os.X_OK):
            return PermissionError, f"its folder {path.parent} is read-only"
        return None
    above = next(p for p in path.parents if p.exists())
    if not above.is_dir():
        return NotADirectoryError, f"{above} is a file, expected a folder"
    if not os.access(above, os.W_OK | os.X_OK):
        return PermissionError, f"the folder {above} is read-only"
    return None


def _empty_history():
    return pd.DataFrame({"epoch": pd.Series(dtype="int64"), "split": pd.Series(dtype=object),
                         "metric": pd.Series(dtype=object), "value": pd.Series(dtype=float)})


# --- MLflow -----------------------------------------------------------------------

@contextmanager
def _quiet(*names):
    """Silence chatty loggers (MLflow's database migrations) for the duration."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def tracking_path(uri):
    """The local file (``sqlite:///PATH``) or folder (``file:PATH``, a plain path) an MLflow
    tracking URI writes to, as ``(path, is_folder)``; None for a server (http, databricks...)."""
    scheme = urlparse(uri).scheme
    if uri.startswith("sqlite:///"):
        return Path(uri[len("sqlite:///"):].partition("?")[0]), False
    if scheme == "file":
        from urllib.request import url2pathname

        return Path(url2pathname(urlparse(uri).path)), True
    if not scheme or len(scheme) == 1:   # a plain path (C:\\... on Windows)
        return Path(uri), True
    return None


def check_tracking_uri(uri, results):
    """Raise an ``OSError`` (``PermissionError`` for a read-only place), before any work,
    when the local MLflow store at ``uri`` cannot be written, saying how to write it
    elsewhere; else create the folder of a SQLite store's file."""
    found = tracking_path(uri)
    if found is None:
        return
    path, folder = found
    found = _unwritable(path, folder)
    if found:
        error, why = found
        raise error(
            f"Cannot write the MLflow store {path} (tracking URI {uri}): {why}. The results "
            f"{results} are only read and may stay read-only: write the MLflow store "
            f"elsewhere, with recipes export {results} --to mlflow --tracking-uri "
            f"sqlite:///OTHER/FOLDER/mlflow.db (to_mlflow(..., tracking_uri=...)).")
    if not folder:   # SQLite makes the file, not its folder (MLflow makes a file store's)
        path.parent.mkdir(parents=True, exist_ok=True)


def default_tracking_uri(results):
    """``sqlite:///RESULTS/mlflow.db``: an MLflow store beside the results store."""
    return f"sqlite:///{Store(results, create=False).path.parent.resolve() / 'mlflow.db'}"


def _experiment_id(client, name, artifacts):
    found = client.get_experiment_by_name(name)
    if found is None:
        location = (artifacts / name).as_uri() if artifacts else None
        return client.create_experiment(name, artifact_location=location)
    if found.lifecycle_stage != "active":
        raise ValueError(f"MLflow experiment {name!r} is deleted; restore it or export with "
                         f"--experiment OTHER_NAME")
    return found.experiment_id


def _exported(client, experiment_id):
    """(results_run_id tags of the finished runs of an MLflow experiment, MLflow ids of its
    runs still RUNNING: the leftovers of an export that was killed midway)."""
    done, stale, token = set(), [], None
    while True:
        page = client.search_runs([experiment_id], max_results=1000, page_token=token)
        for r in page:
            if "results_run_id" not in r.data.tags:
                continue
            if r.info.status == "RUNNING":
                stale.append(r.info.run_id)
            else:
                done.add(r.data.tags["results_run_id"])
        token = page.token
        if not token:
            return done, stale


def _mlflow_run(client, entities, experiment_id, run, history):
    """One MLflow run in three calls (create, one log_batch per 1000 values, terminate); it
    stays RUNNING until the last, so an export killed midway is redone by the next."""
    Metric, Param = entities.Metric, entities.Param
    start, end, at = _times(run, history)
    name = f"{run['dataset']}/{run['recipe']}/seed{run['seed']}"
    created = client.create_run(experiment_id, start_time=int(start * 1000), tags=_tags(run),
                                run_name=name)
    run_id = created.info.run_id
    try:
        values = [Param(k, str(v)) for k, v in params(run).items()]
        values += [Metric(f"{s}_{m}", float(v), int(at.get(int(e), end) * 1000), int(e))
                   for e, s, m, v in zip(history.epoch, history.split, history.metric,
                                         history.value)]
        for i in range(0, len(values), 1000):  # MLflow's limit per batch (params: 100, first)
            batch = values[i:i + 1000]
            client.log_batch(run_id, params=[v for v in batch if isinstance(v, Param)],
                             metrics=[v for v in batch if isinstance(v, Metric)])
        client.set_terminated(run_id, MLFLOW_STATUS[run["status"]], end_time=int(end * 1000))
    except BaseException:
        client.delete_run(run_id)
        raise
    return run_id


def to_mlflow(results, tracking_uri=None, experiment=None, **filters):
    """Export the runs of a results store to MLflow; returns {"exported": n, "skipped": n,
    "tracking_uri": uri, "experiments": {name: id}}.

    ``tracking_uri``: default ``default_tracking_uri(results)``. ``experiment``:
    the MLflow experiment to put every run in (default: one per results
    experiment, named after it). ``filters``: ``Store.runs`` filters, e.g.
    ``dataset="iris"``. A local tracking store that cannot be written is a
    ``PermissionError`` before any work (``check_tracking_uri``). Params come from
    ``params(run)``; metrics are
    ``<split>_<metric>`` with the epoch as step and the run's wall time as
    timestamp; tags are ``TAGS`` plus results_run_id and the error text; the
    status is FINISHED for ok runs and FAILED for diverged and failed ones.
    """
    store, artifacts = Store(results, create=False), None
    if tracking_uri is None:
        tracking_uri = default_tracking_uri(store.path)
        artifacts = store.path.parent.resolve() / "mlartifacts"
    check_tracking_uri(tracking_uri, results)
    mlflow = require("mlflow", "mlflow", "Exporting to MLflow")
    entities = require("mlflow.entities", "mlflow", "Exporting to MLflow")
    store, runs, histories = _load(results, filters)
    with _quiet("alembic", "mlflow.store.db.utils", "mlflow.store.sqlalchemy_store",
                "mlflow.tracking.fluent"):
        client = mlflow.MlflowClient(tracking_uri=tracking_uri)
        exported, skipped, ids = 0, 0, {}
        for name, group in runs.groupby(runs.experiment if experiment is None else
                                        pd.Series(experiment, index=runs.index), sort=True):
            ids[name] = _experiment_id(client, name, artifacts)
            done, stale = _exported(client, ids[name])
            for run_id in stale:
                client.delete_run(run_id)
            for run in group.to_dict("records"):
                if run["run"] in done:
                    skipped += 1
                    continue
                _mlflow_run(client, entities, ids[name], run, histories.get(run["run"], _empty_history()))
                exported += 1
    return {"exported": exported, "skipped": skipped, "tracking_uri": tracking_uri,
            "experiments": ids}


# --- TensorBoard ------------------------------------------------------------------

def _safe(part):
    """A path component from a name (no separators, no leading dots)."""
    text = "".join(c if c.isalnum() or c in "-_.=" else "_" for c in str(part)).lstrip(".")
    return text or "_"


def run_dirs(runs):
    """run id -> relative log directory ``<experiment>/<dataset>/<recipe>/seed<k>``; runs that
    would share one (e.g. the same grid trained by two trainers) get ``-<trainer>``, then
    ``-<run id>``, appended."""
    base = {r["run"]: Path(_safe(r["experiment"]), _safe(r["dataset"]), _safe(r["recipe"]),
                           f"seed{int(r['seed'])}") for r in runs.to_dict("records")}
    trainer = dict(zip(runs.run, runs.trainer))
    for suffix in (lambda rid: f"-{_safe(trainer[rid])}", lambda rid: f"-{rid}"):
        counts = pd.Series([str(p) for p in base.values()]).value_counts()
        clash = {rid for rid, p in base.items() if counts[str(p)] > 1}
        for rid in clash:
            base[rid] = base[rid].with_name(base[rid].name + suffix(rid))
    return base


def _hparams_events(hparams, run_id, start, end, ok):
    """Session start and end summaries for the HParams dashboard, built from TensorBoard's
    protos (its own helpers for the end summary import TensorFlow)."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
    from tensorboard.plugins.hparams.summary_v2 import hparams_pb

    hp = hparams_pb(hparams, trial_id=run_id, start_time_secs=start)
    data = plugin_data_pb2.HParamsPluginData(session_end_info=plugin_data_pb2.SessionEndInfo(
        status=api_pb2.STATUS_SUCCESS if ok else api_pb2.STATUS_FAILURE, end_time_secs=end))
    end_pb = summary_pb2.Summary()
    end_pb.value.add(tag=metadata.SESSION_END_INFO_TAG,
                     metadata=metadata.create_summary_metadata(data), tensor=metadata.NULL_TENSOR)
    return hp, end_pb


def to_tensorboard(results, logdir, **filters):
    """Write TensorBoard event files for the runs of a results store; returns
    {"written": n, "skipped": n, "logdir": path}.

    One directory per run (``run_dirs``) holding one event file, named after the
    run id: a scalar per epoch and metric with tag ``<split>/<metric>`` (step =
    epoch, wall time = the run's own clock), and the run's ``params`` as
    hparams (session end status: success for ok runs, failure otherwise). A run
    whose event file is already there is skipped (a run interrupted midway leaves none:
    ``_write_events``). A ``logdir`` that is a file, or that this user cannot write,
    is an ``OSError`` before any work.
    """
    require("tensorboard.plugins.hparams.summary_v2", "tensorboard", "Exporting to TensorBoard")
    logdir = Path(logdir)
    found = _unwritable(logdir, folder=True)
    if found:
        error, why = found
        raise error(
            f"Cannot write TensorBoard event files under {logdir}: {why}. Give a folder "
            f"this user can write in (recipes export RESULTS --to tensorboard DIR; DIR is "
            f"created if needed).")
    _, runs, histories = _load(results, filters)
    written = skipped = 0
    for run_id, rel in run_dirs(runs).items():
        run = runs[runs.run == run_id].iloc[0].to_dict()
        folder = logdir / rel
        suffix = f".{run_id}"
        if folder.is_dir() and any(folder.glob(f"events.out.tfevents.*{suffix}")):
            skipped += 1
            continue
        history = histories.get(run_id, _empty_history())
        _write_events(folder, suffix, run_id, run, history)
        written += 1
    return {"written": written, "skipped": skipped, "logdir": logdir}


PARTIAL = ".partial"   # the suffix of an event file being written


def _write_events(folder, suffix, run_id, run, history):
    """One run's event file, ``events.out.tfevents.*<suffix>``: written as ``...<suffix>.partial``
    and renamed once complete, so that a run interrupted midway (Ctrl-C, kill -9) is never
    taken as written; a ``.partial`` file left by an earlier export is removed first."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.plugins.scalar.summary_v2 import scalar_pb
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    for stale in folder.glob(f"events.out.tfevents.*{suffix}{PARTIAL}") if folder.is_dir() else ():
        stale.unlink()
    start, end, at = _times(run, history)
    writer = EventFileWriter(str(folder), filename_suffix=suffix + PARTIAL)
    try:
        for summary in _hparams_events(params(run), run_id, start, end, run["status"] == "ok"):
            writer.add_event(event_pb2.Event(wall_time=start, step=0, summary=summary))
        for e, s, m, v in zip(history.epoch, history.split, history.metric, history.value):
            writer.add_event(event_pb2.Event(wall_time=at.get(int(e), end), step=int(e),
                                             summary=scalar_pb(f"{s}/{m}", float(v))))
    except BaseException:
        writer.close()
        for partial in folder.glob(f"events.out.tfevents.*{suffix}{PARTIAL}"):
            partial.unlink()
        raise
    writer.close()
    for partial in folder.glob(f"events.out.tfevents.*{suffix}{PARTIAL}"):
        os.replace(partial, partial.with_name(partial.name[:-len(PARTIAL)]))
