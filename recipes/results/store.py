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

Reading never creates or changes anything: ``Store(path, create=False)`` opens the
file read-only (an archived, read-only folder can be read: where its ``-wal`` file holds
commits, from a temporary copy of the file and its WAL), and a file that is not a
results store (empty, another database, damaged) is a ``StoreError`` naming it, as is
a runs row whose ``config`` or ``versions`` is not a JSON object. A full disk is a
``StoreError`` saying so (the store is intact), never "damaged". A
store opened to write is checked for writing at once, before any training.

A run stored as ``ok`` or ``diverged`` with its history is a result and is kept
(``KEPT``, ``kept()``); a ``failed`` run (out of memory, a crash in the trainer) is a
placeholder that the next grid run trains again, and so is a run stored as a result
without any history (a store that contradicts itself: ``results_without_history()``).
Several processes running one grid share the work through ``claims``: a process claims
the runs it is about to train in one transaction, and the others skip them (a claim of
a dead process on this machine, or one older than ``CLAIM_TTL`` from another machine,
is ignored).
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
import weakref
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ..catalog.table import row_fingerprint
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
# added to both tables from each run's config: its condition and one column per setting,
# and the fingerprint of its recipe's catalog row (``ROW_COLUMN``: runs of two rows of one
# recipe name, e.g. a user's edited catalog, are told apart by the reading side)
CONDITION_COLUMNS = ("condition",) + Settings.names()
ROW_COLUMN = "recipe_row"
DERIVED_COLUMNS = CONDITION_COLUMNS + (ROW_COLUMN,)
# what ``runs()`` and ``history()`` return ("epochs" in runs is the epochs a run finished)
RUNS_READ = RUN_COLUMNS + tuple(c for c in DERIVED_COLUMNS if c not in RUN_COLUMNS)
# each row's decoded form (#22 item 3): "raw" for the history table's rows (the trained
# outputs), else the form of a row of the ``decoded`` table (``results.decoded.DECODINGS``)
DECODING = "decoding"
RAW = "raw"
HISTORY_READ = TIDY_COLUMNS + (DECODING,) + DERIVED_COLUMNS
STATUSES = ("ok", "diverged", "failed")
KEPT = ("ok", "diverged")   # results; a "failed" run is trained again by the next grid run
# a run that holds a result (SQL on the runs table): a KEPT status and its history; a run
# stored as a result without history contradicts itself and is trained again too
RESULT = f"status IN {KEPT} AND EXISTS (SELECT 1 FROM history AS h WHERE h.run = runs.run)"
CLAIM_TTL = 12 * 3600.0     # seconds after which another machine's claim is ignored
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
# the test rows of a run's decoded forms (calibrated, thresholded, ...), beside its raw
# history; made when a store is opened for writing (a store written before it existed
# is read with raw rows only)
DECODED = f"""CREATE TABLE IF NOT EXISTS decoded (
    run TEXT NOT NULL REFERENCES runs(run),
    epoch INTEGER NOT NULL,
    split TEXT NOT NULL CHECK (split IN {SPLITS}),
    metric TEXT NOT NULL,
    value REAL,
    decoding TEXT NOT NULL CHECK (decoding != '{RAW}'),
    PRIMARY KEY (run, epoch, split, metric, decoding)
) WITHOUT ROWID;"""
CLAIMS = """CREATE TABLE IF NOT EXISTS claims (
    run TEXT PRIMARY KEY NOT NULL, owner TEXT NOT NULL, claimed_at REAL NOT NULL
) WITHOUT ROWID;"""
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
    if not create:
        if not file.exists():
            raise FileNotFoundError(f"No results store at {file}")
        if file.is_dir():
            raise StoreError(f"{file} is a directory, not a results store file")
        return file
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"Cannot write a results store in {folder}: it is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK) or (file.exists() and not os.access(file, os.W_OK)):
        raise StoreError(f"Cannot write the results store {file}: "
                         f"{'it' if file.exists() else 'its folder'} is read-only. Write to "
                         f"another folder (--out), or make it writable; reading it needs no "
                         f"write access (recipes report, load_results).")
    return file


def _wal(path):
    """The write-ahead log beside a store file (``results.sqlite-wal``)."""
    return path.with_name(path.name + "-wal")


_COPYING = threading.Lock()


def _replay(path):
    """A copy of the store ``path`` and its ``-wal`` file in a new temporary folder, with
    the WAL's commits written into the copy (a plain one-file database); returns the
    copy's path. What a read-only folder is read from when SQLite cannot read its WAL
    in place. A full disk there is a ``StoreError`` saying so."""
    folder = Path(tempfile.mkdtemp(prefix="recipes-store-"))
    copy = folder / path.name
    try:
        shutil.copyfile(path, copy)
        shutil.copyfile(_wal(path), _wal(copy))
        con = sqlite3.connect(copy, isolation_level=None)
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            con.execute("PRAGMA journal_mode = DELETE")
        finally:
            con.close()
    except (OSError, sqlite3.DatabaseError) as err:
        shutil.rmtree(folder, ignore_errors=True)
        if getattr(err, "errno", None) == errno.ENOSPC or (
                isinstance(err, sqlite3.DatabaseError) and _kind(err) == "full"):
            size = (path.stat().st_size + _wal(path).stat().st_size) / 1e6
            raise StoreError(
                f"Cannot read {path}: its folder is read-only and its {_wal(path).name} file "
                f"holds runs not yet in the file, so it is read from a copy in "
                f"{folder.parent}, and that disk is full ({err}). Free {size:.0f} MB there, "
                f"or set TMPDIR to a folder with room. {path} is unchanged.") from None
        raise
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return copy


def _remove_copy(pid, copy):
    """Remove a ``_replay`` copy, in the process that made it only."""
    if os.getpid() == pid:
        shutil.rmtree(copy.parent, ignore_errors=True)


def owner():
    """Who claims runs: this machine and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(claimant, claimed_at, now):
    """Whether a claim still holds: its process runs (this machine), or it is recent."""
    host, _, pid = claimant.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return now - claimed_at < CLAIM_TTL
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # another user's live process
        return True
    return True


# What an sqlite3 error means for the store: (kind, SQLite error names it starts with,
# words of its message, for an error without a name). Anything else is damage.
ERROR_KINDS = (
    ("full", ("SQLITE_FULL",), ("disk is full",)),
    ("readonly", ("SQLITE_READONLY",), ("readonly", "read-only")),
    ("locked", ("SQLITE_BUSY", "SQLITE_LOCKED"), ("locked", "busy")),
)


def _kind(err):
    """``"full"``, ``"readonly"``, ``"locked"`` (``ERROR_KINDS``) or ``"damaged"``."""
    name, text = getattr(err, "sqlite_errorname", None) or "", str(err)
    for kind, names, words in ERROR_KINDS:
        if name.startswith(names) or (not name and any(w in text for w in words)):
            return kind
    return "damaged"


def _explain(path, err):
    """A clear StoreError for an sqlite3 error raised on the store at ``path``."""
    text, kind = str(err), _kind(err)
    if kind == "full":
        return StoreError(
            f"Cannot write to the results store {path}: the disk is full ({text}), on the disk "
            f"of {path.parent} (or of the temporary folder SQLite writes to). The store is "
            f"intact: the write in progress was rolled back and every run stored before it is "
            f"kept. Free space on that disk, or write to another folder (--out), then run again.")
    if kind == "readonly":
        return StoreError(f"Cannot write the results store {path}: it is read-only ({text}). "
                          f"Write to another folder (--out), or make it writable.")
    if kind == "locked":
        return StoreError(f"The results store {path} stayed locked by another process for "
                          f"{TIMEOUT:g} s ({text}); try again when it has finished.")
    if isinstance(err, sqlite3.IntegrityError):
        return err
    return StoreError(f"{path} is not a readable results store: {text}. The file is damaged "
                      f"or is not an SQLite file; restore it from a copy or use another folder.")


# --- values in, values out -------------------------------------------------

def _plain(v):
    """numpy scalars -> Python scalars (sqlite3 cannot bind numpy types)."""
    return v.item() if hasattr(v, "item") and not isinstance(v, (str, bytes)) else v


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
        if isinstance(row[c], dict):
            row[c] = json.dumps(row[c], sort_keys=True, default=str)
        if _json_object(row[c]) is None:
            raise StoreError(f"Run {row['run']!r}: expected {c} as a dict (or its JSON text). "
                             f"Received: {c}={run.get(c)!r}")
    if row["finished_at"] is None:
        row["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    elif isinstance(row["finished_at"], datetime):
        row["finished_at"] = row["finished_at"].astimezone(timezone.utc).isoformat()
    return row


def _json_object(text):
    """The dict a JSON column holds, or None (NULL, not JSON, or JSON of another type)."""
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _json_column(path, runs, column):
    """The parsed dicts of a runs column (``JSON_COLUMNS``); a row without one (NULL, bad
    JSON: every run is written with one) is a ``StoreError`` naming the run and column."""
    parsed = [_json_object(text) for text in runs[column]]
    for run, text, value in zip(runs["run"], runs[column], parsed):
        if value is None:
            shown = "NULL" if text is None or (isinstance(text, float) and np.isnan(text)) \
                else repr(text if len(str(text)) <= 80 else str(text)[:80] + "...")
            folder = path.parent if path.name == FILENAME else path
            raise StoreError(
                f"{path} is damaged: run {run!r} has {column}={shown} in the runs table "
                f"(expected a JSON object: every run is written with one). Remove that run "
                f"so that the next grid run trains it again (Store({str(folder)!r})"
                f".forget([{run!r}])), or restore the file from a copy.")
    return parsed


def _raw_and_decoded(history):
    """``(raw rows, decoded rows)`` of a history with a ``decoding`` column (the raw ones
    without it); a history without one is all raw (decoded rows None)."""
    if not isinstance(history, pd.DataFrame) or DECODING not in history:
        return history, None
    raw = (history[DECODING] == RAW).to_numpy()
    return history[raw].drop(columns=DECODING), history[~raw]


def _history_rows(run_id, history):
    """The (run, epoch, split, metric, value) rows of a history (a DataFrame, or an
    iterable of (epoch, split, metric, value) tuples, read into one), each column checked
    and converted at once: numpy arrays, no Python call per row (a sweep writes thousands
    of histories); NaN values as None. A split outside ``SPLITS`` or an epoch that is not
    a whole number >= 0 is a StoreError naming the run."""
    if history is None:
        return []
    if not isinstance(history, pd.DataFrame):
        history = pd.DataFrame(list(history), columns=HISTORY_COLUMNS[1:])
    splits = history["split"].to_numpy()
    for split in dict.fromkeys(splits.tolist()):   # the first bad one, in row order
        if split not in SPLITS:
            raise StoreError(expected(SPLITS, "split", split) + f" (run {run_id!r})")
    values = history["value"].to_numpy(dtype=float).tolist()
    return list(zip(itertools.repeat(run_id), _epochs(run_id, history["epoch"].to_numpy()),
                    splits.tolist(), history["metric"].to_numpy().astype(str).tolist(),
                    [None if v != v else v for v in values]))   # NaN -> NULL


def _epochs(run_id, epochs):
    """``epochs`` as a list of Python ints; a StoreError names the first that is not a
    whole number >= 0 (NaN, 2.5, -1, text)."""
    epochs = np.asarray(epochs)
    if epochs.dtype.kind in "iu":     # the usual case: checked at once
        bad = epochs < 0
    elif epochs.dtype.kind == "f":
        bad = ~(np.isfinite(epochs) & (epochs >= 0) & (epochs == np.round(epochs)))
    else:                             # object or text: one by one
        bad = np.array([not _whole(e) for e in epochs.tolist()], dtype=bool)
    if bad.any():
        raise StoreError(f"Run {run_id!r}: expected epochs as whole numbers >= 0. Received: "
                         f"epoch={epochs.tolist()[int(np.argmax(bad))]!r}")
    return epochs.astype(np.int64).tolist()


def _whole(e):
    return isinstance(e, (int, float, np.number)) and not isinstance(e, bool) \
        and bool(np.isfinite(e)) and e >= 0 and e == round(e)


# history rows read from SQLite at a time: the Python tuples of one batch are the read's
# only per-row Python objects (~200 bytes a row), so reading never holds many more
READ_BATCH = 20_000
RUN_LEVEL = tuple(c for c in TIDY_COLUMNS if c in RUN_COLUMNS)   # filters on the runs table
ROW_LEVEL = tuple(c for c in TIDY_COLUMNS if c not in RUN_COLUMNS)   # epoch, split, metric, value


def _codes(values, found):
    """Integer codes of ``values`` (a tuple of strings), ``found`` the growing value -> code map
    (new values take the next codes in order of appearance). The few distinct values of
    a batch are found in C (``pandas.factorize``), then looked up once each."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    known = np.array([found.setdefault(v, len(found)) for v in uniques], np.int32)
    return known[codes]


def _positions(values, index):
    """Each of ``values``' position in ``index`` (a value -> position map), -1 for those
    not in it; each distinct value looked up once (``_codes``)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return np.array([index.get(v, -1) for v in uniques], np.int32)[codes]


def _categorical(codes, found):
    """Codes of ``_codes`` as a Categorical with lexically sorted categories (so sorting by
    it sorts as the strings would)."""
    names = sorted(found)
    remap = np.empty(len(found), np.int32)
    remap[[found[n] for n in names]] = np.arange(len(names))
    return pd.Categorical.from_codes(remap[codes] if len(codes) else codes, names)


def _small_ints(column):
    """Whether a column holds integers that fit in int32."""
    if not pd.api.types.is_integer_dtype(column.dtype) or not len(column):
        return False
    return bool(np.iinfo(np.int32).min <= column.min() and column.max() <= np.iinfo(np.int32).max)


def _expand(column, at, compact):
    """A per-run column repeated for every history row (``at``: each row's run position).
    ``compact``: text becomes a Categorical (a 1-2 byte code per row)."""
    if compact and not pd.api.types.is_numeric_dtype(column.dtype):
        cat = pd.Categorical(column)
        return pd.Categorical.from_codes(cat.codes[at], cat.categories)
    return column.take(at).reset_index(drop=True)


def _row_where(filters):
    """``(where, params)`` selecting the rows of a per-row table (history, decoded) that
    ``filters`` select: row-level filters on the table itself, run-level ones through the
    runs they belong to."""
    run_filters = {k: v for k, v in filters.items() if k in RUN_LEVEL}
    row_filters = {k: v for k, v in filters.items() if k in ROW_LEVEL}
    where, params = _where(row_filters, ROW_LEVEL)
    if run_filters:
        inner, inner_params = _where(run_filters, RUN_LEVEL)
        where = (where + " AND" if where else " WHERE") + f" run IN (SELECT run FROM runs{inner})"
        params += inner_params
    return where, params


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


def _create(con):
    """Make a new store's tables, in WAL mode (readers never lock). SQLite answers a
    journal-mode change or schema write that races another process's with "database is
    locked" at once, without its busy timeout: processes creating one store at the same
    moment (two compares started together) retry, until ``TIMEOUT`` as any locked write."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            con.execute("PRAGMA journal_mode = WAL")
            con.executescript(SCHEMA)
            return
        except sqlite3.OperationalError as e:
            if con.in_transaction:
                con.execute("ROLLBACK")
            if _kind(e) != "locked" or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# --- the store -------------------------------------------------------------

class Store:
    """Results of one directory (or one ``.sqlite`` file); see the module docstring."""

    def __init__(self, path, create=True):
        self.path = _resolve(path, create)
        self.readonly = not create
        self._local, self._copy = threading.local(), None
        self._check_schema()

    def __repr__(self):
        return f"Store({str(self.path)!r})"

    def __getstate__(self):     # pickles as its path; connections stay in their process
        return {"path": self.path, "readonly": self.readonly}

    def __setstate__(self, state):
        self.path, self._local, self._copy = state["path"], threading.local(), None
        self.readonly = state.get("readonly", False)

    def _connect(self):
        """This process and thread's connection (opened on first use)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.con = self._open_readonly() if self.readonly else sqlite3.connect(
                self.path, timeout=TIMEOUT, isolation_level=None)
            local.con.execute("PRAGMA foreign_keys = ON")
            local.con.execute("PRAGMA synchronous = NORMAL")
            local.pid = os.getpid()
        return local.con

    def _open_readonly(self):
        """A read-only connection (``mode=ro``). In a read-only folder, where SQLite cannot
        make the WAL's shared-memory file, the file is read as immutable, which ignores
        the ``-wal`` file: when that holds commits, a copy with them applied is read
        instead (``_replayed``), never the file alone (a part of the runs)."""
        uri = self.path.resolve().as_uri()
        con = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=TIMEOUT, isolation_level=None)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return con
        except sqlite3.OperationalError:
            con.close()
        if _wal(self.path).is_file() and _wal(self.path).stat().st_size > 0:
            uri = self._replayed().as_uri()
        return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)

    def _replayed(self):
        """This process's copy of the file with its WAL's commits applied (``_replay``),
        made on first use and removed when the Store is."""
        with _COPYING:
            if self._copy is None or self._copy[0] != os.getpid():
                self._copy = (os.getpid(), _replay(self.path))
                weakref.finalize(self, _remove_copy, *self._copy)
        return self._copy[1]

    @contextmanager
    def _connection(self):
        """This thread's connection; sqlite3 errors become clear ``StoreError``s."""
        try:
            yield self._connect()
        except sqlite3.DatabaseError as e:
            raise _explain(self.path, e) from None

    def _check_schema(self):
        if self.readonly and self.path.stat().st_size == 0:
            raise StoreError(f"{self.path} is not a results store: it is an empty file")
        try:
            con = self._connect()
            names = {name for (name,) in con.execute("SELECT name FROM sqlite_master")}
            if names or self.readonly:
                self._check_columns(con)
            if self.readonly:
                return
            if not {"runs", "history", "tidy"} <= names:  # new store: readers never lock
                _create(con)
            con.executescript(f"BEGIN IMMEDIATE; {CLAIMS} {DECODED} COMMIT;")  # can we write?
        except sqlite3.DatabaseError as e:
            raise (_explain(self.path, e) if _kind(e) != "damaged"
                   else StoreError(f"{self.path} is not a results store: {e}")) from None

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
            cursor = con.execute(sql, params)
            rows = cursor.fetchall()
        return pd.DataFrame.from_records(rows, columns=[d[0] for d in cursor.description])

    # --- writing

    def write(self, run, history=None, replace=False, skip=False):
        """Store one run and its history (a DataFrame with columns epoch, split, metric,
        value, or an iterable of such tuples) in one transaction: all of it or none.

        A stored ``failed`` run is replaced (it is what a retry is for), and so is a run
        stored as a result without history. A stored result (``kept()``) raises
        ``StoreError``, unless ``replace`` (overwrite it) or ``skip`` (keep it: another
        process wrote the same run first). An ``ok`` or ``diverged`` run without history
        rows raises ``StoreError``. Returns whether the run was written; its claim, if
        any, is released in the same transaction."""
        row = _run_row(run)
        history, decoded = _raw_and_decoded(history)
        rows = _history_rows(row["run"], history)
        decoded_rows = [] if decoded is None else [
            r + (d,) for r, d in zip(_history_rows(row["run"], decoded),
                                     decoded[DECODING].astype(str))]
        if row["status"] in KEPT and not rows:
            raise StoreError(f"Run {row['run']!r}: an {row['status']!r} run is a result and needs "
                             f"its history (epoch, split, metric, value rows). Received: no "
                             f"history rows; store a run that did not train as 'failed'.")
        if any(r[2] == "test" for r in rows):
            self._upgrade()
        with self._transaction() as con:
            found = _kept(con, [row["run"]])
            con.execute("DELETE FROM claims WHERE run = ?", (row["run"],))
            if found and not replace:
                if skip:
                    return False
                raise StoreError(
                    f"Run {row['run']!r} is already in {self.path}. Pass replace=True to "
                    f"overwrite it, or forget([{row['run']!r}]) first.")
            _delete(con, [row["run"]])
            con.execute(f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(RUN_COLUMNS))})", tuple(row.values()))
            con.executemany("INSERT INTO history VALUES (?, ?, ?, ?, ?)", rows)
            con.executemany("INSERT INTO decoded VALUES (?, ?, ?, ?, ?, ?)", decoded_rows)
        return True

    # --- sharing a grid between processes

    def claim(self, run_ids, by=None):
        """Claim, in one transaction, the runs of ``run_ids`` that hold no result
        (``kept()``) and no live claim of another process; returns the claimed ids, in
        order. ``by``: the claimant (default: this process, ``owner()``)."""
        by, now, ids = by or owner(), time.time(), list(dict.fromkeys(run_ids))
        with self._transaction() as con:
            done = _kept(con, ids)
            held = {run: (who, at) for run, who, at in con.execute(
                "SELECT run, owner, claimed_at FROM claims")}
            mine = [r for r in ids if r not in done and (
                r not in held or held[r][0] == by or not _alive(*held[r], now))]
            con.executemany("INSERT OR REPLACE INTO claims VALUES (?, ?, ?)",
                            [(r, by, now) for r in mine])
        return mine

    def release(self, run_ids, by=None):
        """Drop this process's (or ``by``'s) claims on ``run_ids``."""
        ids = list(run_ids)
        with self._transaction() as con:
            con.executemany("DELETE FROM claims WHERE run = ? AND owner = ?",
                            [(r, by or owner()) for r in ids])

    def claimed(self, by_others=True):
        """Ids of runs claimed by live processes (other than this one, by default)."""
        return set(self.claimants(by_others))

    def claimants(self, by_others=True):
        """``{run id: claimant}`` of the runs claimed by live processes (other than this
        one, by default); a claimant is ``owner()``'s ``"host:pid"``."""
        now, me = time.time(), owner()
        with self._connection() as con:
            if "claims" not in {n for (n,) in con.execute("SELECT name FROM sqlite_master")}:
                return {}
            rows = con.execute("SELECT run, owner, claimed_at FROM claims").fetchall()
        return {r: who for r, who, at in rows
                if not (by_others and who == me) and _alive(who, at, now)}

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
        """Ids of stored runs, of any status or only of ``statuses`` (e.g. ``"failed"``).
        What a grid does not train again is ``kept()``."""
        where, params = _where({"status": list(statuses)} if statuses else {}, RUN_COLUMNS)
        with self._connection() as con:
            return {r for (r,) in con.execute(f"SELECT run FROM runs{where}", params)}

    def kept(self):
        """Ids of the runs that hold a result (``RESULT``: ``ok`` or ``diverged`` with their
        history): what a grid does not train again."""
        with self._connection() as con:
            return {r for (r,) in con.execute(f"SELECT run FROM runs WHERE {RESULT}")}

    def results_without_history(self):
        """The runs stored as a result (``KEPT``) that hold no history: a store that
        contradicts itself (nothing to score them by). Their ``runs`` rows (``RUN_COLUMNS``
        but config and versions) as a DataFrame; the next grid run trains them again."""
        columns = [c for c in RUN_COLUMNS if c not in JSON_COLUMNS]
        return self._query(f"SELECT {', '.join(columns)} FROM runs WHERE status IN {KEPT} "
                           f"AND NOT ({RESULT}) ORDER BY run")

    def runs(self, **filters):
        """The ``runs`` table as a DataFrame; ``config`` and ``versions`` parsed into dicts."""
        return _runs_table(*self._runs(**filters))

    def history_and_runs(self, compact=False):
        """``(history(compact=compact), runs())``, the runs table read and parsed once
        for both (what a report reads)."""
        read = self._runs()
        per_run = self._per_run(compact=compact, read=read)
        return self._with_decoded(self._history(per_run, compact, {}), per_run, {}), \
            _runs_table(*read)

    def _runs(self, columns=None, **filters):
        """``(runs table, each run's condition, settings and recipe row fingerprint)``:
        two frames on one index.
        ``columns``: only these columns of the table (it needs ``run``, ``experiment``,
        ``dataset``, ``trainer`` and ``config``); None: all."""
        where, params = _where(filters, RUN_COLUMNS)
        df = self._query(f"SELECT {', '.join(columns) if columns else '*'} FROM runs{where} "
                         f"ORDER BY run", params)
        for c in JSON_COLUMNS:
            if c in df:
                df[c] = _json_column(self.path, df, c)
        found = pd.DataFrame([condition(c, t) for c, t in zip(df["config"], df["trainer"])],
                             columns=CONDITION_COLUMNS, index=df.index)
        found["condition"] = _by_data(df, found["condition"])
        found[ROW_COLUMN] = [(row_fingerprint(c.get("recipe")) if isinstance(c, dict) else None)
                             or np.nan for c in df["config"]]   # NaN: missing, as above
        return df, found

    def history(self, compact=False, ids=None, **filters):
        """The tidy long table (``TIDY_COLUMNS`` and each run's ``DERIVED_COLUMNS``),
        filtered by ``column=value`` or ``column=[values]``, e.g.
        ``history(experiment="e1", split="val")``; rows in run, epoch, split, metric order,
        then the decoded forms' rows (table ``decoded``) in that order; column ``decoding``
        ("raw" for the history table's rows) filters too (``decoding="raw"``).
        ``df.attrs["store"]`` names the store it came from (for ``Store(...).runs()``).

        ``ids``: only these runs (any number; a ``run=[...]`` filter goes to SQLite, which
        limits how many values one query takes). ``compact``: text columns as Categoricals
        with sorted categories (the same values, a fraction of the memory: ~80 bytes a row
        instead of ~300), what ``run`` and ``compare`` return.

        Memory: the rows are read in batches of ``READ_BATCH`` and kept as numpy codes, so
        reading holds one batch of Python objects at a time, never one per row.
        """
        decoding = filters.pop(DECODING, None)
        _where(filters, TIDY_COLUMNS)   # fails on an unknown column
        per_run = self._per_run(ids, compact)
        df = self._with_decoded(self._history(per_run, compact, filters), per_run, filters)
        store = df.attrs["store"]
        if decoding is not None:
            keep = df[DECODING].isin([decoding] if isinstance(decoding, str) else decoding)
            df = df[keep.to_numpy()].reset_index(drop=True)
        df.attrs["store"] = store
        return df

    def _with_decoded(self, df, per_run, filters):
        """The history ``df`` of the runs of ``per_run`` followed by their decoded rows
        (``_decoded``), its Categorical columns kept Categorical; ``df`` itself when there
        are none."""
        decoded, store = self._decoded(per_run, filters), df.attrs["store"]
        if len(decoded):
            text = [c for c in df if isinstance(df[c].dtype, pd.CategoricalDtype)]
            df = pd.concat([df.astype({c: object for c in text}), decoded[list(df.columns)]],
                           ignore_index=True)
            df = df.astype({c: "category" for c in text})
        df.attrs["store"] = store
        return df

    def _decoded(self, per_run, filters):
        """The decoded rows (table ``decoded``) of the runs of ``per_run`` that ``filters``
        select, with ``per_run``'s columns; none in a store without that table."""
        with self._connection() as con:
            has = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'decoded'").fetchone()
        if not has:
            return pd.DataFrame()
        where, params = _row_where(filters)
        rows = self._query(f"SELECT run, epoch, split, metric, value, decoding FROM decoded"
                           f"{where} ORDER BY run, epoch, split, metric, decoding", params)
        per_run = per_run.astype({c: object for c in per_run
                                  if isinstance(per_run[c].dtype, pd.CategoricalDtype)})
        return rows.merge(per_run, on="run", how="inner")

    def _history(self, per_run, compact, filters):
        """``history`` of the runs of ``per_run`` (``_per_run``)."""
        where, params = _row_where(filters)
        at, epoch, split, metric, value = self._rows(where, params, per_run, compact)
        if not len(at):
            df = pd.DataFrame({c: pd.Series(dtype="float64" if c == "value" else object)
                               for c in HISTORY_READ})
        else:
            columns = {c: _expand(per_run[c], at, compact) for c in per_run}
            columns.update(epoch=epoch, split=_categorical(*split), metric=_categorical(*metric),
                           value=value, **{DECODING: _categorical(
                               np.zeros(len(at), np.int16), {RAW: 0})})
            if not compact:
                for c in ("split", "metric", DECODING):
                    columns[c] = np.asarray(columns[c].categories, dtype=object).take(
                        columns[c].codes)
            df = pd.DataFrame({c: columns[c] for c in HISTORY_READ}, copy=False)
        df.attrs["store"] = str(self.path.parent if self.path.name == FILENAME else self.path)
        return df

    def _per_run(self, ids=None, compact=False, read=None):
        """One row per run (of ``ids``, or all): its ``KEY_COLUMNS`` and ``DERIVED_COLUMNS``.
        Computed over all runs, so the data tag of ``_by_data`` does not depend on filters.
        ``compact``: integer columns as int32. ``read``: what ``_runs()`` returned, if
        the caller has it."""
        runs, found = read or self._runs(columns=KEY_COLUMNS + ("config",))
        per_run = pd.concat([runs[list(KEY_COLUMNS)], found], axis=1)
        del runs, found
        if compact:
            per_run = per_run.astype({c: "int32" for c in per_run if _small_ints(per_run[c])})
        if ids is not None:
            per_run = per_run[per_run["run"].isin(set(ids))]
        return per_run.reset_index(drop=True)

    def _rows(self, where, params, per_run, compact=False):
        """History rows as arrays: each row's position in ``per_run`` (rows of other runs
        are dropped), epoch, ``(split codes, map)``, ``(metric codes, map)``, value.

        Counted first and filled batch by batch into arrays of that size, in one read
        transaction (so the count holds while another process writes)."""
        index = {r: i for i, r in enumerate(per_run["run"])}
        splits, metrics = {}, {}
        sql = f"FROM history{where}"
        with self._connection() as con:
            con.execute("BEGIN")
            try:
                (n,) = con.execute(f"SELECT COUNT(*) {sql}", params).fetchone()
                at, epoch, split, metric, value = (np.empty(n, t) for t in (
                    np.int32, np.int32 if compact else np.int64, np.int16, np.int16,
                    np.float64))
                cursor = con.execute(f"SELECT run, epoch, split, metric, value {sql} "
                                     "ORDER BY run, epoch, split, metric", params)
                pos = 0
                while True:
                    batch = cursor.fetchmany(READ_BATCH)
                    if not batch:
                        break
                    columns, end = tuple(zip(*batch)), pos + len(batch)
                    del batch
                    at[pos:end] = _positions(columns[0], index)
                    epoch[pos:end] = columns[1]
                    split[pos:end] = _codes(columns[2], splits)
                    metric[pos:end] = _codes(columns[3], metrics)
                    value[pos:end] = np.asarray(columns[4], np.float64)
                    pos = end
            finally:
                con.execute("COMMIT")
        keep = at >= 0
        if not keep.all():    # rows of runs not asked for
            at, epoch, split, metric, value = (a[keep] for a in (at, epoch, split, metric, value))
        return at, epoch, (split, splits), (metric, metrics), value

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


def _runs_table(df, found):
    """The runs table of ``Store.runs`` from what ``Store._runs`` read."""
    # "epochs" stays the epochs a run finished; the setting is in "condition" and "config"
    return pd.concat([df, found.drop(columns=[c for c in found if c in df])], axis=1)


def _by_data(runs, labels):
    """Condition labels, with the data fingerprint added where one experiment and dataset
    name holds runs on different data (two ``compare`` calls of the same name into one
    folder): runs on other data are never pooled as seeds of one comparison."""
    data = pd.Series([c.get("data") if isinstance(c, dict) else None for c in runs["config"]],
                     index=runs.index)
    if data.isna().all():
        return labels
    mixed = data.groupby([runs["experiment"], runs["dataset"]], dropna=False).transform("nunique")
    tag = labels.astype(object).where(mixed <= 1, labels.astype(str) + " | data " + data.str[:8])
    return tag


def _kept(con, ids):
    """Those of ``ids`` that hold a result (``RESULT``)."""
    found = set()
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        found |= {r for (r,) in con.execute(
            f"SELECT run FROM runs WHERE {RESULT} AND run IN "
            f"({', '.join('?' * len(part))})", part)}
    return found


def _delete(con, ids):
    marks = ", ".join("?" * len(ids))
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'decoded'").fetchone():
        con.execute(f"DELETE FROM decoded WHERE run IN ({marks})", ids)
    con.execute(f"DELETE FROM history WHERE run IN ({marks})", ids)
    return con.execute(f"DELETE FROM runs WHERE run IN ({marks})", ids).rowcount

