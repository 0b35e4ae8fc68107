"""Serialise the first use of a local SQLite MLflow store between processes.

MLflow creates and migrates a new SQLite store on first use, and kedro-mlflow then creates the experiment; two
runs started at the same moment on a fresh project both do so and the second crashes (a duplicate column, an
already-applied migration, an existing experiment). A lock held across that set-up makes the second run find
the store ready. A new store is created and migrated under a temporary name and renamed into place, so a
first run interrupted during MLflow's migrations (Ctrl-C) leaves no half-migrated store behind.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SQLITE_PREFIX = "sqlite:///"


def sqlite_store_path(tracking_uri: str | None) -> Path | None:
    """The database file of a ``sqlite:///`` URI (relative paths are relative to the working directory, as for
    SQLAlchemy); None for any other store, which has its own concurrency control."""
    if not tracking_uri or not tracking_uri.startswith(_SQLITE_PREFIX):
        return None
    path = tracking_uri.removeprefix(_SQLITE_PREFIX).split("?", 1)[0]
    if path in ("", ":memory:"):
        return None
    return Path(path)


@contextmanager
def store_lock(database: Path | None) -> Iterator[None]:
    """Hold an exclusive lock on the database's folder while the block runs (no lock for None or a missing folder).

    The folder, not a lock file beside the database, is locked: nothing is left behind in the project, and SQLite's
    own locks on the database file are not touched.
    """
    folder = database.resolve().parent if database is not None else None
    if folder is None or not folder.is_dir():
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        # Closing the descriptor releases the lock, also when the block raised.
        os.close(descriptor)


def create_store_atomically(database: Path | None) -> None:
    """Create and migrate a missing SQLite store in a sibling temporary folder, then rename it into place.

    Call it under ``store_lock``. An existing store, another kind of store or a missing folder is left alone.
    """
    if database is None or database.exists() or not database.resolve().parent.is_dir():
        return
    from mlflow import MlflowClient

    staging = Path(tempfile.mkdtemp(prefix=".mlflow-store-", dir=database.resolve().parent))
    try:
        staged = staging / database.name
        # The first query creates the schema and runs every migration, with MLflow's own defaults.
        MlflowClient(tracking_uri=f"{_SQLITE_PREFIX}{staged}").search_experiments()
        os.replace(staged, database)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
