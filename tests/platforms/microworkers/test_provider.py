"""Unit tests of the Microworkers v2 provider: rows, Schedule mapping, error mapping."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from campaignctl.config.load import load_config
from campaignctl.errors import ApiError, ConfigError
from campaignctl.platforms.microworkers.execution import _job_message, _with_sources
from campaignctl.platforms.microworkers.provider import mw_error
from campaignctl.platforms.microworkers.rows import (
    job_limit,
    load_rows,
    normalise_limit,
)
from campaignctl.sandbox.microworkers.rules import Checker, check_job_limit

PROVIDER = "kind: Provider\nname: mw\nspec: {type: microworkers, endpoint: sandbox}\n---\n"
TEMPLATE = "kind: Template\nname: t\nprovider: mw\nspec: {htmlCode: 'Open {{url}}'}\n---\n"


def _campaign(tasks: str) -> str:
    return (
        "kind: Campaign\nname: c\nprovider: mw\nspec:\n  title: T\n  description: D\n  categoryId: '1001'\n"
        "  paymentPerTask: 0.1\n  minutesToFinish: 5\n  template: t\n  internationalZone: {}\n" + tasks
    )


def _config(tmp_path: Path, tasks: str, files: dict[str, bytes] | None = None) -> Any:
    for name, data in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "c.yaml").write_text(PROVIDER + TEMPLATE + _campaign(tasks))
    return load_config(tmp_path)


def test_jsonl_rows_with_test_cases(tmp_path: Path) -> None:
    lines = "".join(f'{{"id": "r{i}", "url": "https://x/{i}", "test:ok": "yes|y"}}\n' for i in range(30))
    config = _config(tmp_path, "  tasks: {file: rows.jsonl}\n", {"rows.jsonl": lines.encode()})
    rows = load_rows(config.resources["mw/campaign/c"], tmp_path)
    assert rows is not None and not rows.diags
    assert rows.rows[3].body() == {"id": "r3", "data": [{"key": "url", "value": "https://x/3"}],
                                   "testCases": [{"question": "ok", "answers": ["yes", "y"]}]}
    assert rows.rows[3].source.endswith("rows.jsonl:4")


def test_inline_rows_without_id_get_a_stable_hash(tmp_path: Path) -> None:
    inline = "  tasks:\n    rows:\n" + "".join(f"      - {{url: 'https://x/{i}'}}\n" for i in range(30))
    config = _config(tmp_path, inline)
    doc = config.resources["mw/campaign/c"]
    first, second = load_rows(doc, tmp_path), load_rows(doc, tmp_path)
    assert first is not None and second is not None and not first.diags
    assert [r.id for r in first.rows] == [r.id for r in second.rows]
    assert len({r.id for r in first.rows}) == 30 and all(r.id.isalnum() for r in first.rows)


def test_csv_row_width_and_bad_id(tmp_path: Path) -> None:
    csv = "id,url\n" + "".join(f"r{i},https://x/{i}\n" for i in range(30)) + "r-x,https://y\nr99,a,b\n"
    with pytest.raises(Exception) as info:
        _config(tmp_path, "  tasks: {file: data/rows.csv}\n", {"data/rows.csv": csv.encode()})
    text = str(info.value)
    assert "rows.csv:32:1: row id 'r-x'" in text
    assert "rows.csv:33:1: 3 values but the header names 2 columns" in text


SCHEDULES = [
    {"timeZone": "Europe/Berlin", "daysOfWeek": ["mon", "fri"], "workingHours": {"from": "08:00", "to": "18:00"},
     "limitPerDay": 20, "limitPerHour": 5},
    {"limitPerDay": 10},
    {"start": "2026-12-01T09:00", "end": "2026-12-20T18:00", "daysOfWeek": ["sat"]},
    {"timeZone": "UTC", "limitPerHour": 3, "events": [
        {"type": "one-time", "start": "2026-12-01T09:00", "end": "2026-12-01T17:00", "limit": 4},
        {"type": "recurring", "start": "2026-12-02T09:00", "end": "2026-12-20T12:00", "daysOfWeek": ["tue"], "limit": 2},
    ]},
]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedule_maps_onto_what_the_sandbox_accepts_and_echoes(schedule: dict[str, Any]) -> None:
    mapped = job_limit(schedule)
    checker = Checker()
    echoed = check_job_limit(checker, mapped)
    assert checker.errors == []
    assert normalise_limit(echoed) == mapped


def test_standard_schedule_shape() -> None:
    mapped = job_limit(SCHEDULES[0])
    assert mapped["enabled"] is True and mapped["advancedSchedule"] is None
    # the documented shape: limitPerDay beside standardSchedule, not inside it (issue 19, finding 8)
    assert mapped["limitPerDay"] == 20
    assert mapped["standardSchedule"] == {
        "timeZone": "Europe/Berlin", "limitPerHour": 5, "allDay": False, "allWeekdays": False,
        "daysOfWeek": [1, 5], "workingHours": ["08:00-18:00"],
    }
    assert job_limit(None)["enabled"] is False


def test_problem_json_error_code() -> None:
    body = {"type": "x#ValidationFailed", "title": "ValidationFailed", "status": 400, "detail": "speed: Must be between 1 and 1000.",
            "errors": [{"field": "speed", "message": "Must be between 1 and 1000."}]}
    response = httpx.Response(400, json=body)
    assert mw_error(response) == ("ValidationFailed", "speed: Must be between 1 and 1000.")


def test_row_errors_map_back_to_source_lines() -> None:
    sources = ["data/rows.csv:2", "data/rows.csv:3"]
    info = {"id": "j1", "status": "Validation_Error", "output": "",
            "errors": [{"index": 1, "id": "r7", "field": "tasks[1].data", "message": "Missing value for template variable 'url'."}]}
    assert "data/rows.csv:3 (id r7): Missing value for template variable 'url'." in _job_message(info, sources)
    info = {"id": "j2", "output": "tasks[0].data (id 'r1'): Task data is empty."}
    assert "tasks[0] (data/rows.csv:2).data" in _job_message(info, sources)
    err = _with_sources(ApiError("tasks[1].id: bad", code="ValidationFailed", status=400), sources)
    assert err.code == "ValidationFailed" and "tasks[1] (data/rows.csv:3).id: bad" in str(err)


@pytest.mark.parametrize("name", ["rows.csv", "rows.jsonl"])
def test_rows_are_remembered_by_content_and_problems_never(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    from campaignctl.platforms.microworkers import rows as microworkers_rows

    monkeypatch.setenv("CAMPAIGNCTL_CACHE_DIR", str(tmp_path / "cache"))
    parsed: list[str] = []
    real = microworkers_rows.RowTable.scan

    def parse(path: Path, shown: str, rows: Any) -> Any:  # the file's one streamed read
        parsed.append(shown)
        return real(path, shown, rows)

    monkeypatch.setattr(microworkers_rows.RowTable, "scan", parse)
    if name == "rows.csv":
        data = "id,url,test:ok\n" + "".join(f"r{i},https://x/{i},yes|y\n" for i in range(30))
    else:
        data = "".join(f'{{"id": "r{i}", "url": "https://x/{i}", "test:ok": "yes|y"}}\n' for i in range(30))
    repo = tmp_path / "repo"
    repo.mkdir()

    def rows_of() -> Any:
        config = _config(repo, f"  tasks: {{file: {name}}}\n", {name: data.encode()})
        rows = load_rows(config.resources["mw/campaign/c"], repo)
        assert rows is not None
        return rows

    cold = rows_of()
    warm = rows_of()
    assert len(parsed) == 1 and list((tmp_path / "cache").glob("rows-*.bin"))  # parsed once, then remembered
    assert [(r.id, r.data, r.tests, r.source, r.digest) for r in warm.rows] == [(r.id, r.data, r.tests, r.source, r.digest) for r in cold.rows]
    assert warm.columns == cold.columns and warm.file == cold.file and not warm.diags
    data = data.replace("https://x/3", "https://x/33")  # an edit: parsed again
    edited = rows_of()
    assert len(parsed) == 2 and edited.rows[3].data["url"] == "https://x/33"
    data += "r-x,https://bad,\n" if name == "rows.csv" else '{"id": "r-x", "url": "https://bad"}\n'
    for _ in range(2):  # a problem in the file: reported every time, never remembered
        with pytest.raises(ConfigError, match="letters and digits only"):
            rows_of()
    assert len(parsed) == 4
    for cache_file in (tmp_path / "cache").glob("rows-*.bin"):
        cache_file.write_bytes(b"\x00garbage")
    data = data.rsplit("r-x", 1)[0] if name == "rows.csv" else data.rsplit('{"id": "r-x"', 1)[0]
    assert [r.id for r in rows_of().rows] == [r.id for r in edited.rows]  # a corrupt entry: parsed around
    assert len(parsed) == 5
