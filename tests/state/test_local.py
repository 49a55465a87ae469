"""campaignctl.state.local.LocalBackend: atomic state file, crash journal, backup, lock file."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from campaignctl.errors import LockError, StateError
from campaignctl.state import LocalBackend, State
from campaignctl.state.base import LockInfo

Make = Callable[[], LocalBackend]


def entry(remote_id: object, name: str = "x") -> dict[str, object]:
    return {"provider": "swarms", "kind": "Task", "name": name, "id": remote_id, "attrs": None, "protect": False}


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / ".campaignctl"


@pytest.fixture
def backends(state_dir: Path) -> Iterator[list[LocalBackend]]:
    """Backends made through ``make``; their open journals are closed at teardown (as a crash would)."""
    made: list[LocalBackend] = []
    yield made
    for backend in made:
        if backend._journal_fh is not None:
            backend._journal_fh.close()


@pytest.fixture
def make(state_dir: Path, backends: list[LocalBackend]) -> Callable[[], LocalBackend]:
    def factory() -> LocalBackend:
        backend = LocalBackend(state_dir)
        backends.append(backend)
        return backend

    return factory


# -- reading and writing ---------------------------------------------------------------------
def test_missing_state_reads_as_empty(state_dir: Path) -> None:
    state = LocalBackend(state_dir).read()
    assert state.resources == {}
    assert state.serial == 0
    assert not state_dir.exists()


def test_commit_then_read_round_trips(make: Make) -> None:
    state = State(resources={"swarms/task/a": entry(1, "a"), "swarms/job/b": entry("j-2", "b")})
    make().commit(state)
    again = make().read()
    assert again.resources == state.resources
    assert again.lineage == state.lineage
    assert again.serial == 1
    on_disk = json.loads((make().path).read_text())
    assert on_disk["version"] == 1 and on_disk["serial"] == 1


def test_a_shared_read_is_parsed_once_for_the_next_read_of_the_same_text(make: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    from campaignctl.state import local

    make().commit(State(resources={"swarms/task/a": entry(1, "a")}))
    parsed: list[str] = []
    real = local._parse
    monkeypatch.setattr(local, "_parse", lambda text: parsed.append(text) or real(text))
    shared = make().read(share=True)  # as the prefetch thread reads it
    again = make().read()  # the plan's read takes that parse
    assert len(parsed) == 1 and again.resources == shared.resources and again.resources is not shared.resources
    make().read()
    assert len(parsed) == 2  # taken once
    make().read(share=True)
    make().commit(State(resources={"swarms/task/b": entry(2, "b")}, serial=again.serial, lineage=again.lineage))
    assert list(make().read().resources) == ["swarms/task/b"]  # another text: parsed, not the kept one
    before = len(parsed)
    make().read(share=True)
    local.forget_shared()  # what the prefetch does when it ends
    make().read()
    assert len(parsed) == before + 2


def test_the_state_file_has_a_line_per_resource(make: Make) -> None:
    """A diff of two states names the resources that changed, one line each."""
    state = State(resources={"swarms/task/a": entry(1, "a"), "swarms/job/b": {**entry("j-2", "b"), "attrs": {"z": [1], "é": None}}})
    make().commit(state)
    text = make().path.read_text()
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and text.endswith("}\n")
    (job,) = [line for line in lines if line.startswith('    "swarms/job/b": {')]
    assert json.loads(job.split(": ", 1)[1].rstrip(",")) == state.resources["swarms/job/b"]
    assert [line.split('"')[1] for line in lines if line.startswith('    "')] == ["swarms/job/b", "swarms/task/a"]  # sorted
    assert json.loads(text)["resources"] == state.resources


def test_the_state_file_holds_what_json_holds_whatever_encodes_it(make: Make) -> None:
    odd = {"big": 2**70, "surrogate": "\ud800", "int keys": {1: "one"}, "text": "é ✓", "float": 0.1, "nested": {"b": 1, "a": [2.5, None]}}
    state = State(resources={"swarms/task/plain": entry(1, "plain"), "swarms/task/odd": {**entry(2, "odd"), "attrs": odd}})
    make().commit(state)
    text = make().path.read_text(encoding="utf-8")
    again = make().read()
    assert again.resources["swarms/task/plain"] == state.resources["swarms/task/plain"]
    assert again.resources["swarms/task/odd"]["attrs"] == {**odd, "int keys": {"1": "one"}}  # as json.dumps writes them
    assert text.index('"a"') < text.index('"b"')  # keys sorted at every level
    assert [line.split(": ", 1)[0].strip() for line in text.splitlines() if line.startswith('    "')] == [
        '"swarms/task/odd"', '"swarms/task/plain"']  # a line per resource


def test_commit_increments_the_serial(make: Make) -> None:
    backend = make()
    state = backend.read()
    backend.commit(state)
    backend.commit(state)
    assert make().read().serial == 2


def test_commit_leaves_no_temp_files(make: Make, state_dir: Path) -> None:
    backend = make()
    backend.commit(State())
    backend.commit(State())
    assert sorted(p.name for p in state_dir.iterdir()) == ["state.json", "state.json.backup"]


def test_backup_holds_the_previous_state(make: Make) -> None:
    backend = make()
    first = State(resources={"swarms/task/a": entry(1)})
    backend.commit(first)
    assert not backend.backup.exists()
    previous = backend.path.read_text()
    backend.commit(State(resources={"swarms/task/a": entry(2)}, lineage=first.lineage))
    assert backend.backup.read_text() == previous
    assert json.loads(backend.backup.read_text())["resources"]["swarms/task/a"]["id"] == 1
    assert make().read().resources["swarms/task/a"]["id"] == 2


# -- the journal -----------------------------------------------------------------------------
def test_recorded_entries_survive_a_crash(make: Make) -> None:
    base = make()
    base.commit(State(resources={"swarms/task/old": entry(1, "old"), "swarms/task/gone": entry(2, "gone")}))

    crashed = make()
    crashed.record("swarms/task/new", entry(3, "new"))
    crashed.record("swarms/task/gone", None)
    crashed.record("swarms/task/old", entry(10, "old"))
    # no commit: the process died here; a new run reads the directory

    state = make().read()
    assert state.resources == {"swarms/task/old": entry(10, "old"), "swarms/task/new": entry(3, "new")}


def test_journal_without_a_state_file(make: Make) -> None:
    make().record("swarms/task/a", entry(1))
    assert make().read().resources == {"swarms/task/a": entry(1)}


def test_journal_is_replayed_in_order(make: Make) -> None:
    crashed = make()
    crashed.record("swarms/task/a", entry(1))
    crashed.record("swarms/task/a", None)
    crashed.record("swarms/task/a", entry(2))
    assert make().read().resources == {"swarms/task/a": entry(2)}


def test_journal_cut_in_half_is_replayed_up_to_the_cut(make: Make) -> None:
    crashed = make()
    crashed.record("swarms/task/a", entry(1, "a"))
    crashed.record("swarms/task/b", entry(2, "b"))
    crashed.record("swarms/task/c", entry(3, "c"))
    crashed._journal_fh.close()
    crashed._journal_fh = None
    data = crashed.journal.read_bytes()
    lines = data.splitlines(keepends=True)
    last = lines[-1]
    crashed.journal.write_bytes(b"".join(lines[:-1]) + last[: len(last) // 2])

    state = make().read()
    assert state.resources == {"swarms/task/a": entry(1, "a"), "swarms/task/b": entry(2, "b")}


def test_commit_folds_the_journal_in_and_removes_it(make: Make) -> None:
    backend = make()
    state = backend.read()
    state.resources["swarms/task/a"] = entry(1)
    backend.record("swarms/task/a", entry(1))
    assert backend.journal.exists()
    backend.commit(state)
    assert not backend.journal.exists()
    assert make().read().resources == {"swarms/task/a": entry(1)}
    # a later record starts a fresh journal
    backend.record("swarms/task/b", entry(2))
    assert make().read().resources == {"swarms/task/a": entry(1), "swarms/task/b": entry(2)}
    backend.commit(make().read())
    assert not backend.journal.exists()


# -- corrupt state ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "garbage",
    [b'{"resources": {"swarms/task/a": ', b"[1, 2]", b'{"resources": []}', b'{"resources": "\xff\xfe"}'],
    ids=["truncated", "not-an-object", "resources-not-a-mapping", "not-utf8"],
)
def test_corrupt_state_names_the_backup_and_is_not_overwritten(make: Make, garbage: bytes) -> None:
    backend = make()
    backend.commit(State(resources={"swarms/task/a": entry(1)}))
    backend.commit(State(resources={"swarms/task/a": entry(2)}))
    backend.path.write_bytes(garbage)

    with pytest.raises(StateError) as info:
        make().read()
    message = str(info.value)
    assert str(backend.path) in message
    assert str(backend.backup) in message
    assert "corrupt" in message

    with pytest.raises(StateError, match="refusing to overwrite"):
        make().commit(State())
    assert backend.path.read_bytes() == garbage
    assert json.loads(backend.backup.read_text())["resources"]["swarms/task/a"]["id"] == 1


def test_corrupt_state_without_a_backup(make: Make) -> None:
    backend = make()
    backend.dir.mkdir(parents=True)
    backend.path.write_text("{not json")
    with pytest.raises(StateError) as info:
        backend.read()
    assert str(backend.path) in str(info.value)
    assert "backup" not in str(info.value)
    with pytest.raises(StateError, match="refusing to overwrite"):
        backend.commit(State())
    assert backend.path.read_text() == "{not json"


# -- locking ---------------------------------------------------------------------------------
def holder_on_disk(backend: LocalBackend) -> dict[str, object]:
    data: dict[str, object] = json.loads(backend.lock_path.read_text())
    return data


def test_lock_writes_who_holds_it(make: Make) -> None:
    backend = make()
    info = backend.lock("apply")
    assert info.host == socket.gethostname()
    assert info.pid == os.getpid()
    assert info.command == "apply"
    assert holder_on_disk(backend) == info.__dict__
    backend.unlock()
    assert not backend.lock_path.exists()


def test_lock_is_exclusive_and_names_the_holder(make: Make) -> None:
    first = make()
    info = first.lock("apply")
    with pytest.raises(LockError) as caught:
        make().lock("plan")
    message = str(caught.value)
    for part in (info.host, str(info.pid), info.started, info.id):
        assert part in message
    assert f"force-unlock {info.id}" in message
    assert holder_on_disk(first)["id"] == info.id  # untouched
    first.unlock()
    second = make()
    assert second.lock("plan").id != info.id
    second.unlock()


def test_lock_timeout_waits_then_fails(make: Make) -> None:
    make().lock("apply")
    started = time.monotonic()
    with pytest.raises(LockError):
        make().lock("plan", timeout=0.5)
    assert time.monotonic() - started >= 0.45


def test_lock_timeout_succeeds_when_the_holder_lets_go(make: Make) -> None:
    first = make()
    first.lock("apply")
    timer = threading.Timer(0.3, first.unlock)
    timer.start()
    try:
        started = time.monotonic()
        info = make().lock("plan", timeout=10)
        assert 0.25 <= time.monotonic() - started < 5
        assert info.command == "plan"
    finally:
        timer.join()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def plant_lock(backend: LocalBackend, *, host: str, pid: int) -> LockInfo:
    info = LockInfo(id="old-lock-id", host=host, pid=pid, started="2020-01-01T00:00:00Z", command="apply")
    backend.dir.mkdir(parents=True, exist_ok=True)
    backend.lock_path.write_text(json.dumps(info.__dict__))
    return info


def test_lock_left_by_a_dead_process_on_this_host_is_taken_over(make: Make) -> None:
    backend = make()
    plant_lock(backend, host=socket.gethostname(), pid=dead_pid())
    info = backend.lock("apply")
    assert holder_on_disk(backend)["id"] == info.id != "old-lock-id"


def test_lock_of_a_dead_pid_on_another_host_is_respected(make: Make) -> None:
    backend = make()
    plant_lock(backend, host="some-other-host.invalid", pid=dead_pid())
    with pytest.raises(LockError, match="old-lock-id"):
        backend.lock("apply")
    assert holder_on_disk(backend)["id"] == "old-lock-id"


def test_lock_of_a_live_process_on_this_host_is_respected(make: Make) -> None:
    backend = make()
    plant_lock(backend, host=socket.gethostname(), pid=os.getppid())
    with pytest.raises(LockError, match="old-lock-id"):
        backend.lock("apply")


def test_unreadable_lock_file_blocks_and_is_named(make: Make) -> None:
    backend = make()
    backend.dir.mkdir(parents=True)
    backend.lock_path.write_text("{half")
    with pytest.raises(LockError) as info:
        backend.lock("apply")
    assert str(backend.lock_path) in str(info.value)
    assert backend.lock_path.read_text() == "{half"


def test_force_unlock_with_the_wrong_id_refuses(make: Make) -> None:
    holder = make()
    info = holder.lock("apply")
    with pytest.raises(LockError) as caught:
        make().force_unlock("not-the-id")
    assert "not-the-id" in str(caught.value) and info.id in str(caught.value)
    assert holder_on_disk(holder)["id"] == info.id


def test_force_unlock_with_the_right_id_removes_it(make: Make) -> None:
    holder = make()
    info = holder.lock("apply")
    removed = make().force_unlock(info.id)
    assert removed == info
    assert not holder.lock_path.exists()
    with pytest.raises(LockError, match="not locked"):
        make().force_unlock(info.id)


def test_unlock_leaves_someone_elses_lock_alone(make: Make) -> None:
    first = make()
    first_info = first.lock("apply")
    make().force_unlock(first_info.id)  # the first run was presumed dead
    second = make()
    second_info = second.lock("apply")
    first.unlock()  # the first run wakes up and finishes
    assert holder_on_disk(second)["id"] == second_info.id
    second.unlock()
    assert not second.lock_path.exists()


def test_unlock_without_a_lock_does_nothing(make: Make) -> None:
    holder = make()
    info = holder.lock("apply")
    make().unlock()
    assert holder_on_disk(holder)["id"] == info.id


def test_a_state_file_corrupted_after_it_was_read_is_not_overwritten(make: Make) -> None:
    backend = make()
    backend.commit(State(resources={"swarms/task/a": entry(1)}))
    state = backend.read()  # read and parsed: commit need not parse the same text again
    state.resources["swarms/task/a"] = entry(2)
    backend.commit(state)
    assert backend.read().resources["swarms/task/a"]["id"] == 2
    backend.path.write_text("{not json")  # and then someone else's write
    with pytest.raises(StateError, match="refusing to overwrite"):
        backend.commit(state)
