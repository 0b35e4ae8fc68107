"""A cheap identity of what lies at a dataset's path: the size and modification time of every file.

Content hashes would cost a full read of every model input on every load; size and nanosecond
modification time change whenever a dataset is written again, which is what staleness is about.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def fingerprint(path: Path) -> str | None:
    """A hash of (relative path, size, mtime) of the file, or of every file under the folder; None if absent."""
    if not path.exists():
        return None
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for file in files:
        stat = file.stat()
        relative = file.relative_to(path) if file != path else Path(file.name)
        digest.update(f"{relative.as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
