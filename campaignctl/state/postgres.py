"""The PostgreSQL state backend: one state and one lock per workspace, shared by laptops and CI.

Selected by a ``kind: Backend`` document (``spec: {type: postgres, dsnEnv: VAR, workspace: W}``);
the connection string comes only from the environment variable ``dsnEnv`` names, and its password
never appears in a message (:meth:`PostgresBackend.describe` shows ``user@host:port/db``).

Tables (created on first use with ``CREATE TABLE IF NOT EXISTS``; ``campaignctl_meta`` holds the
schema version; they go into the first schema of the connection's ``search_path``, so
``options=-csearch_path=campaignctl`` in the connection string puts them elsewhere than ``public``)::

    campaignctl_states     (workspace PK, serial, lineage, updated)
    campaignctl_resources  (workspace, address) PK, entry jsonb
    campaignctl_locks      (workspace PK, lock_id, host, pid, started, command, backend_pid, acquired)

- :meth:`~PostgresBackend.record` upserts (or deletes) one address in its own transaction, right
  after the call that changed it: a crash at any point loses no finished operation.
- :meth:`~PostgresBackend.commit` writes the whole state in one transaction (only the rows that
  differ) and bumps the serial.
- The lock is ``pg_try_advisory_lock`` on a key derived from the schema and workspace, held by a
  dedicated session connection, plus a ``campaignctl_locks`` row naming the holder. PostgreSQL
  releases the advisory lock when that session ends for any reason (exit, crash, kill -9; a
  vanished host within about a minute, through TCP keepalives), so a dead run never blocks the
  next one; a row whose advisory lock is free is stale and is taken over.
- :meth:`~PostgresBackend.force_unlock` ends the holder's lock session (``pg_terminate_backend``)
  if it is still open — a hung run, or a half-open connection — and removes its row. The run
  itself, if still alive, is not stopped: it keeps recording what it finishes but no longer
  excludes others, and its own unlock later leaves the new holder's lock alone.
"""
from __future__ import annotations

import hashlib
import logging
import re
import time
import weakref
from collections.abc import Callable
from typing import Any, Self, TypeVar
from urllib.parse import quote

from ..errors import LockError, StateError
from .base import LockInfo, State

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = 1
#: transaction-level advisory lock serialising the CREATE TABLEs of concurrent first runs
_SCHEMA_LOCK_KEY = int.from_bytes(hashlib.sha256(b"campaignctl schema").digest()[:8], "big", signed=True)

DDL = [
    "CREATE TABLE IF NOT EXISTS campaignctl_meta (key text PRIMARY KEY, value text NOT NULL)",
    """CREATE TABLE IF NOT EXISTS campaignctl_states (
        workspace text PRIMARY KEY,
        serial bigint NOT NULL,
        lineage text NOT NULL,
        updated timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS campaignctl_resources (
        workspace text NOT NULL,
        address text NOT NULL,
        entry jsonb NOT NULL,
        updated timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace, address))""",
    """CREATE TABLE IF NOT EXISTS campaignctl_locks (
        workspace text PRIMARY KEY,
        lock_id text NOT NULL,
        host text NOT NULL,
        pid integer NOT NULL,
        started text NOT NULL,
        command text NOT NULL,
        backend_pid integer NOT NULL,
        acquired timestamptz NOT NULL DEFAULT now())""",
]

#: the lock session must outlive any idle limit of the server, and a host that vanishes must
#: lose it: the server probes an idle connection after 30 s and gives up after 3 x 10 s more
_LOCK_SESSION = {
    "idle_session_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "tcp_keepalives_idle": "30",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "3",
}


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise StateError(
            "the postgres state backend needs psycopg 3: pip install 'campaignctl[postgres]'"
        ) from None
    return psycopg


class _Connections:
    """The backend's open connections, closed by :meth:`PostgresBackend.close` or when it is
    garbage-collected (or at exit) — never left for psycopg to warn about."""

    def __init__(self) -> None:
        self.data: Any = None
        self.lock: Any = None

    def close(self) -> None:
        for name in ("lock", "data"):
            conn = getattr(self, name)
            setattr(self, name, None)
            if conn is not None:
                conn.close()  # never raises, broken or not


class PostgresBackend:
    def __init__(self, dsn: str, workspace: str = "default", *, dsn_env: str | None = None) -> None:
        self.workspace = workspace
        self.dsn_env = dsn_env
        self._dsn = dsn
        self._params, self._secrets = _parse_dsn(dsn, dsn_env)
        self._conns = _Connections()
        self._finalizer = weakref.finalize(self, self._conns.close)
        self._lock: LockInfo | None = None
        self._key: int | None = None
        self._head_ensured = False

    @classmethod
    def from_env(cls, dsn_env: str, workspace: str = "default", env: dict[str, str] | None = None) -> PostgresBackend:
        import os

        dsn = (env if env is not None else os.environ).get(dsn_env, "")
        if not dsn.strip():
            raise StateError(
                f"the state backend is PostgreSQL but ${dsn_env} is not set (the Backend document's dsnEnv names it): "
                "export the connection string, e.g. postgresql://user:password@host:5432/dbname"
            )
        return cls(dsn, workspace, dsn_env=dsn_env)

    def describe(self) -> str:
        p = self._params
        host = p.get("host") or p.get("hostaddr") or "localhost"
        where = f"{quote(p['user'], safe='')}@" if p.get("user") else ""
        where += f"[{host}]" if ":" in host and not host.startswith("/") else host
        where += f":{p['port']}" if p.get("port") else ""
        where += f"/{p['dbname']}" if p.get("dbname") else ""
        return self._redact(f"postgresql://{where} (workspace {self.workspace})")

    def close(self) -> None:
        """Release the lock (if held) and close the connections."""
        if self._lock is not None:
            self.unlock()
        self._conns.close()  # the finalizer stays armed: a later use reconnects, and is closed too

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connections -------------------------------------------------------------------------
    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _error(self, what: str, exc: BaseException) -> StateError:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return StateError(f"PostgreSQL state {self.describe()}: {what} failed: {self._redact(detail)}")

    def _connect(self) -> Any:
        psycopg = _psycopg()
        extra: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in self._params:
            extra["connect_timeout"] = 10
        if "application_name" not in self._params:
            extra["application_name"] = "campaignctl"
        try:
            return psycopg.connect(self._dsn, **extra)
        except psycopg.Error as exc:
            raise self._error("connecting", exc) from None

    def _data(self) -> Any:
        conn = self._conns.data
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                conn.close()
            self._conns.data = None
            conn = self._connect()
            try:
                self._ensure_schema(conn)
                if self._key is None:
                    schema = conn.execute("SELECT current_schema()").fetchone()[0]
                    self._key = lock_key(schema or "", self.workspace)
            except BaseException:
                conn.close()
                raise
            self._conns.data = conn
        return conn

    def _run(self, what: str, fn: Callable[[Any], T]) -> T:
        """``fn(connection)``; a lost connection is re-opened and ``fn`` retried (every statement
        here is idempotent: upserts, deletes, whole-state writes)."""
        psycopg = _psycopg()
        for attempt in range(4):
            conn = self._data()
            try:
                return fn(conn)
            except psycopg.OperationalError as exc:
                if not conn.broken or attempt == 3:
                    raise self._error(what, exc) from None
                log.warning("PostgreSQL state %s: connection lost during %s; reconnecting", self.describe(), what)
                time.sleep(0.5 * (attempt + 1))
            except psycopg.Error as exc:
                raise self._error(what, exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _ensure_schema(self, conn: Any) -> None:
        psycopg = _psycopg()
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK_KEY])
                version = 0
                if conn.execute("SELECT to_regclass('campaignctl_meta')").fetchone()[0] is not None:
                    row = conn.execute("SELECT value FROM campaignctl_meta WHERE key = 'schema_version'").fetchone()
                    version = int(row[0]) if row else 0
                if version > SCHEMA_VERSION:
                    raise StateError(
                        f"PostgreSQL state {self.describe()} has schema version {version}, made by a newer campaignctl "
                        f"(this one knows version {SCHEMA_VERSION}): upgrade campaignctl"
                    )
                if version == SCHEMA_VERSION:
                    return
                for statement in DDL:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO campaignctl_meta (key, value) VALUES ('schema_version', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    [str(SCHEMA_VERSION)],
                )
        except psycopg.Error as exc:
            raise self._error("creating the state tables", exc) from None

    # -- reading -----------------------------------------------------------------------------
    def read(self) -> State:
        def query(conn: Any) -> State:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                head = conn.execute(
                    "SELECT serial, lineage FROM campaignctl_states WHERE workspace = %s", [self.workspace]
                ).fetchone()
                rows = conn.execute(
                    "SELECT address, entry FROM campaignctl_resources WHERE workspace = %s ORDER BY address",
                    [self.workspace],
                ).fetchall()
            state = State(resources={address: entry for address, entry in rows})
            if head is not None:
                state.serial, state.lineage = int(head[0]), str(head[1])
            return state

        return self._run("reading the state", query)

    # -- writing -----------------------------------------------------------------------------
    def record(self, address: str, entry: dict[str, Any] | None) -> None:
        from psycopg.types.json import Jsonb

        def write(conn: Any) -> None:
            if not self._head_ensured:  # the state's lineage exists from its first record on
                conn.execute(
                    "INSERT INTO campaignctl_states (workspace, serial, lineage) VALUES (%s, 0, %s) "
                    "ON CONFLICT (workspace) DO NOTHING",
                    [self.workspace, State().lineage],
                )
                self._head_ensured = True
            if entry is None:
                conn.execute(
                    "DELETE FROM campaignctl_resources WHERE workspace = %s AND address = %s", [self.workspace, address]
                )
            else:  # autocommit: this statement is its own transaction, committed when it returns
                conn.execute(
                    "INSERT INTO campaignctl_resources (workspace, address, entry) VALUES (%s, %s, %s) "
                    "ON CONFLICT (workspace, address) DO UPDATE SET entry = EXCLUDED.entry, updated = now()",
                    [self.workspace, address, Jsonb(entry)],
                )

        self._run(f"recording {address}", write)

    def commit(self, state: State) -> None:
        from psycopg.types.json import Jsonb

        state.serial += 1

        def write(conn: Any) -> None:
            with conn.transaction():
                current = dict(
                    conn.execute(
                        "SELECT address, entry FROM campaignctl_resources WHERE workspace = %s FOR UPDATE",
                        [self.workspace],
                    ).fetchall()
                )
                gone = [a for a in current if a not in state.resources]
                changed = [(a, e) for a, e in state.resources.items() if current.get(a) != e]
                if gone:
                    conn.execute(
                        "DELETE FROM campaignctl_resources WHERE workspace = %s AND address = ANY(%s)",
                        [self.workspace, gone],
                    )
                if changed:
                    with conn.cursor() as cur:
                        cur.executemany(
                            "INSERT INTO campaignctl_resources (workspace, address, entry) VALUES (%s, %s, %s) "
                            "ON CONFLICT (workspace, address) DO UPDATE SET entry = EXCLUDED.entry, updated = now()",
                            [(self.workspace, a, Jsonb(e)) for a, e in changed],
                        )
                conn.execute(
                    "INSERT INTO campaignctl_states (workspace, serial, lineage) VALUES (%s, %s, %s) "
                    "ON CONFLICT (workspace) DO UPDATE SET serial = EXCLUDED.serial, lineage = EXCLUDED.lineage, updated = now()",
                    [self.workspace, state.serial, state.lineage],
                )
            self._head_ensured = True

        self._run("writing the state", write)

    # -- locking -----------------------------------------------------------------------------
    def lock(self, command: str, timeout: float = 0.0) -> LockInfo:
        psycopg = _psycopg()
        if self._lock is not None:
            raise LockError(f"state {self.describe()} is already locked by this run: {self._lock.describe()}")
        self._data()  # tables and lock key
        key = self._key
        assert key is not None  # _data set it
        info = LockInfo.new(command)
        conn = self._connect()
        deadline = time.monotonic() + timeout
        try:
            for name, value in _LOCK_SESSION.items():
                try:
                    conn.execute(f"SET {name} = {value}")
                except psycopg.errors.UndefinedObject:  # pragma: no cover - an older server
                    pass
            while True:
                if conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]:
                    # ours: a row still there is the holder record of a session that ended
                    stale, _ = _holder(conn, self.workspace)
                    conn.execute(
                        "INSERT INTO campaignctl_locks (workspace, lock_id, host, pid, started, command, backend_pid) "
                        "VALUES (%s, %s, %s, %s, %s, %s, pg_backend_pid()) ON CONFLICT (workspace) DO UPDATE SET "
                        "lock_id = EXCLUDED.lock_id, host = EXCLUDED.host, pid = EXCLUDED.pid, started = EXCLUDED.started, "
                        "command = EXCLUDED.command, backend_pid = EXCLUDED.backend_pid, acquired = now()",
                        [self.workspace, info.id, info.host, info.pid, info.started, info.command],
                    )
                    if stale is not None:
                        log.warning("took over the lock of a run that ended without releasing it: %s", stale.describe())
                    self._lock, self._conns.lock = info, conn
                    return info
                if time.monotonic() >= deadline:
                    holder, pid = _live_holder(conn, self.workspace, key)
                    if holder is not None:
                        what, hint = holder.describe(), holder.id
                    else:
                        what, hint = f"PostgreSQL session {pid} (it has not recorded its holder yet)", "<ID>"
                    raise LockError(
                        f"state {self.describe()} is locked: {what}. Wait for it to finish, use --lock-timeout, "
                        f"or if that run hangs: campaignctl force-unlock {hint}"
                    )
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        except psycopg.Error as exc:
            conn.close()
            raise self._error("locking", exc) from None
        except BaseException:
            conn.close()
            raise

    def unlock(self) -> None:
        if self._lock is None:
            return
        psycopg = _psycopg()
        conn, info = self._conns.lock, self._lock
        self._lock, self._conns.lock = None, None
        try:
            # the row first, then the advisory lock: a free advisory lock always means a stale row
            conn.execute("DELETE FROM campaignctl_locks WHERE workspace = %s AND lock_id = %s", [self.workspace, info.id])
            conn.execute("SELECT pg_advisory_unlock(%s)", [self._key])
        except psycopg.Error:
            pass  # the session is gone (force-unlock, server restart): PostgreSQL released the lock with it
        finally:
            conn.close()

    def force_unlock(self, lock_id: str) -> LockInfo:
        psycopg = _psycopg()

        def query(conn: Any) -> tuple[LockInfo | None, int | None, int | None]:
            return *_holder(conn, self.workspace), _advisory_holder(conn, self._key)

        holder, backend_pid, session = self._run("reading the lock", query)
        if holder is None:
            if session is not None:
                raise LockError(
                    f"state {self.describe()} is locked by PostgreSQL session {session}, which has not recorded its "
                    "holder yet; try again in a moment"
                )
            raise LockError(f"state {self.describe()} is not locked")
        if holder.id != lock_id:
            raise LockError(f"lock id {lock_id} does not match the current lock ({holder.describe()})")

        def end_session(conn: Any) -> None:
            if session is not None and session == backend_pid:
                try:
                    conn.execute("SELECT pg_terminate_backend(%s)", [session])
                except psycopg.errors.InsufficientPrivilege:
                    raise LockError(
                        f"PostgreSQL refused to end the lock session {session} of {holder.describe()} (it belongs to "
                        f"another database role): ask an administrator to run SELECT pg_terminate_backend({session})"
                    ) from None
                deadline = time.monotonic() + 10
                while _advisory_holder(conn, self._key) == session and time.monotonic() < deadline:
                    time.sleep(0.05)
            conn.execute("DELETE FROM campaignctl_locks WHERE workspace = %s AND lock_id = %s", [self.workspace, lock_id])

        self._run("removing the lock", end_session)
        return holder


def lock_key(schema: str, workspace: str) -> int:
    """The advisory lock key of a workspace: 64 bits of sha256, signed as PostgreSQL's bigint."""
    digest = hashlib.sha256(f"campaignctl state\0{schema}\0{workspace}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _holder(conn: Any, workspace: str) -> tuple[LockInfo | None, int | None]:
    """The holder row of ``workspace``, and the PostgreSQL session (backend pid) that wrote it."""
    row = conn.execute(
        "SELECT lock_id, host, pid, started, command, backend_pid FROM campaignctl_locks WHERE workspace = %s",
        [workspace],
    ).fetchone()
    return (LockInfo(*row[:5]), row[5]) if row else (None, None)


#: how long a refused lock waits for the winner to write its holder row (it does so right after
#: taking the advisory lock, so this is only the window between two statements of another session)
_HOLDER_GRACE = 3.0


def _live_holder(conn: Any, workspace: str, key: int) -> tuple[LockInfo | None, int | None]:
    """The holder row of the session that holds the advisory lock now, and that session's pid.

    The winner of a race writes its row just after ``pg_try_advisory_lock``; a loser that looks in
    between sees no row, or the row a crashed run left. It waits (briefly) for the row whose
    ``backend_pid`` is the advisory lock's holder, so the error names the run that actually holds it.
    """
    grace = time.monotonic() + _HOLDER_GRACE
    while True:
        pid = _advisory_holder(conn, key)
        holder, backend_pid = _holder(conn, workspace)
        if holder is not None and (pid is None or backend_pid == pid):
            return holder, pid
        if time.monotonic() >= grace:
            return None, pid
        time.sleep(0.05)


def _advisory_holder(conn: Any, key: int | None) -> int | None:
    """The backend pid of the session holding the advisory lock ``key`` in this database."""
    if key is None:
        return None
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    row = conn.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND classid = %s::bigint::oid AND objid = %s::bigint::oid",
        [unsigned >> 32, unsigned & 0xFFFFFFFF],
    ).fetchone()
    return int(row[0]) if row else None


_URL_PASSWORD = re.compile(r"^[a-z]+://[^:/@?#]*:([^@/?#]+)@", re.IGNORECASE)


def _parse_dsn(dsn: str, dsn_env: str | None) -> tuple[dict[str, str], list[str]]:
    """The connection parameters (for describe) and the strings to redact from messages."""
    from_where = f"${dsn_env}" if dsn_env else "the connection string"
    psycopg = _psycopg()
    try:
        params = {k: str(v) for k, v in psycopg.conninfo.conninfo_to_dict(dsn).items() if v is not None}
    except psycopg.Error:
        # the parser's message quotes the string, which may hold a password: not shown
        raise StateError(
            f"the PostgreSQL connection string in {from_where} does not parse (not shown: it may hold a password); "
            "use postgresql://user:password@host:5432/dbname or host=... dbname=... user=..."
        ) from None
    secrets = {dsn.strip()}
    if params.get("password"):
        secrets.add(params["password"])
    match = _URL_PASSWORD.match(dsn.strip())
    if match:
        secrets.add(match.group(1))  # as written (percent-encoded) in the URL
    # longest first, so a password inside the whole string does not leave the rest behind
    return params, sorted((s for s in secrets if s), key=len, reverse=True)


__all__ = ["SCHEMA_VERSION", "PostgresBackend", "lock_key"]
