"""Policy as code: ``kind: Policy`` documents, enforced by ``validate``, ``plan`` and ``apply``.

Rules (``schemas/Policy.json``), each an error (validate exits 1; plan and apply refuse) or a
warning (said on stderr and in the plan):

- ``minHourlyWage: {usd}``: a Campaign's payment per task divided by its time per task. The
  fields are the provider's ``pay_fields`` (SWARMS ``workerPayment`` / ``estDuration``,
  Microworkers ``paymentPerTask`` / ``minutesToFinish``, v1 ``payment_per_task`` /
  ``minutes_to_finish``); the envelope field ``estimatedMinutes``, when a campaign declares it,
  is the time instead (Microworkers' field is a time limit, not an estimate). A campaign with a
  payment and no time to divide it by breaks the rule.
- ``maxPaymentPerTask: {usd}``: the payment per task.
- ``requireProtect: {}``: every Campaign has ``protect: true``.
- ``maxSpendPerApply: {usd}``: the money the plan commits (plan and apply only).

Each finding points at the offending resource's field (file:line:col) and names the rule's own
place.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .config.model import Config, Document
from .errors import ConfigError, Diagnostic, PlanError

#: minutes per unit of a duration such as SWARMS' estDuration ("10 sec", "2 min", "1 hour")
_UNITS = {"sec": Decimal(1) / 60, "second": Decimal(1) / 60, "min": Decimal(1), "minute": Decimal(1),
          "hour": Decimal(60), "day": Decimal(1440)}  # fmt: skip
_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(sec|second|min|minute|hour|day)s?\s*")


@dataclass(frozen=True)
class Finding:
    level: str  # "error" | "warning"
    diagnostic: Diagnostic  # at the offending resource (or at the rule, for maxSpendPerApply)

    def __str__(self) -> str:
        return f"{self.diagnostic} [{self.level}]"


def _usd(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def minutes_of(value: Any) -> Decimal | None:
    """A time per task in minutes: a number (minutes) or a duration ("10 sec", "2 min")."""
    amount: Decimal | None
    if isinstance(value, str):
        match = _DURATION.fullmatch(value)
        if match is None:
            return None
        amount = Decimal(match.group(1)) * _UNITS[match.group(2)]
    else:
        amount = _usd(value)
    return amount if amount is not None and amount > 0 else None


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


class _Rule:
    def __init__(self, policy: Document, name: str) -> None:
        spec = policy.spec[name]
        self.policy, self.name = policy, name
        self.level = str(spec.get("level", "error"))
        self.usd = _usd(spec.get("usd"))
        where = policy.mark(name)
        self.where = f"policy {policy.name}, {where.file}:{where.line}"

    def finding(self, doc_mark: Any, message: str) -> Finding:
        return Finding(self.level, doc_mark.diag(f"{message} ({self.name} of {self.where})"))


def _rules(config: Config, name: str) -> list[_Rule]:
    return [_Rule(doc, name) for _, doc in sorted(config.of_kind("Policy").items()) if name in doc.spec]


def check_config(config: Config) -> list[Finding]:
    """What the config's campaigns break of its Policy documents (offline)."""
    from .providers import provider_class

    wage, top, protect = _rules(config, "minHourlyWage"), _rules(config, "maxPaymentPerTask"), _rules(config, "requireProtect")
    if not (wage or top or protect):
        return []
    out: list[Finding] = []
    for address, doc in sorted(config.resources.items()):
        if doc.kind != "Campaign":
            continue
        for rule in protect:
            if not doc.protect:
                mark = doc.field_mark("protect") if "protect" in doc.raw else doc.field_mark("name")
                out.append(rule.finding(mark, f"{address} is not protected: add protect: true"))
        provider = config.providers.get(doc.provider or "")
        cls = provider_class(str(provider.spec.get("type"))) if provider is not None else None
        if cls is None or cls.pay_fields is None:
            continue
        pay_field, time_field = cls.pay_fields
        pay = _usd(doc.spec.get(pay_field))
        if pay is None:  # no payment declared: nothing is paid that a rule could judge
            continue
        for rule in top:
            if rule.usd is not None and pay > rule.usd:
                out.append(rule.finding(doc.mark(pay_field), f"{address} pays {pay} USD per task ({pay_field}), more than {_money(rule.usd)} USD"))
        if not wage:
            continue
        declared = doc.raw.get("estimatedMinutes")
        minutes = minutes_of(declared) if declared is not None else minutes_of(doc.spec.get(time_field))
        source = "estimatedMinutes" if declared is not None else time_field
        given = declared if declared is not None else doc.spec.get(time_field)
        mark = doc.field_mark("estimatedMinutes") if declared is not None else doc.mark(pay_field)
        for rule in wage:
            if minutes is None:
                out.append(rule.finding(doc.mark(pay_field), (
                    f"{address} pays {pay} USD per task but declares no time per task to check a minimum hourly wage "
                    f"with: set {time_field} or estimatedMinutes")))
                continue
            hourly = pay * 60 / minutes
            if rule.usd is not None and hourly < rule.usd:
                out.append(rule.finding(mark, (
                    f"{address} pays {_money(hourly)} USD/h ({pay_field} {pay} USD per task, {source} {given!s}), "
                    f"below the minimum of {_money(rule.usd)} USD/h")))
    return out


def check_plan(config: Config, cost: float) -> list[Finding]:
    """The config's findings and the plan's money (``cost``, USD) against maxSpendPerApply."""
    out = check_config(config)
    spend = Decimal(str(round(cost, 6)))
    for rule in _rules(config, "maxSpendPerApply"):
        if rule.usd is not None and spend > rule.usd:
            out.append(rule.finding(rule.policy.mark("maxSpendPerApply"), f"this plan commits {_money(spend)} USD, more than {_money(rule.usd)} USD"))
    return out


def errors_of(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "error"]


def raise_for_validate(findings: list[Finding]) -> None:
    """validate: the errors as a ConfigError (file:line:col each, exit 1)."""
    errors = errors_of(findings)
    if errors:
        raise ConfigError([Diagnostic(d.file, d.line, d.col, f"policy: {d.message}") for d in (f.diagnostic for f in errors)])


def raise_for_plan(findings: list[Finding], verb: str) -> None:
    """plan / apply: refuse (exit 1) when any rule set at level error is broken."""
    errors = errors_of(findings)
    if errors:
        raise PlanError(f"refusing to {verb}: {len(errors)} policy violation(s):\n  " + "\n  ".join(str(f.diagnostic) for f in errors))


def plan_lines(findings: list[Finding]) -> list[str]:
    """The findings as the plan's warnings."""
    return [f"policy {'violation (apply refuses)' if f.level == 'error' else 'warning'}: {f.diagnostic}" for f in findings]


__all__ = ["Finding", "check_config", "check_plan", "minutes_of", "plan_lines", "raise_for_plan", "raise_for_validate"]
