"""campaignctl.plan.builder: cross-resource dependencies (link_dependencies) and ordering (order)."""
from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from campaignctl.errors import PlanError
from campaignctl.plan.builder import link_dependencies, order
from campaignctl.plan.model import Operation, ResourceChange, ref
from campaignctl.providers.base import Live

#: what link_dependencies needs of a provider: which spec fields name other resources
PROVIDER = SimpleNamespace(references={"Job": {"tasks": "Task"}, "Campaign": {"jobs": "Job", "schedule": "Schedule"}})
PROVIDERS: dict[str, Any] = {"p": PROVIDER}


def addr(kind: str, name: str) -> str:
    return f"p/{kind.lower()}/{name}"


def op(kind: str, name: str, action: str, *, after: Sequence[str] = (), **kwargs: Any) -> Operation:
    address = addr(kind, name)
    return Operation(f"{address}#{action}", address, "p", action, action, after=list(after), **kwargs)


def change(kind: str, name: str, actions: list[str], ops: Sequence[Operation] = ()) -> ResourceChange:
    return ResourceChange(addr(kind, name), "p", kind, name, actions, operations=[o.id for o in ops])


def live(kind: str, name: str, attrs: dict[str, Any], remote_id: Any = 1) -> Live:
    return Live(addr(kind, name), kind, remote_id, attrs)


# -- references to objects being created -----------------------------------------------------
def test_an_op_waits_for_the_create_of_every_ref_it_holds() -> None:
    t1 = op("Task", "t1", "create", records="create")
    t2 = op("Task", "t2", "create", records="create")
    job = op("Job", "j", "create", records="create", payload={"title": "j"})
    set_tasks = op("Job", "j", "set-tasks", target=ref(addr("Job", "j")), after=[job.id],
                   payload={"tasks": [ref(addr("Task", "t1")), {"nested": ref(addr("Task", "t2"))}]})
    ops = [set_tasks, job, t2, t1]
    link_dependencies(ops, [], PROVIDERS, {})
    assert set(set_tasks.after) == {job.id, t1.id, t2.id}
    assert job.after == [] and t1.after == [] and t2.after == []
    ordered = [o.id for o in order(ops)]
    assert ordered.index(t1.id) < ordered.index(set_tasks.id)
    assert ordered.index(t2.id) < ordered.index(set_tasks.id)
    assert ordered.index(job.id) < ordered.index(set_tasks.id)


def test_a_ref_in_the_target_counts_too() -> None:
    create = op("Campaign", "c", "create", records="create")
    other = op("Job", "j", "attach", target=ref(addr("Campaign", "c")))
    link_dependencies([other, create], [], PROVIDERS, {})
    assert other.after == [create.id]


def test_an_op_waits_for_every_non_destructive_op_of_the_referenced_resource() -> None:
    adopt = op("Task", "t", "adopt", target=9, records="adopt")
    update = op("Task", "t", "update", target=9, after=[adopt.id])
    job = op("Job", "j", "set-tasks", payload={"tasks": [ref(addr("Task", "t"))]})
    link_dependencies([adopt, update, job], [], PROVIDERS, {})
    assert set(job.after) == {adopt.id, update.id}


def test_a_ref_does_not_wait_for_deletes_or_forgets_of_the_referenced_address() -> None:
    create = op("Task", "t", "create", records="create")
    delete_old = op("Task", "t", "delete-deposed", target=5, destructive=True, after=[create.id])
    forget = op("Task", "u", "forget", records="forget")
    job = op("Job", "j", "set-tasks", payload={"tasks": [ref(addr("Task", "t")), ref(addr("Task", "u"))]})
    link_dependencies([create, delete_old, forget, job], [], PROVIDERS, {})
    assert job.after == [create.id]


def test_refs_to_addresses_without_ops_and_to_itself_add_nothing() -> None:
    create = op("Job", "j", "create", records="create")
    publish = op("Job", "j", "publish", target=ref(addr("Job", "j")), after=[create.id],
                 payload={"tasks": [ref(addr("Task", "unchanged"))]})
    link_dependencies([create, publish], [], PROVIDERS, {})
    assert publish.after == [create.id]


def test_linking_twice_adds_no_duplicates() -> None:
    create = op("Task", "t", "create", records="create")
    job = op("Job", "j", "create", payload={"tasks": [ref(addr("Task", "t")), ref(addr("Task", "t"))]})
    ops = [create, job]
    link_dependencies(ops, [], PROVIDERS, {})
    link_dependencies(ops, [], PROVIDERS, {})
    assert job.after == [create.id]


# -- deletes wait for whatever still references the object -----------------------------------
def test_a_delete_waits_for_the_ops_of_resources_whose_live_attrs_referenced_it() -> None:
    delete_task = op("Task", "t", "archive", target=3, destructive=True)
    job_update = op("Job", "j", "update", target=7)
    job_tasks = op("Job", "j", "set-tasks", target=7, after=[job_update.id], payload={"tasks": []})
    ops = [delete_task, job_update, job_tasks]
    changes = [change("Task", "t", ["delete"], [delete_task]), change("Job", "j", ["update"], [job_update, job_tasks])]
    lives = {addr("Job", "j"): live("Job", "j", {"tasks": [addr("Task", "t"), addr("Task", "keep")]}, 7),
             addr("Task", "t"): live("Task", "t", {}, 3)}
    link_dependencies(ops, changes, PROVIDERS, lives)
    assert set(delete_task.after) == {job_update.id, job_tasks.id}
    assert job_update.after == [] and job_tasks.after == [job_update.id]
    ordered = [o.id for o in order(ops)]
    assert ordered[-1] == delete_task.id


def test_a_single_valued_reference_field_counts() -> None:
    delete_job = op("Job", "j", "archive", target=7, destructive=True)
    campaign = op("Campaign", "c", "set-jobs", target=2, payload={"jobs": []})
    changes = [change("Job", "j", ["delete"], [delete_job]), change("Campaign", "c", ["update"], [campaign])]
    lives = {addr("Campaign", "c"): live("Campaign", "c", {"jobs": addr("Job", "j")}, 2)}
    link_dependencies([delete_job, campaign], changes, PROVIDERS, lives)
    assert delete_job.after == [campaign.id]


def test_forgetting_a_referenced_resource_also_waits() -> None:
    forget = op("Task", "t", "forget", records="forget")
    job = op("Job", "j", "set-tasks", target=7)
    changes = [change("Task", "t", ["no-op"], [forget]), change("Job", "j", ["update"], [job])]
    lives = {addr("Job", "j"): live("Job", "j", {"tasks": [addr("Task", "t")]}, 7)}
    link_dependencies([forget, job], changes, PROVIDERS, lives)
    assert forget.after == [job.id]


def test_non_destructive_ops_of_a_referenced_resource_do_not_wait_for_referrers() -> None:
    task_update = op("Task", "t", "update", target=3)
    job = op("Job", "j", "update", target=7)
    changes = [change("Task", "t", ["update"], [task_update]), change("Job", "j", ["update"], [job])]
    lives = {addr("Job", "j"): live("Job", "j", {"tasks": [addr("Task", "t")]}, 7)}
    link_dependencies([task_update, job], changes, PROVIDERS, lives)
    assert task_update.after == [] and job.after == []


def test_deleting_both_the_referrer_and_the_referenced_deletes_the_referrer_first() -> None:
    cancel = op("Campaign", "c", "cancel", target=2, destructive=True)
    archive_c = op("Campaign", "c", "archive", target=2, destructive=True, after=[cancel.id])
    archive_j = op("Job", "j", "archive", target=7, destructive=True)
    ops = [archive_j, archive_c, cancel]
    changes = [change("Job", "j", ["delete"], [archive_j]), change("Campaign", "c", ["delete"], [cancel, archive_c])]
    lives = {addr("Campaign", "c"): live("Campaign", "c", {"jobs": [addr("Job", "j")], "schedule": "schedule/dec"}, 2),
             addr("Job", "j"): live("Job", "j", {"tasks": []}, 7)}
    link_dependencies(ops, changes, PROVIDERS, lives)
    assert set(archive_j.after) == {cancel.id, archive_c.id}
    assert [o.id for o in order(ops)] == [cancel.id, archive_c.id, archive_j.id]


def test_replacement_creates_first_repoints_referrers_then_deletes_the_old_object() -> None:
    new_task = op("Task", "t", "create", records="create")
    old_task = op("Task", "t", "delete-deposed", target=3, destructive=True, after=[new_task.id])
    job = op("Job", "j", "set-tasks", target=7, payload={"tasks": [ref(addr("Task", "t"))]})
    ops = [old_task, job, new_task]
    changes = [change("Task", "t", ["create", "delete"], [new_task, old_task]), change("Job", "j", ["update"], [job])]
    lives = {addr("Job", "j"): live("Job", "j", {"tasks": [addr("Task", "t")]}, 7),
             addr("Task", "t"): live("Task", "t", {}, 3)}
    link_dependencies(ops, changes, PROVIDERS, lives)
    assert [o.id for o in order(ops)] == [new_task.id, job.id, old_task.id]


def test_changes_without_live_objects_or_known_providers_add_nothing() -> None:
    delete_task = op("Task", "t", "archive", target=3, destructive=True)
    job = op("Job", "j", "create", records="create")
    stranger = ResourceChange("q/job/k", "q", "Job", "k", ["update"])
    changes = [change("Task", "t", ["delete"], [delete_task]), change("Job", "j", ["create"], [job]), stranger]
    lives = {"q/job/k": Live("q/job/k", "Job", 1, {"tasks": [addr("Task", "t")]})}
    link_dependencies([delete_task, job], changes, PROVIDERS, lives)
    assert delete_task.after == []


def test_unknown_kinds_and_non_address_values_are_ignored() -> None:
    delete_task = op("Task", "t", "archive", target=3, destructive=True)
    comp = op("Component", "x", "update", target=1)
    job = op("Job", "j", "update", target=7)
    changes = [change("Task", "t", ["delete"], [delete_task]), change("Component", "x", ["update"], [comp]),
               change("Job", "j", ["update"], [job])]
    lives = {addr("Component", "x"): live("Component", "x", {"tasks": [addr("Task", "t")]}),
             addr("Job", "j"): live("Job", "j", {"tasks": None, "title": addr("Task", "t")})}
    link_dependencies([delete_task, comp, job], changes, PROVIDERS, lives)
    assert delete_task.after == []


# -- ordering --------------------------------------------------------------------------------
def test_order_respects_after_and_is_deterministic() -> None:
    a = op("Task", "a", "create")
    b = op("Task", "b", "create")
    c = op("Job", "c", "create", after=[b.id, a.id])
    d = op("Campaign", "d", "create", after=[c.id])
    expected = [a.id, b.id, c.id, d.id]
    assert [o.id for o in order([d, c, b, a])] == expected
    assert [o.id for o in order([a, b, c, d])] == expected


def test_order_ignores_dependencies_outside_the_list() -> None:
    a = op("Task", "a", "create", after=["p/task/gone#create"])
    assert order([a]) == [a]


def test_order_raises_plan_error_on_a_cycle() -> None:
    a = op("Task", "a", "create")
    b = op("Job", "b", "create", after=[a.id])
    c = op("Campaign", "c", "create", after=[b.id])
    a.after.append(c.id)
    with pytest.raises(PlanError) as info:
        order([a, b, c, op("Task", "z", "create")])
    message = str(info.value)
    assert "cannot be ordered" in message
    for o in (a, b, c):
        assert o.id in message
    assert "p/task/z#create" not in message


def test_order_rejects_duplicate_ids() -> None:
    with pytest.raises(PlanError, match="share an id"):
        order([op("Task", "a", "create"), op("Task", "a", "create")])


def test_linked_cross_references_that_loop_are_reported() -> None:
    # x's create needs y's id and y's create needs x's id: no valid order exists
    x = op("Task", "x", "create", records="create", payload={"other": ref(addr("Task", "y"))})
    y = op("Task", "y", "create", records="create", payload={"other": ref(addr("Task", "x"))})
    link_dependencies([x, y], [], PROVIDERS, {})
    with pytest.raises(PlanError, match="cycle"):
        order([x, y])


# -- the live fingerprints of a plan ---------------------------------------------------------
def test_fingerprints_are_computed_once_when_first_asked_and_saved_as_a_dict() -> None:
    import json

    from campaignctl.plan.builder import _fingerprints, fingerprint
    from campaignctl.plan.model import LazyMapping, Plan

    calls: list[int] = []
    objects = {addr("Task", "t"): live("Task", "t", {"name": "t"})}

    def compute() -> dict[str, str]:
        calls.append(1)
        return _fingerprints(objects, [addr("Task", "t"), addr("Task", "gone")])

    plan = Plan(changes=[], operations=[], live_fingerprints=LazyMapping(compute))
    assert calls == []  # a plan that is only shown never computes them
    saved = json.loads(json.dumps(plan.to_dict()))
    assert saved["live_fingerprints"] == {addr("Task", "t"): fingerprint(objects[addr("Task", "t")]), addr("Task", "gone"): "absent"}
    assert Plan.from_dict(saved).live_fingerprints == plan.live_fingerprints and set(plan.live_fingerprints) == set(saved["live_fingerprints"])
    assert calls == [1]
