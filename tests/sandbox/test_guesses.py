"""The Microworkers sandboxes' guesses lists (``campaignctl.sandbox.microworkers.guesses``, API v2,
and ``campaignctl.sandbox.microworkers_v1.guesses``, legacy v1): each guess named once, each
``where`` naming a module and functions or values that exist (and are defined there), the
docs-only switches among them. (SWARMS's list: tests/sandbox/swarms/test_api.py.)"""
from __future__ import annotations

import importlib

import pytest

from tests.helpers import missing_places

PACKAGES = ("campaignctl.sandbox.microworkers", "campaignctl.sandbox.microworkers_v1")
V2 = PACKAGES[0]


def guesses(package: str) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = importlib.import_module(f"{package}.guesses").GUESSES
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_each_guess_is_named_once_and_docs_only_switches_listed_ones(package: str) -> None:
    names = [name for name, _, _ in guesses(package)]
    assert names and len(names) == len(set(names))
    assert importlib.import_module(f"{package}.guesses").DOCS_ONLY_OFF <= set(names)


@pytest.mark.parametrize(("package", "name", "where"), [(p, n, w) for p in PACKAGES for n, _, w in guesses(p)])
def test_where_names_what_exists(package: str, name: str, where: str) -> None:
    assert missing_places(package, where) == []


def test_the_checker_sees_old_nested_and_imported_names() -> None:
    assert missing_places(V2, "api:create_app, _Gate; rules:Checker.unknown") == []
    assert missing_places(V2, "mw_v2_model:render_campaign") == [f"{V2}.mw_v2_model: no such module"]
    assert missing_places(V2, "mw_v2_model.render_campaign") == [f"{V2}.mw_v2_model.render_campaign: no such module"]
    assert missing_places(V2, "api:no_such_function") == [f"{V2}.api:no_such_function"]
    assert missing_places(V2, "api:create_app.campaign_routes") == []  # a function made inside another
    assert missing_places(V2, "api:create_app.no_such_inner") == [f"{V2}.api:create_app.no_such_inner"]
    assert missing_places(V2, "rules:Checker.unknown, Checker.nothing") == [f"{V2}.rules:Checker.nothing"]
    assert missing_places(V2, "model:Decimal") == [f"{V2}.model:Decimal (defined in decimal)"]
    assert missing_places(V2, "model") == ["'model': module:name expected"]
