"""One address type: ``<provider>/<kind>/<name>`` parsed and formatted in one place, and the
kind spelled as the provider declares it (never ``str.capitalize``'s ``Workergroup``)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaignctl.address import Address, kind_of, name_of
from campaignctl.config.model import address_of
from campaignctl.plan import builder
from campaignctl.plan.inflight import current_attrs
from campaignctl.platforms.microworkers_v1.provider import MicroworkersV1Provider
from campaignctl.providers.base import Live


def test_parse_and_format_round_trip() -> None:
    for text in ("mw1/workergroup/group-a", "swarms/task/rate[row-1]", "schedule/december", "sw/job/#17"):
        assert str(Address.parse(text)) == text
    assert str(Address.of("mw1", "WorkerGroup", "g")) == address_of("mw1", "WorkerGroup", "g")
    assert Address.parse("sw/job/#17").remote_id == "17"
    assert Address.parse("sw/job/x").remote_id is None
    assert name_of("sw/task/rate[row-1]") == "rate[row-1]"
    for bad in ("", "task", "sw//x", "/task/x"):
        with pytest.raises(ValueError):
            Address.parse(bad)
    assert Address.maybe(None) is None and Address.maybe("schedule/x") is None  # not a provider's


def test_kind_is_spelled_as_the_provider_declares_it() -> None:
    kinds = MicroworkersV1Provider.kinds
    assert kind_of("mw1/workergroup/g", kinds) == "WorkerGroup"  # not "Workergroup"
    assert kind_of("mw1/campaign/c", kinds) == "Campaign"
    assert kind_of("mw1/template/t", kinds) == ""
    assert kind_of("not an address", kinds, "?") == "?"


def test_planner_names_a_state_only_kind_as_declared() -> None:
    """A resource known only from state, whose entry records no kind, is planned (and counted) as
    its provider's kind: ``WorkerGroup``, which the v1 provider matches exactly."""
    provider = SimpleNamespace(kinds=MicroworkersV1Provider.kinds)
    res = builder._resource("mw1/workergroup/g", None, {"provider": "mw1"}, {}, None, provider)  # type: ignore[arg-type]
    assert (res.kind, res.name) == ("WorkerGroup", "g")
    assert builder._state_kind("mw1/workergroup/g", {"provider": "mw1"}, {"mw1": provider}) == "WorkerGroup"  # type: ignore[dict-item]


def test_inflight_compares_with_the_declared_kind() -> None:
    seen: list[str] = []

    def comparable(res: object) -> dict[str, object]:
        seen.append(res.kind)  # type: ignore[attr-defined]
        return {}

    provider = SimpleNamespace(kinds=MicroworkersV1Provider.kinds, comparable=comparable)
    live = Live("mw1/workergroup/g", "WorkerGroup", "5", {})
    current_attrs("mw1/workergroup/g", {"attrs": {}}, live, provider)  # type: ignore[arg-type]
    assert seen == ["WorkerGroup"]


@given(st.one_of(st.none(), st.integers(), st.text(alphabet="ab/Tkx[]#", max_size=12)), st.sampled_from(["", "?"]))
def test_kind_of_is_the_parsed_address_s_kind(text: object, default: str) -> None:
    """kind_of answers without building an Address: the same answer as parsing one."""
    kinds = ("Task", "WorkerGroup", "k")
    parsed = Address.maybe(text)
    assert kind_of(text, kinds, default) == (parsed.kind_in(kinds, default) if parsed is not None else default)  # type: ignore[arg-type]
