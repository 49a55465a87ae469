"""Every guess the Microworkers sandboxes (API v2 and legacy v1) make beyond ``/work/shared/api-docs``.

``GUESSES`` lists them as ``(name, what, where)``; ``where`` names the module (and function) that
makes the guess. Those whose name is in :data:`DOCS_ONLY_OFF` are switched off when
:attr:`campaignctl.sandbox.core.Settings.docs_only` is set: the field is left out of every answer,
the route answers 404 as an unknown route does. The others stay in docs-only mode (an answer or a
rule the docs require some value for, and we had to pick one); the providers must not depend on
them either (validation limits, money rules, shapes of reference lists: their readers accept the
plausible alternatives).
"""
from __future__ import annotations

GUESSES: list[tuple[str, str, str]] = [
    # -- API v2: fields of a campaign answer (GET, list items, POST/PATCH replies) --------------
    ("v2.campaign.autoRateOkTask", "echo of a create/PATCH setting; not in BasicCampaignInfoResponse",
     "mw_v2_model.render_campaign"),
    ("v2.campaign.autoRateNokTask", "echo of a create/PATCH setting; not in BasicCampaignInfoResponse",
     "mw_v2_model.render_campaign"),
    ("v2.campaign.autoRefillPositions", "echo of a create/PATCH setting; not in BasicCampaignInfoResponse",
     "mw_v2_model.render_campaign"),
    ("v2.campaign.successRate", "echo of a create/PATCH setting; not in BasicCampaignInfoResponse",
     "mw_v2_model.render_campaign"),
    ("v2.campaign.timeToWaitAfterSlotExpiration", "echo of a create/PATCH setting; not in BasicCampaignInfoResponse",
     "mw_v2_model.render_campaign"),
    ("v2.campaign.folder", "DEFAULT|ARCHIVE of the campaign (the list filters on it; the answer does not show it)",
     "mw_v2_model.render_campaign"),
    ("v2.campaign.uniqueTasks", "whether the campaign takes unique task rows", "mw_v2_model.render_campaign"),
    ("v2.campaign.tasksCount", "how many task rows were uploaded", "mw_v2_model.render_campaign"),
    ("v2.campaign.hireGroupFields", ("groupId, maxPositionPerWorker, numberOfWorkerOnSamePosition, taskOrder in a "
                                     "hire-group campaign's answer (documented for POST only)"),
     "mw_v2_model.render_campaign"),
    ("v2.campaign.jobQueues.id", "the id of each jobQueues entry (JobQueueInfoResponse has status and output only)",
     "mw_v2_model._job_info"),
    # -- API v2: routes ---------------------------------------------------------------------------
    ("v2.route.tasks", "GET /<type>-campaigns/{id}/tasks: the uploaded task rows, paged", "mw_v2.campaign_routes"),
    ("v2.route.archive", "PUT /<type>-campaigns/{id}/archive and /unarchive", "mw_v2.campaign_routes"),
    ("v2.route.hire-groups", "GET /hire-groups: the account's hire groups", "mw_v2.create_app"),
    # -- API v2: queue jobs ---------------------------------------------------------------------
    ("v2.queueJob.extra", "errors [{index, id, field, message}], type and campaignId in GET /queue-jobs/{id}",
     "mw_v2_jobs.render_job"),
    # -- API v2: kept in docs-only mode (the docs need some answer) -------------------------------
    ("v2.referenceData", ("shapes and contents of /basic-categories ({items: [{id, subCategories: [{id, "
                          "minimumPayment}]}]}), /basic-campaigns/configuration (zones, fee, limits) and /accounts/me"),
     "mw_v2_data"),
    ("v2.limits", "ranges not in the docs (minutesToFinish 1..10080, hire-group positions >= 1, ...)", "mw_v2_data.LIMITS"),
    ("v2.fee", "the 7.5 % fee on payment x positions", "mw_v2_data.FEE_RATE"),
    ("v2.unknownFields", "every endpoint refuses unknown body fields with 400 ValidationFailed", "mw_v2_rules.Checker.unknown"),
    ("v2.requestId", "X-Request-ID on every answer", "mw_v2._Gate"),
    ("v2.templates", "the shapes of /templates (from third-party client code)", "mw_v2_templates"),
    ("v2.slots", "the shapes of slots and their rating", "mw_v2_slots"),
    ("v2.stop", "stop moves a campaign to FINISHED", "mw_v2_model.stop"),
    ("v2.emptyAsNull", "an empty adminInstructions / allowedFileTypes is kept, and answered, as null",
     "mw_v2_create._internal_template"),
    ("v2.jobsAdvanceOnGet", ("docs-only: a GET of a campaign advances its queue jobs as a poll would (the platform "
                             "works on them unpolled; jobQueues has no job id to poll)"), "mw_v2_jobs.advance_campaign_jobs"),
    # -- API v1 ----------------------------------------------------------------------------------
    ("v1.campaign.folder", "folder in get_info / list_extend records", "mw_v1_core.campaign_record"),
    ("v1.campaign.positions_done", "positions_done in get_info / list_extend records", "mw_v1_core.campaign_record"),
    ("v1.campaign.datetimes", "created/approved/restarted/finished/blocked datetimes and blocked_reason in records",
     "mw_v1_core.campaign_record"),
    ("v1.campaign.category_name", "category_name in get_info / list_extend records", "mw_v1_core.campaign_record"),
    ("v1.catalogs", ("the shapes of zones_list ({zone_id, zone_name, countries}), categories_list ({category_id, "
                     "category_name, min_payment_per_task, min_payment_per_zone}) and groups_list ({group_id, "
                     "group_name, workers})"), "mw_v1.zones_list, mw_v1.categories_list, mw_v1.groups_list"),
    ("v1.errors", "error strings and HTTP statuses not on the seed pages (see the mw_v1 docstring)", "mw_v1"),
    ("v1.fee", "the 10 % fee on payment x positions", "mw_v1_data.FEE_RATE"),
    ("v2.slot.taskIds", "the task rows a slot worked on (results export joins their columns by it; the docs "
     "name the slot routes, not a slot's fields)", "sandbox/microworkers/slots.render_slot"),
]

#: guesses the docs-only mode switches off
DOCS_ONLY_OFF: frozenset[str] = frozenset({
    "v2.campaign.autoRateOkTask", "v2.campaign.autoRateNokTask", "v2.campaign.autoRefillPositions",
    "v2.campaign.successRate", "v2.campaign.timeToWaitAfterSlotExpiration", "v2.campaign.folder",
    "v2.campaign.uniqueTasks", "v2.campaign.tasksCount", "v2.campaign.hireGroupFields", "v2.campaign.jobQueues.id",
    "v2.route.tasks", "v2.route.archive", "v2.route.hire-groups", "v2.queueJob.extra",
    "v1.campaign.folder", "v1.campaign.positions_done", "v1.campaign.datetimes", "v1.campaign.category_name",
    "v2.slot.taskIds",
})  # fmt: skip

#: fields of a v2 campaign answer that are guesses (left out in docs-only mode)
V2_CAMPAIGN_GUESSED_FIELDS = (
    "autoRateOkTask", "autoRateNokTask", "autoRefillPositions", "successRate", "timeToWaitAfterSlotExpiration",
    "folder", "uniqueTasks", "tasksCount", "groupId", "maxPositionPerWorker", "numberOfWorkerOnSamePosition", "taskOrder",
)  # fmt: skip
#: fields of a v1 campaign record that are guesses (left out in docs-only mode)
V1_CAMPAIGN_GUESSED_FIELDS = (
    "folder", "positions_done", "category_name", "created_datetime", "approved_datetime", "restarted_datetime",
    "finished_datetime", "blocked_datetime", "blocked_reason",
)  # fmt: skip
