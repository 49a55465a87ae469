"""The declared field policy: for each kind and field, how a change to it is made (Terraform's
``ForceNew``, declared). A provider states it as data (``Provider.field_policy``); the base
planner (``Provider.plan_change``) reads it to decide update vs replacement and names the fields
that force a replacement. A provider never raises its way to that decision.

A field changes

- in place (``IN_PLACE``), possibly by a call of its own (``by("PATCH")``, ``by("set-speed")``):
  the provider's ``update_ops`` makes the calls;
- only by replacing the object (``REPLACE``);
- never (``IMMUTABLE``): the plan reports an error;
- in place, except while the object is published or running (``provider.published(res)``), when
  it forces a replacement or cannot change at all (``by(..., published=REPLACE | IMMUTABLE)``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: how a field changes
IN_PLACE_HOW = "in place"
REPLACE_HOW = "forces replacement"
IMMUTABLE_HOW = "immutable"


@dataclass(frozen=True)
class FieldRule:
    how: str = IN_PLACE_HOW
    #: the call (or the kind of call) that changes the field in place, for the reader: ``PATCH``...
    action: str | None = None
    #: how it changes instead while the object is published/running (None: as ``how``)
    published: str | None = None


IN_PLACE = FieldRule()
REPLACE = FieldRule(REPLACE_HOW)
IMMUTABLE = FieldRule(IMMUTABLE_HOW)


def by(action: str, *, published: FieldRule | None = None) -> FieldRule:
    """A field changed in place by ``action``; ``published``: how it changes while published."""
    return FieldRule(IN_PLACE_HOW, action, published.how if published is not None else None)


#: kind -> field -> rule; the field ``"*"`` is every field the kind does not name
Policy = Mapping[str, Mapping[str, FieldRule]]


def rule_of(policy: Policy, kind: str, name: str) -> FieldRule:
    table = policy.get(kind, {})
    return table.get(name) or table.get("*") or IN_PLACE


def each(names: Iterable[str], rule: FieldRule) -> dict[str, FieldRule]:
    """``{name: rule}`` for every name (a table built from a tuple of fields)."""
    return dict.fromkeys(names, rule)


@dataclass
class Decision:
    """What the policy says of a set of changed fields."""

    replace: list[str]
    immutable: list[str]


def decide(policy: Policy, kind: str, changed: Iterable[str], published: bool) -> Decision:
    """The fields of ``changed`` that force a replacement and those that cannot change, for an
    object that is (or not) ``published``."""
    out = Decision([], [])
    for name in sorted(changed):
        rule = rule_of(policy, kind, name)
        how = rule.published if published and rule.published is not None else rule.how
        if how == REPLACE_HOW:
            out.replace.append(name)
        elif how == IMMUTABLE_HOW:
            out.immutable.append(name)
    return out


def reads_published(policy: Policy, kind: str) -> bool:
    """Whether any rule of ``kind`` depends on the object being published."""
    return any(rule.published is not None for rule in policy.get(kind, {}).values())
