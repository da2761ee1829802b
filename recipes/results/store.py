"""The embedded results store: one SQLite file per results directory.

``Store(dir)`` opens (or creates) ``dir/results.sqlite``. It holds two tables
and one view:

- ``runs``: one row per (dataset, recipe, seed, ...) run, keyed by ``run``, a
  stable id the caller computes from the run's config.
- ``history``: one row per (run, epoch, split, metric) with its ``value``; NaN
  is stored as NULL and read back as NaN.
- ``tidy``: the long table, history joined with the run columns that name it
  (``TIDY_COLUMNS``), one observation per row.

Each ``write`` is one transaction (the ``runs`` row and all its history), so
an interrupted grid (Ctrl-C, ``kill -9``) loses at most the run in flight and
never leaves a partial run; ``finished()`` is the set of ids to skip when the
grid resumes. The file is in WAL mode with a busy timeout, so several processes
may write to the same store. A ``Store`` keeps one connection per process and
thread (opened on first use; a write costs ~0.1 ms instead of a new connection's
~1 ms) and pickles to worker processes as a plain path. Connections use
``synchronous = NORMAL``: in WAL mode a commit then waits for no disk flush, and a
killed process still never loses a committed run (a power cut may lose the last
few commits, never corrupt the file).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from ..files import atomic_write
from ..messages import expected
from ..training.settings import Settings, condition

FILENAME = "results.sqlite"
TIMEOUT = 60.0  # seconds a writer waits for another process's lock

RUN_COLUMNS = ("run", "experiment", "dataset", "problem", "target", "recipe", "role", "seed",
               "trainer", "status", "error", "epochs", "seconds", "config", "versions",
               "finished_at")
HISTORY_COLUMNS = ("run", "epoch", "split", "metric", "value")
KEY_COLUMNS = ("run", "experiment", "dataset", "problem", "target", "recipe", "role", "seed",
               "trainer")
TIDY_COLUMNS = KEY_COLUMNS + ("epoch", "split", "metric", "value")
# added to both tables from each run's config: its condition and one column per setting
CONDITION_COLUMNS = ("condition",) + Settings.names()
# what ``runs()`` and ``history()`` return ("epochs" in runs is the epochs a run finished)
RUNS_READ = RUN_COLUMNS + tuple(c for c in CONDITION_COLUMNS if c not in RUN_COLUMNS)
HISTORY_READ = TIDY_COLUMNS + CONDITION_COLUMNS
STATUSES = ("ok", "diverged", "failed")
SPLITS = ("train", "val", "test")
EXPORTS = (".csv", ".parquet")
JSON_COLUMNS = ("config", "versions")

SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS runs (
    run TEXT PRIMARY KEY NOT NULL,
    experiment TEXT, dataset TEXT, problem TEXT, target TEXT, recipe TEXT, role TEXT,
    seed INTEGER, trainer TEXT,
    status TEXT NOT NULL CHECK (status IN {STATUSES}),
    error TEXT, epochs INTEGER, seconds REAL,
    config TEXT, versions TEXT, finished_at TEXT
);
{{history}}
{{tidy}}
COMMIT;
"""
HISTORY = f"""CREATE TABLE IF NOT EXISTS history (
    run TEXT NOT NULL REFERENCES runs(run),
    epoch INTEGER NOT NULL,
    split TEXT NOT NULL CHECK (split IN {SPLITS}),
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run, epoch, split, metric)
) WITHOUT ROWID;"""
TIDY = f"""CREATE VIEW IF NOT EXISTS tidy AS
    SELECT {", ".join("r." + c for c in KEY_COLUMNS)}, h.epoch, h.split, h.metric, h.value
    FROM history AS h JOIN runs AS r ON r.run = h.run;"""
SCHEMA = SCHEMA.format(history=HISTORY, tidy=TIDY)
# Stores written before the test split existed allow only train and val rows; the first
# write of a test row rebuilds their history table with the current split list.
UPGRADE = f"""
ALTER TABLE history RENAME TO history_old;
DROP VIEW tidy;
{HISTORY}
INSERT INTO history SELECT * FROM history_old;
DROP TABLE history_old;
{TIDY}
"""


class StoreError(ValueError):
    """A file that is not a results store, or a write the store refuses."""


def _resolve(path, create):
    """A directory means ``dir/results.sqlite``; a ``.sqlite`` or existing file is used as is."""
    path = Path(path)
    if path.suffix == ".sqlite" or path.is_file():
        folder, file = path.parent, path
    else:
        folder, file = path, path / FILENAME
    if not create and not file.exists():
        raise FileNotFoundError(f"No results store at {file}")
    folder.mkdir(parents=True, exist_ok=True)
    return file


# --- values in, values out -------------------------------------------------

def _plain(v):
    """numpy scalars -> Python scalars (sqlite3 cannot bind numpy types)."""
    return v.item() if hasattr(v, "item") and not isinstance(v, (str, bytes)) else v


def _value(v):
    return None if pd.isna(v) else float(v)


def _run_row(run):
    unknown = sorted(set(run) - set(RUN_COLUMNS))
    if unknown:
        raise StoreError(f"unknown run fields {unknown}: " + expected(RUN_COLUMNS, "fields", unknown))
    if not run.get("run"):
        raise StoreError(f"A run needs a non-empty 'run' id. Received: run={run.get('run')!r}")
    row = {c: _plain(run.get(c)) for c in RUN_COLUMNS}
    if row["status"] not in STATUSES:
        raise StoreError(expected(STATUSES, "status", row["status"]))
    if row["status"] == "ok" and row["error"] is not None:
        raise StoreError(f"Run {row['run']!r}: an 'ok' run has error=None. Received: {row['error']!r}")
    for c in JSON_COLUMNS:
        if row[c] is not None and not isinstance(row[c], str):
            row[c] = json.dumps(row[c], sort_keys=True, default=str)
    if row["finished_at"] is None:
        row["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    elif isinstance(row["finished_at"], datetime):
        row["finished_at"] = row["finished_at"].astimezone(timezone.utc).isoformat()
    return row


def _history_rows(run_id, history):
    """Yield (run, epoch, split, metric, value) rows, lazily (inside the write's transaction)."""
    if history is None:
        return
    if isinstance(history, pd.DataFrame):   # columns at once: NaN -> None, numpy -> Python
        values = history["value"].astype(float)
        history = zip(history["epoch"].tolist(), history["split"].tolist(),
                      history["metric"].tolist(),
                      values.astype(object).where(values.notna(), None).tolist())
    for epoch, split, metric, value in history:
        if split not in SPLITS:
            raise StoreError(expected(SPLITS, "split", split) + f" (run {run_id!r})")
        yield run_id, int(epoch), split, str(metric), None if value is None else _value(value)


def _with_conditions(history, store):
    """The tidy rows with each run's condition and settings (``CONDITION_COLUMNS``)."""
    runs = store.runs()
    runs = runs[runs["run"].isin(set(history["run"]))]
    found = pd.DataFrame([condition(c, t) for c, t in zip(runs["config"], runs["trainer"])],
                         columns=CONDITION_COLUMNS, index=runs.index)
    found.insert(0, "run", runs["run"])
    return history.merge(found, on="run", how="left")


def _where(filters, allowed):
    """``col=value`` or ``col=[values]`` -> (SQL ``WHERE`` clause, parameters)."""
    clauses, params = [], []
    for col, value in filters.items():
        if col not in allowed:
            raise StoreError(expected(allowed, col, value))
        if isinstance(value, (list, tuple, set, frozenset)):
            values = [_plain(v) for v in value]
            clauses.append(f"{col} IN ({', '.join('?' * len(values))})")
            params += values
        else:
            clauses.append(f"{col} IS ?")
            params.append(_plain(value))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


# --- the store -------------------------------------------------------------

class Store:
    """Results of one directory (or one ``.sqlite`` file); see the module docstring."""

    def __init__(self, path, create=True):
        self.path = _resolve(path, create)
        self._local = threading.local()
        self._check_schema()

    def __repr__(self):
        return f"Store({str(self.path)!r})"

    def __getstate__(self):     # pickles as its path; connections stay in their process
        return {"path": self.path}

    def __setstate__(self, state):
        self.path, self._local = state["path"], threading.local()

    def _connect(self):
        """This process and thread's connection (opened on first use)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.con = sqlite3.connect(self.path, timeout=TIMEOUT, isolation_level=None)
            local.con.execute("PRAGMA foreign_keys = ON")
            local.con.execute("PRAGMA synchronous = NORMAL")
            local.pid = os.getpid()
        return local.con

    @contextmanager
    def _connection(self):
        yield self._connect()

    def _check_schema(self):
        try:
            with self._connection() as con:
                names = {name for (name,) in con.execute("SELECT name FROM sqlite_master")}
                if names:
                    self._check_columns(con)
                if not {"runs", "history", "tidy"} <= names:  # new store: readers never lock
                    con.execute("PRAGMA journal_mode = WAL")
                    con.executescript(SCHEMA)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path} is not a results store: {e}") from e

    def _check_columns(self, con):
        for table, expected in (("runs", RUN_COLUMNS), ("history", HISTORY_COLUMNS)):
            found = tuple(row[1] for row in con.execute(f"PRAGMA table_info({table})"))
            if set(found) != set(expected):
                raise StoreError(
                    f"{self.path} is not a results store: table {table!r} should have columns "
                    f"{list(expected)}. Found: {list(found) or 'no such table'}")

    @contextmanager
    def _transaction(self):
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; any exception (Ctrl-C included) rolls back."""
        with self._connection() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise

    def _query(self, sql, params=()):
        with self._connection() as con:
            return pd.read_sql_query(sql, con, params=params)

    # --- writing

    def write(self, run, history=None, replace=False):
        """Store one run and its history (a DataFrame with columns epoch, split, metric,
        value, or an iterable of such tuples) in one transaction: all of it or none."""
        row = _run_row(run)
        rows = list(_history_rows(row["run"], history))
        if any(r[2] == "test" for r in rows):
            self._upgrade()
        with self._transaction() as con:
            exists = con.execute("SELECT 1 FROM runs WHERE run = ?", (row["run"],)).fetchone()
            if exists and not replace:
                raise StoreError(
                    f"Run {row['run']!r} is already in {self.path}. Pass replace=True to "
                    f"overwrite it, or forget([{row['run']!r}]) first.")
            _delete(con, [row["run"]])
            con.execute(f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(RUN_COLUMNS))})", tuple(row.values()))
            con.executemany("INSERT INTO history VALUES (?, ?, ?, ?, ?)", rows)

    def _upgrade(self):
        """Let an older store take test rows (see ``UPGRADE``), once."""
        with self._transaction() as con:
            (sql,) = con.execute("SELECT sql FROM sqlite_master WHERE name = 'history'").fetchone()
            if "'test'" not in sql:
                for statement in filter(str.strip, UPGRADE.split(";\n")):
                    con.execute(statement)

    def forget(self, run_ids):
        """Delete runs (and their history) so that a resumed grid runs them again.
        Returns how many runs were deleted."""
        ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
        with self._transaction() as con:
            return _delete(con, ids)

    # --- reading

    def finished(self, *statuses):
        """Ids of stored runs, of any status or only of ``statuses`` (e.g. ``"failed"``)."""
        where, params = _where({"status": list(statuses)} if statuses else {}, RUN_COLUMNS)
        with self._connection() as con:
            return {r for (r,) in con.execute(f"SELECT run FROM runs{where}", params)}

    def runs(self, **filters):
        """The ``runs`` table as a DataFrame; ``config`` and ``versions`` parsed into dicts."""
        where, params = _where(filters, RUN_COLUMNS)
        df = self._query(f"SELECT * FROM runs{where} ORDER BY run", params)
        for c in JSON_COLUMNS:
            df[c] = [None if s is None else json.loads(s) for s in df[c]]
        found = pd.DataFrame([condition(c, t) for c, t in zip(df["config"], df["trainer"])],
                             columns=CONDITION_COLUMNS, index=df.index)
        # "epochs" stays the epochs a run finished; the setting is in "condition" and "config"
        return pd.concat([df, found.drop(columns=[c for c in found if c in df])], axis=1)

    def history(self, **filters):
        """The tidy long table (``TIDY_COLUMNS``), filtered by ``column=value`` or
        ``column=[values]``, e.g. ``history(experiment="e1", split="val")``.
        ``df.attrs["store"]`` names the store it came from (for ``Store(...).runs()``)."""
        where, params = _where(filters, TIDY_COLUMNS)
        df = self._query(f"SELECT * FROM tidy{where} ORDER BY run, epoch, split, metric", params)
        df = _with_conditions(df.astype({"value": "float64"}), self)
        df.attrs["store"] = str(self.path.parent if self.path.name == FILENAME else self.path)
        return df

    def export(self, path, **filters):
        """Write the tidy table to ``.csv`` or ``.parquet`` atomically; returns the path."""
        path = Path(path)
        if path.suffix not in EXPORTS:
            raise ValueError(expected(EXPORTS, "suffix", path.suffix) + f" (path {str(path)!r})")
        df = self.history(**filters)
        df.attrs.clear()  # parquet would keep attrs: no local path in an exported file
        write = (lambda p: df.to_csv(p, index=False)) if path.suffix == ".csv" \
            else (lambda p: df.to_parquet(p, index=False))
        atomic_write(path, write)
        return path


def _delete(con, ids):
    marks = ", ".join("?" * len(ids))
    con.execute(f"DELETE FROM history WHERE run IN ({marks})", ids)
    return con.execute(f"DELETE FROM runs WHERE run IN ({marks})", ids).rowcount

