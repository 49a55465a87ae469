"""Rating a campaign from a ratings file: decide each row (send, skip, refuse), say what it costs,
send, confirm ambiguous failures, report.

Decisions before sending, per row: no rating -> left alone; the same decision is in the ledger ->
skipped; not a submission of this campaign -> failed (never sent: it could be another campaign's);
already rated on the platform -> skipped; otherwise sent. After sending, rows that failed are
looked up once more: a rating the platform shows as made (a retried call whose first attempt went
through, a timeout after the platform acted) counts as rated, so the report never calls paid work
unpaid.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from ..errors import CampaignctlError
from .common import RATINGS, Outcome, Progress, RatingRow, Reviewer, Submission
from .ratings import Ledger


@dataclass
class RatingPlan:
    send: list[RatingRow] = field(default_factory=list)
    decided: list[Outcome] = field(default_factory=list)  # skipped or failed without a call
    balance: float | None = None
    fee: Decimal = Decimal(0)  # the platform's fee on a bonus (Microworkers v2), as a rate

    @property
    def counts(self) -> Counter[str]:
        return Counter(r.rating for r in self.send)

    @property
    def bonuses(self) -> list[Decimal]:
        return [r.bonus for r in self.send if r.bonus]

    @property
    def bonus_total(self) -> Decimal:
        return sum(self.bonuses, Decimal(0))

    @property
    def bonus_cost(self) -> Decimal:
        """What the bonuses take from the account: their total plus the platform's fee."""
        return (self.bonus_total * (1 + self.fee)).quantize(Decimal("0.0001"))

    def over_balance(self) -> str | None:
        """Why sending must not start (the bonuses cost more than the balance read), or None."""
        if self.balance is None or not self.bonuses or self.bonus_cost <= Decimal(str(self.balance)):
            return None
        return (f"the bonuses cost {self.bonus_cost:.2f} USD (fee included) but only {self.balance:.2f} USD is available: "
                "nothing was sent (the platform would refuse bonuses part-way); top the account up, or give fewer bonuses")


async def plan_ratings(
    reviewer: Reviewer, rows: list[RatingRow], ledger: Ledger, progress: Progress | None = None
) -> RatingPlan:
    subs = await reviewer.all_submissions(progress)
    plan = RatingPlan()
    where = reviewer.ref.address
    for row in rows:
        sub = subs.get(row.id)
        if not row.rating:
            plan.decided.append(Outcome(row, "skipped", "no rating in the file", "without a rating"))
        elif (at := ledger.has(row)) is not None:
            plan.decided.append(Outcome(row, "skipped", f"sent by an earlier run at {at}", "sent by an earlier run"))
        elif sub is None:
            plan.decided.append(Outcome(row, "failed", f"not a submission of {where}: nothing sent", "unknown"))
        elif sub.rating in RATINGS:
            message = f"already rated on the platform ({sub.state})"
            plan.decided.append(Outcome(row, "skipped", message, "already rated on the platform"))
        elif sub.rating:
            message = f"not waiting for your rating ({sub.state})"
            plan.decided.append(Outcome(row, "skipped", message, "not waiting for your rating"))
        else:
            plan.send.append(row)
    if plan.bonuses:
        plan.balance = await reviewer.provider.balance()
        # Microworkers v2 charges its fee on bonuses too (the provider's ``fee``; v1 and SWARMS have none)
        plan.fee = Decimal(str(getattr(reviewer.provider, "fee", 0) or 0))
    return plan


def describe(plan: RatingPlan, reviewer: Reviewer) -> str:
    """What is about to happen, money first (stderr, before the confirmation)."""
    counts = plan.counts
    lines = [f"Ratings for {reviewer.ref.describe()}:"]
    if plan.send:
        per = ", ".join(f"{r} {counts[r]}" for r in ("OK", "NOK", "REVISE") if counts[r])
        lines.append(f"  to send:  {len(plan.send)} ({per})")
    else:
        lines.append("  to send:  nothing")
    if reviewer.supports_bonus:
        note = f" ({plan.bonus_cost:.2f} USD with the platform's fee)" if plan.bonuses and plan.fee else ""
        lines.append(f"  bonuses:  {len(plan.bonuses)}, total {plan.bonus_total:.2f} USD{note}")
        if plan.balance is not None:
            warn = "  -- NOT ENOUGH for the bonuses" if plan.over_balance() else ""
            lines.append(f"  balance:  {plan.balance:.2f} USD{warn}")
    skipped = Counter(o.group for o in plan.decided if o.outcome == "skipped")
    for why, n in sorted(skipped.items()):
        lines.append(f"  skipped:  {n} {why}")
    unknown = [o for o in plan.decided if o.outcome == "failed"]
    if unknown:
        lines.append(f"  not sent: {len(unknown)} not submission(s) of this campaign (line {_lines(unknown)})")
    return "\n".join(lines)


def _lines(outcomes: list[Outcome], limit: int = 10) -> str:
    lines = sorted(o.row.line for o in outcomes)
    text = ", ".join(map(str, lines[:limit]))
    return text + (f" and {len(lines) - limit} more" if len(lines) > limit else "")


async def send(reviewer: Reviewer, plan: RatingPlan, ledger: Ledger) -> list[Outcome]:
    refused = plan.over_balance()
    if refused is not None:
        raise CampaignctlError(refused)
    outcomes = await reviewer.rate(plan.send, ledger.add)
    failed = [o for o in outcomes if o.outcome == "failed"]
    if failed:
        now = await reviewer.all_submissions()
        for outcome in failed:
            if _made(now.get(outcome.row.id), outcome.row):
                ledger.add(outcome.row)
                outcome.outcome = "rated"
                outcome.message = f"the platform shows it rated despite: {outcome.message}"
    return outcomes


def _made(sub: Submission | None, row: RatingRow) -> bool:
    if sub is None or sub.rating != row.rating:
        return False
    comment = sub.fields.get("comment")
    return comment is None or str(comment) == row.comment


def dry_run(plan: RatingPlan) -> list[Outcome]:
    return [Outcome(r, "would-rate", "dry run: nothing sent") for r in plan.send]
