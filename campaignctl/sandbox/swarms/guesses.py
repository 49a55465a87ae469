"""Every guess the SWARMS sandbox makes beyond the docs (``api-docs/swarms-api.txt``, and the
facts ``api-docs/README.md`` takes from the official python SDK), with where it is made.

``docs_only`` says what ``Settings.docs_only`` (``sandbox serve --docs-only``,
``CAMPAIGNCTL_SANDBOX_DOCS_ONLY=1``) does with it: ``"off"`` -- the guess adds a field, a link name
or a route, and docs-only mode serves none of it; ``"kept"`` -- a behaviour the docs leave open
that any implementation must choose somehow (a status code, a limit, an error code), which the
provider must not depend on; ``"switch"`` -- a behaviour with its own setting.
tests/sandbox/swarms/test_api.py checks that docs-only answers hold documented fields only.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Guess:
    name: str
    what: str
    where: str  # "module:name, name; module:name" in campaignctl.sandbox.swarms
    docs_only: str  # "off" | "kept" | "switch"


GUESSES: tuple[Guess, ...] = (
    # -- fields, links and routes: off in docs-only mode ------------------------------------------
    Guess("result-self-route", "GET /results/{id} exists, so a result's HAL self link resolves",
          "results:get_result", "off"),
    Guess("result-self-link", "a result's _links.self", "render:render_result", "off"),
    Guess("result-action-answers", "approve / reject / soft-reject answer the result object (docs: no body)",
          "results:_answer", "off"),
    Guess("approve-all-count", 'the approve-all endpoints answer {"approved": n} (docs: no body)',
          "results:approve_all_campaign, approve_all_worker", "off"),
    Guess("result-data-optional-result", "taskResults[].components[].data carries optionalResult (docs: type, "
          "landscape, properties, sticky)", "render:render_result", "off"),
    Guess("worker-links", "a worker's _links.results and _links.approve-all", "results:render_worker", "off"),
    Guess("archive-links", "_links.archive / _links.unarchive of tasks, jobs and campaigns (the documented actions, "
          "under link names nothing documents)", "render:_archive_link", "off"),
    Guess("lifecycle-answers", "publish / pause / continue / cancel answer the campaign (docs: no body)",
          "campaigns:lifecycle", "off"),
    Guess("markdown-preview-html", 'POST /preview/markdown answers {"html": ...} (docs: no body shown)',
          "preview:preview_markdown", "off"),
    # -- behaviour with its own switch --------------------------------------------------------------
    Guess("strict-readonly", "tasks/jobs linked to an active or paused campaign are readOnly (README: inferred); "
          "readOnly covers relations (PUT /jobs/{id}/tasks, POST|PUT /campaigns/{id}/jobs). Off "
          "(--lenient-readonly): linked objects and a running campaign's job list stay editable",
          "context:Ctx.read_only, Ctx.relation_writable", "switch"),
    # -- behaviour the docs leave open: kept in every mode -----------------------------------------
    Guess("status-codes", "creates and copies answer 201, everything else 200; bodiless answers are {}",
          "crud:collection_handlers", "kept"),
    Guess("error-codes", "the numeric codes (1000-4005) and which status each takes", "api:module docstring", "kept"),
    Guess("auth-before-routing", "an unknown URL without a token is 401; tokens live 30 days; the API key "
          "is also accepted as a static X-Auth-Token", "context:ApiMiddleware, token_valid", "kept"),
    Guess("request-bodies", "unknown fields are 400, read-only fields ignored (GET-modify-PUT works), a null "
          "body of an action is no body (the SDK sends null)", "validation:check_fields; context:Ctx.body_object", "kept"),
    Guess("put-replaces", "PUT replaces every writable field: omitted optional fields return to defaults",
          "crud:collection_handlers.update", "kept"),
    Guess("component-checks", "component attributes optional; ranges of Rating.steps, Stepper, durations",
          "validation:validate_component", "kept"),
    Guess("campaign-rules", "only name required on create; title, workerPayment, results to publish (409 3004); "
          "defaults of unset fields; duration and date formats; dates not acted upon", "validation:validate_campaign; campaigns:publish",
          "kept"),
    Guess("list-paging", "search matches whole words; order repeated or comma-separated; cursors are ids of "
          "neighbours (positions in sub-lists, which take limit only); an empty page has no links",
          "paging:list_page, page_positions, page_links", "kept"),
    Guess("hrefs", "links are paths under the API base with the query kept (the docs' form, the SDK's reading)",
          "context:Ctx.href; paging:page_links", "kept"),
    Guess("campaign-job-lists", "no duplicate job ids (PUT 400, POST ignores), jobs added to a running campaign "
          "must have tasks; money follows the job count", "campaigns:_set_campaign_jobs", "kept"),
    Guess("deletes", "deleting a task/job drops it from every list, refused while a running campaign uses it; "
          "deleting a campaign deletes its results", "crud:DELETE", "kept"),
    Guess("archive-rules", "archiving a running campaign is 409; archived objects stay editable, cannot be "
          "linked, block publishing; copies keep the name", "crud:collection_handlers.archive, copy_doc", "kept"),
    Guess("money", "what publishing freezes, what approving and cancelling move; balances as '<n> USD'",
          "account:refreeze; campaigns:publish; results:approve", "kept"),
    Guess("sizes", "resourcesSize / estimatedUploadSize per component type", "common:task_sizes", "kept"),
    Guess("review-rules", "which result states allow approve / reject / soft-reject; no auto-approval; "
          "SoftRejected state filter; reputation -5 on reject", "results:_check_state, reject_one", "kept"),
    Guess("campaign-results-link", "a campaign's _links.results once published (the SDK finds results only "
          "by it: a documented route under the name the SDK reads)", "render:render_campaign", "kept"),
    Guess("result-softreject-link", "a result's soft-reject action under the link name softReject (the SDK's)",
          "render:render_result", "kept"),
    Guess("sandbox-submit", "POST /swarms/_sandbox/submit simulates submissions: sandbox administration "
          "(campaignctl sandbox submit), not a platform route", "submit:sandbox_submit", "kept"),
)
