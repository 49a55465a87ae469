"""Review as code: a ``kind: Review`` document's rules rate a campaign's pending submissions.

Per submission the engine measures three things, then takes the first rule whose ``when`` holds:

* its time: ``submitted - started`` (``submittedWithin``);
* its gold accuracy: the share of its answers to gold tasks (the ``gold`` file's task, field,
  answer) that are right (``goldAccuracyBelow`` / ``AtLeast``);
* its agreement: the share of its answers that equal the majority answer the *other* submissions
  gave to the same task and field (a tie counts as agreeing; answers nobody else gave are not
  counted) (``agreementBelow`` / ``AtLeast``).

A condition on gold or agreement holds only when there is something to measure it on. A
submission no rule matches stays pending. The ratings become :class:`RatingRow` s (their ``line``
is the rule's line in the Review file) and go through :mod:`.rate` like a ratings file: the
ledger, the platform's own state (nothing is rated twice), the balance check. Answers come from
the platform's ``platforms/<name>/review.py`` (``items``), found through the registry.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..config.model import Config, Document
from .common import ResultsError, Reviewer, Submission
from .ratings import RatingRow

Item = tuple[str, str, str]  # task, field, answer
UNITS = {"s": 1, "m": 60, "h": 3600}


def seconds(text: str) -> float:
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([smh])", text)
    if match is None:  # the schema checked it already
        raise ResultsError(f"not a duration: {text!r}")
    return float(match[1]) * UNITS[match[2]]


def find_review(config: Config, address: str, name: str) -> Document:
    """The Review document of the campaign (by its name or address); exactly one."""
    found = [d for d in config.of_kind("Review").values() if d.spec.get("campaign") in (name, address)]
    if not found:
        raise ResultsError(f"no Review document for campaign {address} in {config.root} (kind: Review, spec.campaign: {name})")
    if len(found) > 1:
        where = ", ".join(f"{d.file}:{d.field_mark('name').line}" for d in found)
        raise ResultsError(f"more than one Review document for campaign {address}: {where}")
    return found[0]


def load_gold(doc: Document) -> dict[tuple[str, str], str]:
    from .gold import read_answers

    gold = doc.spec.get("gold")
    if not gold:
        return {}
    path = Path(doc.file).parent / gold["file"]
    if not path.is_file():
        mark = doc.mark("gold", "file")
        raise ResultsError(f"{mark.file}:{mark.line}: gold file {gold['file']!r} not found ({path})")
    return read_answers(path)


@dataclass
class Accuracy:
    """Answers right on gold tasks, and agreeing with the others' majority: of one submission
    (:class:`Measure`) or of a worker over campaigns (:class:`campaignctl.results.workers.WorkerRecord`)."""

    gold_right: int = 0
    gold_total: int = 0
    agree: int = 0
    compared: int = 0

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_right / self.gold_total if self.gold_total else None

    @property
    def agreement(self) -> float | None:
        return self.agree / self.compared if self.compared else None


@dataclass
class Measure(Accuracy):
    """What the rules look at, for one submission: its accuracy, and how long it took."""

    seconds: float | None = None


def measure(subs: dict[str, Submission], items: dict[str, list[Item]], gold: dict[tuple[str, str], str]) -> dict[str, Measure]:
    votes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for answers in items.values():
        for task, name, answer in answers:
            votes[(task, name)][answer] += 1
    out: dict[str, Measure] = {}
    for sid, sub in subs.items():
        m = Measure()
        if sub.started is not None and sub.submitted is not None:
            m.seconds = (sub.submitted - sub.started).total_seconds()
        for task, name, answer in items.get(sid, []):
            true = gold.get((task, name))
            if true is not None:
                m.gold_total += 1
                m.gold_right += answer == true
            others = votes[(task, name)].copy()
            others[answer] -= 1  # leave this submission out
            top = max(others.values(), default=0)
            if top > 0:
                m.compared += 1
                m.agree += others[answer] == top
        out[sid] = m
    return out


def holds(when: dict[str, Any] | None, m: Measure) -> bool | None:
    """Whether every condition holds; None: a time condition cannot be known (the platform gave no
    start or submit time), so the submission is left pending rather than passed to later rules."""
    for key, limit in (when or {}).items():
        if key == "submittedWithin":
            if m.seconds is None:
                return None
            ok = m.seconds <= seconds(limit)
        elif key.startswith("goldAccuracy"):
            ok = m.gold_accuracy is not None and (m.gold_accuracy < limit if key.endswith("Below") else m.gold_accuracy >= limit)
        else:
            ok = m.agreement is not None and (m.agreement < limit if key.endswith("Below") else m.agreement >= limit)
        if not ok:
            return False
    return True


@dataclass
class Decision:
    sub: Submission
    rule: int | None  # index in spec.rules, None: no rule matched
    row: RatingRow | None
    measure: Measure


@dataclass
class ReviewPlan:
    decisions: list[Decision] = field(default_factory=list)

    @property
    def rows(self) -> list[RatingRow]:
        return [d.row for d in self.decisions if d.row is not None]


def check_bonuses(doc: Document, reviewer: Reviewer) -> None:
    """Every rule's bonus within what the platform allows (0.1x..2x the payment): file:line."""
    problems = []
    payment = reviewer.payment()
    for index, rule in enumerate(doc.spec["rules"]):
        bonus = rule.get("bonus")
        if not bonus:
            continue
        mark = doc.mark("rules", index, "bonus", "usd")
        usd = Decimal(str(bonus["usd"]))
        if not reviewer.supports_bonus:
            problems.append(f"{mark.file}:{mark.line}: {reviewer.platform} has no bonuses: remove the bonus")
        elif payment is not None and not payment * Decimal("0.1") <= usd <= payment * 2:
            problems.append(f"{mark.file}:{mark.line}: bonus {usd} USD is outside the allowed "
                            f"{payment * Decimal('0.1'):g}..{payment * 2:g} USD (0.1x..2x the payment per task, {payment:g} USD)")
    if problems:
        raise ResultsError("the Review cannot be used (nothing was sent):\n  " + "\n  ".join(problems))


def decide(doc: Document, subs: dict[str, Submission], measures: dict[str, Measure]) -> ReviewPlan:
    """The rating of every pending submission (those with rating "" on the platform)."""
    rules = doc.spec["rules"]
    plan = ReviewPlan()
    for sid in sorted(subs, key=lambda s: (len(s), s)):
        sub = subs[sid]
        if sub.rating:
            continue  # rated already, or not ours to rate
        m = measures[sid]
        for index, rule in enumerate(rules):
            verdict = holds(rule.get("when"), m)
            if verdict is None:
                plan.decisions.append(Decision(sub, None, None, m))
                break
            if verdict:
                bonus = rule.get("bonus")
                usd = Decimal(str(bonus["usd"])) if bonus and holds(bonus.get("when"), m) is True else None
                row = RatingRow(doc.mark("rules", index).line, sid, rule["rating"], rule.get("comment", ""), usd)
                plan.decisions.append(Decision(sub, index, row, m))
                break
        else:
            plan.decisions.append(Decision(sub, None, None, m))
    return plan


def summary(plan: ReviewPlan, doc: Document, reviewer: Reviewer, fee: Decimal = Decimal(0), top: int = 5) -> dict[str, Any]:
    """The rating plan as data (``--format json``; the text form prints the same)."""
    rows = plan.rows
    counts = Counter(r.rating for r in rows)
    bonuses = [r.bonus for r in rows if r.bonus]
    total = sum(bonuses, Decimal(0))
    per_rule = Counter(d.rule for d in plan.decisions if d.rule is not None)
    affected: dict[str, Counter[str]] = defaultdict(Counter)
    for d in plan.decisions:
        if d.row is not None and d.row.rating != "OK":
            affected[d.sub.worker][d.row.rating] += 1
    worst = sorted(affected.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:top]
    return {
        "review": doc.name, "campaign": reviewer.ref.address, "pending": len(plan.decisions),
        "ratings": {r: counts[r] for r in ("OK", "NOK", "REVISE")},
        "unmatched": sum(d.row is None for d in plan.decisions),
        "rules": [
            {"line": doc.mark("rules", i).line, "rating": rule["rating"], "comment": rule.get("comment", ""), "submissions": per_rule[i]}
            for i, rule in enumerate(doc.spec["rules"])
        ],
        "bonuses": {"count": len(bonuses), "total_usd": f"{total:.2f}",
                    "cost_usd": f"{(total * (1 + fee)).quantize(Decimal('0.0001')):.2f}"},
        "workers_most_affected": [{"worker": w, **{r: c[r] for r in ("NOK", "REVISE") if c[r]}} for w, c in worst],
    }


def render(data: dict[str, Any]) -> str:
    r = data["ratings"]
    lines = [
        f"Review {data['review']} of {data['campaign']}: {data['pending']} pending submission(s)",
        f"  ratings:  OK {r['OK']}, NOK {r['NOK']}, REVISE {r['REVISE']}"
        + (f" ({data['unmatched']} left pending: no rule matched, or no times to check)" if data["unmatched"] else ""),
    ]
    for rule in data["rules"]:
        comment = f" \"{rule['comment']}\"" if rule["comment"] else ""
        lines.append(f"    line {rule['line']:>3}: {rule['rating']:<6} {rule['submissions']:>5}{comment}")
    b = data["bonuses"]
    cost = f" ({b['cost_usd']} USD with the platform's fee)" if b["cost_usd"] != b["total_usd"] else ""
    lines.append(f"  bonuses:  {b['count']}, total {b['total_usd']} USD{cost}")
    if data["workers_most_affected"]:
        lines.append("  workers most affected:")
        for w in data["workers_most_affected"]:
            lines.append(f"    {w['worker']}: " + ", ".join(f"{k} {v}" for k, v in w.items() if k != "worker"))
    return "\n".join(lines)
