"""Files campaignctl writes: private (0600, folders 0700) and, where it matters, atomic.

What campaignctl keeps on disk (state, journal, backups, saved plans, the ratings ledgers, the
sandbox's database, the caches) holds remote ids, workers' ids and answers: nobody else on the
machine needs to read it, so it is created readable by its owner only, whatever the umask.
A file that already exists keeps its mode (the user may have chosen another).

:func:`atomic_write` writes a whole file or nothing: a private temporary file beside it, fsync,
rename, fsync of the folder. On any error the temporary file is removed and the error raised.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Make ``path`` (and missing parents) as folders only their owner can enter; an existing
    folder is left as it is."""
    if not path.is_dir():
        # mkdir's mode is filtered by the umask, and names only the last folder: parents made
        # on the way get it too, then each is set exactly
        made = [p for p in (path, *path.parents) if not p.exists()]
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        for folder in made:
            with contextlib.suppress(OSError):  # made by another process meanwhile, or not ours
                os.chmod(folder, DIR_MODE)
    return path


def open_private(path: Path, mode: str = "a", encoding: str | None = "utf-8") -> IO[Any]:
    """``open(path, mode)`` for writing (``"w"``, ``"a"``, ``"wb"``, ``"ab"``), the file created
    0600 if it is new (its folder too, 0700)."""
    private_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        return os.fdopen(fd, mode, encoding=None if "b" in mode else encoding)
    except BaseException:
        os.close(fd)
        raise


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: str | bytes, keep_mode: bool = True) -> None:
    """Replace ``path`` by ``data`` whole, or leave it as it was (and no temporary file behind).

    A new file is 0600; a file that exists keeps its mode (``keep_mode=False``, for campaignctl's
    own caches: 0600 too). Something that is no regular file (a device such as ``/dev/stdout``, a
    pipe) cannot be replaced: it is written directly.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        with open(path, "wb") as fh:
            fh.write(raw)
        return
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
            if st is not None and keep_mode:
                os.fchmod(fh.fileno(), stat.S_IMODE(st.st_mode))
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # a failed write or fsync names no file: the one being written
        raise
    fsync_dir(path.parent)


def describe(exc: OSError, path: Path | str | None = None) -> str:
    """``PATH: No space left on device`` for an error of the file system."""
    where = exc.filename if exc.filename is not None else path
    reason = exc.strerror or str(exc)
    return f"{where}: {reason}" if where is not None else reason
