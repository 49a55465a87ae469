"""The declared field policy (campaignctl.providers.fields): the base planner decides update vs
replacement from a provider's ``field_policy`` table, names the field that forces it, and no
provider overrides the planning template."""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from campaignctl.config.model import Document
from campaignctl.config.nodes import MarkedDict
from campaignctl.plan.model import Operation, ResourceChange
from campaignctl.platforms import PLATFORMS, load
from campaignctl.providers.base import Live, Provider, Resource
from campaignctl.providers.fields import IMMUTABLE, REPLACE, Policy, by, decide


class Shop(Provider):
    """A provider whose ``update_ops`` never decides: it only makes the in-place calls."""

    type = "shop"
    kinds = ("Shelf",)
    sandbox_prefix = "/shop"
    field_policy: ClassVar[Policy] = {
        "Shelf": {"size": REPLACE, "colour": by("PATCH"), "serial": IMMUTABLE, "label": by("PUT", published=REPLACE)},
    }
    is_published = False
    notes: list[str]

    def published(self, res: Resource) -> bool:
        return self.is_published

    def create_ops(self, res: Resource) -> list[Operation]:
        return [self.op(res.address, "create", "POST /shelves", records="create")]

    def update_ops(self, res: Resource, changed: set[str]) -> list[Operation]:
        assert not changed & {"size", "serial"}, "the policy decides these, update_ops never sees them"
        return [self.op(res.address, "update", "PATCH /shelves/{id}", target=res.live.id if res.live else None)]

    def delete_ops(self, res: Resource, remote_id: Any, *, deposed: bool = False) -> list[Operation]:
        return [self.op(res.address, "delete" + (f"@{remote_id}" if deposed else ""), "DELETE /shelves/{id}", target=remote_id)]

    def annotate(self, res: Resource, change: ResourceChange, ops: list[Operation]) -> None:
        change.warnings.append(f"seen: {change.actions}")


def _shop() -> Shop:
    doc = Document("Provider", "shop", None, {"type": "shop", "endpoint": "sandbox"}, MarkedDict(), "providers.yaml")
    return Shop(doc, Path("."), env={})


def _res(live: dict[str, Any], desired: dict[str, Any]) -> Resource:
    return Resource("shop/shelf/a", "Shelf", "a", desired, Live("shop/shelf/a", "Shelf", 7, live))


def test_a_declared_field_forces_the_replacement_and_the_plan_names_it() -> None:
    change, ops = _shop().plan_change(_res({"size": 1, "colour": "red"}, {"size": 2, "colour": "blue"}))
    assert change.actions == ["create", "delete"]
    assert {f.path: f.how for f in change.fields} == {"size": "forces replacement", "colour": "update"}
    assert "size cannot change in place" in change.reasons[0] and "colour" not in change.reasons[0]
    assert [o.call for o in ops] == ["POST /shelves", "DELETE /shelves/{id}"]


def test_in_place_fields_update() -> None:
    change, ops = _shop().plan_change(_res({"size": 1, "colour": "red"}, {"size": 1, "colour": "blue"}))
    assert change.actions == ["update"] and [o.call for o in ops] == ["PATCH /shelves/{id}"]


def test_an_immutable_field_is_an_error_without_calls() -> None:
    change, ops = _shop().plan_change(_res({"serial": "x"}, {"serial": "y"}))
    assert change.actions == ["update"] and ops == [] and change.cost == 0
    assert change.errors == ["serial of a shelf cannot change"]
    assert [f.how for f in change.fields] == ["impossible"]


def test_read_only_while_published() -> None:
    shop = _shop()
    assert shop.plan_change(_res({"label": "a"}, {"label": "b"}))[0].actions == ["update"]
    shop.is_published = True
    change, _ = shop.plan_change(_res({"label": "a"}, {"label": "b"}))
    assert change.actions == ["create", "delete"] and change.fields[0].how == "forces replacement"


def test_the_hook_notes_every_change_also_on_the_fast_path() -> None:
    shop = _shop()
    change, _ = shop.plan_change(_res({"size": 1}, {"size": 2}))
    assert change.warnings == ["seen: ['create', 'delete']"]
    settled = shop.settled(_res({"size": 1}, {"size": 1}), {"size": 1})
    assert settled is not None and settled.warnings == ["seen: ['no-op']"]


def test_decide() -> None:
    policy: Policy = {"K": {"*": by("PUT", published=IMMUTABLE), "a": REPLACE}}
    assert decide(policy, "K", {"a", "b"}, published=False).replace == ["a"]
    published = decide(policy, "K", {"a", "b"}, published=True)
    assert (published.replace, published.immutable) == (["a"], ["b"])
    assert decide(policy, "Other", {"a"}, published=True).replace == []


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_no_provider_overrides_the_planning_template(platform: str) -> None:
    cls = load(PLATFORMS[platform].provider)
    assert cls.plan_change is Provider.plan_change and cls.settled is Provider.settled
    assert set(cls.field_policy) <= set(cls.kinds)
