"""Every guess the Microworkers API v2 sandbox makes beyond ``/work/shared/api-docs`` (the legacy v1
sandbox's: :mod:`campaignctl.sandbox.microworkers_v1.guesses`).

``GUESSES`` lists them as ``(name, what, where)``; ``where`` names where the guess is made, as
``"module:name, name; module:name"`` in this package (a name may be ``Class.method``;
tests/sandbox/microworkers/test_guesses.py checks that each exists there). Those whose name is in :data:`DOCS_ONLY_OFF` are switched off when
:attr:`campaignctl.sandbox.core.Settings.docs_only` is set: the field is left out of every answer,
the route answers 404 as an unknown route does. The others stay in docs-only mode (an answer or a
rule the docs require some value for, and we had to pick one); the providers must not depend on
them either (validation limits, money rules, shapes of reference lists: their readers accept the
plausible alternatives).
"""
from __future__ import annotations

GUESSES: list[tuple[str, str, str]] = [
    # -- fields of a campaign answer (GET, list items, POST/PATCH replies) --------------------------
    ("v2.campaign.autoRateOkTask", "echo of a create/PATCH setting; not in BasicCampaignInfoResponse",
     "model:render_campaign"),
    ("v2.campaign.autoRateNokTask", "echo of a create/PATCH setting; not in BasicCampaignInfoResponse",
     "model:render_campaign"),
    ("v2.campaign.autoRefillPositions", "echo of a create/PATCH setting; not in BasicCampaignInfoResponse",
     "model:render_campaign"),
    ("v2.campaign.successRate", "echo of a create/PATCH setting; not in BasicCampaignInfoResponse",
     "model:render_campaign"),
    ("v2.campaign.timeToWaitAfterSlotExpiration", "echo of a create/PATCH setting; not in BasicCampaignInfoResponse",
     "model:render_campaign"),
    ("v2.campaign.folder", "DEFAULT|ARCHIVE of the campaign (the list filters on it; the answer does not show it)",
     "model:render_campaign, list_campaigns"),
    ("v2.campaign.uniqueTasks", "whether the campaign takes unique task rows", "model:render_campaign"),
    ("v2.campaign.tasksCount", "how many task rows were uploaded", "model:render_campaign"),
    ("v2.campaign.hireGroupFields", ("groupId, maxPositionPerWorker, numberOfWorkerOnSamePosition, taskOrder in a "
                                     "hire-group campaign's answer (documented for POST only)"),
     "model:render_campaign"),
    ("v2.campaign.jobQueues.id", "the id of each jobQueues entry (JobQueueInfoResponse has status and output only)",
     "model:_job_info"),
    # -- routes (made in api.create_app) ------------------------------------------------------------
    ("v2.route.tasks", "GET /<type>-campaigns/{id}/tasks: the uploaded task rows, paged", "api:create_app.campaign_routes; slots:list_tasks"),
    ("v2.route.archive", "PUT /<type>-campaigns/{id}/archive and /unarchive", "api:create_app.campaign_routes; model:archive"),
    ("v2.route.hire-groups", "GET /hire-groups: the account's hire groups", "api:create_app.hire_groups; data:HIRE_GROUPS"),
    # -- queue jobs ---------------------------------------------------------------------------------
    ("v2.queueJob.extra", "errors [{index, id, field, message}], type and campaignId in GET /queue-jobs/{id}",
     "jobs:render_job"),
    ("v2.slot.taskIds", "the task rows a slot worked on (results export joins their columns by it; the docs "
     "name the slot routes, not a slot's fields)", "slots:render_slot"),
    # -- kept in docs-only mode (the docs need some answer) -----------------------------------------
    ("v2.referenceData", ("shapes and contents of /basic-categories ({items: [{id, subCategories: [{id, "
                          "minimumPayment}]}]}), /basic-campaigns/configuration (zones, fee, limits) and /accounts/me"),
     "data:categories_response, configuration_response; model:account"),
    ("v2.limits", "ranges not in the docs (minutesToFinish 1..10080, hire-group positions >= 1, ...)", "data:LIMITS"),
    ("v2.fee", "the 7.5 % fee on payment x positions", "data:FEE_RATE"),
    ("v2.unknownFields", "every endpoint refuses unknown body fields with 400 ValidationFailed", "rules:Checker.unknown"),
    ("v2.requestId", "X-Request-ID on every answer", "api:_Gate"),
    ("v2.templates", "the shapes of /templates (from third-party client code)", "templates:render_template"),
    ("v2.slots", "the shapes of slots and their rating", "slots:render_slot, rate"),
    ("v2.stop", "stop moves a campaign to FINISHED", "model:stop"),
    ("v2.emptyAsNull", "an empty adminInstructions / allowedFileTypes is kept, and answered, as null",
     "create:_internal_template"),
    ("v2.jobsAdvanceOnGet", ("docs-only: a GET of a campaign advances its queue jobs as a poll would (the platform "
                             "works on them unpolled; jobQueues has no job id to poll)"), "jobs:advance_campaign_jobs"),
]

#: guesses the docs-only mode switches off
DOCS_ONLY_OFF: frozenset[str] = frozenset({
    "v2.campaign.autoRateOkTask", "v2.campaign.autoRateNokTask", "v2.campaign.autoRefillPositions",
    "v2.campaign.successRate", "v2.campaign.timeToWaitAfterSlotExpiration", "v2.campaign.folder",
    "v2.campaign.uniqueTasks", "v2.campaign.tasksCount", "v2.campaign.hireGroupFields", "v2.campaign.jobQueues.id",
    "v2.route.tasks", "v2.route.archive", "v2.route.hire-groups", "v2.queueJob.extra", "v2.slot.taskIds",
})  # fmt: skip

#: fields of a v2 campaign answer that are guesses (left out in docs-only mode)
V2_CAMPAIGN_GUESSED_FIELDS = (
    "autoRateOkTask", "autoRateNokTask", "autoRefillPositions", "successRate", "timeToWaitAfterSlotExpiration",
    "folder", "uniqueTasks", "tasksCount", "groupId", "maxPositionPerWorker", "numberOfWorkerOnSamePosition", "taskOrder",
)  # fmt: skip
