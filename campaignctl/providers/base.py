"""The provider template every platform module fills in.

The planner owns the flow; a provider answers platform questions:

- offline: ``check`` (platform rules beyond the JSON Schema) and ``desired`` (a document's spec
  normalised to the shape ``read`` produces, references as addresses);
- online: ``read`` (live objects it manages, normalised), ``create_ops`` / ``update_ops`` /
  ``delete_ops`` (a resource diff -> API operations) and ``execute`` (one operation against the API).

Whether a changed field is updated in place or forces a replacement is declared, not decided by
the provider: ``field_policy`` (kind -> field -> rule, see :mod:`.fields`), read by the planning
template here (``plan_change``), which no provider overrides; a provider adds its notes to a
planned change through the ``annotate`` hook. ``update_ops`` raises :class:`Impossible` when the
values (not the fields) make a change impossible, and :class:`NeedsReplace` only where they (not
the fields) need a new object: fewer positions, a lifecycle state that cannot be left.
"""
from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import httpx

from ..config.model import Config, Document
from ..errors import ConfigError, Diagnostic
from ..http import ApiClient, ErrorParser, RetryPolicy, default_error_parser
from ..limits import DEFAULT_MAX_RESPONSE_BYTES
from ..origin import SANDBOX_ENDPOINT, SANDBOX_KEY, check_endpoint, header_problem
from ..plan.diff import meaningful_changes, same
from ..plan.model import Operation, ResourceChange
from .fields import REPLACE_HOW, Policy, decide, reads_published


@dataclass
class Live:
    """A live object as a provider read it, normalised to the shape of ``desired``."""

    address: str
    kind: str
    id: Any
    attrs: dict[str, Any]
    status: str | None = None
    read_only: bool = False
    raw: dict[str, Any] = field(default_factory=dict)
    #: other remote objects that claim this address (left over from an interrupted replacement)
    deposed: list[Any] = field(default_factory=list)
    #: how ``read`` found it when state did not know it (the plan's adopt note says so)
    found_by: str = "by its address marker"


class NeedsReplace(Exception):
    """The values of a change (not its fields: those are ``field_policy``'s) need a new object."""


class Impossible(Exception):
    """The platform cannot make this change at all; the plan reports it as an error."""


class FinalSink(Protocol):
    """Where a whole read puts the live objects that are final before it ends (a list that names no
    others, read to its last page): the reader's output, which the caller takes elsewhere (the
    prefetch hands them to the plan's loop); each at most once, the same objects the read returns."""

    def put(self, lives: dict[str, Live]) -> None: ...


@dataclass
class ReadInputs:
    """What a read is asked and what it may need to know, passed in by its caller (the planner,
    the prefetch, the importer): never set on the provider, so a read depends on nothing else."""

    #: address -> remote id, from state
    known: Mapping[str, Any]
    #: address -> kind, from the config
    wanted: Mapping[str, str]
    #: address -> desired attributes (the providers' ``desired``) of the config's resources (at
    #: least those of ``wanted``): what a read adopts an object by (a title, a type)
    desired: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    #: address -> the config's document, for what a read needs of the config beyond the desired
    #: attributes (the task rows of a campaign, parsed once per document)
    documents: Mapping[str, Document] = field(default_factory=dict)
    #: address -> attributes the last apply recorded (state)
    applied: Mapping[str, Any] = field(default_factory=dict)
    #: address -> what applies recorded of calls they made beside the attributes (an operation's
    #: ``payload["recorded"]``, see campaignctl.apply)
    recorded: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    #: old address -> the address the config now gives the object (its ``movedFrom``): an object
    #: whose marker still names the old address is the renamed one
    moved: Mapping[str, str] = field(default_factory=dict)
    #: live objects final before the read ends go here too (None: nobody takes them early)
    finals: FinalSink | None = None


@dataclass
class ExecResult:
    id: Any = None  # remote id of an object a create made


@dataclass
class Resource:
    """What the planner hands a provider about one address."""

    address: str
    kind: str
    name: str
    desired: dict[str, Any] | None
    live: Live | None
    protect: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    #: the attributes the last apply recorded (state), for a provider that compares by them
    applied: Any = None
    #: the config's document (None once removed from the config, or where state is compared): what
    #: a provider plans from beside ``desired`` (a campaign's task rows), never kept on the provider
    doc: Document | None = None


@dataclass(frozen=True)
class Embedded:
    """How a provider whose endpoint is ``sandbox`` reaches the embedded sandbox: in-process."""

    transport: httpx.AsyncBaseTransport
    base_url: str


class Provider:
    type: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]
    #: kind -> {spec field: referenced kind}; a field holds a name or a list of names
    references: ClassVar[dict[str, dict[str, str]]] = {}
    #: kind -> spec field holding a list of components whose ``use:`` items are resolved
    component_lists: ClassVar[dict[str, str]] = {}
    #: Schedule spec fields this platform can express
    schedule_fields: ClassVar[frozenset[str]] = frozenset()
    #: a Campaign's (payment per task in USD, time per task) spec fields, for a Policy's pay rules
    #: (campaignctl.policy); the time is a number of minutes, or a duration such as "10 sec"
    pay_fields: ClassVar[tuple[str, str] | None] = None
    #: the platform's published API endpoint: credentials go to its origin, to loopback, to
    #: ``sandbox`` and to what the operator allows (campaignctl.origin), nowhere else
    #: spec fields whose ``ignoreChanges`` name differs: spec field -> the desired() keys it becomes
    #: (what import writes in ``ignoreChanges`` for a value the config cannot hold)
    ignore_names: ClassVar[dict[str, list[str]]] = {}
    official_endpoint: ClassVar[str | None] = None
    #: the name the errors give the platform
    platform_name: ClassVar[str] = ""
    #: credentials sent as a header value (the others go in a body: a password may be any text)
    header_credentials: ClassVar[frozenset[str]] = frozenset({"token", "apiKey"})
    error_parser: ClassVar[ErrorParser] = default_error_parser  # read through the class: a plain function
    request_id_header: ClassVar[str] = "X-Request-ID"
    #: ``read`` depends only on its inputs' ``known``, ``wanted`` and ``moved`` (not on their
    #: ``desired``, ``documents``, ``applied``, ``recorded``): a plan may start it before the config
    #: is fully checked (campaignctl.prefetch)
    prefetchable: ClassVar[bool] = False
    #: attributes ``read`` and ``balance`` set on the provider, which a prefetched read hands over
    read_attributes: ClassVar[tuple[str, ...]] = ()
    #: kind -> spec field -> how it changes (:mod:`.fields`); a kind's ``"*"`` is every other
    #: field, an absent one changes in place
    field_policy: ClassVar[Policy] = {}

    def __init__(self, doc: Document, config_root: Path, env: Mapping[str, str] | None = None) -> None:
        self.doc = doc
        self.name = doc.name
        self.spec = doc.spec
        self.root = config_root
        self.env = os.environ if env is None else env
        self.parallelism = int(self.spec.get("parallelism", 8))
        self.page_size = int(self.spec.get("pageSize", 100))
        self.timeout = float(self.spec.get("timeout", 30))
        self.max_response_bytes = int(self.spec.get("maxResponseBytes", DEFAULT_MAX_RESPONSE_BYTES))
        self._client: ApiClient | None = None

    # -- connection ------------------------------------------------------------------------
    @property
    def embedded(self) -> bool:
        return self.spec.get("endpoint") == SANDBOX_ENDPOINT

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            raise RuntimeError(f"provider {self.name} is not open")
        return self._client

    def credentials(self) -> dict[str, str]:
        """Secrets named by ``spec.auth`` (``fooEnv: VAR`` -> ``{"foo": $VAR}``). Missing, or not
        sendable as a header -> ConfigError. Before reading any, the endpoint must be one
        credentials may go to (:meth:`check_endpoint`)."""
        if self.embedded:
            return {"token": SANDBOX_KEY, "apiKey": SANDBOX_KEY}
        self.check_endpoint()
        auth = self.spec.get("auth") or {}
        out: dict[str, str] = {}
        problems = []
        for key, var in auth.items():
            if not key.endswith("Env"):
                continue
            value = self.env.get(var)
            if not value:
                problems.append(
                    self.doc.mark("auth", key).diag(
                        f"provider {self.name!r}: environment variable {var} is not set (it holds the {key[:-3]})"
                    )
                )
            elif key[:-3] in self.header_credentials and (why := header_problem(value)) is not None:
                problems.append(  # its name, never its value
                    self.doc.mark("auth", key).diag(
                        f"provider {self.name!r}: environment variable {var} cannot be sent as an HTTP header: {why}"
                    )
                )
            else:
                out[key[:-3]] = value
        if problems:
            raise ConfigError(problems)
        return out

    def check_endpoint(self) -> None:
        """ConfigError (at the Provider's ``endpoint``, naming CAMPAIGNCTL_ALLOWED_ENDPOINTS) when
        credentials must not go to it: neither the official endpoint, nor loopback, nor one the
        operator allows in the environment; or it holds user:password."""
        why = check_endpoint(str(self.spec.get("endpoint")), self.official_endpoint, self.env, self.platform_name or self.type)
        if why is not None:
            raise ConfigError(self.doc.mark("endpoint").diag(f"provider {self.name!r}: {why}"))

    def auth_headers(self, credentials: dict[str, str]) -> dict[str, str]:
        return {}

    def base_headers(self) -> dict[str, str]:
        return {"Accept": "application/json", "User-Agent": "campaignctl"}

    def make_client(self, parallelism: int | None = None, embedded: Embedded | None = None) -> ApiClient:
        """The client of this provider's endpoint; ``embedded``: how to reach the embedded sandbox
        in-process, given by what opens the provider (:func:`campaignctl.inputs.embedded_sandbox`):
        providers do not know the sandbox."""
        creds = self.credentials()
        headers = {**self.base_headers(), **self.auth_headers(creds)}
        transport: httpx.AsyncBaseTransport | None = None
        if self.embedded:
            if embedded is None:
                raise RuntimeError(f"provider {self.name}: opened without the embedded sandbox it names")
            transport, base = embedded.transport, embedded.base_url
        else:
            base = str(self.spec["endpoint"])
        return ApiClient(
            base,
            headers=headers,
            transport=transport,
            timeout=self.timeout,
            parallelism=parallelism or self.parallelism,
            retry=RetryPolicy(),
            error_parser=type(self).error_parser,
            secrets=list(creds.values()),
            request_id_header=self.request_id_header,
            max_response_bytes=self.max_response_bytes,
        )

    async def open(self, parallelism: int | None = None, embedded: Embedded | None = None) -> None:
        if self._client is None:
            self._client = self.make_client(parallelism, embedded)
            await self.login()

    async def login(self) -> None:
        """Exchange credentials for a session token where the platform needs it."""

    async def close(self) -> None:
        if self._client is not None:
            await self.logout()
            await self._client.aclose()
            self._client = None

    async def logout(self) -> None:
        """Give back a session token ``login`` obtained."""

    # -- offline ---------------------------------------------------------------------------
    @classmethod
    def check(cls, doc: Document, config: Config) -> list[Diagnostic]:
        """Platform rules the JSON Schema cannot express."""
        return []

    def desired(self, doc: Document, config: Config) -> dict[str, Any]:
        raise NotImplementedError

    # -- online ----------------------------------------------------------------------------
    async def read(self, inputs: ReadInputs, only: set[str] | None = None) -> dict[str, Live]:
        """Live objects for the addresses in ``inputs.known`` (address -> remote id, from state) and
        ``inputs.wanted`` (address -> kind, from the config), found by id or by the address marker.

        ``only``: the addresses the caller needs (None: all). A provider may then read less, as long
        as what it returns for those addresses is what the whole read returns (its ``read`` says
        what, if anything, only the whole read sees); it may return more."""
        raise NotImplementedError

    async def balance(self) -> float | None:
        """Money available for new work, USD (None when the platform does not say)."""
        return None

    async def lookup(self, address: str, kind: str, desired: dict[str, Any] | None = None) -> Any | None:
        """The remote id of the object claiming ``address`` (its marker, or its exact title where the
        platform has no marker: ``desired``, its desired attributes, say which), or None. Used after
        a create went unanswered."""
        inputs = ReadInputs({}, {address: kind}, desired={address: desired} if desired is not None else {})
        live = (await self.read(inputs)).get(address)
        return live.id if live is not None else None

    async def confirm(self, op: Operation) -> bool | None:
        """After a write other than a create went unanswered or failed with a 5xx or a 429: True
        when the platform shows it took effect, False when it provably did not (or sending it again
        is harmless: a documented full replacement), None when the platform cannot tell (then the
        write fails as it did). Never repeat a lifecycle action without reading the state."""
        return None

    async def may_retry(self, attempt: int) -> bool:
        """Before a call is made once more outside the client (apply's resend of a write, or its
        read back): take one retry's worth from the client's retry budget and wait the client's
        backoff; False at once when the budget is spent (the platform seems down)."""
        if self._client is None:  # no client (a test's fake provider), no budget
            return True
        budget = self._client.budget
        if not budget.acquire(budget.retry_cost):
            return False
        await asyncio.sleep(self._client.retry.backoff(attempt))
        return True

    def sent_record(self, op: Operation) -> dict[str, Any] | None:
        """What state records of ``op`` beside the attributes once it took effect (apply merges it
        into the entry's ``recorded``; the next read gets it as ``ReadInputs.recorded``): the
        operation's ``payload["recorded"]``. A provider whose operation names data it reads only
        when it sends it (Microworkers: task rows from their data file) says what it sent."""
        return op.payload.get("recorded") if isinstance(op.payload, dict) else None

    def create_ops(self, res: Resource) -> list[Operation]:
        raise NotImplementedError

    def update_ops(self, res: Resource, changed: set[str]) -> list[Operation]:
        raise NotImplementedError

    def delete_ops(self, res: Resource, remote_id: Any, *, deposed: bool = False) -> list[Operation]:
        raise NotImplementedError

    async def execute(self, op: Operation) -> ExecResult:
        raise NotImplementedError

    def comparable(self, res: Resource) -> dict[str, Any]:
        """The live attributes as they should be compared with ``res.desired``."""
        assert res.live is not None
        return res.live.attrs

    # -- importing (campaignctl import) ----------------------------------------------------
    async def read_account(self, managed: dict[tuple[str, str], str]) -> dict[str, Live]:
        """Every live object on the account that ``managed`` ((kind, str(id)) -> address) does not
        hold, keyed ``<provider>/<kind>/#<id>``; references to managed objects use their address."""
        raise self._no_import()

    def export_documents(self, live: dict[str, Live], ctx: Any) -> list[Any]:
        """``read_account``'s objects as :class:`campaignctl.providers.export.ExportedDoc` documents."""
        raise self._no_import()

    def _no_import(self) -> Exception:
        from ..errors import CampaignctlError

        return CampaignctlError(f"import is not supported for provider type {self.type} (provider {self.name!r})")

    # -- planning hooks --------------------------------------------------------------------
    def published(self, res: Resource) -> bool:
        """Whether the live object is published/running: the rules ``by(..., published=...)`` of
        ``field_policy`` then apply (asked only of a kind that has such a rule)."""
        return False

    def replacement_reason(self, res: Resource, fields: list[str]) -> str:
        """Why changing ``fields`` (which force a replacement, by ``field_policy``) replaces the
        object, as the plan says it. Raise :class:`Impossible` when a replacement is no answer
        either (the plan reports the error)."""
        return f"{', '.join(fields)} cannot change in place: a new {res.kind.lower()} is created, then the old one is removed"

    def immutable_reason(self, res: Resource, fields: list[str]) -> str:
        """The error of a change to ``fields``, which cannot change (by ``field_policy``)."""
        return f"{', '.join(fields)} of a {res.kind.lower()} cannot change"

    def annotate(self, res: Resource, change: ResourceChange, ops: list[Operation]) -> None:
        """Add the provider's notes to the change the template planned (warnings, errors, fields
        shown another way); called for every resource, no-op changes too, before the operations
        are chained."""

    # -- planning template -----------------------------------------------------------------
    def op(self, address: str, action: str, call: str, **kwargs: Any) -> Operation:
        return Operation(id=f"{address}#{action}", address=address, provider=self.name, action=action, call=call, **kwargs)

    def _no_op(self, res: Resource) -> ResourceChange:
        live = res.live
        return ResourceChange(
            address=res.address,
            provider=self.name,
            kind=res.kind,
            name=res.name,
            actions=["no-op"],
            before=live.attrs if live else None,
            after=res.desired,
            remote_id=live.id if live else None,
            protect=res.protect,
        )

    def settled(self, res: Resource, applied: Any) -> ResourceChange | None:
        """The no-op change of ``res`` when there is nothing to say about it -- the live object, as
        compared, is what is desired and what was last applied (``applied``: so no drift either),
        no other object carries its address, no field is ignored -- else None: then the plan asks
        ``plan_change`` (and looks for drift). What ``plan_change`` gives such a resource, with one
        ``comparable`` instead of two, for the thousands of a plan that changes little; the
        provider's ``annotate`` notes it as it would the other."""
        live, desired = res.live, res.desired
        if live is None or desired is None or live.deposed or res.ignore_changes or not same(applied, desired):
            return None
        try:
            if not same(self.comparable(res), desired):
                return None
        except (KeyError, TypeError, AttributeError):  # detect_drift's fallback: the long way
            return None
        change = self._no_op(res)
        self.annotate(res, change, [])
        return self._finish(change, [])[0]

    def plan_change(self, res: Resource) -> tuple[ResourceChange, list[Operation]]:
        """The change of one address and its operations: create, delete, update in place or
        replace, as ``field_policy`` says of the changed fields. Not overridden: see ``annotate``."""
        try:
            change, ops = self._plan(res)
        except Impossible as exc:  # from create_ops: checks against the platform's live configuration
            change = self._no_op(res)
            change.actions = ["create"] if res.live is None else ["create", "delete"]
            change.errors.append(str(exc))
            ops = []
        self.annotate(res, change, ops)
        return self._finish(change, ops)

    def _plan(self, res: Resource) -> tuple[ResourceChange, list[Operation]]:
        live, desired = res.live, res.desired
        change = self._no_op(res)
        ops: list[Operation] = []
        if live is None and desired is not None:
            change.actions = ["create"]
            ops = self.create_ops(res)
        elif desired is None and live is not None:
            change.actions = ["delete"]
            try:
                ops = self.delete_ops(res, live.id)
            except Impossible as exc:
                change.errors.append(str(exc))
        elif live is not None and desired is not None:
            current = dict(self.comparable(res))
            for name in res.ignore_changes:
                if name in desired:
                    current[name] = desired[name]
                else:
                    current.pop(name, None)
            if not same(current, desired):
                change.fields = meaningful_changes(current, desired)
                changed = {f.path.split("[", 1)[0].split(".", 1)[0] for f in change.fields}
                ops = self._plan_update(res, change, changed)
        if live is not None and live.deposed:
            for old in live.deposed:
                ops += self.delete_ops(res, old, deposed=True)
            change.warnings.append(
                f"remote object(s) {', '.join(map(str, live.deposed))} also carry this address "
                "(left over from an interrupted replacement): they will be removed"
            )
            if change.actions == ["no-op"]:
                change.actions = ["update"]
        return change, ops

    def _plan_update(self, res: Resource, change: ResourceChange, changed: set[str]) -> list[Operation]:
        """An update in place, a replacement (naming the fields that force it) or an error."""
        policy = type(self).field_policy
        decision = decide(policy, res.kind, changed, reads_published(policy, res.kind) and self.published(res))
        change.actions = ["update"]
        try:
            if decision.immutable:
                raise Impossible(self.immutable_reason(res, decision.immutable))
            if decision.replace:
                return self._replace(res, change, self.replacement_reason(res, decision.replace), decision.replace)
            return self.update_ops(res, changed)
        except NeedsReplace as exc:  # the values need a new object: every changed field forces it
            return self._replace(res, change, str(exc), [f.path for f in change.fields])
        except Impossible as exc:
            change.actions = ["update"]
            change.errors.append(str(exc))
            for f in change.fields:
                f.how = "impossible"
            return []

    def _replace(self, res: Resource, change: ResourceChange, reason: str, forcing: list[str]) -> list[Operation]:
        assert res.live is not None
        change.actions = ["create", "delete"]
        change.reasons.append(reason)
        top = set(forcing)
        for f in change.fields:
            if f.path in top or f.path.split("[", 1)[0].split(".", 1)[0] in top:
                f.how = REPLACE_HOW
        fresh = Resource(res.address, res.kind, res.name, res.desired, None, res.protect, applied=res.applied, doc=res.doc)
        return self.create_ops(fresh) + self.delete_ops(res, res.live.id, deposed=True)

    @staticmethod
    def _finish(change: ResourceChange, ops: list[Operation]) -> tuple[ResourceChange, list[Operation]]:
        if not ops:  # the change's lists are empty already (a no-op: thousands in a plan)
            change.cost = 0
            return change, ops
        # one resource's calls run one after another, in the order given
        for prev, nxt in zip(ops, ops[1:], strict=False):
            if prev.id not in nxt.after:
                nxt.after.insert(0, prev.id)
        change.operations = [o.id for o in ops]
        change.lifecycle = [o.action for o in ops if o.action in LIFECYCLE_ACTIONS]
        change.cost = round(sum(o.cost for o in ops), 6)
        return change, ops


LIFECYCLE_ACTIONS = {"publish", "pause", "continue", "resume", "cancel", "stop", "restart", "archive", "add-positions"}
