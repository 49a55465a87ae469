"""The sandbox's settings (issue 22): :class:`campaignctl.sandbox.core.Settings` holds what concerns
every platform; a knob of one platform lives in its sandbox package (``sandbox/<package>/settings.py``),
and ``campaignctl sandbox serve``'s flags still reach it."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest

from campaignctl.platforms import PLATFORMS
from campaignctl.sandbox.apis import platform_settings, settings_class
from campaignctl.sandbox.core import Settings
from tests.helpers import run_cli, start_server, stop_server

#: the knobs that moved out of the shared Settings, and the platform packages that have each
MOVED = {"review_seconds": {"microworkers", "microworkers_v1"}, "queue_job_polls": {"microworkers"},
         "strict_readonly": {"swarms"}}


def test_the_shared_settings_name_no_platform_knob() -> None:
    shared = {f.name for f in dataclasses.fields(Settings)}
    assert shared == {"api_key", "email", "balance", "seed", "docs_only", "faults", "platforms"}
    for platform in PLATFORMS.values():
        cls = settings_class(platform)
        assert dataclasses.is_dataclass(cls) and cls.__module__ == f"campaignctl.sandbox.{platform.package}.settings"
        assert not shared & {f.name for f in dataclasses.fields(cls)}, f"{cls.__module__} repeats a shared knob"
    has = {name: {p.package for p in PLATFORMS.values() if name in {f.name for f in dataclasses.fields(settings_class(p))}}
           for name in MOVED}
    assert has == MOVED


def test_platform_settings_gives_each_platform_the_knobs_it_has() -> None:
    made = platform_settings(review_seconds=60.0, strict_readonly=False)
    assert set(made) == {settings_class(p) for p in PLATFORMS.values()}
    by_package = {p.package: made[settings_class(p)] for p in PLATFORMS.values()}
    assert by_package["microworkers"].review_seconds == 60.0 and by_package["microworkers_v1"].review_seconds == 60.0
    assert by_package["microworkers"].queue_job_polls == 2  # not given: its default
    assert by_package["swarms"].strict_readonly is False
    settings = Settings(platforms=made)
    assert settings.of(settings_class(PLATFORMS["swarms"])) is by_package["swarms"]
    # a platform missing from Settings.platforms has its defaults
    assert Settings().of(settings_class(PLATFORMS["swarms"])).strict_readonly is True
    assert Settings().of(settings_class(PLATFORMS["microworkers"])).review_seconds == 0.0
    with pytest.raises(TypeError, match="review_secs"):
        platform_settings(review_secs=1)


def test_serve_flags_reach_the_platform_knobs(tmp_path: Path) -> None:
    """``--review-seconds`` over HTTP: a new Microworkers v2 campaign is in review; the flags are in --help."""
    help_text = run_cli("sandbox", "serve", "--help").out
    assert "--review-seconds" in help_text and "--lenient-readonly" in help_text and "--docs-only" in help_text
    server = start_server(tmp_path, "--review-seconds", "3600", "--lenient-readonly")
    try:
        base = f"{server.url}{PLATFORMS['microworkers'].prefix}"
        key = {"MicroworkersApiKey": server.key}
        template = httpx.post(f"{base}/templates", headers=key, timeout=10,
                              json={"title": "t", "htmlCode": "<p>Fixed task</p><textarea name='feedback'></textarea>"})
        assert template.status_code == 201, template.text
        body = {"title": "Check URLs", "description": "Open the page and tell us what you see.", "categoryId": "1001",
                "internationalZone": {"id": "int", "excludedCountries": ["US"]}, "availablePositions": 30,
                "paymentPerTask": 0.1, "minutesToFinish": 10,
                "internalTemplate": {"id": template.json()["id"], "ratingMethodId": 3}}
        created = httpx.post(f"{base}/basic-campaigns", headers=key, json=body, timeout=10)
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "PENDING_REVIEW"
    finally:
        stop_server(server)
