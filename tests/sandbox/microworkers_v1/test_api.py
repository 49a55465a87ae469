"""The Microworkers legacy API v1 sandbox (``/microworkers-v1``): protocol, rules, lifecycle, rating."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient  # uses httpx2 (a test dependency)

from campaignctl.sandbox.apis import platform_settings
from campaignctl.sandbox.app import create_app
from campaignctl.sandbox.core import Sandbox, Settings
from campaignctl.sandbox.microworkers_v1 import api as mw_v1
from campaignctl.sandbox.microworkers_v1 import core as mw_v1_core
from campaignctl.sandbox.store import Store

KEY = {"MicroworkersApiKey": "sandbox-key"}
B = "/microworkers-v1/campaign_b"
HG = "/microworkers-v1/campaign_hg"
ROOT = "/microworkers-v1"


class Api:
    """A TestClient with the API key and the sandbox behind it."""

    def __init__(self, settings: Settings | None = None) -> None:
        app = create_app(Store(), settings or Settings())
        self.sandbox: Sandbox = app.state.sandbox
        self.client = TestClient(app)

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, headers=KEY, params=params)

    def put(self, path: str, data: dict[str, Any] | None = None) -> Any:
        return self.client.put(path, headers=KEY, data=data or {})

    def post(self, path: str, data: dict[str, Any] | None = None, files: Any = None) -> Any:
        return self.client.post(path, headers=KEY, data=data or {}, files=files)

    def delete(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.request("DELETE", path, headers=KEY, data=data)

    def basic(self, **overrides: Any) -> str:
        r = self.post(f"{B}/new_campaign", basic_form(**overrides))
        assert r.json()["status"] == "SUCCESS", r.json()
        return str(r.json()["campaign_id"])

    def hg(self, **overrides: Any) -> str:
        r = self.post(f"{HG}/new_campaign", hg_form(**overrides))
        assert r.json()["status"] == "SUCCESS", r.json()
        return str(r.json()["campaign_id"])

    def info(self, cid: str, prefix: str = B) -> dict[str, Any]:
        body: dict[str, Any] = self.get(f"{prefix}/get_info/{cid}").json()
        return body

    def close(self) -> None:
        self.client.close()


def basic_form(**overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title": "Find the logo",
        "zone": "int",
        "selected_countries": "US IN",
        "category": "1001",
        "minutes_to_finish": "10",
        "available_positions": "40",
        "payment_per_task": "0.20",
        "speed": "100",
        "required_work": "Visit the page and find the logo",
        "required_proof": "The logo's colour",
        "ttr": "7",
        "auto_rate": "V+R",
        "file_proof": "0",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def hg_form(**overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title": "Transcribe clips",
        "group_id": "1111",
        "category": "1013",
        "minutes_to_finish": "30",
        "available_positions": "10",
        "max_positions_per_worker": "3",
        "payment_per_task": "0.50",
        "description_type": "SAME",
        "required_work": "Transcribe the audio",
        "required_proof[]": ["Transcript", "Language"],
        "ttr": "3",
        "auto_rate": "NO",
        "file_proof": "1",
        "qt_required": "0",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


@pytest.fixture
def api() -> Iterator[Api]:
    a = Api()
    yield a
    a.close()


def make_api(**settings: Any) -> Api:
    return Api(Settings(**settings))


# -- protocol ----------------------------------------------------------------------------------
def test_api_key_is_required(api: Api) -> None:
    r = api.client.get(f"{B}/categories_list")
    assert r.status_code == 401
    assert r.json() == {"status": "ERROR", "error": "WRONG API KEY"}
    r = api.client.get(f"{B}/categories_list", headers={"MicroworkersApiKey": "nope"})
    assert r.status_code == 401 and r.json()["error"] == "WRONG API KEY"
    assert api.get(f"{B}/categories_list").status_code == 200


def test_unknown_endpoint_and_wrong_method(api: Api) -> None:
    r = api.get(f"{B}/nothing_here")
    assert r.status_code == 404 and r.json() == {"status": "ERROR", "error": "UNKNOWN METHOD"}
    assert api.get(f"{HG}/set_speed/abc").status_code == 404  # basic only
    assert api.get(f"{B}/change_group/abc").status_code == 404  # hire-group only
    assert api.get(f"{HG}/zones_list").status_code == 404
    assert api.get(f"{B}/groups_list").status_code == 404
    r = api.get(f"{B}/pause/abc")
    assert r.status_code == 405 and r.json()["status"] == "ERROR"
    assert api.put(f"{ROOT}/campaigns_b/list").status_code == 405


def test_trailing_slash_and_post_or_put(api: Api) -> None:
    cid = api.basic()
    assert api.get(f"{B}/get_info/{cid}/").json()["status"] == "SUCCESS"
    assert api.get(f"{B}/zones_list/").json()["status"] == "SUCCESS"
    assert api.post(f"{B}/pause/{cid}").json()["campaign_status"] == "PAUSED"
    assert api.put(f"{B}/resume/{cid}").json()["campaign_status"] == "RUNNING"


# -- new_campaign (basic) ----------------------------------------------------------------------
def test_new_basic_campaign_and_get_info(api: Api) -> None:
    before = mw_v1.balance(api.sandbox)
    r = api.post(f"{B}/new_campaign", basic_form())
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "SUCCESS" and set(body) == {"status", "campaign_id"}
    cid = body["campaign_id"]
    assert re.fullmatch(r"[0-9a-f]{12}", cid)
    info = api.info(cid)
    expected = {
        "status": "SUCCESS",
        "campaign_id": cid,
        "title": "Find the logo",
        "campaign_status": "RUNNING",
        "folder": "DEFAULT",
        "zone": "int",
        "selected_countries": "US IN",
        "category": "1001",
        "minutes_to_finish": "10",
        "available_positions": "40",
        "positions_done": "0",
        "payment_per_task": "0.20000",
        "speed": "100",
        "ttr": "7",
        "auto_rate": "V+R",
        "file_proof": "0",
        "qt_required": "1",
        "required_work": "Visit the page and find the logo",
        "required_proof": "The logo's colour",
        "file": "",
        "restarted_datetime": "0000-00-00 00:00:00",
        "finished_datetime": "0000-00-00 00:00:00",
    }
    assert {k: info[k] for k in expected} == expected
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", info["created_datetime"])
    assert info["approved_datetime"] == info["created_datetime"]
    assert "group_id" not in info
    assert mw_v1.balance(api.sandbox) == pytest.approx(before - 40 * 0.20 * 1.10)
    assert api.get(f"{B}/get_status/{cid}").json() == {
        "status": "SUCCESS",
        "campaign_id": cid,
        "campaign_status": "RUNNING",
    }


def test_campaign_ids_are_distinct_and_seeded() -> None:
    a, b = make_api(seed=1), make_api(seed=1)
    c = make_api(seed=2)
    ids_a = [a.basic(), a.basic()]
    assert ids_a[0] != ids_a[1]
    assert [b.basic(), b.basic()] == ids_a
    assert c.basic() != ids_a[0]


def test_positions_must_be_higher_than_30(api: Api) -> None:
    r = api.post(f"{B}/new_campaign", basic_form(available_positions="30"))
    assert r.json() == {"status": "ERROR", "error": ["INCORRECT AVAILABLE POSITIONS VALUE"]}
    assert api.basic(available_positions="31")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "  ", "TITLE IS MANDATORY"),
        ("zone", "mars1", "INCORRECT ZONE"),
        ("zone", None, "INCORRECT ZONE"),
        ("selected_countries", "US XX", "INCORRECT SELECTED COUNTRIES"),
        ("category", "9999", "UNKNOWN CATEGORY"),
        ("minutes_to_finish", "0", "INCORRECT MINUTES TO FINISH VALUE"),
        ("minutes_to_finish", "ten", "INCORRECT MINUTES TO FINISH VALUE"),
        ("available_positions", "-5", "INCORRECT AVAILABLE POSITIONS VALUE"),
        ("payment_per_task", "abc", "INCORRECT PAYMENT PER TASK VALUE"),
        ("payment_per_task", "0", "INCORRECT PAYMENT PER TASK VALUE"),
        ("speed", "0", "INCORRECT SPEED VALUE"),
        ("speed", "1001", "INCORRECT SPEED VALUE"),
        ("speed", "1.5", "INCORRECT SPEED VALUE"),
        ("required_work", "", "REQUIRED WORK IS MANDATORY"),
        ("required_proof", None, "REQUIRED PROOF IS MANDATORY"),
        ("ttr", "0", "INCORRECT TTR VALUE"),
        ("ttr", "31", "INCORRECT TTR VALUE"),
        ("auto_rate", "YES", "INCORRECT AUTO RATE VALUE"),
        ("auto_rate", "V R", "INCORRECT AUTO RATE VALUE"),
        ("file_proof", "3", "INCORRECT FILE PROOF VALUE"),
        ("file_proof", None, "INCORRECT FILE PROOF VALUE"),
        ("qt_required", "2", "INCORRECT QT REQUIRED VALUE"),
    ],
)
def test_new_basic_campaign_rules(api: Api, field: str, value: str | None, message: str) -> None:
    r = api.post(f"{B}/new_campaign", basic_form(**{field: value}))
    assert r.status_code == 200
    assert r.json() == {"status": "ERROR", "error": [message]}
    assert api.get(f"{ROOT}/campaigns_b/list").json()["error"] == "NO CAMPAIGNS"


@pytest.mark.parametrize(("speed", "ttr"), [("1", "1"), ("1000", "30")])
def test_new_basic_campaign_range_edges_pass(api: Api, speed: str, ttr: str) -> None:
    cid = api.basic(speed=speed, ttr=ttr)
    info = api.info(cid)
    assert (info["speed"], info["ttr"]) == (speed, ttr)


def test_all_errors_at_once(api: Api) -> None:
    r = api.post(f"{B}/new_campaign", {"title": ""})
    errors = r.json()["error"]
    assert r.json()["status"] == "ERROR"
    for message in (
        "TITLE IS MANDATORY",
        "INCORRECT ZONE",
        "UNKNOWN CATEGORY",
        "INCORRECT SPEED VALUE",
        "INCORRECT TTR VALUE",
        "INCORRECT AUTO RATE VALUE",
        "INCORRECT FILE PROOF VALUE",
    ):
        assert message in errors


def test_payment_too_low_carries_min_payment(api: Api) -> None:
    r = api.post(f"{B}/new_campaign", basic_form(payment_per_task="0.05"))
    assert r.json() == {"status": "ERROR", "error": ["PAYMENT PER TASK TOO LOW"], "min_payment_per_task": "0.10"}
    r = api.post(f"{B}/new_campaign", basic_form(zone="west1", payment_per_task="0.15"))
    assert r.json()["min_payment_per_task"] == "0.20"
    assert api.basic(payment_per_task="0.10")


def test_selected_countries_forms(api: Api) -> None:
    assert api.info(api.basic(selected_countries="us, in,US"))["selected_countries"] == "US IN"
    cid = api.basic(selected_countries=None, **{"selected_countries[]": ["BR", "MX"]})
    assert api.info(cid)["selected_countries"] == "BR MX"
    assert api.info(api.basic(selected_countries=""))["selected_countries"] == ""
    # only applicable to the int zone: dropped elsewhere
    cid = api.basic(zone="west1", payment_per_task="0.20", selected_countries="IN")
    assert (api.info(cid)["zone"], api.info(cid)["selected_countries"]) == ("west1", "")


def test_qt_required_and_file_upload(api: Api) -> None:
    assert api.info(api.basic(qt_required="0"))["qt_required"] == "0"
    r = api.post(f"{B}/new_campaign", basic_form(file_proof="2"), files={"file": ("brief.pdf", b"%PDF-1.4")})
    cid = r.json()["campaign_id"]
    info = api.info(cid)
    assert (info["file"], info["file_proof"]) == ("brief.pdf", "2")


def test_new_campaign_not_enough_funds() -> None:
    api = make_api(balance=5.0)
    r = api.post(f"{B}/new_campaign", basic_form())  # 40 * 0.20 * 1.1 = 8.80
    assert r.json() == {"status": "ERROR", "error": ["NOT ENOUGH FUNDS"]}
    assert mw_v1.balance(api.sandbox) == 5.0
    api.basic(available_positions="31", payment_per_task="0.10")  # 3.41
    assert mw_v1.balance(api.sandbox) == pytest.approx(5.0 - 3.41)


# -- new_campaign (hire group) -----------------------------------------------------------------
def test_new_hg_campaign_and_get_info(api: Api) -> None:
    cid = api.hg()
    info = api.info(cid, HG)
    expected = {
        "status": "SUCCESS",
        "campaign_id": cid,
        "title": "Transcribe clips",
        "campaign_status": "RUNNING",
        "group_id": "1111",
        "category": "1013",
        "minutes_to_finish": "30",
        "available_positions": "10",
        "positions_done": "0",
        "max_positions_per_worker": "3",
        "description_type": "SAME",
        "payment_per_task": "0.50000",
        "ttr": "3",
        "auto_rate": "NO",
        "file_proof": "1",
        "qt_required": "0",
        "required_work": "Transcribe the audio",
        "required_proof": ["Transcript", "Language"],
    }
    assert {k: info[k] for k in expected} == expected
    assert "zone" not in info and "speed" not in info
    # one required proof as a plain field
    cid2 = api.hg(**{"required_proof[]": None, "required_proof": "Transcript"})
    assert api.info(cid2, HG)["required_proof"] == ["Transcript"]
    # ids are per type: a hire-group id is no basic campaign
    assert api.get(f"{B}/get_info/{cid}").json()["error"] == "NO SUCH CAMPAIGN"


def test_new_hg_campaign_errors_use_errors_key(api: Api) -> None:
    r = api.post(f"{HG}/new_campaign", hg_form(group_id="9999", payment_per_task="0.01"))
    assert r.status_code == 200
    assert r.json() == {
        "status": "ERROR",
        "errors": ["UNKNOWN GROUP", "PAYMENT PER TASK TOO LOW"],
        "min_payment_per_task": "0.10",
    }
    cases = {
        "available_positions": ("0", "INCORRECT AVAILABLE POSITIONS VALUE"),
        "max_positions_per_worker": ("x", "INCORRECT MAX POSITIONS PER WORKER VALUE"),
        "description_type": ("OTHER", "INCORRECT DESCRIPTION TYPE VALUE"),
        "required_proof[]": (["a", "b", "c", "d"], "TOO MANY REQUIRED PROOFS"),
    }
    for field, (value, message) in cases.items():
        assert api.post(f"{HG}/new_campaign", hg_form(**{field: value})).json() == {
            "status": "ERROR",
            "errors": [message],
        }
    assert api.hg(available_positions="1", max_positions_per_worker="0")  # no minimum of 31 for hg


def test_hg_unique_description_needs_csv(api: Api) -> None:
    r = api.post(f"{HG}/new_campaign", hg_form(description_type="UNIQUE"))
    assert r.json() == {"status": "ERROR", "errors": ["CSV FILE IS MANDATORY FOR UNIQUE DESCRIPTION TYPE"]}
    csv_text = b"url,lang\nhttps://a.example/1.mp3,en\nhttps://a.example/2.mp3,es\n"
    r = api.post(f"{HG}/new_campaign", hg_form(description_type="UNIQUE"), files={"csv": ("tasks.csv", csv_text)})
    cid = r.json()["campaign_id"]
    info = api.info(cid, HG)
    assert (info["description_type"], info["csv_rows"]) == ("UNIQUE", "2")


# -- lifecycle ---------------------------------------------------------------------------------
def test_review_period_is_lazy(monkeypatch: pytest.MonkeyPatch) -> None:
    api = make_api(platforms=platform_settings(review_seconds=60))
    t0 = 1_800_000_000.0
    monkeypatch.setattr(mw_v1_core, "clock", lambda: t0)
    cid = api.basic()
    assert api.info(cid)["campaign_status"] == "PENDING_REVIEW"
    assert api.info(cid)["approved_datetime"] == "0000-00-00 00:00:00"
    r = api.put(f"{B}/pause/{cid}")
    assert r.json() == {
        "status": "ERROR",
        "campaign_id": cid,
        "error": "CAMPAIGN NOT RUNNING",
        "campaign_status": "PENDING_REVIEW",
    }
    assert api.put(f"{B}/set_speed/{cid}", {"speed": "5"}).json()["error"] == "CAMPAIGN NOT RUNNING OR PAUSED"
    assert api.put(f"{B}/add_positions/{cid}", {"positions": "5"}).json()["error"] == "CAMPAIGN STATUS ERROR"
    with pytest.raises(ValueError):
        mw_v1.simulate_submissions(api.sandbox, cid, 1)
    monkeypatch.setattr(mw_v1_core, "clock", lambda: t0 + 60)
    info = api.info(cid)
    assert info["campaign_status"] == "RUNNING"
    assert info["approved_datetime"] == "2027-01-15 08:01:00"


def test_pause_resume_stop_by_status(api: Api) -> None:
    cid = api.basic()
    assert api.put(f"{B}/resume/{cid}").json() == {
        "status": "ERROR",
        "campaign_id": cid,
        "error": "CAMPAIGN NOT PAUSED",
        "campaign_status": "RUNNING",
    }
    assert api.put(f"{B}/pause/{cid}").json() == {"status": "SUCCESS", "campaign_id": cid, "campaign_status": "PAUSED"}
    assert api.put(f"{B}/pause/{cid}").json()["error"] == "CAMPAIGN NOT RUNNING"
    assert api.put(f"{B}/resume/{cid}").json()["campaign_status"] == "RUNNING"
    assert api.put(f"{B}/pause/{cid}").json()["status"] == "SUCCESS"
    assert api.put(f"{B}/stop/{cid}").json() == {"status": "SUCCESS", "campaign_id": cid, "campaign_status": "FINISHED"}
    assert api.info(cid)["finished_datetime"] != "0000-00-00 00:00:00"
    for action in ("stop", "pause", "resume"):
        r = api.put(f"{B}/{action}/{cid}")
        assert r.json()["status"] == "ERROR" and r.json()["campaign_status"] == "FINISHED"
    assert api.put(f"{B}/stop/{cid}").json()["error"] == "CAMPAIGN NOT RUNNING OR PAUSED"


def test_no_such_campaign_is_404_with_body(api: Api) -> None:
    for method, path in (
        ("get", "get_info"),
        ("get", "get_status"),
        ("put", "pause"),
        ("put", "stop"),
        ("put", "set_speed"),
        ("put", "add_positions"),
        ("put", "restart_campaign"),
        ("get", "list_tasks"),
        ("get", "results_csv"),
        ("put", "rate_tasks"),
    ):
        r = getattr(api, method)(f"{B}/{path}/a699bb9b2e7b")
        assert r.status_code == 404
        assert r.json() == {"status": "ERROR", "campaign_id": "a699bb9b2e7b", "error": "NO SUCH CAMPAIGN"}


def test_admin_statuses_and_archive(api: Api) -> None:
    cid = api.basic()
    mw_v1.set_status(api.sandbox, cid, "PAUSED_ADMIN")
    assert api.get(f"{B}/get_status/{cid}").json()["campaign_status"] == "PAUSED_ADMIN"
    assert api.put(f"{B}/resume/{cid}").json()["error"] == "CAMPAIGN NOT PAUSED"
    mw_v1.set_status(api.sandbox, cid, "BLOCKED", "Spam")
    info = api.info(cid)
    assert (info["campaign_status"], info["blocked_reason"]) == ("BLOCKED", "Spam")
    mw_v1.set_status(api.sandbox, cid, "RUNNING")
    mw_v1.archive_campaign(api.sandbox, cid)
    for action in ("pause", "stop", "set_speed", "add_positions", "toggle_qt_required", "retarget"):
        assert api.put(f"{B}/{action}/{cid}").json() == {
            "status": "ERROR",
            "campaign_id": cid,
            "error": "ARCHIVED CAMPAIGN",
        }
    assert api.info(cid)["folder"] == "ARCHIVE"


# -- changes -----------------------------------------------------------------------------------
def test_set_speed(api: Api) -> None:
    cid = api.basic(speed="100")
    assert api.put(f"{B}/set_speed/{cid}", {"speed": "555"}).json() == {
        "status": "SUCCESS",
        "campaign_id": cid,
        "speed_previous": 100,
        "speed_new": 555,
    }
    assert api.info(cid)["speed"] == "555"
    for bad in ("0", "1001", "fast", ""):
        assert api.put(f"{B}/set_speed/{cid}", {"speed": bad}).json() == {
            "status": "ERROR",
            "campaign_id": cid,
            "error": "INCORRECT SPEED VALUE",
        }
    api.put(f"{B}/pause/{cid}")
    assert api.put(f"{B}/set_speed/{cid}", {"speed": "1"}).json()["speed_new"] == 1
    api.put(f"{B}/stop/{cid}")
    assert api.put(f"{B}/set_speed/{cid}", {"speed": "2"}).json()["error"] == "CAMPAIGN NOT RUNNING OR PAUSED"


def test_add_positions(api: Api) -> None:
    cid = api.basic()
    before = mw_v1.balance(api.sandbox)
    assert api.put(f"{B}/add_positions/{cid}", {"positions": "10"}).json() == {
        "status": "SUCCESS",
        "campaign_id": cid,
        "positions_added": 10,
    }
    assert api.info(cid)["available_positions"] == "50"
    assert mw_v1.balance(api.sandbox) == pytest.approx(before - 10 * 0.20 * 1.10)
    for bad in ("0", "-1", "x", "100001"):
        assert api.put(f"{B}/add_positions/{cid}", {"positions": bad}).json() == {
            "status": "ERROR",
            "campaign_id": cid,
            "error": "NUMBER OF POSITIONS OUT OF RANGE",
        }
    hg = api.hg()
    assert api.put(f"{HG}/add_positions/{hg}", {"positions": "5"}).json()["positions_added"] == 5
    api.put(f"{B}/stop/{cid}")
    r = api.put(f"{B}/add_positions/{cid}", {"positions": "1"}).json()
    assert (r["error"], r["campaign_status"]) == ("CAMPAIGN STATUS ERROR", "FINISHED")


def test_add_positions_not_enough_funds() -> None:
    api = make_api(balance=10.0)
    cid = api.basic()  # 8.80
    assert api.put(f"{B}/add_positions/{cid}", {"positions": "10"}).json() == {
        "status": "ERROR",
        "campaign_id": cid,
        "error": "NOT ENOUGH FUNDS",
    }
    assert api.info(cid)["available_positions"] == "40"


def test_retarget(api: Api) -> None:
    cid = api.basic(payment_per_task="0.15")
    r = api.put(f"{B}/retarget/{cid}", {"zone": "europe2"})
    assert r.json() == {"status": "SUCCESS", "campaign_id": cid, "zone": "europe2", "selected_countries": ""}
    r = api.put(f"{B}/retarget/{cid}", {"zone": "int", "selected_countries[]": ["DE", "FR"]})
    assert r.json()["selected_countries"] == "DE FR"
    assert (api.info(cid)["zone"], api.info(cid)["selected_countries"]) == ("int", "DE FR")
    assert api.put(f"{B}/retarget/{cid}", {"selected_countries": "PL"}).json()["selected_countries"] == "PL"
    assert api.put(f"{B}/retarget/{cid}", {"zone": "moon"}).json()["error"] == "INCORRECT ZONE"
    assert (
        api.put(f"{B}/retarget/{cid}", {"selected_countries": "ZZ"}).json()["error"] == "INCORRECT SELECTED COUNTRIES"
    )
    r = api.put(f"{B}/retarget/{cid}", {"zone": "west1"})  # minimum 0.20 there
    assert r.json() == {
        "status": "ERROR",
        "campaign_id": cid,
        "error": "PAYMENT PER TASK TOO LOW",
        "min_payment_per_task": "0.20",
    }
    assert api.info(cid)["zone"] == "int"
    api.put(f"{B}/stop/{cid}")
    assert api.put(f"{B}/retarget/{cid}", {"zone": "asia1"}).json()["error"] == "CAMPAIGN NOT RUNNING OR PAUSED"


def test_toggle_qt_required(api: Api) -> None:
    cid = api.basic()
    assert api.put(f"{B}/toggle_qt_required/{cid}").json() == {
        "status": "SUCCESS",
        "campaign_id": cid,
        "qt_required": 0,
    }
    assert api.info(cid)["qt_required"] == "0"
    assert api.put(f"{B}/toggle_qt_required/{cid}").json()["qt_required"] == 1
    hg = api.hg(qt_required="0")
    assert api.put(f"{HG}/toggle_qt_required/{hg}").json()["qt_required"] == 1
    assert api.info(hg, HG)["qt_required"] == "1"


def test_change_group_as_its_page(api: Api) -> None:
    cid = api.hg()
    assert api.put(f"{HG}/change_group/{cid}", {"group_id": "2222"}).json() == {
        "status": "SUCCESS",
        "campaign_id": cid,
        "group_id": "2222",
    }
    assert api.info(cid, HG)["group_id"] == "2222"
    r = api.put(f"{HG}/change_group/{cid}", {"group_id": "1234"})
    assert r.status_code == 200
    assert list(r.json().items()) == [
        ("status", "ERROR"),
        ("campaign_id", cid),
        ("group_id", "1234"),
        ("error", "UNKNOWN GROUP"),
    ]
    r = api.put(f"{HG}/change_group/a699bb9b2e7b", {"group_id": "1111"})
    assert r.json() == {
        "status": "ERROR",
        "campaign_id": "a699bb9b2e7b",
        "group_id": "1111",
        "error": "NO SUCH CAMPAIGN",
    }
    mw_v1.add_group(api.sandbox, "5555", "New group")
    assert api.put(f"{HG}/change_group/{cid}", {"group_id": "5555"}).json()["status"] == "SUCCESS"
    api.put(f"{HG}/stop/{cid}")
    assert api.put(f"{HG}/change_group/{cid}", {"group_id": "1111"}).json()["error"] == "CAMPAIGN NOT RUNNING OR PAUSED"
    mw_v1.archive_campaign(api.sandbox, cid)
    assert api.put(f"{HG}/change_group/{cid}", {"group_id": "1111"}).json()["error"] == "ARCHIVED CAMPAIGN"


def test_restart_campaign(api: Api) -> None:
    cid = api.basic()
    r = api.put(f"{B}/restart_campaign/{cid}", {"positions": "10"})
    assert r.json() == {
        "status": "ERROR",
        "campaign_id": cid,
        "error": "CAMPAIGN NOT FINISHED",
        "campaign_status": "RUNNING",
    }
    mw_v1.simulate_submissions(api.sandbox, cid, 40)
    assert api.info(cid)["campaign_status"] == "FINISHED"  # all positions done
    for bad in ("x", "-1", "0"):
        assert api.put(f"{B}/restart_campaign/{cid}", {"positions": bad}).json() == {
            "status": "ERROR",
            "campaign_id": cid,
            "error": "INPUT_DATA",
            "errors_list": ["Positions has invalid value"],
        }
    mw_v1.fail_next(api.sandbox, "restart_campaign")
    r = api.put(f"{B}/restart_campaign/{cid}", {"positions": "10"})
    assert r.status_code == 500 and r.json() == {"status": "ERROR", "campaign_id": cid, "error": "SYSTEM ERROR"}
    r = api.put(f"{B}/restart_campaign/{cid}", {"positions": "10"})
    assert r.json() == {"status": "SUCCESS", "campaign_id": cid, "positions_added": 10}
    info = api.info(cid)
    assert (info["campaign_status"], info["available_positions"], info["positions_done"]) == ("RUNNING", "50", "40")
    assert info["restarted_datetime"] != "0000-00-00 00:00:00"
    assert info["finished_datetime"] == "0000-00-00 00:00:00"


def test_restart_stopped_campaign_with_untaken_positions(monkeypatch: pytest.MonkeyPatch) -> None:
    api = make_api(platforms=platform_settings(review_seconds=30))
    monkeypatch.setattr(mw_v1_core, "clock", lambda: 1_800_000_000.0)
    cid = api.hg()
    monkeypatch.setattr(mw_v1_core, "clock", lambda: 1_800_000_100.0)
    api.put(f"{HG}/stop/{cid}")
    r = api.put(f"{HG}/restart_campaign/{cid}", {"positions": "0"})
    assert r.json()["positions_added"] == 0
    assert api.info(cid, HG)["campaign_status"] == "PENDING_RESTART"
    monkeypatch.setattr(mw_v1_core, "clock", lambda: 1_800_000_130.0)
    assert api.info(cid, HG)["campaign_status"] == "RUNNING"


def test_restart_not_enough_funds() -> None:
    api = make_api(balance=9.0)
    cid = api.basic()  # 8.80
    api.put(f"{B}/stop/{cid}")
    assert api.put(f"{B}/restart_campaign/{cid}", {"positions": "10"}).json()["errors_list"] == ["Not enough funds"]


# -- lists -------------------------------------------------------------------------------------
def test_campaign_lists(api: Api) -> None:
    assert api.get(f"{ROOT}/campaigns_b/list").json() == {"status": "ERROR", "error": "NO CAMPAIGNS"}
    a, b = api.basic(title="A"), api.basic(title="B")
    h = api.hg()
    api.put(f"{B}/pause/{b}")
    body = api.get(f"{ROOT}/campaigns_b/list").json()
    assert body["count"] == 2
    assert body["campaigns"] == [
        {"campaign_id": a, "title": "A", "campaign_status": "RUNNING", "folder": "DEFAULT"},
        {"campaign_id": b, "title": "B", "campaign_status": "PAUSED", "folder": "DEFAULT"},
    ]
    ext = api.get(f"{ROOT}/campaigns_b/list_extend", status="PAUSED").json()
    assert ext["count"] == 1
    assert {k: v for k, v in ext["campaigns"][0].items()} == {k: v for k, v in api.info(b).items() if k != "status"}
    hg_list = api.get(f"{ROOT}/campaigns_hg/list_extend").json()
    assert [c["campaign_id"] for c in hg_list["campaigns"]] == [h]
    mw_v1.archive_campaign(api.sandbox, a)
    assert [c["campaign_id"] for c in api.get(f"{ROOT}/campaigns_b/list", folder="ARCHIVE").json()["campaigns"]] == [a]
    assert api.get(f"{ROOT}/campaigns_b/list", folder="DEFAULT").json()["count"] == 1
    assert api.get(f"{ROOT}/campaigns_b/list", status="FINISHED").json() == {"status": "ERROR", "error": "NO CAMPAIGNS"}
    assert api.get(f"{ROOT}/campaigns_b/list_extend", created_from="2000-01-01 00:00:00").json()["count"] == 2
    assert (
        api.get(f"{ROOT}/campaigns_b/list_extend", created_to="2000-01-01 00:00:00").json()["error"] == "NO CAMPAIGNS"
    )
    r = api.get(f"{ROOT}/campaigns_b/list_extend", status="SLEEPING", folder="X", finished_to="yesterday")
    assert r.json() == {
        "status": "ERROR",
        "error": "INPUT_DATA",
        "errors_list": ["Status has invalid value", "Folder has invalid value", "Finished To is invalid datetime"],
    }


def test_reference_lists(api: Api) -> None:
    zones = api.get(f"{B}/zones_list").json()
    assert [z["zone_id"] for z in zones["zones"]] == ["asia1", "caribbean1", "europe1", "europe2", "int", "west1"]
    assert {"code": "US", "name": "United States"} in zones["zones"][-1]["countries"]
    cats = api.get(f"{B}/categories_list").json()["categories"]
    first = cats[0]
    assert (first["category_id"], first["category_name"], first["min_payment_per_task"]) == ("1001", "Sign up", "0.10")
    assert first["min_payment_per_zone"]["west1"] == "0.20"
    hg_cats = api.get(f"{HG}/categories_list").json()["categories"]
    assert "min_payment_per_zone" not in hg_cats[0]
    groups = api.get(f"{HG}/groups_list").json()["groups"]
    assert groups[0] == {"group_id": "1111", "group_name": "Data entry specialists", "workers": "120"}


# -- tasks -------------------------------------------------------------------------------------
def test_simulate_submissions_is_deterministic() -> None:
    def run(seed: int) -> list[tuple[str, str]]:
        api = make_api()
        cid = api.basic()
        return [(t["worker_id"], t["proof"]) for t in mw_v1.simulate_submissions(api.sandbox, cid, 5, seed=seed)]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_simulate_submissions_shapes_and_limits(api: Api) -> None:
    cid = api.basic(available_positions="35")
    tasks = mw_v1.simulate_submissions(api.sandbox, cid, 10)
    assert len(tasks) == 10 and len({t["worker_id"] for t in tasks}) == 10  # one position per worker
    t = tasks[0]
    assert t["rating"] == "NOTRATED" and t["campaign_id"] == cid
    assert re.fullmatch(r"[0-9a-f]{8}", t["worker_id"]) and t["proof"]
    assert t["finished_datetime"] > t["started_datetime"] >= api.info(cid)["approved_datetime"]
    assert api.info(cid)["positions_done"] == "10"
    more = mw_v1.simulate_submissions(api.sandbox, cid, 100)
    assert len(more) == 25
    assert api.info(cid)["campaign_status"] == "FINISHED"
    with pytest.raises(ValueError):
        mw_v1.simulate_submissions(api.sandbox, cid, 1)


def test_simulate_submissions_hg_and_excluded_workers(api: Api) -> None:
    api.post(f"{ROOT}/employer/exclude_list", {"worker[]": ["deadbeef"]})
    cid = api.hg(available_positions="60", max_positions_per_worker="2", file_proof="2")
    tasks = mw_v1.simulate_submissions(api.sandbox, cid, 60, seed=3)
    per_worker: dict[str, int] = {}
    for t in tasks:
        per_worker[t["worker_id"]] = per_worker.get(t["worker_id"], 0) + 1
        assert len(t["proofs"]) == 2 and t["file_proof"]["file_proof_details"]
    assert max(per_worker.values()) <= 2 and "deadbeef" not in per_worker


def test_list_tasks_paging(api: Api) -> None:
    cid = api.basic(available_positions="45")
    mw_v1.simulate_submissions(api.sandbox, cid, 45)
    seen: list[str] = []
    for page in (1, 2, 3):
        body = api.get(f"{B}/list_tasks/{cid}", page=page, entries_per_page=20).json()
        assert body["pager"] == {"page": page, "entries_per_page": 20, "total_entries": 45, "total_pages": 3}
        seen += [t["task_id"] for t in body["tasks"]]
    assert len(seen) == 45 == len(set(seen)) and seen == sorted(seen)
    assert api.get(f"{B}/list_tasks/{cid}", page=4, entries_per_page=20).json()["tasks"] == []
    default = api.get(f"{B}/list_tasks/{cid}").json()
    assert default["pager"]["entries_per_page"] == 200 and len(default["tasks"]) == 45
    assert set(default["tasks"][0]) == {
        "task_id",
        "campaign_id",
        "worker_id",
        "started_datetime",
        "finished_datetime",
        "rating",
    }
    assert api.get(f"{B}/list_tasks/{cid}", entries_per_page=200).json()["status"] == "SUCCESS"
    assert api.get(f"{B}/list_tasks/{cid}", entries_per_page=201, page=0).json() == {
        "status": "ERROR",
        "campaign_id": cid,
        "error": "INPUT_DATA",
        "errors_list": ["Page has invalid value", "Entries per page has invalid value"],
    }
    assert api.get(f"{B}/list_tasks_extend/{cid}", entries_per_page=500).json()["pager"]["entries_per_page"] == 500


def test_list_tasks_extend_filters_and_task_info(api: Api) -> None:
    cid = api.basic()
    tasks = mw_v1.simulate_submissions(api.sandbox, cid, 6)
    worker = tasks[2]["worker_id"]
    body = api.get(f"{B}/list_tasks_extend/{cid}", worker_id=worker).json()
    assert [t["worker_id"] for t in body["tasks"]] == [worker]
    assert body["tasks"][0] == tasks[2]
    cut = tasks[3]["finished_datetime"]
    after = [t["task_id"] for t in tasks if t["finished_datetime"] >= cut]
    before = [t["task_id"] for t in tasks if t["finished_datetime"] <= cut]
    assert [t["task_id"] for t in api.get(f"{B}/list_tasks_extend/{cid}", finished_from=cut).json()["tasks"]] == after
    assert [t["task_id"] for t in api.get(f"{B}/list_tasks_extend/{cid}", finished_to=cut).json()["tasks"]] == before
    assert api.get(f"{B}/list_tasks_extend/{cid}", rating="BAD").json()["errors_list"] == ["Rating has invalid value"]
    info = api.get(f"{B}/get_task_info/{tasks[0]['task_id']}").json()
    assert info == {"status": "SUCCESS", **tasks[0]}
    r = api.get(f"{B}/get_task_info/999")
    assert r.status_code == 404 and r.json() == {"status": "ERROR", "task_id": "999", "error": "NO SUCH TASK"}
    assert api.get(f"{HG}/get_task_info/{tasks[0]['task_id']}").json()["error"] == "NO SUCH TASK"
    wt = api.get(f"{B}/get_worker_tasks/{cid}_{worker}").json()
    assert wt == {"status": "SUCCESS", "count": 1, "tasks": [tasks[2]]}
    assert api.get(f"{B}/get_worker_tasks/{cid}_nobody").json() == {
        "status": "ERROR",
        "campaign_id": cid,
        "worker_id": "nobody",
        "error": "NO TASKS",
    }


def _ids(api: Api, cid: str, prefix: str = B) -> list[str]:
    return [t["task_id"] for t in api.get(f"{prefix}/list_tasks/{cid}").json()["tasks"]]


def test_rate_tasks_per_task_results_as_the_page() -> None:
    api = make_api(balance=10.0)
    cid = api.basic(payment_per_task="0.20")  # 8.80 spent, 1.20 left
    mw_v1.simulate_submissions(api.sandbox, cid, 6)
    t = _ids(api, cid)
    form = {
        "id_task[]": [t[0], t[1], t[2], t[3], t[1], t[4], t[5]],
        "rating[]": ["OK", "NOK", "NOK", "OK", "NOK", "OK", "OK"],
        "comment[]": ["", "test", "", "", "", "", ""],
        "bonus[]": ["", "", "", "10000", "", "0.40", "0.40"],
    }
    api.sandbox.store.kv_set("microworkers-v1", "balance", 0.5)  # room for one 0.40 bonus only
    r = api.put(f"{B}/rate_tasks/{cid}", form)
    assert r.status_code == 200
    assert r.json() == {
        "status": "SUCCESS",
        "campaign_id": cid,
        "tasks": [
            {"id_task": t[0], "rating": "OK", "comment": "", "success": True},
            {"id_task": t[1], "rating": "NOK", "comment": "test", "success": True},
            {"id_task": t[2], "rating": "NOK", "comment": "", "errors": ["comment IS MANDATORY"]},
            {
                "id_task": t[3],
                "rating": "OK",
                "bonus": 10000,
                "comment": "",
                "errors": ["Bonus you entered is outside allowed values"],
            },
            {"id_task": t[1], "rating": "NOK", "comment": "", "errors": ["id_task IS NOT UNIQUE"]},
            {"id_task": t[4], "rating": "OK", "bonus": 0.4, "comment": "", "success": True},
            {
                "id_task": t[5],
                "rating": "OK",
                "bonus": 0.4,
                "comment": "",
                "errors": ["Your account balance is too low to add bonus"],
            },
        ],
    }
    assert mw_v1.balance(api.sandbox) == pytest.approx(0.1)
    rows = {x["task_id"]: x for x in api.get(f"{B}/list_tasks_extend/{cid}").json()["tasks"]}
    assert [rows[i]["rating"] for i in t] == ["OK", "NOK", "NOTRATED", "NOTRATED", "OK", "NOTRATED"]
    assert rows[t[1]]["employer_comment"] == "test"
    assert (rows[t[4]]["bonus_worker_earned"], rows[t[4]]["payment_worker_earned"]) == ("0.40000", "0.20000")
    assert rows[t[0]]["rated_datetime"] >= rows[t[0]]["finished_datetime"]


def test_rate_tasks_rules(api: Api) -> None:
    cid = api.basic(payment_per_task="0.20")
    other = api.basic()
    mw_v1.simulate_submissions(api.sandbox, cid, 5)
    mw_v1.simulate_submissions(api.sandbox, other, 1)
    t = _ids(api, cid)
    foreign = _ids(api, other)[0]
    api.put(f"{B}/rate_tasks/{cid}", {"id_task[]": [t[0]], "rating[]": ["OK"]})
    form = {
        "id_task[]": [t[0], foreign, "999999", t[1], t[2], t[3], t[4]],
        "rating[]": ["OK", "OK", "OK", "MAYBE", "REVISE", "NOK", "OK"],
        "comment[]": ["", "", "", "", "", "bad", ""],
        "bonus[]": ["", "", "", "", "", "0.10", "0.01"],
    }
    results = api.put(f"{B}/rate_tasks/{cid}", form).json()["tasks"]
    assert [r.get("errors") for r in results] == [
        ["ONLY NOTRATED TASK CAN BE RATED"],
        ["TASK NOT IN THIS CAMPAIGN"],
        ["TASK NOT IN THIS CAMPAIGN"],
        ["TASK RATING VALUE CAN ONLY BE OK OR NOK"],
        ["comment IS MANDATORY"],
        ["Bonus can only be added to OK rated task"],
        ["Bonus you entered is outside allowed values"],  # below 0.1 x payment
    ]
    # bounds are inclusive: 0.02 .. 0.40 for a 0.20 task; REVISE with a comment is fine
    r = api.put(
        f"{B}/rate_tasks/{cid}",
        {
            "id_task[0]": t[1],
            "rating[0]": "OK",
            "bonus[0]": "0.02",
            "id_task[1]": t[2],
            "rating[1]": "REVISE",
            "comment[1]": "redo",
            "id_task[2]": t[3],
            "rating[2]": "OK",
            "bonus[2]": "0.4",
        },
    ).json()
    assert [x.get("success") for x in r["tasks"]] == [True, True, True]
    # whole-request errors
    assert api.put(f"{B}/rate_tasks/{cid}", {}).json() == {"status": "ERROR", "campaign_id": cid, "error": "INPUT DATA"}
    assert api.put(f"{B}/rate_tasks/{cid}", {"id_task[]": [t[4], t[0]], "rating[]": ["OK"]}).json()["error"] == (
        "INPUT DATA"
    )
    mw_v1.fail_next(api.sandbox, "rate_tasks")
    r = api.put(f"{B}/rate_tasks/{cid}", {"id_task[]": [t[4]], "rating[]": ["OK"]})
    assert r.status_code == 500 and r.json() == {"status": "ERROR", "campaign_id": cid, "error": "SYSTEM ERROR"}
    assert api.put(f"{B}/rate_tasks/{cid}", {"id_task[]": [t[4]], "rating[]": ["OK"]}).json()["tasks"][0]["success"]


def test_rate_tasks_hg_and_favorites(api: Api) -> None:
    cid = api.hg()
    mw_v1.simulate_submissions(api.sandbox, cid, 2)
    t = _ids(api, cid, HG)
    r = api.put(f"{HG}/rate_tasks/{cid}", {"id_task[]": t, "rating[]": ["OK", "OK"], "favorite[]": ["add", "x"]})
    assert [x.get("success") or x.get("errors") for x in r.json()["tasks"]] == [
        True,
        ["favorite value can only be add or remove"],
    ]
    assert api.sandbox.store.kv_get("microworkers-v1", "favorites") == [
        api.get(f"{HG}/get_task_info/{t[0]}").json()["worker_id"]
    ]


def test_rate_task_single(api: Api) -> None:
    cid = api.basic()
    mw_v1.simulate_submissions(api.sandbox, cid, 3)
    t = _ids(api, cid)
    assert api.put(f"{B}/rate_task/{cid}", {"id_task": t[0], "rating": "OK", "bonus": "0.2"}).json() == {
        "status": "SUCCESS",
        "campaign_id": cid,
        "task_id": t[0],
    }
    assert api.put(f"{B}/rate_task/{cid}", {"id_task": t[0], "rating": "OK"}).json() == {
        "status": "ERROR",
        "error": "ONLY NOTRATED TASK CAN BE RATED",
    }
    assert api.put(f"{B}/rate_task/{cid}", {"id_task": t[1], "rating": "NOK"}).json()["error"] == (
        "COMMENT TO WORKER MISSING"
    )
    assert api.put(f"{B}/rate_task/{cid}", {"id_task": "1", "rating": "OK"}).json()["error"] == (
        "TASK NOT IN THIS CAMPAIGN"
    )
    assert api.put(f"{B}/rate_task/{cid}", {"id_task": t[1], "rating": "GOOD"}).json()["error"] == (
        "TASK RATING VALUE CAN ONLY BE OK OR NOK"
    )
    mw_v1.set_status(api.sandbox, cid, "PAUSED_ADMIN")
    assert api.put(f"{B}/rate_task/{cid}", {"id_task": t[1], "rating": "OK"}).json() == {
        "status": "ERROR",
        "error": "CAMPAIGN IS PAUSED_ADMIN",
    }
    r = api.put(f"{B}/rate_task/a699bb9b2e7b", {"id_task": t[1], "rating": "OK"})
    assert r.status_code == 404 and r.json() == {"status": "ERROR", "error": "NO SUCH CAMPAIGN"}


def test_results_csv(api: Api) -> None:
    cid = api.hg()
    tasks = mw_v1.simulate_submissions(api.sandbox, cid, 4)
    api.put(
        f"{HG}/rate_tasks/{cid}",
        {"id_task[]": [tasks[0]["task_id"]], "rating[]": ["NOK"], "comment[]": ['Wrong, "see" rules']},
    )
    r = api.get(f"{HG}/results_csv/{cid}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 4
    assert list(rows[0]) == [
        "task_id",
        "worker_id",
        "started_datetime",
        "finished_datetime",
        "rating",
        "rated_datetime",
        "employer_comment",
        "payment_worker_earned",
        "bonus_worker_earned",
        "file_proof",
        "proof_1",
        "proof_2",
    ]
    assert (rows[0]["task_id"], rows[0]["rating"], rows[0]["employer_comment"]) == (
        tasks[0]["task_id"],
        "NOK",
        'Wrong, "see" rules',
    )
    assert [rows[1]["proof_1"], rows[1]["proof_2"]] == tasks[1]["proofs"]
    empty = api.get(f"{B}/results_csv/{api.basic()}").text
    assert empty.count("\r\n") == 1


# -- employer exclude list ---------------------------------------------------------------------
def test_exclude_list(api: Api) -> None:
    path = f"{ROOT}/employer/exclude_list"
    assert api.get(path).json() == {"status": "SUCCESS", "workers": []}
    assert api.post(path, {"worker[]": ["1234567", "2345678"]}).json() == {
        "status": "SUCCESS",
        "message": "2 workers have been added",
    }
    assert api.post(path, {"worker[]": ["1234567"]}).json() == {
        "status": "ERROR",
        "error": "No workers were added to exclude list",
    }
    assert api.post(path, {"worker[0]": "3456789", "worker[1]": "1234567"}).json()["message"] == (
        "1 workers have been added"
    )
    workers = api.get(path).json()["workers"]
    assert [w["User ID"] for w in workers] == ["1234567", "2345678", "3456789"]
    assert set(workers[0]) == {"User ID", "Username", "Country"}
    assert api.delete(path, {"worker[]": ["2345678", "999"]}).json() == {
        "status": "SUCCESS",
        "message": "1 workers have been removed",
    }
    assert api.delete(path, {"worker[]": ["999"]}).json() == {
        "status": "ERROR",
        "error": "workers were not found in exclude list",
    }
    assert api.delete(path, {"worker[]": ["all"]}).json()["message"] == "2 workers have been removed"
    assert api.get(path).json()["workers"] == []
    assert api.client.put(path, headers=KEY).status_code == 405
