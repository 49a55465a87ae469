"""The guesses list of the microworkers sandbox (campaignctl.sandbox.microworkers.guesses): each guess named once,
each ``where`` naming a module and functions or values that exist (and are defined there), the
docs-only switches among them."""
from __future__ import annotations

import pytest

from campaignctl.sandbox.microworkers.guesses import DOCS_ONLY_OFF, GUESSES
from tests.helpers import missing_places

PACKAGE = "campaignctl.sandbox.microworkers"


def test_each_guess_is_named_once_and_docs_only_switches_listed_ones() -> None:
    names = [name for name, _, _ in GUESSES]
    assert len(names) == len(set(names))
    assert DOCS_ONLY_OFF <= set(names)


@pytest.mark.parametrize(("name", "where"), [(name, where) for name, _, where in GUESSES])
def test_where_names_what_exists(name: str, where: str) -> None:
    assert missing_places(PACKAGE, where) == []


def test_the_checker_sees_old_and_imported_names() -> None:
    assert missing_places(PACKAGE, "api:create_app") == []
    assert missing_places(PACKAGE, "mw_v2_model:render_campaign") == [f"{PACKAGE}.mw_v2_model: no such module"]
    assert missing_places(PACKAGE, "api:no_such_function") == [f"{PACKAGE}.api:no_such_function"]
    assert missing_places(PACKAGE, "mw_v2_model.render_campaign") == [f"{PACKAGE}.mw_v2_model.render_campaign: no such module"]
    assert missing_places(PACKAGE, "api:create_app.campaign_routes") == []  # a function made inside another
    assert missing_places(PACKAGE, "api:create_app.no_such_inner") == [f"{PACKAGE}.api:create_app.no_such_inner"]
    assert missing_places(PACKAGE, "rules:Checker.unknown, Checker.nothing") == [f"{PACKAGE}.rules:Checker.nothing"]
    assert missing_places(PACKAGE, "model:Decimal") == [f"{PACKAGE}.model:Decimal (defined in decimal)"]
