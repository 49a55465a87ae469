"""What the three platforms' review code shares: the campaign a command names, one submission as
an export row, time parsing, and the :class:`Reviewer` template each platform module fills in.

A reviewer lists a campaign's submissions (every page, the platform's own paging), rates rows of a
ratings file (concurrent calls, or batches where the API has them) and approves everything in
review. Platform states map onto one vocabulary: ``""`` (waiting for a rating), ``OK``, ``NOK``,
``REVISE``.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import ApiError, CampaignctlError

if TYPE_CHECKING:
    from ..config.model import Document
    from ..providers.base import Provider
    from ..session import Session

RATINGS = ("OK", "NOK", "REVISE")
#: ``--state`` words every platform understands
NEUTRAL_STATES = {"pending": "", "ok": "OK", "nok": "NOK", "revise": "REVISE"}

#: called after each page a listing fetched: (submissions so far, pages so far)
Progress = Callable[[int, int], None]


class ResultsError(CampaignctlError):
    """A results command cannot go on (unknown campaign, not applied, bad option...)."""


# -- time --------------------------------------------------------------------------------------
def parse_time(text: str) -> datetime:
    """``2026-11-23``, ``2026-11-23T09:00[:12]``, a space for the ``T``, ``Z`` or ``+02:00``;
    without an offset the time is UTC. Returns an aware UTC datetime."""
    raw = text.strip()
    try:
        when = datetime.fromisoformat(raw.replace(" ", "T", 1) if len(raw) > 10 else raw)
    except ValueError:
        raise ResultsError(f"not a date or time: {text!r} (use e.g. 2026-11-23T09:00:00Z)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def iso_utc(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when is not None else None


def platform_time(value: Any, fmt: str | None = None) -> datetime | None:
    """A timestamp as a platform wrote it (ISO 8601, or ``fmt``; naive = UTC); empty/zero -> None."""
    if not value or not isinstance(value, str) or value.startswith("0000-00-00"):
        return None
    try:
        when = datetime.strptime(value, fmt) if fmt else datetime.fromisoformat(value)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


# -- the campaign a command names --------------------------------------------------------------
@dataclass
class CampaignRef:
    address: str
    doc: Document
    provider: Provider
    remote_id: Any
    #: remote id -> config name of the provider's other objects (SWARMS job names in exports)
    names: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.doc.name

    def describe(self) -> str:
        return f"{self.address} (campaign {self.remote_id} on {self.provider.name})"


def resolve_campaign(session: Session, text: str) -> CampaignRef:
    """CAMPAIGN as an address (``mw/campaign/website-survey``) or a Campaign name."""
    campaigns = {a: d for a, d in session.config.resources.items() if d.kind == "Campaign"}
    if text in campaigns:
        address = text
    else:
        matches = sorted(a for a, d in campaigns.items() if d.name == text)
        if not matches:
            known = ", ".join(sorted(campaigns)) or "none"
            raise ResultsError(f"no campaign {text!r} in the configuration at {session.config.root} (campaigns: {known})")
        if len(matches) > 1:
            raise ResultsError(f"campaign name {text!r} is ambiguous: use one of the addresses {', '.join(matches)}")
        address = matches[0]
    doc = campaigns[address]
    entry = session.state.resources.get(address)
    if not entry or entry.get("id") in (None, ""):
        raise ResultsError(f"{address} is not applied yet (state has no remote id for it): run `campaignctl apply` first")
    provider = session.providers[doc.provider or ""]
    names = {
        f"{a.split('/')[1]}:{e.get('id')}": a.split("/", 2)[2]
        for a, e in session.state.resources.items() if a.startswith(f"{doc.provider}/")
    }
    return CampaignRef(address, doc, provider, entry["id"], names)


# -- submissions -------------------------------------------------------------------------------
@dataclass
class Submission:
    """One piece of submitted work (a SWARMS result, a Microworkers slot or task)."""

    id: str
    worker: str
    state: str  # the platform's own word
    rating: str  # "" (waiting), OK, NOK or REVISE
    started: datetime | None = None
    submitted: datetime | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # platform columns after the common ones
    answers: dict[str, Any] = field(default_factory=dict)  # one column per component / question

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id, "worker": self.worker, "state": self.state, "rating": self.rating,
            "started": iso_utc(self.started), "submitted": iso_utc(self.submitted), **self.fields, **self.answers,
        }


@dataclass
class RatingRow:
    """One row of a ratings file: what to tell the platform about one submission."""
    line: int
    id: str
    rating: str  # OK | NOK | REVISE ("" = no decision: left alone)
    comment: str = ""
    bonus: Decimal | None = None
    until: datetime | None = None

    def key(self) -> tuple[str, str, str, str]:
        return (self.id, self.rating, self.comment, str(self.bonus or ""))


@dataclass
class Outcome:
    """What became of one :class:`RatingRow` (the report's row)."""
    row: RatingRow
    outcome: str  # rated | skipped | failed | would-rate
    message: str = ""
    group: str = ""  # why, in a few words (the summary counts rows per group)

    def record(self) -> dict[str, Any]:
        bonus = str(self.row.bonus) if self.row.bonus else ""
        return {"line": self.row.line, "id": self.row.id, "rating": self.row.rating, "bonus": bonus,
                "outcome": self.outcome, "message": self.message}


# -- reading -----------------------------------------------------------------------------------
def occurrence_names(names: list[str]) -> list[str]:
    """``[a, b, a]`` -> ``[a, b, a#2]``: repeated column names get their occurrence number."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out


# -- the platform template ---------------------------------------------------------------------
class Reviewer:
    """One campaign's review API. Subclasses: ``results.swarms``, ``results.microworkers``,
    ``results.microworkers_v1``."""

    platform: ClassVar[str]
    #: the platform's state words per neutral rating (for ``--state``)
    states: ClassVar[dict[str, str]]
    #: the platform's column names after the common ones, in export order
    columns: ClassVar[tuple[str, ...]] = ()
    supports_bonus: ClassVar[bool] = True
    supports_until: ClassVar[bool] = False
    #: one platform call approves everything in review (else approve-all rates each waiting one OK)
    has_approve_all: ClassVar[bool] = False

    def __init__(self, ref: CampaignRef) -> None:
        self.ref = ref
        self.provider = ref.provider
        self.remote_id = ref.remote_id

    @property
    def client(self) -> Any:
        return self.provider.client

    # -- offline -----------------------------------------------------------------------------
    def payment(self) -> Decimal | None:
        """The payment per task the config declares (for the documented bonus range)."""
        return None

    def check_id(self, text: str) -> str | None:
        """Why ``text`` cannot be one of this platform's submission ids (None: it can)."""
        return None if text and not any(c.isspace() for c in text) else f"{text!r} is not a submission id"

    def state_filter(self, word: str) -> tuple[str, str | None]:
        """``--state`` -> (neutral rating, platform word or None). Unknown -> ResultsError."""
        low = word.strip().lower()
        if low in NEUTRAL_STATES:
            return NEUTRAL_STATES[low], None
        for platform_word, neutral in self.states.items():
            if platform_word.lower() == low:
                return neutral, platform_word
        words = sorted(set(NEUTRAL_STATES) | set(self.states))
        raise ResultsError(f"--state {word!r}: {self.platform} knows {', '.join(words)}")

    # -- online ------------------------------------------------------------------------------
    def submissions(self, since: datetime | None = None, progress: Progress | None = None) -> AsyncIterator[Submission]:
        """Every submission of the campaign (submitted after ``since``), all pages followed."""
        raise NotImplementedError

    async def all_submissions(self, progress: Progress | None = None) -> dict[str, Submission]:
        return {s.id: s async for s in self.submissions(progress=progress)}

    async def rate(self, rows: list[RatingRow], on_rated: Callable[[RatingRow], None]) -> list[Outcome]:
        """Send every row; ``on_rated`` right after each success. Default: one call per row, concurrently
        (the client bounds how many are in flight)."""
        async def one(row: RatingRow) -> Outcome:
            try:
                await self.rate_one(row)
            except ApiError as exc:
                return Outcome(row, "failed", self.reason(exc))
            on_rated(row)
            return Outcome(row, "rated", "")

        return list(await asyncio.gather(*(one(r) for r in rows)))

    async def rate_one(self, row: RatingRow) -> None:
        raise NotImplementedError

    def reason(self, exc: ApiError) -> str:
        """The platform's words for a refused rating (the report's message column)."""
        text = exc.message
        return f"[{exc.code}] {text}" if exc.code else text

    async def approve_all(self, worker: str | None, message: str) -> int | None:
        """The platform's approve-all call (``has_approve_all``); how many it approved, if it says."""
        raise NotImplementedError

    async def submit(self, count: int, seed: int) -> int:
        """Sandbox only: let simulated workers submit ``count`` pieces of work; returns how many.

        Always through the sandbox's ``POST /_sandbox/submit`` under this platform's prefix, over
        the provider's own client: in-process for ``endpoint: sandbox``, over HTTP for ``campaignctl
        sandbox serve``. Results never reach into the sandbox's code."""
        try:
            body = await self.served_submit(count, seed)
        except ApiError as exc:
            if exc.status in (404, 405) and not self.provider.embedded:
                raise ResultsError(
                    f"{self.provider.spec.get('endpoint')} offers no /_sandbox/submit (simulated workers exist only in "
                    "the campaignctl sandbox: endpoint: sandbox, or `campaignctl sandbox serve` of this version)"
                ) from None
            raise
        return int((body or {}).get("submitted", 0))

    async def served_submit(self, count: int, seed: int) -> Any:
        """The sandbox's ``POST /_sandbox/submit`` under this platform's prefix."""
        return await self.client.json("POST", "/_sandbox/submit", json={"campaign": self.remote_id, "count": count, "seed": seed})
