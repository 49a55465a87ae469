"""The real CLI against the Microworkers API v2 sandbox: in-process (endpoint: sandbox) and served on loopback."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import (
    Server,
    assert_no_canary,
    changed_addresses,
    copy_example,
    edit_file,
    point_at_server,
    run_cli,
)

EXAMPLE = "microworkers-survey"
SURVEY = "mw/campaign/website-survey"


def _calls(plan_text: str) -> list[str]:
    return re.findall(r"^\s+\d+\. (.+)$", plan_text, flags=re.MULTILINE)


def _append_rows(config: Path, first: int, count: int) -> None:
    with (config / "data" / "rows.csv").open("a") as f:
        for i in range(first, first + count):
            f.write(f"site{i:03d},https://extra{i}.example.com/,Extra {i}\n")


@pytest.fixture(params=["in-process", "loopback"])
def survey(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    config = copy_example(EXAMPLE, tmp_path)
    env: dict[str, str] = {}
    if request.param == "loopback":
        server: Server = request.getfixturevalue("sandbox_server")
        env = point_at_server(config, server, "microworkers", "MW_API_KEY")
    return config, env


@pytest.fixture
def applied(tmp_path: Path) -> Path:
    config = copy_example(EXAMPLE, tmp_path)
    result = run_cli("apply", config, "--auto-approve")
    assert result.code == 0, result.text
    return config


def test_survey_lifecycle(survey: tuple[Path, dict[str, str]]) -> None:
    config, env = survey
    first = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert first.code == 2, first.text
    assert "Plan: 4 to create, 0 to update, 0 to replace, 0 to delete" in first.out
    # 30 rows x 0.12 x 1.075 and 20 x 0.75 x 1.075
    assert "POST /basic-campaigns  (3.87 USD)" in first.out
    assert "POST /hire-group-campaigns  (16.12 USD)" in first.out
    applied = run_cli("apply", config, "--auto-approve", env=env)
    assert applied.code == 0, applied.text
    assert "4 call(s) done, 0 failed" in applied.err
    again = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert again.code == 0, again.text
    assert "No changes" in again.out

    # 40 more rows -> one add-positions operation (tasks-groups, a queue job) with its cost
    _append_rows(config, 31, 40)
    more = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert more.code == 2, more.text
    assert changed_addresses(more.out) == [SURVEY]
    calls = _calls(more.out)
    assert len(calls) == 1, calls
    assert "/tasks-groups +40 positions (40 new rows)  (5.16 USD)" in calls[0]
    assert "update (add-positions)" in more.out
    done = run_cli("apply", config, "--auto-approve", env=env)
    assert done.code == 0, done.text
    assert run_cli("plan", config, "--detailed-exitcode", env=env).code == 0

    # speed -> one PATCH
    edit_file(config / "campaigns.yaml", "speed: 500", "speed: 250")
    patch = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert patch.code == 2
    assert changed_addresses(patch.out) == [SURVEY]
    assert [c.split()[0] for c in _calls(patch.out)] == ["PATCH"]
    assert "~ speed: 500 -> 250" in patch.out
    assert run_cli("apply", config, "--auto-approve", env=env).code == 0

    # paused -> PUT pause
    edit_file(config / "campaigns.yaml", "state: running", "state: paused")
    pause = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert pause.code == 2
    assert _calls(pause.out) == [c for c in _calls(pause.out) if c.startswith("PUT ") and c.endswith("/pause")]
    assert len(_calls(pause.out)) == 1
    assert run_cli("apply", config, "--auto-approve", env=env).code == 0
    assert run_cli("plan", config, "--detailed-exitcode", env=env).code == 0
    assert_no_canary(config)


def test_payment_change_needs_replacement(applied: Path) -> None:
    config = applied
    edit_file(config / "campaigns.yaml", "paymentPerTask: 0.12", "paymentPerTask: 0.15")
    edit_file(config / "campaigns.yaml", "speed: 500", "speed: 250")
    plan = run_cli("plan", config)
    assert f"+/- {SURVEY}" in plan.out
    # the declared policy names the field that forces it: paymentPerTask, not speed (a PATCH field)
    assert re.search(r"paymentPerTask: 0\.12 -> 0\.15\s+# forces replacement", plan.out), plan.out
    assert re.search(r"speed: 500 -> 250\n", plan.out), plan.out
    assert "/stop" in plan.out
    refused = run_cli("apply", config, "--auto-approve")
    assert refused.code == 1
    assert "--allow-replace" in refused.err
    ok = run_cli("apply", config, "--auto-approve", "--allow-replace")
    assert ok.code == 0, ok.text
    assert run_cli("plan", config, "--detailed-exitcode").code == 0
    state = json.loads((config / ".campaignctl" / "state.json").read_text())
    assert state["resources"][SURVEY]["id"]


def test_uploaded_rows_cannot_change(applied: Path) -> None:
    config = applied
    rows = config / "data" / "rows.csv"
    edit_file(rows, "site002,https://globex.example.com/,Globex\n", "site099,https://new.example.com/,New\n")
    edit_file(rows, "https://acme.example.com/", "https://acme.example.org/")
    plan = run_cli("plan", config)
    assert plan.code == 1
    assert "site002" in plan.err and "cannot delete uploaded task rows" in plan.err
    assert re.search(r"site001 \(\S*rows\.csv:2\)", plan.err), plan.err
    assert "cannot edit uploaded task rows" in plan.err


def test_stop_and_restart(applied: Path) -> None:
    config = applied
    edit_file(config / "campaigns.yaml", "state: running", "state: stopped")
    stop = run_cli("plan", config)
    assert "/stop" in stop.out
    assert run_cli("apply", config, "--auto-approve").code == 0
    assert run_cli("plan", config, "--detailed-exitcode").code == 0
    # new rows for a finished campaign -> restart with positionsToAdd; then running again
    edit_file(config / "campaigns.yaml", "state: stopped", "state: running")
    _append_rows(config, 31, 40)
    restart = run_cli("plan", config)
    calls = _calls(restart.out)
    assert len(calls) == 1 and "/restart +40 positions" in calls[0], restart.out
    done = run_cli("apply", config, "--auto-approve")
    assert done.code == 0, done.text
    assert run_cli("plan", config, "--detailed-exitcode").code == 0


BAD = [
    ("campaigns.yaml", "tasks: {file: data/rows.csv}", "availablePositions: 20",
     r"campaigns\.yaml:\d+:\d+: .*at least 30 positions"),
    ("campaigns.yaml", "speed: 500", "speed: 5000", r"campaigns\.yaml:\d+:\d+: .*speed.*1000"),
    ("campaigns.yaml", "ttr: 7", "ttr: 31", r"campaigns\.yaml:\d+:\d+: .*ttr.*30"),
    ("campaigns.yaml", "ttr: 7", "ttr: 7\n  visibilityDelay: 4000", r"campaigns\.yaml:\d+:\d+: .*visibilityDelay.*3600"),
    ("campaigns.yaml", "template: website-survey", "template: website-survey\n  externalTemplate: {url: 'https://x.example/{{url}}'}",
     r"campaigns\.yaml:\d+:\d+: .*either template .* or externalTemplate, not both"),
    ("templates.yaml", "{{brand}}", "{{brand}} {{city}}", r"rows\.csv:1:1: column\(s\) city missing: template 'website-survey' uses \{\{city\}\}"),
    ("data/rows.csv", "site003,", "site002,", r"rows\.csv:4:1: duplicate row id 'site002' \(first at \S*rows\.csv:3\)"),
    ("campaigns.yaml", "file: data/rows.csv", "file: ../../rows.csv", r"outside the config directory"),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), BAD, ids=[
    "positions", "speed", "ttr", "visibilityDelay", "both-templates", "missing-column", "duplicate-id", "escape"])
def test_bad_input(tmp_path: Path, file: str, old: str, new: str, expected: str) -> None:
    config = copy_example(EXAMPLE, tmp_path)
    edit_file(config / file, old, new)
    for command in ("validate", "plan"):
        result = run_cli(command, config)
        assert result.code == 1, result.text
        assert re.search(expected, result.err), result.err


def test_non_utf8_csv(tmp_path: Path) -> None:
    config = copy_example(EXAMPLE, tmp_path)
    rows = config / "data" / "rows.csv"
    rows.write_bytes(rows.read_bytes().replace(b"Globex", b"Glob\xe9x"))
    result = run_cli("validate", config)
    assert result.code == 1
    assert re.search(r"rows\.csv:3:\d+: not UTF-8 text \(byte 0xe9\)", result.err), result.err


def test_unknown_category_and_zone_are_plan_errors(tmp_path: Path) -> None:
    config = copy_example(EXAMPLE, tmp_path)
    edit_file(config / "campaigns.yaml", 'categoryId: "1001"', 'categoryId: "9999"')
    edit_file(config / "campaigns.yaml", "groupId: \"2222\"", "groupId: \"2222\"")
    result = run_cli("plan", config)
    assert result.code == 1
    assert SURVEY in result.err and "'9999'" in result.err and "1001" in result.err
    edit_file(config / "campaigns.yaml", 'categoryId: "9999"', 'categoryId: "1001"')
    edit_file(config / "campaigns.yaml", "internationalZone: {excludedCountries: [CN, VN]}", "targetedZone: {id: mars1}")
    zone = run_cli("plan", config)
    assert zone.code == 1
    assert "'mars1'" in zone.err and "europe1" in zone.err


def test_api_validation_error_shows_code(tmp_path: Path) -> None:
    config = copy_example(EXAMPLE, tmp_path)
    edit_file(config / "campaigns.yaml", "excludedCountries: [CN, VN]", "excludedCountries: [CN, ZZ]")
    result = run_cli("apply", config, "--auto-approve")
    assert result.code == 1
    assert "[ValidationFailed]" in result.err and "ZZ" in result.err and "HTTP 400" in result.err


def test_schedule_microworkers_cannot_express(tmp_path: Path) -> None:
    config = copy_example(EXAMPLE, tmp_path)
    (config / "schedule.yaml").write_text(
        "kind: Schedule\nname: weekdays\nspec:\n  limitPerDay: 10\n  events:\n"
        "    - {type: recurring, start: '2026-12-01T18:00', end: '2026-12-20T09:00'}\n"
    )
    result = run_cli("validate", config)
    assert result.code == 1
    assert re.search(r"schedule\.yaml:4:\d+: spec\.limitPerDay: Microworkers cannot combine", result.err), result.err
    assert "daily end time 09:00 is not after the start time 18:00" in result.err
