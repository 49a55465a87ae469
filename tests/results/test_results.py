"""campaignctl.results offline: ratings files (every bad row with its line), the ledger, time
parsing, CSV values, the v1 batch reply mapping, and the served-sandbox submit endpoints."""
from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaignctl.platforms.microworkers.results import MicroworkersReviewer
from campaignctl.platforms.microworkers_v1.results import MicroworkersV1Reviewer
from campaignctl.platforms.swarms.results import SwarmsReviewer
from campaignctl.results.common import CampaignRef, ResultsError, parse_time
from campaignctl.results.export import csv_value
from campaignctl.results.ratings import (
    Ledger,
    RatingRow,
    RatingsFileError,
    ledger_path,
    parse_ratings,
    read_ratings,
)


def reviewer(cls: type, spec: dict[str, Any] | None = None, provider: Any = None) -> Any:
    doc: Any = SimpleNamespace(name="c", spec=spec or {})
    return cls(CampaignRef("p/campaign/c", doc, provider or SimpleNamespace(name="p"), "abc"))


V1 = {"type": "basic", "payment_per_task": 0.25}
V2 = {"type": "basic", "paymentPerTask": 0.12}


def problems(text: str, cls: type = MicroworkersV1Reviewer, spec: dict[str, Any] | None = None) -> list[str]:
    return parse_ratings(text, reviewer(cls, V1 if spec is None else spec), "r.csv")[1]


def test_header_in_any_order_aliases_and_extra_columns() -> None:
    text = "worker,Bonus,task_id,comment,rating\nw1,0.10,1000001,,ok\nw2,,1000002,Too short,NOK\n"
    rows, bad = parse_ratings(text, reviewer(MicroworkersV1Reviewer, V1))
    assert bad == []
    assert [(r.line, r.id, r.rating, r.comment, r.bonus) for r in rows] == [
        (2, "1000001", "OK", "", Decimal("0.10")),
        (3, "1000002", "NOK", "Too short", None),
    ]


def test_no_header_means_positional_columns() -> None:
    rows, bad = parse_ratings("1000001,OK\n1000002,REVISE,Add the username,\n", reviewer(MicroworkersV1Reviewer, V1))
    assert bad == [] and [(r.line, r.rating, r.comment) for r in rows] == [(1, "OK", ""), (2, "REVISE", "Add the username")]


def test_every_bad_row_is_reported_with_its_line() -> None:
    text = (
        "id,rating,comment,bonus\n"
        "1000001,OK,,0.10\n"
        "\n"  # blank lines count
        "1000002,NOK,,\n"  # 4: comment mandatory
        '1000003,REVISE,"two\nlines",\n'  # 5-6: fine
        "1000004,GOOD,,\n"  # 7
        "1000005,OK,,5\n"  # 8: bonus over 2x
        "1000006,OK,,0.01\n"  # 9: bonus under 0.1x
        "1000001,OK,,\n"  # 10: twice
        "abc,OK,,\n"  # 11: not a task id
        ",OK,,\n"  # 12
        "1000007,OK,,-1\n"  # 13
        "1000008,NOK,x,1e\n"  # 14
    )
    bad = problems(text)
    assert [p.split(":")[1] for p in bad] == ["4", "7", "8", "9", "10", "11", "12", "13", "14"]
    assert "comment is mandatory when rating NOK" in bad[0]
    assert "rating 'GOOD' is not OK, NOK or REVISE" in bad[1]
    assert "outside the allowed 0.025..0.50 USD" in bad[2] and "0.25 USD" in bad[2]
    assert "outside the allowed" in bad[3]
    assert "rated twice (also on line 2)" in bad[4]
    assert "not a Microworkers task id" in bad[5]
    assert "the id is empty" in bad[6]
    assert "must be a positive amount" in bad[7]
    assert "is not a number" in bad[8]


def test_several_problems_of_one_row_on_one_line() -> None:
    (bad,) = problems("id,rating,comment,bonus\n1000001,REVISE,,9\n")
    assert bad.startswith("r.csv:2: ") and "comment is mandatory" in bad and "outside the allowed" in bad


def test_bonus_on_other_ratings_is_left_to_the_platform() -> None:
    # the docs do not say a bonus needs rating OK: the platform decides, the report shows its answer
    assert problems("id,rating,comment,bonus\n1000001,NOK,Wrong,0.10\n") == []


def test_v2_bonus_range_comes_from_paymentPerTask() -> None:
    assert problems("id,rating,comment,bonus\nabc123,OK,,0.24\n", MicroworkersReviewer, V2) == []
    (bad,) = problems("id,rating,comment,bonus\nabc123,OK,,0.25\n", MicroworkersReviewer, V2)
    assert "0.012..0.24 USD" in bad


def test_swarms_rules() -> None:
    bad = problems(
        "id,rating,comment,bonus,until\n"
        "1,OK,,0.10,\n"  # no bonuses on SWARMS
        "2,REVISE,Redo,,2031-01-01T10:00\n"  # fine
        "3,OK,,,2031-01-01T10:00\n"  # until only for REVISE
        "4,REVISE,Redo,,next week\n"  # not a date
        "x5,OK,,,\n",
        SwarmsReviewer, {},
    )
    assert [p.split(":")[1] for p in bad] == ["2", "4", "5", "6"]
    assert "SWARMS has no bonuses" in bad[0]
    assert "until is only for REVISE" in bad[1]
    assert "not a date" in bad[2]
    assert "not a SWARMS result id" in bad[3]
    rows, _ = parse_ratings("id,rating,comment,bonus,until\n2,REVISE,Redo,,2031-01-01T10:00+01:00\n", reviewer(SwarmsReviewer, {}))
    assert rows[0].until == datetime(2031, 1, 1, 9, 0, tzinfo=UTC)


def test_until_is_swarms_only_and_empty_rating_is_no_decision() -> None:
    (bad,) = problems("id,rating,comment,bonus,until\n1000001,REVISE,Redo,,2031-01-01\n")
    assert "takes no until date" in bad
    rows, bad = parse_ratings("id,rating,comment\n1000001,,\n", reviewer(MicroworkersV1Reviewer, V1))
    assert bad == [] and rows[0].rating == ""


def test_files_without_rows_or_columns() -> None:
    assert problems("") == ["r.csv: no ratings in the file"]
    assert problems("id,rating,comment\n\n") == ["r.csv: no ratings in the file"]
    assert "no id column" in problems("who,rating\n1,OK\n")[0]
    assert "no rating column" in problems("id,comment\n1,x\n")[0]


def test_read_ratings_lists_every_problem_and_sends_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("\ufeffid,rating,comment\n1000001,NOK,\n1000002,MAYBE,\n", encoding="utf-8")
    with pytest.raises(RatingsFileError) as info:
        read_ratings(path, reviewer(MicroworkersV1Reviewer, V1))
    text = str(info.value)
    assert "2 bad row(s)" in text and "nothing was sent" in text
    assert f"{path}:2:" in text and f"{path}:3:" in text
    with pytest.raises(RatingsFileError, match="no such file"):
        read_ratings(tmp_path / "missing.csv", reviewer(MicroworkersV1Reviewer, V1))


def test_ledger_survives_restart_and_a_torn_line(tmp_path: Path) -> None:
    path = ledger_path(tmp_path, "my campaign")
    assert path.name == "ratings-my_campaign.jsonl"
    ledger = Ledger(path, "p/campaign/c", "abc")
    ok = RatingRow(2, "1", "OK", "", Decimal("0.10"))
    ledger.add(ok)
    ledger.close()
    with path.open("a") as f:
        f.write('{"id": "2", "rati')  # a crash mid-write
    again = Ledger(path, "p/campaign/c", "abc")
    sent = again.has(ok)  # when it was sent, from the ledger's intact line
    assert sent is not None and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", sent), sent
    assert again.has(RatingRow(9, "1", "OK", "", Decimal("0.10"))) == sent  # same decision, other line
    assert again.has(RatingRow(2, "1", "NOK", "changed my mind")) is None  # another decision
    assert again.has(RatingRow(2, "2", "OK")) is None
    assert Ledger(path, "p/campaign/c", "other-remote-id").has(ok) is None  # a replaced campaign
    assert json.loads(path.read_text().splitlines()[0])["bonus"] == "0.10"


def test_parse_time() -> None:
    assert parse_time("2026-11-23") == datetime(2026, 11, 23, tzinfo=UTC)
    assert parse_time("2026-11-23 09:00:12") == datetime(2026, 11, 23, 9, 0, 12, tzinfo=UTC)
    assert parse_time("2026-11-23T09:00Z") == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert parse_time("2026-11-23T11:00+02:00") == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with pytest.raises(ResultsError, match="not a date"):
        parse_time("yesterday")


def test_csv_values() -> None:
    assert [csv_value(v) for v in (None, True, False, ["a", "b"], 3, 0.5, "x")] == ["", "true", "false", "a; b", "3", "0.5", "x"]


def test_v1_batch_maps_the_documented_reply_per_task() -> None:
    """The rate_tasks page's example reply: per-task success or errors, matched by id_task."""
    sent: list[dict[str, Any]] = []

    async def call(method: str, path: str, data: Any = None, **_: Any) -> dict[str, Any]:
        sent.append({"method": method, "path": path, **data})
        return {"status": "SUCCESS", "campaign_id": "abc", "tasks": [
            {"id_task": "1234567", "rating": "OK", "comment": "", "success": True},
            {"id_task": "1234568", "rating": "NOK", "comment": "test", "success": True},
            {"id_task": "1234569", "rating": "NOK", "comment": "", "errors": ["comment IS MANDATORY"]},
            {"id_task": "1234570", "rating": "OK", "bonus": 10000, "comment": "", "errors": ["Bonus you entered is outside allowed values"]},
            {"id_task": "1234568", "rating": "NOK", "comment": "", "errors": ["id_task IS NOT UNIQUE"]},
        ]}

    rev = reviewer(MicroworkersV1Reviewer, {"type": "hire-group"}, SimpleNamespace(name="p", call=call))
    rows = [RatingRow(n + 2, i, r, c) for n, (i, r, c) in enumerate(
        [("1234567", "OK", ""), ("1234568", "NOK", "test"), ("1234569", "NOK", ""), ("1234570", "OK", ""), ("1234571", "OK", "")])]
    rows[3].bonus = Decimal(10000)
    rated: list[str] = []
    outcomes = asyncio.run(rev.rate(rows, lambda row: rated.append(row.id)))
    assert rated == ["1234567", "1234568"]
    assert [(o.row.id, o.outcome, o.message) for o in outcomes] == [
        ("1234567", "rated", ""),
        ("1234568", "rated", ""),
        ("1234569", "failed", "comment IS MANDATORY"),
        ("1234570", "failed", "Bonus you entered is outside allowed values"),
        ("1234571", "failed", "the reply says nothing about this task"),
    ]
    (call_,) = sent
    assert call_["method"] == "PUT" and call_["path"] == "/campaign_hg/rate_tasks/abc"
    assert call_["id_task[]"] == [r.id for r in rows] and call_["bonus[]"] == ["", "", "", "10000", ""]


def _post(app: Starlette, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sb") as client:
            return await client.post(path, **kwargs)

    return asyncio.run(go())


def test_served_submit_endpoints_of_the_microworkers_sandboxes() -> None:
    """The handlers `campaignctl sandbox submit` calls on a served sandbox (errors answered the
    platform's way)."""
    from campaignctl.sandbox.core import Sandbox
    from campaignctl.sandbox.microworkers import slots as mw_v2_slots
    from campaignctl.sandbox.microworkers.rules import ApiError
    from campaignctl.sandbox.microworkers_v1 import submit as mw_v1_submit
    from campaignctl.sandbox.microworkers_v1.core import parse_params
    from campaignctl.sandbox.store import Store

    sb = Sandbox(Store())

    async def problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return Response(exc.code, status_code=exc.status)

    v2 = Starlette(routes=[mw_v2_slots.submit_route(sb)], exception_handlers={ApiError: problem})
    assert _post(v2, "/_sandbox/submit", json={"campaign": "e7162dd17b83", "count": 1}).status_code == 404
    assert _post(v2, "/_sandbox/submit", json={"campaign": "x", "count": -1}).status_code == 400

    async def v1_submit(request: Request) -> Response:
        return await mw_v1_submit.sandbox_submit(sb, await parse_params(request))

    v1 = Starlette(routes=[Route("/_sandbox/submit", v1_submit, methods=["POST"])])
    reply = _post(v1, "/_sandbox/submit", data={"campaign": "e7162dd17b83", "count": "1"})
    assert reply.status_code == 404 and reply.json()["error"] == "NO SUCH CAMPAIGN"
    assert _post(v1, "/_sandbox/submit", data={"campaign": "e7162dd17b83", "count": "x"}).json()["error"] == "INPUT DATA"
