"""SQLite persistence shared by the sandbox platform modules.

Every remote object is a JSON document in one table keyed by ``(platform, kind, id)``; ids are
allocated per ``(platform, kind)`` and never reused. A small key/value table holds per-platform
account data (balances, issued tokens, counters). One connection, WAL mode; each request runs in
one :meth:`Store.transaction` so a fault or crash never leaves half a write behind.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from ..fsutil import open_private


def dumps(value: Any) -> str:
    """``json.dumps`` (non-string keys become strings), by orjson: the sandbox decodes and encodes
    a JSON document per object it serves, a third of its CPU with the standard library. A value
    orjson refuses (an integer beyond 64 bits) goes through the standard library."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


_loads = orjson.loads

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    platform TEXT NOT NULL,
    kind TEXT NOT NULL,
    id INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (platform, kind, id)
);
CREATE TABLE IF NOT EXISTS counters (
    platform TEXT NOT NULL,
    kind TEXT NOT NULL,
    last_id INTEGER NOT NULL,
    PRIMARY KEY (platform, kind)
);
CREATE TABLE IF NOT EXISTS kv (
    platform TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (platform, key)
);
"""


class Store:
    """JSON documents in SQLite. Thread-safe; re-entrant transactions nest into the outer one."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            # made 0600 (its folder 0700) before SQLite opens it: its -wal and -shm files take its mode
            open_private(Path(self.path), "ab").close()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL" if self.path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._depth = 0
        #: (platform, kind) -> values derived from those objects (:meth:`memo`)
        self._memos: dict[tuple[str, str], dict[Any, Any]] = {}
        self._data_version = -1

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Run the block in one SQLite transaction (nested calls join the outer one)."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                    self._memos.clear()  # they may hold what the rolled-back writes made
                raise
            else:
                self._depth -= 1
                if outer:
                    self._conn.execute("COMMIT")

    def memo(self, platform: str, kind: str) -> dict[Any, Any]:
        """A dict for values derived from the objects of ``(platform, kind)`` (a task's sizes), kept
        across requests and emptied whenever one of those objects may have changed: written through
        this store, a rolled-back transaction, or a commit by another connection to the database
        (SQLite's ``data_version``)."""
        with self._lock:
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            if version != self._data_version:
                self._data_version = version
                self._memos.clear()
            return self._memos.setdefault((platform, kind), {})

    def _changed(self, platform: str, kind: str) -> None:
        self._memos.pop((platform, kind), None)

    # -- objects -----------------------------------------------------------------------------
    def next_id(self, platform: str, kind: str, start: int = 1) -> int:
        with self.transaction():
            row = self._conn.execute(
                "SELECT last_id FROM counters WHERE platform=? AND kind=?", (platform, kind)
            ).fetchone()
            new = (row[0] + 1) if row else start
            self._conn.execute(
                "INSERT INTO counters(platform, kind, last_id) VALUES(?,?,?) "
                "ON CONFLICT(platform, kind) DO UPDATE SET last_id=excluded.last_id",
                (platform, kind, new),
            )
            return new

    def insert(self, platform: str, kind: str, data: dict[str, Any], id: int | None = None) -> dict[str, Any]:
        """Store ``data`` under a new id (or ``id``); sets ``data["id"]`` unless the caller did."""
        with self.transaction():
            new_id = self.next_id(platform, kind) if id is None else id
            data.setdefault("id", new_id)
            self._changed(platform, kind)
            self._conn.execute(
                "INSERT INTO objects(platform, kind, id, data) VALUES(?,?,?,?)",
                (platform, kind, new_id, dumps(data)),
            )
            return data

    def get(self, platform: str, kind: str, id: int) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT data FROM objects WHERE platform=? AND kind=? AND id=?", (platform, kind, id)
            ).fetchone()
        return _loads(row[0]) if row else None

    def get_many(self, platform: str, kind: str, ids: list[int]) -> dict[int, dict[str, Any]]:
        """The objects of ``ids`` that exist, by id, in one query per 500 ids."""
        out: dict[int, dict[str, Any]] = {}
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            sql = f"SELECT id, data FROM objects WHERE platform=? AND kind=? AND id IN ({','.join('?' * len(chunk))})"
            with self._lock:
                rows = self._conn.execute(sql, (platform, kind, *chunk)).fetchall()
            out.update((row[0], _loads(row[1])) for row in rows)
        return out

    def put(self, platform: str, kind: str, id: int, data: dict[str, Any]) -> dict[str, Any]:
        with self.transaction():
            self._changed(platform, kind)
            self._conn.execute(
                "UPDATE objects SET data=? WHERE platform=? AND kind=? AND id=?",
                (dumps(data), platform, kind, id),
            )
        return data

    def delete(self, platform: str, kind: str, id: int) -> bool:
        with self.transaction():
            self._changed(platform, kind)
            cur = self._conn.execute(
                "DELETE FROM objects WHERE platform=? AND kind=? AND id=?", (platform, kind, id)
            )
            return cur.rowcount > 0

    def list(
        self,
        platform: str,
        kind: str,
        *,
        where: dict[str, Any] | None = None,
        after: int | None = None,
        before: int | None = None,
        limit: int | None = None,
        descending: bool = False,
    ) -> list[dict[str, Any]]:
        """Objects ordered by id; ``where`` matches top-level JSON fields by equality."""
        sql = "SELECT data FROM objects WHERE platform=? AND kind=?"
        args: list[Any] = [platform, kind]
        for field, value in (where or {}).items():
            sql += " AND json_extract(data, ?) IS ?"
            args += [f"$.{field}", value if not isinstance(value, bool) else int(value)]
        if after is not None:
            sql += " AND id > ?"
            args.append(after)
        if before is not None:
            sql += " AND id < ?"
            args.append(before)
        sql += " ORDER BY id DESC" if descending else " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [_loads(r[0]) for r in rows]

    def count(self, platform: str, kind: str) -> int:
        with self._lock:
            return self._conn.execute(
                "SELECT COUNT(*) FROM objects WHERE platform=? AND kind=?", (platform, kind)
            ).fetchone()[0]

    # -- key/value -----------------------------------------------------------------------------
    def kv_get(self, platform: str, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._conn.execute("SELECT value FROM kv WHERE platform=? AND key=?", (platform, key)).fetchone()
        return _loads(row[0]) if row else default

    def kv_set(self, platform: str, key: str, value: Any) -> None:
        with self.transaction():
            self._conn.execute(
                "INSERT INTO kv(platform, key, value) VALUES(?,?,?) "
                "ON CONFLICT(platform, key) DO UPDATE SET value=excluded.value",
                (platform, key, dumps(value)),
            )
