"""campaignctl.fsutil and its users: private files and folders, atomic writes that leave nothing
behind when the disk fails (issue 20: 9, 10). Tests run as root, which ignores permissions:
a failing disk is an os-level call made to fail."""
from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from campaignctl.errors import StateError
from campaignctl.fsutil import atomic_write, open_private, private_dir
from campaignctl.state import LocalBackend, State


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp") or p.name.startswith("state.lock"))


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def disk_full(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def entry(remote_id: object) -> dict[str, object]:
    return {"provider": "swarms", "kind": "Task", "name": "x", "id": remote_id, "attrs": None, "protect": False}


def test_private_files_and_folders_whatever_the_umask(tmp_path: Path) -> None:
    folder = private_dir(tmp_path / "a" / "b")
    assert mode(tmp_path / "a") == 0o700 and mode(folder) == 0o700
    with open_private(tmp_path / "c" / "log.jsonl") as fh:
        fh.write("x\n")
    assert mode(tmp_path / "c") == 0o700 and mode(tmp_path / "c" / "log.jsonl") == 0o600
    atomic_write(tmp_path / "new.json", "{}")
    assert mode(tmp_path / "new.json") == 0o600
    chosen = tmp_path / "shared.json"
    chosen.write_text("old")
    chosen.chmod(0o640)  # a mode the user chose is kept
    atomic_write(chosen, "new")
    assert chosen.read_text() == "new" and mode(chosen) == 0o640


def test_atomic_write_on_a_full_disk_leaves_the_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "plan.json"
    target.write_text("before")
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError) as info:
        atomic_write(target, "after")
    assert info.value.errno == errno.ENOSPC
    assert target.read_text() == "before" and leftovers(tmp_path) == []


def test_atomic_write_writes_a_device_and_never_replaces_it() -> None:
    atomic_write(Path("/dev/null"), "x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    with pytest.raises(OSError) as info:
        atomic_write(Path("/dev/full"), "x")
    assert info.value.errno == errno.ENOSPC and stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_state_files_are_private(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / ".campaignctl")
    backend.lock("test")
    try:
        assert mode(backend.dir) == 0o700 and mode(backend.lock_path) == 0o600
        backend.record("swarms/task/x", entry(1))
        assert mode(backend.journal) == 0o600
        backend.commit(backend.read())
        backend.commit(backend.read())
    finally:
        backend.unlock()
    assert mode(backend.path) == 0o600 and mode(backend.backup) == 0o600


def test_a_state_commit_on_a_full_disk_is_a_state_error_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = LocalBackend(tmp_path / ".campaignctl")
    state = State()
    state.resources["swarms/task/x"] = entry(1)
    backend.commit(state)
    before = backend.path.read_text()
    backend.record("swarms/task/y", entry(2))
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(StateError) as info:
        backend.commit(backend.read())
    assert f"cannot write the state: {backend.dir}" in str(info.value) and "No space left on device" in str(info.value)
    assert f"the calls made are kept in {backend.journal}" in str(info.value)
    assert backend.path.read_text() == before and leftovers(backend.dir) == []
    monkeypatch.undo()
    assert set(LocalBackend(backend.dir).read().resources) == {"swarms/task/x", "swarms/task/y"}  # nothing lost
    backend._journal_fh.close()


def test_a_journal_write_on_a_full_disk_is_a_state_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = LocalBackend(tmp_path / ".campaignctl")
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(StateError, match=r"cannot record swarms/task/x in the state journal: .*state.journal: No space left"):
        backend.record("swarms/task/x", entry(1))
    backend._journal_fh.close()


def test_a_lock_on_a_full_disk_is_a_state_error_and_leaves_no_lock_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = LocalBackend(tmp_path / ".campaignctl")
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(StateError, match=r"cannot lock the state: .*state\.lock\.[0-9a-f-]+: No space left on device"):
        backend.lock("apply")
    assert leftovers(backend.dir) == []
    monkeypatch.undo()

    def no_link(*args: Any) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(backend.lock_path))

    monkeypatch.setattr(os, "link", no_link)
    with pytest.raises(StateError, match="cannot lock the state: .*state.lock: Read-only file system"):
        backend.lock("apply")
    assert leftovers(backend.dir) == []


def test_the_validation_cache_is_made_private_even_over_an_older_file(tmp_path: Path) -> None:
    from campaignctl.config.valid_cache import ValidCache

    first = ValidCache(tmp_path / "cache")
    assert first.path is not None
    first.path.parent.mkdir()
    first.path.write_bytes(b"\0" * 16)
    first.path.chmod(0o644)  # as a version before private files wrote it
    cache = ValidCache(tmp_path / "cache")
    cache.add(b"\1" * 16)
    cache.save()
    assert mode(first.path) == 0o600 and len(first.path.read_bytes()) == 32
