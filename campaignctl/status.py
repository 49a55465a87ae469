"""``campaignctl status [PATH]``: where each campaign of the config stands on its platform.

For every Campaign document: its state on the platform; how much work was submitted, approved,
rejected and is pending; the money committed and spent; the platform's queue jobs in progress;
and a finish estimate from the last hour's submission rate. The platform-specific reads live in
``platforms/<package>/status.py`` (the registry's ``status`` field names the function); this module
holds what they share, the reading loop and the rendering.

A figure the platform documents no source for is ``"unknown"`` (text and JSON alike), never a guess.
"""
from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .results.status import PlatformStatus

if TYPE_CHECKING:
    from .results.common import Reviewer
    from .session import Session

UNKNOWN = "unknown"
#: the rate the finish estimate extrapolates is the submissions of this window
RATE_WINDOW = timedelta(hours=1)


async def recent(reviewer: Reviewer, now: datetime) -> int:
    """How many submissions arrived in the last :data:`RATE_WINDOW`."""
    since = now - RATE_WINDOW
    count = 0
    async for sub in reviewer.submissions(since=since):
        count += sub.submitted is not None and sub.submitted >= since
    return count


def _figure(value: Any) -> Any:
    return UNKNOWN if value is None else value


def _money(value: float | None) -> Any:
    return UNKNOWN if value is None else round(value, 2)


def estimate(st: PlatformStatus, rate: int | None, now: datetime) -> str:
    """The finish estimate: ``done``, an ISO time, or why there is none."""
    if st.target is None or st.submitted is None:
        return UNKNOWN
    remaining = st.target - st.submitted
    if remaining <= 0:
        return "done"
    if rate is None:
        return UNKNOWN
    if rate == 0:
        return "none (no submission in the last hour)"
    when = now + timedelta(hours=remaining / rate)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


async def campaign_status(session: Session, address: str, now: datetime) -> dict[str, Any]:
    """The status record of one Campaign address (``not applied`` when state has no id for it)."""
    from .platforms import PLATFORMS, load
    from .results.common import resolve_campaign
    from .results.reviewers import reviewer_for

    doc = session.config.resources[address]
    provider = session.providers[doc.provider or ""]
    record: dict[str, Any] = {"address": address, "name": doc.name, "provider": doc.provider, "platform": provider.type}
    entry = session.state.resources.get(address)
    if not entry or entry.get("id") in (None, ""):
        return {**record, "remote_id": None, "state": "not applied"}
    reviewer = reviewer_for(resolve_campaign(session, address))
    platform = PLATFORMS[provider.type]
    if not platform.status:  # a platform that reads no status: every figure unknown, no guess
        st = PlatformStatus(state=None, notes=[f"{provider.type} has no status reader"])
        return {**record, "remote_id": reviewer.remote_id, **_figures(st, None, now)}
    read = load(platform.status)
    try:
        st = await read(reviewer)
        rate: int | None = await recent(reviewer, now)
    except ApiError as exc:
        if exc.status != 404:
            raise
        st, rate = PlatformStatus(state="gone", notes=[f"the platform does not know campaign {reviewer.remote_id}"]), None
    return {**record, "remote_id": reviewer.remote_id, **_figures(st, rate, now)}


def _figures(st: PlatformStatus, rate: int | None, now: datetime) -> dict[str, Any]:
    return {
        "state": _figure(st.state),
        "target": _figure(st.target),
        "submitted": _figure(st.submitted),
        "approved": _figure(st.approved),
        "rejected": _figure(st.rejected),
        "pending": _figure(st.pending),
        "money": {"currency": "USD", "committed": _money(st.committed), "spent": _money(st.spent)},
        "queue_jobs_in_progress": _figure(st.queue_jobs),
        "rate_last_hour": _figure(rate),
        "finish_estimate": estimate(st, rate, now),
        "notes": st.notes,
    }


def collect(path: Path, parallelism: int = 8, now: datetime | None = None) -> dict[str, Any]:
    """Every campaign's status record, in address order."""
    from .session import Session, opened, run

    session = Session.for_cli(path, parallelism)
    moment = now or datetime.now(UTC)
    addresses = sorted(a for a, d in session.config.resources.items() if d.kind == "Campaign")
    used = {session.config.resources[a].provider or "" for a in addresses}

    async def main() -> list[dict[str, Any]]:
        async with opened({n: p for n, p in session.providers.items() if n in used}, parallelism):
            return list(await asyncio.gather(*(campaign_status(session, a, moment) for a in addresses)))

    return {"generated": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "campaigns": run(main())}


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"


def render_text(report: dict[str, Any]) -> str:
    if not report["campaigns"]:
        return "No campaigns in the configuration.\n"
    out: list[str] = []
    for c in report["campaigns"]:
        head = f"{c['address']}  ({c['platform']}"
        out.append(head + (f" campaign {c['remote_id']})" if c.get("remote_id") is not None else ")"))
        out.append(f"  state: {c['state']}")
        if "submitted" not in c:
            out.append("")
            continue
        out.append(
            f"  work: {c['submitted']} submitted of {c['target']}: {c['approved']} approved, "
            f"{c['rejected']} rejected, {c['pending']} pending"
        )
        money = c["money"]
        spent = money["spent"] if money["spent"] == UNKNOWN else f"${money['spent']:.2f}"
        committed = money["committed"] if money["committed"] == UNKNOWN else f"${money['committed']:.2f}"
        out.append(f"  money: {committed} committed, {spent} spent")
        out.append(f"  queue jobs in progress: {c['queue_jobs_in_progress']}")
        out.append(f"  last hour: {c['rate_last_hour']} submitted; finish estimate: {c['finish_estimate']}")
        out.extend(f"  note: {n}" for n in c["notes"])
        out.append("")
    return "\n".join(out)
