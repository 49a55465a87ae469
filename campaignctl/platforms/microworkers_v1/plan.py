"""Microworkers API v1: how a desired campaign / exclude list becomes v1 calls (the change mapping
documented in :mod:`campaignctl.platforms.microworkers_v1.provider`). A mixin of the provider."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...plan.model import Operation
from ...providers.base import Impossible, NeedsReplace, Resource
from ...providers.fields import REPLACE, Policy, by, each
from .read import ADMIN_STATUSES, PENDING_STATUSES, PREFIX

FEE_RATE = 0.10  # Microworkers' fee on payment_per_task x positions (the sandbox charges the same)
EXCLUDE_LIST = "/employer/exclude_list"
#: fields v1 cannot change on a live campaign
REPLACE_FIELDS = (
    "type", "title", "category", "payment_per_task", "minutes_to_finish", "required_work", "required_proof",
    "ttr", "auto_rate", "file_proof", "max_positions_per_worker",
)  # fmt: skip
#: how each field changes (campaignctl.providers.fields): the provider's ``field_policy``
FIELD_POLICY: Policy = {
    "Campaign": {
        **each(REPLACE_FIELDS, REPLACE),
        "speed": by("set_speed"),
        "zone": by("retarget"),
        "selected_countries": by("retarget"),
        "group": by("change_group"),
        "qt_required": by("toggle_qt_required"),
        "available_positions": by("add_positions"),  # more only: fewer need a new campaign
        "state": by("lifecycle"),
    },
    "WorkerGroup": {"*": by("(state only)")},
    "Blocklist": {"workers": by("exclude_list")},
}
TRANSITIONS = {
    ("RUNNING", "paused"): "pause",
    ("RUNNING", "stopped"): "stop",
    ("PAUSED", "running"): "resume",
    ("PAUSED", "stopped"): "stop",
}


def _params(data: dict[str, Any]) -> str:
    """``{"speed": 5, "zone": "int"}`` -> ``speed=5 zone=int`` (a value with spaces quoted)."""
    shown = []
    for key, value in data.items():
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        shown.append(f"{key}={text!r}" if " " in text or not text else f"{key}={text}")
    return " ".join(shown)


def _endpoint(op: Operation) -> str:
    """``PUT /campaign_b/set_speed/{id} speed=5`` -> ``set_speed``."""
    return op.call.split()[1].split("/")[2]


class CampaignChanges:
    """The v1 change mapping. Expects the provider's ``op``, ``comparable`` and ``_group_of``."""

    _group_of: dict[str, str]
    _notes: dict[str, tuple[list[str], list[str]]]
    if TYPE_CHECKING:  # provided by Provider

        def op(self, address: str, action: str, call: str, **kwargs: Any) -> Operation: ...

        def comparable(self, res: Resource) -> dict[str, Any]: ...

    def _note(self, address: str, *, warning: str | None = None, error: str | None = None) -> None:
        warnings, errors = self._notes.setdefault(address, ([], []))
        if warning:
            warnings.append(warning)
        if error:
            errors.append(error)

    def _form(self, d: dict[str, Any]) -> dict[str, Any]:
        """The new_campaign form of a desired campaign."""
        form: dict[str, Any] = {"title": d["title"]}
        if d["type"] == "basic":
            form["zone"] = d["zone"]
            if d["zone"] == "int" and d.get("selected_countries"):
                form["selected_countries"] = " ".join(d["selected_countries"])
        else:
            form["group_id"] = self._group_of.get(d["group"], "")
        form.update(
            category=d["category"],
            minutes_to_finish=str(d["minutes_to_finish"]),
            available_positions=str(d["available_positions"]),
            payment_per_task=f"{d['payment_per_task']:.5f}".rstrip("0").rstrip("."),
        )
        if d["type"] == "basic":
            form.update(speed=str(d["speed"]), required_work=d["required_work"], required_proof=d["required_proof"])
        else:
            form.update(
                max_positions_per_worker=str(d["max_positions_per_worker"]),
                description_type="SAME",
                required_work=d["required_work"],
            )
            form["required_proof[]"] = list(d["required_proof"])
        form.update(
            ttr=str(d["ttr"]), auto_rate=d["auto_rate"], file_proof=str(d["file_proof"]),
            qt_required="1" if d["qt_required"] else "0",
        )  # fmt: skip
        return form

    def _cost(self, payment: float, positions: int) -> float:
        return round(payment * positions * (1 + FEE_RATE), 6)

    def _action(self, address: str, type_: str, action: str, endpoint: str, target: Any,
                data: dict[str, Any] | None = None, **kwargs: Any) -> Operation:  # fmt: skip
        call = f"PUT {PREFIX[type_]}/{endpoint}/{{id}}" + (f" {_params(data)}" if data else "")
        return self.op(address, action, call, target=target, payload=data or None, **kwargs)

    def _blocklist_ops(self, res: Resource) -> list[Operation]:
        assert res.live is not None and res.desired is not None
        before, after = set(res.live.attrs["workers"]), set(res.desired["workers"])
        ops = []
        if after - before:
            add = sorted(after - before)
            ops.append(self.op(res.address, "exclude-add", f"POST {EXCLUDE_LIST} worker[]={','.join(add)}",
                               payload={"worker[]": add}))  # fmt: skip
        if before - after:
            remove = sorted(before - after)
            ops.append(self.op(res.address, "exclude-remove", f"DELETE {EXCLUDE_LIST} worker[]={','.join(remove)}",
                               payload={"worker[]": remove}))  # fmt: skip
        return ops

    def replacement_reason(self, res: Resource, fields: list[str]) -> str:
        """Fields ``FIELD_POLICY`` says force a new campaign; fewer positions too (said with them)."""
        d = res.desired or {}
        current = self.comparable(res)
        replace = list(fields)
        if d["available_positions"] < current["available_positions"]:
            replace.append(f"available_positions (fewer: {current['available_positions']} -> {d['available_positions']})")
        what = ", ".join(replace)
        if d["state"] == "stopped":
            raise Impossible(
                f"Microworkers v1 cannot change {what} of an existing campaign, and a replacement makes no sense for a "
                "campaign that is to stay stopped: revert the change, or set state: running to replace it"
            )
        return (f"Microworkers v1 cannot change {what} of an existing campaign: a new campaign is created "
                "(paid again in full) and the old one is stopped")

    def _campaign_ops(self, res: Resource, changed: set[str]) -> list[Operation]:
        live, d, address = res.live, res.desired or {}, res.address
        assert live is not None
        status, type_, cid = str(live.status), d["type"], live.id
        current = self.comparable(res)
        delta = d["available_positions"] - current["available_positions"]
        if delta < 0:  # a value, not a field, needs the new campaign
            raise NeedsReplace(self.replacement_reason(res, []))
        fields: list[Operation] = []  # calls that need RUNNING or PAUSED
        if "speed" in changed:
            fields.append(self._action(address, type_, "set-speed", "set_speed", cid, {"speed": d["speed"]}))
        if changed & {"zone", "selected_countries"}:
            data: dict[str, Any] = {"zone": d["zone"]}
            if d["zone"] == "int":
                data["selected_countries"] = " ".join(d.get("selected_countries") or [])
            fields.append(self._action(address, type_, "retarget", "retarget", cid, data))
        if "group" in changed:
            gid = self._group_of.get(d["group"], "")
            fields.append(self._action(address, type_, "change-group", "change_group", cid, {"group_id": gid}))
        toggle = []
        if "qt_required" in changed:
            toggle.append(self._action(address, type_, "toggle-qt", "toggle_qt_required", cid))
            toggle[0].call += f" (qt_required -> {1 if d['qt_required'] else 0})"
            toggle[0].payload = {"qt_required": d["qt_required"]}
        payment = current["payment_per_task"]
        if status in ADMIN_STATUSES or status in PENDING_STATUSES:
            blocked = [_endpoint(op) for op in fields] + (["add_positions"] if delta > 0 else [])
            lifecycle = {"running": "resume", "paused": "pause", "stopped": "stop"}[d["state"]]
            if status in ADMIN_STATUSES:
                why = f"the campaign is {status} ({ADMIN_STATUSES[status]})"
                if blocked:  # the config asks for a change the platform refuses now
                    raise Impossible(
                        f"{why}: v1 accepts {', '.join(blocked)} only while it is RUNNING or PAUSED; "
                        "wait until Microworkers lifts it, or add the fields to ignoreChanges"
                    )
                if current["state"] != d["state"]:  # the platform moved it: report, do not fail every plan
                    self._note(address, warning=f"{why}: campaignctl cannot {lifecycle} it; only Microworkers can lift it")
                return toggle
            if current["state"] != d["state"]:
                blocked.append(lifecycle)
            if blocked:
                self._note(address, warning=f"the campaign is {status} ({PENDING_STATUSES[status]}): {', '.join(blocked)} "
                           "must wait until it runs; run apply again then")  # fmt: skip
            return toggle
        if status == "FINISHED":
            restart = delta > 0 or current["state"] != d["state"]
            if restart and d["state"] == "stopped":
                raise Impossible(
                    "more positions for a stopped campaign would run it again (restart_campaign): set state: running, "
                    "or keep available_positions as they are"
                )
            if not restart and fields:
                raise Impossible(
                    f"the campaign is stopped (FINISHED): v1 changes {', '.join(_endpoint(op) for op in fields)} "
                    "only while it is RUNNING or PAUSED"
                )
            ops = [self._action(address, type_, "restart", "restart_campaign", cid, {"positions": max(delta, 0)},
                                cost=self._cost(payment, max(delta, 0)))] if restart else []  # fmt: skip
            ops += fields + toggle
            if restart and d["state"] == "paused":
                ops.append(self._action(address, type_, "pause", "pause", cid))
            return ops
        ops = fields + toggle
        if delta > 0:
            ops.append(self._action(address, type_, "add-positions", "add_positions", cid, {"positions": delta},
                                    cost=self._cost(payment, delta)))  # fmt: skip
            ops[-1].payload = {**ops[-1].payload, "expect": d["available_positions"]}  # read back after a lost answer
        action = TRANSITIONS.get((status, d["state"]))
        if action:
            ops.append(self._action(address, type_, action, action, cid, destructive=action == "stop"))
        return ops
