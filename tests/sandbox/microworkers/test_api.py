"""The Microworkers API v2 sandbox (campaignctl.sandbox.microworkers.api), exercised over HTTP."""
from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient  # uses httpx2 (a test dependency)

from campaignctl.sandbox.apis import platform_settings
from campaignctl.sandbox.app import create_app
from campaignctl.sandbox.core import Settings
from campaignctl.sandbox.microworkers import model as mw_v2_model
from campaignctl.sandbox.microworkers.api import simulate_submissions
from campaignctl.sandbox.store import Store

KEY = {"MicroworkersApiKey": "sandbox-key"}
BASE = "/microworkers/api/v2"
HTML = ('<p>Open {{url}} and answer.</p><input type="text" name="status" required>'
        '<input type="radio" name="works" value="yes"><input type="radio" name="works" value="no">')
#: every property of BasicCampaignInfoResponse in the docs
DOCUMENTED = {
    "geoZone", "categoryId", "speed", "id", "autoSkipTask", "title", "description", "ttr", "availablePositions",
    "blockedReason", "status", "created", "blocked", "approved", "finished", "htmlCode", "minutesToFinish",
    "paymentPerTask", "variables", "questions", "jobQueues", "qtRequired", "internalTemplate", "externalTemplate",
    "maximumJobLimit", "slotsCount", "notificationSettings", "visibilityDelay", "estimateCost", "jsSection",
    "cssSection",
}


class Api:
    """A TestClient with the API key set and helpers to build the objects the tests need."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.app = create_app(Store(), settings or Settings())
        self.sandbox = self.app.state.sandbox
        self.client = TestClient(self.app)

    def call(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.request(method, BASE + path, headers={**KEY, **(headers or {})}, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, json=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PUT", path, json=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PATCH", path, json=body, **kw)

    def balance(self) -> Decimal:
        return Decimal(str(self.get("/accounts/me").json()["balance"]))

    def template(self, html: str = HTML, title: str = "Check a URL", **extra: Any) -> dict[str, Any]:
        r = self.post("/templates", {"title": title, "htmlCode": html, **extra})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def campaign_body(self, template_id: str | None = None, **over: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": "Check URLs", "description": "Open the page and tell us what you see.", "categoryId": "1001",
            "internationalZone": {"id": "int", "excludedCountries": ["US"]}, "availablePositions": 30,
            "paymentPerTask": 0.1, "minutesToFinish": 10,
        }
        if template_id is None:
            template_id = self.template(html="<p>Fixed task</p><textarea name='feedback'></textarea>",
                                        title=f"fixed-{uuid.uuid4().hex[:8]}")["id"]
        body["internalTemplate"] = {"id": template_id, "ratingMethodId": 3}
        body.update(over)
        return {k: v for k, v in body.items() if v is not None}

    def create(self, path: str = "/basic-campaigns", **over: Any) -> dict[str, Any]:
        r = self.post(path, self.campaign_body(**over))
        assert r.status_code == 201, r.text
        return dict(r.json())

    def unique(self, rows: int = 30, **over: Any) -> dict[str, Any]:
        tpl = self.template(title=f"unique-{uuid.uuid4().hex[:8]}")
        return self.create(template_id=tpl["id"], tasks=make_rows(rows), availablePositions=rows, **over)

    def poll(self, job_id: str) -> list[dict[str, Any]]:
        """Poll a queue job until it is final; returns every answer."""
        seen = []
        for _ in range(20):
            r = self.get(f"/queue-jobs/{job_id}")
            assert r.status_code == 200, r.text
            seen.append(r.json())
            if seen[-1]["status"] not in ("Pending", "Uploading"):
                return seen
        raise AssertionError(seen)


def make_rows(n: int, start: int = 0, prefix: str = "r") -> list[dict[str, Any]]:
    return [{"id": f"{prefix}{i}", "data": [{"key": "url", "value": f"https://example.org/{i}"}]}
            for i in range(start, start + n)]


def fields(r: Any) -> set[str]:
    """The fields named by a 400 ValidationFailed answer."""
    assert_problem(r, 400, "ValidationFailed")
    return {e["field"] for e in r.json()["errors"]}


def assert_problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["title"] == code
    assert body["status"] == status
    assert body["type"] == f"https://ttv.microworkers.com/api/v2/docs/handle-errors#{code}"
    assert body["detail"]
    return dict(body)


@pytest.fixture
def api() -> Api:
    return Api()


# -- transport -----------------------------------------------------------------------------------
def test_auth_required_and_request_ids(api: Api) -> None:
    assert_problem(api.client.get(BASE + "/accounts/me"), 401, "Unauthorized")
    assert_problem(api.client.get(BASE + "/accounts/me", headers={"MicroworkersApiKey": "nope"}), 401, "Unauthorized")
    assert_problem(api.client.get(BASE + "/basic-campaigns/abc"), 401, "Unauthorized")
    bearer = api.client.get(BASE + "/accounts/me", headers={"Authorization": "Bearer sandbox-key"})
    assert bearer.status_code == 200
    one, two = api.get("/accounts/me"), api.get("/accounts/me")
    assert uuid.UUID(one.headers["x-request-id"]).version == 4
    assert one.headers["x-request-id"] != two.headers["x-request-id"]
    assert api.client.get(BASE + "/accounts/me").headers["x-request-id"]


def test_unknown_route_method_and_bad_json(api: Api) -> None:
    assert_problem(api.get("/nothing-here"), 404, "NotFound")
    assert_problem(api.call("DELETE", "/basic-campaigns"), 405, "MethodNotAllowed")
    r = api.call("POST", "/basic-campaigns", content=b"{not json", headers={"Content-Type": "application/json"})
    assert fields(r) == {"body"}


# -- reference data --------------------------------------------------------------------------------
def test_account_categories_configuration_groups(api: Api) -> None:
    me = api.get("/accounts/me").json()
    assert me["balance"] == 10_000.0 and me["currency"] == "USD" and me["email"]
    cats = api.get("/basic-categories").json()["items"]
    subs = {s["id"]: s for c in cats for s in c["subCategories"]}
    assert subs["1001"]["minimumPayment"] == 0.10 and subs["0503"]["title"] == "Opt-in Complex"
    conf = api.get("/basic-campaigns/configuration").json()
    zones = {z["id"]: z for z in conf["zones"]}
    assert set(zones) == {"int", "asia1", "caribbean1", "europe1", "europe2", "west1"}
    assert {"code": "US", "name": "United States"} in zones["west1"]["countries"]
    assert len(zones["int"]["countries"]) == len(conf["countries"])
    assert conf["limits"]["availablePositions"]["min"] == 30
    assert conf["limits"]["speed"] == {"min": 1, "max": 1000}
    assert conf["limits"]["ttr"] == {"min": 1, "max": 30}
    assert conf["limits"]["visibilityDelay"] == {"min": 0, "max": 3600}
    assert conf["limits"]["excludedCountries"]["max"] == 10
    assert conf["fee"]["rate"] == 0.075
    groups = api.get("/hire-groups").json()
    assert groups["nextPageToken"] is None and {"1111", "2222"} <= {g["id"] for g in groups["items"]}


# -- creating basic campaigns ----------------------------------------------------------------------
def test_create_returns_full_info_and_charges(api: Api) -> None:
    before = api.balance()
    r = api.post("/basic-campaigns", api.campaign_body(speed=200, ttr=3, visibilityDelay=60))
    assert r.status_code == 201, r.text
    info = r.json()
    assert r.headers["location"].endswith(f"/basic-campaigns/{info['id']}")
    assert DOCUMENTED <= set(info)
    assert re.fullmatch(r"[0-9a-f]{12}", info["id"]), info["id"]  # twelve hex digits
    assert info["status"] == "RUNNING" and info["approved"] and info["finished"] is None
    assert info["speed"] == 200 and info["ttr"] == 3 and info["visibilityDelay"] == 60
    assert info["geoZone"]["id"] == "int"
    codes = {c["code"] for c in info["geoZone"]["countries"]}
    assert "US" not in codes and "DE" in codes
    assert info["estimateCost"] == 3.225  # 30 x 0.10 x 1.075
    assert info["slotsCount"] == {"locked": 0, "unTaken": 30, "ok": 0, "nok": 0, "notRated": 0,
                                  "notReviewed": 0, "revise": 0, "reviseAdmin": 0}
    assert info["jobQueues"] == {"csvUploadJob": None, "restartCampaignJob": None, "addPositionJob": None}
    assert info["internalTemplate"]["ratingMethodId"] == 3 and info["externalTemplate"] is None
    assert info["questions"][0]["name"] == "feedback" and info["questions"][0]["tag"] == "textarea"
    assert info["maximumJobLimit"]["enabled"] is False
    assert before - api.balance() == Decimal("3.225")
    assert api.get(f"/basic-campaigns/{info['id']}").json() == info


def test_targeted_zone_and_external_template(api: Api) -> None:
    info = api.create(internationalZone=None, targetedZone={"id": "europe1", "countries": ["DE", "FR"]},
                      internalTemplate=None, template_id="unused",
                      externalTemplate={"url": "https://survey.example.org/s/1", "parameters": ["code"]})
    assert info["geoZone"]["id"] == "europe1"
    assert [c["code"] for c in info["geoZone"]["countries"]] == ["DE", "FR"]
    assert info["internalTemplate"] is None and info["externalTemplate"]["url"].endswith("/s/1")
    whole = api.create(internationalZone=None, targetedZone={"id": "west1"})
    assert {c["code"] for c in whole["geoZone"]["countries"]} == {"AU", "CA", "GB", "IE", "NZ", "US"}


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"availablePositions": 29}, "availablePositions"),
        ({"speed": 0}, "speed"),
        ({"speed": 1001}, "speed"),
        ({"ttr": 0}, "ttr"),
        ({"ttr": 31}, "ttr"),
        ({"visibilityDelay": -1}, "visibilityDelay"),
        ({"visibilityDelay": 3601}, "visibilityDelay"),
        ({"paymentPerTask": 0.05}, "paymentPerTask"),
        ({"title": ""}, "title"),
        ({"minutesToFinish": None}, "minutesToFinish"),
        ({"internationalZone": {"id": "int", "excludedCountries": [
            "DE", "FR", "IT", "ES", "PL", "RO", "GB", "NL", "BE", "AT", "CH"]}}, "internationalZone.excludedCountries"),
        ({"internationalZone": {"id": "int", "excludedCountries": ["XX"]}}, "internationalZone.excludedCountries[0]"),
        ({"internationalZone": None}, "internationalZone"),
        ({"targetedZone": {"id": "west1"}}, "internationalZone"),
        ({"internationalZone": None, "targetedZone": {"id": "mars1"}}, "targetedZone.id"),
        ({"internationalZone": None, "targetedZone": {"id": "asia1", "countries": ["DE"]}},
         "targetedZone.countries[0]"),
        ({"externalTemplate": {"url": "https://example.org"}}, "externalTemplate"),
        ({"internalTemplate": None}, "internalTemplate"),
        ({"internalTemplate": {"id": "T0000000000000"}}, "internalTemplate.id"),
        ({"internalTemplate": {"id": "x", "ratingMethodId": 2}}, "internalTemplate.adminInstructions"),
        ({"groupId": "1111"}, "groupId"),
        ({"autoSkipTask": {"enabled": True}}, "autoSkipTask.timeLimit"),
        ({"notificationSettings": [{"url": "http://sqs", "notificationTypes": []}]}, "notificationSettings[0].url"),
    ],
)
def test_create_validation(api: Api, over: dict[str, Any], field: str) -> None:
    body = api.campaign_body()
    for key, value in over.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    before = api.balance()
    r = api.post("/basic-campaigns", body)
    assert field in fields(r), r.text
    assert api.balance() == before
    assert api.get("/basic-campaigns").json()["items"] == []


def test_create_reports_every_error_at_once(api: Api) -> None:
    r = api.post("/basic-campaigns", api.campaign_body(availablePositions=5, speed=0, ttr=99, bogus=1))
    assert {"availablePositions", "speed", "ttr", "bogus"} <= fields(r)


def test_unknown_category_and_money(api: Api) -> None:
    body = assert_problem(api.post("/basic-campaigns", api.campaign_body(categoryId="9999")), 400, "CategoryUnknown")
    assert body["errors"][0]["field"] == "categoryId"
    poor = Api(Settings(balance=3.0))
    body = assert_problem(poor.post("/basic-campaigns", poor.campaign_body()), 400, "NotEnoughMoneyToStartCampaign")
    assert body["cost"] == 3.225 and body["balance"] == 3.0
    assert poor.balance() == Decimal(3)
    assert poor.get("/basic-campaigns").json()["items"] == []


def test_review_delay_is_lazy(monkeypatch: pytest.MonkeyPatch) -> None:
    api = Api(Settings(platforms=platform_settings(review_seconds=3600)))
    info = api.create()
    assert info["status"] == "PENDING_REVIEW" and info["approved"] is None
    assert_problem(api.put(f"/basic-campaigns/{info['id']}/pause"), 400, "CampaignIsNotRunning")
    assert_problem(api.put(f"/basic-campaigns/{info['id']}/stop"), 400, "CampaignCantBeStopped")
    later = mw_v2_model.now() + 3601
    monkeypatch.setattr(mw_v2_model, "now", lambda: later)
    again = api.get(f"/basic-campaigns/{info['id']}").json()
    assert again["status"] == "RUNNING" and again["approved"]
    assert api.put(f"/basic-campaigns/{info['id']}/pause").status_code == 204


# -- reading and listing -------------------------------------------------------------------------
def test_get_unknown_and_wrong_kind(api: Api) -> None:
    assert_problem(api.get("/basic-campaigns/e7162dd17b83"), 404, "NotFound")
    assert_problem(api.get("/basic-campaigns/not-an-id"), 404, "NotFound")
    hg = api.create("/hire-group-campaigns", internationalZone=None, groupId="1111", availablePositions=5)
    assert_problem(api.get(f"/basic-campaigns/{hg['id']}"), 404, "NotFound")
    assert api.get(f"/hire-group-campaigns/{hg['id']}").status_code == 200


def test_list_paging_sorting_and_folders(api: Api) -> None:
    titles = ["delta", "Alpha", "charlie", "bravo", "echo"]
    ids = [api.create(title=t)["id"] for t in titles]
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"pageSize": 2, **({"nextPageToken": token} if token else {})}
        page = api.get("/basic-campaigns", params=params).json()
        seen += [c["id"] for c in page["items"]]
        pages += 1
        token = page["nextPageToken"]
        if token is None:
            break
    assert pages == 3 and seen == ids
    by_title = api.get("/basic-campaigns", params={"sort": "title", "pageSize": 100}).json()["items"]
    assert [c["title"] for c in by_title] == ["Alpha", "bravo", "charlie", "delta", "echo"]
    newest = api.get("/basic-campaigns", params={"sort": "-created", "pageSize": 3}).json()
    assert [c["id"] for c in newest["items"]] == ids[::-1][:3]
    rest = api.get("/basic-campaigns", params={"pageSize": 3, "nextPageToken": newest["nextPageToken"]}).json()
    assert [c["id"] for c in rest["items"]] == ids[::-1][3:]
    assert "DEFAULT" == by_title[0]["folder"]
    for bad in ({"pageSize": 0}, {"pageSize": 101}, {"sort": "status"}, {"filter[folder]": "TRASH"},
                {"nextPageToken": "garbage"}):
        assert_problem(api.get("/basic-campaigns", params=bad), 400, "ValidationFailed")
    assert api.get("/basic-campaigns", params={"filter[folder]": "ARCHIVE"}).json() == {"items": [],
                                                                                      "nextPageToken": None}
    assert_problem(api.put(f"/basic-campaigns/{ids[0]}/archive"), 400, "CampaignIsNotFinished")
    assert api.put(f"/basic-campaigns/{ids[0]}/stop").status_code == 204
    assert api.put(f"/basic-campaigns/{ids[0]}/archive").status_code == 204
    archived = api.get("/basic-campaigns", params={"filter[folder]": "ARCHIVE"}).json()["items"]
    assert [c["id"] for c in archived] == [ids[0]]
    assert len(api.get("/basic-campaigns").json()["items"]) == 4
    assert api.put(f"/basic-campaigns/{ids[0]}/unarchive").status_code == 204
    assert len(api.get("/basic-campaigns", params={"pageSize": 10}).json()["items"]) == 5


# -- PATCH -----------------------------------------------------------------------------------------
def test_patch_whitelist_and_ranges(api: Api) -> None:
    cid = api.create()["id"]
    r = api.patch(f"/basic-campaigns/{cid}", {"speed": 500, "ttr": 30, "visibilityDelay": 3600, "qtRequired": True,
                                              "successRate": 90, "autoRateOkTask": True,
                                              "autoSkipTask": {"enabled": True, "timeLimit": 60},
                                              "timeToWaitAfterSlotExpiration": 15,
                                              "notificationSettings": [{"url": "https://sqs.example/q", "type":
                                                                        "AMAZON_SQS", "notificationTypes":
                                                                        ["SLOT_SUBMITTED"]}]})
    assert r.status_code == 200, r.text
    info = r.json()
    assert (info["speed"], info["ttr"], info["visibilityDelay"], info["qtRequired"]) == (500, 30, 3600, True)
    assert info["successRate"] == 90 and info["autoRateOkTask"] is True
    assert info["autoSkipTask"] == {"enabled": True, "timeLimit": 60}
    assert info["notificationSettings"][0]["notificationTypes"] == ["SLOT_SUBMITTED"]
    for body, bad in [({"title": "x"}, {"title"}), ({"paymentPerTask": 1, "categoryId": "1002", "speed": 5},
                                                     {"paymentPerTask", "categoryId"}),
                      ({"availablePositions": 100}, {"availablePositions"}), ({"speed": 0}, {"speed"}),
                      ({"speed": 1001}, {"speed"}), ({"ttr": 31}, {"ttr"}), ({"visibilityDelay": 3601},
                                                                           {"visibilityDelay"}),
                      ({"groupId": "1111"}, {"groupId"}), ({"internationalZone": {"id": "int"}},
                                                           {"internationalZone"})]:
        r = api.patch(f"/basic-campaigns/{cid}", body)
        assert fields(r) == bad, r.text
    assert api.get(f"/basic-campaigns/{cid}").json()["speed"] == 500  # nothing applied by a bad PATCH
    assert_problem(api.patch("/basic-campaigns/e7162dd17b83", {"speed": 3}), 404, "NotFound")


def test_maximum_job_limit_schedules(api: Api) -> None:
    cid = api.create()["id"]
    standard = {"enabled": True, "limitPerDay": 100, "distributionType": "random", "advancedSchedule": None,
                "standardSchedule": {"timeZone": "Europe/Berlin", "limitPerHour": 10,
                                     "allDay": False, "allWeekdays": False, "daysOfWeek": [1, 2, 3, 4, 5],
                                     "workingHours": ["09:00-12:00", "13:00-17:00"]}}
    r = api.patch(f"/basic-campaigns/{cid}", {"maximumJobLimit": standard})
    assert r.status_code == 200, r.text
    assert r.json()["maximumJobLimit"] == standard
    # the documented standardSchedule has no limitPerDay: it is maximumJobLimit.limitPerDay (issue 19, finding 8)
    inside = {**standard, "standardSchedule": {**standard["standardSchedule"], "limitPerDay": 100}}
    assert fields(api.patch(f"/basic-campaigns/{cid}", {"maximumJobLimit": inside})) == {
        "maximumJobLimit.standardSchedule.limitPerDay"}
    advanced = {"enabled": True, "limitPerDay": None, "distributionType": "asap", "standardSchedule": None,
                "advancedSchedule": {"timeZone": "UTC", "limitPerHour": 20, "events": [
                    {"type": "recur", "daysOfWeek": [0, 6], "startTime": "10:00", "endTime": "18:00",
                     "startRecur": "2026-12-01", "endRecur": "2026-12-31", "limitPerDay": 50, "limitPerHour": 5},
                    {"type": "one-time", "start": "2026-12-24T08:00:00", "end": "2026-12-24T20:00:00",
                     "allDay": False, "limitPerDay": 10, "limitPerHour": None}]}}
    r = api.patch(f"/basic-campaigns/{cid}", {"maximumJobLimit": advanced})
    assert r.status_code == 200, r.text
    assert api.get(f"/basic-campaigns/{cid}").json()["maximumJobLimit"] == advanced
    table_spelling = {"enabled": True, "standardSchedule": {"allWeekDays": True, "allDay": True}}
    assert api.patch(f"/basic-campaigns/{cid}", {"maximumJobLimit": table_spelling}).json()[
        "maximumJobLimit"]["standardSchedule"]["allWeekdays"] is True
    bad = {"enabled": True, "standardSchedule": {"timeZone": "Mars/Base", "allWeekdays": False, "daysOfWeek": [7],
                                                 "allDay": False, "workingHours": ["17:00-09:00"], "extra": 1},
           "advancedSchedule": {"events": [{"type": "weekly"}, {"type": "one-time", "start": "2026-12-02",
                                                                "end": "2026-12-01", "allDay": True}]}}
    r = api.patch(f"/basic-campaigns/{cid}", {"maximumJobLimit": bad})
    assert {"maximumJobLimit", "maximumJobLimit.standardSchedule.timeZone",
            "maximumJobLimit.standardSchedule.daysOfWeek[0]", "maximumJobLimit.standardSchedule.workingHours[0]",
            "maximumJobLimit.standardSchedule.extra", "maximumJobLimit.advancedSchedule.events[0].type",
            "maximumJobLimit.advancedSchedule.events[1].end"} <= fields(r)
    r = api.patch(f"/basic-campaigns/{cid}", {"maximumJobLimit": {"enabled": True}})
    assert fields(r) == {"maximumJobLimit.limitPerDay"}


# -- lifecycle -------------------------------------------------------------------------------------
def test_pause_resume_stop(api: Api) -> None:
    cid = api.create()["id"]
    url = f"/basic-campaigns/{cid}"
    assert_problem(api.put(url + "/resume"), 400, "CampaignIsNotPaused")
    assert api.put(url + "/pause").status_code == 204
    assert api.get(url).json()["status"] == "PAUSED"
    assert_problem(api.put(url + "/pause"), 400, "CampaignIsNotRunning")
    assert api.put(url + "/resume").status_code == 204
    assert api.get(url).json()["status"] == "RUNNING"
    assert api.put(url + "/pause").status_code == 204
    assert api.put(url + "/stop").status_code == 204
    info = api.get(url).json()
    assert info["status"] == "FINISHED" and info["finished"]
    assert_problem(api.put(url + "/stop"), 400, "CampaignCantBeStopped")
    assert_problem(api.put(url + "/pause"), 400, "CampaignIsNotRunning")
    assert_problem(api.put(url + "/resume"), 400, "CampaignIsNotPaused")
    assert_problem(api.put("/basic-campaigns/e7162dd17b83/pause"), 404, "NotFound")


# -- restart -------------------------------------------------------------------------------------
def test_restart_fixed_campaign(api: Api) -> None:
    cid = api.create()["id"]
    url = f"/basic-campaigns/{cid}"
    assert_problem(api.post(url + "/restart", {"positionsToAdd": 7}), 400, "CampaignIsNotFinished")
    api.put(url + "/stop")
    r = api.post(url + "/restart", {"positionsToAdd": 7, "tasks": make_rows(7)})
    assert fields(r) == {"tasks"}
    assert fields(api.post(url + "/restart", {})) == {"positionsToAdd"}
    assert fields(api.post(url + "/restart", {"positionsToAdd": -1})) == {"positionsToAdd"}
    before = api.balance()
    r = api.post(url + "/restart", {"positionsToAdd": 7})
    assert r.status_code == 202 and r.content == b""
    job_id = r.headers["queue-job-id"]
    assert before - api.balance() == Decimal("0.7525")  # 7 x 0.10 x 1.075
    info = api.get(url).json()
    assert info["status"] == "PENDING_RESTART"
    assert info["jobQueues"]["restartCampaignJob"] == {"id": job_id, "status": "Pending", "output": ""}
    answers = api.poll(job_id)
    assert [a["status"] for a in answers] == ["Pending", "Uploading", "Uploaded"]
    assert answers[-1]["type"] == "restartCampaignJob" and answers[-1]["campaignId"] == cid
    info = api.get(url).json()
    assert info["status"] == "RUNNING" and info["availablePositions"] == 37 and info["finished"] is None
    assert info["estimateCost"] == pytest.approx(37 * 0.1 * 1.075)
    assert info["jobQueues"]["restartCampaignJob"]["status"] == "Uploaded"
    assert api.get(f"/queue-jobs/{job_id}").json()["status"] == "Uploaded"  # final stays final
    # untaken positions allow a restart without adding any
    api.put(url + "/stop")
    r = api.post(url + "/restart", {"positionsToAdd": 0})
    assert r.status_code == 202
    api.poll(r.headers["queue-job-id"])
    assert api.get(url).json()["availablePositions"] == 37
    # ... but not when every position was taken
    simulate_submissions(api.sandbox, cid, 37)
    assert api.get(url).json()["status"] == "FINISHED"
    assert fields(api.post(url + "/restart", {"positionsToAdd": 0})) == {"positionsToAdd"}
    api.sandbox.store.kv_set("microworkers", "balance", "0.5")
    assert_problem(api.post(url + "/restart", {"positionsToAdd": 30}), 400, "NotEnoughMoneyToStartCampaign")
    assert api.get(url).json()["status"] == "FINISHED" and api.balance() == Decimal("0.5")


def test_restart_unique_tasks_and_validation_error(api: Api) -> None:
    info = api.unique()
    url = f"/basic-campaigns/{info['id']}"
    assert info["uniqueTasks"] is True and info["tasksCount"] == 30 and info["variables"] == ["url"]
    assert info["jobQueues"]["csvUploadJob"]["status"] == "Uploaded"
    api.put(url + "/stop")
    assert fields(api.post(url + "/restart", {"positionsToAdd": 3})) == {"tasks"}
    assert fields(api.post(url + "/restart", {"positionsToAdd": 3, "tasks": make_rows(2, 100)})) == {"tasks"}
    before = api.balance()
    bad = [
        {"id": "r1", "data": [{"key": "url", "value": "https://dup.example"}]},  # exists already
        {"id": "ok1", "data": [{"key": "other", "value": "x"}]},  # misses the template variable
        {"id": "bad-id!", "data": [{"key": "url", "value": "x"}]},
        {"id": "empty", "data": []},
    ]
    r = api.post(url + "/restart", {"positionsToAdd": 4, "tasks": bad})
    assert r.status_code == 202
    assert api.balance() == before  # nothing charged for a job that will fail
    final = api.poll(r.headers["queue-job-id"])[-1]
    assert final["status"] == "Validation_Error"
    errors = {(e["index"], e["id"]): e for e in final["errors"]}
    assert set(errors) == {(0, "r1"), (1, "ok1"), (2, "bad-id!"), (3, "empty")}
    assert "already exists" in errors[(0, "r1")]["message"]
    assert "url" in errors[(1, "ok1")]["message"]
    assert errors[(2, "bad-id!")]["field"] == "tasks[2].id"
    assert "empty" in errors[(3, "empty")]["message"]
    assert len(final["output"].splitlines()) == 4 and "tasks[0].id (id 'r1')" in final["output"]
    after = api.get(url).json()
    assert after["status"] == "FINISHED" and after["availablePositions"] == 30 and after["tasksCount"] == 30
    assert after["jobQueues"]["restartCampaignJob"]["status"] == "Validation_Error"
    good = [{"id": "n1", "data": [{"key": "url", "value": "https://a"}],
             "testCases": [{"questionId": info["questions"][0]["id"], "answers": ["404", "page not found"]}]},
            {"data": [{"key": "url", "value": "https://b"}]},
            {"id": "n2", "data": [{"key": "url", "value": "https://c"}]}]
    r = api.post(url + "/restart", {"positionsToAdd": 3, "tasks": good})
    assert api.poll(r.headers["queue-job-id"])[-1]["status"] == "Uploaded"
    after = api.get(url).json()
    assert after["status"] == "RUNNING" and after["availablePositions"] == 33 and after["tasksCount"] == 33
    rows = api.get(url + "/tasks", params={"pageSize": 100}).json()["items"]
    assert len(rows) == 33 and rows[-1]["id"] == "n2" and rows[-3]["testCases"][0]["answers"][0] == "404"
    assert rows[-2]["id"].isalnum()  # generated by the system
    bad_case = [{"id": "q1", "data": [{"key": "url", "value": "x"}], "testCases": [{"questionId": "Q0",
                                                                                   "answers": ["a"]}]}]
    job = api.post(url + "/tasks-groups", {"tasks": bad_case}).headers["queue-job-id"]
    assert api.poll(job)[-1]["errors"][0]["field"] == "tasks[0].testCases[0].questionId"


# -- tasks-groups ----------------------------------------------------------------------------------
def test_tasks_groups(api: Api) -> None:
    fixed = api.create()["id"]
    r = api.post(f"/basic-campaigns/{fixed}/tasks-groups", {"tasks": make_rows(2, 50)})
    assert fields(r) == {"tasks"}
    cid = api.unique()["id"]
    url = f"/basic-campaigns/{cid}"
    assert fields(api.post(url + "/tasks-groups", {"tasks": []})) == {"tasks"}
    assert fields(api.post(url + "/tasks-groups", {})) == {"tasks"}
    before = api.balance()
    r = api.post(url + "/tasks-groups", {"tasks": make_rows(40, 30)})
    assert r.status_code == 202 and r.headers["queue-job-id"]
    assert before - api.balance() == Decimal("4.3")  # 40 x 0.10 x 1.075, charged when accepted
    assert api.get(url).json()["availablePositions"] == 30  # applied only when Uploaded
    assert api.get(url).json()["jobQueues"]["addPositionJob"]["status"] == "Pending"
    final = api.poll(r.headers["queue-job-id"])[-1]
    assert final["status"] == "Uploaded" and final["output"] == "40 tasks uploaded, 40 positions added."
    info = api.get(url).json()
    assert info["availablePositions"] == 70 and info["slotsCount"]["unTaken"] == 70
    dup = api.post(url + "/tasks-groups", {"tasks": make_rows(1, 5) + make_rows(1, 500)}).headers["queue-job-id"]
    final = api.poll(dup)[-1]
    assert final["status"] == "Validation_Error" and [(e["index"], e["id"]) for e in final["errors"]] == [(0, "r5")]
    assert api.get(url).json()["availablePositions"] == 70
    # two jobs racing for the same new id: the second one fails at upload time and is refunded
    first = api.post(url + "/tasks-groups", {"tasks": make_rows(1, 900)}).headers["queue-job-id"]
    second = api.post(url + "/tasks-groups", {"tasks": make_rows(1, 900)}).headers["queue-job-id"]
    mid = api.balance()
    assert api.poll(first)[-1]["status"] == "Uploaded"
    final = api.poll(second)[-1]
    assert final["status"] == "Upload_Error" and final["errors"][0]["id"] == "r900"
    assert api.balance() - mid == Decimal("0.1075")
    api.put(url + "/stop")
    assert_problem(api.post(url + "/tasks-groups", {"tasks": make_rows(1, 999)}), 400, "CampaignIsNotRunning")
    assert_problem(api.get("/queue-jobs/0000000000000000"), 404, "NotFound")


def test_queue_jobs_finish_at_once_without_polls() -> None:
    api = Api(Settings(platforms=platform_settings(queue_job_polls=0)))
    cid = api.unique()["id"]
    r = api.post(f"/basic-campaigns/{cid}/tasks-groups", {"tasks": make_rows(5, 30)})
    assert api.get(f"/basic-campaigns/{cid}").json()["availablePositions"] == 35
    assert api.get(f"/queue-jobs/{r.headers['queue-job-id']}").json()["status"] == "Uploaded"


def test_create_with_rows(api: Api) -> None:
    tpl = api.template(title="rows")
    assert fields(api.post("/basic-campaigns", api.campaign_body(tpl["id"]))) == {"tasks"}
    r = api.post("/basic-campaigns", api.campaign_body(tpl["id"], tasks=make_rows(31)))
    assert fields(r) == {"availablePositions"}
    rows = make_rows(30)
    rows[3] = {"id": "r1", "data": [{"key": "nope", "value": "x"}]}
    r = api.post("/basic-campaigns", api.campaign_body(tpl["id"], tasks=rows))
    assert fields(r) == {"tasks[3].id", "tasks[3].data"}
    sub = api.campaign_body(tpl["id"], tasks=make_rows(60))
    sub["internalTemplate"]["numberOfSubTasks"] = 2
    info = api.post("/basic-campaigns", sub).json()
    assert info["availablePositions"] == 30 and info["tasksCount"] == 60
    url = f"/basic-campaigns/{info['id']}"
    assert fields(api.post(url + "/tasks-groups", {"tasks": make_rows(3, 100)})) == {"tasks"}
    api.put(url + "/stop")
    r = api.post(url + "/restart", {"positionsToAdd": 3, "tasks": make_rows(6, 100)})  # 2 tasks per position
    assert api.poll(r.headers["queue-job-id"])[-1]["status"] == "Uploaded"
    assert api.get(url).json()["availablePositions"] == 33


# -- hire-group campaigns --------------------------------------------------------------------------
def test_hire_group_campaigns(api: Api) -> None:
    assert fields(api.post("/hire-group-campaigns", api.campaign_body(internationalZone=None, groupId="9"))) == {
        "groupId"}
    assert "internationalZone" in fields(api.post("/hire-group-campaigns", api.campaign_body(groupId="1111")))
    info = api.create("/hire-group-campaigns", internationalZone=None, groupId="1111", availablePositions=4,
                      maxPositionPerWorker=2, taskOrder="sequential")
    assert DOCUMENTED <= set(info) and info["geoZone"] is None
    assert (info["groupId"], info["maxPositionPerWorker"], info["numberOfWorkerOnSamePosition"],
            info["taskOrder"]) == ("1111", 2, 1, "sequential")
    url = f"/hire-group-campaigns/{info['id']}"
    r = api.patch(url, {"groupId": "2222", "speed": 10})
    assert r.status_code == 200 and r.json()["groupId"] == "2222" and r.json()["speed"] == 10
    assert fields(api.patch(url, {"groupId": "0000"})) == {"groupId"}
    assert fields(api.patch(url, {"maxPositionPerWorker": 3})) == {"maxPositionPerWorker"}
    assert [c["id"] for c in api.get("/hire-group-campaigns").json()["items"]] == [info["id"]]
    assert api.get("/basic-campaigns").json()["items"] == []
    assert api.put(url + "/pause").status_code == 204
    assert api.put(url + "/stop").status_code == 204
    assert_problem(api.patch(url, {"groupId": "3333"}), 400, "CampaignIsNotRunning")
    r = api.post(url + "/restart", {"positionsToAdd": 2})
    assert r.status_code == 202 and api.poll(r.headers["queue-job-id"])[-1]["status"] == "Uploaded"
    assert api.get(url).json()["availablePositions"] == 6
    slots = simulate_submissions(api.sandbox, info["id"], 2)
    assert len(slots) == 2 and slots[0]["workerId"] != slots[1]["workerId"]
    assert len(api.get(url + "/slots").json()["items"]) == 2
    tpl = api.template(title="hg rows")
    hg = api.create("/hire-group-campaigns", template_id=tpl["id"], internationalZone=None, groupId="1111",
                    tasks=make_rows(3), availablePositions=6, numberOfWorkerOnSamePosition=2)
    assert hg["tasksCount"] == 3 and hg["availablePositions"] == 6
    r = api.post(f"/hire-group-campaigns/{hg['id']}/tasks-groups", {"tasks": make_rows(2, 10)})
    api.poll(r.headers["queue-job-id"])
    assert api.get(f"/hire-group-campaigns/{hg['id']}").json()["availablePositions"] == 10


# -- templates -------------------------------------------------------------------------------------
def test_templates(api: Api) -> None:
    tpl = api.template()
    assert tpl["id"].startswith("T") and len(tpl["id"]) == 14
    assert tpl["variables"] == ["url"]
    qs = {q["name"]: q for q in tpl["questions"]}
    assert qs["status"]["required"] is True and qs["status"]["tag"] == "input"
    assert qs["works"]["type"] == "radio" and qs["works"]["options"] == ["yes", "no"]
    assert all(q["id"].startswith("Q") and len(q["id"]) == 10 for q in tpl["questions"])
    assert api.get(f"/templates/{tpl['id']}").json() == tpl
    assert_problem(api.post("/templates", {"title": tpl["title"], "htmlCode": "<p/>"}), 400, "AlreadyExists")
    assert fields(api.post("/templates", {"title": "x"})) == {"htmlCode"}
    declared = {"title": "Check a URL", "htmlCode": "<p>{{url}} {{lang}}</p>", "cssSection": "p{}",
                "jsSection": "1;", "questions": [{"name": "status", "type": "textarea", "required": True},
                                               {"name": "mood", "type": "select", "options": ["a", "b"]}]}
    r = api.put(f"/templates/{tpl['id']}", declared)
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["variables"] == ["url", "lang"] and updated["cssSection"] == "p{}"
    assert {q["name"]: q["id"] for q in updated["questions"]}["status"] == qs["status"]["id"]  # stable id
    assert updated["questions"][0]["tag"] == "textarea"
    bad = {"title": "y", "htmlCode": "<p/>", "questions": [{"name": "a", "type": "radio"},
                                                          {"name": "a", "type": "dial"}]}
    assert fields(api.post("/templates", bad)) == {"questions[0].options", "questions[1].name", "questions[1].type"}
    other = api.template(title="Other")
    assert_problem(api.put(f"/templates/{other['id']}", {"title": "Check a URL", "htmlCode": "<p/>"}), 400,
                   "AlreadyExists")
    page = api.get("/templates", params={"pageSize": 1}).json()
    assert len(page["items"]) == 1 and page["nextPageToken"]
    rest = api.get("/templates", params={"pageSize": 1, "nextPageToken": page["nextPageToken"]}).json()
    assert rest["items"][0]["id"] == other["id"] and rest["nextPageToken"] is None
    assert api.call("DELETE", f"/templates/{other['id']}").status_code == 204
    assert_problem(api.get(f"/templates/{other['id']}"), 404, "NotFound")


# -- slots and rating ------------------------------------------------------------------------------
def test_slots_and_rating(api: Api) -> None:
    info = api.unique(autoRefillPositions=True)
    cid, url = info["id"], f"/basic-campaigns/{info['id']}"
    made = simulate_submissions(api.sandbox, cid, 5, seed=7)
    assert len(made) == 5 and len({s["workerId"] for s in made}) == 5
    first = made[0]
    assert first["status"] == "NOTRATED" and first["taskIds"] == ["r0"] and first["proof"]
    assert {a["name"] for a in first["answers"]} == {"status", "works"}
    assert next(a for a in first["answers"] if a["name"] == "works")["answers"][0] in ("yes", "no")
    assert first["locked"] < first["submitted"]
    counts = api.get(url).json()["slotsCount"]
    assert counts["notRated"] == 5 and counts["unTaken"] == 25
    assert api.get(f"/slots/{first['id']}").json() == first
    page = api.get(url + "/slots", params={"pageSize": 2}).json()
    assert [s["id"] for s in page["items"]] == [s["id"] for s in made[:2]] and page["nextPageToken"]
    rate = f"/slots/{first['id']}/rate"
    assert fields(api.put(rate, {"rating": "NOK"})) == {"comment"}
    assert fields(api.put(rate, {"rating": "REVISE", "comment": " "})) == {"comment"}
    assert fields(api.put(rate, {"rating": "MAYBE"})) == {"rating"}
    assert fields(api.put(rate, {"rating": "OK", "bonus": 0.009})) == {"bonus"}
    assert fields(api.put(rate, {"rating": "OK", "bonus": 0.21})) == {"bonus"}
    assert fields(api.put(rate, {"rating": "NOK", "comment": "no", "bonus": 0.1})) == {"bonus"}
    before = api.balance()
    assert api.put(rate, {"rating": "OK", "comment": "", "bonus": 0.2}).status_code == 204
    assert before - api.balance() == Decimal("0.215")
    rated = api.get(f"/slots/{first['id']}").json()
    assert rated["status"] == "OK" and rated["bonus"] == 0.2 and rated["rated"]
    assert fields(api.put(rate, {"rating": "NOK", "comment": "again"})) == {"rating"}
    assert api.put(f"/slots/{made[1]['id']}/rate", {"rating": "NOK", "comment": "wrong URL"}).status_code == 204
    assert api.put(f"/slots/{made[2]['id']}/rate", {"rating": "REVISE", "comment": "add proof"}).status_code == 204
    counts = api.get(url).json()["slotsCount"]
    assert (counts["ok"], counts["nok"], counts["revise"], counts["notRated"]) == (1, 1, 1, 2)
    assert counts["unTaken"] == 26  # the NOK position was refilled
    assert [s["id"] for s in api.get(url + "/slots", params={"filter[status]": "NOTRATED"}).json()["items"]] == [
        made[3]["id"], made[4]["id"]]
    assert_problem(api.get(url + "/slots", params={"filter[status]": "DONE"}), 400, "ValidationFailed")
    refill = simulate_submissions(api.sandbox, cid, 1, seed=7)
    assert refill[0]["taskIds"] == made[1]["taskIds"]  # the refilled position's task is offered again
    api.sandbox.store.kv_set("microworkers", "balance", "0.01")
    r = api.put(f"/slots/{made[3]['id']}/rate", {"rating": "OK", "bonus": 0.1})
    assert fields(r) == {"bonus"}
    assert_problem(api.put("/slots/000000000000/rate", {"rating": "OK"}), 404, "NotFound")
    rest = simulate_submissions(api.sandbox, cid, 100)
    assert len(rest) == 25 and api.get(url).json()["status"] == "FINISHED"
    assert_problem(api.put(url + "/archive"), 400, "CampaignWithNotRatedTasks")
    with pytest.raises(ValueError, match="not RUNNING"):
        simulate_submissions(api.sandbox, cid, 1)
    with pytest.raises(KeyError):
        simulate_submissions(api.sandbox, "e7162dd17b83", 1)


def test_simulate_is_deterministic_per_seed() -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        api = Api()
        cid = api.unique()["id"]
        keep = ("id", "workerId", "taskIds", "answers", "proof", "status")
        return [{k: s[k] for k in keep} for s in simulate_submissions(api.sandbox, cid, 4, seed=seed)]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_auto_rating_with_test_cases(api: Api) -> None:
    tpl = api.template(title="auto")
    status_q = next(q["id"] for q in tpl["questions"] if q["name"] == "status")
    rows = make_rows(30)
    for row in rows:
        row["testCases"] = [{"questionId": status_q, "answers": ["404"]}]
    info = api.create(template_id=tpl["id"], tasks=rows, autoRateOkTask=True, autoRateNokTask=True)
    made = simulate_submissions(api.sandbox, info["id"], 30, seed=3)
    for slot in made:
        given = next(a["answers"][0] for a in slot["answers"] if a["questionId"] == status_q)
        assert slot["autoRated"] and slot["status"] == ("OK" if given == "404" else "NOK")
    statuses = {s["status"] for s in made}
    assert statuses == {"OK", "NOK"}
    counts = api.get(f"/basic-campaigns/{info['id']}").json()["slotsCount"]
    assert counts["ok"] + counts["nok"] == 30 and counts["notRated"] == 0
